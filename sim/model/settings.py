"""What the model reads of a scenario (``ModelSettings``) and the default militia groups.

Apart from ``model.py`` so that a scenario can be read, checked and shown without loading the
actors, Mesa or the compiled loops (the drawing process of ``sim.reporting.drawing`` unpickles
scenarios and never runs one).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sim.model.levers import Levers
from sim.model.outcomes import OutcomeSettings

#: Default militia groups and their shares of attacks. Evidence: WP20-04 (Kataib Hezbollah led
#: the 2019 campaign), DB24-02 (Nujaba, whose commander was killed in 2024), FP23-08 (front groups
#: such as the International Resistance Faction). Shares are an assumption (KH the largest).
DEFAULT_MILITIAS = (("kataib_hezbollah", 0.5), ("nujaba", 0.3), ("front_groups", 0.2))


@dataclass(frozen=True)
class ModelSettings:
    """What the model reads of a scenario, with the values of the built-in baseline.

    A ``sim.scenario.Scenario`` has the same fields (and takes its default horizon from here);
    ``DrawdownModel(scenario=None)`` runs these: hold 2,500 troops, proportional retaliation,
    medium aid, no events, 60 months, every parameter at its default.
    """

    horizon_months: int = 60
    levers: Levers = field(default_factory=Levers)
    events: tuple = ()
    militias: tuple | None = None
    outcomes: OutcomeSettings = field(default_factory=OutcomeSettings)

    def fixed_parameters(self) -> dict[str, float]:
        """Parameters set to a number (none: every parameter takes its default)."""
        return {}
