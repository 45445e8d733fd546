"""``python -m sim`` does the same as the ``iraqsim`` command."""
import sys

from sim.cli import main

sys.exit(main())
