"""Issue 8, section A: nothing an export file holds may vanish without a word.

Each kind of fault has the issue's example pinned with its right value (from ``../shared/cases``
and the real Ovid Embase export in ``../shared/fixtures/formats``) and further inputs written here
for the other formats that share the kind.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewtool.errors import InvalidInput, ParseError
from reviewtool.importing.parsers import ParsedFile, parse_bytes, parse_file


def _parse(text: str, name: str, **kw: object) -> ParsedFile:
    return parse_bytes(text.encode("utf-8"), name=name, **kw)  # type: ignore[arg-type]


def _messages(parsed: ParsedFile) -> list[str]:
    return [f"{w.line}: {w.message}" for w in parsed.warnings]


# --- A1: lines before the record start -----------------------------------------------------------


def test_ris_tags_before_ty_belong_to_the_record(shared_dir: Path) -> None:
    parsed = parse_file(shared_dir / "cases" / "ris_ty_not_first.ris")
    first, second = parsed.citations
    assert first.title == "Population ecology of river otters in a protected wetland"
    assert first.pages == "67-76"
    assert first.volume == "49" and first.year == 2007
    assert first.extra["database"] == "Scopus"
    assert first.line == 1
    assert first.raw.startswith("DB  - Scopus\nC8  - \nC7  - \nTI  - Population ecology")
    assert first.raw.endswith("JO  - Wetland Ecology\nER  - ")
    assert second.title == "Beaver dams and stream temperature"
    assert second.abstract == "A second abstract text."
    assert second.line == 19
    assert second.raw.startswith("DB  - WoS\nAB  - A second abstract text.\nTY  - JOUR")
    messages = _messages(parsed)
    assert "1: lines 1-6 before the TY on line 7 read as part of that record" in messages
    assert "19: lines 19-20 before the TY on line 21 read as part of that record" in messages


def test_ris_lines_after_er_and_text_between_records_are_reported() -> None:
    # Ovid writes NL after ER, then a link line and a record number ("2.") before the next TY.
    text = (
        "1.\n"
        "TY  - JOUR\nTI  - First\nER  - \n"
        "NL  - J Clin Psychol\n"
        "\n"
        "Link to the Ovid Full Text: https://example.org/1\n"
        "\n"
        "2.\n"
        "TY  - JOUR\nTI  - Second\nER  - \n"
    )
    parsed = _parse(text, "ovid.ris")
    first, second = parsed.citations
    assert first.raw == "TY  - JOUR\nTI  - First\nER  - \nNL  - J Clin Psychol"
    assert first.extra["tag_NL"] == "J Clin Psychol"
    assert second.raw == "TY  - JOUR\nTI  - Second\nER  - "
    assert _messages(parsed) == [
        "1: text outside any record not imported (1 non-tag line in line 1): '1.'",
        "5: line 5 after the ER on line 4 read as part of that record",
        "7: text outside any record not imported (2 non-tag lines in lines 7-9): "
        "'Link to the Ovid Full Text: https://example.org/1'",
        "2: tag 'NL' is not a RIS field this tool knows; kept in extra as 'tag_NL' (1 record)",
    ]


def test_ris_tags_ended_by_er_without_ty_are_a_record() -> None:
    text = "TY  - JOUR\nTI  - One\nER  - \nTI  - Two, no TY\nPY  - 2001\nER  - \n"
    parsed = _parse(text, "t.ris")
    assert [(c.title, c.year, c.line) for c in parsed.citations] == [
        ("One", None, 1),
        ("Two, no TY", 2001, 4),
    ]
    assert "4: record has no TY line (ends on line 6)" in _messages(parsed)


def test_wos_tags_before_pt_belong_to_the_record() -> None:
    text = (
        "FN Clarivate Analytics Web of Science\nVR 1.0\n"
        "TI Otters before PT\n"
        "PT J\nAU Marsh, AJ\nSO WETLAND ECOLOGY\nPY 2007\nUT WOS:000001\nER\n"
        "\nEF\n"
    )
    parsed = _parse(text, "savedrecs.txt")
    (rec,) = parsed.citations
    assert rec.title == "Otters before PT"
    assert rec.raw.startswith("TI Otters before PT\nPT J")
    assert rec.line == 3
    assert "3: line 3 before the PT on line 4 read as part of that record" in _messages(parsed)


def test_wos_text_outside_records_is_reported() -> None:
    text = "FN Web of Science\nVR 1.0\nexported by someone\nPT J\nTI A\nUT WOS:1\nER\nEF\n"
    parsed = _parse(text, "savedrecs.txt")
    assert len(parsed.citations) == 1
    assert _messages(parsed) == [
        "3: text outside any record not imported (1 non-tag line in line 3): 'exported by someone'"
    ]


# --- A5: unknown tags never sink a record --------------------------------------------------------

ZOOREC = (
    "FN Clarivate Analytics Web of Science\n"
    "VR 1.0\n"
    "PT J\n"
    "AU Smith, J\n"
    "TI A new species of Rana from the Western Ghats\n"
    "SO ZOOTAXA\n"
    "TA Anura\n"
    "   Ranidae\n"
    "ST Amphibia\n"
    "PY 2019\n"
    "VL 4612\n"
    "UT ZOOREC:ZOOR15500012345\n"
    "ER\n"
    "\n"
    "PT J\n"
    "AU Jones, K\n"
    "TI Frog calls at night\n"
    "TA Anura\n"
    "PY 2020\n"
    "UT ZOOREC:ZOOR15600000001\n"
    "ER\n"
    "\n"
    "EF\n"
)


def test_wos_zoological_record_tags_go_to_extra() -> None:
    parsed = _parse(ZOOREC, "zoorec.txt")
    first, second = parsed.citations
    assert first.title == "A new species of Rana from the Western Ghats"
    assert (first.year, first.volume, first.journal) == (2019, "4612", "ZOOTAXA")
    assert first.source_key == "ZOOREC:ZOOR15500012345"
    assert first.extra["tag_TA"] == "Anura Ranidae"  # continuation joined onto the value
    assert first.extra["tag_ST"] == "Amphibia"
    assert second.extra == {"tag_TA": "Anura", "wos_publication_type": "J"}
    assert _messages(parsed) == [
        "3: tag 'TA' is not a Web of Science field this tool knows; kept in extra as 'tag_TA' "
        "(2 records)",
        "3: tag 'ST' is not a Web of Science field this tool knows; kept in extra as 'tag_ST' "
        "(1 record)",
    ]


def test_wos_tab_delimited_unknown_columns_go_to_extra() -> None:
    text = "PT\tAU\tTI\tZZ\tPY\tUT\nJ\tSmith, J\tA title\tsomething\t2019\tWOS:1\n"
    parsed = _parse(text, "savedrecs.txt", format="wos_tab")
    (rec,) = parsed.citations
    assert rec.extra["tag_ZZ"] == "something"
    assert [w.line for w in parsed.warnings] == [2]


@pytest.mark.parametrize(
    ("name", "text", "key", "value"),
    [
        ("a.ris", "TY  - JOUR\nTI  - A title\nZZ  - odd value\nER  - \n", "tag_ZZ", "odd value"),
        ("a.nbib", "PMID- 123\nTI  - A title\nZZZ - odd value\n", "tag_ZZZ", "odd value"),
        ("a.enw", "%0 Journal Article\n%T A title\n%q odd value\n", "tag_q", "odd value"),
        ("a.txt", "PT J\nTI A title\nZZ odd value\nER\n", "tag_ZZ", "odd value"),
    ],
)
def test_unknown_tags_are_kept_and_warned_in_every_tagged_format(
    name: str, text: str, key: str, value: str
) -> None:
    parsed = _parse(text, name)
    (rec,) = parsed.citations
    assert rec.title == "A title"
    assert rec.extra[key] == value
    assert any("kept in extra as" in m and repr(key) in m for m in _messages(parsed))


def test_ris_spec_tags_are_kept_without_a_warning() -> None:
    """U1-U5, LK, M2 ... are RIS-specification tags (RIS Format Specifications, 2012) that rispy
    does not map; Cochrane Library writes PT. They are kept in extra; only a tag outside the
    specification (ZZ) is warned about, once per file with its record count."""
    text = (
        "TY  - JOUR\nTI  - A title\nU2  - L2001234567\nU3  - note three\nLK  - http://x.org\n"
        "PT  - Journal article\nZZ  - odd\nER  - \n\n"
        "TY  - JOUR\nTI  - Another\nU3  - more\nZZ  - odder\nER  - \n"
    )
    parsed = _parse(text, "a.ris")
    first, second = parsed.citations
    assert first.extra["tag_U3"] == "note three" and first.extra["tag_LK"] == "http://x.org"
    assert first.extra["tag_PT"] == "Journal article" and second.extra["tag_U3"] == "more"
    assert _messages(parsed) == [
        "1: tag 'ZZ' is not a RIS field this tool knows; kept in extra as 'tag_ZZ' (2 records)"
    ]


def test_skip_bad_counts_what_was_found_and_skipped(fresh_review: object, tmp_path: Path) -> None:
    from reviewtool.importing.service import import_files

    path = tmp_path / "cut.txt"
    # Two records, each missing its ER: both bad, so nothing can be imported.
    path.write_text("FN x\nVR 1.0\nPT J\nTI One\nPT J\nTI Two\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as err, fresh_review.transaction() as session:  # type: ignore[attr-defined]
        import_files(session, actor="alice", paths=[path], source="WoS", skip_bad=True)
    assert str(err.value) == (
        f"{path}: 2 records found in this wos file and all were skipped as bad; nothing "
        "imported (first, line 3: record has no ER line before the next PT)"
    )


# --- A2: a single-value tag repeated in one record: one policy for every tagged format ----------

PARA1 = "Background: otters use wetlands."
PARA2 = "Results: they stay there."
TITLE = "Otters in wetlands"
TRANSLATED = "Fischotter in Feuchtgebieten"
DOI, DOI2 = "10.1000/otter.1", "10.1000/otter.2"


def _check_repeats(parsed: ParsedFile, *, tags: tuple[str, str, str]) -> None:
    (rec,) = parsed.citations
    assert rec.abstract == f"{PARA1}\n\n{PARA2}"  # both paragraphs, in order, a blank line apart
    assert rec.title == TITLE
    assert rec.extra["alternative_title"] == TRANSLATED
    assert rec.doi == DOI  # the first valid value
    ab, ti, do = tags
    messages = _messages(parsed)
    assert any(f"{ab} appears 2 times; joined in order as paragraphs" in m for m in messages)
    assert any(f"{ti} appears 2 times; the first is the title" in m for m in messages)
    assert any(f"{do} holds " in m and f"{DOI!r} is kept" in m for m in messages)
    assert all(m.split(": ", 1)[1].startswith("record ") for m in messages)  # names the record


def test_ris_repeated_tags() -> None:
    text = (
        "TY  - JOUR\nID  - rec-7\n"
        f"TI  - {TITLE}\nTI  - {TRANSLATED}\nAB  - {PARA1}\nAB  - {PARA2}\n"
        f"DO  - not a doi\nDO  - {DOI}\nDO  - {DOI2}\nER  - \n"
    )
    parsed = _parse(text, "t.ris")
    _check_repeats(parsed, tags=("AB", "TI", "DO"))
    assert _messages(parsed)[0].startswith("1: record 'rec-7': ")


def test_nbib_repeated_tags() -> None:
    text = (
        f"PMID- 31234567\nTI  - {TITLE}\nTI  - {TRANSLATED}\nAB  - {PARA1}\nAB  - {PARA2}\n"
        f"LID - {DOI} [doi]\nAID - {DOI2} [doi]\nPMID- 999\n"
    )
    parsed = _parse(text, "t.nbib")
    _check_repeats(parsed, tags=("AB", "TI", "LID/AID [doi]"))
    assert parsed.citations[0].pmid == "31234567"
    assert any("PMID holds 2 different values" in m for m in _messages(parsed))


def test_endnote_tagged_repeated_tags() -> None:
    text = (
        f"%0 Journal Article\n%T {TITLE}\n%T {TRANSLATED}\n%X {PARA1}\n%X {PARA2}\n"
        f"%R {DOI}\n%R {DOI2}\n%Z first note\n%Z second note\n"
    )
    parsed = _parse(text, "t.enw")
    _check_repeats(parsed, tags=("%X", "%T", "%R"))
    assert parsed.citations[0].extra["notes"] == "first note\n\nsecond note"


def test_wos_repeated_tags() -> None:
    text = (
        f"FN Web of Science\nVR 1.0\nPT J\nTI {TITLE}\nTI {TRANSLATED}\nAB {PARA1}\nAB {PARA2}\n"
        f"DI {DOI}\nDI {DOI2}\nUT WOS:000123\nER\nEF\n"
    )
    parsed = _parse(text, "t.txt")
    _check_repeats(parsed, tags=("AB", "TI", "DI"))


def test_same_value_twice_is_not_a_warning() -> None:
    text = f"TY  - JOUR\nT1  - {TITLE}\nTI  - {TITLE}\nDO  - {DOI}\nDO  - {DOI.upper()}\nER  - \n"
    parsed = _parse(text, "t.ris")
    (rec,) = parsed.citations
    assert (rec.title, rec.doi, "alternative_title" in rec.extra) == (TITLE, DOI, False)
    assert parsed.warnings == ()


def test_ris_zotero_long_abstract_keeps_every_paragraph() -> None:
    # Zotero splits a long abstract over several AB lines; a continuation line joins its paragraph.
    text = "TY  - JOUR\nTI  - T\nAB  - First paragraph\n  goes on.\nAB  - Second.\nAB  - Third.\nER  - \n"
    (rec,) = _parse(text, "z.ris").citations
    assert rec.abstract == "First paragraph goes on.\n\nSecond.\n\nThird."


# --- A3: CSV header checked; no record nothing can identify without a warning ------------------


def test_csv_excel_sep_line(shared_dir: Path) -> None:
    parsed = parse_file(shared_dir / "cases" / "csv_excel_sep_line.csv")
    assert parsed.encoding == "cp1252"
    first, second = parsed.citations  # two records, none made from the header or the sep line
    assert first.title == "Wirksamkeit von Physiotherapie bei Kniearthrose"
    assert first.authors == ("Müller, Jürgen", "Weiß, Anna")
    assert first.journal == "Zeitschrift für Rheumatologie"
    assert (first.year, first.doi) == (2019, "10.1007/s00393-019-0001-1")
    assert first.abstract == (
        'Hintergrund: Studie mit "Placebo" Kontrolle. Zweite Zeile des Abstracts; mit Semikolon.'
    )
    assert first.line == 3
    assert second.authors == ("Søndergaard, Ole",)
    assert (second.line, second.abstract) == (5, "Short abstract.")
    # The only warning: cp1252 is a guess (the first non-UTF-8 byte is the ü of line 3).
    (warning,) = parsed.warnings
    assert warning.line == 3 and "read as cp1252, a guess" in warning.message


@pytest.mark.parametrize(
    ("directive", "delimiter"), [("sep=,", ","), ('"sep=\t"', "\t"), ("SEP=|", "|")]
)
def test_csv_sep_directive_other_delimiters(directive: str, delimiter: str) -> None:
    rows = [
        directive,
        delimiter.join(["Title", "Year"]),
        delimiter.join(["Otters: a study", "2001"]),
    ]
    (rec,) = _parse("\n".join(rows) + "\n", "t.csv").citations
    assert (rec.title, rec.year, rec.line) == ("Otters: a study", 2001, 3)


def test_csv_unknown_headers_are_refused_pointing_to_map(shared_dir: Path) -> None:
    path = shared_dir / "cases" / "csv_unknown_headers.csv"
    with pytest.raises(ParseError) as err:
        parse_file(path)
    message = str(err.value)
    assert "\n" not in message
    assert message == (
        f"{path}:1: no column is recognised as title, authors, DOI, PMID or year "
        "(header: 'Titel', 'Autoren', 'Jahr'); name the columns with --map, e.g. --map "
        "title='Titel'"
    )
    # ... and with the mapping it imports.
    (rec,) = parse_file(path, column_map={"title": "Titel", "authors": "Autoren"}).citations
    assert (rec.title, rec.authors) == ("Eine Studie", ("Meier, K",))


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("a.csv", "Title,Year,Journal\nA study,2001,J A\n,2002,J B\n"),
        ("a.ris", "TY  - JOUR\nTI  - A study\nER  - \nTY  - JOUR\nPY  - 2002\nER  - \n"),
        ("a.nbib", "PMID- 1\nTI  - A study\n\nOWN - NLM\nDP  - 2002\n"),
        ("a.enw", "%0 Journal Article\n%T A study\n\n%0 Journal Article\n%D 2002\n"),
        ("a.txt", "PT J\nTI A study\nER\n\nPT J\nPY 2002\nER\n"),
        ("a.bib", "@article{a, title={A study}}\n@article{b, year={2002}}\n"),
    ],
)
def test_a_record_without_title_doi_or_pmid_is_warned_in_every_format(name: str, text: str) -> None:
    parsed = _parse(text, name)
    assert len(parsed.citations) == 2
    lonely = parsed.citations[1]
    assert (lonely.title, lonely.doi, lonely.pmid, lonely.year) == (None, None, None, 2002)
    assert [w.line for w in parsed.warnings if "no title, DOI or PMID" in w.message] == [
        lonely.line
    ]


# --- A4: Ovid direct exports ---------------------------------------------------------------------


def test_real_ovid_embase_export(shared_dir: Path) -> None:
    path = (
        shared_dir
        / "fixtures"
        / "formats"
        / "ovid_embase"
        / "knh11545__Embase_endnote_r3001-3002.cgi"
    )
    parsed = parse_file(path)
    assert parsed.format == "ovid"
    first, second = parsed.citations
    # Right values read off the records themselves.
    assert first.source_key == "621381829" and first.extra["accession_number"] == "621381829"
    assert second.extra["accession_number"] == "621381823"
    assert first.title == (
        "Quality of life in patients with primary ciliary dyskinesia: A systematic review."
    )
    assert first.authors == ("Behan, L.", "Rubbo, B.", "Lucas, J.S.", "Galvin, A.D.")
    assert (first.year, second.year) == (2018, 2018)
    assert first.doi == second.doi == "10.1186/s12919-018-0099-8"
    assert first.journal == "BMC Proceedings"
    assert (first.volume, first.issue, first.pages) == ("12", "Supplement 3", None)
    assert first.extra["conference"] == (
        "2nd BEAT-PCD Conference and 3rd PCD Training School: Part 2. Spain"
    )
    assert first.extra["database"] == "Embase" and first.extra["issn"] == "1753-6561"
    assert first.publication_type == "Conference Abstract" and first.language == "English"
    # The abstract runs over four unindented lines (Method(s):, Result(s):, Conclusion(s):).
    assert first.abstract is not None
    assert first.abstract.startswith("Background: As in most rare diseases, little is known")
    assert " Method(s): We searched MEDLINE, EBSCO" in first.abstract
    assert first.abstract.endswith("Interventions that ameliorate these issues need investigation.")
    assert second.abstract is not None and second.abstract.endswith(
        "novel marker for diagnosis of PCD."
    )
    assert "*quality of life" in first.keywords
    assert (first.line, second.line) == (1, 75)
    assert first.raw.startswith("<3001. >\nVN  - Ovid Technologies\nDB  - Embase\nUI  - 621381829")
    assert first.raw.endswith("CR  - Copyright 2018 Elsevier B.V., All rights reserved.")
    assert second.raw.startswith("<3002. >\n")
    assert parsed.warnings == ()


CITAVI = (
    "<1. >\nVN  - Ovid Technologies\nDB  - Embase\nUI  - 2001234567\nST  - ARTICLE\n"
    "TI  - Otter density in wetlands.\n"
    "SO  - PLoS ONE. 14 (1) (no pagination), 2019. Article Number: e0210123. "
    "Date of Publication: January 2019.\n"
    "AU  - Marsh A.J.\nAB  - Background: one. Method(s): two.\n"
    "DO  - http://dx.doi.org/10.1371/journal.pone.0210123\nPT  - Journal: Article\nYR  - 2019\n"
    "\n"
    "<2. >\nVN  - Ovid Technologies\nDB  - Embase\nUI  - 2001234568\n"
    "TI  - Beaver dams.\nSO  - Freshwater Biology. 60 (3) (pp 445-456), 2015. "
    "Date of Publication: 01 Mar 2015.\nAU  - Dammer K.\nYR  - 2015\n"
)


def test_ovid_citavi_variant_and_embase_source_patterns() -> None:
    parsed = _parse(CITAVI, "embase.ovd")
    assert parsed.format == "ovid"
    one, two = parsed.citations
    assert (one.journal, one.volume, one.issue, one.pages) == ("PLoS ONE", "14", "1", None)
    assert one.extra["article_number"] == "e0210123"
    assert (one.doi, one.year, one.abstract) == (
        "10.1371/journal.pone.0210123",
        2019,
        "Background: one. Method(s): two.",
    )
    assert (two.journal, two.volume, two.issue, two.pages, two.year) == (
        "Freshwater Biology",
        "60",
        "3",
        "445-456",
        2015,
    )


def test_ovid_medline_variant_without_record_numbers() -> None:
    text = (
        "VN  - Ovid Technologies\nDB  - Ovid MEDLINE(R) <2019>\nUI  - 30312345\n"
        "TI  - Stem cells in cirrhosis.\nSO  - Journal of Hepatology. 70(3):456-67, 2019 Mar.\n"
        "AU  - Smith J\nAB  - A short abstract\n  over two lines.\nYR  - 2019\n"
        "DO  - https://dx.doi.org/10.1016/j.jhep.2018.10.001\n"
        "\n"
        "VN  - Ovid Technologies\nDB  - Ovid MEDLINE(R) <2019>\nUI  - 30312346\nTI  - Second.\n"
        "JN  - Hepatology\nVO  - 69\nIP  - 2\nPG  - 100-110\nYR  - 2019\nZZ  - odd\n"
    )
    parsed = _parse(text, "medline.txt")
    assert parsed.format == "ovid"
    one, two = parsed.citations
    assert (one.pmid, one.source_key, one.journal) == (
        "30312345",
        "30312345",
        "Journal of Hepatology",
    )
    assert (one.volume, one.issue, one.pages, one.year) == ("70", "3", "456-467", 2019)
    assert one.doi == "10.1016/j.jhep.2018.10.001"
    assert one.abstract == "A short abstract over two lines."
    assert (two.line, two.journal, two.volume, two.issue, two.pages) == (
        12,
        "Hepatology",
        "69",
        "2",
        "100-110",
    )
    assert two.extra["tag_ZZ"] == "odd"
    assert [w.message.split(";")[0] for w in parsed.warnings] == [
        "tag 'ZZ' is not a Ovid field this tool knows"
    ]


def test_ovid_repeated_tags() -> None:
    text = (
        f"<1. >\nVN  - Ovid Technologies\nDB  - Embase\nUI  - 1\nTI  - {TITLE}\nTI  - {TRANSLATED}\n"
        f"AB  - {PARA1}\nAB  - {PARA2}\nDO  - {DOI}\nDO  - {DOI2}\n"
    )
    _check_repeats(_parse(text, "t.ovd"), tags=("AB", "TI", "DO"))


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("e.ris", "TY  - JOUR\nTI  - T\nVL  - 14 (1) (no pagination)\nIS  - e0212345\nER  - \n"),
        (
            "e.csv",
            "Title,Volume,Issue,Pages\nT,14 (1) (no pagination),e0212345,\n",
        ),
        ("e.nbib", "PMID- 1\nTI  - T\nVI  - 14 (1) (no pagination)\nIP  - e0212345\n"),
    ],
)
def test_embase_no_pagination_volume_is_split_in_every_format(name: str, text: str) -> None:
    (rec,) = _parse(text, name).citations
    assert (rec.volume, rec.issue, rec.pages) == ("14", "1", None)
    assert rec.extra["article_number"] == "e0212345"


def test_ovid_truncated_and_non_record_text() -> None:
    parsed = _parse(
        "Search history\n<1. >\nTI  - One\n\n<2. >\nTI  - Two cut", "t.ovd", skip_bad=True
    )
    assert [c.title for c in parsed.citations] == ["One"]
    assert [(b.line, b.reason) for b in parsed.bad] == [
        (5, "file ends in the middle of this record (truncated?)")
    ]
    assert (
        _messages(parsed)[0]
        == "1: text before the first record not imported (1 line): 'Search history'"
    )


@pytest.mark.parametrize(
    ("name", "text", "line"),
    [
        ("a.nbib", "PMID- 1\nTI  - One\n\nExported from PubMed\nPMID- 2\nTI  - Two\n", 4),
        ("a.enw", "%0 Journal Article\n%T One\n\nExported by EndNote\n%T Two\n", 4),
    ],
)
def test_text_before_a_record_start_is_never_dropped_silently(
    name: str, text: str, line: int
) -> None:
    # nbib and EndNote tagged records are blocks: a block opening with free text is refused, and
    # with --skip-bad it is listed (line and verbatim text), never silently lost.
    with pytest.raises(ParseError, match=rf":{line}: record: "):
        _parse(text, name)
    parsed = _parse(text, name, skip_bad=True)
    assert [c.title for c in parsed.citations] == ["One"]
    (bad,) = parsed.bad
    assert bad.line == line and bad.raw.startswith("Exported")
