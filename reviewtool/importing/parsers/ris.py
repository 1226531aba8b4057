"""RIS (PubMed, Ovid/Embase, Web of Science, Scopus, Cochrane, EndNote and Zotero flavours).

Records are cut out here (TY ... ER) so each keeps its start line and verbatim text and a broken one
can be reported alone. Fields are read with ``rispy``'s tag table (``RIS_MAPPING``: its mapping with
the vendor variants folded together, Ovid's A1/T1/N2/Y1/JF, Scopus C7, ...) into the record dict
``rispy.RisParser`` builds, but in the same pass that cuts the records: running rispy once per record
cost more than everything else together. ``tests/test_importing_parsers.py`` checks the dicts
against rispy's on every fixture. Where rispy itself crashes (a continuation line after a repeated
single-value tag: ``" ".join`` of a list) the line is joined onto the last value instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import rispy
import rispy.config

from reviewtool.domain import CitationIn
from reviewtool.importing import normalize as nz
from reviewtool.importing.parsers import _repeats as rp
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
        if value is None:
            continue
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


def to_citation(
    rec: dict[str, Any], *, raw: str, line: int, notes: list[str] | None = None
) -> CitationIn:
    """Map one rispy record dict (with ``RIS_MAPPING`` keys) to a ``CitationIn``.

    A tag repeated in one record follows the shared policy in ``_repeats`` (abstracts and notes
    joined, later titles kept as ``extra["alternative_title"]``, the first valid DOI/PMID); what
    it changed is appended to ``notes``. Tags outside ``RIS_MAPPING`` are kept in ``extra`` as
    ``tag_XX`` ("; "-joined values).
    """
    if notes is None:
        notes = []
    start = rp.first_value("SP", _all(rec, "start_page"), notes)
    end = rp.first_value("EP", _all(rec, "end_page"), notes)
    pages = f"{start}-{end}" if start and end and "-" not in start else start or end
    doi = rp.first_valid("DO", _all(rec, "doi"), nz.normalize_doi, notes)
    if doi is None:
        for url in [*_all(rec, "urls"), *_all(rec, "file_attachments2")]:
            if "doi.org/" in url:
                doi = nz.normalize_doi(url)
                break
    unknown: dict[str, list[str]] = rec.get("unknown_tag") or {}
    # embase.com exports carry the Embase accession (L...) in U2 and the PMID in C5.
    source_key = _first(rec, "id", "accession_number") or _first(unknown, "U2")
    database = (_first(rec, "name_of_database") or "").lower()
    pmid = None
    if "PM" in unknown:
        pmid = rp.first_valid("PM", unknown["PM"], nz.normalize_pmid, notes)
    if pmid is None and database.startswith(("medline", "pubmed")):
        pmid = rp.first_valid("AN", _all(rec, "accession_number"), nz.normalize_pmid, notes)
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
        val = rec.get(key)
        if type(val) is str:
            if val.strip():
                extra[field] = val.strip()
        elif val:
            extra[field] = "; ".join(v.strip() for v in val if isinstance(v, str) and v.strip())
    urls = _all(rec, "urls")
    if urls:
        extra["url"] = urls[0]
    # N1 is a list tag (EndNote writes one per note, Scopus hundreds): joined as paragraphs, in
    # order, with no warning; stripped only (cleaning each one cost a tenth of the parse time).
    note_text = rp.PARAGRAPH.join(n for n in (v.strip() for v in _all(rec, "notes")) if n)
    if note_text:
        extra["notes"] = note_text
    for tag, values in unknown.items():
        kept = "; ".join(v for v in values if v)
        if kept:
            extra[_unknown_key(tag)] = kept
    abstract = rp.joined_text("AB", _all(rec, "abstract"), notes) or rp.joined_text(
        "N2", _all(rec, "abstract_n2"), notes
    )
    title, alternatives = rp.title_and_alternatives("TI", _all(rec, "title"), notes)
    if title is None:
        title = nz.clean_text(_first(rec, "short_title", "book_title", "caption_title"))
    translated = [nz.clean_text(t) for t in _all(rec, "translated_title")]  # TT
    others = [t for t in [alternatives, *translated] if t and t != title]
    if others:
        extra[rp.ALTERNATIVE_TITLE] = "; ".join(others)
    return CitationIn(
        source_key=source_key,
        raw=raw,
        line=line,
        title=title,
        authors=nz.normalize_authors(_all(rec, "authors")),
        year=rp.year(
            [
                ("PY", rp.first_value("PY", _all(rec, "year"), notes)),
                ("Y1", _first(rec, "year_y1")),
                ("DA", _first(rec, "date")),
            ],
            notes,
        ),
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
        # VO is the specification's "published standard number", but exporters (e.g. the ones
        # CoLRev's loader tests use) write the volume there when there is no VL.
        volume=nz.clean_text(
            rp.first_value("VL", _all(rec, "volume"), notes) or _first(unknown, "VO")
        ),
        issue=nz.clean_text(rp.first_value("IS", _all(rec, "number"), notes)),
        pages=nz.normalize_pages(pages),
        doi=doi,
        pmid=pmid,
        abstract=abstract,
        keywords=nz.split_keywords(_all(rec, "keywords"), separators=""),
        # Cochrane puts the publication type in PT; it says more than TY (always JOUR there).
        publication_type=nz.clean_text(
            _first(rec, "type_of_work") or _first(unknown, "PT") or _first(rec, "type_of_reference")
        ),
        language=nz.clean_text(_first(rec, "language")),
        extra=extra,
    )


_TAG_FIRST = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_TAG_SECOND = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_LIST_TAG_SET = frozenset(_LIST_TAGS)
_DELIMITED: dict[str, str] = dict(rispy.config.DELIMITED_TAG_MAPPING)
_UNKNOWN = RIS_MAPPING["UK"]
# Tags of the RIS specification (Research Information Systems, "RIS Format Specifications", 2012;
# the list in Wikipedia's "RIS (file format)") that rispy's mapping lacks, and vendor tags this
# parser reads (PT: Cochrane Library publication type; PM: PMID). They are kept in ``extra`` as
# ``tag_XX`` like any other unmapped tag, but they are not "unknown", so they give no warning.
_KNOWN_UNMAPPED = frozenset(
    {"A5", "A6", "BT", "CP", "CT", "ED", "J1", "L3", "LK", "M2", "PP", "VO"}
    | {f"U{i}" for i in range(1, 6)}
    | {"PT", "PM"}
)
# tag -> (record key, is a list tag): one dict lookup per line instead of three.
_SPECS: dict[str, tuple[str, bool]] = {
    tag: (key, tag in _LIST_TAG_SET) for tag, key in RIS_MAPPING.items() if tag not in _DELIMITED
}


def _split_tag(line: str) -> tuple[str, str] | None:
    """``_tag`` with a fast path for the canonical ``"XY  - value"`` layout."""
    if line[:1] not in _TAG_FIRST:
        return None  # a continuation line
    if line[2:6] == "  - " and line[1] in _TAG_SECOND:
        return line[:2], line[6:].strip()
    third = line[2:3]
    if third != "-" and not third.isspace():
        return None  # "Humans", "Department of ...": continuation lines, not tags
    return _tag(line)


def _add_list_value(rec: dict[str, Any], name: str, values: list[str]) -> None:
    existing = rec.get(name)
    if existing is None:
        rec[name] = values
    elif isinstance(existing, list):
        existing.extend(values)
    else:
        rec[name] = [existing, *values]


def add_field(rec: dict[str, Any], tag: str | None, value: str, *, continued: bool) -> None:
    """Add one tag line (or, ``continued``, a continuation of ``tag``) as rispy would."""
    spec = _SPECS.get(tag) if tag is not None else None
    if spec is not None:
        name, is_list = spec
        if is_list:
            existing = rec.get(name)
            if existing is None:
                rec[name] = [value]
            elif type(existing) is list:
                existing.append(value)
            else:
                rec[name] = [existing, value]
        elif not continued:
            if name in rec:
                _add_list_value(rec, name, [value])
            else:
                rec[name] = value
        else:
            existing = rec[name]
            if isinstance(existing, list):
                existing[-1] = f"{existing[-1]} {value}"
            else:
                rec[name] = f"{existing} {value}"
    elif tag is not None and tag in _DELIMITED:
        values = [v.strip() for v in value.split(_DELIMITED[tag])]
        _add_list_value(rec, RIS_MAPPING[tag], values)
    else:
        rec.setdefault(_UNKNOWN, {}).setdefault(tag, []).append(value)


def parse(text: str, *, name: str, progress: Progress | None = None) -> RecordStream:
    """Yield each RIS record of ``text`` as a ``CitationIn`` or, when broken, a ``BadRecord``.

    Tag lines outside TY ... ER are never dropped silently. A block of tag lines that runs
    straight into the next TY belongs to that record (Scopus data passed through other tools puts
    DB, TI, SP, AB before TY); a block right after an ER that ends at a blank line or at the end of
    the file belongs to the record that ER closed (Ovid writes ``NL`` after ER). Either way the
    lines become part of the record's ``raw`` text and a warning gives their line numbers. Other
    text outside any record (``Provider: ...`` headers) is not imported, and a warning says where.
    A record missing its ER line but followed by a new TY is kept (the TY shows where it ended);
    a record cut off by the end of the file is bad, because we cannot tell it is complete.
    Tags outside ``RIS_MAPPING`` are kept in ``extra`` with one warning per tag for the file.
    """
    lines = split_lines(text)
    count = 0
    start = 0
    rec: dict[str, Any] | None = None
    last_tag: str | None = None
    # Between records: the record the last ER closed (yielded once we know no trailer follows),
    # the first tag line of a block after it, and non-tag lines that belong to no record.
    held: tuple[dict[str, Any], int, int] | None = None  # (fields, first line, end index)
    pending = -1
    outside: list[int] = []
    unknown_seen: dict[str | None, list[int]] = {}  # tag -> [first line, records]

    def emit(rec: dict[str, Any], begin: int, end: int) -> RecordStream:
        notes: list[str] = []
        citation = to_citation(rec, raw="\n".join(lines[begin:end]), line=begin + 1, notes=notes)
        unknown = rec.get(_UNKNOWN)
        if unknown:
            for tag in unknown:
                if tag in _KNOWN_UNMAPPED:
                    continue  # a RIS-spec or vendor tag: kept in extra, nothing to warn about
                seen = unknown_seen.get(tag)
                if seen is None:
                    unknown_seen[tag] = [begin + 1, 1]
                else:
                    seen[1] += 1
        yield citation
        if notes:
            yield from rp.record_warnings(citation, notes)

    def attach_trailer(end: int) -> Iterator[ParseWarning]:
        # lines[pending:end] follow the held record's ER: they are its trailer.
        nonlocal held
        assert held is not None
        fields, begin, _ = held
        _replay(fields, lines, pending, end)
        stop = _trim_trailing_blank(lines, pending, end)
        held = (fields, begin, stop)
        yield ParseWarning(
            pending + 1,
            f"{rp.span(pending + 1, stop)} after the ER on line {pending} read as part of that record",
        )

    specs = _SPECS
    for i, line in enumerate(lines):
        if line[2:6] == "  - " and line[:1] in _TAG_FIRST and line[1] in _TAG_SECOND:
            tag, value = line[:2], line[6:].strip()  # the usual layout, without a regex
        else:
            third = line[2:3]
            if line[:1] in _TAG_FIRST and (third == "-" or third.isspace()):
                tagged = _tag(line)
            else:
                tagged = None  # "Humans", "Department of ...": a continuation line
            if tagged is None:
                if rec is not None:
                    content = line.strip()
                    if content:
                        # Inlined add_field for a continued list tag (one keyword a line).
                        spec = specs.get(last_tag) if last_tag is not None else None
                        existing = rec.get(spec[0]) if spec is not None and spec[1] else None
                        if type(existing) is list:
                            existing.append(content)
                        else:
                            add_field(rec, last_tag, content, continued=True)
                elif line.strip():
                    if pending < 0:
                        outside.append(i)
                elif pending >= 0 and held is not None and held[2] == pending:
                    # A blank line ends a block that started right after an ER: a trailer.
                    yield from attach_trailer(i)
                    pending = -1
                continue
            tag, value = tagged
        if rec is None:
            if tag == "TY" or tag == "ER":
                if held is not None:
                    yield from emit(*held)
                    count += 1
                    if progress is not None:
                        progress(count)
                    held = None
                if outside:
                    yield rp.outside_warning(lines, outside)
                    outside = []
            if tag == "TY":
                rec, start, last_tag = {"type_of_reference": value}, i, None
                if pending >= 0:
                    yield ParseWarning(
                        pending + 1,
                        f"{rp.span(pending + 1, i)} before the TY on line {i + 1} read as part of "
                        "that record",
                    )
                    _replay(rec, lines, pending, i)
                    start, pending = pending, -1
            elif tag == "ER":
                if pending >= 0:
                    # Tags ended by ER with no TY at all: still a record, and said so.
                    fields: dict[str, Any] = {}
                    _replay(fields, lines, pending, i)
                    yield ParseWarning(pending + 1, f"record has no TY line (ends on line {i + 1})")
                    held, pending = (fields, pending, i + 1), -1
            elif pending < 0:
                pending = i
            continue
        spec = specs.get(tag)
        if spec is not None and tag != "TY" and tag != "ER":
            # Inlined add_field for a first occurrence, by far the most common line.
            key, is_list = spec
            existing = rec.get(key)
            if existing is None:
                rec[key] = [value] if is_list else value
            elif is_list and type(existing) is list:
                existing.append(value)
            else:
                add_field(rec, tag, value, continued=False)
            last_tag = tag
        elif tag == "ER":
            held, rec = (rec, start, i + 1), None
        elif tag == "TY":
            # A new TY ends the previous record even without ER: nothing was lost, so keep it.
            yield ParseWarning(start + 1, f"record has no ER line; ended by the TY on line {i + 1}")
            end = _trim_trailing_blank(lines, start, i)
            yield from emit(rec, start, end)
            count += 1
            rec, start, last_tag = {"type_of_reference": value}, i, None
        else:
            add_field(rec, tag, value, continued=False)
            last_tag = tag
    if pending >= 0:
        if held is not None and held[2] == pending:
            yield from attach_trailer(len(lines))
        else:
            rec, start = {}, pending  # tag lines with no TY and no ER: reported as cut off
    if held is not None:
        yield from emit(*held)
        count += 1
        if progress is not None:
            progress(count)
    if rec is not None:
        end = _trim_trailing_blank(lines, start, len(lines))
        yield BadRecord(
            start + 1,
            _peek_key(lines[start:end]),
            "record has no ER line before the end of the file (truncated?)",
            "\n".join(lines[start:end]),
        )
    elif outside and count:
        yield rp.outside_warning(lines, outside)
    for utag, (first, records) in unknown_seen.items():
        what = (
            f"tag {utag!r} is not a RIS field this tool knows" if utag else "text continues no tag"
        )
        yield ParseWarning(
            first,
            f"{what}; kept in extra as {_unknown_key(utag)!r} "
            f"({records} record{'s' if records != 1 else ''})",
        )
    if count == 0 and rec is None and text.strip():
        yield from _no_records(name)


def _replay(rec: dict[str, Any], lines: list[str], begin: int, end: int) -> None:
    """Add the tag and continuation lines ``lines[begin:end]`` to ``rec`` (pre-TY lines)."""
    last: str | None = None
    for line in lines[begin:end]:
        tagged = _split_tag(line)
        if tagged is not None:
            tag, value = tagged
            if tag == "TY":
                continue
            add_field(rec, tag, value, continued=False)
            last = tag
        elif line.strip() and last is not None:
            add_field(rec, last, line.strip(), continued=True)


def _unknown_key(tag: str | None) -> str:
    """The ``extra`` key for a tag outside ``RIS_MAPPING`` (``None``: text after TY, no tag)."""
    return f"tag_{tag}" if tag else "untagged"


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
