"""``iraqsim list``: the scenario library, one line per scenario.

Lists every ``*.yaml`` under the library folder (``sim.scenario.library.scenarios_dir()``), subfolders such
as ``history/`` and ``exercises/`` included, with the first sentence of its description. The
names it prints can be given to ``run``, ``compare`` and ``validate`` as they are.
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

from sim.scenario.errors import ScenarioError
from sim.scenario.library import scenarios_dir
from sim.scenario.loading import load_scenario


def register(sub):
    p = sub.add_parser("list",
                       description="List the scenario library (the names work with run, compare "
                                   "and validate).")
    p.add_argument("--paths", action="store_true", help="print full file paths instead of names")
    p.set_defaults(func=main)


def first_sentence(text: str) -> str:
    """The first sentence of a description, on one line."""
    text = " ".join(str(text or "").split())
    match = re.match(r"(.+?[.!?])(\s|$)", text)
    return match.group(1) if match else text


def library_entries(folder: Path | None = None) -> list[tuple[str, Path, str]]:
    """``(name, path, one-line description)`` of every scenario in the library, sorted.

    Top-level scenarios come first, then each subfolder. An invalid file is listed with its
    error instead of a description.
    """

    folder = Path(folder) if folder is not None else scenarios_dir()
    files = sorted(folder.rglob("*.yaml"), key=lambda p: (len(p.relative_to(folder).parts) > 1,
                                                           p.relative_to(folder).as_posix()))
    entries = []
    for path in files:
        name = path.relative_to(folder).with_suffix("").as_posix()
        try:
            text = first_sentence(load_scenario(path).description) or "(no description)"
        except ScenarioError as exc:
            text = f"INVALID: {exc.key + ': ' if exc.key else ''}{exc.message}"
        entries.append((name, path, text))
    return entries


def main(args) -> int:
    """Print the library; return the exit code."""

    entries = library_entries()
    if not entries:
        print(f"no scenarios in {scenarios_dir()}")
        return 0
    width = shutil.get_terminal_size((110, 24)).columns
    labels = [str(p) if args.paths else n for n, p, _ in entries]
    pad = max(len(s) for s in labels) + 2
    print(f"Scenario library in {scenarios_dir()} (run one with: iraqsim run NAME)")
    group = None
    for label, (name, _, text) in zip(labels, entries):
        folder = name.rsplit("/", 1)[0] if "/" in name else ""
        if folder != group:
            group = folder
            if folder:
                print(f"\n{folder}/")
        room = max(width - pad - 1, 30) if sys.stdout.isatty() else 10**6
        line = text if len(text) <= room else text[:room - 3] + "..."
        print(f"{label:<{pad}}{line}")
    return 0
