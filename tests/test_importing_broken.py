"""The deliberately broken exports in shared/fixtures/formats/derived_malformed: a clear error naming
file and line by default, the good records (and a list of the bad ones) with skip_bad."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewtool.errors import InvalidInput, ParseError
from reviewtool.importing.parsers import parse_bytes, parse_file

BROKEN = (
    Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "formats" / "derived_malformed"
)
pytestmark = pytest.mark.skipif(
    not BROKEN.is_dir(), reason=f"shared fixtures not found at {BROKEN}"
)

# file -> (error line by default, good records with skip_bad, bad records with skip_bad)
REFUSED = {
    "ris_truncated_last_record.ris": (None, 3, 1),
    "nbib_truncated_mid_abstract.nbib": (None, 9, 1),
    "wos_plaintext_truncated_no_EF.isi": (415, 5, 1),
    "endnote_xml_truncated.xml": (1, 2, 1),
    "endnote_xml_missing_record_end_tag.xml": (1, 4, 1),
    "bibtex_missing_closing_brace.bib": (29, 10, 1),
    "bibtex_unbalanced_brace_in_title.bib": (2, 10, 1),
    "csv_truncated_mid_quoted_field.csv": (9, 7, 1),
}

# file -> (records, encoding): damaged but complete files that must load without loss.
ACCEPTED = {
    "ris_cp1252_encoded.ris": (10, "cp1252"),
    "ris_invalid_utf8_bytes.ris": (10, "utf-8 (3 invalid bytes replaced)"),
    "ris_lf_only_no_trailing_newline.ris": (10, "utf-8"),
    "ris_missing_ER_between_records.ris": (6, "utf-8"),
    "ris_utf16le_bom.ris": (10, "utf-16"),
    "bibtex_latin1_encoded.bib": (10, "cp1252"),
    "endnote_xml_5_records_wellformed.xml": (5, "utf-8"),
    # Cut off after its last complete record: the 5 records are read, with a warning.
    "endnote_xml_missing_root_close.xml": (5, "utf-8"),
}


def test_every_broken_file_is_covered() -> None:
    on_disk = {p.name for p in BROKEN.iterdir() if p.is_file()}
    assert on_disk == set(REFUSED) | set(ACCEPTED)


@pytest.mark.parametrize("fname", sorted(REFUSED))
def test_broken_file_is_refused_with_file_and_line(fname: str) -> None:
    line, good, bad = REFUSED[fname]
    with pytest.raises(ParseError) as info:
        parse_file(BROKEN / fname)
    err = info.value
    assert err.path is not None and err.path.endswith(fname)
    assert fname in str(err)
    assert err.line is not None
    if line is not None:
        assert err.line == line
    assert f":{err.line}:" in str(err)
    parsed = parse_file(BROKEN / fname, skip_bad=True)
    assert (len(parsed.citations), len(parsed.bad)) == (good, bad)
    assert all(b.reason for b in parsed.bad)
    assert parsed.bad[0].line == err.line


def test_truncated_ris_names_the_record_line() -> None:
    with pytest.raises(ParseError) as info:
        parse_file(BROKEN / "ris_truncated_last_record.ris")
    text = (BROKEN / "ris_truncated_last_record.ris").read_text(encoding="utf-8-sig")
    assert text.splitlines()[info.value.line - 1].startswith("TY  -")  # type: ignore[operator]
    assert "no ER line" in str(info.value)


@pytest.mark.parametrize("fname", sorted(ACCEPTED))
def test_damaged_but_complete_file_loads(fname: str) -> None:
    count, encoding = ACCEPTED[fname]
    parsed = parse_file(BROKEN / fname)
    assert len(parsed.citations) == count
    assert parsed.encoding == encoding


def test_missing_er_between_records_warns_with_line() -> None:
    parsed = parse_file(BROKEN / "ris_missing_ER_between_records.ris")
    assert len(parsed.warnings) == 1
    assert "no ER line" in parsed.warnings[0].message


def test_cp1252_accents_decoded() -> None:
    parsed = parse_file(BROKEN / "ris_cp1252_encoded.ris")
    utf8 = parse_file(BROKEN / "ris_lf_only_no_trailing_newline.ris")
    assert parsed.citations[0].authors == utf8.citations[0].authors


@pytest.mark.parametrize(
    "data",
    [
        b"\x00\x01\x02\x03" * 100,
        bytes(range(256)) * 4,
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 64,
        b"",
        b"   \n\n",
    ],
)
def test_binary_or_empty_input_is_invalid_input(data: bytes) -> None:
    with pytest.raises(InvalidInput):
        parse_bytes(data, name="junk.ris")


def test_xml_with_entities_is_refused() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><xml><records><record><titles><title>&b;'
        b"</title></titles></record></records></xml>"
    )
    with pytest.raises(ParseError, match="DOCTYPE"):
        parse_bytes(bomb, name="bomb.xml")
