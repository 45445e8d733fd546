"""The studio's page (Solara): controls, live charts and table, A/B, exercises, sharing.

Each browser session has its own state. A change re-runs the scenario in a thread, so the page
stays responsive; a newer change cancels the running job between blocks, and a job is bounded
in runs (``state.MAX_RUNS``) and time (``jobs.TIME_LIMIT``). The URL always holds the whole
state, so a link reopens the same choices. Started by ``iraqsim studio``; docs/studio.md.
"""

from __future__ import annotations

import base64
import html

import solara

from sim.engine.compare import Comparison
from sim.engine.engine import run
from sim.reporting.palette import scenario_color
from sim.reporting.plots import OUTCOME_LABELS
from sim.reporting.report import build_report
from sim.studio import charts
from sim.studio.jobs import (DISTRIBUTIONS, FANS, StudioResult, fan_series, paired_difference,
                             simulate, variable_label)
from sim.studio.state import BASES, MAX_RUNS, MIN_RUNS, POSTURES, UNCERTAINTIES, StudioState
from sim.teaching.exercises import EXERCISES

CSS = """
.iraqsim-charts { display: flex; flex-wrap: wrap; gap: 12px; }
.iraqsim-charts > div { flex: 1 1 300px; max-width: 460px; }
table.iraqsim-table { border-collapse: collapse; font-size: 14px; width: 100%; }
table.iraqsim-table td, table.iraqsim-table th { border-bottom: 1px solid #e4e7ec; padding: 4px 6px; text-align: left; }
.iraqsim-note { color: #555; font-size: 13px; overflow-wrap: anywhere; }
table.iraqsim-table td { overflow-wrap: anywhere; }
.iraqsim-charts > div, .iraqsim-charts svg { min-width: 0; max-width: 100%; }
.iraqsim-button { display: inline-block; margin: 4px 8px 4px 0; padding: 6px 12px; border: 1px solid #0072B2;
                  border-radius: 4px; color: #0072B2; text-decoration: none; font-size: 14px; }
.iraqsim-label { font-size: 14px; margin-top: 8px; }
"""


def _text(markup: str, element_id: str | None = None, tag: str = "div"):
    """A paragraph of HTML (``markup`` is escaped by the caller where it holds user text)."""
    attributes = {"id": element_id} if element_id else None
    return solara.HTML(tag=tag, unsafe_innerHTML=markup, attributes=attributes)


def _table(rows, element_id: str, header=("outcome", "value")) -> str:
    body = "".join(f"<tr><td>{html.escape(a)}</td><td>{html.escape(b)}</td></tr>" for a, b in rows)
    return (f'<table class="iraqsim-table" id="{element_id}"><thead><tr><th>{header[0]}</th>'
            f"<th>{header[1]}</th></tr></thead><tbody>{body}</tbody></table>")


def _charts(result: StudioResult, pinned: StudioResult | None) -> str:
    shown = [(result, "now", scenario_color(0))]
    if pinned is not None:
        shown.append((pinned, "pinned", scenario_color(1)))
    parts = []
    for var in FANS:
        title, unit, index, log = variable_label(var)
        series = [fan_series(r, var, name, color) for r, name, color in shown]
        parts.append(charts.fan_chart(title, unit, result.dates, series, index=index, log=log))
    for name, log in DISTRIBUTIONS:
        title, unit = OUTCOME_LABELS[name]
        parts.append(charts.distribution(title, unit, [{"name": n, "color": c, "values": r.outcomes[name]}
                                                       for r, n, c in shown], log=log))
    return '<div class="iraqsim-charts" id="charts">' + "".join(f"<div>{p}</div>" for p in parts) + "</div>"


def _download(data: str | bytes, filename: str, label: str, mime: str, element_id: str) -> str:
    """A link that saves ``data`` as ``filename``: a ``data:`` URI, so nothing leaves the page."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    href = f"data:{mime};base64," + base64.b64encode(raw).decode("ascii")
    return (f'<a id="{element_id}" class="iraqsim-button" download="{html.escape(filename)}" '
            f'href="{href}">{html.escape(label)}</a>')


def _report(state: StudioState, pinned: StudioResult | None) -> bytes:
    scenarios = [state.scenario()]
    if pinned is not None:
        scenarios.append(pinned.state.scenario().model_copy(update={"name": "pinned"}))
    results = [run(s, runs=state.runs, seed=state.seed, progress=False) for s in scenarios]
    return build_report(Comparison(results), title="iraqsim studio").encode("utf-8")


@solara.component
def Controls(state: StudioState, set_state):
    def field(name):
        return lambda value: set_state(state.replace(**{name: value}))

    solara.Select("Start from (library scenario)", values=list(BASES), value=state.base,
                  on_value=field("base"))
    solara.Select("Troop posture", values=list(POSTURES), value=state.posture, on_value=field("posture"))
    solara.SliderInt("US troops in Iraq", value=state.troops, min=0, max=5000, step=100,
                     on_value=field("troops"))
    if state.posture != "hold":
        solara.SliderInt("Exit starts (months from the start)", value=state.exit_month, min=0,
                         max=60, on_value=field("exit_month"))
        solara.SliderInt("Exit takes (months)", value=state.exit_months, min=1, max=36,
                         on_value=field("exit_months"))
    if state.posture == "kurdistan_residual":
        solara.SliderInt("Troops left in Kurdistan", value=state.residual, min=0, max=2500, step=100,
                         on_value=field("residual"))
    solara.Select("Retaliation after militia attacks", values=["none", "proportional", "leadership",
                  "iran_direct"], value=state.retaliation, on_value=field("retaliation"))
    solara.Select("US aid and engagement", values=["none", "low", "medium", "high"], value=state.aid,
                  on_value=field("aid"))
    solara.Select("If Baghdad demands an exit, the US will", values=["comply", "negotiate", "stall"],
                  value=state.exit_response, on_value=field("exit_response"))
    _text("<b>Uncertainties</b> (as calibrated, unless you fix one)")
    pinned = dict(state.pinned)
    for name, (label, low, high) in UNCERTAINTIES.items():
        fixed = name in pinned
        solara.HTML(tag="div", unsafe_innerHTML=html.escape(label), class_="iraqsim-label")
        solara.Switch(label="fix it at a value", value=fixed,
                        on_value=lambda on, n=name, lo=low, hi=high: set_state(
                            state.pin(n, (lo + hi) / 2 if on else None)))
        if fixed:
            solara.SliderFloat("value", value=pinned[name], min=low, max=high, step=(high - low) / 50,
                               on_value=lambda v, n=name: set_state(state.pin(n, v)))
    solara.SliderInt("Runs", value=state.runs, min=MIN_RUNS, max=MAX_RUNS, step=1000,
                     on_value=field("runs"))
    solara.InputInt("Seed", value=state.seed, on_value=field("seed"))


@solara.component
def Exercise(state: StudioState, set_state):
    numbers = ["none"] + [str(n) for n in EXERCISES]
    solara.Select("Exercise", values=numbers, value=str(state.exercise or "none"),
                  on_value=lambda v: set_state(state.replace(
                      exercise=0 if v == "none" else int(v),
                      base=state.base if v == "none" else
                      "exercises/" + EXERCISES[int(v)].scenarios[0].removesuffix(".yaml"))))
    answers, set_answers = solara.use_state("")
    if not state.exercise:
        return
    ex = EXERCISES[state.exercise]
    solara.Select("Exercise scenario", values=["exercises/" + s.removesuffix(".yaml") for s in ex.scenarios],
                  value=state.base, on_value=lambda v: set_state(state.replace(base=v)))
    esc = html.escape
    _text(f"<h3>{esc(ex.title)}</h3><p><b>{esc(ex.question)}</b></p><p>{esc(ex.story)}</p>"
          "<p><b>Goals</b></p><ul>" + "".join(f"<li>{esc(g)}</li>" for g in ex.goals)
          + "</ul><p><b>Questions</b></p><ol>"
          + "".join(f"<li>{esc(q.text)}</li>" for q in ex.questions) + "</ol>", "exercise")
    solara.InputTextArea("Your answers", value=answers, on_value=set_answers, continuous_update=True)
    solara.HTML(tag="div", unsafe_innerHTML=_download(
        f"# Exercise {ex.number}: {ex.title}\n\nSettings (open the studio with them): "
        f"?{state.to_query()}\n\n## Answers\n\n{answers}\n", f"exercise-{ex.number}-answers.md",
        "Download answers and settings", "text/markdown", "download-answers"))


@solara.component
def Report(state: StudioState, pinned: StudioResult | None):
    """"Prepare report" builds the HTML report of the current choice (and the pinned one) in a
    thread; then a link saves it."""
    wanted, set_wanted = solara.use_state(None)
    made = solara.use_thread(lambda: _report(*wanted) if wanted else None, dependencies=[wanted],
                             intrusive_cancel=False)
    if wanted != (state, pinned):
        solara.Button("Prepare the report (HTML)", on_click=lambda: set_wanted((state, pinned)),
                      outlined=True)
    elif made.value is None:
        _text("Preparing the report...")
    else:
        solara.HTML(tag="div", unsafe_innerHTML=_download(
            made.value, "studio-report.html", "Download the report (HTML)", "text/html",
            "download-report"))


@solara.component
def Page():
    router = solara.use_router()
    first = solara.use_memo(lambda: StudioState.from_query(router.search or ""), [])
    state, set_state = solara.use_state(first)
    shown, set_shown = solara.use_state(None)
    pinned, set_pinned = solara.use_state(None)

    def sync_url():
        query = "?" + state.to_query()
        if "?" + (router.search or "") != query:
            router.push(query)
    solara.use_effect(sync_url, [state])

    def job(cancel):
        result = simulate(state, cancel)
        if result is not None and not cancel.is_set():
            set_shown(result)
        return result
    status = solara.use_thread(job, dependencies=[state], intrusive_cancel=False)

    solara.Title("iraqsim studio")
    solara.Style(CSS)
    with solara.ColumnsResponsive(default=12, large=[4, 8]):
        with solara.Column():
            _text("<h2>iraqsim studio</h2><p>Every change re-runs the model with the same luck "
                  "(common random numbers).</p>")
            if state.problems:
                _text("Ignored in the link: " + html.escape("; ".join(state.problems)), "problems")
            Controls(state, set_state)
            Exercise(state, set_state)
        with solara.Column():
            busy = str(status.state).endswith("RUNNING")
            _text("computing..." if busy else "up to date", "status", tag="span")
            if shown is None:
                _text("Computing the first runs...")
                return
            solara.HTML(tag="div", unsafe_innerHTML=_table(shown.table(), "key-outcomes"))
            solara.HTML(tag="div", unsafe_innerHTML=_charts(shown, pinned))
            with solara.Row():
                solara.Button("Pin this choice (A/B)", on_click=lambda: set_pinned(shown))
                if pinned is not None:
                    solara.Button("Clear the pin", on_click=lambda: set_pinned(None))
            if pinned is not None:
                _text("<b>Now minus pinned, run by run</b> (same luck in both; 90% interval)")
                solara.HTML(tag="div", unsafe_innerHTML=_table(paired_difference(shown, pinned),
                                                                "paired", ("outcome", "difference")))
            solara.HTML(tag="div", unsafe_innerHTML=_download(
                state.scenario_yaml(), "studio-scenario.yaml", "Download scenario (YAML)",
                "text/yaml", "download-scenario"))
            Report(state, pinned)
            _text(f'<span class="iraqsim-note">Share these choices: this page\'s address holds '
                  f"them all (?{html.escape(state.to_query())}).</span>", "share")
