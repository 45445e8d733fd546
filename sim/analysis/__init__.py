"""Policy analysis: sweeps, sensitivity, scenario discovery (see docs/analysis.md).

* ``evaluate`` — ``sim.evaluate``: run an explicit table of experiments (SALib, EMA Workbench or
  any design) in one vectorised pass.
* ``lever_settings`` — lever names (``retaliation``, ``aid``, ``posture.kind``,
  ``posture.<field>``, ``exit_month``) and how they change a scenario.
* ``sweep`` — grids of lever values with common random numbers; trade-off tables.
* ``robustness`` — expected value, worst decile and regret of choices; Pareto fronts.
* ``sensitivity`` — Sobol and Morris indices with SALib.
* ``discovery`` — PRIM peeling and CART boxes.
* ``plots`` — their figures.
"""
