"""RIS (PubMed, Ovid/Embase, Web of Science, Scopus, Cochrane, EndNote and Zotero flavours).

Records are cut out here (TY ... ER) so each keeps its start line and verbatim text and a broken one
can be reported alone; the fields of each record are then read by ``rispy`` with a tag mapping that
folds the vendor variants together (Ovid's A1/T1/N2/Y1/JF, Scopus C7, ...).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import rispy

from reviewtool.domain import CitationIn
from reviewtool.importing import normalize as nz
from reviewtool.importing.parsers._base import (
    BadRecord,
    ParseWarning,
    Progress,
    RecordStream,
    split_lines,
)

__all__ = ["RIS_MAPPING", "parse"]

# rispy's default mapping with vendor synonyms folded onto one key each: Ovid/Embase write A1 for
# authors, T1 for the title, N2 for the abstract, Y1 for the year and JF for the journal.
RIS_MAPPING: dict[str, str] = {
    **rispy.TAG_KEY_MAPPING,
    "A1": "authors",
    "AU": "authors",
    "T1": "title",
    "TI": "title",
    "N2": "abstract_n2",
    "AB": "abstract",
    "Y1": "year_y1",
    "PY": "year",
    "JF": "journal_full",
    "JO": "journal_name",
    "JA": "journal_abbrev",
    "J2": "alternate_journal",
    "BT": "book_title",
    "CT": "caption_title",
}
_LIST_TAGS = [*rispy.LIST_TYPE_TAGS, "A1", "AU", "KW", "SN"]

_TAG = re.compile(r"^([A-Z][A-Z0-9])\s{1,2}-(?:\s(.*)|\s*)$")
_TAG_NOSPACE = re.compile(r"^([A-Z][A-Z0-9])\s{0,2}-\s?(.*)$")


def _tag(line: str) -> tuple[str, str] | None:
    """Split a tag line; accepts "KW - x", "ER  -" and other near-misses real exports contain."""
    m = _TAG.match(line)
    if m:
        return m.group(1), (m.group(2) or "").strip()
    if line.startswith(("ER", "TY")):
        m = _TAG_NOSPACE.match(line)
        if m:
            return m.group(1), (m.group(2) or "").strip()
    return None


def _first(rec: dict[str, Any], *keys: str) -> str | None:
    for key in keys:
        value = rec.get(key)
        if isinstance(value, list):
            value = next((v for v in value if isinstance(v, str) and v.strip()), None)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _all(rec: dict[str, Any], key: str) -> list[str]:
    value = rec.get(key)
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [v for v in value if isinstance(v, str)]


def to_citation(rec: dict[str, Any], *, raw: str, line: int) -> CitationIn:
    """Map one rispy record dict (with ``RIS_MAPPING`` keys) to a ``CitationIn``."""
    start = _first(rec, "start_page")
    end = _first(rec, "end_page")
    pages = f"{start}-{end}" if start and end and "-" not in start else start or end
    doi = nz.normalize_doi(_first(rec, "doi"))
    if doi is None:
        for url in [*_all(rec, "urls"), *_all(rec, "file_attachments2")]:
            if "doi.org/" in url:
                doi = nz.normalize_doi(url)
                break
    unknown = rec.get("unknown_tag") or {}
    # embase.com exports carry the Embase accession (L...) in U2 and the PMID in C5.
    source_key = _first(rec, "id", "accession_number") or _first(unknown, "U2")
    database = (_first(rec, "name_of_database") or "").lower()
    pmid = None
    if "PM" in unknown:
        pmid = nz.normalize_pmid(unknown["PM"][0])
    if pmid is None and database.startswith(("medline", "pubmed")):
        pmid = nz.normalize_pmid(_first(rec, "accession_number"))
    if pmid is None and (database.startswith("embase") or (source_key or "").startswith("L")):
        pmid = nz.normalize_pmid(_first(rec, "custom5"))
    extra: dict[str, str] = {}
    for key, field in (
        ("type_of_reference", "type"),
        ("issn", "issn"),
        ("publisher", "publisher"),
        ("name_of_database", "database"),
        ("accession_number", "accession_number"),
        ("secondary_title", "secondary_title"),
        ("journal_abbrev", "journal_abbrev"),
        ("custom7", "article_number"),
        ("date", "date"),
    ):
        val = _all(rec, key)
        if val:
            extra[field] = "; ".join(v.strip() for v in val if v.strip())
    urls = _all(rec, "urls")
    if urls:
        extra["url"] = urls[0]
    abstract = _first(rec, "abstract", "abstract_n2")
    return CitationIn(
        source_key=source_key,
        raw=raw,
        line=line,
        title=nz.clean_text(_first(rec, "title", "short_title", "book_title", "caption_title")),
        authors=nz.normalize_authors(_all(rec, "authors")),
        year=nz.parse_year(_first(rec, "year"))
        or nz.parse_year(_first(rec, "year_y1"))
        or nz.parse_year(_first(rec, "date")),
        journal=nz.clean_text(
            _first(
                rec,
                "journal_full",
                "journal_name",
                "secondary_title",
                "journal_abbrev",
                "alternate_journal",
            )
        ),
        volume=nz.clean_text(_first(rec, "volume")),
        issue=nz.clean_text(_first(rec, "number")),
        pages=nz.normalize_pages(pages),
        doi=doi,
        pmid=pmid,
        abstract=nz.clean_text(abstract),
        keywords=nz.split_keywords(_all(rec, "keywords"), separators=""),
        # Cochrane puts the publication type in PT; it says more than TY (always JOUR there).
        publication_type=nz.clean_text(
            _first(rec, "type_of_work") or _first(unknown, "PT") or _first(rec, "type_of_reference")
        ),
        language=nz.clean_text(_first(rec, "language")),
        extra=extra,
    )


def parse(text: str, *, name: str, progress: Progress | None = None) -> RecordStream:
    """Yield each RIS record of ``text`` as a ``CitationIn`` or, when broken, a ``BadRecord``.

    A record missing its ER line but followed by a new TY is kept (the TY shows where it ended);
    a record cut off by the end of the file is bad, because we cannot tell it is complete.
    """
    parser = rispy.RisParser(mapping=RIS_MAPPING, list_tags=_LIST_TAGS, enforce_list_tags=False)
    lines = split_lines(text)
    count = 0
    start = 0
    current: list[str] | None = None
    norm: list[str] = []

    def finish(end: int) -> CitationIn | BadRecord:
        raw = "\n".join(lines[start:end])
        try:
            recs = parser.parse_lines(iter([*norm, "ER  - "]))
            if len(recs) != 1:
                raise ValueError(f"expected one record, rispy found {len(recs)}")
            return to_citation(recs[0], raw=raw, line=start + 1)
        except Exception as exc:  # rispy raises bare KeyError/IndexError on odd input
            return BadRecord(start + 1, None, f"unreadable RIS record ({exc})", raw)

    for i, line in enumerate(lines):
        tagged = _tag(line)
        if current is None:
            if tagged is not None and tagged[0] == "TY":
                current, start = [line], i
                norm = [f"TY  - {tagged[1]}"]
            continue
        if tagged is not None and tagged[0] == "ER":
            yield finish(i + 1)
            count += 1
            if progress is not None:
                progress(count)
            current = None
            continue
        if tagged is not None and tagged[0] == "TY":
            # A new TY ends the previous record even without ER: nothing was lost, so keep it.
            yield ParseWarning(start + 1, f"record has no ER line; ended by the TY on line {i + 1}")
            yield finish(_trim_trailing_blank(lines, start, i))
            count += 1
            current, start = [line], i
            norm = [f"TY  - {tagged[1]}"]
            continue
        current.append(line)
        if tagged is not None:
            norm.append(f"{tagged[0]}  - {tagged[1]}")
        elif line.strip():
            # Leading space keeps rispy from mistaking a continuation line for a tag.
            norm.append(" " + line.strip())
    if current is not None:
        end = _trim_trailing_blank(lines, start, len(lines))
        raw = "\n".join(lines[start:end])
        yield BadRecord(
            start + 1,
            _peek_key(current),
            "record has no ER line before the end of the file (truncated?)",
            raw,
        )
    if count == 0 and current is None and text.strip():
        yield from _no_records(name)


def _trim_trailing_blank(lines: list[str], start: int, end: int) -> int:
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1
    return end


def _peek_key(record_lines: list[str]) -> str | None:
    for line in record_lines:
        tagged = _tag(line)
        if tagged and tagged[0] in ("ID", "AN", "U2") and tagged[1]:
            return tagged[1]
    return None


def _no_records(name: str) -> Iterator[BadRecord]:
    from reviewtool.errors import ParseError

    raise ParseError("no RIS record found (no line starts with 'TY  - ')", path=name, line=1)
    yield  # pragma: no cover - makes this a generator
