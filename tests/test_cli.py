"""The ``iraqsim`` command: run, compare, validate, schema and list.

Model runs are small (a few hundred runs, one block) and shared by module-scoped fixtures.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from sim.cli import main
from sim.model.outcomes import REQUIRED_OUTCOMES
from sim.scenario.library import scenarios_dir
from sim.scenario import load_scenario

LIBRARY = scenarios_dir()
BASELINE = LIBRARY / "baseline.yaml"
QUANTILE_VARIABLES = ["us_troops", "isf_capability", "isis_fighters_iraq", "militia_attacks",
                      "withdrawal_pressure", "iran_influence", "cooperation"]
CONTRACT = ["outcomes.parquet", "quantiles.parquet", "summary.json", "scenario.resolved.yaml",
            "plots/outcomes.png", "plots/trajectories.png"]


def _tree(folder: Path) -> dict[str, str]:
    """Relative path -> sha256 of every file under ``folder``."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _main_in(folder: Path, argv: list[str]) -> tuple[int, str]:
    """Run the command in ``folder`` (as the working directory); return its code and stdout."""
    old = os.getcwd()
    buffer = io.StringIO()
    try:
        os.chdir(folder)
        with contextlib.redirect_stdout(buffer):
            code = main(argv)
    finally:
        os.chdir(old)
    return code, buffer.getvalue()


@pytest.fixture(scope="module")
def baseline_printed(tmp_path_factory):
    """``iraqsim run baseline --runs 300 --seed 1`` (a library name, default output folder)."""
    where = tmp_path_factory.mktemp("run")
    code, printed = _main_in(where, ["run", "baseline", "--runs", "300", "--seed", "1"])
    assert code == 0
    return where / "results" / "baseline", printed


@pytest.fixture(scope="module")
def baseline_run(baseline_printed):
    return baseline_printed[0]


# ---------------------------------------------------------------------- run
def test_run_writes_every_file_of_the_contract(baseline_run):
    for name in CONTRACT:
        assert (baseline_run / name).is_file(), name
    assert sorted(p.name for p in baseline_run.parent.iterdir()) == ["baseline"]  # no temp folder left
    assert oct(baseline_run.stat().st_mode & 0o777) != oct(0o700)  # a normal folder, not mkdtemp's


def test_run_prints_a_short_table_of_key_outcomes(baseline_printed):
    folder, printed = baseline_printed
    assert printed.startswith("baseline: 300 runs, seed 1")
    for key in ("resurgence", "us_fatalities", "exit_demanded", "departed", "isis_peak"):
        assert any(line.startswith(key) for line in printed.splitlines()), key
    assert "wrote results/baseline/" in printed
    assert len(printed.splitlines()) < 20


def test_outcomes_have_the_required_columns_one_row_per_run(baseline_run):
    df = pd.read_parquet(baseline_run / "outcomes.parquet")
    assert len(df) == 300
    assert df["run"].tolist() == list(range(300))
    for col in REQUIRED_OUTCOMES:
        assert col in df.columns, col
    for name in load_scenario(BASELINE).uncertain_parameters():
        assert f"param.{name}" in df.columns
    assert df["resurgence"].dtype == bool and df["exit_demanded"].dtype == bool and df["departed"].dtype == bool
    # a month to resurgence exactly when there is a resurgence
    assert (df["months_to_resurgence"].notna() == df["resurgence"]).all()


def test_quantiles_cover_every_month_and_variable(baseline_run):
    q = pd.read_parquet(baseline_run / "quantiles.parquet")
    horizon = load_scenario(BASELINE).horizon_months
    for var in QUANTILE_VARIABLES:
        band = q[q["variable"] == var]
        assert len(band) == horizon, var
        assert (band["p05"] <= band["p50"] + 1e-9).all() and (band["p50"] <= band["p95"] + 1e-9).all()
    assert {"p05", "p25", "p50", "p75", "p95", "mean", "date"} <= set(q.columns)
    assert str(q["date"].min().date()) == "2024-01-01"


def test_summary_and_resolved_scenario(baseline_run):
    summary = json.loads((baseline_run / "summary.json").read_text())
    prov = summary["provenance"]
    assert prov["runs"] == 300 and prov["seed"] == 1
    assert prov["scenario_sha256"] == load_scenario(BASELINE).sha256()
    df = pd.read_parquet(baseline_run / "outcomes.parquet")
    assert summary["outcomes"]["resurgence"]["probability"] == pytest.approx(df["resurgence"].mean())
    resolved = yaml.safe_load((baseline_run / "scenario.resolved.yaml").read_text())
    assert "extends" not in resolved
    assert set(resolved["parameters"]) >= {"isis.growth_rate", "isf.training_gain"}  # defaults filled in


def test_the_command_writes_what_the_python_api_returns(baseline_run):
    """The command is a thin shell: its outcome table is ``sim.run``'s, row for row."""
    from sim import run
    api = run(load_scenario(BASELINE), runs=300, seed=1, progress=False, keep_trajectories=False)
    pd.testing.assert_frame_equal(pd.read_parquet(baseline_run / "outcomes.parquet"), api.outcomes)


def test_a_failed_run_leaves_no_folder_and_keeps_the_earlier_result(baseline_run, tmp_path, monkeypatch, capsys):
    import shutil
    out = tmp_path / "result"
    shutil.copytree(baseline_run, out)
    before = _tree(out)

    def broken(self, folder, plots=True, progress=None):
        (Path(folder) / "summary.json").write_text("half")
        raise RuntimeError("disk full")

    monkeypatch.setattr("sim.engine.results.Results.write_into", broken)
    with pytest.raises(RuntimeError):
        main(["run", str(BASELINE), "--runs", "20", "--out", str(out), "--quiet"])
    assert _tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["result"]
    with pytest.raises(RuntimeError):  # a new folder under new parents: nothing is left either
        main(["run", str(BASELINE), "--runs", "20", "--out", str(tmp_path / "a" / "b" / "c"), "--quiet"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["result"]


def test_ctrl_c_while_writing_leaves_nothing(tmp_path, monkeypatch, capsys):
    def interrupted(self, folder, plots=True, progress=None):
        (Path(folder) / "quantiles.parquet").write_text("half")
        raise KeyboardInterrupt

    monkeypatch.setattr("sim.engine.results.Results.write_into", interrupted)
    assert main(["run", str(BASELINE), "--runs", "20", "--out", str(tmp_path / "new"), "--quiet"]) == 130
    assert "interrupted; nothing was written" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args, message", [
    (["--runs", "0"], "--runs must be 1 to 100,000,000 (got 0)"),
    (["--runs", "-5"], "--runs must be 1 to 100,000,000 (got -5)"),
    (["--runs", "1000000000000"], "--runs must be 1 to 100,000,000 (got 1,000,000,000,000)"),
    (["--out", ""], "--out: empty"),
    (["--seed", "-1"], "--seed must be between 0"),
    (["--workers", "0"], "--workers must be at least 1"),
    (["--out", "afile/sub"], "afile/sub: cannot create the output folder"),
    (["--out", "afile"], "afile: exists and is not a folder"),
    (["--out", "notes"], "notes: folder exists and is not an iraqsim result"),
])
def test_bad_options_give_one_line_and_write_nothing(args, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("not a folder")
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "thesis.txt").write_text("precious")
    before = _tree(tmp_path)
    assert main(["run", str(BASELINE), "--quiet", *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err
    assert _tree(tmp_path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile", "notes"]


def test_argparse_errors_are_one_line_with_exit_2(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["run", str(BASELINE), "--runs", "many"])
    assert exit_.value.code == 2
    assert capsys.readouterr().err.count("\n") == 1


def _wait_for(predicate, timeout=90.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("earlier", [True, False], ids=["earlier-result", "no-earlier-result"])
def test_sigint_leaves_no_output_folder_and_the_earlier_result_intact(earlier, baseline_run, tmp_path):
    """A real Ctrl-C (SIGINT) to a long run once it has started writing its outcomes."""
    import shutil
    out = tmp_path / "result"
    if earlier:
        shutil.copytree(baseline_run, out)
    before = _tree(out) if earlier else None
    short = tmp_path.parent / f"{tmp_path.name}-short.yaml"  # short horizon: blocks are quick
    short.write_text(f"extends: {BASELINE}\nname: short\nhorizon_months: 4\n")
    proc = subprocess.Popen([sys.executable, "-m", "sim", "run", str(short), "--runs", "100000000",
                             "--seed", "3", "--out", str(out), "--quiet"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        started = _wait_for(lambda: any(p.name.startswith(".result.tmp-") and (p / "outcomes.parquet").exists()
                                        for p in tmp_path.iterdir()))
        assert started, "the run never started writing"
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130
    assert "Traceback" not in err and "interrupted" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == (["result"] if earlier else [])
    if earlier:
        assert _tree(out) == before


# ---------------------------------------------------------------------- compare
@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    """``iraqsim compare baseline rapid_exit --runs 200 --seed 5`` (default output folder)."""
    where = tmp_path_factory.mktemp("cmp")
    code, printed = _main_in(where, ["compare", "baseline", "rapid_exit", "--runs", "200", "--seed", "5"])
    assert code == 0
    return where / "results" / "baseline-vs-rapid_exit", printed


@pytest.fixture(scope="module")
def comparison(compared):
    return compared[0]


def test_compare_writes_tables_plots_and_resolved_scenarios(comparison):
    for name in ["comparison.csv", "comparison.parquet", "outcomes.parquet", "quantiles.parquet",
                 "summary.json", "scenarios/baseline.resolved.yaml", "scenarios/rapid_exit.resolved.yaml",
                 "plots/outcomes.png", "plots/trajectories.png"]:
        assert (comparison / name).is_file(), name
    assert not (comparison / ".runs").exists()  # the scenarios' streamed outcomes are cleaned up
    table = pd.read_csv(comparison / "comparison.csv")
    assert set(table["scenario"]) == {"baseline", "rapid_exit"}
    assert set(REQUIRED_OUTCOMES) <= set(table["outcome"])
    pd.testing.assert_frame_equal(table, pd.read_parquet(comparison / "comparison.parquet"), check_dtype=False)
    row = table.set_index(["outcome", "scenario"])
    assert row.loc[("us_troop_months", "baseline"), "change_vs_first"] == 0
    assert row.loc[("us_troop_months", "rapid_exit"), "change_vs_first"] < 0  # fewer troops, by design


def test_compare_uses_common_random_numbers(comparison):
    """Each scenario in the comparison is exactly its own run with the shared seed."""
    from sim import run
    both = pd.read_parquet(comparison / "outcomes.parquet")
    alone = run(load_scenario(LIBRARY / "rapid_exit.yaml"), runs=200, seed=5, progress=False,
                keep_trajectories=False).outcomes
    mine = both[both["scenario"] == "rapid_exit"].drop(columns="scenario").reset_index(drop=True)
    pd.testing.assert_frame_equal(mine[alone.columns], alone)
    base = both[both["scenario"] == "baseline"].reset_index(drop=True)
    assert (base["param.isis.growth_rate"] == mine["param.isis.growth_rate"]).all()  # same draws


def test_stacked_outcomes_are_written_in_pieces_and_equal_the_in_memory_stack(tmp_path, monkeypatch):
    """``Comparison.write_outcomes`` (what ``iraqsim compare`` writes) never holds a whole table,
    streamed or not; a parameter only one scenario samples is missing in the other's rows."""
    import pyarrow.parquet as pq

    import sim
    import sim.engine.io
    scenarios = [load_scenario(LIBRARY / "baseline.yaml"), load_scenario(LIBRARY / "over_the_horizon.yaml")]
    kept = sim.compare(scenarios, runs=300, seed=4, progress=False, keep_trajectories=False)
    streamed = sim.compare(scenarios, runs=300, seed=4, progress=False, keep_trajectories=False,
                           stream_to=tmp_path / "runs")
    assert all((tmp_path / "runs" / str(k) / "outcomes.parquet").is_file() for k in range(2))
    expected = kept.outcomes()
    monkeypatch.setattr(sim.engine.io, "ROW_GROUP_RUNS", 64)
    pieces = []
    real = pq.ParquetWriter.write_table
    monkeypatch.setattr(pq.ParquetWriter, "write_table",
                        lambda self, table, *a, **k: (pieces.append(table.num_rows), real(self, table, *a, **k)))
    for comparison in (kept, streamed):
        got = pd.read_parquet(comparison.write_outcomes(tmp_path / "stacked.parquet"))
        assert list(got.columns) == [c for c in got.columns if c != "scenario"] + ["scenario"]
        assert set(got.columns) == set(expected.columns)
        pd.testing.assert_frame_equal(got[expected.columns], expected)
    assert max(pieces) <= 300 and pieces.count(64) >= 8  # kept: 64-row slices; streamed: row groups
    fraction = got["param.us.over_the_horizon_fraction"]
    assert fraction[got["scenario"] == "baseline"].isna().all()
    assert fraction[got["scenario"] == "over_the_horizon"].notna().all()


def test_compare_prints_side_by_side_table(compared):
    _, out = compared
    assert out.startswith("baseline vs rapid_exit: 200 runs each, seed 5 (common random numbers)")
    header = next(line for line in out.splitlines() if line.lstrip().startswith("scenario"))
    assert header.split()[1:] == ["baseline", "rapid_exit"]
    resurgence = next(line for line in out.splitlines() if line.startswith("resurgence "))
    assert resurgence.count("%") == 2
    peak = next(line for line in out.splitlines() if line.startswith("isis_peak "))
    assert peak.count("[") == 2  # median [p05-p95] per scenario


def test_compare_needs_two_scenarios_and_reports_bad_ones(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["compare", str(BASELINE), "--quiet"]) == 2
    assert "at least two scenarios" in capsys.readouterr().err
    (tmp_path / "bad.yaml").write_text("levers: {aid: lots}\n")
    assert main(["compare", str(BASELINE), "bad.yaml", "--quiet"]) == 2
    assert capsys.readouterr().err.startswith("iraqsim: error: bad.yaml: levers.aid:")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.yaml"]


# ---------------------------------------------------------------------- validate, schema, list
def test_validate_accepts_the_whole_library(capsys):
    files = sorted(str(p) for p in LIBRARY.glob("*.yaml"))
    assert len(files) >= 6
    assert main(["validate", *files]) == 0
    out = capsys.readouterr().out
    assert out.count("\nok ") + out.startswith("ok ") == len(files)
    assert main(["validate", str(LIBRARY)]) == 0  # a folder: every *.yaml under it, subfolders too
    assert capsys.readouterr().out.count("ok ") == len(list(LIBRARY.rglob("*.yaml")))


def test_validate_reports_each_bad_file_and_exits_2(tmp_path, capsys):
    (tmp_path / "good.yaml").write_text("name: good\n")
    (tmp_path / "bad.yaml").write_text("name: bad\nhorizon: 3\n")
    assert main(["validate", str(tmp_path / "good.yaml"), str(tmp_path / "bad.yaml"),
                 str(tmp_path / "gone.yaml")]) == 2
    captured = capsys.readouterr()
    assert captured.out.startswith("ok ")
    err = captured.err.splitlines()
    assert len(err) == 2
    assert "bad.yaml: horizon: unknown key; did you mean 'horizon_months'?" in err[0]
    assert "gone.yaml: no such file" in err[1]


def test_library_scenarios_have_descriptions_with_evidence_and_use_extends():
    required = ["baseline", "phased_exit", "rapid_exit", "conditions_based", "over_the_horizon",
                "kurdistan_residual"]
    import re
    for name in required:
        path = LIBRARY / f"{name}.yaml"
        sc = load_scenario(path)
        assert sc.name == name
        assert len(sc.description) > 100 and re.search(r"\b[A-Z]{2,5}\d{2}-\d{2}\b", sc.description), name
        if name != "baseline":
            raw = yaml.safe_load(path.read_text())
            assert raw.get("extends") == "baseline.yaml", name
            # the inherited calibrated uncertainties are kept
            assert set(load_scenario(BASELINE).uncertain_parameters()) <= set(sc.uncertain_parameters())
    kinds = {load_scenario(LIBRARY / f"{n}.yaml").levers.posture.kind for n in required}
    assert kinds == {"hold", "waypoints", "rapid_exit", "conditions_based", "over_the_horizon",
                     "kurdistan_residual"}
    extra = set(load_scenario(LIBRARY / "phased_exit.yaml").uncertain_parameters()) - \
        set(load_scenario(BASELINE).uncertain_parameters())
    assert extra  # adds uncertain parameters of its own


def test_every_library_claim_id_exists():
    import re
    claims = yaml.safe_load((LIBRARY.parent / "seeds" / "claims.yaml").read_text()) \
        if (LIBRARY.parent / "seeds" / "claims.yaml").is_file() else None
    if claims is None:
        pytest.skip("evidence base not in this tree")
    known = {c["id"] for c in claims["claims"]}
    for path in LIBRARY.glob("*.yaml"):
        for cid in re.findall(r"\b[A-Z]{2,5}\d{2}-\d{2}\b", path.read_text()):
            assert cid in known, f"{path.name} cites unknown claim {cid}"


def test_schema_lists_every_parameter_and_validates_the_library(capsys):
    from sim.model.parameters import PARAMETERS
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    params = schema["properties"]["parameters"]
    assert set(params["properties"]) == set(PARAMETERS)
    assert params["additionalProperties"] is False
    growth = params["properties"]["isis.growth_rate"]
    assert "per month" in growth["description"]
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for path in LIBRARY.rglob("*.yaml"):
        errors = [e.message for e in validator.iter_errors(yaml.safe_load(path.read_text()))]
        assert not errors, (path.name, errors[:2])
    assert list(validator.iter_errors({"parameters": {"isis.growth": 0.1}}))  # editors flag unknown names
    assert list(validator.iter_errors({"horizon_month": 12}))
    assert list(validator.iter_errors({"parameters": {"isis.growth_rate": 5}}))  # out of bounds


def test_schema_out_writes_a_file(tmp_path, capsys):
    assert main(["schema", "--out", str(tmp_path / "s.json")]) == 0
    assert json.loads((tmp_path / "s.json").read_text())["title"].startswith("iraqsim")
    assert main(["schema", "--out", str(tmp_path / "no" / "s.json")]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_list_shows_every_library_scenario_with_a_description(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for path in LIBRARY.rglob("*.yaml"):
        name = path.relative_to(LIBRARY).with_suffix("").as_posix()
        line = next((ln for ln in out.splitlines() if ln.split(" ")[0] == name), None)
        assert line is not None, name
        assert len(line) > len(name) + 10 and "INVALID" not in line, line


def test_list_names_work_as_scenario_arguments(capsys):
    assert main(["list"]) == 0
    names = [ln.split()[0] for ln in capsys.readouterr().out.splitlines()[1:] if ln and not ln.endswith("/")]
    assert main(["validate", *names]) == 0




def test_the_yaml_examples_in_the_scenario_guide_are_valid(tmp_path):
    import re
    import shutil
    guide = LIBRARY.parent / "docs" / "scenarios.md"
    if not guide.is_file():
        pytest.skip("docs/ are not beside this checkout")
    blocks = re.findall(r"```yaml\n(.*?)```", guide.read_text(), flags=re.S)
    assert len(blocks) >= 2
    shutil.copy(BASELINE, tmp_path / "baseline.yaml")
    for i, block in enumerate(blocks):
        text = "\n".join(line[3:] if line.startswith("   ") else line for line in block.splitlines())
        (tmp_path / f"example{i}.yaml").write_text(text)
        load_scenario(tmp_path / f"example{i}.yaml")  # raises ScenarioError if the guide is wrong


def test_a_path_the_file_system_refuses_is_one_line_and_exit_2(tmp_path, capsys):
    """/proc looks writable to root but refuses new folders: one line, no traceback, nothing written."""
    from sim.cli import main
    code = main(["report", str(BASELINE), "-o", "/proc/iraqsim-test/r.html",
                 "--runs", "10"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 and "/proc/iraqsim-test" in err and "Traceback" not in err


def test_writing_a_result_or_a_comparison_reports_each_step(tmp_path):
    """Large jobs show a 'writing' bar after the engine's: it counts every file and figure."""
    import sim
    from sim.reporting.save import FIGURES, write_into
    res = sim.run(load_scenario(LIBRARY / "baseline.yaml").with_changes(horizon_months=6), runs=50,
                  seed=1, progress=False)
    steps = []
    (tmp_path / "r").mkdir()
    write_into(res, tmp_path / "r", progress=steps.append)
    assert steps == [1] * (res.FILES + FIGURES) and (tmp_path / "r" / "plots" / "trajectories.png").is_file()
    steps.clear()
    (tmp_path / "c").mkdir()
    both = sim.compare([res.scenario, res.scenario.with_changes(name="again")], runs=50, seed=1,
                       progress=False)
    write_into(both, tmp_path / "c", progress=steps.append)
    assert steps == [1] * (both.FILES + FIGURES) and (tmp_path / "c" / "plots" / "trajectories.png").is_file()


def test_a_comparison_saved_from_python_is_what_the_command_writes_and_prints(tmp_path, capsys):
    """``sim.save(sim.compare(...))`` writes the folder ``iraqsim compare`` writes, and
    ``side_by_side()`` is the table it prints."""
    import sim
    from sim.cli import main
    paths = [LIBRARY / "baseline.yaml", LIBRARY / "rapid_exit.yaml"]
    assert main(["compare", *map(str, paths), "--runs", "300", "--seed", "4", "--out",
                 str(tmp_path / "cli")]) == 0
    printed = capsys.readouterr().out
    comparison = sim.compare([sim.load_scenario(p) for p in paths], runs=300, seed=4, progress=False)
    sim.save(comparison, tmp_path / "py")
    files = sorted(p.relative_to(tmp_path / "cli").as_posix() for p in (tmp_path / "cli").rglob("*"))
    assert files == sorted(p.relative_to(tmp_path / "py").as_posix() for p in (tmp_path / "py").rglob("*"))
    assert "plots/trajectories.png" in files
    assert (tmp_path / "cli" / "comparison.csv").read_bytes() == (tmp_path / "py" / "comparison.csv").read_bytes()
    assert comparison.side_by_side().to_string() in printed


def test_replacing_a_result_of_another_job_says_so_in_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["run", "baseline", "--runs", "100", "--out", "r", "--quiet"]) == 0
    assert capsys.readouterr().err == ""
    assert main(["run", "baseline", "--runs", "100", "--out", "r", "--quiet"]) == 0
    assert capsys.readouterr().err == ""  # the same job again: nothing to say
    assert main(["run", "baseline", "--runs", "50", "--out", "r", "--quiet"]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "baseline, 100 runs" in err[0] and "baseline, 50 runs" in err[0]


def test_a_deferred_package_runs_its_init_only_when_asked_for_a_name(tmp_path, monkeypatch):
    """``sim._lazy.defer_package_init``: submodules import without the package's ``__init__``;
    the first name asked of the package runs it, in the same module object."""
    from sim._lazy import defer_package_init
    package = tmp_path / "heavypkg"
    package.mkdir()
    (package / "__init__.py").write_text("import sys\nsys.heavypkg_loaded = True\n"
                                         "from heavypkg.core import Core\nEXTRA = 'everything'\n")
    (package / "core.py").write_text("class Core:\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delattr(sys, "heavypkg_loaded", raising=False)
    try:
        defer_package_init("heavypkg")
        from heavypkg.core import Core
        assert not hasattr(sys, "heavypkg_loaded")  # the submodule came alone
        import heavypkg
        assert heavypkg.EXTRA == "everything" and heavypkg.Core is Core
        assert sys.heavypkg_loaded
        defer_package_init("heavypkg")  # already imported: nothing changes
        assert sys.modules["heavypkg"] is heavypkg
    finally:
        for name in ("heavypkg", "heavypkg.core"):
            sys.modules.pop(name, None)
        monkeypatch.delattr(sys, "heavypkg_loaded", raising=False)


def test_the_command_runs_the_model_without_the_rest_of_mesa_and_scipy_special(tmp_path):
    """``iraqsim run`` needs Mesa's ``Model`` and ``Agent`` and three of SciPy's special
    functions: Mesa's spaces, batch runner, networkx, SciPy's spatial package, the rest of
    ``scipy.special`` (~0.8 s at start) and ``scipy.linalg`` beyond the BLAS module numba asks
    for are never loaded."""
    code = ("import sys, sim.cli\n"
            "code = sim.cli.main(['run', 'baseline', '--runs', '100', '--quiet', '--out', 'res'])\n"
            "print(code, sorted(m for m in ('mesa.space', 'mesa.batchrunner', 'networkx', "
            "'scipy.spatial', 'scipy.special._basic', 'scipy.linalg._basic') if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "0 []"
    assert (tmp_path / "res" / "outcomes.parquet").is_file()


def test_the_console_script_exits_without_collecting_the_libraries_objects_again(tmp_path):
    # Python's exit looks for cycles among all objects; the command hides them from the
    # collector first (``sim.cli.command``). The last full collection at exit must find them
    # frozen, and the installed script and `python -m sim` must both go through `command`.
    import tomllib
    scripts = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    assert scripts["project"]["scripts"]["iraqsim"] == "sim.cli:command"
    probe = ("import gc, os, sys, runpy\n"
             "def seen(phase, info):\n"
             "    if phase == 'start' and info['generation'] == 2:\n"
             "        os.write(2, b'frozen %d\\n' % gc.get_freeze_count())\n"
             "gc.callbacks.append(seen)\n"
             "sys.argv = ['iraqsim', 'validate', 'baseline']\n"
             "runpy.run_module('sim', run_name='__main__')\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    frozen = [int(line.split()[1]) for line in done.stderr.splitlines() if line.startswith("frozen")]
    assert frozen and frozen[-1] > 50_000, done.stderr  # pydantic, numpy, the model...


def test_main_called_from_a_program_leaves_the_garbage_collector_alone(capsys):
    import gc
    frozen = gc.get_freeze_count()
    assert main(["list"]) == 0
    assert gc.isenabled() and gc.get_freeze_count() == frozen


@pytest.mark.parametrize("chosen", [None, "3"])
def test_the_console_script_runs_openblas_on_one_thread_unless_the_user_chose(chosen, monkeypatch, capsys):
    import gc
    from sim.cli import BLAS_THREADS, command
    for name in BLAS_THREADS:
        monkeypatch.delenv(name, raising=False)
    if chosen:
        monkeypatch.setenv("OMP_NUM_THREADS", chosen)
    try:
        assert command(["list"]) == 0
    finally:
        gc.unfreeze()
    assert os.environ.get("OPENBLAS_NUM_THREADS") == (None if chosen else "1")
    assert os.environ.get("OMP_NUM_THREADS") == chosen
