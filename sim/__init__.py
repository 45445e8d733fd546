"""iraqsim: a scenario simulation model of US drawdown choices in Iraq.

Quick use::

    import sim
    res = sim.run(sim.load_scenario("baseline"), runs=10_000, seed=1)
    res.outcomes        # one row per run
    res.quantiles       # per-month bands of the trajectory variables
    res.summary         # per-outcome statistics and provenance
    sim.save(res, "results/baseline")   # data files and figures, as `iraqsim run` writes

The package is layered (docs/ARCHITECTURE.md): ``sim.model`` → ``sim.scenario`` →
``sim.engine`` → ``sim.reporting`` → ``sim.analysis`` / ``sim.validation`` → ``sim.teaching`` →
``sim.cli``; each imports only the layers before it.
"""

from sim import _compat
from sim._version import __version__
from sim.analysis.evaluate import evaluate
from sim.engine import BLOCK_SIZE, Comparison, Results, compare, run
from sim.model import DrawdownModel
from sim.scenario import Scenario, ScenarioError, load_scenario

_compat.install()


def __getattr__(name):
    """``sim.save`` on first use: it draws figures, and importing matplotlib takes a while that
    a run, or a worker process, does not need to spend."""
    if name == "save":
        from sim.reporting.save import save
        return save
    raise AttributeError(f"module 'sim' has no attribute {name!r}")

__all__ = ["BLOCK_SIZE", "Comparison", "compare", "DrawdownModel", "Results", "Scenario",
           "ScenarioError", "evaluate", "load_scenario", "run", "save", "__version__"]
