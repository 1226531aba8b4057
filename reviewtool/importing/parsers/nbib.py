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


def _fields(lines: list[str]) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    last: list[str] | None = None
    for line in lines:
        m = _TAG.match(line)
        if m and not line[:1].isspace():
            last = fields.setdefault(m.group(1), [])
            last.append((m.group(2) or "").strip())
        elif last is not None and line.strip():
            last[-1] = f"{last[-1]} {line.strip()}".strip()
        elif line.strip():
            raise ValueError(f"text before the first tag: {line.strip()[:40]!r}")
    return fields


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
    """Yield each MEDLINE record of ``text`` as a ``CitationIn`` or a ``BadRecord``."""
    lines = split_lines(text)
    truncated = bool(text) and not text.endswith(("\n", "\r"))
    last_content = max((i for i, ln in enumerate(lines) if ln.strip()), default=-1)
    count = 0
    block: list[str] = []
    start = 0
    for i, line in enumerate([*lines, ""]):
        if line.strip():
            if not block:
                start = i
            block.append(line)
            continue
        if not block:
            continue
        raw = "\n".join(block)
        is_last = i > last_content
        try:
            fields = _fields(block)
        except ValueError as exc:
            yield BadRecord(start + 1, None, f"not a MEDLINE record ({exc})", raw)
            block = []
            continue
        key = _one(fields, "PMID", "OID")
        if is_last and truncated:
            yield BadRecord(
                start + 1, key, "file ends in the middle of this record (truncated?)", raw
            )
        elif not fields:
            yield BadRecord(start + 1, key, "no MEDLINE tags in this block", raw)
        else:
            yield to_citation(fields, raw=raw, line=start + 1)
        count += 1
        if progress is not None:
            progress(count)
        block = []
    if count == 0 and text.strip():
        raise ParseError("no MEDLINE record found", path=name, line=1)
