"""``python -m sim`` does the same as the ``iraqsim`` command."""
from sim.cli import console_main

console_main()
