"""Postures: how many US troops the US chooses to keep in Iraq each month.

Each posture describes itself: its troops month by month (``chosen_troops``), a sentence for
readers (``describe``), how an exit month moves it (``with_exit_month``), and how exposed its
troops are and how far they reach (``advise_factor``, ``exposure_factor``, ``outside_ct``,
``syria_basing``, read by the actors in M1, M2, M4 and M5). Lever values are choices, not
evidence: a scenario states them.
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Troops = Annotated[float, Field(ge=0, le=200_000)]
Month = Annotated[int, Field(ge=0, le=600)]


class PostureBase(_Strict):
    """Common interface of postures.

    ``advise_factor`` scales how much present troops advise the federal ISF and contribute to
    direct CT; ``exposure_factor`` scales how exposed they are to militia attacks; ``outside_ct``
    says whether CT strike capacity is kept from outside Iraq; ``syria_basing`` whether troops
    keep the Syria hub regardless of their number.
    """

    advise_factor: Annotated[float, Field(ge=0, le=1)] = 1.0
    exposure_factor: Annotated[float, Field(ge=0, le=1)] = 1.0
    outside_ct: bool = False
    syria_basing: bool = False

    def initial_troops(self) -> float:
        """Troops in Iraq in month 0."""
        raise NotImplementedError

    def chosen_troops(self, month: int, current: np.ndarray, model) -> np.ndarray:
        """Troops the US chooses to have in Iraq this month, per run (before forced exits)."""
        raise NotImplementedError

    def describe(self) -> str:
        """A plain-language sentence for readers of a report."""
        raise NotImplementedError

    def troops_since(self, months: np.ndarray) -> np.ndarray:
        """Troops ``months`` after the posture starts, per run (a return after an invitation).

        Raises:
            ValueError: the posture's troops depend on more than the months (conditions).
        """
        raise ValueError(f"a {self.kind} posture cannot be a return posture")

    def with_exit_month(self, month: int) -> "PostureBase":
        """This posture with its exit starting in ``month`` (what the ``exit_month`` lever does).

        Raises:
            ValueError: the posture has no exit that a month could move.
        """
        raise ValueError(f"a {self.kind} posture has no exit month; use hold or a ramp posture "
                         "(rapid_exit, over_the_horizon, kurdistan_residual)")


class Hold(PostureBase):
    """Keep a fixed number of troops (the status quo; DB24-09)."""

    kind: Literal["hold"] = "hold"
    troops: Troops = 2500

    def initial_troops(self) -> float:
        return self.troops

    def chosen_troops(self, month, current, model):
        current.fill(self.troops)
        return current

    def describe(self) -> str:
        return f"hold {self.troops:,.0f} troops"

    def troops_since(self, months):
        return np.full(np.shape(months), float(self.troops))

    def with_exit_month(self, month: int) -> "RapidExit":
        """Holding until ``month``, then a rapid exit of the same troops."""
        fields = {k: v for k, v in self.model_dump().items() if k in RapidExit.model_fields}
        return RapidExit(**{**fields, "kind": "rapid_exit", "start_month": month})


class Waypoints(PostureBase):
    """Piecewise-linear troop path through ``[month, troops]`` points; flat beyond the ends."""

    kind: Literal["waypoints"] = "waypoints"
    points: list[tuple[Month, Troops]] = Field(min_length=1)

    @field_validator("points")
    @classmethod
    def _increasing(cls, pts):
        months = [m for m, _ in pts]
        if any(b <= a for a, b in zip(months, months[1:])):
            raise ValueError("waypoint months must be strictly increasing")
        return pts

    def initial_troops(self) -> float:
        return self._at(0)

    def _at(self, month: int) -> float:
        ms, ts = zip(*self.points)
        return float(np.interp(month, ms, ts))

    def chosen_troops(self, month, current, model):
        current.fill(self._at(month))
        return current

    def describe(self) -> str:
        steps = ", ".join(f"{t:,.0f} by month {m}" for m, t in self.points)
        return f"troops along waypoints: {steps}"

    def troops_since(self, months):
        ms, ts = zip(*self.points)
        return np.interp(months, ms, ts)


class _ExitRamp(PostureBase):
    """A linear ramp from ``troops`` at ``start_month`` to ``residual`` after ``months``."""

    troops: Troops = 2500
    start_month: Month = 0
    months: Annotated[int, Field(ge=1, le=120)] = 3
    residual: Troops = 0

    def initial_troops(self) -> float:
        return self._at(0)

    def _at(self, month: int) -> float:
        frac = np.clip((month - self.start_month) / self.months, 0.0, 1.0)
        return float(self.troops + (self.residual - self.troops) * frac)

    def chosen_troops(self, month, current, model):
        current.fill(self._at(month))
        return current

    def with_exit_month(self, month: int) -> "_ExitRamp":
        """The same ramp, starting in ``month``."""
        return self.model_validate({**self.model_dump(), "start_month": month})


class RapidExit(_ExitRamp):
    """Leave fast: all troops out within ``months`` of ``start_month`` (the 2011 pattern)."""

    kind: Literal["rapid_exit"] = "rapid_exit"

    @model_validator(mode="after")
    def _no_residual(self):
        if self.residual != 0:
            raise ValueError("rapid_exit leaves no residual; use waypoints or kurdistan_residual")
        return self

    def describe(self) -> str:
        return (f"rapid exit: {self.troops:,.0f} troops to none over {self.months} months "
                f"from month {self.start_month}")


class OverTheHorizon(_ExitRamp):
    """No troops in Iraq after the ramp; a share of CT strike capacity is kept from outside.

    The share is the parameter ``us.over_the_horizon_fraction``.
    """

    kind: Literal["over_the_horizon"] = "over_the_horizon"
    months: Annotated[int, Field(ge=1, le=120)] = 6
    outside_ct: bool = True

    @model_validator(mode="after")
    def _no_residual(self):
        if self.residual != 0:
            raise ValueError("over_the_horizon keeps no troops in Iraq (residual must be 0)")
        return self

    def describe(self) -> str:
        return (f"over the horizon: {self.troops:,.0f} troops to none over {self.months} months "
                f"from month {self.start_month}, strike capacity kept from outside Iraq")


class KurdistanResidual(_ExitRamp):
    """Draw down to a residual force in the Kurdistan Region.

    The residual keeps the Syria hub (Erbil) and at least the over-the-horizon strike reach
    (it is closer than the Gulf), but advises the federal ISF less and is less exposed.
    ``advise_factor`` and ``exposure_factor`` are assumptions a scenario should vary.
    """

    kind: Literal["kurdistan_residual"] = "kurdistan_residual"
    months: Annotated[int, Field(ge=1, le=120)] = 12
    residual: Troops = 900
    advise_factor: Annotated[float, Field(ge=0, le=1)] = 0.5
    exposure_factor: Annotated[float, Field(ge=0, le=1)] = 0.6
    syria_basing: bool = True
    outside_ct: bool = True

    def describe(self) -> str:
        return (f"Kurdistan residual: {self.troops:,.0f} troops down to {self.residual:,.0f} "
                f"in the Kurdistan Region over {self.months} months")


class ConditionsBased(PostureBase):
    """Draw down by ``step`` troops at each review, only while conditions hold.

    Every ``review_every`` months, runs whose ISF capability is at least ``isf_min`` and whose ISIS
    fighters in Iraq are at most ``isis_max`` cut ``step`` troops, never below ``floor``.
    """

    kind: Literal["conditions_based"] = "conditions_based"
    troops: Troops = 2500
    step: Annotated[float, Field(gt=0, le=200_000)] = 500
    review_every: Annotated[int, Field(ge=1, le=120)] = 6
    isf_min: Annotated[float, Field(ge=0, le=1)] = 0.6
    isis_max: Annotated[float, Field(ge=0)] = 2500
    floor: Troops = 0

    def initial_troops(self) -> float:
        return self.troops

    def chosen_troops(self, month, current, model):
        if month > 0 and month % self.review_every == 0:
            ok = (model.gov.isf_capability >= self.isf_min) & (model.isis.fighters_iraq <= self.isis_max)
            cut = np.where(ok, self.step, 0.0)
            np.subtract(current, cut, out=current)
            np.maximum(current, self.floor, out=current)
        return current

    def describe(self) -> str:
        return (f"conditions-based: from {self.troops:,.0f}, cut {self.step:,.0f} every "
                f"{self.review_every} months while ISF capability ≥ {self.isf_min:g} and ISIS "
                f"≤ {self.isis_max:,.0f} fighters, never below {self.floor:,.0f}")


#: Every posture, in the order documentation lists them. A new posture is a class above (with
#: its ``kind``, ``chosen_troops``, ``describe`` and, if an exit month can move it,
#: ``with_exit_month``) added here; nothing else in the package names postures.
POSTURE_CLASSES = {cls.model_fields["kind"].default: cls for cls in
                   (Hold, Waypoints, RapidExit, ConditionsBased, OverTheHorizon, KurdistanResidual)}
POSTURE_KINDS = list(POSTURE_CLASSES)

Posture = Annotated[Union[tuple(POSTURE_CLASSES.values())], Field(discriminator="kind")]

#: Postures US forces can come back with after an invitation (``levers.return_posture``): their
#: troops depend only on the months since the return.
ReturnPosture = Annotated[Union[Hold, Waypoints], Field(discriminator="kind")]
