"""The Monte Carlo engine: blocks of replicas, seeding, executors, streaming results.

Rules (docs/ARCHITECTURE.md, "The engine"):

* Runs are cut into blocks of ``BLOCK_SIZE`` replicas. Block ``b`` holds runs
  ``b*BLOCK_SIZE ... (b+1)*BLOCK_SIZE - 1``. Its random streams derive from ``(seed, b)`` with
  ``numpy.random.SeedSequence``: the model's Generator from ``spawn_key=(b, 0)``, each uncertain
  parameter from ``spawn_key=(b, 1, crc32(name))``. A run's result therefore depends only on the
  scenario, the seed and its run index, never on workers, executor or scheduling.
* A short last block is computed at full size and truncated, so asking for more runs extends a
  result instead of reshuffling it.
* Blocks are merged in block order whatever order they finish in. Outcomes stream to Parquet
  block by block; each block's trajectories are reduced to a small mergeable ``SummaryPart``
  where the block ran; the model is released after its block. Memory is bounded by the block
  size and the number of blocks in flight (twice the workers), not by the number of runs.

Executors: in this process (default), ``workers`` local processes (spawn context), or a Dask
cluster (``dask="local"`` starts a ``LocalCluster``; ``dask="tcp://host:port"`` uses a running
scheduler). All give identical results.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Callable

from sim._version import __version__
from sim.engine import blocks
from sim.engine.executors import check_dask_address, execute
from sim.engine.io import MemorySink, ParquetSink, file_sha256, software_versions
from sim.engine.progress import job_progress
from sim.engine.results import Results
from sim.engine.summary import TrajectorySummary, use_exact
from sim.model.outcomes import TRAJECTORY_VARIABLES


class JobStopped(Exception):
    """A job given up between two blocks because ``should_stop`` said so (a newer request
    replaced it, or it ran out of time)."""


def run(scenario, runs: int | None = None, seed: int | None = None, *, workers: int = 1,
        dask: str | None = None, progress: bool | None = None,
        stream_to: str | os.PathLike | None = None, keep_trajectories: bool = True,
        should_stop: Callable[[], bool] | None = None):
    """Run ``runs`` replicas of ``scenario`` and return a ``Results``.

    Args:
        scenario: A ``Scenario`` (see ``load_scenario``).
        runs: Number of replicas (default: the scenario's ``runs``).
        seed: Seed (default: the scenario's ``seed``).
        workers: Local worker processes (1 = in this process). With ``dask="local"``, the
            number of Dask workers (default: one per CPU). Workers are spawned, so a script
            using them needs the ``if __name__ == "__main__":`` guard.
        dask: ``"local"`` to start a local Dask cluster, or a scheduler address
            (``tcp://host:port``).
        progress: Show a progress bar (default: only on a terminal, and not under ``CI``).
        stream_to: Folder to stream ``outcomes.parquet`` into block by block (bounded memory);
            otherwise outcomes are kept in memory.
        keep_trajectories: Compute the per-month quantile bands.
        should_stop: Asked after each block; when it answers True the job stops and raises
            ``JobStopped`` (an interactive page drops a job that a newer request replaced).

    Returns:
        ``sim.engine.Results``. Results are identical whatever ``workers`` and ``dask``.
    """

    runs = int(scenario.runs if runs is None else runs)
    seed = int(scenario.seed if seed is None else seed)
    if runs < 1:
        raise ValueError("runs must be at least 1")
    workers = int(workers)
    if workers < 1:
        raise ValueError("workers must be at least 1")
    variables = list(TRAJECTORY_VARIABLES)
    mode = None
    if keep_trajectories:
        mode = "exact" if use_exact(runs, scenario.horizon_months, len(variables)) else "histogram"
    if dask:
        check_dask_address(dask)
    tasks = [(scenario, seed, b, n, False, None, mode) for b, n in blocks.blocks_for(runs)]
    executor, results = execute(tasks, workers, dask)

    summary = (TrajectorySummary(variables, scenario.horizon_months, runs, exact=mode == "exact")
               if mode else None)
    sink = ParquetSink(Path(stream_to) / "outcomes.parquet") if stream_to else MemorySink()
    bar = job_progress(len(tasks), runs, progress, executor)
    started, done = time.perf_counter(), 0
    try:
        for res in results:
            sink.add(res.columns)
            if summary is not None:
                summary.merge(res.summary)
            done += res.columns["run"].size
            bar(res.columns["run"].size)
            del res
            if should_stop is not None and done < runs and should_stop():
                raise JobStopped(f"{scenario.name}: stopped after {done:,} of {runs:,} runs")
        if isinstance(sink, ParquetSink):
            sink.close()
    except BaseException:
        if isinstance(sink, ParquetSink):
            sink.abandon()  # the first error is the one to report
        raise
    finally:
        results.close()  # stops workers / closes the cluster if the loop ended early
        bar(None)
    elapsed = time.perf_counter() - started

    provenance = {
        "package": "iraqsim", "version": __version__, "scenario": scenario.name,
        "scenario_sha256": scenario.sha256(), "seed": seed, "runs": runs,
        "block_size": blocks.BLOCK_SIZE, "executor": executor, "elapsed_seconds": round(elapsed, 3),
        "run_months_per_second": round(runs * scenario.horizon_months / max(elapsed, 1e-9)),
        "quantiles": mode or "none",
        **software_versions(),
    }
    if scenario.posterior_files():  # the calibration the runs drew from, to the byte
        provenance["posterior"] = [{"file": str(path), "sha256": file_sha256(path)}
                                   for path in scenario.posterior_files()]
    if isinstance(sink, MemorySink):
        return Results(scenario, sink.frame(), summary, provenance)
    return Results(scenario, Path(stream_to) / "outcomes.parquet", summary, provenance,
                   table=sink.table)
