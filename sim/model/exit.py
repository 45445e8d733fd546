"""The US exit from Iraq as a process with stages (M7), shared by Baghdad and Washington.

Baghdad moves a run from stage to stage (``IraqiGovernment.decide_on_exit``); the United States
executes the timetable (``UnitedStates.set_troop_level`` reads ``ExitProcess.troop_cap``) and
can force its own exit when its will collapses (M10). One ``ExitProcess`` holds, per run, the
stage, the timetable and the months at which each stage was reached.

The stages (``exit_stage`` in the outputs; docs/ODD.md, M7):

====  ===============  ==========================================================================
code  stage            meaning
====  ===============  ==========================================================================
0     present          US forces present, no exit process (also after a shelved negotiation)
1     resolution       parliament passed a non-binding resolution to expel foreign forces
2     negotiating      the government formally demanded an exit; a bilateral committee talks
3     withdrawing      an agreed timetable is under way (possibly phased: federal Iraq first,
                       then the Kurdistan platform, then any residual advisers)
4     forced           US forces leave without agreement (ordered out, or US will collapsed)
5     exit complete    the timetable has run out: no US forces, or only the agreed residual
6     returned         Baghdad invited US forces back after an exit, and they came
====  ===============  ==========================================================================
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np
from numba import njit

from sim.model.kernels import COMPILE, clip


class Stage(IntEnum):
    """Stages of the exit process (the ``exit_stage`` codes)."""

    PRESENT = 0
    RESOLUTION = 1
    NEGOTIATING = 2
    WITHDRAWING = 3
    FORCED = 4
    COMPLETE = 5
    RETURNED = 6


#: Plain names of the stages, for figures, reports and the README's output contract.
STAGE_NAMES = {s.value: s.name.lower().replace("_", " ") for s in Stage}
STAGE_NAMES[Stage.COMPLETE] = "exit complete"


class ExitProcess:
    """Per-run stage, timetable and milestones of the US exit (M7, M10).

    A timetable runs from ``start`` (troops ``from_troops``) down to ``platform`` troops at
    ``phase1_end``, keeps them to ``phase2_end``, then keeps ``residual``. A one-phase exit has
    ``platform == residual`` and ``phase2_end == phase1_end``. The cap holds from ``start`` until
    a return lifts it, whatever the stage (a residual force stays capped while Baghdad talks
    again about it).
    """

    def __init__(self, n: int):
        self.stage = np.zeros(n)  # float: the trajectory variable reads it as is
        self.start = np.full(n, np.inf)
        self.from_troops = np.zeros(n)
        self.phase1_end = np.full(n, np.inf)
        self.phase2_end = np.full(n, np.inf)
        self.platform = np.zeros(n)
        self.residual = np.zeros(n)
        self.phased = np.zeros(n, dtype=bool)
        self.demand_month = np.full(n, np.nan)
        self.agreement_month = np.full(n, np.nan)
        self.departure_month = np.full(n, np.nan)  # the first exit's end
        self.last_departure = np.full(n, np.nan)
        self.return_start = np.full(n, np.nan)  # the latest return (the return posture's month 0)
        self.months_to_return = np.full(n, np.nan)  # from the first exit's end to the first return
        self.forced = np.zeros(n, dtype=bool)
        self.returned = np.zeros(n, dtype=bool)

    # ---------------------------------------------------------------- reading the timetable
    def troop_cap(self, t: float) -> np.ndarray:
        """The most troops the timetable allows in month ``t``, per run (inf where none runs)."""
        return _cap_kernel(start=self.start, from_troops=self.from_troops,
                           phase1_end=self.phase1_end, phase2_end=self.phase2_end,
                           platform=self.platform, residual=self.residual, t=float(t))

    def kurdistan_troops(self, troops: np.ndarray, share) -> np.ndarray:
        """US troops in the Kurdistan Region: the usual share, or the platform once a phased
        timetable has left federal Iraq (troops above the platform are still federal)."""
        return _kurdistan_kernel(troops, share, self.stage, self.phased, self.platform)

    def runs_in_talks(self) -> np.ndarray:
        """The runs in talks (stage 2)."""
        return _stage_runs_kernel(self.stage, 2.0)

    # ---------------------------------------------------------------- starting a timetable
    def start_timetable(self, where: np.ndarray, t: float, troops: np.ndarray, months,
                        platform, phase2_months, residual, stage: int) -> None:
        """Start a timetable in the runs ``where`` (agreed: stage 3, forced: stage 4).

        ``months`` is the first phase; ``platform`` troops stay ``phase2_months`` more, then
        ``residual``. A forced exit replaces an agreed timetable only if it ends sooner.
        """
        runs = np.flatnonzero(where)  # a loop over every run would be if-converted and slow
        if not runs.size:
            return
        _start_kernel(runs=runs, t=float(t), troops=troops, cap=self.troop_cap(t),
                      months=months, platform=platform, phase2_months=phase2_months,
                      residual=residual, new_stage=int(stage), stage=self.stage,
                      start=self.start, from_troops=self.from_troops,
                      phase1_end=self.phase1_end, phase2_end=self.phase2_end, plat=self.platform,
                      resid=self.residual, phased=self.phased,
                      agreement_month=self.agreement_month, forced=self.forced)

    def complete_timetables(self, t: float) -> np.ndarray:
        """Runs whose timetable has run out reach stage 5 (their departure month is kept).

        Returns the runs in stage 5 afterwards (those Baghdad may invite back).
        """
        return _complete_kernel(self.stage, self.phase2_end, self.departure_month,
                                self.last_departure, float(t))

    def invite_back(self, where: np.ndarray, t: float) -> None:
        """US forces return where Baghdad invited them: the timetable is lifted (stage 6)."""
        _return_kernel(runs=np.flatnonzero(where), t=float(t), stage=self.stage, start=self.start,
                       phase1_end=self.phase1_end, phase2_end=self.phase2_end,
                       last_departure=self.last_departure, return_start=self.return_start,
                       months_to_return=self.months_to_return, returned=self.returned)

    # ---------------------------------------------------------------- outcome columns
    def outcomes(self) -> dict[str, np.ndarray]:
        """The exit outcome columns (copies; README, output contract)."""
        agreed = ~np.isnan(self.agreement_month)
        return {
            "agreement": agreed,
            "months_to_agreement": self.agreement_month.copy(),
            "forced_exit": self.forced.copy(),
            "departed": ~np.isnan(self.departure_month),
            "months_to_departure": self.departure_month.copy(),
            "reinvited": self.returned.copy(),
            "months_to_return": self.months_to_return.copy(),
        }


@njit(**COMPILE)
def _stage_runs_kernel(stage, code):  # pragma: no cover
    runs = np.empty(stage.size, dtype=np.int64)
    n = 0
    for i in range(stage.size):
        if stage[i] == code:
            runs[n] = i
            n += 1
    return runs[:n]


@njit(**COMPILE)
def _cap_kernel(start, from_troops, phase1_end, phase2_end, platform, residual,
                t):  # pragma: no cover
    cap = np.empty(start.size)
    for i in range(cap.size):  # every case computed and one selected: no branches, vectorised
        span = max(phase1_end[i] - start[i], 1.0)
        frac = clip((t - start[i]) / span, 0.0, 1.0)
        c = from_troops[i] + (platform[i] - from_troops[i]) * frac  # phase 1: the ramp down
        c = platform[i] if t >= phase1_end[i] else c
        c = residual[i] if t >= phase2_end[i] else c
        # no timetable: none was started, or a return lifted it
        cap[i] = c if t >= start[i] else np.inf
    return cap


@njit(**COMPILE)
def _kurdistan_kernel(troops, share, stage, phased, platform):  # pragma: no cover
    out = np.empty(troops.size)
    for i in range(out.size):
        if phased[i] and (stage[i] == 3 or stage[i] == 5):
            out[i] = min(troops[i], platform[i])
        else:
            out[i] = troops[i] * share[i]
    return out


@njit(**COMPILE)
def _start_kernel(runs, t, troops, cap, months, platform, phase2_months, residual, new_stage,
                  stage, start, from_troops, phase1_end, phase2_end, plat, resid, phased,
                  agreement_month, forced):  # pragma: no cover
    for j in range(runs.size):
        i = runs[j]
        end = t + months[i]
        running = stage[i] == 3 or stage[i] == 4
        if running and new_stage == 4 and end >= phase1_end[i] and plat[i] == 0.0:
            continue  # already leaving at least as fast
        if running and new_stage == 3:
            continue  # an agreement does not replace a timetable under way
        from_troops[i] = min(troops[i], cap[i])
        start[i] = t
        phase1_end[i] = end
        phase2_end[i] = end + phase2_months[i]
        plat[i] = min(platform[i], from_troops[i])
        resid[i] = min(residual[i], plat[i])
        phased[i] = plat[i] > 0.0 and phase2_months[i] > 0.0
        stage[i] = new_stage
        if new_stage == 3 and np.isnan(agreement_month[i]):
            agreement_month[i] = t
        if new_stage == 4:
            forced[i] = True


@njit(**COMPILE)
def _complete_kernel(stage, phase2_end, departure_month, last_departure, t):  # pragma: no cover
    gone = np.empty(stage.size, dtype=np.int64)
    n_gone = 0
    for i in range(stage.size):
        if (stage[i] == 3 or stage[i] == 4) and t >= phase2_end[i]:
            stage[i] = 5
            last_departure[i] = t
            if np.isnan(departure_month[i]):
                departure_month[i] = t
        gone[n_gone] = i  # a branch-free gather
        n_gone += stage[i] == 5
    return gone[:n_gone]


@njit(**COMPILE)
def _return_kernel(runs, t, stage, start, phase1_end, phase2_end, last_departure, return_start,
                   months_to_return, returned):  # pragma: no cover
    for j in range(runs.size):
        i = runs[j]
        if stage[i] == 5:
            stage[i] = 6
            start[i] = np.inf
            phase1_end[i] = np.inf
            phase2_end[i] = np.inf
            if not returned[i]:
                months_to_return[i] = t - last_departure[i]
            return_start[i] = t
            returned[i] = True
