"""Historical backtest (issue 4): the episodes, the targets and `iraqsim backtest`."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
import yaml

from sim import cli
from sim.validation.backtest import EpisodeRuns, backtest, evaluate_target, load_episode, month_label
from sim.validation.targets import CONTINUOUS, HISTORIES, Quantity, load_targets
from sim.model.outcomes import OUTCOME_COLUMNS, TRAJECTORY_VARIABLES
from sim.scenario.library import seeds_dir
from sim.scenario import ScenarioError

RUNS = 500


@pytest.fixture(scope="module")
def bt():
    return backtest(runs=RUNS, seed=17, progress=False)


def _median_path(bt, episode, variable):
    return np.median(bt.episodes[episode].trajectory(variable), axis=1)


# ----------------------------------------------------------------------------- the targets file
def test_every_target_in_the_targets_file_is_evaluated_by_backtest(bt):
    raw = yaml.safe_load((seeds_dir() / "targets.yaml").read_text())["targets"]
    ids = [t["id"] for t in raw]
    assert [r.target.id for r in bt.results] == ids
    for r in bt.results:
        assert r.status in {"holds", "fails", "input", "not modelled"}, r.target.id
        if r.target.kind == "model":
            assert r.p05 <= r.median <= r.p95, r.target.id
    table = bt.table()
    assert list(table["target"]) == ids


def test_every_target_names_its_scenario_quantity_and_observation():
    for t in load_targets():
        assert t.scenario in HISTORIES and t.observed, t.id
        if t.scenario == CONTINUOUS:
            assert t.abc is False, f"{t.id}: the continuous history is for validation only"
        if t.kind == "model":
            assert t.quantity is not None, t.id
            if "qualitative" in t.observed:
                assert t.read_as is not None and t.read_as.why, f"{t.id}: say how it is read"


def test_history_scenarios_load_and_cover_their_targets_dates():
    for name in HISTORIES:
        sc = load_episode(name)
        assert sc.name == name
    runs = {name: _empty_runs(load_episode(name)) for name in HISTORIES}
    for t in load_targets():
        if t.kind == "model":
            t.quantity.values(runs[t.scenario])  # raises if a month is outside the episode
            t.target_range(runs[t.scenario])


def test_strikes_are_scheduled_in_the_months_the_articles_give():
    crisis = load_episode("strike_crisis_2020")
    strikes = [e for e in crisis.events if e.kind == "high_profile_strike"]
    assert {month_label(crisis, e.month) for e in strikes} == {"2020-01"}
    assert {e.target for e in strikes} == {"iranian_commander", "militia_leader"}
    proxy = load_episode("proxy_war_2023")
    strikes = [e for e in proxy.events if e.kind == "high_profile_strike"]
    # Abu Taqwa (DB24-02) and the Kataib Hezbollah commander in February (public record)
    assert [month_label(proxy, e.month) for e in strikes] == ["2024-01", "2024-02"]
    war = [e for e in proxy.events if e.kind == "regional_war"]
    assert [month_label(proxy, e.month) for e in war] == ["2023-10", "2024-03", "2025-06"]


# ----------------------------------------------------------------------------- quantities
def _empty_runs(scenario, n=3):
    traj = np.zeros((len(TRAJECTORY_VARIABLES), scenario.horizon_months, n), dtype=np.float32)
    outcomes = {k: np.zeros(n) for k in OUTCOME_COLUMNS}
    return EpisodeRuns(scenario, traj, outcomes)


def test_quantities_reduce_trajectories_as_documented():
    sc = load_episode("strike_crisis_2020")  # month 0 = 2019-04
    runs = _empty_runs(sc)
    attacks = runs.trajectory("militia_attacks")
    attacks[:, 0] = np.arange(sc.horizon_months)          # run 0: attacks = month index
    attacks[:, 1] = 2.0                                   # run 1: flat
    attacks[10, 2] = 7.0                                  # run 2: a single spike in 2020-02
    runs.outcomes["months_to_vote"] = np.array([9.0, 10.0, np.nan])
    q = lambda **kw: Quantity(**kw).values(runs)  # noqa: E731
    np.testing.assert_allclose(q(variable="militia_attacks", at="2020-01"), [9, 2, 0])
    np.testing.assert_allclose(q(variable="militia_attacks", sum="2019-05/2019-07"), [1 + 2 + 3, 6, 0])
    np.testing.assert_allclose(q(variable="militia_attacks", ratio=["2020-01", "2019-07"])[:2], [3, 1])
    np.testing.assert_allclose(q(variable="militia_attacks", change_pct=["2019-07", "2020-01"])[:2],
                               [200, 0])
    assert q(variable="militia_attacks", change_pct=["2019-07", "2020-01"])[2] == np.inf  # 0/0
    np.testing.assert_allclose(q(variable="militia_attacks", peak_month="2019-04/2020-06"),
                               [14, 0, 10])
    np.testing.assert_allclose(q(variable=["militia_attacks", "militia_attacks"], at="2019-05"),
                               [2, 4, 0])
    np.testing.assert_allclose(q(outcome="months_to_vote", months_from="2020-01"), [0, 1, np.inf])


@pytest.mark.parametrize("spec, message", [
    ({"variable": "isis_fighters", "at": "2020-01"}, "unknown trajectory variable"),
    ({"variable": "isis_fighters_iraq"}, "exactly one of"),
    ({"variable": "isis_fighters_iraq", "at": "2020-01", "sum": "2020-01"}, "exactly one of"),
    ({"outcome": "escalation", "months_from": "2020-01"}, "month columns"),
    ({"variable": "isis_fighters_iraq", "at": "January"}, "pattern"),
])
def test_bad_quantities_are_rejected(spec, message):
    with pytest.raises(ValueError, match=message):
        Quantity(**spec)


def test_a_malformed_targets_file_is_a_one_line_error_naming_the_key(tmp_path):
    raw = yaml.safe_load((seeds_dir() / "targets.yaml").read_text())
    raw["targets"][4]["quantity"] = {"variable": "isis_strenght", "at": "2023-07"}
    bad = tmp_path / "targets.yaml"
    bad.write_text(yaml.safe_dump(raw))
    with pytest.raises(ScenarioError) as err:
        load_targets(bad)
    text = str(err.value)
    assert str(bad) in text and raw["targets"][4]["id"] in text and "isis_fighters_iraq" in text
    assert "\n" not in text


# ----------------------------------------------------------------------------- the acceptance
def test_isis_surges_after_2011_peaks_after_2014_and_is_low_by_2017(bt):
    sc = bt.episodes["iraq_2011"].scenario
    isis = _median_path(bt, "iraq_2011", "isis_fighters_iraq")
    at = {month_label(sc, i): v for i, v in enumerate(isis)}
    before = np.mean([at[f"2011-{m:02d}"] for m in range(1, 13)])
    assert at["2013-12"] >= 3 * before, "several-fold rise after the withdrawal"
    peak = int(np.argmax(isis))
    assert "2014-06" <= month_label(sc, peak) <= "2016-06", "peak after the 2014 spread into Iraq"
    assert at["2017-12"] <= 0.25 * isis[peak], "fallen after the US return by the 2017 defeat"
    later = [v for k, v in at.items() if k >= "2018-01"]
    assert max(later) <= 1.2 * at["2017-12"], "low reached by 2017: no second surge"


def test_the_vote_and_the_exit_move_come_within_weeks_of_the_strikes(bt):
    crisis = bt.episodes["strike_crisis_2020"]
    lag = crisis.outcomes["months_to_vote"] - crisis.month("2020-01")
    assert np.mean((lag >= 0) & (lag <= 1)) > 0.5
    assert np.nanmedian(np.where(np.isnan(lag), np.inf, lag)) <= 1
    proxy = bt.episodes["proxy_war_2023"]
    lag = proxy.outcomes["months_to_expulsion"] - proxy.month("2024-01")
    assert np.mean((lag >= 0) & (lag <= 1)) > 0.5
    assert np.nanmedian(np.where(np.isnan(lag), np.inf, lag)) <= 1


def test_a_target_the_model_misses_fails(bt):
    t = next(t for t in load_targets() if t.id.startswith("T01"))
    wrong = t.model_copy(update={"read_as": t.read_as.model_copy(update={"low": 9000, "high": 9500})})
    assert evaluate_target(wrong, bt.episodes[t.scenario]).status == "fails"
    assert evaluate_target(t, bt.episodes[t.scenario]).status == "holds"


# ----------------------------------------------------------------------------- the command
def test_backtest_command_prints_the_table_writes_the_figure_and_exits_0(tmp_path, capsys):
    out = tmp_path / "bt"
    code = cli.main(["backtest", "--runs", str(RUNS), "--out", str(out)])
    text = capsys.readouterr().out
    assert code == 0, text
    for t in load_targets():
        assert t.id in text
    assert (out / "backtest.png").stat().st_size > 10_000
    assert (out / "history.png").stat().st_size > 10_000
    assert len((out / "backtest.csv").read_text().splitlines()) == len(load_targets()) + 1
    # the curves as data: one row per episode, month and variable, quantiles in order
    series = pd.read_parquet(out / "series.parquet")
    assert list(series.columns) == ["episode", "month", "date", "variable", "p05", "p25", "p50",
                                    "p75", "p95", "mean"]
    assert set(series["episode"]) == set(HISTORIES)
    assert set(series["variable"]) == set(TRAJECTORY_VARIABLES)
    assert (series[["p05", "p25", "p50", "p75", "p95"]].diff(axis=1).iloc[:, 1:] >= 0).all().all()
    troops = series[(series["episode"] == "iraq_2011") & (series["variable"] == "us_troops")]
    assert troops["date"].iloc[0].year == 2011 and troops["p50"].iloc[-1] <= troops["p50"].iloc[0]


def test_backtest_command_reports_a_failing_target_and_exits_0(tmp_path, capsys):
    raw = yaml.safe_load((seeds_dir() / "targets.yaml").read_text())
    raw["targets"] = [t for t in raw["targets"] if t["id"].startswith("T01")]
    raw["targets"][0]["read_as"] = {"low": 9000, "high": 9500, "why": "impossible on purpose"}
    path = tmp_path / "targets.yaml"
    path.write_text(yaml.safe_dump(raw))
    code = cli.main(["backtest", "--runs", "100", "--out", str(tmp_path / "bt"),
                     "--targets", str(path)])
    assert code == 0  # it reports, it does not judge
    out = capsys.readouterr().out
    assert "NO" in out
    assert "calibration targets: 0/1 hold (failing: T01-troops-2020)" in out


def test_backtest_command_bad_input_is_one_line_exit_2_nothing_written(tmp_path, capsys):
    out = tmp_path / "bt"
    assert cli.main(["backtest", "--runs", "0", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--runs" in err
    assert cli.main(["backtest", "--targets", str(tmp_path / "none.yaml"), "--out", str(out)]) == 2
    assert "none.yaml" in capsys.readouterr().err
    assert not out.exists()


def test_month_labels_are_calendar_months():
    sc = load_episode("iraq_2011")
    assert month_label(sc, 0) == "2011-01" and month_label(sc, 107) == "2019-12"
    assert sc.month_dates()[42] == dt.date(2014, 7, 1)


def test_a_misspelt_target_key_is_an_error_not_ignored(tmp_path):
    raw = yaml.safe_load((seeds_dir() / "targets.yaml").read_text())
    raw["targets"][0]["quantitiy"] = raw["targets"][0].pop("quantity")
    bad = tmp_path / "targets.yaml"
    bad.write_text(yaml.safe_dump(raw))
    with pytest.raises(ScenarioError, match=r"quantitiy: unknown key; allowed: .*quantity"):
        load_targets(bad)
