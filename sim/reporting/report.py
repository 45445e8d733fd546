"""A self-contained HTML report comparing scenarios, for handing out and for reading offline.

``build_report(comparison)`` renders one HTML page with a Jinja2 template
(``sim/templates/report.html.j2``): the question and the choices compared, each scenario's
description, the key outcome table, distribution plots, fan charts with dates, the trade-off plot
(when several scenarios are compared), the mechanisms in play with their evidence citations, and
the provenance. Every figure is a PNG embedded as a ``data:`` URI and the CSS is inline, so the
file needs no network and no other file; the layout is responsive (phones) and has print rules.

Quick use::

    from sim import compare, load_scenario
    from sim.reporting.report import build_report, write_report
    comp = compare([load_scenario("scenarios/baseline.yaml"),
                    load_scenario("scenarios/rapid_exit.yaml")], runs=2000, seed=1)
    write_report(build_report(comp), "report.html")
"""

from __future__ import annotations

import base64
import datetime as _dt
import io
import os
import re
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from jinja2 import Environment, FileSystemLoader, StrictUndefined  # noqa: E402
from markupsafe import Markup, escape  # noqa: E402
from matplotlib.ticker import FuncFormatter, MaxNLocator  # noqa: E402

from sim._version import __version__
from sim.engine.compare import compare
from sim.engine.io import current_umask
from sim.model.outcomes import OUTCOME_COLUMNS, TRAJECTORY_VARIABLES  # noqa: E402
from sim.reporting import evidence  # noqa: E402
from sim.reporting.plots import save_figure  # noqa: E402

TEMPLATES = Path(__file__).resolve().parent / "templates"

#: Outcomes shown in the key table and the distribution plots, in reading order.
KEY_OUTCOMES = ["isis_peak", "resurgence", "months_to_resurgence", "militia_attacks",
                "us_fatalities", "expelled", "months_to_expulsion", "escalation",
                "will_collapse", "isf_capability_end", "iran_influence_end", "us_troop_months"]

#: Trajectory variables drawn as fan charts.
FAN_VARIABLES = ["us_troops", "isis_strength", "militia_attacks", "withdrawal_pressure",
                 "iran_influence", "isf_capability"]

#: Which mechanisms each lever acts through (assumption: read off the model code, where the
#: posture sets troops (advising M1, direct CT M2, Syria basing M4, exposure M5, vacuum M9),
#: retaliation sets strikes (M6) that move pressure (M7) and Iran (M9), and aid enters the
#: pressure (M7) and ISF support (M1)).
LEVER_MECHANISMS = {"posture": ["M1", "M2", "M4", "M5", "M9"],
                    "retaliation": ["M6", "M7", "M9"],
                    "aid": ["M1", "M7"]}

#: Which mechanisms each kind of exogenous event acts through (see ``sim.model.events``).
EVENT_MECHANISMS = {"regional_war": ["M5", "M9", "M12"], "isis_attack_iran": ["M9", "M12"],
                    "high_profile_strike": ["M6", "M7", "M12"],
                    "iran_economic_crisis": ["M9", "M12"], "protest_crackdown": ["M11", "M12"],
                    "syria_collapse": ["M3", "M4", "M12"]}

PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf"]


# ---------------------------------------------------------------------- small helpers
def figure_data_uri(fig, dpi: int = 96) -> str:
    """Encode a matplotlib figure as a ``data:image/png;base64,...`` URI and close it."""
    buf = io.BytesIO()
    save_figure(fig, buf, dpi, format="png")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def scenario_color(i: int) -> str:
    """Colour of the ``i``-th scenario in every figure."""
    return PALETTE[i % len(PALETTE)]


def format_number(value) -> str:
    """A number for a table: thousands separators for big ones, three significant digits else."""
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


def format_outcome(stats: dict) -> str:
    """One cell of the outcome table: ``P = 0.12``, ``3,400 (1,900–9,800)`` or ``never``."""
    if stats["kind"] == "probability":
        return f"P = {stats['probability']:.2f}"
    if stats.get("mean") is None:
        return "never"
    cell = f"{format_number(stats['p50'])} ({format_number(stats['p05'])}–{format_number(stats['p95'])})"
    if stats["kind"] == "month":
        cell += f", in {stats['n']:,} runs"
    return cell


def describe_posture(posture) -> str:
    """A plain-language sentence for a posture lever (the posture's own ``describe``)."""
    return posture.describe()


def describe_event(event) -> str:
    """A plain-language label for a scheduled event."""
    extra = []
    for key in ("months", "intensity", "severity", "target"):
        if key in type(event).model_fields:
            extra.append(f"{key} {getattr(event, key)}")
    text = f"{event.kind.replace('_', ' ')} at month {event.month}"
    if extra:
        text += " (" + ", ".join(extra) + ")"
    return text


def link_claims(text: str) -> Markup:
    """Escape ``text`` and turn evidence ids (``DB24-09``) into links to the evidence list."""
    known = evidence.claims()
    out = escape(text)

    def repl(match):
        cid = match.group(0)
        if cid in known:
            return f'<a href="#claim-{cid}" class="cite">{cid}</a>'
        return cid
    return Markup(evidence.CLAIM_ID.sub(repl, str(out)))


# ---------------------------------------------------------------------- figures
def _outcome_values(res, name: str) -> np.ndarray:
    vals = res.outcomes[name].to_numpy(dtype=float)
    return vals[np.isfinite(vals)]


def distribution_figure(comparison, outcomes=None):
    """Distributions of the key outcomes, every scenario overlaid.

    Numbers are step histograms on shared bins (the share of runs in each bin); events are bars
    of their probability per scenario. Returns the matplotlib figure.
    """
    outcomes = [o for o in (outcomes or KEY_OUTCOMES) if o in comparison.results[0].outcomes]
    numeric = [o for o in outcomes if OUTCOME_COLUMNS[o][0] != "bool"]
    booleans = [o for o in outcomes if OUTCOME_COLUMNS[o][0] == "bool"]
    cols = 3
    panels = len(numeric) + (1 if booleans else 0)
    rows = int(np.ceil(panels / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(11, 2.9 * rows), constrained_layout=True,
                             squeeze=False)
    axes = axes.ravel()
    names = comparison.names
    for ax, name in zip(axes, numeric):
        data = [_outcome_values(r, name) for r in comparison.results]
        pooled = np.concatenate([d for d in data if d.size]) if any(d.size for d in data) else np.array([])
        if pooled.size:
            lo, hi = np.quantile(pooled, [0.005, 0.995])
            if hi <= lo:
                lo, hi = lo - 0.5, hi + 0.5
            bins = np.linspace(lo, hi, 41)
            for i, d in enumerate(data):
                if d.size:  # share of all runs, so an event that rarely happens stays small
                    w = np.full(d.size, 1.0 / len(comparison.results[i].outcomes))
                    ax.hist(np.clip(d, lo, hi), bins=bins, weights=w, histtype="step", lw=1.6,
                            color=scenario_color(i), label=names[i])
        else:
            ax.text(0.5, 0.5, "never happened", ha="center", va="center", transform=ax.transAxes)
        ax.set_title(OUTCOME_COLUMNS[name][1], fontsize=9)
        ax.xaxis.set_major_locator(MaxNLocator(5))
        ax.xaxis.set_major_formatter(FuncFormatter(compact_tick))
        ax.set_ylabel("share of runs", fontsize=8)
        ax.tick_params(labelsize=8)
    if booleans:
        ax = axes[len(numeric)]
        y = np.arange(len(booleans))
        height = 0.8 / len(names)
        for i, res in enumerate(comparison.results):
            probs = [float(res.outcomes[b].mean()) for b in booleans]
            ax.barh(y + i * height, probs, height=height, color=scenario_color(i), label=names[i])
        ax.set_yticks(y + 0.4 - height / 2, [b.replace("_", " ") for b in booleans], fontsize=8)
        ax.set_xlim(0, 1)
        ax.invert_yaxis()
        ax.set_xlabel("probability", fontsize=8)
        ax.set_title("Events", fontsize=9)
    for ax in axes[panels:]:
        ax.axis("off")
    handles, labels = axes[0].get_legend_handles_labels()
    if not handles and booleans:
        handles, labels = axes[len(numeric)].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=min(len(names), 4), fontsize=9)
    fig.suptitle(f"Outcome distributions ({len(comparison.results[0].outcomes):,} runs each)")
    return fig


def _band(res, var):
    q = res.quantiles
    return q[q["variable"] == var]


def _variable_grid(n: int):
    """A figure with one small panel per variable, three to a row, sharing the date axis."""
    cols = 3
    rows = int(np.ceil(n / cols))
    return plt.subplots(rows, cols, figsize=(11, 2.6 * rows), sharex=True,
                        constrained_layout=True, squeeze=False)


def fan_chart_figure(res, variables=None, ylims: dict | None = None, color: str = "#1f77b4"):
    """Fan charts of one scenario: median, 50% and 90% bands by calendar date (a figure)."""
    variables = variables or FAN_VARIABLES
    fig, axes = _variable_grid(len(variables))
    for ax, var in zip(axes.ravel(), variables):
        b = _band(res, var)
        ax.fill_between(b["date"], b["p05"], b["p95"], alpha=0.18, color=color, lw=0, label="90% of runs")
        ax.fill_between(b["date"], b["p25"], b["p75"], alpha=0.38, color=color, lw=0, label="50% of runs")
        ax.plot(b["date"], b["p50"], color=color, lw=1.6, label="median")
        meta = TRAJECTORY_VARIABLES[var]
        ax.set_title(f"{meta.label} ({meta.unit})", fontsize=9)
        ax.tick_params(labelsize=8)
        if ylims and var in ylims:
            ax.set_ylim(*ylims[var])
    for ax in axes.ravel()[len(variables):]:
        ax.axis("off")
    axes.ravel()[0].legend(fontsize=7, loc="best")
    fig.autofmt_xdate()
    fig.suptitle(f"{res.scenario.name}: trajectories by month", fontsize=11)
    return fig


def median_paths_figure(comparison, variables=None):
    """Every scenario's median and 50% band on shared axes, by calendar date (a figure)."""
    variables = variables or FAN_VARIABLES
    fig, axes = _variable_grid(len(variables))
    for ax, var in zip(axes.ravel(), variables):
        for i, (name, res) in enumerate(zip(comparison.names, comparison.results)):
            b = _band(res, var)
            ax.fill_between(b["date"], b["p25"], b["p75"], alpha=0.2, color=scenario_color(i), lw=0)
            ax.plot(b["date"], b["p50"], color=scenario_color(i), lw=1.6, label=name)
        meta = TRAJECTORY_VARIABLES[var]
        ax.set_title(f"{meta.label} ({meta.unit})", fontsize=9)
        ax.tick_params(labelsize=8)
    for ax in axes.ravel()[len(variables):]:
        ax.axis("off")
    handles, labels = axes.ravel()[0].get_legend_handles_labels()
    fig.autofmt_xdate()
    fig.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 4), fontsize=9)
    fig.suptitle("Medians and 50% bands compared", fontsize=11)
    return fig


def shared_ylims(comparison, variables=None) -> dict[str, tuple[float, float]]:
    """Y limits covering every scenario's 90% band, so fan charts can be compared by eye."""
    out = {}
    for var in variables or FAN_VARIABLES:
        lo = min(float(_band(r, var)["p05"].min()) for r in comparison.results)
        hi = max(float(_band(r, var)["p95"].max()) for r in comparison.results)
        pad = 0.05 * (hi - lo) if hi > lo else 0.5
        out[var] = (min(0.0, lo), hi + pad)
    return out


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
        px, py = float(o["resurgence"].mean()), float(o["expelled"].mean())
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


# ---------------------------------------------------------------------- content
def outcome_rows(comparison, outcomes=None) -> list[dict]:
    """Rows of the key outcome table: outcome, description and one cell per scenario."""
    rows = []
    for name in outcomes or KEY_OUTCOMES:
        if name not in comparison.results[0].summary["outcomes"]:
            continue
        cells = [format_outcome(r.summary["outcomes"][name]) for r in comparison.results]
        rows.append({"name": name, "description": OUTCOME_COLUMNS[name][1], "cells": cells})
    return rows


def choice_rows(comparison, sources=None) -> list[dict]:
    """One row per scenario: its levers, events, uncertainties and description."""
    rows = []
    for i, (name, res) in enumerate(zip(comparison.names, comparison.results)):
        sc = res.scenario
        rows.append({
            "name": name, "color": scenario_color(i),
            "source": (sources[i] if sources and i < len(sources) else None),
            "description": sc.description.strip() or "(no description)",
            "posture": describe_posture(sc.levers.posture),
            "retaliation": sc.levers.retaliation.value, "aid": sc.levers.aid.value,
            "events": [describe_event(e) + (f" – {e.note}" if e.note else "") for e in sc.events],
            "uncertain": sorted(sc.uncertain_parameters()),
            "fixed": {k: v for k, v in sorted(sc.fixed_parameters().items())},
            "start": sc.start, "horizon": sc.horizon_months,
        })
    return rows


def engaged_mechanisms(comparison) -> dict[str, list[str]]:
    """Mechanism id -> what in the compared scenarios engages it differently.

    Levers that differ between the scenarios and every scheduled event kind count (see
    ``LEVER_MECHANISMS``, ``EVENT_MECHANISMS``); every mechanism acts in every run regardless.
    """
    scs = [r.scenario for r in comparison.results]
    out: dict[str, list[str]] = {}
    for lever, mids in LEVER_MECHANISMS.items():
        values = {getattr(s.levers, lever).model_dump_json() if lever == "posture"
                  else getattr(s.levers, lever).value for s in scs}
        if len(values) > 1:
            for m in mids:
                out.setdefault(m, []).append(f"{lever} (differs)")
    kinds = sorted({e.kind for s in scs for e in s.events})
    for kind in kinds:
        for m in EVENT_MECHANISMS.get(kind, []):
            out.setdefault(m, []).append(f"event: {kind.replace('_', ' ')}")
    return out


def mechanism_rows(comparison) -> tuple[list[dict], list[str]]:
    """The mechanisms with where they live and the claims they cite, and all cited claim ids."""
    mmap = evidence.mechanism_map()
    engaged = engaged_mechanisms(comparison)
    rows, cited = [], set()
    for mid, summary in evidence.MECHANISMS.items():
        places = mmap.get(mid, [])
        claims = sorted({c for p in places for c in p["claims"]})
        cited.update(claims)
        rows.append({"id": mid, "summary": summary, "where": [p["where"] for p in places],
                     "claims": [{"id": c, "citation": evidence.citation(c)} for c in claims
                                if c in evidence.claims()],
                     "engaged": engaged.get(mid, [])})
    return rows, sorted(c for c in cited if c in evidence.claims())


def evidence_rows(claim_ids) -> list[dict]:
    """Cited claims with their paraphrase and citation."""
    cl = evidence.claims()
    return [{"id": c, "citation": evidence.citation(c), "claim": " ".join(cl[c]["claim"].split())}
            for c in claim_ids]


def default_question(names: list[str]) -> str:
    """The question a comparison answers, when the user gives none."""
    if len(names) == 1:
        return (f"If the United States follows “{names[0]}” in Iraq, what happens to ISIS, to "
                "militia attacks on US troops, to Iraqi pressure to expel the US and to Iran's "
                "influence, and how uncertain is it?")
    listed = ", ".join(f"“{n}”" for n in names[:-1]) + f" or “{names[-1]}”"
    return (f"Should the United States choose {listed} in Iraq? What does each choice do to "
            "ISIS, to militia attacks on US troops, to Iraqi pressure to expel the US and to "
            "Iran's influence, and how uncertain is it?")


def provenance_rows(comparison, sources=None) -> list[dict]:
    """Per scenario: its file, sha256 and the run provenance."""
    rows = []
    for i, (name, res) in enumerate(zip(comparison.names, comparison.results)):
        p = res.provenance
        rows.append({"name": name, "source": sources[i] if sources and i < len(sources) else None,
                     "sha256": p.get("scenario_sha256") or res.scenario.sha256(),
                     "seed": p.get("seed"), "runs": p.get("runs"),
                     "elapsed": p.get("elapsed_seconds"), "executor": p.get("executor")})
    return rows


def template_environment(folder: Path = TEMPLATES, autoescape: bool = True) -> Environment:
    """A Jinja2 environment of the templates in ``folder`` (HTML-escaping unless for markdown),
    with the ``cite`` (claim ids as links) and ``slug`` filters."""
    env = Environment(loader=FileSystemLoader(str(folder)), autoescape=autoescape,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["cite"] = link_claims
    env.filters["slug"] = lambda s: re.sub(r"[^A-Za-z0-9]+", "-", str(s)).strip("-").lower()
    return env


def build_report(comparison, *, title: str | None = None, question: str | None = None,
                 sources: list[str] | None = None, command: str | None = None) -> str:
    """Render the report of a comparison as one self-contained HTML page.

    Args:
        comparison: A ``sim.engine.Comparison`` (one or more scenarios run with the same seed).
        title: Page title (default: the scenario names).
        question: The question the comparison answers (default: generated from the names).
        sources: The scenario files, in order, shown in the choices and the provenance.
        command: The command that reproduces the report, shown in the provenance.

    Returns:
        The HTML text.
    """

    names = comparison.names
    first = comparison.results[0].provenance
    several = len(names) > 1
    mechanisms, cited = mechanism_rows(comparison)
    choices = choice_rows(comparison, sources)
    in_text = {c for ch in choices for text in [ch["description"], *ch["events"]]
               for c in evidence.CLAIM_ID.findall(text)}
    cited = sorted(set(cited) | (in_text & set(evidence.claims())))
    figures = {
        "distributions": figure_data_uri(distribution_figure(comparison)),
        "median_paths": figure_data_uri(median_paths_figure(comparison)) if several else None,
        "tradeoff": figure_data_uri(tradeoff_figure(comparison)) if several else None,
    }
    ylims = shared_ylims(comparison)
    fans = [{"name": n, "uri": figure_data_uri(fan_chart_figure(r, ylims=ylims, color=scenario_color(i)))}
            for i, (n, r) in enumerate(zip(names, comparison.results))]
    context = {
        "title": title or ("Iraq drawdown choices: " + " vs ".join(names)),
        "question": question or default_question(names),
        "names": names, "colors": [scenario_color(i) for i in range(len(names))],
        "choices": choices,
        "outcome_rows": outcome_rows(comparison),
        "figures": figures, "fans": fans, "several": several,
        "mechanisms": mechanisms, "evidence": evidence_rows(cited),
        "sources": evidence.sources(),
        "provenance": {"version": __version__, "seed": first.get("seed"), "runs": first.get("runs"),
                       "block_size": first.get("block_size"),
                       "generated": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                       "versions": {k: first.get(k) for k in ("python", "numpy", "mesa") if first.get(k)},
                       "command": command, "scenarios": provenance_rows(comparison, sources)},
    }
    return template_environment().get_template("report.html.j2").render(**context)


def write_report(html: str, path: str | os.PathLike) -> Path:
    """Write ``html`` to ``path`` atomically (a temporary file, then ``os.replace``)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(html)
        os.chmod(tmp, 0o666 & ~current_umask())  # mkstemp makes 0600; a hand-out is readable
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def report(scenarios, path: str | os.PathLike, runs: int | None = None, seed: int | None = None,
           *, title: str | None = None, question: str | None = None,
           sources: list[str] | None = None, command: str | None = None, **run_kwargs) -> Path:
    """Compare ``scenarios`` with common random numbers and write the report to ``path``.

    Extra keyword arguments go to ``sim.run`` (``workers``, ``dask``, ``progress``).
    """
    comp = compare(scenarios, runs=runs, seed=seed, **run_kwargs)
    html = build_report(comp, title=title, question=question, sources=sources, command=command)
    return write_report(html, path)
