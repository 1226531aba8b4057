"""Importing into a review: batches with provenance, verbatim records, all-or-nothing, re-import guard."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, text
from sqlmodel import select

from reviewtool import audit
from reviewtool.errors import AlreadyExists, InvalidInput, ParseError, PermissionDenied
from reviewtool.importing.service import import_files, list_records
from reviewtool.storage import Review
from reviewtool.storage.models import ImportBatch, Member, Record

FORMATS = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "formats"
EXPORTS = Path(__file__).resolve().parents[1] / "sample_project" / "exports"

TWO_RIS = """TY  - JOUR
ID  - A1
TI  - Umbilical cord mesenchymal stem cells in decompensated cirrhosis
AU  - Zhang, Zheng
AU  - Lin, Hu
PY  - 2012
JO  - J Gastroenterol Hepatol
VL  - 27
SP  - 112
EP  - 120
DO  - 10.1111/j.1440-1746.2011.07024.x
ER  -

TY  - JOUR
ID  - A2
TI  - Peripheral vein infusion of autologous mesenchymal stem cells
AU  - Salama, H.
PY  - 2014
ER  -
"""


def _count(review: Review, model: type) -> int:
    with review.reading() as session:
        return int(session.exec(select(func.count()).select_from(model)).one())


@pytest.fixture
def ris_file(tmp_path: Path) -> Path:
    path = tmp_path / "search.ris"
    path.write_text(TWO_RIS, encoding="utf-8")
    return path


def test_import_keeps_provenance_raw_text_and_normalised_fields(
    fresh_review: Review, ris_file: Path
) -> None:
    with fresh_review.transaction() as session:
        (report,) = import_files(
            session,
            actor="bob",
            paths=[ris_file],
            source="MEDLINE (PubMed)",
            searched_on="2021-09-15",
            query="mesenchymal AND liver",
        )
    assert (report.records, report.format) == (2, "ris")
    with fresh_review.reading() as session:
        batch = session.get(ImportBatch, report.batch_id)
        assert batch is not None
        importer = session.get(Member, batch.imported_by_id)
        assert importer is not None
        assert (batch.source, batch.searched_on, batch.query, importer.name) == (
            "MEDLINE (PubMed)",
            "2021-09-15",
            "mesenchymal AND liver",
            "bob",
        )
        assert len(batch.sha256) == 64 and batch.record_count == 2
        first = session.exec(select(Record).where(Record.source_key == "A1")).one()
        assert first.raw.startswith("TY  - JOUR\nID  - A1") and "EP  - 120" in first.raw
        assert json.loads(first.authors) == ["Zhang, Zheng", "Lin, Hu"]
        assert (first.year, first.volume, first.doi) == (
            2012,
            "27",
            "10.1111/j.1440-1746.2011.07024.x",
        )
        assert first.pages == "112-120"
        (event,) = audit.list_events(session, action="records-imported")
        assert event.actor == "bob" and event.payload["after"]["record_count"] == 2
        assert audit.verify(session).ok
        views = list_records(session)
    assert [(v.record_id, v.source_key, v.first_author, v.status) for v in views] == [
        (1, "A1", "Zhang, Zheng", "unique"),
        (2, "A2", "Salama, H.", "unique"),
    ]


def test_reimport_is_refused_unless_forced(fresh_review: Review, ris_file: Path) -> None:
    with fresh_review.transaction() as session:
        import_files(session, actor="bob", paths=[ris_file], source="Embase")
    with (
        pytest.raises(AlreadyExists, match="imported already as batch 1"),
        fresh_review.transaction() as session,
    ):
        import_files(session, actor="bob", paths=[ris_file], source="Embase")
    with fresh_review.transaction() as session:
        import_files(session, actor="bob", paths=[ris_file], source="Embase", force=True)
    assert _count(fresh_review, Record) == 4


def test_a_bad_file_among_good_ones_writes_nothing(
    fresh_review: Review, ris_file: Path, shared_dir: Path
) -> None:
    broken = (
        shared_dir / "fixtures" / "formats" / "derived_malformed" / "ris_truncated_last_record.ris"
    )
    with pytest.raises(ParseError) as caught, fresh_review.transaction() as session:
        import_files(session, actor="bob", paths=[ris_file, broken], source="Embase")
    assert str(broken) in str(caught.value)
    assert _count(fresh_review, Record) == 0
    assert _count(fresh_review, ImportBatch) == 0
    with fresh_review.reading() as session:
        assert not audit.list_events(session, action="records-imported")


def test_skip_bad_imports_the_good_and_lists_the_bad(
    fresh_review: Review, shared_dir: Path
) -> None:
    broken = (
        shared_dir
        / "fixtures"
        / "formats"
        / "derived_malformed"
        / "ris_missing_ER_between_records.ris"
    )
    with fresh_review.transaction() as session:
        try:
            (report,) = import_files(
                session, actor="bob", paths=[broken], source="Embase", skip_bad=True
            )
        except ParseError:
            pytest.skip("this parser recovers nothing from the file")
    with fresh_review.reading() as session:
        batch = session.get(ImportBatch, report.batch_id)
        assert batch is not None
        assert json.loads(batch.bad_records) == list(report.bad)
        assert batch.record_count == report.records == _count(fresh_review, Record)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"source": " "}, "--source must name the database"),
        ({"source": "Embase", "searched_on": "15/09/2021"}, "--searched must be a date"),
    ],
)
def test_bad_options_are_refused(
    fresh_review: Review, ris_file: Path, kwargs: dict[str, str], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message), fresh_review.transaction() as session:
        import_files(session, actor="bob", paths=[ris_file], **kwargs)  # type: ignore[arg-type]


def test_missing_file_and_binary_garbage(fresh_review: Review, tmp_path: Path) -> None:
    with (
        pytest.raises(InvalidInput, match="cannot read the file"),
        fresh_review.transaction() as session,
    ):
        import_files(session, actor="bob", paths=[tmp_path / "nope.ris"], source="Embase")
    garbage = tmp_path / "garbage.ris"
    garbage.write_bytes(bytes(range(256)) * 20)
    with pytest.raises(InvalidInput), fresh_review.transaction() as session:
        import_files(session, actor="bob", paths=[garbage], source="Embase")
    assert _count(fresh_review, ImportBatch) == 0


def test_adjudicator_may_not_import(fresh_review: Review, ris_file: Path) -> None:
    with pytest.raises(PermissionDenied), fresh_review.transaction() as session:
        import_files(session, actor="carol", paths=[ris_file], source="Embase")


def test_record_edited_behind_the_tools_back_is_detected(
    fresh_review: Review, ris_file: Path
) -> None:
    with fresh_review.transaction() as session:
        import_files(session, actor="bob", paths=[ris_file], source="Embase")
    with fresh_review.engine.begin() as conn:
        conn.execute(text("UPDATE record SET title = 'something else' WHERE id = 2"))
    with fresh_review.reading() as session:
        report = audit.verify(session)
    assert any(p.startswith("import_batch 1:") for p in report.problems)


@pytest.mark.skipif(not EXPORTS.is_dir(), reason="sample exports not generated")
def test_sample_exports_import_with_their_counts(fresh_review: Review) -> None:
    expected = {"pubmed.nbib": 251, "embase.ris": 338, "wos.txt": 231, "cochrane.ris": 72}
    with fresh_review.transaction() as session:
        for name, count in expected.items():
            (report,) = import_files(session, actor="bob", paths=[EXPORTS / name], source=name)
            assert report.records == count
    assert _count(fresh_review, Record) == 892


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=st.binary(max_size=2000)
    | st.text(max_size=2000).map(lambda t: ("TY  - JOUR\n" + t).encode())
)
def test_random_bytes_give_a_clear_error_or_a_whole_batch(
    fresh_review: Review, tmp_path: Path, data: bytes
) -> None:
    from reviewtool.errors import ReviewtoolError

    path = tmp_path / "random.ris"
    path.write_bytes(data)
    batches, records = _count(fresh_review, ImportBatch), _count(fresh_review, Record)
    try:
        with fresh_review.transaction() as session:
            (report,) = import_files(
                session, actor="bob", paths=[path], source="Embase", force=True
            )
    except ReviewtoolError as exc:
        assert str(exc).strip() and "\n" not in str(exc).strip()
        assert (_count(fresh_review, ImportBatch), _count(fresh_review, Record)) == (
            batches,
            records,
        )
    else:
        assert _count(fresh_review, ImportBatch) == batches + 1
        assert _count(fresh_review, Record) == records + report.records
