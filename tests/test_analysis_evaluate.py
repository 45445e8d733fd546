"""sim.evaluate: explicit experiment tables, alignment, common random numbers, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sim
from sim.analysis.evaluate import evaluate
from sim.analysis.lever_settings import apply_levers
from sim.engine import BLOCK_SIZE
from sim.model.outcomes import OUTCOME_COLUMNS
from sim.scenario import ScenarioError, scenario_from_dict

UNCERTAIN = {"isis.growth_rate": {"dist": "uniform", "low": 0.03, "high": 0.08},
             "militia.lethality": {"dist": "uniform", "low": 0.03, "high": 0.09}}


def small(**changes):
    data = {"name": "small", "horizon_months": 24, "seed": 5, "parameters": dict(UNCERTAIN)}
    data.update(changes)
    return scenario_from_dict(data)


def test_a_table_of_a_runs_parameters_reproduces_that_run():
    sc = small()
    res = sim.run(sc, runs=300, seed=5, keep_trajectories=False, progress=False).outcomes
    out = sim.evaluate(sc, res[[c for c in res if c.startswith("param.")]], seed=5)
    for name in OUTCOME_COLUMNS:
        np.testing.assert_array_equal(out[name].to_numpy(), res[name].to_numpy(), err_msg=name)


def test_bare_and_prefixed_parameter_names_are_the_same_experiment():
    sc = small()
    x = np.linspace(0.03, 0.08, 50)
    a = evaluate(sc, pd.DataFrame({"isis.growth_rate": x}))
    b = evaluate(sc, pd.DataFrame({"param.isis.growth_rate": x}))
    pd.testing.assert_frame_equal(a, b)


def test_a_rows_result_depends_on_its_values_and_replica_not_on_other_rows():
    sc = small()
    table = pd.DataFrame({"isis.growth_rate": [0.04, 0.07, 0.05, 0.07],
                          "replica": [3, 3, BLOCK_SIZE + 7, 11]})
    full = evaluate(sc, table)
    alone = evaluate(sc, table.iloc[[1]])
    pd.testing.assert_frame_equal(full.iloc[[1]], alone)
    # index alignment is kept
    shuffled = evaluate(sc, table.iloc[[2, 0, 3, 1]])
    pd.testing.assert_frame_equal(shuffled.sort_index(), full)


def test_more_growth_with_the_same_replicas_raises_isis_everywhere_on_average():
    sc = small()
    rep = np.arange(400)
    low = evaluate(sc, pd.DataFrame({"isis.growth_rate": 0.03, "replica": rep}))
    high = evaluate(sc, pd.DataFrame({"isis.growth_rate": 0.08, "replica": rep}))
    assert (high["isis_peak"] >= low["isis_peak"]).mean() > 0.9
    assert high["isis_peak"].mean() > low["isis_peak"].mean()


def test_lever_columns_group_rows_and_each_group_matches_its_scenario():
    sc = small()
    n = 200
    table = pd.DataFrame({"retaliation": ["none"] * n + ["leadership"] * n})
    out = evaluate(sc, table)
    for i, doctrine in enumerate(["none", "leadership"]):
        ref = sim.run(apply_levers(sc, {"retaliation": doctrine}), runs=n, seed=sc.seed,
                      keep_trajectories=False, progress=False).outcomes
        got = out.iloc[i * n:(i + 1) * n]
        np.testing.assert_array_equal(got["us_fatalities"].to_numpy(), ref["us_fatalities"].to_numpy())
        np.testing.assert_array_equal(got["leadership_strikes"].to_numpy(),
                                      ref["leadership_strikes"].to_numpy())
    assert out["leadership_strikes"].iloc[:n].sum() == 0
    assert out["leadership_strikes"].iloc[n:].sum() > 0


def test_experiments_give_the_same_outcomes_in_worker_processes_and_on_dask():
    """Sweeps, sensitivity and discovery reach many runs through ``evaluate``: spreading it over
    processes or a Dask cluster (``--workers``, ``--dask``) changes nothing."""
    pytest.importorskip("distributed")
    sc = small()
    table = pd.DataFrame({"isis.growth_rate": np.tile([0.03, 0.08], 150),
                          "retaliation": ["none"] * 150 + ["leadership"] * 150,
                          "replica": np.r_[np.arange(150), np.arange(150) + BLOCK_SIZE]})
    here = evaluate(sc, table)
    pd.testing.assert_frame_equal(evaluate(sc, table, workers=2), here)
    pd.testing.assert_frame_equal(evaluate(sc, table, dask="local", workers=2), here)


def test_empty_table_gives_empty_outcomes():
    out = evaluate(small(), pd.DataFrame({"isis.growth_rate": []}))
    assert len(out) == 0 and list(out.columns) == list(OUTCOME_COLUMNS)


@pytest.mark.parametrize("table, key, words", [
    (pd.DataFrame({"isis.growth_rat": [0.05]}), "isis.growth_rat", "did you mean 'isis.growth_rate'"),
    (pd.DataFrame({"isis.growth_rate": [0.9]}), "isis.growth_rate", "allowed 0 to 0.3"),
    (pd.DataFrame({"isis.growth_rate": ["x"]}), "isis.growth_rate", "numbers"),
    (pd.DataFrame({"isis.growth_rate": [0.05], "replica": [-1]}), "replica", "whole numbers"),
    (pd.DataFrame({"retaliation": ["nuclear"]}), "retaliation", "allowed: none, proportional"),
    (pd.DataFrame({"exit_month": [-3]}), "exit_month", "start_month"),
])
def test_bad_experiment_tables_name_the_column_and_what_is_allowed(table, key, words):
    with pytest.raises(ScenarioError) as err:
        evaluate(small(), table)
    assert err.value.source == "experiments"
    assert key in str(err.value) and words in str(err.value)
