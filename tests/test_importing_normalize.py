"""Pure field normalisation: DOI, PMID, year, authors, pages, text clean-up, decoding, detection."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reviewtool.errors import InvalidInput
from reviewtool.importing import normalize
from reviewtool.importing.detect import decode, detect_format
from reviewtool.importing.normalize import (
    clean_text,
    latex_to_unicode,
    normalize_author,
    normalize_doi,
    normalize_pages,
    normalize_pmid,
    parse_year,
    split_authors,
    split_keywords,
)


@pytest.mark.parametrize(
    ("raw", "doi"),
    [
        ("10.1000/ABC.123", "10.1000/abc.123"),
        ("https://doi.org/10.1000/xyz", "10.1000/xyz"),
        ("http://dx.doi.org/10.4103/2303-9027.138783", "10.4103/2303-9027.138783"),
        ("doi:10.1000/xyz.", "10.1000/xyz"),
        ("DOI 10.1000/xyz", "10.1000/xyz"),
        ("10.4103/abr.abr_99_17 [doi]", "10.4103/abr.abr_99_17"),
        ("https://doi.org/10.1000%2Fabc", "10.1000/abc"),
        ("not a doi", None),
        ("", None),
        (None, None),
    ],
)
def test_normalize_doi(raw: str | None, doi: str | None) -> None:
    assert normalize_doi(raw) == doi


@pytest.mark.parametrize(
    ("raw", "pmid"),
    [
        ("29657938", "29657938"),
        ("PMID: 123", "123"),
        ("0012", "12"),
        ("12 [pubmed]", "12"),
        ("abc", None),
        ("", None),
        ("L373791783", None),
    ],
)
def test_normalize_pmid(raw: str, pmid: str | None) -> None:
    assert normalize_pmid(raw) == pmid


@pytest.mark.parametrize(
    ("raw", "year"),
    [
        ("2014///", 2014),
        ("2018 Mar 12", 2018),
        ("12/03/2018", 2018),
        ("Start date: 20170812", 2017),
        ("10 15", None),
        ("", None),
        ("c1999", 1999),
        ("12345678", None),
    ],
)
def test_parse_year(raw: str, year: int | None) -> None:
    assert parse_year(raw) == year


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("Liu R.", "Liu, R."),
        ("Adler D.G.", "Adler, D.G."),
        ("Smith JA", "Smith, JA"),
        ("Kim, S", "Kim, S"),
        ("Smith,  John  A.", "Smith, John A."),
        ("John A. Smith", "Smith, John A."),
        ("Ludwig van der Berg", "van der Berg, Ludwig"),
        ("Plato", "Plato"),
        ("", None),
    ],
)
def test_normalize_author(raw: str, name: str | None) -> None:
    assert normalize_author(raw) == name


def test_split_authors() -> None:
    assert split_authors("Smith A, Walter B") == ("Smith, A", "Walter, B")
    assert split_authors("Smith, John and Doe, Jane") == ("Smith, John", "Doe, Jane")
    assert split_authors("Fikl, A; Klöckner, A") == ("Fikl, A", "Klöckner, A")
    assert split_authors("Smith, John") == ("Smith, John",)
    assert split_authors(None) == ()


@pytest.mark.parametrize(
    ("raw", "pages"),
    [
        ("112-20", "112-120"),
        ("1309--1348", "1309-1348"),
        ("55 – 8", "55-58"),
        ("e123", "e123"),
        ("S12-S15", "S12-S15"),
        ("7-7", "7"),
        ("  ", None),
        ("1781-1802", "1781-1802"),
    ],
)
def test_normalize_pages(raw: str, pages: str | None) -> None:
    assert normalize_pages(raw) == pages


def test_clean_text_html_latex_whitespace() -> None:
    assert clean_text("  A <i>novel</i>\n  trial &amp; more ") == "A novel trial & more"
    assert clean_text(r"Schr{\"o}dinger's {DNA} \& {\'e}t{\'e}", latex=True) == (
        "Schrödinger's DNA & été"
    )
    assert clean_text("   ") is None
    assert latex_to_unicode(r"\c{c}a \v{s} \ss{} 50\%") == "ça š ß 50%"


def test_split_keywords_dedups_in_order() -> None:
    assert split_keywords("b; a; b;  c ") == ("b", "a", "c")
    assert split_keywords(["x", "x", "y"], separators="") == ("x", "y")


def test_decode_encodings() -> None:
    assert decode("é".encode()) == ("é", "utf-8")
    assert decode(b"\xef\xbb\xbfTY") == ("TY", "utf-8-sig")
    assert decode("TY é".encode("utf-16")) == ("TY é", "utf-16")
    assert decode("TY é".encode("utf-16-le")) == ("TY é", "utf-16-le")
    assert decode("café “x”".encode("cp1252")) == ("café “x”", "cp1252")
    assert decode(b"caf\xe9 \x81") == ("café \x81", "latin-1")
    with pytest.raises(InvalidInput):
        decode(b"\x00\x00\x00\x01" * 50)


@pytest.mark.parametrize(
    ("text", "name", "fmt"),
    [
        ("TY  - JOUR\nER  - \n", "a.txt", "ris"),
        ("\n\nPMID- 1\nTI  - x\n", "a.txt", "nbib"),
        ("FN Clarivate\nVR 1.0\nPT J\n", "a.ris", "wos"),
        ("PT\tAU\tTI\nJ\tx\ty\n", "a.txt", "wos_tab"),
        ("@article{k, title={x}}", "a.txt", "bibtex"),
        ('<?xml version="1.0"?><xml><records>', "a.txt", "endnote_xml"),
        ("%0 Journal Article\n%T x\n", "a.txt", "endnote_tagged"),
        ("title,year\nx,2000\n", "a.txt", "csv"),
    ],
)
def test_detect_format_from_content(text: str, name: str, fmt: str) -> None:
    assert detect_format(text, name=name) == fmt


def test_detect_format_unknown() -> None:
    with pytest.raises(InvalidInput, match="cannot tell the format"):
        detect_format("just some prose", name="notes.doc")


# The fast paths in clean_text / normalize_pages / normalize_pmid must give what the plain regex
# versions gave (these are the regex versions, kept here as the reference).
def _clean_text_reference(value: str) -> str | None:
    return re.sub(r"\s+", " ", value).strip() or None


def _pages_reference(value: str) -> str | None:
    text = _clean_text_reference(value)
    if text is None:
        return None
    text = re.sub(r"\s*(?:--|[-‐‑‒–—−])+\s*", "-", text)
    match = re.fullmatch(r"([A-Za-z]*)(\d+)-([A-Za-z]*)(\d+)", text)
    if match is None:
        return text.strip("-") or None
    pre1, start, pre2, end = match.groups()
    if pre2 and pre2 != pre1:
        return text
    if len(end) < len(start):
        end = start[: len(start) - len(end)] + end
    if int(end) == int(start):
        return f"{pre1}{start}"
    return f"{pre1}{start}-{pre1}{end}"


@given(st.text(alphabet=st.sampled_from(list("ab \t\n\r\xa0\u2028\x1f\x0b.")), max_size=40))
def test_clean_text_fast_path_matches_regex(value: str) -> None:
    assert normalize.clean_text(value) == _clean_text_reference(value)


@given(st.text(alphabet=st.sampled_from(list("0123456789-e –")), max_size=12))
def test_normalize_pages_fast_path_matches_regex(value: str) -> None:
    assert normalize.normalize_pages(value) == _pages_reference(value)


@given(st.text(alphabet=st.sampled_from(list("0123456789 ²[]a")), max_size=12))
def test_normalize_pmid_fast_path_matches_regex(value: str) -> None:
    match = re.match(r"(\d{1,9})(?:\s*\[[^\]]*\])?\s*$", value.strip())
    expected = (match.group(1).lstrip("0") or None) if match else None
    assert normalize.normalize_pmid(value) == expected
