"""Read the points Engauge Digitizer exports as CSV, for values digitised from a figure.

Engauge Digitizer (https://markummitchell.github.io/engauge-digitizer/, the tool the seed review
used) exports the points of its curves (File > Export, "Settings > Export Format") as a text table
whose first row names the columns: the x column (``x`` unless renamed) and then one column per
curve. Two layouts exist (``ExportLayoutFunctions`` in Engauge's source):

- *all curves on each line* (``EXPORT_LAYOUT_ALL_PER_LINE``, "AllPerLine")::

      x,Curve1,Curve2,Curve3
      -179.758°,2.724,2.213,1.952

  one row per x, one y per curve; a cell is empty where a curve has no point at that x;
- *one curve on each line* (``EXPORT_LAYOUT_ONE_PER_LINE``, "OnePerLine"): a block per curve,
  each with its own header row, blocks separated by a blank line::

      x,Curve1
      0.03,954
      0.298,517

      x,Curve2
      ...

Both are read by one rule: a block starts with a header row and ends at a blank line. The
delimiter is whatever Engauge was set to (comma, tab, semicolon or space), taken from the first
header row. Polar x values carry a degree sign (``-179.758°``), which is dropped. An export made
with "Header: None" has no curve names and is refused.

Every problem raises :class:`~reviewtool.errors.ParseError` naming the file, the line and the
column; nothing is returned from a file with any error.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

from reviewtool.csvfiles import check_lines
from reviewtool.errors import ParseError

#: How the extraction stage names the tool in a digitised value's provenance.
TOOL = "Engauge Digitizer"

_DELIMITERS = ("\t", ",", ";", " ")


@dataclass(frozen=True)
class DigitisedPoint:
    """One point read off a figure.

    Attributes
    ----------
    curve : the curve's name as the export's header gives it (e.g. ``"MSC"``, ``"Curve1"``).
    x, y : the point's coordinates in the figure's axis units (x in degrees for polar plots).
    line : the 1-based line of the export the point came from.
    """

    curve: str
    x: float
    y: float
    line: int


def read_engauge_csv(path: str | Path) -> tuple[DigitisedPoint, ...]:
    """The points of an Engauge Digitizer CSV/TSV export file, in file order.

    Raises ParseError (file, line, column) for an unreadable or malformed file, or one without
    points.
    """
    where = str(path)
    try:
        check_lines(path, what="Engauge")
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise ParseError(f"cannot read the file: {exc.strerror or exc}", path=where) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ParseError(
            "not UTF-8 text (is this an Engauge export?)", path=where, line=line
        ) from None
    return parse_engauge_csv(text, path=where)


def parse_engauge_csv(text: str, *, path: str = "<text>") -> tuple[DigitisedPoint, ...]:
    """The points of an Engauge Digitizer export given as text (see the module doc for layouts).

    Parameters
    ----------
    text : the export's content.
    path : the name used in error messages.

    Returns the points in file order: for the all-per-line layout row by row, curves left to
    right. Raises ParseError naming ``path``, the line and the column.
    """
    text = text.removeprefix("\ufeff")
    lines = text.splitlines()
    delimiter: str | None = None
    header: list[str] | None = None
    points: list[DigitisedPoint] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            header = None  # a blank line ends a block; the next row is a header
            continue
        if delimiter is None:
            delimiter = _delimiter(line)
        cells = _cells(line, delimiter)
        if header is None:
            header = _header(cells, path=path, line=number)
            continue
        if len(cells) > len(header):
            raise ParseError(
                f"{len(cells)} values, but the header names {len(header)} columns",
                path=path,
                line=number,
            )
        if len(cells) < len(header):
            raise ParseError(
                f"{len(cells)} values, but the header names {len(header)} columns "
                f"(missing: {', '.join(header[len(cells) :])})",
                path=path,
                line=number,
            )
        x = _number(cells[0], column=header[0], path=path, line=number)
        for curve, cell in zip(header[1:], cells[1:], strict=True):
            if not cell.strip():
                continue  # this curve has no point at this x
            y = _number(cell, column=curve, path=path, line=number)
            points.append(DigitisedPoint(curve=curve, x=x, y=y, line=number))
    if not points:
        raise ParseError("no digitised points found", path=path)
    return tuple(points)


def curve_names(points: tuple[DigitisedPoint, ...]) -> tuple[str, ...]:
    """The curves of ``points`` in the order they first appear."""
    return tuple(dict.fromkeys(point.curve for point in points))


# --------------------------------------------------------------------------- helpers


def _delimiter(line: str) -> str:
    for candidate in _DELIMITERS:
        if candidate in line.strip():
            return candidate
    return ","


def _cells(line: str, delimiter: str) -> list[str]:
    if delimiter == " ":
        return line.split()
    return next(csv.reader([line], delimiter=delimiter))


def _header(cells: list[str], *, path: str, line: int) -> list[str]:
    names = [cell.strip() for cell in cells]
    if len(names) < 2:
        raise ParseError(
            f"header row has {len(names)} column; expected the x column and at least one curve",
            path=path,
            line=line,
        )
    if _is_number(names[0]):
        raise ParseError(
            "expected a header row naming the curves, found numbers; export with "
            "Settings > Export Format > Header: Simple",
            path=path,
            line=line,
        )
    for position, name in enumerate(names[1:], start=2):
        if not name:
            raise ParseError(
                f"column {position} of the header has no curve name", path=path, line=line
            )
    seen: set[str] = set()
    for name in names[1:]:
        if name in seen:
            raise ParseError(f"curve {name!r} appears twice in the header", path=path, line=line)
        seen.add(name)
    return names


def _is_number(cell: str) -> bool:
    try:
        float(cell.strip().removesuffix("°"))
    except ValueError:
        return False
    return True


def _number(cell: str, *, column: str, path: str, line: int) -> float:
    value = cell.strip().removesuffix("°")
    try:
        number = float(value)
    except ValueError:
        raise ParseError(
            f"{column}: {cell.strip()!r} is not a number", path=path, line=line
        ) from None
    if not math.isfinite(number):
        raise ParseError(f"{column}: {cell.strip()!r} is not a finite number", path=path, line=line)
    return number
