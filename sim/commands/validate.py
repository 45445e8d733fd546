"""``iraqsim validate``: placeholder until implemented (issue 3)."""


def register(sub):
    p = sub.add_parser("validate", help="(not yet implemented)")
    p.set_defaults(func=lambda args: print("iraqsim validate: not implemented yet") or 1)
