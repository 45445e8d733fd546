"""Writing results: outcome sinks, Parquet pieces, atomic folders, JSON, provenance.

Every output folder is written atomically: into a fresh hidden sibling folder that replaces the
target only when complete, so a failed or interrupted job never leaves a half-written folder
and never damages an earlier result.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sys
import tempfile
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from sim._arrow import arrow_table, is_data_frame

#: Outcome rows buffered into one Parquet row group (bounded, ~15 MB).
ROW_GROUP_RUNS = 65_536
#: Largest dictionary page of an outcome column. Columns with few distinct values (yes/no
#: outcomes, months, counts, parameters drawn from the 700-row posterior) stay
#: dictionary-encoded; continuous ones (peaks, end states, sampled parameters) give up after
#: 2,048 values instead of pyarrow's default 1 MB, which builds dictionaries it then drops.
DICTIONARY_PAGE_BYTES = 16 * 1024


class ParquetSink:
    """Writes outcome blocks to a Parquet file as they arrive, in row groups of ~64k runs."""

    def __init__(self, path: Path, row_group_runs: int = ROW_GROUP_RUNS):
        self.path = Path(path)
        self.row_group_runs = row_group_runs
        self.writer = None
        self.buffer: list = []
        self.buffered = 0
        #: The file's content while it is one row group (a table of at most ``row_group_runs``
        #: rows, ~15 MB), so the job's figures and summary need not read it back; else None.
        self.table = None
        self.row_groups = 0

    def add(self, cols: dict[str, np.ndarray]) -> None:
        table = arrow_table(cols)  # without loading pandas (sim._arrow)
        self.buffer.append(table)
        self.buffered += table.num_rows
        if self.buffered >= self.row_group_runs:
            self.flush()

    def flush(self) -> None:
        if not self.buffer:
            return
        table = pa.concat_tables(self.buffer)
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.path, table.schema,
                                           dictionary_pagesize_limit=DICTIONARY_PAGE_BYTES)
        self.writer.write_table(table, row_group_size=max(len(table), 1))
        self.buffer, self.buffered = [], 0
        self.table = table if self.row_groups == 0 else None
        self.row_groups += 1

    def close(self) -> None:
        """Write what is buffered and close the file."""
        self.flush()
        if self.writer is not None:
            self.writer.close()

    def abandon(self) -> None:
        """Close the file without writing more (the job failed; its folder is removed)."""
        self.buffer, self.buffered = [], 0
        if self.writer is not None:
            try:
                self.writer.close()
            except (OSError, pa.ArrowException):  # the disk that failed may fail again
                pass


class MemorySink:
    """Keeps outcome blocks in memory, for a job small enough to return a DataFrame."""

    def __init__(self):
        self.parts: list[dict] = []

    def add(self, cols):
        self.parts.append(cols)

    def frame(self):
        import pandas as pd

        keys = self.parts[0].keys()
        return pd.DataFrame({k: np.concatenate([p[k] for p in self.parts]) for k in keys})


def table_pieces(source):
    """A table (a DataFrame, or the path of a Parquet file) as pyarrow Tables of at most
    ``ROW_GROUP_RUNS`` rows each (a file row group by row group): memory does not grow with rows."""
    if is_data_frame(source):
        for start in range(0, max(len(source), 1), ROW_GROUP_RUNS):
            yield pa.Table.from_pandas(source.iloc[start:start + ROW_GROUP_RUNS], preserve_index=False)
    else:
        file = pq.ParquetFile(source)
        for i in range(file.num_row_groups):
            yield file.read_row_group(i)


def temp_sibling(target: str | os.PathLike) -> Path:
    """A fresh hidden folder next to ``target`` (same file system, for an atomic rename), with
    ordinary permissions, named ``.NAME.tmp-PID-...``. Hidden folders that a killed process left
    next to ``target`` are removed first (``remove_stale_siblings``)."""
    target = Path(os.path.abspath(target))
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_siblings(target)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-{os.getpid()}-", dir=target.parent))
    os.chmod(tmp, 0o777 & ~current_umask())  # mkdtemp makes 0700; results are ordinary folders
    return tmp


_STALE = re.compile(r"^\.(?P<name>.+)\.(?:tmp|old)-(?P<pid>\d+)(?:-.*)?$")


def remove_stale_siblings(target: Path) -> list[Path]:
    """Remove ``.NAME.tmp-PID-*`` and ``.NAME.old-PID`` folders next to ``target`` whose process
    is gone (a run killed with SIGKILL, or a power cut, cannot clean up after itself)."""
    removed = []
    try:
        siblings = list(target.parent.iterdir())
    except OSError:
        return removed
    for path in siblings:
        match = _STALE.match(path.name)
        if match and match["name"] == target.name and not _alive(int(match["pid"])) \
                and path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def write_atomically(directory: str | os.PathLike, write_into) -> Path:
    """Fill a fresh hidden sibling folder with ``write_into(folder)``, then swap it in.

    A failure or an interrupt (Ctrl-C) removes the temporary folder and leaves any earlier
    ``directory`` untouched; the new folder gets ordinary permissions (the umask's).
    """
    target = Path(directory)
    tmp = temp_sibling(target)
    try:
        write_into(tmp)
        replace_dir(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def replace_dir(new: Path, target: Path) -> None:
    """Move the complete folder ``new`` to ``target``, replacing any earlier result.

    The earlier folder is renamed aside first and deleted only after the new one is in place. A
    symbolic link as ``target`` is followed: the folder it points to is replaced, the link stays.
    """
    target = Path(os.path.realpath(target))
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


def current_umask() -> int:
    """The process umask (read by setting and restoring it)."""
    mask = os.umask(0o022)
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


def software_versions() -> dict[str, str]:
    """The versions a job's results can depend on, for its provenance.

    Besides Python, mesa and numpy (the random streams), SciPy: its quantile functions turn the
    sampled uniforms into parameters (``betaincinv``, ``ndtri``), and their last bits differ
    between SciPy releases (e.g. 1.13 and 1.17 give different Beta quantiles for a few draws in
    100,000).
    """
    return {"mesa": version("mesa"), "numpy": np.__version__, "scipy": version("scipy"),
            "python": sys.version.split()[0]}


def file_sha256(path: str | os.PathLike) -> str:
    """The sha256 of a file's bytes (provenance of an input such as a posterior sample)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
