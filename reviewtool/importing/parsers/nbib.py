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
from reviewtool.importing.parsers._base import BadRecord, Progress, RecordStream, split_lines

__all__ = ["parse", "to_citation"]

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


def to_citation(fields: dict[str, list[str]], *, raw: str, line: int) -> CitationIn:
    """Map MEDLINE tags to a ``CitationIn`` (FAU preferred to AU, JT to TA, LID/AID for the DOI)."""
    doi = None
    for value in [*fields.get("LID", ()), *fields.get("AID", ())]:
        if "[doi]" in value or "doi" in value.lower():
            doi = nz.normalize_doi(value)
            if doi:
                break
    pmid = nz.normalize_pmid(_one(fields, "PMID"))
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
    keywords = [*fields.get("MH", ()), *fields.get("OT", ())]
    return CitationIn(
        source_key=pmid or _one(fields, "OID", "AID"),
        raw=raw,
        line=line,
        title=nz.clean_text(_one(fields, "TI", "BTI")),
        authors=nz.normalize_authors(authors),
        year=nz.parse_year(_one(fields, "DP", "DEP")),
        journal=nz.clean_text(_one(fields, "JT", "TA")),
        volume=_one(fields, "VI"),
        issue=_one(fields, "IP"),
        pages=nz.normalize_pages(_one(fields, "PG")),
        doi=doi,
        pmid=pmid,
        abstract=nz.clean_text(_one(fields, "AB")),
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
                yield to_citation(fields, raw=raw, line=start + 1)
            count += 1
            if progress is not None:
                progress(count)
        start, fields, last, parts, error = -1, {}, None, [], None
    if count == 0 and text.strip():
        raise ParseError("no MEDLINE record found", path=name, line=1)
