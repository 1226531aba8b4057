"""The kinds of audit event: one typed, documented dataclass per kind.

Event names are stable kebab-case strings because they are stored forever. ``payload()`` is what the
ledger stores and hashes. Events that change the state of an entity carry ``after`` (the entity's
full snapshot once the change is made, ``None`` once it is gone) so that ``audit verify`` can replay
the ledger and compare it with the tables; ``before`` is there for people reading the log. Events
that change many entities at once carry ``state``: ``{entity_type: {entity_id: snapshot or None}}``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
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
        """The JSON-serialisable content stored in the ledger: the fields by name.

        A shallow dict (``dataclasses.asdict`` would deep-copy every snapshot, the larger part of
        writing an event in a bulk import); the ledger serialises it at once, so the stored text
        is the same. Fields hold JSON values only, never a nested dataclass. An ``on_behalf_of``
        field (work an owner entered for a member: ``screen import-decisions``, ``extract
        import``, ``rob import --on-behalf-of``) is left out while None, so the payload of work
        entered by its own author is what it was before the field existed.
        """
        found = {f.name: getattr(self, f.name) for f in fields(self)}
        if "on_behalf_of" in found and found["on_behalf_of"] is None:
            del found["on_behalf_of"]
        return found


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
    :ivar state: what the upgrade changed in audited entities: votes superseded and resolutions
        reopened when 0007 joined the records of a duplicate group into one reference
        (``{"screening_vote": {key: None}, "screening_resolution": {key: None}}``).
    """

    name: ClassVar[str] = "schema-upgraded"
    entity_type: ClassVar[str] = "schema"
    from_revision: str
    to_revision: str
    backup: str | None
    state: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def entity_id(self) -> str:
        return self.to_revision


@dataclass(frozen=True)
class RecordsImported(Event):
    """An export file was imported as a batch of records.

    :ivar after: the batch snapshot, with a digest of every record it holds.
    :ivar bad_records: records refused with ``--skip-bad`` (line, key, reason).
    :ivar forced: True when the same file had been imported before and ``--force`` was given.
    :ivar parts: how many ``records-imported-part`` events follow this one with the batch's
        records (for ``audit replay``); None in events written before issue 14, which hold only
        the digest of the records.
    :ivar unchecked: the batch's columns ``audit verify`` does not compare, for ``audit replay``:
        ``{"warnings": [...], "bad_records": [... with their raw text]}``; None before issue 14.
    """

    name: ClassVar[str] = "records-imported"
    entity_type: ClassVar[str] = "import_batch"
    batch_id: int
    after: Snapshot
    bad_records: list[dict[str, Any]]
    forced: bool
    parts: int | None = None
    unchecked: dict[str, Any] | None = None

    @property
    def entity_id(self) -> str:
        return str(self.batch_id)


@dataclass(frozen=True)
class DedupRunCompleted(Event):
    """Automatic deduplication ran over all records.

    :ivar counts: records, candidate pairs, automatic merges, pairs queued for a person.
    :ivar state: the votes superseded and resolutions reopened because references merged
        (``storage.references``); the pairs a run stores and the records it regroups are in its
        ``dedup-run-group`` events, written just before this one, so no single event grows with
        the review. (Ledgers written before issue 10 list them all here; they still verify.)
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
class DedupRunGroup(Event):
    """What an automatic run decided about one set of records that hang together.

    The set is a connected part of the pairs the run stored or changed and the records whose group
    changed (a record is joined to the primary it now points at), so every pair and record a run
    touches is in exactly one such event and each event is as large as its group, not the review.

    :ivar run_id: the run; its ``dedup-run`` event (settings, counts) follows its groups.
    :ivar group_id: the primary of the set's largest group after the run (ties: the smallest id).
    :ivar state: ``{"dedup_pair": {pair id: snapshot}, "record_duplicate": {record id: primary or
        None}}`` for the set's pairs and records.
    :ivar scores: what the scorer said of each of the set's pairs, for ``audit replay``:
        ``{pair id: {"run_id", "score", "outcome", "reasons", "fields"}}`` (``fields``: the
        per-field similarities as the JSON text stored, in the scorer's order); None in events
        written before issue 14.
    """

    name: ClassVar[str] = "dedup-run-group"
    entity_type: ClassVar[str] = "duplicate_group"
    run_id: int
    group_id: int
    state: dict[str, dict[str, Any]]
    scores: dict[str, dict[str, Any]] | None = None

    @property
    def entity_id(self) -> str:
        return str(self.group_id)


@dataclass(frozen=True)
class DedupDecided(Event):
    """A person confirmed or rejected a candidate pair (``decision``), or undid a group.

    :ivar decision: ``confirm``, ``reject`` or ``undo``.
    :ivar state: the pairs and records whose state changed with it, and the votes superseded and
        resolutions reopened because references merged or split (``storage.references``).
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

    :ivar key: ``record:stage:reviewer``, the record being the one the reviewer saw (the
        reference's primary then); the vote stands on that record's reference.
    :ivar before: the vote it replaced, if any.
    :ivar state: resolutions reopened (``{"screening_resolution": {key: None}}``) or contested
        (``{key: snapshot with "contested"}``) by this change; the replaced vote when it was cast
        on another record of the reference (``{"screening_vote": {key: None}}``).
    :ivar on_behalf_of: the reviewer whose vote an owner entered (``screen import-decisions
        --on-behalf-of``): the event's actor is the owner who entered it, the vote (and its key)
        this reviewer's. Absent from the payload (None) when reviewers cast their own.
    :ivar source_file: the name of the file the vote was imported from (``screen
        import-decisions``; the vote's ``order`` is then ``imported``). Absent from the payload
        (None) for a vote cast on screen or with ``screen decide``.
    """

    name: ClassVar[str] = "screening-decision"
    entity_type: ClassVar[str] = "screening_vote"
    key: str
    record_id: int
    stage: str
    before: Snapshot | None
    after: Snapshot | None
    state: dict[str, dict[str, Any]]
    on_behalf_of: str | None = None
    source_file: str | None = None

    @property
    def entity_id(self) -> str:
        return self.key

    def payload(self) -> dict[str, Any]:
        """As ``Event.payload``, and without ``source_file`` when the vote was not imported (the
        payload of every vote before the field existed, unchanged)."""
        found = super().payload()
        if found["source_file"] is None:
            del found["source_file"]
        return found


@dataclass(frozen=True)
class ConflictResolved(Event):
    """An adjudicator resolved a screening conflict.

    :ivar record_id: the record the adjudicator saw (the reference's primary then).
    :ivar votes: the reviewers' votes the adjudicator saw.
    :ivar replaced: the contested resolution this one replaces (None for a first resolution).
    :ivar state: a replaced resolution recorded under another record of the same reference
        (``{"screening_resolution": {key: None}}``), empty otherwise.
    :ivar report_id: the report decided (full text, since schema 0009; its key is then
        ``record:fulltext:r<report>``); None at title/abstract and in earlier events.
    """

    name: ClassVar[str] = "screening-resolution"
    entity_type: ClassVar[str] = "screening_resolution"
    record_id: int
    stage: str
    votes: list[dict[str, Any]]
    after: Snapshot
    replaced: Snapshot | None = None
    state: dict[str, dict[str, Any]] = field(default_factory=dict)
    report_id: int | None = None

    def payload(self) -> dict[str, Any]:
        """As ``Event.payload``, without ``report_id`` when there is none (title/abstract), so
        the events written before schema 0009 and those at title/abstract read the same."""
        found = super().payload()
        if found["report_id"] is None:
            del found["report_id"]
        return found

    @property
    def entity_id(self) -> str:
        base = f"{self.record_id}:{self.stage}"
        return base if self.report_id is None else f"{base}:r{self.report_id}"


@dataclass(frozen=True)
class FullTextRecorded(Event):
    """A report (a full text) was recorded for a reference (path or URL), or marked not retrieved.

    :ivar record_id: the record shown when it was recorded.
    :ivar report_id: the report's id, its ledger key (None in events written before schema 0007,
        which were keyed by the record).
    """

    name: ClassVar[str] = "fulltext-report"
    entity_type: ClassVar[str] = "fulltext_report"
    record_id: int
    before: Snapshot | None
    after: Snapshot
    report_id: int | None = None

    @property
    def entity_id(self) -> str:
        return str(self.report_id if self.report_id is not None else self.record_id)


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
    :ivar results: the stored results (JSON text, whose sha256 is ``after``'s
        ``results_sha256``), for ``audit replay``; None in events written before issue 14.
    :ivar settings_text: the stored settings as written (JSON text in the order a rerun compares
        it, ``after`` holds them parsed), for ``audit replay``; None before issue 14.
    """

    name: ClassVar[str] = "analysis-run"
    entity_type: ClassVar[str] = "analysis_run"
    run_id: int
    after: Snapshot
    results: str | None = None
    settings_text: str | None = None

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


@dataclass(frozen=True)
class StudyChanged(Event):
    """A reference was linked to or unlinked from a study, or studies were merged or split.

    :ivar change: ``link``, ``unlink``, ``merge`` or ``split``.
    :ivar study: the study's id (its anchor reference) as the person named it.
    :ivar references: the references moved.
    :ivar state: ``{"study_link": {record id: {"study": anchor record} or None}}``.
    """

    name: ClassVar[str] = "study-changed"
    entity_type: ClassVar[str] = "study"
    change: str
    study: int
    references: list[int]
    state: dict[str, dict[str, Any]]

    @property
    def entity_id(self) -> str:
        return str(self.study)


@dataclass(frozen=True)
class ReferencesRemoved(Event):
    """References were removed before title/abstract screening for a reason other than duplication
    (``change`` = ``remove``), or such removals were undone (``restore``). PRISMA 2020 counts them
    in "Records removed before screening: Records removed for other reasons".

    :ivar change: ``remove`` or ``restore``.
    :ivar reason: why they were removed (for ``restore``: the reason restored, or "" for a list).
    :ivar selection: how they were chosen, as the owner gave it (the filter, or the file's name).
    :ivar references: the references removed or restored.
    :ivar state: ``{"prescreen_removal": {record id: {"reason": reason, "by": owner} or None}}``.
    """

    name: ClassVar[str] = "references-removed"
    entity_type: ClassVar[str] = "prescreen"
    change: str
    reason: str
    selection: str
    references: list[int]
    state: dict[str, dict[str, Any]]

    @property
    def entity_id(self) -> str:
        return self.reason


@dataclass(frozen=True)
class RobAssessed(Event):
    """An assessor recorded risk-of-bias judgements (``rob set``, ``rob answer``, ``rob import``,
    the risk-of-bias screen) for one study (RoB 1) or one result (RoB 2).

    :ivar change: ``set`` (a judgement), ``answer`` (RoB 2 signalling answers), ``override``,
        ``support`` or ``import``.
    :ivar tool: ``rob1`` or ``rob2``.
    :ivar study: the study's id.
    :ivar result: RoB 2: the result assessed (``OUTCOME@TIME``); RoB 1: empty.
    :ivar state: ``{"rob_judgement": {key: snapshot}}`` and, when a changed judgement reopened an
        agreed domain, ``{"rob_consensus": {key: snapshot}}`` (keys: ``rob/ledger.py``).
    :ivar on_behalf_of: the assessor whose judgements an owner entered (``rob import
        --on-behalf-of``; the event's actor is the owner); absent when assessors enter their own.
    """

    name: ClassVar[str] = "rob-assessed"
    entity_type: ClassVar[str] = "rob"
    change: str
    tool: str
    study: int
    result: str
    state: dict[str, dict[str, Any]]
    on_behalf_of: str | None = None

    @property
    def entity_id(self) -> str:
        return f"{self.tool}|{self.study}|{self.result}"


@dataclass(frozen=True)
class RobConsensusChanged(Event):
    """The consensus of risk-of-bias domains was recorded: by agreement of the assessors (``rob
    agree``) or by an adjudicator (``rob resolve``).

    :ivar change: ``agree`` or ``resolve``.
    :ivar tool: ``rob1`` or ``rob2``.
    :ivar study: the study's id.
    :ivar result: RoB 2: the result (``OUTCOME@TIME``); RoB 1: empty.
    :ivar state: ``{"rob_consensus": {key: snapshot}}``.
    """

    name: ClassVar[str] = "rob-consensus"
    entity_type: ClassVar[str] = "rob"
    change: str
    tool: str
    study: int
    result: str
    state: dict[str, dict[str, Any]]

    @property
    def entity_id(self) -> str:
        return f"{self.tool}|{self.study}|{self.result}"


@dataclass(frozen=True)
class ExtractionFormAdded(Event):
    """A version of the extraction form was added (``extract form add``).

    :ivar version: the new version's number (1, 2, ...).
    :ivar file_name: the TOML file it was read from, as given.
    :ivar after: ``{"name": form name, "sha256": of its TOML text}``.
    :ivar toml: the form's TOML text (whose sha256 is ``after``'s), for ``audit replay``; None in
        events written before issue 14.
    """

    name: ClassVar[str] = "extraction-form"
    entity_type: ClassVar[str] = "extraction_form"
    version: int
    file_name: str | None
    after: Snapshot
    toml: str | None = None

    @property
    def entity_id(self) -> str:
        return str(self.version)


@dataclass(frozen=True)
class ExtractionValuesChanged(Event):
    """One extractor set values of one study (``extract set``: one value; ``extract import``: one
    event per study of the file).

    :ivar study: the study's id.
    :ivar extractor: the member whose values these are (the actor, or ``on_behalf_of``).
    :ivar origin: ``set``, ``import <file name> <sha256>``, or ``recomputed: ...`` (converted
        values that followed a changed n, each with its old and new value).
    :ivar state: ``{"extraction_value": {value id: snapshot or None}}`` (value ids:
        ``extraction.forms.value_id``; snapshots: value, form version, source kind, source).
    :ivar on_behalf_of: the extractor whose values an owner entered (``extract import
        --on-behalf-of``; the event's actor is the owner); absent when extractors enter their own.
    """

    name: ClassVar[str] = "extraction-values"
    entity_type: ClassVar[str] = "extraction_study"
    study: int
    extractor: str
    origin: str
    state: dict[str, dict[str, Any]]
    on_behalf_of: str | None = None

    @property
    def entity_id(self) -> str:
        return f"{self.study}|{self.extractor}"


@dataclass(frozen=True)
class ExtractionConsensusChanged(Event):
    """Consensus values of one study were recorded or reopened.

    :ivar study: the study's id.
    :ivar change: ``agreement`` (identical values, or the extractors agreed on one),
        ``adjudicator`` (an adjudicator's value) or ``reopened`` (an extractor changed a value).
    :ivar state: ``{"extraction_consensus": {consensus id: snapshot}}``.
    """

    name: ClassVar[str] = "extraction-consensus"
    entity_type: ClassVar[str] = "extraction_consensus_study"
    study: int
    change: str
    state: dict[str, dict[str, Any]]

    @property
    def entity_id(self) -> str:
        return str(self.study)


@dataclass(frozen=True)
class MemberLoginMapped(Event):
    """A member was mapped to a PostgreSQL role, or the mapping changed (``member add --db-role``,
    ``member map``); in team mode that member is whoever connects with that login.

    :ivar before: ``{"member": name, "db_role": role}`` before (None: no mapping).
    :ivar after: the same once changed (None: the mapping was removed).
    """

    name: ClassVar[str] = "member-login-mapped"
    entity_type: ClassVar[str] = "member_login"
    member_id: int
    before: Snapshot | None
    after: Snapshot | None

    @property
    def entity_id(self) -> str:
        return str(self.member_id)


@dataclass(frozen=True)
class DatabaseRolesGranted(Event):
    """An owner set up the PostgreSQL server for team mode (``member db-setup``): the mapped
    members' roles were created where missing and granted what reviewtool needs, and the row-level
    security policies (docs/identity.md) were installed.

    :ivar roles: the PostgreSQL roles granted, sorted.
    :ivar created: the roles that did not exist and were created (LOGIN, no password).
    :ivar policies: the tables that carry row-level security policies, sorted.
    """

    name: ClassVar[str] = "database-roles-granted"
    entity_type: ClassVar[str] = "database"
    roles: list[str]
    created: list[str]
    policies: list[str]

    @property
    def entity_id(self) -> str:
        return "roles"


@dataclass(frozen=True)
class RecordsImportedPart(Event):
    """Part of the records of a batch just imported, written right after its ``records-imported``
    event (in the same transaction), so that ``audit replay`` rebuilds the records from the ledger
    and no single event grows with the file (a part holds at most ``RECORDS_PER_PART`` records).

    :ivar batch_id: the batch.
    :ivar part: this part's number, 1 to ``parts``.
    :ivar parts: how many parts the batch's records fill.
    :ivar records: records in id order, each a list of ``storage.snapshots.RECORD_FIELDS``
        values: over all parts, what the batch snapshot's ``records_digest`` is taken over.
    """

    name: ClassVar[str] = "records-imported-part"
    entity_type: ClassVar[str] = "import_batch"
    batch_id: int
    part: int
    parts: int
    records: list[list[Any]]

    @property
    def entity_id(self) -> str:
        return str(self.batch_id)


RECORDS_PER_PART = 2000


@dataclass(frozen=True)
class CalibrationChanged(Event):
    """A calibration round of title/abstract screening (issue 15, ``screening/calibration.py``)
    was started by an owner (``change`` = ``start``), passed (Cohen's kappa on the pilot reached
    the threshold: ``pass``), overridden by an owner with a reason (``override``), or replaced by a
    new round (``replace``).

    :ivar round_id: the round's id.
    :ivar after: the round's snapshot (stage, seed, size, sample, threshold, by, and once closed:
        closed_at, closed_by, outcome, kappa, reason).
    """

    name: ClassVar[str] = "screening-calibration"
    entity_type: ClassVar[str] = "screening_calibration"
    round_id: int
    change: str
    after: Snapshot

    @property
    def entity_id(self) -> str:
        return str(self.round_id)


@dataclass(frozen=True)
class ScreeningStopped(Event):
    """An owner ended title/abstract screening early under a stopping rule (``change`` = ``stop``,
    with the rule's evidence and the methods paragraph) or undid that (``resume``, with a reason);
    issue 15, ``screening/stop.py``.

    :ivar stop_id: the stop's id.
    :ivar after: the stop's snapshot (stage, rule, evidence, references set aside, methods, by,
        and once undone resumed_at, resumed_by, reason).
    """

    name: ClassVar[str] = "screening-stopped"
    entity_type: ClassVar[str] = "screening_stop"
    stop_id: int
    change: str
    after: Snapshot

    @property
    def entity_id(self) -> str:
        return str(self.stop_id)


@dataclass(frozen=True)
class ResolutionRevisited(Event):
    """A member's changed or taken-back vote reopened, contested or (undone) restored a resolution
    their login may not read: written by the PostgreSQL server in team mode (the SECURITY DEFINER
    function ``reviewtool_revisit_resolution`` of ``storage/postgres_revisit.py``, called by the
    tool in the vote's transaction), by the rule ``screening.service`` applies where it can see
    the resolution (there the vote's own event carries the same ``state``). Hidden, as the
    resolution is, from those at a blind stage.

    :ivar key: the resolution's key (``record:stage`` or ``record:fulltext:rN``).
    :ivar stage: ``tiab`` or ``fulltext``.
    :ivar vote: the key of the vote whose change revisited it (the event's actor's).
    :ivar state: ``{"screening_resolution": {key: None}}`` (reopened) or ``{key: snapshot}``
        (contested: with ``contested``; restored by an undo: without).
    """

    name: ClassVar[str] = "screening-resolution-revisited"
    entity_type: ClassVar[str] = "screening_resolution"
    key: str
    stage: str
    vote: str
    state: dict[str, dict[str, Any]]

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
        DedupRunGroup,
        DedupDecided,
        ScreeningDecided,
        ConflictResolved,
        FullTextRecorded,
        StageUnblinded,
        AnalysisRunRecorded,
        LabelsChanged,
        StudyChanged,
        ReferencesRemoved,
        RobAssessed,
        RobConsensusChanged,
        ExtractionFormAdded,
        ExtractionValuesChanged,
        ExtractionConsensusChanged,
        MemberLoginMapped,
        DatabaseRolesGranted,
        RecordsImportedPart,
        CalibrationChanged,
        ScreeningStopped,
        ResolutionRevisited,
    )
}
