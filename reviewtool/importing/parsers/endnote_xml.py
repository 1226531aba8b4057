"""EndNote XML (EndNote, Mendeley and RefLib exports), read with expat as a stream.

Safety: a DOCTYPE or ENTITY declaration is refused before parsing, so no entity expansion (billion
laughs) or external fetch can happen. The parser is event-driven, so a 100k-record file is never
held as a tree; each ``<record>`` is converted and dropped as soon as it closes. Records completed
before a well-formedness error are kept; the error itself is reported as a bad record.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from xml.parsers import expat

from reviewtool.domain import CitationIn
from reviewtool.errors import ParseError
from reviewtool.importing import normalize as nz
from reviewtool.importing.parsers import _repeats as rp
from reviewtool.importing.parsers._base import BadRecord, ParseWarning, Progress, RecordStream

__all__ = ["parse"]

_DTD = re.compile(r"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_CHUNK = 1 << 20
_RECORD_START = re.compile(rb"<record[\s>]")
_REC_NUMBER = re.compile(rb"<rec-number>\s*(?:<style[^>]*>)?\s*([^<\s]+)")


@dataclass
class _Record:
    line: int
    start_byte: int
    column: int = 0
    fields: dict[str, list[str]] = field(default_factory=dict)
    path: list[str] = field(default_factory=list)
    text: list[str] = field(default_factory=list)


# Element path inside <record> (style runs excluded) -> our field name.
_PATHS = {
    "rec-number": "rec_number",
    "ref-type": "ref_type",
    "contributors/authors/author": "author",
    "titles/title": "title",
    "titles/secondary-title": "secondary_title",
    "titles/alt-title": "alt_title",
    "periodical/full-title": "journal",
    "periodical/abbr-1": "journal_abbrev",
    "alt-periodical/full-title": "alt_journal",
    "pages": "pages",
    "volume": "volume",
    "number": "number",
    "issue": "issue",
    "keywords/keyword": "keyword",
    "dates/year": "year",
    "dates/pub-dates/date": "date",
    "abstract": "abstract",
    "electronic-resource-num": "doi",
    "accession-num": "accession_num",
    "isbn": "isbn",
    "language": "language",
    "work-type": "work_type",
    "urls/related-urls/url": "url",
    "remote-database-name": "database",
    "remote-database-provider": "provider",
    "custom1": "custom1",
    "custom2": "custom2",
    "label": "label",
    "caption": "caption",
    "publisher": "publisher",
}


def _key(rec: _Record) -> str | None:
    values = rec.fields.get("rec_number")
    return values[0].strip() if values else None


def _citation(rec: _Record, raw: str, ref_type_name: str | None, notes: list[str]) -> CitationIn:
    f = rec.fields

    def one(name: str) -> str | None:
        for v in f.get(name, ()):
            v = nz.clean_text(v) or ""
            if v:
                return v
        return None

    doi = nz.normalize_doi(one("doi"))
    if doi is None:
        doi = next((nz.normalize_doi(u) for u in f.get("url", ()) if "doi.org/" in u), None)
    database = f"{one('database') or ''} {one('provider') or ''}".lower()
    accession = one("accession_num")
    # Only NLM exports promise that the accession number is a PMID (CINAHL's are digits too).
    from_nlm = any(k in database for k in ("nlm", "pubmed", "medline"))
    pmid = nz.normalize_pmid(accession) if from_nlm else None
    extra: dict[str, str] = {}
    for name in (
        "rec_number",
        "journal_abbrev",
        "secondary_title",
        "isbn",
        "accession_num",
        "database",
        "provider",
        "label",
        "caption",
        "publisher",
        "date",
        "custom1",
        "custom2",
    ):
        value = one(name)
        if value:
            extra[name] = value
    if f.get("url"):
        extra["url"] = f["url"][0].strip()
    journal = one("journal") or one("secondary_title") or one("alt_journal")
    return CitationIn(
        source_key=one("rec_number") or accession,
        raw=raw,
        line=rec.line,
        title=one("title"),
        authors=nz.normalize_authors(f.get("author", ())),
        year=rp.year([("dates/year", one("year")), ("pub-dates/date", one("date"))], notes),
        journal=journal,
        volume=one("volume"),
        issue=one("number") or one("issue"),
        pages=nz.normalize_pages(one("pages")),
        doi=doi,
        pmid=pmid,
        abstract=one("abstract"),
        keywords=nz.split_keywords(f.get("keyword", ()), separators=""),
        publication_type=ref_type_name or one("work_type"),
        language=one("language"),
        extra=extra,
    )


def parse(text: str, *, name: str, progress: Progress | None = None) -> RecordStream:
    """Yield each ``<record>`` of an EndNote XML document as a ``CitationIn`` or ``BadRecord``."""
    head = text[:4096]
    dtd = _DTD.search(text)
    if dtd is not None:
        raise ParseError(
            "XML with a DOCTYPE or ENTITY declaration is refused for safety; "
            "EndNote exports never need one",
            path=name,
            line=text.count("\n", 0, dtd.start()) + 1,
        )
    if "<record" not in text and "<xml" not in head and "<records" not in head:
        raise ParseError("no EndNote <record> elements found", path=name, line=1)
    data = text.encode("utf-8")
    # The text is already decoded; tell expat so it ignores the declared encoding.
    parser = expat.ParserCreate(encoding="utf-8")
    out: list[CitationIn | BadRecord | ParseWarning] = []
    stack: list[str] = []
    state: dict[str, _Record | None] = {"rec": None}
    ref_type: dict[str, str | None] = {"name": None}
    count = 0

    def raw_slice(start: int, end: int) -> str:
        return data[start:end].decode("utf-8", errors="replace")

    def start_el(tag: str, attrs: dict[str, str]) -> None:
        nonlocal count
        stack.append(tag)
        rec = state["rec"]
        if tag == "record":
            if rec is not None:
                # <record> inside an open <record>: the previous one lost its end tag.
                out.append(
                    BadRecord(
                        rec.line,
                        _key(rec),
                        f"record (line {rec.line}, column {rec.column + 1}) has no </record> end "
                        f"tag before the next <record> (line {parser.CurrentLineNumber}, column "
                        f"{parser.CurrentColumnNumber + 1})",
                        raw_slice(rec.start_byte, parser.CurrentByteIndex),
                    )
                )
                count += 1
            state["rec"] = _Record(
                parser.CurrentLineNumber, parser.CurrentByteIndex, parser.CurrentColumnNumber
            )
            ref_type["name"] = None
            return
        if rec is None or tag == "style":
            return
        rec.path.append(tag)
        rec.text = []
        if tag == "ref-type":
            ref_type["name"] = attrs.get("name")

    def end_el(tag: str) -> None:
        nonlocal count
        if stack:
            stack.pop()
        rec = state["rec"]
        if rec is None:
            return
        if tag == "record":
            end = data.find(b">", parser.CurrentByteIndex) + 1
            raw = raw_slice(rec.start_byte, end)
            notes: list[str] = []
            citation = _citation(rec, raw, ref_type["name"], notes)
            out.append(citation)
            out.extend(rp.record_warnings(citation, notes))
            state["rec"] = None
            count += 1
            if progress is not None:
                progress(count)
            return
        if tag == "style" or not rec.path:
            return
        key = _PATHS.get("/".join(rec.path))
        if key is not None:
            value = "".join(rec.text)
            if value.strip():
                rec.fields.setdefault(key, []).append(value)
        rec.path.pop()
        rec.text = []

    def chars(content: str) -> None:
        rec = state["rec"]
        if rec is not None and rec.path:
            rec.text.append(content)

    parser.StartElementHandler = start_el
    parser.EndElementHandler = end_el
    parser.CharacterDataHandler = chars
    parser.buffer_text = True
    try:
        for offset in range(0, len(data), _CHUNK):
            parser.Parse(data[offset : offset + _CHUNK], False)
            yield from out
            out.clear()
        parser.Parse(b"", True)
    except expat.ExpatError as exc:
        yield from out
        out.clear()
        rec = state["rec"]
        message = expat.ErrorString(exc.code) if exc.code else str(exc)
        where = f"line {exc.lineno}, column {exc.offset + 1}"
        if rec is not None:
            yield BadRecord(
                rec.line,
                _key(rec),
                f"XML breaks off inside this record ({message} at {where}; truncated?)",
                raw_slice(rec.start_byte, len(data)),
            )
        # Expat stops at the first error: every <record> after it is unread, and each is counted
        # (with its line and rec-number) as a record skipped, never silently dropped.
        error_at = max(parser.ErrorByteIndex, rec.start_byte + 1 if rec is not None else 0)
        unread = [m.start() for m in _RECORD_START.finditer(data, error_at)]
        for i, pos in enumerate(unread):
            end = unread[i + 1] if i + 1 < len(unread) else len(data)
            number = _REC_NUMBER.search(data, pos, end)
            yield BadRecord(
                data.count(b"\n", 0, pos) + 1,
                number.group(1).decode("utf-8", errors="replace") if number else None,
                f"not read: the XML is not well-formed before this record ({message} at {where})",
                raw_slice(pos, end),
            )
        if rec is None and not unread:
            yield ParseWarning(
                exc.lineno or 1,
                f"the XML is not well-formed after the last complete record ({message} at "
                f"{where}); no <record> follows it, so it costs no record",
            )
        return
    yield from out
    if count == 0 and not stack and "<record" in text:
        raise ParseError("no complete EndNote <record> found", path=name, line=1)
