"""``iraqsim list``: placeholder until implemented (issue 3)."""


def register(sub):
    p = sub.add_parser("list", help="(not yet implemented)")
    p.set_defaults(func=lambda args: print("iraqsim list: not implemented yet") or 1)
