"""The sample review's screening: reproducible files that give the seed review's flow.

``sample_project/make_screening.py`` removes the seed's 332 publication types before screening
(``screen remove``, as ``run.sh`` does) and writes two reviewers' votes and the adjudicator's
resolutions at both stages. Here they are regenerated and compared byte for byte with the committed
files, then imported through the library, after the sample's import and deduplication, as ``run.sh``
does it: the counts must be the seed's (892 records, 288 duplicates, 604 left, 332 removed by
publication type, 238 excluded at title/abstract, 34 full texts, 22 excluded, 12 included),
agreement realistic, no conflict left open and the audit chain intact.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_project"
SCREENING = SAMPLE / "screening"
FILES = (
    "removed_case_reports.csv",
    "tiab_yliu.csv",
    "tiab_ydong.csv",
    "tiab_resolutions.csv",
    "fulltext_yliu.csv",
    "fulltext_ydong.csv",
    "fulltext_resolutions.csv",
)

TYPE_COUNTS = {
    "animal study": 176,
    "case report or letter": 8,
    "review or meta-analysis": 67,
    "meeting abstract": 81,
}
TYPE_CATEGORIES = ("animal", "case_report_letter", "review_meta_analysis", "meeting_abstract")
ELIGIBILITY_REASONS = ("not an RCT", "wrong population", "wrong intervention", "wrong comparator")


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_screening", SAMPLE / "make_screening.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_screening"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def generator() -> ModuleType:
    return load_generator()


@pytest.fixture(scope="module")
def sample(
    generator: ModuleType, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[object, list[object], Path]]:
    """The sample review as run.sh builds it (init, members, four imports, dedup, the dedup
    decisions: the generator's ``build_review``), its references, the removals before screening
    (the generator's ``remove_before_screening``, which writes the case-report list into a
    directory of its own), then every vote and resolution imported through the library in
    run.sh's order. Built once: the library's bulk vote import takes most of this file's time."""
    from reviewtool.screening.service import import_decisions, import_resolutions, unblind_stage

    path = tmp_path_factory.mktemp("screening") / "review.db"
    listed = tmp_path_factory.mktemp("removed")
    review = generator.build_review(f"sqlite:///{path}")
    refs = generator.load_references(review)
    generator.remove_before_screening(review, refs, listed)
    for stage in ("tiab", "fulltext"):
        for reviewer in ("yliu", "ydong"):
            with review.transaction() as session:
                count = import_decisions(
                    session,
                    actor=reviewer,
                    path=str(SCREENING / f"{stage}_{reviewer}.csv"),
                    stage=stage,
                )
                assert count.written == (272 if stage == "tiab" else 34)
        with review.transaction() as session:
            import_resolutions(
                session, actor="jniu", path=str(SCREENING / f"{stage}_resolutions.csv"), stage=stage
            )
            # As run.sh: the owner ends blinding at title/abstract, so full text opens to the
            # reviewers (which references reached it shows how the others voted).
            if stage == "tiab":
                unblind_stage(session, actor="jniu", stage="tiab")
    yield review, refs, listed
    review.close()


@pytest.fixture(scope="module")
def screened(sample: tuple[object, list[object], Path]) -> object:
    return sample[0]


def test_files_are_reproduced(
    generator: ModuleType, sample: tuple[object, list[object], Path], tmp_path: Path
) -> None:
    _, refs, listed = sample
    left = [r for r in refs if r.category not in TYPE_CATEGORIES]  # type: ignore[attr-defined]
    written = generator.write_files(tmp_path, left)
    assert sorted(p.name for p in written) == sorted(FILES[1:])
    (tmp_path / FILES[0]).write_bytes((listed / FILES[0]).read_bytes())
    for name in FILES:
        assert (tmp_path / name).read_bytes() == (SCREENING / name).read_bytes(), name


def test_references_are_the_seeds(
    generator: ModuleType, sample: tuple[object, list[object], Path]
) -> None:
    _, refs, _ = sample
    assert len(refs) == 604
    generator.check_counts(refs)  # raises SystemExit otherwise


def _joined(script: str) -> str:
    return script.replace(" \\\n  ", " ")


def test_run_sh_removes_what_the_generator_removes(generator: ModuleType) -> None:
    """run.sh's `screen remove` lines, right after deduplication, are the generator's REMOVALS."""
    script = _joined((SAMPLE / "run.sh").read_text(encoding="utf-8"))
    lines = [line for line in script.splitlines() if line.startswith("rt ")]
    removals = [line for line in lines if line.startswith("rt screen remove")]
    assert removals == [generator.removal_command(*r) for r in generator.REMOVALS]
    first = lines.index(removals[0])
    assert lines[first - 1] == "rt dedup report --as jniu"
    assert lines[first + len(removals)].startswith("rt screen import-decisions")


def test_removed_before_screening_are_the_seeds_publication_types(screened: object) -> None:
    from reviewtool.screening.prescreen import removed_references

    with screened.reading() as session:  # type: ignore[attr-defined]
        removed = removed_references(session)
    by_reason: dict[str, int] = {}
    for reason in removed.values():
        by_reason[reason] = by_reason.get(reason, 0) + 1
    assert by_reason == TYPE_COUNTS
    assert sum(by_reason.values()) == 332


def _stats(review: object, stage: str) -> object:
    from reviewtool.screening.service import screening_stats

    with review.transaction() as session:  # type: ignore[attr-defined]
        return screening_stats(session, actor="jniu", stage=stage)  # the owner


def test_title_abstract_counts_are_the_seeds(screened: object) -> None:
    stats = _stats(screened, "tiab")
    assert stats.references == 272  # 604 - 332 removed before screening
    assert stats.screened == 272
    assert stats.open == 0
    assert stats.conflicts_open == 0
    assert stats.conflicts_resolved == 18
    assert stats.excluded == 238
    assert stats.included == 34
    by_reason = stats.excluded_by_reason
    assert set(by_reason) == set(ELIGIBILITY_REASONS)  # no publication type among them
    assert sum(by_reason[r] for r in ELIGIBILITY_REASONS) == 238
    assert {r: by_reason[r] for r in ELIGIBILITY_REASONS} == {
        "not an RCT": 138,
        "wrong intervention": 58,
        "wrong population": 33,
        "wrong comparator": 9,
    }


def test_title_abstract_agreement_is_realistic(screened: object) -> None:
    (pair,) = _stats(screened, "tiab").agreement
    assert {pair["reviewer_a"], pair["reviewer_b"]} == {"yliu", "ydong"}
    assert pair["n"] == 272
    assert 0.6 <= pair["kappa"] <= 0.85
    # Cohen's kappa from the 2 x 2 table of the committed files (maybe counts as include).
    table = _tiab_table()
    n = sum(table.values())
    po = (table["ii"] + table["ee"]) / n
    a_inc, b_inc = (table["ii"] + table["ie"]) / n, (table["ii"] + table["ei"]) / n
    pe = a_inc * b_inc + (1 - a_inc) * (1 - b_inc)
    assert n == 272 and table["ie"] + table["ei"] == 18
    assert pair["kappa"] == pytest.approx((po - pe) / (1 - pe))
    assert pair["kappa"] == pytest.approx(0.705, abs=0.001)
    assert pair["percent_agreement"] == pytest.approx(100 * 254 / 272)


def _tiab_table() -> dict[str, int]:
    """yliu x ydong at title/abstract: "ie" = yliu includes (or maybe), ydong excludes."""
    import csv

    def votes(name: str) -> dict[str, str]:
        with (SCREENING / name).open(encoding="utf-8", newline="") as handle:
            return {
                row["record_id"]: "e" if row["decision"] == "exclude" else "i"
                for row in csv.DictReader(handle)
            }

    a, b = votes("tiab_yliu.csv"), votes("tiab_ydong.csv")
    assert set(a) == set(b)
    table = {"ii": 0, "ie": 0, "ei": 0, "ee": 0}
    for rid in a:
        table[a[rid] + b[rid]] += 1
    return table


def test_full_text_counts_are_the_seeds(screened: object) -> None:
    stats = _stats(screened, "fulltext")
    assert stats.references == 34
    assert stats.screened == 34
    assert stats.open == 0
    assert stats.conflicts_open == 0
    assert stats.conflicts_resolved == 7
    assert stats.included == 12
    assert stats.excluded == 22
    assert stats.excluded_by_reason == {"not an RCT": 12, "insufficient data": 10}
    (pair,) = stats.agreement
    assert pair["n"] == 34
    assert pair["kappa"] < 1


def test_no_conflict_is_left_and_the_ledger_holds(screened: object) -> None:
    from reviewtool import audit
    from reviewtool.screening.service import list_conflicts

    with screened.transaction() as session:  # type: ignore[attr-defined]
        for stage in ("tiab", "fulltext"):
            assert list_conflicts(session, actor="jniu", stage=stage) == []
        assert audit.verify(session).ok


def test_prisma_counts_of_the_sample_are_the_seeds(screened: object, shared_dir: Path) -> None:
    """892 records (four databases) -> 288 duplicates -> 604 left -> 332 removed before screening
    by publication type (PRISMA 2020 "Records removed for other reasons", rob_prisma.md 4.7
    mapping B) -> 272 screened -> 238 excluded -> 34 reports sought and assessed -> 22 excluded ->
    12 studies from 12 reports; the two dose arms of Suk 2016 are one report of one study. The
    totals are those of ``seed/prisma_counts.json``."""
    import json

    from sqlmodel import select

    from reviewtool.screening.prisma import prisma_counts
    from reviewtool.storage.models import Record
    from reviewtool.studies.service import list_studies

    seed = json.loads((shared_dir / "seed" / "prisma_counts.json").read_text(encoding="utf-8"))
    with screened.reading() as session:  # type: ignore[attr-defined]
        counts = prisma_counts(session, actor="jniu")
        views = list_studies(session, actor="jniu")
        suk = [
            v
            for v in views
            if any(
                "Suk" in (record.authors or "")
                for record in session.exec(select(Record).where(Record.reference_id == v.study_id))
            )
        ]
    assert counts.broken_identities() == []
    assert counts.identified == seed["records_identified"] == 892
    assert set(counts.identified_by_source) == set(seed["databases"])
    assert counts.duplicates_removed == seed["duplicates_removed"] == 288
    assert counts.identified - counts.duplicates_removed == seed["records_screened"] == 604
    seed_types = {
        "animal study": seed["excluded_by_type"]["animal experiment"],
        "case report or letter": seed["excluded_by_type"]["case report or letter"],
        "review or meta-analysis": seed["excluded_by_type"]["review or meta-analysis"],
        "meeting abstract": seed["excluded_by_type"]["meeting abstract"],
    }
    assert counts.removed_by_reason == seed_types == TYPE_COUNTS
    assert counts.removed_other == 332
    assert counts.records_screened == 604 - 332 == 272
    assert counts.records_excluded == seed["excluded_title_abstract"] == 238
    assert counts.awaiting_title_abstract == 0
    assert (counts.reports_sought, counts.reports_not_retrieved, counts.reports_assessed) == (
        seed["full_text_assessed"], 0, 34,
    )  # fmt: skip
    assert counts.reports_excluded == seed["full_text_excluded"] == 22
    assert counts.excluded_by_reason == {"not an RCT": 12, "insufficient data": 10}
    assert (counts.studies_included, counts.reports_of_included_studies) == (
        seed["studies_included"], 12,
    )  # fmt: skip
    assert len(suk) == 1 and len(suk[0].references) == 1


@pytest.fixture(scope="module")
def reported(screened: object, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample's outcomes pooled (as run.sh does), then `report prisma --out` on the review."""
    from typer.testing import CliRunner

    from reviewtool.analysis.service import run_analysis
    from reviewtool.cli import app

    with screened.transaction() as session:  # type: ignore[attr-defined]
        run_analysis(
            session, actor="yliu", data_path=SAMPLE / "outcomes.csv", name="Liu 2022 outcomes"
        )
    out = tmp_path_factory.mktemp("report")
    url = str(screened.url)  # type: ignore[attr-defined]
    result = CliRunner().invoke(
        app, ["report", "prisma", "--out", str(out), "--db", url, "--as", "jniu"]
    )
    assert result.exit_code == 0, result.output
    for line in ("Records removed for other reasons", "Records screened", "Studies included"):
        assert line in result.stdout
    return out


def test_prisma_csv_is_the_r_package_template_with_the_seeds_counts(
    reported: Path, shared_dir: Path
) -> None:
    """Same columns and rows as the PRISMA2020 R package's PRISMA.csv; every ``n`` the seed's
    example (mapping A of rob_prisma.md 4.7) gives is ours too, except the three cells where the
    332 removed by publication type move from "records excluded" to "removed for other reasons"
    (mapping B: 620 removed before screening, 272 screened, 238 excluded)."""
    import csv

    def rows(path: Path) -> list[dict[str, str]]:
        with path.open(encoding="utf-8", newline="") as handle:
            return list(csv.DictReader(handle))

    templates = shared_dir / "spec" / "templates"
    ours = rows(reported / "prisma_PRISMA2020.csv")
    template = rows(templates / "PRISMA2020_template.csv")
    seed = rows(templates / "PRISMA2020_seed_review_example.csv")
    assert list(ours[0]) == list(template[0])
    fixed = ("data", "node", "box", "description", "boxtext", "tooltips", "url")
    assert [[r[c] for c in fixed] for r in ours] == [[r[c] for c in fixed] for r in template]
    mapping_b = {"excluded_other": "332", "records_screened": "272", "records_excluded": "238"}
    by_key = {r["data"]: r["n"] for r in ours if r["data"] != "NA"}
    for ours_row, seed_row in zip(ours, seed, strict=True):
        key, want = seed_row["data"], seed_row["n"]
        if key in mapping_b:
            assert ours_row["n"] == mapping_b[key], key
        elif key == "dbr_excluded":  # the seed leaves the split as placeholders A, B
            assert want == "Insufficient data, A; Not an RCT, B"
            assert ours_row["n"] == "Not an RCT, 12; Insufficient data, 10"
        elif want != "":
            assert ours_row["n"] == want, key
    assert by_key["database_specific_results"] == (
        "Cochrane Library, 72; MEDLINE (PubMed), 251; Ovid EMBASE, 338; Web of Science, 231"
    )
    assert int(by_key["duplicates"]) + 332 + 272 == 892


def test_prisma_diagram_shows_every_box_with_the_samples_numbers(reported: Path) -> None:
    import re
    import xml.etree.ElementTree as ET

    svg = ET.parse(reported / "prisma.svg").getroot()
    text = " ".join(" ".join(t.itertext()) for t in svg.iter() if t.tag.endswith("text"))
    text = re.sub(r"\s+", " ", text)
    for line in (
        "Identification of studies via databases and registers",
        "Identification", "Screening", "Included",
        "Records identified from*:", "Databases (n = 892)", "Cochrane Library (n = 72)",
        "MEDLINE (PubMed) (n = 251)", "Ovid EMBASE (n = 338)", "Web of Science (n = 231)",
        "Registers (n = 0)",
        "Records removed before screening:", "Duplicate records removed (n = 288)",
        "Records removed for other reasons (n = 332)", "Animal study (n = 176)",
        "Meeting abstract (n = 81)", "Review or meta-analysis (n = 67)",
        "Case report or letter (n = 8)",
        "Records screened (n = 272)", "Records excluded** (n = 238)",
        "Reports sought for retrieval (n = 34)", "Reports not retrieved (n = 0)",
        "Reports assessed for eligibility (n = 34)", "Reports excluded:",
        "Not an RCT (n = 12)", "Insufficient data (n = 10)",
        "Studies included in review (n = 12)", "Reports of included studies (n = 12)",
        "Studies included in meta-analysis (n = 12)",
    ):  # fmt: skip
        assert line in text, line
    png = (reported / "prisma.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
