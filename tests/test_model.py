"""The model's structure, outputs, bounds and reproducibility (issue 2)."""

from __future__ import annotations

import gc
import os
import weakref

import mesa
import numpy as np
import pandas as pd
import pytest

import sim
from sim import DrawdownModel, load_scenario, run
from sim.model.outcomes import OUTCOME_COLUMNS, REQUIRED_OUTCOMES, TRAJECTORY_VARIABLES
from sim.scenario.library import scenarios_dir

from conftest import scenario

UNIT_INTERVAL = ["isf_capability", "withdrawal_pressure", "cooperation", "militia_control",
                 "iran_influence", "iran_direction", "us_will", "deterrence"]


def test_agents_are_the_five_actors_with_at_least_two_militias():
    m = DrawdownModel(n_runs=8, seed=1)
    names = {type(a).__name__ for a in m.agents}
    assert {"UnitedStates", "IraqiGovernment", "Militia", "Iran", "ISIS"} <= names
    assert len(m.agents_by_type[sim.model.actors.Militia]) >= 2
    assert m.us.troops.shape == (8,)


def test_state_arrays_have_one_value_per_replica():
    m = DrawdownModel(n_runs=17, seed=1)
    m.step()
    for var in TRAJECTORY_VARIABLES.values():
        assert np.shape(var.get(m)) == (17,)


@pytest.fixture(scope="module")
def baseline_10k():
    return run(load_scenario(scenarios_dir() / "baseline.yaml"), runs=10_000, seed=1)


def test_baseline_outcomes_have_required_columns_and_types(baseline_10k):
    df = baseline_10k.outcomes
    assert len(df) == 10_000
    assert list(df["run"]) == list(range(10_000))
    for col in REQUIRED_OUTCOMES:
        assert col in df.columns, col
    for col, (kind, _) in OUTCOME_COLUMNS.items():
        if kind == "bool":
            assert df[col].dtype == bool, col
        elif kind == "month":
            # NaN exactly where the event never happened
            flag = {"months_to_resurgence": "resurgence", "months_to_expulsion": "expelled",
                    "months_to_demand": "exit_demanded", "months_to_agreement": "agreement",
                    "months_to_departure": "departed", "months_to_vote": "parliament_vote"}[col]
            assert (df[col].isna() == ~df[flag]).all(), col
        elif col == "months_to_return":
            assert (df[col].isna() == ~df["reinvited"]).all(), col
        else:
            assert np.isfinite(df[col]).all(), col
    params = [c for c in df.columns if c.startswith("param.")]
    assert params, "baseline has uncertain parameters, sampled per run"


def test_baseline_state_stays_within_bounds(baseline_10k):
    q = baseline_10k.quantiles
    for var in UNIT_INTERVAL:
        band = q[q["variable"] == var]
        assert band["p05"].min() >= 0 and band["p95"].max() <= 1, var
    for var in ["us_troops", "isis_fighters_iraq", "isis_fighters_syria", "militia_attacks", "us_fatalities"]:
        assert q[q["variable"] == var]["p05"].min() >= 0, var
    df = baseline_10k.outcomes
    assert df["isf_capability_end"].between(0, 1).all()
    assert df["iran_influence_end"].between(0, 1).all()
    assert (df["isis_peak"] >= df["isis_end"]).all()
    assert (df["us_fatalities"] >= 0).all() and (df["militia_attacks"] >= 0).all()


def test_quantile_table_contract(baseline_10k):
    q = baseline_10k.quantiles
    assert {"month", "date", "variable", "p05", "p25", "p50", "p75", "p95", "mean"} <= set(q.columns)
    for var in ["us_troops", "isf_capability", "isis_fighters_iraq", "militia_attacks",
                "withdrawal_pressure", "iran_influence", "cooperation"]:
        band = q[q["variable"] == var]
        assert len(band) == 60, var
        assert (band["p05"] <= band["p25"] + 1e-9).all() and (band["p25"] <= band["p50"] + 1e-9).all()
        assert (band["p50"] <= band["p75"] + 1e-9).all() and (band["p75"] <= band["p95"] + 1e-9).all()
    first = q[q["month"] == 0]["date"].iloc[0]
    assert pd.Timestamp(first) == pd.Timestamp("2024-01-01")


def test_quantiles_match_the_outcome_table(baseline_10k):
    # the last month's ISIS band must agree with the isis_end column of the same runs
    q = baseline_10k.band("isis_fighters_iraq").iloc[-1]
    ends = baseline_10k.outcomes["isis_end"].to_numpy()
    assert q["p50"] == pytest.approx(np.median(ends), rel=1e-5)
    assert q["mean"] == pytest.approx(ends.mean(), rel=1e-5)


def test_summary_has_stats_and_provenance(baseline_10k):
    s = baseline_10k.summary
    assert s["outcomes"]["resurgence"]["kind"] == "probability"
    assert 0 <= s["outcomes"]["resurgence"]["probability"] <= 1
    for key in ("mean", "sd", "p05", "p50", "p95"):
        assert s["outcomes"]["isis_peak"][key] is not None
    prov = s["provenance"]
    assert prov["runs"] == 10_000 and prov["seed"] == 1
    assert len(prov["scenario_sha256"]) == 64 and prov["version"] == sim.__version__
    import scipy  # its quantile functions' last bits change between releases
    assert (prov["numpy"], prov["scipy"]) == (np.__version__, scipy.__version__)


def test_same_seed_same_results_different_seed_different_results():
    sc = scenario(parameters={"isis.growth_rate": {"dist": "uniform", "low": 0.03, "high": 0.08}})
    a = run(sc, runs=300, seed=5).outcomes
    b = run(sc, runs=300, seed=5).outcomes
    c = run(sc, runs=300, seed=6).outcomes
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a["isis_peak"], c["isis_peak"])
    assert not np.allclose(a["param.isis.growth_rate"], c["param.isis.growth_rate"])


def test_a_run_does_not_depend_on_how_many_runs_were_asked():
    sc = scenario(horizon_months=24,
                  parameters={"isis.growth_rate": {"dist": "uniform", "low": 0.03, "high": 0.08}})
    small = run(sc, runs=100, seed=3).outcomes
    large = run(sc, runs=5000, seed=3).outcomes
    pd.testing.assert_frame_equal(small, large.iloc[:100].reset_index(drop=True))


@pytest.mark.parametrize("name, taken", [
    ("exercises/ex2_leadership.yaml", lambda out: out["escalation"].any()),
    ("phased_exit.yaml", lambda out: out["exit_demanded"].any() and out["agreement"].any()
     and out["forced_exit"].any() and out["reinvited"].any()),
])
def test_a_parameter_every_run_shares_gives_the_same_runs_as_a_number_or_an_array(name, taken):
    """The model keeps a parameter that is the same in every run as one number, which the
    compiled loops read as ``p[i]``; given as an array of that value, every replica must come
    out bit for bit the same. Leadership strikes (Iran's escalation and its deaths) and a
    phased exit (troops changing, forced exits) take the paths that index parameters outside
    the loops; a square-root exponent is one numpy's ``**`` would shortcut."""
    base = load_scenario(scenarios_dir() / name)
    sc = base.model_copy(update={"parameters": {**base.parameters, "us.ct_exponent": 0.5}})
    n = 3000
    sampled = sc.sample_parameters(n, 4, 0)
    every = {**sim.model.parameters.defaults(), **sc.fixed_parameters(), **sampled}
    as_arrays = {k: np.full(n, v) if np.ndim(v) == 0 else v for k, v in every.items()}
    models = [DrawdownModel(sc, n_runs=n, params=p, rng=9, keep_trajectories=True)
              for p in (sampled, as_arrays)]
    assert np.ndim(models[0].p.us_ct_exponent) == 0 and np.ndim(models[1].p.us_ct_exponent) == 1
    out = [m.run() for m in models]
    assert taken(out[0])  # the paths named above were taken
    for column in out[0]:
        np.testing.assert_array_equal(out[0][column], out[1][column], err_msg=column)
    np.testing.assert_array_equal(models[0].tracker.trajectories, models[1].tracker.trajectories)
    for m in models:
        m.release()


def test_release_frees_the_model():
    m = DrawdownModel(n_runs=4, seed=1)
    ref = weakref.ref(m)
    m.release()
    del m
    gc.collect()
    assert ref() is None
    assert all(k is not None for k in getattr(mesa.Agent, "_ids", {}))  # mesa 3.3: none dangling


def test_single_replica_model_works_with_mesa_batch_run():
    from mesa.batchrunner import batch_run

    from sim.model import batch_run_seeds
    seeds, seeding = batch_run_seeds([1, 2])

    def batch():
        return batch_run(DrawdownModel, parameters={"n_runs": 1, "collect": True, **seeds},
                         max_steps=100, display_progress=False, **seeding)
    out = batch()
    assert len(out) == 2
    assert [row["isis_fighters_iraq"] for row in batch()] == [row["isis_fighters_iraq"] for row in out]  # seeded
    assert {"us_troops", "isis_fighters_iraq"} <= set(out[0])
    # the model stops at month 59 (59 steps); mesa 3.3's batch_run reports the last step
    # index (58), mesa 3.5's the number of steps (59)
    assert out[0]["Step"] in (58, 59)
    assert out[0]["isis_fighters_iraq"] != out[1]["isis_fighters_iraq"]


def test_saved_results_are_an_ordinary_readable_folder(tmp_path):
    import stat
    res = run(scenario(horizon_months=12), runs=50, seed=1)
    out = res.save(tmp_path / "r")
    mode = stat.S_IMODE(os.stat(out).st_mode)
    assert mode & stat.S_IRGRP and mode & stat.S_IXGRP, oct(mode)
    loaded = sim.Results.load(out)
    pd.testing.assert_frame_equal(loaded.outcomes, res.outcomes)


def test_a_loaded_result_reads_its_outcome_table_only_when_asked(tmp_path, monkeypatch):
    res = run(scenario(horizon_months=6), runs=300, seed=2)
    out = res.save(tmp_path / "r")
    reads = []
    real = pd.read_parquet
    monkeypatch.setattr(pd, "read_parquet", lambda path, *a, **k: (reads.append(os.path.basename(path)),
                                                                    real(path, *a, **k))[1])
    loaded = sim.Results.load(out)
    again = loaded.save(tmp_path / "copy")
    assert reads == ["quantiles.parquet"] and loaded.n_runs == 300  # the table was copied, not read
    assert (again / "outcomes.parquet").read_bytes() == (out / "outcomes.parquet").read_bytes()
    assert loaded.summary["outcomes"] == res.summary["outcomes"]
    pd.testing.assert_frame_equal(loaded.outcomes, res.outcomes)


def test_posture_factors_are_bounded():
    with pytest.raises(sim.ScenarioError, match="advise_factor"):
        scenario(levers={"posture": {"kind": "hold", "advise_factor": -1}})
