"""The evidence base: claims from the five articles, and what in the model cites them.

``seeds/claims.yaml`` holds the claims (paraphrased, with figures and the mechanisms they
support); ``seeds/targets.yaml`` the calibration targets. This module loads them and maps each
mechanism M1..M12 to the methods that implement it and the claims those methods cite, so tests,
docs and reports can trace every rule to its source.
"""

from __future__ import annotations

import inspect
import re
from functools import lru_cache

import yaml

from sim.model import actors as agents
from sim.model import events, model
from sim.scenario.library import seeds_dir

CLAIM_ID = re.compile(r"\b(?:POL20|DB24|FP23|RCD20|WP20)-\d{2}\b")
MECHANISM_ID = re.compile(r"\bM(1[0-6]|[1-9])\b")

MECHANISMS = {
    "M1": "ISF capability grows with US training and advising, decays without it",
    "M2": "CT pressure on ISIS = ISF + US direct CT + Syria raids + PMF contribution",
    "M3": "ISIS grows by recruitment and inflow, attrited by CT, resurges fast below a threshold",
    "M4": "Iraq basing enables Syria operations; the Syria reservoir crosses into Iraq",
    "M5": "Iran-backed militias attack US forces; some attacks kill",
    "M6": "US retaliation doctrine: deterrence and cohesion against sovereignty backlash and escalation",
    "M7": "Withdrawal pressure, the parliamentary vote and the government's exit demand",
    "M8": "Cooperation: the common enemy binds; tension divides",
    "M9": "Iran wants the US out but fears ISIS and war; sanctions; it fills vacuums",
    "M10": "US domestic will erodes with casualties and a passive partner",
    "M11": "Government control over militias and legitimacy",
    "M12": "Exogenous shocks scheduled by the scenario",
    "M13": "Militia campaigns have momentum and answer each US strike with restraint or defiance",
    "M14": "Ending the presence is a process: resolution, demand, negotiation, timetable, withdrawal",
    "M15": "Return by invitation: after an exit Baghdad can ask US forces back when ISIS threatens",
    "M16": "ISIS as fighters, supporters, territory and an attack tempo: insurgent and territorial phases",
}


@lru_cache(maxsize=1)
def claims() -> dict[str, dict]:
    """All claims by id."""
    data = yaml.safe_load((seeds_dir() / "claims.yaml").read_text(encoding="utf-8"))
    return {c["id"]: c for c in data["claims"]}


@lru_cache(maxsize=1)
def sources() -> dict[str, dict]:
    """The five articles by short key (POL20, DB24, FP23, RCD20, WP20)."""
    data = yaml.safe_load((seeds_dir() / "claims.yaml").read_text(encoding="utf-8"))
    return data["sources"]


def targets() -> list[dict]:
    """Calibration targets (``seeds/targets.yaml``)."""
    data = yaml.safe_load((seeds_dir() / "targets.yaml").read_text(encoding="utf-8"))
    return data["targets"]


def citation(claim_id: str) -> str:
    """Human citation of a claim: outlet and date, e.g. ``Politico 2020-01-03``."""
    src = sources()[claims()[claim_id]["source"]]
    return f"{src['outlet']} {src['date']}"


def mechanism_map() -> dict[str, list[dict]]:
    """Each mechanism id -> the methods implementing it, with the claim ids each cites.

    A method implements a mechanism when its docstring names the id (``M5``); events are M12.
    """

    out: dict[str, list[dict]] = {m: [] for m in MECHANISMS}
    holders = [agents.Iran, agents.Militia, agents.UnitedStates, agents.IraqiGovernment,
               agents.ISIS, model.DrawdownModel]
    for cls in holders:
        for name, fn in inspect.getmembers(cls, inspect.isfunction):
            doc = inspect.getdoc(fn) or ""
            first = doc.split("\n\n")[0] + "\n" + doc
            mids = sorted(set("M" + g for g in MECHANISM_ID.findall(first.split(":")[0] + " " + doc[:200])))
            for mid in mids:
                out[mid].append({"where": f"{cls.__name__}.{name}",
                                 "summary": doc.splitlines()[0] if doc else "",
                                 "claims": sorted(set(CLAIM_ID.findall(doc)))})
    ev_doc = inspect.getdoc(events) or ""
    out["M12"].append({"where": "sim.model.events", "summary": ev_doc.splitlines()[0],
                       "claims": sorted(set(CLAIM_ID.findall(ev_doc)))})
    return out
