"""Generate the tables of ``docs/ODD.md`` from the code, so the documentation cannot drift.

``python -m sim.reporting.odd`` rewrites the parts of ``docs/ODD.md`` between ``<!-- BEGIN name -->`` and
``<!-- END name -->`` markers; ``tests/test_docs.py`` fails when they are out of date.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from sim.model.parameters import PARAMETERS
from sim.reporting.evidence import MECHANISMS, citation, mechanism_map, sources


def _cite(ids) -> str:
    return ", ".join(f"{c} ({citation(c)})" for c in ids)


def mechanism_table() -> str:
    """Markdown table: mechanism, where it lives (actor.method), evidence."""
    rows = ["| id | mechanism | where in the code | evidence |", "|---|---|---|---|"]
    for mid, places in mechanism_map().items():
        where = "<br>".join(f"`{p['where']}`" for p in places)
        ids = sorted({c for p in places for c in p["claims"]})
        rows.append(f"| {mid} | {MECHANISMS[mid]} | {where} | {', '.join(ids)} |")
    return "\n".join(rows)


def parameter_table() -> str:
    """Markdown table of the parameter registry with provenance."""
    rows = ["| parameter | default | range | unit | meaning | provenance |", "|---|---|---|---|---|---|"]
    for name, p in PARAMETERS.items():
        prov = ", ".join(p.evidence)
        if p.assumption:
            prov = (prov + "; " if prov else "") + p.assumption
        rows.append(f"| `{name}` | {p.default:g} | {p.low:g} – {p.high:g} | {p.unit} | {p.doc} | {prov} |")
    return "\n".join(rows)


def source_table() -> str:
    """Markdown list of the five articles."""
    return "\n".join(f"- **{k}** — {s['outlet']}, {s['date']}: *{s['title']}*"
                     + (f" ({s['author']})" if s.get("author") else "") for k, s in sources().items())


SECTIONS = {"mechanisms": mechanism_table, "parameters": parameter_table, "sources": source_table}


def render(text: str) -> str:
    """Replace every generated section of ``text`` with a fresh rendering."""
    for name, fn in SECTIONS.items():
        pattern = re.compile(rf"(<!-- BEGIN {name} -->\n).*?(<!-- END {name} -->)", re.S)
        if not pattern.search(text):
            raise ValueError(f"missing generated section {name!r}")
        text = pattern.sub(lambda m, fn=fn: m.group(1) + fn() + "\n" + m.group(2), text)
    return text


def main(path: str = "docs/ODD.md") -> int:
    p = Path(path)
    p.write_text(render(p.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"updated {p}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(*sys.argv[1:]))
