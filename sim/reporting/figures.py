"""The run and comparison figures drawn from plain data (``sim.reporting.figure_data``).

Every figure labels its axes with units, puts calendar dates on time axes, shows booleans as
probabilities, and draws US troop levels above the trajectories. matplotlib runs headless (Agg).
``sim.reporting.plots`` reads results into the data these functions draw:

* ``draw_outcomes(data, path)``: the bar chart of probabilities and a histogram per outcome
  (one scenario filled, several overlaid as step lines).
* ``draw_trajectories(data, path)``: fan charts, US troops on top, scheduled events shaded.

The figures' frames (the figure, its axes, their ticks) can be made ahead with ``prepare``: the
drawing process (``sim.reporting.drawing``) makes them while the runs compute, and each figure
process it forks takes its own copy. This module imports matplotlib and numpy, not the engine.
Also here: ``save_figure`` and ``date_axis``, which every figure of the package uses.
"""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import FuncFormatter, PercentFormatter  # noqa: E402

from sim.reporting.figure_data import (  # noqa: E402
    Fan, OutcomesFigure, TrajectoriesFigure, percent_tick, thousands)
from sim.reporting.palette import EVENT_FILL, EVENT_TEXT, INK  # noqa: E402

#: The figures' style. Glyphs are drawn from their outlines without FreeType's hinting (snapping
#: them to the pixel grid), which costs more than drawing them: ~0.1 s of the outcomes figure,
#: the last thing `iraqsim run` waits for, for a difference not visible at 110 dpi
#: (``docs/performance.md``, round 20).
_STYLE = {"font.size": 11, "axes.titlesize": 12, "axes.labelsize": 10, "xtick.labelsize": 9,
          "ytick.labelsize": 9, "legend.fontsize": 9, "figure.titlesize": 15,
          "axes.spines.top": False, "axes.spines.right": False, "axes.titley": 1.0,
          "text.hinting": "no_hinting"}
_DPI = 110

#: Layouts of the run figures: (panel columns, width and row height in inches, and for the fan
#: charts the troops panel's height).
OUTCOME_GRID = {"cols": 4, "width": 16.0, "row_h": 3.2}
FAN_GRID = {"cols": 2, "top_height": 2.6, "width": 14.0, "row_h": 2.7}

#: Ticks made ahead (x, y) on each panel of a prepared frame: about as many as its panels draw
#: (an axis that needs more makes the rest; one made and not drawn costs ~0.5 ms).
_TICKS_AHEAD = {"outcomes": (6, 4), "fans": (5, 6)}


# ---------------------------------------------------------------------- shared by every figure
def date_axis(ax) -> None:
    """Years on the time axis (every year for horizons up to eight years, then every 2 or 5)."""
    first, last = ax.get_xlim()
    years = (last - first) / 365.25
    ax.xaxis.set_major_locator(mdates.YearLocator(1 if years <= 8 else 2 if years <= 16 else 5))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
    ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())


def save_figure(fig, target, dpi: int, **kwargs) -> None:
    """Save ``fig`` to ``target`` (a path or a file object) and close it.

    A figure with a layout engine (constrained layout) is laid out at the dpi it is saved with
    and then frozen, so ``savefig`` draws it once: otherwise it first draws the whole figure
    without rendering, only to run the layout, then draws it again (with dozens of panels each
    draw lays out hundreds of tick labels). The pixels are the same (tested; compared on the
    run, comparison, backtest, sweep and report figures).

    A PNG (without other ``savefig`` options) is rendered by matplotlib and written by
    ``png_bytes``: the same pixels as ``savefig``'s PNG (tested), written ~0.05 s sooner for a
    full grid of panels (the user waits for it).
    """
    named = Path(target).suffix.lstrip(".").lower() if isinstance(target, (str, Path)) else None
    png = (kwargs.get("format") or named) == "png" and set(kwargs) <= {"format"}
    layout = fig.get_layout_engine()
    if layout is not None:
        fig.set_dpi(dpi)
        layout.execute(fig)
        fig.set_layout_engine(None)
    try:
        if not png:
            fig.savefig(target, dpi=dpi, **kwargs)
            return
        fig.set_dpi(dpi)
        width, height = fig.canvas.get_width_height()
        pixels = io.BytesIO()
        fig.savefig(pixels, dpi=dpi, format="rgba")  # savefig's own rendering, unencoded
        data = png_bytes(np.frombuffer(pixels.getbuffer(), np.uint8).reshape(height, width, 4), dpi)
        if isinstance(target, (str, Path)):
            Path(target).write_bytes(data)
        else:
            target.write(data)
    finally:
        plt.close(fig)


def png_bytes(rgba: np.ndarray, dpi: float) -> bytes:
    """A PNG file of 8-bit RGBA pixels, shape (height, width, 4), at ``dpi``: rows unfiltered,
    zlib level 1. Pillow (``savefig``'s writer) tries all five PNG filters on every row, ~0.05 s
    of the ~0.085 s it takes for a full grid of panels; on these flat-coloured charts the
    unfiltered file is ~4% larger."""
    height, width, _ = rgba.shape
    rows = np.zeros((height, 1 + 4 * width), np.uint8)  # each row: filter type 0, then pixels
    rows[:, 1:] = rgba.reshape(height, -1)

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    per_metre = round(dpi / 0.0254)
    return b"".join([b"\x89PNG\r\n\x1a\n",
                     chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)),
                     chunk(b"pHYs", struct.pack(">IIB", per_metre, per_metre, 1)),
                     chunk(b"tEXt", b"Software\0matplotlib " + matplotlib.__version__.encode()),
                     chunk(b"IDAT", zlib.compress(rows.tobytes(), 1)),
                     chunk(b"IEND", b"")])


def _save(fig, path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_figure(fig, path, _DPI)
    return path


# ---------------------------------------------------------------------- frames
#: Frames made ahead by ``prepare``, by layout (without its rows), with their rows. A figure takes
#: (pops) the frame of its layout if it has at least its rows, and drops the rows it does not
#: need; in the drawing process each figure process is forked with its own copy of them all.
_PREPARED: dict[tuple, tuple] = {}


def _gridspec(fig, rows: int, cols: int, height_ratios=None, hspace: float = 0.75,
              top: float = 0.95, left: float = 0.75):
    """A grid with fixed margins in inches, ``top`` above it for the figure's title (no layout
    engine: laying out dozens of tick labels twice cost more than drawing the figure)."""
    width, height = fig.get_size_inches()
    return fig.add_gridspec(rows, cols, height_ratios=height_ratios, left=left / width,
                            right=1 - 0.3 / width, top=1 - top / height, bottom=0.75 / height,
                            hspace=hspace, wspace=0.3)


def _fan_cells(rows: int, cols: int) -> list[tuple[int, int]]:
    """The cells of the panels under the troops panel (row 0), in order."""
    return [(1 + i // cols, i % cols) for i in range(rows * cols)]


def _wide_first_cells(n_panels: int, cols: int, wide_rows: int) -> list[tuple[int, int]]:
    """The cells of ``n_panels`` panels after a first panel two columns wide and ``wide_rows``
    high (whole rows: the panels past ``n_panels`` are hidden)."""
    cells, r = [], 0
    while len(cells) < n_panels:
        for c in range(cols):
            if not (r < wide_rows and c < 2):
                cells.append((r, c))
        r += 1
    return cells


def _place(fig, first, axes, kind: str, rows: int, *shape):
    """Size ``fig`` for ``rows`` rows of panels and put its axes in their cells (a frame of more
    rows drops the axes it no longer needs): the same positions as axes made in them."""
    if kind == "outcomes":
        cols, wide_rows, width, row_h = shape
        fig.set_size_inches(width, row_h * rows + 0.95)
        gs = _gridspec(fig, rows, cols, top=1.3)  # the first row's titles take two lines
        spans = [gs[:wide_rows, :2]]
        cells = [c for c in _wide_first_cells(rows * cols, cols, wide_rows) if c[0] < rows]
    else:
        cols, top_height, width, row_h = shape
        fig.set_size_inches(width, top_height + row_h * rows + 0.6)
        gs = _gridspec(fig, rows + 1, cols, height_ratios=[top_height] + [row_h] * rows,
                       hspace=0.6, left=1.05)  # room for the exit stages' names beside their axis
        spans = [gs[0, :]]
        cells = _fan_cells(rows, cols)
    spans += [gs[rr, cc] for rr, cc in cells]
    if first is None:  # a new frame
        first = fig.add_subplot(spans[0])
        return fig, first, [fig.add_subplot(span) for span in spans[1:]]
    first.set_subplotspec(spans[0])
    for ax, span in zip(axes, spans[1:]):
        ax.set_subplotspec(span)
    for ax in axes[len(cells):]:
        ax.remove()
    return fig, first, axes[:len(cells)]


def _outcomes_layout(n_panels: int, wide_rows: int) -> tuple:
    cells = _wide_first_cells(n_panels, OUTCOME_GRID["cols"], wide_rows)
    rows = max(cells[-1][0] + 1 if cells else 0, wide_rows)
    return ("outcomes", rows, OUTCOME_GRID["cols"], wide_rows, OUTCOME_GRID["width"],
            OUTCOME_GRID["row_h"])


def _fans_layout(n_panels: int) -> tuple:
    rows = int(np.ceil(n_panels / FAN_GRID["cols"]))
    return ("fans", rows, FAN_GRID["cols"], FAN_GRID["top_height"], FAN_GRID["width"],
            FAN_GRID["row_h"])


def _frame(layout: tuple, n_panels: int):
    """The frame of ``layout`` (made ahead, or now), its panels past ``n_panels`` hidden."""
    kind, rows, *shape = layout
    key = (kind, *shape)
    if key in _PREPARED and _PREPARED[key][0] >= rows:
        _, fig, first, axes = _PREPARED.pop(key)
    else:
        fig, first, axes = plt.figure(), None, []
    fig, first, axes = _place(fig, first, axes, kind, rows, *shape)
    for ax in axes[n_panels:]:
        ax.set_visible(False)
    return fig, first, axes[:n_panels]


def prepare(shapes) -> None:
    """Make the frames of figures of ``shapes`` ahead, with their ticks: ``("outcomes", panels,
    wide_rows)`` for an outcomes grid, ``("fans", panels)`` for fan charts
    (``sim.reporting.plots.expected_shapes``). A figure of one of these shapes, or of fewer rows,
    then only draws its data (~0.25 s sooner for the outcomes grid). The pixels are the same as
    those of a frame made with the figure (tested)."""
    layouts = {"outcomes": _outcomes_layout, "fans": _fans_layout}
    with plt.rc_context(_STYLE):
        for kind, panels, *shape in shapes:
            _, rows, *rest = layouts[kind](panels, *shape)
            fig, first, axes = _place(plt.figure(), None, [], kind, rows, *rest)
            x, y = _TICKS_AHEAD[kind]
            for ax in [first, *axes[:panels]]:
                ax.xaxis.get_major_ticks(x)
                ax.yaxis.get_major_ticks(y)
            _PREPARED[(kind, *rest)] = (rows, fig, first, axes)


# ---------------------------------------------------------------------- outcome grids
def _value_locator(log: bool, lo: float, hi: float):
    """Ticks of a value axis: about five; on a log axis 1 and 3 of each decade over up to four
    decades, else every decade or every other one (no minor ticks: the labels say enough)."""
    if not log:
        return matplotlib.ticker.MaxNLocator(5)
    decades = np.log10(hi / lo) if lo > 0 else np.inf
    return matplotlib.ticker.LogLocator(subs=(1.0, 3.0) if decades <= 4 else (1.0,), numticks=6)


def _percent_of_runs_axis(ax) -> None:
    """The y axis of a histogram: % of runs, four or five round ticks (each tick is drawn
    object by object: a grid of panels with fewer ticks is drawn sooner)."""
    ax.set_ylabel("% of runs")
    ax.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(4, steps=[1, 2, 5, 10]))


def _dates(days):
    """matplotlib date numbers of days since 1970-01-01 (the same under its default epoch)."""
    return np.asarray(days, dtype=float) + mdates.date2num(np.datetime64("1970-01-01"))


def _probability_bars(ax, names: list[str], series: list[tuple[str, list[float], str]]) -> None:
    """Horizontal bars of probabilities (one group per outcome, one bar per series)."""
    k = len(series)
    height = 0.55 / k  # the bars of an outcome fill the lower part of its row, its name the top
    y = np.arange(len(names))[::-1]
    for j, (label, probs, color) in enumerate(series):
        pos = y + 0.2 - height * (j + 0.5)
        bars = ax.barh(pos, probs, height=height * 0.92, color=color, label=label if k > 1 else None)
        for bar, p in zip(bars, probs):
            ax.text(min(p, 1.0) + 0.01, bar.get_y() + bar.get_height() / 2, f"{100 * p:.1f}%",
                    va="center", fontsize=8 if k > 2 else 9)
    for yy, name in zip(y, names):  # the outcome's name above its bars: no wide left margin
        ax.text(0.0, yy + 0.24, name, fontsize=9, va="bottom", ha="left")
    ax.set_yticks([])
    ax.set_ylim(-0.45, len(names) - 0.45)
    ax.set_xlim(0, 1.12)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_xlabel("probability (share of runs)")
    ax.set_title("How likely? (over the whole horizon)")
    ax.spines["left"].set_visible(False)
    ax.tick_params(axis="y", length=0)


def _footnote(fig, constants: list[str]) -> None:
    if constants:
        fig.text(0.01, 0.005, "Same in every run (not drawn): " + "; ".join(constants) + ".",
                 fontsize=9, color="#444444", va="bottom")


def _stats_note(ax, note: str) -> None:
    """Median and 90% interval, written in the panel's corner."""
    ax.text(0.98, 0.97, note, transform=ax.transAxes, ha="right", va="top", fontsize=9,
            bbox={"boxstyle": "round,pad=0.25", "fc": "white", "ec": "none", "alpha": 0.8})


def _bars(ax, edges: np.ndarray, counts: np.ndarray, n_runs: int, outline: bool = False,
          **style) -> None:
    """A histogram already counted (``counts`` in the bins ``edges``), in % of ``n_runs``: filled
    bars, or with ``outline`` a step line (to overlay several). One shape, not a patch a bar."""
    ax.stairs(counts * (100.0 / n_runs), edges, fill=not outline, baseline=0, **style)


def _histogram(ax, panel) -> None:
    """One scenario's histogram: filled bars, its median dashed, its statistics in the corner."""
    (one,) = panel.series
    edges = _dates(panel.edges) if panel.dates else panel.edges
    _bars(ax, edges, one.counts, one.runs, color=one.color)
    ax.axvline(_dates(one.median) if panel.dates else one.median, color=INK, lw=1.2, ls="--")
    if panel.dates:
        date_axis(ax)
    else:
        if panel.log:
            ax.set_xscale("log")
            ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
        ax.xaxis.set_major_formatter(FuncFormatter(percent_tick if panel.ticks == "percent"
                                                   else thousands))
        ax.xaxis.set_major_locator(_value_locator(panel.log, *panel.span))
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        _stats_note(ax, panel.note)
    ax.set_title(panel.title)
    ax.set_xlabel(panel.xlabel)


def _overlaid(ax, panel) -> None:
    """Several scenarios' histograms as step lines on common bins, each median dashed."""
    edges = _dates(panel.edges) if panel.dates else panel.edges
    for one in panel.series:
        _bars(ax, edges, one.counts, one.runs, outline=True, lw=1.8, color=one.color,
              label=one.label)
        ax.axvline(_dates(one.median) if panel.dates else one.median, color=one.color, lw=1.1,
                   ls="--")
    if panel.log:
        ax.set_xscale("log")
        ax.xaxis.set_major_locator(_value_locator(True, *panel.span))
        ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
    if panel.dates:
        date_axis(ax)
    else:
        ax.xaxis.set_major_formatter(FuncFormatter(percent_tick if panel.ticks == "percent"
                                                   else thousands))
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_title(panel.title)
    ax.set_xlabel(panel.xlabel)


def draw_outcomes(data: OutcomesFigure, path) -> Path:
    """Draw an outcomes grid into the PNG ``path``; return the path."""
    with plt.rc_context(_STYLE):
        fig, top, axes = _frame(_outcomes_layout(len(data.panels), data.wide_rows), len(data.panels))
        if data.probabilities:
            _probability_bars(top, data.probabilities.names, data.probabilities.series)
            if data.overlaid:
                top.legend(loc="lower right", frameon=False)
        elif not data.overlaid:
            top.set_visible(False)
        for ax, panel in zip(axes, data.panels):
            (_overlaid if data.overlaid else _histogram)(ax, panel)
            _percent_of_runs_axis(ax)
        if data.overlaid and not data.probabilities and axes:
            axes[0].legend(frameon=False)
        _footnote(fig, data.constants)
        fig.suptitle(data.title)
        return _save(fig, path)


# ---------------------------------------------------------------------- fan charts
def _fan(ax, band, outer: bool) -> None:
    x = band.date
    if outer:
        ax.fill_between(x, band.p05, band.p95, color=band.color, alpha=0.15, lw=0,
                        label=None if band.label else "90% of runs")
    ax.fill_between(x, band.p25, band.p75, color=band.color, alpha=0.35 if outer else 0.22, lw=0,
                    label=None if band.label else "50% of runs")
    ax.plot(x, band.p50, color=band.color, lw=1.8, label=band.label or "median")


def _style_fan(ax, fan: Fan) -> None:
    ax.set_title(fan.title)
    ax.set_ylabel(fan.ylabel, fontsize=8)
    if fan.scale == "log":
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(matplotlib.ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    elif fan.scale == "stages":  # stages are codes: name them
        ax.set_ylim(-0.3, 6.3)
        ax.set_yticks(list(fan.stages), list(fan.stages.values()), fontsize=7)
    else:
        ax.set_ylim(*fan.ylim)
    if fan.scale != "stages":
        ax.yaxis.set_major_formatter(FuncFormatter(thousands))
    dates = np.concatenate([b.date for b in fan.bands])
    if dates.size:
        ax.set_xlim(dates.min(), dates.max())
    date_axis(ax)
    ax.grid(axis="y", alpha=0.3)


def _shade_events(ax, events, label: bool = False) -> None:
    """Shade each scheduled event; with ``label``, name it (one row each, so none overlap)."""
    for i, (first, last, name) in enumerate(events):
        x0, x1 = _dates([first, last])
        ax.axvspan(x0, x1, color=EVENT_FILL, alpha=0.12, lw=0)
        if label:
            ax.text(x0, 0.96 - 0.11 * (i % 8), " " + name, transform=ax.get_xaxis_transform(),
                    fontsize=8, va="top", ha="left", color=EVENT_TEXT, clip_on=True)


def draw_trajectories(data: TrajectoriesFigure, path) -> Path:
    """Draw fan charts into the PNG ``path``; return the path."""
    outer = not data.overlaid
    with plt.rc_context(_STYLE):
        fig, top, axes = _frame(_fans_layout(len(data.panels)), len(data.panels))
        for band in data.troops.bands:
            _fan(top, band, outer)
        _style_fan(top, data.troops)
        _shade_events(top, data.events, label=True)
        top.legend(loc="lower right", ncol=min(len(data.troops.bands), 4) if data.overlaid else 3,
                   fontsize=8)
        for ax, fan in zip(axes, data.panels):
            for band in fan.bands:
                _fan(ax, band, outer)
            _style_fan(ax, fan)
            _shade_events(ax, data.events)
        fig.suptitle(data.title)
        return _save(fig, path)
