"""Proper scores and the out-of-sample protocol (sim.validation.scoring, outofsample)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.scenario.distributions import FromPosterior, Uniform
from sim.validation.backtest import load_episode
from sim.validation.calibrate import PRIORS, calibrate, read_posterior_metadata
from sim.validation.outofsample import holdout_posterior, prior_predictive
from sim.validation.scoring import (COLUMNS, brier, covers, crps, log_score, persistence,
                                    role_of, score_table, summarise)
from sim.validation.targets import EPISODES, load_targets


# ----------------------------------------------------------------------------- known answers
def test_crps_of_a_point_mass_is_the_absolute_error():
    assert crps(np.full(10, 3.0), 5.0) == pytest.approx(2.0)
    assert crps(np.full(10, 3.0), 3.0) == pytest.approx(0.0)


def test_crps_of_a_normal_ensemble_matches_the_closed_form():
    """CRPS(N(0,1), y) = y(2Φ(y) - 1) + 2φ(y) - 1/√π (Gneiting and Raftery 2007)."""
    sample = stats.norm.ppf((np.arange(20_000) + 0.5) / 20_000)
    for y in (0.0, 0.7, -2.0):
        exact = y * (2 * stats.norm.cdf(y) - 1) + 2 * stats.norm.pdf(y) - 1 / np.sqrt(np.pi)
        assert crps(sample, y) == pytest.approx(exact, abs=2e-3)


def test_crps_is_undefined_where_an_event_never_happened():
    assert np.isnan(crps(np.array([1.0, np.inf]), 1.0))
    assert np.isnan(crps(np.array([1.0, 2.0]), np.nan))


def test_brier_and_log_score_of_an_event_that_happened():
    assert brier(1.0) == 0.0 and brier(0.0) == 1.0 and brier(0.5) == pytest.approx(0.25)
    assert log_score(1.0, 100) == 0.0
    assert log_score(0.5, 100) == pytest.approx(np.log(2))
    assert log_score(0.0, 100) == pytest.approx(np.log(200))  # floored at half a run


def test_coverage_of_central_intervals():
    values = np.arange(1.0, 101.0)  # 1..100
    assert covers(values, 50, 50, 0.5) and not covers(values, 90, 90, 0.5)
    assert covers(values, 90, 90, 0.9) and not covers(values, 99, 99, 0.9)
    assert covers(values, 94, 200, 0.9) and not covers(values, 97, 200, 0.9)  # ranges


# ----------------------------------------------------------------------------- the protocol
def test_every_target_has_a_role_and_validation_targets_are_never_fitted():
    targets = load_targets()
    roles = {t.id: role_of(t) for t in targets if t.kind == "model"}
    assert {"calibration", "validation"} == set(roles.values())
    assert all(roles[t] == "validation" for t in roles if t.startswith("V"))
    assert all(not t.abc for t in targets if t.id.startswith("V"))


def test_prior_predictive_draws_the_calibrated_parameters_from_the_priors():
    sc = load_episode("iraq_2011")
    prior = prior_predictive(sc)
    for name in PRIORS:
        assert isinstance(sc.parameters[name], FromPosterior)
        assert isinstance(prior.parameters[name], Uniform)
        assert prior.parameters[name] == PRIORS[name].dist
    assert prior.parameters["init.isis_iraq"] == sc.parameters["init.isis_iraq"]


def test_score_table_and_summary_for_every_forecaster(tmp_path):
    from sim.validation.backtest import simulate_episode
    sc = load_episode("strike_crisis_2020")
    runs = simulate_episode(sc, 300, 1)
    forecasts = {"model": {sc.name: runs}, "persistence": {sc.name: persistence(runs)}}
    targets = [t for t in load_targets() if t.scenario == sc.name]
    table = score_table(targets, forecasts)
    assert list(table.columns) == COLUMNS
    assert set(table["forecaster"]) == {"model", "persistence"}
    assert len(table) == 2 * sum(t.kind == "model" for t in targets)
    assert table["brier"].between(0, 1).all() and (table["log_score"] >= 0).all()
    # persistence: month 0 forever, and no event: no attacks at all in 2019-20
    t12 = table[(table["target"] == "T12-rocket-attacks-2019-20")].set_index("forecaster")
    assert t12.loc["persistence", "p_range"] == 0 and t12.loc["model", "p_range"] > 0.3
    summary = summarise(table)
    assert set(summary["forecaster"]) == {"model", "persistence"}
    skill = summary.set_index(["role", "forecaster"])["crps_skill"]
    assert skill.loc[("calibration", "persistence")] == 0
    assert skill.loc[("calibration", "model")] > 0  # the model beats "nothing changes"


def test_persistence_holds_month_zero_and_no_event_happens():
    from sim.validation.backtest import simulate_episode
    runs = simulate_episode(load_episode("proxy_war_2023"), 50, 2)
    flat = persistence(runs)
    assert (flat.traj == flat.traj[:, :1, :]).all()
    assert not flat.outcomes["escalation"].any() and np.isnan(flat.outcomes["months_to_vote"]).all()


def test_calibration_can_leave_an_episode_out(tmp_path):
    cal = calibrate(2 * 10_000, seed=3, min_accepted=0, leave_out="iraq_2011")
    assert cal.leave_out == "iraq_2011"
    assert not any(t.startswith(("T07", "T08", "T09", "T10", "T11", "T28", "T29", "T30", "T31"))
                   for t in cal.targets)
    assert cal.acceptance_rate > 0
    meta = cal.metadata()
    assert meta["left_out"] == "iraq_2011" and "iraq_2011" not in meta["episodes"]


@pytest.mark.parametrize("episode", EPISODES)
def test_the_held_out_posteriors_ship_and_never_saw_their_episode(episode):
    path = holdout_posterior(episode)
    meta = read_posterior_metadata(path)
    assert meta["left_out"] == episode
    assert not any(t.startswith(tuple(x.id for x in load_targets() if x.scenario == episode))
                   for t in meta["targets"])
    assert list(pd.read_parquet(path).columns) == list(PRIORS) and meta["accepted"] >= 200
