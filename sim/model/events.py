"""Exogenous events a scenario schedules by month (M12).

Events are the same in every replica of a scenario, so they compile into per-month scalar
series (``EventSeries``) that the actors read in the exogenous phase of each month:

* ``regional_war`` — a regional war (Gaza 2023) that multiplies proxy attacks (DB24-01).
* ``isis_attack_iran`` — a mass-casualty ISIS attack inside Iran (Kerman 2024, DB24-06).
* ``high_profile_strike`` — a US strike on a militia leader or an Iranian commander on Iraqi
  soil, whatever the doctrine (Abu Taqwa 2024, DB24-02; Soleimani 2020, POL20-02).
* ``iran_economic_crisis`` — sanctions or an economic shock that push Iran to pragmatism
  (RCD20-08, WP20-07).
* ``protest_crackdown`` — mass protests put down by force, costing legitimacy (RCD20-01).
* ``syria_collapse`` — chaos in Syria that lets the ISIS reservoir grow and spill over
  (2014, FP23-06).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, ClassVar, Literal, Union

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

Month = Annotated[int, Field(ge=0, le=600)]
Duration = Annotated[int, Field(ge=1, le=600)]
Intensity = Annotated[float, Field(ge=0, le=10)]


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    month: Month
    note: str = ""

    #: A plain name for readers of figures and reports.
    title: ClassVar[str] = ""

    @property
    def last_month(self) -> int:
        """The last month the event acts in (its ``month`` for a one-month event)."""
        return self.month + getattr(self, "months", 1) - 1

    def apply(self, series: "EventSeries") -> None:  # pragma: no cover - abstract
        raise NotImplementedError


class RegionalWar(_Event):
    """A regional war lasting ``months`` with attack-multiplying ``intensity`` (DB24-01)."""

    title: ClassVar[str] = "Regional war"
    kind: Literal["regional_war"] = "regional_war"
    months: Duration = 6
    intensity: Intensity = 1.0

    def apply(self, series):
        series.war[self.month:self.month + self.months] += self.intensity


class IsisAttackIran(_Event):
    """A mass-casualty ISIS attack in Iran raising Tehran's fear of ISIS (DB24-06, DB24-17)."""

    title: ClassVar[str] = "ISIS attack in Iran"
    kind: Literal["isis_attack_iran"] = "isis_attack_iran"
    severity: Intensity = 1.0

    def apply(self, series):
        series.isis_attack_iran[self.month] += self.severity


class HighProfileStrike(_Event):
    """A US leadership strike on Iraqi soil, on a militia leader or an Iranian commander."""

    title: ClassVar[str] = "US leadership strike"
    kind: Literal["high_profile_strike"] = "high_profile_strike"
    target: Literal["militia_leader", "iranian_commander"] = "militia_leader"

    def apply(self, series):
        if self.target == "militia_leader":
            series.strike_militia_leader[self.month] = 1.0
        else:
            series.strike_iranian_commander[self.month] = 1.0


class IranEconomicCrisis(_Event):
    """Economic crisis or harsher sanctions on Iran for ``months`` (RCD20-08, WP20-07)."""

    title: ClassVar[str] = "Economic crisis in Iran"
    kind: Literal["iran_economic_crisis"] = "iran_economic_crisis"
    months: Duration = 12
    severity: Annotated[float, Field(ge=0, le=1)] = 0.3

    def apply(self, series):
        series.iran_crisis[self.month:self.month + self.months] += self.severity


class ProtestCrackdown(_Event):
    """Mass protests and a violent crackdown costing ``severity`` of legitimacy (RCD20-01)."""

    title: ClassVar[str] = "Protests and crackdown"
    kind: Literal["protest_crackdown"] = "protest_crackdown"
    severity: Annotated[float, Field(ge=0, le=1)] = 0.3

    def apply(self, series):
        series.legitimacy_shock[self.month] += self.severity


class SyriaCollapse(_Event):
    """Chaos in Syria for ``months``: the ISIS reservoir grows and crosses faster (FP23-06)."""

    title: ClassVar[str] = "Collapse in Syria"
    kind: Literal["syria_collapse"] = "syria_collapse"
    months: Duration = 24
    intensity: Intensity = 1.0

    def apply(self, series):
        series.syria[self.month:self.month + self.months] += self.intensity


Event = Annotated[
    Union[RegionalWar, IsisAttackIran, HighProfileStrike, IranEconomicCrisis, ProtestCrackdown,
          SyriaCollapse],
    Field(discriminator="kind"),
]

EVENT_KINDS = ["regional_war", "isis_attack_iran", "high_profile_strike", "iran_economic_crisis",
               "protest_crackdown", "syria_collapse"]


@dataclass
class EventSeries:
    """Per-month exogenous drivers compiled from a scenario's events (length = horizon)."""

    war: np.ndarray
    isis_attack_iran: np.ndarray
    strike_militia_leader: np.ndarray
    strike_iranian_commander: np.ndarray
    iran_crisis: np.ndarray
    legitimacy_shock: np.ndarray
    syria: np.ndarray

    @classmethod
    def compile(cls, events: list, horizon: int) -> "EventSeries":
        """Build the series for ``horizon`` months; events past the horizon are cut."""
        series = cls(**{name: np.zeros(horizon) for name in cls.__dataclass_fields__})
        for ev in events:
            if ev.month < horizon:
                ev.apply(series)
        return series
