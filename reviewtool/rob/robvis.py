"""robvis's input layouts: read them into rows, write rows back byte for byte.

Pure: text in, text out (plus two thin file helpers). The layouts are robvis's (mcguinlu/robvis
v0.3.0.900, commit c7c1bdd; ``shared/spec/rob_prisma.md`` §3.1) so R users can redraw our figures
with ``robvis::rob_traffic_light`` / ``rob_summary``:

- one row per study (RoB 2: per result); column 1 the study label; then one column per domain in
  the tool's order; then ``Overall`` (optional); then an optional numeric ``Weight`` (last);
- **ROB1** — robvis's "Generic" template (formerly "ROB1") as its RoB 1 example
  ``templates/robvis_data_rob1.csv`` uses it: headers are the domain names with dots for spaces
  (``Random.sequence.generation`` …), any number of domains (RevMan's per-outcome-group splits are
  extra columns); judgements ``Low`` / ``Unclear`` / ``High`` (and robvis's ``No information``,
  ``Not applicable``);
- **ROB2** — ``Study,D1,D2,D3,D4,D5,Overall`` (``templates/robvis_data_rob2.csv``); judgements
  ``Low`` / ``Some concerns`` / ``High`` / ``No information`` / ``Not applicable``;
- **ROB2-Cluster** — ROB2 with ``D1b`` after ``D1`` (``templates/robvis_data_rob2_cluster.csv``).

Judgements are held as robvis's one-letter codes (:class:`Level`), which is what robvis reduces
every judgement to. Unlike robvis, which keeps the first letter of anything, reading here accepts
only the tool's words (case-insensitive, with the usual variants such as ``Low risk``) and refuses
anything else with one line naming the file, line, column and the allowed words. An empty cell is
"not assessed" (``None``) and is written back empty.

Round trip: :func:`write_robvis` of :func:`read_robvis` gives the same bytes for files written in
the canonical words (as robvis's examples are), keeping the header text, the line ending, a byte
order mark, the presence of a final newline and the weights' text. Fields are quoted only where CSV
needs it (a file that quoted plain fields is rewritten without the quotes).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path

from reviewtool.csvfiles import check_lines, csv_rows
from reviewtool.errors import InvalidInput, ParseError
from reviewtool.rob.tools import ROB1_DOMAINS, ROB2_DOMAINS
from reviewtool.text import counted


class Level(StrEnum):
    """A judgement as robvis codes it (the first letter robvis keeps), best to worst, then NI/NA."""

    LOW = "l"
    """Low risk of bias."""
    CONCERNS = "s"
    """Some concerns (RoB 2) / Unclear risk (RoB 1)."""
    HIGH = "h"
    """High risk of bias."""
    CRITICAL = "c"
    """Critical (ROBINS-I and Generic only; not used by RoB 1 or RoB 2)."""
    NO_INFORMATION = "n"
    """No information."""
    NOT_APPLICABLE = "x"
    """Not applicable (drawn as a blank cell)."""


ROB1 = "ROB1"
ROB2 = "ROB2"
ROB2_CLUSTER = "ROB2-Cluster"


@dataclass(frozen=True)
class RobvisLayout:
    """What one robvis template looks like.

    ``domain_headers``: the canonical domain column headers (written by :func:`robvis_table`);
    ``fixed``: whether exactly that many domain columns are required (ROB2) or any number (ROB1).
    ``domain_names``: full names for figure labels, in order. ``words``: the word written for each
    level; ``aliases``: lower-case words accepted on reading. ``overall_name``: the summary plot's
    label of the overall bar.
    """

    tool: str
    domain_headers: tuple[str, ...]
    fixed: bool
    domain_names: tuple[str, ...]
    words: Mapping[Level, str]
    aliases: Mapping[str, Level]
    overall_name: str


def _aliases(words: Mapping[Level, str], extra: Mapping[str, Level]) -> dict[str, Level]:
    out = {word.lower(): level for level, word in words.items()}
    out.update(extra)
    return out


_NA_ALIASES = {"na": Level.NOT_APPLICABLE, "n/a": Level.NOT_APPLICABLE}

_ROB1_WORDS = {
    Level.LOW: "Low",
    Level.CONCERNS: "Unclear",
    Level.HIGH: "High",
    Level.NO_INFORMATION: "No information",
    Level.NOT_APPLICABLE: "Not applicable",
}
_ROB2_WORDS = {
    Level.LOW: "Low",
    Level.CONCERNS: "Some concerns",
    Level.HIGH: "High",
    Level.NO_INFORMATION: "No information",
    Level.NOT_APPLICABLE: "Not applicable",
}

D1B_NAME = "Bias arising from the timing of identification and recruitment of participants"
"""RoB 2 for cluster-randomized trials, domain 1b (robvis column ``D1b``)."""

LAYOUTS: Mapping[str, RobvisLayout] = {
    ROB1: RobvisLayout(
        tool=ROB1,
        domain_headers=tuple(d.robvis_header for d in ROB1_DOMAINS),
        fixed=False,
        domain_names=tuple(d.robvis_header.replace(".", " ") for d in ROB1_DOMAINS),
        words=_ROB1_WORDS,
        aliases=_aliases(
            _ROB1_WORDS,
            {
                "low risk": Level.LOW,
                "unclear risk": Level.CONCERNS,
                "high risk": Level.HIGH,
                **_NA_ALIASES,
            },
        ),
        overall_name="Overall",
    ),
    ROB2: RobvisLayout(
        tool=ROB2,
        domain_headers=tuple(d.code for d in ROB2_DOMAINS),
        fixed=True,
        domain_names=tuple(d.name for d in ROB2_DOMAINS),
        words=_ROB2_WORDS,
        aliases=_aliases(
            _ROB2_WORDS, {"low risk": Level.LOW, "high risk": Level.HIGH, **_NA_ALIASES}
        ),
        overall_name="Overall risk of bias",
    ),
    ROB2_CLUSTER: RobvisLayout(
        tool=ROB2_CLUSTER,
        domain_headers=("D1", "D1b", "D2", "D3", "D4", "D5"),
        fixed=True,
        domain_names=(
            ROB2_DOMAINS[0].name,
            D1B_NAME,
            *(d.name for d in ROB2_DOMAINS[1:]),
        ),
        words=_ROB2_WORDS,
        aliases=_aliases(
            _ROB2_WORDS, {"low risk": Level.LOW, "high risk": Level.HIGH, **_NA_ALIASES}
        ),
        overall_name="Overall risk of bias",
    ),
}
"""The layouts by tool name (``"ROB1"``, ``"ROB2"``, ``"ROB2-Cluster"``)."""


def layout(tool: str) -> RobvisLayout:
    """The layout of a tool; ``InvalidInput`` naming the tools otherwise."""
    try:
        return LAYOUTS[tool]
    except KeyError:
        raise InvalidInput(
            f"{tool!r} is not a robvis tool here; use {', '.join(LAYOUTS)}"
        ) from None


def parse_level(tool: str, text: str) -> Level | None:
    """The level a judgement word stands for in a tool's layout; ``None`` for an empty cell.

    Case-insensitive; spaces around are ignored. Raises ``ValueError`` naming the tool's words.
    Also accepts our own judgement values (``Rob1Judgement``/``Rob2Judgement`` are the same words).
    """
    key = " ".join(text.strip().lower().split())
    if not key:
        return None
    spec = layout(tool)
    if key in spec.aliases:
        return spec.aliases[key]
    words = ", ".join(spec.words.values())
    raise ValueError(f"{text.strip()!r} is not a {tool} judgement; use {words}")


@dataclass(frozen=True)
class RobvisRow:
    """One study (or result) in a robvis table.

    ``judgements``: one level per domain column, ``None`` for an empty cell. ``overall``: ``None``
    when empty or when the table has no overall column. ``weight``: the Weight column's number
    (``None`` without one); ``weight_text`` its text as read, so it is written back unchanged.
    ``line``: the row's line in the file read (0 for rows built in code).
    """

    study: str
    judgements: tuple[Level | None, ...]
    overall: Level | None = None
    weight: float | None = None
    weight_text: str | None = None
    line: int = 0


@dataclass(frozen=True)
class RobvisTable:
    """A robvis input table: the tool, the header row, the rows, and how the file was written.

    ``header``: every column header as written (study, domains, ``Overall``?, ``Weight``?).
    ``domain_headers``: the domain columns' headers. ``has_overall`` / ``weighted`` say whether the
    table has those columns. ``newline``, ``bom`` and ``final_newline`` record the file's form so
    that writing it back gives the same bytes.
    """

    tool: str
    header: tuple[str, ...]
    domain_headers: tuple[str, ...]
    rows: tuple[RobvisRow, ...]
    has_overall: bool = True
    weighted: bool = False
    newline: str = "\n"
    bom: bool = False
    final_newline: bool = True

    @property
    def domain_names(self) -> tuple[str, ...]:
        """Full domain names for labels: ROB1 headers with dots as spaces (robvis does the same);
        the ROB2 names when the table has the standard ROB2 columns."""
        spec = layout(self.tool)
        if spec.fixed:
            return spec.domain_names
        return tuple(h.replace(".", " ") for h in self.domain_headers)

    @property
    def domain_codes(self) -> tuple[str, ...]:
        """Short codes for the traffic-light columns: ``D1`` … ``Dk`` (ROB2-Cluster: with ``D1b``)."""
        spec = layout(self.tool)
        if spec.fixed:
            return spec.domain_headers
        return tuple(f"D{i}" for i in range(1, len(self.domain_headers) + 1))


def _format_weight(weight: float) -> str:
    return str(int(weight)) if weight.is_integer() else repr(weight)


def robvis_table(
    tool: str,
    rows: Sequence[tuple[str, Sequence[Level | str | None], Level | str | None, float | None]],
    *,
    domain_headers: Sequence[str] | None = None,
    has_overall: bool = True,
    weighted: bool = False,
) -> RobvisTable:
    """Build a table from plain rows ``(study, domain judgements, overall, weight)``.

    Judgements may be :class:`Level`\\ s or words of the tool (``"Some concerns"``, ``"Unclear"``,
    our ``Rob1Judgement``/``Rob2Judgement`` values). ``domain_headers`` default to the tool's
    (ROB1: robvis's RoB 1 example headers; ROB2: ``D1`` … ``D5``). Raises ``InvalidInput`` naming
    the study and column for a wrong number of judgements, an unknown word, or a missing weight.
    """
    spec = layout(tool)
    headers = tuple(domain_headers) if domain_headers is not None else spec.domain_headers
    if spec.fixed and len(headers) != len(spec.domain_headers):
        raise InvalidInput(f"{tool} has {len(spec.domain_headers)} domains, not {len(headers)}")
    built: list[RobvisRow] = []
    for study, judgements, overall, weight in rows:
        if len(judgements) != len(headers):
            raise InvalidInput(
                f"study {study}: {counted(len(judgements), 'judgement')} for "
                f"{counted(len(headers), 'domain')}"
            )
        levels = tuple(
            _to_level(tool, value, f"study {study}, {header}")
            for value, header in zip(judgements, headers, strict=True)
        )
        overall_level = _to_level(tool, overall, f"study {study}, Overall") if has_overall else None
        if weighted:
            if weight is None or not math.isfinite(weight) or weight < 0:
                raise InvalidInput(f"study {study}: a weight >= 0 is needed, not {weight}")
            built.append(
                RobvisRow(study, levels, overall_level, float(weight), _format_weight(weight))
            )
        else:
            built.append(RobvisRow(study, levels, overall_level))
    header = ("Study", *headers, *(("Overall",) if has_overall else ()))
    header += ("Weight",) if weighted else ()
    return RobvisTable(tool, header, headers, tuple(built), has_overall, weighted)


def _to_level(tool: str, value: Level | str | None, where: str) -> Level | None:
    if value is None or isinstance(value, Level):
        return value
    try:
        return parse_level(tool, value)
    except ValueError as exc:
        raise InvalidInput(f"{where}: {exc}") from None


def read_robvis(
    text: str,
    *,
    tool: str,
    path: str = "<robvis table>",
    overall: bool | None = None,
    first_line: int = 1,
) -> RobvisTable:
    """Parse robvis input text (a CSV) for a tool.

    ``overall``: whether the column after the domains is ``Overall``; by default it is when its
    header says ``Overall`` (case-insensitive). A last column headed ``Weight`` makes the table
    weighted. ROB2 needs exactly D1-D5 (ROB2-Cluster D1, D1b, D2-D5); ROB1 any number of domains
    (column *position* matters, as in robvis, not the header text). ``path`` is only for messages.

    Raises :class:`~reviewtool.errors.ParseError` naming ``path``, the line, and for a bad cell the
    column (number and header) and the allowed words; also for an empty file, a row with the wrong
    number of fields, an empty study label or a weight that is not a number >= 0.
    """
    spec = layout(tool)
    bom = text.startswith("\ufeff")
    body = text[1:] if bom else text
    if not body.strip():
        raise ParseError(
            "the file is empty; it needs a header row and one row per study", path=path
        )
    newline = "\r\n" if "\r\n" in body else "\n"
    final_newline = body.endswith(("\n", "\r"))
    # blank lines and rows of empty cells skipped, a '#' line refused as a comment
    numbered = list(csv_rows(body, path=path, what="robvis", first_line=first_line))
    if not numbered:
        raise ParseError(
            "the file is empty; it needs a header row and one row per study", path=path
        )
    (line, first), *raw_rows = numbered
    header = tuple(first)
    weighted = len(header) > 2 and header[-1].strip().lower() == "weight"
    rest = header[1:-1] if weighted else header[1:]
    if overall is None:
        overall = bool(rest) and rest[-1].strip().lower() == "overall"
    domain_headers = rest[:-1] if overall else rest
    if spec.fixed and len(domain_headers) != len(spec.domain_headers):
        wanted = ",".join(("Study", *spec.domain_headers, "Overall"))
        raise ParseError(
            f"{tool} needs {len(spec.domain_headers)} domain columns ({wanted}[,Weight]); "
            f"the header has {len(domain_headers)}",
            path=path,
            line=line,
        )
    if not domain_headers:
        raise ParseError("the header names no domain columns", path=path, line=line)
    rows: list[RobvisRow] = []
    n_domains = len(domain_headers)
    for row_line, fields in raw_rows:
        if len(fields) != len(header):
            raise ParseError(
                f"{len(fields)} field{'s' if len(fields) != 1 else ''}, but the header has "
                f"{len(header)}",
                path=path,
                line=row_line,
            )
        study = fields[0]
        if not study.strip():
            raise ParseError("column 1 (Study): the study label is empty", path=path, line=row_line)
        levels: list[Level | None] = []
        for index in range(1, len(fields) - (1 if weighted else 0)):
            try:
                levels.append(parse_level(tool, fields[index]))
            except ValueError as exc:
                raise ParseError(
                    f"column {index + 1} ({header[index]}): {exc}", path=path, line=row_line
                ) from None
        weight: float | None = None
        weight_text: str | None = None
        if weighted:
            weight_text = fields[-1]
            try:
                weight = float(weight_text)
            except ValueError:
                weight = math.nan
            if not math.isfinite(weight) or weight < 0:
                raise ParseError(
                    f"column {len(fields)} ({header[-1]}): {weight_text!r} is not a weight "
                    "(a number >= 0)",
                    path=path,
                    line=row_line,
                )
        rows.append(
            RobvisRow(
                study=study,
                judgements=tuple(levels[:n_domains]),
                overall=levels[n_domains] if overall else None,
                weight=weight,
                weight_text=weight_text,
                line=row_line,
            )
        )
    if not rows:
        raise ParseError("no study rows below the header", path=path, line=line)
    return RobvisTable(
        tool=tool,
        header=header,
        domain_headers=tuple(domain_headers),
        rows=tuple(rows),
        has_overall=overall,
        weighted=weighted,
        newline=newline,
        bom=bom,
        final_newline=final_newline,
    )


def write_robvis(table: RobvisTable) -> str:
    """The table as robvis input text: header, then one row per study in the tool's words.

    Empty cells stay empty; weights keep the text they were read with (otherwise integers are
    written without a decimal point, other numbers with ``repr``). Raises ``InvalidInput`` if a
    level is not one the tool has (e.g. ``Critical`` in RoB 2).
    """
    spec = layout(table.tool)
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator=table.newline, quoting=csv.QUOTE_MINIMAL)
    writer.writerow(table.header)
    for row in table.rows:
        cells = [row.study]
        levels = [*row.judgements, *((row.overall,) if table.has_overall else ())]
        for level in levels:
            if level is None:
                cells.append("")
            elif level in spec.words:
                cells.append(spec.words[level])
            else:
                raise InvalidInput(f"study {row.study}: {table.tool} has no level {level.name}")
        if table.weighted:
            if row.weight is None:
                raise InvalidInput(f"study {row.study}: the table is weighted but has no weight")
            keep = row.weight_text is not None and _same_weight(row.weight_text, row.weight)
            cells.append(
                row.weight_text if keep and row.weight_text else _format_weight(row.weight)
            )
        writer.writerow(cells)
    text = out.getvalue()
    if not table.final_newline:
        text = text.removesuffix(table.newline)
    return ("\ufeff" if table.bom else "") + text


def _same_weight(text: str, weight: float) -> bool:
    try:
        return float(text) == weight
    except ValueError:
        return False


def read_robvis_file(path: str | Path, *, tool: str, overall: bool | None = None) -> RobvisTable:
    """Read a robvis CSV file (UTF-8, a byte order mark allowed). Errors as :func:`read_robvis`,
    and a ``ParseError`` naming the file if it cannot be read or is not UTF-8."""
    name = str(path)
    try:
        check_lines(path, what="robvis")
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ParseError(f"cannot read the file ({exc.strerror})", path=name) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ParseError(f"not UTF-8 text (byte {exc.start})", path=name) from None
    return read_robvis(text, tool=tool, path=name, overall=overall)


def write_robvis_file(table: RobvisTable, path: str | Path) -> None:
    """Write :func:`write_robvis`'s text to ``path`` as UTF-8, line endings untranslated."""
    Path(path).write_bytes(write_robvis(table).encode("utf-8"))


def with_rows(table: RobvisTable, rows: Sequence[RobvisRow]) -> RobvisTable:
    """The same table (tool, header, form) with other rows."""
    return replace(table, rows=tuple(rows))
