"""BibTeX / biblatex, read with bibtexparser (v1 API) one entry at a time.

The file is cut into entries here by brace matching, so every entry keeps its start line and
verbatim text and one broken entry (an unbalanced brace swallowing the next ``@``) is reported
alone. Each entry is then handed to a single ``BibTexParser`` that has already seen the file's
``@string`` macros, so macros, ``#`` concatenation and month names still expand.
"""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Iterator

from bibtexparser.bparser import BibTexParser

from reviewtool.domain import CitationIn
from reviewtool.importing import normalize as nz
from reviewtool.importing.parsers._base import BadRecord, Progress, RecordStream

__all__ = ["parse", "to_citation"]

_ENTRY_START = re.compile(r"@[ \t]*([A-Za-z][\w-]*)[ \t\r\n]*([{(])")
_BRACES = re.compile(r"[{}]|\n[ \t]*@[ \t]*[A-Za-z]\w*[ \t]*[{(]")
_PARENS = re.compile(r"[{}()]|\n[ \t]*@[ \t]*[A-Za-z]\w*[ \t]*[{(]")
_SKIP_TYPES = frozenset({"comment", "preamble"})
# Real exports put spaces where bibtexparser will not take them: Scopus keys ("Conference
# paper2022775") and field names ("key words"). The second attempt joins them with "_".
_SPACED_KEY = re.compile(r"^(@[ \t]*[A-Za-z][\w-]*[ \t\r\n]*[{(]\s*)([^,\n]*?)(\s*,)")
_SPACED_FIELD = re.compile(r"(?m)^([ \t]*)([A-Za-z][\w-]*(?:[ \t]+[\w-]+)+)([ \t]*=)")

logging.getLogger("bibtexparser").setLevel(logging.ERROR)


def _sanitise(raw: str) -> str:
    raw = _SPACED_KEY.sub(lambda m: m.group(1) + re.sub(r"\s+", "_", m.group(2)) + m.group(3), raw)
    return _SPACED_FIELD.sub(
        lambda m: m.group(1) + re.sub(r"\s+", "_", m.group(2)) + m.group(3), raw
    )


_MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_MONTHS = {m[:3].lower(): m for m in _MONTH_NAMES} | {
    str(i): m for i, m in enumerate(_MONTH_NAMES, 1)
}


def _split_names(value: str) -> list[str]:
    """Split a BibTeX author list on top-level "and" (names in braces stay whole)."""
    names: list[str] = []
    depth = 0
    start = 0
    i = 0
    lowered = value.lower()
    while i < len(value):
        ch = value[i]
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif (
            depth == 0
            and ch.isspace()
            and lowered.startswith("and", i + 1)
            and i + 4 < len(value)
            and value[i + 4].isspace()
        ):
            names.append(value[start:i])
            i += 4
            start = i
            continue
        i += 1
    names.append(value[start:])
    return [n.strip() for n in names if n.strip()]


def _author(name: str) -> str | None:
    cleaned = nz.clean_text(name, latex=True)
    if cleaned is None or cleaned.lower() == "others":
        return None
    if name.strip().startswith("{") and name.strip().endswith("}") and "," not in name:
        return cleaned  # a braced corporate author such as {World Health Organization}
    return nz.normalize_author(cleaned)


def to_citation(entry: dict[str, str], *, raw: str, line: int) -> CitationIn:
    """Map one bibtexparser entry dict (lowercase field names, ``ID``, ``ENTRYTYPE``)."""

    def get(*names: str) -> str | None:
        for n in names:
            v = entry.get(n)
            if v and v.strip():
                return v
        return None

    def text(*names: str) -> str | None:
        return nz.clean_text(get(*names), latex=True)

    authors = tuple(a for a in (_author(n) for n in _split_names(get("author") or "")) if a)
    pmid = nz.normalize_pmid(get("pmid"))
    if pmid is None and (entry.get("eprinttype") or "").lower() == "pubmed":
        pmid = nz.normalize_pmid(get("eprint"))
    kw_raw = get("keywords", "keyword", "author_keywords", "mesh")
    separators = ";" if kw_raw and ";" in kw_raw else ","
    extra: dict[str, str] = {}
    month = _MONTHS.get((entry.get("month") or "").strip().lower()[:3])
    if month:
        extra["month"] = month
    for key in (
        "month",
        "booktitle",
        "publisher",
        "issn",
        "isbn",
        "url",
        "note",
        "crossref",
        "eprint",
        "eprinttype",
        "series",
        "school",
        "institution",
    ):
        value = nz.clean_text(entry.get(key), latex=True)
        if value and key not in extra:
            extra[key] = value
    return CitationIn(
        source_key=entry.get("ID") or None,
        raw=raw,
        line=line,
        title=text("title"),
        authors=authors,
        year=nz.parse_year(get("year", "date")),
        journal=text("journal", "journaltitle", "booktitle"),
        volume=text("volume"),
        issue=text("number", "issue"),
        pages=nz.normalize_pages(nz.clean_text(get("pages"), latex=True)),
        doi=nz.normalize_doi(get("doi")),
        pmid=pmid,
        abstract=text("abstract"),
        keywords=nz.split_keywords(nz.clean_text(kw_raw, latex=True), separators=separators),
        publication_type=entry.get("ENTRYTYPE") or None,
        language=text("language", "langid"),
        extra=extra,
    )


def _blocks(text: str) -> Iterator[tuple[int, str, str, str | None]]:
    """Yield ``(line, type, raw, problem)`` per ``@`` block; ``problem`` is None when sound."""
    pos = 0
    line = 1
    while True:
        m = _ENTRY_START.search(text, pos)
        if m is None:
            return
        line += text.count("\n", pos, m.start())
        kind = m.group(1).lower()
        closer = ")" if m.group(2) == "(" else "}"
        scanner = _PARENS if closer == ")" else _BRACES
        depth = 1
        end = None
        problem = None
        for tok in scanner.finditer(text, m.end()):
            t = tok.group(0)
            if t == "{" or t == "(":
                depth += 1
            elif t == "}" or t == ")":
                depth -= 1
                if depth == 0:
                    end = tok.end()
                    break
            elif kind not in _SKIP_TYPES:
                # A new "@type{" at the start of a line while this entry is still open: the
                # entry lost a closing brace. End it here so the next entry survives.
                end = tok.start()
                problem = f"unbalanced braces: {depth} still open when the next @ entry starts"
                break
        if end is None:
            end = len(text)
            problem = f"the file ends before the entry's closing {closer!r} (truncated?)"
        yield line, kind, text[m.start() : end], problem
        line += text.count("\n", m.start(), end)
        pos = end


def parse(text: str, *, name: str, progress: Progress | None = None) -> RecordStream:
    """Yield each BibTeX entry of ``text`` as a ``CitationIn`` or a ``BadRecord``."""
    parser = BibTexParser(common_strings=True, ignore_nonstandard_types=False)
    parser.expect_multiple_parse = True
    db = parser.bib_database
    count = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for line, kind, raw, problem in _blocks(text):
            if kind in _SKIP_TYPES:
                continue
            key_match = _SPACED_KEY.match(raw)
            key = key_match.group(2).strip() or None if key_match and kind != "string" else None
            if problem is not None:
                yield BadRecord(line, key, problem, raw)
                count += 1
                continue
            before = len(db.entries)
            new: list[dict[str, str]] = []
            error = ""
            for attempt in (raw, _sanitise(raw)):
                try:
                    parser.parse(attempt, partial=True)
                except Exception as exc:  # pyparsing raises many types on junk
                    error = f" ({exc})"
                new = db.entries[before:]
                if kind == "string" or new:
                    break
            if kind == "string":
                continue
            if len(new) != 1:
                yield BadRecord(line, key, f"bibtexparser cannot read the entry{error}", raw)
            else:
                entry = dict(new[0])
                if key is not None:
                    entry["ID"] = key  # the key as the file spells it, before _sanitise
                yield to_citation(entry, raw=raw, line=line)
            # Keep memory flat on big files: the entries are converted already.
            del db.entries[before:]
            count += 1
            if progress is not None:
                progress(count)
