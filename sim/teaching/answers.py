"""Generated answers for the instructor keys, and the statistics they rest on.

Every number in an answer comes from the runs made when the key is built, and every word that
states a direction ("higher", "lower") is decided by the numbers, with a 90% interval from the
paired runs (common random numbers), so a key stays true when the model changes. An exercise's
YAML file names its answers (``answer: resurgence_timing`` or ``answer: {kind: rank, outcome:
militia_attacks}``); ``answer_from`` turns that into a function of the comparison.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from sim.analysis.robustness import OUTCOME_DIRECTIONS, pareto_front, robustness_table
from sim.model.outcomes import OUTCOME_COLUMNS
from sim.reporting import report as rp


class ExerciseError(ValueError):
    """A request for an exercise that does not exist, or a bad extra scenario."""


#: z for a two-sided 90% interval (normal approximation of the Monte Carlo error).
Z90 = 1.6448536269514722


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
    a = outcome_values(comparison, reference, outcome)
    b = outcome_values(comparison, other, outcome)
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


def outcome_values(comparison, name: str, outcome: str) -> np.ndarray:
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
    p, lo, hi = probability_interval(outcome_values(comparison, name, outcome))
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


def robustness_of(comparison, outcomes) -> pd.DataFrame:
    """Robustness table of a comparison's scenarios (``sim.analysis.robustness``).

    Each scenario is a choice and each run index a state of the world (common random numbers).
    """
    long = comparison.outcomes()
    judged = [o for o in outcomes if OUTCOME_DIRECTIONS.get(o, "info") != "info" and o in long]
    return robustness_table(long, ["scenario"], outcomes=judged, replica_col="run")


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
        isis = res.band("isis_fighters_iraq")["p50"].to_numpy()
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
            vals = outcome_values(comp, n, outcome)
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
                     f"P(exit demanded) {fmt_prob(comp, n, 'exit_demanded')}")
    return "\n".join(lines)


def _ans_resurgence_if_expelled(comp, ex):
    long = comp.outcomes()
    lines = []
    for n in comp.names:
        o = long[long["scenario"] == n]
        exp, stay = o[o["exit_demanded"]], o[~o["exit_demanded"]]
        a = f"{exp['resurgence'].mean():.2f} over {len(exp):,} runs" if len(exp) else "no such runs"
        b = f"{stay['resurgence'].mean():.2f} over {len(stay):,} runs" if len(stay) else "no such runs"
        lines.append(f"- **{n}**: P(resurgence) when an exit was demanded {a}; when not {b}")
    pooled_e = long[long["exit_demanded"]]["resurgence"]
    pooled_s = long[~long["exit_demanded"]]["resurgence"]
    if len(pooled_e) and len(pooled_s):
        word = "higher" if pooled_e.mean() > pooled_s.mean() else "not higher"
        lines.append(f"\nPooled over the doctrines, resurgence is {word} in runs where Baghdad "
                     f"demanded an exit ({pooled_e.mean():.2f} against {pooled_s.mean():.2f}); this "
                     "is an association across runs, not a paired comparison.")
    return "\n".join(lines)


def _ans_will(comp, ex):
    lines = [f"- **{n}**: P(will collapses) {fmt_prob(comp, n, 'will_collapse')}; mean US deaths "
             f"{fmt(float(np.nanmean(outcome_values(comp, n, 'us_fatalities'))))}" for n in comp.names]
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
            means = {n: float(np.nanmean(outcome_values(comp, n, outcome))) for n in comp.names}
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
        signs = [1.0 if OUTCOME_DIRECTIONS.get(o, "min") == "min" else -1.0 for o in outcomes]
        pts = np.array([[s * float(np.nanmean(outcome_values(comp, n, o))) for o, s in zip(outcomes, signs)]
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


#: Answers an exercise names with settings (``{kind: rank, outcome: militia_attacks}``): each
#: makes the answer function from its settings.
ANSWER_KINDS = {"probabilities": _ans_probabilities, "paired_vs": _ans_paired_vs,
                "rank": _ans_rank, "ranked_effects": _ans_ranked_effects,
                "extremes": _ans_extremes, "pareto": _ans_pareto}
#: Answers an exercise names alone (``answer: resurgence_timing``).
ANSWERS = {"resurgence_timing": _ans_resurgence_timing, "growth_after_exit": _ans_growth_after_exit,
           "vote_and_demand": _ans_vote_and_demand, "resurgence_if_expelled": _ans_resurgence_if_expelled,
           "will": _ans_will, "iran_trajectories": _ans_iran_trajectories,
           "robustness": _ans_robustness}


def answer_from(spec):
    """The answer function ``(comparison, exercise) -> markdown`` an exercise file names.

    ``spec`` is None (no generated answer), a name of ``ANSWERS``, or a mapping with a ``kind``
    of ``ANSWER_KINDS`` and that kind's settings.

    Raises:
        ValueError: an unknown name or kind, or settings the kind does not take.
    """
    if spec is None:
        return None
    if isinstance(spec, str):
        if spec not in ANSWERS:
            raise ValueError(f"unknown answer {spec!r}; allowed: {', '.join(ANSWERS)}, or a "
                             f"mapping with a kind of {', '.join(ANSWER_KINDS)}")
        return ANSWERS[spec]
    settings = dict(spec)
    kind = settings.pop("kind", None)
    if kind not in ANSWER_KINDS:
        raise ValueError(f"unknown answer kind {kind!r}; allowed: {', '.join(ANSWER_KINDS)}")
    try:
        return ANSWER_KINDS[kind](**settings)
    except TypeError:
        raise ValueError(f"answer kind {kind!r} does not take {sorted(settings)}") from None
