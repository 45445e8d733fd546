"""The parameter registry: every number the mechanisms use, with its provenance.

Each parameter has a default, a unit, the bounds a scenario may set it within, and either the
evidence ids (claims in ``seeds/claims.yaml``) it rests on or an explicit ``assumption`` saying why
the number is what it is. Mechanisms read parameters only from here (``model.p.<group>_<name>``:
an array over the replicas, or one number when every run shares it), never from literals, so a
scenario can make any of them uncertain.

Names are ``group.name``; the groups follow the actors: ``us``, ``isf``, ``iraq`` (the Iraqi
government's politics), ``exit`` (the exit process), ``militia``, ``iran``, ``isis`` and ``init`` (the state in month 0).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np


@dataclass(frozen=True)
class Param:
    """One model parameter.

    Attributes:
        name: Dotted name used in scenario files, e.g. ``isis.growth_rate``.
        default: Value used when the scenario does not set it.
        low: Smallest value a scenario may give.
        high: Largest value a scenario may give.
        unit: Unit of the value (``per month``, ``fighters``, ``0..1`` ...).
        doc: One sentence on what the number means in the model.
        evidence: Claim ids in ``seeds/claims.yaml`` that ground the parameter.
        assumption: When no claim gives the number, one sentence of why it is set so.
    """

    name: str
    default: float
    low: float
    high: float
    unit: str
    doc: str
    evidence: tuple[str, ...] = ()
    assumption: str = ""
    integer: bool = field(default=False)

    @property
    def attr(self) -> str:
        """Attribute name on ``model.p`` (dots become underscores)."""
        return self.name.replace(".", "_")


def _p(name, default, low, high, unit, doc, evidence=(), assumption="", integer=False) -> Param:
    return Param(
        name=name, default=float(default), low=float(low), high=float(high), unit=unit, doc=doc,
        evidence=tuple(evidence), assumption=assumption, integer=integer)


PARAMETERS: dict[str, Param] = {p.name: p for p in [
    # ------------------------------------------------------------------ initial state (month 0)
    _p("init.isis_iraq", 1000, 50, 60000, "fighters",
       "ISIS fighters inside Iraq in month 0.", ["DB24-16", "DB24-15"],
       "assumption: the UN's 5,000-7,000 members across Iraq and Syria are about 40% fighters, "
       "and somewhat fewer of these in Iraq than in Syria."),
    _p("init.isis_syria", 1200, 50, 60000, "fighters",
       "ISIS fighters in the Syrian reservoir in month 0.", ["DB24-16", "FP23-06"]),
    _p("init.isis_territory", 0.0, 0.0, 1.0, "share",
       "Share of Iraq's Sunni-majority populated area ISIS holds in month 0.", ["DB24-09"],
       "assumption: none after the 2017 territorial defeat, and none in 2011 either."),
    _p("init.isf_capability", 0.55, 0.0, 1.0, "0..1",
       "ISF counter-terrorism capability in month 0 (1 = fully self-reliant).", ["DB24-14"],
       "assumption: improving but with key deficits, so a little above half."),
    _p("init.withdrawal_pressure", 0.45, 0.0, 1.0, "0..1",
       "Political pressure in Baghdad to expel US forces in month 0.", ["DB24-02", "DB24-08"]),
    _p("init.cooperation", 0.7, 0.0, 1.0, "0..1",
       "US-Iraqi counter-terrorism cooperation in month 0.", ["FP23-03", "DB24-03"]),
    _p("init.militia_control", 0.3, 0.0, 1.0, "0..1",
       "Government control over Iran-backed militias in month 0.", ["WP20-01", "RCD20-03"]),
    _p("init.legitimacy", 0.5, 0.0, 1.0, "0..1",
       "Legitimacy of the Iraqi government in month 0.", ["RCD20-01"],
       "assumption: middling; no mass protest wave under way in early 2024."),
    _p("init.iran_influence", 0.55, 0.0, 1.0, "0..1",
       "Iran's influence over Iraqi politics in month 0.", ["DB24-17", "FP23-10"]),
    _p("init.iran_direction", 0.5, 0.0, 1.0, "0..1",
       "How strongly Iran directs its proxies to attack US forces in month 0.", ["WP20-04", "DB24-04"]),
    _p("init.us_will", 0.8, 0.0, 1.0, "0..1",
       "US domestic will to keep troops in Iraq in month 0.", ["RCD20-09", "DB24-19"]),
    # ------------------------------------------------------------------ United States
    _p("us.reference_troops", 2500, 500, 10000, "troops",
       "Troop level at which US advising and direct CT are at their full reference strength.",
       ["DB24-09"]),
    _p("us.ct_exponent", 0.6, 0.2, 1.0, "-",
       "Diminishing returns of US direct CT in troop numbers (capacity ~ share**exponent).", [],
       "assumption: the first advisers and enablers (intelligence, air) matter most."),
    _p("us.syria_basing_troops", 1000, 100, 5000, "troops",
       "Troops in Iraq needed for full Syria-operations basing.", ["POL20-03", "POL20-09"],
       "assumption: a hub of about a thousand troops supports the Syria mission."),
    _p("us.syria_raid_capacity", 0.8, 0.0, 1.0, "0..1",
       "Strength of US raids on ISIS in Syria when Iraq basing is full.", ["FP23-05", "POL20-03"]),
    _p("us.over_the_horizon_fraction", 0.3, 0.0, 1.0, "0..1",
       "Share of direct CT strike capacity kept from outside Iraq in over-the-horizon postures.", [],
       "assumption: strikes from the Gulf keep some reach but lose partner intelligence."),
    _p("us.deterrence_decay", 0.15, 0.01, 0.6, "per month",
       "Monthly decay of US deterrence against militia attacks.", [],
       "assumption: the 2020 lull faded within months (RCD20-08), so a half-life of ~4 months."),
    _p("us.deterrence_gain_proportional", 0.12, 0.0, 1.0, "0..1",
       "Deterrence gained from a proportional strike on militia facilities.", ["RCD20-04"]),
    _p("us.deterrence_gain_leadership", 0.35, 0.0, 1.0, "0..1",
       "Deterrence gained from a leadership strike on Iraqi soil.", ["DB24-04", "RCD20-08"]),
    _p("us.deterrence_gain_iran_direct", 0.25, 0.0, 1.0, "0..1",
       "Deterrence gained from pressure on Iran outside Iraq.", ["DB24-05", "WP20-06"]),
    _p("us.retaliation_attack_threshold", 8, 1, 100, "attacks per month",
       "Monthly attacks that trigger retaliation even without fatalities.", ["DB24-18"],
       "assumption: a sustained wave, not a single rocket, prompts a response."),
    _p("us.will_loss_per_fatality", 0.05, 0.0, 0.5, "0..1 per death",
       "US domestic will lost per US fatality.", ["RCD20-09"]),
    _p("us.will_loss_passive_partner", 0.006, 0.0, 0.2, "per month",
       "Monthly will lost while Baghdad stays passive under militia attack.", ["RCD20-03", "RCD20-09"]),
    _p("us.will_recovery", 0.03, 0.0, 0.2, "per month",
       "Monthly recovery of US will towards its initial level.", [],
       "assumption: casualties fade from attention within a few years."),
    _p("us.will_threshold", 0.25, 0.0, 1.0, "0..1",
       "Will below which the US forces its own drawdown.", ["RCD20-09"]),
    _p("us.forced_exit_months", 6, 1, 36, "months",
       "Months a forced drawdown takes (collapsing will).", ["DB24-19"],
       "assumption: a deliberate but quick exit, unlike Afghanistan 2021."),
    # ------------------------------------------------------------------ Iraqi security forces
    _p("isf.training_gain", 0.06, 0.0, 0.2, "per month",
       "Monthly growth of ISF capability under full US training and advising.", ["FP23-09", "POL20-01"]),
    _p("isf.cooperation_share", 0.5, 0.0, 1.0, "0..1",
       "Share of US advising that needs Baghdad's cooperation (the rest goes on regardless).",
       ["POL20-08", "FP23-09"],
       "assumption: trainers on bases keep working when politics sour, joint operations do not."),
    _p("isf.decay_without_support", 0.035, 0.0, 0.2, "per month",
       "Monthly decay of ISF capability without US support.", ["POL20-07", "DB24-13"]),
    _p("isf.max_capability", 0.85, 0.3, 1.0, "0..1",
       "Ceiling of ISF capability the partnership can reach.", ["DB24-14"]),
    _p("isf.aid_support_weight", 0.3, 0.0, 1.0, "-",
       "How much US aid (without advisers) substitutes for advising.", ["FP23-07"],
       "assumption: money and equipment help, but far less than advisers."),
    _p("isf.enabler_dependence", 0.35, 0.0, 1.0, "0..1",
       "Share of ISF CT effect that needs coalition intelligence, logistics and planning.",
       ["DB24-14"]),
    # ------------------------------------------------------------------ Iraqi politics
    _p("iraq.pressure_relax", 0.12, 0.01, 0.6, "per month",
       "Rate at which withdrawal pressure moves towards its structural level.", [],
       "assumption: outrage after a strike fades over months, not weeks."),
    _p("iraq.pressure_base", 0.3, 0.0, 1.0, "0..1",
       "Structural withdrawal pressure with no other driver.", ["DB24-11"]),
    _p("iraq.pressure_iran_weight", 0.35, 0.0, 1.0, "-",
       "Weight of Iranian influence on withdrawal pressure.", ["DB24-02", "FP23-10"]),
    _p("iraq.pressure_coercion_weight", 0.25, 0.0, 1.0, "-",
       "Weight of militia coercion of MPs on withdrawal pressure.", ["FP23-02"]),
    _p("iraq.pressure_threat_weight", 0.35, 0.0, 1.0, "-",
       "Relief of pressure while ISIS is salient (low threat means justifications have ended).",
       ["DB24-11", "FP23-03", "DB24-08"]),
    _p("iraq.pressure_aid_weight", 0.1, 0.0, 1.0, "-",
       "Relief of pressure from US aid and trade.", ["FP23-07"]),
    _p("iraq.pressure_opposition", 0.08, 0.0, 0.5, "0..1",
       "Relief of pressure from Kurdish and Sunni opposition to expulsion.", ["WP20-05"]),
    _p("iraq.pm_private_preference", 0.5, 0.0, 1.0, "0..1",
       "The prime minister's private wish for US forces to stay (damps exit demands).",
       ["FP23-04", "RCD20-10"]),
    _p("iraq.pressure_jump_proportional", 0.04, 0.0, 0.5, "0..1",
       "Pressure added by a proportional US strike (partly on Iraqi soil).", ["RCD20-04"]),
    _p("iraq.pressure_jump_leadership", 0.25, 0.0, 1.0, "0..1",
       "Pressure added by a leadership strike on Iraqi soil.", ["DB24-02", "POL20-02", "DB24-07"]),
    _p("iraq.pressure_jump_iran_direct", 0.03, 0.0, 0.5, "0..1",
       "Pressure added by US pressure on Iran outside Iraq.", ["WP20-06"]),
    _p("iraq.pressure_jump_escalation", 0.15, 0.0, 1.0, "0..1",
       "Pressure added when Iraq becomes the battleground of a US-Iran exchange.",
       ["FP23-01", "RCD20-07"]),
    _p("iraq.vote_threshold", 0.6, 0.0, 1.0, "0..1",
       "Pressure above which parliament may vote to expel foreign forces.", ["WP20-03", "RCD20-06"]),
    _p("iraq.vote_hazard", 8.0, 0.0, 50.0, "per unit excess per month",
       "How fast a vote comes once pressure exceeds the threshold.", ["FP23-01"],
       "assumption: the 2020 vote came two days after the strike, so the hazard is steep."),
    _p("iraq.demand_threshold", 0.55, 0.0, 1.0, "0..1",
       "Pressure above which the government may formally demand a US exit.", ["DB24-02", "DB24-08"]),
    _p("iraq.demand_hazard", 3.0, 0.0, 50.0, "per unit excess per month",
       "How fast the government demands an exit once pressure is above the threshold.",
       ["DB24-02", "WP20-03"]),
    # ------------------------------------------------------------------ the exit process (M7)
    _p("exit.negotiation_months", 9, 1, 60, "months",
       "Mean months from a formal exit demand to an agreed timetable when the US negotiates.",
       ["DB24-10"],
       "assumption: committees and slow talks take most of a year (the 2024 talks opened in "
       "January and a timetable was announced in September, public record)."),
    _p("exit.comply_speedup", 3.0, 1.0, 10.0, "-",
       "How much faster an agreement comes when the US complies with a demand.", ["DB24-19"],
       "assumption: a willing US can settle the terms in a few months."),
    _p("exit.stall_slowdown", 3.0, 1.0, 10.0, "-",
       "How much slower an agreement comes when the US stalls.", ["DB24-20"],
       "assumption: after the 2020 vote the US cut numbers yet stayed, so talks can drag for years."),
    _p("exit.stall_pressure", 0.01, 0.0, 0.1, "0..1 per month",
       "Withdrawal pressure added each month the US stalls an open demand.", ["DB24-11"],
       "assumption: visible foot-dragging makes reliance on foreign troops costlier to defend."),
    _p("exit.abandon_hazard", 0.15, 0.0, 2.0, "per month",
       "Hazard of shelving a negotiation when ISIS threatens or pressure has fallen away.",
       ["DB24-10", "DB24-11", "FP23-04"],
       "assumption: talks no one pushes die within a year or so."),
    _p("exit.forced_threshold", 0.85, 0.5, 1.0, "0..1",
       "Pressure (with coercion) above which Baghdad may order the US out without agreement.",
       ["FP23-02", "WP20-05"],
       "assumption: only near-overwhelming, coerced pressure overrides the PM's private wish."),
    _p("exit.forced_hazard", 2.0, 0.0, 20.0, "per unit excess per month",
       "How fast an order to leave comes once pressure exceeds the forced threshold.", [],
       "assumption: steep, like the vote hazard, once the line is crossed."),
    _p("exit.comply_months", 6, 1, 36, "months",
       "Months to withdraw every US troop under a timetable the US complied with.", ["DB24-19"],
       "assumption: quick but orderly, unlike Afghanistan 2021."),
    _p("exit.phase1_months", 12, 1, 36, "months",
       "Months of a phased timetable's first phase: US forces leave federal Iraq.", ["DB24-10"],
       "assumption: the September 2024 timetable gave a year for federal Iraq (public record)."),
    _p("exit.phase2_months", 12, 0, 36, "months",
       "Months the Kurdistan platform stays after the first phase.", ["POL20-03"],
       "assumption: the 2024 timetable kept Erbil a further year for the Syria mission "
       "(public record)."),
    _p("exit.kurdistan_troops", 1500, 0, 5000, "troops",
       "US troops kept in the Kurdistan Region during a phased timetable's second phase.",
       ["POL20-03", "WP20-05"],
       "assumption: a hub of about the size the Syria mission needs (us.syria_basing_troops)."),
    _p("exit.residual_troops", 0, 0, 2000, "troops",
       "US advisers left after a phased timetable ends.", [],
       "assumption: none by default; a bilateral security deal could keep a few hundred."),
    _p("exit.reinvite_salience", 0.6, 0.0, 1.0, "0..1",
       "ISIS threat salience above which Baghdad may invite US forces back after they left.",
       ["POL20-01", "DB24-13"],
       "assumption: as in 2014, only a threat to the state (fighters well above "
       "iraq.threat_salience_half) overrides the politics of the exit."),
    _p("exit.reinvite_hazard", 1.5, 0.0, 20.0, "per unit excess per month",
       "How fast Baghdad asks US forces back once the threat is above that level.",
       ["POL20-01", "DB24-09"],
       "assumption: in 2014 the request came within weeks of the fall of Mosul."),
    _p("us.kurdistan_share", 0.3, 0.0, 1.0, "0..1",
       "Share of US troops in Iraq based in the Kurdistan Region when no exit is under way.",
       ["POL20-03"],
       "assumption: Erbil hosted about a third of the force next to Baghdad and al-Asad."),
    _p("iraq.cooperation_relax", 0.1, 0.01, 0.6, "per month",
       "Rate at which cooperation moves towards its target.", [],
       "assumption: working relations change over months."),
    _p("iraq.cooperation_threat_weight", 0.5, 0.0, 1.0, "-",
       "How much a salient ISIS threat binds Baghdad to the US (common enemy).", ["POL20-06"]),
    _p("iraq.cooperation_pressure_weight", 0.5, 0.0, 1.0, "-",
       "How much withdrawal pressure erodes cooperation.", ["POL20-08", "POL20-06"]),
    _p("iraq.cooperation_base", 0.55, 0.0, 1.0, "0..1",
       "Cooperation with no threat and no pressure.", ["FP23-09"]),
    _p("iraq.threat_salience_half", 4000, 100, 50000, "fighters",
       "ISIS fighters in Iraq at which the threat is half salient.", ["DB24-12", "FP23-03"],
       "assumption: a few thousand active fighters keep the threat in Iraqi politics."),
    _p("iraq.control_relax", 0.05, 0.0, 0.5, "per month",
       "Rate at which control over militias moves towards its target.", ["WP20-01"]),
    _p("iraq.control_legitimacy_weight", 0.6, 0.0, 1.0, "-",
       "How much government legitimacy raises control over militias.", ["WP20-02"]),
    _p("iraq.control_iran_weight", 0.5, 0.0, 1.0, "-",
       "How much Iranian influence lowers control over militias.", ["WP20-01", "WP20-05"]),
    _p("iraq.legitimacy_recovery", 0.03, 0.0, 0.5, "per month",
       "Monthly recovery of legitimacy towards its initial level.", [],
       "assumption: governments regain standing within a couple of years after a crisis."),
    # ------------------------------------------------------------------ militias
    _p("militia.base_attack_rate", 3.0, 0.0, 50.0, "attacks per month",
       "Attacks per month by all groups at full direction, cohesion and exposure, no deterrence.",
       ["RCD20-02"]),
    _p("militia.war_attack_gain", 4.0, 0.0, 20.0, "per unit intensity",
       "Multiplier on attacks per unit of regional-war intensity.", ["DB24-01"]),
    _p("militia.exposure_exponent", 0.7, 0.0, 2.0, "-",
       "Elasticity of attacks in the number of US troops present.", ["POL20-08"],
       "assumption: fewer bases mean fewer targets, less than proportionally."),
    _p("militia.control_effect", 0.6, 0.0, 1.0, "0..1",
       "Share of attacks a fully controlling, cooperating government prevents.",
       ["RCD20-03", "DB24-18"]),
    _p("militia.lethality", 0.06, 0.0, 0.5, "deaths per attack",
       "Expected US deaths per militia attack.", ["RCD20-02"]),
    _p("militia.cohesion_recovery", 0.08, 0.0, 0.5, "per month",
       "Monthly recovery of cohesion after a leadership loss.", ["RCD20-08"]),
    _p("militia.decapitation_loss", 0.45, 0.0, 1.0, "0..1",
       "Cohesion lost by a group whose leader is killed.", ["RCD20-08", "DB24-02"]),
    _p("militia.proportional_loss", 0.1, 0.0, 1.0, "0..1",
       "Cohesion lost by groups hit by proportional strikes.", ["RCD20-04"]),
    _p("militia.strength_growth", 0.02, 0.0, 0.2, "per month",
       "Monthly growth of militia strength with Iranian backing.", ["WP20-05"]),
    _p("militia.campaign_momentum", 0.5, 0.0, 0.95, "-",
       "Share of last month's change in a group's campaign carried into this month.",
       ["WP20-04"],
       "assumption: an escalating campaign keeps escalating for a few months (2019)."),
    _p("militia.campaign_pull", 0.3, 0.01, 1.0, "per month",
       "How fast a group's campaign moves towards the tempo Iran's direction sets.", ["WP20-04"],
       "assumption: groups answer a change of line from Tehran within a few months."),
    _p("militia.campaign_max", 1.5, 1.0, 3.0, "direction units",
       "Ceiling of a campaign: how far it can overshoot Iran's full direction.", ["WP20-04"],
       "assumption: a hardened campaign runs at most half again above full direction."),
    _p("militia.restraint_base", 0.2, 0.0, 1.0, "probability",
       "Chance a group answers a US strike on militia sites with restraint (not defiance).",
       ["DB24-05"],
       "assumption: strikes that spare Iran mostly read as impunity (Sales), so low."),
    _p("militia.restraint_strike_weight", 0.3, 0.0, 1.0, "-",
       "Extra chance of restraint after a strong strike (a leader killed, or Iran hit).",
       ["DB24-04", "WP20-10"]),
    _p("militia.restraint_fear_weight", 0.3, 0.0, 1.0, "-",
       "Extra chance of restraint per unit of US deterrence (Iran does not want war).",
       ["DB24-04", "DB24-17"]),
    _p("militia.restraint_economy_weight", 0.3, 0.0, 1.0, "-",
       "Extra chance of restraint per unit of economic pressure on Iran.",
       ["WP20-07", "RCD20-08"]),
    _p("militia.restraint_depth", 0.8, 0.0, 1.0, "0..1",
       "Share of a group's campaign halted at once when Iran reins it in.", ["RCD20-08", "DB24-04"],
       "assumption: a clear order from Tehran stops most attacks within the month."),
    _p("militia.restraint_memory", 0.75, 0.0, 0.99, "per month",
       "Share of a restraint order still binding the next month.", ["RCD20-08"],
       "assumption: a pause fades over a few months unless renewed (the spring 2020 lull)."),
    _p("militia.defiance_boost", 0.05, 0.0, 0.5, "direction units per month",
       "Push to a group's campaign when it answers a strike with defiance.", ["DB24-05"],
       "assumption: a defiant answer adds a step of escalation, not a leap."),
    _p("militia.coercion_weight", 1.0, 0.0, 2.0, "-",
       "How strongly militia strength and cohesion coerce MPs.", ["FP23-02"]),
    _p("militia.pmf_ct_weight", 0.12, 0.0, 0.5, "-",
       "Weight of PMF fighting in the CT pressure on ISIS.", ["WP20-01"]),
    # ------------------------------------------------------------------ Iran
    _p("iran.direction_relax", 0.25, 0.01, 1.0, "per month",
       "Rate at which Iran's direction of proxies moves towards its target.", ["DB24-04"]),
    _p("iran.direction_base", 0.35, 0.0, 1.0, "0..1",
       "Iran's direction of proxies from its wish to see the US out.", ["DB24-17", "WP20-04"]),
    _p("iran.presence_weight", 0.3, 0.0, 1.0, "-",
       "Extra direction while US troops are present to target.", ["WP20-04"]),
    _p("iran.war_weight", 0.3, 0.0, 1.0, "per unit intensity",
       "Extra direction per unit of regional-war intensity.", ["DB24-01"]),
    _p("iran.isis_fear_weight", 0.4, 0.0, 1.0, "-",
       "How much fear of ISIS restrains Iran's push against the US.", ["DB24-17", "DB24-06"]),
    _p("iran.war_fear_weight", 0.5, 0.0, 1.0, "-",
       "How much US deterrence restrains Iran (it does not want war).", ["DB24-04"]),
    _p("iran.sanctions_weight", 0.3, 0.0, 1.0, "-",
       "How much economic pressure pushes Iran to pragmatism.", ["WP20-07", "RCD20-08"]),
    _p("iran.sanctions_base", 0.4, 0.0, 1.0, "0..1",
       "Economic and sanctions pressure on Iran with no crisis.", ["RCD20-08", "WP20-07"]),
    _p("iran.revenge_weight", 0.3, 0.0, 1.0, "-",
       "Extra direction after US leadership strikes (revenge).", ["WP20-08"]),
    _p("iran.threat_memory", 0.85, 0.0, 0.99, "per month",
       "Share of Iran's ISIS threat perception carried into the next month.", [],
       "assumption: a shock like Kerman stays in mind for about half a year."),
    _p("iran.influence_relax", 0.04, 0.0, 0.5, "per month",
       "Rate at which Iran's influence moves towards its target.", [],
       "assumption: influence is built through networks over years."),
    _p("iran.vacuum_weight", 0.35, 0.0, 1.0, "-",
       "How much a US absence lets Iran fill the vacuum.", ["POL20-04"]),
    _p("iran.proxy_influence_weight", 0.2, 0.0, 1.0, "-",
       "How much militia strength under Iranian direction adds to influence.", ["WP20-05"]),
    _p("iran.escalation_prob_leadership", 0.12, 0.0, 1.0, "probability",
       "Chance a US leadership strike on Iraqi soil triggers a direct Iranian strike.",
       ["RCD20-07", "WP20-08"]),
    _p("iran.escalation_prob_iran_direct", 0.25, 0.0, 1.0, "probability",
       "Chance a US strike on Iranian assets triggers a direct Iranian strike.",
       ["RCD20-07", "WP20-08"]),
    _p("iran.escalation_prob_commander", 0.7, 0.0, 1.0, "probability",
       "Chance that killing an Iranian commander on Iraqi soil triggers a direct Iranian strike.",
       ["RCD20-07", "WP20-08"]),
    _p("iran.isis_threat_half", 8000, 100, 100000, "fighters",
       "ISIS fighters in Iraq and Syria at which Iran's ISIS threat perception is half.",
       ["DB24-16", "DB24-17"],
       "assumption: the UN's 5,000-7,000 members already worry Tehran, so about that many."),
    _p("iran.revenge_memory", 0.7, 0.0, 0.99, "per month",
       "Share of Iran's urge for revenge after a leadership strike carried into the next month.",
       ["WP20-08"], "assumption: the urge halves in about two months, as the 2020 lull suggests."),
    _p("iran.aid_influence_weight", 0.1, 0.0, 1.0, "-",
       "How much US aid and engagement hold back Iran's influence.", ["FP23-07"],
       "assumption: aid is a modest counterweight next to geography and parties."),
    _p("iran.influence_base", 0.45, 0.0, 1.0, "0..1",
       "Iran's influence in Iraq from geography, parties and trade alone.", ["FP23-10", "DB24-17"]),
    _p("iran.escalation_lethality", 0.5, 0.0, 20.0, "deaths",
       "Expected US deaths from a direct Iranian missile strike.", ["RCD20-07"]),
    # ------------------------------------------------------------------ ISIS
    _p("isis.growth_rate", 0.055, 0.0, 0.3, "per month",
       "Monthly recruitment growth of ISIS in Iraq with no CT pressure.", ["DB24-15", "DB24-13"]),
    _p("isis.attrition_rate", 0.14, 0.0, 1.0, "per month per unit pressure",
       "Monthly attrition of ISIS per unit of CT pressure.", ["DB24-12", "FP23-05"]),
    _p("isis.carrying_capacity", 40000, 5000, 200000, "fighters",
       "Ceiling on ISIS fighters in Iraq.", ["POL20-07"],
       "assumption: the 2014 peak was a few tens of thousands."),
    _p("isis.resurgence_pressure", 0.4, 0.0, 1.0, "0..1",
       "CT pressure below which ISIS resurges fast.", ["DB24-13", "POL20-07"]),
    _p("isis.resurgence_boost", 0.8, 0.0, 5.0, "-",
       "Extra growth (multiple of base) when pressure is well below the threshold.", ["DB24-13"]),
    _p("isis.resurgence_width", 0.06, 0.01, 0.5, "0..1",
       "Width of the transition around the resurgence threshold.", [],
       "assumption: the tipping is sharp but not a step."),
    _p("isis.pressure_isf_weight", 0.5, 0.0, 1.0, "-",
       "Weight of ISF counter-terrorism in the CT pressure on ISIS.", ["DB24-15", "DB24-14"]),
    _p("isis.pressure_us_weight", 0.38, 0.0, 1.0, "-",
       "Weight of US direct CT (intelligence, raids, air) in the CT pressure on ISIS.",
       ["POL20-01", "DB24-14"]),
    _p("isis.attacks_per_fighter", 0.03, 0.0, 0.5, "attacks per fighter per month",
       "ISIS attack tempo per fighter in Iraq.", ["DB24-12"],
       "assumption: tempo scales with the fighters the group can field."),
    _p("isis.grievance_weight", 0.6, 0.0, 2.0, "-",
       "Extra recruitment from low government legitimacy (grievance, repression).", ["RCD20-01"]),
    _p("isis.crossing_rate", 0.01, 0.0, 0.2, "per month",
       "Share of the Syria reservoir crossing into Iraq each month, unopposed.",
       ["POL20-05", "FP23-06"]),
    _p("isis.border_effect", 0.6, 0.0, 1.0, "0..1",
       "Share of crossings ISF capability can stop.", ["FP23-06"]),
    _p("isis.syria_growth_rate", 0.05, 0.0, 0.3, "per month",
       "Monthly growth of the Syria reservoir with no raids.", ["FP23-06"]),
    _p("isis.syria_attrition_rate", 0.08, 0.0, 0.5, "per month",
       "Monthly attrition of the Syria reservoir under full US raids.", ["FP23-05"]),
    _p("isis.syria_carrying_capacity", 30000, 2000, 200000, "fighters",
       "Ceiling on the Syria reservoir.", [],
       "assumption: similar order to the Iraqi ceiling."),
    _p("isis.noise", 0.08, 0.0, 0.5, "log sd per month",
       "Monthly random shock to ISIS growth (luck, leadership, local politics).", ["DB24-15"],
       "assumption: month-to-month fortunes of an insurgency vary by several percent."),
    _p("isis.floor", 100, 0, 5000, "fighters",
       "Remnant cells that CT never eliminates.", ["DB24-15"]),
    _p("isis.sanctuary_fighters", 300, 0, 20000, "fighters",
       "Fighters the sanctuaries (western Anbar, the north) shelter: CT attrition falls on the "
       "share above them.", ["FP23-06", "DB24-09"],
       "assumption: a few hundred, the size of the remnant that kept regrouping after 2017."),
    _p("isis.territory_fighters", 8000, 500, 100000, "fighters",
       "Fighters in Iraq at which ISIS can take and hold towns at half its full pace.",
       ["POL20-07", "FP23-06"],
       "assumption: the 2014 march came when the group numbered around ten thousand in Iraq."),
    _p("isis.seize_rate", 0.15, 0.0, 1.0, "share of the rest per month",
       "Share of the populated area not yet held that ISIS takes in a month at full pull with "
       "no CT pressure.", ["POL20-07"],
       "assumption: the 2014 march took a third of the country within months."),
    _p("isis.retake_rate", 0.08, 0.0, 1.0, "share of held per month per unit pressure",
       "Share of the held area retaken per month per unit of CT pressure.", ["DB24-09"],
       "assumption: about three years from the 2014 start of OIR to the 2017 defeat."),
    _p("isis.territory_recruitment", 1.0, 0.0, 5.0, "-",
       "Extra recruitment growth (multiple of base) when ISIS holds the whole area.", [],
       "assumption: held towns give taxes and conscripts, roughly doubling recruitment."),
    _p("isis.support_ratio", 1.2, 0.0, 10.0, "supporters per fighter",
       "Part-time members and supporters per fighter at equilibrium (more with grievance).",
       ["DB24-16"],
       "assumption: membership counts run at about twice the armed fighters."),
    _p("isis.support_adjust", 0.08, 0.0, 1.0, "per month",
       "Share of the gap to the equilibrium number of supporters closed in a month.", [],
       "assumption: networks form and dissolve over a year or so."),
    _p("isis.tempo_adjust", 0.3, 0.01, 1.0, "per month",
       "Share of the gap to the sustainable attack tempo closed in a month.", [],
       "assumption: cells need a season to change their tempo."),
    _p("isis.tempo_suppression", 0.6, 0.0, 1.0, "-",
       "Share of the attacks full CT pressure prevents beyond the fighters it removes.",
       ["DB24-12"]),
    _p("isis.territorial_tempo", 0.5, 0.0, 5.0, "-",
       "Extra attacks per fighter (multiple) while holding the whole area: front-line fighting.",
       [], "assumption: holding towns adds front-line clashes to the insurgent attacks."),
]}

# Enumerated levers and events do not live here; they are scenario structure (sim.model.levers,
# sim.model.events). Their numeric settings cite evidence where they are defined.


def defaults() -> dict[str, float]:
    """Return the default value of every parameter by dotted name."""
    return {name: p.default for name, p in PARAMETERS.items()}


def make_namespace(values: dict[str, np.ndarray | float], n_runs: int) -> SimpleNamespace:
    """Build the ``model.p`` namespace: one attribute per parameter, named ``group_name``.

    A parameter given as an array (sampled, or set run by run) is a float64 array of ``n_runs``
    values, copied; one that is the same in every run is a float64 number. The mechanisms read
    both alike: numpy broadcasts a number, and the compiled loops index it as ``p[i]`` too
    (``sim.model.kernels``), so every replica sees the same values either way (tested). Numbers
    keep the parameters a scenario leaves fixed out of the memory each month streams through.
    ``per_run`` makes a state array from one.

    Args:
        values: Overrides by dotted name: a number, or an array of ``n_runs`` values.
        n_runs: Number of replicas in the block.

    Returns:
        A namespace of float64 arrays and numbers.
    """
    unknown = set(values) - set(PARAMETERS)
    if unknown:
        raise KeyError(f"unknown parameters: {sorted(unknown)}")
    ns = SimpleNamespace()
    for name, par in PARAMETERS.items():
        v = values.get(name, par.default)
        setattr(ns, par.attr, np.float64(v) if np.ndim(v) == 0 else per_run(v, n_runs))
    return ns


def per_run(value: np.ndarray | float, n_runs: int) -> np.ndarray:
    """A new float64 array of ``n_runs`` values from a parameter (an array or a number)."""
    out = np.empty(n_runs, dtype=np.float64)
    out[:] = value
    return out
