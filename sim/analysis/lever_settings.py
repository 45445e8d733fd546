"""Lever settings by name: how sweeps and ``sim.evaluate`` change a scenario's choices.

A *lever setting* is a ``name = value`` pair applied on top of a scenario's own levers:

=====================  ====================================================================
name                   meaning
=====================  ====================================================================
``retaliation``        doctrine after militia attacks: none, proportional, leadership,
                       iran_direct (M6)
``aid``                US aid level: none, low, medium, high
``exit_response``      the US answer to an Iraqi demand to leave: comply, negotiate, stall
                       (M14)
``posture.kind``       switch the posture: hold, waypoints, rapid_exit, conditions_based,
                       over_the_horizon, kurdistan_residual. Fields the scenario set
                       explicitly and the new kind also has (e.g. ``troops``) are kept.
``posture.<field>``    any number or yes/no field of the posture, e.g. ``posture.troops``,
                       ``posture.months``, ``posture.residual``, ``posture.review_every``
``exit_month``         (also ``posture.exit_month``) the month the US exit *begins*: the
                       ``start_month`` of a ramp posture (rapid_exit, over_the_horizon,
                       kurdistan_residual); a ``hold`` posture becomes a ``rapid_exit`` of
                       the same troops starting that month
=====================  ====================================================================

Settings are applied in a fixed order (``posture.kind``, then ``exit_month``, then other
``posture.<field>`` settings, then ``retaliation``, ``aid`` and ``exit_response``), so the
result never depends on the order the user wrote them in. Bad names or values raise ``ScenarioError`` naming the lever
and what is allowed.
"""

from __future__ import annotations

import difflib
from typing import Any

import pandas as pd
from pydantic import ValidationError

from sim.model import levers as lv
from sim.model.postures import POSTURE_CLASSES
from sim.scenario.errors import ArgumentError
from sim.scenario.schema import Scenario

#: Numeric or yes/no fields of some posture (``points`` is a list and is not a lever).
POSTURE_FIELDS = sorted({f for c in POSTURE_CLASSES.values() for f in c.model_fields}
                        - {"kind", "points"})
ENUM_LEVERS = {"retaliation": [r.value for r in lv.Retaliation], "aid": [a.value for a in lv.Aid],
               "exit_response": [r.value for r in lv.ExitResponse],
               "posture.kind": list(POSTURE_CLASSES)}
EXIT_MONTH = ("exit_month", "posture.exit_month")
LEVER_NAMES = (["retaliation", "aid", "exit_response", "posture.kind", "exit_month",
                "posture.exit_month"]
               + [f"posture.{f}" for f in POSTURE_FIELDS])


def is_lever(name: str) -> bool:
    """Whether ``name`` names a lever setting (see the module docstring)."""
    return name in LEVER_NAMES


def check_lever(name: str, value: Any = None, source: str = "levers") -> None:
    """Raise ``ScenarioError`` if ``name`` is not a lever or ``value`` is not allowed for it.

    Only the name and enumerated values are checked here; numeric ranges are checked when the
    setting is applied to a scenario (they depend on the posture).
    """
    if not is_lever(name):
        near = difflib.get_close_matches(name, LEVER_NAMES, n=1)
        hint = f"did you mean {near[0]!r}? " if near else ""
        raise ArgumentError(source, name, f"unknown lever; {hint}allowed: retaliation, aid, "
                            f"exit_response, posture.kind, exit_month, posture.<field> with "
                            f"field one of {', '.join(POSTURE_FIELDS)}")
    if value is not None and name in ENUM_LEVERS and str(value) not in ENUM_LEVERS[name]:
        raise ArgumentError(source, name, f"{value!r} is not allowed; allowed: "
                            f"{', '.join(ENUM_LEVERS[name])}")


def _sort_key(name: str) -> int:
    if name == "posture.kind":
        return 0
    if name in EXIT_MONTH:
        return 1
    if name.startswith("posture."):
        return 2
    return 3


def apply_levers(scenario: Scenario, settings: dict[str, Any], source: str = "levers") -> Scenario:
    """Return a copy of ``scenario`` with the lever settings applied.

    Args:
        scenario: The scenario whose levers are the starting point.
        settings: Lever name -> value (see the module docstring). ``None`` values are skipped.
        source: Where the settings come from, for error messages.

    Raises:
        ScenarioError: for an unknown lever, a value it does not allow, or a posture that the
            settings make invalid.
    """
    settings = {k: v for k, v in settings.items() if not _missing(v)}
    for name, value in settings.items():
        check_lever(name, value, source)
    data = _posture_data(scenario.levers.posture)
    changes: dict[str, Any] = {}
    for name in sorted(settings, key=_sort_key):
        value = _plain(settings[name])
        if name == "posture.kind":
            cls = POSTURE_CLASSES[value]
            data = {k: v for k, v in data.items() if k in cls.model_fields}
            data["kind"] = value
        elif name in EXIT_MONTH:
            try:
                posture = POSTURE_CLASSES[data["kind"]].model_validate(data).with_exit_month(value)
            except ValidationError as exc:
                raise _invalid(exc, settings, source) from None
            except ValueError as exc:  # the posture has no exit a month could move
                raise ArgumentError(source, name, f"{exc}; use posture.kind to switch, or set "
                                    "posture fields directly") from None
            data = _posture_data(posture)
        elif name.startswith("posture."):
            field = name.split(".", 1)[1]
            if field not in POSTURE_CLASSES[data["kind"]].model_fields:
                allowed = [f for f in POSTURE_CLASSES[data["kind"]].model_fields
                           if f not in ("kind", "points")]
                raise ArgumentError(source, name, f"a {data['kind']} posture has no {field!r}; "
                                    f"allowed: {', '.join(allowed)}")
            data[field] = value
        else:
            changes[name] = value
    try:
        new_posture = POSTURE_CLASSES[data["kind"]].model_validate(data)
        levers = scenario.levers.model_copy(update={"posture": new_posture})
        levers = lv.Levers.model_validate({**levers.model_dump(mode="python"), **changes})
    except ValidationError as exc:
        raise _invalid(exc, settings, source) from None
    return scenario.with_changes(levers=levers)


def _invalid(exc: ValidationError, settings: dict, source: str) -> ArgumentError:
    """The one-line error for settings that make the posture or the levers invalid."""
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"] if p not in POSTURE_CLASSES)
    return ArgumentError(source, ", ".join(f"{k}={v}" for k, v in settings.items()),
                         f"gives an invalid posture or lever ({loc or 'posture'}: "
                         f"{err['msg'].removeprefix('Value error, ')})")


def _posture_data(posture) -> dict:
    """The posture's kind and the fields whose value differs from that kind's default.

    Only these are carried over when ``posture.kind`` switches, so a new kind keeps its own
    defaults (e.g. a Kurdistan residual's lower advise and exposure factors) unless the scenario
    chose otherwise.
    """
    cls = type(posture)
    data = {k: v for k, v in posture.model_dump(mode="python").items()
            if k == "points" or v != cls.model_fields[k].default}
    data["kind"] = posture.kind
    return data


def _missing(value) -> bool:
    """None, NaN or pandas NA: the scenario's own setting applies."""
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _plain(value):
    """numpy scalars -> Python numbers (pydantic and YAML want plain values)."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def parse_value(text: str):
    """A lever value from text: int, float, yes/no (true/false), or a word."""
    t = text.strip()
    low = t.lower()
    if low in ("true", "yes"):
        return True
    if low in ("false", "no"):
        return False
    for cast in (int, float):
        try:
            return cast(t)
        except ValueError:
            pass
    return t


def parse_lever_spec(spec: str, source: str = "levers") -> tuple[str, list]:
    """Parse ``NAME=VALUES``: a comma list (``a,b,c``) or an inclusive range ``start:stop:step``.

    Examples: ``exit_month=0:36:6`` (0, 6, ..., 36), ``retaliation=none,proportional``.

    Raises:
        ScenarioError: naming the option and what is allowed.
    """
    if "=" not in spec:
        raise ArgumentError(source, spec, "expected NAME=VALUES, e.g. exit_month=0:36:6 or "
                            "retaliation=none,proportional")
    name, values_text = (s.strip() for s in spec.split("=", 1))
    check_lever(name, None, source)
    if not values_text:
        raise ArgumentError(source, name, "no values given; use a comma list or start:stop:step")
    if ":" in values_text and "," not in values_text:
        values = _parse_range(name, values_text, source)
    else:
        values = [parse_value(v) for v in values_text.split(",") if v.strip()]
    if not values:
        raise ArgumentError(source, name, "no values given; use a comma list or start:stop:step")
    if len(set(map(str, values))) != len(values):
        raise ArgumentError(source, name, "values repeat; give each value once")
    for v in values:
        check_lever(name, v, source)
    return name, values


def _parse_range(name: str, text: str, source: str) -> list:
    parts = text.split(":")
    if len(parts) != 3:
        raise ArgumentError(source, name, f"range {text!r} must be start:stop:step, e.g. 0:36:6")
    nums = [parse_value(p) for p in parts]
    if not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in nums):
        raise ArgumentError(source, name, f"range {text!r} must hold numbers, e.g. 0:36:6")
    start, stop, step = nums
    if step <= 0 or stop < start:
        raise ArgumentError(source, name, f"range {text!r} needs step > 0 and stop >= start")
    count = int((stop - start) / step + 1e-9) + 1
    if count > 1000:
        raise ArgumentError(source, name, f"range {text!r} gives {count} values; at most 1000")
    values = [start + i * step for i in range(count)]
    if all(isinstance(x, int) for x in nums):
        return [int(v) for v in values]
    return [round(float(v), 12) for v in values]
