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
import functools
import hashlib
import os
import types
import zlib
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

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
        where = f"{_printable(self.source)}: {_printable(key)}: " if key else f"{_printable(self.source)}: "
        super().__init__(where + " ".join(message.split()))


def _printable(text: str) -> str:
    """``text`` with control characters escaped, so an error message stays on one line."""
    return text if text.isprintable() else text.encode("unicode_escape").decode("ascii")


class KeyedValueError(ValueError):
    """A validator's error about a key below the validated field (e.g. one parameter's name).

    Pydantic reports a field validator's error at the field itself; ``key`` is the rest of the
    path (``isis.growth_rate`` under ``parameters``), so the message can name the exact key.
    """

    def __init__(self, key: str, message: str):
        self.key = key
        super().__init__(message)


# ---------------------------------------------------------------------- distributions
class _Dist(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

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
        # scipy.stats.triang's quantile, written out: the same operations, so the same values
        # (a test compares them), without importing scipy.stats (~0.6 s a process)
        c = (self.mode - self.low) / (self.high - self.low)
        u = np.asarray(u, dtype=np.float64)
        q = np.where(u < c, np.sqrt(c * u), 1 - np.sqrt((1 - c) * (1 - u)))
        return q * (self.high - self.low) + self.low

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


#: The Beta quantile by table (``_beta_ppf``): equal intervals of u, and how near Boost's
#: quantile (in its units in the last place) an interval's interpolant must come at five points
#: inside it for the table to be used there.
BETA_TABLE_INTERVALS = 1024
BETA_TABLE_ULPS = 8


def _beta_boost(u, a, b):
    """The Beta(a, b) quantile of ``u`` in [0, 1] by ``scipy.special.betaincinv`` (Boost's).

    ``scipy.stats.beta.ppf`` wraps the same Boost routine in another ufunc (other settings), at
    the same speed (~0.8 µs a value here). Wherever it is accurate it gives the same values
    (SciPy 1.17; within a few units in the last place in other releases), but it is not always
    accurate: for Beta(0.5, 2) below u ~1e-8 its values miss the CDF by up to 96%. A test
    compares the two and checks the inversion.

    Where its root finding gives up (u below ~1e-290, which no sampler here produces), the value
    comes from the ufunc behind ``scipy.stats``. Neither call imports ``scipy.stats`` (~0.6 s a
    process) unless a SciPy version lacks that ufunc.
    """
    from scipy.special import betaincinv
    u = np.asarray(u, dtype=np.float64)
    q = betaincinv(float(a), float(b), u)
    lost = np.isnan(q) & ~np.isnan(u)
    if lost.any():
        try:
            from scipy.special._ufuncs import _beta_ppf as quantile
        except ImportError:  # pragma: no cover - depends on the SciPy version
            from scipy.stats import beta
            quantile = beta.ppf
        q[lost] = quantile(u[lost], float(a), float(b))
    return q


def _beta_horner(coefficients, j, t):
    """The interpolant of interval ``j`` at ``t`` in [0, 1]: its value at 0 plus a quintic in t
    (the rounding falls on the small increment, not on the quantile)."""
    c = coefficients[j]
    rise = c[:, 5] * t
    for k in (4, 3, 2, 1):
        rise += c[:, k]
        rise *= t
    return c[:, 0] + rise


@functools.lru_cache(maxsize=64)
def _beta_table(a: float, b: float) -> tuple[np.ndarray, np.ndarray]:
    """Per interval of u: the coefficients of the quintic matching Boost's quantile and its exact
    first and second derivatives at both ends, and whether it is used (``_beta_ppf``).

    Built once per process and (a, b) (~5 ms: Boost's quantile at 6,145 points). The derivatives
    of the quantile q(u) follow from the density f: q' = 1/f(q), q'' = -q'^2 f'(q)/f(q). Where
    they are not finite (the ends, for most shapes) the interval is not used.
    """
    from scipy.special import betaln
    n = BETA_TABLE_INTERVALS
    q = _beta_boost(np.arange(n + 1) / n, a, b)
    with np.errstate(all="ignore"):
        slope = np.exp(betaln(a, b) - (a - 1) * np.log(q) - (b - 1) * np.log1p(-q)) / n
        bend = -slope * slope * ((a - 1) / q - (b - 1) / (1 - q))
        y0, y1, d0, d1, s0, s1 = q[:-1], q[1:], slope[:-1], slope[1:], bend[:-1], bend[1:]
        rise = y1 - y0
        coefficients = np.column_stack([
            y0, d0, s0 / 2,
            10 * rise - 6 * d0 - 4 * d1 - (3 * s0 - s1) / 2,
            -15 * rise + 8 * d0 + 7 * d1 + (3 * s0 - 2 * s1) / 2,
            6 * rise - 3 * (d0 + d1) - (s0 - s1) / 2])
        used = np.isfinite(coefficients).all(axis=1)
        intervals = np.arange(n)
        for t in (0.125, 0.25, 0.5, 0.75, 0.875):
            want = _beta_boost((intervals + t) / n, a, b)
            got = _beta_horner(coefficients, intervals, np.full(n, t))
            used &= np.abs(got - want) <= BETA_TABLE_ULPS * np.spacing(want)
    coefficients[~used] = 0.0
    return coefficients, used


def _beta_ppf(u, a, b):
    """The Beta(a, b) quantile of ``u`` in [0, 1], within a few units in the last place of Boost's.

    Boost's inverse (``_beta_boost``) costs ~0.7 µs a value, ~5% of a block of the baseline. Here
    ``u`` falls in one of ``BETA_TABLE_INTERVALS`` equal intervals, and its quantile is that
    interval's quintic interpolant (``_beta_table``): ~0.1 µs a value. An interval whose
    interpolant strays more than ``BETA_TABLE_ULPS`` from Boost's quantile at five points inside
    it (the steep tails), or whose derivatives are not finite (the ends), uses Boost's. A value
    depends only on ``u``, ``a`` and ``b``, so runs stay reproducible wherever they are computed.
    Tests compare with Boost and with ``scipy.stats`` and check the inversion of the CDF.
    """
    u = np.asarray(u, dtype=np.float64)
    flat = u.reshape(-1)
    coefficients, used = _beta_table(float(a), float(b))
    n = BETA_TABLE_INTERVALS
    scaled = flat * n  # exact: n is a power of two
    j = np.clip(np.nan_to_num(scaled, nan=0.0), 0, n - 1).astype(np.intp)
    q = _beta_horner(coefficients, j, scaled - j)
    boost = ~used[j] | np.isnan(flat)
    if boost.any():
        q[boost] = _beta_boost(flat[boost], a, b)
    return q.reshape(u.shape)


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
        return self.low + (self.high - self.low) * _beta_ppf(u, self.a, self.b)

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

    def marginal_ppf(self, name: str, u: np.ndarray) -> np.ndarray:
        """Quantiles of parameter ``name``'s marginal in the posterior sample (for designs such
        as Sobol or Morris that need one variable at a time; the joint correlations are lost)."""
        column = _posterior_table(self.file)[name].to_numpy(dtype=np.float64)
        return np.quantile(column, np.clip(u, 0.0, 1.0))


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
    """The posterior sample ``file`` of ``seeds/`` (read once per process while it is unchanged)."""
    from .paths import seeds_dir
    path = seeds_dir() / file
    if not path.is_file():
        raise ScenarioError(path, "parameters", "posterior file not found; run `iraqsim calibrate` first")
    stat = path.stat()
    return _read_posterior(str(path), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=4)
def _read_posterior(path: str, mtime_ns: int, size: int):
    """Read a posterior table; cached by path, modification time and size (every block needs it)."""
    import pandas as pd
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
def _duplicate_key(text: str) -> tuple[str, int, int] | None:
    """The first key given twice in one mapping, as (key path, first line, second line), or None.

    Plain YAML keeps the last of two equal keys, so a repeated key would silently override the
    first; a scenario treats it as an error instead. The check walks the composed node tree
    (``yaml.compose`` with the safe loader builds no Python objects); merge keys (``<<``) are
    allowed, and a node reached twice through an alias is visited once.
    """
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    stack, visited = ([(root, "")] if root is not None else []), set()
    while stack:
        node, path = stack.pop()
        if id(node) in visited:
            continue
        visited.add(id(node))
        if isinstance(node, yaml.MappingNode):
            seen: dict[tuple[str, str], int] = {}
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.tag != "tag:yaml.org,2002:merge":
                    ident = (key.tag, key.value)
                    if ident in seen:
                        return f"{path}{key.value}", seen[ident] + 1, key.start_mark.line + 1
                    seen[ident] = key.start_mark.line
            stack.extend((value, f"{path}{getattr(key, 'value', '?')}.")
                         for key, value in reversed(node.value))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, f"{path}{i}.") for i, item in reversed(list(enumerate(node.value))))
    return None


def _read_yaml(path: Path, shown: str | None = None) -> dict:
    """Read one scenario file as a mapping (no ``extends`` resolution).

    Args:
        path: The file.
        shown: How to name the file in error messages (default: ``path`` as given).

    Raises:
        ScenarioError: the file is missing, unreadable, not YAML, empty or not a mapping.
    """
    shown = str(path) if shown is None else shown
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(shown, "", "no such file; check the path (`iraqsim list` shows the "
                                       "scenario library)") from None
    except IsADirectoryError:
        raise ScenarioError(shown, "", "is a folder, not a scenario file") from None
    except UnicodeDecodeError as exc:
        raise ScenarioError(shown, "", f"is not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    except OSError as exc:
        raise ScenarioError(shown, "", f"cannot be read ({exc.strerror or exc.__class__.__name__})") from None
    try:
        data = yaml.safe_load(text)
        duplicate = _duplicate_key(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ScenarioError(shown, "", f"malformed YAML{where}: {problem}") from None
    except RecursionError:
        raise ScenarioError(shown, "", "malformed YAML: nested too deeply") from None
    if duplicate:
        key, first, second = duplicate
        raise ScenarioError(shown, key, f"given twice (lines {first} and {second}); keep one")
    if data is None:
        raise ScenarioError(shown, "", "the file is empty; a scenario is a mapping of keys "
                                       "such as name, levers, parameters")
    if not isinstance(data, dict):
        kind = {"list": "a list", "str": "plain text"}.get(type(data).__name__, f"a {type(data).__name__}")
        raise ScenarioError(shown, "", f"a scenario must be a mapping of keys (key: value lines), "
                                       f"not {kind}")
    bad = [k for k in data if not isinstance(k, str)]
    if bad:
        raise ScenarioError(shown, str(bad[0]), "keys must be text (quote it, or use a key such as "
                                                "name, levers, parameters)")
    return data


_TAGS = ("kind", "dist", "from")


def _merge(parent: dict, child: dict) -> dict:
    """Child overrides parent; mappings merge key by key.

    A mapping that names a different ``kind`` (posture), ``dist`` (distribution) or ``from``
    than the parent's replaces it whole: a child's ``{dist: uniform, low: .., high: ..}`` over a
    parent's ``{from: posterior}`` is a new distribution, not a mixture of the two.
    """
    out = dict(parent)
    for key, value in child.items():
        old = out.get(key)
        if isinstance(old, dict) and isinstance(value, dict) and not any(
                tag in value and value.get(tag) != old.get(tag) for tag in _TAGS):
            out[key] = _merge(old, value)
        else:
            out[key] = value
    return out


def _resolve(path: Path, chain: tuple = (), shown: str | None = None) -> dict:
    """Read ``path`` and apply its ``extends`` chain; every parent is validated on its own.

    Args:
        path: The scenario file.
        chain: ``(resolved path, shown name)`` of the files that led here (cycle detection).
        shown: How to name ``path`` in messages (default: as given).

    Raises:
        ScenarioError: naming the file in which the problem is (a parent's own errors name the
            parent).
    """
    shown = str(path) if shown is None else shown
    path = Path(path)
    real = path.resolve()
    if any(real == p for p, _ in chain):
        names = [Path(s).name for _, s in chain] + [path.name]
        raise ScenarioError(chain[-1][1], "extends", f"extends forms a cycle: {' -> '.join(names)}; "
                                                     "remove one of these extends")
    data = _read_yaml(path, shown)
    parent_ref = data.get("extends")
    if parent_ref is None:
        return data
    if not isinstance(parent_ref, str) or not parent_ref.strip():
        raise ScenarioError(shown, "extends", "must be the path of another scenario file, relative to "
                                              f"this one (got {parent_ref!r})")
    parent_path = path.parent / parent_ref
    parent_shown = os.path.normpath(os.path.join(os.path.dirname(shown), parent_ref))
    if not parent_path.exists():
        raise ScenarioError(shown, "extends", f"{parent_ref!r} does not exist (looked for {parent_shown}; "
                                              "the path is relative to this file)")
    if not parent_path.is_file():
        raise ScenarioError(shown, "extends", f"{parent_ref!r} is not a scenario file ({parent_shown})")
    parent = _resolve(parent_path, chain + ((real, shown),), parent_shown)
    scenario_from_dict(parent, parent_shown)  # a parent's own errors are reported in the parent
    merged = _merge({k: v for k, v in parent.items() if k not in ("extends",)}, data)
    merged.pop("extends", None)
    return merged


# ---------------------------------------------------------------------- error messages
_SKIP_LABELS = ("tagged-union[", "function-", "nullable[", "union[", "lax-or-strict[", "json-or-python[")


def _unwrap(ann):
    while get_origin(ann) is Annotated:
        ann = get_args(ann)[0]
    return ann


def _members(ann) -> list:
    """The alternatives of a (possibly nested, possibly annotated) union annotation."""
    ann = _unwrap(ann)
    if get_origin(ann) in (Union, types.UnionType):
        return [m for a in get_args(ann) for m in _members(a)]
    return [ann]


def _tag_of(model) -> str | None:
    """The discriminator value (``kind`` or ``dist``) of a union member model, if any."""
    for name in ("kind", "dist"):
        field = model.model_fields.get(name)
        if field is not None and get_origin(field.annotation) is Literal:
            return get_args(field.annotation)[0]
    return None


def _step(ann, part, *, last_is_key: bool = False):
    """Follow one element of a pydantic error location through a type annotation.

    Returns:
        ``(next annotation or None, whether the element is a union label rather than a key)``.
    """
    if isinstance(part, str) and part.startswith(_SKIP_LABELS):
        return ann, True
    for m in _members(ann):
        if isinstance(m, type) and issubclass(m, BaseModel):
            if isinstance(part, str) and not last_is_key and part in (m.__name__, _tag_of(m)):
                return m, True
            if isinstance(part, str):
                for name, field in m.model_fields.items():
                    if part in (name, field.alias):
                        return field.annotation, False
            continue
        origin = get_origin(m)
        if isinstance(part, int) and origin in (list, tuple):
            args = get_args(m)
            if origin is tuple and args and args[-1] is not Ellipsis:
                return (args[part] if 0 <= part < len(args) else None), False
            return (args[0] if args else None), False
        if origin is dict and isinstance(part, str):
            return get_args(m)[1], False
        if isinstance(part, str) and isinstance(m, type) and part == m.__name__:
            return m, True  # e.g. the 'float' branch of a parameter value
    return None, False


def _walk(loc: tuple, extra_key: bool = False) -> tuple[list[str], Any]:
    """Turn a pydantic location into the key path a user wrote, and the type found there."""
    ann, shown = Scenario, []
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        if ann is None:
            shown.append(str(part))
            continue
        ann, label = _step(ann, part, last_is_key=extra_key and last)
        if not label:
            shown.append(str(part))
    return shown, ann


def _allowed_keys(loc: tuple) -> list[str]:
    """Keys valid at the location of an unknown key (for 'did you mean')."""
    _, ann = _walk(tuple(loc[:-1]))
    for m in _members(ann) if ann is not None else []:
        if isinstance(m, type) and issubclass(m, BaseModel):
            tag = _tag_of(m)
            return [f.alias or name for name, f in m.model_fields.items()
                    if not (tag is not None and name in ("kind", "dist"))]
    return []


def _union_tags(loc: tuple) -> list[str]:
    """Discriminator values allowed at ``loc`` (e.g. posture kinds or distribution names)."""
    _, ann = _walk(tuple(loc))
    tags = []
    for m in _members(ann) if ann is not None else []:
        if isinstance(m, type) and issubclass(m, BaseModel) and _tag_of(m):
            tags.append(_tag_of(m))
    return tags


def _shown_value(value) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _pick_error(errors: list[dict]) -> dict:
    """The error to report: the first one, but for a parameter the branch the user meant.

    A parameter is a number, a distribution (``dist: ...``) or ``{from: posterior}``; pydantic
    reports a failure of every branch, so choose the one matching the value's shape.
    """
    first = errors[0]
    loc = tuple(first["loc"])
    if len(loc) >= 3 and loc[0] == "parameters" and loc[2] == "float":
        name = loc[1]
        value = first.get("input")
        if isinstance(value, dict):
            branch = "FromPosterior" if "from" in value else "tagged-union["
            for err in errors:
                eloc = tuple(err["loc"])
                if eloc[:2] == ("parameters", name) and len(eloc) > 2 and str(eloc[2]).startswith(branch):
                    return err
        else:
            return {"type": "parameter_value", "loc": ("parameters", name), "input": value,
                    "msg": "", "ctx": {}}
    return first


def _format_validation_error(exc: ValidationError) -> tuple[str, str]:
    """The key path and a one-line message for the first problem pydantic found."""
    err = _pick_error(exc.errors())
    loc = tuple(err["loc"])
    etype, msg, ctx = err["type"], err.get("msg", ""), err.get("ctx") or {}
    shown, _ = _walk(loc, extra_key=etype == "extra_forbidden")
    inp = err.get("input")
    got = f" (got {_shown_value(inp)})"
    cause = ctx.get("error")
    if isinstance(cause, KeyedValueError):
        shown.append(cause.key)
    key = ".".join(shown)
    if etype == "extra_forbidden":
        allowed = _allowed_keys(loc)
        near = difflib.get_close_matches(str(loc[-1]), allowed, n=1, cutoff=0.6)
        hint = f"did you mean {near[0]!r}? " if near else ""
        return key, (f"unknown key; {hint}allowed: {', '.join(allowed)}" if allowed else "unknown key")
    if etype == "parameter_value":
        return key, (f"must be a number or a distribution such as {{dist: uniform, low: 0.02, high: 0.08}} "
                     f"(dist is one of {', '.join(DIST_KINDS)}){got}")
    if etype == "union_tag_invalid":
        disc = str(ctx.get("discriminator", "kind")).strip("'")
        return f"{key}.{disc}", f"unknown {disc} {ctx.get('tag')!r}; allowed: {ctx.get('expected_tags')}"
    if etype == "union_tag_not_found":
        disc = str(ctx.get("discriminator", "kind")).strip("'")
        tags = _union_tags(loc)
        allowed = f"; allowed: {', '.join(tags)}" if tags else ""
        if not isinstance(inp, dict):
            return key, f"must be a mapping with a {disc} key{allowed}{got}"
        return key, f"missing {disc}{allowed}"
    if etype == "missing":
        return key, "required key is missing"
    if etype in ("enum", "literal_error"):
        return key, f"{_shown_value(inp)} is not allowed; allowed: {ctx.get('expected', msg)}"
    if etype in ("int_parsing", "int_type", "int_from_float"):
        return key, f"must be a whole number{got}"
    if etype in ("float_parsing", "float_type"):
        return key, f"must be a number{got}"
    if etype == "finite_number":
        return key, f"must be a finite number{got}"
    if etype in ("dict_type", "model_type", "model_attributes_type", "mapping_type"):
        return key, f"must be a mapping of keys (key: value){got}"
    if etype in ("list_type", "tuple_type"):
        return key, f"must be a list{got}"
    if etype in ("string_type", "str_type"):
        return key, f"must be text{got}"
    if etype in ("bool_type", "bool_parsing"):
        return key, f"must be true or false{got}"
    if etype == "string_pattern_mismatch":
        if key == "name":
            return key, ("must start with a letter or digit and hold only letters, digits, '_', '.' "
                         f"and '-' (it names the output folder){got}")
        return key, f"must match the pattern {ctx.get('pattern')}{got}"
    if etype == "recursion_loop":
        return key, "nested too deeply"
    if etype == "value_error":
        return key, str(cause) if cause is not None else msg.removeprefix("Value error, ")
    msg = msg.removeprefix("Value error, ").replace("Input should be", "must be")
    msg = msg.replace("Tuple should have", "must have").replace("List should have", "must have")
    msg = msg.replace(" after validation", "")
    return key, msg + ("" if isinstance(inp, (dict, list)) else got)


def scenario_from_dict(data: dict, source: str = "<dict>") -> Scenario:
    """Validate plain data as a scenario; errors become ``ScenarioError``."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        key, msg = _format_validation_error(exc)
        raise ScenarioError(source, key, msg) from None
    except (TypeError, ValueError, OverflowError, RecursionError) as exc:  # exotic YAML values
        raise ScenarioError(source, "", f"invalid value ({exc.__class__.__name__}: {exc})") from None


def load_scenario(path: str | Path) -> Scenario:
    """Load, resolve (``extends``) and validate a scenario file.

    Error messages name the file as it was given (relative paths stay relative), and a problem in
    a parent file (``extends``) names the parent.

    Raises:
        ScenarioError: with a one-line message naming the file, the key and what is allowed.
    """
    shown = str(path)
    data = _resolve(Path(path), (), shown)
    return scenario_from_dict(data, shown)
