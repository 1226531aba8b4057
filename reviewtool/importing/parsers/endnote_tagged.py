"""EndNote / Refer tagged text (``%0 Journal Article``, ``%T title`` ...), one record per block.

Records are separated by blank lines: some exporters (AIS eLibrary) start records with ``%T`` and
omit ``%0``, so ``%0`` cannot be relied on to mark a record's start.
"""

from __future__ import annotations

import re

from reviewtool.domain import CitationIn
from reviewtool.errors import ParseError
from reviewtool.importing import normalize as nz
from reviewtool.importing.parsers import _repeats as rp
from reviewtool.importing.parsers._base import BadRecord, Progress, RecordStream, split_lines

__all__ = ["KNOWN_TAGS", "parse", "to_citation"]

_TAG = re.compile(r"^%(\S)(?: (.*)|$)")


# Refer/EndNote tags (EndNote's "Tagged import format" table: letters, digits and the
# punctuation tags for ISBN/ISSN, short title, database name ...). Others go to extra as tag_X.
KNOWN_TAGS = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ@!#$&()*+^|~?]<>=")


def to_citation(
    fields: dict[str, list[str]], *, raw: str, line: int, notes: list[str] | None = None
) -> CitationIn:
    """Map Refer tags (%A author, %T title, %J/%B journal, %D year, %R DOI ...) to a CitationIn.

    A repeated single-value tag follows the shared policy in ``_repeats`` (notes appended to
    ``notes``): %X abstracts and %Z notes joined, a second %T (and %Q, the translated title) kept
    as ``extra["alternative_title"]``, the first valid %R DOI. Tags outside ``KNOWN_TAGS`` are
    kept in ``extra`` as ``tag_X``.
    """
    if notes is None:
        notes = []

    def one(*tags: str) -> str | None:
        for tag in tags:
            for value in fields.get(tag, ()):
                if value.strip():
                    return value.strip()
        return None

    def first(tag: str) -> str | None:
        return rp.first_value(f"%{tag}", fields.get(tag, ()), notes)

    keywords: list[str] = []
    for value in fields.get("K", ()):
        keywords.extend(value.split("\n"))
    extra = {
        name: value
        for name, value in (
            ("type", one("0")),
            ("date", one("8")),
            ("url", one("U")),
            ("issn", one("@")),
            ("publisher", one("I")),
            ("label", one("F")),
            ("accession_number", one("M")),
            ("notes", rp.joined_text("%Z", fields.get("Z", ()), [])),
        )
        if value
    }
    title, alternatives = rp.title_and_alternatives("%T", fields.get("T", ()), notes)
    translated = [nz.clean_text(v) for v in fields.get("Q", ())]
    others = [t for t in [alternatives, *translated] if t and t != title]
    if others:
        extra[rp.ALTERNATIVE_TITLE] = "; ".join(others)
    for tag, values in fields.items():
        if tag not in KNOWN_TAGS:
            kept = "; ".join(v.strip() for v in values if v.strip())
            if kept:
                extra[f"tag_{tag}"] = kept
    return CitationIn(
        source_key=one("M", "F"),
        raw=raw,
        line=line,
        title=title,
        authors=nz.normalize_authors(fields.get("A", ())),
        year=rp.year([("%D", first("D")), ("%8", one("8"))], notes),
        journal=nz.clean_text(one("J", "B")),
        volume=first("V"),
        issue=first("N"),
        pages=nz.normalize_pages(first("P")),
        doi=rp.first_valid("%R", fields.get("R", ()), nz.normalize_doi, notes),
        pmid=None,
        abstract=rp.joined_text("%X", fields.get("X", ()), notes),
        keywords=nz.split_keywords(keywords, separators=";"),
        publication_type=one("0", "9"),
        language=one("G"),
        extra=extra,
    )


def parse(text: str, *, name: str, progress: Progress | None = None) -> RecordStream:
    """Yield each tagged record of ``text`` as a ``CitationIn`` or a ``BadRecord``."""
    lines = split_lines(text)
    count = 0
    unknown_seen: dict[str, list[int]] = {}
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
        fields: dict[str, list[str]] = {}
        last: list[str] | None = None
        problem = None
        for ln in block:
            m = _TAG.match(ln)
            if m:
                last = fields.setdefault(m.group(1), [])
                last.append((m.group(2) or "").strip())
            elif last is not None:
                last[-1] = f"{last[-1]}\n{ln.strip()}"
            else:
                problem = f"text before the first %-tag: {ln.strip()[:40]!r}"
                break
        block = []
        count += 1
        if problem is not None:
            yield BadRecord(start + 1, None, problem, raw)
        else:
            notes: list[str] = []
            citation = to_citation(fields, raw=raw, line=start + 1, notes=notes)
            rp.count_unknown(unknown_seen, fields, KNOWN_TAGS, start + 1)
            yield citation
            yield from rp.record_warnings(citation, notes)
        if progress is not None:
            progress(count)
    yield from rp.unknown_tag_warnings(unknown_seen, "EndNote tagged")
    if count == 0 and text.strip():
        raise ParseError("no EndNote tagged record found", path=name, line=1)
