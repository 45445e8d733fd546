"""The report's figures: one small image a panel, so a phone shows one per row and a wide
screen three, and each comes with a text alternative that states its numbers.

Every function returns a list of panels, ``{"title", "uri", "alt"}``: the PNG embedded as a
``data:`` URI, and a sentence for readers who cannot see it (and for screen readers). Colours are
the shared palette's (``sim.reporting.palette``), so a scenario has the same colour here as in
the command line's figures and the exercises.
"""

from __future__ import annotations

import base64
import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter  # noqa: E402

from sim.model.outcomes import OUTCOME_COLUMNS, TRAJECTORY_VARIABLES  # noqa: E402
from sim.reporting.palette import INK, scenario_color  # noqa: E402
from sim.reporting.figures import date_axis, save_figure  # noqa: E402
from sim.reporting.plots import OUTCOME_LABELS, spans_decades  # noqa: E402

#: Outcomes drawn in the report, in reading order (yes/no ones share one panel of bars).
KEY_OUTCOMES = ["isis_peak", "resurgence", "months_to_resurgence", "militia_attacks",
                "us_fatalities", "exit_demanded", "months_to_demand", "departed", "escalation",
                "will_collapse", "isf_capability_end", "iran_influence_end", "us_troop_months"]
#: Trajectory variables drawn over time, one panel each.
FAN_VARIABLES = ["us_troops", "isis_fighters_iraq", "isis_territory", "militia_attacks",
                 "withdrawal_pressure", "iran_influence", "isf_capability"]
#: Size of one panel (inches) and its resolution: ~430 x 300 pixels, legible at phone width.
PANEL_SIZE, PANEL_DPI = (4.5, 3.1), 96


def figure_data_uri(fig, dpi: int = PANEL_DPI) -> str:
    """Encode a matplotlib figure as a ``data:image/png;base64,...`` URI and close it."""
    buf = io.BytesIO()
    save_figure(fig, buf, dpi, format="png")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def format_number(value) -> str:
    """A number for people: ``30,900``, ``14``, ``0.62``; '–' for none."""
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "–"
    value = float(value)
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def compact_tick(value, _pos=None) -> str:
    """Axis tick label: ``150k`` for big numbers, plain for small ones."""
    if abs(value) >= 10_000:
        return f"{value / 1000:,.0f}k"
    return f"{value:,.0f}" if abs(value) >= 10 else f"{value:g}"


def _panel():
    return plt.subplots(figsize=PANEL_SIZE, layout="constrained")


def _label(name: str) -> tuple[str, str]:
    return OUTCOME_LABELS.get(name, (OUTCOME_COLUMNS[name][1], ""))


def _values(res, name: str) -> np.ndarray:
    vals = res.outcomes[name].to_numpy(dtype=float)
    return vals[np.isfinite(vals)]


def _when(res, month: float) -> str:
    dates = res.scenario.month_dates()
    return f"{dates[min(int(round(month)), len(dates) - 1)]:%b %Y}"


def distribution_panels(comparison, outcomes=None) -> list[dict]:
    """One panel per key outcome, every scenario overlaid (share of runs in each bin; timing
    outcomes on calendar dates; a log axis where runs span orders of magnitude), and one panel
    of the yes/no outcomes' probabilities. Outcomes that never vary are left out."""
    names, results = comparison.names, comparison.results
    outcomes = [o for o in (outcomes or KEY_OUTCOMES) if o in results[0].outcomes]
    panels = []
    booleans = [o for o in outcomes if OUTCOME_COLUMNS[o][0] == "bool"]
    if booleans:
        fig, ax = _panel()
        y = np.arange(len(booleans))
        height = 0.8 / len(names)
        for i, res in enumerate(results):
            probs = [float(res.outcomes[b].mean()) for b in booleans]
            ax.barh(y + i * height, probs, height=height, color=scenario_color(i), label=names[i])
        ax.set_yticks(y + 0.4 - height / 2, [_label(b)[0] for b in booleans], fontsize=8)
        ax.set_xlim(0, 1)
        ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.invert_yaxis()
        ax.set_xlabel("probability (share of runs)")
        alt = "; ".join(f"{_label(b)[0]}: " + ", ".join(
            f"{n} {100 * float(r.outcomes[b].mean()):.1f}%" for n, r in zip(names, results)) for b in booleans)
        panels.append({"title": "How likely?", "uri": figure_data_uri(fig), "alt": alt})
    for name in outcomes:
        kind = OUTCOME_COLUMNS[name][0]
        if kind == "bool":
            continue
        data = [_values(r, name) for r in results]
        pooled = np.concatenate([d for d in data if d.size]) if any(d.size for d in data) else np.array([])
        if not pooled.size or pooled.min() == pooled.max():
            continue  # nothing to draw: the key table says it
        title, unit = _label(name)
        fig, ax = _panel()
        lo, hi = np.quantile(pooled, [0.005, 0.995])
        if hi <= lo:
            lo, hi = pooled.min(), pooled.max()
        log = kind != "month" and spans_decades(pooled.min(), *np.quantile(pooled, [0.01, 0.99]))
        bins = np.geomspace(lo, hi * 1.0001, 31) if log else np.linspace(lo, hi, 31)
        alt = []
        for i, (d, res) in enumerate(zip(data, results)):
            if not d.size:
                alt.append(f"{names[i]}: never")
                continue
            counts = np.histogram(np.clip(d, lo, hi), bins=bins)[0] * 100.0 / len(res.outcomes)
            edges = bins
            if kind == "month":  # on the calendar
                start = matplotlib.dates.date2num(res.scenario.month_dates()[0])
                edges = start + bins * 365.25 / 12
            ax.stairs(counts, edges, lw=1.6, color=scenario_color(i), label=names[i])
            p05, p50, p95 = np.quantile(d, [0.05, 0.5, 0.95])
            show = (lambda m, r=res: _when(r, m)) if kind == "month" else format_number
            alt.append(f"{names[i]}: median {show(p50)}, 90% of runs {show(p05)} to {show(p95)}"
                       + (f" (in {100 * d.size / len(res.outcomes):.0f}% of runs)" if kind == "month" else ""))
        if kind == "month":
            date_axis(ax)
            ax.set_xlabel("date")
        else:
            if log:
                ax.set_xscale("log")
                ax.xaxis.set_major_locator(matplotlib.ticker.LogLocator(subs=(1.0, 3.0)))
            ax.xaxis.set_major_formatter(FuncFormatter(compact_tick))
            ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
            if not log:
                ax.xaxis.set_major_locator(MaxNLocator(5))
            ax.set_xlabel(unit + (" (log scale)" if log else ""))
        ax.set_ylabel("% of runs")
        panels.append({"title": title, "uri": figure_data_uri(fig), "alt": f"{title}. " + "; ".join(alt)})
    return panels


def trajectory_panels(comparison, variables=None) -> list[dict]:
    """One panel per trajectory variable over calendar time: with one scenario its median and
    50% and 90% bands; with several, each one's median and 50% band, in its colour."""
    names, results = comparison.names, comparison.results
    panels = []
    for var in variables or FAN_VARIABLES:
        meta = TRAJECTORY_VARIABLES[var]
        fig, ax = _panel()
        alt = []
        for i, (name, res) in enumerate(zip(names, results)):
            b = res.band(var).reset_index()
            color = scenario_color(i)
            if len(results) == 1:
                ax.fill_between(b["date"], b["p05"], b["p95"], alpha=0.15, color=color, lw=0,
                                label="90% of runs")
            ax.fill_between(b["date"], b["p25"], b["p75"], alpha=0.3, color=color, lw=0,
                            label="50% of runs" if len(results) == 1 else None)
            ax.plot(b["date"], b["p50"], color=color, lw=1.6, label="median" if len(results) == 1 else name)
            first, last = b.iloc[0], b.iloc[-1]
            alt.append(f"{name}: median {format_number(first['p50'])} in {first['date']:%b %Y}, "
                       f"{format_number(last['p50'])} in {last['date']:%b %Y} (50% of runs "
                       f"{format_number(last['p25'])} to {format_number(last['p75'])})")
        if meta.is_index:
            ax.set_ylim(0, 1)
        elif meta.log and ax.get_ylim()[0] > 0:
            ax.set_yscale("log")
        else:
            ax.set_ylim(bottom=0)
        ax.yaxis.set_major_formatter(FuncFormatter(compact_tick))
        ax.set_ylabel(meta.unit.replace(": ", "\n", 1) if meta.is_index else meta.unit, fontsize=8)
        date_axis(ax)
        ax.grid(axis="y", alpha=0.3)
        if len(results) == 1:
            ax.legend(fontsize=7, loc="best")
        panels.append({"title": meta.label, "uri": figure_data_uri(fig),
                       "alt": f"{meta.label} ({meta.unit}) over time. " + "; ".join(alt)})
    return panels


def tradeoff_panels(comparison) -> list[dict]:
    """Two panels of trade-offs, a point per scenario: ISIS peak against US deaths (medians and
    middle halves of the runs), and P(resurgence) against P(exit demanded), area = troop-months."""
    names, results = comparison.names, comparison.results
    fig1, ax1 = _panel()
    fig2, ax2 = _panel()
    troop_months = [float(r.outcomes["us_troop_months"].mean()) for r in results]
    biggest = max(max(troop_months), 1.0)
    alt1, alt2 = [], []
    for i, (name, res) in enumerate(zip(names, results)):
        o, c = res.outcomes, scenario_color(i)
        x25, x50, x75 = np.quantile(o["isis_peak"], [0.25, 0.5, 0.75])
        y25, y50, y75 = np.quantile(o["us_fatalities"], [0.25, 0.5, 0.75])
        ax1.errorbar([x50], [y50], xerr=[[x50 - x25], [x75 - x50]], yerr=[[y50 - y25], [y75 - y50]],
                     fmt="o", color=c, ms=7, capsize=3, label=name)
        px, py = float(o["resurgence"].mean()), float(o["exit_demanded"].mean())
        ax2.scatter([px], [py], s=30 + 300 * troop_months[i] / biggest, color=c, alpha=0.8,
                    edgecolor=INK, label=name)
        alt1.append(f"{name}: peak ISIS {format_number(x50)}, US deaths {format_number(y50)}")
        alt2.append(f"{name}: resurgence {100 * px:.0f}%, exit demanded {100 * py:.0f}%, "
                    f"{format_number(troop_months[i])} troop-months")
    ax1.set_xlabel("peak ISIS fighters in Iraq")
    ax1.set_ylabel("US deaths over the horizon")
    ax1.xaxis.set_major_formatter(FuncFormatter(compact_tick))
    for ax, xlabel, ylabel in ((ax2, "P(ISIS resurgence)", "P(Baghdad demands a US exit)"),):
        ax.set_xlim(-0.05, 1.05)
        ax.set_ylim(-0.05, 1.05)
        ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="best")
    return [{"title": "Security against exposure (medians, bars: middle half of the runs)",
             "uri": figure_data_uri(fig1), "alt": "; ".join(alt1)},
            {"title": "Resurgence against expulsion (area: US troop-months)",
             "uri": figure_data_uri(fig2), "alt": "; ".join(alt2)}]
