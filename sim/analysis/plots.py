"""Figures of the policy analysis: trade-offs, lever effects, sensitivity bars, PRIM peeling."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.ticker import PercentFormatter  # noqa: E402

from sim.analysis.robustness import pareto_front
from sim.model.outcomes import OUTCOME_COLUMNS  # noqa: E402
from sim.reporting.figures import save_figure  # noqa: E402
from sim.reporting.plots import OUTCOME_LABELS  # noqa: E402

#: Outcomes shown against the first swept lever (mean, or probability for yes/no outcomes).
LEVER_PANELS = ["resurgence", "isis_peak", "militia_attacks", "us_fatalities", "departed",
                "us_troop_months"]


def cell_labels(table: pd.DataFrame, lever_names: list[str]) -> list[str]:
    """Short label per cell: its lever values joined by '/'."""
    return ["/".join(str(v) for v in row) for row in table[lever_names].itertuples(index=False)]


def plot_tradeoff(table: pd.DataFrame, lever_names: list[str], path) -> None:
    """P(ISIS resurgence) against expected US deaths, colour = P(an exit ends the presence), Pareto front marked.

    One point per cell of a sweep. The points no other cell beats on both plotted axes at once
    (fewer deaths and less resurgence) have a black ring and are joined by the front line; the
    three-objective front, the chance an exit ends the presence included, is the table's ``pareto`` column.
    """
    x = table["us_fatalities.mean"].to_numpy(float)
    y = table["resurgence.mean"].to_numpy(float)
    c = table["departed.mean"].to_numpy(float)
    front2 = pareto_front(np.column_stack([x, y]))
    fig, ax = plt.subplots(figsize=(7.5, 5.5), constrained_layout=True)
    sc = ax.scatter(x, y, c=c, cmap="viridis", s=70, vmin=0, vmax=max(0.05, float(np.nanmax(c))),
                    zorder=3, edgecolors=np.where(front2, "black", "none"), linewidths=1.6)
    fig.colorbar(sc, ax=ax, label="P(an exit ends the US presence)", format=PercentFormatter(1.0, 0))
    order = np.argsort(x[front2])
    ax.step(x[front2][order], y[front2][order], where="post", color="crimson", lw=1.2, zorder=2,
            label="Pareto front (deaths, resurgence)")
    # label every point of a small grid, only the plotted front of a large one
    labelled = np.ones(len(table), dtype=bool) if len(table) <= 12 else front2
    for xi, yi, label, show in zip(x, y, cell_labels(table, lever_names), labelled):
        if show:
            ax.annotate(label, (xi, yi), textcoords="offset points", xytext=(4, 4), fontsize=7)
    ax.set_xlabel("expected US deaths over the horizon")
    ax.set_ylabel("P(ISIS resurgence)")
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, 0))
    ax.set_title("Trade-off between choices (" + " / ".join(lever_names) + ")\n"
                 "black ring: no other choice has both fewer deaths and less resurgence", fontsize=9)
    ax.legend(loc="best", fontsize=8)
    ax.grid(alpha=0.3)
    save_figure(fig, path, 110)


def plot_lever_effects(table: pd.DataFrame, lever_names: list[str], path) -> None:
    """Key outcomes against the first swept lever, one line per combination of the others."""
    first, others = lever_names[0], lever_names[1:]
    xs = list(dict.fromkeys(table[first]))
    numeric = all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
                  for v in xs)
    fig, axes = plt.subplots(2, 3, figsize=(13, 7), constrained_layout=True)
    groups = table.groupby(others, sort=False) if others else [((), table)]
    for key, part in groups:
        key = key if isinstance(key, tuple) else (key,)
        label = ", ".join(f"{n}={v}" for n, v in zip(others, key)) or None
        xpos = part[first].to_numpy(float) if numeric else [xs.index(v) for v in part[first]]
        for ax, outcome in zip(axes.ravel(), LEVER_PANELS):
            col = f"{outcome}.mean"
            if col in part:
                ax.plot(xpos, part[col], marker="o", label=label)
    for ax, outcome in zip(axes.ravel(), LEVER_PANELS):
        kind, text = OUTCOME_COLUMNS[outcome]
        text = OUTCOME_LABELS.get(outcome, (text,))[0]  # the short title of the figures
        ax.set_title(("P: " if kind == "bool" else "mean: ") + text, fontsize=9)
        ax.set_xlabel(first)
        if not numeric:
            ax.set_xticks(range(len(xs)), [str(v) for v in xs], rotation=30, fontsize=8)
        ax.grid(alpha=0.3)
    if others:
        axes[0, 0].legend(fontsize=7)
    fig.suptitle("Outcomes by choice (common random numbers)", fontsize=11)
    save_figure(fig, path, 110)


def plot_indices(indices: pd.DataFrame, outcome: str, method: str, path,
                 noise: float | None = None) -> None:
    """Sorted horizontal bars of one outcome's sensitivity indices with confidence intervals.

    Sobol: first-order (S1) and total (ST) indices; Morris: mu* (and sigma as a second bar).
    ``noise`` (the share of variance due to the model's randomness) is noted in the title.
    """
    part = indices[indices["outcome"] == outcome]
    if method == "sobol":
        cols, errs, labels = ["ST", "S1"], ["ST_conf", "S1_conf"], ["total (ST)", "first-order (S1)"]
    else:
        cols, errs, labels = ["mu_star", "sigma"], ["mu_star_conf", None], ["mu*", "sigma"]
    part = part.sort_values(cols[0], ascending=True)
    n = len(part)
    fig, ax = plt.subplots(figsize=(7.5, 1.2 + 0.45 * n), constrained_layout=True)
    ypos = np.arange(n)
    h = 0.38
    for i, (col, err, label) in enumerate(zip(cols, errs, labels)):
        ax.barh(ypos + (0.5 - i) * h, part[col], height=h, label=label,
                xerr=None if err is None else part[err], capsize=2,
                color=["#4c72b0", "#dd8452"][i])
    ax.set_yticks(ypos, part["parameter"])
    ax.axvline(0, color="k", lw=0.8)
    ax.set_xlabel("index" if method == "sobol" else "elementary effect (per unit of quantile)")
    title = f"{method.capitalize()} sensitivity of {outcome}"
    if noise is not None:
        title += f"\nshare of variance from the model's own randomness: {noise:.0%}"
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(axis="x", alpha=0.3)
    save_figure(fig, path, 110)


def plot_peeling(trajectory: pd.DataFrame, boxes: pd.DataFrame, base_rate: float, path) -> None:
    """PRIM peeling trajectory (coverage against density) with the chosen boxes and CART leaves."""
    fig, ax = plt.subplots(figsize=(7.5, 5.5), constrained_layout=True)
    for box_id, part in trajectory.groupby("box", sort=True):
        sc = ax.scatter(part["coverage"], part["density"], c=part["restricted"], cmap="plasma",
                        s=18, zorder=3, vmin=0, vmax=max(1, int(trajectory["restricted"].max())))
        ax.plot(part["coverage"], part["density"], color="grey", lw=0.7, zorder=2)
    fig.colorbar(sc, ax=ax, label="restricted parameters")
    chosen = boxes[boxes["method"] == "prim"].drop_duplicates("box")
    ax.scatter(chosen["coverage"], chosen["density"], marker="*", s=260, color="crimson",
               zorder=4, label="PRIM box chosen")
    for _, row in chosen.iterrows():
        ax.annotate(f"box {int(row['box'])}", (row["coverage"], row["density"]),
                    textcoords="offset points", xytext=(6, -12), fontsize=8)
    leaves = boxes[boxes["method"] == "cart"].drop_duplicates("box")
    if len(leaves):
        ax.scatter(leaves["coverage"], leaves["density"], marker="^", s=70, facecolors="none",
                   edgecolors="teal", zorder=4, label="CART leaves")
    ax.axhline(base_rate, color="k", ls="--", lw=0.8, label=f"base rate {base_rate:.3f}")
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("coverage (share of all cases of interest inside the box)")
    ax.set_ylabel("density (share of runs in the box that are cases)")
    ax.set_title("Scenario discovery: PRIM peeling trajectory", fontsize=10)
    ax.legend(fontsize=8, loc="lower left")
    ax.grid(alpha=0.3)
    save_figure(fig, path, 110)


def plot_box_limits(boxes: pd.DataFrame, ranges: dict[str, tuple[float, float]], path) -> None:
    """The PRIM boxes' limits on each restricted parameter, scaled to the parameter's range."""
    prim = boxes[(boxes["method"] == "prim") & boxes["parameter"].notna()]
    params = list(dict.fromkeys(prim["parameter"]))
    fig, ax = plt.subplots(figsize=(7.5, 1.4 + 0.5 * max(1, len(params))), constrained_layout=True)
    box_ids = sorted(prim["box"].unique())
    h = 0.8 / max(1, len(box_ids))
    for j, box_id in enumerate(box_ids):
        part = prim[prim["box"] == box_id]
        for _, row in part.iterrows():
            lo, hi = ranges[row["parameter"]]
            span = (hi - lo) or 1.0
            y = params.index(row["parameter"]) + (j - (len(box_ids) - 1) / 2) * h
            a, b = (row["low"] - lo) / span, (row["high"] - lo) / span
            ax.barh(y, b - a, left=a, height=h * 0.9, color=f"C{j}",
                    label=f"box {box_id}" if row["parameter"] == part["parameter"].iloc[0] else None)
            ax.annotate(f"{row['low']:.3g} .. {row['high']:.3g}", (b, y),
                        textcoords="offset points", xytext=(4, -3), fontsize=7)
    ax.set_yticks(range(len(params)), params)
    ax.set_xlim(0, 1.35)
    ax.set_xlabel("position within the sampled range (0 = lowest draw, 1 = highest)")
    ax.set_title("Where the cases of interest concentrate (PRIM boxes)", fontsize=10)
    if box_ids:
        ax.legend(fontsize=8, loc="lower right")
    save_figure(fig, path, 110)
