"""The out-of-sample protocol: the backtest's forecasters and their scores.

1. **Split.** Targets with an ``abc`` range are calibration targets; the others (``V..``, chosen
   from the public record after the articles before any fitting) are validation targets, never
   fitted.
2. **Leave one episode out.** ``iraqsim calibrate --leave-out EPISODE`` fits the model without
   that episode's targets; the three such posteriors ship in ``seeds/holdout/``. The ``holdout``
   forecaster replays each episode with the posterior that never saw it.
3. **Score** every model target for every forecaster with proper scores
   (``sim.validation.scoring``): the calibrated model, the held-out model, the prior predictive
   and persistence. ``iraqsim backtest`` writes the table as ``scores.csv``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sim.scenario.distributions import FromPosterior
from sim.scenario.library import seeds_dir
from sim.scenario.schema import Scenario
from sim.validation.backtest import Backtest, simulate_episode
from sim.validation.calibrate import PRIORS
from sim.validation.scoring import persistence, score_table


def holdout_posterior(episode: str) -> Path:
    """The shipped posterior calibrated without ``episode``'s targets."""
    return seeds_dir() / "holdout" / f"posterior_without_{episode}.parquet"


def prior_predictive(scenario: Scenario) -> Scenario:
    """``scenario`` with its calibrated parameters drawn from the calibration's priors."""
    params = {name: PRIORS[name].dist if isinstance(spec, FromPosterior) and name in PRIORS
              else spec for name, spec in scenario.parameters.items()}
    return scenario.model_copy(update={"parameters": params})


def with_posterior(scenario: Scenario, path: Path) -> Scenario:
    """``scenario`` drawing its ``{from: posterior}`` parameters from ``path``."""
    return scenario.model_copy(update={"posterior": str(path)})


def forecasts(bt: Backtest, on_block=None) -> dict[str, dict]:
    """The forecasters' runs of every episode, on the backtest's runs and seeds.

    ``model`` is the backtest itself; ``holdout`` covers the episodes whose held-out posterior
    exists; ``prior`` and ``persistence`` cover every episode.
    """
    out = {"model": bt.episodes, "holdout": {}, "prior": {}, "persistence": {}}
    for name, runs in bt.episodes.items():
        sc = runs.scenario
        seed = sc.seed if bt.seed is None else bt.seed
        held_out = holdout_posterior(name)
        if held_out.is_file():
            out["holdout"][name] = simulate_episode(with_posterior(sc, held_out), bt.runs, seed,
                                                    on_block=on_block)
        out["prior"][name] = simulate_episode(prior_predictive(sc), bt.runs, seed,
                                              on_block=on_block)
        out["persistence"][name] = persistence(runs)
    return out


def scores(bt: Backtest, on_block=None) -> pd.DataFrame:
    """The score table of the backtest's targets (``sim.validation.scoring.COLUMNS``)."""
    return score_table([r.target for r in bt.results], forecasts(bt, on_block))
