"""``iraqsim report SCENARIO... [-o report.html]``: one self-contained HTML report."""

from __future__ import annotations

import shlex
from pathlib import Path

from sim.cli.common import (
    UserError,
    add_executor_options,
    check_executor_options,
    check_parent_writable,
    check_runs,
)
from sim.reporting.report import report
from sim.scenario.loading import load_scenario


def register(sub):
    p = sub.add_parser("report",
                       description="Run the scenarios with common random numbers and write one "
                                   "HTML file (figures embedded; opens offline, prints, reads on a phone).")
    p.add_argument("scenarios", nargs="+", metavar="SCENARIO", help="scenario YAML files")
    p.add_argument("-o", "--out", default="report.html", help="HTML file to write (default: report.html)")
    p.add_argument("--runs", type=int, help="runs per scenario (default: the first scenario's runs)")
    p.add_argument("--seed", type=int, help="seed (default: the first scenario's seed)")
    add_executor_options(p)
    p.add_argument("--title", help="title of the report")
    p.add_argument("--question", help="the question the report answers (default: generated)")
    p.add_argument("--quiet", action="store_true", help="no progress bar and no message")
    p.set_defaults(func=main)


def check_output_file(out: Path) -> None:
    """Fail with one line (``UserError``) if the report cannot be written at ``out``."""
    if out.exists() and out.is_dir():
        raise UserError(f"{out}: -o/--out is a folder; give a file name such as report.html")
    if out.suffix.lower() not in (".html", ".htm"):
        raise UserError(f"{out}: -o/--out must end in .html or .htm")
    check_parent_writable(out.resolve(), str(out))


def main(args) -> int:

    check_runs(args.runs)
    check_executor_options(args)
    out = Path(args.out)
    check_output_file(out)
    scenarios = [load_scenario(path) for path in args.scenarios]
    runs = scenarios[0].runs if args.runs is None else args.runs
    seed = scenarios[0].seed if args.seed is None else args.seed
    command = shlex.join(["iraqsim", "report", *args.scenarios, "-o", str(out),
                          "--runs", str(runs), "--seed", str(seed)])
    report(scenarios, out, runs=runs, seed=seed, title=args.title, question=args.question,
           sources=list(args.scenarios), command=command, workers=args.workers, dask=args.dask,
           progress=False if args.quiet else None)
    if not args.quiet:
        print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB, {len(scenarios)} scenarios, "
              f"{runs:,} runs each, seed {seed}); open it in any browser, no network needed")
    return 0
