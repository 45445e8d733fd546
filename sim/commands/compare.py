"""``iraqsim compare``: placeholder until implemented (issue 3)."""


def register(sub):
    p = sub.add_parser("compare", help="(not yet implemented)")
    p.set_defaults(func=lambda args: print("iraqsim compare: not implemented yet") or 1)
