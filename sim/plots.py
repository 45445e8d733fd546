"""Plots of outcome distributions and trajectory fan charts (matplotlib, Agg backend)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from .outcomes import OUTCOME_COLUMNS, TRAJECTORY_VARIABLES  # noqa: E402

FAN_VARIABLES = ["us_troops", "isis_strength", "isf_capability", "militia_attacks",
                 "withdrawal_pressure", "iran_influence", "cooperation", "us_will"]


def plot_outcomes(results, path):
    """Grid of outcome distributions: histograms for numbers, bars for probabilities."""
    df = results.outcomes
    numeric = [c for c, (k, _) in OUTCOME_COLUMNS.items() if k != "bool" and c in df]
    booleans = [c for c, (k, _) in OUTCOME_COLUMNS.items() if k == "bool" and c in df]
    cols = 4
    rows = int(np.ceil((len(numeric) + 1) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 3 * rows), constrained_layout=True)
    axes = axes.ravel()
    for ax, name in zip(axes, numeric):
        vals = df[name].to_numpy(dtype=float)
        vals = vals[np.isfinite(vals)]
        if vals.size:
            ax.hist(vals, bins=40, color="#4c72b0")
            ax.axvline(np.median(vals), color="k", lw=1, ls="--")
        ax.set_title(OUTCOME_COLUMNS[name][1], fontsize=9)
        ax.set_ylabel("runs")
    ax = axes[len(numeric)]
    probs = [df[b].mean() for b in booleans]
    ax.barh(booleans, probs, color="#dd8452")
    ax.set_xlim(0, 1)
    ax.set_xlabel("probability")
    ax.set_title("Events", fontsize=9)
    for a in axes[len(numeric) + 1:]:
        a.axis("off")
    fig.suptitle(f"{results.scenario.name}: outcome distributions ({len(df):,} runs)")
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_trajectories(results, path):
    """Fan charts (median, 50% and 90% bands) with calendar dates on the x axis."""
    q = results.quantiles
    cols = 2
    rows = int(np.ceil(len(FAN_VARIABLES) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(12, 2.8 * rows), sharex=True, constrained_layout=True)
    for ax, var in zip(axes.ravel(), FAN_VARIABLES):
        b = q[q["variable"] == var]
        ax.fill_between(b["date"], b["p05"], b["p95"], alpha=0.2, color="#4c72b0", label="90%")
        ax.fill_between(b["date"], b["p25"], b["p75"], alpha=0.4, color="#4c72b0", label="50%")
        ax.plot(b["date"], b["p50"], color="#1f3b73", lw=1.5, label="median")
        meta = TRAJECTORY_VARIABLES[var]
        ax.set_title(meta.label, fontsize=10)
        ax.set_ylabel(meta.unit)
    axes.ravel()[0].legend(fontsize=8, loc="upper right")
    fig.suptitle(f"{results.scenario.name}: trajectories")
    fig.autofmt_xdate()
    fig.savefig(path, dpi=110)
    plt.close(fig)
