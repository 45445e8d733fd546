"""Old module names, kept for one release after the move to layered subpackages.

``import sim.engine`` and the other subpackages are the new homes; scripts that import an old
flat module (``sim.agents``, ``sim.summary``, ``sim.commands.run``, ...) still work and get a
``DeprecationWarning`` naming the new one. Remove this module in the next release.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import warnings

#: Old module -> its new home.
MOVED = {
    "sim.agents": "sim.model.actors",
    "sim.parameters": "sim.model.parameters",
    "sim.levers": "sim.model.levers",
    "sim.events": "sim.model.events",
    "sim.outcomes": "sim.model.outcomes",
    "sim.kernels": "sim.model.kernels",
    "sim.paths": "sim.scenario.library",
    "sim.summary": "sim.engine.summary",
    "sim.results": "sim.engine.results",
    "sim.plots": "sim.reporting.plots",
    "sim.report": "sim.reporting.report",
    "sim.evidence": "sim.reporting.evidence",
    "sim.odd": "sim.reporting.odd",
    "sim.backtest": "sim.validation.backtest",
    "sim.calibrate": "sim.validation.calibrate",
    "sim.exercises": "sim.teaching.exercises",
    "sim.commands": "sim.cli",
    **{f"sim.commands.{name}": f"sim.cli.{name}" for name in (
        "run", "compare", "validate", "schema", "list", "sweep", "sensitivity", "discover",
        "report", "exercises", "backtest", "calibrate")},
    "sim.commands._common": "sim.cli.common",
}


class _MovedModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Import an old module name as its new module (the same module object)."""

    def find_spec(self, name, path=None, target=None):
        return importlib.util.spec_from_loader(name, self) if name in MOVED else None

    def create_module(self, spec):
        warnings.warn(f"{spec.name} moved to {MOVED[spec.name]}; the old name goes in the next "
                      "release", DeprecationWarning, stacklevel=2)
        return importlib.import_module(MOVED[spec.name])

    def exec_module(self, module):
        """Nothing to run: the new module is already loaded."""


def install() -> None:
    """Put the finder on ``sys.meta_path`` (once)."""
    if not any(isinstance(f, _MovedModules) for f in sys.meta_path):
        sys.meta_path.insert(0, _MovedModules())  # before the path finder: see sim.commands.run
