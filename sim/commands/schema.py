"""``iraqsim schema``: placeholder until implemented (issue 3)."""


def register(sub):
    p = sub.add_parser("schema", help="(not yet implemented)")
    p.set_defaults(func=lambda args: print("iraqsim schema: not implemented yet") or 1)
