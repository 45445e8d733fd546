"""The Beta quantile by table: interpolants that match Boost's inverse to a few ulps, fast.

``beta_ppf(u, a, b)`` is what ``sim.scenario.distributions.Beta`` samples with. A value depends
only on ``u``, ``a`` and ``b``, so runs stay reproducible wherever they are computed; tests
compare it with Boost and with ``scipy.stats`` and check the inversion of the CDF.
"""

from __future__ import annotations

import functools

import numpy as np

from sim.model.special import betaincinv, betaln

#: The Beta quantile by table (``beta_ppf``): equal intervals of u, and how near Boost's
#: quantile (in its units in the last place) an interval's interpolant must come at five points
#: inside it for the table to be used there.
BETA_TABLE_INTERVALS = 1024
BETA_TABLE_ULPS = 8


def beta_boost(u, a, b):
    """The Beta(a, b) quantile of ``u`` in [0, 1] by ``scipy.special.betaincinv`` (Boost's).

    ``scipy.stats.beta.ppf`` wraps the same Boost routine in another ufunc (other settings).
    Wherever it is accurate it gives the same values (within a few units in the last place
    across SciPy releases), but it is not always accurate: for Beta(0.5, 2) far in the lower
    tail its values miss the CDF badly. A test compares the two and checks the inversion.

    Where its root finding gives up (u below ~1e-290, which no sampler here produces), the value
    comes from the ufunc behind ``scipy.stats``. Neither call imports ``scipy.stats`` (slow to
    import) unless a SciPy version lacks that ufunc.
    """
    u = np.asarray(u, dtype=np.float64)
    q = betaincinv(float(a), float(b), u)
    lost = np.isnan(q) & ~np.isnan(u)
    if lost.any():
        try:
            from scipy.special._ufuncs import _beta_ppf as quantile
        except ImportError:  # pragma: no cover - depends on the SciPy version
            from scipy.stats import beta
            quantile = beta.ppf
        q[lost] = quantile(u[lost], float(a), float(b))
    return q


def beta_horner(coefficients, j, t):
    """The interpolant of interval ``j`` at ``t`` in [0, 1]: its value at 0 plus a quintic in t
    (the rounding falls on the small increment, not on the quantile)."""
    c = coefficients[j]
    rise = c[:, 5] * t
    for k in (4, 3, 2, 1):
        rise += c[:, k]
        rise *= t
    return c[:, 0] + rise


@functools.lru_cache(maxsize=64)
def beta_table(a: float, b: float) -> tuple[np.ndarray, np.ndarray]:
    """Per interval of u: the coefficients of the quintic matching Boost's quantile and its exact
    first and second derivatives at both ends, and whether it is used (``beta_ppf``).

    Built once per process and (a, b) (Boost's quantile at 6,145 points). The derivatives
    of the quantile q(u) follow from the density f: q' = 1/f(q), q'' = -q'^2 f'(q)/f(q). Where
    they are not finite (the ends, for most shapes) the interval is not used.
    """
    n = BETA_TABLE_INTERVALS
    q = beta_boost(np.arange(n + 1) / n, a, b)
    with np.errstate(all="ignore"):
        slope = np.exp(betaln(a, b) - (a - 1) * np.log(q) - (b - 1) * np.log1p(-q)) / n
        bend = -slope * slope * ((a - 1) / q - (b - 1) / (1 - q))
        y0, y1, d0, d1, s0, s1 = q[:-1], q[1:], slope[:-1], slope[1:], bend[:-1], bend[1:]
        rise = y1 - y0
        coefficients = np.column_stack([
            y0, d0, s0 / 2,
            10 * rise - 6 * d0 - 4 * d1 - (3 * s0 - s1) / 2,
            -15 * rise + 8 * d0 + 7 * d1 + (3 * s0 - 2 * s1) / 2,
            6 * rise - 3 * (d0 + d1) - (s0 - s1) / 2])
        used = np.isfinite(coefficients).all(axis=1)
        intervals = np.arange(n)
        for t in (0.125, 0.25, 0.5, 0.75, 0.875):
            want = beta_boost((intervals + t) / n, a, b)
            got = beta_horner(coefficients, intervals, np.full(n, t))
            used &= np.abs(got - want) <= BETA_TABLE_ULPS * np.spacing(want)
    coefficients[~used] = 0.0
    return coefficients, used


def beta_ppf(u, a, b):
    """The Beta(a, b) quantile of ``u`` in [0, 1], within a few units in the last place of Boost's.

    Boost's inverse (``beta_boost``) is slow for the millions of draws a job makes. Here ``u``
    falls in one of ``BETA_TABLE_INTERVALS`` equal intervals, and its quantile is that
    interval's quintic interpolant (``beta_table``), a few multiplications. An interval whose
    interpolant strays more than ``BETA_TABLE_ULPS`` from Boost's quantile at five points inside
    it (the steep tails), or whose derivatives are not finite (the ends), uses Boost's. A value
    depends only on ``u``, ``a`` and ``b``, so runs stay reproducible wherever they are computed.
    Tests compare with Boost and with ``scipy.stats`` and check the inversion of the CDF.
    """
    u = np.asarray(u, dtype=np.float64)
    flat = u.reshape(-1)
    coefficients, used = beta_table(float(a), float(b))
    n = BETA_TABLE_INTERVALS
    scaled = flat * n  # exact: n is a power of two
    j = np.clip(np.nan_to_num(scaled, nan=0.0), 0, n - 1).astype(np.intp)
    q = beta_horner(coefficients, j, scaled - j)
    boost = ~used[j] | np.isnan(flat)
    if boost.any():
        q[boost] = beta_boost(flat[boost], a, b)
    return q.reshape(u.shape)

