"""Reading decision files: CSV rows with their line numbers, and errors that name file and line;
writing CSV and XLSX cells no spreadsheet will run as formulas.

Several stages take a CSV of decisions (screening votes, resolutions, dedup decisions); they share
this so every such file is read, checked and reported on the same way.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Callable, Hashable, Iterable, Iterator
from contextlib import contextmanager
from os import PathLike
from typing import IO, Any

from reviewtool.errors import InvalidInput, ParseError, ReviewtoolError


class Rows(list[dict[str, str]]):
    """The rows of a decision file, with ``lines``: the line in the file where each row starts."""

    lines: list[int]


def read_rows(
    path: str,
    *,
    required: set[str] | list[set[str]],
    what: str,
    unique: Callable[[dict[str, str]], Hashable | None] | None = None,
    unique_words: str = "record",
    allowed: Iterable[str] | None = None,
    on_behalf: str = "",
) -> Rows:
    """The rows of a UTF-8 (BOM allowed) or UTF-16 (with BOM) CSV file, refusing an unreadable,
    empty or ill-headed one, a row with more fields than the header, and, where ``unique`` gives
    each row a key, two rows with one key (two decisions on one record would leave the later one
    in force silently). Every refusal is one ``InvalidInput`` line naming the file and line.

    The header is the first line that is not blank. Blank lines, and rows whose every cell is
    empty (as spreadsheets leave), are skipped; line numbers are the file's own (a quoted field
    may span lines: a row's line is where it starts). A line starting with ``#`` is refused as a
    comment (decision files have none; a value starting with ``#`` is read when quoted).

    ``required`` is a set of columns, or a list of alternative sets of which one must be present;
    ``unique_words`` names the key in the message (``record 7``). ``allowed``: every column the
    file may have; any other is refused naming it (``unknown_columns``), so a ``reviewer`` column
    is never silently dropped while its votes go to the importer (``on_behalf``: see there).
    """
    try:
        check_lines(path, what=what)
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot read the {what} file ({exc.strerror})") from None
    text = _decode(path, data)
    rows = Rows()
    rows.lines = []
    first: dict[Hashable, int] = {}
    names: list[str] | None = None
    for line, cells in csv_rows(text, path=path, what=what):
        if names is None:  # the header: the first line that is not blank
            names = cells
            if allowed is not None:
                unknown_columns(path, names, allowed, what, on_behalf)
            continue
        if len(cells) > len(names):
            extra = cells[len(names) :]
            raise InvalidInput(
                f"{path}:{line}: {len(extra)} more field{'s' if len(extra) != 1 else ''} "
                f"than the header has ({len(names)} column{'s' if len(names) != 1 else ''}): "
                f"{extra[0]!r}"
            )
        # as csv.DictReader: a short row leaves the columns it lacks None
        row: dict[str, Any] = dict.fromkeys(names) | dict(zip(names, cells, strict=False))
        key = unique(row) if unique is not None else None
        if key is not None:
            if key in first:
                raise InvalidInput(
                    f"{path}:{line}: {unique_words} {key} is already decided on line "
                    f"{first[key]} of this file; keep one row per {unique_words}"
                )
            first[key] = line
        rows.append(row)
        rows.lines.append(line)
    if not rows:
        raise InvalidInput(f"{path}: no {what} in the file")
    options = required if isinstance(required, list) else [required]
    header = set(rows[0])
    if not any(option <= header for option in options):
        wanted = " or ".join(", ".join(sorted(o)) for o in options)
        raise InvalidInput(f"{path}: needs the columns {wanted}")
    return rows


def csv_rows(
    text: str, *, path: str, what: str, first_line: int = 1
) -> Iterator[tuple[int, list[str]]]:
    """The CSV rows of ``text`` (decoded, newlines as in the file), each with the line of the file
    where it starts (``first_line``: the number of the text's first line; a quoted field may span
    lines), skipping blank lines and rows whose every cell is empty or white space (spreadsheets
    leave such rows).

    Raises ``ParseError`` (``path:line: …``) for a line starting with ``#``: no CSV file
    reviewtool reads row by row has comment lines (the analysis tables, which do, blank them
    first: ``analysis.table_input``), and read as a row a comment would be blamed for its fields
    ("more fields than the header") or be taken for the header; and for text that is not CSV.
    ``what`` names the file's kind in the message ("a decisions file has none").
    """
    physical = list(io.StringIO(text, newline=""))  # the file's lines, as csv splits them
    reader = csv.reader(iter(physical))
    while True:
        start = reader.line_num  # lines read so far: the next row starts on the one after
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            line = reader.line_num + first_line - 1
            raise ParseError(f"not a CSV row ({exc})", path=path, line=line) from None
        if not any(cell.strip() for cell in cells):
            continue
        line = start + first_line
        if physical[start].startswith("#"):
            raise ParseError(
                f"a comment line (it starts with '#'), and {_a(what)} file has none: delete the "
                "line (or quote the value if it is data)",
                path=path,
                line=line,
            )
        yield line, cells


def _a(word: str) -> str:
    return ("an " if word[:1].lower() in "aeiou" else "a ") + word


ATTRIBUTION_COLUMNS = frozenset(
    {"reviewer", "member", "member_id", "extractor", "assessor", "adjudicator", "by", "actor"}
)
"""Column names that say whose work a row is: the person importing is whose it is."""


def unknown_columns(
    path: str, header: Iterable[str], allowed: Iterable[str], what: str, on_behalf: str = ""
) -> None:
    """Refuse (InvalidInput, one line naming the file and the columns) a header with a column
    not in ``allowed`` (compared stripped; empty headers are ignored). A column that names a
    person (``ATTRIBUTION_COLUMNS``) is told that the rows are the importer's own, and
    ``on_behalf`` (e.g. "an owner enters another member's votes with --on-behalf-of NAME") how
    another person's are entered, where the command can."""
    known = set(allowed)
    unknown = [h.strip() for h in header if h and h.strip() and h.strip() not in known]
    if not unknown:
        return
    plural = "s" if len(unknown) > 1 else ""
    message = (
        f"{path}:1: unknown column{plural} {', '.join(repr(u) for u in unknown)} in this {what} "
        f"file (its columns: {', '.join(sorted(known))})"
    )
    if any(u.lower() in ATTRIBUTION_COLUMNS for u in unknown):
        message += "; every row is the importing person's own" + (
            f" ({on_behalf})" if on_behalf else ""
        )
    raise InvalidInput(message)


MAX_LINE_BYTES = 64 * 1024 * 1024
"""The longest line (in bytes, line ends not counted) any input file may hold: 64 MiB. Far above
any real export's (a Scopus RIS line of cited references runs to tens of kB), low enough that a
corrupt or hostile file is refused while reading it costs a fixed few MiB, not the file's size
many times over (``check_lines``). In an XML file, whose records may sit on one line, the bound
is on one ``<record>``."""

_SCAN_CHUNK = 1 << 20
_XML_RECORD_ENDS = (b"</record>", "</record>".encode("utf-16-le"), "</record>".encode("utf-16-be"))


def check_lines(path: str | PathLike[str], *, what: str, limit: int | None = None) -> None:
    """Refuse a file holding a line longer than ``limit`` bytes, before anything reads it whole.

    Reads ``path`` in 1 MiB pieces, so memory stays bounded whatever the file's size, and stops
    at the first line over the limit: ``InvalidInput`` (one line) naming the file and the line
    (1-based, counting CRLF, CR and LF as the parsers do). A file that starts as XML
    (``<?xml``, ``<xml``, ``<records`` or ``<record`` after any byte-order mark, as ``detect``
    tells XML) is bounded per record instead: the count starts again after each ``</record>``
    as after each line end. ``OSError`` is left to the caller's own read.
    ``what`` names the kind of file in the message ("export", "decisions"); ``limit`` is
    ``MAX_LINE_BYTES`` unless given.
    """
    limit = MAX_LINE_BYTES if limit is None else limit
    line = 1  # the line the current run of bytes belongs to
    run = 0  # bytes of the current line (or XML record) so far
    xml: bool | None = None
    after_cr = False
    with open(path, "rb") as handle:
        # Pieces no longer than the limit: a line over it then always spans two or more.
        while chunk := handle.read(min(_SCAN_CHUNK, limit)):
            if xml is None:
                head = chunk[:256].replace(b"\x00", b"").lstrip(b"\xef\xbb\xbf\xff\xfe \t\r\n")
                xml = head.startswith((b"<?xml", b"<xml", b"<records", b"<record"))
            breaks = chunk.count(b"\n") + chunk.count(b"\r") - chunk.count(b"\r\n")
            if after_cr and chunk.startswith(b"\n"):
                breaks -= 1  # a CRLF split between two pieces is one line end
            after_cr = chunk.endswith(b"\r")
            marks = (b"\n", b"\r", *(_XML_RECORD_ENDS if xml else ()))
            # The current run ends at the first mark; the last mark starts the next run.
            first = min((i for i in (chunk.find(m) for m in marks) if i >= 0), default=-1)
            if first < 0:
                run += len(chunk)
            else:
                if run + first > limit:
                    break
                line += breaks
                ends = (chunk.rfind(m) for m in marks)
                run = len(chunk) - max(
                    e + len(m) for e, m in zip(ends, marks, strict=True) if e >= 0
                )
            if run > limit:
                break
        else:
            return
    unit = "an XML record" if xml else "a line"
    mib, part = divmod(limit, 1024 * 1024)
    size = f"{mib} MiB" if not part else f"{limit} bytes"
    raise InvalidInput(
        f"{path}:{line}: {unit} longer than {size} (the most reviewtool "
        f"reads); nothing was read from it: check this is the {what} file you meant (not a binary, "
        "corrupt or concatenated file), or split it into lines"
    )


def _decode(path: str, data: bytes) -> str:
    """UTF-16 with a BOM (Excel's "Unicode text"), else UTF-8 with or without a BOM; a byte that
    is not UTF-8 is refused naming its line."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise InvalidInput(f"{path}: not valid UTF-16 text ({exc.reason})") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InvalidInput(
            f"{path}:{line}: not UTF-8 text (byte 0x{data[exc.start]:02x}); save the file as "
            "UTF-8 CSV"
        ) from None


def numbered(rows: list[dict[str, str]]) -> Iterator[tuple[int, dict[str, str]]]:
    """Rows with the line in the file where each starts (the header is line 1)."""
    lines = getattr(rows, "lines", None)
    if lines is not None:
        return zip(lines, rows, strict=True)
    return enumerate(rows, start=2)


@contextmanager
def at_line(path: str, line: int) -> Iterator[None]:
    """Re-raise errors from one row as the same error class prefixed with ``path:line``."""
    try:
        yield
    except ValueError as exc:
        literal = str(exc).rpartition(": ")[2] or str(exc)
        raise InvalidInput(
            f"{path}:{line}: {literal} is not a whole number (record and pair ids are)"
        ) from None
    except ReviewtoolError as exc:
        raise type(exc)(f"{path}:{line}: {exc}") from None


# --- Writing: cells a spreadsheet would run as formulas ------------------------------------------

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def spreadsheet_safe(value: Any) -> Any:
    """``value`` made harmless for a spreadsheet: a text cell that starts with ``=``, ``+``, ``-``,
    ``@``, a tab or a carriage return gets a leading apostrophe, so Excel, LibreOffice and Google
    Sheets show it as text instead of running it as a formula (OWASP, "CSV Injection").

    Numbers (int, float) and text that is a plain number (``-0.52``, ``+3``, ``1e-5``) are left as
    they are: they cannot be formulas, and pandas and R must still read them as numbers. Every
    other value is returned unchanged. Used by every CSV and XLSX writer of the tool
    (``safe_writer``, the analysis and extraction exports).
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        if _PLAIN_NUMBER.fullmatch(value.strip()):
            return value
        return "'" + value
    return value


class SafeWriter:
    """A ``csv.writer`` whose every cell passes through :func:`spreadsheet_safe`."""

    def __init__(self, fh: IO[str]) -> None:
        self._writer = csv.writer(fh, lineterminator="\n")

    def writerow(self, row: Iterable[Any]) -> None:
        """Write one row (cells neutralised)."""
        self._writer.writerow([spreadsheet_safe(c) for c in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        """Write every row (cells neutralised)."""
        for row in rows:
            self.writerow(row)


def safe_writer(fh: IO[str]) -> SafeWriter:
    """A CSV writer (``\\n`` line ends) for a file or stdout that neutralises formula cells."""
    return SafeWriter(fh)
