"""The continuous history 2011-2026 and its joins with the three episodes.

The calibration fits three episodes, each with its own starting state; the continuous history
(scenarios/history/iraq_2011_2026.yaml) runs one chain of states through all of them with every
mechanism on. An episode's starting state must be one the continuous history reaches at that
month: its range must meet the history's 90% band there.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sim
from sim.scenario.distributions import Uniform
from sim.validation.backtest import load_episode
from sim.validation.targets import CONTINUOUS, EPISODES

#: Starting-state parameters and the trajectory variable each one starts.
STATE = {
    "init.isis_iraq": "isis_fighters_iraq",
    "init.isis_syria": "isis_fighters_syria",
    "init.isf_capability": "isf_capability",
    "init.withdrawal_pressure": "withdrawal_pressure",
    "init.cooperation": "cooperation",
    "init.militia_control": "militia_control",
    "init.iran_influence": "iran_influence",
    "init.iran_direction": "iran_direction",
    "init.us_will": "us_will",
}


#: Starting states the episodes set apart from the continuous history, each with why; reported in
#: docs/validation.md ("The continuous history"). Any other state apart fails the test, and so
#: does one of these once it agrees (take it off the list).
KNOWN_APART = {
    # the continuous history's government loses its grip on the militias over the 2010s (M11)
    # faster than the episodes assume; the episodes keep the article-based 0.25-0.3
    "init.militia_control",
    # the continuous history's US will erodes over eight years of casualties and a passive
    # partner (M10) and does not recover to the 0.7-0.75 the episodes start from
    "init.us_will",
    # Iran's direction in 2019 and 2022 depends on the decade's shocks; the episodes' 0.4-0.45
    # sit at or just above the top of the history's band
    "init.iran_direction",
    # Baghdad's cooperation settles near 0.4-0.5 in the continuous history (M8: the ISIS threat
    # that binds it is low after 2017), below the 0.7 the episodes take from FP23-03 and DB24-03
    "init.cooperation",
    # Iran's influence in 2019 stays below the 2020 episode's 0.6 (M9: US forces present)
    "init.iran_influence",
}


@pytest.fixture(scope="module")
def history():
    return sim.run(load_episode(CONTINUOUS), runs=1000, seed=5)


def months_between(a: str, b: str) -> int:
    ya, ma = map(int, a.split("-"))
    yb, mb = map(int, b.split("-"))
    return (yb - ya) * 12 + (mb - ma)


def value_range(value) -> tuple[float, float]:
    """The range a starting-state parameter covers: a number, or a uniform's support."""
    if isinstance(value, int | float):
        return float(value), float(value)
    assert isinstance(value, Uniform), f"unexpected starting-state distribution {value!r}"
    return float(value.low), float(value.high)


def test_the_continuous_history_spans_2011_to_2026_with_every_episode_event():
    sc = load_episode(CONTINUOUS)
    assert str(sc.start).startswith("2011-01") and sc.horizon_months == 192
    dates = sc.month_dates()
    assert pd.Timestamp(dates[-1]).strftime("%Y-%m") == "2026-12"
    for name in EPISODES:
        ep = load_episode(name)
        shift = months_between(str(ep.start)[:7], str(sc.start)[:7]) * -1
        mine = {(e.kind, e.month - shift) for e in sc.events}
        missing = [(e.kind, e.month) for e in ep.events if (e.kind, e.month) not in mine]
        assert not missing, f"{name}: events missing from the continuous history: {missing}"


def starting_gaps(history, episode: str) -> tuple[list[str], set[str]]:
    """The starting states of ``episode`` whose range misses the history's 90% band at its start
    month: (those not on the known list, described; those on it)."""
    ep = load_episode(episode)
    month = months_between(str(history.scenario.start)[:7], str(ep.start)[:7])
    q = history.quantiles
    apart, known = [], set()
    for key, var in STATE.items():
        if key not in ep.parameters:
            continue
        lo, hi = value_range(ep.parameters[key])
        row = q[(q.variable == var) & (q.month == month)].iloc[0]
        if hi < row.p05 or lo > row.p95:
            if key in KNOWN_APART:
                known.add(key)
            else:
                apart.append(f"{key} {lo:g}..{hi:g} vs {row.p05:.3g}..{row.p95:.3g}")
    return apart, known


@pytest.mark.parametrize("episode", [e for e in EPISODES if e != "iraq_2011"])
def test_episode_starting_states_meet_the_continuous_history(history, episode):
    """What an episode is told at its start, the continuous history reaches by itself (its range
    meets the 90% band of the history at that month): ISIS's fighters, the ISF and the rest,
    apart from the known gaps."""
    assert {"init.isis_iraq", "init.isis_syria", "init.isf_capability"} <= set(
        load_episode(episode).parameters)
    apart, _ = starting_gaps(history, episode)
    assert not apart, f"{episode} starts apart from the continuous history: {apart}"


def test_the_known_gaps_at_the_joins_are_still_gaps(history):
    """Every state on the known list is apart at one join at least (else take it off)."""
    known = set()
    for episode in EPISODES:
        if episode != "iraq_2011":
            known |= starting_gaps(history, episode)[1]
    assert known == KNOWN_APART


def test_the_2011_episode_starts_as_the_continuous_history_does():
    ep, cont = load_episode("iraq_2011"), load_episode(CONTINUOUS)
    assert str(ep.start) == str(cont.start)
    for key in STATE:
        assert ep.parameters[key] == cont.parameters[key], key


def test_the_continuous_history_tells_the_whole_story(history):
    """Exit in 2011, territory taken in 2014 and lost by 2018, the return by invitation, the
    members of 2023 in their observed order of magnitude."""
    def median(var, date):
        b = history.band(var)
        return float(b.loc[pd.Timestamp(date), "p50"])
    assert median("us_troops", "2012-06-01") == 0
    assert median("isis_territory", "2014-12-01") > 0.15
    assert median("isis_territory", "2018-06-01") < 0.05
    assert median("exit_stage", "2016-01-01") == 6  # returned
    assert 2000 < median("isis_members", "2023-07-01") < 20000
    assert np.isfinite(history.outcomes["months_to_return"]).mean() > 0.9
