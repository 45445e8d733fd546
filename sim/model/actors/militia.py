"""An Iran-backed militia group: attacks US forces, coerces MPs, loses cohesion to strikes (M5, M6, M11)."""

from __future__ import annotations

import numpy as np
from mesa import Agent

from sim.model.kernels import clip, kernel, poisson_from_uniform


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
        rate = self._attack_rate_kernel(
            base=p.militia_base_attack_rate, share=self.share, direction=m.iran.direction,
            war_gain=p.militia_war_attack_gain, war=float(m.events.war[m.month]),
            exposure=m.militia_exposure(), cohesion=self.cohesion, strength=self.strength,
            deterrence=m.us.deterrence, control_effect=p.militia_control_effect,
            control=m.gov.militia_control, cooperation=m.gov.cooperation)
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
