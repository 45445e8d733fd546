"""Robust choices: expected value, worst-decile value and regret across uncertain draws.

Every choice (a cell of a sweep) is run on the same replicas (common random numbers), so run
``i`` of each choice faces the same uncertain-parameter draws and random streams. For each
outcome with a direction:

* **expected** — the mean over runs (a probability for yes/no outcomes);
* **worst10** — the mean over the worst 10% of runs for that choice (conditional value at risk;
  for a yes/no outcome it is ``min(1, P / 0.1)``, informative only when ``P < 0.1``);
* **regret** of choice ``c`` in run ``i`` — how much worse ``c`` did than the best choice in the
  same run (``outcome(c, i) - min_c' outcome(c', i)`` for an outcome to minimise);
  **max_regret** is its maximum over runs (Savage's minimax regret picks the choice with the
  smallest) and **p90_regret** its 90th percentile, which is less at the mercy of one run.

Directions take the US decision-maker's view stated in the articles (fewer ISIS fighters, fewer
attacks and deaths, no expulsion, no escalation, a capable ISF, less Iranian influence).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Outcome -> "min" (lower is better), "max" (higher is better) or "info" (not judged).
#: Assumption: the US perspective of DESIGN §1; month outcomes are NaN when nothing happens and
#: are left out (their event outcome carries the information).
OUTCOME_DIRECTIONS: dict[str, str] = {
    "isis_peak": "min",
    "isis_end": "min",
    "resurgence": "min",
    "months_to_resurgence": "info",
    "militia_attacks": "min",
    "us_fatalities": "min",
    "expelled": "min",
    "months_to_expulsion": "info",
    "parliament_vote": "min",
    "months_to_vote": "info",
    "escalation": "min",
    "will_collapse": "min",
    "leadership_strikes": "info",
    "isf_capability_end": "max",
    "iran_influence_end": "min",
    "withdrawal_pressure_peak": "min",
    "us_troops_end": "info",
    "us_troop_months": "min",  # exposure and cost of the deployment
}

#: Outcomes judged by default in robustness tables.
JUDGED_OUTCOMES = [k for k, v in OUTCOME_DIRECTIONS.items() if v != "info"]


def robustness_table(runs: pd.DataFrame, choice_cols: list[str], outcomes: list[str] | None = None,
                     replica_col: str = "replica", worst_share: float = 0.1) -> pd.DataFrame:
    """Expected value, worst-decile value and regret of each choice for each outcome.

    Args:
        runs: One row per (choice, replica): the choice columns, ``replica_col`` and outcome
            columns. Every choice must have the same replicas (common random numbers).
        choice_cols: Columns that identify a choice (e.g. the swept levers).
        outcomes: Outcomes to judge (default: those with a direction present in ``runs``).
        replica_col: Column identifying the replica (the uncertain draw).
        worst_share: Share of runs that makes the "worst" tail (0.1 = worst decile).

    Returns:
        One row per (choice, outcome): the choice columns, ``outcome``, ``direction``,
        ``expected``, ``worst10``, ``mean_regret``, ``p90_regret``, ``max_regret``,
        ``best_expected`` (the best expected value among choices) and ``minimax_regret``
        (the choice with the smallest maximum regret). Ties mark every tied choice.
    """
    if outcomes is None:
        outcomes = [o for o in JUDGED_OUTCOMES if o in runs.columns]
    choices = runs[choice_cols].drop_duplicates().reset_index(drop=True)
    key = _choice_key(runs, choice_cols)
    order = _choice_key(choices, choice_cols)
    frames = []
    for outcome in outcomes:
        direction = OUTCOME_DIRECTIONS.get(outcome, "min")
        if direction == "info":
            continue
        wide = (pd.DataFrame({"choice": key, "replica": runs[replica_col].to_numpy(),
                              "v": runs[outcome].to_numpy(dtype=float)})
                .pivot(index="replica", columns="choice", values="v")[order])
        if wide.isna().any().any():
            raise ValueError(f"{outcome}: every choice needs the same replicas with values "
                             "(common random numbers)")
        v = wide.to_numpy()  # (replicas, choices)
        sign = 1.0 if direction == "min" else -1.0
        bad = sign * v  # larger is worse
        regret = bad - bad.min(axis=1, keepdims=True)
        k = max(1, int(np.ceil(worst_share * v.shape[0])))
        worst = np.sort(bad, axis=0)[-k:].mean(axis=0) * sign
        expected = v.mean(axis=0)
        max_regret = regret.max(axis=0)
        frame = choices.copy()
        frame["outcome"] = outcome
        frame["direction"] = direction
        frame["expected"] = expected
        frame["worst10"] = worst
        frame["mean_regret"] = regret.mean(axis=0)
        frame["p90_regret"] = np.quantile(regret, 0.9, axis=0)
        frame["max_regret"] = max_regret
        best = expected.min() if direction == "min" else expected.max()
        frame["best_expected"] = np.isclose(expected, best, rtol=1e-12, atol=0)
        frame["minimax_regret"] = np.isclose(max_regret, max_regret.min(), rtol=1e-12, atol=0)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def _choice_key(frame: pd.DataFrame, cols: list[str]) -> list[str]:
    """A text key per row identifying its choice."""
    return ["|".join(map(str, t)) for t in frame[cols].itertuples(index=False, name=None)]


def pareto_front(points: np.ndarray) -> np.ndarray:
    """Mask of the non-dominated rows of ``points`` (every column to be minimised).

    A row is dominated if another row is no worse in every column and better in at least one.
    """
    pts = np.asarray(points, dtype=float)
    keep = np.ones(len(pts), dtype=bool)
    for i, p in enumerate(pts):
        dominated = np.all(pts <= p, axis=1) & np.any(pts < p, axis=1)
        keep[i] = not dominated.any()
    return keep
