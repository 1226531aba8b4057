"""Reading decision files: CSV rows with their line numbers, and errors that name file and line.

Several stages take a CSV of decisions (screening votes, resolutions, dedup decisions); they share
this so every such file is read, checked and reported on the same way.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from contextlib import contextmanager

from reviewtool.errors import InvalidInput, ReviewtoolError


def read_rows(path: str, *, required: set[str] | list[set[str]], what: str) -> list[dict[str, str]]:
    """The rows of a UTF-8 CSV file (BOM allowed), refusing an unreadable, empty or ill-headed one.

    ``required`` is a set of columns, or a list of alternative sets of which one must be present.
    """
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InvalidInput(f"{path}: cannot read the {what} file ({exc})") from None
    if not rows:
        raise InvalidInput(f"{path}: no {what} in the file")
    options = required if isinstance(required, list) else [required]
    header = set(rows[0])
    if not any(option <= header for option in options):
        wanted = " or ".join(", ".join(sorted(o)) for o in options)
        raise InvalidInput(f"{path}: needs the columns {wanted}")
    return rows


def numbered(rows: list[dict[str, str]]) -> Iterator[tuple[int, dict[str, str]]]:
    """Rows with their line number in the file (the header is line 1)."""
    return enumerate(rows, start=2)


@contextmanager
def at_line(path: str, line: int) -> Iterator[None]:
    """Re-raise errors from one row as the same error class prefixed with ``path:line``."""
    try:
        yield
    except ValueError as exc:
        raise InvalidInput(
            f"{path}:{line}: record and pair ids must be whole numbers ({exc})"
        ) from None
    except ReviewtoolError as exc:
        raise type(exc)(f"{path}:{line}: {exc}") from None
