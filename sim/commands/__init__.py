"""Subcommands of ``iraqsim``; each module has ``register(subparsers)``."""
