"""The kinds of audit event: one typed, documented dataclass per kind.

Event names are stable kebab-case strings because they are stored forever. ``payload()`` is what the
ledger stores and hashes. Events that change the state of an entity carry ``after`` (the entity's
full snapshot once the change is made, ``None`` once it is gone) so that ``audit verify`` can replay
the ledger and compare it with the tables; ``before`` is there for people reading the log. Events
that change many entities at once carry ``state``: ``{entity_type: {entity_id: snapshot or None}}``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, ClassVar

Snapshot = dict[str, Any]


@dataclass(frozen=True)
class Event:
    """Base of every audit event."""

    name: ClassVar[str]
    entity_type: ClassVar[str]

    @property
    def entity_id(self) -> str:
        """The id of the entity the event is about, as text."""
        raise NotImplementedError

    def payload(self) -> dict[str, Any]:
        """The JSON-serialisable content stored in the ledger."""
        return asdict(self)


@dataclass(frozen=True)
class ReviewCreated(Event):
    """A review was created by ``reviewtool init``.

    :ivar review_id: the new review's id.
    :ivar after: the review row (title, question).
    """

    name: ClassVar[str] = "review-created"
    entity_type: ClassVar[str] = "review"
    review_id: int
    after: Snapshot

    @property
    def entity_id(self) -> str:
        return str(self.review_id)


@dataclass(frozen=True)
class SettingChanged(Event):
    """A review setting was set (``before`` is None when it had its default).

    :ivar key: the setting's name.
    """

    name: ClassVar[str] = "setting-changed"
    entity_type: ClassVar[str] = "review_setting"
    key: str
    before: Any
    after: Any

    @property
    def entity_id(self) -> str:
        return self.key


@dataclass(frozen=True)
class MemberAdded(Event):
    """A person joined the review.

    :ivar after: the member's snapshot (name, active, roles).
    """

    name: ClassVar[str] = "member-added"
    entity_type: ClassVar[str] = "member"
    member_id: int
    after: Snapshot

    @property
    def entity_id(self) -> str:
        return str(self.member_id)


@dataclass(frozen=True)
class MemberChanged(Event):
    """A member's roles or active flag changed (``member grant``, ``revoke``, ``remove``).

    :ivar change: what was done: ``grant``, ``revoke``, ``remove`` or ``reactivate``.
    """

    name: ClassVar[str] = "member-changed"
    entity_type: ClassVar[str] = "member"
    member_id: int
    change: str
    before: Snapshot
    after: Snapshot

    @property
    def entity_id(self) -> str:
        return str(self.member_id)


@dataclass(frozen=True)
class AccessRefused(Event):
    """Someone was refused: an unknown person, or a member whose roles do not allow the action.

    :ivar person: the name the command was run as.
    :ivar attempted: what the person tried, in words ("list conflicts", "add members"), as the
        refusal said it (``access.require``; before issue 8 follow-up: the action's internal name).
    :ivar reason: why, as shown to the person.
    """

    name: ClassVar[str] = "access-refused"
    entity_type: ClassVar[str] = "member"
    person: str
    attempted: str
    reason: str

    @property
    def entity_id(self) -> str:
        return self.person


@dataclass(frozen=True)
class SchemaUpgraded(Event):
    """The database schema was migrated to a newer revision when the review was opened.

    :ivar backup: the copy made before the upgrade (SQLite files), or None.
    """

    name: ClassVar[str] = "schema-upgraded"
    entity_type: ClassVar[str] = "schema"
    from_revision: str
    to_revision: str
    backup: str | None

    @property
    def entity_id(self) -> str:
        return self.to_revision


@dataclass(frozen=True)
class RecordsImported(Event):
    """An export file was imported as a batch of records.

    :ivar after: the batch snapshot, with a digest of every record it holds.
    :ivar bad_records: records refused with ``--skip-bad`` (line, key, reason).
    :ivar forced: True when the same file had been imported before and ``--force`` was given.
    """

    name: ClassVar[str] = "records-imported"
    entity_type: ClassVar[str] = "import_batch"
    batch_id: int
    after: Snapshot
    bad_records: list[dict[str, Any]]
    forced: bool

    @property
    def entity_id(self) -> str:
        return str(self.batch_id)


@dataclass(frozen=True)
class DedupRunCompleted(Event):
    """Automatic deduplication ran over all records.

    :ivar counts: records, candidate pairs, automatic merges, pairs queued for a person.
    :ivar state: the pairs it scored and every record whose group changed.
    """

    name: ClassVar[str] = "dedup-run"
    entity_type: ClassVar[str] = "dedup_run"
    run_id: int
    settings: dict[str, Any]
    counts: dict[str, int]
    state: dict[str, dict[str, Any]]

    @property
    def entity_id(self) -> str:
        return str(self.run_id)


@dataclass(frozen=True)
class DedupDecided(Event):
    """A person confirmed or rejected a candidate pair (``decision``), or undid a group.

    :ivar decision: ``confirm``, ``reject`` or ``undo``.
    :ivar state: the pairs and records whose state changed with it.
    """

    name: ClassVar[str] = "dedup-decision"
    entity_type: ClassVar[str] = "duplicate_group"
    group_id: int
    decision: str
    note: str | None
    state: dict[str, dict[str, Any]]

    @property
    def entity_id(self) -> str:
        return str(self.group_id)


@dataclass(frozen=True)
class ScreeningDecided(Event):
    """A reviewer cast, changed or took back (``after`` None) a vote on a reference.

    :ivar key: ``record:stage:reviewer``.
    :ivar before: the vote it replaced, if any.
    :ivar state: resolutions reopened (``{"screening_resolution": {key: None}}``) or contested
        (``{key: snapshot with "contested"}``) by this change.
    """

    name: ClassVar[str] = "screening-decision"
    entity_type: ClassVar[str] = "screening_vote"
    key: str
    record_id: int
    stage: str
    before: Snapshot | None
    after: Snapshot | None
    state: dict[str, dict[str, Any]]

    @property
    def entity_id(self) -> str:
        return self.key


@dataclass(frozen=True)
class ConflictResolved(Event):
    """An adjudicator resolved a screening conflict.

    :ivar votes: the reviewers' votes the adjudicator saw.
    :ivar replaced: the contested resolution this one replaces (None for a first resolution).
    """

    name: ClassVar[str] = "screening-resolution"
    entity_type: ClassVar[str] = "screening_resolution"
    record_id: int
    stage: str
    votes: list[dict[str, Any]]
    after: Snapshot
    replaced: Snapshot | None = None

    @property
    def entity_id(self) -> str:
        return f"{self.record_id}:{self.stage}"


@dataclass(frozen=True)
class FullTextRecorded(Event):
    """A full text was attached to a reference (path or URL), or marked not retrieved."""

    name: ClassVar[str] = "fulltext-report"
    entity_type: ClassVar[str] = "fulltext_report"
    record_id: int
    before: Snapshot | None
    after: Snapshot

    @property
    def entity_id(self) -> str:
        return str(self.record_id)


@dataclass(frozen=True)
class StageUnblinded(Event):
    """An owner ended blinding at one screening stage (``reviewtool screen unblind``): from then on
    reviewers see each other's votes, the outcomes, agreement and conflicts there. It is never
    turned back on, so the event also dates when the votes stopped being independent.

    :ivar stage: ``tiab`` or ``fulltext``.
    :ivar key: the setting it changes, ``screening.blind_<stage>``.
    :ivar before: the setting's stored value before (None: it had its default, true).
    :ivar after: always False.
    """

    name: ClassVar[str] = "stage-unblinded"
    entity_type: ClassVar[str] = "review_setting"
    stage: str
    key: str
    before: Any
    after: Any

    @property
    def entity_id(self) -> str:
        return self.key


@dataclass(frozen=True)
class AnalysisRunRecorded(Event):
    """A pooled analysis was run and stored with its settings, input hash and results.

    :ivar after: the run's snapshot (name, settings, input hash, a hash of the results).
    """

    name: ClassVar[str] = "analysis-run"
    entity_type: ClassVar[str] = "analysis_run"
    run_id: int
    after: Snapshot

    @property
    def entity_id(self) -> str:
        return str(self.run_id)


@dataclass(frozen=True)
class LabelsChanged(Event):
    """A member added or removed one of their labels on a reference.

    :ivar key: ``record:member`` (labels belong to the member who wrote them).
    :ivar before: their labels on the reference before, sorted (None when there were none).
    :ivar after: their labels now, sorted (None once none is left).
    """

    name: ClassVar[str] = "labels-changed"
    entity_type: ClassVar[str] = "record_label"
    key: str
    record_id: int
    before: list[str] | None
    after: list[str] | None

    @property
    def entity_id(self) -> str:
        return self.key


# The closed set of event kinds the ledger accepts; later stages add theirs here.
EVENT_TYPES: dict[str, type[Event]] = {
    cls.name: cls
    for cls in (
        ReviewCreated,
        SettingChanged,
        MemberAdded,
        MemberChanged,
        AccessRefused,
        SchemaUpgraded,
        RecordsImported,
        DedupRunCompleted,
        DedupDecided,
        ScreeningDecided,
        ConflictResolved,
        FullTextRecorded,
        StageUnblinded,
        AnalysisRunRecorded,
        LabelsChanged,
    )
}
