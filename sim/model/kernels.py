"""Compiled inner loops (numba): the shared ones, and the scalar helpers of the actors' kernels.

The actors' mechanisms (``sim/model/actors/``) run as compiled loops over the replicas of a
block, one loop per mechanism, written next to the method it serves: one pass over memory
instead of a dozen numpy temporaries. Each loop does per element exactly the IEEE operations,
in the same order, that the vectorised numpy expression would, so the two agree bit for bit
(tests pin the Poisson walk against a numpy reference; the random draws themselves are in
``sim.model.draws``). Transcendental functions (``exp``, ``expm1``, ``log``, ``**``) stay in
numpy, whose SIMD versions (on CPUs with AVX-512) differ from the C library's in the last bits.
One exception: the Poisson walk's ``exp``, the C library's, whose value only decides which side
of a uniform a CDF sum falls on (a last-bit difference changes a count about once in 10^15
draws). A parameter the scenario leaves the same in every run arrives as a number, not an
array, and reads as ``p[i]`` all the same (``_index_a_number``): the loops then stream only the
parameters that vary.

Where a loop's decision depends on the draws (a uniform under a chance, attacks above a
threshold), it is written with selects (``a if c else b``) and ``&``/``|`` rather than ``if``
blocks and ``and``/``or``: a branch the CPU cannot predict costs more than computing both sides,
and without branches LLVM vectorises the loop. The values are the same either way.

Kernels are compiled on first use and cached next to this file (or in numba's user-wide cache
when the package folder is read-only), so only the first run on a machine pays the compile time.
"""

from __future__ import annotations

import math
import operator

import numpy as np
from numba import njit, types
from numba.extending import overload

from sim.model.special import ndtri

#: How every compiled loop of the package is built. Cached on disk (``cache=True``), so a process
#: only loads it. ``error_model="numpy"``: a division by zero would give inf or NaN, as in numpy,
#: instead of raising ZeroDivisionError; without the check LLVM can vectorise the loops that
#: divide. No loop divides by zero, so results are the same either way.
COMPILE = {"cache": True, "nogil": True, "error_model": "numpy"}


@overload(operator.getitem, inline="always")
def _index_a_number(x, i):
    """``x[i]`` of a float is ``x``: a kernel reads a parameter as ``p[i]`` whether it is an array
    over the replicas or one number for all of them (``sim.model.parameters.make_namespace``). Each
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


#: CDF terms every replica sums without branching before the walk goes on where it must: the
#: counts of the model are mostly 0-4, and a branch-free first pass avoids one mispredicted exit
#: per replica.
POISSON_PREFIX = 5


#: Below this rate a replica whose uniform lies under a lower bound of ``exp(-rate)`` has a count
#: of 0 without computing the exponential (see ``poisson_search``).
POISSON_BOUND_BELOW = 1.0
#: Margin under that bound: far above its rounding error (< 1e-15) and the exponential's (< 2^-52).
POISSON_BOUND_MARGIN = 1e-12


@njit(**COMPILE)
def poisson_search(u, lam, above, out):  # pragma: no cover - compiled
    """Write the Poisson count of each replica into ``out`` by walking its CDF.

    The walk starts at ``exp(-max(lam, 0))``. The count is the number of CDF partial sums the
    uniform ``u`` exceeds; a term that underflows to 0 ends the walk. Rates above ``above`` are
    not walked (count 0 here); returns whether there were any, for the caller's normal
    approximation.

    Three passes, the same partial sums:

    1. **Zeros without the exponential.** For a rate ``x`` up to ``POISSON_BOUND_BELOW``,
       ``1 - x + x^2/2 - x^3/6`` is below ``exp(-x)`` (Taylor's remainder is positive), so a
       uniform under it, less ``POISSON_BOUND_MARGIN``, is under the first CDF term as computed:
       the count is 0. Most months of most groups have no attack, so this settles most replicas
       (``test_fast_poisson_zeros_without_the_exponential_are_exact_at_the_edge`` puts
       uniforms just under and over the exponential). The test is computed without branches
       (about half its outcomes differ from the last one's, so a branch was mispredicted half
       the time: three times slower) and the others' indices are gathered for the next pass:
       a loop that skipped them in place would compute the exponential anyway (LLVM evaluates
       both sides of the branch).
    2. ``POISSON_PREFIX`` terms in every gathered replica without a branch (the sums only grow,
       so counting the ones below ``u`` equals walking until the first one above it); replicas
       whose sums were all below ``u``, and those above ``above``, are marked with
       ``POISSON_PREFIX`` and gathered again.
    3. The walk goes on, term by term, in those replicas only (recomputing the first terms,
       which gives the same sums; keeping them saved too little to be worth it).
    """
    n = u.size
    walk = np.empty(n, np.uint8)
    for i in range(n):  # flags without a branch (``&``, not ``and``): LLVM vectorises the loop
        x = max(lam[i], 0.0)
        settled = (x <= POISSON_BOUND_BELOW) & (u[i] < (
            1.0 - x * (1.0 - x * (0.5 - x * (1.0 / 6.0))) - POISSON_BOUND_MARGIN))
        walk[i] = not settled
        out[i] = 0.0
    rest = np.empty(n, np.int32)
    n_rest = 0
    for i in range(n):  # a branch-free gather of the runs to walk
        rest[n_rest] = i
        n_rest += walk[i]
    n_long = 0
    for r in range(n_rest):
        i = rest[r]
        ui, li = u[i], max(lam[i], 0.0)
        t = math.exp(-li)
        c = t
        k = 1.0 if ui > c else 0.0
        for j in range(1, POISSON_PREFIX):
            t *= li / j
            c += t
            k += 1.0 if (ui > c) & (t > 0.0) else 0.0
        k = POISSON_PREFIX if li > above else k
        out[i] = k
        rest[n_long] = i  # the runs whose walk goes on, gathered in place (n_long <= r)
        n_long += 1 if k == POISSON_PREFIX else 0
    big = False
    for r in range(n_long):
        i = rest[r]
        ui, li = u[i], max(lam[i], 0.0)
        if li > above:
            big = True
            out[i] = 0.0
            continue
        t = math.exp(-li)
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


#: Rate above which a Poisson count is drawn by its normal approximation (error far below the
#: model's uncertainty; keeps the inversion loop short).
POISSON_NORMAL_ABOVE = 30.0


def poisson_from_uniform(u: np.ndarray, lam: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Poisson counts with means ``lam``, by inverting the CDF at the uniforms ``u``.

    ``Generator.poisson`` consumes a varying amount of randomness depending on the rate, so a
    change of rate in one replica would shift every later draw of the block and break common
    random numbers. Inversion uses exactly one uniform per count: the count is monotone in the
    rate for a given uniform, so scenarios compare run by run. Written into ``out`` if given.
    """
    k = np.empty(lam.size) if out is None else out
    if poisson_search(u, lam, POISSON_NORMAL_ABOVE, k):  # compiled CDF walk per replica
        big = np.flatnonzero(lam > POISSON_NORMAL_ABOVE)
        rate = lam[big]
        approx = np.floor(rate + np.sqrt(rate) * ndtri(np.clip(u[big], 1e-12, 1 - 1e-12)) + 0.5)
        k[big] = np.maximum(approx, 0.0)
    return k
