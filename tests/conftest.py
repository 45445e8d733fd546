"""Shared helpers for the tests: small simulations with common random numbers."""

from __future__ import annotations

import numpy as np
import pytest

from sim.model import DrawdownModel
from sim.model.outcomes import TRAJECTORY_VARIABLES
from sim.scenario import Scenario, scenario_from_dict


def scenario(**changes) -> Scenario:
    """A scenario built in code (defaults: hold 2,500, proportional, medium aid, 48 months)."""
    data = {"name": "test", "horizon_months": 48}
    data.update(changes)
    return scenario_from_dict(data)


class Sim:
    """A finished simulation: final model, outcome columns and trajectories by variable."""

    def __init__(self, model, outcomes):
        self.model = model
        self.outcomes = outcomes
        self.traj = {k: model.tracker.trajectories[i] for i, k in enumerate(TRAJECTORY_VARIABLES)}

    def mean(self, var, months=slice(None)):
        """Mean over runs and the given months of a trajectory variable."""
        return float(np.mean(self.traj[var][months]))


def simulate(sc: Scenario, n: int = 2000, seed: int = 11, params: dict | None = None,
             probe=None) -> Sim:
    """Run ``n`` replicas to the horizon; ``probe(model)`` is called after every month."""
    m = DrawdownModel(sc, n_runs=n, params=params, keep_trajectories=True,
                      rng=np.random.default_rng(seed))
    while m.month < m.horizon - 1:
        m.step()
        if probe is not None:
            probe(m)
    out = m.tracker.outcomes(m)
    m.release()
    return Sim(m, out)


@pytest.fixture
def base() -> Scenario:
    return scenario()
