"""What ``audit verify`` checks of votes, resolutions, labels, reports and the
references every row follows (``reference_link``).

The readers give the same snapshots as ``storage.snapshots.vote_snapshot``, ``resolution_snapshot``
and ``report_snapshot`` (the forms the services put in their events), read as column tuples. See
``storage.snapshots`` for the registry.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from typing import Any

from sqlalchemy import case
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
    resolution_key,
    stream,
    vote_key,
    who_names,
)


def _by_record(ids: Collection[str] | None) -> list[list[int] | None]:
    """Every row at once (None), or the record ids of ``ids`` in chunks for ``IN`` clauses."""
    return [None] if ids is None else list(chunks(int_ids(ids)))


def _vote(
    decision: str,
    reason: str | None,
    note: str | None,
    report: int | None,
    in_ledger: Any,
    order: str | None = None,
    model: str | None = None,
) -> dict[str, Any]:
    """A vote's snapshot from its columns (as ``vote_snapshot``: ``report`` when its event named
    it; ``order`` and ``model``, schema 0017, when set)."""
    snapshot: dict[str, Any] = {"decision": decision, "reason": reason, "note": note}
    if in_ledger:
        snapshot["report"] = report
    if order is not None:
        snapshot["order"] = order
    if model is not None:
        snapshot["model"] = model
    return snapshot


_VOTE_COLUMNS = ("record_id", "stage", "member_id", "decision", "reason", "note", "report_id")
_STAMP_COLUMNS = ("queue_order", "model_version")


def _votes(session: Session, ids: Collection[str] | None) -> Iterator[tuple[str, Any]]:
    names = member_names(session)
    d = ScreeningDecision
    columns: list[Any] = [getattr(d, name) for name in _VOTE_COLUMNS]
    columns.append(d.report_in_ledger)
    columns += [getattr(d, name) for name in _STAMP_COLUMNS]
    query = select(*columns).where(col(d.superseded_at).is_(None))
    for part in _by_record(ids):
        chunk = query if part is None else query.where(col(d.record_id).in_(part))
        found = (
            (
                vote_key(
                    record_id,
                    stage,
                    names.get(member_id, f"#{member_id}"),
                    report if in_ledger else None,
                ),
                _vote(decision, reason, note, report, in_ledger, order, model),
            )
            for (
                record_id,
                stage,
                member_id,
                decision,
                reason,
                note,
                report,
                in_ledger,
                order,
                model,
            ) in stream(session, chunk)
        )
        yield from only(ids, found)


def _vote_history(session: Session, ids: Collection[str] | None) -> Iterator[tuple[str, Any, bool]]:
    """Every vote row, superseded ones included: each reviewer's rows on a reference (at full text
    since schema 0009: on a report) together, in the order written (ids grow), with whether it is
    the current vote."""
    names = member_names(session)
    d = ScreeningDecision
    columns: list[Any] = [getattr(d, name) for name in _VOTE_COLUMNS]
    columns += [d.report_in_ledger, d.superseded_at]
    columns += [getattr(d, name) for name in _STAMP_COLUMNS]
    # Rows whose snapshot names no report sort as report 0, before those that name one.
    unit = case((col(d.report_in_ledger), col(d.report_id)), else_=0)
    query = select(*columns).order_by(
        col(d.record_id), col(d.stage), col(d.member_id), unit, col(d.id)
    )
    group: tuple[int, str, int, int | None] | None = None
    key = ""
    for row in stream(session, query):
        (record_id, stage, member_id, decision, reason, note, report, in_ledger, superseded) = row[
            :9
        ]
        order, model = row[9:]
        named = report if in_ledger else None
        if (record_id, stage, member_id, named) != group:
            group = (record_id, stage, member_id, named)
            key = vote_key(record_id, stage, names.get(member_id, f"#{member_id}"), named)
        if ids is None or key in ids:
            yield (
                key,
                _vote(decision, reason, note, report, in_ledger, order, model),
                superseded is None,
            )


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
        r.report_id,
        r.report_in_ledger,
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
            report,
            in_ledger,
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
            if in_ledger:
                snapshot["report"] = report
            key = resolution_key(record_id, stage, report if in_ledger else None)
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


def _report_link_errors(session: Session) -> dict[str, str]:
    """Votes and resolutions whose ``report_id`` cannot be right: one at title/abstract, none at
    full text, or a report of another reference. This holds for every row, those whose snapshot
    names the report (since schema 0009) and those before, whose report was the reference's."""
    reference_of = dict(stream(session, select(FullTextReport.id, FullTextReport.reference_id)))
    errors: dict[str, str] = {}
    for model, kind in ((ScreeningDecision, "vote"), (ScreeningResolution, "resolution")):
        query = select(model.id, model.stage, model.reference_id, model.report_id)
        for row_id, stage, ref, report in stream(session, query):
            key = f"{model.__tablename__}:{row_id}"
            if stage != "fulltext":
                if report is not None:
                    errors[key] = f"{kind} {row_id} at {stage} names report {report}"
            elif report is None:
                errors[key] = f"full-text {kind} {row_id} names no report"
            elif reference_of.get(report) != ref:
                errors[key] = (
                    f"full-text {kind} {row_id} names report {report} of another reference"
                )
    return errors


def _reference_links(session: Session, ids: Collection[str] | None) -> Iterator[tuple[str, Any]]:
    """Derived, never recorded: every ``reference_id`` follows its record (``storage.references``)
    and the ``reference`` table holds exactly the groups' references. The ledger's state for this
    kind is always empty, so anything listed here fails verification."""
    errors = dict(link_errors(session))
    errors.update(_report_link_errors(session))
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
            "report_id",
            "report_in_ledger",
            "queue_order",
            "model_version",
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
            "report_id",
            "report_in_ledger",
        )
    },
)
register_state(
    "record_label", _labels, covers={"record_label": ("record_id", "member_id", "label")}
)


def _report_authors(session: Session, ids: Collection[str] | None) -> Iterator[tuple[str, Any]]:
    yield from who_names(session, FullTextReport.recorded_by_id, FullTextReport.id, ids)


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
            "recorded_by_id",
        )
    },
)
register_state(
    "reference_link",
    _reference_links,
    covers={
        "reference": ("id",),
        "record": ("reference_id",),
        "screening_decision": ("reference_id", "report_id"),
        "screening_resolution": ("reference_id", "report_id"),
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

# Issue 15: calibration rounds and stops (their readers register on import).
from reviewtool.screening import queue_ledger as _queue_ledger  # noqa: E402, F401
