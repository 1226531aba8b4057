"""Web of Science plain text (FN/VR header, PT ... ER records, EF) and tab-delimited exports.

Plain-text records are cut out here (for start line, verbatim text and per-record errors) and
their fields read with rispy's tag table (``WOK_TAG_KEY_MAPPING``; rispy's own ``WokParser`` raised
on any tag outside it and on a continuation after a repeated tag). Tab-delimited "savedrecs.txt" files carry the same
two-letter tags as column headers and go through the same field mapping.
"""

from __future__ import annotations

import re
from typing import Any

from rispy.config import WOK_LIST_TYPE_TAGS, WOK_TAG_KEY_MAPPING

from reviewtool.domain import CitationIn
from reviewtool.errors import ParseError
from reviewtool.importing import normalize as nz
from reviewtool.importing.parsers import _repeats as rp
from reviewtool.importing.parsers._base import (
    BadRecord,
    ParseWarning,
    Progress,
    RecordStream,
    split_lines,
    width_problem,
)

__all__ = ["parse", "to_citation"]

_TAG = re.compile(r"^([A-Z][A-Z0-9])(?: (.*)|$)")
# Tags whose tab-delimited cell holds a "; "-separated list (plain text puts one item per line).
_UNKNOWN = "unknown_tag"
# rispy's Core Collection tags, plus the newer C3 (affiliations) and WE (edition).
_MAPPING: dict[str, str] = {**WOK_TAG_KEY_MAPPING, "C3": "affiliations", "WE": "wos_edition"}
_LIST_TAGS = frozenset(WOK_LIST_TYPE_TAGS)
_FILE_TAGS = frozenset({"FN", "VR", "EF"})
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


def to_citation(
    rec: dict[str, Any], *, raw: str, line: int, notes: list[str] | None = None
) -> CitationIn:
    """Map one record keyed by rispy's ``WOK_TAG_KEY_MAPPING`` names to a ``CitationIn``.

    Values are strings or lists of strings (one per occurrence or per list item). A repeated
    single-value tag follows the shared policy in ``_repeats`` (notes appended to ``notes``);
    ``rec["unknown_tag"]`` (tag -> values) is kept in ``extra`` as ``tag_XX``.
    """
    if notes is None:
        notes = []
    start = rp.first_value("BP", _many(rec, "beginning_page"), notes)
    end = rp.first_value("EP", _many(rec, "ending_page"), notes)
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
    title, alternatives = rp.title_and_alternatives("TI", _many(rec, "document_title"), notes)
    if alternatives:
        extra[rp.ALTERNATIVE_TITLE] = alternatives
    unknown: dict[str, list[str]] = rec.get(_UNKNOWN) or {}
    for tag, values in unknown.items():
        kept = "; ".join(v for v in values if v)
        if kept:
            extra[f"tag_{tag}"] = kept
    return CitationIn(
        source_key=rp.first_value("UT", _many(rec, "accession_number"), notes),
        raw=raw,
        line=line,
        title=title,
        authors=nz.normalize_authors(authors),
        year=rp.year(
            [
                ("PY", rp.first_value("PY", _many(rec, "publication_year"), notes)),
                ("PD", _one(rec, "publication_date")),
            ],
            notes,
        ),
        journal=nz.clean_text(rp.first_value("SO", _many(rec, "publication_name"), notes)),
        volume=rp.first_value("VL", _many(rec, "volume"), notes),
        issue=rp.first_value("IS", _many(rec, "issue"), notes),
        pages=nz.normalize_pages(pages),
        doi=rp.first_valid("DI", _many(rec, "doi"), nz.normalize_doi, notes),
        pmid=rp.first_valid("PM", _many(rec, "pubmed_id"), nz.normalize_pmid, notes),
        abstract=rp.joined_text("AB", _many(rec, "abstract"), notes),
        keywords=nz.split_keywords(keywords),
        publication_type=nz.clean_text(_one(rec, "document_type")),
        language=_one(rec, "language"),
        extra=extra,
    )


def _fields(lines: list[str]) -> dict[str, Any]:
    """Read one record's lines into ``{key: [values]}`` (``WOK_TAG_KEY_MAPPING`` keys).

    A continuation line (indented) is a new item of a list tag (AU, AF, CR ...: one per line) and
    is joined with a space onto the last value of any other tag. Every occurrence of a tag is its
    own value, so a repeated single-value tag is visible to the ``_repeats`` policy. Tags the
    mapping does not know are collected under ``"unknown_tag"``.
    """
    rec: dict[str, Any] = {}
    unknown: dict[str, list[str]] = {}
    values: list[str] | None = None
    is_list = False
    for line in lines:
        first = line[:1]
        if first == " " or first == "\t":
            value = line.strip()
            if value and values is not None:
                if is_list:
                    values.append(value)
                elif values[-1]:
                    values[-1] = f"{values[-1]} {value}"
                else:
                    values[-1] = value
            continue
        if not line:
            continue
        tag = line[:2]
        if tag == "ER" or tag == "EF":
            continue
        value = line[3:].strip()
        key = _MAPPING.get(tag)
        if key is None:
            values = unknown.get(tag)
            if values is None:
                values = unknown[tag] = []
            is_list = False
        else:
            values = rec.get(key)
            if values is None:
                values = rec[key] = []
            is_list = tag in _LIST_TAGS
        values.append(value)
    if unknown:
        rec[_UNKNOWN] = unknown
    return rec


def parse(
    text: str, *, name: str, progress: Progress | None = None, tabular: bool = False
) -> RecordStream:
    """Yield each WoS record as a ``CitationIn`` or ``BadRecord``; ``tabular`` for savedrecs.txt.

    Tag lines between an ER (or the FN/VR header) and the next PT belong to that record (in its
    ``raw``, with a warning); other text outside records is reported, not imported. Tags the
    Core Collection mapping does not know (Zoological Record, BIOSIS ...) never sink a record:
    they are kept in ``extra`` as ``tag_XX`` with one warning per tag for the file.
    """
    if tabular:
        yield from _parse_tab(text, name=name, progress=progress)
        return
    lines = split_lines(text)
    count = 0
    current: list[str] | None = None
    start = 0
    pending = -1  # first tag line of a block before the next PT
    outside: list[int] = []
    unknown_seen: dict[str, list[int]] = {}

    def emit(block: list[str], begin: int) -> RecordStream:
        notes: list[str] = []
        rec = _fields(block)
        citation = to_citation(rec, raw="\n".join(block), line=begin + 1, notes=notes)
        rp.count_unknown(unknown_seen, rec.get(_UNKNOWN) or (), (), begin + 1)
        yield citation
        if notes:
            yield from rp.record_warnings(citation, notes)

    for i, line in enumerate(lines):
        tag = line[:2]
        if current is None:
            if tag == "PT" and _TAG.match(line):
                if outside:
                    yield rp.outside_warning(lines, outside)
                    outside = []
                if pending >= 0:
                    yield ParseWarning(
                        pending + 1,
                        f"{rp.span(pending + 1, i)} before the PT on line {i + 1} read as part of "
                        "that record",
                    )
                    current, start, pending = [*lines[pending:i], line], pending, -1
                else:
                    current, start = [line], i
            elif not line.strip():
                pass
            elif pending < 0 and tag in _FILE_TAGS and _TAG.match(line):
                pass  # FN / VR header, EF end of file
            elif pending >= 0 and line[:1].isspace():
                pass  # a continuation inside the block
            elif _TAG.match(line) and tag != "ER":
                if pending < 0:
                    pending = i
            else:
                outside.append(i)
            continue
        if tag == "ER" and line[2:].strip() == "":
            yield from emit([*current, line], start)
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
        if line.strip() and not line[:1].isspace() and not _TAG.match(line):
            if line[:2] in _MAPPING:
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
    if current is None and pending >= 0:
        end = len(lines)
        while end > pending + 1 and not lines[end - 1].strip():
            end -= 1
        current, start = lines[pending:end], pending
    if current is not None:
        yield BadRecord(
            start + 1,
            _key(current),
            "record has no ER line before the end of the file (truncated?)",
            "\n".join(current),
        )
    elif outside and count:
        yield rp.outside_warning(lines, outside)
    yield from rp.unknown_tag_warnings(unknown_seen, "Web of Science")
    if current is None and count == 0 and text.strip():
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
    unknown_seen: dict[str, list[int]] = {}
    for i, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        cells = line.split("\t")
        if len(cells) < len(tags) - 1 and i == len(lines) and not text.endswith("\n"):
            yield BadRecord(i, None, "row is cut short at the end of the file (truncated?)", line)
            continue
        cells, bad_reason, width_warning = width_problem(cells, tags)
        if bad_reason is not None:
            ut = tags.index("UT") if "UT" in tags else None
            key = (cells[ut].strip() or None) if ut is not None and ut < len(cells) else None
            yield BadRecord(i, key, bad_reason, line)
            continue
        rec: dict[str, Any] = {}
        for tag, cell in zip(tags, cells, strict=False):
            cell = cell.strip()
            if not cell:
                continue
            key = _MAPPING.get(tag)
            if key is None:
                rec.setdefault(_UNKNOWN, {})[tag or "(no header)"] = [cell]
                continue
            rec[key] = [c.strip() for c in cell.split(";")] if tag in _TAB_LISTS else cell
        count += 1
        notes: list[str] = []
        citation = to_citation(rec, raw=line, line=i, notes=notes)
        rp.count_unknown(unknown_seen, rec.get(_UNKNOWN) or (), (), i)
        yield citation
        if width_warning is not None:
            notes.append(width_warning)
        yield from rp.record_warnings(citation, notes)
        if progress is not None:
            progress(count)
    yield from rp.unknown_tag_warnings(unknown_seen, "Web of Science")
