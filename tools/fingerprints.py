"""Fingerprints of every library scenario and of the analysis commands, for refactors.

A refactor must keep results bit for bit. This script runs each library scenario and each
analysis command through the ``iraqsim`` command line (small jobs, fixed seeds) and prints one
sha256 per job, computed from the data files only (Parquet columns and CSV files; figures, HTML
and timing fields are left out). Compare the output before and after a change::

    python tools/fingerprints.py > before.txt   # on the old commit
    python tools/fingerprints.py > after.txt    # on the new one
    diff before.txt after.txt                   # empty: bit for bit

``--only run`` (or ``analysis``) limits the jobs; ``--runs`` sets the replicas of each scenario.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import sys
import tempfile
from pathlib import Path

import pandas as pd

from sim.cli import main as iraqsim
from sim.scenario.library import scenarios_dir


def _without_provenance(data):
    """``data`` without any ``provenance`` entry (it holds timings), at any depth."""
    if isinstance(data, dict):
        return {k: _without_provenance(v) for k, v in data.items() if k != "provenance"}
    return data


def _hash_folder(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.suffix == ".parquet":
            frame = pd.read_parquet(path)
            digest.update(path.relative_to(folder).as_posix().encode())
            for column in frame.columns:
                values = frame[column]
                digest.update(str(column).encode())
                if values.dtype.kind in "biuf":
                    digest.update(values.to_numpy().tobytes())
                else:
                    digest.update("\x1f".join(map(str, values.tolist())).encode())
        elif path.suffix == ".csv":
            digest.update(path.relative_to(folder).as_posix().encode())
            digest.update(path.read_bytes())
        elif path.name == "summary.json":
            data = _without_provenance(json.loads(path.read_text()))
            digest.update(json.dumps(data, sort_keys=True).encode())
    return digest.hexdigest()[:16]


def _job(name: str, argv: list[str], work: Path) -> str:
    out = work / name.replace("/", "_")
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        code = iraqsim([*argv, "--out", str(out)])
    if code != 0:
        raise SystemExit(f"{name}: iraqsim {' '.join(argv)} exited {code}")
    return _hash_folder(out)


def jobs(runs: int) -> dict[str, dict[str, list[str]]]:
    library = scenarios_dir()
    scenarios = sorted(p.relative_to(library).with_suffix("").as_posix() for p in library.rglob("*.yaml"))
    run_jobs = {f"run {s}": ["run", str(library / f"{s}.yaml"), "--runs", str(runs), "--seed", "1", "--quiet"]
                for s in scenarios}
    base = str(library / "baseline.yaml")
    analysis = {
        "compare": ["compare", base, str(library / "phased_exit.yaml"), str(library / "rapid_exit.yaml"),
                    "--runs", str(runs), "--seed", "1", "--quiet"],
        "sweep": ["sweep", base, "--lever", "exit_month=0:24:12", "--lever", "retaliation=none,leadership",
                  "--runs", "1000", "--seed", "1", "--quiet"],
        "sensitivity": ["sensitivity", base, "--samples", "256", "--seed", "1", "--quiet"],
        "morris": ["sensitivity", base, "--method", "morris", "--samples", "32", "--seed", "1", "--quiet"],
        "discover": ["discover", base, "--runs", "4000", "--seed", "1", "--quiet"],
        "backtest": ["backtest", "--runs", "1000", "--quiet"],
    }
    return {"run": run_jobs, "analysis": analysis}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--only", choices=["run", "analysis"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for group, table in jobs(args.runs).items():
            if args.only and group != args.only:
                continue
            for name, argv in table.items():
                print(f"{name:40s} {_job(name, argv, Path(tmp))}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
