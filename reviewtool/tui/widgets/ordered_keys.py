"""Keys handled one at a time, in the order they were typed, each to the end before the next.

Textual hands a key to the focused widget and checks the screen's bindings only when the key has
bubbled back up to the app. Keys typed quickly (or pasted, or sent by a terminal in one read) are
routed before the previous one has taken effect, so a key typed just after ``Enter`` in a dialog
landed in the dialog's input although ``Enter`` had closed it (issue 9: "note then vote loses the
vote"), and a reason number typed just after ``e`` reached the screen before the reason picker was
open. Here the app routes every key itself, in one queue:

- a key waits while the screen on top is not ready for keys yet (a dialog still being built), and
  every key after it waits too, so nothing overtakes;
- a dialog (``Dialog``) takes its keys synchronously: characters go into its input at once, ``Enter``
  answers with what the input holds at that moment, and the answer's callback runs before the next key;
- the main screens bind their keys with ``priority=True``, so textual runs their action at once,
  in the app's own queue, instead of after a round trip through the focused widget.

Every screen of ``reviewtool screen``, ``adjudicate`` and ``dedup review`` is built on this.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from textual import events
from textual.app import App
from textual.screen import ModalScreen, Screen

ResultT = TypeVar("ResultT")


class OrderedScreen(Screen[None]):
    """A main screen whose keys wait until it is built; call ``ready_for_keys`` at the end of
    ``on_mount``. Its bindings should be ``priority=True`` (see the module docstring)."""

    keys_ready = False

    def ready_for_keys(self) -> None:
        """Mark the screen built: the keys held for it are handled now, in order."""
        self.keys_ready = True
        release = getattr(self.app, "release_keys", None)
        if release is not None:
            self.app.call_next(release)


class Dialog(ModalScreen[ResultT], Generic[ResultT]):
    """A modal that takes its keys synchronously and answers its caller before the next key.

    Open it with ``ask(app, dialog, then)``: ``then(answer)`` is called as the dialog closes, in the
    same step as the key that closed it, so a key typed right after that goes to the screen below
    and sees the answer's effect (a note saved, a reason chosen).
    """

    keys_ready = False

    def __init__(self) -> None:
        super().__init__()
        self.answered = False
        self.then: Callable[[ResultT | None], object] | None = None

    def ready_for_keys(self) -> None:
        """Mark the dialog built (end of ``on_mount``): keys typed meanwhile are handled now."""
        self.keys_ready = True
        release = getattr(self.app, "release_keys", None)
        if release is not None:
            self.app.call_next(release)

    def answer(self, result: ResultT | None) -> None:
        """Close the dialog and give ``result`` (None: cancelled) to the caller, once."""
        if self.answered:
            return
        self.answered = True
        self.app.pop_screen()
        if self.then is not None:
            self.then(result)

    async def take_key(self, event: events.Key | events.Paste) -> bool:
        """Handle ``event`` now; False leaves it to textual (scrolling keys and the like)."""
        return False


def ask(
    app: App[Any],
    dialog: Dialog[ResultT],
    then: Callable[[ResultT | None], object] | None = None,
) -> None:
    """Open ``dialog``; ``then`` (if given) gets its answer (None when cancelled) as it closes."""
    dialog.then = then
    app.push_screen(dialog)


class OrderedKeysApp(App[None]):
    """An app that handles each key completely, in the order typed, before the next one."""

    def __init__(self) -> None:
        super().__init__()
        self.held_keys: deque[events.Key | events.Paste] = deque()
        self._releasing = False

    async def on_event(self, event: events.Event) -> None:
        """Queue key and paste events from the terminal; route everything else as textual does."""
        if isinstance(event, (events.Key, events.Paste)) and not event.is_forwarded:
            self.held_keys.append(event)
            await self.release_keys()
            return
        await super().on_event(event)

    async def release_keys(self) -> None:
        """Handle the held keys in order while the screen on top is ready for them."""
        if self._releasing:
            return  # the running release takes the new key in its turn
        self._releasing = True
        try:
            while self.held_keys and getattr(self.screen, "keys_ready", True):
                event = self.held_keys.popleft()
                screen = self.screen
                if isinstance(screen, Dialog) and await screen.take_key(event):
                    continue
                await super().on_event(event)
        finally:
            self._releasing = False
