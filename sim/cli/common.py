"""Helpers shared by subcommands: scenario arguments, run options and atomic output folders."""

from __future__ import annotations

import json
import os
import shutil
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sim.engine.blocks import BLOCK_SIZE
from sim.engine.executors import check_dask_address
from sim.engine.io import replace_dir, temp_sibling
from sim.engine.progress import progress_bar
from sim.scenario.loading import scenario_file, scenario_from_dict
from sim.scenario.schema import MAX_RUNS


class UserError(Exception):
    """A problem with the command line or the environment that the user can fix."""


#: Options whose name differs from the library argument they set (``ArgumentError.argument``).
FLAGS = {"levers": "--lever", "outcomes": "--outcome", "case": "--outcome", "parameters": "--parameter",
         "alpha": "--peel-alpha"}


def flag_of(argument: str) -> str:
    """The command-line option of a library argument: ``peel_alpha`` -> ``--peel-alpha``."""
    return FLAGS.get(argument, "--" + argument.replace("_", "-"))


#: Files whose presence marks a folder as an earlier iraqsim result that may be replaced.
RESULT_MARKERS = ("summary.json", "comparison.csv", "posterior.parquet")


def scenario_path(arg: str) -> str:
    """The scenario file a command-line argument names: a path, or a library name
    (``sim.scenario.loading.scenario_file``)."""
    return scenario_file(arg)


def add_executor_options(parser) -> None:
    """``--workers`` and ``--dask``: where the blocks run (every command that runs the model)."""
    parser.add_argument("--workers", type=int, default=1, metavar="K",
                        help="local worker processes (default 1; results do not depend on it)")
    parser.add_argument("--dask", metavar="ADDRESS",
                        help="'local' or a Dask scheduler address (tcp://HOST:PORT)")


def check_executor_options(args) -> None:
    """One-line errors for ``--workers`` below 1 and a malformed ``--dask`` address."""
    if args.workers < 1:
        raise UserError(f"--workers must be at least 1 (got {args.workers})")
    if args.dask:
        check_dask_address(args.dask)


def writing_bar(total: int, runs: int, quiet: bool, unit: str):
    """The bar shown while a result's files and figures are written: after the engine's, so on
    the same terms (a terminal, jobs of more than one block, not ``--quiet``)."""
    return progress_bar(total, False if quiet or runs <= BLOCK_SIZE else None, "writing", unit=unit)


def add_run_options(parser, what: str = "the scenario's") -> None:
    """``--runs``, ``--seed``, ``--workers``, ``--dask`` and ``--quiet`` (shared by run and compare)."""
    parser.add_argument("--runs", type=int, metavar="N", help=f"number of replicas (default: {what} runs)")
    parser.add_argument("--seed", type=int, metavar="S", help=f"seed (default: {what} seed)")
    parser.add_argument("--posterior", metavar="FILE",
                        help="draw every {from: posterior} parameter from this calibration "
                             "posterior (as `iraqsim calibrate` writes) instead of the shipped one")
    add_executor_options(parser)
    parser.add_argument("--quiet", action="store_true", help="no progress bar and no printed table")


def check_runs(runs: int | None) -> None:
    """``--runs`` within the bounds of the scenario key ``runs``."""
    if runs is not None and not 1 <= runs <= MAX_RUNS:
        raise UserError(f"--runs must be 1 to {MAX_RUNS:,} (got {runs:,}), as the scenario key runs")


def with_posterior(scenario, args):
    """``scenario`` drawing from ``--posterior`` if given (checked like the scenario key)."""
    if not getattr(args, "posterior", None):
        return scenario
    data = scenario.model_dump(mode="python", by_alias=True)
    data["posterior"] = os.path.abspath(args.posterior)
    return scenario_from_dict(data, f"--posterior {args.posterior}")


def check_run_options(args) -> None:
    """One-line errors for run options out of range (the same bounds as the scenario keys)."""
    check_runs(args.runs)
    if args.seed is not None and not 0 <= args.seed <= 2**63 - 1:
        raise UserError(f"--seed must be between 0 and 2**63-1 (got {args.seed})")
    check_executor_options(args)


def check_writable(out: Path, markers: tuple[str, ...] | None = None) -> None:
    """Fail with one line if ``out`` cannot be created, or is not safe to replace.

    Args:
        out: The output folder as the user gave it.
        markers: When given, an existing non-empty ``out`` must hold one of these files (it is an
            earlier result, safe to replace); any other folder is refused so that a mistyped
            ``--out`` never deletes anyone's work.
    """
    shown = str(out)
    if not shown.strip():
        raise UserError("--out: empty; give a folder")
    full = Path(os.path.abspath(out))
    if full == full.parent:
        raise UserError(f"{shown}: cannot write results over a filesystem root; choose a new folder")
    if full.exists() and not full.is_dir():
        raise UserError(f"{shown}: exists and is not a folder; choose another --out")
    if (markers and full.is_dir() and any(full.iterdir())
            and not any((full / m).is_file() for m in markers)):
        raise UserError(f"{shown}: folder exists and is not an iraqsim result (no summary.json); "
                        "choose a new or empty folder")
    check_parent_writable(full, shown)


def check_parent_writable(full: Path, shown: str) -> None:
    """Fail with one line unless the nearest existing parent of ``full`` is a writable folder."""
    probe = full.parent
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise UserError(f"{shown}: cannot create the output folder ({probe} is a file, not a folder)")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise UserError(f"{shown}: output folder is not writable (no write permission in {probe})")


@contextmanager
def atomic_output(out: str | os.PathLike) -> Iterator[Path]:
    """Write a result folder atomically: yield a temporary sibling folder, then swap it in.

    On success the temporary folder replaces ``out`` (an earlier result is removed only once the
    new one is in place, ``sim.engine.io.replace_dir``). On any error or interruption (including
    Ctrl-C) the temporary folder and any parent folders created for it are removed, and an earlier
    result at ``out`` is left untouched.

    A symbolic link as ``out`` is followed: the folder it points to is replaced and the link
    stays. Hidden folders that a killed run left next to ``out`` are removed.

    Raises:
        UserError: ``out`` cannot be written (see ``check_writable``).
    """
    check_writable(Path(out), RESULT_MARKERS)
    full = Path(os.path.realpath(out))
    created, probe = [], full.parent
    while not probe.exists():
        created.append(probe)
        probe = probe.parent
    tmp = None
    try:
        try:
            tmp = temp_sibling(full)
        except OSError as exc:
            raise UserError(f"{out}: cannot create the output folder ({exc.strerror or exc})") from None
        yield tmp
        replace_dir(tmp, full)
        tmp = None
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
            for folder in created:  # deepest first; stop at the first one holding other files
                try:
                    folder.rmdir()
                except OSError:
                    break


def earlier_job(out: str | os.PathLike) -> str | None:
    """What the result in ``out`` was (``baseline, 10,000 runs, seed 2024``), or None."""
    try:
        summary = json.loads((Path(out) / "summary.json").read_text())
    except (OSError, ValueError):
        return None
    if "results" in summary:  # a comparison
        provs = [r.get("provenance", {}) for r in summary["results"].values()]
    else:
        provs = [summary.get("provenance", {})]
    if not provs or any("runs" not in p for p in provs):
        return None
    names = " vs ".join(str(p.get("scenario")) for p in provs)
    return f"{names}, {provs[0]['runs']:,} runs, seed {provs[0]['seed']}"


def note_replaced(out, before: str | None, after: str | None) -> None:
    """Say so in one line (stderr) when a result of another job was replaced."""
    if before is not None and after is not None and before != after:
        print(f"iraqsim: note: replaced the earlier result in {out} ({before}) with this one "
              f"({after})", file=sys.stderr)


def default_out(*names: str) -> Path:
    """``results/<name>`` (or ``results/<a>-vs-<b>`` for several names)."""
    return Path("results") / "-vs-".join(names)
