"""Executors: where blocks are computed, in task order, with bounded memory.

In this process (default), ``workers`` local processes (spawn context), or a Dask cluster
(``dask="local"`` starts a ``LocalCluster``; ``dask="tcp://host:port"`` uses a running
scheduler). All give identical results: a block's result does not depend on where it runs.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import re
import signal
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from typing import Iterator

from sim.engine.blocks import BlockResult, run_block
from sim.model.model import DrawdownModel
from sim.scenario.errors import ArgumentError


def _inline(tasks, fn) -> Iterator[BlockResult]:
    for task in tasks:
        yield fn(*task)


def _ignore_interrupts() -> None:
    """Worker initialiser: leave Ctrl-C to the main process, which cancels the job cleanly."""
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

    A spawned worker needs a while before its first block (imports, loading the compiled
    kernels). Meanwhile this process computes the next blocks itself, from the front, until one worker
    has warmed up; the rest go to the pool. A block's result does not depend on where it runs.
    If this process computed every block, the workers are stopped instead of waited for.
    """
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
    """Raise ``ArgumentError`` (about ``dask``) unless ``address`` is ``"local"`` or
    ``[tcp://]HOST:PORT``."""
    if address != "local" and not _DASK_ADDRESS.match(address or ""):
        raise ArgumentError("dask", address, "not a scheduler address; use 'local' or "
                            "tcp://HOST:PORT of a running Dask scheduler")


def _dask_client(address: str, workers: int):
    """A Dask client (and the LocalCluster it owns, if ``address`` is ``"local"``)."""
    check_dask_address(address)
    try:  # an optional dependency (the ``dask`` extra), imported when used
        from distributed import Client, LocalCluster
    except ImportError:  # pragma: no cover - depends on the install
        raise ArgumentError("dask", address, "needs Dask; install the extra: "
                            "pip install 'iraqsim[dask]'") from None
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
        raise ArgumentError("dask", address, "cannot connect to a Dask scheduler there ('local' "
                            f"or tcp://HOST:PORT of a running scheduler): {exc}") from None


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
