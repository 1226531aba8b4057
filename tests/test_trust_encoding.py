"""Bytes that are not UTF-8 (issue 14, section 5): the lines are named (``file:line`` for the first
few, then "and N more"), and each record's ``raw`` keeps the original bytes (``base64:`` + the
record's bytes), checked by ``audit verify``, shown as text by ``records show``, harmless to every
export. Fixtures: ``derived_malformed/ris_invalid_utf8_bytes.ris`` (MANIFEST: FF FE C3 injected
inside the first TI line) and files built here beyond it."""

from __future__ import annotations

import base64
import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reviewtool import audit
from reviewtool.cli import app
from reviewtool.importing.parsers import RAW_BASE64, parse_bytes, parse_file, raw_text
from reviewtool.importing.service import import_files
from reviewtool.storage import Review

runner = CliRunner()


def _original(raw: str) -> bytes:
    assert raw.startswith(RAW_BASE64)
    return base64.b64decode(raw[len(RAW_BASE64) :])


def test_the_fixture_s_record_keeps_its_three_bytes(shared_dir: Path) -> None:
    path = shared_dir / "fixtures" / "formats" / "derived_malformed" / "ris_invalid_utf8_bytes.ris"
    data = path.read_bytes()
    parsed = parse_file(path)
    assert parsed.encoding == "utf-8 (3 invalid bytes replaced)"
    first, *others = parsed.citations
    kept = _original(first.raw)
    assert b"TI  - Development an\xff\xfe\xc3d Validation" in kept  # MANIFEST: FF FE C3 in TI
    assert kept in data.replace(b"\r\n", b"\n")  # the record's bytes exactly, line ends as LF
    assert first.title is not None and first.title.startswith("Development an\ufffd\ufffd\ufffdd ")
    assert raw_text(first.raw).count("\ufffd") == 3
    assert all(not c.raw.startswith(RAW_BASE64) for c in others)  # the 9 sound records: as is
    assert len(others) == 9


def test_the_import_names_the_line_and_verify_checks_the_kept_bytes(
    fresh_review: Review, shared_dir: Path, tmp_path: Path
) -> None:
    path = shared_dir / "fixtures" / "formats" / "derived_malformed" / "ris_invalid_utf8_bytes.ris"
    db = str(fresh_review.engine.url)
    result = runner.invoke(
        app, ["import", str(path), "--source", "Scopus", "--db", db, "--as", "alice"],
        env={"COLUMNS": "300"},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (
        "bytes that are not UTF-8 replaced with U+FFFD at ris_invalid_utf8_bytes.ris:8; each "
        "record's raw text keeps its original bytes (base64)"
    ) in result.output
    shown = runner.invoke(
        app, ["records", "show", "1", "--format", "json", "--db", db, "--as", "alice"]
    )
    assert shown.exit_code == 0, shown.output
    detail = json.loads(shown.output)
    assert b"\xff\xfe\xc3" in base64.b64decode(detail["raw_base64"])
    assert "an\ufffd\ufffd\ufffdd Validation" in detail["raw"]
    text = runner.invoke(app, ["records", "show", "1", "--db", db, "--as", "alice"])
    assert text.exit_code == 0 and "base64" not in text.output
    # Every export of the records still works, and none holds the base64 text.
    for args in (
        ["records", "list", "--format", "csv"],
        ["records", "list", "--format", "json"],
        ["export", "audit", "--out", str(tmp_path / "audit.jsonl")],
    ):
        done = runner.invoke(app, [*args, "--db", db, "--as", "alice"])
        assert done.exit_code == 0, (args, done.output)
    with fresh_review.reading() as s:
        assert audit.verify(s).ok
    # The kept bytes are part of what the ledger checks: one byte changed is found.
    file = db.removeprefix("sqlite:///")
    with sqlite3.connect(file) as con:
        (raw,) = con.execute("SELECT raw FROM record WHERE id = 1").fetchone()
        forged = RAW_BASE64 + base64.b64encode(_original(raw).replace(b"\xfe", b"e")).decode()
        con.execute("UPDATE record SET raw = ? WHERE id = 1", (forged,))
    with fresh_review.reading() as s:
        report = audit.verify(s)
    assert not report.ok
    assert any("record" in p for p in report.problems)


def _records(n: int, damaged: set[int], crlf: bool = False) -> bytes:
    """``n`` RIS records rich in accented letters (so the file is clearly UTF-8), with one byte
    FF in the title of each record in ``damaged``."""
    out = b""
    for i in range(1, n + 1):
        title = f"Étude {i} sur la fièvre et la santé à Montréal, café crème {'é' * 60}".encode()
        if i in damaged:
            title = title.replace(b"sur", b"s\xffur")
        out += b"TY  - JOUR\nID  - K%d\nTI  - " % i + title + b"\nER  - \n"
    return out.replace(b"\n", b"\r\n") if crlf else out


@pytest.mark.parametrize("crlf", [False, True])
def test_many_lines_are_named_a_few_then_and_n_more(crlf: bool) -> None:
    data = _records(20, damaged={2, 5, 6, 9, 12, 15, 19, 20}, crlf=crlf)
    parsed = parse_bytes(data, name="many.ris")
    assert parsed.encoding == "utf-8 (8 invalid bytes replaced)"
    title_lines = [4 * i - 1 for i in (2, 5, 6, 9, 12, 15, 19, 20)]  # TI is each record's line 3
    assert [w.line for w in parsed.warnings] == [*title_lines[:5], title_lines[5]]
    assert parsed.warnings[5].message == (
        "many.ris: and 3 more lines with invalid UTF-8 bytes replaced (many.ris:59, many.ris:75, "
        "many.ris:79)"
    )
    assert [w.message.split(":")[0] for w in parsed.warnings[:5]] == [
        "record 'K2'", "record 'K5'", "record 'K6'", "record 'K9'", "record 'K12'",
    ]  # fmt: skip
    lines = data.replace(b"\r\n", b"\n")
    for citation in parsed.citations:
        if citation.source_key in {f"K{i}" for i in (2, 5, 6, 9, 12, 15, 19, 20)}:
            kept = _original(citation.raw)
            assert kept in lines and b"s\xffur" in kept
        else:
            assert "\ufffd" not in citation.raw and not citation.raw.startswith(RAW_BASE64)


def test_the_import_report_says_a_few_lines_and_n_more(
    fresh_review: Review, tmp_path: Path
) -> None:
    path = tmp_path / "many.ris"
    path.write_bytes(_records(20, damaged={2, 5, 6, 9, 12, 15, 19, 20}))
    with fresh_review.transaction() as s:
        (report,) = import_files(s, actor="alice", paths=[path], source="test")
    assert report.replaced_at == (
        "many.ris:7, many.ris:19, many.ris:23, many.ris:35, many.ris:47 and 3 more"
    )
    assert report.to_dict()["replaced_at"] == report.replaced_at
    with fresh_review.reading() as s:
        assert audit.verify(s).ok


def test_an_endnote_xml_record_keeps_its_exact_bytes(shared_dir: Path) -> None:
    path = (
        shared_dir
        / "fixtures"
        / "formats"
        / "derived_malformed"
        / "endnote_xml_5_records_wellformed.xml"
    )
    data = path.read_bytes()
    at = data.index(b"<title>") + len(b"<title>")
    damaged = data[:at] + b"\xff" + data[at:]
    # Enough accented text that one bad byte reads as damage, not as another code page.
    assert damaged.decode("utf-8", errors="replace").count("\ufffd") == 1
    parsed = parse_bytes(damaged, name="five.xml")
    assert parsed.encoding == "utf-8 (1 invalid bytes replaced)"
    assert len(parsed.citations) == 5
    (kept,) = [c for c in parsed.citations if c.raw.startswith(RAW_BASE64)]
    original = _original(kept.raw)
    assert b"<title>\xff" in original and original in damaged  # the record's bytes verbatim
