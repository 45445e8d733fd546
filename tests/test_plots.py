"""Plots draw the results they are given, with units, calendar dates and troop levels.

The figures are inspected before they are closed (``sim.reporting.figures._save`` is wrapped), so the
tests check what is drawn against the numbers in the results, not just that a file exists.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import time
from pathlib import Path

import matplotlib.dates as mdates
import matplotlib.image as mpimg
import numpy as np
import pytest

from sim import compare, load_scenario, run
from sim.reporting import figures as figures_module
from sim.reporting import plots
from sim.reporting import drawing as drawing_module
from sim.reporting import save as save_module
from sim.model.outcomes import OUTCOME_ALIASES, OUTCOME_COLUMNS
from sim.scenario.library import scenarios_dir

LIBRARY = scenarios_dir()


@pytest.fixture(scope="module")
def phased():
    """A scenario whose troops change over time and which has scheduled events."""
    return run(load_scenario(LIBRARY / "phased_exit.yaml"), runs=300, seed=2, progress=False)


@pytest.fixture(scope="module")
def pair():
    return compare([load_scenario(LIBRARY / "baseline.yaml"), load_scenario(LIBRARY / "rapid_exit.yaml")],
                   runs=200, seed=1, progress=False)


@pytest.fixture
def figures(monkeypatch):
    """Figures passed to ``_save`` (kept for inspection after they are written)."""
    kept = []
    real = figures_module._save

    def keep(fig, path):
        kept.append(fig)
        return real(fig, path)

    monkeypatch.setattr(figures_module, "_save", keep)
    return kept


def _is_real_png(path, min_height=800, min_width=1000):
    img = mpimg.imread(path)
    return img.shape[0] >= min_height and img.shape[1] >= min_width and float(img[..., :3].std()) > 0.05


def _by_title(fig, start):
    return next(ax for ax in fig.axes if ax.get_visible() and ax.get_title().startswith(start))


def _dates(ax):
    lo, hi = ax.get_xlim()
    return mdates.num2date(lo).date(), mdates.num2date(hi).date()


def _stairs(ax):
    """The heights and edges of the first histogram drawn in ``ax`` (a step patch)."""
    data = next(p for p in ax.patches if hasattr(p, "get_data")).get_data()
    return np.asarray(data.values), np.asarray(data.edges)


def test_trajectories_draw_the_bands_on_calendar_dates_with_troops_on_top(phased, figures, tmp_path):
    path = plots.plot_trajectories(phased, tmp_path / "t.png")
    assert _is_real_png(path)
    fig = figures[0]
    dates = phased.scenario.month_dates()
    troops_ax = fig.axes[0]
    assert troops_ax.get_title().startswith("US troops in Iraq") and troops_ax.get_ylabel() == "troops"
    # the median troop line is the p50 of the results, month by month: at most the chosen path
    # (2,500 -> 1,500 -> 0; a forced exit can only bring it lower)
    median = troops_ax.get_lines()[0].get_ydata()
    np.testing.assert_allclose(median, phased.band("us_troops")["p50"].to_numpy())
    chosen = np.interp(np.arange(len(median)), [0, 20, 32], [2500, 1500, 0])
    assert median[0] == 2500 and np.all(median <= chosen + 1e-6) and median[-1] == 0
    isis = _by_title(fig, "ISIS fighters in Iraq")
    np.testing.assert_allclose(isis.get_lines()[0].get_ydata(), phased.band("isis_fighters_iraq")["p50"].to_numpy())
    assert isis.get_ylabel() == "fighters"
    for ax in [a for a in fig.axes if a.get_visible()]:
        assert _dates(ax) == (dates[0], dates[-1])
        assert ax.get_ylabel()  # every panel has a unit
    # scheduled events are shaded and the troops panel names them in plain words, with dates
    texts = [t.get_text().strip() for t in troops_ax.texts]
    assert phased.scenario.events and len(texts) == len(phased.scenario.events)
    for event, text in zip(phased.scenario.events, texts):
        start = dates[event.month]
        assert text.startswith(event.title + ", ") and f"{start:%Y}" in text and "_" not in text
        assert "month" not in text
    assert texts[0] == "Regional war, Jan–Apr 2024"
    # indices are drawn on their whole scale, 0 to 1, with what 0 and 1 mean
    for var in ("ISF capability", "Withdrawal pressure", "Iranian influence"):
        ax = _by_title(fig, var)
        assert ax.get_ylim() == (0.0, 1.0) and "0 = none" in ax.get_ylabel()
    # every axis's labels inside the figure (the exit stages' names are the widest)
    fig.canvas.draw()
    for ax in [a for a in fig.axes if a.get_visible()]:
        for text in [*ax.get_yticklabels(), ax.yaxis.label]:
            if text.get_text():
                assert text.get_window_extent().x0 >= 0, text.get_text()


def test_outcomes_show_probabilities_and_histograms_in_percent_of_runs(phased, figures, tmp_path):
    path = plots.plot_outcomes(phased, tmp_path / "o.png")
    assert _is_real_png(path)
    fig = figures[0]
    df = phased.outcomes
    booleans = [c for c, (k, _) in OUTCOME_COLUMNS.items()
                if k == "bool" and c in df and c not in OUTCOME_ALIASES]
    bars_ax = _by_title(fig, "How likely?")
    widths = sorted(p.get_width() for p in bars_ax.patches)
    assert widths == pytest.approx(sorted(float(df[b].mean()) for b in booleans))
    assert "probability" in bars_ax.get_xlabel()
    peak = _by_title(fig, "Peak ISIS fighters in Iraq")
    assert peak.get_ylabel() == "% of runs" and peak.get_xlabel().startswith("fighters")
    assert _stairs(peak)[0].sum() == pytest.approx(100.0)
    p01, p99 = np.quantile(df["isis_peak"], [0.01, 0.99])  # orders of magnitude: a log axis
    assert peak.get_xscale() == ("log" if p99 / p01 > 10 else "linear")
    # timing outcomes are drawn on calendar dates inside the horizon
    when = _by_title(fig, "When ISIS resurges")
    share = df["months_to_resurgence"].notna().mean()
    assert f"{100 * share:.1f}% of runs" in when.get_title()
    if share > 0:
        assert _stairs(when)[0].sum() == pytest.approx(100 * share)
        first, last = _dates(when)
        assert first <= phased.scenario.month_dates()[0] + dt.timedelta(days=31) and last.year <= 2029


def test_outcomes_show_plain_names_shares_in_percent_and_titles_clear_of_the_heading(
        figures, tmp_path):
    """No deprecated alias is drawn (it repeats a column under its old name); the share of
    territory reads in percent; no panel's title runs into the figure's heading."""
    res = run(load_scenario(LIBRARY / "baseline.yaml"), runs=2000, seed=1, progress=False)
    plots.plot_outcomes(res, tmp_path / "o.png")
    fig = figures[0]
    panels = [ax for ax in fig.axes if ax.get_visible()]
    words = [ax.get_title() for ax in panels] + [t.get_text() for ax in panels for t in ax.texts]
    assert not any("Deprecated" in w or "expuls" in w for w in words)
    assert sum(ax.get_title().startswith("When Iraq demands") for ax in panels) == 1
    share = _by_title(fig, "Peak share of Sunni areas held by ISIS")
    assert share.get_xlabel().startswith("% of the Sunni-majority area")
    fig.canvas.draw()
    labels = [t.get_text() for t in share.get_xticklabels() if t.get_text()]
    assert labels and all(label.endswith("%") and "e-" not in label for label in labels)
    assert "%" in " ".join(t.get_text() for t in share.texts)  # median and 90% in percent
    for ax in panels[1:]:  # histograms: few round y ticks, no unlabelled minor ticks to draw
        lo, hi = ax.get_ylim()
        assert len([t for t in ax.get_yticks() if lo <= t <= hi]) <= 5
        assert len(ax.xaxis.get_minorticklocs()) == 0
    heading = fig._suptitle.get_window_extent()
    for ax in panels:
        assert ax.title.get_window_extent().y1 < heading.y0, ax.get_title()


def test_outcomes_say_so_when_an_outcome_never_varies(figures, tmp_path):
    res = run(load_scenario(LIBRARY / "baseline.yaml").with_changes(horizon_months=6), runs=50, seed=1,
              progress=False)
    plots.plot_outcomes(res, tmp_path / "o.png")
    fig = figures[0]
    constant = [c for c in ("us_troops_end", "leadership_strikes") if res.outcomes[c].nunique() == 1]
    assert constant  # six months of holding 2,500 troops: no strike and no exit
    footnote = " ".join(t.get_text() for t in fig.texts)
    titles = [ax.get_title() for ax in fig.axes]
    for column in constant:
        title = plots.OUTCOME_LABELS[column][0]
        assert f"{title}:" in footnote and "in every run" in footnote  # said once, under the figure
        assert not any(t.startswith(title) for t in titles)  # and no empty panel for it


def test_comparison_overlays_one_series_per_scenario(pair, figures, tmp_path):
    path = plots.plot_comparison(pair, tmp_path / "c.png")
    assert _is_real_png(path)
    fig = figures[0]
    bars_ax = _by_title(fig, "How likely?")
    labels = [t.get_text() for t in bars_ax.get_legend().get_texts()]
    assert labels == pair.names
    booleans = [c for c, (k, _) in OUTCOME_COLUMNS.items()
                if k == "bool" and c in pair.results[0].outcomes and c not in OUTCOME_ALIASES]
    assert len(bars_ax.patches) == len(booleans) * len(pair.names)
    attacks = _by_title(fig, "Militia attacks on US forces, total")
    assert len(attacks.patches) == 2  # one step histogram per scenario
    medians = sorted(line.get_xdata()[0] for line in attacks.get_lines())
    expected = sorted(float(np.median(r.outcomes["militia_attacks"])) for r in pair.results)
    assert medians == pytest.approx(expected)


def test_comparison_trajectories_share_dates_and_show_both_troop_paths(pair, figures, tmp_path):
    path = plots.plot_comparison_trajectories(pair, tmp_path / "ct.png")
    assert _is_real_png(path)
    troops_ax = figures[0].axes[0]
    lines = troops_ax.get_lines()
    assert [ln.get_label() for ln in lines] == pair.names
    for line, res in zip(lines, pair.results):
        np.testing.assert_allclose(line.get_ydata(), res.band("us_troops")["p50"].to_numpy())
    assert lines[0].get_ydata()[0] == 2500 and lines[1].get_ydata()[3] == 0  # hold vs a 3-month exit
    dates = pair.results[0].scenario.month_dates()
    assert _dates(troops_ax) == (dates[0], dates[-1])


def test_plots_of_a_streamed_run_read_columns_not_the_whole_table(tmp_path):
    """`iraqsim run` streams outcomes to Parquet; plotting must not load the table into memory."""
    import sim
    from sim.reporting.plots import plot_outcomes, plot_trajectories
    sc = sim.Scenario(name="streamed", horizon_months=12)
    res = sim.run(sc, runs=300, seed=2, stream_to=tmp_path)
    assert not hasattr(res._outcomes, "columns"), "the run streamed its outcomes to a file"
    plot_outcomes(res, tmp_path / "o.png")
    plot_trajectories(res, tmp_path / "t.png")
    assert not hasattr(res._outcomes, "columns"), "plotting loaded the whole outcome table"
    assert res.n_runs == 300 and "isis_peak" in res.outcome_names
    assert (tmp_path / "o.png").stat().st_size > 10_000


def test_outcome_plots_read_columns_in_chunks_and_draw_the_whole_columns_histograms(tmp_path, figures,
                                                                                    monkeypatch):
    """Memory does not grow with runs: each column is read a chunk at a time (several passes),
    and the bars and medians drawn are still those of the whole column."""
    import pandas as pd

    from sim.engine import columns
    monkeypatch.setattr(columns, "OUTCOME_CHUNK", 64)
    sizes = []
    real = columns._ColumnReader.chunks

    def spy(self):
        for x in real(self):
            sizes.append(x.size)
            yield x
    monkeypatch.setattr(columns._ColumnReader, "chunks", spy)
    res = run(load_scenario(LIBRARY / "phased_exit.yaml"), runs=500, seed=2, stream_to=tmp_path,
              progress=False)
    plots.plot_outcomes(res, tmp_path / "o.png")
    assert sizes and max(sizes) <= 64
    df = pd.read_parquet(tmp_path / "outcomes.parquet")
    for title, column in (("Peak ISIS fighters in Iraq", "isis_peak"),
                          ("Militia attacks on US forces, total", "militia_attacks")):
        ax = _by_title(figures[0], title)
        heights, edges = _stairs(ax)
        edges = edges.copy()
        edges[-1] = max(edges[-1], df[column].max())  # the last bin holds the max
        expected = np.histogram(df[column], bins=edges)[0] * 100.0 / len(df)
        np.testing.assert_allclose(heights, expected)
        assert ax.get_lines()[0].get_xdata()[0] == pytest.approx(float(np.median(df[column])))


def test_save_figure_draws_a_laid_out_figure_once_and_the_same_pixels(tmp_path, monkeypatch):
    import matplotlib.figure
    import matplotlib.pyplot as plt

    def figure():
        fig, axes = plt.subplots(2, 3, figsize=(9, 5), layout="constrained")
        for i, ax in enumerate(axes.ravel()):
            ax.plot(np.arange(10) ** i, label=f"series {i}")
            ax.set_title(f"a long panel title number {i}")
            ax.set_xlabel("months after the start of the drawdown")
        fig.suptitle("six panels")
        return fig

    draws = []
    real = matplotlib.figure.Figure.draw
    monkeypatch.setattr(matplotlib.figure.Figure, "draw",
                        lambda self, renderer: (draws.append(self), real(self, renderer))[1])
    plain = figure()
    plain.savefig(tmp_path / "plain.png", dpi=90)
    assert len(draws) == 2  # matplotlib lays the figure out in a blank draw, then draws it
    draws.clear()
    once = figure()
    figures_module.save_figure(once, tmp_path / "once.png", 90)
    assert len(draws) == 1 and not plt.fignum_exists(once.number)
    np.testing.assert_array_equal(mpimg.imread(tmp_path / "plain.png"), mpimg.imread(tmp_path / "once.png"))
    plt.close(plain)


def test_a_scenario_has_the_same_colour_in_every_figure_and_the_report(pair, figures, tmp_path):
    """The command line's figures, the report and the exercises take the palette's colours in
    the scenarios' order, so rapid_exit is the same colour wherever it is drawn."""
    import matplotlib.colors as mcolors

    from sim.reporting.palette import scenario_colors
    from sim.reporting.report import build_report
    from sim.teaching.figures import outcome_bars_figure
    from sim.teaching.exercises import get_exercise
    expected = scenario_colors(len(pair.names))
    assert len(set(expected)) == len(expected)
    plots.plot_comparison(pair, tmp_path / "c.png")
    attacks = _by_title(figures[0], "Militia attacks on US forces, total")
    drawn = [mcolors.to_hex(p.get_edgecolor()).lower() for p in attacks.patches]
    assert drawn == [c.lower() for c in expected]
    html = build_report(pair)
    swatches = re.findall(r'class="swatch" style="background: (#[0-9A-Fa-f]{6})"', html)
    assert swatches[:len(expected)] == expected
    fig = outcome_bars_figure(pair, get_exercise(1).model_copy(update={"outcomes": ["isis_peak"]}))
    bars = [mcolors.to_hex(p.get_facecolor()[:3]).lower() for p in fig.axes[0].patches]
    assert bars == [c.lower() for c in expected]


# ---------------------------------------------------------------------- figures drawn aside
aside_only = pytest.mark.skipif(not drawing_module.DRAW_ASIDE,
                                reason="figures are drawn aside only where fork is (Linux)")


def test_figures_drawn_in_frames_made_ahead_have_the_same_pixels(phased, tmp_path, monkeypatch):
    """A frame made ahead (``figures.prepare``) is taken by the figure of its shape, or of a shape
    with fewer rows (the rows it does not need are dropped), and the pixels are those of a
    figure that makes its own frame."""
    monkeypatch.setattr(figures_module, "_PREPARED", {})
    outcomes, fans = plots.outcomes_figure(phased), plots.trajectories_figure(phased)
    draw = {"outcomes": (figures_module.draw_outcomes, outcomes),
            "fans": (figures_module.draw_trajectories, fans)}
    for kind, (function, data) in draw.items():
        function(data, tmp_path / f"{kind}-own.png")
        shape = (kind, len(data.panels)) + ((data.wide_rows,) if kind == "outcomes" else ())
        larger = (kind, len(data.panels) + 5) + shape[2:]  # rows more
        for name, prepared in (("same", shape), ("larger", larger)):
            figures_module.prepare([prepared])
            assert len(figures_module._PREPARED) == 1
            function(data, tmp_path / f"{kind}-{name}.png")
            assert not figures_module._PREPARED, "the figure took the frame made ahead"
            assert ((tmp_path / f"{kind}-{name}.png").read_bytes()
                    == (tmp_path / f"{kind}-own.png").read_bytes()), (kind, name)
    figures_module.prepare([("outcomes", 1, outcomes.wide_rows)])  # too few rows: not taken
    figures_module.draw_outcomes(outcomes, tmp_path / "o.png")
    assert len(figures_module._PREPARED) == 1


def test_the_drawing_process_needs_neither_the_engine_nor_pandas(phased, tmp_path):
    """What the drawing process imports, and what a figure's data unpickle into, is matplotlib
    and numpy: not the engine, the model, numba, pandas or pyarrow (they take ~0.6 s to load)."""
    import pickle
    import subprocess
    import sys
    data = tmp_path / "figures.pickle"
    data.write_bytes(pickle.dumps([plots.outcomes_figure(phased), plots.trajectories_figure(phased)]))
    code = ("import pickle, sys; from sim.reporting import figures; "
            "figures.prepare([('outcomes', 17, 2), ('fans', 11)]); "
            "o, t = pickle.loads(open(sys.argv[1], 'rb').read()); "
            "figures.draw_outcomes(o, sys.argv[2] + '/o.png'); "
            "figures.draw_trajectories(t, sys.argv[2] + '/t.png'); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('pandas', 'pyarrow', 'numba', 'mesa', 'pydantic') or m.startswith(('sim.engine', "
            "'sim.model', 'sim.scenario'))))")
    out = subprocess.run([sys.executable, "-c", code, str(data), str(tmp_path)], check=True,
                         capture_output=True, text=True)
    assert out.stdout.strip() == "[]"
    assert _is_real_png(tmp_path / "o.png") and _is_real_png(tmp_path / "t.png")


@aside_only
def test_figures_drawn_aside_have_the_same_pixels_as_drawn_here(phased, tmp_path):
    (tmp_path / "aside").mkdir()
    (tmp_path / "here").mkdir()
    drawing = drawing_module.Drawing()
    drawing.prepare(plots.expected_shapes(1))  # frames made ahead, as `iraqsim run` does
    save_module.write_into(phased, tmp_path / "aside", drawing=drawing)
    save_module.write_into(phased, tmp_path / "here")
    for name in ("plots/outcomes.png", "plots/trajectories.png", "quantiles.parquet"):
        assert (tmp_path / "aside" / name).read_bytes() == (tmp_path / "here" / name).read_bytes(), name


@aside_only
def test_a_failure_drawing_aside_is_raised_here_with_its_path_and_cause(phased, tmp_path):
    (tmp_path / "plots" / "outcomes.png").mkdir(parents=True)  # a folder where the PNG goes
    with pytest.raises(OSError) as caught:
        save_module.write_into(phased, tmp_path, drawing=drawing_module.Drawing())
    assert isinstance(caught.value, IsADirectoryError)
    assert caught.value.filename == str(tmp_path / "plots" / "outcomes.png")
    assert (tmp_path / "plots" / "trajectories.png").is_file()  # drawn by its own process


@aside_only
def test_a_drawing_process_that_cannot_load_matplotlib_says_why(phased, tmp_path, monkeypatch):
    """The drawing process runs this ``sys.path``: a broken matplotlib first on it fails there,
    and its error (not a broken pipe) is raised here."""
    fake = tmp_path / "site" / "matplotlib"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('matplotlib is broken here')\n")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    (tmp_path / "out").mkdir()
    with pytest.raises(ImportError, match="matplotlib is broken here"):
        save_module.write_into(phased, tmp_path / "out", drawing=drawing_module.Drawing())


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                pass
    return found


def _state(pid: int) -> str:
    """A process's state letter (R, S, T, Z...) with its command line, or ``gone``."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except (OSError, IndexError):
        return "gone"
    return state if state == "Z" else f"{state} ({command.strip()})"


@aside_only
def test_an_interrupt_while_figures_are_drawn_aside_ends_every_drawing_process(phased, tmp_path,
                                                                                monkeypatch):
    """Ctrl-C here while the outcomes figure is being drawn (the data files are being written):
    the drawing process and its figure processes are killed before the exception goes on, so
    none draws into a folder being removed (each is gone, or a zombie its reaper has not yet
    collected; a failure names the state of what is left)."""
    import signal
    drawing = drawing_module.Drawing()
    drawer = drawing._process.pid
    seen = []

    def interrupted(self, folder, progress=None):  # this process's data files: Ctrl-C meanwhile
        for _ in range(6000):  # both figures are sent once this returns: wait for the first
            seen[:] = _children(drawer)
            if seen:
                for pid in seen:
                    os.kill(pid, signal.SIGSTOP)  # drawing, and it cannot finish first
                raise KeyboardInterrupt
            time.sleep(0.01)
        raise AssertionError("no figure process appeared")

    monkeypatch.setattr(type(phased), "write_into", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save_module.write_into(phased, tmp_path, drawing=drawing)
    assert seen and drawer not in seen
    for pid in [drawer, *seen]:  # killed, not drawing (a SIGKILL takes effect when it is run)
        deadline = time.monotonic() + 30
        while _state(pid) not in ("gone", "Z") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _state(pid) in ("gone", "Z"), f"{pid} still {_state(pid)}"
    assert not (tmp_path / "plots" / "outcomes.png").exists()


def test_the_commands_never_import_matplotlib_here():
    """``iraqsim run`` and ``compare`` print their table without matplotlib (~0.3 s sooner); on
    Linux the drawing process imports it while the runs compute, and this process never does."""
    import subprocess
    import sys
    code = ("import sys, sim.cli.run, sim.cli.compare; "
            "print('matplotlib' in sys.modules, 'sim.reporting.figures' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"
    if drawing_module.DRAW_ASIDE:
        code = ("import sys; from sim.cli import main; sys.argv = ['iraqsim', 'run', 'baseline', "
                "'--runs', '50', '--quiet', '--out', sys.argv[1]]\n"
                "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
                "print('matplotlib' in sys.modules)")
        import tempfile
        with tempfile.TemporaryDirectory() as folder:
            out = subprocess.run([sys.executable, "-c", code, folder + "/r"], capture_output=True,
                                 text=True, check=True)
            assert out.stdout.strip() == "False"
            assert (Path(folder) / "r" / "plots" / "outcomes.png").is_file()




def test_figure_text_is_drawn_without_hinting_and_the_caller_keeps_its_settings(phased, tmp_path,
                                                                                monkeypatch):
    # Hinting cost ~0.1 s of the outcomes figure (docs/performance.md, round 20): every glyph
    # of the run figures is loaded without it, and the caller's own setting is left as it was.
    import matplotlib
    from matplotlib.backends import backend_agg

    flags = []
    real = backend_agg.get_hinting_flag
    with matplotlib.rc_context({"text.hinting": "no_hinting"}):
        unhinted = real()
    monkeypatch.setattr(backend_agg, "get_hinting_flag", lambda: flags.append(real()) or flags[-1])
    before = matplotlib.rcParams["text.hinting"]
    plots.plot_outcomes(phased, tmp_path / "o.png")
    plots.plot_trajectories(phased, tmp_path / "t.png")
    assert len(flags) > 100 and set(flags) == {unhinted}
    assert matplotlib.rcParams["text.hinting"] == before


@pytest.mark.parametrize("to_file_object", [False, True])
def test_a_png_written_here_has_the_pixels_of_matplotlibs_own(tmp_path, to_file_object):
    """``save_figure`` renders with ``savefig`` and writes the PNG itself (``png_bytes``):
    decoded, the same pixels and resolution as ``savefig``'s PNG, for a path or a file object."""
    import io

    import matplotlib.pyplot as plt
    from PIL import Image

    def figure():
        fig, ax = plt.subplots(figsize=(4, 3))
        ax.fill_between([0, 1, 2], [0, 1, 0.5], color="#88aacc", alpha=0.6)
        ax.plot([0, 1, 2], [1, 0, 1], lw=1.5)
        ax.set_title("Peak ISIS fighters, 2,500 and 40k")
        return fig

    reference = figure()
    reference.savefig(tmp_path / "matplotlib.png", dpi=110)
    plt.close(reference)
    if to_file_object:
        written = io.BytesIO()
        figures_module.save_figure(figure(), written, 110, format="png")
        (tmp_path / "here.png").write_bytes(written.getvalue())
    else:
        figures_module.save_figure(figure(), tmp_path / "here.png", 110)
    theirs, ours = Image.open(tmp_path / "matplotlib.png"), Image.open(tmp_path / "here.png")
    assert ours.mode == theirs.mode == "RGBA" and ours.size == theirs.size
    assert np.array_equal(np.asarray(ours), np.asarray(theirs))
    assert ours.info["dpi"] == pytest.approx(theirs.info["dpi"])
    Image.open(tmp_path / "here.png").verify()  # chunks and checksums are valid
