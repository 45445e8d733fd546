"""The self-contained HTML report (sim.report, `iraqsim report`): structure, content, CLI, errors.

The structural checks parse the HTML with the standard library's html.parser: every section is
present, every image is an embedded PNG, nothing points outside the file, and the numbers in the
outcome table are those of the runs.
"""

from __future__ import annotations

import base64
import os
import re
from html.parser import HTMLParser

import pandas as pd
import pytest

import sim
from sim.cli import main
from sim.model.outcomes import OUTCOME_COLUMNS
from sim.scenario.library import scenarios_dir
from sim.reporting.report import build_report, write_report

BASELINE = scenarios_dir() / "baseline.yaml"
RAPID = scenarios_dir() / "exercises" / "ex1_rapid.yaml"
SECTIONS = ["question", "scenarios", "outcomes", "distributions", "trajectories", "tradeoffs",
            "mechanisms", "provenance"]


class Page(HTMLParser):
    """Collects what the tests check: ids, images, links, resources, tables and text."""

    def __init__(self, html: str):
        super().__init__()
        self.ids, self.imgs, self.hrefs, self.srcs, self.tags = set(), [], [], [], []
        self.rows, self._row, self._cell, self.text = [], None, None, []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "img":
            self.imgs.append(a)
        if "href" in a:
            self.hrefs.append(a["href"])
        if "src" in a:
            self.srcs.append(a["src"])
        if tag == "tr":
            self._row = []
        if tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append(" ".join(" ".join(self._cell).split()))
            self._cell = None
        if tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None

    def handle_data(self, data):
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)


@pytest.fixture(scope="module")
def comparison():
    scenarios = [sim.load_scenario(BASELINE), sim.load_scenario(RAPID)]
    return sim.compare(scenarios, runs=500, seed=3, progress=False)


@pytest.fixture(scope="module")
def html(comparison):
    return build_report(comparison, sources=[str(BASELINE), str(RAPID)],
                        command="iraqsim report baseline.yaml ex1_rapid.yaml --runs 500 --seed 3")


@pytest.fixture(scope="module")
def page(html):
    return Page(html)


def test_every_section_is_present_with_a_card_per_scenario(page, comparison):
    for section in SECTIONS:
        assert section in page.ids, f"section #{section} missing"
    for name in comparison.names:
        assert f"scenario-{name.lower()}" in page.ids
    text = " ".join(page.text)
    for sc in (r.scenario for r in comparison.results):
        assert " ".join(sc.description.split())[:60] in " ".join(text.split())


def test_every_image_is_an_embedded_png(page, comparison):
    """One small panel per outcome that varies (plus the probabilities), per trajectory
    variable, and the two trade-offs; each with a text alternative that gives its numbers."""
    from sim.reporting.report_figures import FAN_VARIABLES, KEY_OUTCOMES
    varying = [o for o in KEY_OUTCOMES if OUTCOME_COLUMNS[o][0] != "bool" and o in comparison.results[0].outcomes
               and pd.concat([r.outcomes[o] for r in comparison.results]).dropna().nunique() > 1]
    assert len(page.imgs) == 1 + len(varying) + len(FAN_VARIABLES) + 2
    for img in page.imgs:
        src = img["src"]
        assert src.startswith("data:image/png;base64,")
        raw = base64.b64decode(src.split(",", 1)[1], validate=True)
        assert raw[:8] == b"\x89PNG\r\n\x1a\n" and len(raw) > 5000
        assert img.get("alt"), "every image needs alt text"


def test_nothing_points_outside_the_file(page, html):
    for src in page.srcs:
        assert src.startswith("data:"), src
    for href in page.hrefs:
        assert href.startswith("#"), f"external or relative link {href}"
        assert href[1:] in page.ids, f"link to missing anchor {href}"
    assert not any(tag in ("script", "link", "iframe", "object", "embed") for tag, _ in page.tags)
    assert not re.search(r"url\(\s*['\"]?(https?:|//)", html)
    assert "@import" not in html


def test_outcome_table_shows_the_runs_numbers(page, comparison):
    header = next(r for r in page.rows if r and r[0] == "outcome")
    assert header[1:] == comparison.names
    rows = {r[0]: r[1:] for r in page.rows if r and r[0] != "outcome"}

    def row(title):  # the first cell starts with the outcome's plain title
        return next(cells for first, cells in rows.items() if first.startswith(title))
    for i, res in enumerate(comparison.results):
        o = res.outcomes
        assert row("ISIS resurgence")[i] == f"{100 * o['resurgence'].mean():.1f}%"
        assert row("Iraq demands a US exit")[i] == f"{100 * o['expelled'].mean():.1f}%"
        median = float(o["isis_peak"].median())
        assert row("Peak ISIS fighters in Iraq")[i].startswith(f"{median:,.0f} (")
        when = row("When ISIS resurges")[i]  # timing in calendar months, not month numbers
        assert when == "never" or (when[:3] in {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul",
                                                 "Aug", "Sep", "Oct", "Nov", "Dec"} and " runs" in when)


def test_mechanisms_cite_evidence_that_is_listed(page):
    from sim.reporting import evidence
    for mid in evidence.MECHANISMS:
        assert f"mechanism-{mid}" in page.ids
    cited = {h[len("#claim-"):] for h in page.hrefs if h.startswith("#claim-")}
    assert cited, "no evidence cited"
    assert cited <= set(evidence.claims())
    assert all(f"claim-{c}" in page.ids for c in cited)


def test_provenance_names_version_seed_runs_and_scenario_hashes(page, comparison):
    text = " ".join(" ".join(page.text).split())
    assert f"iraqsim {sim.__version__}" in text
    for res in comparison.results:
        assert res.scenario.sha256() in text
    prov = next(r for r in page.rows if r and r[0] == comparison.names[0] and len(r) == 6)
    assert prov[3:5] == ["3", "500"]


def test_layout_is_responsive_and_printable(html):
    assert '<meta name="viewport" content="width=device-width' in html
    assert "@media print" in html and "@media (max-width" in html
    assert re.search(r"figure img \{[^}]*max-width: 100%", html)


def test_single_scenario_report_has_no_tradeoff_section(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr("sim.engine.blocks.BLOCK_SIZE", 64)
    out = tmp_path / "sub" / "one.html"
    assert main(["report", str(BASELINE), "-o", str(out), "--runs", "64", "--seed", "1"]) == 0
    page = Page(out.read_text(encoding="utf-8"))
    assert "tradeoffs" not in page.ids
    assert {"question", "outcomes", "trajectories", "provenance"} <= page.ids
    assert len(page.imgs) > 6 and all(img.get("alt") for img in page.imgs)  # small panels
    assert "wrote" in capsys.readouterr().out
    assert sorted(p.name for p in out.parent.iterdir()) == ["one.html"]  # no temporary left


@pytest.mark.parametrize("args, needle", [
    (["missing.yaml"], "missing.yaml"),
    ([str(BASELINE), "--runs", "0"], "--runs"),
    ([str(BASELINE), "-o", "{tmp}"], "folder"),
    ([str(BASELINE), "-o", "{tmp}/r.txt"], ".html"),
    ([str(BASELINE), "--dask", "not an address"], "--dask"),
])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(args, needle, tmp_path, capsys):
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    if "-o" not in args:
        args += ["-o", str(tmp_path / "r.html")]
    before = sorted(os.listdir(tmp_path))
    assert main(["report", *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and needle in err and "Traceback" not in err
    assert sorted(os.listdir(tmp_path)) == before


def test_write_report_is_atomic(tmp_path, monkeypatch):
    target = tmp_path / "r.html"
    old_mask = os.umask(0o022)
    try:
        write_report("<p>old</p>", target)
    finally:
        os.umask(old_mask)
    assert target.read_text() == "<p>old</p>"
    assert target.stat().st_mode & 0o777 == 0o644  # readable by others, like any hand-out

    def broken_replace(src, dst):
        raise OSError("disk full")
    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        write_report("<p>new</p>", target)
    assert target.read_text() == "<p>old</p>"
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"]


def test_report_escapes_scenario_text(comparison):
    from sim.engine.compare import Comparison
    res = comparison.results[0]
    evil = res.scenario.with_changes(description="<script>alert(1)</script> see DB24-09")
    clone = sim.Results(evil, res.outcomes, None, res.provenance, quantiles=res.quantiles)
    html = build_report(Comparison([clone]), title="<b>t</b>")
    assert "<script>alert(1)" not in html and "&lt;script&gt;" in html
    assert '<a href="#claim-DB24-09"' in html
    assert "<b>t</b>" not in html
