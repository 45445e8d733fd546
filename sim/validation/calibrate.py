"""Calibration of the uncertain structural parameters to history, by rejection ABC.

Approximate Bayesian computation by rejection (Pritchard et al. 1999; Beaumont 2010):

1. draw a parameter set from the prior (``PRIORS``: a handful of parameters the history informs);
2. replay every history episode (``scenarios/history/``) once with that set: one replica per
   episode, all three episodes sharing the draw;
3. keep the draw when every target with an ``abc`` range in ``seeds/targets.yaml`` is matched by
   its replica (the tolerance is the width of that range).

The kept draws are a sample of the posterior. Everything is vectorised: a block of
``BLOCK_SIZE`` draws is one ``run_block`` call per episode with per-run parameter arrays, so
hundreds of thousands of draws take a few minutes on one core. A draw depends only on
``(seed, draw index)``, so a calibration is reproducible and extending ``draws`` only adds rows.

``calibrate`` returns a ``Calibration``; ``Calibration.save`` writes the posterior sample
(``seeds/posterior.parquet``, one column per parameter, the run settings and the acceptance rate
in the file's metadata) and ``plot_calibration`` the prior-vs-posterior marginals.
"""

from __future__ import annotations

import json
import math
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim._version import __version__
from sim.engine.blocks import BLOCK_SIZE
from sim.model.parameters import PARAMETERS
from sim.reporting.figures import save_figure
from sim.scenario.distributions import Uniform
from sim.scenario.errors import ArgumentError
from sim.validation.backtest import load_episode, simulate_episode_block, without_posterior
from sim.validation.targets import EPISODES, Target, load_targets


@dataclass(frozen=True)
class Prior:
    """The prior of one calibrated parameter and why it is so."""

    dist: Uniform
    why: str

    def draw(self, u: np.ndarray) -> np.ndarray:
        """Values at uniform quantiles ``u``."""
        return np.asarray(self.dist.ppf(u), dtype=np.float64)


def _u(low: float, high: float, why: str) -> Prior:
    return Prior(Uniform(dist="uniform", low=low, high=high), why)


#: The calibrated parameters and their priors. Each is uniform over a range that brackets the
#: registry default (``sim.model.parameters``) widely enough for the history to move it.
PRIORS: dict[str, Prior] = {
    "isis.growth_rate": _u(0.03, 0.10, "brackets the baseline's triangular 0.035-0.08 and a bit more"),
    "isis.attrition_rate": _u(0.08, 0.70, "from about half to five times the old default 0.14"),
    "isis.resurgence_boost": _u(0.3, 2.5, "from a mild to a threefold speed-up below the threshold"),
    "isf.decay_without_support": _u(0.01, 0.06, "brackets the baseline's 0.02-0.05"),
    "militia.base_attack_rate": _u(1.0, 30.0, "a third to ten times the old default 3 a month"),
    "militia.war_attack_gain": _u(1.0, 15.0, "a quarter to four times the default 4"),
    "militia.lethality": _u(0.01, 0.12, "brackets the baseline's 0.03-0.09"),
    "iraq.pressure_jump_leadership": _u(0.1, 0.45, "from a mild to a near-doubling outrage"),
    "iraq.demand_threshold": _u(0.45, 0.95, "from the old default 0.55 to nearly the top of the scale"),
    "iraq.demand_hazard": _u(0.5, 8.0, "a sixth to nearly three times the default 3"),
    "iran.escalation_prob_commander": _u(0.2, 1.0, "anything from unlikely to certain"),
    "us.will_loss_per_fatality": _u(0.005, 0.06, "a tenth to above the default 0.05 per death"),
    "iraq.pressure_jump_proportional": _u(0.0, 0.15, "none to nearly four times the default 0.04"),
    "iran.revenge_weight": _u(0.0, 1.0, "the parameter's whole range"),
    "iran.sanctions_weight": _u(0.0, 1.0, "the parameter's whole range"),
    "us.deterrence_gain_leadership": _u(0.05, 0.7, "from a slight to a strong deterrent signal"),
    "iran.direction_relax": _u(0.1, 0.8, "Iran turns its proxies on and off within months or weeks"),
    "militia.restraint_base": _u(0.0, 0.6, "from strikes that never restrain to even odds and more"),
    "militia.campaign_momentum": _u(0.0, 0.9, "from no momentum to campaigns that run for months"),
    "exit.negotiation_months": _u(3.0, 24.0, "from a quick deal to two years of committees"),
    "exit.abandon_hazard": _u(0.0, 0.6, "from talks never shelved to shelved within months"),
    "exit.reinvite_salience": _u(0.3, 0.85, "from a modest to an overwhelming threat before Baghdad asks"),
    "isis.territory_fighters": _u(3000.0, 20000.0, "from a few thousand to twice the default 8,000"),
    "isis.retake_rate": _u(0.03, 0.3, "from a decade-long to a one-year campaign to retake the towns"),
    "isis.support_ratio": _u(0.5, 3.0, "from half a supporter per fighter to three"),
    "isis.sanctuary_fighters": _u(50.0, 1500.0, "from a few cells to a sizeable sheltered force"),
}


def check_priors(priors: dict[str, Prior]) -> None:
    """Fail if a prior names an unknown parameter or leaves its allowed bounds."""
    for name, prior in priors.items():
        par = PARAMETERS[name]
        lo, hi = prior.dist.support()
        if lo < par.low or hi > par.high:
            raise ValueError(f"prior of {name} ({lo}..{hi}) leaves its bounds {par.low}..{par.high}")


def sample_prior(n: int, seed: int, block: int,
                 priors: dict[str, Prior] | None = None) -> dict[str, np.ndarray]:
    """Draw ``n`` parameter sets for block ``block``; each parameter has its own stream."""
    priors = PRIORS if priors is None else priors
    out = {}
    for name, prior in sorted(priors.items()):
        ss = np.random.SeedSequence(entropy=seed, spawn_key=(block, 3, zlib.crc32(name.encode())))
        out[name] = prior.draw(np.random.default_rng(ss).random(n))
    return out


def episode_seed(seed: int, episode: str) -> int:
    """The model seed of ``episode`` in a calibration with ``seed`` (episodes get distinct streams)."""
    state = np.random.SeedSequence([seed, zlib.crc32(episode.encode())]).generate_state(2, np.uint32)
    return int(state[0]) << 31 | int(state[1]) >> 1


#: Fewest accepted draws a posterior may rest on: fewer describe the noise of the rejection step
#: more than the history (assumption: a few hundred rows give stable quantiles of each marginal).
MIN_ACCEPTED = 200
#: Prior draws of the shipped posterior (``seeds/posterior.parquet``), the command's default.
SHIPPED_DRAWS = 14_000_000


@dataclass
class Calibration:
    """The result of a calibration.

    Attributes:
        posterior: Accepted draws, one column per calibrated parameter, plus ``draw`` (its index).
        draws: Prior draws simulated.
        seed: The seed.
        priors: The priors.
        target_pass: Per ABC target, the share of prior draws whose replica matched it.
        targets: Ids of the targets used, with their acceptance ranges.
    """

    posterior: pd.DataFrame
    draws: int
    seed: int
    priors: dict[str, Prior]
    target_pass: dict[str, float]
    targets: dict[str, str] = field(default_factory=dict)
    leave_out: str | None = None

    @property
    def accepted(self) -> int:
        """Number of accepted draws."""
        return len(self.posterior)

    @property
    def acceptance_rate(self) -> float:
        """Share of prior draws accepted."""
        return self.accepted / self.draws if self.draws else 0.0

    def metadata(self) -> dict:
        """Run settings and diagnostics (stored in the Parquet file and printed)."""
        return {"method": "rejection ABC", "draws": self.draws, "accepted": self.accepted,
                "acceptance_rate": self.acceptance_rate, "seed": self.seed,
                "episodes": [e for e in EPISODES if e != self.leave_out],
                "left_out": self.leave_out, "targets": self.targets,
                "target_pass_rates": self.target_pass,
                "priors": {k: {"dist": "uniform", "low": p.dist.low, "high": p.dist.high,
                               "why": p.why} for k, p in self.priors.items()},
                "block_size": BLOCK_SIZE, "iraqsim_version": __version__}

    def save(self, path: str | Path) -> Path:
        """Write the posterior sample to ``path`` (Parquet; metadata under ``iraqsim``)."""

        if self.accepted == 0:
            raise ValueError("no draw was accepted; nothing to save (use more draws)")
        path = Path(path)
        table = pa.Table.from_pandas(self.posterior[list(self.priors)], preserve_index=False)
        meta = dict(table.schema.metadata or {})
        meta[b"iraqsim"] = json.dumps(self.metadata()).encode()
        table = table.replace_schema_metadata(meta)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        pq.write_table(table, tmp)
        tmp.replace(path)
        return path

    def summary(self) -> pd.DataFrame:
        """Per parameter: prior range, posterior median and 90% interval, and how much the
        posterior narrowed (posterior 90% width / prior 90% width)."""
        rows = []
        for name, prior in self.priors.items():
            lo, hi = prior.dist.low, prior.dist.high
            v = self.posterior[name].to_numpy()
            p05, p50, p95 = np.quantile(v, [0.05, 0.5, 0.95]) if v.size else (np.nan,) * 3
            rows.append({"parameter": name, "prior": f"U({lo:g}, {hi:g})",
                         "posterior median": p50, "p05": p05, "p95": p95,
                         "width ratio": (p95 - p05) / (0.9 * (hi - lo))})
        return pd.DataFrame(rows).set_index("parameter")


def read_posterior_metadata(path: str | Path) -> dict:
    """The calibration metadata stored in a posterior file."""
    meta = pq.read_schema(path).metadata or {}
    return json.loads(meta.get(b"iraqsim", b"{}"))


def abc_targets(targets: list[Target] | None = None) -> list[Target]:
    """The targets with an ``abc`` acceptance range."""
    targets = load_targets() if targets is None else targets
    return [t for t in targets if t.kind == "model" and t.abc]


def calibrate(draws: int, seed: int = 0, *, priors: dict[str, Prior] | None = None,
              targets: list[Target] | None = None,
              on_block: Callable[[int], None] | None = None,
              min_accepted: int | None = None, leave_out: str | None = None) -> Calibration:
    """Rejection ABC over the history episodes.

    Args:
        draws: Prior draws to simulate (each replays all three episodes once).
        seed: Seed; the same seed and draws give the same posterior.
        priors: Priors (default ``PRIORS``).
        targets: Targets (default: those of ``seeds/targets.yaml`` with an ``abc`` range).
        on_block: Called with the number of draws after each block (progress).
        min_accepted: Fewest accepted draws to return a posterior (default ``MIN_ACCEPTED``).
        leave_out: An episode whose targets are left out (the out-of-sample protocol: the
            posterior then knows nothing of that episode, which is not even simulated).

    Returns:
        A ``Calibration``.

    Raises:
        ArgumentError: about ``draws``: fewer than ``min_accepted`` draws matched every target.
    """
    if draws < 1:
        raise ArgumentError("draws", draws, "must be at least 1")
    priors = PRIORS if priors is None else priors
    check_priors(priors)
    targets = abc_targets(targets)
    if leave_out is not None:
        if leave_out not in EPISODES:
            raise ArgumentError("leave_out", leave_out, f"not an episode; allowed: "
                                f"{', '.join(EPISODES)}")
        targets = [t for t in targets if t.scenario != leave_out]
    scenarios = {name: without_posterior(load_episode(name, check_posterior=False))
                 for name in EPISODES}
    kept, passes = [], {t.id: 0 for t in targets}
    for block in range(math.ceil(draws / BLOCK_SIZE)):
        n = min(BLOCK_SIZE, draws - block * BLOCK_SIZE)
        theta = sample_prior(BLOCK_SIZE, seed, block, priors)
        accept = np.ones(n, dtype=bool)
        for name, sc in scenarios.items():
            mine = [t for t in targets if t.scenario == name]
            if not mine:
                continue
            runs = simulate_episode_block(sc, episode_seed(seed, name), block, n, params=theta)
            for t in mine:
                lo, hi = t.abc_range(runs)
                v = t.quantity.values(runs)
                ok = (v >= lo) & (v <= hi)
                passes[t.id] += int(ok.sum())
                accept &= ok
        idx = np.flatnonzero(accept)
        part = pd.DataFrame({k: v[:n][idx] for k, v in theta.items()})
        part.insert(0, "draw", block * BLOCK_SIZE + idx)
        kept.append(part)
        if on_block:
            on_block(n)
    posterior = pd.concat(kept, ignore_index=True)
    least = MIN_ACCEPTED if min_accepted is None else min_accepted
    accepted = sum(len(k) for k in kept)
    if accepted < least:
        raise ArgumentError("draws", f"{draws:,}", f"only {accepted:,} draw"
                            f"{'' if accepted == 1 else 's'} matched every target; "
                            f"a posterior needs at least {least} to mean anything (use more "
                            f"draws; the shipped posterior took {SHIPPED_DRAWS:,})")
    return Calibration(posterior, draws, seed, dict(priors),
                       {k: v / draws for k, v in passes.items()},
                       {t.id: f"{t.abc.low}..{t.abc.high}" for t in targets}, leave_out)


def plot_calibration(cal: Calibration, path: str | Path) -> Path:
    """Prior (flat) against posterior marginals, one panel per parameter."""


    names = list(cal.priors)
    cols = 4
    rows = math.ceil(len(names) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 2.6 * rows), constrained_layout=True)
    for ax, name in zip(axes.ravel(), names):
        lo, hi = cal.priors[name].dist.low, cal.priors[name].dist.high
        bins = np.linspace(lo, hi, 31)
        ax.hist(cal.posterior[name], bins=bins, density=True, color="#dd8452", alpha=0.8,
                label="posterior")
        ax.hlines(1 / (hi - lo), lo, hi, color="#4c72b0", lw=2, label="prior")
        default = PARAMETERS[name].default
        if lo <= default <= hi:
            ax.axvline(default, color="k", ls=":", lw=1, label="old default")
        ax.set_title(name, fontsize=9)
        ax.set_yticks([])
    for ax in axes.ravel()[len(names):]:
        ax.axis("off")
    axes.ravel()[0].legend(fontsize=7)
    fig.suptitle(f"Rejection ABC on the history episodes: {cal.accepted:,} of {cal.draws:,} "
                 f"draws accepted ({cal.acceptance_rate:.2%}), seed {cal.seed}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp{path.suffix}")
    save_figure(fig, tmp, 100)
    tmp.replace(path)
    return path
