"""Blocks: one block of replicas simulated with its own seeded streams.

Runs are cut into blocks of ``BLOCK_SIZE`` replicas. Block ``b`` holds runs
``b*BLOCK_SIZE ... (b+1)*BLOCK_SIZE - 1``. Its random streams derive from ``(seed, b)`` with
``numpy.random.SeedSequence``: the model's Generator from ``spawn_key=(b, 0)``, each uncertain
parameter from ``spawn_key=(b, 1, crc32(name))``. A run's result therefore depends only on the
scenario, the seed and its run index, never on workers, executor or scheduling. A short last
block is computed at full size and truncated, so asking for more runs extends a result instead
of reshuffling it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from mesa.agent import Agent

from sim.engine.summary import MonthlyHistograms, SummaryPart, summarise_block
from sim.model.model import DrawdownModel
from sim.model.outcomes import TRAJECTORY_VARIABLES

#: Replicas per block: large enough that throughput has levelled off (``pytest benchmarks -k
#: block_size``), and a divisor of the round numbers of runs people ask for, so no job computes
#: runs nobody asked for. Changing it changes every result, so it is in the provenance.
BLOCK_SIZE = 10_000
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
            if isinstance(obj, Agent):
                obj.__dict__.clear()
    model.__dict__.clear()


def blocks_for(runs: int) -> list[tuple[int, int]]:
    """(block index, runs kept) of each block of a job of ``runs`` runs."""
    full, rest = divmod(runs, BLOCK_SIZE)
    return [(b, BLOCK_SIZE) for b in range(full)] + ([(full, rest)] if rest else [])
