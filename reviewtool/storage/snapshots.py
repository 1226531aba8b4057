"""Current state of each audited entity, in the form the ledger stores it.

Services put these snapshots in their events' ``after``; ``audit verify`` replays the ledger and
compares the result with what these functions read now, so an edit made behind the tool's back (a
role changed with an SQL client, a setting deleted) is caught. A stage that adds audited tables adds
its snapshot function to ``ENTITY_STATE``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from typing import Any

from sqlmodel import Session, col, select

from reviewtool.storage.models import (
    AnalysisRun,
    DedupPair,
    FullTextReport,
    ImportBatch,
    Member,
    MemberRole,
    Record,
    RecordLabel,
    ReviewInfo,
    ReviewSetting,
    ScreeningDecision,
    ScreeningResolution,
    StudyLink,
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


def records_digest(rows: list[tuple[Any, ...]]) -> str:
    """sha256 over a batch's records (tuples of ``RECORD_FIELDS``, ordered by id)."""
    digest = hashlib.sha256()
    for row in rows:
        digest.update(json.dumps(list(row), ensure_ascii=False, separators=(",", ":")).encode())
        digest.update(b"\n")
    return digest.hexdigest()


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


def pair_snapshot(pair: DedupPair | Mapping[str, Any]) -> dict[str, Any]:
    """What the ledger records of a candidate pair (a row or a dict of its columns)."""
    fields = ("record_a", "record_b", "status", "decided_by")
    if isinstance(pair, Mapping):
        return {k: pair.get(k) for k in fields}
    return {k: getattr(pair, k) for k in fields}


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


def _batches(session: Session) -> dict[str, Any]:
    rows_by_batch = _record_rows(session)
    return {
        str(b.id): batch_snapshot(b, records_digest(rows_by_batch.get(b.id or 0, [])))
        for b in session.exec(select(ImportBatch)).all()
    }


def _duplicates(session: Session) -> dict[str, Any]:
    rows = session.exec(
        select(Record.id, Record.duplicate_of).where(col(Record.duplicate_of).is_not(None))
    ).all()
    return {str(rid): target for rid, target in rows}


def _pairs(session: Session) -> dict[str, Any]:
    return {str(p.id): pair_snapshot(p) for p in session.exec(select(DedupPair)).all()}


def vote_key(record_id: int, stage: str, reviewer: str) -> str:
    """The ledger id of one reviewer's current vote on one reference at one stage."""
    return f"{record_id}:{stage}:{reviewer}"


def vote_snapshot(decision: ScreeningDecision) -> dict[str, Any]:
    """What the ledger records of a current vote."""
    return {"decision": decision.decision, "reason": decision.reason, "note": decision.note}


def resolution_snapshot(resolution: ScreeningResolution, adjudicator: str) -> dict[str, Any]:
    """What the ledger records of a current resolution.

    ``contested`` (why the votes now agree against it) is there only once it is contested, so the
    snapshots of resolutions recorded before schema 0005 still match.
    """
    snapshot: dict[str, Any] = {
        "decision": resolution.decision,
        "reason": resolution.reason,
        "note": resolution.note,
        "adjudicator": adjudicator,
    }
    if resolution.contested_at is not None:
        snapshot["contested"] = resolution.contested_because
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


def _votes(session: Session) -> dict[str, Any]:
    names = dict(session.exec(select(Member.id, Member.name)).all())
    rows = session.exec(
        select(ScreeningDecision).where(col(ScreeningDecision.superseded_at).is_(None))
    ).all()
    return {vote_key(d.record_id, d.stage, names[d.member_id]): vote_snapshot(d) for d in rows}


def _resolutions(session: Session) -> dict[str, Any]:
    names = dict(session.exec(select(Member.id, Member.name)).all())
    rows = session.exec(
        select(ScreeningResolution).where(col(ScreeningResolution.reopened_at).is_(None))
    ).all()
    return {f"{r.record_id}:{r.stage}": resolution_snapshot(r, names[r.member_id]) for r in rows}


def _reports(session: Session) -> dict[str, Any]:
    return {str(r.id): report_snapshot(r) for r in session.exec(select(FullTextReport)).all()}


def analysis_run_snapshot(run: AnalysisRun) -> dict[str, Any]:
    """What the ledger records of an analysis run (results by their hash: they can be large)."""
    return {
        "name": run.name,
        "settings": json.loads(run.settings),
        "input_sha256": run.input_sha256,
        "input_source": run.input_source,
        "results_sha256": hashlib.sha256(run.results.encode("utf-8")).hexdigest(),
    }


def _analysis_runs(session: Session) -> dict[str, Any]:
    return {str(r.id): analysis_run_snapshot(r) for r in session.exec(select(AnalysisRun)).all()}


def _reviews(session: Session) -> dict[str, Any]:
    return {str(r.id): review_snapshot(r) for r in session.exec(select(ReviewInfo)).all()}


def _settings(session: Session) -> dict[str, Any]:
    return {s.key: json.loads(s.value) for s in session.exec(select(ReviewSetting)).all()}


def _members(session: Session) -> dict[str, Any]:
    roles: dict[int, list[str]] = {}
    for member_id, role in session.exec(select(MemberRole.member_id, MemberRole.role)).all():
        roles.setdefault(member_id, []).append(role)
    return {
        str(m.id): {
            "name": m.name,
            "active": bool(m.active),
            "roles": sorted(roles.get(m.id or 0, [])),
        }
        for m in session.exec(select(Member)).all()
    }


def label_key(record_id: int, member: str) -> str:
    """The ledger id of one member's labels on one reference."""
    return f"{record_id}:{member}"


def _labels(session: Session) -> dict[str, Any]:
    names = dict(session.exec(select(Member.id, Member.name)).all())
    found: dict[str, list[str]] = {}
    for record_id, member_id, label in session.exec(
        select(RecordLabel.record_id, RecordLabel.member_id, RecordLabel.label)
    ).all():
        found.setdefault(label_key(record_id, names[member_id]), []).append(label)
    return {key: sorted(labels) for key, labels in found.items()}


def _study_links(session: Session) -> dict[str, Any]:
    rows = session.exec(select(StudyLink.record_id, StudyLink.study_record_id)).all()
    return {str(record): {"study": study} for record, study in rows}


def _reference_links(session: Session) -> dict[str, Any]:
    # Derived, never recorded: every reference_id follows its record (storage.references); the
    # ledger's state for this kind is always empty, so any row listed here fails verification.
    from reviewtool.storage.references import link_errors

    return dict(link_errors(session))


# entity_type (as in audit events) -> reader of {entity_id: snapshot} for every live entity.
ENTITY_STATE: dict[str, Callable[[Session], dict[str, Any]]] = {
    "review": _reviews,
    "review_setting": _settings,
    "member": _members,
    "import_batch": _batches,
    "record_duplicate": _duplicates,
    "dedup_pair": _pairs,
    "screening_vote": _votes,
    "screening_resolution": _resolutions,
    "fulltext_report": _reports,
    "analysis_run": _analysis_runs,
    "record_label": _labels,
    "reference_link": _reference_links,
    "study_link": _study_links,
}
