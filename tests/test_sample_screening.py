"""The sample review's screening: reproducible files that give the seed review's flow.

``sample_project/make_screening.py`` writes two reviewers' votes and the adjudicator's resolutions
at both stages. Here they are regenerated and compared byte for byte with the committed files, then
imported through the library, after the sample's import and deduplication, as ``run.sh`` does it:
the counts must be the seed's (604 screened, 570 excluded, 34 full texts, 22 excluded, 12
included), agreement realistic, no conflict left open and the audit chain intact.
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
) -> Iterator[tuple[object, list[object]]]:
    """The sample review as run.sh builds it (init, members, four imports, dedup, the dedup
    decisions: the generator's ``build_review``), its references, then every vote and resolution
    imported through the library in run.sh's order. Built once: the library's bulk vote import
    takes most of this file's time."""
    from reviewtool.screening.service import import_decisions, import_resolutions, unblind_stage

    path = tmp_path_factory.mktemp("screening") / "review.db"
    review = generator.build_review(f"sqlite:///{path}")
    refs = generator.load_references(review)
    for stage in ("tiab", "fulltext"):
        for reviewer in ("yliu", "ydong"):
            with review.transaction() as session:
                count = import_decisions(
                    session,
                    actor=reviewer,
                    path=str(SCREENING / f"{stage}_{reviewer}.csv"),
                    stage=stage,
                )
                assert count == (604 if stage == "tiab" else 34)
        with review.transaction() as session:
            import_resolutions(
                session, actor="jniu", path=str(SCREENING / f"{stage}_resolutions.csv"), stage=stage
            )
            # As run.sh: the owner ends blinding at title/abstract, so full text opens to the
            # reviewers (which references reached it shows how the others voted).
            if stage == "tiab":
                unblind_stage(session, actor="jniu", stage="tiab")
    yield review, refs
    review.close()


@pytest.fixture(scope="module")
def screened(sample: tuple[object, list[object]]) -> object:
    return sample[0]


def test_files_are_reproduced(
    generator: ModuleType, sample: tuple[object, list[object]], tmp_path: Path
) -> None:
    _, refs = sample
    written = generator.write_files(tmp_path, refs)
    assert sorted(p.name for p in written) == sorted(FILES)
    for name in FILES:
        assert (tmp_path / name).read_bytes() == (SCREENING / name).read_bytes(), name


def test_references_are_the_seeds(
    generator: ModuleType, sample: tuple[object, list[object]]
) -> None:
    _, refs = sample
    assert len(refs) == 604
    generator.check_counts(refs)  # raises SystemExit otherwise


def _stats(review: object, stage: str) -> object:
    from reviewtool.screening.service import screening_stats

    with review.transaction() as session:  # type: ignore[attr-defined]
        return screening_stats(session, actor="jniu", stage=stage)  # the owner


def test_title_abstract_counts_are_the_seeds(screened: object) -> None:
    stats = _stats(screened, "tiab")
    assert stats.references == 604
    assert stats.screened == 604
    assert stats.open == 0
    assert stats.conflicts_open == 0
    assert stats.conflicts_resolved == 18
    assert stats.excluded == 570
    assert stats.included == 34
    by_reason = stats.excluded_by_reason
    assert {k: by_reason[k] for k in TYPE_COUNTS} == TYPE_COUNTS
    assert set(by_reason) == set(TYPE_COUNTS) | set(ELIGIBILITY_REASONS)
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
    assert pair["n"] == 604
    assert 0.6 <= pair["kappa"] <= 0.85
    assert pair["kappa"] == pytest.approx(0.727, abs=0.001)
    assert pair["percent_agreement"] == pytest.approx(100 * 586 / 604)


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


def test_prisma_counts_of_the_sample_are_the_seeds(screened: object) -> None:
    """892 records (four databases) -> 288 duplicates -> 604 screened -> 570 excluded -> 34 reports
    sought and assessed -> 22 excluded -> 12 studies from 12 reports; the two dose arms of Suk 2016
    are one report of one study (rob_prisma.md 4.7, mapping A)."""
    from sqlmodel import select

    from reviewtool.screening.prisma import prisma_counts
    from reviewtool.storage.models import Record
    from reviewtool.studies.service import list_studies

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
    assert counts.identified == 892
    assert set(counts.identified_by_source) == {
        "MEDLINE (PubMed)", "Ovid EMBASE", "Web of Science", "Cochrane Library",
    }  # fmt: skip
    assert (counts.duplicates_removed, counts.records_screened) == (288, 604)
    assert (counts.records_excluded, counts.awaiting_title_abstract) == (570, 0)
    assert (counts.reports_sought, counts.reports_not_retrieved, counts.reports_assessed) == (
        34, 0, 34,
    )  # fmt: skip
    assert counts.reports_excluded == 22
    assert counts.excluded_by_reason == {"not an RCT": 12, "insufficient data": 10}
    assert (counts.studies_included, counts.reports_of_included_studies) == (12, 12)
    assert len(suk) == 1 and len(suk[0].references) == 1
