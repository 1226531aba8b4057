"""Modal screens: a numbered picker, a one-line prompt and the key help.

Each is a ``Dialog`` (``ordered_keys``): open it with ``ask(app, dialog, then)``; it takes its keys
synchronously, so no key typed after the one that closes it can land in it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from reviewtool.tui.widgets.ordered_keys import Dialog

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


# Keys the picker's list moves by, and the list action each runs.
_LIST_KEYS = {
    "up": "cursor_up",
    "down": "cursor_down",
    "home": "first",
    "end": "last",
    "pageup": "page_up",
    "pagedown": "page_down",
}


class ChoiceScreen(Dialog[int]):
    """Pick one of numbered options by its number (or arrows and Enter); Escape cancels.

    Answers with the index into ``options``, or None when cancelled.
    """

    DEFAULT_CSS = MODAL_CSS

    def __init__(self, title: str, options: Sequence[str | Text], *, first_number: int = 1) -> None:
        super().__init__()
        self.title_text = title
        self.options = list(options)
        self.first_number = first_number

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text)
            yield OptionList(
                *(
                    Option(Text.assemble(f"{n + self.first_number:>2}  ", text), id=str(n))
                    for n, text in enumerate(self.options)
                ),
                id="choices",
            )
            yield Static("number or ↑↓ Enter to choose · Esc cancels", classes="hint")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()
        self.ready_for_keys()

    async def take_key(self, event: events.Key | events.Paste) -> bool:
        """Numbers pick directly (a reason costs one key after the exclude key); arrows move,
        Enter picks the highlighted option, Escape cancels; other characters are ignored."""
        if not isinstance(event, events.Key):
            return True
        options = self.query_one(OptionList)
        if event.character is not None and event.character.isdigit():
            index = int(event.character) - self.first_number
            if 0 <= index < len(self.options):
                self.answer(index)
        elif event.key == "enter":
            if options.highlighted is not None:
                self.answer(options.highlighted)
        elif event.key == "escape":
            self.answer(None)
        elif event.key in _LIST_KEYS:
            await options.run_action(_LIST_KEYS[event.key])
        elif not event.is_printable:
            return False  # the app's own keys (ctrl+q quits) still work here
        return True

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        # A mouse click on an option.
        event.stop()
        self.answer(event.option_index)


class PromptScreen(Dialog[str]):
    """Ask for one line of text; Enter gives it, Escape cancels (None)."""

    DEFAULT_CSS = MODAL_CSS

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
        self.ready_for_keys()

    async def take_key(self, event: events.Key | events.Paste) -> bool:
        """Characters and pastes go into the input at once; Enter answers with what it holds
        now, Escape cancels; the input's editing keys (arrows, backspace, ctrl+a ...) run now."""
        field = self.query_one(Input)
        if isinstance(event, events.Paste):
            text = event.text.splitlines()[0] if event.text else ""
            self._type(field, text)
        elif event.key == "enter":
            self.answer(field.value)
        elif event.key == "escape":
            self.answer(None)
        elif event.is_printable and event.character is not None:
            self._type(field, event.character)
        else:
            # textual's own binding table of the input (left, backspace, ctrl+k ...).
            bindings = field._bindings.key_to_bindings.get(event.key, ())
            if not bindings:
                return False  # the app's own keys (ctrl+q quits) still work here
            await field.run_action(bindings[0].action)
        return True

    @staticmethod
    def _type(field: Input, text: str) -> None:
        if field.selection.is_empty:
            field.insert_text_at_cursor(text)
        else:
            field.replace(text, *field.selection)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        # Enter is taken in ``take_key``; this is only reached if textual submits on its own.
        event.stop()
        self.answer(event.value)


CLOSE_HELP = ("escape", "q", "question_mark", "enter")


class HelpScreen(Dialog[None]):
    """Every key in effect with what it does; any of Escape, q, ? or Enter closes it."""

    DEFAULT_CSS = MODAL_CSS
    BINDINGS: ClassVar[list[BindingType]] = [Binding(",".join(CLOSE_HELP), "close", "Close")]

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

    def on_mount(self) -> None:
        self.ready_for_keys()

    async def take_key(self, event: events.Key | events.Paste) -> bool:
        """Escape, q, ? or Enter close the help; other keys scroll it (textual's own handling)."""
        if isinstance(event, events.Key) and event.key in CLOSE_HELP:
            self.answer(None)
            return True
        return False

    def action_close(self) -> None:
        """Back to the screen underneath."""
        self.answer(None)
