"""Data shipped with the package: the evidence base (seeds/) and the scenario library (scenarios/).

In the source tree these live at the top level; ``pyproject.toml`` maps them to
``sim._data.seeds`` and ``sim._data.scenarios`` so an installed package carries them too.
"""
