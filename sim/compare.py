"""Compare scenarios with common random numbers.

``compare([a, b, ...], runs, seed)`` runs every scenario with the same seed, so run ``i`` of each
scenario shares its uncertain-parameter draws (where the scenarios share the parameter) and its
model random streams: differences between scenarios are due to the choices, not to luck.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

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
        """All outcome rows stacked, with a ``scenario`` column (in memory; see ``write_outcomes``)."""
        return pd.concat([r.outcomes.assign(scenario=n) for n, r in zip(self.names, self.results)],
                         ignore_index=True)

    def write_outcomes(self, path) -> Path:
        """Write all outcome rows stacked, with a ``scenario`` column, to the Parquet file ``path``.

        Written one row group at a time, so memory does not grow with runs. A parameter that a
        scenario does not sample is missing (null) in its rows, as in ``outcomes()``.
        """
        import pyarrow as pa
        import pyarrow.parquet as pq

        from .engine import DICTIONARY_PAGE_BYTES
        first = [next(r.outcome_tables()).schema.remove_metadata() for r in self.results]
        schema = pa.unify_schemas(first).append(pa.field("scenario", pa.string()))
        fields = list(schema)[:-1]
        with pq.ParquetWriter(path, schema, dictionary_pagesize_limit=DICTIONARY_PAGE_BYTES) as out:
            for name, res in zip(self.names, self.results):
                for table in res.outcome_tables():
                    n = table.num_rows
                    columns = [table.column(f.name) if f.name in table.column_names
                               else pa.nulls(n, f.type) for f in fields]
                    columns.append(pa.array([name] * n, pa.string()))
                    out.write_table(pa.Table.from_arrays(columns, schema=schema))
        return Path(path)


def compare(scenarios, runs: int | None = None, seed: int | None = None, stream_to=None,
            **kwargs) -> Comparison:
    """Run each scenario with the same runs and seed (default: the first scenario's).

    ``stream_to``: a folder; scenario ``k``'s outcomes stream to ``stream_to/k/outcomes.parquet``
    (bounded memory, as ``sim.run(..., stream_to=...)``) instead of staying in memory. Extra
    keyword arguments go to ``sim.run`` (``workers``, ``dask``, ``progress``).
    """
    scenarios = list(scenarios)
    if not scenarios:
        raise ValueError("compare needs at least one scenario")
    runs = scenarios[0].runs if runs is None else runs
    seed = scenarios[0].seed if seed is None else seed
    results = []
    for k, s in enumerate(scenarios):
        folder = None
        if stream_to is not None:
            folder = Path(stream_to) / str(k)
            folder.mkdir(parents=True, exist_ok=True)
        results.append(run(s, runs=runs, seed=seed, stream_to=folder, **kwargs))
    return Comparison(results)
