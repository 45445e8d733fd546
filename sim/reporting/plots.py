"""The run and comparison figures: what they show, read from results, and drawn.

``plot_*`` read a result into plain data (``sim.reporting.figure_data``) and draw it with
``sim.reporting.figures``; ``iraqsim run`` and ``compare`` read here and draw in their drawing
process (``sim.reporting.save``), which never loads the engine. Importing this module does not
load matplotlib. Functions (each writes one PNG and returns its path):

* ``plot_outcomes(results, path)`` — probabilities of the yes/no outcomes and histograms of the
  numeric ones for one scenario (``outcomes_figure``).
* ``plot_trajectories(results, path)`` — fan charts (median, 50% and 90% bands), US troops on
  top and scheduled events shaded (``trajectories_figure``).
* ``plot_comparison(comparison, path)`` — the same outcomes overlaid for several scenarios run
  with common random numbers (``comparison_figure``).
* ``plot_comparison_trajectories(comparison, path)`` — overlaid fan charts (median and 50% band;
  ``comparison_trajectories_figure``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sim.engine.columns import (
    PooledReader, column_histogram, column_is_integral, column_statistics)
from sim.model.exit import STAGE_NAMES
from sim.model.outcomes import OUTCOME_ALIASES, OUTCOME_COLUMNS, TRAJECTORY_VARIABLES, variable_name
from sim.reporting.figure_data import (
    Band, Counts, Fan, Histograms, OutcomesFigure, Probabilities, TrajectoriesFigure,
    month_to_days, percent, thousands)
from sim.reporting.palette import PROBABILITY, TROOPS, scenario_color, scenario_colors

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

#: Title of the troops panel above the fan charts.
TROOPS_TITLE = "US troops in Iraq (the chosen posture, capped by any exit timetable)"


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


def _runs(n: int) -> str:
    return f"{n:,} run" + ("" if n == 1 else "s")


def spans_decades(minimum: float, p01: float, p99: float) -> bool:
    """Log axis: every value positive and the middle 98% spanning more than a factor 10 (on a
    linear axis most runs would then fall in one bar)."""
    return minimum > 0 and p01 > 0 and p99 / p01 > 10


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


def _events(scenario) -> list[tuple[float, float, str]]:
    """Each scheduled event as ``(first day, last day, label)`` (days since 1970-01-01)."""
    shaded = []
    for ev in getattr(scenario, "events", []):
        stop = min(ev.last_month + 1, scenario.horizon_months)
        x0, x1 = month_to_days(scenario.start, [ev.month, max(stop, ev.month + 1)])
        shaded.append((float(x0), float(x1), event_label(ev, scenario)))
    return shaded


def _constant(name: str, count: int, lo: float, hi: float, kind: str) -> str | None:
    """A sentence for an outcome with nothing to draw (no value, or one value in every run),
    shown under the figure instead of an empty panel; None if it varies."""
    title, unit = _label(name)
    if count == 0:
        return f"{title}: never happens"
    if lo == hi and kind != "month":
        return f"{title}: {thousands(lo)} {unit} in every run"
    return None


def _wide_rows(booleans: int, scenarios: int, overlaid: bool) -> int:
    """Rows the probability bars span in an outcomes grid (they grow with their bars)."""
    if not overlaid:
        return 1 if booleans <= 6 else 2
    bars = max(booleans, 1) * scenarios
    return 1 if bars <= 8 else (2 if bars <= 20 else 3)


def expected_shapes(scenarios: int) -> list[tuple]:
    """The shapes of the two figures of a job of ``scenarios`` scenarios, known before it runs
    (for ``sim.reporting.figures.prepare``): every outcome and trajectory of the contract drawn.
    A guess: an outcome the same in every run leaves a panel out, which changes the shape only
    if it empties a row (its figure then makes its own frame)."""
    booleans, months, numbers = _outcome_kinds(OUTCOME_COLUMNS)
    fans = [v for v in FAN_VARIABLES if v in TRAJECTORY_VARIABLES]
    return [("outcomes", len(months) + len(numbers), _wide_rows(len(booleans), scenarios, scenarios > 1)),
            ("fans", len(fans))]


def _probabilities(booleans: list[str], results, names, colors) -> Probabilities | None:
    """The bar chart's data: each scenario's probability of each yes/no outcome."""
    if not booleans:
        return None
    return Probabilities([_label(b)[0] for b in booleans],
                         [(nm, [column_statistics(r.outcome_reader(b), ()).get("mean", 0.0)
                                for b in booleans], c) for nm, r, c in zip(names, results, colors)])


def _band(results, variable: str, label: str | None, color: str) -> Band:
    band = results.bands[variable_name(variable)]
    return Band(label, color, band["date"], *(band[q] for q in ("p05", "p25", "p50", "p75", "p95")))


def _fan(variable: str, bands: list[Band]) -> Fan:
    """A fan-chart panel: its title and unit, and the scale its bands call for (a log scale
    when they span orders of magnitude, the whole 0-1 scale for an index, named exit stages)."""
    meta = TRAJECTORY_VARIABLES[variable]
    ylabel = meta.unit.replace(": ", "\n", 1) if meta.is_index else meta.unit
    lows = np.concatenate([b.p05 for b in bands])
    highs = np.concatenate([b.p95 for b in bands])
    if meta.log and lows.size and np.nanmin(lows) > 0 and np.nanmax(highs) / np.nanmin(lows) > 30:
        return Fan(meta.label, ylabel, bands, scale="log")
    if variable == "exit_stage":
        return Fan(meta.label, "stage", bands, scale="stages",
                   stages={int(k): str(v) for k, v in STAGE_NAMES.items()})
    if meta.is_index:
        return Fan(meta.label, ylabel, bands, ylim=(0.0, 1.0))
    top = max(float(np.nanmax(highs)) * 1.15, 1.0) if highs.size else 1.0
    return Fan(meta.label, ylabel, bands, ylim=(0, top))


# ---------------------------------------------------------------------- figures' data
def outcomes_figure(results) -> OutcomesFigure:
    """What ``plot_outcomes`` draws for one ``Results``: the probability of each yes/no
    outcome, a histogram of each numeric one (in % of runs, with the median and the 90% interval;
    on a log scale where runs span orders of magnitude) and of each timing one (on calendar
    dates, in 3-month bars); an outcome the same in every run gets a line under the figure
    instead of an empty panel. Each column is read in chunks: memory does not grow with runs."""
    scenario = results.scenario
    booleans, months, numbers = _outcome_kinds(results.outcome_names)
    n = results.n_runs
    color = scenario_color(0)
    panels, constants = [], []
    for name in months + numbers:
        column = results.outcome_reader(name)
        kind = OUTCOME_COLUMNS[name][0]
        st = column_statistics(column, (0.01, 0.05, 0.5, 0.95, 0.99))
        same = _constant(name, st["n"], st.get("min"), st.get("max"), kind)
        if same:
            constants.append(same)
            continue
        title, unit = _label(name)
        if kind == "month":
            month_edges = np.arange(0, scenario.horizon_months + 1, 3) - 0.5
            panels.append(Histograms(
                f"{title}\n(happens in {100 * st['n'] / n:.1f}% of runs)", "date (3-month bars)",
                month_to_days(scenario.start, month_edges),
                [Counts("", color, column_histogram(column, month_edges), n,
                        float(month_to_days(scenario.start, st[0.5])))], dates=True))
            continue
        share = name in SHARE_OUTCOMES
        log = spans_decades(st["min"], st[0.01], st[0.99])
        small_counts = not log and st["max"] - st["min"] <= 40 and column_is_integral(column)
        edges = _edges(st["min"], st["max"], log, small_counts)
        number = percent if share else thousands
        panels.append(Histograms(
            title, unit + (" (log scale)" if log else ""), edges,
            [Counts("", color, column_histogram(column, edges), n, st[0.5])], log=log,
            ticks="percent" if share else "thousands", span=(st["min"], st["max"]),
            note=f"median {number(st[0.5])}\n90%: {number(st[0.05])} to {number(st[0.95])}"))
    return OutcomesFigure(
        f"{scenario.name}: outcomes from {scenario.month_dates()[0]:%b %Y} over "
        f"{scenario.horizon_months} months ({_runs(n)}; dashed line = median)",
        _probabilities(booleans, [results], [""], [PROBABILITY]), panels, constants,
        wide_rows=_wide_rows(len(booleans), 1, False))


def trajectories_figure(results) -> TrajectoriesFigure:
    """What ``plot_trajectories`` draws for one ``Results``: the median and the bands holding
    50% and 90% of runs, month by month, on calendar dates; on top the US troop level (the
    lever, capped by any exit timetable); scheduled events shaded."""
    scenario = results.scenario
    present = set(results.bands)
    color = scenario_color(0)
    troops = _fan("us_troops", [_band(results, "us_troops", None, TROOPS)])
    troops.title = TROOPS_TITLE
    return TrajectoriesFigure(
        f"{scenario.name}: trajectories, {_runs(results.n_runs)} "
        "(line = median, bands = 50% and 90% of runs, shading = scheduled events)",
        troops, [_fan(v, [_band(results, v, None, color)]) for v in FAN_VARIABLES if v in present],
        _events(scenario))


def comparison_figure(comparison) -> OutcomesFigure:
    """What ``plot_comparison`` draws: grouped probability bars (a colour a scenario) and, for
    each numeric outcome, step histograms on common bins with each scenario's median."""
    names, results = comparison.names, comparison.results
    colors = scenario_colors(len(names))
    common = set.intersection(*(set(r.outcome_names) for r in results))
    booleans, months, numbers = _outcome_kinds(common)
    sizes = [r.n_runs for r in results]
    panels, constants = [], []
    for name in months + numbers:
        columns = [r.outcome_reader(name) for r in results]  # read in chunks: bounded memory
        stats = [column_statistics(c, (0.5,)) for c in columns]
        seen = [st for st in stats if st["n"]]
        lo = min((st["min"] for st in seen), default=np.nan)
        hi = max((st["max"] for st in seen), default=np.nan)
        kind = OUTCOME_COLUMNS[name][0]
        same = _constant(name, sum(st["n"] for st in stats), lo, hi, kind)
        if same:
            constants.append(same)
            continue
        title, unit = _label(name)
        log = False
        if kind == "month":
            first = min(month_to_days(r.scenario.start, -0.5) for r in results)
            last = max(month_to_days(r.scenario.start, r.scenario.horizon_months - 0.5) for r in results)
            edges = np.linspace(first, last, 21)
        else:
            pooled = PooledReader(columns)
            spread = column_statistics(pooled, (0.01, 0.99))
            log = spans_decades(lo, spread[0.01], spread[0.99])
            edges = _edges(lo, hi, log, not log and hi - lo <= 40 and column_is_integral(pooled))
        series = []
        for column, st, n, r, nm, c in zip(columns, stats, sizes, results, names, colors):
            if not st["n"]:
                continue
            if kind == "month":
                to_days = (lambda x, start=r.scenario.start: month_to_days(start, x))
                series.append(Counts(nm, c, column_histogram(column, edges, to_days), n,
                                     float(to_days(st[0.5]))))
            else:
                series.append(Counts(nm, c, column_histogram(column, edges), n, st[0.5]))
        if kind == "month":
            shares = ", ".join(f"{100 * st['n'] / n:.0f}%" for st, n in zip(stats, sizes))
            panels.append(Histograms(f"{title}\n(happens in {shares} of runs)", "date", edges,
                                     series, dates=True))
        else:
            panels.append(Histograms(title, unit + (" (log scale)" if log else ""), edges, series,
                                     log=log, span=(lo, hi),
                                     ticks="percent" if name in SHARE_OUTCOMES else "thousands"))
    return OutcomesFigure(
        f"{' vs '.join(names)}: outcomes ({_runs(sizes[0])} each, common random numbers; "
        "dashed lines = medians)", _probabilities(booleans, results, names, colors), panels,
        constants, overlaid=True, wide_rows=_wide_rows(len(booleans), len(names), True))


def comparison_trajectories_figure(comparison) -> TrajectoriesFigure:
    """What ``plot_comparison_trajectories`` draws: each scenario's median and 50% band, in its
    colour, US troops on top."""
    names, results = comparison.names, comparison.results
    colors = scenario_colors(len(names))
    shared = set.intersection(*(set(r.bands) for r in results))

    def fan(variable):
        return _fan(variable, [_band(r, variable, nm, c) for r, nm, c in zip(results, names, colors)])

    troops = fan("us_troops")
    troops.title = TROOPS_TITLE
    return TrajectoriesFigure(
        f"{' vs '.join(names)}: trajectories (lines = medians, bands = 50% of runs)", troops,
        [fan(v) for v in FAN_VARIABLES if v in shared], overlaid=True)


# ---------------------------------------------------------------------- drawn
def plot_outcomes(results, path) -> Path:
    """Distribution grid of one scenario's outcomes (``outcomes_figure``) into the PNG ``path``.

    Args:
        results: A ``sim.engine.Results``.
        path: PNG file to write.
    """
    from sim.reporting.figures import draw_outcomes

    return draw_outcomes(outcomes_figure(results), path)


def plot_trajectories(results, path) -> Path:
    """Fan charts of one scenario's trajectories (``trajectories_figure``) into the PNG ``path``.

    Args:
        results: A ``sim.engine.Results``.
        path: PNG file to write.
    """
    from sim.reporting.figures import draw_trajectories

    return draw_trajectories(trajectories_figure(results), path)


def plot_comparison(comparison, path) -> Path:
    """Overlaid outcome distributions of several scenarios (common random numbers;
    ``comparison_figure``) into the PNG ``path``.

    Args:
        comparison: A ``sim.engine.Comparison``.
        path: PNG file to write.
    """
    from sim.reporting.figures import draw_outcomes

    return draw_outcomes(comparison_figure(comparison), path)


def plot_comparison_trajectories(comparison, path) -> Path:
    """Overlaid fan charts, median and 50% band a scenario, US troops on top
    (``comparison_trajectories_figure``) into the PNG ``path``.

    Args:
        comparison: A ``sim.engine.Comparison``.
        path: PNG file to write.
    """
    from sim.reporting.figures import draw_trajectories

    return draw_trajectories(comparison_trajectories_figure(comparison), path)
