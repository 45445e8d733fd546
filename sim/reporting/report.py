"""A self-contained HTML report comparing scenarios, for handing out and for reading offline.

``build_report(comparison)`` renders one HTML page with a Jinja2 template
(``templates/report.html.j2``): the question and the choices compared, each scenario's
description, the key outcome table, distribution plots, fan charts with dates, the trade-offs
(when several scenarios are compared), the mechanisms in play with their evidence citations, and
the provenance. Every figure is a small PNG panel (``report_figures``) embedded as a ``data:``
URI with a text alternative, and the CSS is inline, so the file needs no network and no other
file; the layout is responsive (one panel per row on a phone) and has print rules.

Quick use::

    from sim import compare, load_scenario
    from sim.reporting.report import build_report, write_report
    comp = compare([load_scenario("baseline"), load_scenario("rapid_exit")], runs=2000, seed=1)
    write_report(build_report(comp), "report.html")
"""

from __future__ import annotations

import datetime as _dt
import os
import re
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
from jinja2 import Environment, FileSystemLoader, StrictUndefined  # noqa: E402
from markupsafe import Markup, escape  # noqa: E402

from sim._version import __version__
from sim.engine.compare import compare
from sim.engine.io import current_umask
from sim.model.outcomes import OUTCOME_COLUMNS  # noqa: E402
from sim.reporting import evidence  # noqa: E402
from sim.model.parameters import PARAMETERS  # noqa: E402
from sim.reporting.palette import scenario_color  # noqa: E402
from sim.reporting.plots import OUTCOME_LABELS, event_label  # noqa: E402
from sim.reporting.report_figures import (  # noqa: E402
    KEY_OUTCOMES, distribution_panels, format_number, tradeoff_panels, trajectory_panels)

TEMPLATES = Path(__file__).resolve().parent / "templates"

#: Which mechanisms each lever acts through (assumption: read off the model code, where the
#: posture sets troops (advising M1, direct CT M2, Syria basing M4, exposure M5, vacuum M9),
#: retaliation sets strikes (M6) that move pressure (M7), Iran (M9) and the militias' answers
#: (M13), aid enters the pressure (M7) and ISF support (M1), the exit response sets the
#: negotiation and timetable (M14) and the return posture the troops that come back (M15)).
LEVER_MECHANISMS = {"posture": ["M1", "M2", "M4", "M5", "M9"],
                    "retaliation": ["M6", "M7", "M9", "M13"],
                    "aid": ["M1", "M7"],
                    "exit_response": ["M14"],
                    "return_posture": ["M15"]}

#: Which mechanisms each kind of exogenous event acts through (see ``sim.model.events``).
EVENT_MECHANISMS = {"regional_war": ["M5", "M9", "M12"], "isis_attack_iran": ["M9", "M12"],
                    "high_profile_strike": ["M6", "M7", "M12"],
                    "iran_economic_crisis": ["M9", "M12"], "protest_crackdown": ["M11", "M12"],
                    "syria_collapse": ["M3", "M4", "M12"],
                    "exit_demand": ["M12", "M14"], "exit_agreement": ["M12", "M14"]}

# ---------------------------------------------------------------------- small helpers
def format_outcome(stats: dict, scenario=None) -> str:
    """One cell of the outcome table: ``12%``, ``3,400 (1,900–9,800)`` or ``never``; a timing
    outcome as dates when the ``scenario`` (its calendar) is given: ``Mar 2027 (Jun 2025–Oct
    2028), in 1,490 runs``."""
    if stats["kind"] == "probability":
        return f"{100 * stats['probability']:.1f}%"
    if stats.get("mean") is None:
        return "never"
    show = format_number
    if stats["kind"] == "month" and scenario is not None:
        dates = scenario.month_dates()
        show = lambda m: f"{dates[min(int(round(m)), len(dates) - 1)]:%b %Y}"  # noqa: E731
    cell = f"{show(stats['p50'])} ({show(stats['p05'])}–{show(stats['p95'])})"
    if stats["kind"] == "month":
        cell += f", in {stats['n']:,} runs"
    return cell


def describe_posture(posture, scenario=None) -> str:
    """A plain-language sentence for a posture lever (the posture's own ``describe``); with the
    ``scenario``, its months as calendar dates ("from Jul 2024" for "from month 6")."""
    text = posture.describe()
    if scenario is None:
        return text
    dates = scenario.month_dates()
    return re.sub(r"\bmonth (\d+)", lambda m: f"{dates[min(int(m.group(1)), len(dates) - 1)]:%b %Y}",
                  text)


def parameter_label(name: str) -> str:
    """A parameter in plain words, for readers of the report (its registry sentence)."""
    doc = PARAMETERS[name].doc.strip() if name in PARAMETERS else name
    return doc.split(" (")[0].rstrip(".") if len(doc) > 90 else doc.rstrip(".")


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


# ---------------------------------------------------------------------- content
def outcome_rows(comparison, outcomes=None) -> list[dict]:
    """Rows of the key outcome table: outcome, description and one cell per scenario."""
    rows = []
    for name in outcomes or KEY_OUTCOMES:
        if name not in comparison.results[0].summary["outcomes"]:
            continue
        cells = [format_outcome(r.summary["outcomes"][name], r.scenario) for r in comparison.results]
        title, unit = OUTCOME_LABELS.get(name, (OUTCOME_COLUMNS[name][1], ""))
        rows.append({"name": title, "code": name, "description": OUTCOME_COLUMNS[name][1],
                     "unit": "" if unit in ("", "date") else unit, "cells": cells})
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
            "posture": describe_posture(sc.levers.posture, sc),
            "retaliation": sc.levers.retaliation.value, "aid": sc.levers.aid.value,
            "events": [event_label(e, sc) + (f" – {e.note}" if e.note else "") for e in sc.events],
            "uncertain": [{"name": k, "label": parameter_label(k)}
                          for k in sorted(sc.uncertain_parameters())],
            "fixed": [{"name": k, "label": parameter_label(k), "value": format_number(v)}
                      for k, v in sorted(sc.fixed_parameters().items())],
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
        values = {getattr(s.levers, lever).model_dump_json()
                  if lever in ("posture", "return_posture")
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
    panels = {"distributions": distribution_panels(comparison),
              "trajectories": trajectory_panels(comparison),
              "tradeoffs": tradeoff_panels(comparison) if several else []}
    context = {
        "title": title or ("Iraq drawdown choices: " + " vs ".join(names)),
        "question": question or default_question(names),
        "names": names, "colors": [scenario_color(i) for i in range(len(names))],
        "choices": choices,
        "outcome_rows": outcome_rows(comparison),
        "panels": panels, "several": several,
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
