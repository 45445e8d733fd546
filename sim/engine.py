"""The Monte Carlo engine: blocks of replicas, seeding, executors, streaming results.

Rules (DESIGN §7):

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

import logging
import os
import re
import sys
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import mesa
import numpy as np

from .model import DrawdownModel
from .outcomes import TRAJECTORY_VARIABLES
from .summary import (MonthlyHistograms, SummaryPart, TrajectorySummary, summarise_block,
                      use_exact)

#: Replicas per block. Measured (docs/performance.md, ``pytest benchmarks -k block_size``):
#: throughput per CPU second rises steeply up to ~8,000 and changes by ~10% at most beyond it.
#: Every job computes whole blocks, and people ask for round numbers of runs (1,000, 10,000,
#: 100,000, 1,000,000), which 10,000 divides without computing runs nobody asked for (8,192
#: computed 6.5% extra at 100,000 runs and 64% at 10,000). Changing it changes every result,
#: so it is recorded in the provenance.
BLOCK_SIZE = 10_000
#: Outcome rows buffered into one Parquet row group (bounded, ~15 MB).
ROW_GROUP_RUNS = 65_536
#: Largest dictionary page of an outcome column. Columns with few distinct values (yes/no
#: outcomes, months, counts, parameters drawn from the 700-row posterior) stay
#: dictionary-encoded; continuous ones (peaks, end states, sampled parameters) give up after
#: 2,048 values instead of pyarrow's default 1 MB, which spent ~40% of the write time building
#: dictionaries it then dropped and wrote larger files (docs/performance.md).
DICTIONARY_PAGE_BYTES = 16 * 1024
#: Summary modes a block can be asked to reduce its trajectories to.
SUMMARY_MODES = ("exact", "histogram")


@dataclass
class BlockResult:
    """What one block returns.

    Attributes:
        block: Block index.
        columns: Outcome columns of the runs kept (``run``, ``param.*``, outcomes).
        trajectories: Per-month trajectories (variables, months, runs) as float32, when asked
            for raw trajectories (``keep_trajectories`` without a ``summary`` mode).
        summary: The block's ``SummaryPart`` when a ``summary`` mode was asked for.
    """

    block: int
    columns: dict[str, np.ndarray]
    trajectories: np.ndarray | None = None
    summary: SummaryPart | None = None


def model_rng(seed: int, block: int) -> np.random.Generator:
    """The model Generator of block ``block`` for ``seed``."""
    return np.random.default_rng(np.random.SeedSequence(entropy=seed, spawn_key=(block, 0)))


def run_block(scenario, seed: int, block: int, n: int | None = None,
              keep_trajectories: bool = True, params: dict | None = None,
              summary: str | None = None) -> BlockResult:
    """Simulate block ``block`` at full size and return its first ``n`` runs.

    Args:
        scenario: The scenario.
        seed: The job's seed.
        block: Block index.
        n: Runs to keep (``<= BLOCK_SIZE``); the block is always computed at full size.
        keep_trajectories: Also return per-month trajectories.
        params: Explicit parameter arrays (full block length) that replace sampled ones; used by
            ``sim.evaluate`` for external experiment designs.
        summary: ``"exact"`` or ``"histogram"``: return the trajectories reduced to a
            ``SummaryPart`` (small, mergeable) instead of raw; implies ``keep_trajectories``.
    """
    n = BLOCK_SIZE if n is None else n
    if summary is not None and summary not in SUMMARY_MODES:
        raise ValueError(f"summary must be one of {SUMMARY_MODES}, not {summary!r}")
    keep = keep_trajectories or summary is not None
    sampled = scenario.sample_parameters(BLOCK_SIZE, seed, block)
    values = dict(sampled)
    if params:
        values.update(params)
    # a histogram summary is binned month by month as the model records (no trajectory array)
    histograms = (MonthlyHistograms(list(TRAJECTORY_VARIABLES), scenario.horizon_months, n)
                  if summary == "histogram" else None)
    model = DrawdownModel(scenario, n_runs=BLOCK_SIZE, params=values,
                         keep_trajectories=keep and histograms is None, histograms=histograms,
                         rng=model_rng(seed, block))
    try:
        out = model.run()
        traj = model.tracker.trajectories
    finally:
        model.release()
        _dismantle(model)
    del model
    part = histograms.part() if histograms is not None else None
    if traj is not None:
        traj = traj[:, :, :n]
        if summary == "exact":
            part = summarise_block(traj, list(TRAJECTORY_VARIABLES), exact=True)
            traj = None
        else:
            traj = np.ascontiguousarray(traj)
    cols = {"run": np.arange(block * BLOCK_SIZE, block * BLOCK_SIZE + n, dtype=np.int64)}
    for name, arr in sorted(sampled.items()):
        cols[f"param.{name}"] = arr[:n]
    for name, arr in out.items():
        cols[name] = arr[:n]
    return BlockResult(block, cols, traj, part)


def _dismantle(model) -> None:
    """Break the model's reference cycles (model <-> agents) once its block is done.

    Without this a finished block's arrays live until Python's cyclic garbage collector runs,
    which numpy-heavy loops trigger rarely: several dead models piled up between collections.
    """
    for value in list(vars(model).values()):
        for obj in (value if isinstance(value, (list, tuple)) else (value,)):
            if isinstance(obj, mesa.Agent):
                obj.__dict__.clear()
    model.__dict__.clear()


def blocks_for(runs: int) -> list[tuple[int, int]]:
    """(block index, runs kept) of each block of a job of ``runs`` runs."""
    full, rest = divmod(runs, BLOCK_SIZE)
    return [(b, BLOCK_SIZE) for b in range(full)] + ([(full, rest)] if rest else [])


# ---------------------------------------------------------------------- executors
def _inline(tasks, fn) -> Iterator[BlockResult]:
    for task in tasks:
        yield fn(*task)


def _ignore_interrupts() -> None:
    """Worker initialiser: leave Ctrl-C to the main process, which cancels the job cleanly."""
    import signal
    signal.signal(signal.SIGINT, signal.SIG_IGN)


#: Whether this process computes the first blocks itself while the workers (local processes or
#: Dask workers) start and load the compiled kernels.
WORK_WHILE_WORKERS_START = True


def _warm_up() -> None:
    """A worker's first task: load what a block needs (this module, the compiled kernels)."""
    model = DrawdownModel(n_runs=2, keep_trajectories=True, seed=0)
    model.step()
    model.release()


def _here_until_ready(tasks: Iterator, fn, ready: list) -> Iterator[BlockResult]:
    """Compute tasks in this process, from the front, until one of the ``ready`` futures (the
    workers' warm-up tasks) is done; the caller hands the rest to the workers."""
    for task in tasks:
        yield fn(*task)
        if any(f.done() for f in ready):
            return


def _processes(tasks, fn, workers: int) -> Iterator[BlockResult]:
    """Blocks computed by ``workers`` spawned processes, yielded in task order.

    A spawned worker needs ~2 s before its first block (imports, loading the compiled kernels).
    Meanwhile this process computes the next blocks itself, from the front, until one worker
    has warmed up; the rest go to the pool. A block's result does not depend on where it runs.
    If this process computed every block, the workers are stopped instead of waited for.
    """
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    pool = ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn"),
                               initializer=_ignore_interrupts)
    submitted = []

    def submit(task):
        submitted.append(True)
        return pool.submit(fn, *task)
    try:
        tasks = iter(tasks)
        if WORK_WHILE_WORKERS_START:
            yield from _here_until_ready(tasks, fn, [pool.submit(_warm_up) for _ in range(workers)])
        yield from _windowed(tasks, submit, lambda f: f.result(), 2 * workers)
    finally:
        if not submitted:  # the workers only warmed up: do not wait for them
            _terminate_workers(pool)
        pool.shutdown(wait=True, cancel_futures=True)


def _terminate_workers(pool) -> None:
    """Stop a process pool's workers at once (``terminate_workers`` from Python 3.14)."""
    terminate = getattr(pool, "terminate_workers", None)
    if terminate is not None:
        terminate()
        return
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        process.terminate()


#: A scheduler address: optional protocol, host, port.
_DASK_ADDRESS = re.compile(r"^(?:(?:tcp|tls|ws|wss|ucx)://)?[A-Za-z0-9_.\-]+:\d{1,5}$|^(?:tcp|tls)://\[[0-9a-fA-F:]+\]:\d{1,5}$")


def check_dask_address(address: str) -> None:
    """Raise ``UserError`` unless ``address`` is ``"local"`` or ``[tcp://]HOST:PORT``."""
    from .cli import UserError
    if address != "local" and not _DASK_ADDRESS.match(address or ""):
        raise UserError(f"--dask {address!r}: not a scheduler address; use 'local' or "
                        f"tcp://HOST:PORT of a running Dask scheduler")


def _dask_client(address: str, workers: int):
    """A Dask client (and the LocalCluster it owns, if ``address`` is ``"local"``)."""
    from .cli import UserError
    check_dask_address(address)
    try:
        from distributed import Client, LocalCluster
    except ImportError:  # pragma: no cover - depends on the install
        raise UserError("--dask needs Dask; install the extra: pip install 'iraqsim[dask]'") from None
    if address == "local":
        n = workers if workers > 1 else max(1, os.cpu_count() or 1)
        # quiet: its workers log a cancelled warm-up or a heartbeat to a closed scheduler as they
        # stop; a failure that matters reaches this process as the exception of a block. Without
        # a dashboard the scheduler still serves HTTP (health checks), by default on port 8787,
        # and warns on stderr when another cluster holds it: a free port on this machine instead.
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=logging.CRITICAL,
                               scheduler_kwargs={"dashboard_address": "127.0.0.1:0"})
        return Client(cluster), cluster
    try:
        return Client(address, timeout="10s"), None
    except (OSError, TimeoutError, ValueError, TypeError) as exc:
        raise UserError(f"--dask {address}: cannot connect to a Dask scheduler there "
                        f"('local' or tcp://HOST:PORT of a running scheduler): {exc}") from None


def _dask(tasks, fn, address: str, workers: int = 1) -> Iterator[BlockResult]:
    client, cluster = _dask_client(address, workers)
    try:
        n_workers = max(1, len(client.scheduler_info().get("workers", {})))
        tasks = iter(tasks)
        if WORK_WHILE_WORKERS_START:  # a Dask worker imports sim and loads the kernels on its first task
            yield from _here_until_ready(tasks, fn, [client.submit(_warm_up, pure=False)
                                                     for _ in range(n_workers)])
        yield from _windowed(tasks, lambda t: client.submit(fn, *t, pure=False),
                             lambda f: f.result(), 2 * n_workers)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _windowed(tasks, submit, result, window: int) -> Iterator[BlockResult]:
    """Keep up to ``window`` tasks submitted and yield results in task order (bounded memory)."""
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
    """Writes outcome blocks to a Parquet file as they arrive, in row groups of ~64k runs."""

    def __init__(self, path: Path, row_group_runs: int = ROW_GROUP_RUNS):
        self.path = Path(path)
        self.row_group_runs = row_group_runs
        self.writer = None
        self.buffer: list = []
        self.buffered = 0

    def add(self, cols: dict[str, np.ndarray]) -> None:
        import pyarrow as pa
        table = pa.table(cols)
        self.buffer.append(table)
        self.buffered += table.num_rows
        if self.buffered >= self.row_group_runs:
            self.flush()

    def flush(self) -> None:
        if not self.buffer:
            return
        import pyarrow as pa
        import pyarrow.parquet as pq
        table = pa.concat_tables(self.buffer)
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.path, table.schema,
                                           dictionary_pagesize_limit=DICTIONARY_PAGE_BYTES)
        self.writer.write_table(table, row_group_size=max(len(table), 1))
        self.buffer, self.buffered = [], 0

    def close(self) -> None:
        self.flush()
        if self.writer is not None:
            self.writer.close()


class _MemorySink:
    def __init__(self):
        self.parts: list[dict] = []

    def add(self, cols):
        self.parts.append(cols)

    def frame(self):
        import pandas as pd
        keys = self.parts[0].keys()
        return pd.DataFrame({k: np.concatenate([p[k] for p in self.parts]) for k in keys})


# ---------------------------------------------------------------------- the job
def execute(tasks, workers: int = 1, dask: str | None = None,
            count: int | None = None) -> tuple[str, Iterator[BlockResult]]:
    """Compute ``run_block(*task)`` for every task: on Dask if ``dask`` is given, else in
    ``workers`` local processes (at most one per task), else in this process.

    ``tasks`` may be a generator (tasks are made as they are submitted); then give their
    ``count``. Returns ``(executor, results)``: the executor's name for the provenance
    (``"inline"``, ``"processes:K"``, ``"dask:ADDRESS"``) and the results, yielded in task
    order. Close the iterator when done (it stops the workers or the cluster, also if the loop
    ended early).
    """
    if dask:
        return f"dask:{dask}", _dask(tasks, run_block, dask, workers)
    workers = min(int(workers), len(tasks) if count is None else count)
    if workers > 1:
        return f"processes:{workers}", _processes(tasks, run_block, workers)
    return "inline", _inline(tasks, run_block)


def run(scenario, runs: int | None = None, seed: int | None = None, *, workers: int = 1,
        dask: str | None = None, progress: bool | None = None,
        stream_to: str | os.PathLike | None = None, keep_trajectories: bool = True):
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

    Returns:
        ``sim.results.Results``. Results are identical whatever ``workers`` and ``dask``.
    """
    from . import __version__
    from .results import Results

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
    tasks = [(scenario, seed, b, n, False, None, mode) for b, n in blocks_for(runs)]
    executor, results = execute(tasks, workers, dask)

    summary = (TrajectorySummary(variables, scenario.horizon_months, runs, exact=mode == "exact")
               if mode else None)
    sink = _ParquetSink(Path(stream_to) / "outcomes.parquet") if stream_to else _MemorySink()
    bar = _progress(len(tasks), runs, progress, executor)
    started = time.perf_counter()
    try:
        for res in results:
            sink.add(res.columns)
            if summary is not None:
                summary.merge(res.summary)
            bar(res.columns["run"].size)
            del res
    finally:
        results.close()  # stops workers / closes the cluster if the loop ended early
        bar(None)
        if isinstance(sink, _ParquetSink):
            sink.close()
    elapsed = time.perf_counter() - started

    provenance = {
        "package": "iraqsim", "version": __version__, "scenario": scenario.name,
        "scenario_sha256": scenario.sha256(), "seed": seed, "runs": runs,
        "block_size": BLOCK_SIZE, "executor": executor, "elapsed_seconds": round(elapsed, 3),
        "run_months_per_second": round(runs * scenario.horizon_months / max(elapsed, 1e-9)),
        "quantiles": mode or "none",
        **software_versions(),
    }
    outcomes = sink.frame() if isinstance(sink, _MemorySink) else Path(stream_to) / "outcomes.parquet"
    return Results(scenario, outcomes, summary, provenance)


def software_versions() -> dict[str, str]:
    """The versions a job's results can depend on, for its provenance.

    Besides Python, mesa and numpy (the random streams), SciPy: its quantile functions turn the
    sampled uniforms into parameters (``betaincinv``, ``ndtri``), and their last bits differ
    between SciPy releases (e.g. 1.13 and 1.17 give different Beta quantiles for a few draws in
    100,000).
    """
    from importlib.metadata import version
    return {"mesa": mesa.__version__, "numpy": np.__version__, "scipy": version("scipy"),
            "python": sys.version.split()[0]}


def progress_bar(total: int, enabled: bool | None = None, desc: str = "",
                 unit: str = "run") -> Callable:
    """A progress callback (tqdm on stderr): call with items done, then ``None`` to close.

    Shown on a terminal (stderr is a TTY and ``CI`` is unset) unless ``enabled`` says otherwise.
    """
    if enabled is None:
        enabled = sys.stderr.isatty() and not os.environ.get("CI")
    if not enabled:
        return lambda n: None
    from tqdm import tqdm
    bar = tqdm(total=total, unit=unit, unit_scale=unit == "run", file=sys.stderr, leave=False,
               desc=desc or None, dynamic_ncols=True)

    def update(n):
        if n is None:
            bar.close()
        else:
            bar.update(n)
    return update


def _progress(blocks: int, runs: int, enabled: bool | None, executor: str = "") -> Callable:
    """The engine's progress bar: counts runs as blocks complete, whichever worker ran them;
    only for jobs of two blocks or more."""
    return progress_bar(runs, False if blocks < 2 else enabled, executor)
