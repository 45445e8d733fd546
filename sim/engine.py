"""The Monte Carlo engine: blocks of replicas, seeding, executors, streaming results.

Rules (DESIGN §7):

* Runs are cut into blocks of ``BLOCK_SIZE`` replicas. Block ``b`` holds runs
  ``b*BLOCK_SIZE ... (b+1)*BLOCK_SIZE - 1``. Its random streams derive from ``(seed, b)`` with
  ``numpy.random.SeedSequence``: the model's Generator from ``spawn_key=(b, 0)``, each uncertain
  parameter from ``spawn_key=(b, 1, crc32(name))``. A run's result therefore depends only on the
  scenario, the seed and its run index, never on workers, executor or scheduling.
* A short last block is computed at full size and truncated, so asking for more runs extends a
  result instead of reshuffling it.
* Blocks are merged in block order; outcomes can stream to Parquet block by block and the
  trajectory summary is mergeable, so memory is bounded by the block size.
"""

from __future__ import annotations

import os
import sys
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .model import DrawdownModel
from .outcomes import TRAJECTORY_VARIABLES
from .summary import TrajectorySummary

#: Replicas per block. Chosen by measurement (docs/performance.md): large enough that Mesa's and
#: Python's per-step overhead is negligible, small enough that a block's arrays stay in cache.
BLOCK_SIZE = 4096


@dataclass
class BlockResult:
    """What one block returns: its outcome columns and (optionally) its trajectories."""

    block: int
    columns: dict[str, np.ndarray]
    trajectories: np.ndarray | None  # (variables, months, runs) float32


def model_rng(seed: int, block: int) -> np.random.Generator:
    """The model Generator of block ``block`` for ``seed``."""
    return np.random.default_rng(np.random.SeedSequence(entropy=seed, spawn_key=(block, 0)))


def run_block(scenario, seed: int, block: int, n: int | None = None,
              keep_trajectories: bool = True, params: dict | None = None) -> BlockResult:
    """Simulate block ``block`` at full size and return its first ``n`` runs.

    Args:
        scenario: The scenario.
        seed: The job's seed.
        block: Block index.
        n: Runs to keep (``<= BLOCK_SIZE``); the block is always computed at full size.
        keep_trajectories: Also return per-month trajectories.
        params: Explicit parameter arrays (full block length) that replace sampled ones; used by
            ``sim.evaluate`` for external experiment designs.
    """
    n = BLOCK_SIZE if n is None else n
    sampled = scenario.sample_parameters(BLOCK_SIZE, seed, block)
    values = dict(sampled)
    if params:
        values.update(params)
    model = DrawdownModel(scenario, n_runs=BLOCK_SIZE, params=values,
                          keep_trajectories=keep_trajectories, rng=model_rng(seed, block))
    try:
        out = model.run()
        traj = model.tracker.trajectories
        traj = None if traj is None else np.ascontiguousarray(traj[:, :, :n])
    finally:
        model.release()
    cols = {"run": np.arange(block * BLOCK_SIZE, block * BLOCK_SIZE + n, dtype=np.int64)}
    for name, arr in sorted(sampled.items()):
        cols[f"param.{name}"] = arr[:n]
    for name, arr in out.items():
        cols[name] = arr[:n]
    return BlockResult(block, cols, traj)


def _blocks(runs: int) -> list[tuple[int, int]]:
    """(block index, runs kept) for a job of ``runs`` runs."""
    full, rest = divmod(runs, BLOCK_SIZE)
    return [(b, BLOCK_SIZE) for b in range(full)] + ([(full, rest)] if rest else [])


# ---------------------------------------------------------------------- executors
def _inline(tasks, fn) -> Iterator[BlockResult]:
    for task in tasks:
        yield fn(*task)


def _processes(tasks, fn, workers: int) -> Iterator[BlockResult]:
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn")) as pool:
        yield from _windowed(tasks, lambda t: pool.submit(fn, *t), lambda f: f.result(), 2 * workers)


def _dask(tasks, fn, address: str) -> Iterator[BlockResult]:
    try:
        from distributed import Client, LocalCluster
    except ImportError:  # pragma: no cover - depends on the install
        raise RuntimeError("Dask is not installed; install the extra: pip install '.[dask]'") from None
    cluster = None
    if address == "local":
        cluster = LocalCluster(n_workers=min(2, os.cpu_count() or 1), threads_per_worker=1,
                               processes=True, dashboard_address=None)
        client = Client(cluster)
    else:
        client = Client(address)
    try:
        window = 2 * max(1, len(client.scheduler_info().get("workers", {})))
        yield from _windowed(tasks, lambda t: client.submit(fn, *t, pure=False),
                             lambda f: f.result(), window)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _windowed(tasks, submit, result, window: int) -> Iterator[BlockResult]:
    """Submit up to ``window`` tasks ahead and yield results in task order (bounded memory)."""
    pending = deque()
    it = iter(tasks)
    for task in it:
        pending.append(submit(task))
        if len(pending) >= window:
            break
    while pending:
        fut = pending.popleft()
        for task in it:
            pending.append(submit(task))
            break
        yield result(fut)


# ---------------------------------------------------------------------- outcome sinks
class _ParquetSink:
    """Writes outcome blocks to a Parquet file as they arrive."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.writer = None

    def add(self, cols: dict[str, np.ndarray]) -> None:
        table = pa.table(cols)
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.path, table.schema)
        self.writer.write_table(table)

    def close(self):
        if self.writer is not None:
            self.writer.close()


class _MemorySink:
    def __init__(self):
        self.parts: list[dict] = []

    def add(self, cols):
        self.parts.append(cols)

    def frame(self) -> pd.DataFrame:
        keys = self.parts[0].keys()
        return pd.DataFrame({k: np.concatenate([p[k] for p in self.parts]) for k in keys})


# ---------------------------------------------------------------------- the job
def run(scenario, runs: int | None = None, seed: int | None = None, *, workers: int = 1,
        dask: str | None = None, progress: bool | None = None,
        stream_to: str | os.PathLike | None = None, keep_trajectories: bool = True):
    """Run ``runs`` replicas of ``scenario`` and return a ``Results``.

    Args:
        scenario: A ``Scenario`` (see ``load_scenario``).
        runs: Number of replicas (default: the scenario's ``runs``).
        seed: Seed (default: the scenario's ``seed``).
        workers: Local worker processes (1 = in this process).
        dask: ``"local"`` to start a local Dask cluster, or a scheduler address
            (``tcp://host:port``).
        progress: Show a progress bar (default: only on a terminal).
        stream_to: Folder to stream ``outcomes.parquet`` into block by block (bounded memory).
        keep_trajectories: Compute the per-month quantile bands.

    Returns:
        ``sim.results.Results``.
    """
    from . import __version__
    from .results import Results

    runs = int(scenario.runs if runs is None else runs)
    seed = int(scenario.seed if seed is None else seed)
    if runs < 1:
        raise ValueError("runs must be at least 1")
    tasks = [(scenario, seed, b, n, keep_trajectories) for b, n in _blocks(runs)]
    if dask:
        executor, results = f"dask:{dask}", _dask(tasks, run_block, dask)
    elif workers > 1:
        executor, results = f"processes:{workers}", _processes(tasks, run_block, workers)
    else:
        executor, results = "inline", _inline(tasks, run_block)

    summary = TrajectorySummary(list(TRAJECTORY_VARIABLES), scenario.horizon_months, runs) \
        if keep_trajectories else None
    sink = _ParquetSink(Path(stream_to) / "outcomes.parquet") if stream_to else _MemorySink()
    bar = _progress(len(tasks), runs, progress)
    started = time.perf_counter()
    try:
        for res in results:
            sink.add(res.columns)
            if summary is not None:
                summary.add(res.trajectories)
            bar(res.columns["run"].size)
    finally:
        bar(None)
        if isinstance(sink, _ParquetSink):
            sink.close()
    elapsed = time.perf_counter() - started

    import mesa
    provenance = {
        "package": "iraqsim", "version": __version__, "scenario": scenario.name,
        "scenario_sha256": scenario.sha256(), "seed": seed, "runs": runs,
        "block_size": BLOCK_SIZE, "executor": executor, "elapsed_seconds": round(elapsed, 3),
        "run_months_per_second": round(runs * scenario.horizon_months / max(elapsed, 1e-9)),
        "mesa": mesa.__version__, "numpy": np.__version__,
        "python": sys.version.split()[0],
    }
    outcomes = sink.frame() if isinstance(sink, _MemorySink) else Path(stream_to) / "outcomes.parquet"
    return Results(scenario, outcomes, summary, provenance)


def _progress(blocks: int, runs: int, enabled: bool | None) -> Callable:
    """A progress callback: call with runs done, then ``None`` to close."""
    if enabled is None:
        enabled = sys.stderr.isatty() and not os.environ.get("CI")
    if not enabled or blocks < 2:
        return lambda n: None
    from tqdm import tqdm
    bar = tqdm(total=runs, unit="run", unit_scale=True, file=sys.stderr, leave=False)

    def update(n):
        if n is None:
            bar.close()
        else:
            bar.update(n)
    return update
