"""The five actors. Each holds its state as numpy arrays over the replicas of a block.

Month phases (DESIGN §4): exogenous events → Iran → militias → United States → Iraqi
government → ISIS → bookkeeping. Each mechanism M1..M12 lives in one method named for what it
does; its docstring names the mechanism and the evidence (claim ids in ``seeds/claims.yaml``).

Every random draw is made unconditionally, with a fixed shape, from the actor's own stream, so
two scenarios that differ in one lever keep their random numbers aligned (common random
numbers).
"""

from __future__ import annotations

import numpy as np
from mesa import Agent

from .levers import Retaliation


def _relax(x: np.ndarray, target: np.ndarray, rate: np.ndarray) -> None:
    """Move ``x`` towards ``target`` by ``rate`` of the gap, in place, and keep it in 0..1."""
    x += rate * (target - x)
    np.clip(x, 0.0, 1.0, out=x)


def _hazard(rate_times_excess: np.ndarray) -> np.ndarray:
    """Monthly probability of an event with the given hazard (1 - exp(-h))."""
    return -np.expm1(-np.maximum(rate_times_excess, 0.0))


#: Rate above which a Poisson count is drawn by its normal approximation (error far below the
#: model's uncertainty; keeps the inversion loop short).
POISSON_NORMAL_ABOVE = 30.0


def poisson_from_uniform(u: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """Poisson counts with means ``lam``, by inverting the CDF at the uniforms ``u``.

    ``Generator.poisson`` consumes a varying amount of randomness depending on the rate, so a
    change of rate in one replica would shift every later draw of the block and break common
    random numbers. Inversion uses exactly one uniform per count: the count is monotone in the
    rate for a given uniform, so scenarios compare run by run.
    """
    lam = np.maximum(lam, 0.0)
    big = lam > POISSON_NORMAL_ABOVE
    term = np.exp(-np.where(big, 0.0, lam))
    cdf = term.copy()  # 1 where big: those never search
    more = u > cdf
    k = more.astype(np.float64)
    # Search every replica in step while many still search. The CDF only grows, so counting the
    # terms after which u is still above it gives each replica's first crossing. (Performance:
    # same operations per replica in the same order as a replica-by-replica search, so the same
    # counts bit for bit; a term that underflows to 0 ends a search that could never end.)
    j, step = 0.0, np.empty_like(lam)
    few = max(lam.size // 8, 32)
    searching = np.count_nonzero(more)
    while searching > few:
        j += 1.0
        np.divide(lam, j, out=step)
        term *= step
        cdf += term
        np.greater(u, cdf, out=more)
        more &= term > 0.0
        k += more
        searching = np.count_nonzero(more)
    if searching:  # the long tail: only the replicas still searching
        idx = np.flatnonzero(more)
        t, c, uu, ll = term[idx], cdf[idx], u[idx], lam[idx]
        while idx.size:
            j += 1.0
            t *= ll / j
            c += t
            still = (uu > c) & (t > 0.0)
            idx, t, c, uu, ll = idx[still], t[still], c[still], uu[still], ll[still]
            k[idx] += 1.0
    if big.any():
        from scipy.special import ndtri
        approx = np.floor(lam + np.sqrt(lam) * ndtri(np.clip(u, 1e-12, 1 - 1e-12)) + 0.5)
        k = np.where(big, np.maximum(approx, 0.0), k)
    return k


class Iran(Agent):
    """Iran: directs its proxies, fears ISIS and war, fills vacuums (M9)."""

    def __init__(self, model):
        super().__init__(model)
        p, n = model.p, model.n_runs
        self.stream = model.streams["iran"]
        self.direction = p.init_iran_direction.copy()
        self.influence = p.init_iran_influence.copy()
        self.isis_threat = np.zeros(n)
        self.sanctions = p.iran_sanctions_base.copy()
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
        fighters = m.isis.fighters_iraq + m.isis.fighters_syria
        strength = fighters / (fighters + p.iran_isis_threat_half)
        self.isis_threat *= p.iran_threat_memory
        self.isis_threat += (1 - p.iran_threat_memory) * strength + m.events.isis_attack_iran[m.month]
        np.clip(self.isis_threat, 0.0, 1.0, out=self.isis_threat)

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
        present = (m.us.troops > 0).astype(np.float64)
        self.revenge *= p.iran_revenge_memory
        target = (p.iran_direction_base + p.iran_presence_weight * present
                  + p.iran_war_weight * m.events.war[m.month] + p.iran_revenge_weight * self.revenge
                  - p.iran_isis_fear_weight * self.isis_threat
                  - p.iran_war_fear_weight * m.us.deterrence
                  - p.iran_sanctions_weight * self.sanctions)
        _relax(self.direction, np.clip(target, 0.0, 1.0), p.iran_direction_relax)

    def fill_vacuum(self):
        """M9: Iran's influence grows where the US leaves and with its proxies' strength.

        Evidence: POL20-04 (Iran fills the void the US cedes), WP20-05 (expulsion strengthens the
        PMFs). US aid and engagement hold it back (FP23-07).
        """
        m, p = self.model, self.model.p
        presence = np.minimum(m.us.troops / p.us_reference_troops, 1.0)
        militia = m.militia_strength_mean()
        target = (p.iran_influence_base + p.iran_vacuum_weight * (1 - presence)
                  + p.iran_proxy_influence_weight * self.direction * militia
                  - p.iran_aid_influence_weight * m.aid)
        _relax(self.influence, np.clip(target, 0.0, 1.0), p.iran_influence_relax)


class Militia(Agent):
    """One Iran-backed militia group: attacks US forces, coerces MPs (M5, M11)."""

    def __init__(self, model, name: str, share: float):
        super().__init__(model)
        n = model.n_runs
        self.name = name
        self.share = share
        self.stream = model.streams[f"militia:{name}"]
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
        p = self.model.p
        self.cohesion += p.militia_cohesion_recovery * (1 - self.cohesion)

    def build_strength(self):
        """M11: strength follows Iranian direction and influence (WP20-05); 1 = early 2024."""
        m, p = self.model, self.model.p
        target = m.iran.direction + m.iran.influence
        self.strength += p.militia_strength_growth * (target - self.strength)
        np.clip(self.strength, 0.0, 3.0, out=self.strength)

    def attack_us_forces(self):
        """M5/M11: attacks on US forces, and the US deaths they cause.

        The monthly rate is the group's share of the base rate, times Iran's direction (WP20-04),
        the regional-war multiplier (DB24-01), exposure of US troops present, the group's cohesion
        and strength, minus deterrence (DB24-04) and minus what a controlling, cooperating
        government prevents (RCD20-03, DB24-18). Deaths per attack follow RCD20-02.
        """
        m, p = self.model, self.model.p
        share = np.minimum(m.us.troops / p.us_reference_troops, 4.0)
        exposure = share ** p.militia_exposure_exponent * m.posture.exposure_factor
        rate = (p.militia_base_attack_rate * self.share * m.iran.direction
                * (1 + p.militia_war_attack_gain * m.events.war[m.month])
                * exposure * self.cohesion * self.strength
                * (1 - m.us.deterrence)
                * (1 - p.militia_control_effect * m.gov.militia_control * m.gov.cooperation))
        u = self.stream.random((2, m.n_runs))
        self.attacks[:] = poisson_from_uniform(u[0], rate)
        self.fatalities[:] = poisson_from_uniform(u[1], self.attacks * p.militia_lethality)

    def decapitate(self, hit: np.ndarray, loss: np.ndarray):
        """M6: a strike on the group's leadership cuts its cohesion where ``hit`` (RCD20-08)."""
        self.cohesion -= np.where(hit, loss * self.cohesion, 0.0)


class UnitedStates(Agent):
    """The United States: troops, CT capacity, deterrence, retaliation, domestic will."""

    def __init__(self, model):
        super().__init__(model)
        p, n = model.p, model.n_runs
        self.stream = model.streams["us"]
        self.chosen_troops = np.full(n, float(model.posture.initial_troops()))
        self.troops = self.chosen_troops.copy()
        self.ct_capacity = np.zeros(n)
        self.syria_capacity = np.zeros(n)
        self.deterrence = np.zeros(n)
        self.will = p.init_us_will.copy()
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
        active = np.isfinite(self.forced_deadline)
        if not active.any():
            return np.full(self.model.n_runs, np.inf)
        t = self.model.month
        deadline = np.where(active, self.forced_deadline, 0.0)
        span = np.maximum(deadline - self.forced_start, 1.0)
        frac = np.clip((deadline - t) / span, 0.0, 1.0)
        return np.where(active, self.forced_from * frac, np.inf)

    def start_forced_exit(self, trigger: np.ndarray, months: np.ndarray):
        """Start (or hasten) a forced exit where ``trigger``, ending ``months`` from now."""
        t = self.model.month
        deadline = t + months
        sooner = trigger & (deadline < self.forced_deadline)
        cap = np.minimum(self.troops, self.forced_exit_cap())
        self.forced_from = np.where(sooner, cap, self.forced_from)
        self.forced_start = np.where(sooner, t, self.forced_start)
        self.forced_deadline = np.where(sooner, deadline, self.forced_deadline)

    def _update_capacities(self):
        """M2/M4: direct CT capacity and Syria-operations capacity from troops in Iraq.

        Direct CT (intelligence, raids, air) scales with troops and with Baghdad's cooperation
        (POL20-06); over-the-horizon postures keep a share from outside. Syria operations need an
        Iraq hub (POL20-03: no Iraq, no Syria; POL20-09: Turkey is no substitute).
        """
        m, p = self.model, self.model.p
        share = np.minimum(self.troops / p.us_reference_troops, 1.0)
        ct = share ** p.us_ct_exponent * m.posture.advise_factor * m.gov.cooperation
        if m.posture.outside_ct:
            ct = np.maximum(ct, p.us_over_the_horizon_fraction)
        self.ct_capacity[:] = ct
        hub = np.minimum(self.troops / p.us_syria_basing_troops, 1.0)
        if m.posture.syria_basing:
            hub = np.where(self.troops > 0, 1.0, hub)
        self.syria_capacity[:] = p.us_syria_raid_capacity * hub

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
        u_escalation = self.stream.random(m.n_runs)
        u_deaths = poisson_from_uniform(self.stream.random(m.n_runs), p.iran_escalation_lethality)

        present = self.troops > 0
        trigger = ((militia_deaths > 0) | (attacks >= p.us_retaliation_attack_threshold)) & present
        doctrine = m.retaliation
        self.strike_proportional[:] = trigger if doctrine is Retaliation.PROPORTIONAL else False
        self.strike_leadership[:] = trigger if doctrine is Retaliation.LEADERSHIP else False
        self.strike_iran[:] = trigger if doctrine is Retaliation.IRAN_DIRECT else False
        commander = m.events.strike_iranian_commander[t] > 0
        if m.events.strike_militia_leader[t] > 0 or commander:
            self.strike_leadership[:] = True

        self.deterrence *= 1 - p.us_deterrence_decay
        gain = (p.us_deterrence_gain_proportional * self.strike_proportional
                + p.us_deterrence_gain_leadership * self.strike_leadership
                + p.us_deterrence_gain_iran_direct * self.strike_iran)
        self.deterrence += np.minimum(gain, 1.0) * (1 - self.deterrence)

        if self.strike_leadership.any():
            target = m.most_active_group()
            for i, group in enumerate(m.militias):
                group.decapitate(self.strike_leadership & (target == i), p.militia_decapitation_loss)
            m.iran.revenge[self.strike_leadership] = 1.0
        if self.strike_proportional.any():
            for group in m.militias:
                group.decapitate(self.strike_proportional, p.militia_proportional_loss)

        p_escalate = (p.iran_escalation_prob_leadership * self.strike_leadership
                      + p.iran_escalation_prob_iran_direct * self.strike_iran)
        if commander:
            p_escalate = np.maximum(p_escalate, p.iran_escalation_prob_commander)
        self.escalated[:] = u_escalation < p_escalate
        self.fatalities[:] = militia_deaths + np.where(self.escalated & present, u_deaths, 0)

    # ---------------------------------------------------------------- domestic will (M10)
    def update_will(self):
        """M10: will erodes with US deaths and a passive partner; low will forces an exit.

        Evidence: RCD20-09 (a war-weary US needs Baghdad to act), RCD20-03 (passivity).
        """
        m, p = self.model, self.model.p
        attacked = m.militia_attacks_total() > 0
        passivity = attacked * (1 - m.gov.militia_control * m.gov.cooperation)
        self.will += (p.us_will_recovery * (p.init_us_will - self.will)
                      - p.us_will_loss_per_fatality * self.fatalities
                      - p.us_will_loss_passive_partner * passivity)
        np.clip(self.will, 0.0, 1.0, out=self.will)
        collapse = (self.will < p.us_will_threshold) & ~self.will_collapsed & (self.troops > 0)
        if collapse.any():
            self.will_collapsed |= collapse
            self.start_forced_exit(collapse, p.us_forced_exit_months)


class IraqiGovernment(Agent):
    """The Iraqi government and its security forces (M1, M7, M8, M11)."""

    def __init__(self, model):
        super().__init__(model)
        p, n = model.p, model.n_runs
        self.stream = model.streams["iraq"]
        self.isf_capability = p.init_isf_capability.copy()
        self.isf_ct = self.isf_capability.copy()  # recomputed by training before ISIS reads it
        self.withdrawal_pressure = p.init_withdrawal_pressure.copy()
        self.cooperation = p.init_cooperation.copy()
        self.militia_control = p.init_militia_control.copy()
        self.legitimacy = p.init_legitimacy.copy()
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
        share = np.minimum(m.us.troops / p.us_reference_troops, 1.0)
        support = share * m.posture.advise_factor * (1 - p.isf_cooperation_share * (1 - self.cooperation))
        support = np.maximum(support, p.isf_aid_support_weight * m.aid)
        self.isf_capability += (p.isf_training_gain * support * (p.isf_max_capability - self.isf_capability)
                                - p.isf_decay_without_support * (1 - support) * self.isf_capability)
        np.clip(self.isf_capability, 0.0, 1.0, out=self.isf_capability)
        self.isf_ct[:] = self.isf_capability * (1 - p.isf_enabler_dependence * (1 - support))

    def update_legitimacy(self):
        """M11: protests and crackdowns cost legitimacy; it recovers slowly (RCD20-01)."""
        m, p = self.model, self.model.p
        self.legitimacy += (p.iraq_legitimacy_recovery * (p.init_legitimacy - self.legitimacy)
                            - m.events.legitimacy_shock[m.month])
        np.clip(self.legitimacy, 0.0, 1.0, out=self.legitimacy)

    def update_militia_control(self):
        """M11: control over the militias rises with legitimacy, falls with Iran's influence.

        Evidence: WP20-01 (the government has failed to control the PMFs), WP20-02 (protests
        against Iran could have strengthened its hand).
        """
        m, p = self.model, self.model.p
        target = (p.iraq_control_legitimacy_weight * self.legitimacy
                  * (1 - p.iraq_control_iran_weight * m.iran.influence))
        _relax(self.militia_control, target, p.iraq_control_relax)

    def update_withdrawal_pressure(self):
        """M7: pressure to expel US forces.

        The structural level rises with Iranian influence (DB24-02) and militia coercion of MPs
        (FP23-02), and falls while ISIS is salient (DB24-11: "justifications have ended" when it
        is not), with US aid and trade (FP23-07) and with Kurdish and Sunni opposition (WP20-05).
        US strikes on Iraqi soil (POL20-02, DB24-07, RCD20-04) and a US-Iran exchange on Iraqi
        soil (FP23-01) add jumps.
        """
        m, p = self.model, self.model.p
        self.threat_salience[:] = m.isis.fighters_iraq / (m.isis.fighters_iraq + p.iraq_threat_salience_half)
        coercion = np.minimum(p.militia_coercion_weight * m.militia_coercion(), 1.0)
        target = (p.iraq_pressure_base + p.iraq_pressure_iran_weight * m.iran.influence
                  + p.iraq_pressure_coercion_weight * coercion
                  - p.iraq_pressure_threat_weight * self.threat_salience
                  - p.iraq_pressure_aid_weight * m.aid - p.iraq_pressure_opposition)
        us = m.us
        jumps = (p.iraq_pressure_jump_proportional * us.strike_proportional
                 + p.iraq_pressure_jump_leadership * us.strike_leadership
                 + p.iraq_pressure_jump_iran_direct * us.strike_iran
                 + p.iraq_pressure_jump_escalation * us.escalated)
        self.withdrawal_pressure += p.iraq_pressure_relax * (np.clip(target, 0, 1) - self.withdrawal_pressure) + jumps
        np.clip(self.withdrawal_pressure, 0.0, 1.0, out=self.withdrawal_pressure)

    def update_cooperation(self):
        """M8: the common enemy binds Baghdad to the US; tension pulls them apart (POL20-06, POL20-08)."""
        p = self.model.p
        target = (p.iraq_cooperation_base + p.iraq_cooperation_threat_weight * self.threat_salience
                  - p.iraq_cooperation_pressure_weight * self.withdrawal_pressure)
        _relax(self.cooperation, np.clip(target, 0.0, 1.0), p.iraq_cooperation_relax)

    def decide_on_expulsion(self):
        """M7: past a threshold parliament votes; the government may then demand an exit.

        The vote comes quickly once pressure is high (FP23-01, RCD20-06); a formal demand is
        damped by the prime minister's private wish for US forces to stay (FP23-04) and made more
        likely by a vote. A demand starts a negotiated exit lasting ``iraq.negotiation_months``
        (DB24-10: committees and slow talks), which overrides the US posture.
        """
        m, p = self.model, self.model.p
        u_vote = self.stream.random(m.n_runs)
        u_demand = self.stream.random(m.n_runs)
        present = m.us.troops > 0
        excess = self.withdrawal_pressure - p.iraq_vote_threshold
        vote = ~self.voted & present & (u_vote < _hazard(p.iraq_vote_hazard * excess))
        self.voted |= vote
        excess = self.withdrawal_pressure - p.iraq_demand_threshold
        h = p.iraq_demand_hazard * excess * (1 - p.iraq_pm_private_preference) * (1 + self.voted)
        demand = ~self.exit_demanded & present & (u_demand < _hazard(h))
        if demand.any():
            self.exit_demanded |= demand
            m.us.start_forced_exit(demand, p.iraq_negotiation_months)


class ISIS(Agent):
    """ISIS in Iraq and its Syrian reservoir (M2, M3, M4)."""

    def __init__(self, model):
        super().__init__(model)
        p, n = model.p, model.n_runs
        self.stream = model.streams["isis"]
        self.fighters_iraq = p.init_isis_iraq.copy()
        self.fighters_syria = p.init_isis_syria.copy()
        self.ct_pressure = np.zeros(n)
        self.inflow = np.zeros(n)
        self.attack_tempo = p.isis_attacks_per_fighter * self.fighters_iraq

    def step(self):
        """ISIS's month: feel CT pressure, cross from Syria, grow or shrink."""
        z = self.stream.standard_normal((2, self.model.n_runs))
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
        pmf = p.militia_pmf_ct_weight * np.minimum(m.militia_strength_mean(), 1.0)
        pressure = (p.isis_pressure_isf_weight * m.gov.isf_ct
                    + p.isis_pressure_us_weight * m.us.ct_capacity + pmf)
        np.clip(pressure, 0.0, 1.0, out=self.ct_pressure)

    def cross_from_syria(self):
        """M4: fighters cross from the Syria reservoir; ISF capability stops some at the border.

        Evidence: POL20-05 (foothold of fighters from Syria), FP23-06 (cells entering from Syria).
        """
        m, p = self.model, self.model.p
        rate = p.isis_crossing_rate * (1 + m.events.syria[m.month])
        self.inflow[:] = rate * self.fighters_syria * (1 - p.isis_border_effect * m.gov.isf_ct)

    def grow_in_iraq(self, z: np.ndarray):
        """M3: recruitment minus CT attrition, with a fast resurgence below a pressure threshold.

        Recruitment feeds on grievance (low legitimacy, RCD20-01). When CT pressure falls below
        ``isis.resurgence_pressure`` growth speeds up sharply, as after 2011 (DB24-13, POL20-07).
        """
        m, p = self.model, self.model.p
        gap = (p.isis_resurgence_pressure - self.ct_pressure) / p.isis_resurgence_width
        tipping = 1.0 / (1.0 + np.exp(-np.clip(gap, -50, 50)))
        growth = (p.isis_growth_rate * (1 + p.isis_grievance_weight * (1 - m.gov.legitimacy))
                  * (1 + p.isis_resurgence_boost * tipping))
        rate = (growth * (1 - self.fighters_iraq / p.isis_carrying_capacity)
                - p.isis_attrition_rate * self.ct_pressure
                + p.isis_noise * z - 0.5 * p.isis_noise ** 2)
        self.fighters_iraq *= np.exp(rate)
        self.fighters_iraq += self.inflow
        np.minimum(self.fighters_iraq, p.isis_carrying_capacity, out=self.fighters_iraq)
        np.maximum(self.fighters_iraq, p.isis_floor, out=self.fighters_iraq)
        self.attack_tempo[:] = p.isis_attacks_per_fighter * self.fighters_iraq

    def grow_in_syria(self, z: np.ndarray):
        """M4: the Syria reservoir grows unless US raids from the Iraq hub attrit it.

        Evidence: POL20-03 (Syria operations depend on Iraq), FP23-05 (raids in Syria),
        FP23-06 (the group spread from Syria in 2014).
        """
        m, p = self.model, self.model.p
        growth = p.isis_syria_growth_rate * (1 + m.events.syria[m.month])
        rate = (growth * (1 - self.fighters_syria / p.isis_syria_carrying_capacity)
                - p.isis_syria_attrition_rate * m.us.syria_capacity
                + p.isis_noise * z - 0.5 * p.isis_noise ** 2)
        self.fighters_syria *= np.exp(rate)
        self.fighters_syria -= self.inflow
        np.minimum(self.fighters_syria, p.isis_syria_carrying_capacity, out=self.fighters_syria)
        np.maximum(self.fighters_syria, p.isis_floor, out=self.fighters_syria)
