"""One direction test per mechanism, with common random numbers.

Each test runs two simulations with the same seed that differ in one lever, event or parameter,
and checks that the difference goes the way the evidence states (claim ids in each docstring).
"""

from __future__ import annotations

import numpy as np

from conftest import scenario, simulate

HOLD = {"kind": "hold", "troops": 2500}
EXIT = {"kind": "rapid_exit", "troops": 2500, "start_month": 0, "months": 3}


def levers(posture=None, retaliation="proportional", aid="medium"):
    return {"posture": posture or HOLD, "retaliation": retaliation, "aid": aid}


# ----------------------------------------------------------------------------- M1
def test_m1_more_troops_mean_higher_isf_capability_and_lower_isis_peak():
    """M1 (POL20-07, FP23-09): advisers build the ISF; fewer troops, weaker ISF, bigger ISIS."""
    many = simulate(scenario(levers=levers({"kind": "hold", "troops": 2500})))
    few = simulate(scenario(levers=levers({"kind": "hold", "troops": 500})))
    assert many.outcomes["isf_capability_end"].mean() > few.outcomes["isf_capability_end"].mean() + 0.05
    assert many.outcomes["isis_peak"].mean() < few.outcomes["isis_peak"].mean()


def test_m1_isf_decays_faster_without_support_when_decay_rate_is_higher():
    """M1 (POL20-07): the decay rate without US support drives ISF collapse after an exit."""
    sc = scenario(levers=levers(EXIT))
    slow = simulate(sc, params={"isf.decay_without_support": 0.01})
    fast = simulate(sc, params={"isf.decay_without_support": 0.06})
    assert fast.outcomes["isf_capability_end"].mean() < slow.outcomes["isf_capability_end"].mean() - 0.1


# ----------------------------------------------------------------------------- M2
def test_m2_over_the_horizon_strike_capacity_lowers_isis():
    """M2 (POL20-01, DB24-14): direct US CT adds to the pressure on ISIS even from outside."""
    oth = {"kind": "over_the_horizon", "troops": 2500, "start_month": 0, "months": 3}
    sc = scenario(levers=levers(oth))
    none = simulate(sc, params={"us.over_the_horizon_fraction": 0.0})
    some = simulate(sc, params={"us.over_the_horizon_fraction": 0.6})
    assert some.mean("isis_fighters_iraq") < none.mean("isis_fighters_iraq")


def test_m2_pmf_fighting_adds_pressure():
    """M2 (WP20-01): PMF units contribute to the fight against ISIS."""
    sc = scenario(levers=levers(EXIT))
    without = simulate(sc, params={"militia.pmf_ct_weight": 0.0})
    with_pmf = simulate(sc, params={"militia.pmf_ct_weight": 0.3})
    assert with_pmf.outcomes["isis_peak"].mean() < without.outcomes["isis_peak"].mean()


# ----------------------------------------------------------------------------- M3
def test_m3_rapid_exit_brings_fast_resurgence():
    """M3 (DB24-13, POL20-07): after a US exit ISIS resurges, sooner and larger than if it stays."""
    stay = simulate(scenario(levers=levers(HOLD)))
    leave = simulate(scenario(levers=levers(EXIT)))
    assert leave.outcomes["resurgence"].mean() > stay.outcomes["resurgence"].mean() + 0.3
    assert leave.outcomes["isis_peak"].mean() > 2 * stay.outcomes["isis_peak"].mean()


def test_m3_resurgence_boost_speeds_growth_below_threshold():
    """M3 (DB24-13): below the pressure threshold ISIS grows faster the stronger the tipping."""
    sc = scenario(levers=levers(EXIT))
    weak = simulate(sc, params={"isis.resurgence_boost": 0.0})
    strong = simulate(sc, params={"isis.resurgence_boost": 2.0})
    assert strong.outcomes["isis_peak"].mean() > weak.outcomes["isis_peak"].mean()


def test_m3_grievance_from_low_legitimacy_feeds_recruitment():
    """M3/M11 (RCD20-01): a crackdown costs legitimacy and swells ISIS recruitment."""
    calm = simulate(scenario(levers=levers(EXIT)))
    crackdown = simulate(scenario(levers=levers(EXIT),
                                  events=[{"kind": "protest_crackdown", "month": 1, "severity": 0.5}]))
    assert crackdown.outcomes["isis_peak"].mean() > calm.outcomes["isis_peak"].mean()


# ----------------------------------------------------------------------------- M4
def test_m4_losing_iraq_basing_means_more_inflow_from_syria():
    """M4 (POL20-03, FP23-06): without the Iraq hub, Syria raids fade and the reservoir crosses."""
    def total_inflow(posture):
        flows = []
        simulate(scenario(levers=levers(posture)), probe=lambda m: flows.append(m.isis.inflow.mean()))
        return sum(flows)

    kurdistan = {"kind": "kurdistan_residual", "troops": 2500, "start_month": 0, "months": 3,
                 "residual": 900}
    oth = {"kind": "over_the_horizon", "troops": 2500, "start_month": 0, "months": 3}
    assert total_inflow(oth) > total_inflow(kurdistan)
    assert total_inflow(EXIT) > total_inflow(HOLD)


def test_m4_syria_reservoir_grows_when_iraq_is_lost():
    """M4 (POL20-03): no Iraq, no Syria: the Syrian reservoir grows after a full exit."""
    stay = simulate(scenario(levers=levers(HOLD)))
    leave = simulate(scenario(levers=levers(EXIT)))
    assert leave.mean("isis_fighters_syria", slice(-1, None)) > stay.mean("isis_fighters_syria", slice(-1, None))


# ----------------------------------------------------------------------------- M5
def test_m5_regional_war_shock_means_more_militia_attacks():
    """M5/M12 (DB24-01): the regional war after October 2023 brought hundreds of attacks."""
    calm = simulate(scenario())
    war = simulate(scenario(events=[{"kind": "regional_war", "month": 1, "months": 12, "intensity": 2}]))
    assert war.outcomes["militia_attacks"].mean() > 1.5 * calm.outcomes["militia_attacks"].mean()


def test_m5_fewer_troops_present_means_fewer_attacks_on_them():
    """M5 (POL20-08): attacks need targets; exposure falls with troops present."""
    many = simulate(scenario(levers=levers({"kind": "hold", "troops": 5000})))
    few = simulate(scenario(levers=levers({"kind": "hold", "troops": 1000})))
    assert few.outcomes["militia_attacks"].mean() < many.outcomes["militia_attacks"].mean()


def test_m5_lethality_drives_us_deaths():
    """M5 (RCD20-02): some attacks kill; deaths scale with lethality."""
    sc = scenario()
    low = simulate(sc, params={"militia.lethality": 0.02})
    high = simulate(sc, params={"militia.lethality": 0.15})
    assert high.outcomes["us_fatalities"].mean() > 2 * low.outcomes["us_fatalities"].mean()


# ----------------------------------------------------------------------------- M6
WAR = [{"kind": "regional_war", "month": 0, "months": 12, "intensity": 2}]


def test_m6_leadership_strikes_raise_pressure_and_cut_cohesion():
    """M6/M7 (DB24-02, RCD20-08): decapitation cuts cohesion but inflames Baghdad."""
    cohesion = {}

    def track(name):
        vals = []
        return vals, (lambda m: vals.append(np.mean([g.cohesion.mean() for g in m.militias])))

    none_vals, none_probe = track("none")
    lead_vals, lead_probe = track("leadership")
    none = simulate(scenario(levers=levers(retaliation="none"), events=WAR), probe=none_probe)
    lead = simulate(scenario(levers=levers(retaliation="leadership"), events=WAR), probe=lead_probe)
    cohesion["none"], cohesion["leadership"] = np.mean(none_vals), np.mean(lead_vals)
    assert lead.outcomes["withdrawal_pressure_peak"].mean() > none.outcomes["withdrawal_pressure_peak"].mean() + 0.05
    assert cohesion["leadership"] < cohesion["none"] - 0.05
    assert lead.outcomes["leadership_strikes"].mean() > 0 == none.outcomes["leadership_strikes"].mean()


def test_m6_retaliation_builds_deterrence_and_lowers_attacks():
    """M6 (DB24-04): strikes send a deterrent signal; attacks fall against no response."""
    none = simulate(scenario(levers=levers(retaliation="none"), events=WAR))
    prop = simulate(scenario(levers=levers(retaliation="proportional"), events=WAR))
    assert prop.mean("deterrence") > none.mean("deterrence")
    assert prop.outcomes["militia_attacks"].mean() < none.outcomes["militia_attacks"].mean()


def test_m6_pressure_on_iran_risks_escalation_without_inflaming_baghdad_as_much():
    """M6 (WP20-06, RCD20-07): fight Iran outside Iraq: escalation risk, less sovereignty backlash."""
    lead = simulate(scenario(levers=levers(retaliation="leadership"), events=WAR))
    iran = simulate(scenario(levers=levers(retaliation="iran_direct"), events=WAR))
    none = simulate(scenario(levers=levers(retaliation="none"), events=WAR))
    assert iran.outcomes["escalation"].mean() > none.outcomes["escalation"].mean()
    assert iran.outcomes["withdrawal_pressure_peak"].mean() < lead.outcomes["withdrawal_pressure_peak"].mean()


def test_m6_killing_an_iranian_commander_triggers_iranian_retaliation():
    """M6/M12 (RCD20-07): the January 2020 strike was followed by Iranian missiles on US bases."""
    strike = [{"kind": "high_profile_strike", "month": 2, "target": "iranian_commander"}]
    calm = simulate(scenario(levers=levers(retaliation="none")))
    hit = simulate(scenario(levers=levers(retaliation="none"), events=strike))
    assert hit.outcomes["escalation"].mean() > 0.3 > calm.outcomes["escalation"].mean()


# ----------------------------------------------------------------------------- M7
def test_m7_high_profile_strike_brings_a_vote_within_weeks():
    """M7 (FP23-01, RCD20-06): the 2020 expulsion vote came days after the strike."""
    strike = [{"kind": "high_profile_strike", "month": 3, "target": "iranian_commander"}]
    sc = scenario(events=strike, parameters={"init.withdrawal_pressure": 0.55})
    hit = simulate(sc)
    calm = simulate(scenario(parameters={"init.withdrawal_pressure": 0.55}))
    assert hit.outcomes["parliament_vote"].mean() > calm.outcomes["parliament_vote"].mean()
    months = hit.outcomes["months_to_vote"]
    assert np.nanmedian(months) <= 4


def test_m7_coercion_of_mps_raises_pressure():
    """M7 (FP23-02): militia coercion of MPs pushes the expulsion vote."""
    sc = scenario()
    low = simulate(sc, params={"militia.coercion_weight": 0.0})
    high = simulate(sc, params={"militia.coercion_weight": 2.0})
    assert high.mean("withdrawal_pressure") > low.mean("withdrawal_pressure")


def test_m7_aid_and_isis_salience_lower_pressure():
    """M7 (FP23-07, DB24-11): aid and a salient ISIS threat keep Baghdad from expelling the US."""
    no_aid = simulate(scenario(levers=levers(aid="none")))
    aid = simulate(scenario(levers=levers(aid="high")))
    assert aid.mean("withdrawal_pressure") < no_aid.mean("withdrawal_pressure")
    sc = scenario()
    weak_isis = simulate(sc, params={"init.isis_iraq": 500})
    strong_isis = simulate(sc, params={"init.isis_iraq": 8000})
    assert strong_isis.mean("withdrawal_pressure", slice(0, 12)) < weak_isis.mean("withdrawal_pressure", slice(0, 12))


def test_m7_exit_demand_leads_through_agreement_to_an_exit_that_overrides_the_posture():
    """M7/M14 (DB24-10, DB24-19): a demand opens talks; once a timetable is agreed, troops leave
    by its end whatever the posture (here the US complies: one phase, everyone out)."""
    sc = scenario(levers={**levers(), "exit_response": "comply"},
                  parameters={"iraq.demand_threshold": 0.0, "iraq.demand_hazard": 50.0,
                              "iraq.pm_private_preference": 0.0, "exit.negotiation_months": 2,
                              "exit.comply_months": 6, "exit.reinvite_hazard": 0.0})
    s = simulate(sc, n=500)
    assert s.outcomes["exit_demanded"].mean() > 0.95
    troops = s.traj["us_troops"]
    agreed = s.outcomes["months_to_agreement"]
    runs = np.where(agreed <= 30)[0]
    assert runs.size > 0
    for i in runs[:50]:
        t = int(agreed[i])
        assert troops[t + 6, i] == 0
        assert troops[t + 3, i] < 2500
        assert troops[t - 1, i] == 2500  # no troop leaves before the agreement


def test_m7_pm_private_preference_damps_exit_demands():
    """M7 (FP23-04): prime ministers who privately want US troops drag their feet."""
    sc = scenario(levers=levers(retaliation="leadership"), events=WAR)
    keen = simulate(sc, params={"iraq.pm_private_preference": 0.0})
    reluctant = simulate(sc, params={"iraq.pm_private_preference": 0.9})
    assert reluctant.outcomes["expelled"].mean() < keen.outcomes["expelled"].mean()


# ----------------------------------------------------------------------------- M8
def test_m8_common_enemy_binds_cooperation():
    """M8 (POL20-06): ISIS as a common enemy holds the partnership together."""
    sc = scenario()
    low = simulate(sc, params={"iraq.cooperation_threat_weight": 0.0})
    high = simulate(sc, params={"iraq.cooperation_threat_weight": 0.8})
    assert high.mean("cooperation") > low.mean("cooperation")


def test_m8_tension_erodes_cooperation():
    """M8 (POL20-08): strikes on Iraqi soil and the pressure they bring erode cooperation."""
    none = simulate(scenario(levers=levers(retaliation="none"), events=WAR))
    lead = simulate(scenario(levers=levers(retaliation="leadership"), events=WAR))
    assert lead.mean("cooperation") < none.mean("cooperation")


# ----------------------------------------------------------------------------- M9
def test_m9_isis_attack_in_iran_restrains_proxy_direction():
    """M9/M12 (DB24-06, DB24-17): Kerman reminded Tehran how dangerous ISIS is."""
    calm = simulate(scenario())
    kerman = simulate(scenario(events=[{"kind": "isis_attack_iran", "month": 1, "severity": 1.0}]))
    assert kerman.mean("iran_direction", slice(1, 12)) < calm.mean("iran_direction", slice(1, 12))


def test_m9_economic_pressure_pushes_iran_to_pragmatism():
    """M9/M12 (WP20-07, RCD20-08): sanctions and economic crisis lower Iran's push."""
    calm = simulate(scenario())
    crisis = simulate(scenario(events=[{"kind": "iran_economic_crisis", "month": 1, "months": 24,
                                        "severity": 0.5}]))
    assert crisis.mean("iran_direction") < calm.mean("iran_direction")
    assert crisis.outcomes["militia_attacks"].mean() < calm.outcomes["militia_attacks"].mean()


def test_m9_iran_fills_the_vacuum_the_us_leaves():
    """M9 (POL20-04): Iran's influence grows after a US exit."""
    stay = simulate(scenario(levers=levers(HOLD)))
    leave = simulate(scenario(levers=levers(EXIT)))
    assert leave.outcomes["iran_influence_end"].mean() > stay.outcomes["iran_influence_end"].mean() + 0.05


# ----------------------------------------------------------------------------- M10
def test_m10_casualties_erode_will_and_can_force_a_drawdown():
    """M10 (RCD20-09): deaths and a passive partner sap US will; low will forces an exit."""
    sc = scenario(events=WAR, levers=levers(retaliation="none"))
    safe = simulate(sc, params={"militia.lethality": 0.01})
    deadly = simulate(sc, params={"militia.lethality": 0.3})
    assert deadly.mean("us_will") < safe.mean("us_will")
    assert deadly.outcomes["will_collapse"].mean() > safe.outcomes["will_collapse"].mean()
    assert deadly.outcomes["us_troop_months"].mean() < safe.outcomes["us_troop_months"].mean()


def test_m10_passive_partner_erodes_will():
    """M10 (RCD20-03): Baghdad's passivity under attack costs US will."""
    sc = scenario(events=WAR)
    tolerant = simulate(sc, params={"us.will_loss_passive_partner": 0.0})
    impatient = simulate(sc, params={"us.will_loss_passive_partner": 0.05})
    assert impatient.mean("us_will") < tolerant.mean("us_will")


# ----------------------------------------------------------------------------- M11
def test_m11_crackdown_weakens_control_over_militias_and_raises_attacks():
    """M11 (RCD20-01, WP20-02): a crackdown costs legitimacy and control over the militias."""
    calm = simulate(scenario())
    crackdown = simulate(scenario(events=[{"kind": "protest_crackdown", "month": 1, "severity": 0.4}]))
    assert crackdown.mean("militia_control", slice(2, 24)) < calm.mean("militia_control", slice(2, 24))
    assert crackdown.outcomes["militia_attacks"].mean() > calm.outcomes["militia_attacks"].mean()


def test_m11_government_control_prevents_attacks():
    """M11 (RCD20-03, DB24-18): a government that controls militias prevents attacks."""
    sc = scenario(events=WAR)
    weak = simulate(sc, params={"militia.control_effect": 0.0})
    strong = simulate(sc, params={"militia.control_effect": 1.0})
    assert strong.outcomes["militia_attacks"].mean() < weak.outcomes["militia_attacks"].mean()


# ----------------------------------------------------------------------------- M12
def test_m12_syria_collapse_swells_the_reservoir_and_the_flow_into_iraq():
    """M12/M4 (FP23-06): chaos in Syria lets ISIS spread into Iraq (2014)."""
    calm = simulate(scenario())
    chaos = simulate(scenario(events=[{"kind": "syria_collapse", "month": 1, "months": 24}]))
    assert chaos.mean("isis_fighters_syria") > calm.mean("isis_fighters_syria")
    assert chaos.outcomes["isis_peak"].mean() > calm.outcomes["isis_peak"].mean()


def test_m12_events_past_the_horizon_change_nothing():
    """M12: an event scheduled after the horizon has no effect (same random numbers)."""
    a = simulate(scenario(), n=300)
    b = simulate(scenario(events=[{"kind": "regional_war", "month": 100, "months": 6}]), n=300)
    for k in a.outcomes:
        np.testing.assert_array_equal(a.outcomes[k], b.outcomes[k])


# ----------------------------------------------------------------------------- common random numbers
def test_poisson_inversion_matches_the_poisson_distribution():
    """The CRN-safe Poisson sampler has the right mean and variance at small and large rates."""
    from sim.model.kernels import poisson_from_uniform
    rng = np.random.default_rng(0)
    for lam in (0.05, 0.7, 4.0, 25.0, 80.0):
        k = poisson_from_uniform(rng.random(200_000), np.full(200_000, lam))
        assert abs(k.mean() - lam) < 0.02 * lam + 0.005
        assert abs(k.var() - lam) < 0.05 * lam + 0.01
        assert (k == np.round(k)).all() and (k >= 0).all()


def test_changing_one_replica_leaves_the_others_untouched():
    """CRN: a parameter changed in some replicas cannot shift the random numbers of the rest."""
    sc = scenario(events=WAR)
    n = 400
    growth = np.full(n, 0.05)
    a = simulate(sc, n=n, params={"isis.growth_rate": growth})
    growth_b = growth.copy()
    growth_b[:50] = 0.09  # only the first 50 replicas differ
    b = simulate(sc, n=n, params={"isis.growth_rate": growth_b})
    for key in ("militia_attacks", "us_fatalities", "isis_peak", "expelled", "escalation"):
        np.testing.assert_array_equal(a.outcomes[key][50:], b.outcomes[key][50:], err_msg=key)
    assert not np.array_equal(a.outcomes["isis_peak"][:50], b.outcomes["isis_peak"][:50])
