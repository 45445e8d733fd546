"""Generated documentation matches the code."""

from pathlib import Path

import pytest

from sim import odd

ROOT = Path(__file__).resolve().parent.parent


def test_odd_tables_are_up_to_date():
    path = ROOT / "docs" / "ODD.md"
    if not path.is_file():
        pytest.skip("docs/ are not beside this checkout")
    text = path.read_text(encoding="utf-8")
    assert odd.render(text) == text, "run `python -m sim.odd` to regenerate docs/ODD.md"


def test_odd_lists_every_parameter_and_mechanism():
    from sim.evidence import MECHANISMS
    from sim.parameters import PARAMETERS
    table = odd.parameter_table() + odd.mechanism_table()
    for name in PARAMETERS:
        assert f"`{name}`" in table
    for mid in MECHANISMS:
        assert f"| {mid} |" in table
