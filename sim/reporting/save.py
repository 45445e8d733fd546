"""Saving a run or a comparison as ``iraqsim run`` and ``iraqsim compare`` do: data and figures.

``Results.save`` and ``Comparison.save`` (the engine) write the data files; ``save`` here adds
the figures of ``sim.reporting.plots`` into the same atomic folder.

Drawing the two figures takes longer than the runs themselves (``docs/performance.md``, "Time to
the first result"), so on Linux the first figure is drawn in a forked process while this one
writes the data files and draws the second (``_drawn_aside``).
"""

from __future__ import annotations

import os
import pickle
import signal
import sys
import warnings
from contextlib import contextmanager
from pathlib import Path

from sim.engine.compare import Comparison
from sim.engine.io import write_atomically

#: Figures ``write_into`` draws (its ``progress`` counts them).
FIGURES = 2


#: Whether ``write_into`` draws the first figure in a forked process (Linux only: elsewhere
#: ``fork`` is unavailable or unsafe beside the GUI frameworks matplotlib may load).
DRAW_ASIDE = sys.platform.startswith("linux") and hasattr(os, "fork")


def _figures(result, folder: str | os.PathLike) -> list[tuple]:
    """``(name, path)`` of the two figures of a ``Results`` or a ``Comparison`` (overlaid): the
    names of their functions in ``sim.reporting.plots``."""
    plots = Path(folder) / "plots"
    plots.mkdir(exist_ok=True)
    several = isinstance(result, Comparison)
    return [("plot_comparison" if several else "plot_outcomes", plots / "outcomes.png"),
            ("plot_comparison_trajectories" if several else "plot_trajectories",
             plots / "trajectories.png")]


def _draw(name: str, result, path: Path) -> None:
    """Draw figure ``name`` of ``sim.reporting.plots``, importing it (and matplotlib) on first use.

    matplotlib takes ~0.3 s to import: ``iraqsim run`` prints its table without it, and the
    process that draws the first figure aside imports it while this one writes the data files.
    """
    from sim.reporting import plots

    getattr(plots, name)(result, path)


def write_into(result, folder: str | os.PathLike, plots: bool = True, progress=None) -> None:
    """The data files (``result.write_into``) and, with ``plots``, the figures, into ``folder``.

    With ``DRAW_ASIDE`` the first figure is drawn in a forked process meanwhile (the same
    pixels); a failure there (a full disk, say) is raised here.
    """
    if not plots:
        result.write_into(Path(folder), progress=progress)
        return
    done = progress or (lambda n: None)
    (first, first_path), (second, second_path) = _figures(result, folder)
    with _drawn_aside(_draw, first, result, first_path):
        result.write_into(Path(folder), progress=progress)
        _draw(second, result, second_path)
        done(1)
    done(1)


@contextmanager
def _drawn_aside(draw, *args):
    """Run ``draw(*args)`` in a forked child while the ``with`` body runs; wait for it at the end.

    Without ``DRAW_ASIDE`` it runs after the body, here. An exception in the child is raised
    here on leaving (pickled through a pipe: an ``OSError`` keeps its path and cause). If the
    body fails or is interrupted (Ctrl-C, SIGTERM: this process answers them, the child ignores
    Ctrl-C), the child is killed before the exception goes on, so nothing draws into a folder
    being removed. The signals are held back across ``fork``, so the child never runs this
    process's handlers or ``finally`` blocks: it leaves with ``os._exit``.
    """
    pid, read = _fork_drawing(draw, args) if DRAW_ASIDE else (-1, -1)
    if pid < 0:  # no second process: draw here, after the body
        yield
        draw(*args)
        return
    finished = False
    try:
        yield
        failure = b""
        while chunk := os.read(read, 1 << 16):
            failure += chunk
        _, status = os.waitpid(pid, 0)
        finished = True
    finally:
        os.close(read)
        if not finished:
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
    if status != 0:
        raise pickle.loads(failure) if failure else RuntimeError(
            f"drawing {args[-1]} failed (exit status {status})")


def _fork_drawing(draw, args) -> tuple[int, int]:
    """Fork a child that runs ``draw(*args)``; return its pid and the pipe end its failure comes
    through, or ``(-1, -1)`` if no process could be made. Ctrl-C and SIGTERM are held back
    across ``fork``."""
    read, write = os.pipe()
    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        with warnings.catch_warnings():
            # Python 3.12+ warns about fork in a process with threads (BLAS, Arrow): the child
            # only draws with matplotlib and leaves with os._exit, taking no lock they hold.
            warnings.filterwarnings("ignore", "This process .* use of fork", DeprecationWarning)
            pid = os.fork()
        if pid == 0:
            _draw_in_child(write, read, held, draw, args)  # never returns
    except OSError:
        pid = -1
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)  # (the child leaves before this)
    os.close(write)
    if pid < 0:
        os.close(read)
        return -1, -1
    return pid, read


def _draw_in_child(write: int, read: int, held, draw, args) -> None:
    """The forked child of ``_drawn_aside``: draw, send any exception up the pipe, leave."""
    code = 1
    try:
        os.close(read)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent answers Ctrl-C, then kills us
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_SETMASK, held)
        draw(*args)
        code = 0
    except BaseException as exc:  # noqa: BLE001 - everything goes to the parent
        try:
            message = pickle.dumps(exc)
        except Exception:  # noqa: BLE001 - an exception that does not pickle
            message = pickle.dumps(RuntimeError(f"{type(exc).__name__}: {exc}"))
        try:
            os.write(write, message)
        except OSError:
            pass
    finally:
        os._exit(code)


def save(result, directory: str | os.PathLike, plots: bool = True) -> Path:
    """Write a ``Results`` or a ``Comparison`` into ``directory`` atomically, figures included
    (the output contract of ``iraqsim run`` or ``iraqsim compare``); return its path."""
    return write_atomically(directory, lambda tmp: write_into(result, tmp, plots))
