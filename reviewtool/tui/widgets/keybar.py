"""The key line at the bottom of a screen: every bound key that fits the width, the rest in help.

Textual's footer shows a fixed set of keys and lets the rest scroll out of sight on a narrow
terminal. Here the keys come in order of use; as many as fit the terminal's width are shown, and
the help key (always shown, last) says how many more it lists.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import Static

KEY_STYLE = "bold reverse"


def _entry(key: str, label: str) -> Text:
    return Text.assemble((f" {key} ", KEY_STYLE), f"{label} ")


def key_line(entries: Sequence[tuple[str, str]], help_entry: tuple[str, str], width: int) -> Text:
    """``entries`` (key shown, label) in order, as many as fit in ``width`` cells with
    ``help_entry`` last; when some are left out the help label says "+N more".

    Entries are taken in order until one does not fit, so the line never skips a key for a later
    one: what is shown is always the first keys of the list.
    """
    shown: list[Text] = []
    used = 0
    for n, (key, label) in enumerate(entries):
        left = len(entries) - n - 1
        help_text = _entry(help_entry[0], help_entry[1] + (f" +{left} more" if left else ""))
        item = _entry(key, label)
        if used + item.cell_len + help_text.cell_len > width:
            hidden = len(entries) - n
            shown.append(_entry(help_entry[0], f"{help_entry[1]} +{hidden} more"))
            return Text("").join(shown)
        shown.append(item)
        used += item.cell_len
    shown.append(_entry(*help_entry))
    return Text("").join(shown)


class KeyBar(Static):
    """One line of key hints fitted to the widget's width (recomputed on every resize)."""

    DEFAULT_CSS = """
    KeyBar { height: 1; width: 1fr; background: $panel; }
    """

    def __init__(
        self,
        entries: Sequence[tuple[str, str]],
        help_entry: tuple[str, str],
        *,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.entries = list(entries)
        self.help_entry = help_entry

    def render(self) -> Text:
        """The keys that fit the current width."""
        return key_line(self.entries, self.help_entry, self.size.width)
