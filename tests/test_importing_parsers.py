"""Every real export in shared/fixtures/formats parses to the MANIFEST's record count, with the
fields checked against the files themselves and against CoLRev's expected parses."""

from __future__ import annotations

from pathlib import Path

import pytest
import rispy

from reviewtool.errors import ParseError
from reviewtool.importing.detect import decode
from reviewtool.importing.parsers import bibtex, parse_bytes, parse_file, ris

FORMATS_DIR = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "formats"
pytestmark = pytest.mark.skipif(
    not FORMATS_DIR.is_dir(), reason=f"shared fixtures not found at {FORMATS_DIR}"
)

# file -> (detected format, expected records) as judged in MANIFEST.md.
EXPECTED: dict[str, tuple[str, int]] = {
    "ris/asreview__baseline_empty_values.ris": ("ris", 4),
    "ris/asreview__baseline_reference_types.ris": ("ris", 61),
    "ris/asreview__embase.ris": ("ris", 6),
    "ris/asreview__faulty_year.ris": ("ris", 1),
    "ris/asreview__ovid_psycinfo.ris": ("ris", 6),
    "ris/asreview__ovid_zotero.ris": ("ris", 6),
    "ris/asreview__proquest.ris": ("ris", 6),
    "ris/asreview__pubmed_endnote_ris.txt": ("ris", 6),
    "ris/asreview__pubmed_zotero.ris": ("ris", 6),
    "ris/asreview__ris_issue_1099.txt": ("ris", 7),
    "ris/asreview__ris_issue_992.txt": ("ris", 19),
    "ris/asreview__scopus.ris": ("ris", 6),
    "ris/asreview__web_of_science_ris.txt": ("ris", 10),
    "ris/asysd__ris_export.txt": ("ris", 69),
    "ris/asysd__scopus.ris": ("ris", 10),
    "ris/asysd__test_export.ris": ("ris", 3),
    "ris/asysd__wos_test.ris": ("ris", 50),
    "ris/colrev__abi_inform_proquest_ris.ris": ("ris", 2),
    "ris/colrev__ieee_ris.ris": ("ris", 2),
    "ris/colrev__jstor_ris.ris": ("ris", 4),
    "ris/colrev__loader_ris_data.ris": ("ris", 2),
    "ris/colrev__lorem_ipsum.ris": ("ris", 2),
    "ris/colrev__psycinfo_ris.ris": ("ris", 1),
    "ris/colrev__trid_ris.ris": ("ris", 3),
    "ris/litstudy__example.ris": ("ris", 25),
    "ris/reflib__blue-light.ris": ("ris", 102),
    "ris/rispy__example_basic.ris": ("ris", 1),
    "ris/rispy__example_bom.ris": ("ris", 1),
    "ris/rispy__example_custom_list_tags.ris": ("ris", 1),
    "ris/rispy__example_empty_tag.ris": ("ris", 1),
    "ris/rispy__example_extraneous_data.ris": ("ris", 2),
    "ris/rispy__example_full.ris": ("ris", 2),
    "ris/rispy__example_full_without_whitespace.ris": ("ris", 2),
    "ris/rispy__example_multi_unknown_tags.ris": ("ris", 1),
    "ris/rispy__example_multiline.ris": ("ris", 3),
    "ris/rispy__example_single_unknown_tag.ris": ("ris", 1),
    "ris/rispy__example_starting_newlines.ris": ("ris", 1),
    "ris/rispy__example_urls.ris": ("ris", 4),
    "ris/rispy__example_utf_chars.ris": ("ris", 1),
    "nbib/colrev__eric_nbib.nbib": ("nbib", 1),
    "nbib/colrev__loader_nbib_data.nbib": ("nbib", 1),
    "nbib/metaknowledge__medline_test.medline": ("nbib", 175),
    "nbib/reflib__blue-light.nbib": ("nbib", 80),
    "bibtex/asysd__test_export.bib": ("bibtex", 3),
    "bibtex/bibtexparser__article_comma_first.bib": ("bibtex", 2),
    "bibtex/bibtexparser__article_missing_coma.bib": ("bibtex", 4),
    "bibtex/bibtexparser__article_no_braces.bib": ("bibtex", 1),
    "bibtex/bibtexparser__article_oneline.bib": ("bibtex", 2),
    "bibtex/bibtexparser__article_start_with_bom.bib": ("bibtex", 1),
    "bibtex/bibtexparser__article_with_protection_braces.bib": ("bibtex", 1),
    "bibtex/bibtexparser__article_with_special_characters.bib": ("bibtex", 1),
    "bibtex/bibtexparser__article_with_strings.bib": ("bibtex", 1),
    # 118 @-entries; the duplicate key tmn4 is kept twice: never drop a record silently.
    "bibtex/bibtexparser__biber-examples.bib": ("bibtex", 118),
    "bibtex/bibtexparser__book_capital_AND.bib": ("bibtex", 1),
    "bibtex/bibtexparser__comments_spaces_and_declarations.bib": ("bibtex", 1),
    "bibtex/bibtexparser__common_strings.bib": ("bibtex", 0),
    "bibtex/bibtexparser__crossref_entries.bib": ("bibtex", 14),
    "bibtex/bibtexparser__encoding.bib": ("bibtex", 1),
    "bibtex/bibtexparser__examples_bibtex.bib": ("bibtex", 1),
    "bibtex/bibtexparser__features.bib": ("bibtex", 1),
    "bibtex/bibtexparser__features2.bib": ("bibtex", 1),
    "bibtex/bibtexparser__gbk_test.bib": ("bibtex", 1),
    "bibtex/bibtexparser__multiline_comments.bib": ("bibtex", 0),
    "bibtex/bibtexparser__multiple_entries_and_comments.bib": ("bibtex", 3),
    "bibtex/bibtexparser__string.bib": ("bibtex", 1),
    "bibtex/bibtexparser__traps.bib": ("bibtex", 1),
    "bibtex/bibtexparser__wrong.bib": ("bibtex", 2),
    "bibtex/colrev__abi_inform_proquest_bib.bib": ("bibtex", 2),
    "bibtex/colrev__acm_bib.bib": ("bibtex", 2),
    "bibtex/colrev__crossref_bib.bib": ("bibtex", 1),
    "bibtex/colrev__dblp_bib.bib": ("bibtex", 2),
    "bibtex/colrev__europe_pmc_bib.bib": ("bibtex", 2),
    "bibtex/colrev__loader_bib_data.bib": ("bibtex", 6),
    "bibtex/colrev__scopus_bib.bib": ("bibtex", 11),
    "bibtex/colrev__taylor_and_francis_bib.bib": ("bibtex", 2),
    "bibtex/colrev__unknown_source_bib.bib": ("bibtex", 1),
    "bibtex/colrev__web_of_science_bib.bib": ("bibtex", 2),
    "bibtex/colrev__wiley_bib.bib": ("bibtex", 2),
    "bibtex/uvt__wos_savedrecs.bib": ("bibtex", 10),
    "endnote_xml/asysd__mendeley_export.xml": ("endnote_xml", 1233),
    "endnote_xml/iebh__tafenoquine.xml": ("endnote_xml", 179),
    "endnote_xml/reflib__blue-light.xml": ("endnote_xml", 102),
    "endnote_xml/reflib__multipart.xml": ("endnote_xml", 1),
    "endnote_tagged/colrev__ais_enl.txt": ("endnote_tagged", 6),
    "endnote_tagged/colrev__loader_enl_data.enl": ("endnote_tagged", 3),
    "wos_plaintext/metaknowledge__OnePaper.isi": ("wos", 1),
    "wos_plaintext/metaknowledge__OnePaperNoCites.isi": ("wos", 1),
    "wos_plaintext/metaknowledge__SimplePaper.isi": ("wos", 1),
    "wos_plaintext/metaknowledge__TwoPaper.isi": ("wos", 2),
    "wos_plaintext/metaknowledge__badFile.isi": ("wos", 32),
    "wos_plaintext/metaknowledge__testFile.isi": ("wos", 34),
    "wos_plaintext/rispy__example_wos.ris": ("wos", 2),
    "wos_tabdelimited/uvt__savedrecs.txt": ("wos_tab", 10),
    "wos_tabdelimited/uvt__savedrecs_cited_by.txt": ("wos_tab", 15),
    "csv/asreview__duplicate_records.csv": ("csv", 14),
    "csv/asreview__embase.csv": ("csv", 6),
    "csv/asreview__embase_newpage.csv": ("csv", 6),
    "csv/asreview__generic.csv": ("csv", 2),
    "csv/asreview__generic_labels.csv": ("csv", 6),
    "csv/asreview__generic_semicolon.csv": ("csv", 2),
    "csv/asreview__generic_tab.tsv": ("csv", 2),
    "csv/asreview__missing_values.csv": ("csv", 4),
    "csv/asysd__test_export.csv": ("csv", 3),
    # Not in MANIFEST; an EndNote tab-delimited table with 3 data rows.
    "csv/asysd__test_export_endnote_tab.txt": ("csv", 3),
    "csv/colrev__ieee_csv.csv": ("csv", 2),
    "csv/colrev__loader_csv_data.csv": ("csv", 2),
    "csv/colrev__pubmed-chatbot.csv": ("csv", 6),
    "csv/colrev__pubmed_csv.csv": ("csv", 1),
    "csv/colrev__springer_csv.csv": ("csv", 1),
    "csv/litstudy__ieee.csv": ("csv", 10),
    "csv/litstudy__scopus.csv": ("csv", 58),
    "csv/litstudy__springer.csv": ("csv", 18),
    "ovid_embase/knh11545__Embase_endnote_r3001-3002.cgi": ("ovid", 2),
}


def load(rel: str, **kwargs: object):  # type: ignore[no-untyped-def]
    return parse_file(FORMATS_DIR / rel, **kwargs)  # type: ignore[arg-type]


def test_every_fixture_is_listed() -> None:
    dirs = {rel.split("/")[0] for rel in EXPECTED}
    on_disk = {
        f"{p.parent.name}/{p.name}"
        for d in dirs
        for p in (FORMATS_DIR / d).iterdir()
        if p.is_file()
    }
    assert on_disk - set(EXPECTED) - KNOWN_BAD.keys() == set()


@pytest.mark.parametrize("rel", sorted(EXPECTED))
def test_fixture_record_count(rel: str) -> None:
    fmt, count = EXPECTED[rel]
    parsed = load(rel)
    assert parsed.format == fmt
    assert len(parsed.citations) == count
    assert parsed.bad == ()
    for c in parsed.citations:
        assert c.line >= 1
        assert c.raw.strip()
    # Records come back in file order.
    lines = [c.line for c in parsed.citations]
    assert lines == sorted(lines)


# Real exports with a genuinely broken record: refused by default, the rest importable with skip_bad.
KNOWN_BAD: dict[str, tuple[int, int, int]] = {
    # EBSCO entry 2 has a stray JavaScript fragment with unbalanced braces in its keywords.
    "bibtex/colrev__ebsco_bib.bib": (1, 1, 15),
}


@pytest.mark.parametrize("rel", sorted(KNOWN_BAD))
def test_real_file_with_a_broken_record(rel: str) -> None:
    good, bad, line = KNOWN_BAD[rel]
    with pytest.raises(ParseError) as info:
        load(rel)
    assert info.value.line == line
    assert rel.split("/")[1] in str(info.value)
    parsed = load(rel, skip_bad=True)
    assert (len(parsed.citations), len(parsed.bad)) == (good, bad)


def test_embase_ris_fields() -> None:
    first = load("ris/asreview__embase.ris").citations[0]
    assert first.title == (
        "Duplication cysts: Diagnosis, management, and the role of endoscopic ultrasound"
    )
    assert first.authors == ("Liu, R.", "Adler, D.G.")
    assert first.year == 2014
    assert first.journal == "Endoscopic Ultrasound"
    assert (first.volume, first.issue, first.pages) == ("3", "3", "152-160")
    assert first.doi == "10.4103/2303-9027.138783"
    assert first.abstract is not None and first.abstract.startswith("Gastrointestinal tract")
    assert "colonoscopy" in first.keywords
    assert first.language == "English"
    assert first.raw.startswith("TY  - JOUR") and first.raw.rstrip().endswith("ER  -")


def test_ris_source_keys_and_encoding() -> None:
    parsed = load("ris/asysd__wos_test.ris")
    assert parsed.encoding == "utf-8-sig"
    assert parsed.citations[0].source_key == "WOS:000082252000006"
    assert parsed.citations[0].authors[0] == "Larsen, LJ"


def test_ris_mixed_line_endings_litstudy() -> None:
    parsed = load("ris/litstudy__example.ris")
    assert len(parsed.citations) == 25
    assert all(c.title for c in parsed.citations)


def test_ris_missing_er_is_a_warning_not_a_loss() -> None:
    parsed = load("ris/colrev__loader_ris_data.ris")
    assert len(parsed.citations) == 2
    assert [(w.line, w.message.split(";")[0]) for w in parsed.warnings] == [
        (2, "record has no ER line"),
    ]
    # VO (a RIS-specification tag) is kept in extra and read as the volume where VL is absent.
    assert parsed.citations[1].extra["tag_VO"] == "50"
    assert parsed.citations[1].volume == "50"
    assert parsed.citations[0].doi == "10.1234/random-name55555.2020.00050"


def test_pubmed_nbib_fields() -> None:
    parsed = load("nbib/reflib__blue-light.nbib")
    first = parsed.citations[0]
    assert first.source_key == first.pmid == "29657938"
    assert first.title is not None and first.title.startswith("Formulation of Herbal Gel")
    assert "  " not in first.title  # continuation lines joined with one space
    assert first.authors[0] == "Shahtalebi, Mohammad Ali"
    assert first.year == 2018
    assert first.journal == "Advanced biomedical research"
    assert first.doi == "10.4103/abr.abr_99_17"
    assert first.publication_type == "Journal Article"
    assert first.extra["pmcid"] == "PMC5887696"


def test_eric_nbib_without_pmid() -> None:
    (rec,) = load("nbib/colrev__eric_nbib.nbib").citations
    assert rec.pmid is None and rec.source_key == "EJ1131633"
    assert rec.doi == "10.1000/123456789"
    assert rec.authors == ("Smith, Tom", "Hunter, Shawn")
    assert rec.keywords == ("Keyword 1", "Keyword 2")


def test_bibtex_string_macros_and_months() -> None:
    (rec,) = load("bibtex/bibtexparser__article_with_strings.bib").citations
    assert rec.source_key == "Cesar2013"
    assert rec.journal == "Nice Journal"
    assert rec.authors == ("César, Jean",)
    assert rec.extra["month"] == "January"


def test_bibtex_latex_accents_and_braces() -> None:
    (rec,) = load("bibtex/bibtexparser__article_with_special_characters.bib").citations
    assert rec.authors[0].startswith("César")
    (prot,) = load("bibtex/bibtexparser__article_with_protection_braces.bib").citations
    assert prot.title is not None and "{" not in prot.title


def test_bibtex_capital_and_and_spaced_keys() -> None:
    (rec,) = load("bibtex/bibtexparser__book_capital_AND.bib").citations
    assert rec.authors == ("Bird, R.B.", "Armstrong, R.C.", "Hassager, O.")
    keys = [c.source_key for c in load("bibtex/colrev__scopus_bib.bib").citations]
    assert "Conference paper2022775" in keys


def test_bibtex_duplicate_keys_are_both_kept() -> None:
    keys = [c.source_key for c in load("bibtex/colrev__loader_bib_data.bib").citations]
    assert keys.count("articlewriter_firstrandomword_2020") == 2


BIBTEX_FILES = sorted(
    str(p.relative_to(FORMATS_DIR)) for p in (FORMATS_DIR / "bibtex").rglob("*.bib")
)


@pytest.mark.parametrize("rel", BIBTEX_FILES)
def test_bibtex_scanner_reads_what_bibtexparser_reads(rel: str) -> None:
    # The fast scanner must agree with bibtexparser 2 on every entry it accepts (it hands the
    # rest to bibtexparser), field for field and piece for piece.
    text, _ = decode((FORMATS_DIR / rel).read_bytes(), name=rel)
    for _line, kind, raw, problem in bibtex._blocks(text):
        if problem is not None or kind in ("comment", "preamble"):
            continue
        ours = bibtex.read_entry(raw)
        if ours is None:
            continue
        assert ours == bibtex._with_bibtexparser(raw), raw[:200]


def test_bibtex_concatenation_macros_and_delimiters() -> None:
    text = (
        '@String{j = "Journal of "}\n'
        "@string(JX = j # {Tests})\n"
        "@article(paren1,\n"
        '  title = "A {"}quoted{"} title, with commas",\n'
        "  journal = jx,\n"
        "  month = dec # {~1},\n"
        "  year = 2020\n"
        ")\n"
        "@misc{ comma_first\n , title = {T} , note = {a {nested, braced} note} }\n"
        "@comment{ @article{hidden, title = {not a record}} }\n"
    )
    recs = parse_bytes(text.encode(), name="t.bib").citations
    assert [(r.source_key, r.line) for r in recs] == [("paren1", 3), ("comma_first", 9)]
    assert recs[0].title == 'A "quoted" title, with commas'
    assert recs[0].journal == "Journal of Tests"
    assert recs[0].year == 2020 and recs[0].extra["month"] == "December"
    assert recs[1].title == "T" and recs[1].extra["note"] == "a nested, braced note"


def test_bibtex_bad_entry_says_why() -> None:
    text = "@article{good, title = {A}}\n@article{bad, title = {B} junk = {C}}\n"
    with pytest.raises(ParseError) as info:
        parse_bytes(text.encode(), name="t.bib")
    assert info.value.line == 2 and "'bad'" in str(info.value)
    assert "bibtexparser cannot read the entry" in str(info.value)
    parsed = parse_bytes(text.encode(), name="t.bib", skip_bad=True)
    assert [c.source_key for c in parsed.citations] == ["good"]
    assert [b.source_key for b in parsed.bad] == ["bad"]


def test_bibtex_repeated_field_keeps_the_entry() -> None:
    text = "@article{k, title = {First}, title = {Second}, year = {2001}}\n"
    (rec,) = parse_bytes(text.encode(), name="t.bib").citations
    assert rec.title == "Second" and rec.year == 2001


RIS_FILES = sorted(
    str(p.relative_to(FORMATS_DIR))
    for d in ("ris", "derived_malformed")
    if (FORMATS_DIR / d).is_dir()  # collected even where shared/ is absent (then skipped)
    for p in (FORMATS_DIR / d).iterdir()
    if p.is_file() and (p.suffix == ".ris" or d == "ris")
)


def _rispy_records(raw: str) -> list[dict[str, object]]:
    """What rispy makes of one record cut out by our parser (tag lines in rispy's layout).

    rispy reads only TY ... ER; tag lines our parser took in from before TY or after ER are moved
    inside (after TY, before ER), where rispy reads them the same way.
    """
    lines = raw.split("\n")
    ty = next(i for i, ln in enumerate(lines) if (t := ris._tag(ln)) and t[0] == "TY")
    er = next((i for i, ln in enumerate(lines) if (t := ris._tag(ln)) and t[0] == "ER"), None)
    body = lines[ty + 1 : er] if er is not None else lines[ty + 1 :]
    trailer = lines[er + 1 :] if er is not None else []
    norm = []
    for line in [lines[ty], *lines[:ty], *body, *trailer]:
        tagged = ris._tag(line)
        if tagged is not None:
            norm.append(f"{tagged[0]}  - {tagged[1]}")
        elif line.strip():
            norm.append(" " + line.strip())
    parser = rispy.RisParser(
        mapping=ris.RIS_MAPPING, list_tags=ris._LIST_TAGS, enforce_list_tags=False
    )
    return parser.parse_lines(iter([*norm, "ER  - "]))


@pytest.mark.parametrize("rel", RIS_FILES)
def test_ris_fields_match_rispy(rel: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # The one-pass tag loop builds the same record dicts as rispy.RisParser with our mapping.
    seen: list[tuple[dict[str, object], str]] = []
    real = ris.to_citation

    def spy(rec: dict[str, object], *, raw: str, line: int, **kw):  # type: ignore[no-untyped-def]
        seen.append((rec, raw))
        return real(rec, raw=raw, line=line, **kw)

    monkeypatch.setattr(ris, "to_citation", spy)
    text, _ = decode((FORMATS_DIR / rel).read_bytes(), name=rel)
    for _item in ris.parse(text, name=rel):
        pass
    assert seen
    for rec, raw in seen:
        assert [rec] == _rispy_records(raw), raw[:200]


def test_ris_continuation_after_a_repeated_tag_is_joined_not_fatal() -> None:
    # rispy raises TypeError here (" ".join of a list); we join the line onto the last value.
    text = "TY  - JOUR\nTI  - First\nTI  - Second title\n  goes on\nER  - \n"
    (rec,) = parse_bytes(text.encode(), name="t.ris").citations
    assert rec.title == "First"
    fields: dict[str, object] = {"type_of_reference": "JOUR"}
    ris.add_field(fields, "TI", "First", continued=False)
    ris.add_field(fields, "TI", "Second title", continued=False)
    ris.add_field(fields, "TI", "goes on", continued=True)
    assert fields["title"] == ["First", "Second title goes on"]


def test_nbib_continuations_odd_tags_and_bad_blocks() -> None:
    text = (
        "PMID- 1\n"
        "TI  - A title\n"
        "      that goes on  \n"
        "\t  and on\n"
        "AB  -\n"
        "      Abstract starts on the next line.\n"
        "LA - eng\n"
        "\n"
        "stray text\n"
        "PMID- 2\n"
        "\n"
        "PMID- 3\n"
        "TI  - Third\n"
    )
    parsed = parse_bytes(text.encode(), name="t.nbib", format="nbib", skip_bad=True)
    first, third = parsed.citations
    assert first.title == "A title that goes on and on"
    assert first.abstract == "Abstract starts on the next line."
    assert first.language == "eng"
    assert (first.line, third.line, third.title) == (1, 12, "Third")
    assert [(b.line, b.reason.startswith("not a MEDLINE record")) for b in parsed.bad] == [
        (9, True)
    ]


def test_format_override_and_unknown_format() -> None:
    data = (FORMATS_DIR / "ris/rispy__example_basic.ris").read_bytes()
    assert parse_bytes(data, name="x.bin", format="ris").format == "ris"
    with pytest.raises(ParseError):
        parse_bytes(b"hello world\n", name="x.ris", format="ris")


def test_progress_callback_counts_records() -> None:
    seen: list[int] = []
    load("nbib/reflib__blue-light.nbib", progress=seen.append)
    assert seen[-1] == 80


def test_endnote_xml_fields() -> None:
    first = load("endnote_xml/reflib__blue-light.xml").citations[0]
    assert first.source_key == "895"
    assert first.pmid == "29657938"  # accession number, trusted because the provider is NLM
    assert first.doi == "10.4103/abr.abr_99_17"
    assert first.authors[0] == "Shahtalebi, M. A."
    assert first.year == 2018 and first.journal == "Adv Biomed Res"
    assert first.raw.startswith("<record>") and first.raw.endswith("</record>")
    (multi,) = load("endnote_xml/reflib__multipart.xml").citations
    assert multi.source_key == "1 & 2" and multi.title == "Foo & Bar"
    assert multi.line == 4


def test_same_library_in_three_formats_agrees() -> None:
    ris = {c.doi for c in load("ris/reflib__blue-light.ris").citations if c.doi}
    xml = {c.doi for c in load("endnote_xml/reflib__blue-light.xml").citations if c.doi}
    nbib = {c.doi for c in load("nbib/reflib__blue-light.nbib").citations if c.doi}
    assert ris == xml
    assert nbib <= ris


def test_wos_plain_text_fields() -> None:
    first = load("wos_plaintext/rispy__example_wos.ris").citations[0]
    assert first.source_key == "WOS:000221807500019"
    assert first.authors[:2] == ("Parkes-Loach, PS", "Majeed, AP")
    assert first.pmid == "15170338" and first.doi == "10.1021/bi049798f"
    assert (first.journal, first.volume, first.issue, first.pages) == (
        "BIOCHEMISTRY",
        "43",
        "22",
        "7003-7016",
    )
    assert first.title is not None and "(LHl)" in first.title


def test_wos_missing_space_after_tag_is_a_warning() -> None:
    parsed = load("wos_plaintext/metaknowledge__testFile.isi")
    assert [w.line for w in parsed.warnings] == [416]


def test_wos_tab_delimited_matches_wos_bibtex() -> None:
    tab = load("wos_tabdelimited/uvt__savedrecs.txt").citations
    bib = load("bibtex/uvt__wos_savedrecs.bib").citations
    assert tab[0].source_key == "WOS:001661450000001"
    assert tab[0].authors == ("Fikl, Alexandru", "Klockner, Andreas")
    assert {c.doi for c in tab} == {c.doi for c in bib}


def test_csv_column_auto_mapping_and_explicit_map() -> None:
    (rec,) = load("csv/colrev__pubmed_csv.csv").citations
    assert rec.source_key == rec.pmid == "11223344"
    assert rec.authors == ("Smith, A", "Walter, B")
    assert (rec.year, rec.doi, rec.journal) == (2021, "10.1111/nature1111", "Nature")
    assert rec.extra["PMCID"] == "PMC1122334"
    scopus = load("csv/litstudy__scopus.csv").citations[0]
    assert scopus.pages == "1781-1802" and scopus.source_key == "2-s2.0-27344436659"
    mapped = load("csv/colrev__pubmed_csv.csv", column_map={"journal": "Citation"}).citations[0]
    assert mapped.journal is not None and mapped.journal.startswith("Nature. 2021")


def test_csv_line_numbers_follow_multiline_fields() -> None:
    data = b'id,title,abstract\n1,"A","two\nlines"\n\n2,B,x\n'
    recs = parse_bytes(data, name="t.csv").citations
    assert [(r.source_key, r.line) for r in recs] == [("1", 2), ("2", 5)]
    assert recs[0].abstract == "two lines"


def test_csv_comment_line_before_the_header_is_named() -> None:
    # It was taken for the header: "no column is recognised as title, authors, DOI, PMID or year
    # (header: '# PubMed export', '2026-11-29')".
    data = b"\n# PubMed export, 2026-11-29\nid,title,abstract\n1,A,x\n"
    with pytest.raises(ParseError) as err:
        parse_bytes(data, name="t.csv")
    assert str(err.value) == (
        "t.csv:2: a comment line (it starts with '#') where the header should be: a table export "
        "has none; delete the line"
    )


def test_endnote_tagged_fields() -> None:
    first = load("endnote_tagged/colrev__ais_enl.txt").citations[0]
    assert first.authors[0] == "Guo, Wenbo"
    assert (first.journal, first.year, first.pages) == (
        "Management Information Systems Quarterly",
        2021,
        "1309-1348",
    )


# CoLRev's expected parses: compare the fields both tools produce (title, year, DOI, journal).
ORACLE = {
    "ris/colrev__ieee_ris.ris": "ris/expected/colrev__ieee_ris_result.bib",
    "ris/colrev__psycinfo_ris.ris": "ris/expected/colrev__psycinfo_ris_result.bib",
    "ris/colrev__trid_ris.ris": "ris/expected/colrev__trid_ris_result.bib",
    "nbib/colrev__eric_nbib.nbib": "nbib/expected/colrev__eric_nbib_result.bib",
    "bibtex/colrev__acm_bib.bib": "bibtex/expected/colrev__acm_bib_result.bib",
    "bibtex/colrev__dblp_bib.bib": "bibtex/expected/colrev__dblp_bib_result.bib",
    "csv/colrev__ieee_csv.csv": "csv/expected/colrev__ieee_csv_result.bib",
    "endnote_tagged/colrev__ais_enl.txt": "endnote_tagged/expected/colrev__ais_enl_result.bib",
}


def _norm_title(t: str | None) -> str:
    return "".join(ch for ch in (t or "").lower() if ch.isalnum())


@pytest.mark.parametrize("rel", sorted(ORACLE))
def test_fields_agree_with_colrev(rel: str) -> None:
    ours = load(rel).citations
    theirs = load(ORACLE[rel]).citations
    assert len(ours) == len(theirs)
    our_titles = {_norm_title(c.title) for c in ours}
    assert {_norm_title(c.title) for c in theirs} == our_titles
    for exp in theirs:
        same = [c for c in ours if _norm_title(c.title) == _norm_title(exp.title)]
        if exp.doi:
            assert exp.doi in {c.doi for c in same}
        if exp.year:
            assert exp.year in {c.year for c in same}
