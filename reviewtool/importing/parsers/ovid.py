"""Ovid direct exports (Embase, Ovid MEDLINE, PsycINFO ...): the "EndNote", "Citavi" and
"Reference Manager"-style field-tag files Ovid writes instead of RIS.

Layout (one real Embase file is in ``shared/fixtures/formats/ovid_embase``)::

    <3001. >
    VN  - Ovid Technologies
    DB  - Embase
    UI  - 621381829
    TI  - Quality of life in patients with primary ciliary dyskinesia: A systematic review.
    SO  - BMC Proceedings. Conference: ... Spain. 12 (Supplement 3) (no pagination), 2018. ...
    AU  - Behan L.
    AB  - Background: ...
    Method(s): ...                  <- a continuation line, not indented
    DO  - http://dx.doi.org/10.1186/s12919-018-0099-8
    YR  - 2018

Each record opens with a record-number line ``<N. >`` (``<N>`` in older exports); files without
them separate records by blank lines. A tag is up to four characters padded to four, then
``- ``; any other line continues the last tag (indented or not). Journal, volume, issue and pages
come from JN/VO/IP/PG when present, else from the source line SO in either of Ovid's layouts:
Embase ``Journal. 14 (1) (pp 45-67), 2019.`` / ``(no pagination)`` (with ``Article Number:``), or
Ovid MEDLINE ``Journal. 12(3):45-67, 2019 Mar.``.
"""

from __future__ import annotations

import re

from reviewtool.domain import CitationIn
from reviewtool.errors import ParseError
from reviewtool.importing import normalize as nz
from reviewtool.importing.parsers import _repeats as rp
from reviewtool.importing.parsers._base import (
    BadRecord,
    ParseWarning,
    Progress,
    RecordStream,
    excerpt,
    split_lines,
)

__all__ = ["KNOWN_TAGS", "RECORD_NUMBER", "parse", "parse_source", "to_citation"]

RECORD_NUMBER = re.compile(r"^<\s*\d+\.?\s*>\s*$")
"""A record-number line: ``<3001. >`` (or ``<12>``)."""

# Ovid field labels of Embase, Ovid MEDLINE and PsycINFO exports (Ovid's field guides).
KNOWN_TAGS = frozenset(
    [
        "AB",
        "AD",
        "AI",
        "AN",
        "AU",
        "AW",
        "CA",
        "CC",
        "CE",
        "CL",
        "CN",
        "CP",
        "CR",
        "CS",
        "CT",
        "CY",
        "DB",
        "DC",
        "DD",
        "DE",
        "DI",
        "DJ",
        "DM",
        "DN",
        "DO",
        "DP",
        "DS",
        "DT",
        "ED",
        "EM",
        "EP",
        "ES",
        "ET",
        "FS",
        "GI",
        "GS",
        "HW",
        "ID",
        "IN",
        "IO",
        "IP",
        "IS",
        "JA",
        "JC",
        "JN",
        "JT",
        "KF",
        "KW",
        "LG",
        "LS",
        "MA",
        "MC",
        "MD",
        "MH",
        "MI",
        "MQ",
        "NM",
        "NS",
        "OA",
        "OD",
        "OI",
        "OL",
        "OT",
        "PB",
        "PE",
        "PG",
        "PH",
        "PL",
        "PM",
        "PO",
        "PS",
        "PT",
        "PU",
        "PY",
        "RD",
        "RF",
        "RN",
        "RO",
        "SB",
        "SE",
        "SH",
        "SI",
        "SL",
        "SO",
        "ST",
        "SU",
        "TA",
        "TC",
        "TI",
        "TM",
        "TN",
        "TR",
        "TX",
        "UI",
        "UP",
        "UR",
        "VI",
        "VN",
        "VO",
        "XL",
        "XM",
        "XR",
        "XS",
        "YR",
    ]
)

_TAG_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_EMBASE_SOURCE = re.compile(
    r"^(?P<journal>.+?)\.\s+(?P<volume>[^\s()]+)\s*(?:\((?P<issue>[^()]*)\)\s*)?"
    r"\((?:pp\s*(?P<pages>[^()]*)|(?P<nopag>no pagination))\)\s*,\s*(?P<year>\d{4})"
)
_MEDLINE_SOURCE = re.compile(
    r"^(?P<journal>.+?)\.\s+(?P<volume>[^\s():]+)(?:\((?P<issue>[^()]*)\))?"
    r":(?P<pages>[^,]+),\s*(?P<year>\d{4})"
)
_ARTICLE_NUMBER = re.compile(r"Article Number:\s*([^\s.]+(?:\.[^\s.]+)*)")


def _tag(line: str) -> str | None:
    """The tag of an Ovid field line (``"AB  - text"`` -> ``"AB"``), or None for a continuation."""
    if line[4:6] != "- " and line[4:] != "-":
        return None
    tag = line[:4].rstrip(" ")
    if 2 <= len(tag) <= 4 and tag[0].isalpha() and all(c in _TAG_CHARS for c in tag):
        return tag
    return None


def parse_source(source: str | None) -> dict[str, str]:
    """Split an Ovid source line into journal, volume, issue, pages, year, article_number.

    ``"PLoS ONE. 14 (1) (no pagination), 2019. Article Number: e0210123. Date of ..."`` gives
    ``{"journal": "PLoS ONE", "volume": "14", "issue": "1", "year": "2019",
    "article_number": "e0210123"}``; a conference abstract's ``"Journal. Conference: name.
    place. 12 (Supplement 3) ..."`` also gives ``"conference"``. Keys are absent when unknown.
    """
    out: dict[str, str] = {}
    if not source:
        return out
    text = " ".join(source.split())
    match = _EMBASE_SOURCE.match(text) or _MEDLINE_SOURCE.match(text)
    if match is None:
        return out
    journal = match.group("journal")
    if ". Conference: " in journal:
        journal, conference = journal.split(". Conference: ", 1)
        out["conference"] = conference.strip()
    out["journal"] = journal.strip()
    for key in ("volume", "issue", "pages", "year"):
        value = match.groupdict().get(key)
        if value and value.strip():
            out[key] = value.strip()
    article = _ARTICLE_NUMBER.search(text)
    if article:
        out["article_number"] = article.group(1)
    return out


def to_citation(
    fields: dict[str, list[str]], *, raw: str, line: int, notes: list[str] | None = None
) -> CitationIn:
    """Map Ovid field tags to a ``CitationIn``.

    ``UI`` (Ovid's unique identifier) is the source key; it is the PMID in Ovid MEDLINE and the
    Embase accession number in Embase (also kept as ``extra["accession_number"]``). Repeated
    single-value tags follow the shared policy in ``_repeats``; tags outside ``KNOWN_TAGS`` are
    kept in ``extra`` as ``tag_XX``.
    """
    if notes is None:
        notes = []

    def values(tag: str) -> list[str]:
        return fields.get(tag, [])

    def one(*tags: str) -> str | None:
        for tag in tags:
            for value in fields.get(tag, ()):
                if value.strip():
                    return value.strip()
        return None

    database = one("DB") or ""
    ui = rp.first_value("UI", values("UI"), notes)
    accession = ui or one("AN")
    medline = database.lower().startswith(("medline", "ovid medline", "pubmed"))
    pmid = rp.first_valid("PM", values("PM"), nz.normalize_pmid, notes)
    if pmid is None and medline:
        pmid = nz.normalize_pmid(ui)
    source = parse_source(one("SO"))
    extra: dict[str, str] = {}
    for key, value in (
        ("database", database),
        ("accession_number", accession if not medline else one("AN")),
        ("source", one("SO")),
        ("source_type", one("ST")),
        ("issn", "; ".join(v for v in values("IS") if v)),
        ("publisher", one("PB")),
        ("date", one("DP")),
        ("conference", source.get("conference")),
        ("url", one("UR", "XL")),
    ):
        if value:
            extra[key] = value
    title, alternatives = rp.title_and_alternatives("TI", values("TI"), notes)
    others = [t for t in [alternatives, *(nz.clean_text(v) for v in values("OT"))] if t]
    others = [t for t in others if t != title]
    if others:
        extra[rp.ALTERNATIVE_TITLE] = "; ".join(others)
    for tag, tag_values in fields.items():
        if tag not in KNOWN_TAGS:
            kept = "; ".join(v for v in tag_values if v)
            if kept:
                extra[f"tag_{tag}"] = kept
    volume = rp.first_value("VO", values("VO") or values("VI"), notes) or source.get("volume")
    issue = rp.first_value("IP", values("IP"), notes) or source.get("issue")
    pages = rp.first_value("PG", values("PG"), notes) or source.get("pages")
    article = source.get("article_number")
    if article:
        extra["article_number"] = article
    year = rp.year(
        [
            ("YR", rp.first_value("YR", values("YR"), notes)),
            ("PY/DP", one("PY", "DP")),
            ("SO", source.get("year")),
        ],
        notes,
    )
    keywords = [*values("MH"), *values("KW")]
    publication_type = "; ".join(dict.fromkeys(v for v in values("PT") if v))
    return CitationIn(
        source_key=accession,
        raw=raw,
        line=line,
        title=title,
        authors=nz.normalize_authors(values("AU")),
        year=year,
        journal=nz.clean_text(one("JN", "JT", "JA") or source.get("journal")),
        volume=nz.clean_text(volume),
        issue=nz.clean_text(issue),
        pages=nz.normalize_pages(pages),
        doi=rp.first_valid("DO", values("DO"), nz.normalize_doi, notes),
        pmid=pmid,
        abstract=rp.joined_text("AB", values("AB"), notes),
        keywords=nz.split_keywords(keywords, separators=""),
        publication_type=nz.clean_text(publication_type) or nz.clean_text(one("ST")),
        language=one("LG", "LA"),
        extra=extra,
    )


def _read(block: list[str]) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    last: list[str] | None = None
    for line in block:
        tag = _tag(line)
        if tag is not None:
            last = fields.setdefault(tag, [])
            last.append(line[6:].strip())
        elif last is not None and line.strip():
            value = line.strip()
            last[-1] = f"{last[-1]} {value}" if last[-1] else value
    return fields


def parse(text: str, *, name: str, progress: Progress | None = None) -> RecordStream:
    """Yield each Ovid record of ``text`` as a ``CitationIn`` or a ``BadRecord``.

    Records start at a record-number line (``<3001. >``) and include it in their ``raw`` text;
    in files without record numbers a blank line separates records. Text before the first
    record is reported in a warning, and a record whose first field line is not a tag is bad.
    """
    lines = split_lines(text)
    truncated = bool(text) and not text.endswith(("\n", "\r"))
    numbered = any(RECORD_NUMBER.match(ln) for ln in lines)
    starts: list[int] = []
    if numbered:
        starts = [i for i, ln in enumerate(lines) if ln[:1] == "<" and RECORD_NUMBER.match(ln)]
    else:
        previous_blank = True
        for i, ln in enumerate(lines):
            blank = not ln.strip()
            if previous_blank and not blank:
                starts.append(i)
            previous_blank = blank
    first = starts[0] if starts else len(lines)
    before = [i for i in range(first) if lines[i].strip()]
    if before:
        yield ParseWarning(
            before[0] + 1,
            f"text before the first record not imported ({len(before)} line"
            f"{'s' if len(before) != 1 else ''}): {excerpt(lines[before[0]], 60)!r}",
        )
    count = 0
    unknown_seen: dict[str, list[int]] = {}
    for n, begin in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        while end > begin + 1 and not lines[end - 1].strip():
            end -= 1
        block = lines[begin:end]
        raw = "\n".join(block)
        body = block[1:] if numbered else block
        first_field = next((ln for ln in body if ln.strip()), "")
        count += 1
        if end == len(lines) and truncated:
            yield BadRecord(
                begin + 1, None, "file ends in the middle of this record (truncated?)", raw
            )
        elif _tag(first_field) is None:
            yield BadRecord(
                begin + 1,
                None,
                f"not an Ovid record (first line is not a field tag: {first_field[:40]!r})",
                raw,
            )
        else:
            fields = _read(body)
            notes: list[str] = []
            citation = to_citation(fields, raw=raw, line=begin + 1, notes=notes)
            rp.count_unknown(unknown_seen, fields, KNOWN_TAGS, begin + 1)
            yield citation
            yield from rp.record_warnings(citation, notes)
        if progress is not None:
            progress(count)
    yield from rp.unknown_tag_warnings(unknown_seen, "Ovid")
    if count == 0:
        raise ParseError("no Ovid record found (no '<1. >' record-number line)", path=name)
