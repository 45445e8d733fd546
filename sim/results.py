"""``Results``: the outcome table, the quantile bands, the summary and the provenance.

``Results.save(dir)`` writes the output contract (DESIGN §6) atomically: everything goes into a
fresh sibling folder which replaces ``dir`` only when complete, so a failed or interrupted save
never leaves a half-written folder and never damages an earlier result.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from .summary import outcome_summary


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
        import pyarrow.parquet as pq
        return pq.ParquetFile(self._outcomes).metadata.num_rows

    @property
    def outcome_names(self) -> list[str]:
        """Column names of the outcome table, without loading a streamed table."""
        if isinstance(self._outcomes, pd.DataFrame):
            return list(self._outcomes.columns)
        import pyarrow.parquet as pq
        return list(pq.ParquetFile(self._outcomes).schema_arrow.names)

    def outcome_tables(self):
        """The outcome table as pyarrow Tables of at most ``ROW_GROUP_RUNS`` rows each (a streamed
        table row group by row group), so memory does not grow with runs."""
        return table_pieces(self._outcomes)

    def outcome_reader(self, name: str):
        """One outcome column, read in chunks of ``sim.summary.OUTCOME_CHUNK`` values as often as
        needed (a streamed table is read row group by row group: bounded memory)."""
        from .summary import outcome_reader
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
        return q[q["variable"] == variable].set_index("date")

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
    def save(self, directory: str | os.PathLike, plots: bool = True) -> Path:
        """Write the output contract into ``directory`` atomically and return its path.

        Files: ``outcomes.parquet``, ``quantiles.parquet``, ``summary.json``,
        ``scenario.resolved.yaml`` and, with ``plots``, ``plots/outcomes.png`` and
        ``plots/trajectories.png``.
        """
        return write_atomically(directory, lambda tmp: self.write_into(tmp, plots=plots))

    #: Files ``write_into`` writes with plots (its ``progress`` counts them).
    FILES = 6

    def write_into(self, folder: Path, plots: bool = True, progress=None) -> None:
        """Write every contract file into an existing (temporary) folder.

        ``progress``: called with 1 after each file (``FILES`` with plots), e.g. a bar of
        ``sim.engine.progress_bar``; a large job's summary and figures take a while.
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
        if plots:
            from .plots import plot_outcomes, plot_trajectories
            (folder / "plots").mkdir(exist_ok=True)
            plot_outcomes(self, folder / "plots" / "outcomes.png")
            done(1)
            plot_trajectories(self, folder / "plots" / "trajectories.png")
            done(1)

    @classmethod
    def load(cls, directory: str | os.PathLike) -> "Results":
        """Read a result folder written by ``save``.

        The outcome table stays in its file until ``outcomes`` is asked for (the summary, the
        plots and ``save`` read it in chunks), so loading a large result is quick and small.
        """
        from .scenario import scenario_from_dict
        d = Path(directory)
        data = yaml.safe_load((d / "scenario.resolved.yaml").read_text())
        scenario = scenario_from_dict(data, str(d / "scenario.resolved.yaml"))
        summary = json.loads((d / "summary.json").read_text())
        res = cls(scenario, d / "outcomes.parquet", None,
                  summary.get("provenance"), quantiles=pd.read_parquet(d / "quantiles.parquet"))
        res._summary = summary
        return res


def table_pieces(source):
    """A table (a DataFrame, or the path of a Parquet file) as pyarrow Tables of at most
    ``ROW_GROUP_RUNS`` rows each (a file row group by row group): memory does not grow with rows."""
    import pyarrow as pa
    if isinstance(source, pd.DataFrame):
        from .engine import ROW_GROUP_RUNS
        for start in range(0, max(len(source), 1), ROW_GROUP_RUNS):
            yield pa.Table.from_pandas(source.iloc[start:start + ROW_GROUP_RUNS], preserve_index=False)
    else:
        import pyarrow.parquet as pq
        file = pq.ParquetFile(source)
        for i in range(file.num_row_groups):
            yield file.read_row_group(i)


def write_atomically(directory: str | os.PathLike, write_into) -> Path:
    """Fill a fresh hidden sibling folder with ``write_into(folder)``, then swap it in.

    A failure or an interrupt (Ctrl-C) removes the temporary folder and leaves any earlier
    ``directory`` untouched; the new folder gets ordinary permissions (the umask's).
    """
    target = Path(directory)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes 0700; results are ordinary folders
    try:
        write_into(tmp)
        replace_dir(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def replace_dir(new: Path, target: Path) -> None:
    """Move the complete folder ``new`` to ``target``, replacing any earlier result.

    The earlier folder is renamed aside first and deleted only after the new one is in place.
    """
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        if old.exists():
            shutil.rmtree(old)
        os.replace(target, old)
    try:
        os.replace(new, target)
    except BaseException:
        if old is not None:
            os.replace(old, target)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def jsonable(obj):
    """Plain JSON data from nested results: numpy scalars as Python numbers, NaN/inf as null."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, (np.floating, float)):
        return None if not np.isfinite(obj) else float(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj
