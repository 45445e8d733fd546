"""Running the studio's state: one job at a time a session, bounded, and dropped when replaced.

``simulate(state, cancel)`` runs the state's scenario with common random numbers (the seed is
part of the state, so two choices compared run by run share their luck), stops between blocks
when ``cancel`` is set or the time limit passes, and keeps what the page shows: bands of a few
variables, the key outcomes run by run, and their table. ``paired_difference`` compares two
results run by run, which is what "same luck in both" buys.
"""

from __future__ import annotations

import datetime as _dt
import math
import threading
import time
from dataclasses import dataclass

import numpy as np

from sim.engine.engine import JobStopped, run
from sim.model.outcomes import OUTCOME_COLUMNS, TRAJECTORY_VARIABLES
from sim.reporting.plots import OUTCOME_LABELS
from sim.reporting.report_figures import format_number
from sim.studio.state import StudioState

#: Longest a studio job may run (seconds) before it is given up: a class shares one laptop.
TIME_LIMIT = 30.0
#: Trajectories drawn as fan charts.
FANS = ("us_troops", "isis_fighters_iraq", "militia_attacks", "withdrawal_pressure")
#: Outcomes drawn as distributions (with a log axis where they span orders of magnitude).
DISTRIBUTIONS = (("isis_peak", True), ("us_fatalities", False))
#: Outcomes in the table, in reading order.
KEY_OUTCOMES = ("resurgence", "months_to_resurgence", "isis_peak", "militia_attacks",
                "us_fatalities", "exit_demanded", "escalation", "us_troop_months")
#: z of a two-sided 90% interval.
Z90 = 1.6448536269514722


@dataclass(eq=False)  # compared by identity: a result is one job's
class StudioResult:
    """What the page shows of one run of a state."""

    state: StudioState
    dates: list[_dt.date]
    bands: dict[str, dict[str, np.ndarray]]
    outcomes: dict[str, np.ndarray]
    seconds: float

    def table(self) -> list[tuple[str, str]]:
        """``(outcome in plain words, value with its unit or as a percentage)``."""
        rows = []
        for name in KEY_OUTCOMES:
            title, unit = OUTCOME_LABELS.get(name, (OUTCOME_COLUMNS[name][1], ""))
            v = self.outcomes[name]
            kind = OUTCOME_COLUMNS[name][0]
            if kind == "bool":
                rows.append((title, f"{100 * v.mean():.1f}% of runs"))
            elif kind == "month":
                happened = v[np.isfinite(v)]
                if not happened.size:
                    rows.append((title, "never"))
                    continue
                p05, p50, p95 = (self.dates[min(int(round(q)), len(self.dates) - 1)]
                                 for q in np.quantile(happened, [0.05, 0.5, 0.95]))
                rows.append((title, f"{p50:%b %Y} ({p05:%b %Y} to {p95:%b %Y}), in "
                                    f"{100 * happened.size / v.size:.0f}% of runs"))
            else:
                p05, p50, p95 = np.quantile(v, [0.05, 0.5, 0.95])
                rows.append((title, f"{format_number(p50)} {unit} ({format_number(p05)} to "
                                    f"{format_number(p95)})"))
        return rows


def simulate(state: StudioState, cancel: threading.Event | None = None,
             time_limit: float = TIME_LIMIT) -> StudioResult | None:
    """Run ``state``; None if it was cancelled or ran out of time (between two blocks)."""
    scenario = state.scenario()
    started = time.monotonic()

    def should_stop() -> bool:
        return (cancel is not None and cancel.is_set()) or time.monotonic() - started > time_limit
    try:
        res = run(scenario, runs=state.runs, seed=state.seed, progress=False, should_stop=should_stop)
    except JobStopped:
        return None
    q = res.quantiles
    bands = {}
    for var in FANS:
        part = q[q["variable"] == var]
        bands[var] = {k: part[k].to_numpy() for k in ("p05", "p25", "p50", "p75", "p95")}
    outcomes = {name: res.outcomes[name].to_numpy(dtype=float) for name in
                set(KEY_OUTCOMES) | {n for n, _ in DISTRIBUTIONS}}
    return StudioResult(state, scenario.month_dates(), bands, outcomes, time.monotonic() - started)


def paired_difference(current: StudioResult, pinned: StudioResult) -> list[tuple[str, str]]:
    """Per key outcome: the mean difference current minus pinned over the same runs, with its
    90% interval, or why it cannot be paired (other runs or seed)."""
    if (current.state.runs, current.state.seed) != (pinned.state.runs, pinned.state.seed):
        return [("", "pin and current need the same runs and seed to be compared run by run")]
    rows = []
    for name in KEY_OUTCOMES:
        kind = OUTCOME_COLUMNS[name][0]
        if kind == "month":
            continue
        d = current.outcomes[name] - pinned.outcomes[name]
        mean, half = float(d.mean()), Z90 * float(d.std(ddof=1)) / math.sqrt(d.size)
        title = OUTCOME_LABELS.get(name, (name, ""))[0]
        if kind == "bool":
            text = f"{100 * mean:+.1f} points (90%: {100 * (mean - half):+.1f} to {100 * (mean + half):+.1f})"
        else:
            text = f"{mean:+,.3g} (90%: {mean - half:+,.3g} to {mean + half:+,.3g})"
        rows.append((title, text))
    return rows


def fan_series(result: StudioResult, var: str, name: str, color: str) -> dict:
    """One series of a fan chart, from a result's bands."""
    return {"name": name, "color": color, **result.bands[var]}


def variable_label(var: str) -> tuple[str, str, bool, bool]:
    """Title, unit, whether an index (0 to 1) and whether on a log scale, of a trajectory."""
    meta = TRAJECTORY_VARIABLES[var]
    return meta.label, meta.unit, meta.is_index, meta.log
