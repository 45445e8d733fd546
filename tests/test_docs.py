"""Generated documentation matches the code."""

from pathlib import Path

import pytest

from sim.reporting import odd

ROOT = Path(__file__).resolve().parent.parent


def test_odd_tables_are_up_to_date():
    path = ROOT / "docs" / "ODD.md"
    if not path.is_file():
        pytest.skip("docs/ are not beside this checkout")
    text = path.read_text(encoding="utf-8")
    assert odd.render(text) == text, "run `python -m sim.odd` to regenerate docs/ODD.md"


def test_odd_lists_every_parameter_and_mechanism():
    from sim.reporting.evidence import MECHANISMS
    from sim.model.parameters import PARAMETERS
    table = odd.parameter_table() + odd.mechanism_table()
    for name in PARAMETERS:
        assert f"`{name}`" in table
    for mid in MECHANISMS:
        assert f"| {mid} |" in table


def test_validation_forward_tables_match_a_fresh_run(capsys):
    """The forward tables of docs/validation.md equal what the model gives now.

    ``python docs/make_validation_numbers.py`` prints them; a change of the model, the engine's
    block size or the calibration that forgets to update the page fails here (like the exercise
    keys' test). ~10 s.
    """
    import importlib.util
    if not (ROOT / "docs" / "make_validation_numbers.py").is_file():
        pytest.skip("docs/ are not beside this checkout")
    spec = importlib.util.spec_from_file_location("make_validation_numbers",
                                                  ROOT / "docs" / "make_validation_numbers.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    script.forward_table()
    script.war_table()
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| ")]
    assert len(rows) == 1 + len(script.LIBRARY) + 1 + len(script.WARS)  # headers and rows
    page = (ROOT / "docs" / "validation.md").read_text(encoding="utf-8")
    # the war table's baseline row carries a label on the page
    page = page.replace("| 4 months at 1.0 (baseline) |", "| 4 months at 1.0 |")
    stale = [row for row in rows if row not in page]
    assert not stale, "docs/validation.md is out of date; run python docs/make_validation_numbers.py:\n" + "\n".join(stale)
