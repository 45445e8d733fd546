"""The ``iraqsim`` command: a thin shell over the Python API.

Each subcommand lives in its own module under ``sim.cli`` and exposes
``register(subparsers)``, which adds its parser and sets ``func`` to a function of the parsed
arguments returning an exit code. Errors a user can cause (``ScenarioError``, ``UserError``) are
printed as one line and exit with code 2; there is never a traceback for them.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from sim.cli.common import UserError, flag_of
from sim.scenario.errors import ArgumentError, ScenarioError

#: Subcommand modules in ``sim.cli``, in the order ``--help`` lists them.
COMMANDS = ["run", "compare", "validate", "schema", "list", "sweep", "sensitivity", "discover", "report", "exercises", "backtest", "calibrate"]


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2 (argparse's own convention)
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every registered subcommand."""
    from sim._version import __version__
    parser = _Parser(prog="iraqsim", description="Scenario simulation of US drawdown choices in Iraq.")
    parser.add_argument("--version", action="version", version=f"iraqsim {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    for name in COMMANDS:
        importlib.import_module(f"sim.cli.{name}").register(sub)
    return parser


def main(argv=None) -> int:
    """Entry point of the ``iraqsim`` console script."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ArgumentError as exc:  # a library argument, shown as the option that set it
        print(f"iraqsim: error: {ScenarioError(flag_of(exc.argument), exc.key, exc.message)}",
              file=sys.stderr)
        return 2
    except (ScenarioError, UserError) as exc:
        print(f"iraqsim: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("iraqsim: interrupted; nothing was written", file=sys.stderr)
        return 130
    except OSError as exc:
        if exc.filename is None:  # not about a file the user named: a bug, let it show
            raise
        # the file system refused a path (read-only, /proc, disk full): outputs are written
        # atomically, so nothing half-written is left behind
        print(f"iraqsim: error: {exc.filename}: cannot be written or read "
              f"({exc.strerror or exc.__class__.__name__})", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
