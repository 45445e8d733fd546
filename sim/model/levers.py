"""Levers: the drawdown choices a decision-maker controls.

* **posture** — how many US troops stay in Iraq each month (``sim.model.postures``): ``hold``,
  ``waypoints``, ``rapid_exit``, ``conditions_based``, ``over_the_horizon``,
  ``kurdistan_residual``.
* **retaliation** — the doctrine after militia attacks (M6): ``none``, ``proportional``,
  ``leadership``, ``iran_direct``.
* **aid** — the level of US aid and engagement: ``none``, ``low``, ``medium``, ``high``.
* **exit_response** — how the US answers Baghdad's formal demand to leave (M7): ``comply``
  (agree fast, everyone out within ``exit.comply_months``), ``negotiate`` (a phased timetable:
  federal Iraq first, a Kurdistan platform later, any residual advisers) or ``stall`` (talks
  drag, pressure builds, a forced exit grows likelier).
* **return_posture** — the troops US forces come back with if Baghdad invites them back after
  an exit (months count from the return): ``hold`` or ``waypoints`` (the 2014 build-up).

A posture only says what the US *chooses*; an exit timetable (agreed or forced, or collapsing
domestic will: ``sim.model.exit``) caps it. Lever defaults are choices, not evidence: a
scenario states them.
"""

from __future__ import annotations

from enum import Enum

from pydantic import BaseModel, ConfigDict, Field

from sim.model.postures import Hold, Posture, ReturnPosture, Waypoints


class Retaliation(str, Enum):
    """US doctrine after militia attacks (M6; DB24-04, DB24-05, RCD20-04, WP20-06)."""

    NONE = "none"
    PROPORTIONAL = "proportional"
    LEADERSHIP = "leadership"
    IRAN_DIRECT = "iran_direct"


class Aid(str, Enum):
    """Level of US aid, trade and engagement (FP23-07)."""

    NONE = "none"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def level(self) -> float:
        """Aid as a number in 0..1 (assumption: evenly spaced levels)."""
        return {"none": 0.0, "low": 1 / 3, "medium": 2 / 3, "high": 1.0}[self.value]


class ExitResponse(str, Enum):
    """How the US answers a formal Iraqi demand to leave (M7; DB24-19, DB24-20, DB24-10)."""

    COMPLY = "comply"
    NEGOTIATE = "negotiate"
    STALL = "stall"


#: The default return after an invitation: the 2014 pattern, months from the return. A few
#: hundred advisers at once, air power and some 2,000 troops within half a year, about 5,000
#: after two years (POL20-01, DB24-09; the intermediate points are assumptions).
RETURN_2014 = [(0, 0), (2, 800), (6, 2000), (13, 3500), (24, 5000)]


class Levers(BaseModel):
    """The decision-maker's choices in a scenario."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    posture: Posture = Field(default_factory=Hold)
    retaliation: Retaliation = Retaliation.PROPORTIONAL
    aid: Aid = Aid.MEDIUM
    exit_response: ExitResponse = ExitResponse.NEGOTIATE
    return_posture: ReturnPosture = Field(default_factory=lambda: Waypoints(points=RETURN_2014))
