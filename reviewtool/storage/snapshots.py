"""Current state of each audited entity, in the form the ledger stores it.

Services put these snapshots in their events' ``after``; ``audit verify`` replays the ledger and
compares the result with what the registered state readers read now, so an edit made behind the
tool's back (a role changed with an SQL client, a setting deleted) is caught.

Each stage declares its own readers next to the events it writes, in a ``ledger`` module of its
package (``reviewtool/screening/ledger.py`` ...): ``register_state`` names the entity type (as in
the events), the reader and the columns its snapshots cover; ``declare_unchecked`` names, with the
reason, every other column of the stage's tables. A new stage adds its own ``ledger.py``; nothing
here changes. ``load_state_readers`` imports every ``reviewtool.<package>.ledger`` module it finds
(storage cannot import the stages, so the stages fill the registry), and a test walks the sqlmodel
metadata and fails on any column that is neither covered nor declared unchecked.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import json.encoder
import pkgutil
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from reviewtool.domain import SYSTEM_ACTOR
from reviewtool.storage.models import (
    AnalysisRun,
    DedupPair,
    FullTextReport,
    ImportBatch,
    Member,
    MemberRole,
    Record,
    ReviewInfo,
    ScreeningDecision,
    ScreeningResolution,
)

# The fields of a record fixed at import; ``duplicate_of`` changes with deduplication and is
# tracked as its own entity ("record_duplicate").
RECORD_FIELDS = (
    "id",
    "source_key",
    "line",
    "raw",
    "title",
    "authors",
    "year",
    "journal",
    "volume",
    "issue",
    "pages",
    "doi",
    "pmid",
    "abstract",
    "keywords",
    "publication_type",
    "language",
    "extra",
)


def review_snapshot(review: ReviewInfo) -> dict[str, Any]:
    """What the ledger records of the review row."""
    return {"title": review.title, "question": review.question}


def member_snapshot(session: Session, member: Member) -> dict[str, Any]:
    """What the ledger records of a member: name, active flag and sorted roles."""
    roles = session.exec(select(MemberRole.role).where(MemberRole.member_id == member.id)).all()
    return {"name": member.name, "active": bool(member.active), "roles": sorted(roles)}


_RECORD_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
# The C encoder behind ``_RECORD_ENCODER.encode``, built once (a batch digest encodes every record).
_MAKE_ENCODER = getattr(json.encoder, "c_make_encoder", None)
_RECORD_C_ENCODER = (
    None
    if _MAKE_ENCODER is None
    else _MAKE_ENCODER(
        None,
        _RECORD_ENCODER.default,
        json.encoder.encode_basestring,
        None,
        ":",
        ",",
        False,
        False,
        True,
    )
)


def records_digest(rows: Iterable[tuple[Any, ...]]) -> str:
    """sha256 over a batch's records (tuples of ``RECORD_FIELDS``, ordered by id)."""
    digest = hashlib.sha256()
    for row in rows:
        add_record_to_digest(digest, row)
    return digest.hexdigest()


def add_record_to_digest(digest: Any, row: tuple[Any, ...]) -> None:
    """Feed one record (a tuple of ``RECORD_FIELDS``) to a running ``records_digest``."""
    text = (
        _RECORD_ENCODER.encode(list(row))
        if _RECORD_C_ENCODER is None
        else "".join(_RECORD_C_ENCODER(list(row), 0))
    )
    digest.update(text.encode())
    digest.update(b"\n")


def batch_snapshot(batch: ImportBatch, digest: str) -> dict[str, Any]:
    """What the ledger records of an import batch, including a digest of all its records."""
    return {
        "file_name": batch.file_name,
        "sha256": batch.sha256,
        "format": batch.format,
        "encoding": batch.encoding,
        "source": batch.source,
        "searched_on": batch.searched_on,
        "query": batch.query,
        "search_round": batch.search_round,
        "record_count": batch.record_count,
        "records_digest": digest,
    }


def pair_snapshot(pair: DedupPair | Mapping[str, Any], names: Mapping[int, str]) -> dict[str, Any]:
    """What the ledger records of a candidate pair (a row or a dict of its columns, with
    ``decided_by_id``): its records, status and who decided it, by name (``names``: member id ->
    name, as ``member_names`` gives; the ledger has named people since schema 0001)."""
    get = pair.get if isinstance(pair, Mapping) else lambda k: getattr(pair, k)
    return {
        "record_a": get("record_a"),
        "record_b": get("record_b"),
        "status": get("status"),
        "decided_by": member_name(names, get("decided_by_id")),
    }


def _record_rows(session: Session, batch_id: int | None = None) -> dict[int, list[tuple[Any, ...]]]:
    columns = [getattr(Record, name) for name in RECORD_FIELDS]
    query = select(Record.batch_id, *columns).order_by(col(Record.id))
    if batch_id is not None:
        query = query.where(Record.batch_id == batch_id)
    rows_by_batch: dict[int, list[tuple[Any, ...]]] = {}
    for row in session.exec(query).all():
        rows_by_batch.setdefault(row[0], []).append(tuple(row[1:]))
    return rows_by_batch


def batch_state(session: Session, batch: ImportBatch) -> dict[str, Any]:
    """The snapshot of one batch as it stands in the database now."""
    assert batch.id is not None
    return batch_snapshot(batch, records_digest(_record_rows(session, batch.id).get(batch.id, [])))


def vote_key(record_id: int, stage: str, reviewer: str, report: int | None = None) -> str:
    """The ledger id of one reviewer's current vote on one reference at one stage, or (``report``:
    a full-text vote cast since schema 0009) on one report of it: ``12:fulltext:ann:r7``."""
    base = f"{record_id}:{stage}:{reviewer}"
    return base if report is None else f"{base}:r{report}"


def vote_key_of(vote: ScreeningDecision, reviewer: str) -> str:
    """``vote_key`` of a stored vote (with its report when its snapshot names one)."""
    return vote_key(
        vote.record_id, vote.stage, reviewer, vote.report_id if vote.report_in_ledger else None
    )


def vote_snapshot(decision: ScreeningDecision) -> dict[str, Any]:
    """What the ledger records of a current vote: decision, reason, note, and since schema 0009 at
    full text the report assessed (``report``). Votes recorded before have no ``report``: their
    report was the reference's (``report_in_ledger`` is false for them). Since schema 0017 the
    queue order it was cast in (``order``) and the relevance model's version (``model``), each
    only when set."""
    snapshot: dict[str, Any] = {
        "decision": decision.decision,
        "reason": decision.reason,
        "note": decision.note,
    }
    if getattr(decision, "report_in_ledger", False):
        snapshot["report"] = decision.report_id
    # Since schema 0017 (issue 15), only when set, so votes recorded before still match.
    if getattr(decision, "queue_order", None) is not None:
        snapshot["order"] = decision.queue_order
    if getattr(decision, "model_version", None) is not None:
        snapshot["model"] = decision.model_version
    return snapshot


def resolution_key(record_id: int, stage: str, report: int | None = None) -> str:
    """The ledger id of the current resolution of one reference at one stage, or (``report``: at
    full text since schema 0009) of one report of it: ``12:fulltext:r7``."""
    base = f"{record_id}:{stage}"
    return base if report is None else f"{base}:r{report}"


def resolution_key_of(resolution: ScreeningResolution) -> str:
    """``resolution_key`` of a stored resolution."""
    return resolution_key(
        resolution.record_id,
        resolution.stage,
        resolution.report_id if resolution.report_in_ledger else None,
    )


def resolution_snapshot(resolution: ScreeningResolution, adjudicator: str) -> dict[str, Any]:
    """What the ledger records of a current resolution.

    ``contested`` (why the votes now agree against it) is there only once it is contested, so the
    snapshots of resolutions recorded before schema 0005 still match; ``report`` (the report it
    decides) only for full-text resolutions made since schema 0009.
    """
    snapshot: dict[str, Any] = {
        "decision": resolution.decision,
        "reason": resolution.reason,
        "note": resolution.note,
        "adjudicator": adjudicator,
    }
    if resolution.contested_at is not None:
        snapshot["contested"] = resolution.contested_because
    if resolution.report_in_ledger:
        snapshot["report"] = resolution.report_id
    return snapshot


def report_snapshot(report: FullTextReport) -> dict[str, Any]:
    """What the ledger records of a report (keyed by the report's id since schema 0007)."""
    return {
        "record": report.record_id,
        "kind": report.kind,
        "status": report.status,
        "location": report.location,
        "reason": report.reason,
        "note": report.note,
    }


def analysis_run_snapshot(run: AnalysisRun) -> dict[str, Any]:
    """What the ledger records of an analysis run (results by their hash: they can be large)."""
    return {
        "name": run.name,
        "settings": json.loads(run.settings),
        "input_sha256": run.input_sha256,
        "input_source": run.input_source,
        "results_sha256": hashlib.sha256(run.results.encode("utf-8")).hexdigest(),
    }


def label_key(record_id: int, member: str) -> str:
    """The ledger id of one member's labels on one reference."""
    return f"{record_id}:{member}"


# --- the registry of state readers -------------------------------------------------------------

# A reader yields (entity_id, snapshot) for every live entity of its type, or, given ``ids``, for
# those of the ids that exist (the incremental check reads only what the newest events touched).
# It streams: rows are read as column tuples, never all at once as ORM objects.
StateRead = Callable[[Session, Collection[str] | None], Iterable[tuple[str, Any]]]
# A history reader yields every row, old ones too: (entity_id, snapshot, is_current), each entity's
# rows together and oldest first.
HistoryRead = Callable[[Session, Collection[str] | None], Iterable[tuple[str, Any, bool]]]


@dataclass(frozen=True)
class StateReader:
    """How ``audit verify`` reads the current state of one entity type.

    :ivar entity_type: the ``entity_type`` its events carry (or the key in a bulk event's ``state``).
    :ivar read: the reader (see ``StateRead``).
    :ivar covers: ``{table: columns}`` whose values the snapshots depend on.
    :ivar history: for an entity whose every change writes a new row and keeps the old one (a
        vote), a reader of every row (see ``HistoryRead``). A full verify reads the kind with it
        alone: the rows against every snapshot the ledger holds for the entity, in order, and the
        current row against the last one.
    :ivar who: for a table that names who made the last change (``recorded_by_id`` ...), a reader
        of (entity_id, that member's name); verify compares it with the actor of the entity's last
        event.
    :ivar who_in_state: the kind is changed only through other events' ``state`` (a study link by
        ``study-changed``), each change made by that event's actor: ``who`` is compared with it.
        Otherwise a change listed in another entity's event leaves who made it unknown.
    """

    entity_type: str
    read: StateRead
    covers: Mapping[str, tuple[str, ...]]
    history: HistoryRead | None = None
    who: StateRead | None = None
    who_in_state: bool = False


STATE_READERS: dict[str, StateReader] = {}
# (table, column) -> how it is verified: "checked by <entity type>" or "not checked: <reason>".
COLUMN_COVERAGE: dict[tuple[str, str], str] = {}


def register_state(
    entity_type: str,
    read: StateRead,
    *,
    covers: Mapping[str, Iterable[str]],
    history: HistoryRead | None = None,
    who: StateRead | None = None,
    who_in_state: bool = False,
) -> None:
    """Register the reader of ``entity_type`` and the ``{table: columns}`` its snapshots cover
    (``history``, ``who``, ``who_in_state``: see ``StateReader``; ``who`` columns belong in
    ``covers`` too).

    Raises ValueError when another reader already claims ``entity_type``.
    """
    existing = STATE_READERS.get(entity_type)
    if existing is not None and existing.read is not read:
        raise ValueError(f"two state readers for entity type {entity_type!r}")
    fixed = {table: tuple(columns) for table, columns in covers.items()}
    STATE_READERS[entity_type] = StateReader(entity_type, read, fixed, history, who, who_in_state)
    for table, columns in fixed.items():
        for column in columns:
            COLUMN_COVERAGE.setdefault((table, column), f"checked by {entity_type}")


def declare_checked(table: str, columns: Iterable[str], *, by: str) -> None:
    """Declare ``columns`` of ``table`` verified by something other than a reader (the chain)."""
    for column in columns:
        COLUMN_COVERAGE[(table, column)] = f"checked by {by}"


def declare_unchecked(table: str, reasons: Mapping[str, str]) -> None:
    """Declare columns ``audit verify`` does not compare, each with the reason (shown by a test)."""
    for column, reason in reasons.items():
        if not reason.strip():
            raise ValueError(f"{table}.{column}: say why it is not checked")
        COLUMN_COVERAGE[(table, column)] = f"not checked: {reason}"


def load_state_readers() -> Mapping[str, StateReader]:
    """Import every ``reviewtool.<package>.ledger`` module (each registers its readers); the registry.

    Packages are found on disk, so a new stage is picked up without editing a list; packages
    without a ``ledger.py`` (the CLI, the TUI) are not imported at all.
    """
    import reviewtool

    for path in reviewtool.__path__:
        for module in pkgutil.iter_modules([path]):
            if module.ispkg and (Path(path) / module.name / "ledger.py").is_file():
                importlib.import_module(f"reviewtool.{module.name}.ledger")
    return STATE_READERS


def only(
    ids: Collection[str] | None, found: Iterable[tuple[str, Any]]
) -> Iterator[tuple[str, Any]]:
    """The pairs of ``found`` whose id is in ``ids`` (all of them when ``ids`` is None)."""
    if ids is None:
        yield from found
        return
    wanted = ids if isinstance(ids, (set, frozenset, dict)) else set(ids)
    for entity_id, snapshot in found:
        if entity_id in wanted:
            yield entity_id, snapshot


def int_ids(ids: Collection[str], part: int = 0) -> list[int]:
    """The distinct integers found at ``part`` of ``:``-separated ids (others skipped), sorted."""
    found: set[int] = set()
    for entity_id in ids:
        try:
            found.add(int(entity_id.split(":")[part]))
        except (ValueError, IndexError):
            continue
    return sorted(found)


def chunks(values: list[int], size: int = 500) -> Iterator[list[int]]:
    """``values`` in lists of at most ``size`` (for ``IN (...)`` clauses)."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


# Dialects whose driver cursor ``stream`` and the ledger's event reader use directly (a test
# empties it to run the portable path, the one PostgreSQL takes, on SQLite).
RAW_CURSOR_DIALECTS: tuple[str, ...] = ("sqlite",)


def stream(session: Session, query: Any, size: int = 5000) -> Iterator[tuple[Any, ...]]:
    """The rows of a column ``select`` as plain tuples, fetched ``size`` at a time (no ORM objects).

    On SQLite the driver's cursor runs the compiled statement itself (the columns read this way are
    integers and text, which the driver returns as SQLAlchemy would).
    """
    connection = session.connection()
    if connection.dialect.name not in RAW_CURSOR_DIALECTS:
        for row in connection.execute(query.execution_options(yield_per=size)):
            yield tuple(row)
        return
    compiled = query.compile(
        dialect=connection.dialect, compile_kwargs={"render_postcompile": True}
    )
    params = [compiled.params[name] for name in compiled.positiontup or ()]
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(str(compiled), params)
        while chunk := cursor.fetchmany(size):
            yield from chunk
    finally:
        cursor.close()


def json_or_text(value: str) -> Any:
    """A JSON column's value; its raw text when it is not JSON (edited by hand: a mismatch)."""
    try:
        return json.loads(value)
    except ValueError:
        return value


def member_names(session: Session) -> dict[int, str]:
    """Member id -> name (the ledger names people; the tables hold ids)."""
    return {mid: name for mid, name in session.exec(select(Member.id, Member.name)).all() if mid}


def member_name(names: Mapping[int, str], member_id: int | None) -> str | None:
    """The name of member ``member_id`` for a snapshot: None for None, ``#<id>`` for an id that
    names no member (only an edit behind the tool's back writes one, and it then differs from
    every name the ledger holds)."""
    if member_id is None:
        return None
    return names.get(member_id, f"#{member_id}")


def who_names(
    session: Session, column: Any, key: Any, ids: Collection[str] | None
) -> Iterator[tuple[str, Any]]:
    """A ``who`` reader (see ``StateReader``) over a ``<verb>_by_id`` column: (str(key), the
    member's name) for every row, or for the rows whose key is in ``ids``. ``member`` is joined
    (outer, so a row whose id names nobody is read as ``#<id>`` and fails the comparison)."""
    query = select(key, column, Member.name).outerjoin(Member, col(Member.id) == column)
    for part in [None] if ids is None else list(chunks(int_ids(ids))):
        chunk = query if part is None else query.where(col(key).in_(part))
        for row_id, member_id, name in stream(session, chunk):
            if member_id is None:  # made by reviewtool itself (a schema upgrade)
                yield str(row_id), SYSTEM_ACTOR
                continue
            yield str(row_id), name if name is not None else member_name({}, member_id)
