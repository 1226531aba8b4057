"""``reviewtool screen``: one reference at a time, single-key votes, each committed at once.

The screen is a view over ``reviewtool.screening.service``: every key calls one service function in
its own transaction, so a decision is on disk before the next record appears, and restarting resumes
with the reviewer's remaining queue (the service only queues references they have not voted on).
Blinding is the service's job: the card it returns carries other reviewers' votes only when the
reviewer may see them, and this screen shows exactly what the card holds.

Keys come from ``ACTIONS`` and can be changed per user in a TOML file (see ``docs/keys.md``).
"""

from __future__ import annotations

import os
import string
import sys
import tomllib
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.keys import Keys
from textual.widgets import Static

from reviewtool.dedup.service import flag_duplicate
from reviewtool.errors import InvalidInput, ReviewtoolError
from reviewtool.review.service import open_existing, review_info
from reviewtool.screening.service import (
    RecordCard,
    VoteChangedElsewhere,
    VoteView,
    exclusion_reasons,
    my_vote,
    parse_stage,
    record_card,
    record_decision,
    screening_progress,
    search_references,
    undo_last,
)
from reviewtool.storage import Review
from reviewtool.storage.queries import setting
from reviewtool.text import counted
from reviewtool.tui.widgets.citation import citation_text, vote_text
from reviewtool.tui.widgets.keybar import KeyBar
from reviewtool.tui.widgets.modals import ChoiceScreen, HelpScreen, PromptScreen
from reviewtool.tui.widgets.opener import open_location
from reviewtool.tui.widgets.ordered_keys import OrderedKeysApp, OrderedScreen, ask

STAGE_LABELS = {"tiab": "title/abstract", "fulltext": "full text"}
SEARCH_LIMIT = 50
# Wide terminals have room for the eligibility criteria beside the record from the start.
WIDE_COLUMNS = 120
# Relevance order (issue 15): the model is retrained in a worker thread after this many votes.
RETRAIN_EVERY = 5


@dataclass(frozen=True)
class KeyAction:
    """A screening action a key can be bound to."""

    key: str
    label: str
    help: str
    footer: bool = True


# Action name -> default key. The names are what users write in their keys.toml, so they are stable.
ACTIONS: dict[str, KeyAction] = {
    "include": KeyAction("i", "Include", "Include the reference"),
    "exclude": KeyAction("e", "Exclude", "Exclude it, then pick the reason by its number"),
    "maybe": KeyAction("m", "Maybe", "Maybe: unsure, goes on like an include"),
    "note": KeyAction("n", "Note", "Write a note; it goes with your vote on this reference", False),
    "undo": KeyAction("u", "Undo", "Take back your last vote and show that reference again"),
    "skip": KeyAction("s", "Skip", "Leave this one in your queue and show the next"),
    "back": KeyAction("b", "Back", "Show the previous reference (change your vote there)"),
    "search": KeyAction(
        "slash", "Search", "Find a reference by a record id or by words in title/abstract", False
    ),
    "criteria": KeyAction("c", "Criteria", "Show or hide the eligibility criteria panel", False),
    "duplicate": KeyAction(
        "d", "Duplicate", "Flag this reference as a duplicate of another record id", False
    ),
    "fulltext": KeyAction(
        "f", "Full text", "Open the full text (full-text stage), or show where it is", False
    ),
    "help": KeyAction("question_mark", "Help", "List every key"),
    "quit": KeyAction("q", "Quit", "Quit; every vote is saved already"),
}
_MODIFIERS = {"ctrl", "shift", "alt", "meta", "super", "hyper"}


def _key_name(token: str) -> str:
    """Textual's long name for a one-character key ("?" -> "question_mark"), else ``token``."""
    if len(token) == 1 and not token.isalnum():
        return unicodedata.name(token).lower().replace(" ", "_").replace("-", "_")
    return token


def _known_key_names() -> set[str]:
    names = {k.value for k in Keys} | {"space", "tab", "enter", "escape", "backspace"}
    return names | {_key_name(c) for c in string.printable if c.isprintable() and c != " "}


def default_keymap_path() -> Path | None:
    """``$XDG_CONFIG_HOME/reviewtool/keys.toml`` (``~/.config`` by default) when it exists."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    path = Path(base) / "reviewtool" / "keys.toml"
    return path if path.is_file() else None


def load_keymap(path: Path | None) -> dict[str, str]:
    """Action name -> key(s) in effect: the defaults with the file's choices on top.

    The file maps action names to a key or a list of keys (``include = "y"``,
    ``skip = ["s", "space"]``). An unreadable or malformed file, an unknown action, an unknown key
    name or one key bound to two actions raise InvalidInput naming the file and the entry.
    """
    keys = {name: action.key for name, action in ACTIONS.items()}
    if path is None:
        return keys
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot read the key file ({exc.strerror})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{path}: not a valid TOML key file ({exc})") from None
    known = _known_key_names()
    for name, value in data.items():
        if name not in ACTIONS:
            raise InvalidInput(f"{path}: unknown action {name!r}; actions: {', '.join(ACTIONS)}")
        values = [value] if isinstance(value, str) else value
        if (
            not isinstance(values, list)
            or not values
            or not all(isinstance(v, str) and v.strip() for v in values)
        ):
            raise InvalidInput(f'{path}: {name} must be a key or a list of keys, e.g. {name} = "x"')
        tokens = []
        for raw in values:
            *mods, last = raw.strip().split("+") if len(raw.strip()) > 1 else [raw]
            token = _key_name(last) if last else "+"
            if not set(mods) <= _MODIFIERS or token not in known:
                raise InvalidInput(
                    f'{path}: {name} = {raw!r} is not a key name (try "x", "ctrl+x", "f5", "space", "/")'
                )
            tokens.append("+".join([*mods, token]))
        keys[name] = ",".join(tokens)
    owner: dict[str, str] = {}
    for name, value in keys.items():
        for token in value.split(","):
            if token in owner:
                raise InvalidInput(
                    f"{path}: key {token!r} is bound to both {owner[token]} and {name}; give one of them another key"
                )
            owner[token] = name
    return keys


def progress_text(mine: int, total: int, width: int = 10) -> Text:
    """The reviewer's own progress: ``mine/total``, a bar of ``width`` cells and the percentage.

    Only the reviewer's own votes count, so the figure says nothing about anyone else's votes
    (issue 9: a "decided" count that rose after a vote told a blind reviewer the other agreed).
    The percentage is rounded down, so 100% means every reference has the reviewer's vote.
    """
    share = mine / total if total else 0.0
    filled = int(share * width)
    out = Text()
    out.append(f"{mine}/{total} voted ")
    out.append("█" * filled, style="green")
    out.append("░" * (width - filled), style="dim")
    out.append(f" {int(share * 100)}% ")
    return out


class ScreeningScreen(OrderedScreen):
    """One reference, its highlighted abstract, the reviewer's progress and the criteria panel."""

    # priority: each key's action runs in the order typed, before the next key is routed.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(a.key, name, a.label, show=a.footer, id=name, priority=True)
        for name, a in ACTIONS.items()
    ]

    def __init__(self, review: Review, actor: str, stage: str, keys: dict[str, str]) -> None:
        super().__init__()
        self.review = review
        self.actor = actor
        self.stage = stage
        self.keys = keys
        self.queue: list[int] = []
        self.position = 0
        # A record shown outside the queue (back, search, undo of a changed vote); None: queue[position].
        self.detached: int | None = None
        self.history: list[int] = []
        self.card: RecordCard | None = None
        self.prefetched: RecordCard | None = None
        self.pending_note: tuple[int, str] | None = None
        self.refused: str | None = None
        self.title_text = ""
        self.question = ""
        self.include_words: list[str] = []
        self.exclude_words: list[str] = []
        self.reasons: list[str] = []
        self.reason_required = False
        # Counts are read once and then kept here, so a key press never recounts 100,000 records.
        # Only the reviewer's own votes are counted (blinding: nothing about others' votes).
        self.total = self.mine = 0
        # (record id, the vote this screen showed) when a vote was refused because it changed
        # elsewhere (another window, the CLI) since: the card says so until the reviewer moves on.
        self.changed_elsewhere: tuple[int, VoteView | None] | None = None
        # Full-text stage: the reviewer's own title/abstract vote per record (None: none).
        self.tiab_votes: dict[int, VoteView | None] = {}
        # Queue order (issue 15, screening.queue): what it was read from, the model that ranks
        # it (trained in a worker thread, never on a key press), the features fitted once.
        self.queue_state: Any = None
        self.ranked: Any = None
        self.model: Any = None
        self.features: Any = None
        self.training = False
        self.votes_cast = 0
        self.votes_since_training = 0
        self.stop_line = ""

    def compose(self) -> ComposeResult:
        yield Static(id="heading")
        with Horizontal(id="body"):
            with VerticalScroll(id="record"):
                yield Static(id="card")
            with VerticalScroll(id="criteria"):
                yield Static(id="criteria-text")
        with Horizontal(id="status"):
            yield Static(id="status-title")
            yield Static(id="status-counts")
        yield Static(id="queue-status")
        yield KeyBar(self._key_entries(), self._key_entry("help"), id="keys")

    # The key line's order: what a screener presses most first; help is always shown, last.
    # Every bound key is on the line when the terminal is wide enough (about 135 columns).
    KEY_LINE_ORDER = (
        "include",
        "exclude",
        "maybe",
        "note",
        "fulltext",
        "undo",
        "skip",
        "back",
        "search",
        "criteria",
        "duplicate",
        "quit",
    )

    def _key_entry(self, name: str) -> tuple[str, str]:
        first = self.keys[name].split(",")[0]
        return self.app.get_key_display(Binding(first, "")), ACTIONS[name].label

    def _key_entries(self) -> list[tuple[str, str]]:
        names = list(self.KEY_LINE_ORDER)
        if self.stage != "fulltext":  # no full texts at title/abstract: its key goes last
            names.remove("fulltext")
            names.append("fulltext")
        return [self._key_entry(name) for name in names]

    def on_mount(self) -> None:
        self.query_one("#criteria").display = self.app.size.width >= WIDE_COLUMNS
        self.query_one("#record").focus()
        self._load()
        self.ready_for_keys()

    # ---- loading and showing -----------------------------------------------------------------

    def _load(self) -> None:
        try:
            with self.review.reading() as session:
                info = review_info(session)
                self.title_text, self.question = info.title, info.question or ""
                self._read_queue(session)
                self.queue = list(self.queue_state.todo)
                progress = screening_progress(session, actor=self.actor, stage=self.stage)
                self.include_words = list(setting(session, "screening.include_keywords"))  # type: ignore[call-overload]
                self.exclude_words = list(setting(session, "screening.exclude_keywords"))  # type: ignore[call-overload]
                self.reasons = exclusion_reasons(session, parse_stage(self.stage))
                self.reason_required = bool(
                    setting(session, f"screening.reason_required_{self.stage}")
                )
        except ReviewtoolError as exc:
            self.refused = str(exc)
            self.notify(str(exc), title="Cannot screen", severity="error", timeout=15)
            self.query_one("#heading", Static).update(Text("Screening is not open to you", "bold"))
            self.query_one("#card", Static).update(Text(f"{exc}\n\nPress q to quit.", "red"))
            self._show_status()
            return
        self.total, self.mine = progress.total, progress.mine
        self.query_one("#criteria-text", Static).update(self._criteria_text())
        self._show()
        self._train_in_background()

    # ---- queue order (issue 15) ----------------------------------------------------------------

    def _read_queue(self, session: Any) -> None:
        """Read the reviewer's queue state (cheap: the corpus is read once and kept), arrange it
        in random order at once, and the reviewer's own progress towards the stopping rules."""
        from reviewtool.screening.queue import arrange, queue_state

        kept = self.queue_state.corpus if self.queue_state is not None else None
        self.queue_state = queue_state(
            session, actor=self.actor, stage=self.stage, corpus=kept or None
        )
        self.votes_cast = self.queue_state.votes_cast
        self.votes_since_training = 0
        if self.ranked is None or self.model is None:
            self.ranked = arrange(self.queue_state, None)
        self.stop_line = self._stop_progress(session)

    def _stop_progress(self, session: Any) -> str:
        """The reviewer's own progress towards each stopping rule (blind-safe: ``stop_check``
        gives a reviewer their own evidence only while the stage is blind to them)."""
        if self.stage != "tiab":
            return ""
        from reviewtool.screening.stop import stop_check

        try:
            checks = stop_check(session, actor=self.actor)
        except ReviewtoolError:
            return ""
        said = []
        for check in checks:
            mine = check.evidence.get(self.actor)
            if mine is None:
                continue
            numbers, met = mine["numbers"], " met" if mine["met"] else ""
            if check.rule == "consecutive_exclusions":
                needed = numbers.get("run_needed", check.parameters["n"])
                said.append(f"{numbers['run']}/{needed} excluded in a row{met}")
            elif check.rule == "hypergeometric":
                p = numbers["p"]
                said.append(
                    "no random sample yet" if p is None else f"recall test p = {p:.3g}{met}"
                )
            else:
                said.append(f"SAFE stage {numbers['stage']}{met}")
        return "stopping: " + " · ".join(said) if said else ""

    def _show_queue_status(self) -> None:
        line = Text(" ")
        if self.ranked is not None:
            line.append("order: ", style="bold")
            line.append(self.ranked.describe())
            if self.training:
                line.append(" · retraining…", style="italic")
        if self.stop_line:
            line.append(" · " + self.stop_line)
        self.query_one("#queue-status", Static).update(line)

    def _train_in_background(self) -> None:
        """Start retraining when the order in effect needs a model; the screen keeps going."""
        state = self.queue_state
        if state is None or self.training or state.ordering not in ("relevance", "mixed"):
            return
        self.training = True
        self._show_queue_status()
        self._train(state, self.features)

    @work(thread=True, exclusive=True, group="ranking", exit_on_error=False)
    def _train(self, state: Any, features: Any) -> None:
        """Fit the features (once) and the reviewer's model off the main thread (pure: no
        database), then hand the ranked queue back to the screen."""
        from reviewtool.screening.queue import arrange, fit, fit_features

        try:
            fitted = features if features is not None else fit_features(state)
            model = fit(state, fitted)
            ranked = arrange(state, model)
        except ReviewtoolError:
            self.app.call_from_thread(self._trained, state, features, None, None)
            return
        self.app.call_from_thread(self._trained, state, fitted, model, ranked)

    def _trained(self, state: Any, features: Any, model: Any, ranked: Any) -> None:
        """Take the new ranking: the record on screen stays, the rest follow the model's order."""
        self.training = False
        if state is not self.queue_state or ranked is None:
            self._show_queue_status()
            self._train_in_background()  # the state moved on while training: once more
            return
        self.features, self.model, self.ranked = features, model, ranked
        waiting = set(self.queue)
        order = [r for r in ranked.ids if r in waiting]
        order += [r for r in self.queue if r not in set(order)]
        if self.detached is None and self.queue:
            current = self.queue[self.position]
            order.remove(current)
            order.insert(0, current)
        self.queue = order
        self.position = 0
        self.prefetched = None
        if self.card is not None:
            self._render_card()
        else:
            self._show_status()

    def _stamp(self) -> Any:
        """The queue order the next vote is stored with (``queue.stamp_of``)."""
        from reviewtool.screening.queue import stamp_of

        if self.queue_state is None:
            return None
        model = self.model if self.ranked is not None and self.ranked.ordering != "random" else None
        return stamp_of(self.queue_state, model, self.votes_cast)

    def _after_vote(self, new: bool) -> None:
        """Count the vote; every RETRAIN_EVERY votes (or when relevance order may start) re-read
        the state and retrain in the background."""
        if new:
            self.votes_cast += 1
        self.votes_since_training += 1
        state = self.queue_state
        if state is None or self.stage != "tiab":
            return
        starts = state.ordering == "random" and state.settings.order != "random"
        if self.votes_since_training < RETRAIN_EVERY and not starts:
            return
        try:
            with self.review.reading() as session:
                self._read_queue(session)
        except ReviewtoolError:
            return
        self._train_in_background()
        self._show_queue_status()

    @property
    def current_id(self) -> int | None:
        """The record on screen, or None when the queue is done."""
        if self.detached is not None:
            return self.detached
        return self.queue[self.position] if self.queue else None

    def _show(self) -> None:
        while self._fetch():
            pass

    def _fetch(self) -> bool:
        """Show the current record; True when it left the queue (voted elsewhere): fetch again."""
        record_id = self.current_id
        if record_id is None:
            self.card = None
            self.query_one("#heading", Static).update(Text("Queue done", "bold green"))
            self.query_one("#card", Static).update(
                f"You have voted on every reference at {STAGE_LABELS[self.stage]}. "
                "Press b to look back, / to search, u to undo, q to quit."
            )
            self._show_status()
            return False
        card, self.prefetched = self.prefetched, None
        # A prefetched card is used only when it shows nothing but the citation: anything newer
        # (a vote, a decision) comes from a fresh read, so prefetching can never loosen blinding.
        if card is None or card.record_id != record_id or card.my_vote or card.other_votes:
            try:
                with self.review.reading() as session:
                    card = record_card(
                        session, actor=self.actor, record_id=record_id, stage=self.stage
                    )
                    self._read_tiab_vote(session, record_id)
            except ReviewtoolError as exc:
                self.notify(str(exc), severity="error", timeout=8)
                return False
        if self.detached is None and card.my_vote is not None:
            # Voted on in another window or from the CLI since the queue was read: it leaves the
            # queue (as it would have here), and the reviewer is told, with the vote.
            del self.queue[self.position]
            if self.position >= len(self.queue):
                self.position = 0
            self.history.append(record_id)
            self.mine += 1
            self.notify(
                Text.assemble(
                    f"Record {record_id} has your vote from elsewhere (another window or the "
                    "CLI): ",
                    vote_text(card.my_vote, label="your vote"),
                    ". It left your queue; b shows it.",
                ).markup,
                title="Voted elsewhere",
                severity="warning",
                timeout=12,
            )
            return True
        if self.changed_elsewhere and self.changed_elsewhere[0] != card.record_id:
            self.changed_elsewhere = None  # the reviewer has moved on
        self.card = card
        self._render_card()
        self.call_after_refresh(self._prefetch)
        return False

    def _prefetch(self) -> None:
        """Read the queue's next card while the reviewer reads this one, off the key press path."""
        if self.detached is not None or len(self.queue) < 2 or self.refused:
            return
        record_id = self.queue[(self.position + 1) % len(self.queue)]
        try:
            with self.review.reading() as session:
                self.prefetched = record_card(
                    session, actor=self.actor, record_id=record_id, stage=self.stage
                )
                self._read_tiab_vote(session, record_id)
        except ReviewtoolError:
            self.prefetched = None  # shown (with its error) when the reviewer gets there

    def _read_tiab_vote(self, session: Any, record_id: int) -> None:
        """At full text, keep the reviewer's own title/abstract vote (and its note) to show again."""
        if self.stage == "fulltext" and record_id not in self.tiab_votes:
            self.tiab_votes[record_id] = my_vote(
                session, actor=self.actor, record_id=record_id, stage="tiab"
            )

    def _render_card(self) -> None:
        card = self.card
        if card is None:
            return
        heading = Text()
        heading.append(f"Record {card.record_id}", style="bold")
        if self.detached is None:
            heading.append(f" · {self.position + 1} of {len(self.queue)} in your queue")
        else:
            if self.changed_elsewhere and self.changed_elsewhere[0] == card.record_id:
                heading.append(" · changed elsewhere", style="bold yellow")
            else:
                heading.append(" · looking back" if card.my_vote else " · found by search")
        if card.my_vote is not None:
            heading.append(" · ")
            heading.append_text(vote_text(card.my_vote, label="your vote"))
        self.query_one("#heading", Static).update(heading)

        body = Text()
        if self.stage == "fulltext":
            body.append_text(self._fulltext_line(card))
            body.append("\n")
            earlier = self.tiab_votes.get(card.record_id)
            if earlier is not None:
                # The reviewer's own note from title/abstract, shown again where it is needed.
                body.append_text(vote_text(earlier, label="Your title/abstract vote"))
                body.append("\n")
        if card.other_votes:
            body.append("Other votes: ", style="bold")
            body.append_text(Text(" · ").join(vote_text(v) for v in card.other_votes))
            body.append("\n")
        if self.changed_elsewhere and self.changed_elsewhere[0] == card.record_id:
            body.append_text(self._changed_elsewhere_text(card, self.changed_elsewhere[1]))
        if self.pending_note and self.pending_note[0] == card.record_id:
            body.append(f"Note for your vote: {self.pending_note[1]}\n", style="italic yellow")
        if body:
            body.append("\n")
        body.append_text(citation_text(card.fields, self.include_words, self.exclude_words))
        self.query_one("#card", Static).update(body)
        self.query_one("#record", VerticalScroll).scroll_home(animate=False)
        self._show_status()

    @staticmethod
    def _fulltext_line(card: RecordCard) -> Text:
        """Where the report this card votes on is (full text: each report has its own votes),
        which report it is, and the reference's other reports when it has several."""
        report = card.fulltext or {}
        status = report.get("status")
        if status == "retrieved":
            out = Text.assemble(("Full text: ", "bold"), (str(report.get("location")), "cyan"))
        elif status == "not_retrieved":
            out = Text("Full text: not retrieved", "bold red")
        elif status == "sought":
            out = Text(
                "Full text: sought, no file or URL yet (reviewtool screen fulltext RECORD --file …)",
                "yellow",
            )
        else:
            out = Text(
                "Full text: none attached (reviewtool screen fulltext RECORD --file …)", "red"
            )
        if card.report_id is not None:
            out.append(f"\nReport {card.report_id}: {report.get('kind')}", style="bold")
        others = [r for r in card.reports if r["id"] != card.report_id]
        if others:
            out.append(" · other reports, each voted on by itself: ")
            out.append(
                " · ".join(
                    f"{r['id']} ({r['kind']}, {r['status'].replace('_', ' ')})" for r in others
                )
            )
        return out

    @staticmethod
    def _changed_elsewhere_text(card: RecordCard, shown: VoteView | None) -> Text:
        out = Text("Your vote changed elsewhere (another window or the CLI). ", "bold yellow")
        out.append("Now: ")
        out.append_text(
            vote_text(card.my_vote, label="your vote") if card.my_vote else Text("no vote")
        )
        out.append(" · this screen showed: ")
        out.append_text(vote_text(shown, label="your vote") if shown else Text("no vote"))
        out.append("\nNothing was replaced. Vote again to change it.\n")
        return out

    def _show_status(self) -> None:
        self.query_one("#status-title", Static).update(
            f" {self.actor} · {STAGE_LABELS.get(self.stage, self.stage)} · {self.title_text}"
        )
        self.query_one("#status-counts", Static).update(progress_text(self.mine, self.total))
        self._show_queue_status()

    def _criteria_text(self) -> Text:
        out = Text()
        out.append("Eligibility criteria\n", style="bold underline")
        out.append((self.question or "(no criteria set: `reviewtool init --question`)") + "\n\n")
        out.append(f"Exclusion reasons ({STAGE_LABELS[self.stage]})\n", style="bold underline")
        for n, reason in enumerate(self.reasons, start=1):
            out.append(f"{n} {reason}\n")
        if self.include_words or self.exclude_words:
            from reviewtool.tui.widgets.citation import EXCLUDE_STYLE, INCLUDE_STYLE

            out.append("\nHighlighted\n", style="bold underline")
            for words, style in (
                (self.include_words, INCLUDE_STYLE),
                (self.exclude_words, EXCLUDE_STYLE),
            ):
                for word in words:
                    out.append(word, style=style)
                    out.append(" ")
                out.append("\n")
        return out

    # ---- voting ------------------------------------------------------------------------------

    def _vote(self, decision: str, reason: str | None = None) -> None:
        card = self.card
        if card is None or self.refused:
            return
        note: str | None = None
        if self.pending_note and self.pending_note[0] == card.record_id:
            note = self.pending_note[1]
        elif card.my_vote is not None:
            note = card.my_vote.note
        stamp = self._stamp()
        if not self._write(
            lambda s: record_decision(
                s,
                actor=self.actor,
                record_id=card.record_id,
                stage=self.stage,
                decision=decision,
                reason=reason,
                note=note,
                expected=card.my_vote,
                report=card.report_id,
                stamp=stamp,
            )
        ):
            return
        self._after_vote(card.my_vote is None)
        self.pending_note = None
        self.changed_elsewhere = None
        if self._next_report(card):
            return
        if card.my_vote is None:
            self.mine += 1
        self._leave(card.record_id, voted=True)

    def _next_report(self, card: RecordCard) -> bool:
        """At full text, after a vote on one report of a reference with several: show the next
        report the reviewer has not voted on (True), or False when there is none."""
        if self.stage != "fulltext" or len(card.reports) < 2:
            return False
        try:
            with self.review.reading() as session:
                following = record_card(
                    session, actor=self.actor, record_id=card.record_id, stage=self.stage
                )
        except ReviewtoolError:
            return False
        if following.my_vote is not None or following.report_id == card.report_id:
            return False
        self.prefetched = None
        self.card = following
        self._render_card()
        return True

    def _refresh_progress(self) -> None:
        try:
            with self.review.reading() as session:
                progress = screening_progress(session, actor=self.actor, stage=self.stage)
        except ReviewtoolError:
            return
        self.total, self.mine = progress.total, progress.mine
        self._show_status()

    def _write(self, work: Callable[[Any], object]) -> bool:
        """Run ``work`` in its own committed transaction; show a refusal instead of failing."""
        try:
            with self.review.transaction() as session:
                work(session)
        except VoteChangedElsewhere as exc:
            self._vote_changed_elsewhere(exc)
            return False
        except ReviewtoolError as exc:
            self.notify(str(exc), severity="error", timeout=8)
            return False
        return True

    def _vote_changed_elsewhere(self, exc: VoteChangedElsewhere) -> None:
        """A vote key met a vote cast or changed elsewhere since this screen read it: nothing was
        written. Show the vote in force on this record, say what this screen had shown, and let
        the reviewer decide (a vote key now replaces it knowingly)."""
        shown = self.card.my_vote if self.card and self.card.record_id == exc.record_id else None
        self.changed_elsewhere = (exc.record_id, shown)
        now = (
            vote_text(exc.current, label="your vote").markup
            if exc.current
            else "no vote (taken back)"
        )
        self.notify(
            f"Record {exc.record_id}: your vote changed elsewhere (another window or the CLI); "
            f"now {now}. Nothing was replaced: vote again to change it.",
            title="Vote changed elsewhere",
            severity="warning",
            timeout=20,
        )
        in_queue = exc.record_id in self.queue
        if exc.current is not None and in_queue:
            index = self.queue.index(exc.record_id)
            del self.queue[index]
            if index < self.position:
                self.position -= 1
            if self.position >= len(self.queue):
                self.position = 0
        elif exc.current is None and not in_queue:
            self.queue.insert(self.position, exc.record_id)
        self.detached = exc.record_id if exc.current is not None else None
        if exc.current is None:
            self.position = self.queue.index(exc.record_id)
        self.prefetched = None
        self._show()
        self._refresh_progress()

    def _leave(self, record_id: int, *, voted: bool) -> None:
        """Move on from ``record_id``: to the queue's next record (or back into the queue)."""
        self.history.append(record_id)
        if self.detached is not None:
            self.detached = None
            if voted and record_id in self.queue:
                # Found by search or undo, still unvoted: it leaves the queue now.
                index = self.queue.index(record_id)
                del self.queue[index]
                if index < self.position:
                    self.position -= 1
        elif voted and self.queue:
            del self.queue[self.position]
        elif self.queue:
            self.position += 1
        if self.position >= len(self.queue):
            self.position = 0
        self._show()

    def action_include(self) -> None:
        """Include the reference on screen."""
        self._vote("include")

    def action_maybe(self) -> None:
        """Vote maybe on the reference on screen."""
        self._vote("maybe")

    def action_exclude(self) -> None:
        """Ask for the exclusion reason by number, then exclude."""
        if self.card is None or self.refused:
            return
        options, first = list(self.reasons), 1
        if not self.reason_required:
            options, first = ["no reason", *options], 0

        def chosen(index: int | None) -> None:
            if index is None:
                return
            reason = options[index] if self.reason_required or index else None
            self._vote("exclude", reason)

        ask(
            self.app,
            ChoiceScreen(
                f"Exclude record {self.card.record_id}: why?", options, first_number=first
            ),
            chosen,
        )

    def action_note(self) -> None:
        """Write a note for this reference (saved with the vote; at once if you voted already)."""
        card = self.card
        if card is None or self.refused:
            return
        current = ""
        if self.pending_note and self.pending_note[0] == card.record_id:
            current = self.pending_note[1]
        elif card.my_vote is not None:
            current = card.my_vote.note or ""

        def written(text: str | None) -> None:
            if text is None:
                return
            vote = card.my_vote
            if vote is None:
                self.pending_note = (card.record_id, text.strip())
                self.notify("The note will be saved with your vote on this reference.")
                self._render_card()
                return
            if self._write(
                lambda s: record_decision(
                    s,
                    actor=self.actor,
                    record_id=card.record_id,
                    stage=self.stage,
                    decision=vote.decision,
                    reason=vote.reason,
                    note=text,
                    expected=vote,
                )
            ):
                self.notify("Note saved with your vote.")
                self._show()

        ask(self.app, PromptScreen(f"Note on record {card.record_id}", value=current), written)

    def action_undo(self) -> None:
        """Take back the last vote; its reference comes back on screen."""
        if self.refused:
            return
        undone: list[int | None] = []
        if not self._write(
            lambda s: undone.append(undo_last(s, actor=self.actor, stage=self.stage))
        ):
            return
        record_id = undone[0]
        if record_id is None:
            self.notify("Nothing to undo.")
            return
        if self.current_id is not None and self.current_id != record_id:
            self.history.append(self.current_id)
        self.detached = record_id
        self._show()
        if self.card is not None and self.card.record_id == record_id and self.card.my_vote is None:
            # The first vote on it was taken back: it is unvoted again, so back into the queue here.
            self.mine -= 1
            self.detached = None
            if record_id not in self.queue:
                self.queue.insert(self.position, record_id)
            else:
                self.position = self.queue.index(record_id)
            self._render_card()
        self.notify(f"Undid your last vote, on record {record_id}.")
        # Rare enough to afford a full recount (an undo can un-decide a reference).
        self.call_after_refresh(self._refresh_progress)

    def action_skip(self) -> None:
        """Leave the reference unvoted in the queue and show the next one."""
        record_id = self.current_id
        if record_id is not None and not self.refused:
            self._leave(record_id, voted=False)

    def action_back(self) -> None:
        """Show the reference seen before this one."""
        if not self.history:
            self.notify("Nothing before this one.")
            return
        self.detached = self.history.pop()
        self._show()

    def action_search(self) -> None:
        """Find a reference by record id or by words in its title or abstract."""
        if self.refused:
            return

        def asked(text: str | None) -> None:
            text = (text or "").strip()
            if not text:
                return
            if text.isdigit():
                self._open(int(text))
                return
            with self.review.reading() as session:
                # Every hit's id (cheap), so the picker can say how many matched in all.
                hits = search_references(
                    session, actor=self.actor, stage=self.stage, text=text, limit=sys.maxsize
                )
            if not hits:
                self.notify(f"No reference has all of: {text}", severity="warning")
            elif len(hits) == 1:
                self._open(hits[0])
            else:
                self._pick(hits, text)

        ask(
            self.app,
            PromptScreen("Search", placeholder="record id, or words in title/abstract"),
            asked,
        )

    def _pick(self, hits: list[int], text: str) -> None:
        """A picker of the first SEARCH_LIMIT hits: whole titles (wrapped, never cut), and the
        reviewer's own vote on those voted already (only their own: blinding)."""
        shown = hits[:SEARCH_LIMIT]
        labels: list[str | Text] = []
        with self.review.reading() as session:
            for record_id in shown:
                card = record_card(session, actor=self.actor, record_id=record_id, stage=self.stage)
                label = Text(f"#{record_id} ", style="bold")
                label.append(card.fields["title"] or "(no title)")
                if card.my_vote is not None:
                    label.append("  ✓ ", style="bold green")
                    label.append_text(vote_text(card.my_vote, label="your vote"))
                labels.append(label)

        def chosen(index: int | None) -> None:
            if index is not None:
                self._open(shown[index])

        title = (
            f"{counted(len(hits), 'reference')} {'has' if len(hits) == 1 else 'have'} "
            f"all of: {text}"
        )
        if len(hits) > len(shown):
            title += f" (the first {len(shown)} by record id; add words to narrow)"
        ask(self.app, ChoiceScreen(title, labels), chosen)

    def _open(self, record_id: int) -> None:
        previous, detached = self.current_id, self.detached
        self.detached = record_id
        self._show()
        if self.card is None or self.card.record_id != record_id:
            self.detached = detached  # the service refused it (unknown, a duplicate, ...)
            return
        if previous is not None and previous != record_id:
            self.history.append(previous)

    def action_criteria(self) -> None:
        """Show or hide the eligibility criteria beside the record."""
        panel = self.query_one("#criteria")
        panel.display = not panel.display

    def action_duplicate(self) -> None:
        """Flag the reference on screen as a duplicate of another record (for dedup review)."""
        card = self.card
        if card is None or self.refused:
            return

        def asked(text: str | None) -> None:
            other, _, note = (text or "").strip().partition(" ")
            if not other:
                return
            if not other.isdigit():
                self.notify(f"{other!r} is not a record id", severity="error")
                return
            pair: list[int] = []
            if self._write(
                lambda s: pair.append(
                    flag_duplicate(
                        s,
                        actor=self.actor,
                        record_a=card.record_id,
                        record_b=int(other),
                        note=note.strip() or None,
                    )
                )
            ):
                self.notify(
                    f"Records {card.record_id} and {other} queued for dedup review (pair {pair[0]})."
                )

        ask(
            self.app,
            PromptScreen(
                f"Record {card.record_id} duplicates record…",
                placeholder="record id, then an optional note",
            ),
            asked,
        )

    def action_fulltext(self) -> None:
        """Open the full text with the system's opener (a PDF viewer, the browser), or say where
        it is when there is none (e.g. over SSH); the location is copied either way."""
        card = self.card
        if card is None:
            return
        report = card.fulltext or {}
        if report.get("status") == "retrieved" and report.get("location"):
            opening = open_location(str(report["location"]), self.app_base)
            self.app.copy_to_clipboard(opening.target)
            self.notify(
                opening.message,
                title="Full text" + ("" if opening.opened else " (location copied)"),
                severity="information" if opening.opened else "warning",
                timeout=8 if opening.opened else 20,
                markup=False,
            )
        elif report.get("status") == "not_retrieved":
            self.notify("The full text was marked not retrieved.", severity="warning")
        elif self.stage != "fulltext":
            self.notify(
                "Full texts are opened at the full-text stage: reviewtool screen --stage fulltext.",
                severity="warning",
            )
        else:
            self.notify(
                f"No full text attached; `reviewtool screen fulltext {card.record_id} --file PATH`.",
                severity="warning",
            )

    @property
    def app_base(self) -> Path | None:
        """The review's folder (relative full-text paths are looked for there too)."""
        url = str(getattr(self.app, "url", ""))
        if url.startswith("sqlite:///"):
            return Path(url.removeprefix("sqlite:///")).parent
        return None

    def action_help(self) -> None:
        """List every key in effect."""
        rows = [
            (
                ", ".join(
                    self.app.get_key_display(Binding(k, "")) for k in self.keys[name].split(",")
                ),
                action.help,
            )
            for name, action in ACTIONS.items()
        ]
        rows.append(("↑ ↓ PgUp PgDn", "Scroll the abstract"))
        ask(
            self.app,
            HelpScreen(
                "Screening keys",
                rows,
                "In the reason picker: the reason's number. Keys can be changed in keys.toml. "
                "Esc, q or ? closes this help.",
            ),
        )

    def action_quit(self) -> None:
        """Leave; every vote was committed when it was cast."""
        self.app.exit()


class ScreeningApp(OrderedKeysApp):
    """The screening app for one reviewer at one stage."""

    TITLE = "reviewtool · screening"
    # The palette's ctrl+p entry would crowd the footer; the help screen lists every key instead.
    ENABLE_COMMAND_PALETTE = False
    CSS_PATH = "screening.tcss"

    def __init__(self, url: str, actor: str, stage: str, keymap_path: Path | None = None) -> None:
        # Bad keys and a missing review are reported before the terminal is taken over, so the
        # CLI can print its one line.
        self.keys = load_keymap(keymap_path or default_keymap_path())
        parse_stage(stage)
        super().__init__()
        self.url = url
        self.actor = actor
        self.stage = stage
        self.set_keymap({name: value for name, value in self.keys.items()})
        self.review: Review = open_existing(url)

    @property
    def screening(self) -> ScreeningScreen:
        """The screening screen (under any open dialog)."""
        return self.get_screen("screening")  # type: ignore[return-value]

    def on_mount(self) -> None:
        self.install_screen(
            ScreeningScreen(self.review, self.actor, self.stage, self.keys), "screening"
        )
        self.push_screen("screening")

    def on_unmount(self) -> None:
        self.review.close()
