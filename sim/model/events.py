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
* ``exit_demand`` — the Iraqi government formally demands that US forces leave, whatever the
  pressure (for exercises on the US response, and history the record imposes).
* ``exit_agreement`` — an exit timetable agreed before or outside the model (the 2008 agreement
  behind the 2011 withdrawal), possibly phased.
* ``troop_ceiling`` — a US decision to keep at most so many troops in Iraq from a month on (the
  2020-21 cuts to 3,000 and 2,500 in a history); a later ceiling replaces an earlier one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, ClassVar, Literal, Union

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

Month = Annotated[int, Field(ge=0, le=600)]
Duration = Annotated[int, Field(ge=1, le=600)]
Intensity = Annotated[float, Field(ge=0, le=10)]


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    month: Month
    note: str = ""

    #: A plain name for readers of figures and reports.
    title: ClassVar[str] = ""

    @model_validator(mode="after")
    def _acts_after_the_start(self):
        if self.month == 0 and not hasattr(self, "months"):
            raise ValueError("month 0 is the starting state, where a one-month event never acts; "
                             "use month 1")
        return self

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


class ExitDemand(_Event):
    """Baghdad formally demands a US exit this month (M7): a negotiation opens (stage 2)."""

    title: ClassVar[str] = "Exit demand"
    kind: Literal["exit_demand"] = "exit_demand"

    def apply(self, series):
        series.exit_demand[self.month] = 1.0


class ExitAgreement(_Event):
    """An agreed exit timetable starting this month (M7): troops leave federal Iraq over
    ``months``, keep ``platform`` troops in the Kurdistan Region ``phase2_months`` longer, then
    ``residual`` advisers. The defaults are a one-phase exit to zero."""

    title: ClassVar[str] = "Exit agreement"
    kind: Literal["exit_agreement"] = "exit_agreement"
    months: Duration = 3
    platform: Annotated[float, Field(ge=0, le=200_000)] = 0
    phase2_months: Annotated[int, Field(ge=0, le=600)] = 0
    residual: Annotated[float, Field(ge=0, le=200_000)] = 0

    def apply(self, series):
        series.agreement_months[self.month] = self.months
        series.agreement_platform[self.month] = self.platform
        series.agreement_phase2_months[self.month] = self.phase2_months
        series.agreement_residual[self.month] = self.residual


class TroopCeiling(_Event):
    """A US decision: at most ``troops`` in Iraq from this month on, whatever the posture would
    choose, until a later ceiling replaces it (troop decisions a history takes from the record)."""

    title: ClassVar[str] = "US troop decision"
    kind: Literal["troop_ceiling"] = "troop_ceiling"
    troops: Annotated[float, Field(ge=0, le=200_000)]

    def apply(self, series):
        series.troop_ceiling[self.month:] = self.troops


Event = Annotated[
    Union[RegionalWar, IsisAttackIran, HighProfileStrike, IranEconomicCrisis, ProtestCrackdown,
          SyriaCollapse, ExitDemand, ExitAgreement, TroopCeiling],
    Field(discriminator="kind"),
]

EVENT_KINDS = ["regional_war", "isis_attack_iran", "high_profile_strike", "iran_economic_crisis",
               "protest_crackdown", "syria_collapse", "exit_demand", "exit_agreement",
               "troop_ceiling"]


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
    exit_demand: np.ndarray
    agreement_months: np.ndarray  # 0 where no agreement is imposed that month
    agreement_platform: np.ndarray
    agreement_phase2_months: np.ndarray
    agreement_residual: np.ndarray
    troop_ceiling: np.ndarray  # inf where no US troop decision caps the posture

    @property
    def has_troop_ceiling(self) -> bool:
        """Whether any month has a US troop ceiling."""
        return bool(np.isfinite(self.troop_ceiling).any())

    @classmethod
    def compile(cls, events: list, horizon: int) -> "EventSeries":
        """Build the series for ``horizon`` months; events past the horizon are cut."""
        series = cls(**{name: np.zeros(horizon) for name in cls.__dataclass_fields__})
        series.troop_ceiling[:] = np.inf
        # in month order, so that a later troop ceiling replaces an earlier one
        for ev in sorted(events, key=lambda ev: ev.month):
            if ev.month < horizon:
                ev.apply(series)
        return series
