"""``Results``: the outcome table, the quantile bands, the summary and the provenance.

``Results.save(dir)`` writes the data files of the output contract (README, "Output contract")
atomically: everything goes into a fresh sibling folder which replaces ``dir`` only when
complete, so a failed or interrupted save never leaves a half-written folder and never damages
an earlier result.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow.parquet as pq
import yaml

from sim._arrow import is_data_frame
from sim.engine.io import jsonable, table_pieces, write_atomically
from sim.engine.columns import outcome_reader, outcome_summary
from sim.engine.summary import bands_table
from sim.model.outcomes import variable_name
from sim.scenario.loading import scenario_from_dict

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd


class Results:
    """Results of one scenario run.

    Nothing here loads pandas until a DataFrame is asked for (``outcomes``, ``quantiles``,
    ``band``, ``table``): ``iraqsim run`` reads its figures from ``bands`` and the outcome
    columns, and loads pandas only after they are sent (docs/performance.md, round 22).

    Attributes:
        scenario: The scenario that was run.
        provenance: Package version, scenario hash, seed, runs, block size, timing.
    """

    def __init__(self, scenario, outcomes, trajectory_summary=None, provenance=None,
                 quantiles: pd.DataFrame | None = None, table=None):
        self.scenario = scenario
        self._outcomes = outcomes  # DataFrame, or the path of a Parquet file
        # the file's content, when the job that wrote it still holds it (a pyarrow Table of one
        # row group): read by the columns' readers instead of the file
        self._table = table
        self._traj = trajectory_summary
        self._quantiles = quantiles
        self._bands = None
        self._summary = None
        self.provenance = dict(provenance or {})

    # ------------------------------------------------------------------ tables
    @property
    def outcomes(self) -> pd.DataFrame:
        """One row per run: ``run``, ``param.<name>`` for sampled parameters, outcome columns."""
        if not is_data_frame(self._outcomes):
            import pandas as pd

            self._outcomes = pd.read_parquet(self._outcomes)
        return self._outcomes

    @property
    def n_runs(self) -> int:
        """Number of runs, without loading a streamed outcome table."""
        if is_data_frame(self._outcomes):
            return len(self._outcomes)
        return pq.ParquetFile(self._outcomes).metadata.num_rows

    @property
    def outcome_names(self) -> list[str]:
        """Column names of the outcome table, without loading a streamed table."""
        if is_data_frame(self._outcomes):
            return list(self._outcomes.columns)
        return list(pq.ParquetFile(self._outcomes).schema_arrow.names)

    def outcome_tables(self):
        """The outcome table as pyarrow Tables of at most ``ROW_GROUP_RUNS`` rows each (a streamed
        table row group by row group), so memory does not grow with runs."""
        return table_pieces(self._outcomes)

    def outcome_reader(self, name: str):
        """One outcome column, read in chunks of ``sim.engine.columns.OUTCOME_CHUNK`` values as often as
        needed (a streamed table is read row group by row group: bounded memory)."""
        return outcome_reader(self._columns, name)

    @property
    def _columns(self):
        """Where the outcome columns are read: the table still held, else the DataFrame or file."""
        return self._outcomes if self._table is None else self._table

    @property
    def quantiles(self) -> pd.DataFrame:
        """Per month and variable: p05, p25, p50, p75, p95 and mean (long format)."""
        if self._quantiles is None:
            self._quantiles = bands_table(self.bands).to_pandas()
        return self._quantiles

    @property
    def bands(self) -> dict[str, dict[str, np.ndarray]]:
        """Per trajectory variable: numpy arrays ``month``, ``date``, ``p05`` .. ``p95`` and
        ``mean``, one value a month (``quantiles`` holds the same, as one long table)."""
        if self._bands is None:
            if self._traj is not None:
                self._bands = self._traj.bands(self.scenario.month_dates())
            elif self._quantiles is not None:  # a result read from its folder
                self._bands = {var: {c: rows[c].to_numpy() for c in rows.columns if c != "variable"}
                               for var, rows in self._quantiles.groupby("variable", sort=False)}
            else:
                raise ValueError("this run kept no trajectories (keep_trajectories=False)")
        return self._bands

    @property
    def summary(self) -> dict:
        """Per outcome: mean, sd, p05, p50, p95 (probabilities for booleans), plus provenance."""
        if self._summary is None:
            # a streamed table is summarised column by column, never loaded whole
            self._summary = {"outcomes": outcome_summary(self._columns),
                             "provenance": self.provenance}
        return self._summary

    def band(self, variable: str) -> pd.DataFrame:
        """The quantile band of one trajectory variable, indexed by date."""
        q = self.quantiles
        return q[q["variable"] == variable_name(variable)].set_index("date")

    #: Columns of ``table`` and ``table_rows``.
    TABLE_COLUMNS = ("outcome", "mean / P", "p05", "p50", "p95")

    def table_rows(self) -> list[tuple[str, ...]]:
        """The rows of ``table`` as text: outcome, mean (or probability), p05, p50, p95."""
        rows = []
        for name, s in self.summary["outcomes"].items():
            if s["kind"] == "probability":
                rows.append((name, f"P = {s['probability']:.3f}", "", "", ""))
            elif s["mean"] is None:
                rows.append((name, "never", "", "", ""))
            else:
                fmt = (lambda v: f"{v:,.3g}") if abs(s["p95"] or 0) < 10 else (lambda v: f"{v:,.0f}")
                extra = f" (n={s['n']})" if s["kind"] == "month" else ""
                rows.append((name, fmt(s["mean"]) + extra, fmt(s["p05"]), fmt(s["p50"]), fmt(s["p95"])))
        return rows

    def table(self) -> pd.DataFrame:
        """A compact outcome table for printing: one row per outcome (``table_rows``)."""
        import pandas as pd

        return pd.DataFrame(self.table_rows(), columns=list(self.TABLE_COLUMNS)).set_index("outcome")

    # ------------------------------------------------------------------ files
    def save(self, directory: str | os.PathLike) -> Path:
        """Write the data files (``write_into``) into ``directory`` atomically; return its path.

        ``sim.save(results, directory)`` writes the figures too, as ``iraqsim run`` does.
        """
        return write_atomically(directory, self.write_into)

    #: Files ``write_into`` writes (its ``progress`` counts them).
    FILES = 4

    def write_into(self, folder: Path, progress=None) -> None:
        """Write ``outcomes.parquet``, ``quantiles.parquet``, ``summary.json`` and
        ``scenario.resolved.yaml`` into an existing (temporary) folder.

        ``progress``: called with 1 after each file, e.g. a bar of
        ``sim.engine.progress.progress_bar``; a large job's summary takes a while.
        """
        done = progress or (lambda n: None)
        folder = Path(folder)
        dest = folder / "outcomes.parquet"
        if is_data_frame(self._outcomes):
            self._outcomes.to_parquet(dest, index=False)
        elif Path(self._outcomes).resolve() != dest.resolve():  # else: streamed there already
            shutil.copyfile(self._outcomes, dest)  # a file is copied, never loaded
        done(1)
        pq.write_table(bands_table(self.bands), folder / "quantiles.parquet")  # without pandas
        done(1)
        (folder / "summary.json").write_text(json.dumps(jsonable(self.summary), indent=2))
        done(1)
        (folder / "scenario.resolved.yaml").write_text(
            yaml.safe_dump(self.scenario.resolved(), sort_keys=False))
        done(1)

    @classmethod
    def load(cls, directory: str | os.PathLike) -> "Results":
        """Read a result folder written by ``save``.

        The outcome table stays in its file until ``outcomes`` is asked for (the summary, the
        plots and ``save`` read it in chunks), so loading a large result is quick and small.
        """
        d = Path(directory)
        data = yaml.safe_load((d / "scenario.resolved.yaml").read_text())
        scenario = scenario_from_dict(data, str(d / "scenario.resolved.yaml"))
        summary = json.loads((d / "summary.json").read_text())
        import pandas as pd

        res = cls(scenario, d / "outcomes.parquet", None,
                  summary.get("provenance"), quantiles=pd.read_parquet(d / "quantiles.parquet"))
        res._summary = summary
        return res
