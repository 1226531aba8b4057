"""EndNote / Refer tagged text (``%0 Journal Article``, ``%T title`` ...), one record per block.

Records are separated by blank lines: some exporters (AIS eLibrary) start records with ``%T`` and
omit ``%0``, so ``%0`` cannot be relied on to mark a record's start.
"""

from __future__ import annotations

import re

from reviewtool.domain import CitationIn
from reviewtool.errors import ParseError
from reviewtool.importing import normalize as nz
from reviewtool.importing.parsers._base import BadRecord, Progress, RecordStream, split_lines

__all__ = ["parse", "to_citation"]

_TAG = re.compile(r"^%(\S)(?: (.*)|$)")


def to_citation(fields: dict[str, list[str]], *, raw: str, line: int) -> CitationIn:
    """Map Refer tags (%A author, %T title, %J/%B journal, %D year, %R DOI ...) to a CitationIn."""

    def one(*tags: str) -> str | None:
        for tag in tags:
            for value in fields.get(tag, ()):
                if value.strip():
                    return value.strip()
        return None

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
        )
        if value
    }
    return CitationIn(
        source_key=one("M", "F"),
        raw=raw,
        line=line,
        title=nz.clean_text(one("T")),
        authors=nz.normalize_authors(fields.get("A", ())),
        year=nz.parse_year(one("D")) or nz.parse_year(one("8")),
        journal=nz.clean_text(one("J", "B")),
        volume=one("V"),
        issue=one("N"),
        pages=nz.normalize_pages(one("P")),
        doi=nz.normalize_doi(one("R")),
        pmid=None,
        abstract=nz.clean_text(one("X")),
        keywords=nz.split_keywords(keywords, separators=";"),
        publication_type=one("0", "9"),
        language=one("G"),
        extra=extra,
    )


def parse(text: str, *, name: str, progress: Progress | None = None) -> RecordStream:
    """Yield each tagged record of ``text`` as a ``CitationIn`` or a ``BadRecord``."""
    lines = split_lines(text)
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
            yield to_citation(fields, raw=raw, line=start + 1)
        if progress is not None:
            progress(count)
    if count == 0 and text.strip():
        raise ParseError("no EndNote tagged record found", path=name, line=1)
