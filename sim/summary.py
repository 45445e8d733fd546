"""Mergeable summaries of trajectories across blocks, and the outcome summary.

``TrajectorySummary`` keeps, per variable and month, either every replica's value (exact
quantiles, while the job fits in ``EXACT_LIMIT`` values) or a fixed-bin histogram that merges
block by block in constant memory (quantiles interpolated inside a bin: bins are fine enough that
the error is far below the Monte Carlo noise). Means are exact in both modes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .outcomes import OUTCOME_COLUMNS, TRAJECTORY_VARIABLES

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
QUANTILE_NAMES = ("p05", "p25", "p50", "p75", "p95")
#: Largest number of stored values (runs x months x variables) for exact quantiles (~160 MB).
EXACT_LIMIT = 40_000_000
#: Histogram bins per variable and month beyond the exact limit.
BINS = 2048


def _edges(var) -> np.ndarray:
    if var.log:
        return np.geomspace(var.low, var.high, BINS + 1)
    return np.linspace(var.low, var.high, BINS + 1)


class TrajectorySummary:
    """Per-month quantiles and means of trajectory variables, merged block by block."""

    def __init__(self, variables: list[str], months: int, runs: int):
        self.variables, self.months = list(variables), months
        self.exact = runs * months * len(variables) <= EXACT_LIMIT
        self.sums = np.zeros((len(variables), months))
        self.count = 0
        if self.exact:
            self.parts: list[np.ndarray] = []
        else:
            self.edges = [_edges(TRAJECTORY_VARIABLES[v]) for v in variables]
            self.hist = np.zeros((len(variables), months, BINS), dtype=np.int64)

    def add(self, traj: np.ndarray) -> None:
        """Merge one block's trajectories, shape (variables, months, runs)."""
        self.sums += traj.sum(axis=2, dtype=np.float64)
        self.count += traj.shape[2]
        if self.exact:
            self.parts.append(traj)
            return
        for i, edges in enumerate(self.edges):
            idx = np.clip(np.searchsorted(edges, traj[i], side="right") - 1, 0, BINS - 1)
            offs = idx + (np.arange(self.months) * BINS)[:, None]
            self.hist[i] += np.bincount(offs.ravel(), minlength=self.months * BINS).reshape(self.months, BINS)

    def quantiles(self) -> np.ndarray:
        """Array (variables, months, 5) of p05, p25, p50, p75, p95."""
        if self.exact:
            data = np.concatenate(self.parts, axis=2)
            return np.moveaxis(np.quantile(data, QUANTILES, axis=2), 0, -1)
        out = np.empty((len(self.variables), self.months, len(QUANTILES)))
        for i, edges in enumerate(self.edges):
            cdf = np.cumsum(self.hist[i], axis=1) / np.maximum(self.count, 1)
            for j, q in enumerate(QUANTILES):
                k = np.array([np.searchsorted(row, q, side="left") for row in cdf])
                k = np.minimum(k, BINS - 1)
                before = np.where(k > 0, cdf[np.arange(self.months), k - 1], 0.0)
                inside = self.hist[i][np.arange(self.months), k] / max(self.count, 1)
                frac = np.where(inside > 0, (q - before) / np.maximum(inside, 1e-300), 0.0)
                out[i, :, j] = edges[k] + np.clip(frac, 0, 1) * (edges[k + 1] - edges[k])
        return out

    def frame(self, dates) -> pd.DataFrame:
        """Long table: month, date, variable, p05..p95, mean."""
        q = self.quantiles()
        means = self.sums / max(self.count, 1)
        rows = []
        for i, var in enumerate(self.variables):
            df = pd.DataFrame(q[i], columns=QUANTILE_NAMES)
            df.insert(0, "variable", var)
            df.insert(0, "date", pd.to_datetime(dates))
            df.insert(0, "month", np.arange(self.months, dtype=np.int64))
            df["mean"] = means[i]
            rows.append(df)
        return pd.concat(rows, ignore_index=True)


def outcome_summary(outcomes: pd.DataFrame) -> dict:
    """Per outcome column: mean, sd, p05, p50, p95; booleans as probabilities.

    Month columns (``months_to_*``) are summarised over the runs where the event happened, with
    ``n`` saying how many did.
    """
    out = {}
    for name, (kind, desc) in OUTCOME_COLUMNS.items():
        if name not in outcomes:
            continue
        col = outcomes[name].to_numpy()
        if kind == "bool":
            p = float(np.mean(col)) if col.size else float("nan")
            out[name] = {"kind": "probability", "probability": p, "mean": p,
                         "sd": float(np.std(col)) if col.size else float("nan"),
                         "description": desc}
            continue
        vals = col.astype(float)
        happened = vals[~np.isnan(vals)]
        stats = {"kind": "month" if kind == "month" else "value", "description": desc,
                 "n": int(happened.size)}
        if happened.size:
            p05, p50, p95 = np.quantile(happened, [0.05, 0.5, 0.95])
            stats.update(mean=float(happened.mean()), sd=float(happened.std()),
                         p05=float(p05), p50=float(p50), p95=float(p95))
        else:
            stats.update(mean=None, sd=None, p05=None, p50=None, p95=None)
        out[name] = stats
    return out
