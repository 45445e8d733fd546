"""Saving a run or a comparison as ``iraqsim run`` and ``iraqsim compare`` do: data and figures.

``Results.save`` and ``Comparison.save`` (the engine) write the data files; ``save`` here adds
the figures of ``sim.reporting.plots`` into the same atomic folder.
"""

from __future__ import annotations

import os
from pathlib import Path

from sim.engine.compare import Comparison
from sim.engine.io import write_atomically
from sim.reporting.plots import (
    plot_comparison,
    plot_comparison_trajectories,
    plot_outcomes,
    plot_trajectories,
)

#: Figures ``write_figures`` draws (its ``progress`` counts them).
FIGURES = 2


def write_figures(result, folder: str | os.PathLike, progress=None) -> None:
    """Draw ``plots/outcomes.png`` and ``plots/trajectories.png`` of a ``Results`` or a
    ``Comparison`` (overlaid) into an existing folder; ``progress`` is called with 1 after each."""
    done = progress or (lambda n: None)
    plots = Path(folder) / "plots"
    plots.mkdir(exist_ok=True)
    several = isinstance(result, Comparison)
    (plot_comparison if several else plot_outcomes)(result, plots / "outcomes.png")
    done(1)
    (plot_comparison_trajectories if several else plot_trajectories)(result, plots / "trajectories.png")
    done(1)


def write_into(result, folder: str | os.PathLike, plots: bool = True, progress=None) -> None:
    """The data files (``result.write_into``) and, with ``plots``, the figures, into ``folder``."""
    result.write_into(Path(folder), progress=progress)
    if plots:
        write_figures(result, folder, progress)


def save(result, directory: str | os.PathLike, plots: bool = True) -> Path:
    """Write a ``Results`` or a ``Comparison`` into ``directory`` atomically, figures included
    (the output contract of ``iraqsim run`` or ``iraqsim compare``); return its path."""
    return write_atomically(directory, lambda tmp: write_into(result, tmp, plots))
