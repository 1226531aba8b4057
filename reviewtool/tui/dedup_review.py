"""``reviewtool dedup review``: decide uncertain duplicate pairs, two records side by side.

Fields that differ are highlighted, word by word for titles and author lists. ``y`` confirms the
pair as duplicates, ``n`` rejects it, ``s`` skips to the next, ``q`` quits. Each decision is committed
the moment it is made.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Footer, Header, Static

from reviewtool.dedup.compare import word_diff
from reviewtool.dedup.service import QueuedPair, decide_pair, review_queue
from reviewtool.errors import ReviewtoolError
from reviewtool.review.service import open_existing
from reviewtool.storage import Review
from reviewtool.text import printable_fields
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
    text = Text()
    for chunk, differs in word_diff(mine, theirs):
        if text:
            text.append(" ")
        text.append(chunk, style=DIFF_STYLE if differs else None)
    return text


def group_warning(side: dict[str, Any]) -> str:
    """ "Already in group G with records ..." for a record grouped before, else ""."""
    others = side.get("group_records") or []
    if not others:
        return ""
    listed = ", ".join(str(r) for r in others)
    return f"record {side['record_id']} is already in group {side['group_id']} (with {listed})"


def render_record(mine: dict[str, Any], other: dict[str, Any]) -> Text:
    """One side of the comparison, differences against ``other`` highlighted (control characters
    in the data not shown)."""
    mine, other = printable_fields(mine), printable_fields(other)
    out = Text()
    out.append("Record: ", style="bold")
    out.append(str(mine.get("record_id", "—")))
    warning = group_warning(mine)
    if warning:
        out.append(f"\n⚠ {warning}: confirming joins both groups", style="bold red")
    out.append("\n")
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
        # Opened before the app runs, so a missing review or a database that cannot be used is
        # one CLI line, never a traceback from inside the screen.
        self.review: Review | None = open_existing(url)
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
        self._reload()

    def on_unmount(self) -> None:
        if self.review is not None:
            self.review.close()

    @property
    def current(self) -> QueuedPair | None:
        """The pair on screen, or None when the queue is done."""
        return self.queue[self.position] if self.position < len(self.queue) else None

    def _reload(self, after: int | None = None) -> None:
        """Read the queue again (others decide pairs too); show the pair after pair ``after``
        in the old order when given, else the first."""
        assert self.review is not None
        old = [p.pair_id for p in self.queue]
        with self.review.reading() as session:
            self.queue = review_queue(session)
        self.position = 0
        if after is not None and after in old:
            ids = [p.pair_id for p in self.queue]
            later = old[old.index(after) + 1 :] + old[: old.index(after) + 1]
            self.position = next((ids.index(p) for p in later if p in ids), 0)
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
            f"Pair {self.position + 1} of {len(self.queue)} · id {pair.pair_id} · "
            f"records {pair.a['record_id']} / {pair.b['record_id']} · score {pair.score:.2f} · "
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
        pair = self.current
        # Moving on reads the queue again: pairs settled elsewhere drop out, new ones come in.
        self._reload(after=pair.pair_id if pair is not None else None)
