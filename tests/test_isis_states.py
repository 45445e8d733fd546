"""Direction tests for ISIS's states (M16): territory, supporters, sanctuaries, attack tempo.

Each test runs two simulations with the same seed (common random numbers) that differ in one
parameter or starting state, and checks that the difference goes the way the evidence states.
"""

from __future__ import annotations

import numpy as np
import pytest

import sim
from conftest import scenario, simulate
from sim.model.outcomes import TRAJECTORY_VARIABLES, VARIABLE_ALIASES, variable_name
from sim.scenario.errors import ScenarioError

#: No US troops and a weak ISF: the conditions of 2013-14, where ISIS grows and can take ground.
GONE = {"posture": {"kind": "hold", "troops": 0}, "retaliation": "proportional", "aid": "low"}
WEAK = {"init.isf_capability": 0.25, "init.isis_iraq": 6000}


def test_m16_isis_takes_ground_when_strong_and_unopposed():
    """M16 (POL20-07, FP23-06): with US forces gone and a hollowed-out ISF, a large ISIS takes
    towns; a small one facing the same forces does not."""
    sc = scenario(levers=GONE, horizon_months=36)
    small = simulate(sc, params={**WEAK, "init.isis_iraq": 500})
    large = simulate(sc, params=WEAK)
    assert large.mean("isis_territory") > small.mean("isis_territory") + 0.05
    assert large.outcomes["territory_peak"].mean() > 0.2


def test_m16_cp_pressure_retakes_the_towns():
    """M16 (DB24-09): sustained CT pressure retakes held ground; a faster retake rate leaves less
    territory, month by month."""
    sc = scenario(horizon_months=36)  # 2,500 US troops advising
    start = {"init.isis_territory": 0.4, "init.isis_iraq": 8000}
    slow = simulate(sc, params={**start, "isis.retake_rate": 0.03})
    fast = simulate(sc, params={**start, "isis.retake_rate": 0.25})
    assert fast.mean("isis_territory", slice(-1, None)) < slow.mean("isis_territory", slice(-1, None))
    assert fast.mean("isis_territory", slice(-1, None)) < 0.4 * 0.5


def test_m16_territory_feeds_recruitment():
    """M16 (assumption: taxes and conscripts): holding towns makes ISIS grow faster."""
    sc = scenario(levers=GONE, horizon_months=24)
    none = simulate(sc, params={**WEAK, "isis.territory_recruitment": 0.0,
                                "init.isis_territory": 0.3})
    much = simulate(sc, params={**WEAK, "isis.territory_recruitment": 3.0,
                                "init.isis_territory": 0.3})
    assert much.mean("isis_fighters_iraq") > none.mean("isis_fighters_iraq")


def test_m16_sanctuaries_keep_the_insurgency_alive_under_pressure():
    """M16 (FP23-06, DB24-09): fighters sheltered in sanctuaries escape CT attrition, so the group
    persists under pressure; without sanctuaries it is worn down further."""
    sc = scenario(horizon_months=60)
    params = {"init.isis_iraq": 1500, "isis.attrition_rate": 0.6}
    bare = simulate(sc, params={**params, "isis.sanctuary_fighters": 0.0})
    sheltered = simulate(sc, params={**params, "isis.sanctuary_fighters": 1000.0})
    end = slice(-1, None)
    assert sheltered.mean("isis_fighters_iraq", end) > 1.3 * bare.mean("isis_fighters_iraq", end)


def test_m16_members_are_fighters_plus_supporters():
    """M16 (DB24-16): membership counts include part-time members and supporters; more supporters
    per fighter means more members for the same fighters."""
    sc = scenario(horizon_months=24)
    few = simulate(sc, params={"isis.support_ratio": 0.5})
    many = simulate(sc, params={"isis.support_ratio": 2.5})
    np.testing.assert_array_equal(few.traj["isis_fighters_iraq"], many.traj["isis_fighters_iraq"])
    assert many.mean("isis_members") > few.mean("isis_members")
    fighters = few.traj["isis_fighters_iraq"] + few.traj["isis_fighters_syria"]
    assert (few.traj["isis_members"] >= fighters * (1 - 1e-6)).all()


def test_m16_supporters_follow_grievance():
    """M16 (RCD20-01): a crackdown's lost legitimacy rallies supporters around the fighters."""
    calm = simulate(scenario(horizon_months=24), params={"isis.support_adjust": 0.2})
    crackdown = simulate(scenario(horizon_months=24, events=[
        {"kind": "protest_crackdown", "month": 2, "severity": 0.5}]),
        params={"isis.support_adjust": 0.2})
    supporters = lambda s: (s.traj["isis_members"] - s.traj["isis_fighters_iraq"]  # noqa: E731
                            - s.traj["isis_fighters_syria"])
    assert supporters(crackdown)[6:].mean() > supporters(calm)[6:].mean()


def test_m16_ct_pressure_suppresses_attacks_beyond_the_fighters_it_removes():
    """M16 (DB24-12: attacks fell far more than membership): with the same fighters, stronger
    suppression by CT pressure means fewer attacks."""
    sc = scenario(horizon_months=24)
    loose = simulate(sc, params={"isis.tempo_suppression": 0.0})
    tight = simulate(sc, params={"isis.tempo_suppression": 0.9})
    np.testing.assert_array_equal(loose.traj["isis_fighters_iraq"], tight.traj["isis_fighters_iraq"])
    assert tight.mean("isis_attacks") < 0.8 * loose.mean("isis_attacks")


def test_m16_attack_tempo_lags_the_fighters():
    """M16 (assumption: cells need a season to change their tempo): after a collapse in fighters
    a slow tempo stays higher for months than a fast one."""
    sc = scenario(horizon_months=12)
    params = {"init.isis_iraq": 8000, "isis.attrition_rate": 1.0, "isis.sanctuary_fighters": 0.0}
    fast = simulate(sc, params={**params, "isis.tempo_adjust": 1.0})
    slow = simulate(sc, params={**params, "isis.tempo_adjust": 0.1})
    assert slow.mean("isis_attacks", slice(3, 6)) > fast.mean("isis_attacks", slice(3, 6))


def test_m16_towns_held_make_the_threat_salient_in_baghdad():
    """M16 with M7 (POL20-01: Baghdad asked the US back in 2014): towns falling make the ISIS
    threat salient whatever the count of fighters, which eases the pressure to expel US forces."""
    sc = scenario(horizon_months=6)
    none = simulate(sc, params={"init.isis_territory": 0.0, "isis.retake_rate": 0.0})
    held = simulate(sc, params={"init.isis_territory": 0.4, "isis.retake_rate": 0.0})
    assert held.model.gov.threat_salience.mean() > none.model.gov.threat_salience.mean() + 0.2
    assert held.mean("withdrawal_pressure", slice(1, None)) < none.mean("withdrawal_pressure",
                                                                        slice(1, None))


# ----------------------------------------------------------------------------- troop decisions
def test_troop_ceiling_caps_troops_from_its_month_and_a_later_one_replaces_it():
    """A US troop decision (``troop_ceiling``) caps the posture from its month; a later ceiling
    replaces it, so troops can go back up to the new ceiling."""
    sc = scenario(horizon_months=12, levers={"posture": {"kind": "hold", "troops": 5000},
                                             "retaliation": "none", "aid": "medium"},
                  events=[{"kind": "troop_ceiling", "month": 3, "troops": 3000},
                          {"kind": "troop_ceiling", "month": 6, "troops": 4000}])
    s = simulate(sc, n=200)
    troops = s.traj["us_troops"].max(axis=1)
    assert troops[2] == 5000 and troops[3] == 3000 and troops[5] == 3000 and troops[6] == 4000


def test_troop_ceiling_month_zero_is_refused():
    with pytest.raises((ScenarioError, ValueError), match="month 1"):
        scenario(events=[{"kind": "troop_ceiling", "month": 0, "troops": 3000}])


# ----------------------------------------------------------------------------- plain names
def test_deprecated_isis_names_are_aliases_of_the_plain_names():
    """``isis_strength`` and ``isis_syria`` stay one release as aliases: the same rows in
    ``quantiles.parquet`` and the same band."""
    assert set(VARIABLE_ALIASES.values()) <= set(TRAJECTORY_VARIABLES)
    assert not set(VARIABLE_ALIASES) & set(TRAJECTORY_VARIABLES)
    assert variable_name("isis_strength") == "isis_fighters_iraq"
    res = sim.run(scenario(horizon_months=6), runs=300, seed=3)
    q = res.quantiles
    for alias, name in VARIABLE_ALIASES.items():
        a = q[q.variable == alias].drop(columns="variable").reset_index(drop=True)
        b = q[q.variable == name].drop(columns="variable").reset_index(drop=True)
        assert len(a) == 6
        pd_testing = pytest.importorskip("pandas.testing")
        pd_testing.assert_frame_equal(a, b)
        assert res.band(alias).equals(res.band(name))
    for name in ("isis_fighters_iraq", "isis_fighters_syria", "isis_members", "isis_territory",
                 "isis_attacks"):
        assert (q.variable == name).sum() == 6
