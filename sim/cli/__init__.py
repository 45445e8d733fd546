"""The ``iraqsim`` command line: one module per command, over the library.

The top layer: only it knows about options, exit codes and the terminal. ``main.py`` parses the
command line and turns library errors into one line and an exit code; ``common.py`` holds what
commands share (scenario arguments, output folders). See docs/ARCHITECTURE.md.
"""

from sim.cli.main import main

__all__ = ["main"]
