"""An Iran-backed militia group: runs a campaign, attacks US forces, coerces MPs, answers strikes (M5, M6, M11, M13)."""

from __future__ import annotations

import numpy as np
from mesa.agent import Agent

from sim.model.kernels import clip, kernel, poisson_from_uniform
from sim.model.parameters import per_run


class Militia(Agent):
    """One Iran-backed militia group: runs a campaign against US forces, coerces MPs (M5, M11, M13).

    Its ``campaign`` is the tempo it attacks at, in the units of Iran's direction (0 = no
    attacks, 1 = Iran's full push). It follows Iran's direction with momentum, is halted for a
    while by restraint (``restraint``, Iran reining it in) and hardened by defiance.
    """

    def __init__(self, model, name: str, share: float):
        super().__init__(model)
        n = model.n_runs
        self.name = name
        self.share = share
        self.stream = model.streams[f"militia:{name}"]
        self.draws = np.empty((2, n))  # this month's uniforms, refilled in place
        self.strength = np.ones(n)
        self.cohesion = np.ones(n)
        self.campaign = per_run(model.p.init_iran_direction, n)
        self.momentum = np.zeros(n)
        self.restraint = np.zeros(n)
        self.restrained = np.zeros(n, dtype=bool)  # answered this month's strike with restraint
        self.attacks = np.zeros(n)
        self.fatalities = np.zeros(n)

    def step(self):
        """The group's month: recover cohesion, build strength, wage the campaign, attack."""
        self.recover_cohesion()
        self.build_strength()
        self.wage_campaign()
        self.attack_us_forces()

    def wage_campaign(self):
        """M13: the campaign follows Iran's direction with momentum, held back by restraint.

        The tempo Iran's direction sets (WP20-04: an escalating campaign with Iran's approval),
        less what a restraint order still holds back, pulls the campaign; a share of last
        month's change carries on (momentum), so a campaign escalates month by month and can
        overshoot, up to ``militia.campaign_max``. A restraint order fades month by month
        (``militia.restraint_memory``): the length of a pause is not scheduled, it emerges.
        """
        p = self.model.p
        self._campaign_kernel(campaign=self.campaign, momentum=self.momentum,
                              restraint=self.restraint, direction=self.model.iran.direction,
                              carry=p.militia_campaign_momentum, pull=p.militia_campaign_pull,
                              ceiling=p.militia_campaign_max, memory=p.militia_restraint_memory)

    @kernel
    def _campaign_kernel(campaign, momentum, restraint, direction, carry, pull, ceiling,
                         memory):  # pragma: no cover
        for i in range(campaign.size):
            target = direction[i] * (1 - restraint[i])
            v = carry[i] * momentum[i] + pull[i] * (target - campaign[i])
            c = clip(campaign[i] + v, 0.0, ceiling[i])
            momentum[i] = c - campaign[i]
            campaign[i] = c
            restraint[i] *= memory[i]

    def answer_strike(self, struck: np.ndarray, strong: np.ndarray, u: np.ndarray):
        """M13: answer a US strike with restraint or defiance (DB24-04 against DB24-05).

        Restraint — Iran reins the group in — is likelier after a strong strike (a leader
        killed, or Iran itself hit: ``strong``), the more Iran fears war (US deterrence,
        DB24-04) and the harder sanctions bite (WP20-07, RCD20-08). It halts most of the
        campaign at once. Otherwise the group reads the strike as impunity and hardens
        (DB24-05): its campaign gets a push. ``u`` is the group's uniform this month, one per
        run (``DrawdownModel.response_uniforms``).
        """
        m, p = self.model, self.model.p
        self._response_kernel(
            restrained=self.restrained, campaign=self.campaign, momentum=self.momentum,
            restraint=self.restraint, struck=struck, strong=strong, u=u,
            deterrence=m.us.deterrence, sanctions=m.iran.sanctions, base=p.militia_restraint_base,
            strike_weight=p.militia_restraint_strike_weight,
            fear_weight=p.militia_restraint_fear_weight,
            economy_weight=p.militia_restraint_economy_weight, depth=p.militia_restraint_depth,
            boost=p.militia_defiance_boost)

    @kernel
    def _response_kernel(restrained, campaign, momentum, restraint, struck, strong, u,
                         deterrence, sanctions, base, strike_weight, fear_weight, economy_weight,
                         depth, boost):  # pragma: no cover
        for i in range(campaign.size):
            restrained[i] = False
            if not struck[i]:
                continue
            chance = (base[i] + strike_weight[i] * strong[i] + fear_weight[i] * deterrence[i]
                      + economy_weight[i] * sanctions[i])
            if u[i] < chance:
                restrained[i] = True
                restraint[i] = max(restraint[i], depth[i])
                campaign[i] *= 1 - depth[i]
                momentum[i] = 0.0
            else:
                momentum[i] += boost[i]

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

        The monthly rate is the group's share of the base rate, times its campaign (M13: Iran's
        direction with momentum, restraint and defiance, WP20-04),
        the regional-war multiplier (DB24-01), exposure of US troops present, the group's cohesion
        and strength, minus deterrence (DB24-04) and minus what a controlling, cooperating
        government prevents (RCD20-03, DB24-18). Deaths per attack follow RCD20-02.
        """
        m, p = self.model, self.model.p
        rate = self._attack_rate_kernel(
            base=p.militia_base_attack_rate, share=self.share, campaign=self.campaign,
            war_gain=p.militia_war_attack_gain, war=float(m.events.war[m.month]),
            exposure=m.militia_exposure(), cohesion=self.cohesion, strength=self.strength,
            deterrence=m.us.deterrence, control_effect=p.militia_control_effect,
            control=m.gov.militia_control, cooperation=m.gov.cooperation)
        u = self.stream.uniforms(self.draws)
        poisson_from_uniform(u[0], rate, out=self.attacks)
        poisson_from_uniform(u[1], self.attacks * p.militia_lethality, out=self.fatalities)

    @kernel
    def _attack_rate_kernel(base, share, campaign, war_gain, war, exposure, cohesion, strength,
                            deterrence, control_effect, control, cooperation):  # pragma: no cover
        rate = np.empty(campaign.size)
        for i in range(rate.size):
            rate[i] = (base[i] * share * campaign[i] * (1 + war_gain[i] * war)
                       * exposure[i] * cohesion[i] * strength[i]
                       * (1 - deterrence[i])
                       * (1 - control_effect[i] * control[i] * cooperation[i]))
        return rate

    def decapitate(self, hit: np.ndarray, loss: np.ndarray):
        """M6/M13: a strike on the group's leadership cuts its cohesion where ``hit`` (RCD20-08,
        WP20-10: the campaign lost its leader); cohesion recovers over months (``recover_cohesion``)."""
        self._decapitate_kernel(self.cohesion, hit, loss)

    @kernel
    def _decapitate_kernel(cohesion, hit, loss):  # pragma: no cover
        for i in range(cohesion.size):  # a select, not a branch: LLVM vectorises the loop
            c = cohesion[i]
            cohesion[i] = c - loss[i] * c if hit[i] else c
