"""``reviewtool dedup review``: decide uncertain duplicate pairs, two records side by side.

Fields that differ are highlighted, word by word for titles and author lists. ``y`` confirms the
pair as duplicates, ``n`` rejects it, ``s`` skips to the next, ``q`` quits. Each decision is committed
the moment it is made.
"""

from __future__ import annotations

import difflib
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Footer, Header, Static

from reviewtool.dedup.service import QueuedPair, decide_pair, review_queue
from reviewtool.errors import ReviewtoolError
from reviewtool.review.service import open_existing
from reviewtool.storage import Review
from reviewtool.tui.widgets.ordered_keys import OrderedKeysApp

FIELDS = (
    ("source", "Source"),
    ("source_key", "Key"),
    ("title", "Title"),
    ("authors", "Authors"),
    ("year", "Year"),
    ("journal", "Journal"),
    ("volume", "Volume"),
    ("issue", "Issue"),
    ("pages", "Pages"),
    ("doi", "DOI"),
    ("pmid", "PMID"),
    ("publication_type", "Type"),
    ("abstract", "Abstract"),
)
# Where records come from, not what they say: differences here are expected and not highlighted.
_PROVENANCE = {"source", "source_key"}
DIFF_STYLE = "black on yellow"


def _words_diff(mine: str, theirs: str) -> Text:
    """``mine`` with the words that ``theirs`` lacks highlighted."""
    a, b = mine.split(), theirs.split()
    matcher = difflib.SequenceMatcher(
        a=[w.casefold() for w in a], b=[w.casefold() for w in b], autojunk=False
    )
    text = Text()
    for tag, i1, i2, _j1, _j2 in matcher.get_opcodes():
        chunk = " ".join(a[i1:i2])
        if not chunk:
            continue
        if text:
            text.append(" ")
        text.append(chunk, style=None if tag == "equal" else DIFF_STYLE)
    return text


def render_record(mine: dict[str, Any], other: dict[str, Any]) -> Text:
    """One side of the comparison, differences against ``other`` highlighted."""
    out = Text()
    for key, label in FIELDS:
        value = "" if mine.get(key) is None else str(mine[key])
        theirs = "" if other.get(key) is None else str(other[key])
        out.append(f"{label}: ", style="bold")
        if key in _PROVENANCE or value.casefold().strip() == theirs.casefold().strip():
            out.append(value or "—")
        elif key in ("title", "authors", "abstract", "journal") and value and theirs:
            out.append_text(_words_diff(value, theirs))
        else:
            out.append(value or "—", style=DIFF_STYLE)
        out.append("\n")
    return out


class DedupReviewApp(OrderedKeysApp):
    """The duplicate-pair review screen."""

    TITLE = "reviewtool · duplicate review"
    CSS = """
    #status { height: auto; padding: 0 1; background: $boost; }
    #pair { height: 1fr; }
    .side { width: 1fr; border: round $primary; padding: 0 1; }
    """
    # priority: each key's action runs in the order typed, before the next key is routed.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "confirm", "Duplicate", priority=True),
        Binding("n", "reject", "Not duplicate", priority=True),
        Binding("s", "skip", "Skip", priority=True),
        Binding("q", "quit", "Quit", priority=True),
    ]

    def __init__(self, url: str, actor: str) -> None:
        super().__init__()
        self.url = url
        self.actor = actor
        self.review: Review | None = None
        self.queue: list[QueuedPair] = []
        self.position = 0
        self.decided = 0

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="status")
        with Horizontal(id="pair"):
            with VerticalScroll(classes="side"):
                yield Static(id="left")
            with VerticalScroll(classes="side"):
                yield Static(id="right")
        yield Footer()

    def on_mount(self) -> None:
        self.review = open_existing(self.url)
        self._reload()

    def on_unmount(self) -> None:
        if self.review is not None:
            self.review.close()

    @property
    def current(self) -> QueuedPair | None:
        """The pair on screen, or None when the queue is done."""
        return self.queue[self.position] if self.position < len(self.queue) else None

    def _reload(self) -> None:
        assert self.review is not None
        with self.review.reading() as session:
            self.queue = review_queue(session)
        self.position = 0
        self._show()

    def _show(self) -> None:
        pair = self.current
        status = self.query_one("#status", Static)
        left, right = self.query_one("#left", Static), self.query_one("#right", Static)
        if pair is None:
            status.update(
                f"No pairs left to review ({self.decided} decided in this session). Press q to quit."
            )
            left.update("")
            right.update("")
            return
        status.update(
            f"Pair {self.position + 1} of {len(self.queue)} · id {pair.pair_id} · score {pair.score:.2f} · "
            f"{'; '.join(pair.reasons)}"
        )
        left.update(render_record(pair.a, pair.b))
        right.update(render_record(pair.b, pair.a))

    def _decide(self, decision: str) -> None:
        pair = self.current
        if pair is None or self.review is None:
            return
        try:
            with self.review.transaction() as session:
                decide_pair(session, actor=self.actor, decision=decision, pair_id=pair.pair_id)
        except ReviewtoolError as exc:
            self.notify(str(exc), severity="error", timeout=8)
            return
        self.decided += 1
        # A confirmation can merge groups and settle other queued pairs: ask the library again.
        self._reload()

    def action_confirm(self) -> None:
        """Confirm the pair on screen as duplicates."""
        self._decide("confirm")

    def action_reject(self) -> None:
        """Reject the pair on screen: the records stay apart."""
        self._decide("reject")

    def action_skip(self) -> None:
        """Leave the pair in the queue and show the next one (wrapping round to the first)."""
        if self.queue:
            self.position = (self.position + 1) % len(self.queue)
            self._show()
