"""Mergeable summaries of trajectories across blocks, and the outcome summary.

``TrajectorySummary`` gives, per trajectory variable and month, the p05, p25, p50, p75 and p95
across runs and the mean. It is built from one ``SummaryPart`` per block, merged in block order,
so its memory does not depend on how many blocks a job has:

* **exact** while every run's trajectory fits the memory budget ``EXACT_BUDGET_BYTES``
  (``float32`` values): the quantiles are those of ``numpy.quantile`` (its default, linear
  method) over all runs, computed by ``sim.engine.quantiles.linear_quantiles`` from one sort.
* **histogram** beyond it: per variable and month, ``BINS`` fixed bins over the variable's
  declared range (log-spaced for counts spanning decades) holding the count *and the sum* of the
  values that fell in each bin, plus the exact minimum and maximum. Quantiles interpolate between
  the bins' means (centroids) by rank, so a value shared by many runs (2,500 troops held) comes
  out exactly, and the error is otherwise a fraction of one bin, far below the Monte Carlo noise.
  Values outside the declared range count in the first or last bin (their mean stays exact).

Means, minima and maxima are exact in both modes. Parts are computed where the block ran (in a
worker process or on a Dask worker), so the main process only adds small arrays.

``outcome_summary`` reduces the outcome table; given the path of a Parquet file it reads one
column at a time, so its memory is one column, not the table.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from sim.engine.binning import histogram_merge, histogram_month
from sim.engine.quantiles import linear_quantiles
from sim.model.outcomes import OUTCOME_COLUMNS, TRAJECTORY_VARIABLES, VARIABLE_ALIASES

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
QUANTILE_NAMES = ("p05", "p25", "p50", "p75", "p95")
#: Memory allowed for exact quantiles: every run's trajectories as float32 (a 10,000-run,
#: 60-month job needs ~34 MB). Beyond it the summary switches to mergeable histograms, so peak
#: memory stops growing with the number of runs.
EXACT_BUDGET_BYTES = 64 * 2**20
#: Histogram bins per variable and month beyond the exact budget.
BINS = 2048


def use_exact(runs: int, months: int, variables: int) -> bool:
    """Whether a job's trajectories fit the exact-quantile budget."""
    return runs * months * variables * 4 <= EXACT_BUDGET_BYTES


@dataclass
class SummaryPart:
    """One block's contribution to a ``TrajectorySummary`` (small enough to ship between processes).

    Attributes:
        runs: Runs in the block.
        sums: Sum over the block's runs, shape (variables, months), float64.
        mins, maxs: Smallest and largest value, shape (variables, months).
        values: Exact mode: the trajectories, shape (variables, months, runs), float32.
        bins: Histogram mode: for each month, the flat indices (variable, month, bin) of its
            non-empty bins (int32). One array a month, as binned: merging takes them a month at a
            time as well, so they are never joined into fresh arrays. ``histogram()`` joins them.
        counts: Histogram mode: for each month, the runs in each of those bins (int32; the merged
            histograms count in int64).
        bin_sums: Histogram mode: for each month, the sum of the values in each of those bins.
        bin_squares: Histogram mode: for each month, the sum of their squares.
    """

    runs: int
    sums: np.ndarray
    mins: np.ndarray
    maxs: np.ndarray
    values: np.ndarray | None = None
    bins: tuple[np.ndarray, ...] | None = None
    counts: tuple[np.ndarray, ...] | None = None
    bin_sums: tuple[np.ndarray, ...] | None = None
    bin_squares: tuple[np.ndarray, ...] | None = None

    def histogram(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Histogram mode: ``(bins, counts, bin_sums, bin_squares)`` of every month, joined."""
        return tuple(np.concatenate(a) for a in (self.bins, self.counts, self.bin_sums,
                                                  self.bin_squares))


def _coordinate_map(var) -> tuple[bool, np.float32, np.float32]:
    """How ``histogram_month`` maps a variable's values to bin coordinates (0..BINS).

    Returns ``(log, shift, scale)``: the coordinate is ``(log(max(v, low)) - shift) * scale``
    for log-spaced bins and ``v * scale - shift`` otherwise, in float32 (ample for 2,048 bins)
    over the declared range.
    """
    if var.log:
        low, high = np.log(var.low), np.log(var.high)
        return True, np.float32(low), np.float32(BINS / (high - low))
    low, high = float(var.low), float(var.high)
    return False, np.float32(low * BINS / (high - low)), np.float32(BINS / (high - low))


#: Scratch arrays kept between blocks, per thread: a Dask worker may run several blocks at once
#: in its threads (the kernels release the GIL), and each needs its own.
_SCRATCH = threading.local()


def _reusable(name: str, shape: tuple, dtype, zeros: bool = False) -> np.ndarray:
    """A scratch array kept for this thread's next block of the same shape.

    Fresh multi-megabyte arrays cost page faults on every block; reusing them avoids that. Only
    scratch space that never leaves the block goes here.
    ``zeros``: created zero (for accumulators their user leaves zero after use).
    """
    buffers = getattr(_SCRATCH, "buffers", None)
    if buffers is None:
        buffers = _SCRATCH.buffers = {}
    key = (name, shape, np.dtype(dtype).str)
    buf = buffers.get(key)
    if buf is None:
        for old in [k for k in buffers if k[0] == name]:
            del buffers[old]  # one shape per name: memory stays bounded
        buf = buffers[key] = (np.zeros if zeros else np.empty)(shape, dtype=dtype)
    return buf


def _edges(var) -> np.ndarray:
    """The ``BINS + 1`` bin edges of a variable (as ``_coordinate_map`` assigns them)."""
    if var.log:
        return np.exp(np.linspace(np.log(var.low), np.log(var.high), BINS + 1))
    return np.linspace(var.low, var.high, BINS + 1)


def summarise_block(traj: np.ndarray, variables: list[str], exact: bool) -> SummaryPart:
    """Reduce one block's trajectories, shape (variables, months, runs), to a ``SummaryPart``.

    Args:
        traj: The block's trajectories (only the runs the job keeps).
        variables: Names of the variables along the first axis (keys of ``TRAJECTORY_VARIABLES``).
        exact: Keep the values (exact mode) instead of binning them.
    """
    _, months, runs = traj.shape
    if exact:
        return SummaryPart(runs=runs, sums=traj.sum(axis=2, dtype=np.float64),
                           mins=traj.min(axis=2), maxs=traj.max(axis=2),
                           values=np.ascontiguousarray(traj, dtype=np.float32))
    histograms = MonthlyHistograms(variables, months, runs)
    for t in range(months):
        histograms.add_month(t, traj[:, t])
    return histograms.part()


class MonthlyHistograms:
    """A block's histogram-mode ``SummaryPart``, built one month at a time.

    The engine records each month of a large job straight into these histograms, in the model's
    bookkeeping phase, instead of keeping every run's trajectories until the block ends: the
    block then never holds its (variables, months, runs) array. The result is the same, bit for
    bit, as binning the kept trajectories (``summarise_block``).

    Args:
        variables: Variable names (keys of ``TRAJECTORY_VARIABLES``), in the part's order.
        months: Months per trajectory.
        runs: Runs binned: the first ``runs`` values of each array given to ``add_month``.

    Its scratch arrays are this thread's (``_reusable``): fill one block's histograms at a time
    per thread, as ``run_block`` does.
    """

    def __init__(self, variables: list[str], months: int, runs: int):
        self.variables, self.months, self.runs = list(variables), months, runs
        n_var = len(self.variables)
        specs = [TRAJECTORY_VARIABLES[name] for name in self.variables]
        maps = [_coordinate_map(var) for var in specs]
        self._log = np.array([log for log, _, _ in maps])
        self._shift = np.array([shift for _, shift, _ in maps], dtype=np.float32)
        self._scale = np.array([scale for _, _, scale in maps], dtype=np.float32)
        self._lows = [np.float32(var.low) for var in specs]
        # scratch: this month's float32 values and their logs (rows of the log-binned variables
        # only), and the bins' count, sum and sum of squares (created zero; histogram_month
        # leaves them zero)
        self._values = _reusable("month values", (n_var, runs), np.float32)
        self._coords = _reusable("month logs", (n_var, runs), np.float32)
        self._acc = _reusable("accumulators", (n_var * BINS, 3), np.float64, zeros=True)
        self._sums = np.empty((n_var, months))
        self._mins = np.empty((n_var, months), np.float32)
        self._maxs = np.empty((n_var, months), np.float32)
        self._filled: list[tuple] = []

    def add_month(self, t: int, values) -> None:
        """Bin month ``t``: ``values`` holds one array per variable (at least ``runs`` long)."""
        runs, rows = self.runs, []
        for i, array in enumerate(values):
            if self._log[i]:  # the logs of the float32 values in numpy (vectorised)
                row = self._values[i]
                row[:] = array[:runs]
                np.log(np.fmax(row, self._lows[i], out=self._coords[i]), out=self._coords[i])
            # the loop reads every value as float32 (the values' precision in both summary
            # modes); the rows share one dtype: the model's float64 (a bool variable as 0/1),
            # or float32 for kept trajectories
            kept = np.float32 if array.dtype == np.float32 else np.float64
            rows.append(np.ascontiguousarray(array, dtype=kept))
        self._filled.append(histogram_month(
            coords=self._coords, values=tuple(rows), log=self._log, shift=self._shift,
            scale=self._scale, bins=BINS, month=t, months=self.months, acc=self._acc,
            sums=self._sums, mins=self._mins, maxs=self._maxs))

    def part(self) -> SummaryPart:
        """The block's ``SummaryPart`` (every month must have been added)."""
        bins, counts, bin_sums, bin_squares = (tuple(a) for a in zip(*self._filled))
        return SummaryPart(runs=self.runs, sums=self._sums, mins=self._mins, maxs=self._maxs,
                           bins=bins, counts=counts, bin_sums=bin_sums, bin_squares=bin_squares)


class TrajectorySummary:
    """Per-month quantiles and means of trajectory variables, merged block by block.

    Args:
        variables: Trajectory variable names (keys of ``TRAJECTORY_VARIABLES``).
        months: Months per trajectory.
        runs: Runs the job will add (sizes the exact store and decides the mode).
        exact: Force exact (``True``) or histogram (``False``) mode; default: by the budget.
    """

    def __init__(self, variables: list[str], months: int, runs: int, exact: bool | None = None):
        self.variables, self.months, self.runs = list(variables), months, int(runs)
        self.exact = use_exact(self.runs, months, len(self.variables)) if exact is None else bool(exact)
        shape = (len(self.variables), months)
        self.sums = np.zeros(shape)
        self.mins = np.full(shape, np.inf)
        self.maxs = np.full(shape, -np.inf)
        self.count = 0
        if self.exact:
            self.values = np.empty(shape + (self.runs,), dtype=np.float32)
        else:
            self.hist = np.zeros(shape + (BINS,), dtype=np.int64)
            self.hist_sums = np.zeros(shape + (BINS,))
            self.hist_squares = np.zeros(shape + (BINS,))
            self.edges = [_edges(TRAJECTORY_VARIABLES[v]) for v in self.variables]

    def add(self, traj: np.ndarray) -> None:
        """Merge one block's trajectories, shape (variables, months, runs)."""
        self.merge(summarise_block(traj, self.variables, self.exact))

    def merge(self, part: SummaryPart) -> None:
        """Merge one block's ``SummaryPart`` (blocks must be merged in run order)."""
        if self.count + part.runs > self.runs:
            raise ValueError(f"summary sized for {self.runs} runs, got {self.count + part.runs}")
        self.sums += part.sums
        np.minimum(self.mins, part.mins, out=self.mins)
        np.maximum(self.maxs, part.maxs, out=self.maxs)
        if self.exact:
            if part.values is None:
                raise ValueError("an exact summary needs exact parts (values)")
            self.values[:, :, self.count:self.count + part.runs] = part.values
        else:
            if part.bins is None:
                raise ValueError("a histogram summary needs histogram parts (bins)")
            hist, sums, squares = (a.reshape(-1) for a in (self.hist, self.hist_sums,
                                                           self.hist_squares))
            for month in zip(part.bins, part.counts, part.bin_sums, part.bin_squares):
                histogram_merge(*month, hist, sums, squares)
        self.count += part.runs

    def means(self) -> np.ndarray:
        """Array (variables, months) of means over the runs added so far."""
        return self.sums / max(self.count, 1)

    def quantiles(self) -> np.ndarray:
        """Array (variables, months, 5) of p05, p25, p50, p75, p95."""
        if self.count == 0:
            return np.full((len(self.variables), self.months, len(QUANTILES)), np.nan)
        if self.exact:
            return linear_quantiles(self.values[:, :, :self.count], QUANTILES)
        out = np.empty((len(self.variables), self.months, len(QUANTILES)))
        ranks = np.asarray(QUANTILES) * (self.count - 1)  # numpy's default (linear) rank
        for i in range(len(self.variables)):
            for t in range(self.months):
                out[i, t] = self._histogram_quantiles(i, t, ranks)
        return out

    def _histogram_quantiles(self, i: int, t: int, ranks: np.ndarray) -> np.ndarray:
        """Quantiles of variable ``i`` in month ``t`` from its histogram, by rank.

        The ``c`` runs of a bin occupy ranks ``r .. r + c - 1``; inside, their values are taken
        as evenly spread over the interval centred on the bin's mean whose spread matches the
        bin's variance (clamped to the bin and to the exact minimum and maximum). A bin holding
        one repeated value therefore returns it exactly. Between bins, values are interpolated
        linearly by rank, as ``numpy.quantile`` does between order statistics.
        """
        counts = self.hist[i, t]
        nz = np.flatnonzero(counts)
        c = counts[nz].astype(np.float64)
        mean = self.hist_sums[i, t, nz] / c
        var = np.maximum(self.hist_squares[i, t, nz] / c - mean * mean, 0.0)
        lo_all, hi_all = float(self.mins[i, t]), float(self.maxs[i, t])
        edges = self.edges[i]
        lo = np.where(nz == 0, lo_all, np.maximum(edges[nz], lo_all))
        hi = np.where(nz == BINS - 1, hi_all, np.minimum(edges[nz + 1], hi_all))
        half = np.minimum(np.sqrt(3.0 * var), np.minimum(mean - lo, hi - mean))
        # a spread below float32 resolution is rounding in the sum of squares: a repeated value
        half = np.where((c > 1) & (half > 1e-6 * np.abs(mean)), half, 0.0)
        first = np.cumsum(c) - c
        xp = np.column_stack((first, first + c - 1)).ravel()
        fp = np.column_stack((mean - half, mean + half)).ravel()
        fp = np.maximum.accumulate(np.clip(fp, lo_all, hi_all))
        return np.interp(ranks, xp, fp)

    def frame(self, dates) -> pd.DataFrame:
        """Long table: month, date, variable, p05..p95, mean."""
        q = self.quantiles()
        means = self.means()
        rows = []
        for i, var in enumerate(self.variables):
            df = pd.DataFrame(q[i], columns=QUANTILE_NAMES)
            df.insert(0, "variable", var)
            df.insert(0, "date", pd.to_datetime(dates))
            df.insert(0, "month", np.arange(self.months, dtype=np.int64))
            df["mean"] = means[i]
            rows.append(df)
        # deprecated names get the rows of the variable they stand for, for one release
        for alias, name in VARIABLE_ALIASES.items():
            if name in self.variables:
                rows.append(rows[self.variables.index(name)].assign(variable=alias))
        return pd.concat(rows, ignore_index=True)


#: Rows read at a time when summarising outcomes (a Parquet file is read batch by batch).
OUTCOME_CHUNK = 65_536
#: Bins of the counting pass that locates each order statistic of an outcome column.
OUTCOME_BINS = 65_536
#: Most values collected from one bin before it is split again instead.
OUTCOME_COLLECT_LIMIT = 1 << 18


#: Values of one column kept in memory between passes (32 MB): a column up to this size is read
#: from the file once, a larger one again on every pass, so memory stays bounded.
OUTCOME_CACHE_VALUES = 1 << 22


class _ColumnReader:
    """Reads one outcome column chunk by chunk, from a DataFrame or a Parquet file, any number of
    times, so that no pass holds more than ``OUTCOME_CHUNK`` values (plus, for a column of at
    most ``OUTCOME_CACHE_VALUES`` values, the column itself, kept after the first full pass)."""

    def __init__(self, source, name: str):
        self.source, self.name = source, name
        self._kept = None

    def chunks(self):
        """Yield the column's non-NaN values as read-only float64 arrays of at most ``OUTCOME_CHUNK``."""
        if self._kept is not None:
            yield from self._kept
            return
        kept, size = [], 0
        for part in self._read():
            part.flags.writeable = False
            if kept is not None:
                size += part.size
                if size <= OUTCOME_CACHE_VALUES:
                    kept.append(part)
                else:
                    kept = None
            yield part
        self._kept = kept

    def kept(self) -> list | None:
        """The column's chunks if a full pass has kept them in memory, else ``None``."""
        return self._kept

    def _read(self):
        for part in column_chunks(self.source, self.name):
            missing = np.isnan(part)
            yield part[~missing] if missing.any() else part


def column_chunks(source, name: str):
    """Yield one column of a table (a DataFrame or an open ``pyarrow.parquet.ParquetFile``) as
    float64 copies of exactly ``OUTCOME_CHUNK`` values (the last shorter), NaN included: the
    chunks of two tables with the same number of rows line up row for row."""
    if isinstance(source, pd.DataFrame):
        groups = (source[name].to_numpy(),)
    else:  # row group by row group (iter_batches would buffer the whole column)
        groups = (source.read_row_group(i, columns=[name]).column(0).to_numpy()
                  for i in range(source.num_row_groups))
    for part in _rechunk(groups, OUTCOME_CHUNK):
        yield np.array(part, dtype=np.float64)  # a copy: the source is never exposed


def _rechunk(arrays, size: int):
    """Yield the concatenation of ``arrays`` in pieces of exactly ``size`` (the last shorter), so
    sums come out the same however the source was split (row groups, one DataFrame column)."""
    pending, have = [], 0
    for a in arrays:
        while a.size:
            take = min(size - have, a.size)
            pending.append(a[:take])
            have, a = have + take, a[take:]
            if have == size:
                yield pending[0] if len(pending) == 1 else np.concatenate(pending)
                pending, have = [], 0
    if have:
        yield pending[0] if len(pending) == 1 else np.concatenate(pending)


def _order_statistics(reader: _ColumnReader, ranks: list[int], lo: float, hi: float, n: int) -> dict:
    """The values of rank ``r`` (0-based, ascending) of a column, exactly, in bounded memory.

    A counting pass over ``OUTCOME_BINS`` bins of ``[lo, hi]`` finds the bin of each rank; a
    second pass collects the distinct values (with counts) in those bins only. A bin too full
    to collect is split the same way, which ends because each split narrows it 65,536-fold.
    A column the reader already keeps in memory (``OUTCOME_CACHE_VALUES``) is partitioned
    instead (``numpy.partition``: the same values, without the passes).
    """
    kept = reader.kept()
    if kept is not None:  # the column is in memory already: select the ranks directly
        values = np.concatenate(kept) if kept else np.empty(0)
        wanted = sorted(set(ranks))
        values.partition(wanted)
        return {r: float(values[r]) for r in wanted}
    out: dict[int, float] = {}
    # (low, high, rank offset, count) of each value range still to search, with its ranks
    todo = [((lo, hi, 0), sorted(set(ranks)))]
    while todo:
        (a, b, offset), wanted = todo.pop()
        if a == b:
            out.update({r: a for r in wanted})
            continue
        width = (b - a) / OUTCOME_BINS
        counts = np.zeros(OUTCOME_BINS, dtype=np.int64)
        for x in reader.chunks():
            x = x[(x >= a) & (x <= b)]
            counts += np.bincount(_outcome_bins(x, a, width), minlength=OUTCOME_BINS)
        cum = np.cumsum(counts)
        by_bin: dict[int, list[int]] = {}
        for r in wanted:
            by_bin.setdefault(int(np.searchsorted(cum, r - offset, side="right")), []).append(r)
        collect = {}
        for k, rs in by_bin.items():
            start = offset + (int(cum[k - 1]) if k else 0)
            edge_lo = a + k * width
            edge_hi = b if k == OUTCOME_BINS - 1 else a + (k + 1) * width
            if counts[k] > OUTCOME_COLLECT_LIMIT and edge_hi > edge_lo and np.nextafter(edge_lo, np.inf) < edge_hi:
                todo.append(((edge_lo, edge_hi, start), rs))
            else:
                collect[k] = (start, rs)
        if not collect:
            continue
        values = {k: [] for k in collect}
        keys = np.fromiter(collect, dtype=np.int64)
        for x in reader.chunks():
            x = x[(x >= a) & (x <= b)]
            idx = _outcome_bins(x, a, width)
            for k in keys[np.isin(keys, idx)]:
                values[int(k)].append(np.unique(x[idx == k], return_counts=True))
        for k, (start, rs) in collect.items():
            v = np.concatenate([u for u, _ in values[k]])
            c = np.concatenate([c for _, c in values[k]])
            v, inverse = np.unique(v, return_inverse=True)
            c = np.bincount(inverse, weights=c).astype(np.int64)
            ends = start + np.cumsum(c)
            for r in rs:
                out[r] = float(v[np.searchsorted(ends, r, side="right")])
    return out


def _outcome_bins(x: np.ndarray, low: float, width: float) -> np.ndarray:
    """Counting-pass bin of each value of ``x`` (all within the searched range)."""
    idx = np.floor((x - low) / width) if width > 0 else np.zeros_like(x)
    return np.clip(idx, 0, OUTCOME_BINS - 1).astype(np.intp)


def column_statistics(reader: _ColumnReader, quantiles=(0.05, 0.5, 0.95)) -> dict:
    """n, mean, sd (population), min, max and quantiles (numpy's linear method) of a column's
    non-NaN values, in bounded memory: a few passes of ``OUTCOME_CHUNK`` values each."""
    n, total, lo, hi = 0, 0.0, np.inf, -np.inf
    for x in reader.chunks():
        if x.size:
            n += x.size
            total += float(np.sum(x))
            lo, hi = min(lo, float(x.min())), max(hi, float(x.max()))
    if n == 0:
        return {"n": 0}
    mean = total / n
    squares = 0.0
    for x in reader.chunks():  # numpy's sum, not a BLAS dot: its threads change the last bits
        d = x - mean
        squares += float(np.sum(d * d))
    stats = {"n": n, "mean": mean, "sd": float(np.sqrt(squares / n)), "min": lo, "max": hi}
    if quantiles:
        positions = [q * (n - 1) for q in quantiles]
        ranks = sorted({int(np.floor(h)) for h in positions} | {int(np.ceil(h)) for h in positions})
        at = _order_statistics(reader, ranks, lo, hi, n)
        for q, h in zip(quantiles, positions):
            below, above = at[int(np.floor(h))], at[int(np.ceil(h))]
            t, diff = h - np.floor(h), above - below  # numpy's lerp, to the last bit
            stats[q] = float(above - diff * (1 - t) if t >= 0.5 else below + diff * t)
    return stats


def column_tail_mean(reader: _ColumnReader, k: int, stats: dict | None = None) -> float:
    """Mean of the ``k`` largest non-NaN values of a column, in bounded memory (a few passes).

    ``stats``: the column's ``column_statistics`` if already computed (for its n, min, max).
    """
    stats = stats if stats is not None else column_statistics(reader, quantiles=())
    n = stats["n"]
    if not 1 <= k <= n:
        raise ValueError(f"k must be between 1 and the {n} values, got {k}")
    t = _order_statistics(reader, [n - k], stats["min"], stats["max"], n)[n - k]
    above, count = 0.0, 0
    for x in reader.chunks():
        big = x[x > t]
        above += float(np.sum(big))
        count += big.size
    return (above + (k - count) * t) / k


class PooledReader:
    """The chunks of several column readers one after the other (a column pooled across tables)."""

    def __init__(self, readers):
        self.readers = list(readers)

    def chunks(self):
        for reader in self.readers:
            yield from reader.chunks()

    def kept(self) -> None:
        """A pooled column is never kept in memory as one (its order statistics take passes)."""
        return None


def column_histogram(reader: _ColumnReader, edges: np.ndarray, transform=None) -> np.ndarray:
    """Counts of a column's non-NaN values (mapped by ``transform`` if given) in the bins
    ``edges`` (``numpy.histogram``'s), one chunk at a time."""
    counts = np.zeros(len(edges) - 1, dtype=np.int64)
    for x in reader.chunks():
        counts += np.histogram(x if transform is None else transform(x), bins=edges)[0]
    return counts


def column_is_integral(reader: _ColumnReader) -> bool:
    """Whether every non-NaN value of a column is (close to) a whole number."""
    return all(np.allclose(x, np.round(x)) for x in reader.chunks())


def outcome_reader(outcomes, name: str) -> _ColumnReader:
    """A chunked reader of one outcome column of a table or of the Parquet file at a path."""
    if isinstance(outcomes, pd.DataFrame):
        return _ColumnReader(outcomes, name)
    return _ColumnReader(pq.ParquetFile(os.fspath(outcomes)), name)


def _outcome_readers(outcomes):
    """Yield (name, reader) for each outcome column present (a Parquet file is opened once)."""
    if isinstance(outcomes, pd.DataFrame):
        source, present = outcomes, set(outcomes.columns)
    else:
        source = pq.ParquetFile(os.fspath(outcomes))
        present = set(source.schema_arrow.names)
    for name in OUTCOME_COLUMNS:
        if name in present:
            yield name, _ColumnReader(source, name)


def outcome_summary(outcomes) -> dict:
    """Per outcome column: mean, sd, p05, p50, p95; booleans as probabilities.

    Month columns (``months_to_*``) are summarised over the runs where the event happened, with
    ``n`` saying how many did. Quantiles are exact (numpy's linear method).

    Args:
        outcomes: The outcome table, or the path of its Parquet file. Either way columns are read
            in chunks of ``OUTCOME_CHUNK`` rows, a few passes each, so memory does not grow with
            the number of runs.
    """
    out = {}
    for name, reader in _outcome_readers(outcomes):
        kind, desc = OUTCOME_COLUMNS[name]
        if kind == "bool":
            st = column_statistics(reader, quantiles=())
            p = st.get("mean", float("nan"))
            out[name] = {"kind": "probability", "probability": p, "mean": p,
                         "sd": st.get("sd", float("nan")), "description": desc}
            continue
        st = column_statistics(reader)
        stats = {"kind": "month" if kind == "month" else "value", "description": desc, "n": st["n"]}
        if st["n"]:
            stats.update(mean=st["mean"], sd=st["sd"], p05=st[0.05], p50=st[0.5], p95=st[0.95])
        else:
            stats.update(mean=None, sd=None, p05=None, p50=None, p95=None)
        out[name] = stats
    return out
