"""Classroom exercises (sim.exercises, `iraqsim exercises`): scenarios, commands and generated keys.

Runs use a small engine block (``sim.engine.BLOCK_SIZE`` patched to 64) and 64 runs per
scenario, so the whole file stays quick; the code paths are those of a full build.
"""

from __future__ import annotations

import os
import re

import numpy as np
import pandas as pd
import pytest

import sim
from sim.teaching import answers
from sim.teaching import exercises as ex
from sim.cli import main
from sim.reporting.evidence import MECHANISMS, claims

RUNS = 64


@pytest.fixture
def small_blocks(monkeypatch):
    monkeypatch.setattr("sim.engine.blocks.BLOCK_SIZE", RUNS)


def test_five_exercises_with_valid_scenarios_and_evidence():
    assert sorted(ex.EXERCISES) == [1, 2, 3, 4, 5]
    known = claims()
    for e in ex.EXERCISES.values():
        names = [sim.load_scenario(p).name for p in e.scenario_paths()]
        assert len(set(names)) == len(names) >= 3, e.title
        assert e.goals and len(e.questions) >= 5
        assert set(e.mechanisms) <= set(MECHANISMS)
        assert set(e.evidence) <= set(known), set(e.evidence) - set(known)
        for cited in re.findall(r"\b[A-Z]{2,5}\d{2}-\d{2}\b", e.story):
            assert cited in known, f"exercise {e.number} cites unknown {cited}"


def test_exercise_scenarios_change_one_thing_from_their_reference():
    """Exercises 2-4 are controlled comparisons: each scenario differs from the first in one place."""
    for number in (2, 3, 4):
        paths = ex.get_exercise(number).scenario_paths()
        ref = sim.load_scenario(paths[0]).resolved()
        for path in paths[1:]:
            other = sim.load_scenario(path).resolved()
            changed = [k for k in ref if k not in ("name", "description") and ref[k] != other[k]]
            if changed == ["levers"]:
                changed = [k for k in ref["levers"] if ref["levers"][k] != other["levers"][k]]
            elif changed == ["parameters"]:
                changed = [k for k in ref["parameters"] if ref["parameters"][k] != other["parameters"][k]]
            elif changed == ["events"]:
                changed = [e for e in other["events"] if e not in ref["events"]]
            assert len(changed) == 1, f"{path.name} changes {changed}"


def test_list_and_show_print_the_exercises(capsys):
    assert main(["exercises", "list"]) == 0
    out = capsys.readouterr().out
    for e in ex.EXERCISES.values():
        assert e.title in out
    assert main(["exercises", "show", "2"]) == 0
    sheet = capsys.readouterr().out
    e = ex.get_exercise(2)
    assert e.title in sheet and "iraqsim exercises run 2" in sheet
    for i, q in enumerate(e.questions, 1):
        assert f"{i}. {q.text}" in sheet
    assert "Teaching note" not in sheet  # the key stays with the instructor


@pytest.mark.parametrize("argv, needle", [
    (["exercises", "show", "9"], "no exercise 9"),
    (["exercises", "run", "0"], "no exercise 0"),
    (["exercises", "run", "1", "--runs", "0"], "--runs"),
    (["exercises", "run", "1", "--add", "nowhere.yaml"], "nowhere.yaml"),
    (["exercises", "build", "--only", "7"], "no exercise 7"),
    (["exercises", "run", "1", "--dask", "tcp://"], "--dask"),
])
def test_bad_requests_are_one_line_exit_2(argv, needle, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and needle in err and "Traceback" not in err
    assert os.listdir(tmp_path) == []


def test_run_1_from_any_folder_writes_figures_and_says_where(small_blocks, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # nothing but the installed package is needed
    assert main(["exercises", "run", "1", "--runs", str(RUNS)]) == 0
    out = capsys.readouterr().out
    folder = tmp_path / "results" / "exercises" / "1"
    assert f"wrote {os.path.join('results', 'exercises', '1')}/" in out
    figures = sorted((folder / "figures").glob("*.png"))
    assert [f.stem for f in figures] == sorted(ex.get_exercise(1).figures)
    for f in figures:
        assert str(f.relative_to(tmp_path)) in out
        assert f.read_bytes()[:4] == b"\x89PNG"
    assert (folder / "report.html").stat().st_size > 10_000
    table = pd.read_csv(folder / "table.csv")
    direct = sim.run(sim.load_scenario(ex.exercise_dir() / "ex1_rapid.yaml"), runs=RUNS,
                     seed=2024, progress=False).outcomes
    row = table[(table.scenario == "ex1-rapid") & (table.outcome == "isis_peak")].iloc[0]
    assert row["p50"] == pytest.approx(float(np.quantile(direct["isis_peak"], 0.5)))
    assert not [p for p in (tmp_path / "results" / "exercises").iterdir() if p.name.startswith(".")]


def test_build_regenerates_sheets_and_keys_from_real_runs(small_blocks, tmp_path, capsys):
    out = tmp_path / "docs"
    assert main(["exercises", "build", "--runs", str(RUNS), "--only", "1", "5", "--out", str(out)]) == 0
    assert "exercise 5" in capsys.readouterr().out
    for number in (1, 5):
        e = ex.get_exercise(number)
        key = (out / "keys" / f"{e.stem}.md").read_text()
        assert (out / f"{e.stem}.md").read_text().startswith("<!-- Generated")
        assert f"--runs {RUNS} --seed 2024" in key
        for name in e.figures:
            assert f"]({e.stem}/{name}.png)" in key
            assert (out / "keys" / e.stem / f"{name}.png").stat().st_size > 1000
        assert len(re.findall(r"^### \d+\. ", key, flags=re.M)) == len(e.questions)
        assert not re.search(r"\bnan\b", key, flags=re.I)
    # the key's numbers are those of a direct run of the same scenario, runs and seed
    direct = sim.run(sim.load_scenario(ex.exercise_dir() / "ex1_phased.yaml"), runs=RUNS,
                     seed=2024, progress=False).outcomes
    key1 = (out / "keys" / "01-the-2011-lesson.md").read_text()
    p, lo, hi = answers.probability_interval(direct["resurgence"])
    assert f"**ex1-phased**: {p:.2f} (90% interval {lo:.2f}–{hi:.2f})" in key1
    robust = pd.read_csv(out / "keys" / "05-design-your-own-drawdown" / "robustness.csv")
    assert set(robust["scenario"]) == set(sim.load_scenario(p).name
                                          for p in ex.get_exercise(5).scenario_paths())
    assert "## Robustness table" in (out / "keys" / "05-design-your-own-drawdown.md").read_text()
    assert (out / "README.md").exists()
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_every_key_renders_its_generated_answers(small_blocks):
    cache = ex.ResultsCache()
    for e in ex.EXERCISES.values():
        comp, _ = ex.run_comparison(e, runs=RUNS, cache=cache, progress=False)
        key = ex.render_key(e, comp, {}, RUNS, 2024)
        for q in e.questions:
            assert q.text in key
        answered = sum(q.answer is not None for q in e.questions)
        assert key.count("*Discussion question: no generated answer.*") == len(e.questions) - answered
        for name in comp.names:
            assert name in key


def test_paired_difference_direction_follows_the_interval():
    class Fake:
        def __init__(self, frames):
            self.names = list(frames)
            self.results = [type("R", (), {"outcomes": f})() for f in frames.values()]
    rng = np.random.default_rng(0)
    base = rng.normal(size=400)
    comp = Fake({"a": pd.DataFrame({"run": range(400), "x": base}),
                 "b": pd.DataFrame({"run": range(400), "x": base + 0.5 + 0.1 * rng.normal(size=400)}),
                 "c": pd.DataFrame({"run": range(400), "x": base + 0.001 * rng.normal(size=400)})})
    up = answers.paired_difference(comp, "a", "b", "x")
    assert answers.direction_word(up) == "higher" and up["low"] > 0.4
    assert answers.direction_word(answers.paired_difference(comp, "b", "a", "x")) == "lower"
    assert answers.direction_word(answers.paired_difference(comp, "a", "c", "x")) == "not clearly different"


def test_copy_makes_editable_scenarios_that_load_anywhere(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["exercises", "copy", "2"]) == 0
    folder = tmp_path / "exercise-2"
    files = sorted(p.name for p in folder.iterdir())
    assert files == sorted(ex.get_exercise(2).scenarios)
    none = (folder / "ex2_none.yaml").read_text()
    assert re.search(r"^extends: ex2_proportional.yaml$", none, flags=re.M)  # sibling stays relative
    proportional = (folder / "ex2_proportional.yaml").read_text()
    assert re.search(r"^extends: baseline$", proportional, flags=re.M)  # the library, by name
    for path in folder.iterdir():
        copied, packaged = sim.load_scenario(path), sim.load_scenario(ex.exercise_dir() / path.name)
        assert copied.sha256() == packaged.sha256()
    capsys.readouterr()
    assert main(["exercises", "copy", "2"]) == 2  # no silent overwrite
    assert "already exists" in capsys.readouterr().err


def test_an_added_scenario_replaces_the_one_of_its_name(tmp_path):
    e = ex.get_exercise(5)
    mine = tmp_path / "mine.yaml"
    starter = e.scenario_paths()[0]
    mine.write_text(f"name: ex5-my-drawdown\nextends: {starter}\nlevers:\n  aid: high\n")
    other = tmp_path / "other.yaml"
    other.write_text(f"name: something-else\nextends: {starter}\n")
    scenarios, paths = ex.exercise_scenarios(e, [mine, other])
    assert [s.name for s in scenarios][:len(e.scenarios)] == [sim.load_scenario(p).name
                                                              for p in e.scenario_paths()]
    assert scenarios[0].levers.aid.value == "high" and paths[0] == str(mine)
    assert scenarios[-1].name == "something-else" and len(scenarios) == len(e.scenarios) + 1


def test_committed_instructor_keys_match_a_fresh_build(tmp_path):
    """The keys in docs/exercises come from the model as it is now: a change of results that
    forgets ``iraqsim exercises build`` fails here. Key text must match exactly; tables to 1e-6
    (numpy's SIMD ``exp``/``log`` may differ in the last bit on another kind of CPU); figures
    are not compared (their bytes depend on the matplotlib version)."""
    from pathlib import Path
    committed = Path(__file__).resolve().parents[1] / "docs" / "exercises"
    if not committed.is_dir():
        pytest.skip("needs the source tree's docs/exercises")
    ex.build_keys(tmp_path)
    fresh = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")
                   if p.suffix in (".md", ".csv"))
    assert fresh, "the build wrote no keys"
    for rel in fresh:
        stale = f"docs/exercises/{rel} is stale: run `iraqsim exercises build`"
        if rel.suffix == ".csv":
            pd.testing.assert_frame_equal(pd.read_csv(committed / rel), pd.read_csv(tmp_path / rel),
                                          rtol=1e-6, obj=stale)
        else:
            assert (committed / rel).read_text() == (tmp_path / rel).read_text(), stale


@pytest.mark.parametrize("edit, key", [
    (lambda d: d["questions"][0].update(answer="no_such_answer"), "questions.0.answer"),
    (lambda d: d["questions"][0].update(answer={"kind": "rank", "outcome": "x", "bogus": 1}), "questions.0.answer"),
    (lambda d: d.update(figures={"f": "no_such_figure"}), "figures"),
    (lambda d: d.update(outcomes=["no_such_outcome"]), "outcomes"),
    (lambda d: d.update(colour="blue"), "colour"),
])
def test_a_bad_exercise_file_is_one_error_naming_the_file_and_the_key(tmp_path, edit, key):
    """The course text is data: a mistake in it is caught when the exercises load."""
    import yaml
    from sim.scenario import ScenarioError
    data = yaml.safe_load((ex.COURSE / f"{ex.get_exercise(1).stem}.yaml").read_text())
    assert ex.load_exercises(ex.COURSE)[1].title == data["title"]  # the shipped files load
    edit(data)
    (tmp_path / "01.yaml").write_text(yaml.safe_dump(data))
    with pytest.raises(ScenarioError) as caught:
        ex.load_exercises(tmp_path)
    assert caught.value.source.endswith("01.yaml") and caught.value.key == key
