"""Helpers shared by the analysis subcommands (sweep, sensitivity, discover)."""

from __future__ import annotations

import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sim.cli.common import add_executor_options, check_executor_options, check_runs, check_writable
from sim.engine.io import replace_dir, temp_sibling


def add_common_arguments(p, runs_help: str | None = "runs (default: the scenario's runs)") -> None:
    """``--seed``, ``--out``, ``--workers``, ``--dask``, ``--quiet`` (and ``--runs`` unless
    ``runs_help`` is None)."""
    if runs_help:
        p.add_argument("--runs", type=int, help=runs_help)
    p.add_argument("--seed", type=int, help="seed (default: the scenario's seed)")
    p.add_argument("--out", help="output folder (default: results/<scenario name>-<command>)")
    add_executor_options(p)
    p.add_argument("--quiet", action="store_true", help="no progress bar and no printed summary")


def check_common(args) -> None:
    """Reject bad ``--runs`` / ``--workers`` / ``--dask`` with one line (``UserError``)."""
    check_runs(getattr(args, "runs", None))
    check_executor_options(args)


def output_folder(args, scenario, command: str) -> Path:
    """The ``--out`` folder (default ``results/<scenario>-<command>``), checked to be writable."""
    out = Path(args.out or Path("results") / f"{scenario.name}-{command}")
    check_writable(out)
    return out


@contextmanager
def atomically(out: Path) -> Iterator[Path]:
    """Yield a fresh temporary folder next to ``out``; swap it in as ``out`` when the block ends,
    or remove it on any error or interrupt (an earlier ``out`` is then left untouched)."""
    tmp = temp_sibling(out)
    try:
        yield tmp
        replace_dir(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_atomically(result, out: Path) -> None:
    """Write ``result`` (anything with ``write_into(folder)``) into ``out`` all at once."""
    with atomically(out) as tmp:
        result.write_into(tmp)
