"""Calibration by rejection ABC (issue 4): reproducibility, the posterior file, the command."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from sim import cli
from sim.validation.backtest import history_dir
from sim.validation.targets import EPISODES
from sim.validation.calibrate import (PRIORS, abc_targets, calibrate, check_priors, plot_calibration,
                           read_posterior_metadata, sample_prior)
from sim.engine import BLOCK_SIZE
from sim.model.parameters import PARAMETERS
from sim.scenario.library import scenarios_dir, seeds_dir

DRAWS = 15 * BLOCK_SIZE  # ~3 draws accepted at the shipped acceptance rate (~1 in 55,000)


@pytest.fixture(scope="module")
def small():
    seen = []
    cal = calibrate(DRAWS, seed=3, on_block=seen.append, min_accepted=1)
    return cal, seen


def test_calibration_is_reproducible_with_a_seed(small):
    cal, seen = small
    assert sum(seen) == DRAWS and cal.draws == DRAWS
    assert cal.accepted >= 2, "the history should be reachable from the priors"
    # fewer draws give the first rows of more draws: replay up to the first accepted draw's block
    upto = (int(cal.posterior["draw"].min()) // BLOCK_SIZE + 1) * BLOCK_SIZE
    again = calibrate(upto, seed=3, min_accepted=1)
    first_blocks = cal.posterior[cal.posterior["draw"] < upto].reset_index(drop=True)
    assert len(first_blocks) >= 1
    pd.testing.assert_frame_equal(again.posterior, first_blocks)
    other = calibrate(BLOCK_SIZE, seed=4, min_accepted=0)
    assert not other.posterior["draw"].equals(again.posterior["draw"])


def test_accepted_draws_are_prior_draws_that_matched_every_target(small):
    cal, _ = small
    assert 0 < cal.acceptance_rate == cal.accepted / cal.draws < 0.5
    for block in range(DRAWS // BLOCK_SIZE):
        prior = sample_prior(BLOCK_SIZE, 3, block)
        rows = cal.posterior[cal.posterior["draw"] // BLOCK_SIZE == block]
        for name in PRIORS:
            np.testing.assert_array_equal(rows[name], prior[name][rows["draw"] % BLOCK_SIZE])
    # every ABC target was matched by at least the accepted draws, and is not trivially matched
    for tid, rate in cal.target_pass.items():
        assert cal.acceptance_rate <= rate <= 1.0, tid
    assert min(cal.target_pass.values()) < 0.9


def test_priors_stay_within_parameter_bounds_and_every_history_scenario_uses_the_posterior():
    check_priors(PRIORS)
    for name, prior in PRIORS.items():
        assert prior.why, name
        assert PARAMETERS[name].low <= prior.dist.low < prior.dist.high <= PARAMETERS[name].high
    for path in [history_dir() / f"{e}.yaml" for e in EPISODES] + [scenarios_dir() / "baseline.yaml"]:
        params = yaml.safe_load(path.read_text())["parameters"]
        marked = {k for k, v in params.items() if isinstance(v, dict) and v.get("from") == "posterior"}
        assert marked == set(PRIORS), path.name


def test_abc_uses_targets_from_every_episode():
    assert {t.scenario for t in abc_targets()} == set(EPISODES)


def test_save_and_plot_write_the_posterior_with_its_metadata(small, tmp_path):
    cal, _ = small
    path = cal.save(tmp_path / "posterior.parquet")
    table = pd.read_parquet(path)
    assert list(table.columns) == list(PRIORS) and len(table) == cal.accepted
    meta = read_posterior_metadata(path)
    assert meta["draws"] == DRAWS and meta["accepted"] == cal.accepted
    assert meta["block_size"] == BLOCK_SIZE
    assert meta["acceptance_rate"] == pytest.approx(cal.acceptance_rate)
    png = plot_calibration(cal, tmp_path / "fig" / "prior_posterior.png")
    assert png.stat().st_size > 10_000


def test_the_committed_posterior_is_a_calibration_of_the_priors():
    path = seeds_dir() / "posterior.parquet"
    table = pd.read_parquet(path)
    assert set(table.columns) == set(PRIORS)
    assert len(table) >= 200
    for name, prior in PRIORS.items():
        assert table[name].between(prior.dist.low, prior.dist.high).all(), name
    meta = read_posterior_metadata(path)
    assert meta["accepted"] == len(table) and 0 < meta["acceptance_rate"] < 1
    assert meta["draws"] >= 100_000
    assert meta.get("block_size") == BLOCK_SIZE, "calibrated with another engine block size: rerun `iraqsim calibrate`"
    # the history pins down ISIS attrition: the posterior is far narrower than the prior
    v = table["isis.attrition_rate"]
    prior = PRIORS["isis.attrition_rate"].dist
    assert np.subtract(*np.quantile(v, [0.95, 0.05])) < 0.8 * 0.9 * (prior.high - prior.low)


def _tree_digest(folder) -> dict:
    import hashlib
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and "__pycache__" not in p.parts}


def test_calibrate_writes_its_folder_and_never_the_package(tmp_path, capsys, monkeypatch):
    """With its defaults, ``iraqsim calibrate`` writes results/calibration/ in the working folder;
    the package's data (seeds/, scenarios/) and figures stay byte for byte as they were."""
    import sim
    import sim.validation.calibrate as calibration
    package = [seeds_dir(), scenarios_dir(), seeds_dir().parent / "docs" / "figures"]
    before = [_tree_digest(p) for p in package if p.is_dir()]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(calibration, "MIN_ACCEPTED", 1)  # a small run accepts a handful
    assert cli.main(["calibrate", "--draws", str(DRAWS), "--seed", "3"]) == 0
    out = tmp_path / "results" / "calibration"
    assert sorted(p.name for p in out.iterdir()) == ["posterior.parquet", "prior_posterior.png"]
    assert "--posterior" in capsys.readouterr().out  # says how to use it
    assert [_tree_digest(p) for p in package if p.is_dir()] == before
    # using it is explicit, and recorded
    sc = sim.load_scenario("baseline").with_changes(posterior=str(out / "posterior.parquet"))
    res = sim.run(sc, runs=200, seed=1, progress=False)
    assert res.provenance["posterior"][0]["file"] == str(out / "posterior.parquet")
    shipped = sim.run(sim.load_scenario("baseline"), runs=200, seed=1, progress=False)
    assert shipped.provenance["posterior"][0]["file"] == str(seeds_dir() / "posterior.parquet")
    assert not res.outcomes["param.isis.growth_rate"].equals(shipped.outcomes["param.isis.growth_rate"])


def test_too_few_accepted_draws_are_one_clear_error_and_nothing_written(tmp_path, capsys):
    out = tmp_path / "cal"
    assert cli.main(["calibrate", "--draws", "2000", "--seed", "5", "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--draws" in err and "at least 200" in err
    assert not out.exists() and list(tmp_path.iterdir()) == []
    assert cli.main(["calibrate", "--draws", "0"]) == 2
    with pytest.raises(sim_errors().ArgumentError, match="^draws: "):
        calibrate(2000, seed=5)


def sim_errors():
    import sim.scenario.errors as errors
    return errors
