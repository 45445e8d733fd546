"""Progress bars on a terminal (tqdm on stderr), for the engine and the commands."""

from __future__ import annotations

import os
import sys
from typing import Callable

from tqdm import tqdm


def progress_bar(total: int, enabled: bool | None = None, desc: str = "",
                 unit: str = "run") -> Callable:
    """A progress callback (tqdm on stderr): call with items done, then ``None`` to close.

    Shown on a terminal (stderr is a TTY and ``CI`` is unset) unless ``enabled`` says otherwise.
    """
    if enabled is None:
        enabled = sys.stderr.isatty() and not os.environ.get("CI")
    if not enabled:
        return lambda n: None
    bar = tqdm(total=total, unit=unit, unit_scale=unit == "run", file=sys.stderr, leave=False,
               desc=desc or None, dynamic_ncols=True)

    def update(n):
        if n is None:
            bar.close()
        else:
            bar.update(n)
    return update


def job_progress(blocks: int, runs: int, enabled: bool | None, executor: str = "") -> Callable:
    """The engine's progress bar: counts runs as blocks complete, whichever worker ran them;
    only for jobs of two blocks or more."""
    return progress_bar(runs, False if blocks < 2 else enabled, executor)
