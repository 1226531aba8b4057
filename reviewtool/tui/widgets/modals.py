"""Modal screens: a numbered picker, a one-line prompt and the key help."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.table import Table
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

MODAL_CSS = """
ChoiceScreen, PromptScreen, HelpScreen { align: center middle; }
.dialog {
    width: 80%; max-width: 90; height: auto; max-height: 90%;
    border: thick $accent; background: $surface; padding: 0 1;
}
.dialog > Label { width: 100%; padding: 0 0 1 0; text-style: bold; }
.dialog OptionList { height: auto; max-height: 16; border: none; }
.dialog .hint { color: $text-muted; padding: 1 0 0 0; }
HelpScreen .dialog { max-width: 100; }
HelpScreen VerticalScroll { height: auto; max-height: 18; }
"""


class ChoiceScreen(ModalScreen[int | None]):
    """Pick one of numbered options by its number (or arrows and Enter); Escape cancels.

    Dismisses with the index into ``options``, or None when cancelled.
    """

    DEFAULT_CSS = MODAL_CSS
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, options: Sequence[str], *, first_number: int = 1) -> None:
        super().__init__()
        self.title_text = title
        self.options = list(options)
        self.first_number = first_number

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text)
            yield OptionList(
                *(
                    Option(f"{n + self.first_number:>2}  {text}", id=str(n))
                    for n, text in enumerate(self.options)
                ),
                id="choices",
            )
            yield Static("number or ↑↓ Enter to choose · Esc cancels", classes="hint")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def on_key(self, event: events.Key) -> None:
        # Numbers pick directly, so a reason costs one key press after the exclude key.
        if event.character is not None and event.character.isdigit():
            index = int(event.character) - self.first_number
            if 0 <= index < len(self.options):
                event.stop()
                self.dismiss(index)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option_index)

    def action_cancel(self) -> None:
        """Close without choosing."""
        self.dismiss(None)


class PromptScreen(ModalScreen[str | None]):
    """Ask for one line of text; Enter gives it, Escape cancels (None)."""

    DEFAULT_CSS = MODAL_CSS
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, *, value: str = "", placeholder: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.value = value
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text)
            yield Input(value=self.value, placeholder=self.placeholder, id="prompt")
            yield Static("Enter to confirm · Esc cancels", classes="hint")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        """Close without an answer."""
        self.dismiss(None)


class HelpScreen(ModalScreen[None]):
    """Every key in effect with what it does; any of Escape, q, ? or Enter closes it."""

    DEFAULT_CSS = MODAL_CSS
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark,enter", "close", "Close"),
    ]

    def __init__(self, title: str, rows: Sequence[tuple[str, str]], footnote: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.rows = list(rows)
        self.footnote = footnote

    def compose(self) -> ComposeResult:
        table = Table.grid(padding=(0, 2))
        width = max((len(keys) for keys, _ in self.rows), default=1)
        table.add_column(style="bold cyan", no_wrap=True, width=width)
        table.add_column()
        for keys, what in self.rows:
            table.add_row(keys, what)
        with Vertical(classes="dialog"):
            yield Label(self.title_text)
            with VerticalScroll():
                yield Static(table, id="keys")
            yield Static(self.footnote or "Esc, q or ? closes this help", classes="hint")

    def action_close(self) -> None:
        """Back to the screen underneath."""
        self.dismiss(None)
