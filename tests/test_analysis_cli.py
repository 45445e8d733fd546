"""``iraqsim sweep``, ``sensitivity`` and ``discover``: files written, bad input handled."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from sim.cli import main

SCENARIO = """\
name: tiny
horizon_months: 24
runs: 300
seed: 9
levers:
  posture: {kind: hold, troops: 2500}
parameters:
  isis.growth_rate: {dist: uniform, low: 0.03, high: 0.1}
  isis.attrition_rate: {dist: uniform, low: 0.1, high: 0.18}
"""


@pytest.fixture
def scenario_file(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(SCENARIO)
    return path


def test_sweep_command_writes_the_table_plots_and_robustness(scenario_file, tmp_path, capsys):
    out = tmp_path / "sw"
    rc = main(["sweep", str(scenario_file), "--lever", "exit_month=0:12:12", "--lever",
               "aid=low,high", "--runs", "200", "--out", str(out), "--quiet"])
    assert rc == 0
    table = pd.read_csv(out / "sweep.csv")
    assert len(table) == 4 and set(table["aid"]) == {"low", "high"}
    assert {"resurgence.mean", "us_fatalities.mean", "expelled.mean", "pareto"} <= set(table)
    rob = pd.read_csv(out / "robustness.csv")
    assert {"expected", "worst10", "max_regret", "minimax_regret"} <= set(rob)
    assert (out / "plots" / "tradeoff.png").stat().st_size > 1000
    summary = json.loads((out / "summary.json").read_text())
    assert summary["levers"] == {"exit_month": [0, 12], "aid": ["low", "high"]}
    assert capsys.readouterr().out == ""


def test_sensitivity_and_discover_commands_write_their_files(scenario_file, tmp_path, capsys):
    assert main(["sensitivity", str(scenario_file), "--method", "morris", "--samples", "32",
                 "--outcome", "isis_peak", "--out", str(tmp_path / "se")]) == 0
    assert "isis.growth_rate" in capsys.readouterr().out
    assert len(pd.read_csv(tmp_path / "se" / "indices.csv")) == 2
    assert (tmp_path / "se" / "plots" / "isis_peak.png").is_file()
    assert main(["discover", str(scenario_file), "--outcome", "isis_peak>3000", "--runs", "500",
                 "--out", str(tmp_path / "di"), "--quiet"]) == 0
    for f in ("boxes.csv", "peeling.csv", "tree.txt", "summary.json", "plots/peeling.png",
              "plots/boxes.png"):
        assert (tmp_path / "di" / f).is_file(), f


@pytest.mark.parametrize("argv, words", [
    (["sweep", "{s}", "--lever", "exit_mont=0:12:6"], "did you mean 'exit_month'"),
    (["sweep", "{s}", "--lever", "retaliation=none", "--lever", "retaliation=leadership"], "given twice"),
    (["sweep", "{s}", "--lever", "posture.kind=waypoints"], "points"),
    (["sweep", "{s}", "--lever", "aid=low", "--runs", "0"], "--runs must be 1 to 100,000,000"),
    (["sensitivity", "{s}", "--method", "fast"], "allowed: sobol, morris"),
    (["sensitivity", "{s}", "--outcome", "isis_peek"], "did you mean 'isis_peak'"),
    (["sensitivity", "{s}", "--parameter", "isis.floor"], "is not uncertain"),
    (["discover", "{s}", "--outcome", "isis_peak"], "give a threshold"),
    (["discover", "{s}", "--outcome", "resurgence", "--min-coverage", "2"], "--min-coverage"),
    (["sweep", "{missing}", "--lever", "aid=low"], "nope.yaml"),
    (["sweep", "{s}", "--lever", "aid=low", "--dask", "no address"], "--dask"),
    (["sensitivity", "{s}", "--dask", "tcp://"], "--dask"),
])
def test_bad_input_is_one_line_exit_2_and_nothing_written(argv, words, scenario_file, tmp_path, capsys):
    out = tmp_path / "out"
    argv = [a.format(s=scenario_file, missing=tmp_path / "nope.yaml") for a in argv]
    rc = main(argv + ["--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.count("\n") == 1 and words in err and "Traceback" not in err
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []


def test_sweep_gives_the_same_files_in_worker_processes(scenario_file, tmp_path, monkeypatch):
    """Every (cell, block) goes to the workers (none computed here while they start), and the
    streamed cells give the same tables as a sweep in this process."""
    import sim.engine as engine
    from sim.engine import executors
    monkeypatch.setattr(executors, "WORK_WHILE_WORKERS_START", False)
    runs = str(engine.BLOCK_SIZE + 500)  # two blocks a cell, the last one short
    for name, extra in (("here", []), ("workers", ["--workers", "2"])):
        assert main(["sweep", str(scenario_file), "--lever", "exit_month=0,12", "--runs", runs,
                     "--quiet", "--out", str(tmp_path / name), *extra]) == 0
    for f in ("runs.parquet", "sweep.parquet", "robustness.parquet"):
        pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "here" / f),
                                      pd.read_parquet(tmp_path / "workers" / f), check_exact=True)
    prov = json.loads((tmp_path / "workers" / "summary.json").read_text())["provenance"]
    assert prov["executor"] == "processes:2"
    assert {"mesa", "numpy", "scipy", "python"} <= set(prov)
    assert not (tmp_path / "workers" / ".runs").exists()


def test_library_errors_name_python_arguments_and_the_command_line_shows_options(scenario_file):
    """``sweep(levers=...)`` says ``levers``; ``iraqsim sweep --lever`` says ``--lever``."""
    import sim
    from sim.analysis.discovery import discover
    from sim.analysis.sweep import sweep
    from sim.scenario.errors import ArgumentError
    sc = sim.load_scenario(scenario_file)
    with pytest.raises(ArgumentError) as caught:
        sweep(sc, {"exit_mont": [0, 6]}, runs=10)
    assert caught.value.argument == "levers" and str(caught.value).startswith("levers: exit_mont:")
    with pytest.raises(ArgumentError) as caught:
        discover(sc, alpha=0.9)
    assert caught.value.argument == "alpha" and "--" not in str(caught.value)


def test_the_sweep_table_prints_numbers_for_people_and_rings_only_the_front(scenario_file, tmp_path,
                                                                             capsys, monkeypatch):
    """``30,900``, not ``3.09e+04``; and in the trade-off plot only the cells no other beats on
    both plotted axes get the ring."""
    import numpy as np

    from sim.analysis import plots as analysis_plots
    from sim.analysis.robustness import pareto_front
    rings = []
    real = analysis_plots.plt.Axes.scatter

    def spy(ax, *args, **kwargs):
        rings.append(np.asarray(kwargs.get("edgecolors")))
        return real(ax, *args, **kwargs)
    monkeypatch.setattr(analysis_plots.plt.Axes, "scatter", spy)
    out = tmp_path / "sw"
    assert main(["sweep", str(scenario_file), "--lever", "exit_month=0:24:6", "--lever",
                 "retaliation=none,leadership", "--runs", "200", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "e+0" not in printed and "," in printed
    table = pd.read_csv(out / "sweep.csv")
    front = pareto_front(np.column_stack([table["us_fatalities.mean"], table["resurgence.mean"]]))
    assert list(rings[0] == "black") == list(front)
    assert 0 < front.sum() < len(table)  # the ring tells cells apart
