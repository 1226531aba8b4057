"""Keys sent the way a terminal delivers a fast typist's keys: back to back, no wait in between.

``pilot.press`` waits for the app to go idle after every key, which hides any fault that needs
keys to arrive while the previous one is still being handled (issue 9: a vote key typed within
half a second of the Enter that closed a note landed in the note). ``burst`` queues every key on
the driver at once, as one read of the terminal does; ``settle`` then waits until all are handled.
"""

from __future__ import annotations

from typing import Any

from textual import events
from textual.pilot import Pilot

_CHARACTERS = {"space": " ", "slash": "/", "question_mark": "?", "full_stop": "."}


def keys_of(text: str) -> list[str]:
    """The key names that type ``text`` (a space is the ``space`` key)."""
    return ["space" if c == " " else c for c in text]


def burst(app: Any, *keys: str) -> None:
    """Queue ``keys`` on the app's driver all at once (textual key names: "i", "enter", "slash")."""
    for key in keys:
        character = key if len(key) == 1 else _CHARACTERS.get(key)
        event = events.Key(key, character)
        event.set_sender(app)
        app._driver.send_message(event)


def paste(app: Any, text: str) -> None:
    """Queue a bracketed paste of ``text``, as a terminal sends one."""
    event = events.Paste(text)
    event.set_sender(app)
    app._driver.send_message(event)


async def settle(pilot: Pilot[Any]) -> None:
    """Wait until every queued key has been handled and the screen is still."""
    for _ in range(200):
        await pilot.pause()
        app = pilot.app
        if not getattr(app, "held_keys", None) and app._message_queue.empty():
            break
    for _ in range(3):
        await pilot.pause()
