"""Classroom exercises: five policy dilemmas, their scenarios, and keys generated from real runs.

Each exercise puts students in the decision-maker's chair with a set of scenario files
(``scenarios/exercises/``, shipped in the package as well), learning goals, the commands to run
and questions. The instructor's key is *generated* by ``build_keys`` (``iraqsim exercises
build``): every number and figure in it comes from runs made at build time, and every sentence
that states a direction ("higher", "lower") is decided by the numbers, with a 90% interval from
the paired runs (common random numbers), so the key stays true when the model changes.

Commands (see ``sim.cli.exercises``)::

    iraqsim exercises list
    iraqsim exercises show 1
    iraqsim exercises run 1            # figures, tables and a report under results/exercises/1/
    iraqsim exercises copy 5           # editable copies of exercise 5's scenario files
    iraqsim exercises build            # regenerate docs/exercises (sheets and keys)
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from sim._version import __version__
from sim.engine.compare import Comparison
from sim.engine.engine import run
from sim.engine.io import current_umask, replace_dir, temp_sibling
from sim.model.outcomes import OUTCOME_COLUMNS, TRAJECTORY_VARIABLES, variable_name
from sim.reporting import evidence
from sim.reporting import report as rp
from sim.reporting.figures import save_figure
from sim.scenario.errors import ScenarioError, format_validation_error
from sim.scenario.library import scenarios_dir
from sim.scenario.loading import load_scenario
from sim.teaching.answers import (
    ExerciseError,
    answer_from,
    outcome_label,
    probability_interval,
    robustness_of,
)
from sim.teaching.figures import FIGURE_MAKERS

#: Runs per scenario for ``exercises run``: one engine block, so the cost is that of one run.
DEFAULT_RUNS = 4096
#: Runs per scenario for the keys (``exercises build``): one engine block.
KEY_RUNS = 10_000

def exercise_dir() -> Path:
    """Folder of the exercise scenario files (source tree or installed package)."""
    return scenarios_dir() / "exercises"


#: The exercises' text: one YAML file each, beside this module.
COURSE = Path(__file__).resolve().parent / "course"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Question(_Strict):
    """A question for students, the instructor's note, and an optional generated answer.

    Attributes:
        text: The question.
        note: What to look for; static text that states no numbers and no directions.
        answer: The generated answer (``sim.teaching.answers``): a name, or a mapping with a
            ``kind`` and its settings; none for questions only students answer.
    """

    text: str
    note: str = ""
    answer: str | dict | None = None

    @field_validator("answer")
    @classmethod
    def _known_answer(cls, spec):
        answer_from(spec)  # raises ValueError naming the allowed answers
        return spec

    def generated(self, comparison, exercise) -> str | None:
        """The generated answer (markdown) for this comparison, or None."""
        make = answer_from(self.answer)
        return None if make is None else make(comparison, exercise)


class Exercise(_Strict):
    """One classroom exercise, as its YAML file in ``sim/teaching/course/`` states it.

    Attributes:
        number: 1..5.
        slug: File-name part, e.g. ``the-2011-lesson``.
        title: Title.
        summary: One line for ``exercises list``.
        question: The decision question (also the report's question).
        story: The setting, citing evidence ids.
        goals: Learning goals.
        scenarios: Scenario file names in ``scenarios/exercises/``; the first is the reference.
        outcomes: Outcomes the exercise is about.
        variables: Trajectory variables drawn over time.
        questions: Questions with notes and generated answers.
        mechanisms: Mechanism ids (M1..M12) the exercise is about.
        evidence: Claim ids students should read.
        figures: Figures to draw: file name -> a figure maker of ``sim.teaching.figures``.
        robustness: Whether to compute the robustness table (exercise 5).
        extra_commands: More commands shown on the sheet (e.g. copying the starter).
    """

    number: int = Field(ge=1)
    slug: str = Field(pattern=r"^[a-z0-9-]+$")
    title: str
    summary: str
    question: str
    story: str
    goals: list[str]
    scenarios: list[str] = Field(min_length=1)
    outcomes: list[str]
    variables: list[str]
    questions: list[Question]
    mechanisms: list[str]
    evidence: list[str]
    figures: dict[str, str] = Field(default_factory=dict)
    robustness: bool = False
    extra_commands: list[tuple[str, str]] = Field(default_factory=list)

    @field_validator("outcomes")
    @classmethod
    def _known_outcomes(cls, names):
        unknown = [n for n in names if n not in OUTCOME_COLUMNS]
        if unknown:
            raise ValueError(f"unknown outcome {unknown[0]!r}; allowed: {', '.join(OUTCOME_COLUMNS)}")
        return names

    @field_validator("variables")
    @classmethod
    def _known_variables(cls, names):
        unknown = [n for n in names if variable_name(n) not in TRAJECTORY_VARIABLES]
        if unknown:
            raise ValueError(f"unknown trajectory variable {unknown[0]!r}; allowed: "
                             f"{', '.join(TRAJECTORY_VARIABLES)}")
        return [variable_name(n) for n in names]

    @field_validator("figures")
    @classmethod
    def _known_figures(cls, figures):
        unknown = [f for f in figures.values() if f not in FIGURE_MAKERS]
        if unknown:
            raise ValueError(f"unknown figure maker {unknown[0]!r}; allowed: {', '.join(FIGURE_MAKERS)}")
        return figures

    @property
    def stem(self) -> str:
        """``01-the-2011-lesson``: the name of its sheet, key and figure folder."""
        return f"{self.number:02d}-{self.slug}"

    def scenario_paths(self) -> list[Path]:
        """Paths of the exercise's scenario files."""
        return [exercise_dir() / name for name in self.scenarios]

    def figure_makers(self) -> dict:
        """File name -> figure function of (comparison, exercise)."""
        return {name: FIGURE_MAKERS[maker] for name, maker in self.figures.items()}


def load_exercises(folder: Path = COURSE) -> dict[int, Exercise]:
    """Read and validate every exercise file in ``folder``; numbered as their files say.

    Raises:
        ScenarioError: a file that is not valid YAML or does not fit the schema (one line
            naming the file and the key).
    """
    out = {}
    for path in sorted(folder.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        try:
            exercise = Exercise.model_validate(data)
        except ValidationError as exc:
            key, message = format_validation_error(exc, Exercise)
            raise ScenarioError(path, key, message) from None
        out[exercise.number] = exercise
    return dict(sorted(out.items()))


EXERCISES: dict[int, Exercise] = load_exercises()


def get_exercise(number: int) -> Exercise:
    """The exercise with this number, or ``ExerciseError`` naming the valid numbers."""
    try:
        return EXERCISES[int(number)]
    except (KeyError, ValueError, TypeError):
        raise ExerciseError(f"there is no exercise {number!r}; choose one of "
                            f"{', '.join(map(str, EXERCISES))} (see `iraqsim exercises list`)") from None


# ---------------------------------------------------------------------- running
class ResultsCache:
    """Results of scenario runs by (file, runs, seed), shared by the exercises of a build."""

    def __init__(self):
        self._store = {}

    def run(self, path: Path, scenario, runs: int, seed: int, **run_kwargs):
        """Run ``scenario`` (loaded from ``path``) or return the earlier result of the same run."""
        key = (str(Path(path).resolve()), scenario.sha256(), runs, seed)
        if key not in self._store:
            self._store[key] = run(scenario, runs=runs, seed=seed, **run_kwargs)
        return self._store[key]


def exercise_scenarios(exercise: Exercise, add: list[str | os.PathLike] = ()) -> tuple[list, list[str]]:
    """Load the exercise's scenarios plus ``add`` (an added scenario replaces one of its name).

    Returns:
        (scenarios, source paths as text).
    """
    paths = [str(p) for p in exercise.scenario_paths()]
    scenarios = [load_scenario(p) for p in paths]
    for extra in add:
        sc = load_scenario(extra)
        names = [s.name for s in scenarios]
        if sc.name in names:
            i = names.index(sc.name)
            scenarios[i], paths[i] = sc, str(extra)
        else:
            scenarios.append(sc)
            paths.append(str(extra))
    return scenarios, paths


def run_comparison(exercise: Exercise, runs: int | None = None, seed: int | None = None,
                   add=(), cache: ResultsCache | None = None, **run_kwargs):
    """Run an exercise's scenarios with common random numbers.

    Args:
        exercise: The exercise.
        runs: Runs per scenario (default ``DEFAULT_RUNS``).
        seed: Seed (default: the first scenario's).
        add: Extra scenario files (e.g. a student's design).
        cache: Reuse runs between exercises.
        **run_kwargs: Passed to ``sim.run`` (``workers``, ``progress``).

    Returns:
        (``sim.engine.Comparison``, source paths).
    """
    scenarios, paths = exercise_scenarios(exercise, add)
    runs = DEFAULT_RUNS if runs is None else int(runs)
    seed = scenarios[0].seed if seed is None else int(seed)
    cache = cache or ResultsCache()
    results = [cache.run(p, s, runs, seed, **run_kwargs) for p, s in zip(paths, scenarios)]
    return Comparison(results), paths


def outcome_table(comparison, outcomes) -> pd.DataFrame:
    """Machine-readable key numbers: one row per (scenario, outcome) with the summary stats."""
    rows = []
    for name, res in zip(comparison.names, comparison.results):
        for outcome in outcomes:
            s = res.summary["outcomes"][outcome]
            row = {"scenario": name, "outcome": outcome, "kind": s["kind"],
                   "runs": len(res.outcomes)}
            if s["kind"] == "probability":
                p, lo, hi = probability_interval(res.outcomes[outcome])
                row.update(mean=p, p05=None, p50=None, p95=None, low90=lo, high90=hi, n=len(res.outcomes))
            else:
                row.update({k: s.get(k) for k in ("mean", "p05", "p50", "p95")}, low90=None,
                           high90=None, n=s.get("n"))
            rows.append(row)
    return pd.DataFrame(rows)


def save_figures(comparison, exercise: Exercise, folder: Path, dpi: int = 96) -> dict[str, Path]:
    """Draw the exercise's figures into ``folder`` as PNG; name -> path."""
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, make in exercise.figure_makers().items():
        fig = make(comparison, exercise)
        path = folder / f"{name}.png"
        save_figure(fig, path, dpi)
        out[name] = path
    return out


@dataclass
class ExerciseRun:
    """What ``run_exercise`` wrote."""

    folder: Path
    figures: dict[str, Path]
    report: Path
    table: Path
    robustness: Path | None


def run_exercise(number: int, out: str | os.PathLike | None = None, runs: int | None = None,
                 seed: int | None = None, add=(), **run_kwargs) -> ExerciseRun:
    """Run exercise ``number`` and write its figures, table and report into ``out``.

    The folder (default ``results/exercises/<number>``) is replaced atomically: it holds
    ``figures/*.png``, ``table.csv`` (key numbers), ``report.html`` (the full self-contained
    report) and, for exercise 5, ``robustness.csv``.
    """
    exercise = get_exercise(number)
    comp, paths = run_comparison(exercise, runs, seed, add, **run_kwargs)
    target = Path(out) if out is not None else Path("results") / "exercises" / str(exercise.number)
    target.resolve().parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_sibling(target)
    try:
        save_figures(comp, exercise, tmp / "figures")
        outcome_table(comp, exercise.outcomes).to_csv(tmp / "table.csv", index=False)
        if exercise.robustness:
            robustness_of(comp, exercise.outcomes).to_csv(tmp / "robustness.csv", index=False)
        html = rp.build_report(comp, title=f"Exercise {exercise.number}: {exercise.title}",
                               question=exercise.question, sources=paths,
                               command=f"iraqsim exercises run {exercise.number} --runs "
                                       f"{comp.results[0].provenance['runs']} --seed "
                                       f"{comp.results[0].provenance['seed']}")
        rp.write_report(html, tmp / "report.html")
        replace_dir(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    figures = {p.stem: p for p in sorted((target / "figures").glob("*.png"))}
    return ExerciseRun(target, figures, target / "report.html", target / "table.csv",
                       target / "robustness.csv" if exercise.robustness else None)


# ---------------------------------------------------------------------- sheets and keys
#: The templates of the sheets, keys and index (markdown).
TEMPLATES = Path(__file__).resolve().parent / "templates"


def _env():
    env = rp.template_environment(TEMPLATES, autoescape=False)  # markdown, not HTML
    env.filters["label"] = outcome_label
    return env


def scenario_rows(exercise: Exercise) -> list[dict]:
    """Name, file and description of each of the exercise's scenarios."""
    rows = []
    for path in exercise.scenario_paths():
        sc = load_scenario(path)
        rows.append({"file": f"scenarios/exercises/{path.name}", "name": sc.name,
                     "description": " ".join(sc.description.split()),
                     "posture": rp.describe_posture(sc.levers.posture, sc),
                     "retaliation": sc.levers.retaliation.value, "aid": sc.levers.aid.value})
    return rows


def render_sheet(exercise: Exercise) -> str:
    """The student sheet (markdown): story, goals, scenarios, commands, questions."""
    cl = evidence.claims()
    return _env().get_template("exercise.md.j2").render(
        ex=exercise, scenarios=scenario_rows(exercise), default_runs=DEFAULT_RUNS,
        mechanisms=[(m, evidence.MECHANISMS[m]) for m in exercise.mechanisms],
        evidence=[(c, evidence.citation(c)) for c in exercise.evidence if c in cl])


def render_key(exercise: Exercise, comparison, figures: dict[str, str], runs: int, seed: int) -> str:
    """The instructor's key (markdown) with generated numbers, answers and figure links."""
    answers = [(q, q.generated(comparison, exercise)) for q in exercise.questions]
    table_rows = []
    for outcome in exercise.outcomes:
        table_rows.append({"outcome": outcome, "label": outcome_label(outcome),
                           "cells": [rp.format_outcome(r.summary["outcomes"][outcome], r.scenario)
                                     for r in comparison.results]})
    robustness = None
    if exercise.robustness:
        robustness = robustness_markdown(robustness_of(comparison, exercise.outcomes), comparison.names)
    return _env().get_template("exercise_key.md.j2").render(
        ex=exercise, names=comparison.names, table_rows=table_rows, answers=answers,
        figures=figures, runs=runs, seed=seed, version=__version__, robustness=robustness,
        hashes=[(n, r.scenario.sha256()[:12]) for n, r in zip(comparison.names, comparison.results)])


def robustness_markdown(table: pd.DataFrame, names: list[str]) -> str:
    """The robustness table as markdown: per outcome, each choice's expected, worst10, regret."""
    lines = ["| outcome | choice | expected | worst 10% | p90 regret | max regret | |",
             "|---|---|---:|---:|---:|---:|---|"]
    for outcome, grp in table.groupby("outcome", sort=False):
        grp = grp.set_index("scenario").loc[[n for n in names if n in set(grp["scenario"])]]
        for name, row in grp.iterrows():
            marks = []
            if row["best_expected"]:
                marks.append("best on average")
            if row["minimax_regret"]:
                marks.append("minimax regret")
            lines.append(f"| {outcome} | {name} | {rp.format_number(row['expected'])} | "
                         f"{rp.format_number(row['worst10'])} | {rp.format_number(row['p90_regret'])} | "
                         f"{rp.format_number(row['max_regret'])} | {', '.join(marks)} |")
    return "\n".join(lines)


def render_index() -> str:
    """``docs/exercises/README.md``: the list of exercises and how to use them."""
    return _env().get_template("exercises_index.md.j2").render(exercises=list(EXERCISES.values()),
                                                              key_runs=KEY_RUNS)


def build_keys(out: str | os.PathLike = "docs/exercises", runs: int | None = None,
               seed: int | None = None, only: list[int] | None = None, progress: bool | None = False,
               log: Callable[[str], None] | None = None) -> list[Path]:
    """Regenerate the exercise sheets and instructor keys from real runs.

    Writes, under ``out``: ``README.md`` (index), ``NN-slug.md`` (student sheets) and
    ``keys/NN-slug.md`` with ``keys/NN-slug/*.png`` and ``keys/NN-slug/table.csv``. Everything
    is built in a temporary folder first and moved into place file by file, so an interrupted
    build leaves the earlier keys intact.

    Args:
        out: Folder of the exercise documents.
        runs: Runs per scenario (default ``KEY_RUNS``).
        seed: Seed (default: each exercise's first scenario's).
        only: Exercise numbers to build (default: all).
        progress: Show progress bars of the runs.
        log: Called with a line per exercise built.

    Returns:
        The paths written.
    """
    runs = KEY_RUNS if runs is None else int(runs)
    numbers = list(EXERCISES) if not only else [get_exercise(n).number for n in only]
    target = Path(out)
    target.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".exercises.tmp-", dir=target))
    cache = ResultsCache()
    written: list[Path] = []
    try:
        (tmp / "keys").mkdir()
        _write_text(tmp / "README.md", render_index())
        moves = [("README.md", False)]
        for n in numbers:
            ex = EXERCISES[n]
            comp, _ = run_comparison(ex, runs, seed, cache=cache, progress=progress)
            used_seed = comp.results[0].provenance["seed"]
            fig_dir = tmp / "keys" / ex.stem
            figs = save_figures(comp, ex, fig_dir)
            outcome_table(comp, ex.outcomes).to_csv(fig_dir / "table.csv", index=False)
            if ex.robustness:
                robustness_of(comp, ex.outcomes).to_csv(fig_dir / "robustness.csv", index=False)
            rel = {name: f"{ex.stem}/{p.name}" for name, p in figs.items()}
            _write_text(tmp / "keys" / f"{ex.stem}.md", render_key(ex, comp, rel, runs, used_seed))
            _write_text(tmp / f"{ex.stem}.md", render_sheet(ex))
            moves += [(f"{ex.stem}.md", False), (f"keys/{ex.stem}.md", False), (f"keys/{ex.stem}", True)]
            if log:
                log(f"exercise {n}: {len(comp.names)} scenarios, {runs:,} runs each, {len(figs)} figures")
        (target / "keys").mkdir(exist_ok=True)
        for rel_path, is_dir in moves:
            src, dst = tmp / rel_path, target / rel_path
            if is_dir:
                replace_dir(src, dst)
            else:
                os.replace(src, dst)
            written.append(dst)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return written


def _write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")


# ---------------------------------------------------------------------- copies for students
_EXTENDS = re.compile(r"^(extends:\s*)(['\"]?)([^'\"\n#]+?)\2(\s*(#.*)?)$", re.MULTILINE)


def library_name(path: Path) -> str:
    """The library name of a scenario file in the library (``baseline``, ``history/iraq_2011``)."""
    return Path(path).resolve().relative_to(scenarios_dir().resolve()).with_suffix("").as_posix()


def copy_scenarios(number: int, dest: str | os.PathLike, force: bool = False) -> list[Path]:
    """Copy exercise ``number``'s scenario files into ``dest`` for students to edit.

    ``extends`` lines that point to a file copied along keep its name; others (the baseline) are
    rewritten to the library name (``extends: baseline``), so the copies load from anywhere and
    can be shared. Comments are kept.

    Raises:
        ExerciseError: If a file exists in ``dest`` and ``force`` is false.
    """
    exercise = get_exercise(number)
    dest = Path(dest)
    sources = exercise.scenario_paths()
    names = {p.name for p in sources}
    clashes = [dest / p.name for p in sources if (dest / p.name).exists()]
    if clashes and not force:
        raise ExerciseError(f"{clashes[0]}: already exists; edit it, choose another folder, "
                            "or pass --force to overwrite")
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    for src in sources:
        text = src.read_text(encoding="utf-8")

        def fix(match, src=src):
            ref = match.group(3).strip()
            parent = (src.parent / ref).resolve()
            if parent.parent == src.parent.resolve() and parent.name in names:
                new = parent.name
            else:
                new = library_name(parent)
            return f"{match.group(1)}{new}{match.group(4) or ''}"
        out = dest / src.name
        fd, tmp = tempfile.mkstemp(prefix=f".{src.name}.", dir=dest)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(_EXTENDS.sub(fix, text))
        os.chmod(tmp, 0o666 & ~current_umask())
        os.replace(tmp, out)
        written.append(out)
    return written


def trajectory_label(var: str) -> str:
    """Readable label of a trajectory variable."""
    return TRAJECTORY_VARIABLES[var].label
