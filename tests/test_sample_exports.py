"""The sample review's search exports: reproducible, counted right, in native layouts.

Self-contained on purpose: it does not use reviewtool's importers (they are tested on their own);
it checks the committed files in sample_project/exports/ with plain text processing.
"""

from __future__ import annotations

import csv
import importlib.util
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_project"
EXPORTS = SAMPLE / "exports"
FILES = ("pubmed.nbib", "embase.ris", "wos.txt", "cochrane.ris")


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_exports", SAMPLE / "make_exports.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_exports"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def truth() -> list[dict[str, str]]:
    with (EXPORTS / "truth.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def text(name: str) -> str:
    return (EXPORTS / name).read_bytes().decode("utf-8")


def records(name: str) -> dict[str, str]:
    """source id -> raw text of the record, split the way each format separates records."""
    raw = text(name).lstrip("\ufeff")
    out: dict[str, str] = {}
    if name == "pubmed.nbib":
        for block in raw.strip("\n").split("\n\n"):
            out[re.search(r"^PMID- (\d+)$", block, re.M).group(1)] = block
    elif name == "embase.ris":
        for block in raw.split("\nER  -")[:-1]:
            out[re.search(r"^U2  - (L\d+)$", block, re.M).group(1)] = block
    elif name == "wos.txt":
        for block in raw.split("\nER\n")[:-1]:
            out[re.search(r"^UT (WOS:\d{15})$", block, re.M).group(1)] = block
    else:
        for block in raw.split("ER  - \r\n")[:-1]:
            out[re.search(r"^ID  - (CN-\d{8})\r$", block, re.M).group(1)] = block
    return out


def squash(s: str) -> str:
    s = s.lower().replace("randomis", "randomiz")
    return "".join(ch for ch in s if ch.isalnum())


def test_generator_reproduces_committed_files(tmp_path: Path) -> None:
    load_generator().main([str(tmp_path)])
    made = sorted(p.name for p in tmp_path.iterdir())
    committed = sorted(p.name for p in EXPORTS.iterdir() if not p.name.startswith("."))
    assert made == committed
    for name in made:
        assert (tmp_path / name).read_bytes() == (EXPORTS / name).read_bytes(), name


def test_counts_match_the_seed_review(truth: list[dict[str, str]]) -> None:
    assert len(truth) == 892
    per_file = Counter(r["file"] for r in truth)
    assert per_file == {"pubmed.nbib": 251, "embase.ris": 338, "wos.txt": 231, "cochrane.ris": 72}
    pubs = {r["publication_id"] for r in truth}
    assert len(pubs) == 604
    assert len(truth) - len(pubs) == 288  # duplicates removed
    category = {r["publication_id"]: r["category"] for r in truth}
    assert Counter(category.values()) == {
        "included": 12,
        "fulltext_excluded_insufficient_data": 10,
        "fulltext_excluded_not_rct": 12,
        "animal": 176,
        "case_report_letter": 8,
        "review_meta_analysis": 67,
        "meeting_abstract": 81,
        "tiab_excluded": 238,
    }
    # a publication appears at most once per file; every copy has the same category
    assert len({(r["file"], r["publication_id"]) for r in truth}) == 892
    assert len({(r["publication_id"], r["category"]) for r in truth}) == 604
    assert len({(r["file"], r["source_id"]) for r in truth}) == 892


def test_native_structure() -> None:
    nbib = text("pubmed.nbib")
    assert len(re.findall(r"^PMID- \d+$", nbib, re.M)) == 251
    assert re.search(r"^TI  - .{10,82}\n {6}\S", nbib, re.M)  # wrapped continuation lines
    assert all(len(line) <= 88 for line in nbib.splitlines() if not line.startswith("      http"))
    embase = text("embase.ris")
    assert embase.startswith("\ufeffTY  - JOUR\n")  # UTF-8 BOM, as embase.com writes it
    embase = embase[1:]
    assert len(re.findall(r"^TY  - JOUR$", embase, re.M)) == 338
    assert len(re.findall(r"^ER  -$", embase, re.M)) == 338
    assert len(re.findall(r"^U2  - L\d+$", embase, re.M)) == 338
    wos = text("wos.txt")
    assert wos.startswith("\ufeffFN Clarivate Analytics Web of Science\nVR 1.0\nPT J\n")
    assert wos.endswith("ER\n\nEF\n")
    assert len(re.findall(r"^PT J$", wos, re.M)) == 231
    assert len(re.findall(r"^ER$", wos, re.M)) == 231
    assert re.search(r"^AU .+\n   \S", wos, re.M)  # multi-valued fields continue with 3 spaces
    cochrane = (EXPORTS / "cochrane.ris").read_bytes()
    assert cochrane.count(b"\r\n") == cochrane.count(b"\n")  # CRLF throughout
    assert len(re.findall(rb"^ER  - \r$", cochrane, re.M)) == 72
    assert len(re.findall(rb"^ID  - CN-\d{8}\r$", cochrane, re.M)) == 72


def test_truth_keys_are_the_record_keys(truth: list[dict[str, str]]) -> None:
    by_file: dict[str, set[str]] = defaultdict(set)
    for r in truth:
        by_file[r["file"]].add(r["source_id"])
    for name in FILES:
        assert set(records(name)) == by_file[name], name


def test_included_trials_are_where_truth_says(truth: list[dict[str, str]]) -> None:
    gen = load_generator()
    seed = list(csv.DictReader(gen.INCLUDED_STUDIES_CSV.splitlines()))
    included = [r for r in truth if r["category"] == "included"]
    pubs = {r["publication_id"] for r in included}
    assert len(pubs) == 12
    recs = {name: records(name) for name in FILES}
    found: dict[str, set[str]] = defaultdict(set)
    for r in included:
        body = squash(recs[r["file"]][r["source_id"]])
        matches = [s["ref"] for s in seed if squash(s["title"]) in body]
        assert matches, (r["file"], r["source_id"])
        found[matches[0]].add(r["publication_id"])
    assert set(found) == {s["ref"] for s in seed}
    assert all(len(p) == 1 for p in found.values())  # one publication per trial
    dbs = Counter(r["publication_id"] for r in included)
    assert sorted(dbs.values()) == [3, 3] + [4] * 10


def test_hard_cases_are_different_publications(truth: list[dict[str, str]]) -> None:
    pub_of = {(r["source_id"]): r["publication_id"] for r in truth}
    with (EXPORTS / "hard_cases.csv").open(encoding="utf-8", newline="") as fh:
        cases = list(csv.DictReader(fh))
    assert {c["kind"] for c in cases} >= {
        "conference_abstract_vs_article",
        "erratum_vs_article",
        "protocol_vs_results",
        "series_part_I_II",
    }
    for c in cases:
        a = {pub_of[s] for s in c["source_ids"].split()}
        b = {pub_of[s] for s in c["other_source_ids"].split()}
        assert a == {c["publication_id"]} and b == {c["other_publication_id"]}
        assert a != b
