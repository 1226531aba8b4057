"""The audit ledger: append events in the caller's transaction, list them, verify the chain.

Each event's ``hash`` is sha256 over the previous event's hash and a canonical JSON array of the
event's own fields. Editing, deleting or reordering any row breaks the chain from that row on;
``audit_head`` (written with every event) catches events cut off the end; replaying the events'
``after`` snapshots against the tables catches state changed without an event.

``verify`` streams: events and table rows are read as column tuples in chunks, never as ORM objects
all at once, and the replayed state keeps a 16-byte digest (plus the event number) per entity, not
the snapshot itself. ``verify(since_checkpoint=True)`` checks only what the newest ``audit_checkpoint``
does not already vouch for.
"""

from __future__ import annotations

import hashlib
import json
import json.encoder
import secrets
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlmodel import Session, col, select

from reviewtool.audit.events import EVENT_TYPES, Event
from reviewtool.errors import InvalidInput, UnknownMember
from reviewtool.storage import snapshots
from reviewtool.storage.models import AuditCheckpoint, AuditEvent, AuditHead, Member
from reviewtool.storage.snapshots import (
    HistoryRead,
    StateReader,
    declare_checked,
    declare_unchecked,
    load_state_readers,
)

GENESIS = "0" * 64


_CANONICAL = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)


# The C encoder ``json.dumps`` builds on every call, built once (``canonical_json`` is called for
# every event and every row by ``verify``); same output, a test compares the two.
_MAKE_ENCODER = getattr(json.encoder, "c_make_encoder", None)
_C_ENCODER = (
    _MAKE_ENCODER(
        None,
        _CANONICAL.default,
        json.encoder.encode_basestring,
        None,
        ":",
        ",",
        True,
        False,
        False,
    )
    if _MAKE_ENCODER is not None
    else None
)
_quote = json.encoder.encode_basestring  # a str as JSON text, ensure_ascii=False (C when present)


def canonical_json(value: Any) -> str:
    """One fixed text for a JSON value: sorted keys, no spaces, no NaN (ValueError)."""
    if _C_ENCODER is None or isinstance(value, str):
        return _CANONICAL.encode(value)
    return "".join(_C_ENCODER(value, 0))


def utc_now() -> str:
    """The current UTC time as ISO-8601 with microseconds and a ``Z``."""
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


SALT_BYTES = 16
"""Random bytes per event's salt (issue 14, section 3: the hash oracle)."""


def new_salt() -> str:
    """A fresh salt for one event: 128 random bits as 32 hexadecimal digits (``secrets``)."""
    return secrets.token_hex(SALT_BYTES)


def event_hash(
    prev_hash: str,
    *,
    seq: int,
    occurred_at: str,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: str,
    payload: str,
    salt: str | None,
) -> str:
    """The chained hash of one event: 64 hexadecimal digits.

    sha256 over ``prev_hash`` followed by the canonical JSON array ``[seq, occurred_at, actor,
    action, entity_type, entity_id, payload, salt]`` (``payload`` is the stored canonical JSON text;
    ``salt`` the event's random salt, ``new_salt``). An event without a salt (None: written before
    schema 0019) is hashed as it was then, over the first seven only. This is the one place the
    hashed material is defined: ``record``, ``record_many`` and ``verify`` all call it. ``salt``
    has no default: a new way of writing events must draw one (``new_salt``) and store it in the
    row, or say None on purpose.

    The salt is there so that a hash someone may read (on PostgreSQL a reviewer's login reads the
    ``prev_hash`` of the events it may see) cannot be matched against guessed payloads of an event
    hidden from them (a vote has about 27 likely payloads): without the salt's 128 bits, which are
    hidden with the event, no guess can be checked.
    """
    q = _quote
    try:
        # canonical_json([...]), spelled out: the same text without building a list (verify
        # hashes every event; test_audit compares the two)
        material = (
            f"[{seq:d},{q(occurred_at)},{q(actor)},{q(action)},{q(entity_type)},"
            f"{q(entity_id)},{q(payload)}" + ("]" if salt is None else f",{q(salt)}]")
        )
    except (TypeError, ValueError):  # a value of another type (written with SQL)
        fields: list[Any] = [seq, occurred_at, actor, action, entity_type, entity_id, payload]
        material = canonical_json(fields if salt is None else [*fields, salt])
    return hashlib.sha256((prev_hash + material).encode("utf-8")).hexdigest()


def record(session: Session, actor: str, event: Event) -> AuditEvent:
    """Append ``event`` by ``actor`` to the ledger, inside the caller's transaction."""
    if EVENT_TYPES.get(event.name) is not type(event):
        raise TypeError(f"unknown audit event type {type(event).__name__}")
    # Locks the head row on PostgreSQL; on SQLite the write transaction (BEGIN IMMEDIATE) already
    # serialises writers. Either way two processes cannot take the same sequence number.
    head = session.exec(select(AuditHead).where(AuditHead.id == 1).with_for_update()).first()
    seq, prev = (1, GENESIS) if head is None else (head.seq + 1, head.hash)
    row = AuditEvent(**_chained(event, seq=seq, prev=prev, actor=actor))
    session.add(row)
    if head is None:
        session.add(AuditHead(id=1, seq=seq, hash=row.hash))
    else:
        head.seq, head.hash = seq, row.hash
        session.add(head)
    session.flush()
    return row


def _chained(event: Event, *, seq: int, prev: str, actor: str) -> dict[str, Any]:
    """The ``audit_event`` row of ``event`` as number ``seq`` after the event whose hash is ``prev``."""
    occurred_at = utc_now()
    payload = canonical_json(event.payload())
    salt = new_salt()
    digest = event_hash(
        prev,
        seq=seq,
        occurred_at=occurred_at,
        actor=actor,
        action=event.name,
        entity_type=event.entity_type,
        entity_id=event.entity_id,
        payload=payload,
        salt=salt,
    )
    return {
        "seq": seq,
        "occurred_at": occurred_at,
        "actor": actor,
        "action": event.name,
        "entity_type": event.entity_type,
        "entity_id": event.entity_id,
        "payload": payload,
        "prev_hash": prev,
        "hash": digest,
        "salt": salt,
    }


def record_many(session: Session, actor: str, events: Sequence[Event]) -> int:
    """Append ``events`` by ``actor`` in order, inside the caller's transaction; returns how many.

    Writes exactly the rows that one ``record`` call per event would (same numbers, chain and
    head), with one bulk INSERT: a bulk import of tens of thousands of votes pays one round trip,
    not one per event.
    """
    for event in events:
        if EVENT_TYPES.get(event.name) is not type(event):
            raise TypeError(f"unknown audit event type {type(event).__name__}")
    if not events:
        return 0
    head = session.exec(select(AuditHead).where(AuditHead.id == 1).with_for_update()).first()
    seq, prev = (0, GENESIS) if head is None else (head.seq, head.hash)
    rows: list[dict[str, Any]] = []
    for event in events:
        seq += 1
        row = _chained(event, seq=seq, prev=prev, actor=actor)
        rows.append(row)
        prev = row["hash"]
    table: Any = AuditEvent.__table__  # type: ignore[attr-defined]
    session.execute(table.insert(), rows)
    if head is None:
        session.add(AuditHead(id=1, seq=seq, hash=prev))
    else:
        head.seq, head.hash = seq, prev
        session.add(head)
    session.flush()
    return len(rows)


@dataclass(frozen=True)
class EventView:
    """One ledger entry as listings show it.

    ``seq`` and ``hash`` are None in a view for someone at a blind stage (``access.visible_events``):
    the ledger's numbering counts every member's events, so it would count the hidden votes.
    ``salt`` (hashed with the event; None in events written before schema 0019) is shown exactly
    where ``hash`` is, and is None with it.
    """

    seq: int | None
    occurred_at: str
    actor: str
    action: str
    entity_type: str
    entity_id: str
    payload: dict[str, Any]
    hash: str | None
    salt: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "seq": self.seq,
            "occurred_at": self.occurred_at,
            "actor": self.actor,
            "action": self.action,
            "entity_type": self.entity_type,
            "entity_id": self.entity_id,
            "payload": self.payload,
            "hash": self.hash,
            "salt": self.salt,
        }


def list_events(
    session: Session,
    *,
    actor: str | None = None,
    action: str | None = None,
    entity_type: str | None = None,
    entity_id: str | None = None,
    since: str | None = None,
    until: str | None = None,
    limit: int | None = None,
) -> list[EventView]:
    """Events matching every filter given, oldest first (the newest ``limit`` when limited).

    ``since``/``until`` compare with ``occurred_at`` as ISO-8601 text, so a date alone works too.
    """
    query = select(AuditEvent)
    if actor is not None:
        query = query.where(AuditEvent.actor == actor)
    if action is not None:
        query = query.where(AuditEvent.action == action)
    if entity_type is not None:
        query = query.where(AuditEvent.entity_type == entity_type)
    if entity_id is not None:
        query = query.where(AuditEvent.entity_id == entity_id)
    if since is not None:
        query = query.where(AuditEvent.occurred_at >= since)
    if until is not None:
        query = query.where(AuditEvent.occurred_at <= until)
    if limit is not None:
        query = query.order_by(col(AuditEvent.seq).desc()).limit(limit)
        rows = list(reversed(session.exec(query).all()))
    else:
        rows = list(session.exec(query.order_by(col(AuditEvent.seq))).all())
    return [
        EventView(
            seq=r.seq,
            occurred_at=r.occurred_at,
            actor=r.actor,
            action=r.action,
            entity_type=r.entity_type,
            entity_id=r.entity_id,
            payload=json.loads(r.payload),
            hash=r.hash,
            salt=r.salt,
        )
        for r in rows
    ]


@dataclass(frozen=True)
class Problem:
    """One problem ``verify`` found, in two wordings.

    :ivar text: the full message (event numbers, values as the tables and the ledger hold them).
    :ivar plain: the same without event numbers, values or names (what a viewer at a blind stage
        may read when they may see the entity; docs/blinding.md).
    :ivar subject: (entity type, entity id) of a state problem; None for a problem of the chain.
    """

    text: str
    plain: str
    subject: tuple[str, str] | None = None


@dataclass
class VerifyReport:
    """The outcome of ``verify``: ok, or the problems with the first bad event named first.

    :ivar events: how many events were checked (all of them, or those after the checkpoint).
    :ivar head_hash: the hash of the newest event checked (the ledger's head when it verifies).
    :ivar last_seq: the number of the newest event checked (0 for an empty ledger).
    :ivar since_seq: None for a full verify; else the checkpoint's event number it started after.
    :ivar since_verified_at: when that checkpoint was written (incremental verify only).
    """

    events: int = 0
    head_hash: str = GENESIS
    first_bad_seq: int | None = None
    problems: list[str] = field(default_factory=list)
    details: list[Problem] = field(default_factory=list)
    last_seq: int = 0
    since_seq: int | None = None
    since_verified_at: str | None = None

    @property
    def ok(self) -> bool:
        """True when the chain and the current state both verify."""
        return not self.problems

    @property
    def full(self) -> bool:
        """True when every event and every table was checked."""
        return self.since_seq is None

    def _fail(
        self,
        seq: int | None,
        message: str,
        *,
        plain: str | None = None,
        subject: tuple[str, str] | None = None,
    ) -> None:
        if seq is not None and self.first_bad_seq is None:
            self.first_bad_seq = seq
        self.problems.append(message)
        self.details.append(Problem(message, plain or message, subject))


_DECODER = json.JSONDecoder()
_GONE = b"\x00" * 16  # the digest kept for an entity whose last event says it is gone (None)


def _digest(snapshot: Any) -> bytes:
    """16 bytes standing for one snapshot (blake2b of its canonical JSON)."""
    return _text_digest(canonical_json(snapshot))


def _fold(chain: bytes, digest: bytes) -> bytes:
    """The running digest of a sequence of snapshot digests, one more appended."""
    return hashlib.blake2b(chain + digest, digest_size=16).digest()


def _text_digest(canonical: str) -> bytes:
    return hashlib.blake2b(canonical.encode("utf-8"), digest_size=16).digest()


class _Replay:
    """The state the ledger says each entity is in: ``{type: {id: digest + event number}}``."""

    def __init__(self, kinds: Mapping[str, StateReader], *, history: bool) -> None:
        self.state: dict[str, dict[str, bytes]] = {kind: {} for kind in kinds}
        # Kinds whose every snapshot is a row of its own (a vote) also keep, after the digest and
        # the event number, a running digest of all their snapshots in order (full verify only).
        self.history: set[str] = (
            {kind for kind, reader in kinds.items() if reader.history is not None}
            if history
            else set()
        )
        # Kinds whose table names who made the last change: {id: (actor, event number)}.
        self.actors: dict[str, dict[str, tuple[str, int]]] = {
            kind: {} for kind, reader in kinds.items() if reader.who is not None
        }
        # ... of which those whose changes in another event's ``state`` are made by its actor.
        self.actors_in_state = {kind for kind in self.actors if kinds[kind].who_in_state}

    def actor(self, seq: int, actor: str, entity_type: str, entity_id: str) -> None:
        """Note who wrote the event about ``entity_type`` ``entity_id`` (kinds with ``who``)."""
        actors = self.actors.get(entity_type)
        if actors is not None:
            actors[entity_id] = (actor, seq)

    def _set(self, kind: str, entity_id: str, digest: bytes, tag: bytes) -> None:
        replayed = self.state[kind]
        if kind not in self.history:
            replayed[entity_id] = digest + tag
            return
        old = replayed.get(entity_id)
        chain = b"" if old is None else old[24:]
        if digest != _GONE:
            chain = _fold(chain, digest)
        replayed[entity_id] = digest + tag + chain

    def event(
        self, seq: int, entity_type: str, entity_id: str, payload_text: str, actor: str = ""
    ) -> bool:
        """Take in one event's snapshots (written by ``actor``); False when its payload is not a
        JSON object."""
        if not isinstance(payload_text, str) or not isinstance(entity_id, str):
            return isinstance(payload_text, str)  # (values of another type written with SQL)
        has_after = entity_type in self.state and '"after":' in payload_text
        has_state = '"state":{"' in payload_text
        if not has_after and not has_state:
            return True  # nothing to replay: skip parsing
        if has_after and not has_state and payload_text.startswith('{"after":'):
            # The usual one-entity event: canonical JSON puts "after" first, so its text is the
            # snapshot's canonical JSON; only that value is parsed (to find where it ends). A
            # payload not written canonically digests differently and is re-read before any
            # mismatch is reported.
            try:
                after, end = _DECODER.raw_decode(payload_text, 9)
            except ValueError:
                return False
            if payload_text[end] not in ",}":
                return False
            digest = _GONE if after is None else _text_digest(payload_text[9:end])
            self._set(entity_type, entity_id, digest, seq.to_bytes(8, "big"))
            return True
        try:
            payload = json.loads(payload_text)
        except ValueError:
            return False
        if not isinstance(payload, dict):
            return True
        tag = seq.to_bytes(8, "big")
        if has_after and "after" in payload:
            after = payload["after"]
            self._set(entity_type, entity_id, _GONE if after is None else _digest(after), tag)
        # Bulk events (a dedup run touches hundreds of records) list their changes by entity.
        changes_by_kind = payload.get("state") or {}
        if isinstance(changes_by_kind, dict):
            for kind, changes in changes_by_kind.items():
                if kind not in self.state or not isinstance(changes, dict):
                    continue
                for changed_id, snapshot in changes.items():
                    if kind in self.actors_in_state and snapshot is not None:
                        self.actors[kind][changed_id] = (actor, seq)
                    elif kind in self.actors:  # changed by another entity's event: who is unknown
                        self.actors[kind].pop(changed_id, None)
                    self._set(
                        kind, changed_id, _GONE if snapshot is None else _digest(snapshot), tag
                    )
        return True


def _said_by_event(session: Session, seq: int, kind: str, entity_id: str) -> Any:
    """The snapshot of ``kind`` ``entity_id`` that event ``seq`` holds (for a problem message)."""
    row = session.exec(
        select(AuditEvent.entity_type, AuditEvent.payload).where(AuditEvent.seq == seq)
    ).first()
    if row is None:
        return None
    payload = json.loads(row[1])
    state = (payload.get("state") or {}).get(kind) or {}
    if entity_id in state:
        return state[entity_id]
    return payload.get("after")


_Mismatch = tuple[str, Any, int | None]  # (entity id, what the tables hold, the event's number)


def _match(
    session: Session,
    kind: str,
    expected: dict[str, bytes],
    entity_id: str,
    have: Any,
    digest: bytes,
    mismatched: list[_Mismatch],
) -> None:
    """Compare one entity as the tables hold it with the replay (and take it off the replay)."""
    want = expected.pop(entity_id, None)
    if want is not None and want[:16] == digest:
        return
    seq = None if want is None else int.from_bytes(want[16:24], "big")
    if want is not None and want[:16] != _GONE:
        said = _said_by_event(session, seq or 0, kind, entity_id)
        if said == have:  # equal values written differently (1 and 1.0): not a change
            return
    mismatched.append((entity_id, have, seq))


def _read_with_history(
    session: Session,
    kind: str,
    read: HistoryRead,
    expected: dict[str, bytes],
    mismatched: list[_Mismatch],
) -> list[str]:
    """One pass over every row of a history kind: each entity's rows in order against the
    replay's running digest, and its current row (if any) against the replay's last snapshot.
    Returns the ids whose rows differ from what the ledger recorded."""
    bad: list[str] = []
    current: str | None = None
    chain = b""
    live: tuple[Any, bytes] | None = None

    def finish() -> None:
        if current is None:
            return
        want = expected.get(current)
        if want is None or want[24:] != chain:
            bad.append(current)
        if live is not None:
            _match(session, kind, expected, current, live[0], live[1], mismatched)
        elif want is not None:
            expected[current] = want[:24]  # rows seen; the state check below sees it is gone

    for entity_id, snapshot, is_live in read(session, None):
        if entity_id != current:
            finish()
            current, chain, live = entity_id, b"", None
        digest = _digest(snapshot)
        chain = _fold(chain, digest)
        if is_live:
            live = (snapshot, digest)
    finish()
    return bad + [entity_id for entity_id, want in expected.items() if len(want) > 24]


def _compare_state(
    session: Session,
    report: VerifyReport,
    readers: Mapping[str, StateReader],
    replay: _Replay,
    *,
    only_touched: bool,
) -> None:
    """Compare each entity the tables hold now with the ledger's last word on it (and, in a full
    verify, every row of a history kind with every snapshot the ledger holds, in order)."""
    history_problems: list[tuple[str, str, str]] = []
    for kind, reader in readers.items():
        expected = replay.state[kind]
        if only_touched and not expected:
            continue
        mismatched: list[_Mismatch] = []
        if kind in replay.history and reader.history is not None:
            bad = _read_with_history(session, kind, reader.history, expected, mismatched)
            history_problems += [
                (
                    kind,
                    entity_id,
                    f"{kind} {entity_id}: the rows kept over time (superseded ones included) are "
                    "not the ones the ledger recorded, in order",
                )
                for entity_id in sorted(set(bad))
            ]
        else:
            for entity_id, have in reader.read(session, set(expected) if only_touched else None):
                _match(session, kind, expected, entity_id, have, _digest(have), mismatched)
        for entity_id, want in expected.items():
            if want[:16] != _GONE:
                mismatched.append((entity_id, None, int.from_bytes(want[16:24], "big")))
        for entity_id, have, seq in sorted(mismatched, key=lambda m: m[0]):
            if seq is None:
                said = "no event records it"
            else:
                snapshot = _said_by_event(session, seq, kind, entity_id)
                said = f"event #{seq} says {canonical_json(snapshot)}"
            report._fail(
                None,
                f"{kind} {entity_id}: current state {canonical_json(have)} differs from the ledger "
                f"({said})",
                plain=f"{kind} {entity_id}: the current state differs from the ledger",
                subject=(kind, entity_id),
            )
    for kind, actors in replay.actors.items():
        who = readers[kind].who
        if who is None or (only_touched and not actors):
            continue
        for entity_id, name in who(session, set(actors) if only_touched else None):
            by = actors.get(entity_id)
            if by is not None and by[0] != name:
                report._fail(
                    None,
                    f"{kind} {entity_id}: the table says {name!r} made the last change, but event "
                    f"#{by[1]} was written by {by[0]!r}",
                    plain=f"{kind} {entity_id}: the table names another person as the last to "
                    "change it than the ledger does",
                    subject=(kind, entity_id),
                )
    for kind, entity_id, problem in history_problems:
        report._fail(None, problem, subject=(kind, entity_id))


_EVENT_COLUMNS = (
    "SELECT seq, occurred_at, actor, action, entity_type, entity_id, payload, prev_hash, hash, "
    "salt FROM audit_event WHERE seq > {} ORDER BY seq"
)


EVENTS_PER_FETCH = 200
"""How many events ``verify`` reads at a time: a bulk event (an extraction import's study, a dedup
run) carries tens of kilobytes of snapshots, so 5,000 of them at once held 100 MB or more."""


def _event_rows(session: Session, after_seq: int) -> Iterator[tuple[Any, ...]]:
    """Events after ``after_seq`` in order, as column tuples, fetched ``EVENTS_PER_FETCH`` at a
    time."""
    connection = session.connection()
    if connection.dialect.name in snapshots.RAW_CURSOR_DIALECTS:
        # The driver's own cursor: SQLite reads rows as they are asked for.
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(_EVENT_COLUMNS.format("?"), (after_seq,))
            while chunk := cursor.fetchmany(EVENTS_PER_FETCH):
                yield from chunk
        finally:
            cursor.close()
        return
    result = connection.execute(
        text(_EVENT_COLUMNS.format(":after")).execution_options(yield_per=EVENTS_PER_FETCH),
        {"after": after_seq},
    )
    for row in result:
        yield tuple(row)


def latest_checkpoint(session: Session) -> AuditCheckpoint | None:
    """The newest checkpoint (highest event number), or None when the ledger was never verified."""
    return session.exec(
        select(AuditCheckpoint).order_by(
            col(AuditCheckpoint.seq).desc(), col(AuditCheckpoint.id).desc()
        )
    ).first()


def verify(
    session: Session,
    *,
    since_checkpoint: bool = False,
    readers: Mapping[str, StateReader] | None = None,
) -> VerifyReport:
    """Check the chain, its head and the current state of every audited entity.

    A full verify (the default) re-hashes every event from the first and compares every table row
    the registered readers read (``storage.snapshots.load_state_readers``) with the ledger's last
    snapshot of it. With ``since_checkpoint``, and a checkpoint to start from, it checks that the
    checkpoint's event still carries the hash the checkpoint recorded, re-hashes only the events
    after it, checks the head, and compares only the entities those events touched: an edit behind
    the tool's back to an entity no later event touched is found by the next full verify, not this
    one. Without a checkpoint it falls back to a full verify (``report.full``).
    """
    readers = load_state_readers() if readers is None else readers
    report = VerifyReport()
    prev_hash, expected_seq = GENESIS, 1
    checkpoint = latest_checkpoint(session) if since_checkpoint else None
    if checkpoint is not None:
        report.since_seq, report.since_verified_at = checkpoint.seq, checkpoint.verified_at
        anchor = session.exec(
            select(AuditEvent.hash).where(AuditEvent.seq == checkpoint.seq)
        ).first()
        if anchor != checkpoint.hash:
            report._fail(
                checkpoint.seq,
                f"event #{checkpoint.seq}: "
                + ("is missing" if anchor is None else "no longer has the hash")
                + f" the checkpoint of {checkpoint.verified_at} recorded: the ledger was rewritten"
                " (run a full `audit verify`)",
                plain="the event a checkpoint vouched for is missing or changed: the ledger was "
                "rewritten (run a full `audit verify`)",
            )
        prev_hash, expected_seq = checkpoint.hash, checkpoint.seq + 1
    replay = _Replay(readers, history=checkpoint is None)
    for (
        seq,
        occurred_at,
        actor,
        action,
        entity_type,
        entity_id,
        payload,
        row_prev,
        row_hash,
        salt,
    ) in _event_rows(session, expected_seq - 1):
        if seq != expected_seq:
            report._fail(
                seq,
                f"event #{seq}: expected #{expected_seq} next; "
                f"{'events are missing' if seq > expected_seq else 'sequence is out of order'}",
                plain="events are missing or out of order",
            )
        if row_prev != prev_hash:
            report._fail(
                seq,
                f"event #{seq}: does not link to the event before it",
                plain="an event does not link to the event before it",
            )
        digest = event_hash(
            row_prev if isinstance(row_prev, str) else str(row_prev),
            seq=seq,
            occurred_at=occurred_at,
            actor=actor,
            action=action,
            entity_type=entity_type,
            entity_id=entity_id,
            payload=payload,
            salt=salt,
        )
        if digest != row_hash:
            report._fail(
                seq,
                f"event #{seq} ({action}): content was changed after it was written",
                plain="an event's content was changed after it was written",
            )
        if not replay.event(seq, entity_type, entity_id, payload, actor):
            report._fail(
                seq,
                f"event #{seq}: payload is not valid JSON",
                plain="an event's payload is not valid JSON",
            )
        if entity_type in replay.actors and '"after":' in str(payload):
            replay.actor(seq, actor, entity_type, entity_id)
        prev_hash, expected_seq = row_hash, seq + 1
        report.events += 1
    report.head_hash = prev_hash
    last_seq = report.last_seq = expected_seq - 1
    head = session.get(AuditHead, 1)
    if (report.events or checkpoint is not None) and (
        head is None or head.seq != last_seq or head.hash != prev_hash
    ):
        where = "missing" if head is None else f"says #{head.seq}"
        report._fail(
            last_seq + 1 if head is not None and head.seq > last_seq else None,
            f"ledger head {where} but the last event is #{last_seq}: events were removed from the end",
            plain="the ledger head does not match the last event: events were removed from the end",
        )
    _compare_state(session, report, readers, replay, only_touched=checkpoint is not None)
    return report


def write_checkpoint(session: Session, *, actor: str, report: VerifyReport) -> AuditCheckpoint:
    """Record that ``report`` (a verify that passed) vouches for the ledger up to its last event.

    Written in the caller's transaction; not an event, so the ledger's head does not move. Raises
    InvalidInput for a report with problems or nothing verified, UnknownMember for an unknown actor.
    """
    if not report.ok:
        raise InvalidInput("the ledger did not verify: no checkpoint is written")
    if report.last_seq == 0:
        raise InvalidInput("the ledger is empty: there is nothing to vouch for")
    member_id = session.exec(select(Member.id).where(Member.name == actor)).first()
    if member_id is None:
        raise UnknownMember(f"{actor!r} is not a member of this review")
    checkpoint = AuditCheckpoint(
        seq=report.last_seq,
        hash=report.head_hash,
        since_seq=report.since_seq,
        verified_at=utc_now(),
        member_id=member_id,
    )
    session.add(checkpoint)
    session.flush()
    return checkpoint


declare_checked(
    "audit_event",
    (
        "seq",
        "occurred_at",
        "actor",
        "action",
        "entity_type",
        "entity_id",
        "payload",
        "prev_hash",
        "hash",
        "salt",
    ),
    by="the hash chain",
)
declare_checked("audit_head", ("id", "seq", "hash"), by="the hash chain (head against last event)")
declare_unchecked(
    "audit_checkpoint",
    {
        "id": "verify's own notes: a full verify ignores checkpoints",
        "seq": "verify's own notes; a forged one is caught unless its hash matches the event's",
        "hash": "compared with the event's stored hash by --since-checkpoint",
        "since_seq": "verify's own notes: a full verify ignores checkpoints",
        "verified_at": "verify's own notes: a full verify ignores checkpoints",
        "member_id": "verify's own notes: a full verify ignores checkpoints",
    },
)
