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
import time
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from sim._version import __version__
from sim.analysis.lever_settings import apply_levers, check_lever
from sim.analysis.plots import plot_lever_effects, plot_tradeoff
from sim.analysis.robustness import JUDGED_OUTCOMES, choice_robustness, pareto_front
from sim.engine.blocks import BLOCK_SIZE, blocks_for
from sim.engine.executors import execute
from sim.engine.io import (
    DICTIONARY_PAGE_BYTES,
    MemorySink,
    ParquetSink,
    jsonable,
    software_versions,
    table_pieces,
    write_atomically,
)
from sim.engine.progress import progress_bar
from sim.engine.columns import _outcome_readers, column_statistics
from sim.model.outcomes import OUTCOME_COLUMNS
from sim.scenario.errors import ArgumentError
from sim.scenario.schema import Scenario

#: The trade-off the articles state (all minimised): expected US deaths (exposure to militia
#: attacks, RCD20-02, DB24-01), the chance of an ISIS resurgence (DB24-13, POL20-07) and the
#: chance that an exit process ends the presence (DB24-02, DB24-10).
TRADEOFF_OBJECTIVES = ("us_fatalities.mean", "resurgence.mean", "departed.mean")


@dataclass
class SweepResult:
    """The result of a sweep.

    Attributes:
        scenario: The swept scenario (before lever settings).
        levers: Lever name -> values swept, in grid order.
        cells: One row per cell: ``cell`` and the lever values.
        sources: Each cell's outcome table (``replica`` and every outcome column), in cell
            order: a DataFrame, or the path of a Parquet file when the sweep streamed them.
        table: One row per cell: lever values, ``runs``, per outcome its mean (the probability
            for yes/no outcomes) and for numbers p05/p50/p95, and ``pareto`` (not dominated on
            ``TRADEOFF_OBJECTIVES``).
        robustness: ``sim.analysis.robustness.robustness_table`` of the cells.
        provenance: Version, scenario hash, seed, runs per cell, timing.
    """

    scenario: Scenario
    levers: dict[str, list]
    cells: pd.DataFrame
    sources: list
    table: pd.DataFrame
    robustness: pd.DataFrame
    provenance: dict = field(default_factory=dict)

    @property
    def lever_names(self) -> list[str]:
        """Swept lever names, in grid order."""
        return list(self.levers)

    @cached_property
    def runs(self) -> pd.DataFrame:
        """One row per (cell, replica): ``cell``, the lever columns, ``replica`` and every
        outcome column (read into memory when first asked for; ``write_runs`` writes it in
        bounded memory)."""
        return pd.concat([t.to_pandas() for t in self._run_tables()], ignore_index=True)

    def _run_tables(self):
        """The runs table as pyarrow Tables, cell by cell, a row group of its outcomes at a time."""

        front = pa.Schema.from_pandas(self.cells, preserve_index=False)
        for k, source in enumerate(self.sources):
            for piece in table_pieces(source):
                n = piece.num_rows
                constants = [pa.array([self.cells[f.name].iloc[k]] * n, type=f.type) for f in front]
                yield pa.Table.from_arrays(constants + piece.columns,
                                           schema=pa.schema(list(front) + list(piece.schema)))

    def write_runs(self, path) -> Path:
        """Write ``runs.parquet`` a piece at a time (memory does not grow with the runs)."""

        writer = None
        try:
            for table in self._run_tables():
                if writer is None:
                    writer = pq.ParquetWriter(path, table.schema,
                                              dictionary_pagesize_limit=DICTIONARY_PAGE_BYTES)
                writer.write_table(table)
        finally:
            if writer is not None:
                writer.close()
        return Path(path)

    def save(self, directory, plots: bool = True) -> Path:
        """Write the sweep into ``directory`` atomically and return its path.

        Files: ``sweep.parquet``/``sweep.csv`` (one row per cell), ``runs.parquet`` (one row per
        cell and run), ``robustness.parquet``/``robustness.csv``, ``summary.json``,
        ``scenario.resolved.yaml`` and, with ``plots``, ``plots/tradeoff.png`` and
        ``plots/levers.png``.
        """
        return write_atomically(directory, lambda tmp: self.write_into(tmp, plots=plots))

    #: Steps of ``write_into`` with plots (for a progress bar).
    FILES = 4

    def write_into(self, folder: Path, plots: bool = True, progress=None) -> None:
        """Write every file into an existing (temporary) folder.

        ``progress``: called with 1 after each step (``FILES`` with plots): the tables, the runs,
        and each figure.
        """
        done = progress or (lambda n: None)
        folder = Path(folder)
        self.table.to_parquet(folder / "sweep.parquet", index=False)
        self.table.to_csv(folder / "sweep.csv", index=False)
        self.robustness.to_parquet(folder / "robustness.parquet", index=False)
        self.robustness.to_csv(folder / "robustness.csv", index=False)
        (folder / "summary.json").write_text(json.dumps(jsonable(self.summary()), indent=2))
        (folder / "scenario.resolved.yaml").write_text(
            yaml.safe_dump(self.scenario.resolved(), sort_keys=False))
        done(1)
        self.write_runs(folder / "runs.parquet")
        done(1)
        if plots:
            (folder / "plots").mkdir(exist_ok=True)
            plot_tradeoff(self.table, self.lever_names, folder / "plots" / "tradeoff.png")
            done(1)
            plot_lever_effects(self.table, self.lever_names, folder / "plots" / "levers.png")
            done(1)

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
          progress: bool | None = None, stream_to=None) -> SweepResult:
    """Run every combination of lever values with common random numbers.

    Args:
        scenario: The scenario the lever settings change.
        levers: Lever name -> list of values (see ``sim.analysis.lever_settings``).
        runs: Runs per cell (default: the scenario's ``runs``).
        seed: Seed (default: the scenario's).
        workers: Local worker processes.
        dask: ``"local"`` or a Dask scheduler address: compute on a Dask cluster (see
            ``sim.run``); results are the same.
        progress: Show a progress bar (default: only on a terminal).
        stream_to: A folder: each cell's outcomes stream to ``stream_to/cell-K.parquet`` block by
            block, and the tables are computed from those files, so memory does not grow with
            cells x runs. Otherwise they are kept in memory.

    Raises:
        ScenarioError: for an unknown lever, a value it does not allow, or a cell whose lever
            settings make an invalid scenario (checked before anything runs).
    """
    if not levers:
        raise ArgumentError("levers", "", "give at least one lever to sweep, e.g. exit_month=0:36:6")
    runs = int(scenario.runs if runs is None else runs)
    seed = int(scenario.seed if seed is None else seed)
    if runs < 1:
        raise ValueError("runs must be at least 1")
    names = list(levers)
    for name, values in levers.items():
        if not values:
            raise ArgumentError("levers", name, "no values given")
        for v in values:
            check_lever(name, v)
    cells = pd.DataFrame(list(itertools.product(*levers.values())), columns=names)
    scenarios = [apply_levers(scenario, settings)  # fail before running anything
                 for settings in cells.to_dict("records")]
    cells.insert(0, "cell", np.arange(len(cells)))

    # every cell is sim.run of its scenario: the same blocks, seed and run indices
    blocks = blocks_for(runs)
    tasks = ((sc, seed, b, n, False, None, None) for sc in scenarios for b, n in blocks)
    folder = Path(stream_to) if stream_to is not None else None
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    executor, results = execute(tasks, workers, dask, count=len(scenarios) * len(blocks))
    bar = progress_bar(len(scenarios) * runs, progress, desc="sweep")
    sinks = []
    try:
        for i, res in enumerate(results):
            if i % len(blocks) == 0:
                sinks.append(ParquetSink(folder / f"cell-{len(sinks)}.parquet") if folder
                             else MemorySink())
            sinks[-1].add({"replica": res.columns["run"],
                           **{name: res.columns[name] for name in OUTCOME_COLUMNS}})
            if folder is not None and i % len(blocks) == len(blocks) - 1:
                sinks[-1].close()
            bar(res.columns["run"].size)
    except BaseException:
        for sink in sinks:
            if isinstance(sink, ParquetSink):
                sink.abandon()  # the first error is the one to report
        raise
    finally:
        results.close()  # stops the workers or the cluster, also if the loop ended early
        bar(None)
    elapsed = time.perf_counter() - started
    sources = [sink.path if isinstance(sink, ParquetSink) else sink.frame() for sink in sinks]

    # the tables, read from the cells' outcomes: a second bar on the same terms as the engine's
    judged = [o for o in JUDGED_OUTCOMES if o in OUTCOME_COLUMNS]
    bar = progress_bar(1 + len(judged), False if len(blocks) < 2 else progress, "tables", unit="step")
    try:
        table = cell_table(sources, cells[names], runs)
        table.insert(0, "cell", cells["cell"].to_numpy())
        table["pareto"] = pareto_front(table[list(TRADEOFF_OBJECTIVES)].to_numpy())
        bar(1)
        robustness = choice_robustness(cells[names], sources, judged, scratch=folder, progress=bar)
    finally:
        bar(None)

    provenance = {"package": "iraqsim", "version": __version__, "scenario": scenario.name,
                  "scenario_sha256": scenario.sha256(), "seed": seed, "runs_per_cell": runs,
                  "cells": len(cells), "block_size": BLOCK_SIZE, "executor": executor,
                  "elapsed_seconds": round(elapsed, 3), **software_versions()}
    return SweepResult(scenario, {k: list(v) for k, v in levers.items()}, cells, sources, table,
                       robustness, provenance)


def cell_table(sources: list, cells: pd.DataFrame, runs: int) -> pd.DataFrame:
    """One row per lever combination: ``runs`` and, per outcome, its mean and quantiles.

    Yes/no outcomes get ``<name>.mean`` (the probability); numbers ``.mean``, ``.p05``,
    ``.p50``, ``.p95``; months ``.mean`` and ``.p50`` over runs where the event happened.
    ``sources`` are the cells' outcome tables (DataFrames or Parquet paths), read a column at a
    time in chunks (``sim.engine.columns.column_statistics``: exact quantiles, numpy's linear method).
    """
    rows = []
    for settings, source in zip(cells.to_dict("records"), sources):
        row = dict(settings)
        row["runs"] = runs
        for name, reader in _outcome_readers(source):
            kind = OUTCOME_COLUMNS[name][0]
            if kind == "bool":
                row[f"{name}.mean"] = column_statistics(reader, quantiles=()).get("mean", np.nan)
                continue
            quantiles = (0.5,) if kind == "month" else (0.05, 0.5, 0.95)
            st = column_statistics(reader, quantiles=quantiles)
            row[f"{name}.mean"] = st.get("mean", np.nan)
            for q in quantiles:
                row[f"{name}.p{round(q * 100):02d}"] = st.get(q, np.nan)
        rows.append(row)
    return pd.DataFrame(rows)


