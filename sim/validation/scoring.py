"""Proper scores of the backtest's targets, for the model and for naive baselines.

Every model target (``seeds/targets.yaml``) is scored, for each *forecaster*, from the runs'
values of its quantity:

* ``p_range`` — the probability the forecaster gives the observed range (the share of runs in
  it), scored as the binary event "the observation falls in the range", which history says it
  did: the **Brier score** ``(1 - p)²`` and the **log score** ``-ln p`` (``p`` floored at half a
  run, so one unlucky target cannot dominate a mean).
* ``crps`` — the **continuous ranked probability score** of the runs' ensemble against the
  observation (``scoringrules.crps_ensemble``), for targets whose source gives a value (``point``);
  undefined (NaN) for ranges and patterns, and where some runs have no value (an event that
  never happened).
* ``in_50``, ``in_90`` — **interval coverage**: whether the central 50% and 90% intervals of the
  runs overlap the observation (contain it, for a point).

Forecasters (all on the same episodes and seeds):

* ``model`` — the calibrated model (the shipped posterior);
* ``holdout`` — the model calibrated without the target's episode (``iraqsim calibrate
  --leave-out EPISODE``), where that posterior is given: the out-of-sample forecast;
* ``prior`` — the prior predictive: the uncalibrated model, its calibrated parameters drawn from
  the calibration's priors;
* ``persistence`` — nothing changes: every month keeps the episode's month-0 state and no event
  happens (the naive forecast from the last value seen before the start).

A score table has one row per target and forecaster; ``summarise`` averages it per episode and
per role (calibration or validation target).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import scoringrules

from sim.model.outcomes import OUTCOME_COLUMNS

#: Central intervals whose coverage is scored.
LEVELS = (0.5, 0.9)

#: Column order of ``scores.csv``.
COLUMNS = ["target", "episode", "role", "forecaster", "runs", "observed", "p_range", "brier",
           "log_score", "crps", "in_50", "in_90"]


def brier(p: float) -> float:
    """Brier score of probability ``p`` for an event that happened (0 best, 1 worst)."""
    return (1.0 - p) ** 2


def log_score(p: float, runs: int) -> float:
    """Log score ``-ln p`` of an event that happened, ``p`` floored at half a run's share."""
    return float(-np.log(max(p, 0.5 / runs)))


def crps(values: np.ndarray, observed: float) -> float:
    """CRPS of the ensemble ``values`` at ``observed`` (NaN if any value or it is not finite)."""
    values = np.asarray(values, dtype=np.float64)
    if not np.isfinite(observed) or not np.isfinite(values).all():
        return float("nan")
    return float(scoringrules.crps_ensemble(observed, values))


def covers(values: np.ndarray, low: float, high: float, level: float) -> bool:
    """Whether the central ``level`` interval of ``values`` overlaps ``[low, high]``."""
    q_lo, q_hi = np.quantile(values, [(1 - level) / 2, (1 + level) / 2], method="inverted_cdf")
    return bool(low <= q_hi and high >= q_lo)


def point(target, low: float, high: float) -> float:
    """The observation as one number, where the source gives one: the article's value when it
    lies in the range the target reads it as (so it is in the quantity's units), or a range
    that is one value. NaN otherwise: the midpoint of a range such as "over 40" or "a small
    foothold" is not an observation, and CRPS against it would be noise."""
    value = target.observed.get("value")
    if isinstance(value, (int, float)) and low <= value <= high:
        return float(value)
    if low == high and np.isfinite(low):
        return low
    return float("nan")


def score_target(target, runs, forecaster: str, role: str) -> dict:
    """One row of the score table: ``target`` scored on the episode ``runs``."""
    v = target.quantity.values(runs)
    lo, hi = target.target_range(runs)
    p = float(np.mean((v >= lo) & (v <= hi)))
    y = point(target, lo, hi)
    return {"target": target.id, "episode": target.scenario, "role": role,
            "forecaster": forecaster, "runs": v.size, "observed": y, "p_range": p,
            "brier": brier(p), "log_score": log_score(p, v.size), "crps": crps(v, y),
            **{f"in_{round(100 * lv)}": covers(v, lo, hi, lv) for lv in LEVELS}}


def persistence(runs):
    """The persistence forecast of an episode: month 0 held throughout, no event happening."""
    traj = np.broadcast_to(runs.traj[:, :1, :], runs.traj.shape)
    outcomes = {}
    for name, values in runs.outcomes.items():
        kind = OUTCOME_COLUMNS.get(name, ("float",))[0]
        if kind == "bool":
            outcomes[name] = np.zeros_like(values, dtype=bool)
        elif kind == "month" or name == "months_to_return":
            outcomes[name] = np.full(np.shape(values), np.nan)
        else:
            outcomes[name] = values
    return replace(runs, traj=traj, outcomes=outcomes)


def role_of(target) -> str:
    """``calibration`` for a target the calibration fits (it has an ``abc`` range), else
    ``validation``."""
    return "calibration" if target.abc else "validation"


def score_table(targets, forecasts: dict[str, dict]) -> pd.DataFrame:
    """Scores of every model target for every forecaster.

    Args:
        targets: The targets (inputs and not-modelled ones are skipped).
        forecasts: Forecaster name -> {episode name: EpisodeRuns}; a forecaster may lack an
            episode (e.g. ``holdout`` without its posterior), which is then not scored.
    """
    rows = []
    for t in targets:
        if t.kind != "model":
            continue
        for name, episodes in forecasts.items():
            if t.scenario in episodes:
                rows.append(score_target(t, episodes[t.scenario], name, role_of(t)))
    return pd.DataFrame(rows, columns=COLUMNS)


def summarise(scores: pd.DataFrame) -> pd.DataFrame:
    """Mean scores per episode, role and forecaster, with the CRPS skill against persistence.

    ``crps_skill`` is the mean over targets of ``1 - CRPS / CRPS(persistence)`` (targets where
    both are defined and persistence's is positive): above 0 beats persistence.
    """
    s = scores.copy()
    base = s[s["forecaster"] == "persistence"].set_index("target")["crps"]
    s["crps_skill"] = [1 - c / base.get(t, np.nan) if base.get(t, 0) and np.isfinite(c) else np.nan
                       for t, c in zip(s["target"], s["crps"])]
    groups = s.groupby(["episode", "role", "forecaster"], sort=False)
    out = groups.agg(targets=("target", "size"), brier=("brier", "mean"),
                     log_score=("log_score", "mean"), crps_skill=("crps_skill", "mean"),
                     in_50=("in_50", "mean"), in_90=("in_90", "mean"))
    return out.reset_index()
