"""The Iraqi government and its forces: ISF capability, legitimacy, militia control, pressure to expel the US, cooperation, the exit process and the return (M1, M7, M8, M11, M14, M15)."""

from __future__ import annotations

import numpy as np
from mesa.agent import Agent

from sim.model.kernels import clip, kernel, relax
from sim.model.parameters import per_run


class IraqiGovernment(Agent):
    """The Iraqi government and its security forces (M1, M7, M8, M11, M14, M15)."""

    def __init__(self, model):
        super().__init__(model)
        p, n = model.p, model.n_runs
        self.stream = model.streams["iraq"]
        self.draws = np.empty((2, n))  # this month's uniforms, refilled in place
        self.exit_draws = np.empty(n, dtype=np.float32)  # the exit process's uniform, refilled
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
        """Baghdad's month: ISF, legitimacy, control, pressure, cooperation, the exit process."""
        self.train_security_forces()
        self.update_legitimacy()
        self.update_militia_control()
        self.update_withdrawal_pressure()
        self.update_cooperation()
        self.decide_on_exit()

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
        is not; salient through its fighters and, whatever their number, through the towns it
        holds, as in 2014: M16, POL20-01), with US aid and trade (FP23-07) and with Kurdish and Sunni opposition (WP20-05).
        US strikes on Iraqi soil (POL20-02, DB24-07, RCD20-04) and a US-Iran exchange on Iraqi
        soil (FP23-01) add jumps.
        """
        m, p = self.model, self.model.p
        us = m.us
        self._pressure_kernel(
            pressure=self.withdrawal_pressure, salience=self.threat_salience,
            isis=m.isis.fighters_iraq, territory=m.isis.territory,
            militia_coercion=m.militia_coercion(),
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
    def _pressure_kernel(pressure, salience, isis, territory, militia_coercion, influence, aid,
                         proportional, leadership, iran_direct, escalated, salience_half,
                         coercion_weight, base, iran_weight, pressure_coercion_weight,
                         threat_weight, aid_weight,
                         opposition, jump_proportional, jump_leadership, jump_iran_direct,
                         jump_escalation, rate):  # pragma: no cover
        for i in range(pressure.size):
            # the threat is salient through the fighters or the towns held, either one
            unseen = (1.0 - isis[i] / (isis[i] + salience_half[i])) * (1.0 - territory[i])
            salience[i] = 1.0 - unseen
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

    def decide_on_exit(self):
        """M7/M14/M15: Baghdad moves the exit process along (stages in ``sim.model.exit``).

        1. **Negotiation** (``negotiate_exit``): committees and talks of uncertain length
           (DB24-10) end in an agreed timetable, are shelved, or break down into an order to
           leave. Talks a demand opens start the month after it.
        2. **Resolution and demand.** Past a threshold parliament passes a non-binding resolution
           quickly (FP23-01, RCD20-06); a formal demand is damped by the prime minister's private
           wish for US forces to stay (FP23-04) and made likelier by a resolution. Where US
           forces are present and no process runs, the demand opens a negotiation.
        3. **Completion and return** (``invite_back``): a timetable that has run out ends the
           exit; afterwards Baghdad may ask US forces back when ISIS threatens (POL20-01).
        """
        m, p = self.model, self.model.p
        # one uniform a run for talks or a return; compared with a chance, so single precision
        u_exit = m.exit_stream.generator.random(out=self.exit_draws, dtype=np.float32)
        self.negotiate_exit(u_exit, m.exit.runs_in_talks())  # talks opened by a demand this month start next month
        u_vote, u_demand = self.stream.uniforms(self.draws)
        # chances are 1 - exp(-hazard); expm1 stays in numpy (its SIMD bits, see sim.model.kernels)
        no_vote = self._vote_hazard_kernel(self.withdrawal_pressure, p.iraq_vote_threshold,
                                           p.iraq_vote_hazard)
        np.expm1(no_vote, out=no_vote)  # minus the chance of a vote
        no_demand = self._vote_kernel(
            voted=self.voted, stage=m.exit.stage, troops=m.us.troops, u_vote=u_vote,
            minus_chance=no_vote, pressure=self.withdrawal_pressure,
            threshold=p.iraq_demand_threshold, hazard=p.iraq_demand_hazard,
            pm_preference=p.iraq_pm_private_preference)
        np.expm1(no_demand, out=no_demand)  # minus the chance of a demand
        imposed = bool(m.events.exit_demand[m.month] > 0)
        self._demand_kernel(demanded=self.exit_demanded, stage=m.exit.stage,
                            demand_month=m.exit.demand_month, troops=m.us.troops,
                            u_demand=u_demand, minus_chance=no_demand, imposed=imposed,
                            t=float(m.month))
        gone = m.exit.complete_timetables(m.month)
        self.invite_back(u_exit, gone)

    def negotiate_exit(self, u: np.ndarray, talks: np.ndarray):
        """M14: an open negotiation ends in agreement, is shelved, or breaks down.

        * **Agreement** comes at a monthly hazard of one over ``exit.negotiation_months``
          (DB24-10: committees, slow talks), faster if the US complies and slower if it stalls
          (``levers.exit_response``). Its timetable depends on the response: everyone out within
          ``exit.comply_months``, or phases (federal Iraq, then a Kurdistan platform, then any
          residual advisers).
        * **Shelving**: a prime minister who privately wants the US to stay (FP23-04) lets the
          talks lapse when pressure has eased below the demand threshold or ISIS threatens
          (DB24-11: the justification returns).
        * **Breakdown**: under extreme pressure and militia coercion (FP23-02) Baghdad orders
          the US out without agreement (a forced exit of ``us.forced_exit_months``).
        * **Stalling** by the US adds pressure each month the demand stays open (DB24-11).

        An ``exit_agreement`` event imposes a timetable (e.g. the 2008 agreement behind 2011).
        ``u`` is this month's uniform of the exit process, one per run; ``talks`` the runs in
        stage 2.
        """
        m, p = self.model, self.model.p
        exit, t = m.exit, m.month
        response = m.exit_response
        agree = order = None
        if talks.size:
            speed = {"comply": p.exit_comply_speedup, "negotiate": 1.0,
                     "stall": 1.0 / p.exit_stall_slowdown}[response.value]
            hazards = self._negotiation_kernel(
                talks=talks, pressure=self.withdrawal_pressure, salience=self.threat_salience,
                coercion=m.militia_coercion(), speed=speed, months=p.exit_negotiation_months,
                abandon=p.exit_abandon_hazard, pm_preference=p.iraq_pm_private_preference,
                demand_threshold=p.iraq_demand_threshold,
                forced_threshold=p.exit_forced_threshold, forced=p.exit_forced_hazard,
                stall=response.value == "stall", stall_pressure=p.exit_stall_pressure)
            np.expm1(hazards, out=hazards)  # minus the chances
            agree, order = self._negotiation_outcome_kernel(talks, exit.stage, self.voted, u,
                                                            hazards)
        months = m.events.agreement_months[t]
        if months > 0:  # an imposed agreement, where no timetable runs yet
            imposed = (exit.stage != 3) & (exit.stage != 4) & (exit.stage != 5)
            if agree is not None:
                imposed |= agree
            exit.start_timetable(imposed, t, m.us.troops, months,
                                 m.events.agreement_platform[t],
                                 m.events.agreement_phase2_months[t],
                                 m.events.agreement_residual[t], stage=3)
        elif agree is not None and agree.any():
            if response.value == "comply":
                exit.start_timetable(agree, t, m.us.troops, p.exit_comply_months, 0.0, 0.0, 0.0,
                                     stage=3)
            else:
                exit.start_timetable(agree, t, m.us.troops, p.exit_phase1_months,
                                     p.exit_kurdistan_troops, p.exit_phase2_months,
                                     p.exit_residual_troops, stage=3)
        if order is not None and order.any():
            exit.start_timetable(order, t, m.us.troops, p.us_forced_exit_months, 0.0, 0.0, 0.0,
                                 stage=4)

    @kernel
    def _negotiation_kernel(talks, pressure, salience, coercion, speed, months, abandon,
                            pm_preference, demand_threshold, forced_threshold, forced, stall,
                            stall_pressure):  # pragma: no cover
        """Minus the monthly hazards of agreement, shelving and breakdown (rows) in the runs
        ``talks``, for ``expm1``; adds the pressure of stalling."""
        out = np.empty((3, talks.size))
        for j in range(talks.size):
            i = talks[j]
            if stall:
                pressure[i] = min(pressure[i] + stall_pressure[i], 1.0)
            out[0, j] = -speed / months[i]
            eased = max(1.0 - pressure[i] / demand_threshold[i] + salience[i], 0.0)
            out[1, j] = -abandon[i] * pm_preference[i] * eased
            extreme = max(pressure[i] - forced_threshold[i], 0.0)
            out[2, j] = -forced[i] * extreme * (1.0 + min(coercion[i], 1.0))
        return out

    @kernel
    def _negotiation_outcome_kernel(talks, stage, voted, u, minus_chances):  # pragma: no cover
        """Where talks end this month: agreed, shelved (back to the resolution or no process)
        or broken down (an order to leave). Competing outcomes from one uniform: agreement with
        its chance, else shelving with its chance, else breakdown with its chance."""
        n = stage.size
        agree = np.zeros(n, dtype=np.bool_)
        order = np.zeros(n, dtype=np.bool_)
        for j in range(talks.size):
            i = talks[j]
            p_agree, p_shelve, p_order = (-minus_chances[0, j], -minus_chances[1, j],
                                          -minus_chances[2, j])
            shelve_to = p_agree + (1.0 - p_agree) * p_shelve
            if u[i] < p_agree:
                agree[i] = True
            elif u[i] < shelve_to:
                stage[i] = 1.0 if voted[i] else 0.0
            elif u[i] < shelve_to + (1.0 - p_agree) * (1.0 - p_shelve) * p_order:
                order[i] = True
        return agree, order

    def invite_back(self, u: np.ndarray, gone: np.ndarray):
        """M15: after an exit, Baghdad asks US forces back when ISIS threatens (POL20-01, 2014).

        The monthly hazard grows with the ISIS threat's salience above ``exit.reinvite_salience``;
        US forces then come back under ``levers.return_posture``. ``u`` is this month's uniform
        of the exit process (a run in stage 5 has not used it for talks); ``gone`` the runs in
        stage 5.
        """
        m, p = self.model, self.model.p
        exit = m.exit
        if not gone.size:
            return
        minus_hazard = self._invite_hazard_kernel(gone, self.threat_salience,
                                                  p.exit_reinvite_salience, p.exit_reinvite_hazard)
        np.expm1(minus_hazard, out=minus_hazard)  # minus the chances
        invite = np.zeros(m.n_runs, dtype=bool)
        invite[gone] = u[gone] < -minus_hazard
        if invite.any():
            exit.invite_back(invite, m.month)

    @kernel
    def _invite_hazard_kernel(gone, salience, threshold, hazard):  # pragma: no cover
        """Minus the monthly hazard of an invitation in the runs ``gone`` (for ``expm1``)."""
        out = np.empty(gone.size)
        for j in range(gone.size):
            i = gone[j]
            out[j] = -hazard[i] * max(salience[i] - threshold[i], 0.0)
        return out

    @kernel
    def _vote_hazard_kernel(pressure, threshold, hazard):  # pragma: no cover
        """Minus the monthly hazard of a vote (for ``expm1``)."""
        out = np.empty(pressure.size)
        for i in range(out.size):
            out[i] = -max(hazard[i] * (pressure[i] - threshold[i]), 0.0)
        return out

    @kernel
    def _vote_kernel(voted, stage, troops, u_vote, minus_chance, pressure, threshold, hazard,
                     pm_preference):  # pragma: no cover
        """Parliament votes where the draw falls under the chance; returns minus the demand hazard."""
        out = np.empty(voted.size)
        for i in range(out.size):  # selects, not branches, on the draws (see sim.model.kernels)
            vote = (not voted[i]) & (troops[i] > 0) & (u_vote[i] < -minus_chance[i])
            s = stage[i]
            stage[i] = 1 if vote & ((s == 0) | (s == 6)) else s
            voted[i] |= vote
            h = (hazard[i] * (pressure[i] - threshold[i]) * (1 - pm_preference[i])
                 * (1.0 + voted[i]))
            out[i] = -max(h, 0.0)
        return out

    @kernel
    def _demand_kernel(demanded, stage, demand_month, troops, u_demand, minus_chance, imposed,
                       t):  # pragma: no cover
        """The government demands an exit where the draw falls under the chance (or an event
        imposes it), US forces are present and no process runs: a negotiation opens."""
        for i in range(demanded.size):  # selects, not branches, on the draws
            s = stage[i]
            open_ = (s <= 1) | (s >= 5)  # no process runs (a residual may stay)
            demand = open_ & (troops[i] > 0) & (imposed | (u_demand[i] < -minus_chance[i]))
            stage[i] = 2 if demand else s
            demand_month[i] = t if demand & (not demanded[i]) else demand_month[i]
            demanded[i] |= demand
