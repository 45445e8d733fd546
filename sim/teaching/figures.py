"""Figures of the classroom exercises (their YAML files name them under ``figures``)."""

from __future__ import annotations

import textwrap

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.ticker import FuncFormatter, PercentFormatter  # noqa: E402

from sim.model.outcomes import (
    OUTCOME_COLUMNS,  # noqa: E402
    TRAJECTORY_VARIABLES,  # noqa: E402
)
from sim.reporting.palette import scenario_color  # noqa: E402
from sim.reporting.figures import date_axis  # noqa: E402
from sim.reporting.plots import OUTCOME_LABELS  # noqa: E402
from sim.reporting.report_figures import FAN_VARIABLES, compact_tick, format_number  # noqa: E402
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
        ax.step(dates, share, where="post", color=scenario_color(i), lw=2, label=name)
    ax.set_ylim(-0.02, 1.02)
    ax.set_ylabel("share of runs with ISIS resurged")
    ax.set_title("When does ISIS come back? Cumulative share of runs past the resurgence threshold",
                 fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=9)
    fig.autofmt_xdate()
    return fig


def panel_grid(n: int, width: float = 11.0, row_height: float = 2.8):
    """A figure with ``n`` panels, three or four to a row (whichever leaves fewer gaps), the last
    row centred: no empty panel."""
    cols = min((4, 3), key=lambda c: (-n % c, -c)) if n > 2 else max(n, 1)
    rows = -(-n // cols)
    fig = plt.figure(figsize=(width, row_height * rows), layout="constrained")
    grid = fig.add_gridspec(rows, 2 * cols)
    axes = []
    for i in range(n):
        row, col = divmod(i, cols)
        in_row = min(cols, n - row * cols)
        offset = cols - in_row  # half-columns to the left of a short last row
        start = offset + 2 * col
        axes.append(fig.add_subplot(grid[row, start:start + 2]))
    return fig, axes


def outcome_bars_figure(comparison, exercise):
    """One panel per outcome: median (or probability) per scenario with a 90% band.

    Bars are medians or probabilities; whiskers span the 5th to 95th percentile of runs for
    numbers and the 90% interval of the probability for yes/no outcomes.
    """
    outcomes = [o for o in exercise.outcomes if not o.startswith("months_to")]
    fig, axes = panel_grid(len(outcomes))
    names = comparison.names
    x = np.arange(len(names))
    for ax, outcome in zip(axes, outcomes):
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
        ax.bar(x, mids, color=[scenario_color(i) for i in range(len(names))], alpha=0.85)
        ax.errorbar(x, mids, yerr=np.maximum([los, his], 0), fmt="none", ecolor="k", capsize=3, lw=1)
        ax.set_xticks(x, names, rotation=30, ha="right", fontsize=8)
        ax.set_title(textwrap.fill(outcome_label(outcome) + (" (P)" if kind == "bool" else " (median)"),
                                   42), fontsize=9)
        ax.yaxis.set_major_formatter(FuncFormatter(compact_tick))
        ax.tick_params(axis="y", labelsize=8)
        if kind == "bool":
            ax.set_ylim(0, 1)
            ax.yaxis.set_major_formatter(PercentFormatter(1.0, 0))
            ax.set_ylabel("probability", fontsize=8)
        else:
            ax.set_ylabel(OUTCOME_LABELS.get(outcome, ("", ""))[1], fontsize=8)
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
        colors = [scenario_color(i + 1) for i in range(len(others))]
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
            ax.text(j, i, format_number(wide.iat[i, j]), ha="center", va="center", fontsize=8,
                    color="white" if dark else "black")
    ax.set_xticks(range(wide.shape[1]), wide.columns, rotation=30, ha="right", fontsize=8)
    ax.set_yticks(range(wide.shape[0]), wide.index, fontsize=8)
    ax.set_title("90th-percentile regret: how much worse than the best choice in the same world",
                 fontsize=9)
    return fig


def median_paths(comparison, exercise):
    """Median and 50% band of the exercise's trajectory variables, every choice together."""
    return median_paths_figure(comparison, exercise.variables)


def tradeoffs(comparison, exercise):
    """The report's trade-off plot."""
    return tradeoff_figure(comparison)


# ---------------------------------------------------------------------- shared views
def _band(res, var):
    q = res.quantiles
    return q[q["variable"] == var]


def median_paths_figure(comparison, variables=None):
    """Every scenario's median and 50% band on shared axes, by calendar date (a figure)."""
    variables = variables or FAN_VARIABLES
    fig, axes = panel_grid(len(variables), row_height=2.6)
    for ax, var in zip(axes, variables):
        for i, (name, res) in enumerate(zip(comparison.names, comparison.results)):
            b = _band(res, var)
            ax.fill_between(b["date"], b["p25"], b["p75"], alpha=0.2, color=scenario_color(i), lw=0)
            ax.plot(b["date"], b["p50"], color=scenario_color(i), lw=1.6, label=name)
        meta = TRAJECTORY_VARIABLES[var]
        ax.set_title(meta.label, fontsize=9)
        ax.set_ylabel(meta.unit.replace(": ", "\n", 1) if meta.is_index else meta.unit, fontsize=7)
        if meta.is_index:
            ax.set_ylim(0, 1)
        ax.yaxis.set_major_formatter(FuncFormatter(compact_tick))
        date_axis(ax)
        ax.tick_params(labelsize=8)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 4), fontsize=9)
    fig.suptitle("Medians and 50% bands compared", fontsize=11)
    return fig


def tradeoff_figure(comparison):
    """The trade-offs between the choices, one point per scenario (a figure).

    Left: ISIS peak against US deaths (medians, bars from the 25th to the 75th percentile of
    runs). Right: probability of an ISIS resurgence against probability that Baghdad demands a
    US exit, point area proportional to US troop-months (the exposure the choice costs).
    """
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.4), constrained_layout=True)
    names = comparison.names
    troop_months = [float(r.outcomes["us_troop_months"].mean()) for r in comparison.results]
    biggest = max(max(troop_months), 1.0)
    far_right = max(float(np.quantile(r.outcomes["isis_peak"], 0.5)) for r in comparison.results)
    for i, (name, res) in enumerate(zip(names, comparison.results)):
        o, c = res.outcomes, scenario_color(i)
        x25, x50, x75 = np.quantile(o["isis_peak"], [0.25, 0.5, 0.75])
        y25, y50, y75 = np.quantile(o["us_fatalities"], [0.25, 0.5, 0.75])
        ax1.errorbar([x50], [y50], xerr=[[x50 - x25], [x75 - x50]], yerr=[[y50 - y25], [y75 - y50]],
                     fmt="o", color=c, ms=8, capsize=3, label=name)
        right = len(names) > 1 and x50 >= far_right  # label the right-most point on its left
        ax1.annotate(name, (x50, y50), textcoords="offset points", xytext=(-8 if right else 6, 6),
                     ha="right" if right else "left", fontsize=8, color=c)
        px, py = float(o["resurgence"].mean()), float(o["exit_demanded"].mean())
        ax2.scatter([px], [py], s=40 + 400 * troop_months[i] / biggest, color=c, alpha=0.75,
                    edgecolor="k", label=name)
        right = px > 0.7  # label to the left near the right edge, so it is not cut off
        ax2.annotate(name, (px, py), textcoords="offset points", xytext=(-8 if right else 8, 6),
                     ha="right" if right else "left", fontsize=8, color=c)
    ax1.set_xlabel("peak ISIS fighters in Iraq (median, 25–75%)")
    ax1.set_ylabel("US deaths over the horizon (median, 25–75%)")
    ax1.set_title("Security against exposure", fontsize=10)
    ax2.set_xlim(-0.05, 1.05)
    ax2.set_ylim(-0.05, 1.05)
    ax2.set_xlabel("P(ISIS resurgence)")
    ax2.set_ylabel("P(Baghdad demands a US exit)")
    ax2.set_title("Resurgence against expulsion (area: US troop-months)", fontsize=10)
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3)
    fig.suptitle("Trade-offs between the choices (lower and further left is better)", fontsize=11)
    return fig


#: Figure makers by the name an exercise's YAML file gives them.
FIGURE_MAKERS = {f.__name__: f for f in (resurgence_timing_figure, outcome_bars_figure,
                                         paired_effects_figure, robustness_figure, median_paths,
                                         tradeoffs)}
