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

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.engine.columns import column_chunks, column_statistics, column_tail_mean, outcome_reader

#: Outcome -> "min" (lower is better), "max" (higher is better) or "info" (not judged).
#: Assumption: the US decision-maker's perspective (docs/ODD.md, section 1.1); month outcomes
#: are NaN when nothing happens and are left out (their event outcome carries the information).
OUTCOME_DIRECTIONS: dict[str, str] = {
    "isis_peak": "min",
    "isis_end": "min",
    "resurgence": "min",
    "months_to_resurgence": "info",
    "militia_attacks": "min",
    "us_fatalities": "min",
    "exit_demanded": "min",
    "months_to_demand": "info",
    "agreement": "info",
    "months_to_agreement": "info",
    "forced_exit": "min",
    "departed": "min",  # an exit process ended the presence before the US chose to
    "months_to_departure": "info",
    "reinvited": "info",
    "months_to_return": "info",
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
    key = pd.Series(_choice_key(runs, choice_cols), index=runs.index)
    tables, replicas = [], None
    for k in _choice_key(choices, choice_cols):
        table = runs.loc[key == k].sort_values(replica_col, kind="stable")
        r = table[replica_col].to_numpy()
        if replicas is None:
            replicas = r
        if (r.shape != replicas.shape or (r != replicas).any()
                or (r.size > 1 and (r[1:] == r[:-1]).any())):  # a replica twice
            raise ValueError("every choice needs the same replicas with values (common random numbers)")
        tables.append(table.reset_index(drop=True))
    return choice_robustness(choices, tables, outcomes, worst_share)


def choice_robustness(choices: pd.DataFrame, sources: list, outcomes: list[str] | None = None,
                      worst_share: float = 0.1, scratch=None, progress=None) -> pd.DataFrame:
    """``robustness_table`` from one outcome table per choice, in bounded memory.

    Args:
        choices: One row per choice (the columns that identify it), in the order of ``sources``.
        sources: Each choice's outcome table: a DataFrame or the path of a Parquet file, rows
            the same replicas in the same order (common random numbers).
        outcomes: Outcomes to judge (default: those with a direction in the first table).
        worst_share: Share of runs that makes the "worst" tail.
        scratch: A folder for the regret tables when ``sources`` are files (the regrets of
            one outcome, as large as one outcome column per choice; deleted after use).
        progress: Called with 1 after each outcome judged.

    Every statistic is read in chunks: a pass over the choices' columns side by side writes each
    run's regret per choice, then ``sim.engine.summary`` takes exact means, maxima, quantiles and tail
    means of those columns, a few passes each. Memory grows with the number of choices, not runs.
    """
    opened = [_open(src) for src in sources]
    if outcomes is None:
        present = _columns(opened[0])
        outcomes = [o for o in JUDGED_OUTCOMES if o in present]
    names = [str(k) for k in range(len(sources))]
    frames = []
    for outcome in outcomes:
        direction = OUTCOME_DIRECTIONS.get(outcome, "min")
        if direction == "info":
            continue
        sign = 1.0 if direction == "min" else -1.0
        bad, regret = _bad_and_regret(opened, outcome, sign, names, scratch)
        expected, worst, mean_regret, p90_regret, max_regret = [], [], [], [], []
        for name in names:
            st = column_statistics(outcome_reader(bad, name), quantiles=())
            k = max(1, int(np.ceil(worst_share * st["n"])))
            expected.append(sign * st["mean"])
            worst.append(sign * column_tail_mean(outcome_reader(bad, name), k, st))
            rst = column_statistics(outcome_reader(regret, name), quantiles=(0.9,))
            mean_regret.append(rst["mean"])
            p90_regret.append(rst[0.9])
            max_regret.append(rst["max"])
        for table in (bad, regret):
            if not isinstance(table, pd.DataFrame):
                Path(table).unlink()
        expected, max_regret = np.array(expected), np.array(max_regret)
        frame = choices.copy()
        frame["outcome"] = outcome
        frame["direction"] = direction
        frame["expected"] = expected
        frame["worst10"] = worst
        frame["mean_regret"] = mean_regret
        frame["p90_regret"] = p90_regret
        frame["max_regret"] = max_regret
        best = expected.min() if direction == "min" else expected.max()
        frame["best_expected"] = np.isclose(expected, best, rtol=1e-12, atol=0)
        frame["minimax_regret"] = np.isclose(max_regret, max_regret.min(), rtol=1e-12, atol=0)
        frames.append(frame)
        if progress is not None:
            progress(1)
    return pd.concat(frames, ignore_index=True)


def _open(source):
    """A DataFrame as is; a Parquet path opened for reading row groups."""
    if isinstance(source, pd.DataFrame):
        return source
    return pq.ParquetFile(os.fspath(source))


def _columns(table) -> set:
    return set(table.columns) if isinstance(table, pd.DataFrame) else set(table.schema_arrow.names)


def _bad_and_regret(tables: list, outcome: str, sign: float, names: list[str], scratch):
    """Two tables with one column per choice: ``sign * outcome`` ("larger is worse") and each
    run's regret (how much worse than the best choice in the same run). In memory when the
    choices' tables are, else Parquet files in ``scratch``, written a chunk at a time."""
    chunks = zip(*(column_chunks(t, outcome) for t in tables))
    in_memory = all(isinstance(t, pd.DataFrame) for t in tables)
    if not in_memory:
        folder = Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        paths = (folder / f"{outcome}.bad.parquet", folder / f"{outcome}.regret.parquet")
        schema = pa.schema([(n, pa.float64()) for n in names])
        # scratch read back at once: no compression, no dictionary (much faster to write)
        writers = [pq.ParquetWriter(path, schema, compression="none", use_dictionary=False)
                   for path in paths]
    parts = ([], [])
    try:
        for columns in chunks:
            bad = sign * np.stack(columns)  # (choices, runs of the chunk)
            if np.isnan(bad).any():
                raise ValueError(f"{outcome}: every choice needs the same replicas with values "
                                 "(common random numbers)")
            regret = bad - bad.min(axis=0)
            for i, values in enumerate((bad, regret)):
                if in_memory:
                    parts[i].append(values)
                else:
                    writers[i].write_table(pa.Table.from_arrays(list(values), names=names))
    finally:
        if not in_memory:
            for writer in writers:
                writer.close()
    if not in_memory:
        return paths
    return tuple(pd.DataFrame(np.concatenate(p, axis=1).T, columns=names) for p in parts)


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
