"""The one reader and validator of study-level CSV files (``analyze file``, ``run`` and ``check``).

Every analysis command reads its CSV here, so a file is read, and a bad value is reported, the
same way everywhere: one line ``FILE:LINE: column 'NAME': what is wrong (study X)`` raised as
:class:`~reviewtool.errors.ParseError` (exit code 2), before any number is computed. The checks
are those that make an effect size undefined or impossible; nothing here imports numpy.

File rules: UTF-8 (a byte-order mark is allowed), comma-separated, first non-blank, non-comment
line is the header (names are case-insensitive and stripped), lines starting with ``#`` are
comments, blank lines are skipped, and line numbers are those of the file (a quoted field may
span lines).
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from reviewtool.csvfiles import check_lines
from reviewtool.errors import InvalidInput, ParseError
from reviewtool.text import counted

BINARY_COLUMNS = ("events_exp", "total_exp", "events_con", "total_con")
CONTINUOUS_COLUMNS = ("mean_exp", "sd_exp", "n_exp", "mean_con", "sd_con", "n_con")
GENERIC_COLUMNS = ("yi", "vi", "sei")
KINDS = ("continuous", "binary", "generic")
#: Largest size of any number in a data cell: a value's square, times a count, summed over
#: studies, stays far from the float limit (1.8e308), so numpy never overflows.
MAX_MAGNITUDE = 1e12
#: Smallest non-zero SD, SE or variance: its inverse squared stays finite as well.
MIN_SPREAD = 1e-12


@dataclass(frozen=True)
class CsvTable:
    """A CSV file as read: lower-case header, rows as dicts of stripped strings, line numbers.

    ``lines[i]`` is the file line where ``rows[i]`` starts; ``header_line`` that of the header;
    ``sha256`` the hex digest of the file's bytes.
    """

    path: str
    sha256: str
    columns: tuple[str, ...]
    rows: tuple[dict[str, str], ...]
    lines: tuple[int, ...]
    header_line: int = 1


def _blank_comments(text: str) -> str:
    # Lines starting with '#' are comments; blanking them (not deleting) keeps line numbers true.
    return "".join(
        "\n" if line.startswith("#") else line for line in text.splitlines(keepends=True)
    )


def _check_delimiter(columns: tuple[str, ...], path: str, line: int) -> None:
    # A header read as one field that holds ';' or a tab is a file separated by something else
    # than commas (Excel in many locales writes ';'): say so, not "no 'study' column".
    if len(columns) == 1:
        for sep, name in ((";", "';'"), ("\t", "tabs")):
            if sep in columns[0]:
                raise ParseError(
                    f"the header is separated by {name}, not commas; save the file as "
                    "comma-separated CSV",
                    path=path,
                    line=line,
                )


def read_csv_table(
    path: str | Path,
    *,
    what: str = "data",
    check_header: Callable[[tuple[str, ...], str, int], None] | None = None,
    text: str | None = None,
) -> CsvTable:
    """Read ``path`` (rules in the module docstring).

    ``text``, when given, is the table's CSV text (e.g. made from extraction values) and ``path``
    only names it in messages; its SHA-256 is that of the UTF-8 text.

    ``check_header(columns, path, line)``, when given, is called as soon as the header is read
    (before any row), so a missing column is reported before anything about the rows.

    Raises :class:`InvalidInput` when the file does not exist, :class:`ParseError` (naming the
    file and line) when it is not UTF-8, not valid CSV, has no header, a column twice, a row with
    another number of fields than the header, or no row under the header. ``what`` names the rows
    in that last message ("study rows", "outcome rows", "reported results").
    """
    p = Path(path)
    if text is not None:
        raw = text.encode("utf-8")
    elif not p.is_file():
        raise InvalidInput(f"{p}: no such file")
    else:
        check_lines(p, what="analysis")
        raw = p.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        # Name the line and the byte, as every other fault in the file is named.
        bad_line = raw[: exc.start].count(b"\n") + 1
        raise ParseError(
            f"not UTF-8 text: byte 0x{raw[exc.start]:02x} ({exc.reason}); save the file as UTF-8",
            path=str(p),
            line=bad_line,
        ) from None
    reader = csv.reader(io.StringIO(_blank_comments(text), newline=""))
    columns: tuple[str, ...] | None = None
    header_line = 0
    rows: list[dict[str, str]] = []
    lines: list[int] = []
    while True:
        start = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise ParseError(f"not valid CSV ({exc})", path=str(p), line=start) from None
        if not any(c.strip() for c in cells):
            continue
        if columns is None:
            columns, header_line = tuple(h.strip().lower() for h in cells), start
            _check_delimiter(columns, str(p), start)
            dupes = sorted({c for c in columns if columns.count(c) > 1})
            if dupes:
                raise ParseError(f"column {dupes[0]!r} appears twice", path=str(p), line=start)
            if check_header is not None:
                check_header(columns, str(p), start)
            continue
        if len(cells) != len(columns):
            raise ParseError(
                f"{counted(len(cells), 'field')} where the header has {len(columns)}",
                path=str(p),
                line=start,
            )
        rows.append({c: v.strip() for c, v in zip(columns, cells, strict=True)})
        lines.append(start)
    if columns is None:
        raise ParseError("the file is empty", path=str(p))
    if not rows:
        raise ParseError(f"no {what} under the header", path=str(p), line=header_line)
    return CsvTable(
        path=str(p),
        sha256=hashlib.sha256(raw).hexdigest(),
        columns=columns,
        rows=tuple(rows),
        lines=tuple(lines),
        header_line=header_line,
    )


def refuse_repeats(
    rows: tuple[Mapping[str, str], ...] | list[Mapping[str, str]],
    lines: tuple[int, ...] | list[int],
    key: Callable[[Mapping[str, str]], tuple[str, ...]],
    describe: Callable[[tuple[str, ...]], str],
    path: str,
    advice: str = "",
) -> None:
    """Refuse a row whose ``key`` an earlier row already has (a study counted twice).

    Raises :class:`ParseError` ``FILE:LINE: DESCRIBE(key) is already on line N[; ADVICE]`` at the first
    repeat (``analyze file``: one row per study; ``analyze run``: per study × outcome × time).
    """
    first: dict[tuple[str, ...], int] = {}
    for row, line in zip(rows, lines, strict=True):
        k = key(row)
        if k in first:
            tail = f"; {advice}" if advice else ""
            raise ParseError(
                f"{describe(k)} is already on line {first[k]}{tail}", path=path, line=line
            )
        first[k] = line


def level_option_error(level: float, option: str = "--level") -> str | None:
    """Why ``level`` is not a confidence level given as an option (a fraction, 0 < level < 1),
    or None when it is. The message says what to type: ``--level must be between 0 and 1 (e.g.
    0.95), not 95``."""
    if math.isfinite(level) and 0 < level < 1:
        return None
    return f"{option} must be between 0 and 1 (e.g. 0.95), not {level:g}"


def cell_level(row: Mapping[str, str], column: str, path: str, line: int) -> float:
    """The confidence level in ``row[column]`` as a fraction: ``0.95`` or the percentage ``95``.

    A fraction must lie strictly between 0 and 1 (as the ``--level`` option); a percentage
    between 50 and 100 (a value such as 1.5 is neither: a mistyped fraction, never a 1.5% CI).
    Raises :class:`ParseError` ``FILE:LINE: column 'level': ...`` otherwise.
    """
    value = cell_number(row, column, path, line)
    if 0 < value < 1:
        return value
    if 50 <= value < 100:
        return value / 100.0
    raise cell_error(
        row,
        column,
        f"{row[column]} is not a confidence level: give a fraction between 0 and 1 (0.95) "
        "or a percentage between 50 and 100 (95)",
        path,
        line,
    )


def _where(row: Mapping[str, str]) -> str:
    study = row.get("study", "")
    return f" (study {study})" if study else ""


def cell_error(
    row: Mapping[str, str], column: str, message: str, path: str, line: int
) -> ParseError:
    """``FILE:LINE: column 'COLUMN': MESSAGE (study X)`` as a :class:`ParseError`."""
    return ParseError(f"column {column!r}: {message}{_where(row)}", path=path, line=line)


def cell_number(row: Mapping[str, str], column: str, path: str, line: int) -> float:
    """The finite number in ``row[column]``; :class:`ParseError` naming file, line, column, study
    when the cell is empty or not a finite number."""
    value = row.get(column, "")
    if value == "":
        raise ParseError(f"column {column!r} is empty{_where(row)}", path=path, line=line)
    try:
        x = float(value)
    except ValueError:
        raise cell_error(row, column, f"{value!r} is not a number", path, line) from None
    if not math.isfinite(x):
        raise cell_error(row, column, f"{value!r} is not a finite number", path, line)
    if abs(x) > MAX_MAGNITUDE:
        # Squares and sums of such values overflow a float (numpy would warn, not refuse).
        raise cell_error(
            row, column, f"{value} is too large (at most {MAX_MAGNITUDE:g} in size)", path, line
        )
    return x


def spread_number(row: Mapping[str, str], column: str, path: str, line: int) -> float:
    """:func:`cell_number` for an SD, SE or variance: ≥ 0, and 0 or at least
    :data:`MIN_SPREAD` (the reciprocal of a smaller variance overflows when squared and summed)."""
    x = cell_number(row, column, path, line)
    if x < 0:
        raise cell_error(row, column, f"{row[column]} is negative", path, line)
    if 0 < x < MIN_SPREAD:
        raise cell_error(
            row, column, f"{row[column]} is too small (0 or at least {MIN_SPREAD:g})", path, line
        )
    return x


def whole_number(row: Mapping[str, str], column: str, path: str, line: int, *, least: int) -> int:
    """The whole number (≥ ``least``) in ``row[column]``, else :class:`ParseError`."""
    x = cell_number(row, column, path, line)
    if x != int(x):
        raise cell_error(row, column, f"{row[column]} is not a whole number", path, line)
    if x < least:
        raise cell_error(row, column, f"{row[column]} is less than {least}", path, line)
    return int(x)


def check_arms(row: Mapping[str, str], kind: str, path: str, line: int) -> None:
    """Check one row's data of ``kind`` (``continuous``, ``binary`` or ``generic``).

    continuous: means finite; SDs ≥ 0 and not both 0 (no spread: MD variance 0, SMD undefined);
    n whole, ≥ 1 per arm and ≥ 3 together (an SD needs a degree of freedom).
    binary: events whole ≥ 0, totals whole ≥ 1, events ≤ total.
    generic: ``yi`` finite and ``vi`` (or ``sei``) > 0.
    Every number is at most :data:`MAX_MAGNITUDE` in size, and a non-zero SD, ``sei`` or ``vi`` at
    least :data:`MIN_SPREAD` (so no square, inverse or sum computed from them overflows).
    Raises :class:`ParseError` ``FILE:LINE: column 'NAME': ... (study X)`` at the first fault.
    """
    if kind == "continuous":
        for arm in ("exp", "con"):
            cell_number(row, f"mean_{arm}", path, line)
            spread_number(row, f"sd_{arm}", path, line)
            whole_number(row, f"n_{arm}", path, line, least=1)
        if float(row["sd_exp"]) == 0 and float(row["sd_con"]) == 0:
            raise cell_error(
                row,
                "sd_exp",
                "0, and sd_con is 0 too: with no spread in either arm the effect's variance "
                "is 0 (an MD) or the effect is undefined (an SMD)",
                path,
                line,
            )
        if int(float(row["n_exp"])) + int(float(row["n_con"])) < 3:
            raise cell_error(row, "n_exp", "n_exp + n_con must be at least 3 for an SD", path, line)
    elif kind == "binary":
        for arm in ("exp", "con"):
            events = whole_number(row, f"events_{arm}", path, line, least=0)
            total = whole_number(row, f"total_{arm}", path, line, least=1)
            if events > total:
                raise cell_error(
                    row, f"events_{arm}", f"{events} events but total_{arm} is {total}", path, line
                )
    elif kind == "generic":
        cell_number(row, "yi", path, line)
        column = "vi" if "vi" in row else "sei"
        if cell_number(row, column, path, line) <= 0:
            raise cell_error(row, column, f"{row[column]} is not positive", path, line)
        spread_number(row, column, path, line)
    else:
        raise InvalidInput(f"data kind {kind!r}: choose {', '.join(KINDS)}")
