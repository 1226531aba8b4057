"""What ``audit verify`` checks of votes, resolutions, labels, reports and the
references every row follows (``reference_link``).

The readers give the same snapshots as ``storage.snapshots.vote_snapshot``, ``resolution_snapshot``
and ``report_snapshot`` (the forms the services put in their events), read as column tuples. See
``storage.snapshots`` for the registry.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from typing import Any

from sqlmodel import Session, col, select

from reviewtool.storage.models import (
    FullTextReport,
    PrescreenRemoval,
    RecordLabel,
    Reference,
    ScreeningDecision,
    ScreeningResolution,
)
from reviewtool.storage.references import link_errors, wanted_references
from reviewtool.storage.snapshots import (
    chunks,
    declare_unchecked,
    int_ids,
    label_key,
    member_names,
    only,
    register_state,
    stream,
    vote_key,
)


def _by_record(ids: Collection[str] | None) -> list[list[int] | None]:
    """Every row at once (None), or the record ids of ``ids`` in chunks for ``IN`` clauses."""
    return [None] if ids is None else list(chunks(int_ids(ids)))


def _votes(session: Session, ids: Collection[str] | None) -> Iterator[tuple[str, Any]]:
    names = member_names(session)
    d = ScreeningDecision
    columns: list[Any] = [d.record_id, d.stage, d.member_id, d.decision, d.reason, d.note]
    query = select(*columns).where(col(d.superseded_at).is_(None))
    for part in _by_record(ids):
        chunk = query if part is None else query.where(col(d.record_id).in_(part))
        found = (
            (
                vote_key(record_id, stage, names.get(member_id, f"#{member_id}")),
                {"decision": decision, "reason": reason, "note": note},
            )
            for record_id, stage, member_id, decision, reason, note in stream(session, chunk)
        )
        yield from only(ids, found)


def _vote_history(session: Session, ids: Collection[str] | None) -> Iterator[tuple[str, Any, bool]]:
    """Every vote row, superseded ones included: each reviewer's rows on a reference together,
    in the order written (ids grow), with whether it is the current vote."""
    names = member_names(session)
    d = ScreeningDecision
    columns: list[Any] = [d.record_id, d.stage, d.member_id, d.decision, d.reason, d.note]
    columns.append(d.superseded_at)
    query = select(*columns).order_by(col(d.record_id), col(d.stage), col(d.member_id), col(d.id))
    group: tuple[int, str, int] | None = None
    key = ""
    for record_id, stage, member_id, decision, reason, note, superseded in stream(session, query):
        if (record_id, stage, member_id) != group:
            group = (record_id, stage, member_id)
            key = vote_key(record_id, stage, names.get(member_id, f"#{member_id}"))
        if ids is None or key in ids:
            yield key, {"decision": decision, "reason": reason, "note": note}, superseded is None


def _resolutions(session: Session, ids: Collection[str] | None) -> Iterator[tuple[str, Any]]:
    names = member_names(session)
    r = ScreeningResolution
    columns: list[Any] = [
        r.record_id,
        r.stage,
        r.member_id,
        r.decision,
        r.reason,
        r.note,
        r.contested_at,
        r.contested_because,
    ]
    query = select(*columns)
    query = query.where(col(r.reopened_at).is_(None))
    for part in _by_record(ids):
        chunk = query if part is None else query.where(col(r.record_id).in_(part))
        for (
            record_id,
            stage,
            member_id,
            decision,
            reason,
            note,
            contested_at,
            because,
        ) in stream(session, chunk):
            snapshot: dict[str, Any] = {
                "decision": decision,
                "reason": reason,
                "note": note,
                "adjudicator": names.get(member_id, f"#{member_id}"),
            }
            # Set together by the service; either one alone is an edit, and shows as one (no
            # event ever writes the second key).
            if contested_at is not None:
                snapshot["contested"] = because
            elif because is not None:
                snapshot["contested_because_without_contested_at"] = because
            key = f"{record_id}:{stage}"
            if ids is None or key in ids:
                yield key, snapshot


def _labels(session: Session, ids: Collection[str] | None) -> Iterator[tuple[str, Any]]:
    names = member_names(session)
    query = select(RecordLabel.record_id, RecordLabel.member_id, RecordLabel.label)
    for part in _by_record(ids):
        chunk = query if part is None else query.where(col(RecordLabel.record_id).in_(part))
        found: dict[str, list[str]] = {}
        for record_id, member_id, label in stream(session, chunk):
            key = label_key(record_id, names.get(member_id, f"#{member_id}"))
            found.setdefault(key, []).append(label)
        yield from only(ids, ((key, sorted(labels)) for key, labels in found.items()))


def _reports(session: Session, ids: Collection[str] | None) -> Iterator[tuple[str, Any]]:
    """Reports keyed by their own id (schema 0007: a reference has any number of reports)."""
    f = FullTextReport
    columns: list[Any] = [f.id, f.record_id, f.kind, f.status, f.location, f.reason, f.note]
    query = select(*columns)
    for part in _by_record(ids):
        chunk = query if part is None else query.where(col(f.id).in_(part))
        for report_id, record_id, kind, status, location, reason, note in stream(session, chunk):
            yield (
                str(report_id),
                {
                    "record": record_id,
                    "kind": kind,
                    "status": status,
                    "location": location,
                    "reason": reason,
                    "note": note,
                },
            )


def _reference_links(session: Session, ids: Collection[str] | None) -> Iterator[tuple[str, Any]]:
    """Derived, never recorded: every ``reference_id`` follows its record (``storage.references``)
    and the ``reference`` table holds exactly the groups' references. The ledger's state for this
    kind is always empty, so anything listed here fails verification."""
    errors = dict(link_errors(session))
    wanted = set(wanted_references(session).values())
    existing = {r for r in session.exec(select(Reference.id)).all() if r is not None}
    for ref in sorted(existing - wanted):
        errors[f"reference:{ref}"] = f"reference {ref} holds no duplicate group"
    for ref in sorted(wanted - existing):
        errors[f"reference:{ref}"] = f"reference {ref} of a duplicate group is missing"
    yield from only(ids, sorted(errors.items()))


register_state(
    "screening_vote",
    _votes,
    history=_vote_history,
    covers={
        "screening_decision": (
            "record_id",
            "stage",
            "member_id",
            "decision",
            "reason",
            "note",
            "superseded_at",
        )
    },
)
register_state(
    "screening_resolution",
    _resolutions,
    covers={
        "screening_resolution": (
            "record_id",
            "stage",
            "member_id",
            "decision",
            "reason",
            "note",
            "reopened_at",
            "contested_at",
            "contested_because",
        )
    },
)
register_state(
    "record_label", _labels, covers={"record_label": ("record_id", "member_id", "label")}
)


def _report_authors(session: Session, ids: Collection[str] | None) -> Iterator[tuple[str, Any]]:
    f = FullTextReport
    rows = stream(session, select(f.id, f.recorded_by))
    yield from only(ids, ((str(report_id), who) for report_id, who in rows))


register_state(
    "fulltext_report",
    _reports,
    who=_report_authors,
    covers={
        "fulltext_report": (
            "id",
            "record_id",
            "kind",
            "status",
            "location",
            "reason",
            "note",
            "recorded_by",
        )
    },
)
register_state(
    "reference_link",
    _reference_links,
    covers={
        "reference": ("id",),
        "record": ("reference_id",),
        "screening_decision": ("reference_id",),
        "screening_resolution": ("reference_id",),
        "record_label": ("reference_id",),
        "fulltext_report": ("reference_id",),
    },
)
_ID = "a surrogate key; the row is known by the columns its snapshot key is made of"
declare_unchecked(
    "screening_decision",
    {
        "id": _ID,
        "decided_at": "a copy for listings; the screening-decision event's time is the audited one",
        "superseded_because": "why a vote stopped being current; the event that superseded it "
        "(a new vote, or the regrouping that merged references) is the audited record",
        "report_id": "which report a full-text vote assessed: the reference's latest retrieved "
        "report when it was cast (derived; the vote's snapshot does not carry it)",
        # superseded votes: compared too, all of a reviewer's votes on a reference in order
    },
)
declare_unchecked(
    "screening_resolution",
    {
        "id": _ID,
        "resolved_at": "a copy for listings; the screening-resolution event's time is the audited one",
        "reopened_because": "why it was reopened; the screening-decision event that reopened it "
        "holds the old and new vote, hashed",
        "report_id": "which report a full-text resolution assessed: the reference's latest "
        "retrieved report when it was made (derived; the resolution's snapshot does not carry it)",
    },
)
declare_unchecked(
    "record_label",
    {
        "id": _ID,
        "added_at": "a copy for listings; the labels-changed event's time is the audited one",
    },
)
declare_unchecked(
    "fulltext_report",
    {
        "recorded_at": "a copy for listings; the fulltext-report event's time is the audited one",
    },
)


def _removals(session: Session, ids: Collection[str] | None) -> Iterator[tuple[str, Any]]:
    """Record id naming a reference removed before screening -> {"reason": why, "by": owner}."""
    p = PrescreenRemoval
    query = select(p.record_id, p.reason, p.removed_by)
    for part in _by_record(ids):
        chunk = query if part is None else query.where(col(p.record_id).in_(part))
        for record_id, reason, by in stream(session, chunk):
            yield str(record_id), {"reason": reason, "by": by}


register_state(
    "prescreen_removal",
    _removals,
    covers={"prescreen_removal": ("record_id", "reason", "removed_by")},
)
declare_unchecked(
    "prescreen_removal",
    {"removed_at": "a copy for listings; the references-removed event's time is the audited one"},
)
