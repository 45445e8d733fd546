"""ISIS in Iraq and its Syrian reservoir (M2, M3, M4, M16). Its phase comes last in the month.

ISIS is four stocks and a tempo, per run:

* ``fighters_iraq`` and ``fighters_syria``: armed fighters on each side of the border (M3, M4);
* ``supporters``: part-time members and supporters in both countries; with the fighters they make
  the broad membership that counts such as the UN's count (DB24-16);
* ``territory``: the share of the Sunni-majority populated area of Iraq the group holds (0 in its
  insurgent phase, a large part at the 2014 height: POL20-07, FP23-06, DB24-09);
* ``attack_tempo``: attacks a month in Iraq. It follows the fighters with a lag, is suppressed by
  CT pressure and grows with territory (DB24-12).
"""

from __future__ import annotations

import numpy as np
from mesa.agent import Agent

from sim.model.kernels import clip, kernel
from sim.model.parameters import per_run


class ISIS(Agent):
    """ISIS in Iraq and its Syrian reservoir (M2, M3, M4, M16)."""

    def __init__(self, model):
        super().__init__(model)
        p, n = model.p, model.n_runs
        self.stream = model.streams["isis"]
        self.draws = np.empty((2, n))  # this month's normals, refilled in place
        self.fighters_iraq = per_run(p.init_isis_iraq, n)
        self.fighters_syria = per_run(p.init_isis_syria, n)
        self.territory = per_run(p.init_isis_territory, n)
        self.ct_pressure = np.zeros(n)
        self.inflow = np.zeros(n)
        self.supporters = np.zeros(n)  # set by ``settle`` once the other actors exist
        self.attack_tempo = np.zeros(n)

    def settle(self):
        """Month 0: CT pressure, supporters and tempo where their rules settle with the starting
        state (called once every actor exists, since they read the others)."""
        p = self.model.p
        self.counter_terrorism_pressure()
        self._supporters_kernel(self.supporters, self.fighters_iraq, self.fighters_syria,
                                self.model.gov.legitimacy, p.isis_support_ratio,
                                p.isis_grievance_weight, 1.0)
        self._tempo_kernel(self.attack_tempo, self.fighters_iraq, self.ct_pressure,
                           self.territory, p.isis_attacks_per_fighter, p.isis_tempo_suppression,
                           p.isis_territorial_tempo, 1.0)

    def step(self):
        """ISIS's month: feel CT pressure, cross from Syria, grow or shrink, take or lose ground,
        rally or lose supporters, set the attack tempo."""
        z = self.stream.normals(self.draws)
        self.counter_terrorism_pressure()
        self.cross_from_syria()
        self.grow_in_iraq(z[0])
        self.grow_in_syria(z[1])
        self.take_and_lose_ground()
        self.rally_supporters()
        self.set_attack_tempo()

    @property
    def members(self) -> np.ndarray:
        """The broad membership in Iraq and Syria: fighters plus supporters (DB24-16's count)."""
        return self.fighters_iraq + self.fighters_syria + self.supporters

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

        Recruitment feeds on grievance (low legitimacy, RCD20-01) and on the territory held (M16:
        taxes and conscription in held towns; assumption). When CT pressure falls below
        ``isis.resurgence_pressure`` growth speeds up sharply, as after 2011 (DB24-13, POL20-07).
        Attrition falls on the fighters outside the sanctuaries (western Anbar, the north:
        FP23-06), so CT pressure wears the group down towards its sanctuaries but not below them
        (DB24-09: it persists and regroups).
        """
        m, p = self.model, self.model.p
        # tipping = 1 / (1 + exp(-gap)); exp stays in numpy (its SIMD bits, see sim.model.kernels)
        e = self._minus_gap_kernel(self.ct_pressure, p.isis_resurgence_pressure,
                                   p.isis_resurgence_width)
        np.exp(e, out=e)
        rate = self._iraq_rate_kernel(
            exp_minus_gap=e, legitimacy=m.gov.legitimacy, fighters=self.fighters_iraq,
            pressure=self.ct_pressure, territory=self.territory, z=z,
            growth_rate=p.isis_growth_rate, grievance_weight=p.isis_grievance_weight,
            territory_weight=p.isis_territory_recruitment, boost=p.isis_resurgence_boost,
            capacity=p.isis_carrying_capacity, attrition=p.isis_attrition_rate,
            sanctuary=p.isis_sanctuary_fighters, noise=p.isis_noise)
        np.exp(rate, out=rate)
        self._grow_kernel(self.fighters_iraq, rate, self.inflow, 1.0, p.isis_carrying_capacity,
                          p.isis_floor)

    @kernel
    def _minus_gap_kernel(pressure, threshold, width):  # pragma: no cover
        """Minus how far CT pressure is below the resurgence threshold, in widths (capped at 50)."""
        out = np.empty(pressure.size)
        for i in range(out.size):
            out[i] = -clip((threshold[i] - pressure[i]) / width[i], -50.0, 50.0)
        return out

    @kernel
    def _iraq_rate_kernel(exp_minus_gap, legitimacy, fighters, pressure, territory, z,
                          growth_rate, grievance_weight, territory_weight, boost, capacity,
                          attrition, sanctuary, noise):  # pragma: no cover
        """Monthly log growth of ISIS in Iraq (M3, M16)."""
        rate = np.empty(fighters.size)
        for i in range(rate.size):
            tipping = 1.0 / (1.0 + exp_minus_gap[i])
            growth = (growth_rate[i] * (1 + grievance_weight[i] * (1 - legitimacy[i]))
                      * (1 + territory_weight[i] * territory[i]) * (1 + boost[i] * tipping))
            exposed = fighters[i] / (fighters[i] + sanctuary[i])
            rate[i] = (growth * (1 - fighters[i] / capacity[i])
                       - attrition[i] * pressure[i] * exposed
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

    def take_and_lose_ground(self):
        """M16: ISIS seizes populated ground when its fighters outnumber what the forces in front
        of it can hold and CT pressure is weak (the 2014 march: POL20-07, FP23-06); sustained CT
        pressure retakes it (the campaign to the 2017 territorial defeat, DB24-09).

        The pull to seize is a steep curve of the fighters over ``isis.territory_fighters`` (a
        fourth power: little below it, nearly all of the rate well above it; assumption: towns
        fall in a cascade once the group outnumbers their defenders).
        """
        p = self.model.p
        self._territory_kernel(self.territory, self.fighters_iraq, self.ct_pressure,
                               p.isis_territory_fighters, p.isis_seize_rate, p.isis_retake_rate)

    @kernel
    def _territory_kernel(territory, fighters, pressure, threshold, seize_rate,
                          retake_rate):  # pragma: no cover
        for i in range(territory.size):
            r = threshold[i] / fighters[i]
            pull = 1.0 / (1.0 + r * r * r * r)
            held = territory[i]
            seized = seize_rate[i] * pull * (1.0 - pressure[i]) * (1.0 - held)
            retaken = retake_rate[i] * pressure[i] * held
            territory[i] = clip(held + seized - retaken, 0.0, 1.0)

    def rally_supporters(self):
        """M16: part-time members and supporters follow the fighters, the more where grievance
        is high (RCD20-01), and adjust over months (assumption: networks form and dissolve over
        a year or so). Fighters plus supporters are what membership counts count (DB24-16)."""
        m, p = self.model, self.model.p
        self._supporters_kernel(self.supporters, self.fighters_iraq, self.fighters_syria,
                                m.gov.legitimacy, p.isis_support_ratio, p.isis_grievance_weight,
                                p.isis_support_adjust)

    @kernel
    def _supporters_kernel(supporters, iraq, syria, legitimacy, ratio, grievance_weight,
                           adjust):  # pragma: no cover
        for i in range(supporters.size):
            target = ratio[i] * (iraq[i] * (1 + grievance_weight[i] * (1 - legitimacy[i]))
                                 + syria[i])
            supporters[i] += adjust[i] * (target - supporters[i])

    def set_attack_tempo(self):
        """M16: the attack tempo in Iraq moves toward what the fighters can mount. CT pressure
        disrupts the cells' attacks beyond the fighters it removes (DB24-12: attacks fell far
        more than membership), and holding territory adds front-line fighting (assumption). The
        tempo adjusts over months (assumption: cells need a season to change their tempo)."""
        p = self.model.p
        self._tempo_kernel(self.attack_tempo, self.fighters_iraq, self.ct_pressure,
                           self.territory, p.isis_attacks_per_fighter, p.isis_tempo_suppression,
                           p.isis_territorial_tempo, p.isis_tempo_adjust)

    @kernel
    def _tempo_kernel(tempo, fighters, pressure, territory, per_fighter, suppression,
                      territorial, adjust):  # pragma: no cover
        for i in range(tempo.size):
            target = (per_fighter[i] * fighters[i] * (1 - suppression[i] * pressure[i])
                      * (1 + territorial[i] * territory[i]))
            tempo[i] += adjust[i] * (target - tempo[i])
