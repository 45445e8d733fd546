"""``iraqsim exercises list|show N|run N|copy N|build``: the classroom exercises."""

from __future__ import annotations

from pathlib import Path

from sim.cli.common import UserError, add_executor_options, check_executor_options, check_runs, check_writable
from sim.teaching.exercises import (
    EXERCISES,
    ExerciseError,
    build_keys,
    copy_scenarios,
    get_exercise,
    render_sheet,
    run_exercise,
)


def register(sub):
    p = sub.add_parser("exercises",
                       description="Five classroom exercises on drawdown trade-offs "
                                   "(see docs/exercises/).")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION",
                               parser_class=type(p))
    a = actions.add_parser("list", help="list the exercises")
    a.set_defaults(func=cmd_list)

    a = actions.add_parser("show", help="print an exercise's sheet (setting, goals, commands, questions)")
    a.add_argument("number", type=int, help="exercise number (1-5)")
    a.set_defaults(func=cmd_show)

    a = actions.add_parser("run", help="run an exercise's scenarios; write figures, a table and a report")
    a.add_argument("number", type=int, help="exercise number (1-5)")
    a.add_argument("--runs", type=int, help="runs per scenario (default 4096)")
    a.add_argument("--seed", type=int, help="seed (default: the scenarios' seed)")
    a.add_argument("--out", help="output folder (default: results/exercises/N)")
    a.add_argument("--add", action="append", default=[], metavar="SCENARIO",
                   help="another scenario file to compare (replaces the exercise's scenario of the "
                        "same name); may be repeated")
    add_executor_options(a)
    a.add_argument("--quiet", action="store_true", help="print nothing but errors")
    a.set_defaults(func=cmd_run)

    a = actions.add_parser("copy", help="copy an exercise's scenario files to edit them")
    a.add_argument("number", type=int, help="exercise number (1-5)")
    a.add_argument("--to", help="folder (default: ./exercise-N)")
    a.add_argument("--force", action="store_true", help="overwrite files that exist")
    a.set_defaults(func=cmd_copy)

    a = actions.add_parser("build", help="regenerate the sheets and instructor keys from real runs")
    a.add_argument("--runs", type=int, help="runs per scenario (default 10000)")
    a.add_argument("--seed", type=int, help="seed (default: the scenarios' seed)")
    a.add_argument("--out", default="docs/exercises", help="folder (default: docs/exercises)")
    a.add_argument("--only", type=int, nargs="+", metavar="N", help="build only these exercises")
    a.add_argument("--quiet", action="store_true", help="print nothing but errors")
    a.set_defaults(func=cmd_build)


def _exercise(number):
    try:
        return get_exercise(number)
    except ExerciseError as exc:
        raise UserError(str(exc)) from None


def _check_runs(args):
    check_runs(args.runs)


def cmd_list(args) -> int:
    for ex in EXERCISES.values():
        print(f"{ex.number}. {ex.title}: {ex.summary}")
    print("\n`iraqsim exercises show N` prints an exercise; `iraqsim exercises run N` runs it.")
    return 0


def cmd_show(args) -> int:
    print(render_sheet(_exercise(args.number)))
    return 0


def cmd_run(args) -> int:

    ex = _exercise(args.number)
    _check_runs(args)
    check_executor_options(args)
    out = Path(args.out) if args.out else Path("results") / "exercises" / str(ex.number)
    check_writable(out)
    try:
        done = run_exercise(ex.number, out, runs=args.runs, seed=args.seed, add=args.add,
                            workers=args.workers, dask=args.dask,
                            progress=False if args.quiet else None)
    except ExerciseError as exc:
        raise UserError(str(exc)) from None
    if not args.quiet:
        print(f"exercise {ex.number}, {ex.title}: wrote {done.folder}/")
        print(f"  report (open in a browser): {done.report}")
        print(f"  key numbers:                {done.table}")
        if done.robustness:
            print(f"  robustness table:           {done.robustness}")
        for name, path in done.figures.items():
            print(f"  figure {name + ':':<20} {path}")
    return 0


def cmd_copy(args) -> int:
    ex = _exercise(args.number)
    dest = Path(args.to) if args.to else Path(f"exercise-{ex.number}")
    if dest.exists() and not dest.is_dir():
        raise UserError(f"{dest}: --to is a file; give a folder")
    try:
        written = copy_scenarios(ex.number, dest, force=args.force)
    except ExerciseError as exc:
        raise UserError(str(exc)) from None
    for path in written:
        print(path)
    return 0


def cmd_build(args) -> int:
    _check_runs(args)
    only = [_exercise(n).number for n in args.only] if args.only else None
    out = Path(args.out)
    check_writable(out)
    log = None if args.quiet else print
    written = build_keys(out, runs=args.runs, seed=args.seed, only=only,
                         progress=False if args.quiet else None, log=log)
    if not args.quiet:
        print(f"wrote {len(written)} files and folders under {out}/")
    return 0
