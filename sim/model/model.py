"""``DrawdownModel``: one Mesa model holding a block of Monte Carlo replicas.

Every agent's state is a numpy array of shape ``(n_runs,)``, so one ``step()`` advances every
replica of the block by one month. The step reads like the month's story (docs/ODD.md, section 1.3)::

    exogenous events → Iran → militias → United States → Iraqi government → ISIS → bookkeeping

The exit process (``sim.model.exit``) is state the United States and the Iraqi government share:
Baghdad moves its stages, Washington's troops follow its timetable.

Randomness comes only from ``self.rng`` (the Mesa model's numpy Generator): each actor draws from
its own child stream spawned from it, which keeps common random numbers aligned across scenarios.
The streams are ``sim.model.draws.Stream``: numpy's numbers, drawn in compiled loops.
"""

from __future__ import annotations

import inspect
from types import SimpleNamespace

import numpy as np
from mesa.agent import Agent
from mesa.model import Model
from numba import njit

from sim.model.actors import ISIS, Iran, IraqiGovernment, Militia, UnitedStates
from sim.model.draws import Stream
from sim.model.events import EventSeries
from sim.model.kernels import COMPILE
from sim.model.exit import ExitProcess
from sim.model.levers import ExitResponse, Retaliation
from sim.model.outcomes import TRAJECTORY_VARIABLES, OutcomeTracker
from sim.model.parameters import make_namespace, per_run
from sim.model.settings import DEFAULT_MILITIAS, ModelSettings


def batch_run_seeds(seeds) -> tuple[dict, dict]:
    """How to give ``mesa.batch_run`` one run of ``DrawdownModel`` per seed in ``seeds``.

    Returns ``(parameters, keywords)``: merge ``parameters`` into batch_run's parameter mapping
    and pass ``keywords`` to it. From mesa 3.4 the seeds go in ``rng`` (``iterations`` is
    deprecated, and a ``seed`` parameter would be overwritten with ``None``); before, ``seed``
    is a swept parameter with ``iterations=1``.
    """
    seeds = list(seeds)
    from mesa.batchrunner import batch_run

    if "rng" in inspect.signature(batch_run).parameters:
        return {}, {"rng": seeds}
    return {"seed": seeds}, {"iterations": 1}


class DrawdownModel(Model):
    """A block of ``n_runs`` replicas of the Iraq drawdown model.

    Args:
        scenario: A ``sim.scenario.Scenario`` (levers, events, horizon). ``None`` uses the
            built-in baseline (hold 2,500 troops, proportional retaliation, medium aid).
        n_runs: Replicas in the block.
        params: Parameter values by dotted name; a scalar or an array of ``n_runs`` values.
            Unset parameters take the scenario's fixed values, then the registry defaults.
        keep_trajectories: Record per-month trajectories for every replica (needed for
            quantiles); outcome columns are always tracked.
        histograms: A ``sim.engine.summary.MonthlyHistograms`` to bin every month's trajectory values
            into as they are recorded (what the engine does for large jobs), instead of
            keeping them.
        collect: Also record per-month means in a Mesa ``DataCollector`` (for views and
            ``mesa.batch_run``).
        seed: Seed for the model's Generator (or pass ``rng``).
        rng: A numpy Generator or seed-like, forwarded to ``mesa.Model``.
    """

    def __init__(self, scenario=None, n_runs: int = 1, params: dict | None = None,
                 keep_trajectories: bool = False, collect: bool = False,
                 seed=None, rng=None, histograms=None):
        if seed is not None and rng is None:  # same Generator; mesa >= 3.5 deprecates seed=
            seed, rng = None, seed
        super().__init__(seed=seed, rng=rng)
        self.scenario = scenario if scenario is not None else ModelSettings()
        sc = self.scenario
        self.n_runs = int(n_runs)
        self.horizon = sc.horizon_months
        self.month = 0
        values = dict(sc.fixed_parameters())
        values.update(params or {})
        self.p = make_namespace(values, self.n_runs)
        self.posture = sc.levers.posture
        self.retaliation = Retaliation(sc.levers.retaliation)
        self.aid = sc.levers.aid.level
        self.exit_response = ExitResponse(sc.levers.exit_response)
        self.return_posture = sc.levers.return_posture
        self.events = EventSeries.compile(sc.events, self.horizon)

        militias = tuple((g.name, g.share) for g in sc.militias) if sc.militias else DEFAULT_MILITIAS
        # New streams go at the end: spawned children keep their index, so the older streams
        # (and common random numbers across versions of the model) stay as they were.
        names = (["events", "iran", "us", "iraq", "isis"] + [f"militia:{n}" for n, _ in militias]
                 + ["responses", "exit"])
        self.streams = {name: Stream(g) for name, g in zip(names, self.rng.spawn(len(names)))}
        self.exit_stream = self.streams["exit"]
        self.exit = ExitProcess(self.n_runs)  # the exit process Baghdad and Washington share

        # month caches (militia_exposure, troop_share_power, militia_attacks_total)
        self._exposure_month, self._powers, self._attacks_month = -1, {}, -1
        # Agents are created in phase order; state that others read at creation exists first.
        self.isis = ISIS(self)
        self.gov = IraqiGovernment(self)
        self.us = UnitedStates(self)
        self.iran = Iran(self)
        self.militias = [Militia(self, name, share) for name, share in militias]
        self.isis.settle()

        self.tracker = OutcomeTracker(self, keep_trajectories=keep_trajectories,
                                      histograms=histograms)
        self._datacollector = None
        if collect:
            self.datacollector = _data_collector(
                {name: (lambda m, f=var.get: float(np.mean(f(m))))
                 for name, var in TRAJECTORY_VARIABLES.items()})
        self.tracker.record(self)  # month 0
        if collect:
            self.datacollector.collect(self)

    # mesa >= 3.5 has a Model.scenario property of its own (a mesa Scenario, which it sets in
    # Model.__init__ and links back with ``scenario.model = self``). Here ``scenario`` is the
    # iraqsim scenario, a frozen pydantic model, so this plain property replaces mesa's.
    @property
    def scenario(self):
        """The iraqsim scenario (levers, events, horizon) of this block."""
        return self._iraqsim_scenario

    @scenario.setter
    def scenario(self, value):
        self._iraqsim_scenario = value

    # ------------------------------------------------------------------ the month
    def step(self):
        """Advance every replica one month, in the fixed phase order."""
        self.month += 1
        # exogenous events are compiled series indexed by self.month (M12)
        self.agents_by_type[Iran].do("step")
        self.agents_by_type[Militia].do("step")
        self.agents_by_type[UnitedStates].do("step")
        self.agents_by_type[IraqiGovernment].do("step")
        self.agents_by_type[ISIS].do("step")
        self.tracker.record(self)
        if self.reporters_active:
            self.datacollector.collect(self)
        if self.month >= self.horizon - 1:
            self.running = False

    @property
    def datacollector(self):
        """Mesa's ``DataCollector``: per-month means with ``collect``, else an empty one made on
        first use (Mesa's module loads pandas, which a run without it does not need)."""
        if self._datacollector is None:
            self._datacollector = _data_collector({})
        return self._datacollector

    @datacollector.setter
    def datacollector(self, value):
        self._datacollector = value

    @property
    def reporters_active(self) -> bool:
        """Whether the DataCollector has reporters to collect."""
        return self._datacollector is not None and bool(self._datacollector.model_reporters)

    def run(self) -> dict[str, np.ndarray]:
        """Step to the horizon and return the outcome columns of every replica."""
        while self.month < self.horizon - 1:
            self.step()
        return self.tracker.outcomes(self)

    def release(self):
        """Drop the agents and Mesa's class-level reference to this model (mesa 3.3 leak;
        mesa 3.5 has no such registry)."""
        self.remove_all_agents()
        registry = getattr(Agent, "_ids", None)
        if registry is not None:
            registry.pop(self, None)

    # ------------------------------------------------------------------ readings across groups
    def militia_attacks_total(self) -> np.ndarray:
        """Militia attacks on US forces this month, all groups.

        Summed once a month: the United States reads it twice and the bookkeeping twice. The
        militias' phase sets the attacks before anyone reads them. Every caller gets the same
        array, so none may write to it; next month's is a new array, so an old one stays valid.
        """
        if self._attacks_month != self.month:
            self._attacks_total = _total(g.attacks for g in self.militias)
            self._attacks_month = self.month
        return self._attacks_total

    def response_uniforms(self) -> np.ndarray:
        """One uniform per militia group and run for answering this month's strikes (M13).

        Each 64-bit draw of the ``responses`` stream gives three groups a uniform each, from
        disjoint 21-bit slices (independent, and a third of the draws of one call per group).
        Returns an array of shape (groups, runs); its rows are overwritten next call.
        """
        groups, n = len(self.militias), self.n_runs
        if getattr(self, "_responses", None) is None:
            self._responses = np.empty((groups, n), dtype=np.float32)
        raws = self.streams["responses"].raw((groups + 2) // 3 * n)
        _split_raw_uniforms(raws.reshape(-1, n), self._responses)
        return self._responses

    def militia_fatalities_total(self) -> np.ndarray:
        """US deaths from militia attacks this month, all groups."""
        return _total(g.fatalities for g in self.militias)

    def militia_campaign_mean(self) -> np.ndarray:
        """The groups' campaigns weighted by their shares of attacks (M13; direction units)."""
        total = np.zeros(self.n_runs)
        for g in self.militias:
            _add_weighted_product(total, g.share, g.campaign, 1.0)
        return total

    def militia_strength_mean(self) -> np.ndarray:
        """Mean militia strength (1 = early 2024)."""
        total = _total(g.strength for g in self.militias)
        total /= len(self.militias)
        return total

    def militia_coercion(self) -> np.ndarray:
        """M7/M11: coercion of MPs, from militia strength and cohesion under Iran's direction (FP23-02)."""
        coercion = np.zeros(self.n_runs)
        for g in self.militias:
            _add_weighted_product(coercion, g.share, g.strength, g.cohesion)
        coercion *= self.iran.direction
        return coercion

    def militia_exposure(self) -> np.ndarray:
        """M5: exposure of the US troops present to militia attack this month, for every group.

        Exposure grows with troops relative to the reference force (capped at 4x), to the power
        ``militia.exposure_exponent``, times the posture's exposure factor (docs/ODD.md, M5). Computed
        once a month: the power is the costliest step of the attack rate.
        """
        if self._exposure_month != self.month:
            share = self.troop_share_power(self.us.troops, 4.0, self.p.militia_exposure_exponent)
            self._exposure = share * self.posture.exposure_factor
            self._exposure_month = self.month
        return self._exposure

    def troop_share_power(self, troops: np.ndarray, cap: float, exponent: np.ndarray) -> np.ndarray:
        """``min(troops / reference, cap) ** exponent`` per run (read-only, valid this month).

        The power is the costliest array operation of the month, and in most runs troops do not
        change from one month to the next, so it is recomputed only in the runs where they did.
        """
        key = (cap, id(exponent))
        if key not in self._powers:
            # per-run arrays, so the power is element-wise whether the parameters vary or not
            # (numpy's ``**`` takes shortcuts for some numbers, e.g. sqrt for 0.5)
            reference, exponent = (per_run(x, self.n_runs)
                                   for x in (self.p.us_reference_troops, exponent))
            share = np.minimum(troops / reference, cap)
            self._powers[key] = (troops.copy(), share ** exponent, reference, exponent)
            return self._powers[key][1]
        last_troops, powered, reference, exponent = self._powers[key]
        changed = np.flatnonzero(troops != last_troops)
        if changed.size:
            t = troops[changed]
            share = np.minimum(t / reference[changed], cap)
            powered[changed] = share ** exponent[changed]
            last_troops[changed] = t
        return powered

    def most_active_group(self) -> np.ndarray:
        """Index of the group with most attacks this month in each run (first on ties)."""
        return np.argmax(np.stack([g.attacks for g in self.militias]), axis=0)

    def state(self) -> SimpleNamespace:
        """A copy of the trajectory variables now, for inspection."""
        return SimpleNamespace(**{k: np.array(v.get(self)) for k, v in TRAJECTORY_VARIABLES.items()})


@njit(**COMPILE)
def _split_raw_uniforms(raws, out):  # pragma: no cover - compiled
    """Row ``g`` of ``out``: bits ``21·(g % 3)`` to ``21·(g % 3) + 20`` of raw row ``g // 3``,
    as a uniform in [0, 1) (exact in float32)."""
    scale = 1.0 / 2097152.0  # 2**-21
    for g in range(out.shape[0]):
        shift = np.uint64(21 * (g % 3))
        row = raws[g // 3]
        for i in range(out.shape[1]):
            out[g, i] = np.float32(((row[i] >> shift) & np.uint64(2097151)) * scale)


@njit(**COMPILE)
def _add_weighted_product(total, weight, a, b):  # pragma: no cover - compiled
    """``total += weight * a * b`` in one pass (same operations and order as numpy's); ``b`` may
    be a number."""
    for i in range(total.size):
        total[i] += weight * a[i] * b[i]


def _total(arrays) -> np.ndarray:
    """Element-wise sum of arrays into a new array (``sum()`` without its extra pass for ``0 +``)."""
    arrays = iter(arrays)
    total = next(arrays).copy()
    for a in arrays:
        total += a
    return total


def _data_collector(reporters: dict):
    """A Mesa ``DataCollector`` of model ``reporters`` (imported here: it loads pandas)."""
    from mesa.datacollection import DataCollector

    return DataCollector(model_reporters=reporters)
