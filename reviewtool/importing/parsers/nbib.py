"""PubMed MEDLINE / .nbib (and the ERIC exports that borrow its layout).

Tags are up to four characters padded to "XXXX- ", continuation lines are indented, and records are
separated by blank lines; there is no end tag, so a record cut by the end of the file is detected by
the file ending mid-line.
"""

from __future__ import annotations

import re

from reviewtool.domain import CitationIn
from reviewtool.errors import ParseError
from reviewtool.importing import normalize as nz
from reviewtool.importing.parsers import _repeats as rp
from reviewtool.importing.parsers._base import (
    BadRecord,
    Progress,
    RecordStream,
    split_lines,
)

__all__ = ["KNOWN_TAGS", "parse", "to_citation"]

_TAG = re.compile(r"^([A-Z][A-Z0-9]{0,3})\s*-(?: (.*)|$)")


_TAG_FIRST = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_TAG_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


def _head_tag(head: str) -> str:
    """The tag in a line's first four characters ("TI  " -> "TI"), or "" if they are not one."""
    tag = head.rstrip(" ")
    ok = tag[:1] in _TAG_FIRST and all(c in _TAG_CHARS for c in tag)
    return tag if ok else ""


def _one(fields: dict[str, list[str]], *tags: str) -> str | None:
    for tag in tags:
        for value in fields.get(tag, ()):
            if value:
                return value
    return None


# MEDLINE/PubMed tags (NLM, "MEDLINE/PubMed Data Element (Field) Descriptions") and the few that
# ERIC's nbib exports add. Any other tag is kept in ``extra`` as ``tag_XXX`` with a warning.
KNOWN_TAGS = frozenset(
    [
        "AB",
        "AD",
        "AID",
        "AU",
        "AUID",
        "BTI",
        "CI",
        "CIN",
        "CN",
        "COI",
        "COIS",
        "CON",
        "CP",
        "CRDT",
        "CRF",
        "CRI",
        "CTDT",
        "CTI",
        "DA",
        "DCOM",
        "DEP",
        "DP",
        "DRDT",
        "ECF",
        "ECI",
        "ED",
        "EDAT",
        "EFR",
        "EIN",
        "EN",
        "FAU",
        "FED",
        "FIR",
        "FPS",
        "GN",
        "GR",
        "GS",
        "IP",
        "IR",
        "IRAD",
        "IS",
        "ISBN",
        "ISSN",
        "JID",
        "JT",
        "LA",
        "LID",
        "LR",
        "MH",
        "MHDA",
        "MID",
        "NM",
        "OAB",
        "OABL",
        "OCI",
        "OID",
        "ORI",
        "OT",
        "OTO",
        "OWN",
        "PB",
        "PG",
        "PHST",
        "PL",
        "PMC",
        "PMCR",
        "PMID",
        "PS",
        "PST",
        "PT",
        "PUBM",
        "RF",
        "RIN",
        "RN",
        "ROF",
        "RPF",
        "RPI",
        "RRF",
        "RRI",
        "SB",
        "SFM",
        "SI",
        "SO",
        "SPIN",
        "STAT",
        "TA",
        "TI",
        "TT",
        "UIN",
        "UOF",
        "VI",
        "VTI",
    ]
)


def to_citation(
    fields: dict[str, list[str]], *, raw: str, line: int, notes: list[str] | None = None
) -> CitationIn:
    """Map MEDLINE tags to a ``CitationIn`` (FAU preferred to AU, JT to TA, LID/AID for the DOI).

    A repeated single-value tag follows the shared policy in ``_repeats`` (notes appended to
    ``notes``): AB paragraphs joined, a second TI (and TT, the transliterated title) kept as
    ``extra["alternative_title"]``, the first valid PMID and DOI. Tags outside ``KNOWN_TAGS`` are
    kept in ``extra`` as ``tag_XXX``.
    """
    if notes is None:
        notes = []
    dois = [v for v in [*fields.get("LID", ()), *fields.get("AID", ())] if "doi" in v.lower()]
    doi = rp.first_valid("LID/AID [doi]", dois, nz.normalize_doi, notes)
    pmid = rp.first_valid("PMID", fields.get("PMID", ()), nz.normalize_pmid, notes)
    authors = fields.get("FAU") or fields.get("AU") or []
    extra: dict[str, str] = {}
    for tag, key in (
        ("TA", "journal_abbrev"),
        ("IS", "issn"),
        ("DP", "date"),
        ("PMC", "pmcid"),
        ("OID", "other_id"),
        ("SO", "source"),
        ("OWN", "owner"),
        ("STAT", "status"),
        ("CN", "corporate_author"),
    ):
        if fields.get(tag):
            extra[key] = "; ".join(v for v in fields[tag] if v)
    title, alternatives = rp.title_and_alternatives("TI", fields.get("TI", ()), notes)
    if title is None:
        title = nz.clean_text(_one(fields, "BTI"))
    others = [t for t in [alternatives, *(nz.clean_text(v) for v in fields.get("TT", ()))] if t]
    others = [t for t in others if t != title]
    if others:
        extra[rp.ALTERNATIVE_TITLE] = "; ".join(others)
    general_notes = rp.joined_text("GN", fields.get("GN", ()), [])
    if general_notes:
        extra["notes"] = general_notes
    for tag, values in fields.items():
        if tag not in KNOWN_TAGS:
            kept = "; ".join(v for v in values if v)
            if kept:
                extra[f"tag_{tag}"] = kept
    keywords = [*fields.get("MH", ()), *fields.get("OT", ())]
    return CitationIn(
        source_key=pmid or _one(fields, "OID", "AID"),
        raw=raw,
        line=line,
        title=title,
        authors=nz.normalize_authors(authors),
        year=rp.year(
            [
                ("DP", rp.first_value("DP", fields.get("DP", ()), notes)),
                ("DEP", _one(fields, "DEP")),
            ],
            notes,
        ),
        journal=nz.clean_text(_one(fields, "JT", "TA")),
        volume=rp.first_value("VI", fields.get("VI", ()), notes),
        issue=rp.first_value("IP", fields.get("IP", ()), notes),
        pages=nz.normalize_pages(rp.first_value("PG", fields.get("PG", ()), notes)),
        doi=doi,
        pmid=pmid,
        abstract=rp.joined_text("AB", fields.get("AB", ()), notes),
        keywords=nz.split_keywords(keywords, separators=""),
        publication_type=nz.clean_text("; ".join(fields.get("PT", ()))),
        language=_one(fields, "LA"),
        extra=extra,
    )


def parse(text: str, *, name: str, progress: Progress | None = None) -> RecordStream:
    """Yield each MEDLINE record of ``text`` as a ``CitationIn`` or a ``BadRecord``.

    One pass over the lines reads the tags as it finds the blank lines between records (the
    per-line work dominates on large files, so ``_fields`` is inlined here).
    """
    lines = split_lines(text)
    truncated = bool(text) and not text.endswith(("\n", "\r"))
    last_content = len(lines) - 1
    while last_content >= 0 and not lines[last_content].strip():
        last_content -= 1
    lines.append("")  # ends the last block
    count = 0
    known = KNOWN_TAGS
    unknown_seen: dict[str, list[int]] = {}
    heads: dict[str, str] = {}
    start = -1  # first line of the block being read; -1 between blocks
    fields: dict[str, list[str]] = {}
    last: list[str] | None = None
    parts: list[str] = []
    error: str | None = None
    for i, line in enumerate(lines):
        if line[:1] == " " and last is not None and not line.isspace():
            parts.append(line.strip())  # a continuation line, the next most common kind
            continue
        if line[4:6] == "- ":
            # The usual "TAG - value" layout (tag padded to four characters), without the regex.
            head = line[:4]
            tag = heads.get(head)
            if tag is None:
                tag = heads[head] = _head_tag(head)
            if tag:
                if start < 0:
                    start = i
                if len(parts) > 1 and last is not None:
                    last[-1] = " ".join(parts) if parts[0] else " ".join(parts[1:])
                value = line[6:].strip()
                last = fields.get(tag)
                if last is None:
                    last = fields[tag] = [value]
                else:
                    last.append(value)
                parts = [value]
                continue
        if line and not line.isspace():
            if start < 0:
                start = i
            if not line[:1].isspace():
                m = _TAG.match(line)
                if m:
                    if len(parts) > 1 and last is not None:
                        last[-1] = " ".join(parts) if parts[0] else " ".join(parts[1:])
                    value = (m.group(2) or "").strip()
                    last = fields.setdefault(m.group(1), [])
                    last.append(value)
                    parts = [value]
                    continue
            if last is not None:
                parts.append(line.strip())
            elif error is None:
                error = f"text before the first tag: {line.strip()[:40]!r}"
            continue
        if start < 0:
            continue
        # A blank line (or the end of the file) ends the block.
        if len(parts) > 1 and last is not None:
            last[-1] = " ".join(parts) if parts[0] else " ".join(parts[1:])
        raw = "\n".join(lines[start:i])
        if error is not None:
            yield BadRecord(start + 1, None, f"not a MEDLINE record ({error})", raw)
        else:
            key = _one(fields, "PMID", "OID")
            if i > last_content and truncated:
                yield BadRecord(
                    start + 1, key, "file ends in the middle of this record (truncated?)", raw
                )
            else:
                notes: list[str] = []
                citation = to_citation(fields, raw=raw, line=start + 1, notes=notes)
                rp.count_unknown(unknown_seen, fields, known, start + 1)
                yield citation
                if notes:
                    yield from rp.record_warnings(citation, notes)
            count += 1
            if progress is not None:
                progress(count)
        start, fields, last, parts, error = -1, {}, None, [], None
    yield from rp.unknown_tag_warnings(unknown_seen, "MEDLINE")
    if count == 0 and text.strip():
        raise ParseError("no MEDLINE record found", path=name, line=1)
