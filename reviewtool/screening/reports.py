"""Screening: full-text reports, the units voted on at full text.

A reference included at title/abstract gets one report, status ``sought``, at the moment of
inclusion (``seek_reports``, called by every change that can include it); ``set_fulltext``
records its location, a further report (a registry entry beside the article), or that it was not
retrieved. ``choose_report`` picks the report a full-text vote or resolution is on. Kinds and
statuses: shared/spec/domain.md and schema 0009.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlmodel import Session, col, select

from reviewtool import audit
from reviewtool.access import require, sight
from reviewtool.audit.events import FullTextRecorded
from reviewtool.domain import Action, Stage
from reviewtool.errors import InvalidInput, StageOrderError
from reviewtool.screening.rules import _check_reference
from reviewtool.storage.models import FullTextReport, Member
from reviewtool.storage.queries import references_to_seek, stage_outcomes
from reviewtool.storage.references import primary_of
from reviewtool.storage.snapshots import report_snapshot

NOT_RETRIEVED = "not_retrieved"


# A report asked for whose document is not in hand yet (no location); schema 0009.
SOUGHT = "sought"


REPORT_STATUSES = (SOUGHT, "retrieved", NOT_RETRIEVED)


# The kinds of report (shared/spec/domain.md).
REPORT_KINDS = (
    "journal article",
    "conference abstract",
    "registry entry",
    "thesis",
    "preprint",
    "other",
)


RETRIEVED = "retrieved"


def _reports_of(session: Session, reference_id: int) -> list[FullTextReport]:
    """The reports of a reference, oldest first."""
    return list(
        session.exec(
            select(FullTextReport)
            .where(FullTextReport.reference_id == reference_id)
            .order_by(col(FullTextReport.id))
        ).all()
    )


def _report_words(report: FullTextReport | dict[str, Any]) -> str:
    """``7 (registry entry, retrieved)``: how a report is named in a message."""
    if isinstance(report, dict):
        return f"{report['id']} ({report['kind']}, {report['status']})"
    return f"{report.id} ({report.kind}, {report.status})"


def choose_report(
    record_id: int, reports: list[FullTextReport], report: int | None
) -> FullTextReport | None:
    """The report a full-text vote or resolution on reference ``record_id`` is on.

    ``reports``: the reference's reports, oldest first; ``report``: the one named (``--report``, a
    ``report`` column), or None for the default: the only report that can be assessed (any status
    but not retrieved), or None when the reference has no report yet (the caller records one as
    sought). InvalidInput when the named report is not one of the reference's (naming the
    reference it belongs to is left to the caller), was not retrieved, or when no report is named
    and the reference has several (the message names them).
    """
    if report is not None:
        found = next((r for r in reports if r.id == report), None)
        if found is None:
            raise InvalidInput(
                f"report {report} is not a report of record {record_id}; its reports: "
                + ("; ".join(_report_words(r) for r in reports) or "none recorded")
            )
        if found.status == NOT_RETRIEVED:
            raise InvalidInput(
                f"report {report} of record {record_id} was not retrieved, so it cannot be assessed"
            )
        return found
    candidates = [r for r in reports if r.status != NOT_RETRIEVED]
    if len(candidates) > 1:
        raise InvalidInput(
            f"record {record_id} has {len(candidates)} reports; say which one you assessed "
            f"(--report, or a report column): {'; '.join(_report_words(r) for r in candidates)}"
        )
    return candidates[0] if candidates else None


def _sought_report(session: Session, actor: str, reference_id: int) -> FullTextReport:
    """Record a report as sought for a reference that has none, with its ``fulltext-report``
    event."""
    report, event = _new_sought(session, actor, reference_id)
    audit.record(session, actor, event)
    return report


def _new_sought(
    session: Session, actor: str, reference_id: int
) -> tuple[FullTextReport, FullTextRecorded]:
    """A report, status sought, written for ``reference_id``, and the event that records it (for
    the caller to write: a bulk import writes it in order with its votes' events)."""
    report = FullTextReport(
        record_id=primary_of(session, reference_id),
        reference_id=reference_id,
        kind=REPORT_KINDS[0],
        status=SOUGHT,
        recorded_by_id=session.exec(select(Member.id).where(Member.name == actor)).one(),
        recorded_at=audit.log.utc_now(),
    )
    session.add(report)
    session.flush()
    assert report.id is not None
    return report, FullTextRecorded(
        record_id=report.record_id, before=None, after=report_snapshot(report), report_id=report.id
    )


def seek_reports(session: Session, actor: str, refs: Collection[int] | None = None) -> list[int]:
    """Record one report, status sought, for each reference (of ``refs``; all when None) included
    at title/abstract with no report yet (``queries.references_to_seek``), each with its
    ``fulltext-report`` event written by ``actor``. Called by every change that can include a
    reference at title/abstract (a vote, a resolution, their bulk imports, an undo), so the
    reports sought exist as rows from the moment of inclusion, whoever votes at full text first
    (a reviewer's open full-text work never creates what another sees). Returns the references."""
    found = references_to_seek(session, refs)
    for ref in found:
        _sought_report(session, actor, ref)
    return found


def _report_for(
    session: Session, actor: str, reference_id: int, stage: Stage, report: int | None
) -> int | None:
    """The unit's report at full text (None at title/abstract, where ``report`` must be None):
    the one named, else the default (``choose_report``), recording one as sought when the
    reference has none (included before schema 0009's upgrade recorded them, or re-formed by a
    dedup split after its inclusion: ``seek_reports`` records the others at inclusion)."""
    if stage is not Stage.FULL_TEXT:
        if report is not None:
            raise InvalidInput("a report is named at full text only")
        return None
    chosen = choose_report(reference_id, _reports_of(session, reference_id), report)
    if chosen is None:
        chosen = _sought_report(session, actor, reference_id)
    assert chosen.id is not None
    return chosen.id


def _existing_report(
    session: Session, ref: int | None, stage: Stage, report: int | None
) -> int | None:
    """The report a full-text vote would be on, without recording one (None: none yet, or
    title/abstract); InvalidInput as ``choose_report``."""
    if ref is None or stage is not Stage.FULL_TEXT:
        return None
    chosen = choose_report(ref, _reports_of(session, ref), report)
    return None if chosen is None else chosen.id


def set_fulltext(
    session: Session,
    *,
    actor: str,
    record_id: int,
    location: str | None = None,
    not_retrieved: bool = False,
    note: str | None = None,
    kind: str = "journal article",
    reason: str | None = None,
    add: bool = False,
    sought: bool = False,
    report: int | None = None,
) -> dict[str, Any]:
    """Record a report (a full text: file path or URL) for a reference, that it is sought (asked
    for, not in hand: ``sought``), or that it was not retrieved (``reason``: why). ``record_id``
    is any record of the reference.

    Without ``add`` this changes the reference's report ``report`` (by default its latest;
    creating the first); with ``add`` it records a further report (a registry entry beside the
    article, a thesis). ``kind`` is one of ``REPORT_KINDS``. Returns the report's snapshot with
    its ``id``. InvalidInput unless exactly one of a location, ``sought`` and ``not_retrieved``
    is given, for an unknown kind, or a ``report`` of another reference; StageOrderError when
    the reference is not included at title/abstract.
    """
    recorder = require(session, actor, Action.SCREEN, doing="record a full-text report")
    assert recorder.id is not None
    sight(session, actor).check_stage_open(Stage.FULL_TEXT.value)
    if [bool(location), not_retrieved, sought].count(True) != 1:
        raise InvalidInput("give one of a file path / URL, --sought or --not-retrieved")
    if add and report is not None:
        raise InvalidInput("--add records a new report; --report changes an existing one")
    if kind not in REPORT_KINDS:
        raise InvalidInput(f"unknown report kind {kind!r}; kinds: {'; '.join(REPORT_KINDS)}")
    record_id = _check_reference(session, record_id)
    outcome = stage_outcomes(session, Stage.TITLE_ABSTRACT.value).get(record_id)
    if outcome is None or not outcome.goes_on:
        raise StageOrderError(
            f"record {record_id} is not included at title/abstract; no full text is sought for it"
        )
    existing = _reports_of(session, record_id)
    if report is not None:
        changed = next((r for r in existing if r.id == report), None)
        if changed is None:
            raise InvalidInput(
                f"report {report} is not a report of record {record_id}; its reports: "
                + ("; ".join(_report_words(r) for r in existing) or "none recorded")
            )
    else:
        changed = None if add or not existing else existing[-1]
    before = report_snapshot(changed) if changed else None
    if changed is None:
        changed = FullTextReport(
            record_id=primary_of(session, record_id),
            reference_id=record_id,
            status="",
            recorded_by_id=recorder.id,
            recorded_at="",
        )
    changed.status = NOT_RETRIEVED if not_retrieved else SOUGHT if sought else RETRIEVED
    changed.location = location or None
    changed.kind = kind
    changed.reason = ((reason or "").strip() or None) if not_retrieved else None
    changed.note = (note or "").strip() or None
    changed.recorded_by_id, changed.recorded_at = recorder.id, audit.log.utc_now()
    session.add(changed)
    session.flush()
    after = report_snapshot(changed)
    assert changed.id is not None
    audit.record(
        session,
        actor,
        FullTextRecorded(
            record_id=changed.record_id, before=before, after=after, report_id=changed.id
        ),
    )
    return {"id": changed.id, **after}


def fulltext_reports(session: Session, reference_id: int) -> list[dict[str, Any]]:
    """The reports recorded for a reference (id, kind, status, location, reason, note), oldest
    first."""
    rows = session.exec(
        select(FullTextReport)
        .where(FullTextReport.reference_id == reference_id)
        .order_by(col(FullTextReport.id))
    ).all()
    return [{"id": r.id, **report_snapshot(r)} for r in rows]
