"""Text that may reach a terminal: the one rule for stripping control characters from data, and
the one for a count and its noun (`counted`: "1 study", "2 studies").

Titles, abstracts, names and notes come from files anyone can write. Printed raw, ``ESC ]0;… BEL``
retitles the terminal window, ``ESC [2J`` clears the screen, CR overwrites a line, 0x9B is a
one-byte CSI on some terminals. Everything the CLI's rich consoles and the TUI's cards show passes
through :func:`printable`; stored data is never changed.
"""

from __future__ import annotations

import re
from typing import Any

#: C0 and C1 control characters except tab and newline.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """``text`` without control characters (tab and newline kept)."""
    return _CONTROL.sub("", text)


def printable_fields(value: Any) -> Any:
    """``value`` with :func:`printable` applied to every string in it (dicts, lists and tuples
    are walked; other values are returned as they are)."""
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, dict):
        return {k: printable_fields(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(printable_fields(v) for v in value)
    return value


def counted(n: object, noun: str, plural: str | None = None) -> str:
    """``n`` and the noun in the number it takes: "1 study", "2 studies", "0 votes".

    ``n`` is a count (an int; a count read back from evidence may be typed loosely: anything but
    1 takes the plural).

    ``plural``: the plural when it is not ``noun`` + "s" (default: "y" after a consonant becomes
    "ies", else "s" is added). Every layer may import this (``reviewtool.text`` is in the lowest
    layer); ``reviewtool.cli._common`` re-exports it."""
    if n == 1:
        return f"{n} {noun}"
    if plural is None:
        plural = (
            noun[:-1] + "ies" if noun.endswith("y") and noun[-2:-1] not in "aeiou" else noun + "s"
        )
    return f"{n} {plural}"
