"""Outcomes: reduce each replica's trajectory to outcome columns, as the months go by.

``OutcomeTracker.record`` is the bookkeeping phase of the month. It keeps running reductions
(peaks, sums, first-passage months) so no trajectory needs to be stored to compute the outcome
table; per-month trajectories are kept only when asked (for quantile bands), as ``float32``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from numba import njit
from pydantic import BaseModel, ConfigDict, Field

from sim.model.kernels import COMPILE


class OutcomeSettings(BaseModel):
    """Settings of the outcome measures."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    resurgence_threshold: float = Field(default=10000, gt=0, le=1e6,
                                        description="ISIS fighters in Iraq that count as a "
                                                    "resurgence (assumption: several times the "
                                                    "2023 level, DB24-16).")


@dataclass(frozen=True)
class Variable:
    """A per-month trajectory variable.

    Attributes:
        get: Reads the variable's array from a model.
        label: Axis label for plots.
        unit: Unit of the value.
        low, high: Range covered by the histogram summary beyond which values are clipped.
        log: Whether the histogram bins are log-spaced (for counts spanning decades).
    """

    get: Callable
    label: str
    unit: str
    low: float
    high: float
    log: bool = False

    @property
    def is_index(self) -> bool:
        """A 0..1 index or share: drawn on its whole range, 0 to 1."""
        return self.unit.startswith(("index", "share"))


TRAJECTORY_VARIABLES: dict[str, Variable] = {
    "us_troops": Variable(lambda m: m.us.troops, "US troops in Iraq", "troops", 0, 200_000),
    "isf_capability": Variable(lambda m: m.gov.isf_capability, "ISF capability",
                               "index: 0 = none, 1 = fully self-reliant", 0, 1),
    "isis_fighters_iraq": Variable(lambda m: m.isis.fighters_iraq, "ISIS fighters in Iraq",
                                   "fighters", 1, 1e6, log=True),
    "isis_fighters_syria": Variable(lambda m: m.isis.fighters_syria, "ISIS fighters in Syria",
                                    "fighters", 1, 1e6, log=True),
    "isis_members": Variable(lambda m: m.isis.members,
                             "ISIS members in Iraq and Syria (fighters and supporters)",
                             "members", 1, 1e6, log=True),
    "isis_territory": Variable(lambda m: m.isis.territory,
                               "Sunni-majority populated area held by ISIS",
                               "share: 0 = none, 1 = all of it", 0, 1),
    "isis_attacks": Variable(lambda m: m.isis.attack_tempo, "ISIS attacks in Iraq",
                             "attacks per month", 0.01, 1e5, log=True),
    "militia_attacks": Variable(lambda m: m.militia_attacks_total(), "Militia attacks on US forces",
                                "attacks per month", 0, 4096),
    "us_fatalities": Variable(lambda m: m.us.fatalities, "US deaths", "deaths per month", 0, 1024),
    "withdrawal_pressure": Variable(lambda m: m.gov.withdrawal_pressure, "Withdrawal pressure",
                                    "index: 0 = none, 1 = overwhelming", 0, 1),
    "cooperation": Variable(lambda m: m.gov.cooperation, "US-Iraq cooperation",
                            "index: 0 = none, 1 = full", 0, 1),
    "militia_control": Variable(lambda m: m.gov.militia_control, "Government control of militias",
                                "index: 0 = none, 1 = full", 0, 1),
    "iran_influence": Variable(lambda m: m.iran.influence, "Iranian influence",
                               "index: 0 = none, 1 = dominant", 0, 1),
    "iran_direction": Variable(lambda m: m.iran.direction, "Iran's direction of proxies",
                               "index: 0 = restrains them, 1 = full push", 0, 1),
    "us_will": Variable(lambda m: m.us.will, "US domestic will",
                        "index: 0 = none, 1 = full support", 0, 1),
    "deterrence": Variable(lambda m: m.us.deterrence, "US deterrence",
                           "index: 0 = none, 1 = full", 0, 1),
    "iran_strikes": Variable(lambda m: m.us.escalated, "Direct Iranian strikes on US forces",
                             "strikes per month", 0, 1),
    "exit_stage": Variable(lambda m: m.exit.stage, "Exit stage",
                           "stage: 0 present, 1 resolution, 2 negotiating, 3 withdrawing, "
                           "4 forced, 5 exit complete, 6 returned", 0, 6),
    "us_troops_kurdistan": Variable(lambda m: m.us.troops_in_kurdistan(),
                                    "US troops in the Kurdistan Region", "troops", 0, 200_000),
    "us_troops_federal": Variable(lambda m: m.us.troops_in_federal_iraq(),
                                  "US troops in federal Iraq", "troops", 0, 200_000),
}

#: Old names of trajectory variables, kept for one release: old name -> current name. Results
#: write an alias's rows too (``quantiles.parquet``) and every reader of a variable accepts it.
VARIABLE_ALIASES: dict[str, str] = {
    "isis_strength": "isis_fighters_iraq",  # deprecated: removed in the next release
    "isis_syria": "isis_fighters_syria",  # deprecated: removed in the next release
}


def variable_name(name: str) -> str:
    """The current name of a trajectory variable, given its name or a deprecated alias."""
    return VARIABLE_ALIASES.get(name, name)


#: Outcome columns: name -> (kind, description). ``bool`` columns are booleans, ``month``
#: columns are float with NaN when the event never happens.
OUTCOME_COLUMNS: dict[str, tuple[str, str]] = {
    "isis_peak": ("float", "Peak ISIS fighters in Iraq over the horizon"),
    "isis_end": ("float", "ISIS fighters in Iraq in the last month"),
    "territory_peak": ("float", "Peak share of the Sunni-majority populated area ISIS held"),
    "resurgence": ("bool", "ISIS in Iraq reached the resurgence threshold"),
    "months_to_resurgence": ("month", "First month at or above the resurgence threshold"),
    "militia_attacks": ("float", "Militia attacks on US forces over the horizon"),
    "us_fatalities": ("float", "US deaths over the horizon (militia attacks and Iranian strikes)"),
    "exit_demanded": ("bool", "The Iraqi government formally demanded a US exit (stage 2)"),
    "months_to_demand": ("month", "Month of the first exit demand"),
    "agreement": ("bool", "The US and Iraq agreed an exit timetable (stage 3)"),
    "months_to_agreement": ("month", "Month of the first agreed timetable"),
    "forced_exit": ("bool", "US forces had to leave without agreement (ordered out, or US will "
                            "collapsed: stage 4)"),
    "departed": ("bool", "An exit timetable ran out: US forces gone, or only an agreed "
                         "residual left (stage 5)"),
    "months_to_departure": ("month", "Month the first exit timetable ran out"),
    "reinvited": ("bool", "Baghdad invited US forces back after an exit and they returned "
                          "(stage 6)"),
    "months_to_return": ("float", "Months from the end of the first exit to the first return"),
    "expelled": ("bool", "Deprecated alias of exit_demanded (a demand is not an exit; see "
                         "departed and forced_exit); removed in the next release"),
    "months_to_expulsion": ("month", "Deprecated alias of months_to_demand"),
    "parliament_vote": ("bool", "Parliament voted to expel foreign forces"),
    "months_to_vote": ("month", "Month of the parliamentary vote"),
    "escalation": ("bool", "A direct US-Iran exchange (Iranian strike on US forces) happened"),
    "will_collapse": ("bool", "US domestic will collapsed and forced a drawdown"),
    "leadership_strikes": ("float", "US leadership strikes on Iraqi soil"),
    "isf_capability_end": ("float", "ISF capability in the last month"),
    "iran_influence_end": ("float", "Iranian influence in the last month"),
    "withdrawal_pressure_peak": ("float", "Peak withdrawal pressure"),
    "us_troops_end": ("float", "US troops in Iraq in the last month"),
    "us_troop_months": ("float", "Sum over months of US troops in Iraq (exposure)"),
}

#: Old names of outcome columns, kept for one release: old name -> current name. Results still
#: write them (they are in the output contract); figures leave them out (they repeat the column).
OUTCOME_ALIASES: dict[str, str] = {"expelled": "exit_demanded", "months_to_expulsion": "months_to_demand"}

REQUIRED_OUTCOMES = ["isis_peak", "isis_end", "resurgence", "months_to_resurgence",
                     "militia_attacks", "us_fatalities", "expelled", "months_to_expulsion",
                     "escalation", "isf_capability_end", "iran_influence_end", "us_troop_months"]


class OutcomeTracker:
    """Running reductions of one block's replicas, updated in the bookkeeping phase."""

    def __init__(self, model, keep_trajectories: bool = False, histograms=None):
        n, horizon = model.n_runs, model.horizon
        self.histograms = histograms
        self.threshold = float(model.scenario.outcomes.resurgence_threshold)
        self.isis_peak = np.zeros(n)
        self.territory_peak = np.zeros(n)
        self.pressure_peak = np.zeros(n)
        self.attacks = np.zeros(n)
        self.fatalities = np.zeros(n)
        self.troop_months = np.zeros(n)
        self.leadership_strikes = np.zeros(n)
        self.escalation = np.zeros(n, dtype=bool)
        self.months_to_resurgence = np.full(n, np.nan)
        self.months_to_expulsion = np.full(n, np.nan)
        self.months_to_vote = np.full(n, np.nan)
        self.trajectories = (np.zeros((len(TRAJECTORY_VARIABLES), horizon, n), dtype=np.float32)
                             if keep_trajectories else None)

    def record(self, m) -> None:
        """Fold month ``m.month`` of every replica into the running outcomes."""
        t = m.month
        _fold_month(
            t=float(t), threshold=self.threshold, isis=m.isis.fighters_iraq,
            territory=m.isis.territory, territory_peak=self.territory_peak,
            pressure=m.gov.withdrawal_pressure, attacks=m.militia_attacks_total(),
            fatalities=m.us.fatalities, leadership=m.us.strike_leadership, escalated=m.us.escalated,
            troops=m.us.troops, demanded=m.gov.exit_demanded, voted=m.gov.voted,
            isis_peak=self.isis_peak, pressure_peak=self.pressure_peak, total_attacks=self.attacks,
            total_fatalities=self.fatalities, total_leadership=self.leadership_strikes,
            escalation=self.escalation, troop_months=self.troop_months,
            months_to_resurgence=self.months_to_resurgence,
            months_to_expulsion=self.months_to_expulsion, months_to_vote=self.months_to_vote)
        if self.trajectories is not None:
            for i, var in enumerate(TRAJECTORY_VARIABLES.values()):
                self.trajectories[i, t] = var.get(m)
        if self.histograms is not None:
            self.histograms.add_month(t, [TRAJECTORY_VARIABLES[name].get(m)
                                          for name in self.histograms.variables])

    def outcomes(self, m) -> dict[str, np.ndarray]:
        """The outcome columns of model ``m``, one value per replica (copies, safe to keep)."""
        return {
            "isis_peak": self.isis_peak.copy(),
            "isis_end": m.isis.fighters_iraq.copy(),
            "territory_peak": self.territory_peak.copy(),
            "resurgence": ~np.isnan(self.months_to_resurgence),
            "months_to_resurgence": self.months_to_resurgence.copy(),
            "militia_attacks": self.attacks.copy(),
            "us_fatalities": self.fatalities.copy(),
            "exit_demanded": m.gov.exit_demanded.copy(),
            "months_to_demand": self.months_to_expulsion.copy(),
            **m.exit.outcomes(),
            "expelled": m.gov.exit_demanded.copy(),
            "months_to_expulsion": self.months_to_expulsion.copy(),
            "parliament_vote": m.gov.voted.copy(),
            "months_to_vote": self.months_to_vote.copy(),
            "escalation": self.escalation.copy(),
            "will_collapse": m.us.will_collapsed.copy(),
            "leadership_strikes": self.leadership_strikes.copy(),
            "isf_capability_end": m.gov.isf_capability.copy(),
            "iran_influence_end": m.iran.influence.copy(),
            "withdrawal_pressure_peak": self.pressure_peak.copy(),
            "us_troops_end": m.us.troops.copy(),
            "us_troop_months": self.troop_months.copy(),
        }


@njit(**COMPILE)
def _fold_month(t, threshold, isis, territory, territory_peak, pressure, attacks, fatalities,
                leadership, escalated, troops, demanded, voted, isis_peak, pressure_peak,
                total_attacks, total_fatalities, total_leadership, escalation, troop_months,
                months_to_resurgence, months_to_expulsion, months_to_vote):  # pragma: no cover - compiled
    """Fold month ``t`` into the running peaks, totals and first-passage months, per replica.

    Month 0 is the starting state: flows (attacks, deaths, strikes) count from month 1. Written
    without branches on the data (a first-passage month is stored back unchanged where it does
    not start), so the loops vectorise.
    """
    for i in range(isis.size):
        isis_peak[i] = max(isis_peak[i], isis[i])
        territory_peak[i] = max(territory_peak[i], territory[i])
        pressure_peak[i] = max(pressure_peak[i], pressure[i])
        troop_months[i] += troops[i]
        first = months_to_resurgence[i]
        months_to_resurgence[i] = t if (isis[i] >= threshold) & np.isnan(first) else first
        first = months_to_expulsion[i]
        months_to_expulsion[i] = t if demanded[i] & np.isnan(first) else first
        first = months_to_vote[i]
        months_to_vote[i] = t if voted[i] & np.isnan(first) else first
    if t > 0:
        for i in range(isis.size):
            total_attacks[i] += attacks[i]
            total_fatalities[i] += fatalities[i]
            total_leadership[i] += leadership[i]
            escalation[i] |= escalated[i]
