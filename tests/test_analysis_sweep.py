"""Sweeps, lever settings, robustness and Pareto fronts."""

from __future__ import annotations


import numpy as np
import pandas as pd
import pytest

import sim
from sim.analysis.lever_settings import apply_levers, parse_lever_spec
from sim.analysis.robustness import pareto_front, robustness_table
from sim.analysis.sweep import sweep
from sim.scenario.library import scenarios_dir
from sim.scenario import ScenarioError


@pytest.fixture(scope="module")
def exit_sweep():
    """Baseline (hold 2,500) swept over the month the exit begins, common random numbers."""
    sc = sim.load_scenario(scenarios_dir() / "baseline.yaml")
    return sweep(sc, {"exit_month": [0, 18, 36]}, runs=2000, seed=7, progress=False)


def _means(result, outcome):
    return result.table.set_index("exit_month")[f"{outcome}.mean"].loc[[0, 18, 36]].to_numpy()


@pytest.mark.parametrize("outcome", ["militia_attacks", "us_troop_months", "us_fatalities"])
def test_earlier_exits_lower_us_exposure_to_militia_attacks(exit_sweep, outcome):
    m = _means(exit_sweep, outcome)
    assert m[0] < m[1] < m[2], m


@pytest.mark.parametrize("outcome", ["resurgence", "isis_peak"])
def test_earlier_exits_raise_the_probability_and_size_of_isis_resurgence(exit_sweep, outcome):
    m = _means(exit_sweep, outcome)
    assert m[0] > m[1] > m[2], m


def test_every_cell_is_the_run_of_its_scenario_with_common_random_numbers(exit_sweep):
    sc = exit_sweep.scenario
    ref = sim.run(apply_levers(sc, {"exit_month": 18}), runs=2000, seed=7,
                  keep_trajectories=False, progress=False).outcomes
    got = exit_sweep.runs[exit_sweep.runs["exit_month"] == 18]
    np.testing.assert_array_equal(got["replica"].to_numpy(), np.arange(2000))
    for name in ("isis_peak", "us_fatalities", "expelled"):
        np.testing.assert_array_equal(got[name].to_numpy(), ref[name].to_numpy())


def test_sweep_table_and_robustness_cover_every_cell(exit_sweep):
    assert list(exit_sweep.table["exit_month"]) == [0, 18, 36]
    assert (exit_sweep.table["runs"] == 2000).all()
    rob = exit_sweep.robustness
    assert set(rob["outcome"]) >= {"resurgence", "us_fatalities", "isis_peak"}
    assert (rob.groupby("outcome").size() == 3).all()
    assert (rob.groupby("outcome")["minimax_regret"].sum() >= 1).all()


def test_a_streamed_sweep_equals_the_sweep_in_memory(exit_sweep, tmp_path):
    """``stream_to``: each cell's outcomes go to its own file and every table is computed from
    the files in chunks; the numbers are the same, bit for bit."""
    streamed = sweep(exit_sweep.scenario, {"exit_month": [0, 18, 36]}, runs=2000, seed=7,
                     progress=False, stream_to=tmp_path / "cells")
    assert sorted(p.name for p in (tmp_path / "cells").iterdir()) == [
        "cell-0.parquet", "cell-1.parquet", "cell-2.parquet"]  # no scratch left behind
    assert all(isinstance(s, type(tmp_path)) for s in streamed.sources)
    pd.testing.assert_frame_equal(streamed.table, exit_sweep.table, check_exact=True)
    pd.testing.assert_frame_equal(streamed.robustness, exit_sweep.robustness, check_exact=True)
    pd.testing.assert_frame_equal(streamed.runs, exit_sweep.runs, check_exact=True)
    streamed.write_runs(tmp_path / "runs.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "runs.parquet"), exit_sweep.runs,
                                  check_exact=True)


def test_robustness_refuses_choices_without_the_same_replicas():
    runs = pd.DataFrame({"choice": ["a", "a", "b", "b"], "replica": [0, 1, 0, 2],
                         "us_fatalities": [1.0, 2.0, 3.0, 4.0]})
    with pytest.raises(ValueError, match="same replicas"):
        robustness_table(runs, ["choice"], ["us_fatalities"])
    runs["replica"] = [0, 0, 0, 0]  # each choice has replica 0 twice
    with pytest.raises(ValueError, match="same replicas"):
        robustness_table(runs, ["choice"], ["us_fatalities"])
    runs["replica"] = [0, 1, 0, 1]
    runs.loc[3, "us_fatalities"] = np.nan
    with pytest.raises(ValueError, match="same replicas"):
        robustness_table(runs, ["choice"], ["us_fatalities"])


def test_sweep_saves_tables_plots_and_summary(exit_sweep, tmp_path):
    out = exit_sweep.save(tmp_path / "sw")
    for f in ("sweep.csv", "sweep.parquet", "runs.parquet", "robustness.csv",
              "robustness.parquet", "summary.json", "scenario.resolved.yaml",
              "plots/tradeoff.png", "plots/levers.png"):
        assert (out / f).is_file(), f
    table = pd.read_csv(out / "sweep.csv")
    assert len(table) == 3 and "pareto" in table


def test_robustness_regret_and_worst_decile_on_a_known_table():
    # two choices, ten runs: A is 1 everywhere; B is 0 except one run where it is 5
    runs = pd.DataFrame({"choice": ["A"] * 10 + ["B"] * 10, "replica": list(range(10)) * 2,
                         "us_fatalities": [1.0] * 10 + [0.0] * 9 + [5.0]})
    rob = robustness_table(runs, ["choice"], ["us_fatalities"]).set_index("choice")
    assert rob.loc["A", "expected"] == pytest.approx(1.0)
    assert rob.loc["B", "expected"] == pytest.approx(0.5)
    assert rob.loc["B", "worst10"] == pytest.approx(5.0)
    assert rob.loc["A", "max_regret"] == pytest.approx(1.0)   # A loses by 1 in nine runs
    assert rob.loc["B", "max_regret"] == pytest.approx(4.0)   # B loses by 4 in one run
    assert rob.loc["A", "minimax_regret"] and not rob.loc["B", "minimax_regret"]
    assert rob.loc["B", "best_expected"] and not rob.loc["A", "best_expected"]


def test_robustness_uses_each_outcomes_direction():
    runs = pd.DataFrame({"choice": ["A", "B"], "replica": [0, 0], "isf_capability_end": [0.4, 0.6]})
    rob = robustness_table(runs, ["choice"], ["isf_capability_end"]).set_index("choice")
    assert rob.loc["A", "max_regret"] == pytest.approx(0.2) and rob.loc["B", "max_regret"] == 0


def test_pareto_front_keeps_only_non_dominated_points():
    pts = np.array([[1, 5], [2, 2], [3, 3], [5, 1], [2, 2.5]])
    assert pareto_front(pts).tolist() == [True, True, False, True, False]


def test_lever_specs_parse_ranges_and_lists():
    assert parse_lever_spec("exit_month=0:36:6") == ("exit_month", [0, 6, 12, 18, 24, 30, 36])
    assert parse_lever_spec("aid=none,high") == ("aid", ["none", "high"])
    assert parse_lever_spec("posture.troops=500:1500:500") == ("posture.troops", [500, 1000, 1500])
    with pytest.raises(ScenarioError, match="did you mean 'exit_month'"):
        parse_lever_spec("exitmonth=1")
    with pytest.raises(ScenarioError, match="allowed: none, low, medium, high"):
        parse_lever_spec("aid=lots")
    with pytest.raises(ScenarioError, match="start:stop:step"):
        parse_lever_spec("exit_month=0:36")


def test_exit_month_turns_hold_into_a_rapid_exit_and_moves_ramps():
    sc = sim.Scenario()
    p = apply_levers(sc, {"exit_month": 12}).levers.posture
    assert p.kind == "rapid_exit" and p.start_month == 12 and p.troops == 2500
    k = apply_levers(sc, {"posture.kind": "kurdistan_residual", "exit_month": 6}).levers.posture
    assert k.kind == "kurdistan_residual" and k.start_month == 6 and k.residual == 900
    with pytest.raises(ScenarioError, match="has no 'residual'"):
        apply_levers(sc, {"posture.residual": 100})


def test_sweep_progress_covers_the_tables_and_the_files(capsys, tmp_path):
    import sim.engine as engine
    sc = sim.load_scenario(scenarios_dir() / "baseline.yaml").with_changes(horizon_months=2)
    result = sweep(sc, {"exit_month": [0, 1]}, runs=engine.BLOCK_SIZE + 1, seed=1, progress=True)
    err = capsys.readouterr().err
    assert "sweep" in err and "tables" in err
    steps = []
    result.write_into(tmp_path, progress=steps.append)
    assert steps == [1] * result.FILES
    sweep(sc, {"exit_month": [0, 1]}, runs=engine.BLOCK_SIZE + 1, seed=1, progress=False)
    assert capsys.readouterr().err == ""
