"""Every table of a review, as SQLModel classes (one class per entity).

Timestamps are stored as ISO-8601 UTC strings with a ``Z``: the audit ledger hashes them, and a
string survives every database and driver byte for byte. JSON columns are stored as canonical JSON
text for the same reason. Write no dialect-specific SQL here: the same models run on PostgreSQL.

Who did something is a member, by id: ``member_id`` where the row belongs to a person (a vote, a
label), ``<verb>_by_id`` where it says who made it (``imported_by_id``, ``run_by_id`` ...), each a
foreign key to ``member`` (schema 0008). Readers join ``member`` for the name. The one name
stored as text is ``audit_event.actor``: the ledger hashes it, and it also records refusals of
people who are not members (``docs/ledger.md``).
"""

from __future__ import annotations

from sqlalchemy import Index, MetaData, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

# Stable constraint names keep alembic batch migrations on SQLite predictable.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata: MetaData = SQLModel.metadata
# The tables are read and written through SQLAlchemy only, never validated or dumped by pydantic:
# its validators and serialisers are built on first use instead of for every table at import
# (a few hundredths of a second of every command's start-up).
SQLModel.model_config["defer_build"] = True


class ReviewInfo(SQLModel, table=True):
    """The review itself: one row per database."""

    __tablename__ = "review"

    id: int | None = Field(default=None, primary_key=True)
    title: str
    question: str = Field(default="", sa_type=Text)
    created_at: str
    created_by_id: int = Field(foreign_key="member.id")


class ReviewSetting(SQLModel, table=True):
    """One review setting; ``value`` is canonical JSON. Unset keys take their default."""

    __tablename__ = "review_setting"

    key: str = Field(primary_key=True)
    value: str = Field(sa_type=Text)


class Member(SQLModel, table=True):
    """A person in the review. Members are deactivated, never deleted: the ledger names them."""

    __tablename__ = "member"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    active: bool = True
    added_at: str


class MemberRole(SQLModel, table=True):
    """One role held by one member; a person may hold several."""

    __tablename__ = "member_role"
    __table_args__ = (UniqueConstraint("member_id", "role"),)

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    role: str


class AuditEvent(SQLModel, table=True):
    """One append-only, hash-chained entry of the audit ledger.

    ``hash`` = sha256(``prev_hash`` + canonical JSON of the other fields); see ``reviewtool.audit``.
    ``salt`` (schema 0019): 32 random hexadecimal digits hashed with the event, so that a hash
    cannot be matched against guessed payloads; None in events written before it (hashed without).
    """

    __tablename__ = "audit_event"
    # `audit log --entity member:2` and the per-entity history of later stages look events up this way.
    __table_args__ = (Index("ix_audit_event_entity", "entity_type", "entity_id"),)

    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    occurred_at: str
    actor: str = Field(index=True)
    action: str = Field(index=True)
    entity_type: str
    entity_id: str
    payload: str = Field(sa_type=Text)
    prev_hash: str
    hash: str = Field(unique=True)
    salt: str | None = None


class AuditHead(SQLModel, table=True):
    """The newest event's number and hash, written in the same transaction as the event.

    Without it, deleting the last events would leave a shorter chain that still verifies.
    """

    __tablename__ = "audit_head"

    id: int = Field(default=1, primary_key=True, sa_column_kwargs={"autoincrement": False})
    seq: int
    hash: str


class AuditCheckpoint(SQLModel, table=True):
    """A point up to which ``audit verify`` found the ledger sound: the event number and its hash.

    ``since_seq`` is None for a full verify (chain from the first event, every table), else the
    checkpoint an incremental verify started from. ``audit verify --since-checkpoint`` checks only
    what came after the newest checkpoint. Checkpoints are not events: writing one leaves the
    ledger's head (what ``--expect-head`` compares) unchanged.
    """

    __tablename__ = "audit_checkpoint"

    id: int | None = Field(default=None, primary_key=True)
    seq: int = Field(index=True)
    hash: str
    since_seq: int | None = None
    verified_at: str
    member_id: int = Field(foreign_key="member.id")


class ImportBatch(SQLModel, table=True):
    """One export file imported: where it came from, what it held, who brought it in."""

    __tablename__ = "import_batch"

    id: int | None = Field(default=None, primary_key=True)
    file_name: str
    sha256: str = Field(index=True)
    format: str
    encoding: str
    source: str
    searched_on: str | None = None
    query: str | None = Field(default=None, sa_type=Text)
    search_round: int = 1
    imported_by_id: int = Field(foreign_key="member.id")
    imported_at: str
    record_count: int
    # Records refused with --skip-bad and parser warnings, as JSON lists: kept with the batch so the
    # import can be reported honestly.
    bad_records: str = Field(default="[]", sa_type=Text)
    warnings: str = Field(default="[]", sa_type=Text)


class Reference(SQLModel, table=True):
    """One duplicate group: the unit screened at title/abstract (``docs/architecture.md``).

    Its id is the smallest record id in the group, so it survives a change of primary, a re-run
    and a merge (the merged group keeps the older id), and a split gives each part the id it had
    before the merge. Votes, resolutions, labels and full texts hang on it through
    ``reference_id`` columns that always follow the record they were made on (``record_id``).
    """

    __tablename__ = "reference"

    id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})


class Record(SQLModel, table=True):
    """One citation as it arrived in one batch: the raw text verbatim plus normalised fields.

    ``duplicate_of`` points at the primary record of the record's duplicate group (never at a
    record that itself points elsewhere); the group id is ``COALESCE(duplicate_of, id)``.
    ``reference_id`` is the group's stable reference (the smallest record id in the group).
    """

    __tablename__ = "record"

    id: int | None = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="import_batch.id", index=True)
    source_key: str | None = Field(default=None, index=True)
    line: int
    raw: str = Field(sa_type=Text)
    title: str | None = Field(default=None, sa_type=Text)
    authors: str = Field(default="[]", sa_type=Text)
    year: int | None = None
    journal: str | None = None
    volume: str | None = None
    issue: str | None = None
    pages: str | None = None
    doi: str | None = Field(default=None, index=True)
    pmid: str | None = Field(default=None, index=True)
    abstract: str | None = Field(default=None, sa_type=Text)
    keywords: str = Field(default="[]", sa_type=Text)
    publication_type: str | None = None
    language: str | None = None
    extra: str = Field(default="{}", sa_type=Text)
    duplicate_of: int | None = Field(default=None, foreign_key="record.id", index=True)
    reference_id: int | None = Field(default=None, foreign_key="reference.id", index=True)


class DedupRun(SQLModel, table=True):
    """One run of automatic deduplication over all records, with its settings and counts."""

    __tablename__ = "dedup_run"

    id: int | None = Field(default=None, primary_key=True)
    run_by_id: int = Field(foreign_key="member.id")
    run_at: str
    settings: str = Field(default="{}", sa_type=Text)
    records: int
    candidate_pairs: int
    auto_merged: int
    queued: int


class DedupPair(SQLModel, table=True):
    """A scored candidate pair of records and what became of it.

    ``outcome`` is what the scorer said (merge / distinct / review); ``status`` is what holds now:
    ``merged`` (automatic), ``distinct`` (automatic), ``pending`` (waiting for a person),
    ``confirmed`` or ``rejected`` (by the member ``decided_by_id``). A person's decision survives
    later runs.
    """

    __tablename__ = "dedup_pair"
    __table_args__ = (UniqueConstraint("record_a", "record_b"),)

    id: int | None = Field(default=None, primary_key=True)
    record_a: int = Field(foreign_key="record.id", index=True)
    record_b: int = Field(foreign_key="record.id", index=True)
    run_id: int = Field(foreign_key="dedup_run.id")
    score: float
    outcome: str
    reasons: str = Field(default="[]", sa_type=Text)
    fields: str = Field(default="{}", sa_type=Text)
    status: str = Field(index=True)
    decided_by_id: int | None = Field(default=None, foreign_key="member.id")
    decided_at: str | None = None
    note: str | None = Field(default=None, sa_type=Text)


class ScreeningDecision(SQLModel, table=True):
    """One reviewer's include / exclude / maybe on one reference (title/abstract) or on one report
    of it (full text: ``report_id``, schema 0009).

    Decisions are never edited: a change writes a new row and stamps the old one ``superseded_at``.
    The partial unique indexes allow one current decision per reviewer and reference at
    title/abstract, per reviewer and report at full text.
    ``record_id`` is the record the reviewer saw (the group's primary then); ``reference_id``
    follows it through merges and splits. ``superseded_because`` says why a vote stopped being
    current without its reviewer changing it (two references merged: "needs a fresh look").
    """

    __tablename__ = "screening_decision"
    __table_args__ = (
        Index(
            "uq_screening_decision_current",
            "reference_id",
            "stage",
            "member_id",
            unique=True,
            sqlite_where=text("superseded_at IS NULL AND report_id IS NULL"),
            postgresql_where=text("superseded_at IS NULL AND report_id IS NULL"),
        ),
        Index(
            "uq_screening_decision_current_report",
            "report_id",
            "stage",
            "member_id",
            unique=True,
            sqlite_where=text("superseded_at IS NULL AND report_id IS NOT NULL"),
            postgresql_where=text("superseded_at IS NULL AND report_id IS NOT NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    record_id: int = Field(foreign_key="record.id", index=True)
    reference_id: int = Field(foreign_key="reference.id", index=True)
    stage: str
    member_id: int = Field(foreign_key="member.id", index=True)
    decision: str
    reason: str | None = None
    note: str | None = Field(default=None, sa_type=Text)
    decided_at: str
    superseded_at: str | None = None
    superseded_because: str | None = None
    report_id: int | None = Field(default=None, foreign_key="fulltext_report.id", index=True)
    # True when the vote's ledger snapshot names its report (every full-text vote cast since schema
    # 0009); False for title/abstract votes and for full-text votes recorded before, whose report
    # was then "the reference's report" (set by the 0009 migration, not in their events).
    report_in_ledger: bool = Field(default=False, sa_column_kwargs={"server_default": "0"})
    # Schema 0017 (issue 15): the queue order the reviewer was screening in when they cast the
    # vote (``random``, ``relevance``, ``mixed-random``, ``mixed-relevance``; None: not cast from
    # a queue, e.g. imported from a file, or cast before 0017) and the relevance model's version
    # that ranked it (None under random order). In the vote's ledger snapshot when set.
    queue_order: str | None = None
    model_version: str | None = None


class ScreeningResolution(SQLModel, table=True):
    """An adjudicator's final decision on a conflict; reopened (never edited) when a vote changes.

    ``reopened_at`` / ``reopened_because`` say when and why it stopped deciding the reference (a
    vote changed: whose, from what to what; or the adjudicator resolved it again).
    ``contested_at`` / ``contested_because`` mark a resolution that still decides the reference but
    whose votes have since come to agree with each other against it: the adjudicator is told, and
    keeps or changes it by resolving again. ``record_id`` is the record the adjudicator saw;
    ``reference_id`` follows it through merges and splits. At full text a resolution decides one
    report (``report_id``): one current resolution per reference at title/abstract, per report at
    full text.
    """

    __tablename__ = "screening_resolution"
    __table_args__ = (
        Index(
            "uq_screening_resolution_current",
            "reference_id",
            "stage",
            unique=True,
            sqlite_where=text("reopened_at IS NULL AND report_id IS NULL"),
            postgresql_where=text("reopened_at IS NULL AND report_id IS NULL"),
        ),
        Index(
            "uq_screening_resolution_current_report",
            "report_id",
            "stage",
            unique=True,
            sqlite_where=text("reopened_at IS NULL AND report_id IS NOT NULL"),
            postgresql_where=text("reopened_at IS NULL AND report_id IS NOT NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    record_id: int = Field(foreign_key="record.id", index=True)
    reference_id: int = Field(foreign_key="reference.id", index=True)
    stage: str
    member_id: int = Field(foreign_key="member.id")
    decision: str
    reason: str | None = None
    note: str | None = Field(default=None, sa_type=Text)
    resolved_at: str
    reopened_at: str | None = None
    reopened_because: str | None = None
    contested_at: str | None = None
    contested_because: str | None = None
    report_id: int | None = Field(default=None, foreign_key="fulltext_report.id", index=True)
    # As ``ScreeningDecision.report_in_ledger``: the resolution's snapshot names its report.
    report_in_ledger: bool = Field(default=False, sa_column_kwargs={"server_default": "0"})


class RecordLabel(SQLModel, table=True):
    """One user-defined label one member put on one reference (e.g. "RCT?", "ask Bob").

    Labels belong to the member who added them; who else sees them is decided in
    ``screening.labels`` (private to their author while screening is blind).
    """

    __tablename__ = "record_label"
    __table_args__ = (UniqueConstraint("record_id", "member_id", "label"),)

    id: int | None = Field(default=None, primary_key=True)
    record_id: int = Field(foreign_key="record.id", index=True)
    reference_id: int = Field(foreign_key="reference.id", index=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    label: str
    added_at: str


class FullTextReport(SQLModel, table=True):
    """A report: one full-text document sought for a reference (journal article, conference
    abstract, registry entry, thesis, preprint), where it is, or that it could not be had and why.

    A reference may have several (a trial's article and its registry entry). ``record_id`` is
    the record shown when it was recorded; ``reference_id`` follows it. ``status`` is
    ``sought`` (asked for, no location yet), ``retrieved`` (``location``: a file that existed when
    recorded, or a URL) or ``not_retrieved`` (``reason``). A ``sought`` row is made by
    ``screen fulltext --sought`` or by the first full-text vote or resolution on a reference with no
    report recorded. Full-text votes and resolutions are on one report (``report_id``); the
    reference's full-text outcome is derived from its reports' (``domain.reference_outcome``).
    """

    __tablename__ = "fulltext_report"

    id: int | None = Field(default=None, primary_key=True)
    record_id: int = Field(foreign_key="record.id", index=True)
    reference_id: int = Field(foreign_key="reference.id", index=True)
    kind: str = "journal article"
    status: str
    location: str | None = None
    reason: str | None = None
    note: str | None = Field(default=None, sa_type=Text)
    # None: recorded by reviewtool itself (the "sought" placeholders a schema upgrade writes;
    # the ledger's actor for them is ``domain.SYSTEM_ACTOR``).
    recorded_by_id: int | None = Field(default=None, foreign_key="member.id")
    recorded_at: str


class StudyLink(SQLModel, table=True):
    """One reference put into the study of another (a trial and its follow-up are one study).

    Every reference included at full text is a study by itself until linked; a link names the
    record the reference was linked through (``record_id``, its reference's first record then) and
    the study's anchor record (``study_record_id``). Records never change, so links survive every
    merge and split of references; the study's id is its anchor's reference id.
    """

    __tablename__ = "study_link"

    record_id: int = Field(
        primary_key=True, foreign_key="record.id", sa_column_kwargs={"autoincrement": False}
    )
    study_record_id: int = Field(foreign_key="record.id", index=True)
    linked_by_id: int = Field(foreign_key="member.id")
    linked_at: str


class AnalysisRun(SQLModel, table=True):
    """One pooled analysis: its settings, a hash of its input data and its results (JSON)."""

    __tablename__ = "analysis_run"

    id: int | None = Field(default=None, primary_key=True)
    name: str
    run_by_id: int = Field(foreign_key="member.id")
    run_at: str
    settings: str = Field(sa_type=Text)
    input_sha256: str
    input_source: str
    results: str = Field(sa_type=Text)


class PrescreenRemoval(SQLModel, table=True):
    """A reference removed before title/abstract screening for a reason other than duplication
    (PRISMA 2020 "Records removed for other reasons": a publication type the review does not
    screen, such as animal studies or meeting abstracts). ``record_id`` is the reference's id when
    it was removed (its first record); records never change, so the removal follows the record
    through every merge and split of references. Restoring deletes the row (the ledger keeps it).
    """

    __tablename__ = "prescreen_removal"

    record_id: int = Field(
        primary_key=True, foreign_key="record.id", sa_column_kwargs={"autoincrement": False}
    )
    reason: str
    removed_by: str
    removed_at: str


class RobJudgement(SQLModel, table=True):
    """One assessor's risk-of-bias judgement of one domain (``rob/service.py``).

    RoB 1 (``tool`` ``rob1``) is per study (``result`` empty): ``domain`` is the RoB 1 domain's key,
    ``outcome_group`` names an outcome group for blinding and incomplete outcome data (empty: the
    whole study), ``judgement`` is Low / High / Unclear and ``support`` the "support for
    judgement" text. RoB 2 (``rob2``) is per result (``result`` = ``OUTCOME@TIME``): ``answers``
    holds the domain's signalling answers (canonical JSON, question id -> Y/PY/PN/N/NI/NA),
    ``algorithm`` what the published algorithm gives for them (``incomplete`` while an answer it
    needs is missing), ``judgement`` the final value, which differs from ``algorithm`` only with
    a ``justification``; ``direction`` is the predicted direction of bias. RoB 2's preliminary
    considerations are the row of domain ``preliminary`` and its overall judgement the row of
    domain ``overall``. ``study_id`` is the study's id (its anchor reference).
    """

    __tablename__ = "rob_judgement"
    __table_args__ = (
        UniqueConstraint("tool", "study_id", "result", "domain", "outcome_group", "assessor_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    tool: str
    study_id: int = Field(index=True)
    result: str = ""
    domain: str
    outcome_group: str = ""
    assessor_id: int = Field(foreign_key="member.id", index=True)
    judgement: str | None = None
    algorithm: str | None = None
    justification: str | None = Field(default=None, sa_type=Text)
    support: str = Field(default="", sa_type=Text)
    direction: str | None = None
    answers: str = Field(default="{}", sa_type=Text)
    changed_by: str
    changed_at: str


class RobConsensus(SQLModel, table=True):
    """The agreed judgement of one risk-of-bias domain (per study, or per result for RoB 2).

    ``how`` is ``agreement`` (the assessors' judgements were the same) or ``adjudicator`` (an
    adjudicator or owner decided). A changed assessment afterwards reopens it: ``status`` becomes
    ``reopened`` with ``reopened_because`` (whose judgement, from what to what); a reopened
    consensus is not in force until it is agreed or resolved again.
    """

    __tablename__ = "rob_consensus"
    __table_args__ = (UniqueConstraint("tool", "study_id", "result", "domain", "outcome_group"),)

    id: int | None = Field(default=None, primary_key=True)
    tool: str
    study_id: int = Field(index=True)
    result: str = ""
    domain: str
    outcome_group: str = ""
    judgement: str
    support: str = Field(default="", sa_type=Text)
    how: str
    status: str = "agreed"
    reopened_because: str | None = Field(default=None, sa_type=Text)
    decided_by: str
    decided_at: str


class ExtractionForm(SQLModel, table=True):
    """One version of the review's extraction form: its TOML text as added, and its sha256.

    Versions are numbered 1, 2, ... in the order added; the newest is the form in use, and every
    value remembers the version it was entered under (``extraction.forms`` parses the text).
    """

    __tablename__ = "extraction_form"

    version: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    name: str
    toml: str = Field(sa_type=Text)
    sha256: str
    added_by: str
    added_at: str


class ExtractionValue(SQLModel, table=True):
    """One extractor's value for one place of a study's form: a study field (``arm``,
    ``outcome``, ``time_point`` empty), an arm field, or an outcome's statistic at a time point.

    ``value`` is the checked, normalised text (``extraction.forms.check_field``); ``source_kind``
    is reported, converted or digitised and ``source`` says where from ("report 12, Table 2").
    A changed value is written over the row; the ledger keeps every earlier one.
    """

    __tablename__ = "extraction_value"
    __table_args__ = (
        UniqueConstraint("study_id", "member_id", "arm", "outcome", "time_point", "field"),
    )

    id: int | None = Field(default=None, primary_key=True)
    study_id: int  # indexed as the first column of the unique constraint
    member_id: int = Field(foreign_key="member.id")
    arm: str = ""
    outcome: str = ""
    time_point: str = ""
    field: str
    value: str = Field(sa_type=Text)
    form_version: int = Field(foreign_key="extraction_form.version")
    source_kind: str = "reported"
    source: str = Field(default="", sa_type=Text)
    entered_at: str


class ExtractionConsensus(SQLModel, table=True):
    """The agreed value of one place of a study's form: what analysis uses.

    ``how`` is ``agreement`` (the extractors' values were identical, or they agreed on one of
    them) or ``adjudicator``. When an extractor changes a value after consensus, the consensus is
    reopened (``reopened_at``, ``reopened_because``) until it is agreed or resolved again.
    """

    __tablename__ = "extraction_consensus"
    __table_args__ = (UniqueConstraint("study_id", "arm", "outcome", "time_point", "field"),)

    id: int | None = Field(default=None, primary_key=True)
    study_id: int  # indexed as the first column of the unique constraint
    arm: str = ""
    outcome: str = ""
    time_point: str = ""
    field: str
    value: str = Field(sa_type=Text)
    form_version: int = Field(foreign_key="extraction_form.version")
    source_kind: str = "reported"
    source: str = Field(default="", sa_type=Text)
    how: str
    member_id: int = Field(foreign_key="member.id")
    decided_at: str
    reopened_at: str | None = None
    reopened_because: str | None = Field(default=None, sa_type=Text)


class Rob1Overall(SQLModel, table=True):
    """A study's RoB 1 overall rating from its consensus domains, with the rule that made it.

    Written whenever the study's consensus changes (agreed, resolved, reopened) and when the owner
    changes ``rob1.overall_rule`` (every study is rated again); ``rating`` is None while a domain
    the rule reads has no consensus in force. ``risk`` is the RoB 1 level the rating stands for
    (``count_unmet``'s "low quality" is High). Source of the rules: ``rob.algorithms``.
    """

    __tablename__ = "rob1_overall"

    study_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    rating: str | None = None
    risk: str | None = None
    rule: str
    rated_at: str


class MemberLogin(SQLModel, table=True):
    """The PostgreSQL role (database login) a member is, in team mode (docs/identity.md).

    Once any member has one, the person acting on a PostgreSQL review is the member mapped to the
    connection's ``session_user``: ``--as`` naming anyone else is refused. One login per member,
    one member per login.
    """

    __tablename__ = "member_login"

    member_id: int = Field(
        foreign_key="member.id", primary_key=True, sa_column_kwargs={"autoincrement": False}
    )
    db_role: str = Field(unique=True)


class ScreeningStop(SQLModel, table=True):
    """An owner ended title/abstract screening early under a stopping rule (issue 15,
    ``screening/stop.py``): the references nobody had voted on (``references``, JSON list of
    reference ids) leave every queue and count in PRISMA as records not screened because screening
    stopped. ``evidence`` is the rule's evidence (canonical JSON) as ``screen stop-check`` showed
    it, ``methods`` the methods paragraph printed. Undone by ``screen stop --undo``
    (``resumed_at``, ``resumed_by_id``, ``resume_reason``); the row stays.
    """

    __tablename__ = "screening_stop"

    id: int | None = Field(default=None, primary_key=True)
    stage: str
    rule: str
    evidence: str = Field(sa_type=Text)
    references: str = Field(sa_type=Text)
    methods: str = Field(sa_type=Text)
    stopped_at: str
    stopped_by_id: int = Field(foreign_key="member.id")
    resumed_at: str | None = None
    resumed_by_id: int | None = Field(default=None, foreign_key="member.id")
    resume_reason: str | None = Field(default=None, sa_type=Text)


class ScreeningCalibration(SQLModel, table=True):
    """A calibration round (issue 15, ``screening/calibration.py``): a pilot sample of references
    (``sample``, JSON list of reference ids, drawn with ``seed``) that every reviewer screens
    before screening proper. It closes when Cohen's kappa on the pilot reaches ``threshold``
    (``outcome`` ``passed``), when an owner overrides (``overridden``, with ``reason``), or when
    a new round replaces it (``replaced``); ``kappa`` is the value at closing.
    """

    __tablename__ = "screening_calibration"

    id: int | None = Field(default=None, primary_key=True)
    stage: str
    seed: int
    size: int
    sample: str = Field(sa_type=Text)
    threshold: float
    started_at: str
    started_by_id: int = Field(foreign_key="member.id")
    closed_at: str | None = None
    closed_by_id: int | None = Field(default=None, foreign_key="member.id")
    outcome: str | None = None
    kappa: float | None = None
    reason: str | None = Field(default=None, sa_type=Text)
