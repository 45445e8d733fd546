"""Errors a user can cause in a scenario, and their one-line messages.

``ScenarioError`` names the file, the dotted key path and what is allowed. Pydantic's validation
errors are turned into such a line by ``format_validation_error``, which walks the error's
location through the schema's type annotations to find the key the user wrote.
"""

from __future__ import annotations

import difflib
import types
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError


#: Most problems a ``ScenarioError`` lists, one line each.
MAX_LINES = 20


class ScenarioError(ValueError):
    """A problem in a scenario file (or other user input) that the user can fix.

    Args:
        source: The file (or ``<string>``) the problem is in.
        key: Dotted key path of the offending entry ('' for the whole file).
        message: What is wrong and what is allowed.
        more: Further problems in the same file, as ``(key, message)``: the error then reads as
            one line per problem (at most ``MAX_LINES``, then how many more there are).

    Attributes:
        problems: Every ``(key, message)``, the first one first.
    """

    def __init__(self, source: str, key: str, message: str, more=()):
        self.source, self.key, self.message = str(source), key, message
        self.problems = [(key, message), *more]
        lines = [self._line(k, m) for k, m in self.problems[:MAX_LINES]]
        if len(self.problems) > MAX_LINES:
            lines.append(f"{_printable(self.source)}: and {len(self.problems) - MAX_LINES} more "
                         "problems; fix these and check again")
        super().__init__("\n".join(lines))

    def _line(self, key: str, message: str) -> str:
        where = f"{_printable(self.source)}: {_printable(key)}: " if key else f"{_printable(self.source)}: "
        return where + " ".join(message.split())


class ArgumentError(ScenarioError):
    """A bad argument to a library function, e.g. ``run(..., dask="nowhere")``.

    The message names the Python argument; the command line shows the option that set it
    (``--dask``) instead.

    Args:
        argument: The Python argument's name (``dask``, ``levers``, ``samples``...).
        item: The offending value or item ('' for the argument as a whole).
        message: What is wrong and what is allowed.
    """

    def __init__(self, argument: str, item: str, message: str):
        self.argument = argument
        super().__init__(argument, str(item), message)


def _printable(text: str) -> str:
    """``text`` with control characters escaped, so an error message stays on one line."""
    return text if text.isprintable() else text.encode("unicode_escape").decode("ascii")


class KeyedValueError(ValueError):
    """A validator's error about a key below the validated field (e.g. one parameter's name).

    Pydantic reports a field validator's error at the field itself; ``key`` is the rest of the
    path (``isis.growth_rate`` under ``parameters``), so the message can name the exact key.
    """

    def __init__(self, key: str, message: str):
        self.key = key
        super().__init__(message)


# ---------------------------------------------------------------------- error messages
_SKIP_LABELS = ("tagged-union[", "function-", "nullable[", "union[", "lax-or-strict[", "json-or-python[")


def _unwrap(ann):
    while get_origin(ann) is Annotated:
        ann = get_args(ann)[0]
    return ann


def _members(ann) -> list:
    """The alternatives of a (possibly nested, possibly annotated) union annotation."""
    ann = _unwrap(ann)
    if get_origin(ann) in (Union, types.UnionType):
        return [m for a in get_args(ann) for m in _members(a)]
    return [ann]


def _tag_of(model) -> str | None:
    """The discriminator value (``kind`` or ``dist``) of a union member model, if any."""
    for name in ("kind", "dist"):
        field = model.model_fields.get(name)
        if field is not None and get_origin(field.annotation) is Literal:
            return get_args(field.annotation)[0]
    return None


def _step(ann, part, *, last_is_key: bool = False):
    """Follow one element of a pydantic error location through a type annotation.

    Returns:
        ``(next annotation or None, whether the element is a union label rather than a key)``.
    """
    if isinstance(part, str) and part.startswith(_SKIP_LABELS):
        return ann, True
    for m in _members(ann):
        if isinstance(m, type) and issubclass(m, BaseModel):
            if isinstance(part, str) and not last_is_key and part in (m.__name__, _tag_of(m)):
                return m, True
            if isinstance(part, str):
                for name, field in m.model_fields.items():
                    if part in (name, field.alias):
                        return field.annotation, False
            continue
        origin = get_origin(m)
        if isinstance(part, int) and origin in (list, tuple):
            args = get_args(m)
            if origin is tuple and args and args[-1] is not Ellipsis:
                return (args[part] if 0 <= part < len(args) else None), False
            return (args[0] if args else None), False
        if origin is dict and isinstance(part, str):
            return get_args(m)[1], False
        if isinstance(part, str) and isinstance(m, type) and part == m.__name__:
            return m, True  # e.g. the 'float' branch of a parameter value
    return None, False


def _walk(root, loc: tuple, extra_key: bool = False) -> tuple[list[str], Any]:
    """Turn a pydantic location into the key path a user wrote, and the type found there."""
    ann, shown = root, []
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        if ann is None:
            shown.append(str(part))
            continue
        ann, label = _step(ann, part, last_is_key=extra_key and last)
        if not label:
            shown.append(str(part))
    return shown, ann


def _allowed_keys(root, loc: tuple) -> list[str]:
    """Keys valid at the location of an unknown key (for 'did you mean')."""
    _, ann = _walk(root, tuple(loc[:-1]))
    for m in _members(ann) if ann is not None else []:
        if isinstance(m, type) and issubclass(m, BaseModel):
            tag = _tag_of(m)
            return [f.alias or name for name, f in m.model_fields.items()
                    if not (tag is not None and name in ("kind", "dist"))]
    return []


def _union_tags(root, loc: tuple) -> list[str]:
    """Discriminator values allowed at ``loc`` (e.g. posture kinds or distribution names)."""
    _, ann = _walk(root, tuple(loc))
    tags = []
    for m in _members(ann) if ann is not None else []:
        if isinstance(m, type) and issubclass(m, BaseModel) and _tag_of(m):
            tags.append(_tag_of(m))
    return tags


def _shown_value(value) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _pick_error(errors: list[dict]) -> dict:
    """The error to report: the first one, but for a parameter the branch the user meant.

    A parameter is a number, a distribution (``dist: ...``) or ``{from: posterior}``; pydantic
    reports a failure of every branch, so choose the one matching the value's shape.
    """
    first = errors[0]
    loc = tuple(first["loc"])
    if len(loc) >= 3 and loc[0] == "parameters" and loc[2] == "float":
        name = loc[1]
        value = first.get("input")
        if isinstance(value, dict):
            branch = "FromPosterior" if "from" in value else "tagged-union["
            for err in errors:
                eloc = tuple(err["loc"])
                if eloc[:2] == ("parameters", name) and len(eloc) > 2 and str(eloc[2]).startswith(branch):
                    return err
        else:
            return {"type": "parameter_value", "loc": ("parameters", name), "input": value,
                    "msg": "", "ctx": {}}
    return first


def format_validation_errors(exc: ValidationError, root: type[BaseModel]) -> list[tuple[str, str]]:
    """Every problem pydantic found in validating ``root``, as ``(key path, one-line message)``,
    one per key a user wrote (a parameter's failed alternatives count once)."""
    groups: dict[tuple, list[dict]] = {}
    for err in exc.errors():
        loc = tuple(err["loc"])
        groups.setdefault(loc[:2] if loc[:1] == ("parameters",) else loc, []).append(err)
    out: list[tuple[str, str]] = []
    for errors in groups.values():
        problem = _format_one(_pick_error(errors), root)
        if problem not in out:
            out.append(problem)
    return out


def format_validation_error(exc: ValidationError, root: type[BaseModel]) -> tuple[str, str]:
    """The key path and a one-line message for the first problem pydantic found in validating
    ``root`` (the schema whose annotations the error's location is walked through)."""
    return format_validation_errors(exc, root)[0]


def _format_one(err: dict, root: type[BaseModel]) -> tuple[str, str]:
    """The key path and a one-line message of one pydantic error."""
    loc = tuple(err["loc"])
    etype, msg, ctx = err["type"], err.get("msg", ""), err.get("ctx") or {}
    shown, _ = _walk(root, loc, extra_key=etype == "extra_forbidden")
    inp = err.get("input")
    got = f" (got {_shown_value(inp)})"
    cause = ctx.get("error")
    if isinstance(cause, KeyedValueError):
        shown.append(cause.key)
    key = ".".join(shown)
    if etype == "extra_forbidden":
        allowed = _allowed_keys(root, loc)
        near = difflib.get_close_matches(str(loc[-1]), allowed, n=1, cutoff=0.6)
        hint = f"did you mean {near[0]!r}? " if near else ""
        return key, (f"unknown key; {hint}allowed: {', '.join(allowed)}" if allowed else "unknown key")
    if etype == "parameter_value":
        return key, (f"must be a number or a distribution such as {{dist: uniform, low: 0.02, high: 0.08}} "
                     f"(dist is one of {', '.join(_union_tags(root, loc))}){got}")
    if etype == "union_tag_invalid":
        disc = str(ctx.get("discriminator", "kind")).strip("'")
        return f"{key}.{disc}", f"unknown {disc} {ctx.get('tag')!r}; allowed: {ctx.get('expected_tags')}"
    if etype == "union_tag_not_found":
        disc = str(ctx.get("discriminator", "kind")).strip("'")
        tags = _union_tags(root, loc)
        allowed = f"; allowed: {', '.join(tags)}" if tags else ""
        if not isinstance(inp, dict):
            return key, f"must be a mapping with a {disc} key{allowed}{got}"
        return key, f"missing {disc}{allowed}"
    if etype == "missing":
        return key, "required key is missing"
    if etype in ("enum", "literal_error"):
        return key, f"{_shown_value(inp)} is not allowed; allowed: {ctx.get('expected', msg)}"
    if etype in ("int_parsing", "int_type", "int_from_float"):
        return key, f"must be a whole number{got}"
    if etype in ("float_parsing", "float_type"):
        return key, f"must be a number{got}"
    if etype == "finite_number":
        return key, f"must be a finite number{got}"
    if etype in ("dict_type", "model_type", "model_attributes_type", "mapping_type"):
        return key, f"must be a mapping of keys (key: value){got}"
    if etype in ("list_type", "tuple_type"):
        return key, f"must be a list{got}"
    if etype in ("string_type", "str_type"):
        return key, f"must be text{got}"
    if etype in ("bool_type", "bool_parsing"):
        return key, f"must be true or false{got}"
    if etype == "string_pattern_mismatch":
        if key == "name":
            return key, ("must start with a letter or digit and hold only letters, digits, '_', '.' "
                         f"and '-' (it names the output folder){got}")
        return key, f"must match the pattern {ctx.get('pattern')}{got}"
    if etype == "recursion_loop":
        return key, "nested too deeply"
    if etype == "value_error":
        return key, str(cause) if cause is not None else msg.removeprefix("Value error, ")
    msg = msg.removeprefix("Value error, ").replace("Input should be", "must be")
    msg = msg.replace("Tuple should have", "must have").replace("List should have", "must have")
    msg = msg.replace(" after validation", "")
    return key, msg + ("" if isinstance(inp, (dict, list)) else got)


