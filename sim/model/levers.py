"""Levers: the drawdown choices a decision-maker controls.

* **posture** — how many US troops stay in Iraq each month (``sim.model.postures``): ``hold``,
  ``waypoints``, ``rapid_exit``, ``conditions_based``, ``over_the_horizon``,
  ``kurdistan_residual``.
* **retaliation** — the doctrine after militia attacks (M6): ``none``, ``proportional``,
  ``leadership``, ``iran_direct``.
* **aid** — the level of US aid and engagement: ``none``, ``low``, ``medium``, ``high``.

A posture only says what the US *chooses*; a forced exit (expulsion or collapsing domestic will,
``UnitedStates.forced_exit_cap``) overrides it. Lever defaults are choices, not evidence: a
scenario states them.
"""

from __future__ import annotations

from enum import Enum

from pydantic import BaseModel, ConfigDict, Field

from sim.model.postures import Hold, Posture


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


class Levers(BaseModel):
    """The decision-maker's choices in a scenario."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    posture: Posture = Field(default_factory=Hold)
    retaliation: Retaliation = Retaliation.PROPORTIONAL
    aid: Aid = Aid.MEDIUM
