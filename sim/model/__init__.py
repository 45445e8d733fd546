"""The model: five actors over a block of Monte Carlo replicas, one month per step.

The lowest layer: it imports nothing else of ``sim``. ``DrawdownModel`` (``model.py``) holds the
actors (``actors/``), the parameters (``parameters.py``), the levers and postures (``levers.py``,
``postures.py``), the scheduled events (``events.py``) and the outcome bookkeeping
(``outcomes.py``); compiled loops live in ``kernels.py``. See docs/ARCHITECTURE.md.
"""

import importlib

#: The names below load on first use (importing one module of this package does not load the
#: others): name -> the module that defines it.
PUBLIC = {
    "DEFAULT_MILITIAS": "sim.model.settings",
    "DrawdownModel": "sim.model.model",
    "ModelSettings": "sim.model.settings",
    "batch_run_seeds": "sim.model.model",
}

__all__ = sorted(PUBLIC)


def __getattr__(name):
    if name in PUBLIC:
        value = getattr(importlib.import_module(PUBLIC[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted({*globals(), *PUBLIC})
