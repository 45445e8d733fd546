"""``sim.evaluate``: run an explicit table of experiments in one vectorised pass.

This is the door for external designs (SALib, EMA Workbench samplers, a user's own Latin
hypercube). Each row of the table is one replica; its columns set

* **uncertain parameters** — any name of ``sim.model.parameters.PARAMETERS`` (``isis.growth_rate``),
  also written ``param.isis.growth_rate`` as in ``outcomes.parquet``;
* **levers** — any lever setting of ``sim.analysis.lever_settings`` (``retaliation``, ``aid``,
  ``posture.kind``, ``posture.<field>``, ``exit_month``);
* **replica** (optional) — the run index whose random numbers the row uses.

Layout and common random numbers
--------------------------------
Row ``r`` with replica ``k`` is computed at position ``k % BLOCK_SIZE`` of a block simulated with
the model random streams (and the draws of the scenario's uncertain parameters that the table does
not set) of block ``k // BLOCK_SIZE`` — exactly the streams of run ``k`` of ``sim.run``. Rows are
grouped by their lever values; within a group, rows that share a replica go to separate copies of
the block. Hence:

* By default a row's replica is its order within its lever combination: the ``k``-th row of every
  combination shares run ``k``'s random numbers, so lever combinations are compared with common
  random numbers, and a table of ``param.*`` columns from ``sim.run`` reproduces that run.
* Designs that hold random numbers fixed inside a group of rows (a Sobol base sample and its
  cross-samples, a Morris trajectory) give the group one replica; a parameter the model ignores
  then changes nothing at all (its Sobol total index is exactly zero).

Unused positions of a block are padded with the scenario's own values, so a row's result depends
only on the scenario, the seed, its values and its replica — never on the other rows, on
``workers`` or on chunking.
"""

from __future__ import annotations

import difflib
from typing import Iterable

import numpy as np
import pandas as pd

from sim.analysis.lever_settings import apply_levers, check_lever, is_lever
from sim.engine.blocks import BLOCK_SIZE
from sim.engine.executors import check_dask_address, execute
from sim.engine.progress import progress_bar
from sim.model.outcomes import OUTCOME_COLUMNS
from sim.model.parameters import PARAMETERS
from sim.scenario.errors import ArgumentError
from sim.scenario.schema import Scenario

SOURCE = "experiments"


def experiment_columns(columns: Iterable[str]) -> tuple[dict[str, str], list[str], bool]:
    """Classify experiment columns.

    Returns:
        (parameter columns -> parameter name, lever columns, whether there is a replica column).

    Raises:
        ScenarioError: for a column that is neither a parameter, a lever nor ``replica``.
    """
    params, levers, replica = {}, [], False
    for col in columns:
        name = str(col)
        bare = name.removeprefix("param.")
        if bare in PARAMETERS:
            if bare in params.values():
                raise ArgumentError(SOURCE, name, "parameter given twice (with and without param.)")
            params[col] = bare
        elif name == "replica":
            replica = True
        elif is_lever(name):
            levers.append(col)
        else:
            near = difflib.get_close_matches(bare, list(PARAMETERS), n=1)
            hint = f"did you mean {near[0]!r}? " if near else ""
            raise ArgumentError(SOURCE, name, f"unknown column; {hint}allowed: parameter names "
                                f"(see `iraqsim schema`), optionally as param.<name>; levers "
                                f"(retaliation, aid, posture.kind, posture.<field>, exit_month); "
                                f"replica")
    return params, levers, replica


def _check_parameter_values(values: np.ndarray, col: str, name: str) -> np.ndarray:
    par = PARAMETERS[name]
    try:
        x = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise ArgumentError(SOURCE, str(col), "values must be numbers") from None
    bad = ~np.isfinite(x) | (x < par.low) | (x > par.high)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ArgumentError(SOURCE, str(col), f"row {i} has {x[i]!r}; allowed {par.low:g} to "
                            f"{par.high:g} ({par.unit})")
    return x


def _replicas(table: pd.DataFrame, has_replica: bool, groups: np.ndarray) -> np.ndarray:
    if has_replica:
        rep = table["replica"].to_numpy()
        try:
            r = np.asarray(rep, dtype=np.float64)
        except (TypeError, ValueError):
            raise ArgumentError(SOURCE, "replica", "must be whole numbers >= 0") from None
        if (~np.isfinite(r)).any() or (r < 0).any() or (r != np.round(r)).any():
            raise ArgumentError(SOURCE, "replica", "must be whole numbers >= 0")
        return r.astype(np.int64)
    return pd.Series(groups).groupby(groups).cumcount().to_numpy(dtype=np.int64)


def plan_blocks(replicas: np.ndarray, groups: np.ndarray) -> pd.DataFrame:
    """Place rows in blocks: one row per table row with ``group``, ``block``, ``copy``, ``pos``.

    ``block`` is the replica's block (its random streams), ``pos`` its position in the block and
    ``copy`` separates rows of a group that share a replica.
    """
    plan = pd.DataFrame({"group": groups, "replica": replicas})
    plan["block"] = replicas // BLOCK_SIZE
    plan["pos"] = replicas % BLOCK_SIZE
    plan["copy"] = plan.groupby(["group", "replica"], sort=False).cumcount()
    return plan


def evaluate(scenario: Scenario, experiments: pd.DataFrame, seed: int | None = None, *,
             workers: int = 1, dask: str | None = None, progress: bool | None = None) -> pd.DataFrame:
    """Evaluate a table of experiments, one replica per row, and return its outcome columns.

    Args:
        scenario: The scenario giving everything the table does not set (levers, events, fixed
            parameters, the distributions of uncertain parameters not in the table).
        experiments: One row per replica. Columns: parameter names (``isis.growth_rate`` or
            ``param.isis.growth_rate``), lever names (``retaliation``, ``exit_month``, ...; an
            empty cell keeps the scenario's setting) and optionally ``replica`` (see the module
            docstring).
        seed: Seed (default: the scenario's).
        workers: Local worker processes (1 = in this process); with ``dask="local"``, the
            number of Dask workers (default: one per CPU).
        dask: ``"local"`` to start a local Dask cluster, or a scheduler address
            (``tcp://host:port``). Results do not depend on ``workers`` or ``dask``.
        progress: Show a progress bar (default: only on a terminal).

    Returns:
        A DataFrame with the index of ``experiments`` and one column per outcome of
        ``sim.model.outcomes.OUTCOME_COLUMNS`` (booleans as ``bool``).

    Raises:
        ScenarioError: for an unknown column, a value outside a parameter's allowed range, a
            lever value that is not allowed, or a bad replica.
    """
    if not isinstance(experiments, pd.DataFrame):
        raise TypeError("experiments must be a pandas DataFrame")
    seed = int(scenario.seed if seed is None else seed)
    if dask:
        check_dask_address(dask)
    param_cols, lever_cols, has_replica = experiment_columns(experiments.columns)
    n = len(experiments)
    values = {name: _check_parameter_values(experiments[col].to_numpy(), col, name)
              for col, name in param_cols.items()}

    # lever combinations -> scenarios
    if lever_cols:
        for col in lever_cols:
            for v in pd.unique(experiments[col]):
                check_lever(str(col), None if pd.isna(v) else v, SOURCE)
        keys = experiments[lever_cols].astype(object).where(experiments[lever_cols].notna(), None)
        combos = list(dict.fromkeys(map(tuple, keys.itertuples(index=False, name=None))))
        index = {c: i for i, c in enumerate(combos)}
        groups = np.fromiter((index[t] for t in map(tuple, keys.itertuples(index=False, name=None))),
                             dtype=np.int64, count=n)
        scenarios = [apply_levers(scenario, dict(zip(map(str, lever_cols), c)), SOURCE) for c in combos]
    else:
        groups = np.zeros(n, dtype=np.int64)
        scenarios = [scenario]

    plan = plan_blocks(_replicas(experiments, has_replica, groups), groups)
    out = {name: (np.zeros(n, dtype=bool) if kind == "bool" else np.full(n, np.nan))
           for name, (kind, _) in OUTCOME_COLUMNS.items()}
    if n == 0:
        return pd.DataFrame(out, index=experiments.index)

    units = [(int(g), int(b), int(c), rows.to_numpy())
             for (g, b, c), rows in plan.groupby(["group", "block", "copy"], sort=True).groups.items()]

    def tasks():
        for g, b, _c, rows in units:
            sc = scenarios[g]
            yield (sc, seed, b, None, False, _block_params(sc, seed, b, values, rows,
                                                           plan["pos"].to_numpy()[rows]))

    _, results = execute(tasks(), workers, dask, count=len(units))
    bar = progress_bar(n, progress, desc="evaluate")
    pos = plan["pos"].to_numpy()
    try:
        for (_g, _b, _c, rows), res in zip(units, results):
            p = pos[rows]
            for name in out:
                out[name][rows] = res.columns[name][p]
            bar(len(rows))
    finally:
        results.close()  # stops the workers or the cluster now, also if the loop ended early
        bar(None)
    return pd.DataFrame(out, index=experiments.index)


def _block_params(scenario: Scenario, seed: int, block: int, values: dict[str, np.ndarray],
                  rows: np.ndarray, positions: np.ndarray) -> dict[str, np.ndarray]:
    """Full-length parameter arrays of one block: the rows' values at their positions, the
    scenario's own values (its draws for uncertain parameters) everywhere else."""
    if not values:
        return {}
    uncertain = scenario.uncertain_parameters()
    sampled = scenario.sample_parameters(BLOCK_SIZE, seed, block) if any(
        k in uncertain for k in values) else {}
    fixed = scenario.fixed_parameters()
    params = {}
    for name, column in values.items():
        if name in sampled:
            arr = sampled[name].copy()
        else:
            arr = np.full(BLOCK_SIZE, fixed.get(name, PARAMETERS[name].default), dtype=np.float64)
        arr[positions] = column[rows]
        params[name] = arr
    return params
