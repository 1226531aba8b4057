"""``reviewtool adjudicate``: the conflicts queue, every vote side by side, single keys to resolve.

A view over ``screening.service.list_conflicts`` and ``resolve_conflict``: each resolution is
committed the moment its key is pressed. Only adjudicators get the queue; anyone else sees the
service's refusal and nothing is written (the refusal itself is recorded in the ledger).

Reviewers keep voting while the screen is open, so the list is never trusted from memory: it is
read again from the database whenever the adjudicator moves on (resolve, skip), on ``r``, and every
few seconds. A conflict reopened meanwhile appears with the earlier resolution and why it reopened;
a resolution the votes have come to agree against is listed as contested, to be resolved again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Footer, Static

from reviewtool.errors import ReviewtoolError
from reviewtool.review.service import open_existing, review_info
from reviewtool.screening.service import (
    ConflictView,
    RecordCard,
    exclusion_reasons,
    list_conflicts,
    parse_stage,
    record_card,
    resolve_conflict,
)
from reviewtool.storage import Review
from reviewtool.storage.queries import setting
from reviewtool.tui.widgets.citation import citation_text, vote_text
from reviewtool.tui.widgets.modals import ChoiceScreen, HelpScreen, PromptScreen
from reviewtool.tui.widgets.ordered_keys import OrderedKeysApp, OrderedScreen, ask

STAGE_LABELS = {"tiab": "title/abstract", "fulltext": "full text"}
REFRESH_SECONDS = 5.0

KEYS: tuple[tuple[str, str, str, str, bool], ...] = (
    # (action, key, footer label, help, in footer)
    ("include", "i", "Include", "Resolve as include", True),
    ("exclude", "e", "Exclude", "Resolve as exclude, then pick the reason by its number", True),
    ("skip", "s", "Skip", "Leave this conflict for later and show the next", True),
    ("refresh", "r", "Refresh", "Read the conflicts again now (also done every few seconds)", True),
    ("note", "n", "Note", "Write a note that goes with your resolution", True),
    ("help", "question_mark", "Help", "List every key", True),
    ("quit", "q", "Quit", "Quit; every resolution is saved already", True),
)


class AdjudicationScreen(OrderedScreen):
    """One conflict: the votes side by side over the record's citation and abstract."""

    BINDINGS: ClassVar[list[BindingType]] = [
        # priority: each key's action runs in the order typed, before the next key is routed.
        Binding(key, action, label, show=shown, priority=True)
        for action, key, label, _, shown in KEYS
    ]

    def __init__(self, review: Review, actor: str, stage: str) -> None:
        super().__init__()
        self.review = review
        self.actor = actor
        self.stage = stage
        self.conflicts: list[ConflictView] = []
        self.position = 0
        self.card: RecordCard | None = None
        self.notes: dict[int, str] = {}
        self.resolved = 0
        self.refused: str | None = None
        self.title_text = ""
        self.reasons: list[str] = []
        self.include_words: list[str] = []
        self.exclude_words: list[str] = []
        self.checked_at = ""

    def compose(self) -> ComposeResult:
        yield Static(id="heading")
        yield Static(id="history")
        yield Horizontal(id="votes")
        with VerticalScroll(id="record"):
            yield Static(id="card")
        with Horizontal(id="status"):
            yield Static(id="status-title")
            yield Static(id="status-counts")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#record").focus()
        self._load()
        self.ready_for_keys()

    def _load(self) -> None:
        try:
            with self.review.reading() as session:
                self.title_text = review_info(session).title
                self.conflicts = list_conflicts(session, actor=self.actor, stage=self.stage)
                self.reasons = exclusion_reasons(session, parse_stage(self.stage))
                self.include_words = list(setting(session, "screening.include_keywords"))  # type: ignore[call-overload]
                self.exclude_words = list(setting(session, "screening.exclude_keywords"))  # type: ignore[call-overload]
        except ReviewtoolError as exc:
            self.refused = str(exc)
            self.notify(str(exc), title="Cannot adjudicate", severity="error", timeout=15)
            self.query_one("#heading", Static).update(
                Text("Adjudication is not open to you", "bold")
            )
            self.query_one("#card", Static).update(Text(f"{exc}\n\nPress q to quit.", "red"))
            self._show_status()
            return
        self.checked_at = _clock()
        self._show()
        self.set_interval(REFRESH_SECONDS, self._poll)

    def _poll(self) -> None:
        """The timer's refresh: redraw only when the conflicts changed, and never under a dialog."""
        if self.app.screen is self:
            self.reload(announce=True)

    def reload(self, *, announce: bool = False) -> None:
        """Read the conflicts from the database again, staying on the conflict on screen if it is
        still there; ``announce`` tells the adjudicator what changed under them."""
        if self.refused:
            return
        shown = self.current
        try:
            with self.review.reading() as session:
                fresh = list_conflicts(session, actor=self.actor, stage=self.stage)
        except ReviewtoolError as exc:
            self.notify(str(exc), severity="error", timeout=8)
            return
        self.checked_at = _clock()
        if fresh == self.conflicts:
            if self.current is None:
                self._show()  # the "checked at" time on the empty screen
            return
        before = {c.record_id: c for c in self.conflicts}
        self.conflicts = fresh
        ids = [c.record_id for c in fresh]
        if shown is not None and shown.record_id in ids:
            self.position = ids.index(shown.record_id)
        elif self.position >= len(fresh):
            self.position = 0
        if announce:
            new = [c for c in fresh if before.get(c.record_id) != c and c.record_id not in before]
            changed = [c for c in fresh if c.record_id in before and before[c.record_id] != c]
            gone = [r for r in before if r not in ids]
            parts = [f"record {c.record_id} {c.state}" for c in new]
            parts += [f"record {c.record_id} changed" for c in changed]
            parts += [f"record {r} no longer needs you" for r in gone]
            if parts:
                self.notify("; ".join(parts) + ".", title="Conflicts changed", timeout=8)
        self._show()

    @property
    def current(self) -> ConflictView | None:
        """The conflict on screen, or None when none is left."""
        return self.conflicts[self.position] if self.conflicts else None

    def _show(self) -> None:
        conflict = self.current
        votes = self.query_one("#votes", Horizontal)
        votes.remove_children()
        history = self.query_one("#history", Static)
        if conflict is None:
            self.card = None
            history.update("")
            history.display = False
            self.query_one("#heading", Static).update(
                Text("No conflicts need you right now", "bold green")
            )
            self.query_one("#card", Static).update(
                f"No open or contested conflict at {STAGE_LABELS[self.stage]} "
                f"(checked at {self.checked_at}; {self.resolved} resolved in this session).\n"
                f"Reviewers may still be voting: this list is read again every "
                f"{REFRESH_SECONDS:g} seconds, or now with r. Press q to quit."
            )
            self._show_status()
            return
        try:
            with self.review.reading() as session:
                self.card = record_card(
                    session,
                    actor=self.actor,
                    record_id=conflict.record_id,
                    stage=self.stage,
                    report=conflict.report["id"] if conflict.report else None,
                )
        except ReviewtoolError as exc:
            self.notify(str(exc), severity="error", timeout=8)
            return
        state = {
            "reopened": " · reopened",
            "contested": " · contested",
        }
        self.query_one("#heading", Static).update(
            Text.assemble(
                (f"Conflict {self.position + 1} of {len(self.conflicts)}", "bold"),
                f" · record {conflict.record_id} · {STAGE_LABELS[self.stage]}",
                (state.get(conflict.state, ""), "bold yellow"),
            )
        )
        told = history_text(conflict)
        history.update(told)
        history.display = bool(told)
        votes.mount_all(Static(self._vote_panel(vote), classes="vote") for vote in conflict.votes)
        body = Text()
        note = self.notes.get(conflict.record_id)
        if note:
            body.append(f"Your note for the resolution: {note}\n\n", style="italic yellow")
        if self.stage == "fulltext":
            report = self.card.fulltext or {}
            body.append(
                f"Report {self.card.report_id} ({report.get('kind')}): "
                f"{report.get('location') or report.get('status') or 'none'}\n\n"
            )
        body.append_text(citation_text(self.card.fields, self.include_words, self.exclude_words))
        self.query_one("#card", Static).update(body)
        self.query_one("#record", VerticalScroll).scroll_home(animate=False)
        self._show_status()

    @staticmethod
    def _vote_panel(vote: object) -> Text:
        out = vote_text(vote)
        decided_at = getattr(vote, "decided_at", "")
        if decided_at:
            out.append(f"\n{decided_at[:16].replace('T', ' ')}", style="dim")
        return out

    def _show_status(self) -> None:
        self.query_one("#status-title", Static).update(
            f" {self.actor} · adjudication · {STAGE_LABELS[self.stage]} · {self.title_text}"
        )
        left = "refused" if self.refused else f"{len(self.conflicts)} to resolve"
        self.query_one("#status-counts", Static).update(f"{left} · resolved {self.resolved} ")

    def _resolve(self, decision: str, reason: str | None = None) -> None:
        conflict = self.current
        if conflict is None or self.refused:
            return
        try:
            with self.review.transaction() as session:
                resolve_conflict(
                    session,
                    actor=self.actor,
                    record_id=conflict.record_id,
                    stage=self.stage,
                    decision=decision,
                    reason=reason,
                    note=self.notes.get(conflict.record_id),
                    report=conflict.report["id"] if conflict.report else None,
                )
        except ReviewtoolError as exc:
            # Most often the votes changed since the list was read: show what holds now.
            self.notify(str(exc), severity="error", timeout=8)
            self.reload(announce=True)
            return
        self.notes.pop(conflict.record_id, None)
        self.resolved += 1
        self.notify(f"Record {conflict.record_id}: {decision}{f' ({reason})' if reason else ''}.")
        # Moving on reads the list again: a conflict reopened meanwhile shows up here.
        self.reload(announce=True)

    def action_include(self) -> None:
        """Resolve the conflict on screen as include."""
        self._resolve("include")

    def action_exclude(self) -> None:
        """Pick the exclusion reason by number, then resolve as exclude."""
        conflict = self.current
        if conflict is None or self.refused:
            return
        required = bool(setting_value(self.review, f"screening.reason_required_{self.stage}"))
        options, first = list(self.reasons), 1
        if not required:
            options, first = ["no reason", *options], 0

        def chosen(index: int | None) -> None:
            if index is not None:
                self._resolve("exclude", options[index] if required or index else None)

        ask(
            self.app,
            ChoiceScreen(f"Exclude record {conflict.record_id}: why?", options, first_number=first),
            chosen,
        )

    def action_skip(self) -> None:
        """Leave this conflict open and show the next."""
        if self.refused:
            return
        if self.conflicts:
            self.position = (self.position + 1) % len(self.conflicts)
        self.reload(announce=True)
        self._show()

    def action_refresh(self) -> None:
        """Read the conflicts from the database again now."""
        self.reload(announce=True)

    def action_note(self) -> None:
        """Write the note that goes with the resolution of this conflict."""
        conflict = self.current
        if conflict is None or self.refused:
            return

        def written(text: str | None) -> None:
            if text is not None:
                self.notes[conflict.record_id] = text.strip()
                self._show()

        ask(
            self.app,
            PromptScreen(
                f"Note on resolving record {conflict.record_id}",
                value=self.notes.get(conflict.record_id, ""),
            ),
            written,
        )

    def action_help(self) -> None:
        """List every key."""
        rows = [(self.app.get_key_display(Binding(key, "")), text) for _, key, _, text, _ in KEYS]
        ask(self.app, HelpScreen("Adjudication keys", rows))

    def action_quit(self) -> None:
        """Leave; every resolution was committed when it was made."""
        self.app.exit()


def _clock() -> str:
    return datetime.now().strftime("%H:%M:%S")


def _when(stamp: str | None) -> str:
    return (stamp or "")[:16].replace("T", " ")


def history_text(conflict: ConflictView) -> Text:
    """Why this conflict is back: the earlier resolution and the vote change that reopened it, or
    the standing resolution the votes now agree against. Empty for a first-time conflict."""
    out = Text()
    if conflict.state == "reopened" and conflict.earlier:
        e = conflict.earlier
        said = _decision_words(e)
        note = f" (note: {e['note']})" if e.get("note") else ""
        out.append("Reopened: ", style="bold yellow")
        out.append(
            f"{e['adjudicator']} resolved it as {said} on {_when(e.get('resolved_at'))}{note}; "
            f"reopened on {_when(e.get('reopened_at'))}: "
            f"{e.get('reopened_because') or 'a vote changed'}."
        )
    elif conflict.state == "contested" and conflict.resolution:
        r = conflict.resolution
        out.append("Votes now agree against the resolution: ", style="bold yellow")
        out.append(
            f"{r['adjudicator']}'s {_decision_words(r)} still decides. {conflict.contested or ''}. "
            "Resolve again to keep it or follow the votes."
        )
    return out


def _decision_words(resolution: dict[str, Any]) -> str:
    reason = resolution.get("reason")
    return f"{resolution['decision']} ({reason})" if reason else str(resolution["decision"])


def setting_value(review: Review, key: str) -> object:
    """One setting, read in its own short session."""
    with review.reading() as session:
        return setting(session, key)


class AdjudicationApp(OrderedKeysApp):
    """The adjudication app for one adjudicator at one stage."""

    TITLE = "reviewtool · adjudication"
    ENABLE_COMMAND_PALETTE = False
    CSS_PATH = "adjudication.tcss"

    def __init__(self, url: str, actor: str, stage: str) -> None:
        parse_stage(stage)
        super().__init__()
        self.url = url
        self.actor = actor
        self.stage = stage
        # Opened before the app runs, so a missing or too-new review is one CLI line.
        self.review: Review = open_existing(url)

    @property
    def adjudication(self) -> AdjudicationScreen:
        """The adjudication screen (under any open dialog)."""
        return self.get_screen("adjudication")  # type: ignore[return-value]

    def on_mount(self) -> None:
        self.install_screen(AdjudicationScreen(self.review, self.actor, self.stage), "adjudication")
        self.push_screen("adjudication")

    def on_unmount(self) -> None:
        self.review.close()
