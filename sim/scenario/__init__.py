"""Scenarios: the schema, distributions of uncertain parameters, reading files, errors.

The layer above the model (``sim.model``): a scenario names the model's levers, events and
parameters and says which are uncertain. See docs/ARCHITECTURE.md.
"""

from sim.scenario.distributions import (
                                        DIST_KINDS,
                                        Beta,
                                        Choice,
                                        Distribution,
                                        FromPosterior,
                                        LogNormal,
                                        Normal,
                                        Triangular,
                                        TruncNormal,
                                        Uniform,
)
from sim.scenario.errors import ScenarioError
from sim.scenario.loading import load_scenario, scenario_from_dict
from sim.scenario.schema import MilitiaGroup, Scenario

__all__ = ["DIST_KINDS", "Beta", "Choice", "Distribution", "FromPosterior", "LogNormal",
           "MilitiaGroup", "Normal", "Scenario", "ScenarioError", "Triangular", "TruncNormal",
           "Uniform", "load_scenario", "scenario_from_dict"]
