"""Traceability: every mechanism and parameter cites evidence that exists (issue 2)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from sim.reporting import evidence
from sim.reporting.evidence import CLAIM_ID, MECHANISMS
from sim.model.parameters import PARAMETERS
from sim.scenario.library import scenarios_dir, seeds_dir

ROOT = Path(__file__).resolve().parent.parent


def test_claims_file_is_well_formed():
    claims = evidence.claims()
    assert len(claims) >= 30
    sources = evidence.sources()
    assert set(sources) == {"POL20", "DB24", "FP23", "RCD20", "WP20"}
    used = {c["source"] for c in claims.values()}
    assert used == set(sources), "every article is used"
    for cid, c in claims.items():
        assert CLAIM_ID.fullmatch(cid), cid
        assert cid.startswith(c["source"] + "-"), cid
        assert len(c["claim"].split()) >= 8, f"{cid}: a paraphrase, not a stub"
        for m in c.get("mechanisms") or []:
            assert m in MECHANISMS, f"{cid}: unknown mechanism {m}"
        for fig in c.get("figures") or []:
            assert "unit" in fig and ({"value", "low", "high"} & set(fig)), cid


def test_claim_ids_are_unique():
    data = yaml.safe_load((seeds_dir() / "claims.yaml").read_text())
    ids = [c["id"] for c in data["claims"]]
    assert len(ids) == len(set(ids))


def test_every_mechanism_is_implemented_and_cites_existing_claims():
    mm = evidence.mechanism_map()
    claims = evidence.claims()
    for mid in MECHANISMS:
        places = mm[mid]
        assert places, f"{mid} is implemented nowhere"
        cited = {c for p in places for c in p["claims"]}
        assert cited, f"{mid} cites no evidence"
        assert cited <= set(claims), f"{mid} cites unknown claims {cited - set(claims)}"


@pytest.mark.parametrize("name", sorted(PARAMETERS))
def test_every_parameter_has_provenance(name):
    par = PARAMETERS[name]
    assert par.evidence or par.assumption.startswith("assumption:"), name
    assert set(par.evidence) <= set(evidence.claims()), f"{name} cites unknown claims"
    if par.assumption:
        assert len(par.assumption.split()) >= 5, f"{name}: say why in a sentence"
    assert par.low <= par.default <= par.high, name
    assert par.unit and par.doc, name


def test_every_claim_id_cited_anywhere_exists():
    claims = set(evidence.claims())
    files = list((ROOT / "sim").rglob("*.py")) + list(scenarios_dir().rglob("*.yaml"))
    files += [p for p in (ROOT / "docs").rglob("*.md")] if (ROOT / "docs").is_dir() else []
    files += [seeds_dir() / "targets.yaml"]
    missing = {}
    for f in files:
        for cid in set(CLAIM_ID.findall(f.read_text(encoding="utf-8"))):
            if cid not in claims:
                missing.setdefault(cid, []).append(str(f))
    assert not missing, missing


def test_targets_cite_existing_claims():
    claims = set(evidence.claims())
    targets = evidence.targets()
    assert len(targets) >= 8
    for t in targets:
        assert t["claim"] in claims, t["id"]
        for other in t.get("see_also") or []:
            assert other in claims, t["id"]


def test_claims_are_paraphrased_not_copied():
    """No claim shares a run of 9 or more words with the source articles."""
    shared = ROOT.parent / "shared" / "seeds"
    if not shared.is_dir():
        pytest.skip("the source articles are not beside this checkout")
    words = lambda s: re.findall(r"[a-z0-9']+", s.lower())  # noqa: E731
    grams = set()
    for f in shared.glob("*.txt"):
        w = words(f.read_text(encoding="utf-8", errors="ignore"))
        grams |= {tuple(w[i:i + 9]) for i in range(len(w) - 8)}
    for cid, c in evidence.claims().items():
        w = words(c["claim"])
        copied = [" ".join(w[i:i + 9]) for i in range(len(w) - 8) if tuple(w[i:i + 9]) in grams]
        assert not copied, f"{cid} copies the article: {copied[0]!r}"
