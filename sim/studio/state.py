"""The studio's state: the choices and uncertainties on the page, as a URL and as a scenario.

Everything a student can set lives in one frozen ``StudioState``. It travels in the page's URL
(``to_query`` / ``from_query``), so a teacher can share a link that opens the same choices, and
it becomes a ``Scenario`` (``scenario()``): the base scenario from the library with the levers
and the pinned uncertainties applied, which ``iraqsim validate`` accepts once written out.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode

import yaml

from sim.analysis.lever_settings import apply_levers
from sim.model.levers import Aid, ExitResponse, Retaliation
from sim.model.parameters import PARAMETERS
from sim.scenario.library import scenarios_dir
from sim.scenario.loading import load_scenario, scenario_from_dict
from sim.scenario.schema import Scenario

#: Runs a student may ask for: enough for smooth bands, few enough to stay live.
MIN_RUNS, MAX_RUNS = 1_000, 50_000
#: Postures offered, with the fields the page sets.
POSTURES = ("hold", "rapid_exit", "over_the_horizon", "kurdistan_residual")
#: The uncertainties that matter most for the key outcomes (docs/analysis.md: Sobol and Morris on
#: the baseline), in plain words, with the range a slider covers (the calibration's prior range).
UNCERTAINTIES = {
    "iraq.demand_threshold": ("Pressure it takes before Baghdad demands a US exit", 0.45, 0.95),
    "militia.lethality": ("US deaths per militia attack", 0.01, 0.12),
    "us.will_loss_per_fatality": ("Support lost at home for each US death", 0.005, 0.06),
    "isis.growth_rate": ("How fast ISIS recruits when no one presses it (per month)", 0.03, 0.10),
}
#: Library scenarios a class starts from: the top level and the exercises' (``exercises/...``).
BASES = tuple(sorted(p.relative_to(scenarios_dir()).with_suffix("").as_posix()
                     for folder in (scenarios_dir(), scenarios_dir() / "exercises")
                     for p in folder.glob("*.yaml")))


@dataclass(frozen=True)
class StudioState:
    """What the page shows: a base scenario, the levers, pinned uncertainties, runs and seed.

    ``pinned`` maps an uncertainty of ``UNCERTAINTIES`` to the value a student fixed it at;
    the others keep the scenario's distribution (the calibration's, for most).
    """

    base: str = "baseline"
    posture: str = "hold"
    troops: int = 2500
    exit_month: int = 12
    exit_months: int = 6
    residual: int = 900
    retaliation: str = Retaliation.PROPORTIONAL.value
    aid: str = Aid.MEDIUM.value
    exit_response: str = ExitResponse.NEGOTIATE.value
    pinned: tuple[tuple[str, float], ...] = ()
    runs: int = 10_000
    seed: int = 2024
    exercise: int = 0
    problems: tuple[str, ...] = field(default=(), compare=False)

    def replace(self, **changes) -> "StudioState":
        """A copy with fields changed (and brought into range)."""
        return clean(dataclasses.replace(self, **changes))

    def pin(self, name: str, value: float | None) -> "StudioState":
        """A copy with uncertainty ``name`` fixed at ``value`` (or uncertain again if None)."""
        rest = tuple((k, v) for k, v in self.pinned if k != name)
        return self.replace(pinned=rest if value is None else tuple(sorted(rest + ((name, value),))))

    # ------------------------------------------------------------------ the URL
    def to_query(self) -> str:
        """The state as a URL query string (what a shared link carries)."""
        items = [("base", self.base), ("posture", self.posture), ("troops", self.troops),
                 ("exit_month", self.exit_month), ("exit_months", self.exit_months),
                 ("residual", self.residual), ("retaliation", self.retaliation),
                 ("aid", self.aid), ("exit_response", self.exit_response), ("runs", self.runs),
                 ("seed", self.seed)]
        items += [(f"pin.{k}", f"{v:g}") for k, v in self.pinned]
        if self.exercise:
            items.append(("exercise", self.exercise))
        return urlencode(items)

    @classmethod
    def from_query(cls, query: str) -> "StudioState":
        """The state a query string describes; unknown keys and bad values are left at their
        defaults and listed in ``problems`` (a link typed by hand must not break the page)."""
        state, problems, pinned = cls(), [], []
        kinds = {f.name: f.type for f in dataclasses.fields(cls)}
        values = {}
        for key, text in parse_qsl(query.lstrip("?"), keep_blank_values=True):
            if key.startswith("pin."):
                name = key[4:]
                try:
                    pinned.append((name, float(text)))
                except ValueError:
                    problems.append(f"{key}: not a number")
                continue
            if key not in kinds or key in ("pinned", "problems"):
                problems.append(f"{key}: unknown setting")
                continue
            try:
                values[key] = int(text) if kinds[key] == "int" else text
            except ValueError:
                problems.append(f"{key}: not a whole number")
        state = clean(dataclasses.replace(state, pinned=tuple(sorted(pinned)), **values))
        return dataclasses.replace(state, problems=tuple(problems) + state.problems)

    # ------------------------------------------------------------------ the scenario
    def scenario(self) -> Scenario:
        """The scenario the page runs: the base from the library, the levers applied, the pinned
        uncertainties fixed."""
        base = load_scenario(self.base)
        posture = {"posture.kind": self.posture, "posture.troops": float(self.troops)}
        if self.posture != "hold":
            posture.update({"exit_month": self.exit_month, "posture.months": self.exit_months})
        if self.posture == "kurdistan_residual":
            posture["posture.residual"] = float(self.residual)
        scenario = apply_levers(base, {**posture, "retaliation": self.retaliation, "aid": self.aid,
                                       "exit_response": self.exit_response}, source="studio")
        data = scenario.model_dump(mode="python", by_alias=True)
        data["parameters"] = {**data["parameters"], **dict(self.pinned)}
        data["name"] = "studio"
        data["description"] = self.description()
        return scenario_from_dict(data, "studio")

    def description(self) -> str:
        """One line of what the choices are, for the downloaded scenario and the report."""
        pins = "; ".join(f"{UNCERTAINTIES[k][0].lower()} fixed at {v:g}" for k, v in self.pinned)
        return (f"Made in the iraqsim studio from {self.base}: {self.posture.replace('_', ' ')} "
                f"with {self.troops:,} troops, {self.retaliation} retaliation, {self.aid} aid, "
                f"{self.exit_response} if Baghdad demands an exit"
                + (f"; {pins}" if pins else "") + ".")

    def scenario_yaml(self) -> str:
        """The scenario as a YAML file that ``iraqsim validate`` accepts (every default filled
        in, ``{from: posterior}`` kept)."""
        header = (f"# Made in the iraqsim studio. Reopen it there with ?{self.to_query()}\n"
                  f"# Check it with: iraqsim validate FILE; run it with: iraqsim run FILE\n")
        return header + yaml.safe_dump(self.scenario().resolved(), sort_keys=False, allow_unicode=True)


def clean(state: StudioState) -> StudioState:
    """``state`` with every field in its allowed range; what had to change is in ``problems``."""
    problems = list(state.problems)
    fixed = {}

    def choose(name, value, allowed, default):
        if value not in allowed:
            problems.append(f"{name}: {value!r} is not one of {', '.join(map(str, allowed))}")
            fixed[name] = default
    choose("base", state.base, BASES, "baseline")
    choose("posture", state.posture, POSTURES, "hold")
    choose("retaliation", state.retaliation, [r.value for r in Retaliation], "proportional")
    choose("aid", state.aid, [a.value for a in Aid], "medium")
    choose("exit_response", state.exit_response, [r.value for r in ExitResponse], "negotiate")
    for name, low, high in (("troops", 0, 10_000), ("exit_month", 0, 120), ("exit_months", 1, 60),
                            ("residual", 0, 5_000), ("runs", MIN_RUNS, MAX_RUNS),
                            ("seed", 0, 2**31 - 1), ("exercise", 0, 5)):
        value = getattr(state, name)
        if not low <= value <= high:
            problems.append(f"{name}: {value:,} is outside {low:,} to {high:,}")
            fixed[name] = min(max(value, low), high)
    pinned = []
    for name, value in state.pinned:
        if name not in UNCERTAINTIES:
            problems.append(f"pin.{name}: not one of the studio's uncertainties")
            continue
        par = PARAMETERS[name]
        if not par.low <= value <= par.high:
            problems.append(f"pin.{name}: {value:g} is outside {par.low:g} to {par.high:g}")
            value = min(max(value, par.low), par.high)
        pinned.append((name, value))
    return dataclasses.replace(state, **fixed, pinned=tuple(sorted(pinned)), problems=tuple(problems))
