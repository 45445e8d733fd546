"""Lever sweeps: a grid of choices, every cell on the same replicas (common random numbers).

``sweep(scenario, {"exit_month": [0, 6, 12], "retaliation": ["none", "proportional"]})`` runs
every combination of the lever values (see ``sim.analysis.lever_settings`` for the names) with
the same seed and the same run indices, so run ``i`` of every cell faces the same uncertain
parameter draws and model random streams: differences between cells come from the choices.
Each cell equals ``sim.run`` of the scenario with those lever settings.
"""

from __future__ import annotations

import itertools
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from ..outcomes import OUTCOME_COLUMNS
from ..scenario import Scenario, ScenarioError
from .evaluate import evaluate
from .lever_settings import apply_levers, check_lever
from .robustness import pareto_front, robustness_table

#: The trade-off the articles state (all minimised): expected US deaths (exposure to militia
#: attacks, RCD20-02, DB24-01), the chance of an ISIS resurgence (DB24-13, POL20-07) and the
#: chance of being expelled (DB24-02, DB24-10).
TRADEOFF_OBJECTIVES = ("us_fatalities.mean", "resurgence.mean", "expelled.mean")


@dataclass
class SweepResult:
    """The result of a sweep.

    Attributes:
        scenario: The swept scenario (before lever settings).
        levers: Lever name -> values swept, in grid order.
        runs: One row per (cell, replica): ``cell``, the lever columns, ``replica`` and every
            outcome column.
        table: One row per cell: lever values, ``runs``, per outcome its mean (the probability
            for yes/no outcomes) and for numbers p05/p50/p95, and ``pareto`` (not dominated on
            ``TRADEOFF_OBJECTIVES``).
        robustness: ``sim.analysis.robustness.robustness_table`` of the cells.
        provenance: Version, scenario hash, seed, runs per cell, timing.
    """

    scenario: Scenario
    levers: dict[str, list]
    runs: pd.DataFrame
    table: pd.DataFrame
    robustness: pd.DataFrame
    provenance: dict = field(default_factory=dict)

    @property
    def lever_names(self) -> list[str]:
        """Swept lever names, in grid order."""
        return list(self.levers)

    def save(self, directory, plots: bool = True) -> Path:
        """Write the sweep into ``directory`` atomically and return its path.

        Files: ``sweep.parquet``/``sweep.csv`` (one row per cell), ``runs.parquet`` (one row per
        cell and run), ``robustness.parquet``/``robustness.csv``, ``summary.json``,
        ``scenario.resolved.yaml`` and, with ``plots``, ``plots/tradeoff.png`` and
        ``plots/levers.png``.
        """
        from ..results import write_atomically
        return write_atomically(directory, lambda tmp: self.write_into(tmp, plots=plots))

    def write_into(self, folder: Path, plots: bool = True) -> None:
        """Write every file into an existing (temporary) folder."""
        from ..results import jsonable
        folder = Path(folder)
        self.table.to_parquet(folder / "sweep.parquet", index=False)
        self.table.to_csv(folder / "sweep.csv", index=False)
        self.runs.to_parquet(folder / "runs.parquet", index=False)
        self.robustness.to_parquet(folder / "robustness.parquet", index=False)
        self.robustness.to_csv(folder / "robustness.csv", index=False)
        (folder / "summary.json").write_text(json.dumps(jsonable(self.summary()), indent=2))
        (folder / "scenario.resolved.yaml").write_text(
            yaml.safe_dump(self.scenario.resolved(), sort_keys=False))
        if plots:
            from .plots import plot_lever_effects, plot_tradeoff
            (folder / "plots").mkdir(exist_ok=True)
            plot_tradeoff(self.table, self.lever_names, folder / "plots" / "tradeoff.png")
            plot_lever_effects(self.table, self.lever_names, folder / "plots" / "levers.png")

    def summary(self) -> dict:
        """Provenance, the grid, the Pareto cells and the minimax-regret cell per outcome."""
        rob = self.robustness
        pick = {}
        for outcome, part in rob.groupby("outcome", sort=False):
            pick[outcome] = {
                "best_expected": part.loc[part["best_expected"], self.lever_names].to_dict("records"),
                "minimax_regret": part.loc[part["minimax_regret"], self.lever_names].to_dict("records"),
            }
        return {"levers": self.levers,
                "pareto": self.table.loc[self.table["pareto"], self.lever_names].to_dict("records"),
                "choices": pick, "provenance": self.provenance}


def sweep(scenario: Scenario, levers: dict[str, list], runs: int | None = None,
          seed: int | None = None, *, workers: int = 1, dask: str | None = None,
          progress: bool | None = None) -> SweepResult:
    """Run every combination of lever values with common random numbers.

    Args:
        scenario: The scenario the lever settings change.
        levers: Lever name -> list of values (see ``sim.analysis.lever_settings``).
        runs: Runs per cell (default: the scenario's ``runs``).
        seed: Seed (default: the scenario's).
        workers: Local worker processes.
        dask: ``"local"`` or a Dask scheduler address: compute on a Dask cluster (see
            ``sim.evaluate``); results are the same.
        progress: Show a progress bar (default: only on a terminal).

    Raises:
        ScenarioError: for an unknown lever, a value it does not allow, or a cell whose lever
            settings make an invalid scenario (checked before anything runs).
    """
    from .. import __version__
    if not levers:
        raise ScenarioError("--lever", "", "give at least one lever to sweep, e.g. exit_month=0:36:6")
    runs = int(scenario.runs if runs is None else runs)
    seed = int(scenario.seed if seed is None else seed)
    if runs < 1:
        raise ValueError("runs must be at least 1")
    names = list(levers)
    for name, values in levers.items():
        if not values:
            raise ScenarioError("--lever", name, "no values given")
        for v in values:
            check_lever(name, v)
    cells = pd.DataFrame(list(itertools.product(*levers.values())), columns=names)
    for settings in cells.to_dict("records"):
        apply_levers(scenario, settings)  # fail before running anything
    cells.insert(0, "cell", np.arange(len(cells)))

    experiments = cells.loc[cells.index.repeat(runs), names].reset_index(drop=True)
    experiments["replica"] = np.tile(np.arange(runs), len(cells))
    started = time.perf_counter()
    out = evaluate(scenario, experiments, seed, workers=workers, dask=dask, progress=progress)
    elapsed = time.perf_counter() - started

    runs_df = pd.concat([pd.DataFrame({"cell": np.repeat(cells["cell"].to_numpy(), runs)}),
                         experiments, out], axis=1)
    table = cell_table(runs_df, names)
    table.insert(0, "cell", cells["cell"].to_numpy())
    table["pareto"] = pareto_front(table[list(TRADEOFF_OBJECTIVES)].to_numpy())
    robustness = robustness_table(runs_df, names)

    import mesa
    provenance = {"package": "iraqsim", "version": __version__, "scenario": scenario.name,
                  "scenario_sha256": scenario.sha256(), "seed": seed, "runs_per_cell": runs,
                  "cells": len(cells), "elapsed_seconds": round(elapsed, 3),
                  "mesa": mesa.__version__, "numpy": np.__version__,
                  "python": sys.version.split()[0]}
    return SweepResult(scenario, {k: list(v) for k, v in levers.items()}, runs_df, table,
                       robustness, provenance)


def cell_table(runs: pd.DataFrame, lever_names: list[str]) -> pd.DataFrame:
    """One row per lever combination: ``runs`` and, per outcome, its mean and quantiles.

    Yes/no outcomes get ``<name>.mean`` (the probability); numbers ``.mean``, ``.p05``,
    ``.p50``, ``.p95``; months ``.mean`` and ``.p50`` over runs where the event happened.
    """
    rows = []
    for key, part in runs.groupby(lever_names, sort=False):
        key = key if isinstance(key, tuple) else (key,)
        row = dict(zip(lever_names, key))
        row["runs"] = len(part)
        for name, (kind, _) in OUTCOME_COLUMNS.items():
            if name not in part:
                continue
            v = part[name].to_numpy(dtype=float)
            if kind == "bool":
                row[f"{name}.mean"] = v.mean()
                continue
            if kind == "month":
                v = v[np.isfinite(v)]
            row[f"{name}.mean"] = v.mean() if v.size else np.nan
            quantiles = ("p50",) if kind == "month" else ("p05", "p50", "p95")
            for q in quantiles:
                row[f"{name}.{q}"] = np.quantile(v, int(q[1:]) / 100) if v.size else np.nan
        rows.append(row)
    return pd.DataFrame(rows)
