"""``reviewtool export``: decided references as RIS/BibTeX/CSV that import back unchanged, the
included studies' reports as RIS, the audit log as JSON Lines; blinding holds (issue 13, Exports)."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import bibtexparser
import pytest
import rispy
from typer.testing import CliRunner

from reviewtool.cli import app
from reviewtool.importing.service import import_files
from reviewtool.review.service import set_setting
from reviewtool.screening import service as sv
from reviewtool.storage import Review, open_review
from reviewtool.storage.models import Record

runner = CliRunner()

RIS = """TY  - JOUR
TI  - Umbilical cord MSC for acute-on-chronic liver failure: a randomised trial
AU  - Shi, Ming
AU  - Zhang, Zheng
PY  - 2012
JO  - Am J Gastroenterol
VL  - 107
IS  - 5
SP  - 67
EP  - 76
DO  - 10.1038/ajg.2012.1
AB  - Forty-three patients were randomised.
KW  - stem cells
KW  - liver failure
ER  -

TY  - JOUR
TI  - Stem cells in mice with fibrosis
AU  - Doe, Jane
PY  - 2019
JO  - Hepatology
DO  - 10.1000/mice.2
ER  -

TY  - JOUR
TI  - =HYPERLINK("http://x","y") a title that starts like a formula
AU  - Roe, R
PY  - 2020
ER  -
"""


@pytest.fixture
def decided(fresh_review: Review, tmp_path: Path) -> str:
    """References 1-3; bob alone decides (one reviewer required): 1 and 3 included, 2 excluded as
    an animal study; title/abstract unblinded; reference 1 included at full text (still blind) with
    its article as a file."""
    path = tmp_path / "search.ris"
    path.write_text(RIS, encoding="utf-8")
    pdf = tmp_path / "shi2012.pdf"
    pdf.write_bytes(b"%PDF-1.4\n")
    with fresh_review.transaction() as session:
        import_files(session, actor="alice", paths=[path], source="MEDLINE")
        set_setting(session, actor="alice", key="screening.reviewers_required", value="1")
    with fresh_review.transaction() as session:
        sv.cast_vote(session, actor="bob", record_id=1, stage="tiab", decision="include")
        sv.cast_vote(
            session,
            actor="bob",
            record_id=2,
            stage="tiab",
            decision="exclude",
            reason="animal study",
        )
        sv.cast_vote(session, actor="bob", record_id=3, stage="tiab", decision="include")
    with fresh_review.transaction() as session:
        sv.unblind_stage(session, actor="alice", stage="tiab")
    with fresh_review.transaction() as session:
        sv.set_fulltext(session, actor="bob", record_id=1, location=str(pdf))
    with fresh_review.transaction() as session:
        sv.cast_vote(session, actor="bob", record_id=1, stage="fulltext", decision="include")
    url = str(fresh_review.engine.url)
    fresh_review.close()
    return url.removeprefix("sqlite:///")


def _cli(db: str, *args: str) -> object:
    return runner.invoke(app, [*args, "--db", db])


def test_ris_export_imports_back_with_every_field(decided: str, tmp_path: Path) -> None:
    out = tmp_path / "tiab.ris"
    result = _cli(
        decided, "export", "references", "--stage", "tiab", "-o", str(out), "--as", "alice"
    )
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    text = out.read_text(encoding="utf-8")
    # each record starts at its TY tag: no "1." counter line before it (rispy's default)
    assert text.startswith("TY  - JOUR\n") and not re.search(r"^\d+\.\s*$", text, re.M)
    entries = rispy.loads(text)
    assert [e["id"] for e in entries] == ["1", "2", "3"]
    shi = entries[0]
    assert shi["authors"] == ["Shi, Ming", "Zhang, Zheng"]
    assert (shi["start_page"], shi["end_page"], shi["volume"], shi["number"]) == (
        "67", "76", "107", "5",
    )  # fmt: skip
    assert shi["notes"] == ["reviewtool tiab: include by agreement"]
    assert entries[1]["notes"] == ["reviewtool tiab: exclude (animal study) by agreement"]
    # Imported into a new review by our own RIS reader, the bibliographic fields are the same.
    copy = open_review_copy(tmp_path)
    with copy.transaction() as session:
        import_files(session, actor="alice", paths=[out], source="export")
    with copy.reading() as session:
        again = {r.title: r for r in session.exec(__import__("sqlmodel").select(Record)).all()}
    first = again["Umbilical cord MSC for acute-on-chronic liver failure: a randomised trial"]
    assert json.loads(first.authors) == ["Shi, Ming", "Zhang, Zheng"]
    assert (first.year, first.journal, first.doi, first.pages) == (
        2012, "Am J Gastroenterol", "10.1038/ajg.2012.1", "67-76",
    )  # fmt: skip
    assert json.loads(first.keywords) == ["stem cells", "liver failure"]
    copy.close()


def open_review_copy(tmp_path: Path) -> Review:
    from reviewtool.review.service import init_review

    return init_review(f"sqlite:///{tmp_path / 'copy.db'}", title="copy", owner="alice")


def test_bibtex_export_parses_and_filters_by_decision(decided: str, tmp_path: Path) -> None:
    result = _cli(
        decided, "export", "references", "--decision", "include", "-f", "bibtex", "--as", "alice"
    )
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    library = bibtexparser.parse_string(result.stdout)  # type: ignore[attr-defined]
    assert not library.failed_blocks
    assert [e.key for e in library.entries] == ["Shi2012_1", "Roe2020_3"]
    shi = library.entries[0]
    assert shi["author"] == "Shi, Ming and Zhang, Zheng"
    assert shi["pages"] == "67--76" and shi["doi"] == "10.1038/ajg.2012.1"
    assert shi["note"] == "reviewtool tiab: include by agreement"
    # and our own BibTeX reader takes it back with the same fields
    path = tmp_path / "included.bib"
    path.write_text(result.stdout, encoding="utf-8")  # type: ignore[attr-defined]
    copy = open_review_copy(tmp_path)
    with copy.transaction() as session:
        import_files(session, actor="alice", paths=[path], source="export")
    with copy.reading() as session:
        again = session.exec(__import__("sqlmodel").select(Record).order_by(Record.id)).all()
    assert [json.loads(r.authors) for r in again] == [["Shi, Ming", "Zhang, Zheng"], ["Roe, R"]]
    assert (again[0].pages, again[0].year, again[0].doi) == ("67-76", 2012, "10.1038/ajg.2012.1")
    copy.close()


def test_csv_export_columns_and_formula_cells(decided: str) -> None:
    result = _cli(decided, "export", "references", "-f", "csv", "--as", "alice")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    rows = list(csv.DictReader(io.StringIO(result.stdout)))  # type: ignore[attr-defined]
    assert [(r["reference_id"], r["decision"], r["reason"]) for r in rows] == [
        ("1", "include", ""), ("2", "exclude", "animal study"), ("3", "include", ""),
    ]  # fmt: skip
    assert rows[0]["authors"] == "Shi, Ming; Zhang, Zheng" and rows[0]["year"] == "2012"
    assert rows[2]["title"].startswith("'=HYPERLINK")


def test_reports_ris_names_the_file_and_the_study(decided: str, tmp_path: Path) -> None:
    result = _cli(decided, "export", "reports", "--as", "alice")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    (entry,) = rispy.loads(result.stdout)  # type: ignore[attr-defined]
    assert entry["file_attachments1"] == str(tmp_path / "shi2012.pdf")
    assert entry["notes"] == ["reviewtool study 1, report 1 (journal article)"]
    assert entry["doi"] == "10.1038/ajg.2012.1"


def test_audit_jsonl_is_the_log_as_the_reader_may_see_it(decided: str, tmp_path: Path) -> None:
    out = tmp_path / "audit.jsonl"
    assert _cli(decided, "export", "audit", "-o", str(out), "--as", "alice").exit_code == 0  # type: ignore[attr-defined]
    events = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    logged = json.loads(_cli(decided, "audit", "log", "-f", "json", "--as", "alice").stdout)  # type: ignore[attr-defined]
    assert events == logged
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))


def test_blind_stage_refuses_the_reviewer_and_writes_nothing(decided: str, tmp_path: Path) -> None:
    out = tmp_path / "x.ris"
    result = _cli(
        decided, "export", "references", "--stage", "fulltext", "-o", str(out), "--as", "bob"
    )
    assert result.exit_code == 5  # type: ignore[attr-defined]
    assert "hidden while the stage is blind" in result.stderr  # type: ignore[attr-defined]
    assert not out.exists() and not list(tmp_path.glob(".x.ris.*"))
    assert _cli(decided, "export", "reports", "--as", "bob").exit_code == 5  # type: ignore[attr-defined]


def test_bad_decision_and_missing_folder_are_one_line(decided: str, tmp_path: Path) -> None:
    bad = _cli(decided, "export", "references", "--decision", "maybe", "--as", "alice")
    assert bad.exit_code == 2  # type: ignore[attr-defined]
    assert bad.stderr == (  # type: ignore[attr-defined]
        "reviewtool: error: --decision must be one of include, exclude, all, not 'maybe'\n"
    )
    nowhere = tmp_path / "no" / "such.ris"
    missing = _cli(decided, "export", "references", "-o", str(nowhere), "--as", "alice")
    assert missing.exit_code == 2 and "does not exist" in missing.stderr  # type: ignore[attr-defined]


def test_an_export_failing_midway_leaves_the_earlier_file(
    decided: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``-o FILE`` goes through ``outfolder.written_file``: a disk that fills while the file is
    written leaves the earlier export as it was and no temporary file; one line, exit 2."""
    import os

    out = tmp_path / "included.ris"
    out.write_text("an earlier export", encoding="utf-8")

    def full_disk(fd: int) -> None:
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr(os, "fsync", full_disk)
        failed = _cli(decided, "export", "references", "-o", str(out), "--as", "alice")
    assert failed.exit_code == 2  # type: ignore[attr-defined]
    assert "No space left on device" in failed.stderr  # type: ignore[attr-defined]
    assert out.read_text(encoding="utf-8") == "an earlier export"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    done = _cli(decided, "export", "references", "-o", str(out), "--as", "alice")
    assert done.exit_code == 0, done.output  # type: ignore[attr-defined]
    assert len(rispy.loads(out.read_text(encoding="utf-8"))) == 3


def test_the_export_stages_report_their_progress(decided: str) -> None:
    """The callbacks the export commands' progress bars draw: one call per item, of the total
    (3 references decided at title/abstract, 2 of them included; 1 included study; the
    owner sees every event of the ledger)."""
    from reviewtool.report.exports import audit_lines, decided_references, included_reports

    review = open_review(f"sqlite:///{decided}")
    try:
        with review.reading() as session:
            calls: dict[str, list[tuple[int, int]]] = {"all": [], "inc": [], "studies": []}
            decided_references(
                session,
                actor="alice",
                stage="tiab",
                progress=lambda d, t: calls["all"].append((d, t)),
            )
            decided_references(
                session,
                actor="alice",
                stage="tiab",
                decision="include",
                progress=lambda d, t: calls["inc"].append((d, t)),
            )
            included_reports(
                session, actor="alice", progress=lambda d, t: calls["studies"].append((d, t))
            )
            events: list[tuple[int, int]] = []
            lines = list(
                audit_lines(session, actor="alice", progress=lambda d, t: events.append((d, t)))
            )
    finally:
        review.close()
    assert calls == {
        "all": [(1, 3), (2, 3), (3, 3)],
        "inc": [(1, 2), (2, 2)],
        "studies": [(1, 1)],
    }
    assert len(lines) == len(events) > 10
    assert events == [(n, len(lines)) for n in range(1, len(lines) + 1)]


_ = open_review  # the module's helpers open reviews through the library only


def test_bibtex_keeps_an_entry_whose_title_has_an_unbalanced_brace() -> None:
    from reviewtool.report.exports import ExportedReference, to_bibtex

    ref = ExportedReference(
        reference_id=9, record_id=9, title="Effect of {MSC} on ALT } in ACLF", authors=(),
        year=None, journal=None, volume=None, issue=None, pages=None, doi=None, pmid=None,
        abstract=None, keywords=(), stage="tiab", decision="include", reason="", via="agreement",
    )  # fmt: skip
    library = bibtexparser.parse_string(to_bibtex([ref]))
    assert not library.failed_blocks and library.entries[0].key == "anon_9"
    assert "ALT" in library.entries[0]["title"]


def test_audit_jsonl_of_a_blind_reviewer_carries_no_hash_to_test_guesses_against(
    decided: str,
) -> None:
    """Full text is still blind to bob: his export has no seq or hash (a hash next to its
    predecessor's would let him try the ~27 possible votes of another reviewer)."""
    result = _cli(decided, "export", "audit", "--as", "bob")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    events = [json.loads(line) for line in result.stdout.splitlines()]  # type: ignore[attr-defined]
    assert events and all(e["hash"] is None and e["seq"] is None for e in events)
    assert {e["action"] for e in events} >= {"screening-decision", "records-imported"}
