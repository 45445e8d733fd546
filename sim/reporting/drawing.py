"""The drawing process: figures drawn beside the process that computes them.

Drawing the two figures of a run takes longer than the runs (``docs/performance.md``, "Time to
the first result"). A ``Drawing`` starts a fresh Python process at once (``iraqsim run`` and
``compare`` start it before they load the libraries), which imports matplotlib and the figure
code (``sim.reporting.figures``: not the engine, not even pandas) while the runs compute, then
makes the frames of the figures it is told to expect (``prepare``). Each figure sent to it, as
plain data (``sim.reporting.figure_data``), is drawn in a process of its own forked from it, with
its copy of the frames, so two figures have two cores while this process writes the data files.

The drawing process is started, not forked from this one: a fork of a process with threads
(Arrow's, numba's) and with Python signal handlers can lose a Ctrl-C (the handler then runs in
the at-fork callbacks, whose exceptions Python ignores) or leave a lock held. It is the same
code, from the same ``sys.path``, so the figures are the same pixels. Linux only
(``DRAW_ASIDE``): elsewhere figures are drawn in this process.

This module imports only the standard library, so a command can start the drawing process
before anything else.
"""

from __future__ import annotations

import gc
import os
import pickle
import signal
import subprocess
import sys
from contextlib import ExitStack, contextmanager
from pathlib import Path

#: Whether figures are drawn in other processes (Linux: the drawing process forks one process a
#: figure; elsewhere ``fork`` is unavailable or unsafe beside the GUI frameworks matplotlib may
#: load). Otherwise ``Drawing.draw`` draws here.
DRAW_ASIDE = sys.platform.startswith("linux") and hasattr(os, "fork") and bool(sys.executable)

#: How the drawing process is started: this Python, this module, then the pipe for failures.
COMMAND = [sys.executable, "-m", "sim.reporting.drawing"]


def draw_here(name: str, data, path: Path) -> None:
    """Draw ``data`` with the function ``name`` of ``sim.reporting.figures`` into ``path`` in this
    process (importing matplotlib on first use: ``iraqsim run`` prints its table without it)."""
    from sim.reporting import figures

    getattr(figures, name)(data, path)


class Drawing:
    """Figures drawn by a drawing process (with ``aside`` and ``DRAW_ASIDE``; else here, when sent).

    Made, it starts the drawing process; ``prepare`` tells it which figures to expect, so that
    it makes their frames while it waits; ``draw`` sends it a figure (pickled through a pipe);
    ``finish`` waits for every figure sent and raises the first failure (an ``OSError`` keeps its
    path and cause). Leaving the ``with`` block on an exception (Ctrl-C, SIGTERM, a failure), or
    with no figure sent, stops the drawing process, which kills and reaps its figure processes
    first, so nothing draws into a folder being removed. Nothing it runs prints.
    """

    def __init__(self, aside: bool = DRAW_ASIDE):
        self._process, self._failures, self._sent = None, -1, 0
        if aside and DRAW_ASIDE:
            self._start()

    def __enter__(self) -> Drawing:
        return self

    def __exit__(self, kind, value, traceback) -> None:
        if kind is None and self._sent:
            self.finish()
        else:
            self.stop()

    def prepare(self, shapes) -> None:
        """Have the drawing process make the frames of figures of ``shapes`` while it waits
        (``sim.reporting.figures.prepare``); nothing without one."""
        if self._process is not None:
            self._send(("prepare", list(shapes)))

    def draw(self, name: str, data, path: Path) -> None:
        """Draw ``data`` with the function ``name`` of ``sim.reporting.figures`` into ``path``: in
        the drawing process, or here without one."""
        if self._process is None:
            draw_here(name, data, path)
            return
        self._sent += 1
        self._send((name, data, Path(path)))

    def _send(self, message) -> None:
        try:
            pickle.dump(message, self._process.stdin, protocol=pickle.HIGHEST_PROTOCOL)
            self._process.stdin.flush()
        except BrokenPipeError:  # the drawing process has failed: say why
            self.finish()
            raise

    def finish(self) -> None:
        """Wait for every figure sent; raise the first failure."""
        if self._process is None:
            return
        process, self._process = self._process, None
        try:
            process.stdin.close()
        except BrokenPipeError:
            pass
        failure = b""
        while chunk := os.read(self._failures, 1 << 16):
            failure += chunk
        os.close(self._failures)
        status = process.wait()
        if status != 0:
            raise pickle.loads(failure) if failure else RuntimeError(
                f"the drawing process failed (exit status {status})")

    def stop(self) -> None:
        """Stop the drawing process and its figure processes, and wait until they are gone."""
        if self._process is None:
            return
        process, self._process = self._process, None
        try:
            process.send_signal(signal.SIGTERM)  # it kills and reaps its figure processes, leaves
            process.wait(timeout=10)  # at once, unless stuck in compiled code
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        try:  # and whatever is left of its session (its own process group): nothing may draw on
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        for closing in (process.stdin.close, lambda: os.close(self._failures)):
            try:
                closing()
            except OSError:
                pass

    def _start(self) -> None:
        read, write = os.pipe()
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
        try:
            # its own session: Ctrl-C at the terminal reaches this process only, which stops it
            self._process = subprocess.Popen([*COMMAND, str(write)], stdin=subprocess.PIPE,
                                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                             pass_fds=(write,), env=env, start_new_session=True)
        except OSError:  # no process could be made: figures are drawn here
            os.close(read)
            self._process = None
        else:
            self._failures = read
        finally:
            os.close(write)


# ---------------------------------------------------------------------- in the drawing process
#: The pids of this drawing process's figure processes still drawing.
_FIGURE_PIDS: set[int] = set()


def _stop_figures(signum, frame):
    """SIGTERM (the parent stops us): kill and reap the figure processes, then leave at once.
    Done here, not by raising, so that no ``except`` in a library can hold it up."""
    for pid in list(_FIGURE_PIDS):
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
    os._exit(1)


def serve(failures: int) -> None:
    """The drawing process: import the figure code, then make the frames it is told to expect
    and draw each figure read from stdin in a process of its own; write the first failure,
    pickled, into the pipe ``failures``; leave (``os._exit``) when stdin ends, or on SIGTERM
    after ending the figure processes.

    The garbage collector is off here (what this process makes lives until it leaves) and what
    it holds is frozen before each fork, as Python's ``gc.freeze`` documentation advises: a
    figure process collects only the objects it makes, not the libraries' hundreds of thousands
    it inherits."""
    code = 1
    try:
        gc.disable()
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent answers Ctrl-C, then stops us
        signal.signal(signal.SIGTERM, _stop_figures)
        from sim.reporting import figures  # matplotlib imports while the runs compute
        with ExitStack() as drawn:
            while True:
                try:
                    job = pickle.load(sys.stdin.buffer)
                except EOFError:
                    break
                if job[0] == "prepare":
                    figures.prepare(job[1])
                else:
                    drawn.enter_context(_figure_process(failures, *job))
        code = 0
    except BaseException as exc:  # noqa: BLE001 - everything goes to the parent
        _send(failures, exc)
    finally:
        os._exit(code)


@contextmanager
def _figure_process(inherited: int, name: str, data, path: Path):
    """Draw one figure in a forked child while the ``with`` body runs; wait for it on leaving and
    raise its failure here. SIGTERM is held back across ``fork``, so ``_stop_figures`` always
    knows every child."""
    read, write = os.pipe()
    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    gc.freeze()
    try:
        pid = os.fork()
    except OSError:
        pid = -1
    if pid == 0:
        os.close(inherited)
        os.close(read)
        _figure_child(write, held, name, data, path)  # never returns
    os.close(write)
    if pid > 0:
        _FIGURE_PIDS.add(pid)
    signal.pthread_sigmask(signal.SIG_SETMASK, held)
    status = 0
    try:
        if pid < 0:  # no process could be made: draw here
            draw_here(name, data, path)
            yield
            return
        yield
        failure = b""
        while chunk := os.read(read, 1 << 16):
            failure += chunk
        _, status = os.waitpid(pid, 0)
        _FIGURE_PIDS.discard(pid)
    finally:
        os.close(read)
        if pid in _FIGURE_PIDS:  # leaving early: a later figure failed
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
            _FIGURE_PIDS.discard(pid)
    if status != 0:
        raise pickle.loads(failure) if failure else RuntimeError(
            f"drawing {path} failed (exit status {status})")


def _figure_child(write: int, held, name: str, data, path: Path) -> None:
    """A figure process: draw, write any exception into the pipe, leave."""
    code = 1
    try:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_SETMASK, held)
        gc.enable()  # the inherited objects are frozen: it collects only what the figure makes
        draw_here(name, data, path)
        code = 0
    except BaseException as exc:  # noqa: BLE001 - everything goes to the parent
        _send(write, exc)
    finally:
        os._exit(code)


def _send(pipe: int, exc: BaseException) -> None:
    """Write ``exc`` pickled into ``pipe`` (as a ``RuntimeError`` if it does not pickle)."""
    try:
        message = pickle.dumps(exc)
    except Exception:  # noqa: BLE001 - an exception that does not pickle
        message = pickle.dumps(RuntimeError(f"{type(exc).__name__}: {exc}"))
    try:
        os.write(pipe, message)
    except OSError:
        pass


if __name__ == "__main__":
    serve(int(sys.argv[1]))
