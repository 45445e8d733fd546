"""``python -m sim`` does the same as the ``iraqsim`` command."""
import os
import sys

from sim.cli import command

code = command()
if code in (130, 143):  # interrupted (Ctrl-C, SIGTERM), answered and cleaned up by ``main``
    # ``python -m`` would end this process with SIGINT instead of the code if the interrupt ever
    # passed through code a C extension ran with ``PyRun_String`` (pydantic-core does while it
    # imports), though ``main`` caught it; the ``iraqsim`` script exits with the code either way.
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)
sys.exit(code)
