"""iraqsim: a scenario simulation model of US drawdown choices in Iraq.

Quick use::

    from sim import load_scenario, run
    res = run(load_scenario("scenarios/baseline.yaml"), runs=10_000, seed=1)
    res.outcomes        # one row per run
    res.quantiles       # per-month bands of the trajectory variables
    res.summary         # per-outcome statistics and provenance
    res.save("results/baseline")
"""

__version__ = "0.1.0"

from .compare import Comparison, compare  # noqa: E402
from .engine import BLOCK_SIZE, run  # noqa: E402
from .model import DrawdownModel  # noqa: E402
from .results import Results  # noqa: E402
from .scenario import Scenario, ScenarioError, load_scenario  # noqa: E402
from .analysis.evaluate import evaluate  # noqa: E402

__all__ = ["BLOCK_SIZE", "Comparison", "compare", "DrawdownModel", "Results", "Scenario",
           "ScenarioError", "evaluate", "load_scenario", "run", "__version__"]
