"""Quantiles along the last axis as ``numpy.quantile`` computes them, from one sort.

Used by ``sim.engine.summary.TrajectorySummary`` for its exact bands.
"""

from __future__ import annotations

import numpy as np


def linear_quantiles(values: np.ndarray, quantiles, in_place: bool = False) -> np.ndarray:
    """The quantiles of ``values`` along its last axis, shape ``values.shape[:-1] + (q,)``: the
    numbers ``numpy.quantile`` gives with its default (linear) method, bit for bit (tested).

    ``numpy.quantile`` partitions along a moved axis, which for (variables, months, runs) costs
    four times a sort along the runs: here the order statistics come from ``numpy.sort`` and are
    interpolated as ``numpy.quantile`` does (index ``(n - 1) q``; from the upper neighbour when
    the weight is at least one half). A slice holding a NaN gives NaN, as there.

    ``in_place``: sort ``values`` itself instead of a copy (each slice's values are reordered).
    """
    if in_place:
        values.sort(axis=-1)
        ordered = values
    else:
        ordered = np.sort(values, axis=-1)
    n = ordered.shape[-1]
    q = np.asarray(quantiles, dtype=np.float64)
    virtual = (n - 1) * q
    below = np.floor(virtual)
    above = below + 1
    at_end = virtual >= n - 1
    below[at_end], above[at_end] = -1, -1
    weight = virtual - below
    low, high = ordered[..., below.astype(np.intp)], ordered[..., above.astype(np.intp)]
    step = high - low
    out = np.add(low, step * weight)
    np.subtract(high, step * (1 - weight), out=out, where=weight >= 0.5, casting="unsafe")
    nan = np.isnan(ordered[..., -1:]) if np.issubdtype(ordered.dtype, np.inexact) else False
    return np.where(nan, np.nan, out) if np.any(nan) else out
