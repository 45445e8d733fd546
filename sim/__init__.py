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
``sim.cli``; each imports only the layers before it. The names below load on first use, so
``import sim`` (and the ``iraqsim`` command, which answers Ctrl-C while they load) starts at once.
"""

from sim import _compat
from sim._lazy import names_on_first_use
from sim._version import __version__

_compat.install()

#: The public API: name -> the module that defines it.
PUBLIC = {
    "BLOCK_SIZE": "sim.engine.blocks",
    "Comparison": "sim.engine.compare",
    "compare": "sim.engine.compare",
    "DrawdownModel": "sim.model.model",
    "Results": "sim.engine.results",
    "Scenario": "sim.scenario.schema",
    "ScenarioError": "sim.scenario.errors",
    "evaluate": "sim.analysis.evaluate",
    "load_scenario": "sim.scenario.loading",
    "run": "sim.engine.engine",
    "save": "sim.reporting.save",
}

__all__ = [*PUBLIC, "__version__"]

__getattr__, __dir__ = names_on_first_use(__name__, PUBLIC)
