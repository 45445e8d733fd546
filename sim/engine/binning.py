"""Compiled loops of the histogram summary: binning a month's values, merging blocks' histograms.

Used by ``sim.engine.summary.MonthlyHistograms`` for jobs too large for exact quantiles. Built
like the model's kernels (``sim.model.kernels.COMPILE``): cached on disk, loaded by each process.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.model.kernels import COMPILE


@njit(inline="always", **COMPILE)
def _bin(s, zero, top):  # pragma: no cover - compiled
    """The bin of the float32 coordinate ``s``: its whole part, clipped to ``zero`` (float32 0)
    and ``top`` (the last bin, float32); a NaN goes to bin 0."""
    if not s >= zero:
        s = zero
    if s > top:
        s = top
    return int(s)


@njit(**COMPILE)
def histogram_month(coords, values, log, shift, scale, bins, month, months, acc, sums, mins,
                    maxs):  # pragma: no cover - compiled
    """Bin one month's values of every variable into its histogram, and sum them, in one pass.

    Args:
        coords: (variables, runs) float32: the logs of the values, for log-spaced variables
            (other rows are not read); ``runs`` is the number of runs binned.
        values: A tuple of one array per variable (same dtype, at least ``runs`` long), read as
            float32: the model's own arrays, not a float32 copy of them.
        log: (variables,) whether a variable's bins are log-spaced. A value's bin coordinate
            (0..bins) is ``(log - shift) * scale`` for log bins and ``value * scale - shift``
            otherwise, in float32; clipped to the first and last bin (a NaN goes to bin 0).
        shift, scale: (variables,) float32 constants of that map.
        bins: Bins per variable and month.
        month, months: This month and the number of months (for the flat bin index).
        acc: (variables * bins, 3) float64 scratch (count, sum, sum of squares per bin: one
            cache line per update), all zero on entry and left zero on return.
        sums, mins, maxs: (variables, months) outputs; column ``month`` is written: the sum over
            the runs (float64, in run order) and the smallest and largest value (NaN if any
            value is NaN).

    Returns:
        The non-empty bins (flat index ``(variable * months + month) * bins + bin``, ascending
        by variable and bin) and their runs (both int32, a quarter less to ship from a worker
        than int64), sum and sum of squares of the values (float64, summed in run order).
    """
    variables, runs = coords.shape
    top = np.float32(bins - 1)
    zero = np.float32(0)
    first = np.empty(variables, np.int64)  # each variable's lowest and highest bin touched
    last = np.empty(variables, np.int64)
    # Two passes a variable: the bins first (loops without stores to the histogram, which LLVM
    # vectorises), then the histogram and the sums (in run order). ~15% faster than one pass;
    # the lowest and highest bin touched bound the scan that collects the non-empty bins.
    bin_of_run = np.empty(runs, np.int32)
    for i in range(variables):
        base = i * bins
        shift_i, scale_i, log_i = shift[i], scale[i], log[i]
        row = values[i]
        if log_i:
            logs = coords[i]
            for r in range(runs):
                bin_of_run[r] = _bin((logs[r] - shift_i) * scale_i, zero, top)
        else:
            for r in range(runs):
                bin_of_run[r] = _bin(np.float32(row[r]) * scale_i - shift_i, zero, top)
        lowest, highest = bins, -1  # the bins touched lie between these
        for r in range(runs):
            lowest = min(lowest, bin_of_run[r])
            highest = max(highest, bin_of_run[r])
        first[i], last[i] = base + lowest, base + highest
        month_sum = 0.0
        low = np.float32(np.inf)
        high = np.float32(-np.inf)
        nan = False
        for r in range(runs):
            x = np.float32(row[r])
            # unsigned: numba guards a signed index against wrapping around; not this one
            b = np.uint64(base + bin_of_run[r])
            v = np.float64(x)
            acc[b, 0] += 1.0
            acc[b, 1] += v
            acc[b, 2] += v * v
            month_sum += v
            low = min(low, x)
            high = max(high, x)
            nan |= x != x
        sums[i, month] = month_sum
        mins[i, month] = np.float32(np.nan) if nan else low
        maxs[i, month] = np.float32(np.nan) if nan else high
    filled = 0
    for i in range(variables):
        for b in range(first[i], last[i] + 1):
            if acc[b, 0]:
                filled += 1
    index = np.empty(filled, dtype=np.int32)  # int32: a part crosses process boundaries
    count = np.empty(filled, dtype=np.int32)
    total = np.empty(filled)
    square = np.empty(filled)
    k = 0
    for i in range(variables):
        for b in range(first[i], last[i] + 1):
            if acc[b, 0]:
                index[k] = (i * months + month) * bins + b - i * bins
                count[k], total[k], square[k] = int(acc[b, 0]), acc[b, 1], acc[b, 2]
                acc[b, 0], acc[b, 1], acc[b, 2] = 0.0, 0.0, 0.0
                k += 1
    return index, count, total, square


@njit(**COMPILE)
def histogram_merge(bins, counts, sums, squares, hist, hist_sums, hist_squares):  # pragma: no cover - compiled
    """Add a block's non-empty bins (flat indices ``bins``, each once) into the job's histograms."""
    for k in range(bins.size):
        b = np.uint64(bins[k])  # unsigned: no check for a negative index (as above)
        hist[b] += counts[k]
        hist_sums[b] += sums[k]
        hist_squares[b] += squares[k]
