"""Web of Science plain text (FN/VR header, PT ... ER records, EF) and tab-delimited exports.

Plain-text records are cut out here (for start line, verbatim text and per-record errors) and
their fields read with rispy's ``WokParser``. Tab-delimited "savedrecs.txt" files carry the same
two-letter tags as column headers and go through the same field mapping.
"""

from __future__ import annotations

import re
from typing import Any

from rispy.config import WOK_TAG_KEY_MAPPING
from rispy.parser import WokParser

from reviewtool.domain import CitationIn
from reviewtool.errors import ParseError
from reviewtool.importing import normalize as nz
from reviewtool.importing.parsers._base import (
    BadRecord,
    ParseWarning,
    Progress,
    RecordStream,
    split_lines,
)

__all__ = ["parse", "to_citation"]

_TAG = re.compile(r"^([A-Z][A-Z0-9])(?: (.*)|$)")
# Tags whose tab-delimited cell holds a "; "-separated list (plain text puts one item per line).
_TAB_LISTS = {"AU", "AF", "BA", "BF", "CA", "GP", "BE", "CR", "RI", "OI", "WC", "SC"}


def _one(rec: dict[str, Any], *keys: str) -> str | None:
    for key in keys:
        value = rec.get(key)
        if isinstance(value, list):
            value = next((v for v in value if isinstance(v, str) and v.strip()), None)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _many(rec: dict[str, Any], key: str) -> list[str]:
    value = rec.get(key)
    if value is None:
        return []
    return [value] if isinstance(value, str) else [v for v in value if isinstance(v, str)]


def to_citation(rec: dict[str, Any], *, raw: str, line: int) -> CitationIn:
    """Map one record keyed by rispy's ``WOK_TAG_KEY_MAPPING`` names to a ``CitationIn``."""
    start, end = _one(rec, "beginning_page"), _one(rec, "ending_page")
    pages = f"{start}-{end}" if start and end else start or _one(rec, "article_number")
    authors = _many(rec, "author_full_name") or _many(rec, "authors")
    keywords = [*_many(rec, "author_keywords"), *_many(rec, "keywords_plus")]
    extra: dict[str, str] = {}
    for key, name in (
        ("iso_source_abbreviation", "journal_abbrev"),
        ("source_abbreviation_29c", "journal_abbrev_29"),
        ("issn", "issn"),
        ("eissn", "eissn"),
        ("publication_date", "date"),
        ("article_number", "article_number"),
        ("conference_title", "conference"),
        ("publisher", "publisher"),
        ("publication_type", "wos_publication_type"),
        ("wos_core_collection_cited_count", "times_cited"),
    ):
        value = _one(rec, key)
        if value:
            extra[name] = value
    return CitationIn(
        source_key=_one(rec, "accession_number"),
        raw=raw,
        line=line,
        title=nz.clean_text(_one(rec, "document_title")),
        authors=nz.normalize_authors(authors),
        year=nz.parse_year(_one(rec, "publication_year"))
        or nz.parse_year(_one(rec, "publication_date")),
        journal=nz.clean_text(_one(rec, "publication_name")),
        volume=_one(rec, "volume"),
        issue=_one(rec, "issue"),
        pages=nz.normalize_pages(pages),
        doi=nz.normalize_doi(_one(rec, "doi")),
        pmid=nz.normalize_pmid(_one(rec, "pubmed_id")),
        abstract=nz.clean_text(_one(rec, "abstract")),
        keywords=nz.split_keywords(keywords),
        publication_type=nz.clean_text(_one(rec, "document_type")),
        language=_one(rec, "language"),
        extra=extra,
    )


def parse(
    text: str, *, name: str, progress: Progress | None = None, tabular: bool = False
) -> RecordStream:
    """Yield each WoS record as a ``CitationIn`` or ``BadRecord``; ``tabular`` for savedrecs.txt."""
    if tabular:
        yield from _parse_tab(text, name=name, progress=progress)
        return
    parser = WokParser(enforce_list_tags=False)
    lines = split_lines(text)
    count = 0
    current: list[str] | None = None
    start = 0
    for i, line in enumerate(lines):
        tag = line[:2]
        if current is None:
            if tag == "PT" and _TAG.match(line):
                current, start = [line], i
            continue
        if tag == "ER" and line[2:].strip() == "":
            raw = "\n".join([*current, line])
            try:
                recs = parser.parse_lines(iter([*current, "ER"]))
                if len(recs) != 1:
                    raise ValueError(f"expected one record, found {len(recs)}")
                yield to_citation(recs[0], raw=raw, line=start + 1)
            except Exception as exc:  # rispy raises bare KeyError/IndexError on odd tags
                yield BadRecord(start + 1, _key(current), f"unreadable WoS record ({exc})", raw)
            count += 1
            if progress is not None:
                progress(count)
            current = None
            continue
        if tag == "PT" and _TAG.match(line):
            yield BadRecord(
                start + 1,
                _key(current),
                "record has no ER line before the next PT",
                "\n".join(current),
            )
            count += 1
            current, start = [line], i
            continue
        if line.strip() and not line.startswith("   ") and not _TAG.match(line):
            if line[:2] in WOK_TAG_KEY_MAPPING:
                # "AUGilles, H": the space after the tag is missing, the tag is still plain.
                yield ParseWarning(i + 1, f"no space after tag {line[:2]!r}; read as a tag")
                current.append(f"{line[:2]} {line[2:]}")
                continue
            yield BadRecord(
                start + 1,
                _key(current),
                f"line {i + 1} is neither a tag nor a continuation: {line[:40]!r}",
                "\n".join(current),
            )
            current = None
            continue
        current.append(line)
    if current is not None:
        yield BadRecord(
            start + 1,
            _key(current),
            "record has no ER line before the end of the file (truncated?)",
            "\n".join(current),
        )
    elif count == 0 and text.strip():
        raise ParseError("no Web of Science record found (no line starts with 'PT ')", path=name)


def _key(lines: list[str]) -> str | None:
    for line in lines:
        if line.startswith("UT "):
            return line[3:].strip() or None
    return None


def _parse_tab(text: str, *, name: str, progress: Progress | None) -> RecordStream:
    lines = split_lines(text)
    header = lines[0].lstrip("\ufeff").split("\t")
    tags = [h.strip() for h in header]
    if "PT" not in tags:
        raise ParseError("not a Web of Science tab-delimited export (no PT column)", path=name)
    count = 0
    for i, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        cells = line.split("\t")
        if len(cells) < len(tags) - 1 and i == len(lines) and not text.endswith("\n"):
            yield BadRecord(i, None, "row is cut short at the end of the file (truncated?)", line)
            continue
        rec: dict[str, Any] = {}
        for tag, cell in zip(tags, cells, strict=False):
            cell = cell.strip()
            key = WOK_TAG_KEY_MAPPING.get(tag)
            if not cell or key is None:
                continue
            rec[key] = [c.strip() for c in cell.split(";")] if tag in _TAB_LISTS else cell
        count += 1
        yield to_citation(rec, raw=line, line=i)
        if progress is not None:
            progress(count)
