"""ISIS in Iraq and its Syrian reservoir (M2, M3, M4). Its phase comes last in the month."""

from __future__ import annotations

import numpy as np
from mesa import Agent

from sim.model.kernels import clip, kernel, standard_normals
from sim.model.parameters import per_run


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
        # tipping = 1 / (1 + exp(-gap)); exp stays in numpy (its SIMD bits, see sim.model.kernels)
        e = self._minus_gap_kernel(self.ct_pressure, p.isis_resurgence_pressure,
                                   p.isis_resurgence_width)
        np.exp(e, out=e)
        rate = self._iraq_rate_kernel(
            exp_minus_gap=e, legitimacy=m.gov.legitimacy, fighters=self.fighters_iraq,
            pressure=self.ct_pressure, z=z, growth_rate=p.isis_growth_rate,
            grievance_weight=p.isis_grievance_weight, boost=p.isis_resurgence_boost,
            capacity=p.isis_carrying_capacity, attrition=p.isis_attrition_rate, noise=p.isis_noise)
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
