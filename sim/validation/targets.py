"""The backtest's targets: what the articles report, read against a model quantity.

``seeds/targets.yaml`` holds the targets. Each target names

* ``scenario`` — the episode it is checked on;
* ``quantity`` — the model quantity, computed per run from trajectories or outcome columns::

      {variable: us_troops, at: "2020-01"}                 value in a month
      {variable: militia_attacks, sum: "2019-05/2020-04"}  sum (also mean, max, min) over a period
      {variable: [isis_fighters_iraq, isis_fighters_syria], at: ...}     several variables added up
      {variable: isis_fighters_iraq, ratio: [A, B]}             mean over A / mean over B (A, B months
                                                           or periods)
      {variable: isis_attacks, change_pct: [B, A]}         percent change of the mean from B to A
      {variable: isis_fighters_iraq, peak_month: PERIOD}        month of the maximum within the period
      {outcome: months_to_vote, months_from: "2020-01"}    an outcome column, months after a date
      {outcome: escalation}                                an outcome column (booleans are 0/1)

* ``observed`` — the value, range or pattern the article reports, and, where the observation is
  qualitative or needs a reading in model units, ``read_as: {low, high, why}``;
* ``test`` — how "holds" is decided: ``inside`` (the observed range overlaps the model's 90%
  interval), ``median`` (the model median is inside the range), ``{share: p}`` (at least a share
  ``p`` of runs fall inside the range), a list of these, ``{input: {event, at}}`` for a fact the
  scenario imposes rather than predicts, or ``{not_modelled: why}``;
* ``abc`` — the range a single replica must hit to be accepted by the calibration
  (``sim.validation.calibrate``), or ``false``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, Union

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sim.model.outcomes import OUTCOME_COLUMNS, TRAJECTORY_VARIABLES, variable_name
from sim.scenario.errors import ScenarioError
from sim.scenario.library import seeds_dir

#: The history episodes, in the order the table and the figure show them.
#: The history episodes the calibration fits (``iraqsim calibrate``), each with its own start.
EPISODES = ("iraq_2011", "strike_crisis_2020", "proxy_war_2023")
#: The continuous history 2011-2026, one chain of states through every episode: validation only
#: (its targets must have ``abc: false``).
CONTINUOUS = "iraq_2011_2026"
#: Every history scenario the backtest runs.
HISTORIES = (*EPISODES, CONTINUOUS)

_VARIABLE_REDUCERS = ("at", "sum", "mean", "max", "min", "ratio", "change_pct", "peak_month")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


_MONTH = r"^\d{4}-\d{2}$"
_PERIOD = r"^\d{4}-\d{2}(/\d{4}-\d{2})?$"


def _opt(pattern: str):
    return Field(default=None, pattern=pattern)


class Quantity(_Strict):
    """A model quantity, computed for every run of an episode (see the module docstring)."""

    variable: Union[str, list[str], None] = None
    outcome: str | None = None
    at: str | None = _opt(_PERIOD)
    sum: str | None = _opt(_PERIOD)
    mean: str | None = _opt(_PERIOD)
    max: str | None = _opt(_PERIOD)
    min: str | None = _opt(_PERIOD)
    ratio: tuple[str, str] | None = None
    change_pct: tuple[str, str] | None = None
    peak_month: str | None = _opt(_PERIOD)
    months_from: str | None = _opt(_MONTH)

    @model_validator(mode="after")
    def _shape(self):
        if (self.variable is None) == (self.outcome is None):
            raise ValueError("give exactly one of variable or outcome")
        used = [r for r in _VARIABLE_REDUCERS if getattr(self, r) is not None]
        if self.variable is not None:
            names = [self.variable] if isinstance(self.variable, str) else self.variable
            unknown = [v for v in names if variable_name(v) not in TRAJECTORY_VARIABLES]
            if unknown:
                raise ValueError(f"unknown trajectory variable {unknown[0]!r}; allowed: "
                                 f"{', '.join(TRAJECTORY_VARIABLES)}")
            if len(used) != 1:
                raise ValueError(f"a variable needs exactly one of {', '.join(_VARIABLE_REDUCERS)}")
            if self.months_from is not None:
                raise ValueError("months_from applies to outcome columns only")
        else:
            if self.outcome not in OUTCOME_COLUMNS:
                raise ValueError(f"unknown outcome {self.outcome!r}; allowed: {', '.join(OUTCOME_COLUMNS)}")
            if used:
                raise ValueError("an outcome column takes no period; use months_from for month columns")
            if self.months_from is not None and OUTCOME_COLUMNS[self.outcome][0] != "month":
                raise ValueError("months_from applies to month columns (months_to_...)")
        return self

    # ------------------------------------------------------------------ evaluation
    @property
    def variables(self) -> list[str]:
        """Trajectory variables the quantity reads."""
        if self.variable is None:
            return []
        return [self.variable] if isinstance(self.variable, str) else list(self.variable)

    @property
    def is_month(self) -> bool:
        """Whether values are months of the episode (shown as calendar dates)."""
        return self.peak_month is not None

    @property
    def reducer(self) -> str:
        """Name of the reduction (``at``, ``sum`` ... or ``outcome``)."""
        for r in _VARIABLE_REDUCERS:
            if getattr(self, r) is not None:
                return r
        return "outcome"

    def describe(self) -> str:
        """Short text for tables, e.g. ``sum militia_attacks 2019-05/2020-04``."""
        if self.outcome is not None:
            return self.outcome + (f" - {self.months_from}" if self.months_from else "")
        what = "+".join(self.variables)
        arg = getattr(self, self.reducer)
        arg = " vs ".join(arg) if isinstance(arg, tuple) else arg
        return f"{self.reducer} {what} {arg}"

    def values(self, runs) -> np.ndarray:
        """The quantity for every run of ``runs`` (float; ``inf`` where an event never happened)."""
        if self.outcome is not None:
            v = np.asarray(runs.outcomes[self.outcome], dtype=np.float64)
            if self.months_from is not None:
                v = v - runs.month(self.months_from)
            return np.where(np.isnan(v), np.inf, v)
        v = self._reduce(runs)
        return np.where(np.isnan(v), np.inf, v)

    def _reduce(self, runs) -> np.ndarray:
        series = sum(runs.trajectory(v).astype(np.float64) for v in self.variables)
        r = self.reducer
        if r == "at":
            a, b = runs.period(self.at)
            return series[a:b + 1].mean(axis=0)
        if r in ("sum", "mean", "max", "min"):
            a, b = runs.period(getattr(self, r))
            return getattr(np, r)(series[a:b + 1], axis=0)
        if r in ("ratio", "change_pct"):
            first, second = getattr(self, r)
            (a1, b1), (a2, b2) = runs.period(first), runs.period(second)
            m1, m2 = series[a1:b1 + 1].mean(axis=0), series[a2:b2 + 1].mean(axis=0)
            with np.errstate(divide="ignore", invalid="ignore"):
                if r == "ratio":
                    return m1 / m2
                return 100.0 * (m2 / m1 - 1.0)
        a, b = runs.period(self.peak_month)
        return a + np.argmax(series[a:b + 1], axis=0).astype(np.float64)


class Range(_Strict):
    """A range in the quantity's units; open ends are ``null``. Months may be ``YYYY-MM``."""

    low: Union[float, str, None] = None
    high: Union[float, str, None] = None
    why: str = ""


class InputCheck(_Strict):
    """A fact the scenario imposes: an event of ``event`` kind scheduled in month ``at``."""

    event: str
    at: str = Field(pattern=_MONTH)


Check = Union[Literal["inside", "median"], dict[Literal["share"], float],
              dict[Literal["input"], InputCheck], dict[Literal["not_modelled"], str]]


class Target(BaseModel):
    """One calibration target: an observation from the articles and how the model must match it."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    claim: str
    see_also: list[str] = Field(default_factory=list)
    description: str
    observed: dict[str, Any]
    episode: str
    note: str = ""
    model_note: str = ""
    scenario: str
    quantity: Quantity | None = None
    read_as: Range | None = None
    test: Union[Check, list[Check]] = "inside"
    abc: Union[Range, Literal[False], None] = None

    @model_validator(mode="after")
    def _consistent(self):
        if self.scenario not in HISTORIES:
            raise ValueError(f"scenario must be one of {', '.join(HISTORIES)}")
        if self.scenario == CONTINUOUS and self.abc not in (None, False):
            raise ValueError(f"{CONTINUOUS} is for validation only: its targets need abc: false")
        kinds = {check_kind(c) for c in self.checks}
        if kinds & {"input", "not_modelled"}:
            if len(self.checks) != 1:
                raise ValueError("an input or not_modelled test stands alone")
        elif self.quantity is None:
            raise ValueError("a model test needs a quantity")
        if self.quantity is not None and self.read_as is None and not (
                {"value", "low", "high"} & set(self.observed)):
            raise ValueError("a qualitative observation needs read_as: {low, high, why}")
        return self

    @property
    def checks(self) -> list:
        """The tests as a list."""
        return list(self.test) if isinstance(self.test, list) else [self.test]

    @property
    def kind(self) -> str:
        """``model``, ``input`` or ``not_modelled``."""
        k = check_kind(self.checks[0])
        return k if k in ("input", "not_modelled") else "model"

    def target_range(self, runs=None) -> tuple[float, float]:
        """The range (low, high) the model must match, in the quantity's units."""
        if self.read_as is not None:
            lo, hi = self.read_as.low, self.read_as.high
        elif "value" in self.observed:
            lo = hi = self.observed["value"]
        else:
            lo, hi = self.observed.get("low"), self.observed.get("high")
        return _as_number(lo, runs, -np.inf), _as_number(hi, runs, np.inf)

    def abc_range(self, runs) -> tuple[float, float] | None:
        """Per-replica acceptance range for the calibration, or ``None`` when not used."""
        if not self.abc:
            return None
        return _as_number(self.abc.low, runs, -np.inf), _as_number(self.abc.high, runs, np.inf)

    def observed_text(self) -> str:
        """The observation as the article gives it, with its source claim."""
        o = self.observed
        unit = o.get("unit", "")
        if "value" in o:
            text = f"{format_value(o['value'])} {unit}"
        elif "low" in o or "high" in o:
            lo, hi = o.get("low"), o.get("high")
            text = (f"{format_value(lo)}-{format_value(hi)} {unit}" if lo is not None and hi is not None
                    else f">= {format_value(lo)} {unit}" if lo is not None else f"<= {format_value(hi)} {unit}")
        else:
            text = o.get("qualitative", "")
        return f"{text.strip()} ({self.claim})"


def check_kind(check) -> str:
    if isinstance(check, str):
        return check
    return next(iter(check))


def _as_number(v, runs, default) -> float:
    if v is None:
        return default
    if isinstance(v, str):
        if runs is None:
            raise ValueError("a month bound needs the episode")
        return float(runs.month(v))
    return float(v)


def format_value(v) -> str:
    if v is None:
        return "?"
    if isinstance(v, str):
        return v
    if not np.isfinite(v):
        return "never" if v > 0 else "-inf"
    if abs(v) >= 100 or float(v).is_integer():
        return f"{v:,.0f}"
    return f"{v:.3g}"


def load_targets(path: str | Path | None = None) -> list[Target]:
    """Read and validate the targets file (default ``seeds/targets.yaml``).

    Raises:
        ScenarioError: naming the file, the target and the key when a target is malformed.
    """
    path = Path(path) if path is not None else seeds_dir() / "targets.yaml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScenarioError(path, "", "file not found") from None
    except yaml.YAMLError as exc:
        raise ScenarioError(path, "", f"malformed YAML ({exc.__class__.__name__})") from None
    if not isinstance(data, dict) or not isinstance(data.get("targets"), list):
        raise ScenarioError(path, "targets", "the file must hold a list under 'targets'")
    out, seen = [], set()
    for i, raw in enumerate(data["targets"]):
        tid = raw.get("id", i) if isinstance(raw, dict) else i
        try:
            t = Target.model_validate(raw)
        except ValidationError as exc:
            err = exc.errors()[0]
            key = ".".join(str(p) for p in err["loc"] if not str(p).startswith(("function-", "tagged-")))
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden" and len(err["loc"]) == 1:
                msg = f"unknown key; allowed: {', '.join(Target.model_fields)}"
            raise ScenarioError(path, f"targets[{tid}]" + (f".{key}" if key else ""), msg) from None
        if t.id in seen:
            raise ScenarioError(path, f"targets[{tid}].id", "duplicate target id")
        seen.add(t.id)
        out.append(t)
    return out
