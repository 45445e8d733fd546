"""Property test: any parameters within their bounds keep the state finite and bounded."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.model import DrawdownModel
from sim.model.outcomes import TRAJECTORY_VARIABLES
from sim.model.parameters import PARAMETERS

from conftest import scenario

UNIT = {"isf_capability", "withdrawal_pressure", "cooperation", "militia_control",
        "iran_influence", "iran_direction", "us_will", "deterrence"}
N = 1000
POSTURES = [{"kind": "hold", "troops": 2500}, {"kind": "rapid_exit", "months": 2},
            {"kind": "conditions_based", "review_every": 3},
            {"kind": "over_the_horizon", "months": 4},
            {"kind": "kurdistan_residual", "months": 6},
            {"kind": "waypoints", "points": [[0, 5000], [10, 1000], [20, 0]]}]
EVENTS = [{"kind": "regional_war", "month": 2, "months": 10, "intensity": 3},
          {"kind": "high_profile_strike", "month": 4, "target": "iranian_commander"},
          {"kind": "protest_crackdown", "month": 5, "severity": 1.0},
          {"kind": "syria_collapse", "month": 1, "months": 30, "intensity": 5},
          {"kind": "iran_economic_crisis", "month": 3, "months": 12, "severity": 1.0},
          {"kind": "isis_attack_iran", "month": 6, "severity": 2.0}]


@st.composite
def parameter_arrays(draw):
    """Per parameter: its low bound, its high bound, or uniform draws across the whole range."""
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    out = {}
    for name, par in PARAMETERS.items():
        how = draw(st.sampled_from(["low", "high", "spread"]))
        if how == "spread":
            out[name] = rng.uniform(par.low, par.high, N)
        else:
            out[name] = getattr(par, how)
    return seed, out


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(parameter_arrays(), st.sampled_from(POSTURES),
       st.sampled_from(["none", "proportional", "leadership", "iran_direct"]),
       st.lists(st.sampled_from(EVENTS), max_size=3))
def test_state_is_finite_and_within_bounds(drawn, posture, retaliation, events):
    seed, params = drawn
    sc = scenario(horizon_months=36, levers={"posture": posture, "retaliation": retaliation},
                  events=events)
    m = DrawdownModel(sc, n_runs=N, params=params, rng=np.random.default_rng(seed))
    try:
        for _ in range(sc.horizon_months - 1):
            m.step()
            for name, var in TRAJECTORY_VARIABLES.items():
                v = np.asarray(var.get(m))
                assert np.isfinite(v).all(), name
                assert (v >= 0).all(), name
                if name in UNIT:
                    assert (v <= 1).all(), name
            ceiling = np.maximum(m.p.isis_carrying_capacity, m.p.isis_floor)
            assert (m.isis.fighters_iraq <= ceiling + 1e-6).all()
            for g in m.militias:
                assert ((g.cohesion >= 0) & (g.cohesion <= 1)).all()
        out = m.tracker.outcomes(m)
        for k, v in out.items():
            if v.dtype != bool and not k.startswith("months_to"):
                assert np.isfinite(v).all(), k
    finally:
        m.release()
