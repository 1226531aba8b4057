"""Create and open reviews, read and change their settings, report where they stand."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from reviewtool import audit
from reviewtool.access import Sight, require, sight
from reviewtool.audit.events import (
    MemberAdded,
    ReviewCreated,
    SchemaUpgraded,
    SettingChanged,
    StageUnblinded,
)
from reviewtool.domain import SCREENING_STAGES, SETTINGS, Action, Role, ScreeningStatus, Stage
from reviewtool.domain import SYSTEM_ACTOR as SYSTEM
from reviewtool.errors import InvalidInput, NotFound
from reviewtool.storage import Review, create_review_database, open_review, schema, sqlite_file
from reviewtool.storage.models import (
    AuditEvent,
    DedupPair,
    FullTextReport,
    ImportBatch,
    Member,
    MemberRole,
    PrescreenRemoval,
    Record,
    Reference,
    ReviewInfo,
    ReviewSetting,
    ScreeningDecision,
    ScreeningResolution,
)
from reviewtool.storage.queries import (
    dedup_queue_size,
    references_to_seek,
    setting,
    stage_outcomes,
    unobtainable,
)
from reviewtool.storage.references import primary_of
from reviewtool.storage.snapshots import (
    member_snapshot,
    report_snapshot,
    review_snapshot,
    vote_key,
)

SYSTEM_ACTOR = SYSTEM


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
            # The owner's member row comes first (the review names its creator by member id);
            # the events keep their order: review-created, then member-added.
            now = audit.log.utc_now()
            member = Member(name=owner, added_at=now)
            session.add(member)
            session.flush()
            assert member.id is not None
            info = ReviewInfo(
                title=title.strip(), question=question, created_at=now, created_by_id=member.id
            )
            session.add(info)
            session.flush()
            assert info.id is not None
            audit.record(
                session, owner, ReviewCreated(review_id=info.id, after=review_snapshot(info))
            )
            session.add(MemberRole(member_id=member.id, role=Role.OWNER.value))
            session.flush()
            audit.record(
                session,
                owner,
                MemberAdded(member_id=member.id, after=member_snapshot(session, member)),
            )
            for key, value in parsed.items():
                _write_setting(session, owner, key, value)
            if parsed.get("screening.blind") is False:
                # Nothing blind from the start: no stage is (before any vote, nobody has seen
                # anything, so plain setting changes, not stage-unblinded events).
                for key in UNBLIND_ONLY:
                    _write_setting(session, owner, key, False)
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
                    state=_upgrade_state(session, review.upgraded_from),
                ),
            )
    return review


# The mark migration 0007 leaves on the votes it superseded and the resolutions it reopened.
MIGRATION_0007 = "schema 0007"
# The mark migration 0009 leaves on the reports it recorded as sought (full-text votes cast
# before any report was recorded name them).
MIGRATION_0009 = "schema 0009"


def _upgrade_state(session: Session, upgraded_from: str) -> dict[str, dict[str, Any]]:
    """The ledger state of what the migrations from ``upgraded_from`` changed in audited rows."""
    state: dict[str, dict[str, Any]] = {}
    if upgraded_from < "0009":
        # References included at title/abstract before 0009 with no report yet get one, sought
        # (as screening.service.seek_reports records them at inclusion since).
        for ref in references_to_seek(session):
            session.add(
                FullTextReport(
                    record_id=primary_of(session, ref),
                    reference_id=ref,
                    status="sought",
                    note=f"{MIGRATION_0009}: included at title/abstract, no report recorded",
                    recorded_by_id=None,  # reviewtool itself (SYSTEM_ACTOR)
                    recorded_at=audit.log.utc_now(),
                )
            )
        session.flush()
        sought = {
            str(r.id): report_snapshot(r)
            for r in session.exec(
                select(FullTextReport).where(col(FullTextReport.note).contains(MIGRATION_0009))
            ).all()
        }
        if sought:
            state["fulltext_report"] = sought
    if upgraded_from < "0007":
        for kind, changes in _joined_by_0007(session).items():
            state.setdefault(kind, {}).update(changes)
    return state


def _joined_by_0007(session: Session) -> dict[str, dict[str, Any]]:
    """The ledger state of what migration 0007 changed: votes and resolutions that stopped being
    current when the records of one duplicate group were joined into one reference."""
    names = dict(session.exec(select(Member.id, Member.name)).all())
    state: dict[str, dict[str, Any]] = {}
    for vote in session.exec(
        select(ScreeningDecision).where(
            col(ScreeningDecision.superseded_because).contains(MIGRATION_0007)
        )
    ).all():
        key = vote_key(vote.record_id, vote.stage, names[vote.member_id])
        state.setdefault("screening_vote", {})[key] = None
    for res in session.exec(
        select(ScreeningResolution).where(
            col(ScreeningResolution.reopened_because).contains(MIGRATION_0007)
        )
    ).all():
        state.setdefault("screening_resolution", {})[f"{res.record_id}:{res.stage}"] = None
    # Reports are keyed by their own id from 0007 on (a reference may have several), no longer by
    # the record: every old key goes, every report is recorded under its id.
    reports = {str(r.id): report_snapshot(r) for r in session.exec(select(FullTextReport)).all()}
    old = {
        str(record): None
        for record in session.exec(select(FullTextReport.record_id)).all()
        if str(record) not in reports
    }
    if reports or old:
        state["fulltext_report"] = {**old, **reports}
    return state


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


UNBLIND_ONLY = ("screening.blind_tiab", "screening.blind_fulltext")
"""Settings changed only by ``screen unblind`` (its own audited event), never turned back on."""


def set_setting(session: Session, *, actor: str, key: str, value: str) -> object:
    """Change one setting (owners only); returns the parsed value.

    Blinding is never turned back on once votes exist (reviewers may already have seen them):
    ``screening.blind`` cannot go from false to true then, and the per-stage keys are changed only
    by ``reviewtool screen unblind``. Both raise InvalidInput naming the key. Turning
    ``screening.blind`` off unblinds every stage still blind, with the ``stage-unblinded`` event
    ``screen unblind`` writes for each.
    """
    require(session, actor, Action.CHANGE_SETTINGS, doing=f"change the setting {key}")
    parsed = parse_setting(key, value)
    if key == "rob.blind":
        raise InvalidInput(
            "rob.blind is ended with `reviewtool rob unblind` (owners; it is recorded, and "
            "blinding is not turned back on)"
        )
    if key in UNBLIND_ONLY:
        stage = key.rsplit("_", 1)[1]
        raise InvalidInput(
            f"{key} is ended with `reviewtool screen unblind --stage {stage}` (owners; it is "
            "recorded, and blinding is not turned back on)"
        )
    if key == "rob1.overall_rule":
        raise InvalidInput(
            "rob1.overall_rule is changed with `reviewtool rob rule RULE` (owners; it rates "
            "every study's RoB 1 overall again, and each rating keeps the rule that made it)"
        )
    if key == "extraction.blind":
        raise InvalidInput(
            "extraction.blind is ended with `reviewtool extract unblind` (owners; it is "
            "recorded, and blinding is not turned back on)"
        )
    if key == "screening.blind" and parsed is True and setting(session, key) is False:
        voted = session.exec(select(ScreeningDecision.id).limit(1)).first()
        if voted is not None:
            raise InvalidInput(
                "screening.blind cannot be turned back on once votes exist: the reviewers may "
                "already have seen each other's votes"
            )
    if key == "screening.blind" and parsed is False:
        # The review-wide switch off is every stage unblinded: each stage still blind gets its
        # stage-unblinded event (the date its votes stopped being independent) and its key set
        # to false, as `screen unblind` does, so the settings never say a stage is blind when
        # no stage is (docs/blinding.md).
        for stage_key in UNBLIND_ONLY:
            if setting(session, stage_key) is not False:
                _unblind(session, actor, stage_key)
    elif key == "screening.blind" and parsed is True and setting(session, key) is False:
        # No vote exists (checked above): blinding starts again at every stage.
        for stage_key in UNBLIND_ONLY:
            _write_setting(session, actor, stage_key, True)
    _write_setting(session, actor, key, parsed)
    return parsed


def _unblind(session: Session, actor: str, key: str) -> None:
    """Set ``screening.blind_<stage>`` false with its ``stage-unblinded`` event (as ``screen
    unblind`` writes it)."""
    row = session.get(ReviewSetting, key)
    before = json.loads(row.value) if row is not None else None
    if row is None:
        row = ReviewSetting(key=key, value="")
    row.value = audit.log.canonical_json(False)
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        StageUnblinded(stage=key.rsplit("_", 1)[1], key=key, before=before, after=False),
    )


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
    audit_events: int | None
    audit_head: str | None
    stages: dict[str, dict[str, int | str]] = field(default_factory=dict)

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


def review_status(session: Session, *, actor: str) -> Status:
    """Counts per stage and the people of the review, as ``actor`` may see them.

    At a screening stage blind to ``actor`` (``access.Sight``) they see the references there and
    their own votes, nothing that depends on another reviewer's vote; and not the ledger's length or
    head (None: they change with, and so count, the others' votes).
    """
    seen = sight(session, actor)
    info = review_info(session)
    members: dict[str, list[str]] = {}
    for member in session.exec(select(Member).where(Member.active == True)).all():  # noqa: E712
        members[member.name] = member_snapshot(session, member)["roles"]
    count = session.exec(select(func.count()).select_from(AuditEvent)).one()
    head = session.exec(select(AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)).first()  # type: ignore[attr-defined]
    return Status(
        stages=_stage_counts(session, seen),
        title=info.title,
        question=info.question,
        schema_revision=schema.HEAD,
        members=members,
        audit_events=None if seen.blind else int(count),
        audit_head=None if seen.blind else head,
    )


def _count(session: Session, query: Any) -> int:
    return int(session.exec(query).one())


def _stage_counts(session: Session, seen: Sight) -> dict[str, dict[str, int | str]]:
    """Counts per PRISMA stage, read straight from the tables (stages not started are left out;
    a screening stage blind to the viewer shows only what ``Sight`` allows)."""
    stages: dict[str, dict[str, int | str]] = {}
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
        removed = _removed_before_screening(session)
        if removed:
            stages["removal before screening"] = {"records removed for other reasons": removed}
    for stage in SCREENING_STAGES:
        if not seen.sees_others(stage.value):
            blind = _blind_counts(session, seen, stage.value)
            if blind.get("references", 1):
                stages[f"screening {stage.value}"] = blind
            continue
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


def _removed_before_screening(session: Session) -> int:
    """References removed before title/abstract screening (``screening.prescreen``)."""
    return _count(
        session,
        select(func.count(func.distinct(Record.reference_id))).join(
            PrescreenRemoval, col(PrescreenRemoval.record_id) == col(Record.id)
        ),
    )


def _blind_counts(session: Session, seen: Sight, stage: str) -> dict[str, int | str]:
    """A blind stage as ``seen`` may see it: its references (not at full text while
    title/abstract is blind: they are the references included there) and their own votes."""
    if not seen.stage_open(stage):
        return {"blind": "closed until blinding at tiab ends"}
    references = _count(session, select(func.count()).select_from(Reference))
    references -= _removed_before_screening(session)
    if stage != Stage.TITLE_ABSTRACT.value:
        # As screening.eligible counts them: included at tiab, full text not marked missing.
        missing = unobtainable(session)
        references = sum(
            1
            for r, o in stage_outcomes(session, Stage.TITLE_ABSTRACT.value).items()
            if o.goes_on and r not in missing
        )
    mine = 0
    if seen.member is not None:
        mine = _count(
            session,
            select(func.count())
            .select_from(ScreeningDecision)
            .where(
                ScreeningDecision.member_id == seen.member.id,
                ScreeningDecision.stage == stage,
                col(ScreeningDecision.superseded_at).is_(None),
            ),
        )
    return {"references": references, "your votes": mine, "blind": "your own votes only"}
