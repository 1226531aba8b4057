"""The audit ledger: append events in the caller's transaction, list them, verify the chain.

Each event's ``hash`` is sha256 over the previous event's hash and a canonical JSON array of the
event's own fields. Editing, deleting or reordering any row breaks the chain from that row on;
``audit_head`` (written with every event) catches events cut off the end; replaying the events'
``after`` snapshots against the tables catches state changed without an event.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, col, select

from reviewtool.audit.events import EVENT_TYPES, Event
from reviewtool.storage.models import AuditEvent, AuditHead
from reviewtool.storage.snapshots import ENTITY_STATE

GENESIS = "0" * 64


def canonical_json(value: Any) -> str:
    """One fixed text for a JSON value: sorted keys, no spaces, no NaN."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def utc_now() -> str:
    """The current UTC time as ISO-8601 with microseconds and a ``Z``."""
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


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
) -> str:
    """The chained hash of one event (``payload`` is the stored canonical JSON text)."""
    material = canonical_json([seq, occurred_at, actor, action, entity_type, entity_id, payload])
    return hashlib.sha256((prev_hash + material).encode("utf-8")).hexdigest()


def record(session: Session, actor: str, event: Event) -> AuditEvent:
    """Append ``event`` by ``actor`` to the ledger, inside the caller's transaction."""
    if EVENT_TYPES.get(event.name) is not type(event):
        raise TypeError(f"unknown audit event type {type(event).__name__}")
    # Locks the head row on PostgreSQL; on SQLite the write transaction (BEGIN IMMEDIATE) already
    # serialises writers. Either way two processes cannot take the same sequence number.
    head = session.exec(select(AuditHead).where(AuditHead.id == 1).with_for_update()).first()
    seq, prev = (1, GENESIS) if head is None else (head.seq + 1, head.hash)
    payload = canonical_json(event.payload())
    row = AuditEvent(
        seq=seq,
        occurred_at=utc_now(),
        actor=actor,
        action=event.name,
        entity_type=event.entity_type,
        entity_id=event.entity_id,
        payload=payload,
        prev_hash=prev,
        hash="",
    )
    row.hash = event_hash(
        prev,
        seq=seq,
        occurred_at=row.occurred_at,
        actor=actor,
        action=row.action,
        entity_type=row.entity_type,
        entity_id=row.entity_id,
        payload=payload,
    )
    session.add(row)
    if head is None:
        session.add(AuditHead(id=1, seq=seq, hash=row.hash))
    else:
        head.seq, head.hash = seq, row.hash
        session.add(head)
    session.flush()
    return row


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
        occurred_at = utc_now()
        payload = canonical_json(event.payload())
        entity_id = event.entity_id
        digest = event_hash(
            prev,
            seq=seq,
            occurred_at=occurred_at,
            actor=actor,
            action=event.name,
            entity_type=event.entity_type,
            entity_id=entity_id,
            payload=payload,
        )
        rows.append(
            {
                "seq": seq,
                "occurred_at": occurred_at,
                "actor": actor,
                "action": event.name,
                "entity_type": event.entity_type,
                "entity_id": entity_id,
                "payload": payload,
                "prev_hash": prev,
                "hash": digest,
            }
        )
        prev = digest
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
    """

    seq: int | None
    occurred_at: str
    actor: str
    action: str
    entity_type: str
    entity_id: str
    payload: dict[str, Any]
    hash: str | None

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
        )
        for r in rows
    ]


@dataclass
class VerifyReport:
    """The outcome of ``verify``: ok, or the problems with the first bad event named first."""

    events: int = 0
    head_hash: str = GENESIS
    first_bad_seq: int | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the chain and the current state both verify."""
        return not self.problems

    def _fail(self, seq: int | None, message: str) -> None:
        if seq is not None and self.first_bad_seq is None:
            self.first_bad_seq = seq
        self.problems.append(message)


def _rows(session: Session) -> Iterator[AuditEvent]:
    yield from session.exec(
        select(AuditEvent).order_by(col(AuditEvent.seq)).execution_options(yield_per=1000)
    )


def verify(session: Session) -> VerifyReport:
    """Check the whole chain, its head, and the current state of every audited entity."""
    report = VerifyReport()
    prev_hash, expected_seq = GENESIS, 1
    replayed: dict[str, dict[str, Any]] = {kind: {} for kind in ENTITY_STATE}
    last_touch: dict[tuple[str, str], int] = {}
    for row in _rows(session):
        if row.seq != expected_seq:
            report._fail(
                row.seq,
                f"event #{row.seq}: expected #{expected_seq} next; "
                f"{'events are missing' if row.seq > expected_seq else 'sequence is out of order'}",
            )
        if row.prev_hash != prev_hash:
            report._fail(row.seq, f"event #{row.seq}: does not link to the event before it")
        recomputed = event_hash(
            row.prev_hash,
            seq=row.seq,
            occurred_at=row.occurred_at,
            actor=row.actor,
            action=row.action,
            entity_type=row.entity_type,
            entity_id=row.entity_id,
            payload=row.payload,
        )
        if recomputed != row.hash:
            report._fail(
                row.seq,
                f"event #{row.seq} ({row.action}): content was changed after it was written",
            )
        try:
            payload = json.loads(row.payload)
        except ValueError:
            report._fail(row.seq, f"event #{row.seq}: payload is not valid JSON")
            payload = {}
        if isinstance(payload, dict):
            if row.entity_type in replayed and "after" in payload:
                replayed[row.entity_type][row.entity_id] = payload["after"]
                last_touch[(row.entity_type, row.entity_id)] = row.seq
            # Bulk events (a dedup run touches hundreds of records) list their changes by entity.
            for kind, changes in (payload.get("state") or {}).items():
                if kind in replayed:
                    for entity_id, snapshot in changes.items():
                        replayed[kind][entity_id] = snapshot
                        last_touch[(kind, entity_id)] = row.seq
        prev_hash, expected_seq = row.hash, row.seq + 1
        report.events += 1
    report.head_hash = prev_hash
    head = session.get(AuditHead, 1)
    last_seq = expected_seq - 1
    if report.events and (head is None or head.seq != last_seq or head.hash != prev_hash):
        where = "missing" if head is None else f"says #{head.seq}"
        report._fail(
            last_seq + 1 if head is not None and head.seq > last_seq else None,
            f"ledger head {where} but the last event is #{last_seq}: events were removed from the end",
        )
    for kind, reader in ENTITY_STATE.items():
        expected = {k: v for k, v in replayed[kind].items() if v is not None}
        actual = reader(session)
        for entity_id in sorted(set(expected) | set(actual)):
            want, have = expected.get(entity_id), actual.get(entity_id)
            if want == have:
                continue
            seq = last_touch.get((kind, entity_id))
            said = f"event #{seq} says {canonical_json(want)}" if seq else "no event records it"
            report._fail(
                None,
                f"{kind} {entity_id}: current state {canonical_json(have)} differs from the ledger "
                f"({said})",
            )
    return report
