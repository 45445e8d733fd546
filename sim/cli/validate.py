"""``iraqsim validate FILE...``: check scenario files against the schema, without running them.

Each file gets one line: ``ok`` with a short description on standard output, or the one-line
error on standard error. A folder stands for every ``*.yaml`` file under it. The exit code is 0
when every file is valid and 2 otherwise.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

from sim.cli.common import scenario_path
from sim.scenario.errors import ScenarioError
from sim.scenario.loading import load_scenario, parent_file, scenario_file


def register(sub):
    p = sub.add_parser("validate",
                       description="Check scenario files (and their extends chains) without running "
                                   "them. Exit code 0 if all are valid, 2 otherwise.")
    p.add_argument("files", nargs="+", metavar="FILE",
                   help="scenario files, library names, or folders (every *.yaml under them)")
    p.add_argument("--quiet", action="store_true", help="print only errors")
    p.set_defaults(func=main)


def expand(args: list[str]) -> list[str]:
    """Files named on the command line; a folder stands for its ``*.yaml`` files (recursively)."""
    files = []
    for arg in args:
        path = Path(arg)
        if path.is_dir():
            found = sorted(str(p) for p in path.rglob("*.yaml"))
            files.extend(found or [arg])  # an empty folder is reported as "is a folder"
        else:
            files.append(scenario_path(arg))
    return files


def describe(scenario) -> str:
    """One line on what a valid scenario does."""
    posture = scenario.levers.posture.kind
    uncertain = len(scenario.uncertain_parameters())
    return (f"{scenario.name}: posture {posture}, retaliation {scenario.levers.retaliation.value}, "
            f"{scenario.horizon_months} months from {scenario.start}, {len(scenario.events)} events, "
            f"{uncertain} uncertain parameters, {scenario.runs:,} runs")


def inherits(file: str) -> str:
    """``; extends baseline from the library`` (or from a file beside it), or ''."""

    try:
        ref = (yaml.safe_load(Path(file).read_text(encoding="utf-8")) or {}).get("extends")
    except (OSError, yaml.YAMLError, AttributeError):
        return ""
    if not isinstance(ref, str):
        return ""
    path, _, library = parent_file(Path(file), ref)
    if library:
        return f"; extends {ref} from the library"
    shadowed = scenario_file(ref) != ref  # a library scenario of that name exists too
    return f"; extends {path}" + (f", a file beside it, not the library's {ref}" if shadowed else "")


def main(args) -> int:
    """Validate every file; return 0 if all are valid, else 2."""

    failed = 0
    for file in expand(args.files):
        try:
            scenario = load_scenario(file)
        except ScenarioError as exc:
            failed += 1
            for line in str(exc).splitlines():  # every problem in the file, one line each
                print(f"iraqsim: error: {line}", file=sys.stderr)
            continue
        if not args.quiet:
            print(f"ok  {file}  ({describe(scenario)}{inherits(file)})")
    return 2 if failed else 0
