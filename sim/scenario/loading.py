"""Reading scenario files: safe YAML, ``extends`` chains, library names, validation.

Errors a user can cause raise ``ScenarioError``, whose one-line message names the file, the key
path and what is allowed. YAML is read with ``yaml.safe_load`` only.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import yaml
from pydantic import ValidationError

from sim.scenario.errors import ScenarioError, format_validation_errors
from sim.scenario.library import scenarios_dir
from sim.scenario.schema import Scenario


# ---------------------------------------------------------------------- loading
#: Largest scenario file read (a scenario is a few kilobytes; a bigger file is a mistake).
MAX_SCENARIO_BYTES = 1_000_000


def _duplicate_key(text: str) -> tuple[str, int, int] | None:
    """The first key given twice in one mapping, as (key path, first line, second line), or None.

    Plain YAML keeps the last of two equal keys, so a repeated key would silently override the
    first; a scenario treats it as an error instead. The check walks the composed node tree
    (``yaml.compose`` with the safe loader builds no Python objects); merge keys (``<<``) are
    allowed, and a node reached twice through an alias is visited once.
    """
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    stack, visited = ([(root, "")] if root is not None else []), set()
    while stack:
        node, path = stack.pop()
        if id(node) in visited:
            continue
        visited.add(id(node))
        if isinstance(node, yaml.MappingNode):
            seen: dict[tuple[str, str], int] = {}
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.tag != "tag:yaml.org,2002:merge":
                    ident = (key.tag, key.value)
                    if ident in seen:
                        return f"{path}{key.value}", seen[ident] + 1, key.start_mark.line + 1
                    seen[ident] = key.start_mark.line
            stack.extend((value, f"{path}{getattr(key, 'value', '?')}.")
                         for key, value in reversed(node.value))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, f"{path}{i}.") for i, item in reversed(list(enumerate(node.value))))
    return None


def _read_yaml(path: Path, shown: str | None = None) -> dict:
    """Read one scenario file as a mapping (no ``extends`` resolution).

    Args:
        path: The file.
        shown: How to name the file in error messages (default: ``path`` as given).

    Raises:
        ScenarioError: the file is missing, unreadable, not YAML, empty or not a mapping.
    """
    shown = str(path) if shown is None else shown
    path = Path(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ScenarioError(shown, "", "no such file; check the path (`iraqsim list` shows the "
                                       "scenario library)") from None
    except OSError as exc:
        raise ScenarioError(shown, "", f"cannot be read ({exc.strerror or exc.__class__.__name__})") from None
    if stat.S_ISDIR(info.st_mode):
        raise ScenarioError(shown, "", "is a folder, not a scenario file")
    if not stat.S_ISREG(info.st_mode):  # a FIFO would wait forever, /dev/zero never end
        raise ScenarioError(shown, "", "is not a regular file (a pipe, device or socket); give a "
                                       "scenario file")
    if info.st_size > MAX_SCENARIO_BYTES:
        raise ScenarioError(shown, "", f"is {info.st_size:,} bytes; a scenario file is at most "
                                       f"{MAX_SCENARIO_BYTES:,} (1 MB)")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(shown, "", "no such file; check the path (`iraqsim list` shows the "
                                       "scenario library)") from None
    except IsADirectoryError:
        raise ScenarioError(shown, "", "is a folder, not a scenario file") from None
    except UnicodeDecodeError as exc:
        raise ScenarioError(shown, "", f"is not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    except OSError as exc:
        raise ScenarioError(shown, "", f"cannot be read ({exc.strerror or exc.__class__.__name__})") from None
    try:
        data = yaml.safe_load(text)
        duplicate = _duplicate_key(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ScenarioError(shown, "", f"malformed YAML{where}: {problem}") from None
    except RecursionError:
        raise ScenarioError(shown, "", "malformed YAML: nested too deeply") from None
    if duplicate:
        key, first, second = duplicate
        raise ScenarioError(shown, key, f"given twice (lines {first} and {second}); keep one")
    if data is None:
        raise ScenarioError(shown, "", "the file is empty; a scenario is a mapping of keys "
                                       "such as name, levers, parameters")
    if not isinstance(data, dict):
        kind = {"list": "a list", "str": "plain text"}.get(type(data).__name__, f"a {type(data).__name__}")
        raise ScenarioError(shown, "", f"a scenario must be a mapping of keys (key: value lines), "
                                       f"not {kind}")
    bad = [k for k in data if not isinstance(k, str)]
    if bad:
        raise ScenarioError(shown, str(bad[0]), "keys must be text (quote it, or use a key such as "
                                                "name, levers, parameters)")
    return data


_TAGS = ("kind", "dist", "from")


def _merge(parent: dict, child: dict) -> dict:
    """Child overrides parent; mappings merge key by key.

    A mapping that names a different ``kind`` (posture), ``dist`` (distribution) or ``from``
    than the parent's replaces it whole: a child's ``{dist: uniform, low: .., high: ..}`` over a
    parent's ``{from: posterior}`` is a new distribution, not a mixture of the two.
    """
    out = dict(parent)
    for key, value in child.items():
        old = out.get(key)
        if isinstance(old, dict) and isinstance(value, dict) and not any(
                tag in value and value.get(tag) != old.get(tag) for tag in _TAGS):
            out[key] = _merge(old, value)
        else:
            out[key] = value
    return out


def _resolve(path: Path, chain: tuple = (), shown: str | None = None) -> dict:
    """Read ``path`` and apply its ``extends`` chain; every parent is validated on its own.

    Args:
        path: The scenario file.
        chain: ``(resolved path, shown name)`` of the files that led here (cycle detection).
        shown: How to name ``path`` in messages (default: as given).

    Raises:
        ScenarioError: naming the file in which the problem is (a parent's own errors name the
            parent).
    """
    shown = str(path) if shown is None else shown
    path = Path(path)
    real = path.resolve()
    if any(real == p for p, _ in chain):
        names = [Path(s).name for _, s in chain] + [path.name]
        raise ScenarioError(chain[-1][1], "extends", f"extends forms a cycle: {' -> '.join(names)}; "
                                                     "remove one of these extends")
    data = _read_yaml(path, shown)
    own = data.get("posterior")
    if isinstance(own, str) and own.strip():  # a path relative to the file that names it
        data["posterior"] = os.path.normpath(os.path.join(path.resolve().parent, own))
    parent_ref = data.get("extends")
    if parent_ref is None:
        return data
    if not isinstance(parent_ref, str) or not parent_ref.strip():
        raise ScenarioError(shown, "extends", "must be the path of another scenario file, relative to "
                                              f"this one (got {parent_ref!r})")
    parent_path, parent_shown, _ = parent_file(path, parent_ref, shown)
    if not parent_path.exists():
        raise ScenarioError(shown, "extends", f"{parent_ref!r} does not exist (looked for {parent_shown} "
                                              "and in the scenario library, `iraqsim list`)")
    if not parent_path.is_file():
        raise ScenarioError(shown, "extends", f"{parent_ref!r} is not a scenario file ({parent_shown})")
    parent = _resolve(parent_path, chain + ((real, shown),), parent_shown)
    scenario_from_dict(parent, parent_shown)  # a parent's own errors are reported in the parent
    merged = _merge({k: v for k, v in parent.items() if k not in ("extends",)}, data)
    merged.pop("extends", None)
    return merged


def parent_file(path: Path, ref: str, shown: str | None = None) -> tuple[Path, str, bool]:
    """The file an ``extends: ref`` in ``path`` names: ``(file, how to show it, from the library)``.

    A file beside ``path`` (``ref`` relative to it, with or without ``.yaml``) wins; otherwise a
    library name (``baseline``, ``history/iraq_2011``). If neither exists, the file beside.
    """
    shown = str(path) if shown is None else shown
    for candidate in (ref, f"{ref}.yaml"):
        beside = Path(path).parent / candidate
        if beside.is_file() or (candidate == ref and beside.exists()):
            return beside, os.path.normpath(os.path.join(os.path.dirname(shown), candidate)), False
    library = scenario_file(ref)
    if library != ref:
        return Path(library), f"library scenario {ref}", True
    return Path(path).parent / ref, os.path.normpath(os.path.join(os.path.dirname(shown), ref)), False


def scenario_from_dict(data: dict, source: str = "<dict>", check_posterior: bool = True) -> Scenario:
    """Validate plain data as a scenario; errors become ``ScenarioError``.

    ``check_posterior=False`` skips the check that every ``{from: posterior}`` parameter is in
    the posterior sample (the calibration replaces those parameters with prior draws, and is what
    writes a sample holding new ones).
    """
    try:
        return Scenario.model_validate(data, context={"check_posterior": check_posterior})
    except ValidationError as exc:
        (key, msg), *more = format_validation_errors(exc, Scenario)
        raise ScenarioError(source, key, msg, more) from None
    except (TypeError, ValueError, OverflowError, RecursionError) as exc:  # exotic YAML values
        raise ScenarioError(source, "", f"invalid value ({exc.__class__.__name__}: {exc})") from None


def scenario_file(ref: str | os.PathLike) -> str:
    """The scenario file that ``ref`` names: an existing path as given, else a name of the
    scenario library (``iraqsim list``) such as ``phased_exit`` or ``history/iraq_2011``.

    Anything else is returned unchanged, so loading it reports a missing file.
    """
    ref = str(ref)
    if Path(ref).exists() or ".." in Path(ref).parts:
        return ref
    library = scenarios_dir()
    for candidate in (library / ref, library / f"{ref}.yaml"):
        if candidate.is_file():
            return str(candidate)
    return ref


def load_scenario(path: str | os.PathLike, check_posterior: bool = True) -> Scenario:
    """Load, resolve (``extends``) and validate a scenario file, or a library scenario by name.

    ``path`` is a file, or a name from the scenario library (``scenario_file``). Error messages
    name the file as it was given (relative paths stay relative), and a problem in a parent file
    (``extends``) names the parent.

    ``check_posterior``: see ``scenario_from_dict``.

    Raises:
        ScenarioError: with a one-line message naming the file, the key and what is allowed.
    """
    shown = scenario_file(path)
    data = _resolve(Path(shown), (), shown)
    return scenario_from_dict(data, shown, check_posterior)
