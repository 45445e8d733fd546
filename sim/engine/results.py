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

import pandas as pd
import pyarrow.parquet as pq
import yaml

from sim.engine.io import jsonable, table_pieces, write_atomically
from sim.engine.columns import outcome_reader, outcome_summary
from sim.model.outcomes import variable_name
from sim.scenario.loading import scenario_from_dict


class Results:
    """Results of one scenario run.

    Attributes:
        scenario: The scenario that was run.
        provenance: Package version, scenario hash, seed, runs, block size, timing.
    """

    def __init__(self, scenario, outcomes, trajectory_summary=None, provenance=None,
                 quantiles: pd.DataFrame | None = None):
        self.scenario = scenario
        self._outcomes = outcomes  # DataFrame, or the path of a Parquet file
        self._traj = trajectory_summary
        self._quantiles = quantiles
        self._summary = None
        self.provenance = dict(provenance or {})

    # ------------------------------------------------------------------ tables
    @property
    def outcomes(self) -> pd.DataFrame:
        """One row per run: ``run``, ``param.<name>`` for sampled parameters, outcome columns."""
        if not isinstance(self._outcomes, pd.DataFrame):
            self._outcomes = pd.read_parquet(self._outcomes)
        return self._outcomes

    @property
    def n_runs(self) -> int:
        """Number of runs, without loading a streamed outcome table."""
        if isinstance(self._outcomes, pd.DataFrame):
            return len(self._outcomes)
        return pq.ParquetFile(self._outcomes).metadata.num_rows

    @property
    def outcome_names(self) -> list[str]:
        """Column names of the outcome table, without loading a streamed table."""
        if isinstance(self._outcomes, pd.DataFrame):
            return list(self._outcomes.columns)
        return list(pq.ParquetFile(self._outcomes).schema_arrow.names)

    def outcome_tables(self):
        """The outcome table as pyarrow Tables of at most ``ROW_GROUP_RUNS`` rows each (a streamed
        table row group by row group), so memory does not grow with runs."""
        return table_pieces(self._outcomes)

    def outcome_reader(self, name: str):
        """One outcome column, read in chunks of ``sim.engine.columns.OUTCOME_CHUNK`` values as often as
        needed (a streamed table is read row group by row group: bounded memory)."""
        return outcome_reader(self._outcomes, name)

    @property
    def quantiles(self) -> pd.DataFrame:
        """Per month and variable: p05, p25, p50, p75, p95 and mean (long format)."""
        if self._quantiles is None:
            if self._traj is None:
                raise ValueError("this run kept no trajectories (keep_trajectories=False)")
            self._quantiles = self._traj.frame(self.scenario.month_dates())
        return self._quantiles

    @property
    def summary(self) -> dict:
        """Per outcome: mean, sd, p05, p50, p95 (probabilities for booleans), plus provenance."""
        if self._summary is None:
            # a streamed table is summarised column by column, never loaded whole
            self._summary = {"outcomes": outcome_summary(self._outcomes),
                             "provenance": self.provenance}
        return self._summary

    def band(self, variable: str) -> pd.DataFrame:
        """The quantile band of one trajectory variable, indexed by date."""
        q = self.quantiles
        return q[q["variable"] == variable_name(variable)].set_index("date")

    def table(self) -> pd.DataFrame:
        """A compact outcome table for printing: one row per outcome."""
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
        return pd.DataFrame(rows, columns=["outcome", "mean / P", "p05", "p50", "p95"]).set_index("outcome")

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
        if isinstance(self._outcomes, pd.DataFrame):
            self._outcomes.to_parquet(dest, index=False)
        elif Path(self._outcomes).resolve() != dest.resolve():  # else: streamed there already
            shutil.copyfile(self._outcomes, dest)  # a file is copied, never loaded
        done(1)
        self.quantiles.to_parquet(folder / "quantiles.parquet", index=False)
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
        res = cls(scenario, d / "outcomes.parquet", None,
                  summary.get("provenance"), quantiles=pd.read_parquet(d / "quantiles.parquet"))
        res._summary = summary
        return res
