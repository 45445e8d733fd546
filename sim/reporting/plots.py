"""Plots for slides: outcome distributions, trajectory fan charts, and their comparisons.

Every figure labels its axes with units, puts calendar dates (``Scenario.month_dates``) on time
axes, shows booleans as probabilities, and draws US troop levels next to the trajectories (a
troops panel on top, scheduled events shaded in every panel). matplotlib runs headless (Agg).

Functions (each writes one PNG and returns its path):

* ``plot_outcomes(results, path)`` — probabilities of the yes/no outcomes and histograms of the
  numeric ones for one scenario.
* ``plot_trajectories(results, path)`` — fan charts (median, 50% and 90% bands).
* ``plot_comparison(comparison, path)`` — the same outcomes overlaid for several scenarios run
  with common random numbers.
* ``plot_comparison_trajectories(comparison, path)`` — overlaid fan charts (median and 50% band).
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import FuncFormatter, PercentFormatter  # noqa: E402

from sim.reporting.palette import EVENT_FILL, EVENT_TEXT, INK, PROBABILITY, TROOPS  # noqa: E402
from sim.reporting.palette import scenario_color, scenario_colors  # noqa: E402
from sim.engine.columns import (  # noqa: E402
    PooledReader, column_histogram, column_is_integral, column_statistics)
from sim.model.exit import STAGE_NAMES  # noqa: E402
from sim.model.outcomes import OUTCOME_ALIASES, OUTCOME_COLUMNS, TRAJECTORY_VARIABLES  # noqa: E402

#: Trajectory variables drawn as fan charts, after the US troops panel.
FAN_VARIABLES = ["isis_fighters_iraq", "isis_territory", "isf_capability", "militia_attacks",
                 "us_fatalities", "withdrawal_pressure", "exit_stage", "cooperation",
                 "iran_influence", "us_will", "us_troops_kurdistan"]

#: Short slide titles and units of the outcome columns (others fall back to their description).
OUTCOME_LABELS: dict[str, tuple[str, str]] = {
    "isis_peak": ("Peak ISIS fighters in Iraq", "fighters"),
    "isis_end": ("ISIS fighters in Iraq at the end", "fighters"),
    "resurgence": ("ISIS resurgence", ""),
    "months_to_resurgence": ("When ISIS resurges", "date"),
    "territory_peak": ("Peak share of Sunni areas held by ISIS", "% of the Sunni-majority area"),
    "militia_attacks": ("Militia attacks on US forces, total", "attacks"),
    "us_fatalities": ("US deaths, total", "deaths"),
    "exit_demanded": ("Iraq demands a US exit", ""),
    "months_to_demand": ("When Iraq demands a US exit", "date"),
    "agreement": ("An exit timetable is agreed", ""),
    "months_to_agreement": ("When an exit timetable is agreed", "date"),
    "forced_exit": ("US forces leave without agreement", ""),
    "departed": ("An exit ends the presence", ""),
    "months_to_departure": ("When an exit ends the presence", "date"),
    "reinvited": ("Baghdad invites US forces back", ""),
    "months_to_return": ("Months from the exit to the return", "months"),
    "parliament_vote": ("Parliament votes to expel US forces", ""),
    "months_to_vote": ("When parliament votes", "date"),
    "escalation": ("Direct US-Iran exchange", ""),
    "will_collapse": ("US domestic will collapses", ""),
    "leadership_strikes": ("US leadership strikes on Iraqi soil", "strikes"),
    "isf_capability_end": ("ISF capability at the end", "index: 0 = none, 1 = fully self-reliant"),
    "iran_influence_end": ("Iranian influence at the end", "index: 0 = none, 1 = dominant"),
    "withdrawal_pressure_peak": ("Peak withdrawal pressure", "index: 0 = none, 1 = overwhelming"),
    "us_troops_end": ("US troops in Iraq at the end", "troops"),
    "us_troop_months": ("US troop-months in Iraq", "troop-months"),
}

#: Outcomes that are shares of a whole, written as percentages.
SHARE_OUTCOMES = {"territory_peak"}

#: The figures' style. Glyphs are drawn from their outlines without FreeType's hinting (snapping
#: them to the pixel grid), which costs more than drawing them: ~0.1 s of the outcomes figure,
#: the last thing `iraqsim run` waits for, for a difference not visible at 110 dpi
#: (``docs/performance.md``, round 20).
_STYLE = {"font.size": 11, "axes.titlesize": 12, "axes.labelsize": 10, "xtick.labelsize": 9,
          "ytick.labelsize": 9, "legend.fontsize": 9, "figure.titlesize": 15,
          "axes.spines.top": False, "axes.spines.right": False, "axes.titley": 1.0,
          "text.hinting": "no_hinting"}
_DPI = 110


# ---------------------------------------------------------------------- helpers
def _outcome_kinds(columns) -> tuple[list[str], list[str], list[str]]:
    """Boolean, month and other numeric outcome columns present in ``columns``, in contract order
    (deprecated aliases left out: they repeat a column under its old name)."""
    present = [c for c in OUTCOME_COLUMNS if c in columns and c not in OUTCOME_ALIASES]
    booleans = [c for c in present if OUTCOME_COLUMNS[c][0] == "bool"]
    months = [c for c in present if OUTCOME_COLUMNS[c][0] == "month"]
    numbers = [c for c in present if OUTCOME_COLUMNS[c][0] not in ("bool", "month")]
    return booleans, months, numbers


def _label(name: str) -> tuple[str, str]:
    return OUTCOME_LABELS.get(name, (OUTCOME_COLUMNS.get(name, ("", name))[1], ""))


def _thousands(x, _pos=None) -> str:
    """Tick label: 2,500 / 40k / 1.2M / 0.45."""
    if abs(x) >= 1e6:
        return f"{x / 1e6:.3g}M"
    if abs(x) >= 1e4:
        return f"{x / 1e3:.3g}k"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.3g}"


def _percent(x, _pos=None) -> str:
    """A share as a percentage: 24% / 3.5% / <0.01%."""
    if x == 0:
        return "0%"
    return "<0.01%" if abs(x) < 1e-4 else f"{100 * x:.2g}%"


def _percent_tick(x, _pos=None) -> str:
    """Tick label of a share: 20% / 0.01% / 0.000001% (never in powers of ten)."""
    return np.format_float_positional(100 * x, precision=3, fractional=False, trim="-") + "%"


def _runs(n: int) -> str:
    return f"{n:,} run" + ("" if n == 1 else "s")


def _month_to_date(start: str, months):
    """Calendar dates (as matplotlib numbers) of fractional months after ``start`` (YYYY-MM)."""
    y, m = (int(v) for v in start.split("-"))
    base = mdates.date2num(_dt.date(y, m, 1))
    return base + np.asarray(months, dtype=float) * 365.25 / 12


def date_axis(ax) -> None:
    """Years on the time axis (every year for horizons up to eight years, then every 2 or 5)."""
    first, last = ax.get_xlim()
    years = (last - first) / 365.25
    ax.xaxis.set_major_locator(mdates.YearLocator(1 if years <= 8 else 2 if years <= 16 else 5))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
    ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())


def spans_decades(minimum: float, p01: float, p99: float) -> bool:
    """Log axis: every value positive and the middle 98% spanning more than a factor 10 (on a
    linear axis most runs would then fall in one bar)."""
    return minimum > 0 and p01 > 0 and p99 / p01 > 10


def _percent_of_runs_axis(ax) -> None:
    """The y axis of a histogram: % of runs, four or five round ticks (each tick is drawn
    object by object: a grid of panels with fewer ticks is drawn sooner)."""
    ax.set_ylabel("% of runs")
    ax.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(4, steps=[1, 2, 5, 10]))


def _value_locator(log: bool, lo: float, hi: float):
    """Ticks of a value axis: about five; on a log axis 1 and 3 of each decade over up to four
    decades, else every decade or every other one (no minor ticks: the labels say enough)."""
    if not log:
        return matplotlib.ticker.MaxNLocator(5)
    decades = np.log10(hi / lo) if lo > 0 else np.inf
    return matplotlib.ticker.LogLocator(subs=(1.0, 3.0) if decades <= 4 else (1.0,), numticks=6)


def _edges(lo: float, hi: float, log: bool, small_counts: bool, n: int = 40) -> np.ndarray:
    """Histogram edges over ``lo..hi``: log-spaced, one bar per whole value (``small_counts``:
    whole numbers spanning at most ``n``), or ``n`` equal bins."""
    if log:
        return np.geomspace(lo, hi * 1.0001, n + 1)
    if small_counts:
        return np.arange(lo - 0.5, hi + 1.5)
    return np.linspace(lo, hi, n + 1)


def event_label(event, scenario) -> str:
    """``Regional war, Jan–Apr 2024``: an event's plain name and its dates."""
    dates = scenario.month_dates()
    first = dates[min(event.month, len(dates) - 1)]
    last = dates[min(event.last_month, len(dates) - 1)]
    if (first.year, first.month) == (last.year, last.month):
        when = f"{first:%b %Y}"
    elif first.year == last.year:
        when = f"{first:%b}–{last:%b %Y}"
    else:
        when = f"{first:%b %Y}–{last:%b %Y}"
    return f"{event.title or event.kind.replace('_', ' ')}, {when}"


def _shade_events(ax, scenario, label: bool = False) -> None:
    """Shade each scheduled event; with ``label``, name it (one row each, so none overlap)."""
    events = list(getattr(scenario, "events", []))
    for i, ev in enumerate(events):
        stop = min(ev.last_month + 1, scenario.horizon_months)
        x0, x1 = _month_to_date(scenario.start, [ev.month, max(stop, ev.month + 1)])
        ax.axvspan(x0, x1, color=EVENT_FILL, alpha=0.12, lw=0)
        if label:
            ax.text(x0, 0.96 - 0.11 * (i % 8), " " + event_label(ev, scenario),
                    transform=ax.get_xaxis_transform(), fontsize=8, va="top", ha="left",
                    color=EVENT_TEXT, clip_on=True)


def _probability_bars(ax, names: list[str], probs_by_series: list[tuple[str, list[float], str]]) -> None:
    """Horizontal bars of probabilities (one group per outcome, one bar per series)."""
    k = len(probs_by_series)
    height = 0.55 / k  # the bars of an outcome fill the lower part of its row, its name the top
    y = np.arange(len(names))[::-1]
    for j, (series, probs, color) in enumerate(probs_by_series):
        pos = y + 0.2 - height * (j + 0.5)
        bars = ax.barh(pos, probs, height=height * 0.92, color=color, label=series if k > 1 else None)
        for bar, p in zip(bars, probs):
            ax.text(min(p, 1.0) + 0.01, bar.get_y() + bar.get_height() / 2, f"{100 * p:.1f}%",
                    va="center", fontsize=8 if k > 2 else 9)
    for yy, name in zip(y, names):  # the outcome's name above its bars: no wide left margin
        ax.text(0.0, yy + 0.24, _label(name)[0], fontsize=9, va="bottom", ha="left")
    ax.set_yticks([])
    ax.set_ylim(-0.45, len(names) - 0.45)
    ax.set_xlim(0, 1.12)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_xlabel("probability (share of runs)")
    ax.set_title("How likely? (over the whole horizon)")
    ax.spines["left"].set_visible(False)
    ax.tick_params(axis="y", length=0)


def _constant(name: str, count: int, lo: float, hi: float, kind: str) -> str | None:
    """A sentence for an outcome with nothing to draw (no value, or one value in every run),
    shown under the figure instead of an empty panel; None if it varies."""
    title, unit = _label(name)
    if count == 0:
        return f"{title}: never happens"
    if lo == hi and kind != "month":
        return f"{title}: {_thousands(lo)} {unit} in every run"
    return None


def _footnote(fig, constants: list[str]) -> None:
    if constants:
        fig.text(0.01, 0.005, "Same in every run (not drawn): " + "; ".join(constants) + ".",
                 fontsize=9, color="#444444", va="bottom")


def _gridspec(fig, rows: int, cols: int, height_ratios=None, hspace: float = 0.75,
              top: float = 0.95, left: float = 0.75):
    """A grid with fixed margins in inches, ``top`` above it for the figure's title (no layout
    engine: laying out dozens of tick labels twice cost more than drawing the figure)."""
    width, height = fig.get_size_inches()
    return fig.add_gridspec(rows, cols, height_ratios=height_ratios, left=left / width,
                            right=1 - 0.3 / width, top=1 - top / height, bottom=0.75 / height,
                            hspace=hspace, wspace=0.3)


def _grid(n_panels: int, cols: int, top_height: float = 0.0, width: float = 16.0, row_h: float = 3.1):
    """A figure with an optional full-width top panel and a grid of ``n_panels`` below it."""
    rows = int(np.ceil(n_panels / cols))
    fig = plt.figure(figsize=(width, top_height + row_h * rows + 0.6))
    ratios = ([top_height] if top_height else []) + [row_h] * rows
    gs = _gridspec(fig, len(ratios), cols, height_ratios=ratios, hspace=0.6,
                   left=1.05)  # room for the exit stages' names beside their axis
    top = fig.add_subplot(gs[0, :]) if top_height else None
    first = 1 if top_height else 0
    axes = [fig.add_subplot(gs[first + i // cols, i % cols]) for i in range(rows * cols)]
    for ax in axes[n_panels:]:
        ax.set_visible(False)
    return fig, top, axes[:n_panels]


def _grid_with_wide_first(n_panels: int, cols: int = 4, wide_rows: int = 1, width: float = 16.0,
                          row_h: float = 3.2):
    """A grid whose first panel spans two columns and ``wide_rows`` rows; ``n_panels`` follow."""
    cells, r = [], 0
    while len(cells) < n_panels:
        for c in range(cols):
            if not (r < wide_rows and c < 2):
                cells.append((r, c))
        r += 1
    rows = max(r, wide_rows)
    fig = plt.figure(figsize=(width, row_h * rows + 0.95))
    gs = _gridspec(fig, rows, cols, top=1.3)  # the first row's titles take two lines
    wide = fig.add_subplot(gs[:wide_rows, :2])
    axes = [fig.add_subplot(gs[rr, cc]) for rr, cc in cells]
    for ax in axes[n_panels:]:
        ax.set_visible(False)
    return fig, wide, axes[:n_panels]


def _stats_note(ax, p05: float, p50: float, p95: float, number=_thousands) -> None:
    """Median and 90% interval, written in the panel's corner."""
    ax.text(0.98, 0.97, f"median {number(p50)}\n90%: {number(p05)} to {number(p95)}",
            transform=ax.transAxes, ha="right", va="top", fontsize=9,
            bbox={"boxstyle": "round,pad=0.25", "fc": "white", "ec": "none", "alpha": 0.8})


def _bars(ax, edges: np.ndarray, counts: np.ndarray, n_runs: int, outline: bool = False,
          **style) -> None:
    """A histogram already counted (``counts`` in the bins ``edges``), in % of ``n_runs``: filled
    bars, or with ``outline`` a step line (to overlay several). One shape, not a patch a bar."""
    ax.stairs(counts * (100.0 / n_runs), edges, fill=not outline, baseline=0, **style)


def save_figure(fig, target, dpi: int, **kwargs) -> None:
    """Save ``fig`` to ``target`` (a path or a file object) and close it.

    A figure with a layout engine (constrained layout) is laid out at the dpi it is saved with
    and then frozen, so ``savefig`` draws it once: otherwise it first draws the whole figure
    without rendering, only to run the layout, then draws it again (with dozens of panels each
    draw lays out hundreds of tick labels). The pixels are the same (tested; compared on the
    run, comparison, backtest, sweep and report figures).

    PNGs are compressed at zlib level 1, not Pillow's 6: the same pixels in a file ~4% larger,
    written ~0.1 s sooner for a full grid of panels (the user waits for it).
    """
    named = Path(target).suffix.lstrip(".").lower() if isinstance(target, (str, Path)) else None
    if (kwargs.get("format") or named) == "png":
        kwargs.setdefault("pil_kwargs", {"compress_level": 1})
    layout = fig.get_layout_engine()
    if layout is not None:
        fig.set_dpi(dpi)
        layout.execute(fig)
        fig.set_layout_engine(None)
    try:
        fig.savefig(target, dpi=dpi, **kwargs)
    finally:
        plt.close(fig)


def _save(fig, path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_figure(fig, path, _DPI)
    return path


# ---------------------------------------------------------------------- one scenario
def plot_outcomes(results, path) -> Path:
    """Distribution grid of one scenario's outcomes.

    A bar chart gives the probability of each yes/no outcome; histograms (in % of runs, with the
    median and the 90% interval marked; on a log scale where runs span orders of magnitude) give
    the numeric outcomes; the timing outcomes are drawn on calendar dates and say in how many
    runs the event happens at all. An outcome that is the same in every run gets a line under
    the figure instead of an empty panel.

    Args:
        results: A ``sim.engine.Results``.
        path: PNG file to write.
    """
    scenario = results.scenario
    booleans, months, numbers = _outcome_kinds(results.outcome_names)
    n = results.n_runs
    drawn, constants = [], []
    for name in months + numbers:
        column = results.outcome_reader(name)  # read in chunks: memory does not grow with runs
        st = column_statistics(column, (0.01, 0.05, 0.5, 0.95, 0.99))
        same = _constant(name, st["n"], st.get("min"), st.get("max"), OUTCOME_COLUMNS[name][0])
        if same:
            constants.append(same)
        else:
            drawn.append((name, column, st))
    with plt.rc_context(_STYLE):
        fig, top, axes = _grid_with_wide_first(len(drawn), 4, wide_rows=1 if len(booleans) <= 6 else 2)
        if booleans:
            _probability_bars(top, booleans, [("", [column_statistics(results.outcome_reader(b), ())
                                                    .get("mean", 0.0) for b in booleans], PROBABILITY)])
        else:
            top.set_visible(False)
        for ax, (name, column, st) in zip(axes, drawn):
            kind = OUTCOME_COLUMNS[name][0]
            title, unit = _label(name)
            if kind == "month":
                month_edges = np.arange(0, scenario.horizon_months + 1, 3) - 0.5
                _bars(ax, _month_to_date(scenario.start, month_edges),
                      column_histogram(column, month_edges), n, color=scenario_color(0))
                ax.axvline(_month_to_date(scenario.start, st[0.5]), color=INK, lw=1.2, ls="--")
                date_axis(ax)
                ax.set_title(f"{title}\n(happens in {100 * st['n'] / n:.1f}% of runs)")
                ax.set_xlabel("date (3-month bars)")
            else:
                share = name in SHARE_OUTCOMES
                log = spans_decades(st["min"], st[0.01], st[0.99])
                small_counts = (not log and st["max"] - st["min"] <= 40
                                and column_is_integral(column))
                edges = _edges(st["min"], st["max"], log, small_counts)
                _bars(ax, edges, column_histogram(column, edges), n, color=scenario_color(0))
                ax.axvline(st[0.5], color=INK, lw=1.2, ls="--")
                if log:
                    ax.set_xscale("log")
                    ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
                ax.xaxis.set_major_formatter(FuncFormatter(_percent_tick if share else _thousands))
                ax.xaxis.set_major_locator(_value_locator(log, st["min"], st["max"]))
                ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
                _stats_note(ax, st[0.05], st[0.5], st[0.95], _percent if share else _thousands)
                ax.set_title(title)
                ax.set_xlabel(unit + (" (log scale)" if log else ""))
            _percent_of_runs_axis(ax)
        _footnote(fig, constants)
        fig.suptitle(f"{scenario.name}: outcomes from {scenario.month_dates()[0]:%b %Y} over "
                     f"{scenario.horizon_months} months ({_runs(n)}; dashed line = median)")
        return _save(fig, path)


def _fan(ax, band, color, label=None, outer=True):
    x = band["date"]
    if outer:
        ax.fill_between(x, band["p05"], band["p95"], color=color, alpha=0.15, lw=0,
                        label=None if label else "90% of runs")
    ax.fill_between(x, band["p25"], band["p75"], color=color, alpha=0.35 if outer else 0.22, lw=0,
                    label=None if label else "50% of runs")
    ax.plot(x, band["p50"], color=color, lw=1.8, label=label or "median")


def _style_fan(ax, var: str, bands) -> None:
    meta = TRAJECTORY_VARIABLES[var]
    ax.set_title(meta.label)
    ax.set_ylabel(meta.unit.replace(": ", "\n", 1) if meta.is_index else meta.unit, fontsize=8)
    lows = np.concatenate([b["p05"].to_numpy() for b in bands])
    highs = np.concatenate([b["p95"].to_numpy() for b in bands])
    if meta.log and lows.size and np.nanmin(lows) > 0 and np.nanmax(highs) / np.nanmin(lows) > 30:
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(matplotlib.ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    elif var == "exit_stage":  # stages are codes: name them
        ax.set_ylim(-0.3, 6.3)
        ax.set_yticks(list(STAGE_NAMES), [STAGE_NAMES[k] for k in STAGE_NAMES], fontsize=7)
        ax.set_ylabel("stage", fontsize=8)
    elif meta.is_index:
        ax.set_ylim(0.0, 1.0)  # the whole scale: a band near the middle reads as such
    else:
        ax.set_ylim(0, max(float(np.nanmax(highs)) * 1.15, 1.0) if highs.size else 1.0)
    if var != "exit_stage":
        ax.yaxis.set_major_formatter(FuncFormatter(_thousands))
    dates = np.concatenate([b["date"].to_numpy() for b in bands])
    if dates.size:
        ax.set_xlim(dates.min(), dates.max())
    date_axis(ax)
    ax.grid(axis="y", alpha=0.3)


def plot_trajectories(results, path) -> Path:
    """Fan charts of the trajectories, with US troop levels on top and events shaded.

    Each panel shows the median and the bands holding 50% and 90% of runs, month by month, on
    calendar dates. The top panel is the US troop level (the lever, capped by any exit timetable).

    Args:
        results: A ``sim.engine.Results``.
        path: PNG file to write.
    """
    q = results.quantiles
    scenario = results.scenario
    variables = [v for v in FAN_VARIABLES if v in set(q["variable"])]
    with plt.rc_context(_STYLE):
        fig, top, axes = _grid(len(variables), 2, top_height=2.6, width=14, row_h=2.7)
        troops = results.band("us_troops").reset_index()
        _fan(top, troops, TROOPS)
        _style_fan(top, "us_troops", [troops])
        top.set_title("US troops in Iraq (the chosen posture, capped by any exit timetable)")
        _shade_events(top, scenario, label=True)
        top.legend(loc="lower right", ncol=3, fontsize=8)
        for ax, var in zip(axes, variables):
            band = results.band(var).reset_index()
            _fan(ax, band, scenario_color(0))
            _style_fan(ax, var, [band])
            _shade_events(ax, scenario)
        fig.suptitle(f"{scenario.name}: trajectories, {_runs(results.n_runs)} "
                     "(line = median, bands = 50% and 90% of runs, shading = scheduled events)")
        return _save(fig, path)


# ---------------------------------------------------------------------- several scenarios
def plot_comparison(comparison, path) -> Path:
    """Overlaid outcome distributions of several scenarios (common random numbers).

    Probabilities are grouped bars (one colour per scenario); numeric outcomes are overlaid step
    histograms on common bins with each scenario's median as a dashed line.

    Args:
        comparison: A ``sim.engine.Comparison``.
        path: PNG file to write.
    """
    names, results = comparison.names, comparison.results
    colors = scenario_colors(len(names))
    common = set.intersection(*(set(r.outcome_names) for r in results))
    booleans, months, numbers = _outcome_kinds(common)
    sizes = [r.n_runs for r in results]
    drawn, constants = [], []
    for name in months + numbers:
        columns = [r.outcome_reader(name) for r in results]  # read in chunks: bounded memory
        stats = [column_statistics(c, (0.5,)) for c in columns]
        seen = [st for st in stats if st["n"]]
        lo = min((st["min"] for st in seen), default=np.nan)
        hi = max((st["max"] for st in seen), default=np.nan)
        same = _constant(name, sum(st["n"] for st in stats), lo, hi, OUTCOME_COLUMNS[name][0])
        if same:
            constants.append(same)
        else:
            drawn.append((name, columns, stats, lo, hi))
    with plt.rc_context(_STYLE):
        bars = max(len(booleans), 1) * len(names)
        fig, top, axes = _grid_with_wide_first(len(drawn), 4,
                                               wide_rows=1 if bars <= 8 else (2 if bars <= 20 else 3))
        if booleans:
            _probability_bars(top, booleans, [(nm, [column_statistics(r.outcome_reader(b), ())
                                                    .get("mean", 0.0) for b in booleans], c)
                                              for nm, r, c in zip(names, results, colors)])
            top.legend(loc="lower right", frameon=False)
        for ax, (name, columns, stats, lo, hi) in zip(axes, drawn):
            kind = OUTCOME_COLUMNS[name][0]
            title, unit = _label(name)
            to_dates = [(lambda x, start=r.scenario.start: _month_to_date(start, x)) if kind == "month"
                        else None for r in results]
            log = False
            if kind == "month":
                first = min(_month_to_date(r.scenario.start, -0.5) for r in results)
                last = max(_month_to_date(r.scenario.start, r.scenario.horizon_months - 0.5) for r in results)
                edges = np.linspace(first, last, 21)
            else:
                pooled = PooledReader(columns)
                spread = column_statistics(pooled, (0.01, 0.99))
                log = spans_decades(lo, spread[0.01], spread[0.99])
                edges = _edges(lo, hi, log, not log and hi - lo <= 40 and column_is_integral(pooled))
            for column, st, n, to_date, nm, c in zip(columns, stats, sizes, to_dates, names, colors):
                if st["n"]:
                    _bars(ax, edges, column_histogram(column, edges, to_date), n, outline=True,
                          lw=1.8, color=c, label=nm)
                    ax.axvline(st[0.5] if to_date is None else to_date(st[0.5]), color=c, lw=1.1,
                               ls="--")
            if log:
                ax.set_xscale("log")
                ax.xaxis.set_major_locator(_value_locator(True, lo, hi))
                ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
            if kind == "month":
                date_axis(ax)
                shares = ", ".join(f"{100 * st['n'] / n:.0f}%" for st, n in zip(stats, sizes))
                ax.set_title(f"{title}\n(happens in {shares} of runs)")
                ax.set_xlabel("date")
            else:
                ax.xaxis.set_major_formatter(FuncFormatter(_percent_tick if name in SHARE_OUTCOMES
                                                           else _thousands))
                ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
                ax.set_title(title)
                ax.set_xlabel(unit + (" (log scale)" if log else ""))
            _percent_of_runs_axis(ax)
        if not booleans and axes:
            axes[0].legend(frameon=False)
        _footnote(fig, constants)
        fig.suptitle(f"{' vs '.join(names)}: outcomes ({_runs(sizes[0])} each, common random numbers; "
                     "dashed lines = medians)")
        return _save(fig, path)


def plot_comparison_trajectories(comparison, path) -> Path:
    """Overlaid fan charts (median and 50% band per scenario), US troops on top.

    Args:
        comparison: A ``sim.engine.Comparison``.
        path: PNG file to write.
    """
    names, results = comparison.names, comparison.results
    colors = scenario_colors(len(names))
    shared = set.intersection(*(set(r.quantiles["variable"]) for r in results))
    variables = [v for v in FAN_VARIABLES if v in shared]
    with plt.rc_context(_STYLE):
        fig, top, axes = _grid(len(variables), 2, top_height=2.6, width=14, row_h=2.7)
        bands = [r.band("us_troops").reset_index() for r in results]
        for band, nm, c in zip(bands, names, colors):
            _fan(top, band, c, label=nm, outer=False)
        _style_fan(top, "us_troops", bands)
        top.set_title("US troops in Iraq (the chosen posture, capped by any exit timetable)")
        top.legend(loc="lower right", ncol=min(len(names), 4), fontsize=8)
        for ax, var in zip(axes, variables):
            bands = [r.band(var).reset_index() for r in results]
            for band, nm, c in zip(bands, names, colors):
                _fan(ax, band, c, label=nm, outer=False)
            _style_fan(ax, var, bands)
        fig.suptitle(f"{' vs '.join(names)}: trajectories (lines = medians, bands = 50% of runs)")
        return _save(fig, path)
