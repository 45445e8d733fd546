"""Bad scenario files get one clear line, exit code 2, no traceback and nothing written.

The corpus lives in ``tests/bad_scenarios/``; each file says what is wrong in its first comment
and ``EXPECTED`` below says which key path (or phrase) the message must name. Every corpus file
must be listed here, so a new bad file cannot be added without its expectation.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sim.cli import main
from sim.scenario import ScenarioError, load_scenario, scenario_from_dict

CORPUS = Path(__file__).parent / "bad_scenarios"

#: file -> (file named in the message, text the message must contain after the file name)
EXPECTED: dict[str, tuple[str, str]] = {
    "malformed_yaml.yaml": ("malformed_yaml.yaml", "malformed YAML at line 5"),
    "tab_indent.yaml": ("tab_indent.yaml", "malformed YAML at line 4"),
    "python_tag.yaml": ("python_tag.yaml", "malformed YAML at line 2"),
    "duplicate_key.yaml": ("duplicate_key.yaml", "runs: given twice (lines 2 and 4)"),
    "not_utf8.yaml": ("not_utf8.yaml", "is not UTF-8 text"),
    "empty.yaml": ("empty.yaml", "the file is empty"),
    "comments_only.yaml": ("comments_only.yaml", "the file is empty"),
    "top_level_list.yaml": ("top_level_list.yaml", "must be a mapping of keys (key: value lines), not a list"),
    "top_level_scalar.yaml": ("top_level_scalar.yaml", "must be a mapping of keys (key: value lines), not plain text"),
    "non_string_key.yaml": ("non_string_key.yaml", "2024: keys must be text"),
    "unknown_top_key.yaml": ("unknown_top_key.yaml", "horizon_month: unknown key; did you mean 'horizon_months'?"),
    "unknown_nested_key.yaml": ("unknown_nested_key.yaml", "levers.postur: unknown key; did you mean 'posture'?"),
    "unknown_posture_field.yaml": ("unknown_posture_field.yaml", "levers.posture.trops: unknown key; did you mean 'troops'?"),
    "unknown_outcome_key.yaml": ("unknown_outcome_key.yaml",
                                 "outcomes.resurgence_treshold: unknown key; did you mean 'resurgence_threshold'?"),
    "unknown_event_field.yaml": ("unknown_event_field.yaml", "events.0.lenght: unknown key; allowed: month"),
    "wrong_type_horizon.yaml": ("wrong_type_horizon.yaml", "horizon_months: must be a whole number (got 'sixty')"),
    "wrong_type_runs.yaml": ("wrong_type_runs.yaml", "runs: must be a whole number (got 10.5)"),
    "wrong_type_levers.yaml": ("wrong_type_levers.yaml", "levers: must be a mapping"),
    "horizon_too_short.yaml": ("horizon_too_short.yaml", "horizon_months: must be greater than or equal to 2"),
    "negative_seed.yaml": ("negative_seed.yaml", "seed: must be greater than or equal to 0"),
    "negative_troops.yaml": ("negative_troops.yaml", "levers.posture.troops: must be greater than or equal to 0"),
    "param_out_of_range.yaml": ("param_out_of_range.yaml",
                                "parameters.isis.growth_rate: 50 is out of range; allowed 0 to 0.3 (per month)"),
    "param_unknown.yaml": ("param_unknown.yaml",
                           "parameters.isis.growth: unknown parameter; did you mean 'isis.growth_rate'?"),
    "param_text_value.yaml": ("param_text_value.yaml",
                              "parameters.isis.growth_rate: must be a number or a distribution"),
    "param_not_mapping.yaml": ("param_not_mapping.yaml", "parameters: must be a mapping"),
    "inverted_uniform.yaml": ("inverted_uniform.yaml", "parameters.isis.growth_rate: low (0.08) must be below high (0.02)"),
    "inverted_truncnormal.yaml": ("inverted_truncnormal.yaml",
                                  "parameters.isf.decay_without_support: low (0.05) must be below high (0.01)"),
    "triangular_mode_outside.yaml": ("triangular_mode_outside.yaml",
                                     "parameters.isis.growth_rate: need low <= mode <= high"),
    "unknown_dist.yaml": ("unknown_dist.yaml", "parameters.isis.growth_rate.dist: unknown dist 'gamma'; allowed:"),
    "dist_missing_field.yaml": ("dist_missing_field.yaml", "parameters.isis.growth_rate.sd: required key is missing"),
    "dist_negative_sd.yaml": ("dist_negative_sd.yaml", "parameters.isis.growth_rate.sd: must be greater than 0"),
    "dist_missing_dist.yaml": ("dist_missing_dist.yaml", "parameters.isis.growth_rate: missing dist; allowed: uniform"),
    "dist_outside_bounds.yaml": ("dist_outside_bounds.yaml",
                                 "parameters.init.isf_capability: the distribution reaches 0.5..1.5, outside the allowed 0 to 1"),
    "choice_weights_mismatch.yaml": ("choice_weights_mismatch.yaml",
                                     "parameters.exit.negotiation_months: weights must have one entry per value"),
    "missing_extends.yaml": ("missing_extends.yaml", "extends: 'no_such_parent.yaml' does not exist"),
    "extends_cycle_a.yaml": ("extends_cycle_b.yaml", "extends: extends forms a cycle: extends_cycle_a.yaml -> "
                                                     "extends_cycle_b.yaml -> extends_cycle_a.yaml"),
    "extends_cycle_b.yaml": ("extends_cycle_a.yaml", "extends: extends forms a cycle"),
    "extends_self.yaml": ("extends_self.yaml", "extends: extends forms a cycle: extends_self.yaml -> extends_self.yaml"),
    "extends_not_text.yaml": ("extends_not_text.yaml", "extends: must be the path of another scenario file"),
    "extends_bad_parent.yaml": ("parents/bad_parent.yaml", "horizon_months: must be greater than or equal to 2"),
    "bad_posture_kind.yaml": ("bad_posture_kind.yaml", "levers.posture.kind: unknown kind 'stay_forever'; allowed: 'hold'"),
    "posture_missing_kind.yaml": ("posture_missing_kind.yaml", "levers.posture: missing kind; allowed: hold"),
    "bad_retaliation.yaml": ("bad_retaliation.yaml", "levers.retaliation: 'nuclear' is not allowed; allowed: 'none'"),
    "bad_aid.yaml": ("bad_aid.yaml", "levers.aid: 'lavish' is not allowed; allowed: 'none'"),
    "waypoints_not_increasing.yaml": ("waypoints_not_increasing.yaml",
                                      "levers.posture.points: waypoint months must be strictly increasing"),
    "waypoints_bad_point.yaml": ("waypoints_bad_point.yaml", "levers.posture.points.0: must have at most 2 items"),
    "rapid_exit_residual.yaml": ("rapid_exit_residual.yaml", "levers.posture: rapid_exit leaves no residual"),
    "bad_start_month.yaml": ("bad_start_month.yaml", "start: start must be a month like 2024-01"),
    "start_wrong_type.yaml": ("start_wrong_type.yaml", "start: start must be a month like 2024-01"),
    "events_not_list.yaml": ("events_not_list.yaml", "events: must be a list"),
    "unknown_event_kind.yaml": ("unknown_event_kind.yaml", "events.0.kind: unknown kind 'coup'; allowed:"),
    "event_negative_month.yaml": ("event_negative_month.yaml", "events.1.month: must be greater than or equal to 0"),
    "militia_shares.yaml": ("militia_shares.yaml", "militias: militia shares must add up to 1 (they add up to 1.2)"),
    "threshold_negative.yaml": ("threshold_negative.yaml", "outcomes.resurgence_threshold: must be greater than 0"),
    "bad_name.yaml": ("bad_name.yaml", "name: must start with a letter or digit"),
}


def _corpus_files() -> list[str]:
    return sorted(p.name for p in CORPUS.glob("*.yaml"))


def test_the_corpus_is_large_and_every_file_has_an_expectation():
    files = _corpus_files()
    assert len(files) >= 30
    assert set(files) == set(EXPECTED), "add new corpus files to EXPECTED (and remove deleted ones)"
    for name in files:
        text = (CORPUS / name).read_bytes()
        if name not in ("empty.yaml", "not_utf8.yaml"):
            assert text.startswith(b"# expect:"), f"{name}: first line should say what is wrong"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bad_scenario_gives_one_line_exit_2_and_writes_nothing(name, tmp_path, monkeypatch, capsys):
    shown_file, expected = EXPECTED[name]
    monkeypatch.chdir(CORPUS)
    out = tmp_path / "out"
    code = main(["run", name, "--runs", "5", "--out", str(out), "--quiet"])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith(f"iraqsim: error: {shown_file}: "), lines[0]
    assert expected in lines[0], lines[0]
    assert "Traceback" not in captured.err
    assert list(tmp_path.iterdir()) == []  # no output folder, no temporary folder


@pytest.mark.parametrize("name", ["unknown_top_key.yaml", "extends_cycle_a.yaml", "malformed_yaml.yaml",
                                  "bad_posture_kind.yaml"])
def test_default_output_folder_is_not_created_either(name, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["run", str(CORPUS / name), "--quiet"]) == 2
    capsys.readouterr()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_validate_rejects_every_corpus_file(name, monkeypatch, capsys):
    monkeypatch.chdir(CORPUS)
    assert main(["validate", name]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and EXPECTED[name][1] in err


def test_file_problems_name_the_path_as_given(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "folder.yaml").mkdir()
    cases = {"missing.yaml": "iraqsim: error: missing.yaml: no such file",
             "folder.yaml": "iraqsim: error: folder.yaml: is a folder, not a scenario file",
             "sub/../missing.yaml": "iraqsim: error: sub/../missing.yaml: no such file"}
    for arg, expected in cases.items():
        assert main(["run", arg, "--quiet", "--out", "out"]) == 2
        err = capsys.readouterr().err
        assert err.startswith(expected) and err.count("\n") == 1, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder.yaml"]


def test_parent_file_is_named_relative_to_the_given_path(tmp_path, monkeypatch):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "child.yaml").write_text("extends: ../base.yaml\n")
    (tmp_path / "base.yaml").write_text("runs: -1\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ScenarioError) as err:
        load_scenario("a/child.yaml")
    assert str(err.value).startswith("base.yaml: runs: must be greater than or equal to 1")


def test_child_override_fixes_nothing_in_a_broken_parent_but_merges_into_a_good_one(tmp_path):
    (tmp_path / "base.yaml").write_text("levers: {posture: {kind: hold, troops: 2500}}\nruns: 50\n")
    (tmp_path / "child.yaml").write_text("extends: base.yaml\nlevers: {posture: {troops: 1000}}\n")
    sc = load_scenario(tmp_path / "child.yaml")
    assert sc.levers.posture.kind == "hold" and sc.levers.posture.troops == 1000 and sc.runs == 50


def test_yaml_merge_keys_are_not_duplicates(tmp_path):
    (tmp_path / "s.yaml").write_text(
        "outcomes: &o {resurgence_threshold: 9000}\n"
        "levers:\n  posture: &p {kind: hold, troops: 2000}\n  retaliation: none\n"
        "events:\n  - &war {kind: regional_war, month: 0}\n  - {<<: *war, month: 12}\n")
    sc = load_scenario(tmp_path / "s.yaml")
    assert [e.month for e in sc.events] == [0, 12]


def test_duplicate_keys_in_nested_mappings_are_refused(tmp_path):
    (tmp_path / "s.yaml").write_text("levers:\n  aid: low\n  aid: high\n")
    with pytest.raises(ScenarioError, match=r"aid: given twice \(lines 2 and 3\)"):
        load_scenario(tmp_path / "s.yaml")


def test_non_finite_distribution_values_are_refused():
    with pytest.raises(ScenarioError, match="parameters.isis.growth_rate.mean: must be a finite number"):
        scenario_from_dict({"parameters": {"isis.growth_rate": {"dist": "normal", "mean": float("nan"), "sd": 1}}})


def test_control_characters_in_keys_do_not_break_the_line():
    with pytest.raises(ScenarioError) as err:
        scenario_from_dict({"levers": {"a\nb": 1}}, "x.yaml")
    assert "\n" not in str(err.value) and "levers.a\\nb: unknown key" in str(err.value)


def _cli(*args, cwd):
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    return subprocess.run([sys.executable, "-m", "sim", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, env=env)


@pytest.mark.parametrize("args, expected", [
    (["run", "malformed_yaml.yaml"], "malformed_yaml.yaml: malformed YAML"),
    (["run", "param_unknown.yaml"], "parameters.isis.growth: unknown parameter"),
    (["validate", "extends_cycle_a.yaml", "bad_aid.yaml"], "levers.aid"),
])
def test_console_command_prints_no_traceback(args, expected, tmp_path):
    res = _cli(*args, "--quiet", cwd=CORPUS) if args[0] == "run" else _cli(*args, cwd=CORPUS)
    assert res.returncode == 2
    assert "Traceback" not in res.stderr
    assert expected in res.stderr
    if args[0] == "run":
        assert res.stderr.count("\n") == 1
    else:  # one line per bad file
        assert res.stderr.count("\n") == 2


def test_a_child_distribution_replaces_the_parents_whole_but_partial_edits_merge(tmp_path):
    (tmp_path / "base.yaml").write_text(
        "parameters:\n  isis.growth_rate: {from: posterior}\n"
        "  isis.attrition_rate: {dist: uniform, low: 0.11, high: 0.17}\n")
    (tmp_path / "child.yaml").write_text(
        "extends: base.yaml\nparameters:\n  isis.growth_rate: {dist: uniform, low: 0.03, high: 0.06}\n"
        "  isis.attrition_rate: {high: 0.2}\n")
    params = load_scenario(tmp_path / "child.yaml").parameters
    assert params["isis.growth_rate"].dist == "uniform" and params["isis.growth_rate"].high == 0.06
    assert (params["isis.attrition_rate"].low, params["isis.attrition_rate"].high) == (0.11, 0.2)


def test_library_names_work_in_load_scenario_and_extends_and_a_file_beside_wins(tmp_path, capsys):
    """``sim.load_scenario("baseline")``, ``extends: baseline``; a file beside the scenario of the
    same name is used instead of the library's, and ``validate`` says which one it used."""
    from sim.cli import main
    from sim.scenario.library import scenarios_dir
    assert load_scenario("baseline").name == "baseline"
    assert load_scenario("history/iraq_2011").start == load_scenario(
        scenarios_dir() / "history" / "iraq_2011.yaml").start
    mine = tmp_path / "mine.yaml"
    mine.write_text("name: mine\nextends: baseline\nlevers: {aid: high}\n")
    sc = load_scenario(mine)
    assert sc.levers.aid.value == "high" and sc.levers.posture.troops == 2500  # the library's
    assert main(["validate", str(mine)]) == 0
    assert "extends baseline from the library" in capsys.readouterr().out
    (tmp_path / "baseline.yaml").write_text("name: local\nlevers: {posture: {kind: hold, troops: 900}}\n")
    assert load_scenario(mine).levers.posture.troops == 900  # the file beside wins
    assert main(["validate", str(mine)]) == 0
    assert "not the library's baseline" in capsys.readouterr().out
    mine.write_text("name: mine\nextends: no_such_scenario\n")
    with pytest.raises(ScenarioError, match="in the scenario library"):
        load_scenario(mine)
