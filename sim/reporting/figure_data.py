"""What the run and comparison figures show, as plain data: numbers, text and colours.

``sim.reporting.plots`` reads a result into these objects; ``sim.reporting.figures`` draws them
with matplotlib. The split lets the drawing process (``sim.reporting.drawing``) load only
matplotlib and numpy, and so be ready, its figures' frames prepared, before the runs end
(``docs/performance.md``, "Time to the first result"). This module imports only numpy.

Dates are days since 1970-01-01 (matplotlib's date numbers under its default epoch).
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field

import numpy as np

_EPOCH = _dt.date(1970, 1, 1)


def month_to_days(start: str, months) -> np.ndarray:
    """Dates, in days since 1970-01-01, of (fractional) months after ``start`` (YYYY-MM)."""
    y, m = (int(v) for v in start.split("-"))
    base = float((_dt.date(y, m, 1) - _EPOCH).days)
    return base + np.asarray(months, dtype=float) * 365.25 / 12


# ---------------------------------------------------------------------- numbers for people
def thousands(x, _pos=None) -> str:
    """Tick label: 2,500 / 40k / 1.2M / 0.45."""
    if abs(x) >= 1e6:
        return f"{x / 1e6:.3g}M"
    if abs(x) >= 1e4:
        return f"{x / 1e3:.3g}k"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.3g}"


def percent(x, _pos=None) -> str:
    """A share as a percentage: 24% / 3.5% / <0.01%."""
    if x == 0:
        return "0%"
    return "<0.01%" if abs(x) < 1e-4 else f"{100 * x:.2g}%"


def percent_tick(x, _pos=None) -> str:
    """Tick label of a share: 20% / 0.01% / 0.000001% (never in powers of ten)."""
    return np.format_float_positional(100 * x, precision=3, fractional=False, trim="-") + "%"


# ---------------------------------------------------------------------- outcome grids
@dataclass
class Counts:
    """One scenario's histogram in a panel: ``counts`` in the panel's bins out of ``runs``, and
    where its dashed median line goes (on the panel's x axis)."""
    label: str
    color: str
    counts: np.ndarray
    runs: int
    median: float


@dataclass
class Histograms:
    """One panel of an outcome grid: a histogram per scenario on common bins ``edges``.

    ``dates``: the x axis is calendar dates (``edges`` and medians in days since 1970-01-01);
    ``log``: a log axis; ``ticks``: ``"thousands"`` or ``"percent"`` (a share); ``span``: the
    values' range, for the ticks of one scenario's panel; ``note``: median and 90% interval."""
    title: str
    xlabel: str
    edges: np.ndarray
    series: list[Counts]
    dates: bool = False
    log: bool = False
    ticks: str = "thousands"
    span: tuple[float, float] = (np.nan, np.nan)
    note: str | None = None


@dataclass
class Probabilities:
    """The bar chart of the yes/no outcomes: their names, then ``(scenario, probabilities,
    colour)`` for each scenario."""
    names: list[str]
    series: list[tuple[str, list[float], str]]


@dataclass
class OutcomesFigure:
    """The outcomes grid of ``iraqsim run`` (one scenario) or ``compare`` (``overlaid``): the
    bar chart of probabilities first, over ``wide_rows`` rows, then a panel an outcome."""
    title: str
    probabilities: Probabilities | None
    panels: list[Histograms]
    constants: list[str] = field(default_factory=list)  # outcomes the same in every run
    overlaid: bool = False
    wide_rows: int = 1  # rows the bar chart spans (it grows with its bars)


# ---------------------------------------------------------------------- fan charts
@dataclass
class Band:
    """One scenario's band of a trajectory variable, month by month (``date``: datetime64)."""
    label: str | None
    color: str
    date: np.ndarray
    p05: np.ndarray
    p25: np.ndarray
    p50: np.ndarray
    p75: np.ndarray
    p95: np.ndarray


@dataclass
class Fan:
    """One fan-chart panel. ``scale``: ``"log"``, ``"stages"`` (the exit stages, named by
    ``stages``), or ``"linear"`` with the y range ``ylim``."""
    title: str
    ylabel: str
    bands: list[Band]
    scale: str = "linear"
    ylim: tuple[float, float] | None = None
    stages: dict[int, str] | None = None


@dataclass
class TrajectoriesFigure:
    """The fan charts of ``iraqsim run`` (median, 50% and 90% bands) or ``compare``
    (``overlaid``: median and 50% band per scenario), US troops on top. ``events``: scheduled
    events as ``(first day, last day, label)``, shaded in every panel and named in the top one."""
    title: str
    troops: Fan
    panels: list[Fan]
    events: list[tuple[float, float, str]] = field(default_factory=list)
    overlaid: bool = False
