"""Validation: the backtest of history episodes against the articles' figures, and calibration.

Above reporting (its figures) and the engine. ``targets.py`` reads ``seeds/targets.yaml``,
``backtest.py`` replays the episodes and scores the targets, ``calibrate.py`` fits parameters
by rejection ABC. See docs/ARCHITECTURE.md and docs/validation.md.
"""
