"""Teaching: the five classroom exercises, their answers, figures and instructor keys.

The top library layer: it uses the analysis (robustness), the engine (comparisons) and
reporting (the HTML report). Each exercise's text lives in ``exercises/*.yaml`` beside its
scenarios. See docs/ARCHITECTURE.md and docs/exercises/.
"""
