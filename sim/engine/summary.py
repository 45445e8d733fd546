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

The outcome table (one row per run) is summarised by ``sim.engine.columns``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from sim._arrow import arrow_table, repeated_text
from sim.engine.binning import histogram_merge, histogram_month
from sim.engine.quantiles import linear_quantiles
from sim.model.outcomes import TRAJECTORY_VARIABLES, VARIABLE_ALIASES

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
        if self.exact:  # every run's values, allocated by the first merge (``merge``)
            self.values: np.ndarray | None = None
        else:
            self.hist = np.zeros(shape + (BINS,), dtype=np.int64)
            self.hist_sums = np.zeros(shape + (BINS,))
            self.hist_squares = np.zeros(shape + (BINS,))
            self.edges = [_edges(TRAJECTORY_VARIABLES[v]) for v in self.variables]

    def add(self, traj: np.ndarray) -> None:
        """Merge one block's trajectories, shape (variables, months, runs) (copied: the caller
        keeps its array)."""
        self.merge(summarise_block(traj.copy() if self.exact else traj, self.variables, self.exact))

    def merge(self, part: SummaryPart) -> None:
        """Merge one block's ``SummaryPart`` (blocks must be merged in run order). The summary
        may keep the part's ``values`` array itself: the part is handed over (``quantiles`` sorts
        that store in place)."""
        if self.count + part.runs > self.runs:
            raise ValueError(f"summary sized for {self.runs} runs, got {self.count + part.runs}")
        self.sums += part.sums
        np.minimum(self.mins, part.mins, out=self.mins)
        np.maximum(self.maxs, part.maxs, out=self.maxs)
        if self.exact:
            if part.values is None:
                raise ValueError("an exact summary needs exact parts (values)")
            self._keep_values(part.values)
        else:
            if part.bins is None:
                raise ValueError("a histogram summary needs histogram parts (bins)")
            hist, sums, squares = (a.reshape(-1) for a in (self.hist, self.hist_sums,
                                                           self.hist_squares))
            for month in zip(part.bins, part.counts, part.bin_sums, part.bin_squares):
                histogram_merge(*month, hist, sums, squares)
        self.count += part.runs

    def _keep_values(self, values: np.ndarray) -> None:
        """Put a part's values after those merged so far. A part that holds every run of the job
        (one block: the command line's usual job) is kept as it is, not copied: a copy of ~30 MB
        into fresh memory, most of it the kernel zeroing pages, took ~0.1 s of a 10,000-run job."""
        whole = (len(self.variables), self.months, self.runs)
        if (self.values is None and values.shape == whole and values.dtype == np.float32
                and values.flags.c_contiguous):
            self.values = values
            return
        if self.values is None:
            self.values = np.empty(whole, dtype=np.float32)
        self.values[:, :, self.count:self.count + values.shape[2]] = values

    def means(self) -> np.ndarray:
        """Array (variables, months) of means over the runs added so far."""
        return self.sums / max(self.count, 1)

    def quantiles(self) -> np.ndarray:
        """Array (variables, months, 5) of p05, p25, p50, p75, p95."""
        if self.count == 0:
            return np.full((len(self.variables), self.months, len(QUANTILES)), np.nan)
        if self.exact:
            # sorted where they are: the store holds each variable and month's values as a set
            # (means come from ``sums``), and a sorted copy of a 10,000-run job is ~50 MB of
            # fresh memory, most of the ~0.15 s the first bands took
            return linear_quantiles(self.values[:, :, :self.count], QUANTILES, in_place=True)
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

    def bands(self, dates) -> dict[str, dict[str, np.ndarray]]:
        """Per variable: its ``month``, ``date`` (``dates``, as ``datetime64[s]``), ``p05`` ..
        ``p95`` and ``mean``, one value a month. Deprecated names share the arrays of the
        variable they stand for, for one release."""
        q = self.quantiles()
        means = self.means()
        month = np.arange(self.months, dtype=np.int64)
        date = np.array(dates, dtype="datetime64[s]")
        out = {}
        for i, var in enumerate(self.variables):
            out[var] = {"month": month, "date": date,
                        **{name: q[i, :, j] for j, name in enumerate(QUANTILE_NAMES)}, "mean": means[i]}
        for alias, name in VARIABLE_ALIASES.items():
            if name in out:
                out[alias] = out[name]
        return out


def bands_table(bands: dict[str, dict[str, np.ndarray]]) -> pa.Table:
    """The long quantile table (``quantiles.parquet``, ``Results.quantiles``) of
    ``TrajectorySummary.bands``: month, date (to the millisecond, as Parquet keeps it),
    variable, p05..p95, mean; a variable's rows together, in the order of ``bands``. Made
    without pandas (``sim._arrow``): ``iraqsim run`` writes it while its figures are drawn."""
    tables = []
    for var, band in bands.items():
        n = len(band["month"])
        tables.append(arrow_table({
            "month": np.asarray(band["month"], dtype=np.int64),
            "date": np.asarray(band["date"], dtype="datetime64[ms]"),
            "variable": repeated_text(var, n),
            **{name: np.asarray(band[name], dtype=np.float64) for name in (*QUANTILE_NAMES, "mean")}}))
    return pa.concat_tables(tables).combine_chunks()
