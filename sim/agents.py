"""The five actors. Each holds its state as numpy arrays over the replicas of a block.

Month phases (DESIGN §4): exogenous events → Iran → militias → United States → Iraqi
government → ISIS → bookkeeping. Each mechanism M1..M12 lives in one method named for what it
does; its docstring names the mechanism and the evidence (claim ids in ``seeds/claims.yaml``).

Every random draw is made unconditionally, with a fixed shape, from the actor's own stream, so
two scenarios that differ in one lever keep their random numbers aligned (common random
numbers).

Speed: a mechanism's per-replica arithmetic runs as one compiled loop over the block (numba),
written right below its method as a static ``_..._kernel``: one pass over memory instead of a
dozen numpy temporaries (docs/performance.md). The loops do the same IEEE operations in the same
order as the numpy expressions they replaced, so results did not change; ``exp``, ``expm1`` and
``**`` stay in numpy (see ``sim.kernels``).
"""

from __future__ import annotations

import numpy as np
from mesa import Agent

from .kernels import clip, kernel, poisson_minus_rates, poisson_search, relax, standard_normals
from .levers import Retaliation
from .parameters import per_run


#: Rate above which a Poisson count is drawn by its normal approximation (error far below the
#: model's uncertainty; keeps the inversion loop short).
POISSON_NORMAL_ABOVE = 30.0


def poisson_from_uniform(u: np.ndarray, lam: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Poisson counts with means ``lam``, by inverting the CDF at the uniforms ``u``.

    ``Generator.poisson`` consumes a varying amount of randomness depending on the rate, so a
    change of rate in one replica would shift every later draw of the block and break common
    random numbers. Inversion uses exactly one uniform per count: the count is monotone in the
    rate for a given uniform, so scenarios compare run by run. Written into ``out`` if given.
    """
    term = poisson_minus_rates(lam)
    np.exp(term, out=term)
    k = np.empty(lam.size) if out is None else out
    if poisson_search(u, lam, term, POISSON_NORMAL_ABOVE, k):  # compiled CDF walk per replica
        from scipy.special import ndtri
        big = np.flatnonzero(lam > POISSON_NORMAL_ABOVE)
        rate = lam[big]
        approx = np.floor(rate + np.sqrt(rate) * ndtri(np.clip(u[big], 1e-12, 1 - 1e-12)) + 0.5)
        k[big] = np.maximum(approx, 0.0)
    return k


class Iran(Agent):
    """Iran: directs its proxies, fears ISIS and war, fills vacuums (M9)."""

    def __init__(self, model):
        super().__init__(model)
        p, n = model.p, model.n_runs
        self.stream = model.streams["iran"]
        self.direction = per_run(p.init_iran_direction, n)
        self.influence = per_run(p.init_iran_influence, n)
        self.isis_threat = np.zeros(n)
        self.sanctions = per_run(p.iran_sanctions_base, n)
        self.revenge = np.zeros(n)

    def step(self):
        """Iran's month: threat perception, economic pressure, proxy direction, influence."""
        self.update_isis_threat()
        self.update_sanctions()
        self.set_proxy_direction()
        self.fill_vacuum()

    def update_isis_threat(self):
        """M9/M12: fear of ISIS fades, grows with ISIS strength, jumps after an attack in Iran.

        Evidence: DB24-06 (Kerman), DB24-17 (Iran reminded how dangerous ISIS is).
        """
        m, p = self.model, self.model.p
        self._isis_threat_kernel(self.isis_threat, m.isis.fighters_iraq, m.isis.fighters_syria,
                                 p.iran_isis_threat_half, p.iran_threat_memory,
                                 float(m.events.isis_attack_iran[m.month]))

    @kernel
    def _isis_threat_kernel(threat, iraq, syria, half, memory, attack):  # pragma: no cover
        for i in range(threat.size):
            fighters = iraq[i] + syria[i]
            strength = fighters / (fighters + half[i])
            x = threat[i] * memory[i]
            threat[i] = clip(x + ((1 - memory[i]) * strength + attack), 0.0, 1.0)

    def update_sanctions(self):
        """M9/M12: economic pressure is its base level plus any scheduled crisis (RCD20-08, WP20-07)."""
        m, p = self.model, self.model.p
        np.clip(p.iran_sanctions_base + m.events.iran_crisis[m.month], 0.0, 1.0, out=self.sanctions)

    def set_proxy_direction(self):
        """M9: Iran wants the US out, but fears ISIS and war and bends under sanctions.

        Direction rises with US troops present to target (WP20-04), a regional war (DB24-01) and
        revenge after leadership strikes (WP20-08); it falls with fear of ISIS (DB24-17), US
        deterrence, because Iran does not want war (DB24-04), and economic pressure (WP20-07).
        """
        m, p = self.model, self.model.p
        self._direction_kernel(
            self.direction, self.revenge, m.us.troops, float(m.events.war[m.month]),
            self.isis_threat, m.us.deterrence, self.sanctions, p.iran_revenge_memory,
            p.iran_direction_base, p.iran_presence_weight, p.iran_war_weight,
            p.iran_revenge_weight, p.iran_isis_fear_weight, p.iran_war_fear_weight,
            p.iran_sanctions_weight, p.iran_direction_relax)

    @kernel
    def _direction_kernel(direction, revenge, troops, war, threat, deterrence, sanctions,
                          revenge_memory, base, presence_weight, war_weight, revenge_weight,
                          isis_fear_weight, war_fear_weight, sanctions_weight,
                          rate):  # pragma: no cover
        for i in range(direction.size):
            present = 1.0 if troops[i] > 0 else 0.0
            revenge[i] *= revenge_memory[i]
            target = (base[i] + presence_weight[i] * present + war_weight[i] * war
                      + revenge_weight[i] * revenge[i] - isis_fear_weight[i] * threat[i]
                      - war_fear_weight[i] * deterrence[i] - sanctions_weight[i] * sanctions[i])
            direction[i] = relax(direction[i], clip(target, 0.0, 1.0), rate[i])

    def fill_vacuum(self):
        """M9: Iran's influence grows where the US leaves and with its proxies' strength.

        Evidence: POL20-04 (Iran fills the void the US cedes), WP20-05 (expulsion strengthens the
        PMFs). US aid and engagement hold it back (FP23-07).
        """
        m, p = self.model, self.model.p
        self._vacuum_kernel(self.influence, m.us.troops, p.us_reference_troops,
                            m.militia_strength_mean(), self.direction, float(m.aid),
                            p.iran_influence_base, p.iran_vacuum_weight,
                            p.iran_proxy_influence_weight, p.iran_aid_influence_weight,
                            p.iran_influence_relax)

    @kernel
    def _vacuum_kernel(influence, troops, reference, militia, direction, aid, base,
                       vacuum_weight, proxy_weight, aid_weight, rate):  # pragma: no cover
        for i in range(influence.size):
            presence = min(troops[i] / reference[i], 1.0)
            target = (base[i] + vacuum_weight[i] * (1 - presence)
                      + proxy_weight[i] * direction[i] * militia[i] - aid_weight[i] * aid)
            influence[i] = relax(influence[i], clip(target, 0.0, 1.0), rate[i])


class Militia(Agent):
    """One Iran-backed militia group: attacks US forces, coerces MPs (M5, M11)."""

    def __init__(self, model, name: str, share: float):
        super().__init__(model)
        n = model.n_runs
        self.name = name
        self.share = share
        self.stream = model.streams[f"militia:{name}"]
        self.draws = np.empty((2, n))  # this month's uniforms, refilled in place
        self.strength = np.ones(n)
        self.cohesion = np.ones(n)
        self.attacks = np.zeros(n)
        self.fatalities = np.zeros(n)

    def step(self):
        """The group's month: recover cohesion, build strength, attack."""
        self.recover_cohesion()
        self.build_strength()
        self.attack_us_forces()

    def recover_cohesion(self):
        """M6: cohesion lost to decapitation recovers over months (RCD20-08)."""
        self._cohesion_kernel(self.cohesion, self.model.p.militia_cohesion_recovery)

    @kernel
    def _cohesion_kernel(cohesion, recovery):  # pragma: no cover
        for i in range(cohesion.size):
            cohesion[i] += recovery[i] * (1 - cohesion[i])

    def build_strength(self):
        """M11: strength follows Iranian direction and influence (WP20-05); 1 = early 2024."""
        m = self.model
        self._strength_kernel(self.strength, m.iran.direction, m.iran.influence,
                              m.p.militia_strength_growth)

    @kernel
    def _strength_kernel(strength, direction, influence, growth):  # pragma: no cover
        for i in range(strength.size):
            target = direction[i] + influence[i]
            strength[i] = clip(strength[i] + growth[i] * (target - strength[i]), 0.0, 3.0)

    def attack_us_forces(self):
        """M5/M11: attacks on US forces, and the US deaths they cause.

        The monthly rate is the group's share of the base rate, times Iran's direction (WP20-04),
        the regional-war multiplier (DB24-01), exposure of US troops present, the group's cohesion
        and strength, minus deterrence (DB24-04) and minus what a controlling, cooperating
        government prevents (RCD20-03, DB24-18). Deaths per attack follow RCD20-02.
        """
        m, p = self.model, self.model.p
        rate = self._attack_rate_kernel(p.militia_base_attack_rate, self.share, m.iran.direction,
                                 p.militia_war_attack_gain, float(m.events.war[m.month]),
                                 m.militia_exposure(), self.cohesion, self.strength, m.us.deterrence,
                                 p.militia_control_effect, m.gov.militia_control, m.gov.cooperation)
        u = self.stream.random(out=self.draws)
        poisson_from_uniform(u[0], rate, out=self.attacks)
        poisson_from_uniform(u[1], self.attacks * p.militia_lethality, out=self.fatalities)

    @kernel
    def _attack_rate_kernel(base, share, direction, war_gain, war, exposure, cohesion, strength,
                     deterrence, control_effect, control, cooperation):  # pragma: no cover
        rate = np.empty(direction.size)
        for i in range(rate.size):
            rate[i] = (base[i] * share * direction[i] * (1 + war_gain[i] * war)
                       * exposure[i] * cohesion[i] * strength[i]
                       * (1 - deterrence[i])
                       * (1 - control_effect[i] * control[i] * cooperation[i]))
        return rate

    def decapitate(self, hit: np.ndarray, loss: np.ndarray):
        """M6: a strike on the group's leadership cuts its cohesion where ``hit`` (RCD20-08)."""
        self._decapitate_kernel(self.cohesion, hit, loss)

    @kernel
    def _decapitate_kernel(cohesion, hit, loss):  # pragma: no cover
        for i in range(cohesion.size):
            if hit[i]:
                cohesion[i] -= loss[i] * cohesion[i]


class UnitedStates(Agent):
    """The United States: troops, CT capacity, deterrence, retaliation, domestic will."""

    def __init__(self, model):
        super().__init__(model)
        p, n = model.p, model.n_runs
        self.stream = model.streams["us"]
        self.draws = np.empty((2, n))  # this month's uniforms, refilled in place
        self.chosen_troops = np.full(n, float(model.posture.initial_troops()))
        self.troops = self.chosen_troops.copy()
        self.ct_capacity = np.zeros(n)
        self.syria_capacity = np.zeros(n)
        self.deterrence = np.zeros(n)
        self.will = per_run(p.init_us_will, n)
        self.fatalities = np.zeros(n)
        self.forced_start = np.zeros(n)
        self.forced_deadline = np.full(n, np.inf)
        self.forced_from = np.zeros(n)
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

    # ---------------------------------------------------------------- troops (levers, M7, M10)
    def set_troop_level(self):
        """Levers + M7/M10: the chosen posture, capped by any forced exit under way.

        A forced exit (an Iraqi exit demand, DB24-10, or collapsing will, RCD20-09) ramps troops
        linearly from their level at the trigger to zero at the deadline.
        """
        m = self.model
        self.chosen_troops = m.posture.chosen_troops(m.month, self.chosen_troops, m)
        np.minimum(self.chosen_troops, self.forced_exit_cap(), out=self.troops)

    def forced_exit_cap(self) -> np.ndarray:
        """Troop ceiling imposed by a forced exit in each run (inf where none)."""
        return self._exit_cap_kernel(self.forced_deadline, self.forced_start, self.forced_from,
                                     float(self.model.month))

    @kernel
    def _exit_cap_kernel(deadline, start, start_troops, t):  # pragma: no cover
        cap = np.empty(deadline.size)
        for i in range(cap.size):
            if np.isfinite(deadline[i]):
                span = max(deadline[i] - start[i], 1.0)
                cap[i] = start_troops[i] * clip((deadline[i] - t) / span, 0.0, 1.0)
            else:
                cap[i] = np.inf
        return cap

    def start_forced_exit(self, trigger: np.ndarray, months: np.ndarray):
        """Start (or hasten) a forced exit where ``trigger``, ending ``months`` from now."""
        self._start_exit_kernel(trigger, months, float(self.model.month), self.troops,
                                self.forced_exit_cap(), self.forced_from, self.forced_start,
                                self.forced_deadline)

    @kernel
    def _start_exit_kernel(trigger, months, t, troops, cap, start_troops, start,
                           deadline):  # pragma: no cover
        for i in range(trigger.size):
            new_deadline = t + months[i]
            if trigger[i] and new_deadline < deadline[i]:
                start_troops[i] = min(troops[i], cap[i])
                start[i] = t
                deadline[i] = new_deadline

    def _update_capacities(self):
        """M2/M4: direct CT capacity and Syria-operations capacity from troops in Iraq.

        Direct CT (intelligence, raids, air) scales with troops and with Baghdad's cooperation
        (POL20-06); over-the-horizon postures keep a share from outside. Syria operations need an
        Iraq hub (POL20-03: no Iraq, no Syria; POL20-09: Turkey is no substitute).
        """
        m, p = self.model, self.model.p
        share_powered = m.troop_share_power(self.troops, 1.0, p.us_ct_exponent)
        self._capacity_kernel(self.ct_capacity, self.syria_capacity, share_powered,
                              self.troops, float(m.posture.advise_factor), m.gov.cooperation,
                              bool(m.posture.outside_ct), p.us_over_the_horizon_fraction,
                              bool(m.posture.syria_basing), p.us_syria_basing_troops,
                              p.us_syria_raid_capacity)

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
        u_escalation, u_deaths = self.stream.random(out=self.draws)

        doctrine = m.retaliation
        commander = m.events.strike_iranian_commander[t] > 0
        self._strike_kernel(
            self.strike_proportional, self.strike_leadership, self.strike_iran, self.deterrence,
            attacks, militia_deaths, self.troops, p.us_retaliation_attack_threshold,
            doctrine is Retaliation.PROPORTIONAL, doctrine is Retaliation.LEADERSHIP,
            doctrine is Retaliation.IRAN_DIRECT,
            bool(m.events.strike_militia_leader[t] > 0 or commander), p.us_deterrence_decay,
            p.us_deterrence_gain_proportional, p.us_deterrence_gain_leadership,
            p.us_deterrence_gain_iran_direct)

        if self.strike_leadership.any():
            target = m.most_active_group()
            for i, group in enumerate(m.militias):
                group.decapitate(self.strike_leadership & (target == i), p.militia_decapitation_loss)
            m.iran.revenge[self.strike_leadership] = 1.0
        if self.strike_proportional.any():
            for group in m.militias:
                group.decapitate(self.strike_proportional, p.militia_proportional_loss)

        if self._escalation_kernel(self.escalated, self.fatalities, self.strike_leadership,
                                   self.strike_iran, bool(commander), u_escalation, militia_deaths,
                                   self.troops, p.iran_escalation_prob_leadership,
                                   p.iran_escalation_prob_iran_direct,
                                   p.iran_escalation_prob_commander):
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
            trigger = (militia_deaths[i] > 0 or attacks[i] >= threshold[i]) and troops[i] > 0
            proportional[i] = trigger and doctrine_proportional
            leadership[i] = (trigger and doctrine_leadership) or scheduled_leadership
            iran[i] = trigger and doctrine_iran
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
            any_hit |= escalated[i] and troops[i] > 0
        return any_hit

    # ---------------------------------------------------------------- domestic will (M10)
    def update_will(self):
        """M10: will erodes with US deaths and a passive partner; low will forces an exit.

        Evidence: RCD20-09 (a war-weary US needs Baghdad to act), RCD20-03 (passivity).
        """
        m, p = self.model, self.model.p
        collapse = np.empty(m.n_runs, dtype=bool)
        if self._will_kernel(self.will, collapse, m.militia_attacks_total(), m.gov.militia_control,
                             m.gov.cooperation, self.fatalities, self.will_collapsed, self.troops,
                             p.us_will_recovery, p.init_us_will, p.us_will_loss_per_fatality,
                             p.us_will_loss_passive_partner, p.us_will_threshold):
            self.will_collapsed |= collapse
            self.start_forced_exit(collapse, p.us_forced_exit_months)

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
            collapse[i] = will[i] < threshold[i] and not collapsed[i] and troops[i] > 0
            any_collapse |= collapse[i]
        return any_collapse


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
        self._training_kernel(self.isf_capability, self.isf_ct, m.us.troops, p.us_reference_troops,
                              float(m.posture.advise_factor), self.cooperation, float(m.aid),
                              p.isf_cooperation_share, p.isf_aid_support_weight,
                              p.isf_training_gain, p.isf_max_capability,
                              p.isf_decay_without_support, p.isf_enabler_dependence)

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
            self.withdrawal_pressure, self.threat_salience, m.isis.fighters_iraq,
            m.militia_coercion(), m.iran.influence, float(m.aid), us.strike_proportional,
            us.strike_leadership, us.strike_iran, us.escalated, p.iraq_threat_salience_half,
            p.militia_coercion_weight, p.iraq_pressure_base, p.iraq_pressure_iran_weight,
            p.iraq_pressure_coercion_weight, p.iraq_pressure_threat_weight,
            p.iraq_pressure_aid_weight, p.iraq_pressure_opposition,
            p.iraq_pressure_jump_proportional, p.iraq_pressure_jump_leadership,
            p.iraq_pressure_jump_iran_direct, p.iraq_pressure_jump_escalation,
            p.iraq_pressure_relax)

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
        # chances are 1 - exp(-hazard); expm1 stays in numpy (its SIMD bits, see sim.kernels)
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


class ISIS(Agent):
    """ISIS in Iraq and its Syrian reservoir (M2, M3, M4)."""

    def __init__(self, model):
        super().__init__(model)
        p, n = model.p, model.n_runs
        self.stream = model.streams["isis"]
        self.draws = np.empty((2, n))  # this month's normals, refilled in place
        self.fighters_iraq = per_run(p.init_isis_iraq, n)
        self.fighters_syria = per_run(p.init_isis_syria, n)
        self.ct_pressure = np.zeros(n)
        self.inflow = np.zeros(n)
        self.attack_tempo = p.isis_attacks_per_fighter * self.fighters_iraq

    def step(self):
        """ISIS's month: feel CT pressure, cross from Syria, grow or shrink."""
        z = standard_normals(self.stream, self.draws)
        self.counter_terrorism_pressure()
        self.cross_from_syria()
        self.grow_in_iraq(z[0])
        self.grow_in_syria(z[1])

    def counter_terrorism_pressure(self):
        """M2: CT pressure = ISF CT + US direct CT + PMF fighting, in 0..1.

        Evidence: POL20-01 and DB24-14 (US training, intelligence and enablers), WP20-01 (PMFs
        helped defeat ISIS). Syria raids act on the reservoir (``grow_in_syria``).
        """
        m, p = self.model, self.model.p
        self._pressure_kernel(self.ct_pressure, m.gov.isf_ct, m.us.ct_capacity,
                              m.militia_strength_mean(), p.isis_pressure_isf_weight,
                              p.isis_pressure_us_weight, p.militia_pmf_ct_weight)

    @kernel
    def _pressure_kernel(pressure, isf_ct, us_ct, militia, isf_weight, us_weight,
                         pmf_weight):  # pragma: no cover
        for i in range(pressure.size):
            pmf = pmf_weight[i] * min(militia[i], 1.0)
            pressure[i] = clip(isf_weight[i] * isf_ct[i] + us_weight[i] * us_ct[i] + pmf, 0.0, 1.0)

    def cross_from_syria(self):
        """M4: fighters cross from the Syria reservoir; ISF capability stops some at the border.

        Evidence: POL20-05 (foothold of fighters from Syria), FP23-06 (cells entering from Syria).
        """
        m, p = self.model, self.model.p
        self._crossing_kernel(self.inflow, self.fighters_syria, m.gov.isf_ct,
                              float(m.events.syria[m.month]), p.isis_crossing_rate,
                              p.isis_border_effect)

    @kernel
    def _crossing_kernel(inflow, syria, isf_ct, syria_event, crossing_rate,
                         border_effect):  # pragma: no cover
        for i in range(inflow.size):
            rate = crossing_rate[i] * (1 + syria_event)
            inflow[i] = rate * syria[i] * (1 - border_effect[i] * isf_ct[i])

    def grow_in_iraq(self, z: np.ndarray):
        """M3: recruitment minus CT attrition, with a fast resurgence below a pressure threshold.

        Recruitment feeds on grievance (low legitimacy, RCD20-01). When CT pressure falls below
        ``isis.resurgence_pressure`` growth speeds up sharply, as after 2011 (DB24-13, POL20-07).
        """
        m, p = self.model, self.model.p
        # tipping = 1 / (1 + exp(-gap)); exp stays in numpy (its SIMD bits, see sim.kernels)
        e = self._minus_gap_kernel(self.ct_pressure, p.isis_resurgence_pressure,
                                   p.isis_resurgence_width)
        np.exp(e, out=e)
        rate = self._iraq_rate_kernel(e, m.gov.legitimacy, self.fighters_iraq, self.ct_pressure, z,
                                      p.isis_growth_rate, p.isis_grievance_weight,
                                      p.isis_resurgence_boost, p.isis_carrying_capacity,
                                      p.isis_attrition_rate, p.isis_noise)
        np.exp(rate, out=rate)
        self._grow_kernel(self.fighters_iraq, rate, self.inflow, 1.0, p.isis_carrying_capacity,
                          p.isis_floor)
        np.multiply(p.isis_attacks_per_fighter, self.fighters_iraq, out=self.attack_tempo)

    @kernel
    def _minus_gap_kernel(pressure, threshold, width):  # pragma: no cover
        """Minus how far CT pressure is below the resurgence threshold, in widths (capped at 50)."""
        out = np.empty(pressure.size)
        for i in range(out.size):
            out[i] = -clip((threshold[i] - pressure[i]) / width[i], -50.0, 50.0)
        return out

    @kernel
    def _iraq_rate_kernel(exp_minus_gap, legitimacy, fighters, pressure, z, growth_rate,
                          grievance_weight, boost, capacity, attrition, noise):  # pragma: no cover
        """Monthly log growth of ISIS in Iraq (M3)."""
        rate = np.empty(fighters.size)
        for i in range(rate.size):
            tipping = 1.0 / (1.0 + exp_minus_gap[i])
            growth = (growth_rate[i] * (1 + grievance_weight[i] * (1 - legitimacy[i]))
                      * (1 + boost[i] * tipping))
            rate[i] = (growth * (1 - fighters[i] / capacity[i]) - attrition[i] * pressure[i]
                       + noise[i] * z[i] - 0.5 * (noise[i] * noise[i]))
        return rate

    @kernel
    def _grow_kernel(fighters, factor, flow, sign, capacity, floor):  # pragma: no cover
        """Fighters times their growth factor, plus (``sign`` 1) or minus (-1) the crossing flow."""
        for i in range(fighters.size):
            f = fighters[i] * factor[i] + sign * flow[i]
            fighters[i] = max(min(f, capacity[i]), floor[i])

    def grow_in_syria(self, z: np.ndarray):
        """M4: the Syria reservoir grows unless US raids from the Iraq hub attrit it.

        Evidence: POL20-03 (Syria operations depend on Iraq), FP23-05 (raids in Syria),
        FP23-06 (the group spread from Syria in 2014).
        """
        m, p = self.model, self.model.p
        rate = self._syria_rate_kernel(self.fighters_syria, m.us.syria_capacity, z,
                                       float(m.events.syria[m.month]), p.isis_syria_growth_rate,
                                       p.isis_syria_carrying_capacity,
                                       p.isis_syria_attrition_rate, p.isis_noise)
        np.exp(rate, out=rate)
        self._grow_kernel(self.fighters_syria, rate, self.inflow, -1.0,
                          p.isis_syria_carrying_capacity, p.isis_floor)

    @kernel
    def _syria_rate_kernel(fighters, raids, z, syria_event, growth_rate, capacity, attrition,
                           noise):  # pragma: no cover
        """Monthly log growth of the Syria reservoir (M4)."""
        rate = np.empty(fighters.size)
        for i in range(rate.size):
            growth = growth_rate[i] * (1 + syria_event)
            rate[i] = (growth * (1 - fighters[i] / capacity[i]) - attrition[i] * raids[i]
                       + noise[i] * z[i] - 0.5 * (noise[i] * noise[i]))
        return rate
