"""Figures of the classroom exercises (their YAML files name them under ``figures``)."""

from __future__ import annotations

import textwrap

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from sim.model.outcomes import OUTCOME_COLUMNS  # noqa: E402
from sim.reporting import report as rp  # noqa: E402
from sim.teaching.answers import (  # noqa: E402
    outcome_label,
    outcome_values,
    paired_difference,
    probability_interval,
    robustness_of,
)


def resurgence_timing_figure(comparison, exercise):
    """Share of runs in which ISIS has reached the resurgence threshold, by calendar month."""
    fig, ax = plt.subplots(figsize=(8, 4), constrained_layout=True)
    for i, (name, res) in enumerate(zip(comparison.names, comparison.results)):
        dates = pd.to_datetime(res.scenario.month_dates())
        months = res.outcomes["months_to_resurgence"].to_numpy(dtype=float)
        share = [(months <= m).sum() / months.size for m in range(len(dates))]
        ax.step(dates, share, where="post", color=rp.scenario_color(i), lw=2, label=name)
    ax.set_ylim(-0.02, 1.02)
    ax.set_ylabel("share of runs with ISIS resurged")
    ax.set_title("When does ISIS come back? Cumulative share of runs past the resurgence threshold",
                 fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=9)
    fig.autofmt_xdate()
    return fig


def outcome_bars_figure(comparison, exercise):
    """One panel per outcome: median (or probability) per scenario with a 90% band.

    Bars are medians or probabilities; whiskers span the 5th to 95th percentile of runs for
    numbers and the 90% interval of the probability for yes/no outcomes.
    """
    outcomes = [o for o in exercise.outcomes if not o.startswith("months_to")]
    cols = 3
    rows = int(np.ceil(len(outcomes) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(11, 2.8 * rows), constrained_layout=True,
                             squeeze=False)
    names = comparison.names
    x = np.arange(len(names))
    for ax, outcome in zip(axes.ravel(), outcomes):
        kind = OUTCOME_COLUMNS[outcome][0]
        mids, los, his = [], [], []
        for name in names:
            vals = outcome_values(comparison, name, outcome)
            if kind == "bool":
                p, lo, hi = probability_interval(vals)
            else:
                vals = vals[np.isfinite(vals)]
                p, lo, hi = (np.quantile(vals, [0.5, 0.05, 0.95]) if vals.size else (np.nan,) * 3)
            mids.append(p)
            los.append(p - lo)
            his.append(hi - p)
        ax.bar(x, mids, color=[rp.scenario_color(i) for i in range(len(names))], alpha=0.85)
        ax.errorbar(x, mids, yerr=np.maximum([los, his], 0), fmt="none", ecolor="k", capsize=3, lw=1)
        ax.set_xticks(x, names, rotation=30, ha="right", fontsize=8)
        ax.set_title(textwrap.fill(outcome_label(outcome) + (" (P)" if kind == "bool" else " (median)"),
                                   42), fontsize=9)
        ax.yaxis.set_major_formatter(rp.FuncFormatter(rp.compact_tick))
        ax.tick_params(axis="y", labelsize=8)
        if kind == "bool":
            ax.set_ylim(0, 1)
    for ax in axes.ravel()[len(outcomes):]:
        ax.axis("off")
    fig.suptitle("Outcomes by choice (whiskers: 5–95% of runs, or the 90% interval of a probability)",
                 fontsize=10)
    return fig


def paired_effects_figure(comparison, exercise):
    """Change from the reference scenario, paired run by run, with 90% intervals.

    One panel per outcome; one bar per other scenario. With common random numbers the paired
    difference isolates the effect of the one thing each scenario changes.
    """
    ref = comparison.names[0]
    others = comparison.names[1:]
    outcomes = [o for o in exercise.outcomes if not o.startswith("months_to")][:4]
    fig, axes = plt.subplots(1, len(outcomes), figsize=(3.0 * len(outcomes) + 1.5, 0.5 * len(others) + 2.2),
                             constrained_layout=True, squeeze=False)
    y = np.arange(len(others))
    for ax, outcome in zip(axes.ravel(), outcomes):
        diffs = [paired_difference(comparison, ref, o, outcome) for o in others]
        means = [d["mean"] for d in diffs]
        err = [[d["mean"] - d["low"] for d in diffs], [d["high"] - d["mean"] for d in diffs]]
        colors = [rp.scenario_color(i + 1) for i in range(len(others))]
        ax.barh(y, means, color=colors, alpha=0.85)
        ax.errorbar(means, y, xerr=err, fmt="none", ecolor="k", capsize=3, lw=1)
        ax.axvline(0, color="k", lw=0.8)
        ax.set_yticks(y, others if ax is axes.ravel()[0] else [""] * len(others), fontsize=8)
        ax.invert_yaxis()
        ax.set_title(f"Δ {outcome}", fontsize=9)
        ax.tick_params(axis="x", labelsize=8)
        ax.grid(axis="x", alpha=0.3)
    fig.suptitle(f"Change from {ref}, paired run by run (bars: mean, whiskers: 90% interval)",
                 fontsize=10)
    return fig


def robustness_figure(comparison, exercise):
    """Heat map of the 90th-percentile regret of each choice on each judged outcome.

    Colours are scaled per outcome (0 = the least regret among the choices, 1 = the most) so
    outcomes in different units can be read together; cells print the regret itself.
    """
    table = robustness_of(comparison, exercise.outcomes)
    wide = table.pivot(index="scenario", columns="outcome", values="p90_regret")
    wide = wide.loc[comparison.names, [o for o in exercise.outcomes if o in wide.columns]]
    span = (wide.max() - wide.min()).replace(0, 1)
    scaled = (wide - wide.min()) / span
    fig, ax = plt.subplots(figsize=(1.5 * wide.shape[1] + 2.5, 0.5 * wide.shape[0] + 1.8),
                           constrained_layout=True)
    ax.imshow(scaled.to_numpy(dtype=float), cmap="Reds", vmin=0, vmax=1, aspect="auto")
    for i in range(wide.shape[0]):
        for j in range(wide.shape[1]):
            dark = scaled.iat[i, j] > 0.6
            ax.text(j, i, rp.format_number(wide.iat[i, j]), ha="center", va="center", fontsize=8,
                    color="white" if dark else "black")
    ax.set_xticks(range(wide.shape[1]), wide.columns, rotation=30, ha="right", fontsize=8)
    ax.set_yticks(range(wide.shape[0]), wide.index, fontsize=8)
    ax.set_title("90th-percentile regret: how much worse than the best choice in the same world",
                 fontsize=9)
    return fig


def median_paths(comparison, exercise):
    """Median and 50% band of the exercise's trajectory variables, every choice together."""
    return rp.median_paths_figure(comparison, exercise.variables)


def tradeoffs(comparison, exercise):
    """The report's trade-off plot."""
    return rp.tradeoff_figure(comparison)


#: Figure makers by the name an exercise's YAML file gives them.
FIGURE_MAKERS = {f.__name__: f for f in (resurgence_timing_figure, outcome_bars_figure,
                                         paired_effects_figure, robustness_figure, median_paths,
                                         tradeoffs)}
