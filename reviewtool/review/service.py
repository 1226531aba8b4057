"""Create and open reviews, read and change their settings, report where they stand."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from reviewtool import audit
from reviewtool.access import require
from reviewtool.audit.events import (
    MemberAdded,
    ReviewCreated,
    SchemaUpgraded,
    SettingChanged,
)
from reviewtool.domain import SCREENING_STAGES, SETTINGS, Action, Role, ScreeningStatus
from reviewtool.errors import InvalidInput, NotFound
from reviewtool.storage import Review, create_review_database, open_review, schema, sqlite_file
from reviewtool.storage.models import (
    AuditEvent,
    DedupPair,
    ImportBatch,
    Member,
    MemberRole,
    Record,
    ReviewInfo,
    ReviewSetting,
)
from reviewtool.storage.queries import dedup_queue_size, stage_outcomes
from reviewtool.storage.snapshots import member_snapshot, review_snapshot

SYSTEM_ACTOR = "reviewtool"


def _validated_settings(settings: dict[str, str] | None) -> dict[str, object]:
    parsed: dict[str, object] = {}
    for key, text in (settings or {}).items():
        parsed[key] = parse_setting(key, text)
    return parsed


def parse_setting(key: str, text: str) -> object:
    """The value of setting ``key`` typed as ``text``, or InvalidInput naming the field."""
    spec = SETTINGS.get(key)
    if spec is None:
        raise InvalidInput(
            f"unknown setting {key!r}; known settings: {', '.join(sorted(SETTINGS))}"
        )
    try:
        return spec.parse(text)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None


def init_review(
    url: str,
    *,
    title: str,
    owner: str,
    question: str = "",
    settings: dict[str, str] | None = None,
) -> Review:
    """Create a review at ``url`` with ``owner`` as its first owner; one transaction after the schema."""
    if not title.strip():
        raise InvalidInput("the review needs a title (--title)")
    if not owner.strip():
        raise InvalidInput("the first owner needs a name (--as)")
    parsed = _validated_settings(settings)
    review = create_review_database(url)
    try:
        with review.transaction() as session:
            info = ReviewInfo(
                title=title.strip(),
                question=question,
                created_at=audit.log.utc_now(),
                created_by=owner,
            )
            session.add(info)
            session.flush()
            assert info.id is not None
            audit.record(
                session, owner, ReviewCreated(review_id=info.id, after=review_snapshot(info))
            )
            member = Member(name=owner, added_at=info.created_at)
            session.add(member)
            session.flush()
            assert member.id is not None
            session.add(MemberRole(member_id=member.id, role=Role.OWNER.value))
            session.flush()
            audit.record(
                session,
                owner,
                MemberAdded(member_id=member.id, after=member_snapshot(session, member)),
            )
            for key, value in parsed.items():
                _write_setting(session, owner, key, value)
    except BaseException:
        review.close()
        path = sqlite_file(url)
        if path is not None:
            for leftover in (
                path,
                path.with_name(path.name + "-wal"),
                path.with_name(path.name + "-shm"),
            ):
                leftover.unlink(missing_ok=True)
        raise
    return review


def open_existing(url: str) -> Review:
    """Open a review; when its schema had to be upgraded, record that in the ledger."""
    review = open_review(url)
    if review.upgraded_from is not None:
        with review.transaction() as session:
            audit.record(
                session,
                SYSTEM_ACTOR,
                SchemaUpgraded(
                    from_revision=review.upgraded_from,
                    to_revision=schema.HEAD,
                    backup=str(review.backup_path) if review.backup_path else None,
                ),
            )
    return review


def _write_setting(session: Session, actor: str, key: str, value: object) -> None:
    row = session.get(ReviewSetting, key)
    before = json.loads(row.value) if row is not None else None
    if row is not None and before == value:
        return
    text = audit.log.canonical_json(value)
    if row is None:
        row = ReviewSetting(key=key, value=text)
    else:
        row.value = text
    session.add(row)
    session.flush()
    audit.record(session, actor, SettingChanged(key=key, before=before, after=value))


def get_settings(session: Session) -> dict[str, Any]:
    """Every setting with its current value (the default where it was never set)."""
    stored = {s.key: json.loads(s.value) for s in session.exec(select(ReviewSetting)).all()}
    return {key: stored.get(key, spec.default) for key, spec in SETTINGS.items()}


def set_setting(session: Session, *, actor: str, key: str, value: str) -> object:
    """Change one setting (owners only); returns the parsed value."""
    require(session, actor, Action.CHANGE_SETTINGS)
    parsed = parse_setting(key, value)
    _write_setting(session, actor, key, parsed)
    return parsed


def review_info(session: Session) -> ReviewInfo:
    """The review row."""
    info = session.exec(select(ReviewInfo)).first()
    if info is None:
        raise NotFound("this database has no review row; was `reviewtool init` interrupted?")
    return info


@dataclass(frozen=True)
class Status:
    """Where a review stands: what `reviewtool status` prints."""

    title: str
    question: str
    schema_revision: str
    members: dict[str, list[str]]
    audit_events: int
    audit_head: str | None
    stages: dict[str, dict[str, int]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "title": self.title,
            "question": self.question,
            "schema_revision": self.schema_revision,
            "members": self.members,
            "audit": {"events": self.audit_events, "head": self.audit_head},
            "stages": self.stages,
        }


def review_status(session: Session) -> Status:
    """Counts per stage and the people of the review."""
    info = review_info(session)
    members: dict[str, list[str]] = {}
    for member in session.exec(select(Member).where(Member.active == True)).all():  # noqa: E712
        members[member.name] = member_snapshot(session, member)["roles"]
    count = session.exec(select(func.count()).select_from(AuditEvent)).one()
    head = session.exec(select(AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)).first()  # type: ignore[attr-defined]
    return Status(
        stages=_stage_counts(session),
        title=info.title,
        question=info.question,
        schema_revision=schema.HEAD,
        members=members,
        audit_events=int(count),
        audit_head=head,
    )


def _count(session: Session, query: Any) -> int:
    return int(session.exec(query).one())


def _stage_counts(session: Session) -> dict[str, dict[str, int]]:
    """Counts per PRISMA stage, read straight from the tables (stages not started are left out)."""
    stages: dict[str, dict[str, int]] = {}
    batches = _count(session, select(func.count()).select_from(ImportBatch))
    if batches:
        records = _count(session, select(func.count()).select_from(Record))
        stages["identification"] = {"import batches": batches, "records identified": records}
        duplicates = _count(
            session,
            select(func.count()).select_from(Record).where(col(Record.duplicate_of).is_not(None)),
        )
        pairs = _count(session, select(func.count()).select_from(DedupPair))
        if pairs or duplicates:
            pending = dedup_queue_size(session)
            stages["deduplication"] = {
                "duplicates removed": duplicates,
                "records after deduplication": records - duplicates,
                "pairs awaiting a person": pending,
            }
    for stage in SCREENING_STAGES:
        outcomes = stage_outcomes(session, stage.value)
        if not outcomes:
            continue
        counts = Counter(o.status for o in outcomes.values())
        stages[f"screening {stage.value}"] = {
            "references voted on": len(outcomes),
            "included": counts[ScreeningStatus.INCLUDED]
            + counts[ScreeningStatus.RESOLVED_INCLUDED],
            "excluded": counts[ScreeningStatus.EXCLUDED]
            + counts[ScreeningStatus.RESOLVED_EXCLUDED],
            "waiting for votes": counts[ScreeningStatus.OPEN],
            "conflicts open": counts[ScreeningStatus.CONFLICT],
        }
    return stages
