"""The Iraqi government and its forces: ISF capability, legitimacy, militia control, pressure to expel the US, cooperation (M1, M7, M8, M11)."""

from __future__ import annotations

import numpy as np
from mesa import Agent

from sim.model.kernels import clip, kernel, relax
from sim.model.parameters import per_run


class IraqiGovernment(Agent):
    """The Iraqi government and its security forces (M1, M7, M8, M11)."""

    def __init__(self, model):
        super().__init__(model)
        p, n = model.p, model.n_runs
        self.stream = model.streams["iraq"]
        self.draws = np.empty((2, n))  # this month's uniforms, refilled in place
        self.isf_capability = per_run(p.init_isf_capability, n)
        self.isf_ct = self.isf_capability.copy()  # recomputed by training before ISIS reads it
        self.withdrawal_pressure = per_run(p.init_withdrawal_pressure, n)
        self.cooperation = per_run(p.init_cooperation, n)
        self.militia_control = per_run(p.init_militia_control, n)
        self.legitimacy = per_run(p.init_legitimacy, n)
        self.threat_salience = np.zeros(n)
        self.voted = np.zeros(n, dtype=bool)
        self.exit_demanded = np.zeros(n, dtype=bool)

    def step(self):
        """Baghdad's month: ISF, legitimacy, control, pressure, cooperation, votes and demands."""
        self.train_security_forces()
        self.update_legitimacy()
        self.update_militia_control()
        self.update_withdrawal_pressure()
        self.update_cooperation()
        self.decide_on_expulsion()

    def train_security_forces(self):
        """M1: ISF capability grows with US advising and decays without it.

        Support is troops present (relative to the reference force) times the posture's advising
        factor, reduced by souring cooperation for the share of advising that needs it; aid
        substitutes for a little of it. Evidence: FP23-09
        (advisers make the ISF capable), POL20-07 (rapid decay after 2011), DB24-14 (ISF CT
        still relies on coalition intelligence, logistics and planning).
        """
        m, p = self.model, self.model.p
        self._training_kernel(
            capability=self.isf_capability, ct=self.isf_ct, troops=m.us.troops,
            reference=p.us_reference_troops, advise=float(m.posture.advise_factor),
            cooperation=self.cooperation, aid=float(m.aid),
            cooperation_share=p.isf_cooperation_share, aid_weight=p.isf_aid_support_weight,
            gain=p.isf_training_gain, max_capability=p.isf_max_capability,
            decay=p.isf_decay_without_support, enabler_dependence=p.isf_enabler_dependence)

    @kernel
    def _training_kernel(capability, ct, troops, reference, advise, cooperation, aid,
                         cooperation_share, aid_weight, gain, max_capability, decay,
                         enabler_dependence):  # pragma: no cover
        for i in range(capability.size):
            share = min(troops[i] / reference[i], 1.0)
            support = share * advise * (1 - cooperation_share[i] * (1 - cooperation[i]))
            support = max(support, aid_weight[i] * aid)
            c = capability[i] + (gain[i] * support * (max_capability[i] - capability[i])
                                 - decay[i] * (1 - support) * capability[i])
            capability[i] = clip(c, 0.0, 1.0)
            ct[i] = capability[i] * (1 - enabler_dependence[i] * (1 - support))

    def update_legitimacy(self):
        """M11: protests and crackdowns cost legitimacy; it recovers slowly (RCD20-01)."""
        m, p = self.model, self.model.p
        self._legitimacy_kernel(self.legitimacy, p.iraq_legitimacy_recovery, p.init_legitimacy,
                                float(m.events.legitimacy_shock[m.month]))

    @kernel
    def _legitimacy_kernel(legitimacy, recovery, initial, shock):  # pragma: no cover
        for i in range(legitimacy.size):
            x = legitimacy[i] + (recovery[i] * (initial[i] - legitimacy[i]) - shock)
            legitimacy[i] = clip(x, 0.0, 1.0)

    def update_militia_control(self):
        """M11: control over the militias rises with legitimacy, falls with Iran's influence.

        Evidence: WP20-01 (the government has failed to control the PMFs), WP20-02 (protests
        against Iran could have strengthened its hand).
        """
        m, p = self.model, self.model.p
        self._control_kernel(self.militia_control, self.legitimacy, m.iran.influence,
                             p.iraq_control_legitimacy_weight, p.iraq_control_iran_weight,
                             p.iraq_control_relax)

    @kernel
    def _control_kernel(control, legitimacy, influence, legitimacy_weight, iran_weight,
                        rate):  # pragma: no cover
        for i in range(control.size):
            target = legitimacy_weight[i] * legitimacy[i] * (1 - iran_weight[i] * influence[i])
            control[i] = relax(control[i], target, rate[i])

    def update_withdrawal_pressure(self):
        """M7: pressure to expel US forces.

        The structural level rises with Iranian influence (DB24-02) and militia coercion of MPs
        (FP23-02), and falls while ISIS is salient (DB24-11: "justifications have ended" when it
        is not), with US aid and trade (FP23-07) and with Kurdish and Sunni opposition (WP20-05).
        US strikes on Iraqi soil (POL20-02, DB24-07, RCD20-04) and a US-Iran exchange on Iraqi
        soil (FP23-01) add jumps.
        """
        m, p = self.model, self.model.p
        us = m.us
        self._pressure_kernel(
            pressure=self.withdrawal_pressure, salience=self.threat_salience,
            isis=m.isis.fighters_iraq, militia_coercion=m.militia_coercion(),
            influence=m.iran.influence, aid=float(m.aid), proportional=us.strike_proportional,
            leadership=us.strike_leadership, iran_direct=us.strike_iran, escalated=us.escalated,
            salience_half=p.iraq_threat_salience_half, coercion_weight=p.militia_coercion_weight,
            base=p.iraq_pressure_base, iran_weight=p.iraq_pressure_iran_weight,
            pressure_coercion_weight=p.iraq_pressure_coercion_weight,
            threat_weight=p.iraq_pressure_threat_weight, aid_weight=p.iraq_pressure_aid_weight,
            opposition=p.iraq_pressure_opposition,
            jump_proportional=p.iraq_pressure_jump_proportional,
            jump_leadership=p.iraq_pressure_jump_leadership,
            jump_iran_direct=p.iraq_pressure_jump_iran_direct,
            jump_escalation=p.iraq_pressure_jump_escalation, rate=p.iraq_pressure_relax)

    @kernel
    def _pressure_kernel(pressure, salience, isis, militia_coercion, influence, aid, proportional,
                         leadership, iran_direct, escalated, salience_half, coercion_weight, base,
                         iran_weight, pressure_coercion_weight, threat_weight, aid_weight,
                         opposition, jump_proportional, jump_leadership, jump_iran_direct,
                         jump_escalation, rate):  # pragma: no cover
        for i in range(pressure.size):
            salience[i] = isis[i] / (isis[i] + salience_half[i])
            coercion = min(coercion_weight[i] * militia_coercion[i], 1.0)
            target = (base[i] + iran_weight[i] * influence[i]
                      + pressure_coercion_weight[i] * coercion - threat_weight[i] * salience[i]
                      - aid_weight[i] * aid - opposition[i])
            jumps = (jump_proportional[i] * proportional[i] + jump_leadership[i] * leadership[i]
                     + jump_iran_direct[i] * iran_direct[i] + jump_escalation[i] * escalated[i])
            x = pressure[i] + (rate[i] * (clip(target, 0.0, 1.0) - pressure[i]) + jumps)
            pressure[i] = clip(x, 0.0, 1.0)

    def update_cooperation(self):
        """M8: the common enemy binds Baghdad to the US; tension pulls them apart (POL20-06, POL20-08)."""
        p = self.model.p
        self._cooperation_kernel(self.cooperation, self.threat_salience, self.withdrawal_pressure,
                                 p.iraq_cooperation_base, p.iraq_cooperation_threat_weight,
                                 p.iraq_cooperation_pressure_weight, p.iraq_cooperation_relax)

    @kernel
    def _cooperation_kernel(cooperation, salience, pressure, base, threat_weight, pressure_weight,
                            rate):  # pragma: no cover
        for i in range(cooperation.size):
            target = base[i] + threat_weight[i] * salience[i] - pressure_weight[i] * pressure[i]
            cooperation[i] = relax(cooperation[i], clip(target, 0.0, 1.0), rate[i])

    def decide_on_expulsion(self):
        """M7: past a threshold parliament votes; the government may then demand an exit.

        The vote comes quickly once pressure is high (FP23-01, RCD20-06); a formal demand is
        damped by the prime minister's private wish for US forces to stay (FP23-04) and made more
        likely by a vote. A demand starts a negotiated exit lasting ``iraq.negotiation_months``
        (DB24-10: committees and slow talks), which overrides the US posture.
        """
        m, p = self.model, self.model.p
        u_vote, u_demand = self.stream.random(out=self.draws)
        # chances are 1 - exp(-hazard); expm1 stays in numpy (its SIMD bits, see sim.model.kernels)
        no_vote = self._vote_hazard_kernel(self.withdrawal_pressure, p.iraq_vote_threshold,
                                           p.iraq_vote_hazard)
        np.expm1(no_vote, out=no_vote)  # minus the chance of a vote
        no_demand = self._vote_kernel(self.voted, m.us.troops, u_vote, no_vote,
                                      self.withdrawal_pressure, p.iraq_demand_threshold,
                                      p.iraq_demand_hazard, p.iraq_pm_private_preference)
        np.expm1(no_demand, out=no_demand)  # minus the chance of a demand
        demand = np.empty(m.n_runs, dtype=bool)
        if self._demand_kernel(self.exit_demanded, demand, m.us.troops, u_demand, no_demand):
            m.us.start_forced_exit(demand, p.iraq_negotiation_months)

    @kernel
    def _vote_hazard_kernel(pressure, threshold, hazard):  # pragma: no cover
        """Minus the monthly hazard of a vote (for ``expm1``)."""
        out = np.empty(pressure.size)
        for i in range(out.size):
            out[i] = -max(hazard[i] * (pressure[i] - threshold[i]), 0.0)
        return out

    @kernel
    def _vote_kernel(voted, troops, u_vote, minus_chance, pressure, threshold, hazard,
                     pm_preference):  # pragma: no cover
        """Parliament votes where the draw falls under the chance; returns minus the demand hazard."""
        out = np.empty(voted.size)
        for i in range(out.size):
            if not voted[i] and troops[i] > 0 and u_vote[i] < -minus_chance[i]:
                voted[i] = True
            h = (hazard[i] * (pressure[i] - threshold[i]) * (1 - pm_preference[i])
                 * (1.0 + voted[i]))
            out[i] = -max(h, 0.0)
        return out

    @kernel
    def _demand_kernel(demanded, demand, troops, u_demand, minus_chance):  # pragma: no cover
        """The government demands an exit where the draw falls under the chance (new ones in ``demand``)."""
        any_demand = False
        for i in range(demanded.size):
            demand[i] = not demanded[i] and troops[i] > 0 and u_demand[i] < -minus_chance[i]
            demanded[i] |= demand[i]
            any_demand |= demand[i]
        return any_demand
