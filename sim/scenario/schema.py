"""The scenario schema: levers, uncertain parameters, events, horizon and run settings.

A scenario declares, in the vocabulary of exploratory modelling:

* **levers** — the drawdown choices (``sim.model.levers``);
* **uncertainties** — any parameter given as a distribution under ``parameters``
  (``sim.scenario.distributions``);
* **constants** — any parameter given as a number under ``parameters``;
* **events** — exogenous shocks by month (``sim.model.events``);
* **outcomes** — settings of the outcome measures (e.g. the resurgence threshold).

Reading files (YAML, ``extends``, library names) is ``sim.scenario.loading``.
"""

from __future__ import annotations

import datetime as _dt
import difflib
import hashlib
import zlib
from pathlib import Path
from typing import Any, Union

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from sim.model.events import Event
from sim.model.levers import Levers
from sim.model.settings import DEFAULT_MILITIAS, ModelSettings
from sim.model.outcomes import OutcomeSettings
from sim.model.parameters import PARAMETERS
from sim.scenario.distributions import Distribution, FromPosterior, posterior_table, sample_posterior
from sim.scenario.errors import KeyedValueError, ScenarioError

ParamValue = Union[float, Distribution, FromPosterior]

#: Most runs a job may ask for (the key ``runs`` and ``--runs``): a hundred million baseline runs
#: take hours on a laptop; more is a typo.
MAX_RUNS = 100_000_000

class MilitiaGroup(BaseModel):
    """A militia group and its share of attacks."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    share: float = Field(gt=0, le=1)


class Scenario(BaseModel):
    """A scenario: levers, uncertain parameters, events, horizon and run settings."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(default="default", pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
                      description="Short name; also the default output folder.")
    description: str = ""
    extends: str | None = Field(default=None, description="Scenario file this one inherits from "
                                "(path relative to this file).")
    start: str = Field(default="2024-01", description="Calendar month of month 0 (YYYY-MM).")
    horizon_months: int = Field(default=ModelSettings.horizon_months, ge=2, le=600)
    runs: int = Field(default=1000, ge=1, le=MAX_RUNS)
    seed: int = Field(default=0, ge=0, le=2**63 - 1)
    levers: Levers = Field(default_factory=Levers)
    events: list[Event] = Field(default_factory=list)
    parameters: dict[str, ParamValue] = Field(default_factory=dict)
    militias: list[MilitiaGroup] | None = Field(default=None, min_length=1)
    outcomes: OutcomeSettings = Field(default_factory=OutcomeSettings)
    posterior: str | None = Field(default=None, description="A calibration posterior (Parquet, "
                                  "as `iraqsim calibrate` writes) to draw every {from: posterior} "
                                  "parameter from, instead of the one the package ships; a path "
                                  "relative to this file.")

    @field_validator("start", mode="before")
    @classmethod
    def _start(cls, v):
        if isinstance(v, (_dt.date, _dt.datetime)):
            v = f"{v.year:04d}-{v.month:02d}"
        if not isinstance(v, str):
            raise ValueError("start must be a month like 2024-01")
        try:
            _dt.datetime.strptime(v, "%Y-%m")
        except ValueError:
            raise ValueError(f"start must be a month like 2024-01 (got {v!r})") from None
        return v

    @field_validator("parameters")
    @classmethod
    def _known_parameters(cls, params):
        for name, value in params.items():
            if name not in PARAMETERS:
                near = difflib.get_close_matches(name, PARAMETERS, n=1)
                hint = f"; did you mean {near[0]!r}?" if near else "; see `iraqsim schema`"
                raise KeyedValueError(name, f"unknown parameter{hint}")
            par = PARAMETERS[name]
            lo, hi = (value, value) if isinstance(value, (int, float)) else value.support()
            fixed_kinds = (int, float)
            if isinstance(value, fixed_kinds) and not (par.low <= value <= par.high):
                raise KeyedValueError(name, f"{value:g} is out of range; allowed {par.low:g} to "
                                      f"{par.high:g} ({par.unit})")
            if not isinstance(value, fixed_kinds) and np.isfinite(lo) and np.isfinite(hi) and (lo < par.low or hi > par.high):
                raise KeyedValueError(name, f"the distribution reaches {lo:g}..{hi:g}, outside the "
                                      f"allowed {par.low:g} to {par.high:g} ({par.unit})")
        return params

    @model_validator(mode="after")
    def _militia_shares(self):
        if self.militias is not None:
            names = [g.name for g in self.militias]
            if len(set(names)) != len(names):
                raise KeyedValueError("militias", "militia group names must be unique")
            total = sum(g.share for g in self.militias)
            if abs(total - 1) > 1e-6:
                raise KeyedValueError("militias", f"militia shares must add up to 1 (they add up to {total:g})")
        return self

    @model_validator(mode="after")
    def _posterior_holds_the_parameters(self, info: ValidationInfo):
        """Every ``{from: posterior}`` parameter is a column of its posterior sample (checked
        here, so ``validate`` catches what a run would find only at its first block)."""
        if info.context and not info.context.get("check_posterior", True):
            return self
        for name, spec in self.parameters.items():
            if not isinstance(spec, FromPosterior):
                continue
            key = "posterior" if self.posterior is not None else f"parameters.{name}"
            path = spec.path(self.posterior)
            try:
                table = posterior_table(path)
            except ScenarioError:
                raise KeyedValueError(key, f"posterior file {path} not found; `iraqsim calibrate "
                                      "--out DIR` writes one") from None
            if name not in table:
                raise KeyedValueError(f"parameters.{name}", f"not in the posterior sample {path}; "
                                      f"it holds: {', '.join(map(str, table.columns))}")
        return self

    # ------------------------------------------------------------------ parameters
    def fixed_parameters(self) -> dict[str, float]:
        """Parameters the scenario sets to a number."""
        return {k: float(v) for k, v in self.parameters.items() if isinstance(v, (int, float))}

    def uncertain_parameters(self) -> dict[str, Any]:
        """Parameters the scenario gives a distribution (the uncertainties), by name."""
        return {k: v for k, v in self.parameters.items() if not isinstance(v, (int, float))}

    def sample_parameters(self, n: int, seed: int, block: int = 0) -> dict[str, np.ndarray]:
        """Draw the uncertain parameters for one block of ``n`` replicas.

        Each parameter has its own stream derived from (seed, block, parameter name), so adding or
        changing one uncertainty leaves the others' draws unchanged (common random numbers), and
        a replica's draws depend only on the seed and its index.
        """
        out = {}
        posterior = {k: v for k, v in self.uncertain_parameters().items() if isinstance(v, FromPosterior)}
        if posterior:
            out.update(sample_posterior(posterior, n, seed, block, self.posterior))
        for name, dist in sorted(self.uncertain_parameters().items()):
            if name in posterior:
                continue
            ss = np.random.SeedSequence(entropy=seed, spawn_key=(block, 1, zlib.crc32(name.encode())))
            u = np.random.default_rng(ss).random(n)
            par = PARAMETERS[name]
            x = np.clip(np.asarray(dist.ppf(u), dtype=np.float64), par.low, par.high)
            if par.integer:
                x = np.round(x)
            out[name] = x
        return out

    # ------------------------------------------------------------------ calendar and identity
    def month_dates(self) -> list[_dt.date]:
        """Calendar date (first of the month) of each simulated month."""
        y, m = (int(x) for x in self.start.split("-"))
        return [_dt.date(y + (m - 1 + i) // 12, (m - 1 + i) % 12 + 1, 1) for i in range(self.horizon_months)]

    def resolved(self) -> dict:
        """The scenario as plain data with every default filled in and ``extends`` applied."""
        data = self.model_dump(mode="json", exclude={"extends"}, by_alias=True)
        if data["posterior"] is None:
            del data["posterior"]
        params = {name: par.default for name, par in PARAMETERS.items()}
        params.update(data["parameters"])
        data["parameters"] = params
        if data["militias"] is None:
            data["militias"] = [{"name": n, "share": s} for n, s in DEFAULT_MILITIAS]
        return data

    def posterior_files(self) -> list[Path]:
        """The posterior samples this scenario draws from (for the provenance)."""
        return sorted({spec.path(self.posterior) for spec in self.parameters.values()
                       if isinstance(spec, FromPosterior)})

    def sha256(self) -> str:
        """Hash of the resolved scenario (provenance)."""
        text = yaml.safe_dump(self.resolved(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()

    def with_changes(self, **changes) -> "Scenario":
        """A validated copy with top-level fields replaced (e.g. ``levers=...``)."""
        data = self.model_dump(mode="python")
        data.update(changes)
        return Scenario.model_validate(data)


