"""CSV / TSV / semicolon tables (Scopus, Embase, IEEE, Springer, PubMed CSV, tool exports).

Columns are matched to CitationIn fields by an explicit ``column_map`` ({field: header}) first and
then by common header names. Unmapped non-empty cells go to ``extra`` under their header, so no
column is lost. A row whose field count differs from the header is never read shifted in silence:
empty extra cells (a trailing delimiter) are dropped; Scopus' unnamed "Funding Text 2".. cells are
recognised and read as such (with one warning); any other extra cell makes the row bad; a short
row is read from the left with a warning naming the columns it lacks.
"""

from __future__ import annotations

import ast
import csv
import re
from collections.abc import Iterator
from dataclasses import replace

from reviewtool.domain import CitationIn
from reviewtool.errors import InvalidInput, ParseError
from reviewtool.importing import normalize as nz
from reviewtool.importing.parsers import _repeats as rp
from reviewtool.importing.parsers._base import (
    BadRecord,
    ParseWarning,
    Progress,
    RecordStream,
    split_lines,
    width_problem,
)

__all__ = ["FIELD_ALIASES", "parse"]

# Field -> header spellings seen in real exports (compared after lower-casing and squashing
# punctuation to single spaces). Order matters: the first matching header wins.
FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "source_key": ("id", "record id", "record_id", "key", "citation key", "eid", "ut", "pmid"),
    "title": ("title", "item title", "document title", "article title", "ti", "primary title"),
    "authors": ("authors", "author", "author names", "au", "author full names", "creators"),
    "year": ("year", "publication year", "publication_year", "py", "pubyear", "date", "pub date"),
    "journal": (
        "journal",
        "source title",
        "publication title",
        "publication",
        "journal book",
        "journal/book",
        "secondary title",
        "so",
        "journal title",
        "source",
    ),
    "volume": ("volume", "journal volume", "vl"),
    "issue": ("issue", "journal issue", "number", "is"),
    "pages": ("pages", "page range", "pg"),
    "start_page": ("page start", "start page", "start_page", "spage", "bp"),
    "end_page": ("page end", "end page", "end_page", "epage", "ep"),
    "doi": ("doi", "item doi", "di"),
    "pmid": ("pmid", "pubmed id", "pm"),
    "abstract": ("abstract", "ab"),
    "keywords": ("keywords", "author keywords", "index keywords", "kw", "de"),
    "publication_type": (
        "document type",
        "publication type",
        "type",
        "content type",
        "reference type",
        "type_of_reference",
    ),
    "language": ("language", "language of original document", "la"),
}
_FIELDS = frozenset(FIELD_ALIASES)
# A table must have at least one of these columns to hold bibliographic records at all.
_IDENTIFYING = ("title", "authors", "doi", "pmid", "year")
# Excel writes "sep=;" (or "sep=,", "sep=\t" ...) as the first line to name the delimiter.
_SEP_DIRECTIVE = re.compile(r'^"?sep=(.)"?\s*$', re.IGNORECASE)
# A numbered header ("Funding Text 1"). Scopus writes one cell per funding text of a record but
# names only the first in the header, so rows carry unnamed "Funding Text 2".. cells right after it
# (litstudy's scopus.csv: 56 of 58 rows have 46 fields under a 45-column header).
_NUMBERED = re.compile(r"^(.*\S)\s+(\d+)$")


def _numbered_series_end(headers: list[str]) -> tuple[int, str, int] | None:
    """``(index, base, number)`` of the last header of the only numbered series, if exactly one."""
    ends: dict[str, tuple[int, int]] = {}
    for i, h in enumerate(headers):
        m = _NUMBERED.match(h)
        if m and not re.fullmatch(r"[\d\s]*", m.group(1)):
            base, n = m.group(1), int(m.group(2))
            if base not in ends or n > ends[base][1]:
                ends[base] = (i, n)
    if len(ends) != 1:
        return None
    ((base, (i, n)),) = ends.items()
    return i, base, n


def _valid(field: str, header: str, value: str) -> bool:
    if field == "doi":
        return nz.normalize_doi(value) is not None
    if field == "pmid":
        return value.isdigit()
    if field == "year":
        return nz.parse_year(value) is not None
    if field == "source_key" and _squash(header) == "eid":
        return value.startswith("2-s2.0-")
    return True


def _realign(
    row: list[str], headers: list[str], cols: dict[str, int], series: tuple[int, str, int] | None
) -> tuple[list[str], dict[str, str]] | None:
    """The row with its unnamed series cells taken out (and named), when that reading checks out.

    Accepted only when every identifier column after the series (DOI, PMID, year, Scopus EID)
    that holds a value is valid once the cells are taken out, and at least one does.
    """
    if series is None:
        return None
    at, base, number = series
    k = len(row) - len(headers)
    fixed = row[: at + 1] + row[at + 1 + k :]
    checked = 0
    for field, i in cols.items():
        if i <= at or not fixed[i].strip():
            continue
        if not _valid(field, headers[i], fixed[i].strip()):
            return None
        checked += 1
    if not checked:
        return None
    named = {
        f"{base} {number + j + 1}": cell.strip()
        for j, cell in enumerate(row[at + 1 : at + 1 + k])
        if cell.strip()
    }
    return fixed, named


def _squash(header: str) -> str:
    return re.sub(r"[^0-9a-z/]+", " ", header.lower()).strip()


def _column_index(
    headers: list[str], column_map: dict[str, str] | None, *, name: str
) -> dict[str, int]:
    index: dict[str, int] = {}
    by_exact = {h.strip(): i for i, h in reversed(list(enumerate(headers)))}
    by_squashed = {_squash(h): i for i, h in reversed(list(enumerate(headers)))}
    for field, header in (column_map or {}).items():
        if field not in _FIELDS:
            raise InvalidInput(
                f"{name}: column map names unknown field {field!r}; "
                f"use one of {', '.join(sorted(_FIELDS))}"
            )
        if header.strip() in by_exact:
            index[field] = by_exact[header.strip()]
        elif _squash(header) in by_squashed:
            index[field] = by_squashed[_squash(header)]
        else:
            raise InvalidInput(
                f"{name}: column {header!r} (mapped to {field}) is not in the header"
            )
    taken = set(index.values())
    for field, aliases in FIELD_ALIASES.items():
        if field in index:
            continue
        for alias in aliases:
            i = by_squashed.get(_squash(alias))
            # A column feeds one field, except PMID, which may also be the id (PubMed CSV).
            if i is not None and (i not in taken or field == "pmid"):
                index[field] = i
                taken.add(i)
                break
    return index


def _delimiter(header_line: str) -> str:
    unquoted = re.sub(r'"[^"]*"', "", header_line)
    counts = {d: unquoted.count(d) for d in (",", "\t", ";", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def parse(
    text: str,
    *,
    name: str,
    progress: Progress | None = None,
    column_map: dict[str, str] | None = None,
) -> RecordStream:
    """Yield each data row of a delimited table as a ``CitationIn`` or a ``BadRecord``."""
    lines = split_lines(text)
    if lines and lines[-1] == "":
        lines.pop()
    first = next((i for i, ln in enumerate(lines) if ln.strip()), None)
    if first is None:
        raise ParseError("the table is empty", path=name)
    if lines[first].lstrip("\ufeff").startswith("#"):
        # read as the header, a comment was blamed for its columns ("the header has one column")
        raise ParseError(
            "a comment line (it starts with '#') where the header should be: a table export has "
            "none; delete the line",
            path=name,
            line=first + 1,
        )
    directive = _SEP_DIRECTIVE.match(lines[first].lstrip("\ufeff"))
    if directive:
        # Excel's "sep=;" first line names the delimiter; the header is the next line.
        delimiter = directive.group(1)
        first = next((i for i in range(first + 1, len(lines)) if lines[i].strip()), None)
        if first is None:
            raise ParseError("the table has a 'sep=' line but no header", path=name, line=1)
    else:
        delimiter = _delimiter(lines[first])
    consumed: list[str] = []
    line_no = [first]

    def feed() -> Iterator[str]:
        for ln in lines[first:]:
            consumed.append(ln)
            line_no[0] += 1
            # csv needs the line ends back, or a quoted field's line breaks vanish.
            yield ln + "\n"

    reader = csv.reader(feed(), delimiter=delimiter, strict=False)
    try:
        headers = next(reader)
    except csv.Error as exc:
        raise ParseError(f"unreadable header row ({exc})", path=name, line=first + 1) from None
    headers = [h.lstrip("\ufeff").strip() for h in headers]
    if len(headers) < 2:
        raise ParseError(
            "not a delimited table: the header has one column", path=name, line=first + 1
        )
    cols = _column_index(headers, column_map, name=name)
    if not any(field in cols for field in _IDENTIFYING):
        shown = ", ".join(repr(h) for h in headers[:8]) + (" ..." if len(headers) > 8 else "")
        raise ParseError(
            f"no column is recognised as title, authors, DOI, PMID or year (header: {shown}); "
            f"name the columns with --map, e.g. --map title={headers[0] or 'COLUMN'!r}",
            path=name,
            line=first + 1,
        )
    consumed.clear()
    count = 0
    series = _numbered_series_end(headers)
    realigned: list[int] = []
    while True:
        start = line_no[0] + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raw = "\n".join(consumed)
            consumed.clear()
            yield BadRecord(start, None, f"unreadable row ({exc})", raw)
            continue
        raw = "\n".join(consumed)
        consumed.clear()
        if not any(cell.strip() for cell in row):
            continue
        count += 1
        if raw.count('"') % 2 and line_no[0] >= len(lines):
            yield BadRecord(
                start,
                _cell(row, cols.get("source_key")),
                "a quoted field is not closed before the end of the file (truncated?)",
                raw,
            )
            continue
        named: dict[str, str] = {}
        row, bad_reason, warning = width_problem(row, headers)
        if bad_reason is not None:
            fixed = _realign(row, headers, cols, series)
            if fixed is None:
                yield BadRecord(start, _cell(row, cols.get("source_key")), bad_reason, raw)
                continue
            row, named = fixed
            realigned.append(start)
        notes: list[str] = []
        citation = _citation(row, headers, cols, raw=raw, line=start, notes=notes)
        if named:
            citation = replace(citation, extra={**citation.extra, **named})
        yield citation
        if warning is not None:
            notes.insert(0, warning)
        yield from rp.record_warnings(citation, notes)
        if progress is not None:
            progress(count)
    if realigned and series is not None:
        at, base, number = series
        yield ParseWarning(
            realigned[0],
            (
                f"1 row (line {realigned[0]}) has more fields than the header: "
                if len(realigned) == 1
                else f"{len(realigned)} rows (first on line {realigned[0]}) have more fields "
                "than the header: "
            )
            + f"the cells after {headers[at]!r} are read as {base} {number + 1}.. (Scopus names only "
            f"{headers[at]!r} in the header), and every later column checks out that way",
        )


def _authors(value: str | None) -> tuple[str, ...]:
    if value and value.startswith("[") and value.endswith("]"):
        # asreview writes author lists as Python reprs: "['Marx, Karl', 'Engels, F']".
        try:
            items = ast.literal_eval(value)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            items = None
        if isinstance(items, list) and all(isinstance(i, str) for i in items):
            return nz.normalize_authors(items)
    return nz.split_authors(value)


def _cell(row: list[str], i: int | None) -> str | None:
    if i is None or i >= len(row):
        return None
    value = row[i].strip()
    return value or None


def _citation(
    row: list[str],
    headers: list[str],
    cols: dict[str, int],
    *,
    raw: str,
    line: int,
    notes: list[str],
) -> CitationIn:
    def get(field: str) -> str | None:
        return _cell(row, cols.get(field))

    pages = get("pages")
    if pages is None and get("start_page"):
        end = get("end_page")
        pages = f"{get('start_page')}-{end}" if end else get("start_page")
    kw = get("keywords")
    used = set(cols.values())
    extra = {
        headers[i]: cell.strip()
        for i, cell in enumerate(row[: len(headers)])
        if i not in used and cell.strip() and headers[i]
    }
    return CitationIn(
        source_key=get("source_key"),
        raw=raw,
        line=line,
        title=nz.clean_text(get("title")),
        authors=_authors(get("authors")),
        year=rp.year(
            [(f"column {headers[cols['year']]!r}" if "year" in cols else "year", get("year"))],
            notes,
        ),
        journal=nz.clean_text(get("journal")),
        volume=get("volume"),
        issue=get("issue"),
        pages=nz.normalize_pages(pages),
        doi=nz.normalize_doi(get("doi")),
        pmid=nz.normalize_pmid(get("pmid")),
        abstract=nz.clean_text(get("abstract")),
        keywords=nz.split_keywords(kw, separators=";" if kw and ";" in kw else ","),
        publication_type=nz.clean_text(get("publication_type")),
        language=get("language"),
        extra=extra,
    )
