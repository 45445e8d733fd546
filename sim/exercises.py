"""Classroom exercises: five policy dilemmas, their scenarios, and keys generated from real runs.

Each exercise puts students in the decision-maker's chair with a set of scenario files
(``scenarios/exercises/``, shipped in the package as well), learning goals, the commands to run
and questions. The instructor's key is *generated* by ``build_keys`` (``iraqsim exercises
build``): every number and figure in it comes from runs made at build time, and every sentence
that states a direction ("higher", "lower") is decided by the numbers, with a 90% interval from
the paired runs (common random numbers), so the key stays true when the model changes.

Commands (see ``sim.commands.exercises``)::

    iraqsim exercises list
    iraqsim exercises show 1
    iraqsim exercises run 1            # figures, tables and a report under results/exercises/1/
    iraqsim exercises copy 5           # editable copies of exercise 5's scenario files
    iraqsim exercises build            # regenerate docs/exercises (sheets and keys)
"""

from __future__ import annotations

import math
import os
import re
import shutil
import textwrap
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from . import report as rp  # noqa: E402
from .outcomes import OUTCOME_COLUMNS, TRAJECTORY_VARIABLES  # noqa: E402
from .paths import scenarios_dir  # noqa: E402
from .plots import save_figure  # noqa: E402

#: Runs per scenario for ``exercises run``: one engine block, so the cost is that of one run.
DEFAULT_RUNS = 4096
#: Runs per scenario for the keys (``exercises build``): one engine block.
KEY_RUNS = 10_000
#: z for a two-sided 90% interval (normal approximation of the Monte Carlo error).
Z90 = 1.6448536269514722


class ExerciseError(ValueError):
    """A request for an exercise that does not exist, or a bad extra scenario."""


# ---------------------------------------------------------------------- statistics for keys
def exercise_dir() -> Path:
    """Folder of the exercise scenario files (source tree or installed package)."""
    return scenarios_dir() / "exercises"


def probability_interval(values) -> tuple[float, float, float]:
    """Probability of a yes/no outcome with its 90% interval (normal approximation)."""
    x = np.asarray(values, dtype=float)
    p = float(x.mean())
    half = Z90 * math.sqrt(max(p * (1 - p), 0.0) / max(x.size, 1))
    return p, max(0.0, p - half), min(1.0, p + half)


def paired_difference(comparison, reference: str, other: str, outcome: str) -> dict:
    """Mean of ``other - reference`` over paired runs, with its 90% interval.

    Runs are paired by index: with common random numbers, run ``i`` of both scenarios faces the
    same uncertain draws, so the difference removes most of the noise. Month outcomes (NaN when
    nothing happens) are compared over the runs where both have a value.
    """
    a = _outcome(comparison, reference, outcome)
    b = _outcome(comparison, other, outcome)
    d = b - a
    d = d[np.isfinite(d)]
    if d.size == 0:
        return {"mean": float("nan"), "low": float("nan"), "high": float("nan"), "n": 0}
    half = Z90 * float(d.std(ddof=1)) / math.sqrt(d.size) if d.size > 1 else float("inf")
    mean = float(d.mean())
    return {"mean": mean, "low": mean - half, "high": mean + half, "n": int(d.size)}


def direction_word(diff: dict, up: str = "higher", down: str = "lower",
                   same: str = "not clearly different") -> str:
    """``up`` if the 90% interval is above zero, ``down`` if below, else ``same``."""
    if not np.isfinite(diff["mean"]):
        return same
    if diff["low"] > 0:
        return up
    if diff["high"] < 0:
        return down
    return same


def _outcome(comparison, name: str, outcome: str) -> np.ndarray:
    res = comparison.results[comparison.names.index(name)]
    return res.outcomes.sort_values("run")[outcome].to_numpy(dtype=float)


def _stat(comparison, name: str, outcome: str) -> dict:
    res = comparison.results[comparison.names.index(name)]
    return res.summary["outcomes"][outcome]


def fmt(value, digits: int = 2) -> str:
    """A number for prose: thousands separators for big numbers, ``digits`` decimals below 10."""
    if value is None or not np.isfinite(value):
        return "n/a"
    if value != 0 and abs(value) < 0.01:
        return f"{value:.2g}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.{digits}f}"


def fmt_signed(value, digits: int = 2) -> str:
    """Like ``fmt`` with an explicit sign."""
    text = fmt(abs(value), digits)
    return ("+" if value >= 0 else "−") + text


def fmt_prob(comparison, name: str, outcome: str) -> str:
    """``0.42 (90% interval 0.40–0.44)`` for a yes/no outcome."""
    p, lo, hi = probability_interval(_outcome(comparison, name, outcome))
    return f"{p:.2f} (90% interval {lo:.2f}–{hi:.2f})"


def fmt_diff(diff: dict, digits: int = 2) -> str:
    """``+0.12 (90% interval +0.10 to +0.14)``."""
    if not np.isfinite(diff["mean"]):
        return "n/a (no paired runs)"
    return (f"{fmt_signed(diff['mean'], digits)} (90% interval {fmt_signed(diff['low'], digits)} "
            f"to {fmt_signed(diff['high'], digits)})")


def month_label(scenario, month: float) -> str:
    """Calendar label (``2026-05``) of a model month (rounded)."""
    if month is None or not np.isfinite(month):
        return "never"
    dates = scenario.month_dates()
    i = int(min(max(round(month), 0), len(dates) - 1))
    return dates[i].strftime("%Y-%m")


def outcome_label(outcome: str) -> str:
    """Readable label of an outcome column."""
    return OUTCOME_COLUMNS[outcome][1]


# ---------------------------------------------------------------------- exercise definitions
@dataclass(frozen=True)
class Question:
    """A question for students, the instructor's note, and an optional generated answer.

    Attributes:
        text: The question.
        note: What to look for; static text that states no numbers and no directions.
        answer: Function of the comparison returning the generated answer (markdown), or None.
    """

    text: str
    note: str = ""
    answer: Callable | None = None


@dataclass(frozen=True)
class Exercise:
    """One classroom exercise.

    Attributes:
        number: 1..5.
        slug: File-name part, e.g. ``the-2011-lesson``.
        title: Title.
        summary: One line for ``exercises list``.
        question: The decision question (also the report's question).
        story: The setting, citing evidence ids.
        goals: Learning goals.
        scenarios: Scenario file names in ``scenarios/exercises/``; the first is the reference.
        outcomes: Outcomes the exercise is about.
        variables: Trajectory variables drawn over time.
        questions: Questions with notes and generated answers.
        mechanisms: Mechanism ids (M1..M12) the exercise is about.
        evidence: Claim ids students should read.
        figures: Extra figure makers: name -> function(comparison, exercise) -> Figure.
        robustness: Whether to compute the robustness table (exercise 5).
        extra_commands: More commands shown on the sheet (e.g. copying the starter).
    """

    number: int
    slug: str
    title: str
    summary: str
    question: str
    story: str
    goals: list[str]
    scenarios: list[str]
    outcomes: list[str]
    variables: list[str]
    questions: list[Question]
    mechanisms: list[str]
    evidence: list[str]
    figures: dict[str, Callable] = field(default_factory=dict)
    robustness: bool = False
    extra_commands: list[tuple[str, str]] = field(default_factory=list)

    @property
    def stem(self) -> str:
        """``01-the-2011-lesson``: the name of its sheet, key and figure folder."""
        return f"{self.number:02d}-{self.slug}"

    def scenario_paths(self) -> list[Path]:
        """Paths of the exercise's scenario files."""
        return [exercise_dir() / name for name in self.scenarios]


# ---------------------------------------------------------------------- figures
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
            vals = _outcome(comparison, name, outcome)
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


def robustness_of(comparison, outcomes) -> pd.DataFrame:
    """Robustness table of a comparison's scenarios (``sim.analysis.robustness``).

    Each scenario is a choice and each run index a state of the world (common random numbers).
    """
    from .analysis.robustness import OUTCOME_DIRECTIONS, robustness_table
    long = comparison.outcomes()
    judged = [o for o in outcomes if OUTCOME_DIRECTIONS.get(o, "info") != "info" and o in long]
    return robustness_table(long, ["scenario"], outcomes=judged, replica_col="run")


# ---------------------------------------------------------------------- generated answers
def _ans_probabilities(outcome: str):
    def answer(comp, ex):
        lines = [f"- **{n}**: {fmt_prob(comp, n, outcome)}" for n in comp.names]
        return f"P({outcome}) per choice:\n" + "\n".join(lines)
    return answer


def _ans_resurgence_timing(comp, ex):
    lines = []
    for name, res in zip(comp.names, comp.results):
        s = _stat(comp, name, "months_to_resurgence")
        if s.get("mean") is None:
            lines.append(f"- **{name}**: no run reached the threshold.")
            continue
        lines.append(f"- **{name}**: in {s['n']:,} of {len(res.outcomes):,} runs; median month "
                     f"{fmt(s['p50'], 0)} ({month_label(res.scenario, s['p50'])}), 90% of those "
                     f"runs between {month_label(res.scenario, s['p05'])} and "
                     f"{month_label(res.scenario, s['p95'])}.")
    return "\n".join(lines)


def _ans_growth_after_exit(comp, ex):
    lines = []
    for name, res in zip(comp.names, comp.results):
        troops = res.band("us_troops")["p50"].to_numpy()
        isis = res.band("isis_strength")["p50"].to_numpy()
        thr = res.scenario.outcomes.resurgence_threshold
        gone = np.flatnonzero(troops <= 0)
        cross = np.flatnonzero(isis >= thr)
        start_isis = isis[0]
        peak = float(isis.max())
        text = f"- **{name}**: median ISIS fighters {fmt(start_isis)} at the start, {fmt(peak)} at most"
        if gone.size:
            text += f"; the median run has no troops left from month {gone[0]} ({month_label(res.scenario, gone[0])})"
            if cross.size:
                text += (f" and its ISIS median crosses {fmt(thr)} in month {cross[0]} "
                         f"({month_label(res.scenario, cross[0])}), {cross[0] - gone[0]} months later")
            else:
                text += f"; the ISIS median never crosses {fmt(thr)}"
        else:
            text += "; troops stay throughout in the median run"
            if cross.size:
                text += f", yet the ISIS median crosses {fmt(thr)} in month {cross[0]}"
        lines.append(text + ".")
    return "\n".join(lines)


def _ans_paired_vs(reference: str, others: list[str] | None, outcomes: list[str]):
    def answer(comp, ex):
        ref = _resolve_name(comp, reference)
        targets = [_resolve_name(comp, o) for o in others] if others else [n for n in comp.names if n != ref]
        lines = []
        for other in targets:
            parts = []
            for outcome in outcomes:
                d = paired_difference(comp, ref, other, outcome)
                parts.append(f"{outcome} {fmt_diff(d)}, {direction_word(d)}")
            lines.append(f"- **{other}** against {ref}: " + "; ".join(parts) + ".")
        return "\n".join(lines)
    return answer


def _resolve_name(comp, stem: str) -> str:
    """The comparison name matching a scenario name (exact) or its file stem."""
    if stem in comp.names:
        return stem
    alt = stem.replace("_", "-").removesuffix(".yaml")
    if alt in comp.names:
        return alt
    raise ExerciseError(f"scenario {stem!r} is not part of this comparison ({', '.join(comp.names)})")


def _ans_rank(outcome: str, lower_is_better: bool = True):
    def answer(comp, ex):
        stats = []
        for n in comp.names:
            vals = _outcome(comp, n, outcome)
            stats.append((float(np.nanmean(vals)), n))
        stats.sort(reverse=not lower_is_better)
        kind = "P" if OUTCOME_COLUMNS[outcome][0] == "bool" else "mean"
        order = ", then ".join(f"{n} ({kind} {fmt(v)})" for v, n in stats)
        return f"From {'lowest' if lower_is_better else 'highest'} {outcome}: {order}."
    return answer


def _ans_ranked_effects(outcome: str):
    def answer(comp, ex):
        ref = comp.names[0]
        rows = [(paired_difference(comp, ref, n, outcome), n) for n in comp.names[1:]]
        rows.sort(key=lambda r: -abs(r[0]["mean"]) if np.isfinite(r[0]["mean"]) else 0)
        lines = [f"{i + 1}. **{n}**: {direction_word(d, 'raises', 'lowers', 'does not clearly move')} "
                 f"{outcome}, {fmt_diff(d, 3)}" for i, (d, n) in enumerate(rows)]
        return f"Ranked by the size of the paired change from {ref}:\n" + "\n".join(lines)
    return answer


def _ans_vote_and_demand(comp, ex):
    lines = []
    for n in comp.names:
        lines.append(f"- **{n}**: P(parliament votes) {fmt_prob(comp, n, 'parliament_vote')}; "
                     f"P(exit demanded) {fmt_prob(comp, n, 'expelled')}")
    return "\n".join(lines)


def _ans_resurgence_if_expelled(comp, ex):
    long = comp.outcomes()
    lines = []
    for n in comp.names:
        o = long[long["scenario"] == n]
        exp, stay = o[o["expelled"]], o[~o["expelled"]]
        a = f"{exp['resurgence'].mean():.2f} over {len(exp):,} runs" if len(exp) else "no such runs"
        b = f"{stay['resurgence'].mean():.2f} over {len(stay):,} runs" if len(stay) else "no such runs"
        lines.append(f"- **{n}**: P(resurgence) when expelled {a}; when not expelled {b}")
    pooled_e = long[long["expelled"]]["resurgence"]
    pooled_s = long[~long["expelled"]]["resurgence"]
    if len(pooled_e) and len(pooled_s):
        word = "higher" if pooled_e.mean() > pooled_s.mean() else "not higher"
        lines.append(f"\nPooled over the doctrines, resurgence is {word} in runs where Baghdad "
                     f"demanded an exit ({pooled_e.mean():.2f} against {pooled_s.mean():.2f}); this "
                     "is an association across runs, not a paired comparison.")
    return "\n".join(lines)


def _ans_will(comp, ex):
    lines = [f"- **{n}**: P(will collapses) {fmt_prob(comp, n, 'will_collapse')}; mean US deaths "
             f"{fmt(float(np.nanmean(_outcome(comp, n, 'us_fatalities'))))}" for n in comp.names]
    return "\n".join(lines)


def _ans_iran_trajectories(comp, ex):
    lines = []
    for name, res in zip(comp.names, comp.results):
        direction = res.band("iran_direction")["mean"].mean()
        influence = res.band("iran_influence")["p50"].iloc[-1]
        lines.append(f"- **{name}**: Iran's direction of its proxies averages {direction:.3f} over "
                     f"the horizon; median influence at the end {influence:.3f}")
    return "\n".join(lines)


def _ans_extremes(outcomes: list[str]):
    def answer(comp, ex):
        lines = []
        for outcome in outcomes:
            means = {n: float(np.nanmean(_outcome(comp, n, outcome))) for n in comp.names}
            top, bottom = max(means.values()), min(means.values())
            if top == bottom:
                lines.append(f"- {outcome}: the same under every doctrine ({fmt(top, 3)})")
                continue
            hi = ", ".join(f"**{n}**" for n, v in means.items() if v == top)
            lo = ", ".join(f"**{n}**" for n, v in means.items() if v == bottom)
            lines.append(f"- {outcome}: highest under {hi} ({fmt(top, 3)}), lowest under "
                         f"{lo} ({fmt(bottom, 3)})")
        return "\n".join(lines)
    return answer


def _ans_pareto(outcomes: list[str]):
    def answer(comp, ex):
        from .analysis.robustness import OUTCOME_DIRECTIONS, pareto_front
        signs = [1.0 if OUTCOME_DIRECTIONS.get(o, "min") == "min" else -1.0 for o in outcomes]
        pts = np.array([[s * float(np.nanmean(_outcome(comp, n, o))) for o, s in zip(outcomes, signs)]
                        for n in comp.names])
        keep = pareto_front(pts)
        front = [n for n, k in zip(comp.names, keep) if k]
        dominated = [n for n, k in zip(comp.names, keep) if not k]
        text = (f"On the means of {', '.join(outcomes)}, the choices no other choice beats on all "
                f"at once are: {', '.join(front)}.")
        if dominated:
            text += f" Dominated: {', '.join(dominated)}."
        mine = comp.names[0]
        beats = [n for j, n in enumerate(comp.names[1:], 1)
                 if np.all(pts[0] <= pts[j]) and np.any(pts[0] < pts[j])]
        beaten_by = [n for j, n in enumerate(comp.names[1:], 1)
                     if np.all(pts[j] <= pts[0]) and np.any(pts[j] < pts[0])]
        text += (f" {mine} beats on all of them at once: {', '.join(beats) or 'none'}; "
                 f"is beaten on all of them by: {', '.join(beaten_by) or 'none'}.")
        return text
    return answer


def _ans_robustness(comp, ex):
    table = robustness_of(comp, ex.outcomes)
    lines = []
    for outcome, grp in table.groupby("outcome", sort=False):
        best = ", ".join(grp.loc[grp["best_expected"], "scenario"])
        minimax = ", ".join(grp.loc[grp["minimax_regret"], "scenario"])
        p90 = grp.set_index("scenario")["p90_regret"]
        lowest = ", ".join(p90.index[np.isclose(p90.to_numpy(), p90.min(), rtol=1e-12, atol=0)])
        mine = comp.names[0]
        lines.append(f"- **{outcome}**: best on average: {best}; smallest maximum regret: {minimax}; "
                     f"smallest 90th-percentile regret: {lowest} ({rp.format_number(p90.min())}); "
                     f"{mine}: expected {rp.format_number(grp.set_index('scenario').at[mine, 'expected'])}, "
                     f"90th-percentile regret {rp.format_number(p90[mine])}")
    return "\n".join(lines)


# ---------------------------------------------------------------------- the five exercises
EXERCISES: dict[int, Exercise] = {ex.number: ex for ex in [
    Exercise(
        number=1, slug="the-2011-lesson", title="The 2011 lesson",
        summary="A rapid exit against a phased one: when and how fast ISIS comes back.",
        question="Should the US keep its advisers, leave in phases over three years, or leave "
                 "within three months, and when and how fast does ISIS come back after each?",
        story=(
            "After the 2011 departure the Iraqi army lost its edge quickly and ISIS swept through "
            "the country (POL20-07, DB24-13). In January 2024 about 2,500 US advisers remain "
            "(DB24-09), the Iraqi forces are more capable but still depend on the coalition for "
            "intelligence, planning and logistics (DB24-14), and Baghdad speaks of ending the "
            "mission while moving slowly (DB24-08, DB24-10). You compare three choices: stay, a "
            "phased exit over three years, and a rapid exit within three months."),
        goals=[
            "Read the distribution of a time to an event: separate *whether* ISIS comes back from "
            "*when* and *how fast*.",
            "Trace the chain from troops to ISF capability (M1), counter-terrorism pressure (M2) "
            "and ISIS growth with its resurgence threshold (M3).",
            "Use common random numbers: the same uncertain world faced by each choice.",
            "Weigh what a phased exit buys against what it costs.",
        ],
        scenarios=["ex1_stay.yaml", "ex1_phased.yaml", "ex1_rapid.yaml"],
        outcomes=["resurgence", "months_to_resurgence", "isis_peak", "isf_capability_end",
                  "us_fatalities", "expelled", "us_troop_months"],
        variables=["us_troops", "isis_strength", "isf_capability", "militia_attacks"],
        questions=[
            Question("In what share of runs does ISIS in Iraq reach the resurgence threshold under "
                     "each choice?",
                     "Insist on the interval: a probability from a few thousand runs is itself "
                     "uncertain, and the threshold is an assumption (see the scenario's outcomes).",
                     _ans_probabilities("resurgence")),
            Question("When ISIS does come back, in which month? Compare the median and the spread, "
                     "not just the middle.",
                     "The month is summarised over the runs where resurgence happens; a choice "
                     "with few resurgences has a less certain timing.",
                     _ans_resurgence_timing),
            Question("How fast does ISIS grow once the last troops are gone? Use the fan chart of "
                     "ISIS fighters and count the months from the exit to the threshold.",
                     "The lag between exit and surge is the heart of the 2011 lesson (DB24-13): ISF "
                     "capability decays first (M1), then pressure falls below the threshold (M3).",
                     _ans_growth_after_exit),
            Question("What does the phased exit buy compared with the rapid one, and what does it "
                     "cost in troop-months, US deaths and militia attacks?",
                     "Troop-months are exposure: more of them means more targets for militias (M5).",
                     _ans_paired_vs("ex1-rapid", ["ex1-phased", "ex1-stay"],
                                    ["resurgence", "isis_peak", "us_fatalities", "us_troop_months"])),
            Question("Which link of the chain troops → ISF capability → CT pressure → ISIS growth "
                     "rests on the thinnest evidence? Which parameter would you vary first?",
                     "Good answers name a parameter (e.g. isf.decay_without_support, "
                     "isis.resurgence_pressure) and the claim behind it; `iraqsim schema` lists "
                     "their provenance."),
            Question("2011 is one case. How far should a single historical episode shape the model? "
                     "What evidence would change your mind?",
                     "Invite students to name observable signs (ISF performance without enablers, "
                     "ISIS attack tempo) rather than opinions."),
        ],
        mechanisms=["M1", "M2", "M3", "M4"],
        evidence=["POL20-07", "DB24-13", "DB24-09", "DB24-14", "DB24-10", "POL20-03"],
        figures={"isis_over_time": median_paths, "resurgence_timing": resurgence_timing_figure,
                 "outcomes": outcome_bars_figure},
    ),
    Exercise(
        number=2, slug="the-retaliation-dilemma", title="The retaliation dilemma",
        summary="Deterrence against sovereignty backlash after lethal militia attacks.",
        question="After a lethal wave of militia attacks, should the US not retaliate, strike "
                 "militia facilities, kill militia leaders on Iraqi soil, or press Iran directly?",
        story=(
            "From October 2023 Iran-backed groups attacked US forces hundreds of times (DB24-01). "
            "In January 2024 a US strike in Baghdad killed a militia commander; Baghdad called "
            "such strikes a breach of sovereignty and moved towards ending the coalition presence "
            "(DB24-02, DB24-07). One former official judged the strike risky but perhaps necessary "
            "(DB24-04); another argued the US should press Iran itself (DB24-05), which raises the "
            "danger of war (WP20-08, RCD20-07). All four scenarios face the same attack wave; only "
            "the doctrine differs."),
        goals=[
            "See the trade-off between deterrence (M6) and sovereignty backlash (M7).",
            "See how escalation risk enters through Iran (M9) and how passivity erodes US will "
            "(M10).",
            "Judge choices on several outcomes at once, and follow second-order effects (expulsion "
            "→ troops leave → ISIS).",
        ],
        scenarios=["ex2_proportional.yaml", "ex2_none.yaml", "ex2_leadership.yaml",
                   "ex2_iran_direct.yaml"],
        outcomes=["militia_attacks", "us_fatalities", "withdrawal_pressure_peak", "parliament_vote",
                  "expelled", "escalation", "will_collapse", "resurgence"],
        variables=["militia_attacks", "withdrawal_pressure", "us_troops", "isis_strength"],
        questions=[
            Question("Which doctrine gives the fewest militia attacks on US forces, and which the "
                     "most?",
                     "Attacks fall with deterrence and militia cohesion (M6) but also with fewer "
                     "troops present (exposure, M5): check whether a doctrine 'works' only because "
                     "troops were forced out.",
                     _ans_rank("militia_attacks")),
            Question("Which doctrine most often leads parliament to vote, and the government to "
                     "demand a US exit? Trace the mechanism.",
                     "Strikes on Iraqi soil add jumps to withdrawal pressure (M7; DB24-07, RCD20-04).",
                     _ans_vote_and_demand),
            Question("How often does each doctrine lead to a direct US–Iran exchange? Is the "
                     "deterrence worth that risk?",
                     "Escalation probabilities per strike are parameters with evidence "
                     "(RCD20-07, WP20-08); ask what would make them higher or lower.",
                     _ans_probabilities("escalation")),
            Question("Not retaliating avoids backlash. What does it do to US deaths and to US "
                     "domestic will (M10), and why?",
                     "The articles tie a war-weary US to a partner that does nothing about the "
                     "militias (RCD20-03, RCD20-09).",
                     _ans_will),
            Question("Follow the chain further: what happens to ISIS in runs where Baghdad demands "
                     "an exit?",
                     "This is a comparison across runs, so other differences between the runs mix "
                     "in; contrast with the paired comparisons elsewhere.",
                     _ans_resurgence_if_expelled),
            Question("Riedel and Sales disagreed (DB24-04, DB24-05). For each outcome, which doctrine "
                     "does the model favour, and which assumption would you test first?",
                     "There is no single winner unless one outcome is all that matters.",
                     _ans_extremes(["militia_attacks", "us_fatalities", "expelled", "escalation",
                                    "resurgence"])),
        ],
        mechanisms=["M5", "M6", "M7", "M9", "M10"],
        evidence=["DB24-01", "DB24-02", "DB24-04", "DB24-05", "DB24-07", "RCD20-03", "RCD20-04",
                  "RCD20-07", "WP20-06", "WP20-08"],
        figures={"tradeoffs": tradeoffs, "outcomes": outcome_bars_figure,
                 "over_time": median_paths},
    ),
    Exercise(
        number=3, slug="baghdads-balancing-act", title="Baghdad's balancing act",
        summary="What moves withdrawal pressure: strikes, coercion of MPs, the ISIS threat, aid.",
        question="What moves Baghdad towards, or away from, expelling US forces: US strikes, "
                 "militia coercion of MPs, the ISIS threat, or US aid?",
        story=(
            "In 2023 Prime Minister Sudani wanted US trainers to stay (FP23-03), and prime "
            "ministers had long backed the mission privately (FP23-04). Yet militias threatened "
            "and bribed MPs to vote for expulsion (FP23-02), strikes on Iraqi soil were denounced "
            "as breaches of sovereignty (DB24-07), and as ISIS faded the justification for "
            "foreign troops faded with it (DB24-11). The hope of aid and trade pulled the other "
            "way (FP23-07). Each scenario changes one driver from the reference."),
        goals=[
            "Run a one-factor-at-a-time experiment with common random numbers and read paired "
            "differences with their uncertainty.",
            "Tell apart levers Washington controls (strikes, aid) from conditions it does not "
            "(coercion, the ISIS threat).",
            "See threshold politics (M7): a small push in pressure can tip a vote and an exit "
            "demand.",
        ],
        scenarios=["ex3_reference.yaml", "ex3_strikes.yaml", "ex3_coercion.yaml",
                   "ex3_isis_threat.yaml", "ex3_aid.yaml", "ex3_no_aid.yaml"],
        outcomes=["withdrawal_pressure_peak", "expelled", "parliament_vote", "iran_influence_end",
                  "resurgence", "months_to_expulsion"],
        variables=["withdrawal_pressure", "cooperation", "isis_strength", "iran_influence"],
        questions=[
            Question("Rank the five changes by how much they move peak withdrawal pressure from the "
                     "reference (sign and size).",
                     "Stress that each bar is a paired difference: the same worlds, one change.",
                     _ans_ranked_effects("withdrawal_pressure_peak")),
            Question("Which changes push Baghdad past the point where parliament votes or the "
                     "government demands an exit?",
                     "Pressure acts through thresholds (iraq.vote_threshold, iraq.demand_threshold); "
                     "the prime minister's private preference damps the demand (FP23-04).",
                     _ans_vote_and_demand),
            Question("Does a larger ISIS threat lower the pressure, as the argument that the "
                     "justifications have ended implies (DB24-11)? What else does it do? Look at "
                     "ISIS itself, cooperation (M8) and Iranian influence.",
                     "The common enemy binds (POL20-06), but a stronger ISIS is no policy goal.",
                     _ans_paired_vs("ex3-reference", ["ex3-isis-threat"],
                                    ["withdrawal_pressure_peak", "isis_peak", "iran_influence_end"])),
            Question("Which drivers can Washington control, and which only Tehran or the militias? "
                     "What does that imply for US policy?",
                     "Strikes and aid are US levers; coercion is not, but US strikes feed it "
                     "indirectly through Iranian influence and militia strength."),
            Question("The effects were measured one at a time. Would strikes and coercion together "
                     "add up? Write the scenario (extend ex3_strikes.yaml and set "
                     "militia.coercion_weight) and test it.",
                     "Thresholds can make effects interact: compare the combined change with the "
                     "sum of the two single changes, paired run by run."),
        ],
        mechanisms=["M6", "M7", "M8", "M11"],
        evidence=["FP23-02", "FP23-03", "FP23-04", "FP23-07", "DB24-07", "DB24-11", "POL20-06"],
        figures={"effects": paired_effects_figure, "over_time": median_paths,
                 "outcomes": outcome_bars_figure},
    ),
    Exercise(
        number=4, slug="tehrans-dilemma", title="Tehran's dilemma",
        summary="Iran wants the US out but fears ISIS and war.",
        question="Seen from Tehran: what do a US exit, a new ISIS attack in Iran, US pressure on "
                 "Iran and sanctions do to Iran's proxies and its influence in Iraq?",
        story=(
            "Iran wants US forces out of Iraq and its proxies have attacked them (DB24-17, "
            "WP20-04). But ISIS had just killed scores in Kerman (DB24-06) and Tehran had been "
            "reminded how dangerous ISIS is (DB24-17); a war with the United States threatens the "
            "regime (WP20-08), and economic hardship has made it pragmatic before (WP20-07). Iran "
            "also fills the spaces the US leaves (POL20-04, WP20-05). Each scenario changes one "
            "thing Tehran faces."),
        goals=[
            "Reason from an adversary's point of view and its competing fears (M9).",
            "See that getting what you want (a US exit) has costs for Tehran too (ISIS).",
            "Follow how a US choice feeds back through Iran to the militias (M5) and to Baghdad "
            "(M7).",
        ],
        scenarios=["ex4_reference.yaml", "ex4_us_leaves.yaml", "ex4_isis_fear.yaml",
                   "ex4_war_risk.yaml", "ex4_sanctions.yaml"],
        outcomes=["iran_influence_end", "militia_attacks", "escalation", "isis_peak", "resurgence",
                  "expelled"],
        variables=["iran_direction", "iran_influence", "militia_attacks", "isis_strength"],
        questions=[
            Question("In which scenario does Iran's influence in Iraq end highest? Is that what "
                     "Tehran wants, and what comes with it?",
                     "Influence grows in a vacuum (M9) while ISIS grows too (M3): Tehran gains and "
                     "fears at once.",
                     _ans_rank("iran_influence_end", lower_is_better=False)),
            Question("How do a second ISIS attack in Iran, US pressure on Iran and sanctions change "
                     "Iran's direction of its proxies? Compare the trajectories.",
                     "Direction is Iran's choice in the model (Iran.set_proxy_direction): fear of "
                     "ISIS, fear of war and sanctions all pull it down.",
                     _ans_iran_trajectories),
            Question("Does pressing Iran directly restrain its proxies or provoke them? Look at "
                     "attacks, escalation and expulsion against the reference.",
                     "Deterrence and escalation are both in play (M6, M9); the answer depends on "
                     "parameters students should name.",
                     _ans_paired_vs("ex4-reference", ["ex4-war-risk"],
                                    ["militia_attacks", "escalation", "expelled"])),
            Question("How large are the effects of sanctions and of a new ISIS attack compared with "
                     "the others?",
                     "Small effects are findings too; check whether the 90% interval excludes zero.",
                     _ans_paired_vs("ex4-reference", ["ex4-isis-fear", "ex4-sanctions"],
                                    ["militia_attacks", "iran_influence_end"])),
            Question("Write Tehran's best and worst case as the model sees them. Which mechanisms "
                     "decide?",
                     "Good answers weigh influence against ISIS and war risk, citing M9 and its "
                     "evidence (DB24-17, WP20-07, WP20-08)."),
        ],
        mechanisms=["M5", "M6", "M9", "M12"],
        evidence=["DB24-06", "DB24-17", "WP20-04", "WP20-05", "WP20-07", "WP20-08", "POL20-04"],
        figures={"iran_over_time": median_paths, "outcomes": outcome_bars_figure,
                 "tradeoffs": tradeoffs},
    ),
    Exercise(
        number=5, slug="design-your-own-drawdown", title="Design your own drawdown",
        summary="Write a scenario, defend it on several outcomes, face the robustness table.",
        question="Which drawdown would you choose, judged on several outcomes at once and across "
                 "the uncertain worlds the model samples?",
        story=(
            "You are the decision-maker. Write your own drawdown as a scenario file, starting from "
            "the starter ex5_my_drawdown.yaml (a conditions-based drawdown), and defend it against "
            "the alternatives: staying, a phased exit, a rapid exit, a Kurdistan residual that "
            "keeps the Syria hub (POL20-03), and over-the-horizon strikes from outside Iraq. Then "
            "face the robustness table: every run is one possible world, and every choice faces "
            "the same worlds."),
        goals=[
            "Write a valid scenario and change its levers deliberately.",
            "Judge on several outcomes at once, and state the trade-offs you accept.",
            "Read robustness: expected value, the worst 10% of worlds, and regret against the best "
            "choice in each world.",
            "Defend a choice in a short memo that cites evidence ids.",
        ],
        scenarios=["ex5_my_drawdown.yaml", "ex1_stay.yaml", "ex1_phased.yaml", "ex1_rapid.yaml",
                   "ex5_kurdistan.yaml", "ex5_over_horizon.yaml"],
        outcomes=["resurgence", "isis_peak", "us_fatalities", "expelled", "iran_influence_end",
                  "escalation", "us_troop_months"],
        variables=["us_troops", "isis_strength", "withdrawal_pressure", "iran_influence"],
        questions=[
            Question("Before running: state your goal in one sentence and name the three outcomes "
                     "you want to be judged on.",
                     "Committing first guards against choosing the outcomes that flatter the choice."),
            Question("Where does your drawdown sit in the trade-off plot? Which alternatives does it "
                     "beat on all of your outcomes at once, if any?",
                     "Dominance needs every outcome; most designs trade one outcome for another.",
                     _ans_pareto(["resurgence", "us_fatalities", "expelled", "us_troop_months"])),
            Question("Read the robustness table. Compare expected value, worst-decile value and "
                     "90th-percentile regret for your design. Does it win on average but lose badly "
                     "in some worlds?",
                     "Regret is measured run by run against the best choice in that same world "
                     "(sim.analysis.robustness).",
                     _ans_robustness),
            Question("Which uncertain parameter would most likely overturn your recommendation? "
                     "Look at the `param.*` columns of the outcomes and at `iraqsim schema`.",
                     "Students can split runs by a parameter (e.g. isis.growth_rate above and below "
                     "its median) and compare choices within each half."),
            Question("Write a one-paragraph memo defending your choice, citing at least two evidence "
                     "ids and naming the trade-off you accept.",
                     "Grade the reasoning: a clear criterion, honest costs, evidence cited."),
        ],
        mechanisms=["M1", "M2", "M3", "M4", "M5", "M7", "M9"],
        evidence=["DB24-09", "DB24-13", "DB24-14", "POL20-03", "DB24-10", "DB24-19"],
        figures={"tradeoffs": tradeoffs, "robustness": robustness_figure,
                 "over_time": median_paths, "outcomes": outcome_bars_figure},
        robustness=True,
        extra_commands=[
            ("iraqsim exercises copy 5", "copy the scenario files into ./exercise-5/ to edit them"),
            ("iraqsim exercises run 5 --add exercise-5/ex5_my_drawdown.yaml",
             "run your edited design (it replaces the starter of the same name)"),
        ],
    ),
]}


def get_exercise(number: int) -> Exercise:
    """The exercise with this number, or ``ExerciseError`` naming the valid numbers."""
    try:
        return EXERCISES[int(number)]
    except (KeyError, ValueError, TypeError):
        raise ExerciseError(f"there is no exercise {number!r}; choose one of "
                            f"{', '.join(map(str, EXERCISES))} (see `iraqsim exercises list`)") from None


# ---------------------------------------------------------------------- running
class ResultsCache:
    """Results of scenario runs by (file, runs, seed), shared by the exercises of a build."""

    def __init__(self):
        self._store = {}

    def run(self, path: Path, scenario, runs: int, seed: int, **run_kwargs):
        """Run ``scenario`` (loaded from ``path``) or return the earlier result of the same run."""
        from .engine import run
        key = (str(Path(path).resolve()), scenario.sha256(), runs, seed)
        if key not in self._store:
            self._store[key] = run(scenario, runs=runs, seed=seed, **run_kwargs)
        return self._store[key]


def exercise_scenarios(exercise: Exercise, add: list[str | os.PathLike] = ()) -> tuple[list, list[str]]:
    """Load the exercise's scenarios plus ``add`` (an added scenario replaces one of its name).

    Returns:
        (scenarios, source paths as text).
    """
    from .scenario import load_scenario
    paths = [str(p) for p in exercise.scenario_paths()]
    scenarios = [load_scenario(p) for p in paths]
    for extra in add:
        sc = load_scenario(extra)
        names = [s.name for s in scenarios]
        if sc.name in names:
            i = names.index(sc.name)
            scenarios[i], paths[i] = sc, str(extra)
        else:
            scenarios.append(sc)
            paths.append(str(extra))
    return scenarios, paths


def run_comparison(exercise: Exercise, runs: int | None = None, seed: int | None = None,
                   add=(), cache: ResultsCache | None = None, **run_kwargs):
    """Run an exercise's scenarios with common random numbers.

    Args:
        exercise: The exercise.
        runs: Runs per scenario (default ``DEFAULT_RUNS``).
        seed: Seed (default: the first scenario's).
        add: Extra scenario files (e.g. a student's design).
        cache: Reuse runs between exercises.
        **run_kwargs: Passed to ``sim.run`` (``workers``, ``progress``).

    Returns:
        (``sim.compare.Comparison``, source paths).
    """
    from .compare import Comparison
    scenarios, paths = exercise_scenarios(exercise, add)
    runs = DEFAULT_RUNS if runs is None else int(runs)
    seed = scenarios[0].seed if seed is None else int(seed)
    cache = cache or ResultsCache()
    results = [cache.run(p, s, runs, seed, **run_kwargs) for p, s in zip(paths, scenarios)]
    return Comparison(results), paths


def outcome_table(comparison, outcomes) -> pd.DataFrame:
    """Machine-readable key numbers: one row per (scenario, outcome) with the summary stats."""
    rows = []
    for name, res in zip(comparison.names, comparison.results):
        for outcome in outcomes:
            s = res.summary["outcomes"][outcome]
            row = {"scenario": name, "outcome": outcome, "kind": s["kind"],
                   "runs": len(res.outcomes)}
            if s["kind"] == "probability":
                p, lo, hi = probability_interval(res.outcomes[outcome])
                row.update(mean=p, p05=None, p50=None, p95=None, low90=lo, high90=hi, n=len(res.outcomes))
            else:
                row.update({k: s.get(k) for k in ("mean", "p05", "p50", "p95")}, low90=None,
                           high90=None, n=s.get("n"))
            rows.append(row)
    return pd.DataFrame(rows)


def save_figures(comparison, exercise: Exercise, folder: Path, dpi: int = 96) -> dict[str, Path]:
    """Draw the exercise's figures into ``folder`` as PNG; name -> path."""
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, make in exercise.figures.items():
        fig = make(comparison, exercise)
        path = folder / f"{name}.png"
        save_figure(fig, path, dpi)
        out[name] = path
    return out


@dataclass
class ExerciseRun:
    """What ``run_exercise`` wrote."""

    folder: Path
    figures: dict[str, Path]
    report: Path
    table: Path
    robustness: Path | None


def run_exercise(number: int, out: str | os.PathLike | None = None, runs: int | None = None,
                 seed: int | None = None, add=(), **run_kwargs) -> ExerciseRun:
    """Run exercise ``number`` and write its figures, table and report into ``out``.

    The folder (default ``results/exercises/<number>``) is replaced atomically: it holds
    ``figures/*.png``, ``table.csv`` (key numbers), ``report.html`` (the full self-contained
    report) and, for exercise 5, ``robustness.csv``.
    """
    from .results import replace_dir
    exercise = get_exercise(number)
    comp, paths = run_comparison(exercise, runs, seed, add, **run_kwargs)
    target = Path(out) if out is not None else Path("results") / "exercises" / str(exercise.number)
    target.resolve().parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.resolve().parent))
    try:
        save_figures(comp, exercise, tmp / "figures")
        outcome_table(comp, exercise.outcomes).to_csv(tmp / "table.csv", index=False)
        if exercise.robustness:
            robustness_of(comp, exercise.outcomes).to_csv(tmp / "robustness.csv", index=False)
        html = rp.build_report(comp, title=f"Exercise {exercise.number}: {exercise.title}",
                               question=exercise.question, sources=paths,
                               command=f"iraqsim exercises run {exercise.number} --runs "
                                       f"{comp.results[0].provenance['runs']} --seed "
                                       f"{comp.results[0].provenance['seed']}")
        rp.write_report(html, tmp / "report.html")
        replace_dir(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    figures = {p.stem: p for p in sorted((target / "figures").glob("*.png"))}
    return ExerciseRun(target, figures, target / "report.html", target / "table.csv",
                       target / "robustness.csv" if exercise.robustness else None)


# ---------------------------------------------------------------------- sheets and keys
def _env():
    env = rp._environment(autoescape=False)  # markdown, not HTML
    env.filters["label"] = outcome_label
    return env


def scenario_rows(exercise: Exercise) -> list[dict]:
    """Name, file and description of each of the exercise's scenarios."""
    from .scenario import load_scenario
    rows = []
    for path in exercise.scenario_paths():
        sc = load_scenario(path)
        rows.append({"file": f"scenarios/exercises/{path.name}", "name": sc.name,
                     "description": " ".join(sc.description.split()),
                     "posture": rp.describe_posture(sc.levers.posture),
                     "retaliation": sc.levers.retaliation.value, "aid": sc.levers.aid.value})
    return rows


def render_sheet(exercise: Exercise) -> str:
    """The student sheet (markdown): story, goals, scenarios, commands, questions."""
    from . import evidence
    cl = evidence.claims()
    return _env().get_template("exercise.md.j2").render(
        ex=exercise, scenarios=scenario_rows(exercise), default_runs=DEFAULT_RUNS,
        mechanisms=[(m, evidence.MECHANISMS[m]) for m in exercise.mechanisms],
        evidence=[(c, evidence.citation(c)) for c in exercise.evidence if c in cl])


def render_key(exercise: Exercise, comparison, figures: dict[str, str], runs: int, seed: int) -> str:
    """The instructor's key (markdown) with generated numbers, answers and figure links."""
    from . import __version__
    answers = [(q, q.answer(comparison, exercise) if q.answer else None) for q in exercise.questions]
    table_rows = []
    for outcome in exercise.outcomes:
        table_rows.append({"outcome": outcome, "label": outcome_label(outcome),
                           "cells": [rp.format_outcome(r.summary["outcomes"][outcome])
                                     for r in comparison.results]})
    robustness = None
    if exercise.robustness:
        robustness = robustness_markdown(robustness_of(comparison, exercise.outcomes), comparison.names)
    return _env().get_template("exercise_key.md.j2").render(
        ex=exercise, names=comparison.names, table_rows=table_rows, answers=answers,
        figures=figures, runs=runs, seed=seed, version=__version__, robustness=robustness,
        hashes=[(n, r.scenario.sha256()[:12]) for n, r in zip(comparison.names, comparison.results)])


def robustness_markdown(table: pd.DataFrame, names: list[str]) -> str:
    """The robustness table as markdown: per outcome, each choice's expected, worst10, regret."""
    lines = ["| outcome | choice | expected | worst 10% | p90 regret | max regret | |",
             "|---|---|---:|---:|---:|---:|---|"]
    for outcome, grp in table.groupby("outcome", sort=False):
        grp = grp.set_index("scenario").loc[[n for n in names if n in set(grp["scenario"])]]
        for name, row in grp.iterrows():
            marks = []
            if row["best_expected"]:
                marks.append("best on average")
            if row["minimax_regret"]:
                marks.append("minimax regret")
            lines.append(f"| {outcome} | {name} | {rp.format_number(row['expected'])} | "
                         f"{rp.format_number(row['worst10'])} | {rp.format_number(row['p90_regret'])} | "
                         f"{rp.format_number(row['max_regret'])} | {', '.join(marks)} |")
    return "\n".join(lines)


def render_index() -> str:
    """``docs/exercises/README.md``: the list of exercises and how to use them."""
    return _env().get_template("exercises_index.md.j2").render(exercises=list(EXERCISES.values()),
                                                              key_runs=KEY_RUNS)


def build_keys(out: str | os.PathLike = "docs/exercises", runs: int | None = None,
               seed: int | None = None, only: list[int] | None = None, progress: bool | None = False,
               log: Callable[[str], None] | None = None) -> list[Path]:
    """Regenerate the exercise sheets and instructor keys from real runs.

    Writes, under ``out``: ``README.md`` (index), ``NN-slug.md`` (student sheets) and
    ``keys/NN-slug.md`` with ``keys/NN-slug/*.png`` and ``keys/NN-slug/table.csv``. Everything
    is built in a temporary folder first and moved into place file by file, so an interrupted
    build leaves the earlier keys intact.

    Args:
        out: Folder of the exercise documents.
        runs: Runs per scenario (default ``KEY_RUNS``).
        seed: Seed (default: each exercise's first scenario's).
        only: Exercise numbers to build (default: all).
        progress: Show progress bars of the runs.
        log: Called with a line per exercise built.

    Returns:
        The paths written.
    """
    from .results import replace_dir
    runs = KEY_RUNS if runs is None else int(runs)
    numbers = list(EXERCISES) if not only else [get_exercise(n).number for n in only]
    target = Path(out)
    target.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".exercises.tmp-", dir=target))
    cache = ResultsCache()
    written: list[Path] = []
    try:
        (tmp / "keys").mkdir()
        _write_text(tmp / "README.md", render_index())
        moves = [("README.md", False)]
        for n in numbers:
            ex = EXERCISES[n]
            comp, _ = run_comparison(ex, runs, seed, cache=cache, progress=progress)
            used_seed = comp.results[0].provenance["seed"]
            fig_dir = tmp / "keys" / ex.stem
            figs = save_figures(comp, ex, fig_dir)
            outcome_table(comp, ex.outcomes).to_csv(fig_dir / "table.csv", index=False)
            if ex.robustness:
                robustness_of(comp, ex.outcomes).to_csv(fig_dir / "robustness.csv", index=False)
            rel = {name: f"{ex.stem}/{p.name}" for name, p in figs.items()}
            _write_text(tmp / "keys" / f"{ex.stem}.md", render_key(ex, comp, rel, runs, used_seed))
            _write_text(tmp / f"{ex.stem}.md", render_sheet(ex))
            moves += [(f"{ex.stem}.md", False), (f"keys/{ex.stem}.md", False), (f"keys/{ex.stem}", True)]
            if log:
                log(f"exercise {n}: {len(comp.names)} scenarios, {runs:,} runs each, {len(figs)} figures")
        (target / "keys").mkdir(exist_ok=True)
        for rel_path, is_dir in moves:
            src, dst = tmp / rel_path, target / rel_path
            if is_dir:
                replace_dir(src, dst)
            else:
                os.replace(src, dst)
            written.append(dst)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return written


def _write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")


# ---------------------------------------------------------------------- copies for students
_EXTENDS = re.compile(r"^(extends:\s*)(['\"]?)([^'\"\n#]+?)\2(\s*(#.*)?)$", re.MULTILINE)


def copy_scenarios(number: int, dest: str | os.PathLike, force: bool = False) -> list[Path]:
    """Copy exercise ``number``'s scenario files into ``dest`` for students to edit.

    ``extends`` lines that point to a file copied along keep a relative name; others (the
    baseline) are rewritten to the absolute path of the packaged file, so the copies load from
    anywhere. Comments are kept.

    Raises:
        ExerciseError: If a file exists in ``dest`` and ``force`` is false.
    """
    exercise = get_exercise(number)
    dest = Path(dest)
    sources = exercise.scenario_paths()
    names = {p.name for p in sources}
    clashes = [dest / p.name for p in sources if (dest / p.name).exists()]
    if clashes and not force:
        raise ExerciseError(f"{clashes[0]}: already exists; edit it, choose another folder, "
                            "or pass --force to overwrite")
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    for src in sources:
        text = src.read_text(encoding="utf-8")

        def fix(match, src=src):
            ref = match.group(3).strip()
            parent = (src.parent / ref).resolve()
            if parent.parent == src.parent.resolve() and parent.name in names:
                new = parent.name
            else:
                new = str(parent)
            return f"{match.group(1)}{new}{match.group(4) or ''}"
        out = dest / src.name
        fd, tmp = tempfile.mkstemp(prefix=f".{src.name}.", dir=dest)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(_EXTENDS.sub(fix, text))
        os.chmod(tmp, 0o666 & ~rp.current_umask())
        os.replace(tmp, out)
        written.append(out)
    return written


def trajectory_label(var: str) -> str:
    """Readable label of a trajectory variable."""
    return TRAJECTORY_VARIABLES[var].label
