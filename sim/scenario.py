"""Scenario files: schema, loading (with ``extends``), validation and parameter sampling.

A scenario declares, in the vocabulary of exploratory modelling:

* **levers** — the drawdown choices (``sim.levers``);
* **uncertainties** — any parameter given as a distribution under ``parameters``;
* **constants** — any parameter given as a number under ``parameters``;
* **events** — exogenous shocks by month (``sim.events``);
* **outcomes** — settings of the outcome measures (e.g. the resurgence threshold).

Errors a user can cause raise ``ScenarioError``, whose one-line message names the file, the key
path and what is allowed. YAML is read with ``yaml.safe_load`` only.
"""

from __future__ import annotations

import datetime as _dt
import difflib
import hashlib
import zlib
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import numpy as np
import yaml
from pydantic import (BaseModel, ConfigDict, Field, ValidationError, field_validator,
                      model_validator)

from .events import Event
from .levers import Levers
from .parameters import PARAMETERS


class ScenarioError(ValueError):
    """A problem in a scenario file (or other user input) that the user can fix.

    Args:
        source: The file (or ``<string>``) the problem is in.
        key: Dotted key path of the offending entry ('' for the whole file).
        message: What is wrong and what is allowed.
    """

    def __init__(self, source: str, key: str, message: str):
        self.source, self.key, self.message = str(source), key, message
        where = f"{self.source}: {key}: " if key else f"{self.source}: "
        super().__init__(where + " ".join(message.split()))


# ---------------------------------------------------------------------- distributions
class _Dist(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def ppf(self, u: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def support(self) -> tuple[float, float]:
        """Smallest and largest value the distribution can give (before clipping)."""
        return (-np.inf, np.inf)


class Uniform(_Dist):
    """Uniform between ``low`` and ``high``."""

    dist: Literal["uniform"]
    low: float
    high: float

    @model_validator(mode="after")
    def _order(self):
        if not self.low < self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        return self

    def ppf(self, u):
        return self.low + (self.high - self.low) * u

    def support(self):
        return (self.low, self.high)


class Normal(_Dist):
    """Normal with ``mean`` and ``sd``; draws are clipped to the parameter's bounds."""

    dist: Literal["normal"]
    mean: float
    sd: float = Field(gt=0)

    def ppf(self, u):
        from scipy.special import ndtri
        return self.mean + self.sd * ndtri(u)


class TruncNormal(_Dist):
    """Normal with ``mean`` and ``sd`` truncated to ``low``..``high``."""

    dist: Literal["truncnormal"]
    mean: float
    sd: float = Field(gt=0)
    low: float
    high: float

    @model_validator(mode="after")
    def _order(self):
        if not self.low < self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        return self

    def ppf(self, u):
        from scipy.stats import truncnorm
        a, b = (self.low - self.mean) / self.sd, (self.high - self.mean) / self.sd
        return truncnorm.ppf(u, a, b, loc=self.mean, scale=self.sd)

    def support(self):
        return (self.low, self.high)


class Triangular(_Dist):
    """Triangular with ``low`` <= ``mode`` <= ``high``."""

    dist: Literal["triangular"]
    low: float
    mode: float
    high: float

    @model_validator(mode="after")
    def _order(self):
        if not (self.low <= self.mode <= self.high and self.low < self.high):
            raise ValueError(f"need low <= mode <= high and low < high "
                             f"(got {self.low}, {self.mode}, {self.high})")
        return self

    def ppf(self, u):
        from scipy.stats import triang
        c = (self.mode - self.low) / (self.high - self.low)
        return triang.ppf(u, c, loc=self.low, scale=self.high - self.low)

    def support(self):
        return (self.low, self.high)


class LogNormal(_Dist):
    """Lognormal with ``median`` and log-sd ``sigma``; draws are clipped to the bounds."""

    dist: Literal["lognormal"]
    median: float = Field(gt=0)
    sigma: float = Field(gt=0)

    def ppf(self, u):
        from scipy.special import ndtri
        return self.median * np.exp(self.sigma * ndtri(u))

    def support(self):
        return (0.0, np.inf)


class Beta(_Dist):
    """Beta(``a``, ``b``) scaled to ``low``..``high`` (default 0..1)."""

    dist: Literal["beta"]
    a: float = Field(gt=0)
    b: float = Field(gt=0)
    low: float = 0.0
    high: float = 1.0

    @model_validator(mode="after")
    def _order(self):
        if not self.low < self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        return self

    def ppf(self, u):
        from scipy.stats import beta
        return self.low + (self.high - self.low) * beta.ppf(u, self.a, self.b)

    def support(self):
        return (self.low, self.high)


class Choice(_Dist):
    """One of ``values``, with optional ``weights`` (normalised)."""

    dist: Literal["choice"]
    values: list[float] = Field(min_length=1)
    weights: list[Annotated[float, Field(ge=0)]] | None = None

    @model_validator(mode="after")
    def _weights(self):
        if self.weights is not None:
            if len(self.weights) != len(self.values):
                raise ValueError("weights must have one entry per value")
            if sum(self.weights) <= 0:
                raise ValueError("weights must not all be zero")
        return self

    def ppf(self, u):
        w = np.asarray(self.weights if self.weights is not None else [1.0] * len(self.values), float)
        cdf = np.cumsum(w / w.sum())
        idx = np.minimum(np.searchsorted(cdf, u, side="right"), len(self.values) - 1)
        return np.asarray(self.values, float)[idx]

    def support(self):
        return (min(self.values), max(self.values))


Distribution = Annotated[Union[Uniform, Normal, TruncNormal, Triangular, LogNormal, Beta, Choice],
                         Field(discriminator="dist")]
DIST_KINDS = ["uniform", "normal", "truncnormal", "triangular", "lognormal", "beta", "choice"]


class FromPosterior(BaseModel):
    """Draw the parameter from a calibration posterior (``{from: posterior}``).

    Every parameter marked this way is drawn *jointly*: each run takes one row of the posterior
    sample (``seeds/<file>``, a Parquet table with one column per parameter name), so the
    correlations the calibration found are kept.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    from_: Literal["posterior"] = Field(alias="from")
    file: str = Field(default="posterior.parquet", pattern=r"^[A-Za-z0-9_.-]+\.parquet$")

    def support(self):
        return (-np.inf, np.inf)


ParamValue = Union[float, Distribution, FromPosterior]


# ---------------------------------------------------------------------- the scenario
class MilitiaGroup(BaseModel):
    """A militia group and its share of attacks."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    share: float = Field(gt=0, le=1)


class OutcomeSettings(BaseModel):
    """Settings of the outcome measures."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    resurgence_threshold: float = Field(default=10000, gt=0, le=1e6,
                                        description="ISIS fighters in Iraq that count as a "
                                                    "resurgence (assumption: several times the "
                                                    "2023 level, DB24-16).")


class Scenario(BaseModel):
    """A scenario: levers, uncertain parameters, events, horizon and run settings."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(default="default", pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
                      description="Short name; also the default output folder.")
    description: str = ""
    extends: str | None = Field(default=None, description="Scenario file this one inherits from "
                                "(path relative to this file).")
    start: str = Field(default="2024-01", description="Calendar month of month 0 (YYYY-MM).")
    horizon_months: int = Field(default=60, ge=2, le=600)
    runs: int = Field(default=1000, ge=1, le=100_000_000)
    seed: int = Field(default=0, ge=0, le=2**63 - 1)
    levers: Levers = Field(default_factory=Levers)
    events: list[Event] = Field(default_factory=list)
    parameters: dict[str, ParamValue] = Field(default_factory=dict)
    militias: list[MilitiaGroup] | None = Field(default=None, min_length=1)
    outcomes: OutcomeSettings = Field(default_factory=OutcomeSettings)

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
                raise ValueError(f"unknown parameter {name!r}{hint}")
            par = PARAMETERS[name]
            lo, hi = (value, value) if isinstance(value, (int, float)) else value.support()
            fixed_kinds = (int, float)
            if isinstance(value, fixed_kinds) and not (par.low <= value <= par.high):
                raise ValueError(f"{name} = {value} is out of range; allowed {par.low} to {par.high} ({par.unit})")
            if not isinstance(value, fixed_kinds) and np.isfinite(lo) and np.isfinite(hi) and (lo < par.low or hi > par.high):
                raise ValueError(f"{name}: distribution range {lo}..{hi} is outside the allowed "
                                 f"{par.low} to {par.high} ({par.unit})")
        return params

    @model_validator(mode="after")
    def _militia_shares(self):
        if self.militias is not None:
            names = [g.name for g in self.militias]
            if len(set(names)) != len(names):
                raise ValueError("militia group names must be unique")
            if abs(sum(g.share for g in self.militias) - 1) > 1e-6:
                raise ValueError("militia shares must add up to 1")
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
            out.update(_sample_posterior(posterior, n, seed, block))
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
        params = {name: par.default for name, par in PARAMETERS.items()}
        params.update(data["parameters"])
        data["parameters"] = params
        if data["militias"] is None:
            from .model import DEFAULT_MILITIAS
            data["militias"] = [{"name": n, "share": s} for n, s in DEFAULT_MILITIAS]
        return data

    def sha256(self) -> str:
        """Hash of the resolved scenario (provenance)."""
        text = yaml.safe_dump(self.resolved(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()

    def with_changes(self, **changes) -> "Scenario":
        """A validated copy with top-level fields replaced (e.g. ``levers=...``)."""
        data = self.model_dump(mode="python")
        data.update(changes)
        return Scenario.model_validate(data)


def _posterior_table(file: str):
    import pandas as pd
    from .paths import seeds_dir
    path = seeds_dir() / file
    if not path.is_file():
        raise ScenarioError(path, "parameters", "posterior file not found; run `iraqsim calibrate` first")
    return pd.read_parquet(path)


def _sample_posterior(specs: dict, n: int, seed: int, block: int) -> dict[str, np.ndarray]:
    """Joint draws of posterior rows: one row index per run, shared by all such parameters."""
    out = {}
    by_file: dict[str, list[str]] = {}
    for name, spec in specs.items():
        by_file.setdefault(spec.file, []).append(name)
    for file, names in sorted(by_file.items()):
        table = _posterior_table(file)
        missing = [nm for nm in names if nm not in table.columns]
        if missing:
            raise ScenarioError(file, f"parameters.{missing[0]}", "not in the posterior sample; "
                                f"it holds: {', '.join(map(str, table.columns))}")
        ss = np.random.SeedSequence(entropy=seed, spawn_key=(block, 2, zlib.crc32(file.encode())))
        rows = np.random.default_rng(ss).integers(0, len(table), n)
        for nm in names:
            par = PARAMETERS[nm]
            out[nm] = np.clip(table[nm].to_numpy(dtype=np.float64)[rows], par.low, par.high)
    return out


# ---------------------------------------------------------------------- loading
def _read_yaml(path: Path) -> dict:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(path, "", "file not found") from None
    except IsADirectoryError:
        raise ScenarioError(path, "", "is a directory, not a scenario file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(path, "", f"cannot be read ({exc.__class__.__name__})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ScenarioError(path, "", f"malformed YAML{where}: {problem}") from None
    if data is None:
        raise ScenarioError(path, "", "the file is empty; a scenario is a mapping of keys such as name, levers, parameters")
    if not isinstance(data, dict):
        raise ScenarioError(path, "", f"a scenario must be a mapping of keys, not a {type(data).__name__}")
    bad = [k for k in data if not isinstance(k, str)]
    if bad:
        raise ScenarioError(path, str(bad[0]), "keys must be text")
    return data


def _merge(parent: dict, child: dict) -> dict:
    """Child overrides parent; mappings merge key by key, except a posture with a new ``kind``."""
    out = dict(parent)
    for key, value in child.items():
        old = out.get(key)
        if isinstance(old, dict) and isinstance(value, dict) and not (
                "kind" in value and value.get("kind") != old.get("kind")):
            out[key] = _merge(old, value)
        else:
            out[key] = value
    return out


def _resolve(path: Path, chain: tuple[Path, ...]) -> dict:
    path = path.resolve()
    if path in chain:
        cycle = " -> ".join(p.name for p in chain + (path,))
        raise ScenarioError(chain[0], "extends", f"extends forms a cycle: {cycle}")
    data = _read_yaml(path)
    parent_ref = data.get("extends")
    if parent_ref is None:
        return data
    if not isinstance(parent_ref, str):
        raise ScenarioError(path, "extends", "must be the path of another scenario file")
    parent_path = (path.parent / parent_ref)
    if not parent_path.is_file():
        raise ScenarioError(path, "extends", f"{parent_ref!r} does not exist (looked in {path.parent})")
    parent = _resolve(parent_path, chain + (path,))
    merged = _merge({k: v for k, v in parent.items() if k not in ("extends",)}, data)
    merged.pop("extends", None)
    return merged


def _allowed_keys(loc: tuple) -> list[str]:
    """Field names valid at the location of an unknown key (for 'did you mean')."""
    from . import levers as lv, events as ev
    model = Scenario
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        if isinstance(model, type) and issubclass(model, BaseModel) and part in model.model_fields:
            ann = model.model_fields[part].annotation
            model = {"levers": lv.Levers, "outcomes": OutcomeSettings}.get(part, ann)
            if part == "posture":
                model = "posture"
            elif part == "events":
                model = "events"
            elif part == "militias":
                model = MilitiaGroup
            continue
        if model == "posture":
            model = {c.model_fields["kind"].default: c for c in
                     (lv.Hold, lv.Waypoints, lv.RapidExit, lv.ConditionsBased, lv.OverTheHorizon,
                      lv.KurdistanResidual)}.get(part)
        elif model == "events":
            model = {c.model_fields["kind"].default: c for c in
                     (ev.RegionalWar, ev.IsisAttackIran, ev.HighProfileStrike, ev.IranEconomicCrisis,
                      ev.ProtestCrackdown, ev.SyriaCollapse)}.get(part)
        else:
            return []
    if isinstance(model, type) and issubclass(model, BaseModel):
        return list(model.model_fields)
    return []


def _format_validation_error(exc: ValidationError) -> tuple[str, str]:
    err = exc.errors()[0]
    loc = tuple(err["loc"])
    # drop the discriminator tags and union-member names pydantic adds to the path
    tags = {"hold", "waypoints", "rapid_exit", "conditions_based", "over_the_horizon",
            "kurdistan_residual", "regional_war", "isis_attack_iran", "high_profile_strike",
            "iran_economic_crisis", "protest_crackdown", "syria_collapse", "float",
            "uniform", "normal", "truncnormal", "triangular", "lognormal", "beta", "choice",
            "function-after[_order(), Uniform]"}
    shown = [str(p) for p in loc if not (isinstance(p, str) and (p in tags or p.startswith(("function-", "tagged-union"))))]
    key = ".".join(shown)
    etype, msg = err["type"], err["msg"]
    if etype == "extra_forbidden":
        allowed = [k for k in _allowed_keys(loc) if k != "kind"]
        near = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        hint = f"did you mean {near[0]!r}? " if near else ""
        return key, f"unknown key; {hint}allowed: {', '.join(allowed)}" if allowed else "unknown key"
    if etype == "union_tag_invalid":
        ctx = err.get("ctx", {})
        return key, f"unknown kind {ctx.get('tag')!r}; allowed: {ctx.get('expected_tags')}"
    if etype == "union_tag_not_found":
        ctx = err.get("ctx", {})
        return key, f"missing {ctx.get('discriminator')}; give one of the allowed kinds"
    if etype == "enum":
        return key, f"{msg} (got {err.get('input')!r})"
    if etype == "missing":
        return key, "required key is missing"
    msg = msg.removeprefix("Value error, ")
    inp = err.get("input")
    if etype not in ("value_error",) and not isinstance(inp, (dict, list)):
        msg = f"{msg} (got {inp!r})"
    return key, msg


def scenario_from_dict(data: dict, source: str = "<dict>") -> Scenario:
    """Validate plain data as a scenario; errors become ``ScenarioError``."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        key, msg = _format_validation_error(exc)
        raise ScenarioError(source, key, msg) from None
    except (TypeError, ValueError, OverflowError) as exc:  # exotic YAML values
        raise ScenarioError(source, "", f"invalid value ({exc})") from None


def load_scenario(path: str | Path) -> Scenario:
    """Load, resolve (``extends``) and validate a scenario file.

    Raises:
        ScenarioError: with a one-line message naming the file, the key and what is allowed.
    """
    path = Path(path)
    data = _resolve(path, ())
    return scenario_from_dict(data, str(path))
