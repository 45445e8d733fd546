"""Global sensitivity of outcomes to a scenario's uncertain parameters, with SALib.

The design lives on the *quantile scale*: each uncertain parameter is a variable in 0..1 that
SALib samples uniformly, mapped to the parameter through the inverse CDF of the distribution the
scenario gives it (``Scenario.sample_parameters`` does the same for ordinary runs). Variance-based
indices do not depend on this monotone change of variable; Morris elementary effects are then per
unit of quantile, comparable across parameters with different units. Quantiles are squeezed into
0.001..0.999 so unbounded distributions stay finite.

The model is stochastic (monthly shocks, Poisson attacks). Every row of one Sobol base sample
(A, its cross-samples AB_i, B) or of one Morris trajectory shares one replica, i.e. the same
random numbers (``sim.evaluate``), so a parameter's index measures what changing *it* does rather
than fresh luck, and a parameter the model ignores gets indices of exactly zero. The share of
each outcome's variance due to luck alone (``noise_share``: the same parameter values rerun with
other random numbers) is reported beside the indices. This relies on the model's draws using a
fixed amount of randomness whatever the parameters (Poisson counts are drawn by CDF inversion,
``sim.model.kernels.poisson_from_uniform``).
"""

from __future__ import annotations

import difflib
import json
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from SALib.analyze import morris as morris_analyze
from SALib.analyze import sobol as sobol_analyze
from SALib.sample import morris as morris_sample
from SALib.sample import sobol as sobol_sample

from sim._version import __version__
from sim.analysis.evaluate import evaluate
from sim.analysis.plots import plot_indices
from sim.engine.blocks import BLOCK_SIZE
from sim.engine.io import jsonable, software_versions, write_atomically
from sim.model.outcomes import OUTCOME_COLUMNS
from sim.model.parameters import PARAMETERS
from sim.scenario.distributions import FromPosterior
from sim.scenario.errors import ArgumentError, ScenarioError
from sim.scenario.schema import Scenario

METHODS = ("sobol", "morris")
#: Outcomes analysed when none are named.
DEFAULT_OUTCOMES = ("isis_peak", "resurgence", "us_fatalities", "exit_demanded")
#: Quantiles are mapped to EPS..1-EPS before the inverse CDF.
EPS = 0.001
#: Morris grid levels.
MORRIS_LEVELS = 4
#: Default Sobol base samples / Morris trajectories: the largest power of two (Sobol sequences
#: balance at powers of two) within one engine block.
DEFAULT_SAMPLES = 1 << (BLOCK_SIZE.bit_length() - 1)


def sensitivity_outcomes() -> list[str]:
    """Outcomes sensitivity can analyse: every outcome except months (NaN when nothing happens)."""
    return [k for k, (kind, _) in OUTCOME_COLUMNS.items() if kind != "month"]


def check_outcomes(outcomes, source: str = "outcomes") -> list[str]:
    """Validate outcome names for sensitivity; ``ScenarioError`` names what is allowed."""
    allowed = sensitivity_outcomes()
    outcomes = list(outcomes)
    for o in outcomes:
        if o not in allowed:
            near = difflib.get_close_matches(o, allowed, n=1)
            hint = f"did you mean {near[0]!r}? " if near else ""
            raise ArgumentError(source, o, f"not an outcome sensitivity can analyse; {hint}"
                                f"allowed: {', '.join(allowed)}")
    if not outcomes:
        raise ArgumentError(source, "", "name at least one outcome")
    return outcomes


def uncertainty_problem(scenario: Scenario, parameters: list[str] | None = None,
                        source: str = "scenario") -> dict:
    """The SALib problem of a scenario's uncertain parameters on the quantile scale.

    Args:
        scenario: The scenario.
        parameters: A subset of its uncertain parameters (default: all, sorted by name).
        source: Name of the scenario file, for error messages.

    Raises:
        ScenarioError: if the scenario has no uncertain parameter, a named parameter is not
            uncertain. Parameters drawn from a calibration posterior enter through their marginal
            (empirical quantiles of the posterior sample): the design varies them one at a time,
            so the correlations the calibration found are not kept.
    """
    uncertain = scenario.uncertain_parameters()
    names = sorted(uncertain) if parameters is None else list(parameters)
    if not names:
        raise ScenarioError(source, "parameters", "the scenario has no uncertain parameters; give "
                            "at least one a distribution, e.g. isis.growth_rate: {dist: uniform, "
                            "low: 0.03, high: 0.08}")
    for name in names:
        if name not in uncertain:
            raise ScenarioError(source, f"parameters.{name}", "is not uncertain in this scenario; "
                                f"uncertain: {', '.join(sorted(uncertain)) or 'none'}")
    return {"num_vars": len(names), "names": names, "bounds": [[0.0, 1.0]] * len(names)}


def quantiles_to_parameters(scenario: Scenario, names: list[str], u: np.ndarray) -> pd.DataFrame:
    """Map a design on the quantile scale (rows x parameters, values in 0..1) to parameter values.

    Uses each parameter's distribution in the scenario, clipped to its allowed range and rounded
    for integer parameters, as ``Scenario.sample_parameters`` does.
    """
    uncertain = scenario.uncertain_parameters()
    u = EPS + (1 - 2 * EPS) * np.clip(np.asarray(u, dtype=float), 0.0, 1.0)
    cols = {}
    for j, name in enumerate(names):
        par = PARAMETERS[name]
        dist = uncertain[name]
        q = (dist.marginal_ppf(name, u[:, j], scenario.posterior) if isinstance(dist, FromPosterior)
             else dist.ppf(u[:, j]))
        x = np.clip(np.asarray(q, dtype=float), par.low, par.high)
        cols[name] = np.round(x) if par.integer else x
    return pd.DataFrame(cols)


@dataclass
class SensitivityResult:
    """Sensitivity indices of outcomes to uncertain parameters.

    Attributes:
        scenario: The scenario analysed.
        method: ``sobol`` or ``morris``.
        indices: One row per (outcome, parameter). Sobol: ``S1``, ``S1_conf``, ``ST``,
            ``ST_conf``; Morris: ``mu``, ``mu_star``, ``mu_star_conf``, ``sigma``.
        experiments: The design (parameter values and ``replica``) with the outcome columns.
        provenance: Version, scenario hash, seed, sample sizes, timing.
        noise: Per outcome, the share of its variance due to the model's own randomness
            (``noise_share``): what no knowledge of the parameters could explain.
    """

    scenario: Scenario
    method: str
    indices: pd.DataFrame
    experiments: pd.DataFrame
    provenance: dict = field(default_factory=dict)
    noise: dict = field(default_factory=dict)

    @property
    def outcomes(self) -> list[str]:
        """Outcomes analysed."""
        return list(dict.fromkeys(self.indices["outcome"]))

    def save(self, directory, plots: bool = True) -> Path:
        """Write ``indices.parquet``/``indices.csv``, ``experiments.parquet``, ``summary.json``,
        ``scenario.resolved.yaml`` and ``plots/<outcome>.png`` into ``directory`` atomically."""
        return write_atomically(directory, lambda tmp: self.write_into(tmp, plots=plots))

    def write_into(self, folder: Path, plots: bool = True) -> None:
        """Write every file into an existing (temporary) folder."""
        folder = Path(folder)
        self.indices.to_parquet(folder / "indices.parquet", index=False)
        self.indices.to_csv(folder / "indices.csv", index=False)
        self.experiments.to_parquet(folder / "experiments.parquet", index=False)
        (folder / "summary.json").write_text(json.dumps(jsonable(
            {"method": self.method, "ranking": self.ranking(), "noise_share": self.noise,
             "provenance": self.provenance}),
            indent=2))
        (folder / "scenario.resolved.yaml").write_text(
            yaml.safe_dump(self.scenario.resolved(), sort_keys=False))
        if plots:
            (folder / "plots").mkdir(exist_ok=True)
            for outcome in self.outcomes:
                plot_indices(self.indices, outcome, self.method, folder / "plots" / f"{outcome}.png",
                             noise=self.noise.get(outcome))

    def ranking(self) -> dict[str, list[str]]:
        """Per outcome, parameters from the most to the least influential (ST or mu*)."""
        key = "ST" if self.method == "sobol" else "mu_star"
        return {o: part.sort_values(key, ascending=False)["parameter"].tolist()
                for o, part in self.indices.groupby("outcome", sort=False)}


def sensitivity(scenario: Scenario, outcomes=DEFAULT_OUTCOMES, method: str = "sobol",
                samples: int | None = None, seed: int | None = None, *,
                parameters: list[str] | None = None, workers: int = 1, dask: str | None = None,
                progress: bool | None = None, conf_level: float = 0.95,
                source: str = "scenario") -> SensitivityResult:
    """Sobol or Morris indices of outcomes to the scenario's uncertain parameters (SALib).

    Args:
        scenario: The scenario; its uncertain parameters are the factors.
        outcomes: Outcome columns to analyse (yes/no outcomes as 0/1).
        method: ``sobol`` (first-order and total indices, Saltelli sampling without second-order
            terms) or ``morris`` (elementary effects, ``MORRIS_LEVELS`` levels).
        samples: Sobol base sample size (a power of two) or number of Morris trajectories.
            Default ``DEFAULT_SAMPLES`` (8,192): the largest power of two that fits one engine
            block, so with one replica per base sample each design matrix costs one block.
        seed: Seed of the design, the bootstrap and the model (default: the scenario's).
        parameters: A subset of the uncertain parameters (default: all).
        workers: Local worker processes.
        dask: ``"local"`` or a Dask scheduler address: compute on a Dask cluster (see
            ``sim.evaluate``); results are the same.
        progress: Show a progress bar (default: only on a terminal).
        conf_level: Confidence level of the bootstrap intervals.
        source: Name of the scenario file, for error messages.

    Returns:
        ``SensitivityResult``.
    """


    if method not in METHODS:
        raise ArgumentError("method", method, f"unknown method; allowed: {', '.join(METHODS)}")
    outcomes = check_outcomes(outcomes)
    seed = int(scenario.seed if seed is None else seed)
    samples = DEFAULT_SAMPLES if samples is None else int(samples)
    if samples < 2:
        raise ArgumentError("samples", str(samples), "need at least 2 samples")
    if method == "sobol" and samples & (samples - 1):
        raise ArgumentError("samples", str(samples), "Sobol sampling needs a power of two, "
                            "e.g. 1024 or 4096")
    problem = uncertainty_problem(scenario, parameters, source)
    names, d = problem["names"], problem["num_vars"]
    # SALib's seeds must fit in 32 bits
    salib_seed = int(np.random.SeedSequence(seed).generate_state(1)[0])

    if method == "sobol":
        u = sobol_sample.sample(problem, samples, calc_second_order=False, scramble=True,
                                seed=salib_seed)
        group = d + 2  # rows per base sample: A, AB_1..AB_d, B
    else:
        u = morris_sample.sample(problem, samples, num_levels=MORRIS_LEVELS, seed=salib_seed)
        group = d + 1  # rows per trajectory
    experiments = quantiles_to_parameters(scenario, names, u)
    n_groups = len(u) // group
    experiments["replica"] = np.repeat(np.arange(n_groups), group)
    # the first row of every group again, with fresh random numbers: measures luck alone. These
    # rows go to blocks of their own, so the design's blocks differ only where the design does.
    offset = BLOCK_SIZE * -(-n_groups // BLOCK_SIZE)
    again = experiments.iloc[::group].assign(replica=np.arange(n_groups) + offset)
    both = pd.concat([experiments, again], ignore_index=True)

    started = time.perf_counter()
    out_all = evaluate(scenario, both, seed, workers=workers, dask=dask, progress=progress)
    elapsed = time.perf_counter() - started
    out = out_all.iloc[:len(experiments)].reset_index(drop=True)
    out_again = out_all.iloc[len(experiments):].reset_index(drop=True)

    rows, noise = [], {}
    for outcome in outcomes:
        y = out[outcome].to_numpy(dtype=float)
        noise[outcome] = noise_share(y[::group], out_again[outcome].to_numpy(dtype=float), y)
        constant = np.ptp(y) == 0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            if method == "sobol":
                res = None if constant else sobol_analyze.analyze(
                    problem, y, calc_second_order=False, conf_level=conf_level,
                    print_to_console=False, seed=salib_seed)
                for j, name in enumerate(names):
                    rows.append({"outcome": outcome, "parameter": name,
                                 **{k: (0.0 if res is None else float(res[k][j]))
                                    for k in ("S1", "S1_conf", "ST", "ST_conf")}})
            else:
                res = None if constant else morris_analyze.analyze(
                    problem, u, y, conf_level=conf_level, num_levels=MORRIS_LEVELS,
                    print_to_console=False, seed=salib_seed)
                for j, name in enumerate(names):
                    rows.append({"outcome": outcome, "parameter": name,
                                 **{k: (0.0 if res is None else float(res[k][j]))
                                    for k in ("mu", "mu_star", "mu_star_conf", "sigma")}})
    indices = pd.DataFrame(rows)
    provenance = {"package": "iraqsim", "version": __version__, "scenario": scenario.name,
                  "scenario_sha256": scenario.sha256(), "seed": seed, "method": method,
                  "samples": samples, "evaluations": len(experiments), "parameters": names,
                  "quantile_scale": [EPS, 1 - EPS], "conf_level": conf_level,
                  "noise_share": noise, "elapsed_seconds": round(elapsed, 3), **software_versions()}
    design = pd.concat([experiments, out[outcomes]], axis=1)
    return SensitivityResult(scenario, method, indices, design, provenance, noise)


def noise_share(y1: np.ndarray, y2: np.ndarray, y_all: np.ndarray) -> float:
    """Share of an outcome's variance due to the model's own randomness (luck).

    ``y1`` and ``y2`` are the outcome at the same parameter values with independent random
    numbers, so ``Var(y1 - y2) / 2`` estimates the variance left when the parameters are known;
    it is divided by the variance over the whole design ``y_all``.
    """
    total = float(np.var(y_all))
    if total == 0:
        return 0.0
    return float(np.var(np.asarray(y1) - np.asarray(y2)) / 2 / total)
