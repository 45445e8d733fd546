"""Saving a run or a comparison as ``iraqsim run`` and ``iraqsim compare`` do: data and figures.

``Results.save`` and ``Comparison.save`` (the engine) write the data files; ``save`` here adds
the figures of ``sim.reporting.plots`` into the same atomic folder: read here into plain data,
drawn by a ``sim.reporting.drawing.Drawing`` while the data files are written.
"""

from __future__ import annotations

import os
from pathlib import Path

from sim.engine.compare import Comparison
from sim.engine.io import write_atomically
from sim.reporting import plots as _plots
from sim.reporting.drawing import Drawing

#: Figures ``write_into`` draws (its ``progress`` counts them).
FIGURES = 2


def _figures(result, folder: str | os.PathLike) -> list[tuple]:
    """``(read, draw, path)`` of the two figures of a ``Results`` or a ``Comparison``
    (overlaid): the function of ``sim.reporting.plots`` that reads the figure's data and the name
    of the one of ``sim.reporting.figures`` that draws it."""
    plots = Path(folder) / "plots"
    plots.mkdir(exist_ok=True)
    several = isinstance(result, Comparison)
    return [(_plots.comparison_figure if several else _plots.outcomes_figure, "draw_outcomes",
             plots / "outcomes.png"),
            (_plots.comparison_trajectories_figure if several else _plots.trajectories_figure,
             "draw_trajectories", plots / "trajectories.png")]


def write_into(result, folder: str | os.PathLike, plots: bool = True, progress=None,
               drawing: Drawing | None = None) -> None:
    """The data files (``result.write_into``) and, with ``plots``, the figures, into ``folder``.

    The figures are drawn by ``drawing`` while the data files are written: the outcomes figure
    is read and sent at once, the trajectories once their quantile bands are computed, then the
    data files are written.
    Without one they are drawn here: a drawing process needs ~2 s to start, so ``iraqsim run``
    starts it before it loads the libraries. A failure drawing (a full disk, say) is raised here.
    """
    if not plots:
        result.write_into(Path(folder), progress=progress)
        return
    done = progress or (lambda n: None)
    with drawing or Drawing(aside=False) as figures:
        for read, draw, path in _figures(result, folder):
            figures.draw(draw, read(result), path)
        result.write_into(Path(folder), progress=progress)
        done(1)
        figures.finish()
    done(1)


def save(result, directory: str | os.PathLike, plots: bool = True) -> Path:
    """Write a ``Results`` or a ``Comparison`` into ``directory`` atomically, figures included
    (the output contract of ``iraqsim run`` or ``iraqsim compare``); return its path."""
    return write_atomically(directory, lambda tmp: write_into(result, tmp, plots))
