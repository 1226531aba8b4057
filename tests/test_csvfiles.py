"""Decision files (screening votes, resolutions, dedup decisions) are read one way: a row that
cannot be taken at its word is refused with the file and the line where it starts, and nothing is
written.

Found by a new user: two rows on one record (the later silently in force), an extra field (silently
ignored), a UTF-16 file (refused with a codec message and no line), a non-UTF-8 byte (no line).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import func, select

from reviewtool.csvfiles import numbered, read_rows
from reviewtool.errors import InvalidInput
from reviewtool.storage import Review
from reviewtool.storage.models import AuditEvent

RIS = "".join(
    f"TY  - JOUR\nID  - R{i}\nTI  - Trial {i} of stem cells in cirrhosis\nPY  - 2020\nER  - \n\n"
    for i in range(1, 4)
)


@pytest.fixture
def review(fresh_review: Review, tmp_path: Path) -> Review:
    from reviewtool.importing.service import import_files

    export = tmp_path / "three.ris"
    export.write_text(RIS, encoding="utf-8")
    with fresh_review.transaction() as session:
        import_files(session, actor="alice", paths=[export], source="MEDLINE")
    return fresh_review


def _events(review: Review) -> int:
    with review.reading() as session:
        return int(session.exec(select(func.count()).select_from(AuditEvent)).one())


def _write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8", newline="")
    return str(path)


def test_two_votes_on_one_record_in_one_file_are_refused(review: Review, tmp_path: Path) -> None:
    from reviewtool.screening.service import import_decisions

    path = _write(
        tmp_path,
        "votes.csv",
        'record_id,decision,reason,note\n1,include,,"dose\narm"\n2,include,,\n1,exclude,animal study,\n',
    )
    before = _events(review)
    with pytest.raises(InvalidInput) as err, review.transaction() as session:
        import_decisions(session, actor="bob", path=path, stage="tiab")
    # Row 1 spans lines 2-3 (a quoted newline), so the repeat is on line 5.
    assert str(err.value) == (
        f"{path}:5: record 1 is already decided on line 2 of this file; keep one row per record"
    )
    assert _events(review) == before


def test_two_decisions_on_one_pair_in_either_order_are_refused(
    review: Review, tmp_path: Path
) -> None:
    from reviewtool.dedup.service import decide_from_file

    path = _write(
        tmp_path, "pairs.csv", "record_a,record_b,decision\n1,2,reject\n3,1,reject\n2,1,confirm\n"
    )
    before = _events(review)
    with pytest.raises(InvalidInput) as err, review.transaction() as session:
        decide_from_file(session, actor="alice", path=path)
    assert str(err.value) == (
        f"{path}:4: pair of records 1 and 2 is already decided on line 2 of this file; "
        "keep one row per pair"
    )
    assert _events(review) == before


def test_a_row_with_more_fields_than_the_header_is_refused(review: Review, tmp_path: Path) -> None:
    from reviewtool.screening.service import import_decisions

    path = _write(tmp_path, "votes.csv", "record_id,decision,reason,note\n1,include,,,extra\n")
    with pytest.raises(InvalidInput) as err, review.transaction() as session:
        import_decisions(session, actor="bob", path=path, stage="tiab")
    assert str(err.value) == f"{path}:2: 1 more field than the header has (4 columns): 'extra'"


def test_a_short_row_leaves_the_optional_columns_empty(tmp_path: Path) -> None:
    path = _write(tmp_path, "votes.csv", "record_id,decision,reason,note\n1,include\n")
    rows = read_rows(path, required={"record_id", "decision"}, what="decisions")
    assert [(line, row["decision"], row["reason"]) for line, row in numbered(rows)] == [
        (2, "include", None)
    ]


def test_utf16_files_are_read_and_other_bytes_name_their_line(tmp_path: Path) -> None:
    utf16 = tmp_path / "excel.csv"
    utf16.write_bytes("record_id,decision\n7,include\n".encode("utf-16"))
    rows = read_rows(str(utf16), required={"record_id", "decision"}, what="decisions")
    assert rows == [{"record_id": "7", "decision": "include"}]
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes(
        "record_id,decision,note\n1,include,ok\n2,exclude,Müller\n".encode("latin-1")
    )
    with pytest.raises(InvalidInput) as err:
        read_rows(str(latin1), required={"record_id", "decision"}, what="decisions")
    assert str(err.value) == f"{latin1}:3: not UTF-8 text (byte 0xfc); save the file as UTF-8 CSV"


def test_an_id_that_is_not_a_number_is_named(review: Review, tmp_path: Path) -> None:
    from reviewtool.screening.service import import_decisions

    path = _write(tmp_path, "votes.csv", "record_id,decision\n1,include\nabc,include\n")
    with pytest.raises(InvalidInput) as err, review.transaction() as session:
        import_decisions(session, actor="bob", path=path, stage="tiab")
    assert str(err.value) == f"{path}:3: 'abc' is not a whole number (record and pair ids are)"


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("# votes of 2026-11-29, by Bob, checked\nrecord_id,decision\n1,include\n", 1),
        ("record_id,decision\n1,include\n# checked\n2,exclude\n", 3),
        ("record_id,decision\n1,include\n\n# checked, twice, ok\n", 4),
    ],
)
def test_a_comment_line_is_named_as_one(tmp_path: Path, text: str, line: int) -> None:
    # It used to be read as a header ("needs the columns ...") or as a row ("1 more field than
    # the header has", "'# checked' is not a whole number").
    path = _write(tmp_path, "votes.csv", text)
    with pytest.raises(InvalidInput) as err:
        read_rows(path, required={"record_id", "decision"}, what="decisions")
    assert str(err.value) == (
        f"{path}:{line}: a comment line (it starts with '#'), and a decisions file has none: "
        "delete the line (or quote the value if it is data)"
    )


def test_blank_lines_are_skipped_and_lines_keep_the_file_numbers(tmp_path: Path) -> None:
    # blank 1, header 2, row 3, blank 4, a quoted note over lines 5-6, a row of empty cells 7 (as
    # Excel leaves them), whitespace 8, row 9: a quoted '#' is a value, not a comment
    text = '\nrecord_id,decision,note\n1,include,\n\n2,exclude,"two\nlines"\n,,\n  \n"#3",maybe,x\n'
    path = _write(tmp_path, "votes.csv", text)
    rows = read_rows(path, required={"record_id", "decision"}, what="decisions")
    assert [(line, row["record_id"]) for line, row in numbered(rows)] == [
        (3, "1"),
        (5, "2"),
        (9, "#3"),
    ]


def test_a_bad_row_after_a_blank_line_names_its_own_line(review: Review, tmp_path: Path) -> None:
    # csv.DictReader skips the blank line silently, and the line was counted one short: line 3
    from reviewtool.screening.service import import_decisions

    path = _write(tmp_path, "votes.csv", "record_id,decision\n1,include\n\nabc,include\n")
    with pytest.raises(InvalidInput) as err, review.transaction() as session:
        import_decisions(session, actor="bob", path=path, stage="tiab")
    assert str(err.value) == f"{path}:4: 'abc' is not a whole number (record and pair ids are)"
