"""Types and helpers shared by the format parsers.

Each format module exposes ``parse(text, *, name, progress) -> Iterator[CitationIn | BadRecord]``:
it yields good records and bad ones in file order, and raises ``ParseError`` only for faults that
make the whole file unreadable. The policy (refuse the file or skip bad records) lives in one
place, ``parsers.parse_text``, so every format behaves the same.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from reviewtool.domain import CitationIn
from reviewtool.text import counted

__all__ = [
    "RAW_EXCERPT",
    "BadRecord",
    "ParseWarning",
    "Progress",
    "RecordStream",
    "excerpt",
    "split_lines",
    "width_problem",
]

Progress = Callable[[int], None]
"""Called with the number of records processed so far (good + bad)."""

RAW_EXCERPT = 300
"""How many characters of a bad record's raw text an error message quotes."""


@dataclass(frozen=True)
class BadRecord:
    """A record that could not be parsed: where it starts, what it was called and why it failed."""

    line: int
    source_key: str | None
    reason: str
    raw: str

    def describe(self) -> str:
        """One plain line: the record, the reason and the start of its text."""
        who = f"record {self.source_key!r}" if self.source_key else "record"
        return f"{who}: {self.reason} (starts: {excerpt(self.raw, 80)!r})"


@dataclass(frozen=True)
class ParseWarning:
    """Something odd that did not cost a record (e.g. a RIS record ended by TY instead of ER)."""

    line: int
    message: str


RecordStream = Iterator[CitationIn | BadRecord | ParseWarning]


def excerpt(raw: str, limit: int = RAW_EXCERPT) -> str:
    """The first ``limit`` characters of ``raw`` with an ellipsis when cut."""
    raw = raw.strip()
    return raw if len(raw) <= limit else raw[: limit - 1] + "…"


def split_lines(text: str) -> list[str]:
    """Split on any of CRLF, CR or LF.

    Exports mix line endings (IEEE puts "\\r\\n\\n\\r" between RIS records); treating a stray CR
    as a line break is what makes them parse. ``str.splitlines`` is not used because it also
    breaks on form feeds, vertical tabs and U+2028, which can sit inside an abstract.
    """
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.split("\n")


def width_problem(cells: list[str], headers: list[str]) -> tuple[list[str], str | None, str | None]:
    """Check one table row's field count against its header: ``(cells, bad_reason, warning)``.

    A row may never be read shifted without a word. Extra cells that are all empty (a trailing
    delimiter) are dropped. Extra cells holding text make the row bad (``bad_reason``): which
    column the header lacks cannot be told without guessing, so the reason names the first
    extra field. A short row is read from the left and ``warning`` names the columns it lacks.
    """
    width = len(headers)
    if len(cells) > width:
        extra = cells[width:]
        if not any(c.strip() for c in extra):
            return cells[:width], None, None
        first = next(i for i, c in enumerate(extra) if c.strip())
        return (
            cells,
            f"row has {counted(len(cells), 'field')} but the header has {width}: "
            f"field {width + first + 1} "
            f"({excerpt(extra[first], 40)!r}) has no column, and which column the header lacks "
            "cannot be told; fix the row or the header",
            None,
        )
    if len(cells) < width:
        missing = [h or f"column {i + 1}" for i, h in enumerate(headers[len(cells) :], len(cells))]
        shown = ", ".join(repr(h) for h in missing[:3]) + (" ..." if len(missing) > 3 else "")
        return (
            cells,
            None,
            f"row has {counted(len(cells), 'field')} but the header has {width}; read from the "
            "left, "
            f"with no value for {shown}",
        )
    return cells, None, None
