"""A new user's import faults (issue 8 follow-up): rows read shifted, encodings guessed in silence,
--skip-bad miscounting broken EndNote XML, unparseable dates and duplicate keys without a word,
and a case-sensitive --input-format."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from reviewtool.cli import app
from reviewtool.importing.parsers import parse_bytes, parse_file

FORMATS_DIR = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "formats"
needs_fixtures = pytest.mark.skipif(
    not FORMATS_DIR.is_dir(), reason=f"shared fixtures not found at {FORMATS_DIR}"
)
runner = CliRunner()


def run(*args: str) -> Result:
    return runner.invoke(app, list(args), env={"REVIEWTOOL_USER": "alice"})


@pytest.fixture
def db(tmp_path: Path) -> str:
    path = str(tmp_path / "r.db")
    result = run("init", "--title", "T", "--db", path, "--as", "alice")
    assert result.exit_code == 0, result.output
    return path


# --- 1. a row whose field count differs from the header is never read shifted in silence ---


@needs_fixtures
def test_scopus_csv_unnamed_funding_text_cells_do_not_shift_the_row(db: str) -> None:
    # litstudy's scopus.csv: 45 header columns; 56 of 58 rows carry a 46th cell, an unnamed
    # "Funding Text 2" right after "Funding Text 1" (record 3 is line 4 of the file: EID
    # 2-s2.0-85123480963, PubMed ID 35064163, English, Article, Scientific Reports).
    path = FORMATS_DIR / "csv" / "litstudy__scopus.csv"
    result = run("import", str(path), "--source", "S", "--db", db, "--format", "json")
    assert result.exit_code == 0, result.output
    (report,) = json.loads(result.output)
    assert report["records"] == 58
    assert any("Funding Text 2" in w and "56 rows" in w for w in report["warnings"])
    shown = run("records", "show", "3", "--db", db, "--format", "json")
    rec = json.loads(shown.output)
    assert rec["source_key"] == "2-s2.0-85123480963"
    assert rec["pmid"] == "35064163"
    assert rec["language"] == "English"
    assert rec["publication_type"] == "Article"
    assert rec["journal"] == "Scientific Reports"
    assert rec["extra"]["Publisher"] == "Nature Research"
    assert rec["extra"]["Source"] == "Scopus"
    assert rec["extra"]["Abbreviated Source Title"] == "Sci. Rep."
    # Every record's EID is its key; the one non-empty second funding text is kept by its name.
    parsed = parse_file(path)
    assert all((c.source_key or "").startswith("2-s2.0-") for c in parsed.citations)
    funding2 = [c.extra["Funding Text 2"] for c in parsed.citations if "Funding Text 2" in c.extra]
    assert len(funding2) == 1 and funding2[0].startswith("Development of MUFINS was funded")


def test_scopus_funding_text_cells_are_named_only_when_every_later_column_checks_out() -> None:
    header = b"Title,Year,Funding Text 1,PubMed ID,EID\n"
    two_more = b"T1,2020,f1,f2,f3,123,2-s2.0-1\n"
    parsed = parse_bytes(header + two_more, name="s.csv")
    (c,) = parsed.citations
    assert (c.pmid, c.source_key) == ("123", "2-s2.0-1")
    assert (c.extra["Funding Text 1"], c.extra["Funding Text 2"], c.extra["Funding Text 3"]) == (
        "f1",
        "f2",
        "f3",
    )
    # An extra cell at the end is no funding text: read that way the PubMed ID would be an EID.
    elsewhere = b"T2,2021,f1,456,2-s2.0-2,stray\n"
    with pytest.raises(Exception, match=r"s\.csv:2: .*field 6 \('stray'\) has no column"):
        parse_bytes(header + elsewhere, name="s.csv")


def test_csv_row_with_an_extra_field_in_the_middle_is_refused_with_its_line() -> None:
    data = (
        b"Title,Year,DOI,Language\n"
        b"First study,2020,10.1000/a,English\n"
        b"Second study,draft,2021,10.1000/b,German\n"
    )
    with pytest.raises(Exception) as info:
        parse_bytes(data, name="t.csv")
    message = str(info.value)
    assert "t.csv:3" in message and "5 fields but the header has 4" in message
    assert "field 5 ('German')" in message
    parsed = parse_bytes(data, name="t.csv", skip_bad=True)
    assert [c.title for c in parsed.citations] == ["First study"]
    assert parsed.bad[0].line == 3


def test_csv_trailing_delimiter_is_read_in_place_and_short_row_warns() -> None:
    data = b"Title,Year,DOI,Language\nA,2020,10.1000/a,English,\nB,2021\n"
    parsed = parse_bytes(data, name="t.csv")
    a, b = parsed.citations
    assert (a.year, a.doi, a.language) == (2020, "10.1000/a", "English")
    assert (b.year, b.doi, b.language) == (2021, None, None)
    (warning,) = parsed.warnings
    assert warning.line == 3
    assert (
        "2 fields but the header has 4" in warning.message
        and "'DOI', 'Language'" in warning.message
    )


def test_wos_tab_row_with_an_extra_field_is_refused_and_short_row_warns() -> None:
    header = "PT\tAU\tTI\tSO\tPY\tDI\tUT\n"
    good = "J\tDoe, J\tGood title\tNature\t2020\t10.1000/x\tWOS:1\n"
    extra = "J\tRoe, R\tShifted title\tstray\tScience\t2021\t10.1000/y\tWOS:2\n"
    short = "J\tPoe, P\tShort title\tCell\t2022\n"
    data = (header + good + extra + short + good.replace("WOS:1", "WOS:4")).encode()
    with pytest.raises(Exception) as info:
        parse_bytes(data, name="s.txt", format="wos_tab")
    assert "s.txt:3" in str(info.value) and "field 8 ('WOS:2')" in str(info.value)
    parsed = parse_bytes(data, name="s.txt", format="wos_tab", skip_bad=True)
    assert [c.source_key for c in parsed.citations] == ["WOS:1", None, "WOS:4"]
    assert parsed.citations[1].year == 2022
    assert any(
        w.line == 4 and "5 fields but the header has 7" in w.message for w in parsed.warnings
    )


# --- 3. --skip-bad counts records, not XML errors, and names the bad record ---

BROKEN = FORMATS_DIR / "derived_malformed"


@needs_fixtures
def test_endnote_xml_missing_end_tag_counts_five_records_one_bad(db: str) -> None:
    # Five <record> elements; only rec-number 963 lost its </record> (the file is one line).
    path = BROKEN / "endnote_xml_missing_record_end_tag.xml"
    result = run("import", str(path), "--source", "S", "--skip-bad", "--db", db)
    assert result.exit_code == 0, result.output
    assert "5 records found, 4 imported, 1 skipped" in result.output
    assert "skipped line 1, record '963': record (line 1, column 5771) has no </record>" in (
        result.output.replace("\n", "")
    )
    assert result.output.count("skipped line") == 1


@needs_fixtures
def test_endnote_xml_missing_root_close_reads_five_with_a_warning() -> None:
    parsed = parse_file(BROKEN / "endnote_xml_missing_root_close.xml", skip_bad=True)
    assert [c.source_key for c in parsed.citations] == ["895", "963", "910", "966", "878"]
    assert parsed.bad == ()
    (warning,) = parsed.warnings
    assert "no element found" in warning.message and "costs no record" in warning.message


def _xml_record(number: int, title: str) -> str:
    return (
        f"<record><rec-number>{number}</rec-number><titles><title>{title}</title></titles>"
        "</record>\n"
    )


def test_endnote_xml_error_between_records_counts_each_unread_record() -> None:
    # Expat stops at the first error: the records after it are each counted, by line and number.
    data = (
        "<xml><records>\n"
        + _xml_record(1, "One")
        + "<oops></record>\n"
        + _xml_record(2, "Two")
        + _xml_record(3, "Three")
        + "</records></xml>\n"
    ).encode()
    parsed = parse_bytes(data, name="x.xml", skip_bad=True)
    assert [c.title for c in parsed.citations] == ["One"]
    assert [(b.line, b.source_key) for b in parsed.bad] == [(4, "2"), (5, "3")]
    assert all("mismatched tag at line 3" in b.reason for b in parsed.bad)


# --- 2. a guessed encoding is said, and --encoding forces one ---

GBK = FORMATS_DIR / "bibtex" / "bibtexparser__gbk_test.bib"


@needs_fixtures
def test_gbk_file_guessed_as_cp1252_warns_and_encoding_gbk_reads_it(db: str) -> None:
    guessed = run("import", str(GBK), "--source", "S", "--db", db, "--format", "json")
    assert guessed.exit_code == 0, guessed.output
    (report,) = json.loads(guessed.output)
    assert report["encoding"] == "cp1252"
    (warning,) = report["warnings"]
    assert str(GBK) in warning and "read as cp1252, a guess" in warning
    assert "--encoding gbk" in warning  # the bytes are valid GBK, with even high-byte runs
    forced = run(
        "import", str(GBK), "--source", "S", "--db", db, "--encoding", "GBK", "--force",
        "--format", "json",
    )  # fmt: skip
    assert forced.exit_code == 0, forced.output
    (report,) = json.loads(forced.output)
    assert (report["encoding"], report["warnings"]) == ("gbk", [])
    rec = json.loads(run("records", "show", "2", "--db", db, "--format", "json").output)
    assert rec["authors"] == ["凯撒"]
    assert rec["journal"] == "测试期刊"
    assert rec["source_key"] == "凯撒2013"


def test_unknown_or_non_text_encoding_is_one_line(db: str, tmp_path: Path) -> None:
    export = tmp_path / "a.ris"
    export.write_text("TY  - JOUR\nTI  - A title\nER  - \n", encoding="utf-8")
    for name in ("klingon", "base64"):
        result = run("import", str(export), "--source", "S", "--db", db, "--encoding", name)
        assert result.exit_code == 2
        assert f"--encoding: unknown text encoding {name!r}" in result.output
        assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output


def test_latin1_text_guessed_warns_with_line_and_forced_encoding_must_fit() -> None:
    data = "TY  - JOUR\nTI  - Plain\nAU  - Müller, Jörg\nER  - \n".encode("cp1252")
    parsed = parse_bytes(data, name="m.ris")
    assert parsed.citations[0].authors == ("Müller, Jörg",)
    (warning,) = parsed.warnings
    assert warning.line == 3 and "byte 0xFC on line 3" in warning.message
    assert "--encoding gbk" not in warning.message  # an odd run of high bytes: no CJK hint
    assert parse_bytes(data, name="m.ris", encoding="latin-1").warnings == ()
    assert parse_bytes(data, name="m.ris", encoding="cp1252").warnings == ()
    with pytest.raises(Exception, match=r"m\.ris:3: not valid utf-8"):
        parse_bytes(data, name="m.ris", encoding="utf-8")


# --- 4 (part). replaced bytes are located: line and record ---


@needs_fixtures
def test_invalid_utf8_bytes_are_located_by_line_and_record() -> None:
    parsed = parse_file(BROKEN / "ris_invalid_utf8_bytes.ris")
    (warning,) = parsed.warnings
    assert warning.line == 8  # the first record's TI line, where FF FE C3 were injected
    assert "3 invalid UTF-8 bytes replaced" in warning.message
    assert warning.message.startswith("record 'Development an")


def test_replaced_bytes_in_two_records_name_each() -> None:
    body = "".join(
        f"TY  - JOUR\nID  - K{i}\nTI  - Study {i} on caf\u00e9 society \u00e0 la carte\nER  - \n"
        for i in range(1, 5)
    ).encode()
    damaged = body.replace(b"Study 2", b"Study \xff2").replace(b"Study 4", b"Study \xfe4")
    parsed = parse_bytes(damaged, name="d.ris")
    assert parsed.encoding == "utf-8 (2 invalid bytes replaced)"
    assert [(w.line, w.message.split(":")[0]) for w in parsed.warnings] == [
        (7, "record 'K2'"),
        (15, "record 'K4'"),
    ]


# --- 5. --input-format in any case ---


def test_input_format_is_case_insensitive(db: str, tmp_path: Path) -> None:
    export = tmp_path / "a.txt"
    export.write_text("TY  - JOUR\nTI  - A title\nPY  - 2020\nER  - \n", encoding="utf-8")
    result = run("import", str(export), "--source", "S", "--db", db, "--input-format", "RIS")
    assert result.exit_code == 0, result.output
    assert "(ris, utf-8)" in result.output
    bad = run(
        "import", str(export), "--source", "S", "--db", db, "--input-format", "Refer", "--force"
    )
    assert bad.exit_code == 2 and "--input-format: unknown format 'refer'" in bad.output
    assert parse_bytes(export.read_bytes(), name="a", format="Ris").format == "ris"


# --- 4. an unparseable year warns naming the record, in every format; duplicate BibTeX keys ---


@needs_fixtures
def test_faulty_ris_year_warns_naming_the_record(db: str) -> None:
    path = FORMATS_DIR / "ris" / "asreview__faulty_year.ris"
    result = run("import", str(path), "--source", "S", "--db", db, "--format", "json")
    assert result.exit_code == 0, result.output
    (report,) = json.loads(result.output)
    assert report["warnings"] == [
        "line 1: record 'The Value of Radiologic Interventions and 18 F-DO…': "
        "PY '10 15' holds no year; the year is left empty"
    ]
    rec = json.loads(run("records", "show", "1", "--db", db, "--format", "json").output)
    assert rec["year"] is None and "PY  - 10 15" in rec["raw"]


@pytest.mark.parametrize(
    ("fmt", "data", "expected"),
    [
        ("ris", "TY  - JOUR\nID  - R1\nTI  - T\nPY  - n.d.\nDA  - 2019/05/01\nER  - \n",
         (2019, "record 'R1': PY 'n.d.' holds no year; the year 2019 is from DA")),
        ("nbib", "PMID- 123\nTI  - T\nDP  - Spring\n\n",
         (None, "record '123': DP 'Spring' holds no year; the year is left empty")),
        ("wos", "FN Web of Science\nVR 1.0\nPT J\nTI T\nPY in press\nUT WOS:9\nER\nEF\n",
         (None, "record 'WOS:9': PY 'in press' holds no year; the year is left empty")),
        ("csv", "Title,Year,DOI\nA study,forthcoming,10.1000/x\n",
         (None, "record 'A study': column 'Year' 'forthcoming' holds no year; the year is left "
                "empty")),
        ("bibtex", "@article{k1,\n  title = {T},\n  year = {n.d.}\n}\n",
         (None, "record 'k1': year 'n.d.' holds no year; the year is left empty")),
        ("endnote_tagged", "%0 Journal Article\n%T T\n%D undated\n%M E1\n",
         (None, "record 'E1': %D 'undated' holds no year; the year is left empty")),
        ("endnote_xml",
         "<xml><records><record><rec-number>7</rec-number><titles><title>T</title></titles>"
         "<dates><year>in press</year></dates></record></records></xml>",
         (None, "record '7': dates/year 'in press' holds no year; the year is left empty")),
    ],
)  # fmt: skip
def test_unparseable_year_warns_in_every_format(
    fmt: str, data: str, expected: tuple[int | None, str]
) -> None:
    parsed = parse_bytes(data.encode(), name=f"y.{fmt}", format=fmt)
    (citation,) = parsed.citations
    year, message = expected
    assert citation.year == year
    assert [w.message for w in parsed.warnings] == [message]


@needs_fixtures
@pytest.mark.parametrize(
    ("fname", "key", "line", "first"),
    [
        ("colrev__loader_bib_data.bib", "articlewriter_firstrandomword_2020", 19, 1),
        ("bibtexparser__biber-examples.bib", "tmn4", 1543, 1535),
    ],
)
def test_duplicate_bibtex_keys_warn(fname: str, key: str, line: int, first: int) -> None:
    parsed = parse_file(FORMATS_DIR / "bibtex" / fname)
    dups = [w for w in parsed.warnings if "citation key used again" in w.message]
    assert [(w.line, w.message.split(":")[0]) for w in dups] == [(line, f"record {key!r}")]
    assert f"first on line {first})" in dups[0].message
    assert sum(c.source_key == key for c in parsed.citations) == 2  # both kept


def test_bibtex_keys_differing_only_in_case_clash() -> None:
    data = (
        b"@article{Smith2020, title={A}}\n@article{smith2020, title={B}}\n@article{x, title={C}}\n"
    )
    parsed = parse_bytes(data, name="c.bib")
    (warning,) = parsed.warnings
    assert warning.line == 2
    assert "first on line 1 as 'Smith2020'" in warning.message
