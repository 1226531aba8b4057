"""BibTeX / biblatex, read with bibtexparser 2.

The file is cut into ``@`` blocks here by brace matching, so every entry keeps its start line and
verbatim text and one broken entry (an unbalanced brace swallowing the next ``@``) is reported alone.

Each entry's fields are then read by a small scanner that follows bibtexparser 2's splitter rules
(field name up to ``=``, value up to the next top-level ``,`` or closing delimiter, ``{...}`` and
``"..."`` balanced). bibtexparser's own splitter walks every comma and newline of every value in
Python and manages about 1,100 records/s on Web of Science exports; the scanner only visits braces
and field boundaries. Whatever the scanner does not recognise (comma-less entries, odd delimiters,
junk) goes to ``bibtexparser.parse_string``, whose ``failed_blocks`` say why an entry is bad.
``tests/test_importing_parsers.py`` checks that both read every fixture entry identically.

Values are resolved here rather than by bibtexparser's middlewares, because its
``ResolveStringReferencesMiddleware`` replaces whole values only: ``jean # " " # cesar`` needs
``#`` concatenation. Pieces are ``{...}``, ``"..."``, numbers and ``@string`` macro names
(case-insensitive, later definitions win); the standard month macros (``jan`` ...) expand to full
names. LaTeX is decoded by ``normalize.latex_to_unicode`` (pylatexenc, behind bibtexparser's
``LatexDecodingMiddleware``, is some ten times slower and keeps protective braces).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import bibtexparser
from bibtexparser.model import DuplicateFieldKeyBlock, Entry, ParsingFailedBlock

from reviewtool.domain import CitationIn
from reviewtool.importing import normalize as nz
from reviewtool.importing.parsers import _repeats as rp
from reviewtool.importing.parsers._base import BadRecord, Progress, RecordStream

__all__ = ["parse", "read_entry", "to_citation"]

_ENTRY_START = re.compile(r"@[ \t]*([A-Za-z][\w-]*)[ \t\r\n]*([{(])")
_PARENS = re.compile(r"[{}()]")
_LINE_AT = re.compile(r"\n[ \t]*@[ \t]*[A-Za-z]\w*[ \t]*[{(]")
_SKIP_TYPES = frozenset({"comment", "preamble"})
_KEY = re.compile(r"@[ \t]*[A-Za-z][\w-]*[ \t\r\n]*[{(]\s*([^,\n]*?)\s*,")
# A field name may hold spaces (Scopus writes "key words"); bibtexparser takes everything
# between the comma and the "=".
_NAME = re.compile(r"\s*([^\s=,{}()\"#]+(?:[ \t]+[^\s=,{}()\"#]+)*)\s*=\s*")
_BARE = re.compile(r"[^\s,#{}()\"=]+")
_SPACE = re.compile(r"\s*")
_IN_QUOTES = re.compile(r'[{}"]')
_AND = re.compile(r"\sand(?=\s)", re.IGNORECASE)

logging.getLogger("bibtexparser").setLevel(logging.CRITICAL)

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
_MONTH_MACROS = {m[:3].lower(): m for m in _MONTH_NAMES}

Piece = tuple[str, str]
"""One piece of a field value: ``("{", text)``, ``('"', text)`` or ``("", bare word)``."""

Read = tuple[str, str, list[tuple[str, list[Piece]]]]
"""An entry as read: ``(type, key, [(field name, pieces), ...])``."""


def _skip_space(text: str, pos: int) -> int:
    """Index of the first non-whitespace character at or after ``pos``."""
    m = _SPACE.match(text, pos)
    return m.end() if m else pos


def _closing_brace(text: str, pos: int) -> int:
    """Index after the ``}`` matching the ``{`` at ``pos``, or -1 (``str.find`` beats ``re``)."""
    end = _balanced(text, pos + 1, "{", "}")
    return -1 if end is None else end


def _balanced(text: str, pos: int, opener: str, closer: str) -> int | None:
    """Index after the ``closer`` that brings the depth (1 at ``pos``) back to 0, or None."""
    depth = 1
    next_open = text.find(opener, pos)
    next_close = text.find(closer, pos)
    while next_close >= 0:
        if 0 <= next_open < next_close:
            depth += 1
            next_open = text.find(opener, next_open + 1)
        else:
            depth -= 1
            if depth == 0:
                return next_close + 1
            next_close = text.find(closer, next_close + 1)
    return None


def _closing_quote(text: str, pos: int) -> int:
    """Index after the ``"`` closing the one at ``pos`` (quotes inside braces don't count), or -1."""
    depth = 0
    for m in _IN_QUOTES.finditer(text, pos + 1):
        t = m.group(0)
        if t == "{":
            depth += 1
        elif t == "}":
            depth -= 1
            if depth < 0:
                return -1
        elif depth == 0:
            return m.end()
    return -1


def _value(text: str, pos: int) -> tuple[list[Piece], int] | None:
    """Read ``piece (# piece)*`` from ``pos``; return the pieces and where the value ends."""
    pieces: list[Piece] = []
    n = len(text)
    while True:
        c = text[pos] if pos < n else ""
        if c == "{":
            end = _closing_brace(text, pos)
            if end < 0:
                return None
            pieces.append(("{", text[pos + 1 : end - 1]))
        elif c == '"':
            end = _closing_quote(text, pos)
            if end < 0:
                return None
            pieces.append(('"', text[pos + 1 : end - 1]))
        else:
            m = _BARE.match(text, pos)
            if m is None:
                return None
            end = m.end()
            pieces.append(("", m.group(0)))
        pos = _skip_space(text, end)
        if pos < n and text[pos] == "#":
            pos = _skip_space(text, pos + 1)
            continue
        return pieces, pos


def read_entry(raw: str) -> Read | None:
    """Read ``@type{key, name = value, ...}`` into ``(type, key, [(name, pieces), ...])``.

    Returns None for anything that is not plainly well formed; the caller then asks bibtexparser.
    ``@string{name = value}`` comes back with an empty key and its one field.
    """
    head = _ENTRY_START.match(raw)
    if head is None:
        return None
    kind = head.group(1).lower()
    closer = ")" if head.group(2) == "(" else "}"
    n = len(raw)
    if n == 0 or raw[-1] != closer:
        return None
    pos = head.end()
    key = ""
    if kind != "string":
        comma = raw.find(",", pos)
        if comma < 0:
            return None
        key = raw[pos:comma]
        if any(c in key for c in '{}"=()'):
            return None
        key = key.strip()
        pos = comma + 1
    fields: list[tuple[str, list[Piece]]] = []
    while True:
        name = _NAME.match(raw, pos)
        if name is None:  # only the closing delimiter may be left
            if raw[pos : n - 1].strip():
                return None
            return (kind, key, fields) if (fields or kind != "string") else None
        start = name.end()
        close = raw.find("}", start) if raw.startswith("{", start) else -1
        if close > 0 and raw.find("{", start + 1, close) < 0:
            # The common case, without a regex over the text: {a value without inner braces}.
            pieces: list[Piece] = [("{", raw[start + 1 : close])]
            pos = close + 1
            if raw.startswith("#", _skip_space(raw, pos)):
                read = _value(raw, start)
                if read is None:
                    return None
                pieces, pos = read
        else:
            read = _value(raw, start)
            if read is None:
                return None
            pieces, pos = read
        fields.append((name.group(1), pieces))
        if raw.startswith(",", pos):
            pos += 1
            continue
        pos = _skip_space(raw, pos)
        if raw.startswith(",", pos):
            pos += 1
        elif pos != n - 1:
            return None


def _pieces_of(name: str, value: str) -> list[Piece]:
    """Split a value as bibtexparser returns it into pieces; ValueError if it is not one.

    bibtexparser 2 takes everything up to the next top-level comma as the value, so a missing
    comma between two fields (``title = {A} year = {2001}``) gives one field with both in it.
    BibTeX itself, and bibtexparser 1, refuse that entry; so do we.
    """
    read = _value(value, 0) if value else None
    if read is None or read[1] != len(value):
        at = read[1] if read is not None else 0
        raise ValueError(f"field {name!r} is not a single value at {value[at:][:40]!r}")
    return read[0]


def _with_bibtexparser(raw: str) -> Read | str:
    """Read one block with ``bibtexparser.parse_string``; a string says why it failed."""
    library = bibtexparser.parse_string(raw, parse_stack=[])
    entry: Entry | None = None
    for failed in library.failed_blocks:
        if isinstance(failed, DuplicateFieldKeyBlock) and isinstance(
            failed.ignore_error_block, Entry
        ):
            entry = failed.ignore_error_block  # repeated field names: the later one wins
            continue
        error = failed.error if isinstance(failed, ParsingFailedBlock) else None
        reason = getattr(error, "abort_reason", None) or str(error or "unreadable")
        return " ".join(str(reason).split())
    try:
        if library.strings:
            s = library.strings[0]
            return "string", "", [(s.key, _pieces_of(s.key, s.value))]
        if entry is None:
            if len(library.entries) != 1:
                return f"expected one entry, bibtexparser found {len(library.entries)}"
            entry = library.entries[0]
        fields = [(f.key, _pieces_of(f.key, f.value)) for f in entry.fields]
    except ValueError as exc:
        return str(exc)
    return entry.entry_type.lower(), entry.key, fields


def _resolve(pieces: list[Piece], macros: dict[str, str]) -> str:
    if len(pieces) == 1 and pieces[0][0]:
        return pieces[0][1]
    out = []
    for kind, text in pieces:
        if kind or text.isdigit():
            out.append(text)
        else:
            lowered = text.lower()
            out.append(macros.get(lowered) or _MONTH_MACROS.get(lowered) or text)
    return "".join(out)


def _split_names(value: str) -> list[str]:
    """Split a BibTeX author list on top-level "and" (names in braces stay whole)."""
    if "{" not in value:
        return [n.strip() for n in _AND.split(value) if n.strip()]
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


def to_citation(
    entry: dict[str, str], *, raw: str, line: int, notes: list[str] | None = None
) -> CitationIn:
    """Map one bibtexparser entry dict (lowercase field names, ``ID``, ``ENTRYTYPE``).

    A ``year`` (or biblatex ``date``) that holds no year is noted in ``notes`` (``_repeats.year``).
    """

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
        year=rp.year(
            [("year", get("year")), ("date", get("date"))], [] if notes is None else notes
        ),
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


def _closing(text: str, pos: int, closer: str) -> int | None:
    """Index after the delimiter that brings the depth (1 at ``pos``) back to 0, or None."""
    if closer == "}":
        return _balanced(text, pos, "{", "}")
    depth = 1
    for tok in _PARENS.finditer(text, pos):
        if tok.group(0) in "{(":
            depth += 1
        else:
            depth -= 1
            if depth == 0:
                return tok.end()
    return None


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
        end = _closing(text, m.end(), closer)
        problem = None
        if kind not in _SKIP_TYPES:
            # A new "@type{" at the start of a line while this entry is still open: the entry
            # lost a closing brace. End it there so the next entry survives.
            at = _LINE_AT.search(text, m.end(), len(text) if end is None else end)
            if at is not None:
                end = at.start()
                opened, closed = ("{(", "})") if closer == ")" else ("{", "}")
                depth = 1 + sum(text.count(c, m.end(), end) for c in opened)
                depth -= sum(text.count(c, m.end(), end) for c in closed)
                problem = f"unbalanced braces: {depth} still open when the next @ entry starts"
        if end is None:
            end = len(text)
            problem = f"the file ends before the entry's closing {closer!r} (truncated?)"
        yield line, kind, text[m.start() : end], problem
        line += text.count("\n", m.start(), end)
        pos = end


def parse(text: str, *, name: str, progress: Progress | None = None) -> RecordStream:
    """Yield each BibTeX entry of ``text`` as a ``CitationIn`` or a ``BadRecord``."""
    macros: dict[str, str] = {}
    count = 0
    keys: dict[str, tuple[str, int]] = {}
    for line, kind, raw, problem in _blocks(text):
        if kind in _SKIP_TYPES:
            continue
        read: Read | str = problem or read_entry(raw) or _with_bibtexparser(raw)
        if kind == "string":
            if not isinstance(read, str):
                for field, pieces in read[2]:
                    macros[field.lower()] = _resolve(pieces, macros)
            continue
        if isinstance(read, str):
            reason = read if problem else f"bibtexparser cannot read the entry ({read})"
            key_match = _KEY.match(raw)
            yield BadRecord(line, key_match.group(1) or None if key_match else None, reason, raw)
        else:
            entry = {
                "_".join(field.lower().split()): _resolve(pieces, macros)
                for field, pieces in read[2]
            }
            entry["ID"] = read[1]
            entry["ENTRYTYPE"] = read[0]
            notes: list[str] = []
            citation = to_citation(entry, raw=raw, line=line, notes=notes)
            yield citation
            key = (read[1] or "").strip()
            if key:
                # BibTeX compares keys without case: "Smith2020" and "smith2020" clash too.
                earlier = keys.setdefault(key.casefold(), (key, line))
                if earlier[1] != line:
                    same = "" if earlier[0] == key else f" as {earlier[0]!r}"
                    notes.append(
                        f"citation key used again (first on line {earlier[1]}{same}); both "
                        "entries are imported as separate records"
                    )
            yield from rp.record_warnings(citation, notes)
        count += 1
        if progress is not None:
            progress(count)
