"""Compare scenarios with common random numbers.

``compare([a, b, ...], runs, seed)`` runs every scenario with the same seed, so run ``i`` of each
scenario shares its uncertain-parameter draws (where the scenarios share the parameter) and its
model random streams: differences between scenarios are due to the choices, not to luck.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .engine import run
from .results import Results


@dataclass
class Comparison:
    """Results of several scenarios run with common random numbers."""

    results: list[Results]

    @property
    def names(self) -> list[str]:
        """Scenario names, made unique if two scenarios share a name."""
        names, seen = [], {}
        for r in self.results:
            n = r.scenario.name
            seen[n] = seen.get(n, 0) + 1
            names.append(n if seen[n] == 1 else f"{n}#{seen[n]}")
        return names

    def table(self) -> pd.DataFrame:
        """Side-by-side: per outcome, the mean (probability for booleans), p05, p50 and p95."""
        frames = []
        for name, res in zip(self.names, self.results):
            rows = {}
            for outcome, s in res.summary["outcomes"].items():
                if s["kind"] == "probability":
                    rows[outcome] = {"mean": s["probability"], "p05": None, "p50": None, "p95": None}
                else:
                    rows[outcome] = {k: s.get(k) for k in ("mean", "p05", "p50", "p95")}
            frames.append(pd.DataFrame(rows).T.add_prefix(f"{name}:"))
        return pd.concat(frames, axis=1)

    def outcomes(self) -> pd.DataFrame:
        """All outcome rows stacked, with a ``scenario`` column."""
        return pd.concat([r.outcomes.assign(scenario=n) for n, r in zip(self.names, self.results)],
                         ignore_index=True)


def compare(scenarios, runs: int | None = None, seed: int | None = None, **kwargs) -> Comparison:
    """Run each scenario with the same runs and seed (default: the first scenario's).

    Extra keyword arguments go to ``sim.run`` (``workers``, ``dask``, ``progress``).
    """
    scenarios = list(scenarios)
    if not scenarios:
        raise ValueError("compare needs at least one scenario")
    runs = scenarios[0].runs if runs is None else runs
    seed = scenarios[0].seed if seed is None else seed
    return Comparison([run(s, runs=runs, seed=seed, **kwargs) for s in scenarios])
