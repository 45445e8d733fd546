"""Reporting: figures, the HTML report, the ODD tables and the evidence base.

Above the engine: it reads ``Results`` and ``Comparison`` and draws or renders them.
``plots.py`` (run and compare figures), ``save.py`` (data and figures, atomically),
``report.py`` and ``templates/`` (the HTML report), ``evidence.py`` (claims and mechanisms),
``odd.py`` (the generated tables of docs/ODD.md). See docs/ARCHITECTURE.md.
"""
