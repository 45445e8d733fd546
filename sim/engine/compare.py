"""Compare scenarios with common random numbers.

``compare([a, b, ...], runs, seed)`` runs every scenario with the same seed, so run ``i`` of each
scenario shares its uncertain-parameter draws (where the scenarios share the parameter) and its
model random streams: differences between scenarios are due to the choices, not to luck.

pandas is imported where a table is made, not with the module: the runs of ``iraqsim compare``
and its figures need none (docs/performance.md, round 22).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from sim.engine.io import DICTIONARY_PAGE_BYTES, jsonable, write_atomically
from sim.engine.results import Results

if TYPE_CHECKING:
    import pandas as pd


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
        """Tidy side-by-side table: one row per (outcome, scenario).

        Columns: ``outcome``, ``scenario``, ``kind`` (probability, value or month), ``mean`` (the
        probability for yes/no outcomes), ``sd``, ``p05``, ``p50``, ``p95``, ``n`` (runs in which
        a timing outcome happens) and ``change_vs_first`` (mean minus the first scenario's mean).
        """
        return comparison_table(self)

    def side_by_side(self) -> pd.DataFrame:
        """The table ``iraqsim compare`` prints: outcomes as rows, scenarios as columns.

        Yes/no outcomes show their probability; numbers show ``median [p05-p95]``; timing
        outcomes also show in how many runs they happen (``n=``).
        """
        return side_by_side(self.table())

    def outcomes(self) -> pd.DataFrame:
        """All outcome rows stacked, with a ``scenario`` column (in memory; see ``write_outcomes``)."""
        import pandas as pd

        return pd.concat([r.outcomes.assign(scenario=n) for n, r in zip(self.names, self.results)],
                         ignore_index=True)

    def write_outcomes(self, path) -> Path:
        """Write all outcome rows stacked, with a ``scenario`` column, to the Parquet file ``path``.

        Written one row group at a time, so memory does not grow with runs. A parameter that a
        scenario does not sample is missing (null) in its rows, as in ``outcomes()``.
        """
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


    #: Steps of ``write_into`` (its ``progress`` counts them).
    FILES = 5

    def write_into(self, folder: Path, progress=None) -> None:
        """Write the comparison's data files into an existing (temporary) folder.

        ``comparison.csv`` and ``comparison.parquet`` (``table()``), ``outcomes.parquet`` and
        ``quantiles.parquet`` of every scenario with a ``scenario`` column, ``summary.json`` and
        ``scenarios/<name>.resolved.yaml``. ``progress``: called with 1 after each of ``FILES``
        steps. Figures are ``sim.reporting``'s (``sim.save`` writes both).
        """
        import pandas as pd

        done = progress or (lambda n: None)
        folder = Path(folder)
        table = self.table()
        table.to_csv(folder / "comparison.csv", index=False)
        table.to_parquet(folder / "comparison.parquet", index=False)
        done(1)
        self.write_outcomes(folder / "outcomes.parquet")
        done(1)
        quantiles = pd.concat([r.quantiles.assign(scenario=n) for n, r in zip(self.names, self.results)],
                              ignore_index=True)
        quantiles.to_parquet(folder / "quantiles.parquet", index=False)
        done(1)
        summary = {"scenarios": self.names,
                   "common_random_numbers": True,
                   "results": {n: r.summary for n, r in zip(self.names, self.results)}}
        (folder / "summary.json").write_text(json.dumps(jsonable(summary), indent=2))
        done(1)
        (folder / "scenarios").mkdir()
        for n, r in zip(self.names, self.results):
            (folder / "scenarios" / f"{n}.resolved.yaml").write_text(
                yaml.safe_dump(r.scenario.resolved(), sort_keys=False))
        done(1)

    def save(self, directory) -> Path:
        """Write the data files (``write_into``) into ``directory`` atomically; return its path."""
        return write_atomically(directory, self.write_into)


def comparison_table(comparison) -> pd.DataFrame:
    """Tidy side-by-side table: one row per (outcome, scenario).

    Columns: ``outcome``, ``scenario``, ``kind`` (probability, value or month), ``mean`` (the
    probability for yes/no outcomes), ``sd``, ``p05``, ``p50``, ``p95``, ``n`` (runs in which a
    timing outcome happens) and ``change_vs_first`` (mean minus the first scenario's mean).
    """
    import pandas as pd

    rows = []
    for name, res in zip(comparison.names, comparison.results):
        for outcome, s in res.summary["outcomes"].items():
            value = s["probability"] if s["kind"] == "probability" else s.get("mean")
            rows.append({"outcome": outcome, "scenario": name, "kind": s["kind"], "mean": value,
                         "sd": s.get("sd"), "p05": s.get("p05"), "p50": s.get("p50"),
                         "p95": s.get("p95"), "n": s.get("n")})
    table = pd.DataFrame(rows)
    for col in ("mean", "sd", "p05", "p50", "p95", "n"):
        table[col] = pd.to_numeric(table[col], errors="coerce").astype(float)
    first = table[table["scenario"] == comparison.names[0]].set_index("outcome")["mean"]
    table["change_vs_first"] = table["mean"] - table["outcome"].map(first)
    order = {o: i for i, o in enumerate(dict.fromkeys(table["outcome"]))}
    return table.sort_values(["outcome", "scenario"], key=lambda c: c.map(order) if c.name == "outcome"
                             else c.map({n: i for i, n in enumerate(comparison.names)})).reset_index(drop=True)


def _cell(row) -> str:
    import pandas as pd

    if pd.isna(row["mean"]):
        return "never"
    if row["kind"] == "probability":
        return f"{100 * row['mean']:.1f}%"
    fmt = (lambda v: f"{v:,.3g}") if abs(row["p95"]) < 10 else (lambda v: f"{v:,.0f}")
    happens = f" n={int(row['n'])}" if row["kind"] == "month" and not pd.isna(row["n"]) else ""
    return f"{fmt(row['p50'])} [{fmt(row['p05'])}-{fmt(row['p95'])}]{happens}"


def side_by_side(table: pd.DataFrame) -> pd.DataFrame:
    """The printed table: outcomes as rows, scenarios as columns.

    Yes/no outcomes show their probability; numbers show ``median [p05-p95]``; timing outcomes
    also show in how many runs they happen (``n=``).
    """
    cells = table.assign(cell=table.apply(_cell, axis=1))
    wide = cells.pivot(index="outcome", columns="scenario", values="cell")
    return wide.loc[list(dict.fromkeys(table["outcome"])), list(dict.fromkeys(table["scenario"]))]


def compare(scenarios, runs: int | None = None, seed: int | None = None, stream_to=None,
            **kwargs) -> Comparison:
    """Run each scenario with the same runs and seed (default: the first scenario's).

    ``stream_to``: a folder; scenario ``k``'s outcomes stream to ``stream_to/k/outcomes.parquet``
    (bounded memory, as ``sim.run(..., stream_to=...)``) instead of staying in memory. Extra
    keyword arguments go to ``sim.run`` (``workers``, ``dask``, ``progress``).
    """
    from sim.engine.engine import run  # here: a drawing process unpickles a Comparison without it

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
