"""The ``iraqsim`` command line: one module per command, over the library.

The top layer: only it knows about options, exit codes and the terminal. ``main`` (here) runs a
command, called by the console script through ``command``: it answers Ctrl-C and SIGTERM at any moment, even while the libraries load,
with one line and exit 130 or 143. ``app.py`` parses the command line and turns library errors
into one line and exit code 2; ``common.py`` holds what commands share (scenario arguments,
output folders). See docs/ARCHITECTURE.md.
"""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import sys
import threading
import time

from sim._lazy import defer_package_init


class Terminated(BaseException):
    """SIGTERM (from ``kill``, ``timeout``, a scheduler), raised where the program is, so every
    ``finally`` and ``with`` cleans up as for Ctrl-C."""


#: The signals received (SIGINT, SIGTERM), in order.
_RECEIVED: list[int] = []


def _on_signal(signum, frame):
    """Note the signal, then raise where the program is (``KeyboardInterrupt`` or
    ``Terminated``), as Python's own Ctrl-C handler does."""
    _RECEIVED.append(signum)
    raise KeyboardInterrupt() if signum == signal.SIGINT else Terminated()


def _quiet_unraisable(hook):
    """An ``unraisablehook`` for an interrupt raised where Python cannot propagate it.

    A signal's handler runs wherever the main thread is, and there it may raise where Python
    can only print (a ctypes callback inside numba's compiler, an object's ``__del__``): the
    interrupt would be lost and the job would go on to its end. This hook has the same signal
    sent again a moment later, so the handler runs once more where it can stop the job; ``main``
    then reports it in one line. Once a signal has arrived the hook is silent about every error:
    those are the debris of what the interrupt cut short (llvmlite's finaliser of an object
    whose creation it stopped fails on exit with an ``AttributeError``)."""
    def unraisable(args):
        try:
            if isinstance(args.exc_value, (KeyboardInterrupt, Terminated)):
                _send_again(_SIGNAL_OF[type(args.exc_value)])
            elif not _RECEIVED:
                hook(args)
        except (KeyboardInterrupt, Terminated) as exc:  # the signal came back while in here
            _send_again(_SIGNAL_OF[type(exc)])
    unraisable.iraqsim = True
    return unraisable


_SIGNAL_OF = {KeyboardInterrupt: signal.SIGINT, Terminated: signal.SIGTERM}


def _send_again(signum: int, after: float = 0.05) -> None:
    """Send ``signum`` to this process ``after`` seconds from now, from another thread: the
    unraisable hook has returned by then (were the handler to run inside the hook, its exception
    would be lost again; the hook catches that case too and sends it once more)."""
    def send():
        time.sleep(after)
        os.kill(os.getpid(), signum)
    try:
        threading.Thread(target=send, daemon=True, name="iraqsim-signal-again").start()
    except RuntimeError:  # the interpreter is shutting down: nothing is left to stop
        pass


def _interrupted(exc: BaseException) -> type | None:
    """``KeyboardInterrupt`` or ``Terminated`` if ``exc`` is, or was caused by, one, or if a
    signal arrived before it.

    A signal that arrives inside compiled code can surface as a ``SystemError`` ("returned a
    result with an exception set") whose context is the interrupt; one that arrives in a ctypes
    callback while numba compiles is swallowed there, and numba then fails with an error of its
    own ("no compiled object yet"): the signal noted by ``_on_signal`` tells them apart.
    """
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, (KeyboardInterrupt, Terminated)):
            return type(exc)
        exc = exc.__cause__ or exc.__context__
    if _RECEIVED:
        return KeyboardInterrupt if _RECEIVED[0] == signal.SIGINT else Terminated
    return None


#: Packages whose ``__init__`` runs only if a name of the package itself is asked for
#: (``sim/_lazy.py``): the model needs two of Mesa's modules (``mesa.model``, ``mesa.agent``) and
#: three compiled functions of ``scipy.special`` (``sim/model/special.py``), not all of them; numba,
#: on loading its first compiled kernel, checks that ``scipy.linalg.cython_blas`` imports, which
#: would otherwise load all of ``scipy.linalg`` and its array-API layer (~0.1 s) for nothing.
DEFERRED_PACKAGES = ("mesa", "scipy.special", "scipy.linalg")

#: Commands that draw figures: ``main`` starts their drawing process before anything else loads.
DRAWING_COMMANDS = ("run", "compare")


def _drawing_for(argv):
    """A ``sim.reporting.drawing.Drawing`` started now if the command draws figures (``run``,
    ``compare``), else an empty context."""
    args = tuple(sys.argv[1:] if argv is None else argv)  # (`list` here is sim.cli.list)
    command = next((a for a in args if not a.startswith("-")), None)
    if command in DRAWING_COMMANDS and not {"-h", "--help"} & set(args):
        from sim.reporting.drawing import Drawing
        return Drawing()
    return contextlib.nullcontext()


def main(argv=None, *, settle_libraries: bool = False) -> int:
    """Run the command ``argv`` (default: ``sys.argv[1:]``); return its exit code.

    With ``settle_libraries`` (the console script, ``command``), the garbage collector is paused
    while the libraries load and then leaves their objects alone (``gc.freeze``): they live as
    long as the process, and each full collection of the run would otherwise go through all of
    them again (~0.15 s in a run). Without it (a program calling ``main``), the collector is not
    touched."""
    _RECEIVED.clear()
    if threading.current_thread() is threading.main_thread():  # signals go to the main thread
        for signum in (signal.SIGINT, signal.SIGTERM):
            if signal.getsignal(signum) in (signal.SIG_DFL, signal.default_int_handler, None):
                signal.signal(signum, _on_signal)
    if not getattr(sys.unraisablehook, "iraqsim", False):
        sys.unraisablehook = _quiet_unraisable(sys.unraisablehook)
    for package in DEFERRED_PACKAGES:
        defer_package_init(package)
    try:
        with _drawing_for(argv) as drawing:  # started first: it loads matplotlib meanwhile
            with _collector_paused(settle_libraries):
                import mesa.model  # noqa: F401  first: its logger's set-up takes longer the more is loaded
                from sim.cli.app import run  # numpy, numba, pandas...: Ctrl-C may come while they load
            return run(argv, drawing=drawing)
    except BrokenPipeError:  # `iraqsim ... | head`: the reader left; leave quietly
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return 141
    except BaseException as exc:
        kind = _interrupted(exc)
        if kind is None:
            raise
        print("iraqsim: interrupted; nothing was written" if kind is KeyboardInterrupt
              else "iraqsim: terminated; nothing was written", file=sys.stderr)
        return 130 if kind is KeyboardInterrupt else 143


#: The variables that set OpenBLAS's threads. The model does no linear algebra, but numpy and
#: SciPy each load an OpenBLAS that starts a thread per core, which spins for a while when idle:
#: ~0.1 s of a core per library and process, on the cores the figures are drawn on. The console
#: script sets the first to 1 unless the user has set one of them (its processes inherit it).
BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")


@contextlib.contextmanager
def _collector_paused(settle: bool):
    """With ``settle``, the garbage collector paused in the ``with`` block, then what it made
    frozen (never collected: ``gc.freeze``) and the collector back on for what comes next."""
    if not settle or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
        gc.freeze()
    finally:
        gc.enable()


def command(argv=None) -> int:
    """The ``iraqsim`` console script and ``python -m sim``: ``main``, then an exit without the
    garbage collector's last passes.

    On exit Python looks for reference cycles among all of its objects, several times, and the
    libraries a command loads (numba, pandas, matplotlib) hold hundreds of thousands of them:
    ~0.3 s after the last line is printed, spent freeing memory the operating system takes back
    anyway. ``gc.freeze`` puts them out of the collector's sight; the rest of a normal exit
    (``atexit``, flushing the streams, joining threads) still runs. Before, ``main`` pauses the
    collector while the libraries load (``settle_libraries``). ``main`` called from a program
    leaves the collector alone.

    It also runs OpenBLAS on one thread, unless the user chose (``BLAS_THREADS``).
    """
    if not set(BLAS_THREADS) & set(os.environ):
        os.environ[BLAS_THREADS[0]] = "1"
    code = main(argv, settle_libraries=True)
    gc.freeze()
    return code


__all__ = ["Terminated", "command", "main"]
