"""Fuzz the scenario loader: whatever the file holds, the result is a Scenario or a ScenarioError.

Two kinds of input: random YAML text (including random bytes of valid scenario text) and random
mutations of valid scenarios (keys dropped, values replaced by values of any type, unknown keys
added, numbers pushed out of range). No model is run.
"""

from __future__ import annotations

import copy
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.scenario.library import scenarios_dir
from sim.scenario import Scenario, ScenarioError, load_scenario
from sim.scenario.errors import MAX_LINES

SETTINGS = settings(max_examples=200, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

_LIBRARY = sorted(p for p in scenarios_dir().glob("*.yaml"))
_RAW = {p.name: yaml.safe_load(p.read_text()) for p in _LIBRARY}
_TEXT = {p.name: p.read_text() for p in _LIBRARY}
_WORKDIR = Path(tempfile.mkdtemp(prefix="iraqsim-fuzz-"))
# a copy of the library next to the fuzzed file, so `extends: baseline.yaml` resolves
for _name, _text in _TEXT.items():
    (_WORKDIR / _name).write_text(_text)

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
    st.sampled_from(["uniform", "normal", "hold", "waypoints", "regional_war", "posterior",
                     "baseline.yaml", "2024-01", "proportional", "isis.growth_rate", "kind", "dist"]),
)
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4),
    st.dictionaries(st.one_of(st.text(max_size=8), st.sampled_from(
        ["kind", "dist", "low", "high", "mode", "mean", "sd", "points", "month", "troops", "from"])),
        inner, max_size=4)), max_leaves=12)


def _load_text(text: str):
    """Write ``text`` into the fuzz folder and load it; return the scenario or the error."""
    path = _WORKDIR / "fuzzed.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        return load_scenario(path)
    except ScenarioError as exc:
        lines = str(exc).splitlines()  # one line a problem, each naming the file
        assert 1 <= len(lines) <= MAX_LINES + 1, lines
        assert all(line.startswith(str(path)) for line in lines), lines
        return exc


def _paths(data, prefix=()):
    """Every (path) to a value inside nested dicts and lists."""
    yield prefix
    if isinstance(data, dict):
        for k, v in data.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from _paths(v, prefix + (i,))


def _parent(data, path):
    for part in path[:-1]:
        data = data[part]
    return data


@st.composite
def mutated_scenarios(draw):
    """A library scenario with one to three random edits."""
    name = draw(st.sampled_from(sorted(_RAW)))
    data = copy.deepcopy(_RAW[name])
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in _paths(data) if p]
        op = draw(st.sampled_from(["replace", "delete", "add", "scale"]))
        if not paths or op == "add":
            target = data if not paths else _parent(data, draw(st.sampled_from(paths)) + ("x",))
            if isinstance(target, dict):
                target[draw(st.text(min_size=1, max_size=10))] = draw(values)
            continue
        path = draw(st.sampled_from(paths))
        holder = _parent(data, path)
        if op == "delete":
            del holder[path[-1]]
        elif op == "scale" and isinstance(holder[path[-1]], (int, float)) and not isinstance(holder[path[-1]], bool):
            holder[path[-1]] = holder[path[-1]] * draw(st.sampled_from([-1, 0, 0.5, 10, 1e6]))
        else:
            holder[path[-1]] = draw(values)
    return data


def _check(outcome):
    assert isinstance(outcome, (Scenario, ScenarioError)), type(outcome)


@SETTINGS
@given(st.text(max_size=300))
def test_random_text_gives_a_scenario_or_a_scenario_error(text):
    _check(_load_text(text))


@SETTINGS
@given(st.sampled_from(sorted(_TEXT)), st.data())
def test_damaged_library_text_gives_a_scenario_or_a_scenario_error(name, data):
    text = _TEXT[name]
    start = data.draw(st.integers(0, len(text)))
    stop = data.draw(st.integers(start, min(len(text), start + 40)))
    insert = data.draw(st.sampled_from(["", ":", "- ", "{", "]", "\t", "  ", "'", "&a ", "*a", "<<: *a",
                                        "!!python/name:os.system", "\n  x: 1", "~", "? [1, 2]"]))
    _check(_load_text(text[:start] + insert + text[stop:]))


@SETTINGS
@given(mutated_scenarios())
def test_mutated_scenarios_give_a_scenario_or_a_scenario_error(data):
    _check(_load_text(yaml.safe_dump(data, allow_unicode=True)))


@SETTINGS
@given(values)
def test_random_documents_give_a_scenario_or_a_scenario_error(doc):
    _check(_load_text(yaml.safe_dump(doc, allow_unicode=True)))


def test_fuzzing_reaches_both_outcomes():
    """The mutations are not all fatal: unchanged library text still loads (a sanity check)."""
    for name, text in _TEXT.items():
        assert isinstance(_load_text(text), Scenario), name
    assert isinstance(_load_text("runs: [1"), ScenarioError)


def teardown_module():
    import shutil
    shutil.rmtree(_WORKDIR, ignore_errors=True)
