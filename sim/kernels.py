"""Compiled inner loops (numba): the shared ones, and the scalar helpers of the actors' kernels.

The actors' mechanisms (``sim/agents.py``) run as compiled loops over the replicas of a block,
one loop per mechanism, written next to the method it serves: one pass over memory instead of a
dozen numpy temporaries. Each loop does per element exactly the IEEE operations, in the same
order, that the vectorised numpy expression did, so results are unchanged bit for bit
(fingerprinted against the numpy version, and the Poisson walk is pinned by a test against a
replica-by-replica reference). Transcendental functions (``exp``, ``expm1``, ``log``, ``**``)
stay in numpy, whose SIMD versions differ from the C library's in the last bits. A parameter
the scenario leaves the same in every run arrives as a number, not an array, and reads as ``p[i]``
all the same (``_index_a_number``): the loops then stream only the parameters that vary.

Kernels are compiled on first use and cached next to this file (or in numba's user-wide cache
when the package folder is read-only), so only the first run on a machine pays the compile time.
"""

from __future__ import annotations

import operator

import numpy as np
from numba import njit, types
from numba.extending import overload


#: How every compiled loop of the package is built. Cached on disk (``cache=True``), so a process
#: only loads it. ``error_model="numpy"``: a division by zero would give inf or NaN, as in numpy,
#: instead of raising ZeroDivisionError; without the check LLVM vectorises the loops that divide
#: (about 3x faster per replica, docs/performance.md). No loop divides by zero, and each one does
#: the same IEEE operations as before, so results are unchanged.
COMPILE = {"cache": True, "nogil": True, "error_model": "numpy"}


@overload(operator.getitem, inline="always")
def _index_a_number(x, i):
    """``x[i]`` of a float is ``x``: a kernel reads a parameter as ``p[i]`` whether it is an array
    over the replicas or one number for all of them (``sim.parameters.make_namespace``). Each
    kernel is compiled for the mix it is given (cached on disk like the rest)."""
    if isinstance(x, types.Float) and isinstance(i, types.Integer):
        return lambda x, i: x
    return None


def kernel(fn):
    """Compile ``fn`` as an actor's static ``_..._kernel``: a mechanism's loop over the replicas."""
    return staticmethod(njit(**COMPILE)(fn))


@njit(inline="always", **COMPILE)
def clip(x, low, high):  # pragma: no cover - compiled
    """``numpy.clip`` of one number."""
    return min(max(x, low), high)


@njit(inline="always", **COMPILE)
def relax(x, target, rate):  # pragma: no cover - compiled
    """Move ``x`` towards ``target`` by ``rate`` of the gap and keep it in 0..1."""
    return clip(x + rate * (target - x), 0.0, 1.0)


#: Values below which ``standard_normals`` calls numpy instead: handing a Generator to a compiled
#: loop costs ~12 µs (numba unboxes its bit generator), about what ~2,000 normals save.
COMPILED_NORMALS_FROM = 2048


def standard_normals(stream: np.random.Generator, out: np.ndarray) -> np.ndarray:
    """``stream.standard_normal(out=out)``, the same values, twice as fast for a block.

    ``out`` must be C-contiguous float64, as numpy requires. The values and the generator's state
    afterwards are numpy's, bit for bit (a test compares them): numba's
    ``Generator.standard_normal`` is a port of numpy's ziggurat, with numpy's tables, drawing from
    the same bit generator. Compiled, it takes ~6 ns a normal here against numpy's ~12 ns
    (docs/performance.md, round 10; why numpy's own loop is slower was not established).
    """
    if out.size < COMPILED_NORMALS_FROM or not out.flags.c_contiguous:
        return stream.standard_normal(out=out)
    _fill_standard_normals(stream, out.reshape(-1))
    return out


@njit(**COMPILE)
def _fill_standard_normals(stream, flat):  # pragma: no cover - compiled
    """numba's ``Generator.standard_normal``, value by value into ``flat`` (numpy's order)."""
    for i in range(flat.size):
        flat[i] = stream.standard_normal()


#: CDF terms every replica sums without branching before the walk goes on where it must: the
#: counts of the model are mostly 0-4, and a branch-free first pass avoids one mispredicted exit
#: per replica (measured fastest among 2..8 in docs/performance.md).
POISSON_PREFIX = 5


@njit(**COMPILE)
def poisson_minus_rates(lam):  # pragma: no cover - compiled
    """Minus the rates floored at 0 (``exp`` of which starts the CDF walk)."""
    minus = np.empty(lam.size)
    for i in range(lam.size):
        minus[i] = -max(lam[i], 0.0)
    return minus


@njit(**COMPILE)
def poisson_search(u, lam, term, above, out):  # pragma: no cover - compiled
    """Write the Poisson count of each replica into ``out`` by walking its CDF.

    ``term`` holds ``exp(-max(lam, 0))``. The count is the number of CDF partial sums the
    uniform ``u`` exceeds; a term that underflows to 0 ends the walk. Rates above ``above`` are
    not walked (count 0 here); returns whether there were any, for the caller's normal
    approximation.

    Two passes, the same partial sums: the first sums ``POISSON_PREFIX`` terms in every replica
    without a branch (the sums only grow, so counting the ones below ``u`` equals walking until
    the first one above it), and marks with ``POISSON_PREFIX`` the replicas it leaves to the
    second: those whose sums were all below ``u``, and those above ``above``. The second walks
    on, term by term, only where marked (recomputing the first terms, which gives the same
    sums), and is skipped when nothing is marked (most of the deaths' draws).
    """
    marked = False
    for i in range(u.size):
        ui, li = u[i], max(lam[i], 0.0)
        t = term[i]
        c = t
        k = 1.0 if ui > c else 0.0
        for j in range(1, POISSON_PREFIX):
            t *= li / j
            c += t
            k += 1.0 if ui > c and t > 0.0 else 0.0
        k = POISSON_PREFIX if li > above else k
        out[i] = k
        marked |= k == POISSON_PREFIX
    big = False
    if not marked:
        return big
    for i in range(u.size):
        if out[i] != POISSON_PREFIX:
            continue
        ui, li = u[i], max(lam[i], 0.0)
        if li > above:
            big = True
            out[i] = 0.0
            continue
        t = term[i]
        c = t
        j = 0.0
        while True:
            j += 1.0
            t *= li / j
            c += t
            if j >= POISSON_PREFIX:
                if ui > c and t > 0.0:
                    out[i] += 1.0
                else:
                    break
    return big


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
    for i in range(variables):
        base = i * bins
        shift_i, scale_i, log_i = shift[i], scale[i], log[i]
        month_sum = 0.0
        low = np.float32(np.inf)
        high = np.float32(-np.inf)
        nan = False
        row = values[i]
        for r in range(runs):
            x = np.float32(row[r])
            s = (coords[i, r] - shift_i) * scale_i if log_i else x * scale_i - shift_i
            # unsigned: numba checks a signed index for wrapping around (5 instructions of
            # ~26 a value here, ~9% of the binning; docs/performance.md, round 12)
            b = np.uint64(base + _bin(s, zero, top))
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
        # A linear variable's bins lie between its minimum's and its maximum's (the map is
        # monotone and computed as in the loop); a log variable's coordinates come from numpy's
        # log, so its whole row is scanned, as is a row with a NaN (binned at 0).
        if log_i or nan:
            first[i], last[i] = base, base + bins - 1
        else:
            b_low = _bin(low * scale_i - shift_i, zero, top)
            b_high = _bin(high * scale_i - shift_i, zero, top)
            first[i], last[i] = base + min(b_low, b_high), base + max(b_low, b_high)
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
