"""The ``iraqsim`` command: a thin shell over the Python API.

Each subcommand lives in its own module under ``sim.cli`` and exposes
``register(subparsers)``, which adds its parser and sets ``func`` to a function of the parsed
arguments returning an exit code; only the module of the command given is imported. Errors a user can cause (``ScenarioError``, ``UserError``) are
printed as one line and exit with code 2; there is never a traceback for them.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from sim._version import __version__
from sim.cli.common import UserError, flag_of
from sim.scenario.errors import ArgumentError, ScenarioError

#: Subcommands: each is a module of ``sim.cli``, listed by ``--help`` in this order with this line.
COMMANDS = {
    "run": "run a scenario and write outcomes, quantiles, summary and plots",
    "compare": "run several scenarios with common random numbers, side by side",
    "validate": "check scenario files against the schema (exit 0 or 2)",
    "schema": "print the JSON Schema of scenario files (for editors)",
    "list": "list the scenario library with one-line descriptions",
    "sweep": "sweep levers over a grid (common random numbers): table, trade-off plot, robustness table",
    "sensitivity": "global sensitivity of outcomes to the scenario's uncertain parameters (SALib Sobol or Morris)",
    "discover": "scenario discovery: which uncertain-parameter combinations lead to an outcome (PRIM boxes and a CART tree)",
    "report": "compare scenarios and write one self-contained HTML report",
    "exercises": "classroom exercises: list, show, run, copy, build keys",
    "backtest": "replay the 2011, 2020 and 2023-24 episodes and check the model against the articles' figures (exit 1 if any target fails)",
    "studio": "serve the classroom studio: a local page where choices re-run thousands of replicas live",
    "calibrate": "calibrate uncertain parameters to the history episodes (rejection ABC); writes a posterior sample and a diagnostic plot",
}


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2 (argparse's own convention)
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser(argv=None) -> argparse.ArgumentParser:
    """The argument parser. Only the command ``argv`` names is loaded and registered in full (its
    module imports what it needs, from plotting to SALib); the others are listed by name and
    purpose, so a command starts without loading what only another one uses."""
    parser = _Parser(prog="iraqsim", description="Scenario simulation of US drawdown choices in Iraq.")
    parser.add_argument("--version", action="version", version=f"iraqsim {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    args = list(sys.argv[1:] if argv is None else argv)
    chosen = next((a for a in args if not a.startswith("-")), None)
    for name, purpose in COMMANDS.items():
        if name == chosen:
            importlib.import_module(f"sim.cli.{name}").register(sub)
        else:
            sub.add_parser(name, help=purpose, add_help=False)
    return parser


def run(argv=None, drawing=None) -> int:
    """Parse ``argv``, run the command, and turn what a user can cause into one line and an exit
    code: 2 for bad input or a file that cannot be read or written. Interrupts are handled by
    ``sim.cli.main``, which also covers the time the libraries take to load. ``drawing``: the
    ``sim.reporting.drawing.Drawing`` ``main`` started for a command that draws (``args.drawing``;
    without one, the command starts its own)."""
    args = build_parser(argv).parse_args(argv)
    args.drawing = drawing
    try:
        if getattr(args, "out", None) is not None and not str(args.out).strip():
            raise UserError("--out: empty; give a folder (or leave --out out for the default)")
        return int(args.func(args) or 0)
    except ArgumentError as exc:  # a library argument, shown as the option that set it
        print(f"iraqsim: error: {ScenarioError(flag_of(exc.argument), exc.key, exc.message)}",
              file=sys.stderr)
        return 2
    except (ScenarioError, UserError) as exc:
        for line in str(exc).splitlines():
            print(f"iraqsim: error: {line}", file=sys.stderr)
        return 2
    except OSError as exc:
        if isinstance(exc, BrokenPipeError):
            raise  # a closed pipe is not an error of the job; sim.cli.main exits quietly
        # the file system refused (read-only, /proc, disk full): outputs are written
        # atomically, so nothing half-written is left behind
        where = exc.filename or getattr(args, "out", None) or "output"
        cause = exc.strerror or str(exc) or exc.__class__.__name__
        print(f"iraqsim: error: {where}: cannot be written or read ({' '.join(cause.split())})",
              file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(run())
