"""``iraqsim schema``: the JSON Schema of scenario files, for editors.

The schema is pydantic's ``Scenario.model_json_schema()`` with the ``parameters`` mapping spelled
out: every name in the parameter registry (``sim.model.parameters.PARAMETERS``) is a property whose
description gives its meaning, unit, allowed range, default and evidence, so an editor can
autocomplete names and flag unknown ones. See ``docs/scenarios.md`` for the VS Code wiring.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from sim._version import __version__
from sim.cli.common import UserError
from sim.model.parameters import PARAMETERS
from sim.scenario.schema import Scenario

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def register(sub):
    p = sub.add_parser("schema",
                       description="Print the JSON Schema of scenario files. Save it and point your "
                                   "editor at it (see docs/scenarios.md).")
    p.add_argument("--out", metavar="FILE", help="write the schema to FILE instead of printing it")
    p.set_defaults(func=main)


def _parameter_description(par) -> str:
    why = f" Evidence: {', '.join(par.evidence)}." if par.evidence else ""
    if par.assumption:
        why += f" {par.assumption[0].upper()}{par.assumption[1:]}"
    return (f"{par.doc} Unit: {par.unit}. Allowed {par.low:g} to {par.high:g}; default {par.default:g}. "
            f"A number, or a distribution such as {{dist: uniform, low: .., high: ..}}.{why}")


def scenario_json_schema() -> dict:
    """The JSON Schema (draft 2020-12) of a scenario file."""

    schema = Scenario.model_json_schema()
    params = schema["properties"]["parameters"]
    value = params.pop("additionalProperties")
    others = [alt for alt in value["anyOf"] if alt.get("type") != "number"]
    params["properties"] = {
        name: {"description": _parameter_description(par),
               "anyOf": [{"type": "number", "minimum": par.low, "maximum": par.high}, *others]}
        for name, par in PARAMETERS.items()}
    params["additionalProperties"] = False
    params["description"] = ("Model parameters by name (`iraqsim schema` lists them). Each is a fixed "
                             "number (a constant) or a distribution (an uncertainty).")
    start = schema["properties"]["start"]
    start["pattern"] = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
    schema["properties"]["levers"].setdefault("description", "The drawdown choices: posture, "
                                              "retaliation doctrine and aid.")
    schema["properties"]["extends"].pop("default", None)
    return {"$schema": SCHEMA_DIALECT, "title": f"iraqsim {__version__} scenario",
            **{k: v for k, v in schema.items() if k != "title"}}


def main(args) -> int:
    """Print (or write) the schema; return the exit code."""

    text = json.dumps(scenario_json_schema(), indent=2) + "\n"
    if args.out:
        out = Path(args.out)
        if out.is_dir():
            raise UserError(f"{args.out}: is a folder; give a file name such as iraqsim.schema.json")
        if not out.parent.is_dir():
            raise UserError(f"{args.out}: the folder {out.parent} does not exist")
        try:
            tmp = out.with_name(f".{out.name}.tmp")
            tmp.write_text(text)
            tmp.replace(out)
        except OSError as exc:
            raise UserError(f"{args.out}: cannot be written ({exc.strerror or exc})") from None
        return 0
    sys.stdout.write(text)
    return 0
