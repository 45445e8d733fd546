"""Iran: directs its proxies, fears ISIS and war, fills vacuums (M9). Its phase comes first."""

from __future__ import annotations

import numpy as np
from mesa.agent import Agent

from sim.model.kernels import clip, kernel, relax
from sim.model.parameters import per_run


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
            direction=self.direction, revenge=self.revenge, troops=m.us.troops,
            war=float(m.events.war[m.month]), threat=self.isis_threat, deterrence=m.us.deterrence,
            sanctions=self.sanctions, revenge_memory=p.iran_revenge_memory,
            base=p.iran_direction_base, presence_weight=p.iran_presence_weight,
            war_weight=p.iran_war_weight, revenge_weight=p.iran_revenge_weight,
            isis_fear_weight=p.iran_isis_fear_weight, war_fear_weight=p.iran_war_fear_weight,
            sanctions_weight=p.iran_sanctions_weight, rate=p.iran_direction_relax)

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
        self._vacuum_kernel(
            influence=self.influence, troops=m.us.troops, reference=p.us_reference_troops,
            militia=m.militia_strength_mean(), direction=self.direction, aid=float(m.aid),
            base=p.iran_influence_base, vacuum_weight=p.iran_vacuum_weight,
            proxy_weight=p.iran_proxy_influence_weight, aid_weight=p.iran_aid_influence_weight,
            rate=p.iran_influence_relax)

    @kernel
    def _vacuum_kernel(influence, troops, reference, militia, direction, aid, base,
                       vacuum_weight, proxy_weight, aid_weight, rate):  # pragma: no cover
        for i in range(influence.size):
            presence = min(troops[i] / reference[i], 1.0)
            target = (base[i] + vacuum_weight[i] * (1 - presence)
                      + proxy_weight[i] * direction[i] * militia[i] - aid_weight[i] * aid)
            influence[i] = relax(influence[i], clip(target, 0.0, 1.0), rate[i])
