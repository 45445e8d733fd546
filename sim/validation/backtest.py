"""Historical backtest: replay three episodes and check the model against the articles.

The episodes live in ``scenarios/history/`` (``iraq_2011``, ``strike_crisis_2020``,
``proxy_war_2023``); the targets in ``seeds/targets.yaml``. Each target
(``sim.validation.targets``) names the episode it is checked on, a model quantity, the
observation and how "holds" is decided.

``backtest`` runs every episode, evaluates every target and returns a ``Backtest`` with the
table, the per-run values and the fan-chart data; ``plot_backtest`` draws the observations over
the model's fan charts with calendar dates.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from sim.engine.blocks import BLOCK_SIZE, run_block
from sim.engine.progress import job_progress
from sim.model.outcomes import OUTCOME_COLUMNS, TRAJECTORY_VARIABLES, variable_name
from sim.reporting.figures import date_axis, save_figure
from sim.scenario.distributions import FromPosterior
from sim.scenario.library import scenarios_dir
from sim.scenario.loading import load_scenario
from sim.scenario.schema import Scenario
from sim.validation.targets import CONTINUOUS, HISTORIES, Target, check_kind, format_value, load_targets

#: The model's 90% interval.
LOW_Q, HIGH_Q = 0.05, 0.95


def history_dir() -> Path:
    """Folder holding the history episodes."""
    return scenarios_dir() / "history"


def load_episode(name: str, check_posterior: bool = True) -> Scenario:
    """Load the history episode ``name`` from ``scenarios/history/<name>.yaml``."""
    return load_scenario(history_dir() / f"{name}.yaml", check_posterior)


def without_posterior(scenario: Scenario) -> Scenario:
    """A copy of ``scenario`` without its ``{from: posterior}`` parameters.

    Those parameters then take their registry defaults, or explicit per-run arrays passed to
    ``run_block(params=...)`` (the calibration passes prior draws this way).
    """
    kept = {k: v for k, v in scenario.parameters.items() if not isinstance(v, FromPosterior)}
    return scenario.model_copy(update={"parameters": kept})


# ---------------------------------------------------------------------- calendar helpers
def _month_number(text: str) -> int:
    """Months since year 0 of a ``YYYY-MM`` string."""
    y, m = _dt.datetime.strptime(text, "%Y-%m").timetuple()[:2]
    return 12 * y + m - 1


def month_label(scenario: Scenario, index: float) -> str:
    """Calendar label ``YYYY-MM`` of month ``index`` of ``scenario``."""
    n = _month_number(scenario.start) + int(index)
    return f"{n // 12:04d}-{n % 12 + 1:02d}"


# ---------------------------------------------------------------------- episode runs
@dataclass
class EpisodeRuns:
    """Per-run trajectories and outcome columns of one episode.

    Attributes:
        scenario: The episode's scenario.
        traj: Array (variables, months, runs), variables in ``TRAJECTORY_VARIABLES`` order.
        outcomes: Outcome columns by name, one value per run.
    """

    scenario: Scenario
    traj: np.ndarray
    outcomes: dict[str, np.ndarray]
    params: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def n_runs(self) -> int:
        """Number of runs."""
        return self.traj.shape[2]

    def trajectory(self, variable: str) -> np.ndarray:
        """Array (months, runs) of one trajectory variable."""
        return self.traj[list(TRAJECTORY_VARIABLES).index(variable_name(variable))]

    def month(self, text: str) -> int:
        """Index of calendar month ``YYYY-MM`` in the episode.

        Raises:
            ValueError: if the month is outside the episode.
        """
        i = _month_number(text) - _month_number(self.scenario.start)
        if not 0 <= i < self.scenario.horizon_months:
            raise ValueError(f"{text} is outside {self.scenario.name} "
                             f"({self.scenario.start}, {self.scenario.horizon_months} months)")
        return i

    def period(self, text: str) -> tuple[int, int]:
        """First and last month index of ``YYYY-MM`` or ``YYYY-MM/YYYY-MM``."""
        a, _, b = text.partition("/")
        return self.month(a), self.month(b or a)

    @classmethod
    def concat(cls, scenario: Scenario, parts: list["EpisodeRuns"]) -> "EpisodeRuns":
        """Join runs of the same episode (blocks, in order)."""
        return cls(scenario, np.concatenate([p.traj for p in parts], axis=2),
                   {k: np.concatenate([p.outcomes[k] for p in parts]) for k in parts[0].outcomes},
                   {k: np.concatenate([p.params[k] for p in parts]) for k in parts[0].params})


def simulate_episode_block(scenario: Scenario, seed: int, block: int, n: int | None = None,
                           params: dict[str, np.ndarray] | None = None) -> EpisodeRuns:
    """Run block ``block`` of an episode (see ``sim.engine.run_block``) with trajectories."""
    res = run_block(scenario, seed, block, n, keep_trajectories=True, params=params)
    cols = res.columns
    outcomes = {k: cols[k] for k in OUTCOME_COLUMNS}
    sampled = {k.removeprefix("param."): v for k, v in cols.items() if k.startswith("param.")}
    return EpisodeRuns(scenario, res.trajectories, outcomes, sampled)


def simulate_episode(scenario: Scenario, runs: int, seed: int,
                     on_block: Callable[[int], None] | None = None) -> EpisodeRuns:
    """Run ``runs`` replicas of an episode; a run depends only on (scenario, seed, run index)."""
    full, rest = divmod(runs, BLOCK_SIZE)
    sizes = [BLOCK_SIZE] * full + ([rest] if rest else [])
    parts = []
    for b, n in enumerate(sizes):
        parts.append(simulate_episode_block(scenario, seed, b, n))
        if on_block:
            on_block(n)
    return EpisodeRuns.concat(scenario, parts)


# ---------------------------------------------------------------------- evaluation
@dataclass
class TargetResult:
    """How one target fares in the backtest."""

    target: Target
    status: str  # "holds", "fails", "input", "not modelled"
    low: float = np.nan
    high: float = np.nan
    median: float = np.nan
    p05: float = np.nan
    p95: float = np.nan
    share: float = np.nan
    detail: str = ""

    @property
    def holds(self) -> bool:
        """Whether the target holds (inputs hold when the scenario imposes them)."""
        return self.status in ("holds", "input")


def quantile(values: np.ndarray, q: float) -> float:
    """Quantile without interpolation (``inf`` stays ``inf`` for runs where nothing happened)."""
    return float(np.quantile(values, q, method="inverted_cdf"))


def evaluate_target(target: Target, runs: EpisodeRuns) -> TargetResult:
    """Evaluate one target on the runs of its episode."""
    if target.kind == "not_modelled":
        return TargetResult(target, "not modelled", detail=target.checks[0]["not_modelled"])
    if target.kind == "input":
        chk = target.checks[0]["input"]
        month = runs.month(chk.at)
        found = any(getattr(ev, "kind", None) == chk.event and ev.month == month
                    for ev in runs.scenario.events)
        return TargetResult(target, "input" if found else "fails",
                            detail=f"scenario schedules {chk.event} in {chk.at}" if found
                            else f"scenario lacks {chk.event} in {chk.at}")
    v = target.quantity.values(runs)
    lo, hi = target.target_range(runs)
    med, p05, p95 = quantile(v, 0.5), quantile(v, LOW_Q), quantile(v, HIGH_Q)
    share = float(np.mean((v >= lo) & (v <= hi)))
    ok, parts = True, []
    for chk in target.checks:
        kind = check_kind(chk)
        if kind == "inside":
            good = lo <= p95 and hi >= p05
            parts.append("observed inside 90% interval" if good else "observed outside 90% interval")
        elif kind == "median":
            good = lo <= med <= hi
            parts.append("median in range" if good else "median out of range")
        else:  # share
            need = chk["share"]
            good = share >= need
            parts.append(f"{share:.0%} of runs in range (need {need:.0%})")
        ok &= good
    if "inside" not in [check_kind(c) for c in target.checks] and not (lo <= p95 and hi >= p05):
        ok = False  # whatever its tests, a target outside the 90% band does not hold
        parts.append("observed outside 90% interval")
    return TargetResult(
        target=target, status="holds" if ok else "fails", low=lo, high=hi, median=med, p05=p05,
        p95=p95, share=share, detail="; ".join(parts))


@dataclass
class Backtest:
    """The backtest: one result per target, and the episode runs behind them."""

    results: list[TargetResult]
    episodes: dict[str, EpisodeRuns]
    seed: int | None
    runs: int

    @property
    def all_hold(self) -> bool:
        """Whether every target holds (not-modelled targets are reported, not counted)."""
        return all(r.holds for r in self.results if r.status != "not modelled")

    def table(self) -> pd.DataFrame:
        """One row per target: observed (with source), model median and 90% interval, verdict."""
        rows = []
        for r in self.results:
            t = r.target
            sc = self.episodes[t.scenario].scenario
            if t.kind == "model":
                conv = (lambda x: month_label(sc, x) if np.isfinite(x) else format_value(x)) \
                    if t.quantity.is_month or _month_bound(t) else format_value
                rng = f"{conv(r.low)}..{conv(r.high)}" if r.low != r.high else conv(r.low)
                model = f"{conv(r.median)} [{conv(r.p05)}, {conv(r.p95)}]"
                quantity = t.quantity.describe()
            else:
                rng, model, quantity = "", "", t.kind.replace("_", " ")
            rows.append({"target": t.id, "episode": t.scenario, "quantity": quantity,
                         "observed": t.observed_text(), "read as": rng,
                         "model median [90%]": model, "check": r.detail,
                         "holds": {"holds": "yes", "fails": "NO", "input": "input",
                                   "not modelled": "n/a"}[r.status]})
        return pd.DataFrame(rows)

    def series(self) -> pd.DataFrame:
        """The episodes' curves: one row per episode, month and trajectory variable, with the
        quantiles over the runs (``p05`` ... ``p95``) and the mean, and the calendar ``date``."""
        frames = []
        for name, runs in self.episodes.items():
            dates = runs.scenario.month_dates()
            qs = np.quantile(runs.traj, [0.05, 0.25, 0.5, 0.75, 0.95], axis=2)  # (5, vars, months)
            means = runs.traj.mean(axis=2, dtype=np.float64)
            for v, variable in enumerate(TRAJECTORY_VARIABLES):
                frames.append(pd.DataFrame({
                    "episode": name, "month": np.arange(len(dates)), "date": pd.to_datetime(dates),
                    "variable": variable, "p05": qs[0, v], "p25": qs[1, v], "p50": qs[2, v],
                    "p75": qs[3, v], "p95": qs[4, v], "mean": means[v]}))
        return pd.concat(frames, ignore_index=True)

    def markdown(self) -> str:
        """The table as GitHub markdown (for docs/validation.md)."""
        df = self.table()
        cols = ["target", "episode", "observed", "read as", "model median [90%]", "holds"]
        lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        for _, row in df.iterrows():
            lines.append("| " + " | ".join(str(row[c]).replace("|", "/") for c in cols) + " |")
        return "\n".join(lines)


def _month_bound(t: Target) -> bool:
    r = t.read_as
    return r is not None and (isinstance(r.low, str) or isinstance(r.high, str))


def backtest(runs: int = 5000, seed: int | None = None, targets: list[Target] | None = None,
             progress: bool | None = None) -> Backtest:
    """Run every history episode and evaluate every target.

    Args:
        runs: Replicas per episode.
        seed: Seed for every episode (default: each episode's own ``seed``).
        targets: Targets to evaluate (default: ``seeds/targets.yaml``).
        progress: Show a progress bar (default: only on a terminal).

    Returns:
        A ``Backtest``.
    """

    targets = load_targets() if targets is None else targets
    episodes = {name: load_episode(name) for name in HISTORIES}
    full, rest = divmod(runs, BLOCK_SIZE)
    bar = job_progress(len(HISTORIES) * (full + bool(rest)), len(HISTORIES) * runs, progress)
    try:
        data = {name: simulate_episode(sc, runs, sc.seed if seed is None else seed, on_block=bar)
                for name, sc in episodes.items()}
    finally:
        bar(None)
    results = [evaluate_target(t, data[t.scenario]) for t in targets]
    return Backtest(results, data, seed, runs)


# ---------------------------------------------------------------------- the figure
#: Panels of the backtest figure: (episode, variable or list of variables summed, y label, log).
PANELS = [
    ("iraq_2011", "us_troops", "US troops in Iraq", False),
    ("iraq_2011", "isis_fighters_iraq", "ISIS fighters in Iraq", True),
    ("iraq_2011", "isis_territory", "share of the Sunni-majority area ISIS holds", False),
    ("iraq_2011", "exit_stage", "exit stage (5 exit complete, 6 returned)", False),
    ("strike_crisis_2020", "militia_attacks", "militia attacks per month", False),
    ("strike_crisis_2020", "withdrawal_pressure", "withdrawal pressure (0..1)", False),
    ("strike_crisis_2020", "us_troops", "US troops in Iraq", False),
    ("strike_crisis_2020", "exit_stage", "exit stage (1 resolution, 2 talks, 3 timetable)", False),
    ("proxy_war_2023", "militia_attacks", "militia attacks per month", False),
    ("proxy_war_2023", "withdrawal_pressure", "withdrawal pressure (0..1)", False),
    ("proxy_war_2023", "us_troops", "US troops in Iraq", False),
    ("proxy_war_2023", "exit_stage", "exit stage (2 talks, 3 timetable, 5 complete)", False),
]


def plot_backtest(bt: Backtest, path: str | Path) -> Path:
    """Fan charts of the history episodes with the article observations drawn over them.

    Points with bars are observations in a month; horizontal bars over a period are period
    observations (sums shown per month); dotted vertical lines mark dated events the targets
    refer to (strikes, votes, the 2014 advance). Marker colour: green holds, red fails.
    """


    fig, axes = plt.subplots(3, 4, figsize=(20, 11), constrained_layout=True)
    for ax, (episode, var, label, log) in zip(axes.ravel(), PANELS):
        _fan_panel(ax, bt, episode, var, label, log)
    axes[0, 0].legend(fontsize=8, loc="upper right")
    n_ok = sum(r.holds for r in bt.results if r.status != "not modelled")
    n_all = sum(r.status != "not modelled" for r in bt.results)
    fig.suptitle(f"Backtest: model fan charts ({bt.runs:,} runs per episode) and the articles' "
                 f"observations; {n_ok}/{n_all} targets hold")
    path = Path(path)
    save_figure(fig, path, 100)
    return path


#: Panels of the continuous-history figure: (variable, y label, log).
HISTORY_PANELS = [
    ("us_troops", "US troops in Iraq", False),
    ("exit_stage", "exit stage (5 exit complete, 6 returned)", False),
    ("isis_fighters_iraq", "ISIS fighters in Iraq", True),
    ("isis_members", "ISIS members, Iraq and Syria", True),
    ("isis_territory", "share of the Sunni-majority area ISIS holds", False),
    ("isis_attacks", "ISIS attacks in Iraq per month", True),
    ("militia_attacks", "militia attacks per month", False),
    ("withdrawal_pressure", "withdrawal pressure (0..1)", False),
]


def plot_history(bt: Backtest, path: str | Path) -> Path:
    """Fan charts of the continuous history 2011-2026 with its validation observations."""
    fig, axes = plt.subplots(2, 4, figsize=(20, 8), constrained_layout=True)
    for ax, (var, label, log) in zip(axes.ravel(), HISTORY_PANELS):
        _fan_panel(ax, bt, CONTINUOUS, var, label, log, title=label)
    axes[0, 0].legend(fontsize=8, loc="upper right")
    fig.suptitle(f"The continuous history 2011-2026 ({bt.runs:,} runs, one parameter set, every "
                 "mechanism on; not fitted)")
    path = Path(path)
    save_figure(fig, path, 100)
    return path

def _fan_panel(ax, bt: Backtest, episode: str, var, label: str, log: bool,
               title: str | None = None) -> None:
    """One fan chart of ``var`` (or variables added up) in ``episode``, with its observations."""
    runs = bt.episodes[episode]
    sc = runs.scenario
    dates = np.array(sc.month_dates(), dtype="datetime64[D]")
    names = [var] if isinstance(var, str) else list(var)
    series = sum(runs.trajectory(v).astype(np.float64) for v in names)
    q = np.quantile(series, [0.05, 0.25, 0.5, 0.75, 0.95], axis=1)
    ax.fill_between(dates, q[0], q[4], color="#4c72b0", alpha=0.2, lw=0, label="90% of runs")
    ax.fill_between(dates, q[1], q[3], color="#4c72b0", alpha=0.4, lw=0, label="50% of runs")
    ax.plot(dates, q[2], color="#1f3b73", lw=1.5, label="median")
    for r in bt.results:
        if r.target.scenario == episode and r.target.kind == "model":
            _draw_observation(ax, r, runs, names, dates)
    if log:
        ax.set_yscale("log")
    ax.set_title(title or f"{episode}: {label}", fontsize=10)
    ax.set_xlim(dates[0], dates[-1])
    date_axis(ax)
    if var == "exit_stage":
        ax.set_ylim(-0.3, 6.3)
        ax.set_yticks(range(7))


def _draw_observation(ax, r: TargetResult, runs: EpisodeRuns, names: list[str], dates) -> None:
    t = r.target
    q = t.quantity
    colour = "#2ca02c" if r.holds else "#d62728"
    if q.variable is not None and q.variables == names and q.reducer in ("at", "sum", "mean"):
        a, b = runs.period(getattr(q, q.reducer))
        lo, hi = r.low, r.high
        scale = (b - a + 1) if q.reducer == "sum" else 1
        lo_y = lo / scale if np.isfinite(lo) else None
        hi_y = hi / scale if np.isfinite(hi) else None
        mid = lo_y if hi_y is None else hi_y if lo_y is None else (lo_y + hi_y) / 2
        if a == b:
            err = None if lo_y is None or hi_y is None else [[mid - lo_y], [hi_y - mid]]
            ax.errorbar([dates[a]], [mid], yerr=err, fmt="D", color=colour, ms=6, capsize=4, zorder=5)
            if lo_y is not None and hi_y is None:
                ax.annotate("", (dates[a], mid * 1.3 + 1e-9), (dates[a], mid),
                            arrowprops={"arrowstyle": "->", "color": colour})
        else:
            ax.hlines(mid, dates[a], dates[b], color=colour, lw=3, zorder=5)
            if lo_y is not None and hi_y is not None and hi_y > lo_y:
                ax.fill_between(dates[a:b + 1], lo_y, hi_y, color=colour, alpha=0.15, lw=0)
        ax.annotate(t.id.split("-")[0], (dates[a], mid), fontsize=7, color=colour,
                    xytext=(3, 4), textcoords="offset points")
        return
    # dated references: vertical dotted lines at the months the quantity points to
    marks = []
    if q.months_from is not None:
        marks.append(q.months_from)
    for r_name in ("ratio", "change_pct"):
        for p in getattr(q, r_name) or ():
            marks.append(p.partition("/")[0])
    if q.peak_month is not None and set(q.variables) == set(names):
        lo, hi = r.low, r.high
        if np.isfinite(lo) and np.isfinite(hi):
            ax.axvspan(dates[int(lo)], dates[min(int(hi), len(dates) - 1)], color=colour, alpha=0.1)
            ax.annotate(t.id.split("-")[0] + " peak", (dates[int(lo)], ax.get_ylim()[1]),
                        fontsize=7, color=colour, va="top")
        return
    if not marks or not (set(q.variables) == set(names) or q.outcome is not None):
        return
    for m in marks:
        i = runs.month(m)
        ax.axvline(dates[i], color=colour, ls=":", lw=1)
    ax.annotate(t.id.split("-")[0], (dates[runs.month(marks[0])], ax.get_ylim()[1]), fontsize=7,
                color=colour, va="top", rotation=90)
