"""Colours: one palette for every figure, the report, the exercises and the studio.

The scenarios of a figure take the colours below in order, so the first scenario (the reference
of a comparison or an exercise) is always blue and the second always vermillion, whichever
command or page draws them. The colours are Okabe and Ito's, chosen to stay distinct for readers
with the common forms of colour blindness; yellow, the least legible on white, comes last.
"""

from __future__ import annotations

#: Scenario colours, in order (Okabe-Ito).
SCENARIO_COLORS = ("#0072B2",  # blue
                   "#D55E00",  # vermillion
                   "#009E73",  # bluish green
                   "#CC79A7",  # reddish purple
                   "#E69F00",  # orange
                   "#56B4E9",  # sky blue
                   "#000000",  # black
                   "#F0E442")  # yellow
#: Probabilities of yes/no outcomes, when one scenario is drawn.
PROBABILITY = "#E69F00"
#: The US troop level (the lever), when one scenario is drawn.
TROOPS = "#555555"
#: Shading of scheduled events, and their labels.
EVENT_FILL, EVENT_TEXT = "#E69F00", "#8A5A00"
#: Medians and reference lines.
INK = "#222222"


def scenario_color(i: int) -> str:
    """The colour of the ``i``-th scenario of a figure (0 = the first, the reference)."""
    return SCENARIO_COLORS[i % len(SCENARIO_COLORS)]


def scenario_colors(k: int) -> list[str]:
    """The colours of ``k`` scenarios, in order."""
    return [scenario_color(i) for i in range(k)]
