"""The United States: troops, CT capacity, deterrence, retaliation, domestic will (M1, M2, M6, M10)."""

from __future__ import annotations

import numpy as np
from mesa.agent import Agent

from sim.model.kernels import clip, kernel, poisson_from_uniform
from sim.model.levers import Retaliation
from sim.model.parameters import per_run


class UnitedStates(Agent):
    """The United States: troops, CT capacity, deterrence, retaliation, domestic will."""

    def __init__(self, model):
        super().__init__(model)
        p, n = model.p, model.n_runs
        self.stream = model.streams["us"]
        self.draws = np.empty((2, n))  # this month's uniforms, refilled in place
        self.chosen_troops = np.full(n, float(model.posture.initial_troops()))
        self._kurdistan, self._kurdistan_month = None, -1  # troops in Kurdistan, once a month
        # the return posture's troops by month since a return (M15), looked up each month
        self.return_path = model.return_posture.troops_since(np.arange(model.horizon + 1))
        self.troops = self.chosen_troops.copy()
        self.ct_capacity = np.zeros(n)
        self.syria_capacity = np.zeros(n)
        self.deterrence = np.zeros(n)
        self.will = per_run(p.init_us_will, n)
        self.fatalities = np.zeros(n)
        self.will_collapsed = np.zeros(n, dtype=bool)
        # strikes made this month, read by the Iraqi government and Iran
        self.strike_proportional = np.zeros(n, dtype=bool)
        self.strike_leadership = np.zeros(n, dtype=bool)
        self.strike_iran = np.zeros(n, dtype=bool)
        self.escalated = np.zeros(n, dtype=bool)
        self._update_capacities()

    def step(self):
        """The US month: set troops, retaliate, count losses, update will and capacities."""
        self.set_troop_level()
        self.retaliate()
        self.update_will()
        self._update_capacities()

    # ---------------------------------------------------------------- troops (levers, M14, M15)
    def set_troop_level(self):
        """Levers + M14/M15: the chosen posture, capped by any exit timetable under way.

        Where US forces came back at Baghdad's invitation, the choice is the return posture
        (``levers.return_posture``, months counted from the return). An exit timetable (agreed,
        forced, or from collapsing will: ``sim.model.exit``) caps the troops, and so does a US
        troop decision a scenario schedules (``troop_ceiling`` events).
        """
        m = self.model
        exit = m.exit
        self.chosen_troops = m.posture.chosen_troops(m.month, self.chosen_troops, m)
        if exit.returned.any():
            self._return_kernel(self.chosen_troops, exit.returned, exit.return_start,
                                self.return_path, float(m.month))
        np.minimum(self.chosen_troops, exit.troop_cap(m.month), out=self.troops)
        ceiling = m.events.troop_ceiling[m.month]
        if ceiling < np.inf:
            np.minimum(self.troops, ceiling, out=self.troops)

    @kernel
    def _return_kernel(chosen, returned, return_start, path, t):  # pragma: no cover
        """Where US forces came back, the return posture's troops for the months since."""
        for i in range(chosen.size):
            if returned[i]:
                chosen[i] = path[int(t - return_start[i])]

    def troops_in_kurdistan(self) -> np.ndarray:
        """US troops in the Kurdistan Region this month (the rest are in federal Iraq).

        The usual share (``us.kurdistan_share``), all of them once a ``kurdistan_residual``
        posture has drawn down, or the platform of a phased exit once federal Iraq is left.
        Computed once a month (the bookkeeping reads it twice); the caller must not write to it.
        """
        m = self.model
        if self._kurdistan_month != m.month:
            self._kurdistan, self._kurdistan_month = self._troops_in_kurdistan(), m.month
        return self._kurdistan

    def troops_in_federal_iraq(self) -> np.ndarray:
        """US troops in federal Iraq this month (outside the Kurdistan Region)."""
        return self.troops - self.troops_in_kurdistan()

    def _troops_in_kurdistan(self) -> np.ndarray:
        m = self.model
        posture = m.posture
        share = m.p.us_kurdistan_share
        if posture.kind == "kurdistan_residual" and m.month >= posture.start_month + posture.months:
            share = 1.0
        return m.exit.kurdistan_troops(self.troops, share)

    def _update_capacities(self):
        """M2/M4: direct CT capacity and Syria-operations capacity from troops in Iraq.

        Direct CT (intelligence, raids, air) scales with troops and with Baghdad's cooperation
        (POL20-06); over-the-horizon postures keep a share from outside. Syria operations need an
        Iraq hub (POL20-03: no Iraq, no Syria; POL20-09: Turkey is no substitute).
        """
        m, p = self.model, self.model.p
        share_powered = m.troop_share_power(self.troops, 1.0, p.us_ct_exponent)
        self._capacity_kernel(
            ct_capacity=self.ct_capacity, syria_capacity=self.syria_capacity,
            share_powered=share_powered, troops=self.troops, advise=float(m.posture.advise_factor),
            cooperation=m.gov.cooperation, outside_ct=bool(m.posture.outside_ct),
            over_the_horizon=p.us_over_the_horizon_fraction,
            syria_basing=bool(m.posture.syria_basing), basing_troops=p.us_syria_basing_troops,
            raid_capacity=p.us_syria_raid_capacity)

    @kernel
    def _capacity_kernel(ct_capacity, syria_capacity, share_powered, troops, advise, cooperation,
                         outside_ct, over_the_horizon, syria_basing, basing_troops,
                         raid_capacity):  # pragma: no cover
        for i in range(troops.size):
            ct = share_powered[i] * advise * cooperation[i]
            if outside_ct:
                ct = max(ct, over_the_horizon[i])
            ct_capacity[i] = ct
            hub = min(troops[i] / basing_troops[i], 1.0)
            if syria_basing and troops[i] > 0:
                hub = 1.0
            syria_capacity[i] = raid_capacity[i] * hub

    # ---------------------------------------------------------------- retaliation (M6)
    def retaliate(self):
        """M6: respond to this month's militia attacks according to the doctrine.

        Retaliation is triggered by a lethal attack or a sustained wave (DB24-18). Proportional
        strikes hit militia facilities (RCD20-04); leadership strikes kill a leader on Iraqi soil,
        cutting the group's cohesion and raising deterrence (DB24-02, DB24-04, RCD20-08);
        ``iran_direct`` presses Iran outside Iraq (WP20-06, DB24-05). Scheduled high-profile
        strikes happen whatever the doctrine. Strikes on Iraqi soil raise withdrawal pressure (read
        by the Iraqi government); leadership strikes and strikes on Iran may trigger a direct
        Iranian strike on US forces (RCD20-07, WP20-08).
        """
        m, p = self.model, self.model.p
        t = m.month
        attacks = m.militia_attacks_total()
        militia_deaths = m.militia_fatalities_total()
        u_escalation, u_deaths = self.stream.uniforms(self.draws)

        doctrine = m.retaliation
        commander = m.events.strike_iranian_commander[t] > 0
        self._strike_kernel(
            proportional=self.strike_proportional, leadership=self.strike_leadership,
            iran=self.strike_iran, deterrence=self.deterrence, attacks=attacks,
            militia_deaths=militia_deaths, troops=self.troops,
            threshold=p.us_retaliation_attack_threshold, doctrine_proportional=doctrine is
            Retaliation.PROPORTIONAL, doctrine_leadership=doctrine is Retaliation.LEADERSHIP,
            doctrine_iran=doctrine is Retaliation.IRAN_DIRECT,
            scheduled_leadership=bool(m.events.strike_militia_leader[t] > 0 or commander),
            decay=p.us_deterrence_decay, gain_proportional=p.us_deterrence_gain_proportional,
            gain_leadership=p.us_deterrence_gain_leadership,
            gain_iran=p.us_deterrence_gain_iran_direct)

        if self.strike_leadership.any():
            target = m.most_active_group()
            for i, group in enumerate(m.militias):
                group.decapitate(self.strike_leadership & (target == i), p.militia_decapitation_loss)
            m.iran.revenge[self.strike_leadership] = 1.0
        if self.strike_proportional.any():
            for group in m.militias:
                group.decapitate(self.strike_proportional, p.militia_proportional_loss)
        strong = self.strike_leadership | self.strike_iran
        struck = strong | self.strike_proportional
        if struck.any():  # M13: each group answers with restraint or defiance
            for group, u in zip(m.militias, m.response_uniforms()):
                group.answer_strike(struck, strong, u)

        if self._escalation_kernel(
            escalated=self.escalated, fatalities=self.fatalities, leadership=self.strike_leadership,
            iran=self.strike_iran, commander=bool(commander), u_escalation=u_escalation,
            militia_deaths=militia_deaths, troops=self.troops,
            prob_leadership=p.iran_escalation_prob_leadership,
            prob_iran=p.iran_escalation_prob_iran_direct,
            prob_commander=p.iran_escalation_prob_commander):
            # deaths from Iran's strikes, drawn only where one hit US troops
            hit = np.flatnonzero(self.escalated & (self.troops > 0))
            lethality = per_run(p.iran_escalation_lethality, m.n_runs)[hit]
            self.fatalities[hit] += poisson_from_uniform(u_deaths[hit], lethality)

    @kernel
    def _strike_kernel(proportional, leadership, iran, deterrence, attacks, militia_deaths,
                       troops, threshold, doctrine_proportional, doctrine_leadership,
                       doctrine_iran, scheduled_leadership, decay, gain_proportional,
                       gain_leadership, gain_iran):  # pragma: no cover
        """Who strikes this month, and the deterrence it buys (M6)."""
        for i in range(troops.size):
            # ``&`` and ``|``, not ``and`` and ``or``: no branch on the draws (see sim.model.kernels)
            trigger = ((militia_deaths[i] > 0) | (attacks[i] >= threshold[i])) & (troops[i] > 0)
            proportional[i] = trigger & doctrine_proportional
            leadership[i] = (trigger & doctrine_leadership) | scheduled_leadership
            iran[i] = trigger & doctrine_iran
            d = deterrence[i] * (1 - decay[i])
            gain = (gain_proportional[i] * proportional[i] + gain_leadership[i] * leadership[i]
                    + gain_iran[i] * iran[i])
            deterrence[i] = d + min(gain, 1.0) * (1 - d)

    @kernel
    def _escalation_kernel(escalated, fatalities, leadership, iran, commander, u_escalation,
                           militia_deaths, troops, prob_leadership, prob_iran,
                           prob_commander):  # pragma: no cover
        """Iran's direct strikes after leadership strikes or strikes on Iran (M6).

        Sets this month's US deaths to the militias' toll and returns whether a strike hit US
        troops present anywhere (their deaths are added by the caller).
        """
        any_hit = False
        for i in range(troops.size):
            p_escalate = prob_leadership[i] * leadership[i] + prob_iran[i] * iran[i]
            if commander:
                p_escalate = max(p_escalate, prob_commander[i])
            escalated[i] = u_escalation[i] < p_escalate
            fatalities[i] = militia_deaths[i]
            any_hit |= escalated[i] & (troops[i] > 0)
        return any_hit

    # ---------------------------------------------------------------- domestic will (M10)
    def update_will(self):
        """M10: will erodes with US deaths and a passive partner; low will forces an exit (stage 4).

        Evidence: RCD20-09 (a war-weary US needs Baghdad to act), RCD20-03 (passivity).
        """
        m, p = self.model, self.model.p
        collapse = np.empty(m.n_runs, dtype=bool)
        if self._will_kernel(
            will=self.will, collapse=collapse, attacks=m.militia_attacks_total(),
            control=m.gov.militia_control, cooperation=m.gov.cooperation,
            fatalities=self.fatalities, collapsed=self.will_collapsed, troops=self.troops,
            recovery=p.us_will_recovery, initial=p.init_us_will,
            loss_per_fatality=p.us_will_loss_per_fatality,
            loss_passive=p.us_will_loss_passive_partner, threshold=p.us_will_threshold):
            self.will_collapsed |= collapse
            m.exit.start_timetable(collapse, m.month, self.troops, p.us_forced_exit_months,
                                   0.0, 0.0, 0.0, stage=4)

    @kernel
    def _will_kernel(will, collapse, attacks, control, cooperation, fatalities, collapsed, troops,
                     recovery, initial, loss_per_fatality, loss_passive, threshold):  # pragma: no cover
        """Update will; mark where it collapses now; return whether it did anywhere."""
        any_collapse = False
        for i in range(will.size):
            attacked = 1.0 if attacks[i] > 0 else 0.0
            passivity = attacked * (1 - control[i] * cooperation[i])
            w = will[i] + (recovery[i] * (initial[i] - will[i])
                           - loss_per_fatality[i] * fatalities[i] - loss_passive[i] * passivity)
            will[i] = clip(w, 0.0, 1.0)
            collapse[i] = (will[i] < threshold[i]) & (not collapsed[i]) & (troops[i] > 0)
            any_collapse |= collapse[i]
        return any_collapse
