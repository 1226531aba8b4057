"""Rebuild a review from its ledger alone: ``reviewtool audit replay --to NEW_DB``.

The source's ledger is verified first (chain, head and state, as ``audit verify``); then its events
are read in order and each is applied to a fresh database by the applier registered for its kind,
and copied there verbatim (same numbers, times, actors, payloads, salts and hashes), so the
rebuilt ledger is the same events with the same head. Everything is one transaction on the new
database: a refusal leaves nothing behind.

Two registries, filled by ``reviewtool.audit.rebuild`` (and by any stage that adds its own, as
``storage.snapshots.register_state`` is filled: audit imports no stage):

- ``EVENT_APPLIERS``: event name -> how it is replayed. By default an event is replayed through the
  snapshots it carries (its ``after`` under its own entity type and id, and its ``state``), the
  same snapshots ``audit verify`` replays; an applier may add hooks (a dedup run's own row) and a
  ``missing`` check that names what an old event lacks. ``NOT_REPLAYED`` lists, with the reason,
  the kinds that change no table (a refusal).
- ``SETTERS``: entity type (as the state readers name it) -> how one snapshot is written to the
  tables. ``DERIVED`` lists, with the reason, the kinds no event sets (``reference_link``).

``tests/test_audit_replay.py`` fails when an event class of ``events.py`` has no applier and no
declared reason, or a state reader's kind has no setter: a new event kind cannot be forgotten.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, select

from reviewtool.audit.events import EVENT_TYPES
from reviewtool.errors import AuditChainBroken, ReviewtoolError
from reviewtool.storage.models import AuditEvent, AuditHead, Member, Record, Reference
from reviewtool.storage.references import FOLLOWERS, wanted_references


class ReplayImpossible(ReviewtoolError):
    """The ledger cannot rebuild the review: an event lacks what is needed (written before the
    events carried it), or what it says cannot be applied. Exit code 8, as a broken ledger."""

    exit_code = 8


@dataclass
class Context:
    """One event being replayed into the new database.

    :ivar session: the new database's write session.
    :ivar seq: the event's number; ``occurred_at`` its time (ISO-8601 UTC), which becomes the
        time columns of the rows it writes (``decided_at``, ``imported_at`` ...).
    :ivar actor: who wrote it (a name); ``action`` its kind; ``entity_type``/``entity_id`` its entity.
    :ivar payload: the event's content, parsed.
    """

    session: Session
    seq: int
    occurred_at: str
    actor: str
    action: str
    entity_type: str
    entity_id: str
    payload: dict[str, Any]
    run: ReplayState

    def refuse(self, why: str) -> ReplayImpossible:
        """The one-line refusal naming this event."""
        return ReplayImpossible(f"event #{self.seq} ({self.action}) cannot be replayed: {why}")

    def member_id(self, name: str | None) -> int | None:
        """The id of the member named ``name`` in the new database (None for None); refuses
        when there is no such member."""
        if name is None:
            return None
        found = self.run.members.get(name)
        if found is None:
            found = self.session.exec(select(Member.id).where(Member.name == name)).first()
            if found is None:
                raise self.refuse(f"it names {name!r}, who is no member at this point")
            self.run.members[name] = found
        return found

    def person(self, name: str) -> int:
        """``member_id`` of a name that must name a member (refuses otherwise)."""
        found = self.member_id(name)
        assert found is not None
        return found

    def reference_of(self, record_id: int) -> int:
        """The reference record ``record_id`` is in now (references are kept in step with the
        groups before any row that follows a record is written)."""
        ref = self.session.exec(select(Record.reference_id).where(Record.id == record_id)).first()
        if ref is None:
            raise self.refuse(f"it names record {record_id}, which is not there")
        return ref


@dataclass
class ReplayState:
    """What the replay carries from one event to the next."""

    members: dict[str, int] = field(default_factory=dict)
    # Records regrouped since references were last moved with the groups (a dedup run's group
    # events are applied together, as the run wrote them in one transaction).
    regrouped: bool = False
    # What an applier expects a later event to complete: ``"batch <id>"`` -> (the digest of its
    # records, how many parts hold them) until its last records-imported-part event.
    pending: dict[str, Any] = field(default_factory=dict)


Setter = Callable[[Context, str, Any], None]
Hook = Callable[[Context], None]
Missing = Callable[[dict[str, Any]], str | None]


@dataclass(frozen=True)
class EntitySetter:
    """How one entity type's snapshots are written. ``order``: rows a kind refers to are written
    first (members before votes, reports before full-text votes); removals go the other way."""

    kind: str
    write: Setter
    order: int


@dataclass(frozen=True)
class EventApplier:
    """How one kind of event is replayed: through its snapshots (``SETTERS``), with ``before`` and
    ``after`` hooks for rows no snapshot holds, and ``missing``: what an event of this kind
    written by an older version lacks (None when it is complete)."""

    name: str
    before: Hook | None = None
    after: Hook | None = None
    missing: Missing | None = None


SETTERS: dict[str, EntitySetter] = {}
EVENT_APPLIERS: dict[str, EventApplier] = {}
NOT_REPLAYED: dict[str, str] = {}
DERIVED: dict[str, str] = {}
# Kinds written before the others of an event, whatever their value: the groups (a record's
# ``duplicate_of`` None is a value, not a removal) and the pairs.
FIRST_KINDS = ("dedup_pair", "record_duplicate")


def register_setter(kind: str, write: Setter, *, order: int) -> None:
    """Register how snapshots of entity type ``kind`` are written (ValueError on a second one)."""
    if kind in SETTERS and SETTERS[kind].write is not write:
        raise ValueError(f"two replay setters for entity type {kind!r}")
    SETTERS[kind] = EntitySetter(kind, write, order)


def register_event(
    name: str,
    *,
    before: Hook | None = None,
    after: Hook | None = None,
    missing: Missing | None = None,
) -> None:
    """Declare that events ``name`` are replayed through their snapshots, with optional hooks."""
    if name not in EVENT_TYPES:
        raise ValueError(f"no event kind {name!r} in audit/events.py")
    EVENT_APPLIERS[name] = EventApplier(name, before, after, missing)


def declare_not_replayed(name: str, reason: str) -> None:
    """Declare that events ``name`` change no table (they are copied, nothing is applied)."""
    if not reason.strip():
        raise ValueError(f"{name}: say why it changes nothing")
    NOT_REPLAYED[name] = reason


def declare_derived(kind: str, reason: str) -> None:
    """Declare that state kind ``kind`` is derived by the replay itself, never set from a snapshot."""
    if not reason.strip():
        raise ValueError(f"{kind}: say how it is derived")
    DERIVED[kind] = reason


def load_appliers() -> dict[str, EventApplier]:
    """Import the modules that fill the registries; the event appliers."""
    from reviewtool.audit import rebuild  # noqa: F401  (registers on import)

    return EVENT_APPLIERS


@dataclass(frozen=True)
class ReplayReport:
    """What a replay did: events applied and copied, and the rebuilt ledger's last number and head."""

    events: int
    last_seq: int
    head_hash: str
    owner_mapped: tuple[str, str] | None = None
    """``(member, login)`` when ``--map-owner`` mapped an owner to the login that ran the replay
    (one ``member-login-mapped`` event after the replayed ones: ``head_hash`` is then its hash)."""


def sync_references(session: Session) -> None:
    """Move every ``reference_id`` with the duplicate groups (records, then the rows that follow a
    record: votes, resolutions, labels, reports) and keep the ``reference`` table to the groups'
    references. The supersessions a merge causes are in the events; this only moves ids."""
    from sqlalchemy import delete, insert, update

    wanted = wanted_references(session)
    have = dict(session.exec(select(Record.id, Record.reference_id)).all())
    existing = set(session.exec(select(Reference.id)).all())
    needed = set(wanted.values())
    if needed - existing:
        session.execute(insert(Reference), [{"id": r} for r in sorted(needed - existing)])
    moved = [{"id": rid, "reference_id": ref} for rid, ref in wanted.items() if have[rid] != ref]
    if moved:
        session.execute(update(Record), moved)
    for model in FOLLOWERS:
        table: Any = model.__table__
        rows = session.execute(select(table.c.id, table.c.record_id, table.c.reference_id)).all()
        changes = [
            {"id": i, "reference_id": wanted[rec]} for i, rec, ref in rows if wanted[rec] != ref
        ]
        if changes:
            session.execute(update(model), changes)
    if existing - needed:
        session.execute(delete(Reference).where(col(Reference.id).in_(sorted(existing - needed))))
    session.flush()
    session.expire_all()


def _changes(ctx: Context) -> Iterator[tuple[str, str, Any]]:
    """(kind, entity id, snapshot or None) of every entity the event sets, as ``audit verify``
    reads them: its ``after`` under its own type and id, then its ``state``."""
    payload = ctx.payload
    if ctx.entity_type in SETTERS and "after" in payload:
        yield ctx.entity_type, ctx.entity_id, payload["after"]
    state = payload.get("state") or {}
    if isinstance(state, dict):
        for kind, items in state.items():
            if not isinstance(items, dict):
                continue
            if kind not in SETTERS:
                if kind in DERIVED:
                    continue
                from reviewtool.storage.snapshots import STATE_READERS

                if kind in STATE_READERS:
                    raise ctx.refuse(f"no replay setter for the state of {kind!r}")
                continue
            for entity_id, snapshot in items.items():
                yield kind, entity_id, snapshot


def apply_event(ctx: Context, applier: EventApplier) -> None:
    """Apply one event: hooks, the groups and pairs, removals (dependent kinds first), references
    moved with the groups, then the snapshots (kinds others refer to first)."""
    if applier.missing is not None:
        why = applier.missing(ctx.payload)
        if why is not None:
            raise ctx.refuse(why)
    if applier.before is not None:
        applier.before(ctx)
    changes = list(_changes(ctx))
    for kind, entity_id, snapshot in changes:
        if kind in FIRST_KINDS:
            SETTERS[kind].write(ctx, entity_id, snapshot)
    rest = [c for c in changes if c[0] not in FIRST_KINDS]
    gone = [c for c in rest if c[2] is None]
    for kind, entity_id, snapshot in sorted(gone, key=lambda c: -SETTERS[c[0]].order):
        SETTERS[kind].write(ctx, entity_id, snapshot)
    ctx.session.flush()
    if ctx.run.regrouped and ctx.action != "dedup-run-group":
        sync_references(ctx.session)
        ctx.run.regrouped = False
    kept = [c for c in rest if c[2] is not None]
    for kind, entity_id, snapshot in sorted(kept, key=lambda c: SETTERS[c[0]].order):
        SETTERS[kind].write(ctx, entity_id, snapshot)
    if applier.after is not None:
        applier.after(ctx)
    ctx.session.flush()


_EVENT_QUERY = (
    "SELECT seq, occurred_at, actor, action, entity_type, entity_id, payload, prev_hash, hash, "
    "salt FROM audit_event WHERE seq <= :last ORDER BY seq"
)


def check_source(source: Session) -> tuple[int, str]:
    """Verify the source's ledger in full (chain, head, state); its last event's number and its
    head hash. AuditChainBroken when it does not verify: a ledger that does not prove the review
    cannot rebuild it."""
    from reviewtool.audit.log import verify

    checked = verify(source)
    if not checked.ok:
        raise AuditChainBroken(
            f"the source ledger does not verify ({checked.problems[0]}); nothing was replayed "
            "(run `reviewtool audit verify`)"
        )
    return checked.last_seq, checked.head_hash


def replay(source: Session, target: Session, *, up_to: int | None = None) -> ReplayReport:
    """Rebuild the review of ``source`` (whose ledger ``check_source`` verified) in ``target``: an
    empty review database at the current schema, in a write transaction the caller commits.
    ``up_to``: the last event to replay (the one verified; events others add meanwhile are left
    out), all of them when None.

    Raises ReplayImpossible naming the first event that cannot be replayed (an event kind with no
    applier, an event written before events carried what rebuilding needs, or one whose content
    does not match its own snapshot's digest).
    """
    from sqlalchemy import text

    appliers = load_appliers()
    run = ReplayState()
    table: Any = AuditEvent.__table__  # type: ignore[attr-defined]
    copied: list[dict[str, Any]] = []
    count, last_seq, head = 0, 0, ""
    last = up_to if up_to is not None else 2**62
    result = source.connection().execute(
        text(_EVENT_QUERY).execution_options(yield_per=2000), {"last": last}
    )
    for row in result:
        (
            seq,
            occurred_at,
            actor,
            action,
            entity_type,
            entity_id,
            payload_text,
            prev,
            digest,
            salt,
        ) = row
        payload = json.loads(payload_text)
        ctx = Context(
            session=target,
            seq=seq,
            occurred_at=occurred_at,
            actor=actor,
            action=action,
            entity_type=entity_type,
            entity_id=entity_id,
            payload=payload if isinstance(payload, dict) else {},
            run=run,
        )
        applier = appliers.get(action)
        if applier is None and action not in NOT_REPLAYED:
            raise ctx.refuse("no replay applier is registered for this kind of event")
        if applier is not None:
            _apply_guarded(ctx, applier)
        copied.append(
            {
                "seq": seq,
                "occurred_at": occurred_at,
                "actor": actor,
                "action": action,
                "entity_type": entity_type,
                "entity_id": entity_id,
                "payload": payload_text,
                "prev_hash": prev,
                "hash": digest,
                "salt": salt,  # hashed with the event (None in events before schema 0019)
            }
        )
        if len(copied) >= 1000:
            target.execute(table.insert(), copied)
            copied = []
        count, last_seq, head = count + 1, seq, digest
    if run.pending:
        raise ReplayImpossible(
            f"the ledger ends before it completes {min(run.pending)} (its records are missing)"
        )
    if run.regrouped:
        sync_references(target)
    if copied:
        target.execute(table.insert(), copied)
    if count:
        target.add(AuditHead(id=1, seq=last_seq, hash=head))
    target.flush()
    _advance_sequences(target)
    return ReplayReport(events=count, last_seq=last_seq, head_hash=head)


def _advance_sequences(session: Session) -> None:
    """On PostgreSQL, move each table's id sequence past the ids the replay wrote itself (rows
    keep their ids; SQLite needs nothing, it takes the largest id + 1)."""
    from sqlalchemy import text

    from reviewtool.storage.models import metadata

    connection = session.connection()
    if connection.dialect.name != "postgresql":
        return
    for table in metadata.sorted_tables:
        if (
            "id" not in table.c
            or not table.c.id.autoincrement
            or table.c.id.type.python_type is not int
        ):
            continue
        sequence = connection.execute(
            text("SELECT pg_get_serial_sequence(:table, 'id')"), {"table": table.name}
        ).scalar()
        if sequence is None:
            continue
        connection.execute(
            text(
                f'SELECT setval(:sequence, COALESCE((SELECT max(id) FROM "{table.name}"), 0) + 1,'
                " false)"
            ),
            {"sequence": sequence},
        )


@dataclass(frozen=True)
class _SourceLogin:
    """One ``member_login`` row of the source, with what the owner check needs."""

    db_role: str
    member_id: int
    member: str
    active: bool
    owner: bool


def _source_logins(source: Session) -> list[_SourceLogin]:
    """The source's member-to-login mappings (empty: the review is not in team mode)."""
    from sqlalchemy import text

    rows = source.execute(
        text(
            "SELECT l.db_role, m.id, m.name, m.active, EXISTS (SELECT 1 FROM member_role r "
            "WHERE r.member_id = m.id AND r.role = 'owner') "
            "FROM member_login l JOIN member m ON m.id = l.member_id ORDER BY m.id"
        )
    ).all()
    return [_SourceLogin(str(r[0]), int(r[1]), str(r[2]), bool(r[3]), bool(r[4])) for r in rows]


def target_login(to_url: str) -> str | None:
    """The PostgreSQL login (``session_user``) a connection to ``to_url`` is; None for SQLite, or
    when the server cannot be reached (``create_review_database`` then says why). Writes nothing."""
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    from reviewtool.storage import sqlite_file
    from reviewtool.storage.engine import make_engine

    if sqlite_file(to_url) is not None or not to_url.startswith("postgresql"):
        return None
    engine = make_engine(to_url, option="--to")
    try:
        with engine.connect() as connection:
            return str(connection.execute(text("SELECT session_user")).scalar_one())
    except SQLAlchemyError:
        return None
    finally:
        engine.dispose()


def check_owner_login(
    source: Session, to_url: str, *, actor: str, map_owner: str | None = None
) -> _SourceLogin | None:
    """Refuse, before anything is written, a replay into PostgreSQL that would leave a review no
    one can own: when the source's members have logins (team mode, docs/identity.md), the login
    running the replay (``session_user`` at ``to_url``) must be mapped to an active owner, or
    ``map_owner`` must name one to map to it. Returns the owner to map (None: nothing to map).

    InvalidInput (one line naming the login and the command that fixes it) otherwise; also for
    ``map_owner`` into SQLite, on a review whose members have no logins, naming no active owner,
    or with a login that is another member's.
    """
    from reviewtool.errors import InvalidInput

    login = target_login(to_url)
    mappings = _source_logins(source)
    if map_owner is not None:
        if login is None:
            raise InvalidInput(
                "--map-owner maps an owner to the PostgreSQL login running the replay; --to is "
                "not a PostgreSQL database that can be reached"
            )
        if not mappings:
            raise InvalidInput(
                "--map-owner is for a review whose members have database logins (team mode); "
                "this one has none, so whoever connects names themselves with --as"
            )
    if login is None or not mappings:
        return None
    mapped = next((m for m in mappings if m.db_role == login), None)
    if map_owner is None:
        if mapped is not None and mapped.active and mapped.owner:
            return None
        who = (
            "is mapped to no member"
            if mapped is None or not mapped.active
            else f"is mapped to {mapped.member!r}, who is no owner"
        )
        raise InvalidInput(
            f"the review's members have database logins, so on PostgreSQL it is in team mode, "
            f"and the login {login!r} running this replay {who}: no one could act as an owner "
            f"of the rebuilt review; map it first (`reviewtool member map {actor} --db-role "
            f"{login}`) or give `--map-owner {actor}`; nothing was written"
        )
    from sqlalchemy import text

    row = source.execute(
        text(
            "SELECT m.id, m.active, EXISTS (SELECT 1 FROM member_role r WHERE r.member_id = m.id "
            "AND r.role = 'owner') FROM member m WHERE m.name = :name"
        ),
        {"name": map_owner},
    ).first()
    if row is None or not row[1] or not row[2]:
        raise InvalidInput(f"--map-owner: {map_owner!r} is not an active owner of the review")
    if mapped is not None and mapped.member != map_owner:
        raise InvalidInput(
            f"--map-owner: the login {login!r} is mapped to {mapped.member!r} already; run the "
            "replay with another login, or map it to the owner first (`reviewtool member map`)"
        )
    if mapped is not None:
        return None  # the owner is mapped to this login already
    return _SourceLogin(login, int(row[0]), map_owner, True, True)


def _map_owner(session: Session, actor: str, owner: _SourceLogin) -> str:
    """Map ``owner`` to its login in the rebuilt review, as ``member map`` does (one
    ``member-login-mapped`` event by ``actor``, chained after the replayed ones); its hash."""
    from reviewtool.audit.events import MemberLoginMapped
    from reviewtool.audit.log import record
    from reviewtool.storage.models import MemberLogin

    row = session.get(MemberLogin, owner.member_id)
    before = None if row is None else {"member": owner.member, "db_role": row.db_role}
    if row is None:
        row = MemberLogin(member_id=owner.member_id, db_role=owner.db_role)
    else:
        row.db_role = owner.db_role
    session.add(row)
    session.flush()
    event = record(
        session,
        actor,
        MemberLoginMapped(
            member_id=owner.member_id,
            before=before,
            after={"member": owner.member, "db_role": owner.db_role},
        ),
    )
    return event.hash


def replay_into(
    source: Session, to_url: str, *, actor: str = "", map_owner: str | None = None
) -> ReplayReport:
    """Verify the ledger of ``source``, rebuild its review in a new database at ``to_url`` (an
    SQLite path or URL that does not exist yet, or an empty PostgreSQL database), and verify the
    rebuilt one: its ledger must verify in full with the source's head.

    Into PostgreSQL, a review whose members have logins must stay ownable there:
    ``check_owner_login`` refuses up front unless the login running the replay is an owner's, or
    ``map_owner`` (an owner's name) is mapped to it, as one ``member-login-mapped`` event by
    ``actor`` after the replayed ones (the rebuilt ledger then holds the source's events and head,
    and this one event after them).

    One transaction: on any refusal the new database is removed (an SQLite file) or emptied
    (PostgreSQL), so nothing is left partly written. Errors: AuditChainBroken (the source does
    not verify), ReplayImpossible (see ``replay``; also when the rebuilt review does not verify),
    AlreadyExists (something is at ``to_url``), DatabaseUnavailable, InvalidInput (the owner check).
    """
    from reviewtool.audit.log import verify
    from reviewtool.storage import create_review_database

    last_seq, head = check_source(source)
    owner = check_owner_login(source, to_url, actor=actor, map_owner=map_owner)
    target = create_review_database(to_url, option="--to")
    try:
        with target.transaction() as session:
            report = replay(source, session, up_to=last_seq)
            if owner is not None:
                mapped_head = _map_owner(session, actor, owner)
                report = ReplayReport(
                    report.events, last_seq + 1, mapped_head, (owner.member, owner.db_role)
                )
        with target.reading() as session:
            rebuilt = verify(session)
            replayed_head = session.exec(
                select(AuditEvent.hash).where(AuditEvent.seq == last_seq)
            ).first()
        if (
            not rebuilt.ok
            or rebuilt.head_hash != report.head_hash
            or (last_seq and replayed_head != head)
        ):
            raise ReplayImpossible(
                "the rebuilt review does not verify against its ledger "
                f"({rebuilt.problems[0] if rebuilt.problems else 'another head'}); "
                "nothing was kept"
            )
    except BaseException:
        _discard(target)
        raise
    target.close()
    return report


def _discard(target: Any) -> None:
    """Remove what a refused replay made: the SQLite file (and its WAL files), or every table of
    the PostgreSQL database (the database itself was there before)."""
    from reviewtool.storage import sqlite_file
    from reviewtool.storage.models import metadata

    path = sqlite_file(target.url)
    if path is None:
        from sqlalchemy import text

        try:
            metadata.drop_all(target.engine)
            with target.engine.begin() as connection:
                connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        finally:
            target.close()
        return
    target.close()
    for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        leftover.unlink(missing_ok=True)


def _apply_guarded(ctx: Context, applier: EventApplier) -> None:
    """``apply_event``; a database error (a row that cannot be written) refuses, naming the event."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        apply_event(ctx, applier)
    except SQLAlchemyError as error:
        reason = str(getattr(error, "orig", None) or error).splitlines()[0]
        raise ctx.refuse(f"the database refused a row ({reason})") from None


__all__ = [
    "DERIVED",
    "EVENT_APPLIERS",
    "NOT_REPLAYED",
    "SETTERS",
    "Context",
    "ReplayImpossible",
    "ReplayReport",
    "check_source",
    "declare_derived",
    "declare_not_replayed",
    "load_appliers",
    "register_event",
    "register_setter",
    "replay",
    "replay_into",
    "sync_references",
]
