"""Direction tests for militia campaigns (M13), the exit process (M14) and the return (M15).

Each test runs two simulations with the same seed (common random numbers) that differ in one
lever, event or parameter, and checks that the difference goes the way the evidence states.
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import scenario, simulate
from sim.model.exit import STAGE_NAMES, Stage
from sim.scenario.errors import ScenarioError

HOLD = {"kind": "hold", "troops": 2500}
WAR = [{"kind": "regional_war", "month": 2, "months": 12, "intensity": 1.5}]
DEMAND = [{"kind": "exit_demand", "month": 1}]
LEAVE = [{"kind": "exit_agreement", "month": 1, "months": 3}]


def levers(retaliation="proportional", exit_response="negotiate", **more):
    return {"posture": HOLD, "retaliation": retaliation, "aid": "medium",
            "exit_response": exit_response, **more}


def simulate_campaign(sc, params):
    """A simulation and its mean militia campaign per month and run (months, runs)."""
    months = []
    sim = simulate(sc, params=params, probe=lambda m: months.append(m.militia_campaign_mean()))
    return sim, np.array(months)


def sum_months(sim, var, months):
    """Per-run sum of a trajectory variable over ``months``."""
    return sim.traj[var][months].sum(axis=0)


# ----------------------------------------------------------------------------- M13 campaigns
def test_m13_restraint_after_strikes_means_fewer_attacks_than_defiance():
    """M13 (DB24-04 against DB24-05): groups reined in after strikes attack less than groups that
    read the strikes as impunity and harden."""
    sc = scenario(levers=levers(), events=WAR, horizon_months=24)
    defiant, defiant_campaign = simulate_campaign(sc, {
        "militia.restraint_base": 0.0, "militia.restraint_strike_weight": 0.0,
        "militia.restraint_fear_weight": 0.0, "militia.restraint_economy_weight": 0.0})
    restrained, restrained_campaign = simulate_campaign(sc, {"militia.restraint_base": 1.0})
    assert restrained.outcomes["militia_attacks"].mean() < 0.8 * defiant.outcomes["militia_attacks"].mean()
    assert restrained_campaign.mean() < defiant_campaign.mean()


def test_m13_defiance_hardens_the_campaign():
    """M13 (DB24-05): strikes that spare Iran signal impunity; a bigger push per defiant answer
    means a harder campaign."""
    sc = scenario(levers=levers(), events=WAR, horizon_months=24)
    params = {"militia.restraint_base": 0.0, "militia.restraint_strike_weight": 0.0,
              "militia.restraint_fear_weight": 0.0, "militia.restraint_economy_weight": 0.0}
    mild, mild_campaign = simulate_campaign(sc, {**params, "militia.defiance_boost": 0.0})
    hard, hard_campaign = simulate_campaign(sc, {**params, "militia.defiance_boost": 0.2})
    assert hard_campaign.mean() > mild_campaign.mean()
    assert hard.outcomes["militia_attacks"].mean() > mild.outcomes["militia_attacks"].mean()


def test_m13_economic_pressure_makes_restraint_likelier():
    """M13 (WP20-07, RCD20-08): sanctions and an economic shock push Iran to rein in its proxies."""
    counts = {}
    for label, events in (("calm", WAR), ("crisis", WAR + [
            {"kind": "iran_economic_crisis", "month": 1, "months": 23, "severity": 0.6}])):
        tally = {"strikes": 0, "restrained": 0}

        def probe(m, tally=tally):
            struck = m.us.strike_proportional | m.us.strike_leadership | m.us.strike_iran
            tally["strikes"] += int(struck.sum()) * len(m.militias)
            tally["restrained"] += sum(int(g.restrained.sum()) for g in m.militias)

        simulate(scenario(levers=levers(), events=events, horizon_months=24), probe=probe)
        counts[label] = tally["restrained"] / tally["strikes"]
    assert counts["crisis"] > counts["calm"] + 0.05


def test_m13_a_pause_after_a_strong_strike_emerges_and_ends():
    """M13 (RCD20-08, DB24-04): a strong strike with restraint brings a lull that is not
    scheduled: attacks fall after it and come back as the order fades."""
    events = [{"kind": "regional_war", "month": 2, "months": 28, "intensity": 1.5},
              {"kind": "high_profile_strike", "month": 6, "target": "militia_leader"}]
    sc = scenario(levers=levers(retaliation="none"), events=events, horizon_months=30)
    s = simulate(sc, params={"militia.restraint_base": 1.0, "militia.restraint_memory": 0.7})
    before = s.traj["militia_attacks"][3:6].mean()
    pause = s.traj["militia_attacks"][7:10].mean()
    later = s.traj["militia_attacks"][16:24].mean()
    assert pause < 0.5 * before
    assert later > 1.5 * pause
    # with a longer memory of the order the pause lasts longer
    long = simulate(sc, params={"militia.restraint_base": 1.0, "militia.restraint_memory": 0.95})
    assert long.traj["militia_attacks"][10:16].mean() < s.traj["militia_attacks"][10:16].mean()


def test_m13_momentum_makes_a_campaign_escalate_further():
    """M13 (WP20-04): an escalating campaign keeps escalating for months; with momentum the
    campaign overshoots the tempo Iran's direction sets."""
    sc = scenario(levers=levers(retaliation="none"), events=WAR, horizon_months=18)
    _, flat = simulate_campaign(sc, {"militia.campaign_momentum": 0.0})
    _, rolling = simulate_campaign(sc, {"militia.campaign_momentum": 0.8})
    assert rolling.max(axis=0).mean() > flat.max(axis=0).mean()


def test_m13_decapitation_costs_a_group_attacks_for_a_while():
    """M6/M13 (WP20-10, RCD20-08): killing a group's leader cuts its attacks for months."""
    events = WAR + [{"kind": "high_profile_strike", "month": 6, "target": "militia_leader"}]
    sc = scenario(levers=levers(retaliation="none"), events=events, horizon_months=24)
    params = {"militia.restraint_base": 0.0, "militia.restraint_strike_weight": 0.0,
              "militia.restraint_fear_weight": 0.0, "militia.restraint_economy_weight": 0.0,
              "militia.defiance_boost": 0.0}
    spared = simulate(sc, params={**params, "militia.decapitation_loss": 0.0})
    beheaded = simulate(sc, params={**params, "militia.decapitation_loss": 0.9})
    assert sum_months(beheaded, "militia_attacks", slice(7, 10)).mean() < \
        0.8 * sum_months(spared, "militia_attacks", slice(7, 10)).mean()


# ----------------------------------------------------------------------------- M14 the exit
def test_m14_a_demand_opens_talks_not_an_immediate_exit():
    """M14 (DB24-10): a demand opens a negotiation; troops stay while the committee talks."""
    s = simulate(scenario(levers=levers(), events=DEMAND, horizon_months=36), n=500)
    assert s.outcomes["exit_demanded"].all()
    assert (s.traj["exit_stage"][1] == Stage.NEGOTIATING).all()
    assert (s.traj["us_troops"][1] == 2500).all()


def test_m14_longer_negotiations_delay_agreement_and_keep_troops_longer():
    """M14 (DB24-10): the slower the committees, the later the timetable and the exit."""
    sc = scenario(levers=levers(), events=DEMAND, horizon_months=48)
    quick = simulate(sc, params={"exit.negotiation_months": 3, "exit.abandon_hazard": 0.0})
    slow = simulate(sc, params={"exit.negotiation_months": 24, "exit.abandon_hazard": 0.0})
    assert np.nanmean(slow.outcomes["months_to_agreement"]) > np.nanmean(quick.outcomes["months_to_agreement"]) + 6
    assert slow.outcomes["us_troop_months"].mean() > quick.outcomes["us_troop_months"].mean()


@pytest.mark.parametrize("faster, slower", [("comply", "negotiate"), ("negotiate", "stall")])
def test_m14_exit_response_orders_the_speed_of_the_exit(faster, slower):
    """M14 (DB24-19, DB24-20): complying ends the presence sooner than negotiating a phased
    timetable, and negotiating sooner than stalling."""
    fast = simulate(scenario(levers=levers(exit_response=faster), events=DEMAND, horizon_months=48))
    slow = simulate(scenario(levers=levers(exit_response=slower), events=DEMAND, horizon_months=48))
    assert fast.outcomes["us_troop_months"].mean() < slow.outcomes["us_troop_months"].mean()
    assert np.nanmedian(fast.outcomes["months_to_agreement"]) <= np.nanmedian(slow.outcomes["months_to_agreement"])


def test_m14_stalling_under_pressure_risks_a_forced_exit():
    """M14 (DB24-11, FP23-02): foot-dragging adds pressure; under coercion Baghdad may order the
    US out without agreement."""
    params = {"exit.forced_threshold": 0.55, "exit.abandon_hazard": 0.0,
              "exit.stall_pressure": 0.05, "init.withdrawal_pressure": 0.65}
    negotiate = simulate(scenario(levers=levers(exit_response="negotiate"), events=DEMAND,
                                  horizon_months=36), params=params)
    stall = simulate(scenario(levers=levers(exit_response="stall"), events=DEMAND,
                              horizon_months=36), params=params)
    assert stall.outcomes["forced_exit"].mean() > negotiate.outcomes["forced_exit"].mean()


def test_m14_a_rising_isis_threat_gets_talks_shelved():
    """M14 (DB24-11, FP23-04): when ISIS threatens, a PM who privately wants the US to stay lets
    the talks lapse: fewer agreements."""
    sc = scenario(levers=levers(exit_response="stall"), events=DEMAND, horizon_months=36)
    calm = simulate(sc, params={"init.isis_iraq": 300})
    threat = simulate(sc, params={"init.isis_iraq": 12000})
    assert threat.outcomes["agreement"].mean() < calm.outcomes["agreement"].mean()


def test_m14_a_phased_timetable_leaves_federal_iraq_first():
    """M14 (POL20-03): a negotiated timetable keeps a Kurdistan platform after federal Iraq."""
    sc = scenario(levers=levers(), events=[{"kind": "exit_agreement", "month": 1, "months": 6,
                                            "platform": 1500, "phase2_months": 12}],
                  horizon_months=30)
    s = simulate(sc, n=300, params={"exit.reinvite_hazard": 0.0})
    assert (s.traj["us_troops_federal"][10] == 0).all()
    assert (s.traj["us_troops_kurdistan"][10] == 1500).all()
    assert (s.traj["exit_stage"][10] == Stage.WITHDRAWING).all()
    assert (s.traj["us_troops"][25] == 0).all()
    assert (s.traj["exit_stage"][25] == Stage.COMPLETE).all()
    assert s.outcomes["departed"].all()


# ----------------------------------------------------------------------------- M15 the return
def test_m15_baghdad_invites_us_forces_back_when_isis_threatens():
    """M15 (POL20-01, DB24-13): after an exit a strong ISIS brings an invitation back, and the
    returning forces cut the peak."""
    sc = scenario(levers=levers(), events=LEAVE, horizon_months=60)
    params = {"init.isis_iraq": 9000, "isis.resurgence_boost": 2.0}
    never = simulate(sc, params={**params, "exit.reinvite_hazard": 0.0})
    invited = simulate(sc, params={**params, "exit.reinvite_hazard": 5.0})
    assert never.outcomes["reinvited"].mean() == 0
    assert invited.outcomes["reinvited"].mean() > 0.5
    assert invited.traj["us_troops"][-1].mean() > 1000
    assert invited.outcomes["isis_end"].mean() < never.outcomes["isis_end"].mean()


def test_m15_no_invitation_without_a_threat():
    """M15 (DB24-11): with ISIS weak the reasons for a presence have ended: no return."""
    sc = scenario(levers=levers(), events=LEAVE, horizon_months=36)
    weak = simulate(sc, params={"init.isis_iraq": 200, "init.isis_syria": 500})
    strong = simulate(sc, params={"init.isis_iraq": 15000})
    assert weak.outcomes["reinvited"].mean() < strong.outcomes["reinvited"].mean()


# ----------------------------------------------------------------------------- outputs, schema
def test_exit_stage_codes_and_names():
    assert [s.value for s in Stage] == list(range(7))
    assert STAGE_NAMES[5] == "exit complete"


def test_expelled_is_an_alias_of_exit_demanded():
    s = simulate(scenario(levers=levers(), events=DEMAND, horizon_months=12), n=200)
    assert np.array_equal(s.outcomes["expelled"], s.outcomes["exit_demanded"])
    np.testing.assert_array_equal(s.outcomes["months_to_expulsion"], s.outcomes["months_to_demand"])


def test_return_posture_must_depend_on_months_only():
    with pytest.raises(ScenarioError, match="return_posture"):
        scenario(levers=levers(return_posture={"kind": "conditions_based"}))


def test_exit_response_rejects_unknown_values():
    with pytest.raises(ScenarioError, match="exit_response"):
        scenario(levers=levers(exit_response="surrender"))
