"""The ``iraqsim`` command line: one module per command, over the library.

The top layer: only it knows about options, exit codes and the terminal. ``main`` (here) is the
console script: it answers Ctrl-C and SIGTERM at any moment, even while the libraries load,
with one line and exit 130 or 143. ``app.py`` parses the command line and turns library errors
into one line and exit code 2; ``common.py`` holds what commands share (scenario arguments,
output folders). See docs/ARCHITECTURE.md.
"""

from __future__ import annotations

import os
import signal
import sys


class Terminated(BaseException):
    """SIGTERM (from ``kill``, ``timeout``, a scheduler), raised where the program is, so every
    ``finally`` and ``with`` cleans up as for Ctrl-C."""


def _terminate(signum, frame):
    raise Terminated()


def _interrupted(exc: BaseException) -> type | None:
    """``KeyboardInterrupt`` or ``Terminated`` if ``exc`` is, or was caused by, one.

    A signal that arrives inside compiled code can surface as a ``SystemError`` ("returned a
    result with an exception set") whose context is the interrupt.
    """
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, (KeyboardInterrupt, Terminated)):
            return type(exc)
        exc = exc.__cause__ or exc.__context__
    return None


def main(argv=None) -> int:
    """Entry point of the ``iraqsim`` console script (and ``python -m sim``)."""
    if signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
        signal.signal(signal.SIGTERM, _terminate)
    try:
        from sim.cli.app import run  # numpy, numba, pandas...: Ctrl-C may come while they load
        return run(argv)
    except BrokenPipeError:  # `iraqsim ... | head`: the reader left; leave quietly
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return 141
    except BaseException as exc:
        kind = _interrupted(exc)
        if kind is None:
            raise
        print("iraqsim: interrupted; nothing was written" if kind is KeyboardInterrupt
              else "iraqsim: terminated; nothing was written", file=sys.stderr)
        return 130 if kind is KeyboardInterrupt else 143


__all__ = ["Terminated", "main"]
