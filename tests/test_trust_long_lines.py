"""Overlong lines are refused early with bounded memory (issue 14, section 5).

Every importer's read path goes through ``csvfiles.check_lines`` before the file is read whole:
exports of every format, screening decisions and resolutions, dedup decisions, extraction values,
risk-of-bias files, analysis tables. The refusal is one line naming the file and the line. The
line numbers are checked against an independent count (the file split on its line ends), and
the memory against ``tracemalloc`` on a line past the real 64 MiB bound.
"""

from __future__ import annotations

import re
import tracemalloc
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reviewtool import csvfiles
from reviewtool.cli import app
from reviewtool.csvfiles import MAX_LINE_BYTES, check_lines
from reviewtool.errors import InvalidInput
from reviewtool.importing.service import import_files
from reviewtool.storage import Review

runner = CliRunner()

# (fixture under shared/fixtures/formats, format): one real export of each kind.
EXPORTS = [
    ("ris/asysd__ris_export.txt", "ris"),  # CRLF line ends
    ("nbib/reflib__blue-light.nbib", "nbib"),
    ("bibtex/uvt__wos_savedrecs.bib", "bibtex"),
    ("endnote_tagged/colrev__ais_enl.txt", "endnote_tagged"),
    ("wos_plaintext/metaknowledge__testFile.isi", "wos"),
    ("wos_tabdelimited/uvt__savedrecs_cited_by.txt", "wos_tab"),
    ("csv/litstudy__scopus.csv", "csv"),
    ("ovid_embase/knh11545__Embase_endnote_r3001-3002.cgi", "ovid"),
]


def longest_line(data: bytes) -> tuple[int, int]:
    """(1-based line, its length in bytes) of the longest line: the first one when tied. An
    independent count: the bytes split on CRLF, CR or LF."""
    lines = re.split(rb"\r\n|\r|\n", data)
    length = max(len(x) for x in lines)
    return next(i for i, x in enumerate(lines, 1) if len(x) == length), length


@pytest.mark.parametrize(("rel", "fmt"), EXPORTS)
def test_every_export_format_is_refused_at_its_longest_line(
    fresh_review: Review, shared_dir: Path, monkeypatch: pytest.MonkeyPatch, rel: str, fmt: str
) -> None:
    path = shared_dir / "fixtures" / "formats" / rel
    line, length = longest_line(path.read_bytes())
    monkeypatch.setattr(csvfiles, "MAX_LINE_BYTES", length - 1)
    with fresh_review.transaction() as s, pytest.raises(InvalidInput) as caught:
        import_files(s, actor="alice", paths=[path], source="test", format=fmt)
    assert str(caught.value) == (
        f"{path}:{line}: a line longer than {length - 1} bytes (the most reviewtool reads); "
        "nothing was read from it: check this is the export file you meant (not a binary, "
        "corrupt or concatenated file), or split it into lines"
    )
    monkeypatch.setattr(csvfiles, "MAX_LINE_BYTES", length)  # the longest line allowed: read
    with fresh_review.transaction() as s:
        (report,) = import_files(s, actor="alice", paths=[path], source="test", format=fmt)
    assert report.records > 0


def test_an_endnote_xml_file_on_one_line_is_bounded_per_record(
    fresh_review: Review, shared_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = shared_dir / "fixtures" / "formats" / "endnote_xml" / "reflib__blue-light.xml"
    data = path.read_bytes()
    assert longest_line(data)[0] == 1 and longest_line(data)[1] > 500_000  # the file is one line
    # The longest stretch between two record ends (the first one: from the start of the file).
    pieces = data.split(b"</record>")
    longest = max(len(p) for p in pieces[:-1])
    monkeypatch.setattr(csvfiles, "MAX_LINE_BYTES", longest)
    with fresh_review.transaction() as s:
        (report,) = import_files(s, actor="alice", paths=[path], source="test")
    assert report.records == 102  # MANIFEST: 102 records
    monkeypatch.setattr(csvfiles, "MAX_LINE_BYTES", longest - 1)
    with pytest.raises(InvalidInput, match=rf"^{re.escape(str(path))}:1: an XML record longer"):
        check_lines(path, what="export")


def test_line_numbers_count_crlf_cr_and_lf_as_the_parsers_do(tmp_path: Path) -> None:
    path = tmp_path / "mixed.ris"
    path.write_bytes(b"a\r\nb\rc\n" + b"x" * 40 + b"\r\n\r\nend\n")
    assert longest_line(path.read_bytes()) == (4, 40)
    with pytest.raises(InvalidInput, match=r"mixed.ris:4: a line longer than 39 bytes"):
        check_lines(path, what="export", limit=39)
    check_lines(path, what="export", limit=40)
    # A CRLF split across two of the pieces read is one line end, not two.
    split = tmp_path / "split.txt"
    split.write_bytes(b"y" * 9 + b"\r\n" + b"z" * 12 + b"\n")
    with pytest.raises(InvalidInput, match=r"split.txt:2: a line longer than 10 bytes"):
        check_lines(split, what="export", limit=10)


def test_a_line_past_the_real_bound_is_refused_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "huge.ris"
    with path.open("wb") as fh:
        fh.write(b"TY  - JOUR\nTI  - ")
        block = b"x" * (1 << 20)
        for _ in range(MAX_LINE_BYTES // len(block) + 2):
            fh.write(block)
    tracemalloc.start()
    try:
        with pytest.raises(InvalidInput, match=r"huge.ris:2: a line longer than 64 MiB"):
            check_lines(path, what="export")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * (1 << 20)  # a few pieces of 1 MiB, never the line


def test_decisions_values_and_tables_are_refused_the_same_way(
    fresh_review: Review, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reviewtool.extraction.service import add_form
    from tests.extraction_builder import FORM

    with fresh_review.transaction() as s:
        add_form(s, actor="alice", text=FORM, file_name="form.toml")
    monkeypatch.setattr(csvfiles, "MAX_LINE_BYTES", 100)
    note = "n" * 200
    cases = {
        ("screen", "import-decisions"): f"record_id,decision,note\n1,include,\n2,include,{note}\n",
        ("screen", "import-resolutions"): f"record_id,decision,note\n1,include,{note}\n",
        ("dedup", "import-decisions"): f"pair_id,decision,note\n1,reject,{note}\n",
        ("extract", "import"): f"study,arm,outcome,time_point,field,value\n1,,,,country,{note}\n",
        ("rob", "import"): f"Study,D1\n{note}\n",
        ("analyze", "file"): f"study,yi,vi\nA,0.1,0.01\nB,{note},0.02\n",
    }
    db = str(fresh_review.engine.url)
    for (group, command), body in cases.items():
        path = tmp_path / f"{group}_{command}.csv"
        path.write_text(body)
        line = body.count("\n")  # the long line is the last
        args = [group, command, str(path)] + (["--db", db] if group != "analyze" else [])
        if group == "screen":
            args += ["--stage", "tiab", "--as", "carol" if "resolutions" in command else "bob"]
        elif group == "analyze":
            args += ["--measure", "GEN"]  # a file alone, no review
        else:
            args += ["--as", "alice"]
        result = runner.invoke(app, args, env={"COLUMNS": "400"})
        assert result.exit_code == 2, (command, result.output)
        assert f"{path.name}:{line}: a line longer than 100 bytes" in result.output, result.output
        assert "Traceback" not in result.output
