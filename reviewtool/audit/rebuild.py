"""The appliers of ``audit replay``: how each kind of event and each entity snapshot is written.

Each setter writes one entity's snapshot (as the state readers of ``reviewtool/<stage>/ledger.py``
read it back) into the tables, with the columns no snapshot holds taken from the event: the time
of the event for ``*_at`` columns, its actor for ``*_by`` columns, and the content the events carry
for ``audit replay`` since issue 14 (records, pair scores, analysis results, form text). Where an
event written before then lacks that content, its applier's ``missing`` names it and the replay
refuses. See ``reviewtool.audit.replay`` for the registries and the order of application.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from sqlalchemy import delete, insert
from sqlmodel import col, select

from reviewtool.audit.replay import (
    Context,
    declare_derived,
    declare_not_replayed,
    register_event,
    register_setter,
)
from reviewtool.domain import SYSTEM_ACTOR
from reviewtool.storage.models import (
    AnalysisRun,
    DedupPair,
    DedupRun,
    ExtractionConsensus,
    ExtractionForm,
    ExtractionValue,
    FullTextReport,
    ImportBatch,
    Member,
    MemberLogin,
    MemberRole,
    PrescreenRemoval,
    Record,
    RecordLabel,
    ReviewInfo,
    ReviewSetting,
    Rob1Overall,
    RobConsensus,
    RobJudgement,
    ScreeningCalibration,
    ScreeningDecision,
    ScreeningResolution,
    ScreeningStop,
    StudyLink,
)
from reviewtool.storage.references import new_references
from reviewtool.storage.snapshots import RECORD_FIELDS, records_digest

_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)

# --- people, the review, settings ----------------------------------------------------------------


def _member(ctx: Context, entity_id: str, snapshot: Any) -> None:
    """``{"name", "active", "roles"}``: the member row (its id kept) and exactly these roles."""
    s = ctx.session
    member_id = int(entity_id)
    row = s.get(Member, member_id)
    if row is None:
        clash = s.exec(select(Member).where(Member.name == snapshot["name"])).first()
        if clash is not None:  # made for the review's creator by review-created (same id)
            raise ctx.refuse(f"member {snapshot['name']!r} has id {clash.id}, not {member_id}")
        row = Member(id=member_id, name=snapshot["name"], added_at=ctx.occurred_at)
    row.name, row.active = snapshot["name"], bool(snapshot["active"])
    s.add(row)
    s.flush()
    s.execute(delete(MemberRole).where(col(MemberRole.member_id) == member_id))
    for role in sorted(snapshot["roles"]):
        s.add(MemberRole(member_id=member_id, role=role))
    ctx.run.members[row.name] = member_id


def _review(ctx: Context, entity_id: str, snapshot: Any) -> None:
    """The review row; its creator (the event's actor) is written first when the member-added
    event that follows has not come yet (``init`` writes the review, then its owner)."""
    s = ctx.session
    creator = s.exec(select(Member.id).where(Member.name == ctx.actor)).first()
    if creator is None:
        member = Member(name=ctx.actor, added_at=ctx.occurred_at)
        s.add(member)
        s.flush()
        creator = member.id
    assert creator is not None
    row = s.get(ReviewInfo, int(entity_id)) or ReviewInfo(
        id=int(entity_id), title="", created_at=ctx.occurred_at, created_by_id=creator
    )
    row.title, row.question = snapshot["title"], snapshot["question"]
    s.add(row)


def _setting(ctx: Context, key: str, value: Any) -> None:
    """A setting's value as canonical JSON; None: the row is gone (the default holds)."""
    row = ctx.session.get(ReviewSetting, key)
    if value is None:
        if row is not None:
            ctx.session.delete(row)
        return
    text = _CANONICAL.encode(value)
    if row is None:
        row = ReviewSetting(key=key, value=text)
    row.value = text
    ctx.session.add(row)


# --- import batches and records ------------------------------------------------------------------


def _batch(ctx: Context, entity_id: str, snapshot: Any) -> None:
    """A batch; its records come with the ``records-imported-part`` events that follow (their
    digest is checked against the snapshot's once the last part is in)."""
    s = ctx.session
    unchecked = ctx.payload.get("unchecked") or {}
    batch = ImportBatch(
        id=int(entity_id),
        file_name=snapshot["file_name"],
        sha256=snapshot["sha256"],
        format=snapshot["format"],
        encoding=snapshot["encoding"],
        source=snapshot["source"],
        searched_on=snapshot["searched_on"],
        query=snapshot["query"],
        search_round=snapshot["search_round"],
        imported_by_id=ctx.person(ctx.actor),
        imported_at=ctx.occurred_at,
        record_count=snapshot["record_count"],
        bad_records=json.dumps(unchecked.get("bad_records", []), ensure_ascii=False),
        warnings=json.dumps(unchecked.get("warnings", []), ensure_ascii=False),
    )
    s.add(batch)
    s.flush()
    ctx.run.pending[f"batch {entity_id}"] = (snapshot["records_digest"], ctx.payload["parts"])
    if ctx.payload["parts"] == 0:
        _check_batch(ctx, int(entity_id))


def _records_part(ctx: Context) -> None:
    """Records of a batch (``records-imported-part``), each its own reference until deduplicated;
    after the last part, the batch's records must give the digest its batch event recorded."""
    p = ctx.payload
    batch_id = int(p["batch_id"])
    if f"batch {batch_id}" not in ctx.run.pending:
        raise ctx.refuse(f"no records-imported event of batch {batch_id} comes before it")
    rows = [dict(zip(RECORD_FIELDS, row, strict=True)) for row in p["records"]]
    if rows:
        ctx.session.execute(insert(Record), [{"batch_id": batch_id, **row} for row in rows])
    new_references(ctx.session)
    if p["part"] == p["parts"]:
        _check_batch(ctx, batch_id)


def _check_batch(ctx: Context, batch_id: int) -> None:
    """The batch's records, as now in the tables, against the digest of its records-imported event."""
    digest, _parts = ctx.run.pending.pop(f"batch {batch_id}")
    columns = [getattr(Record, name) for name in RECORD_FIELDS]
    rows = ctx.session.execute(
        select(*columns).where(Record.batch_id == batch_id).order_by(col(Record.id))
    ).all()
    if records_digest(tuple(row) for row in rows) != digest:
        raise ctx.refuse(
            f"the records of batch {batch_id} do not match the digest its records-imported event "
            "recorded"
        )


def _batch_complete(payload: dict[str, Any]) -> str | None:
    if payload.get("parts") is None:
        return "it holds only a digest of the batch's records (written before issue 14)"
    return None


# --- duplicate groups and candidate pairs --------------------------------------------------------


def _duplicate(ctx: Context, entity_id: str, target: Any) -> None:
    """A record's ``duplicate_of`` (None: a primary, or a record on its own)."""
    record = ctx.session.get(Record, int(entity_id))
    if record is None:
        raise ctx.refuse(f"it regroups record {entity_id}, which is not there")
    record.duplicate_of = target
    ctx.session.add(record)
    ctx.run.regrouped = True


def _ensure_run(ctx: Context, run_id: int) -> DedupRun:
    """The run's row, made when its first group event comes (its settings and counts come with
    its ``dedup-run`` event, written after its groups)."""
    run = ctx.session.get(DedupRun, run_id)
    if run is None:
        run = DedupRun(
            id=run_id,
            run_by_id=ctx.person(ctx.actor),
            run_at=ctx.occurred_at,
            records=0,
            candidate_pairs=0,
            auto_merged=0,
            queued=0,
        )
        ctx.session.add(run)
        ctx.session.flush()
    return run


def _pair(ctx: Context, entity_id: str, snapshot: Any) -> None:
    """A candidate pair: records, status, who decided it; what the scorer said from the event's
    ``scores`` (a run), or, for a pair a person flagged (``dedup-decision``), what flagging
    writes: score 0, outcome ``flagged``, the run before it."""
    s = ctx.session
    pair_id = int(entity_id)
    row = s.get(DedupPair, pair_id)
    scores = (ctx.payload.get("scores") or {}).get(entity_id)
    if scores is not None:
        _ensure_run(ctx, scores["run_id"])
    if row is None:
        if scores is not None:
            found = scores
        elif ctx.action == "dedup-decision":
            last = s.exec(select(DedupRun.id).order_by(col(DedupRun.id).desc())).first()
            if last is None:
                raise ctx.refuse(f"pair {pair_id} was flagged before any deduplication run")
            found = {
                "run_id": last,
                "score": 0.0,
                "outcome": "flagged",
                "reasons": [f"flagged by {ctx.actor}"],
                "fields": "{}",
            }
        else:
            raise ctx.refuse(f"it does not hold what the scorer said of pair {pair_id}")
        row = DedupPair(
            id=pair_id,
            record_a=snapshot["record_a"],
            record_b=snapshot["record_b"],
            run_id=found["run_id"],
            score=found["score"],
            outcome=found["outcome"],
            reasons=json.dumps(found["reasons"], ensure_ascii=False),
            fields=_fields_text(found["fields"]),
            status=snapshot["status"],
            note=ctx.payload.get("note") if ctx.action == "dedup-decision" else None,
        )
    elif scores is not None:
        row.run_id, row.score, row.outcome = scores["run_id"], scores["score"], scores["outcome"]
        row.reasons = json.dumps(scores["reasons"], ensure_ascii=False)
        row.fields = _fields_text(scores["fields"])
    decided_by = ctx.member_id(snapshot["decided_by"])
    if decided_by is not None and (row.decided_by_id, row.status) != (
        decided_by,
        snapshot["status"],
    ):
        row.decided_at = ctx.occurred_at
        row.note = ctx.payload.get("note") if ctx.action == "dedup-decision" else row.note
    row.record_a, row.record_b = snapshot["record_a"], snapshot["record_b"]
    row.status, row.decided_by_id = snapshot["status"], decided_by
    s.add(row)
    s.flush()


def _fields_text(fields: Any) -> str:
    """The per-field similarities as stored: the event holds the column's text."""
    return fields if isinstance(fields, str) else json.dumps(fields)


def _run_groups_scored(payload: dict[str, Any]) -> str | None:
    pairs = (payload.get("state") or {}).get("dedup_pair") or {}
    if pairs and payload.get("scores") is None:
        return "it does not hold what the scorer said of its pairs (written before issue 14)"
    return None


def _run_finished(ctx: Context) -> None:
    """A run's row: settings and counts from its ``dedup-run`` event, who and when from the event."""
    p = ctx.payload
    run = _ensure_run(ctx, int(p["run_id"]))
    counts = p["counts"]
    run.run_by_id = ctx.member_id(ctx.actor) or run.run_by_id
    run.run_at = ctx.occurred_at
    run.settings = json.dumps(p["settings"])
    run.records, run.candidate_pairs = counts["records"], counts["candidate_pairs"]
    run.auto_merged, run.queued = counts["auto_merged"], counts["queued"]
    ctx.session.add(run)


# --- screening: votes, resolutions, labels, reports ----------------------------------------------

_REPORT_SUFFIX = re.compile(r"^(.*):r(\d+)$")


def _vote_rows(ctx: Context, key: str) -> tuple[int, str, int, int | None]:
    """(record, stage, member id, report named or None) of a vote key ``record:stage:name[:rN]``;
    a name that itself ends in ``:r<digits>`` is tried whole when no such member exists."""
    record, stage, rest = key.split(":", 2)
    candidates: list[tuple[str, int | None]] = []
    matched = _REPORT_SUFFIX.match(rest)
    if matched:
        candidates.append((matched.group(1), int(matched.group(2))))
    candidates.append((rest, None))
    for name, report in candidates:
        found = ctx.run.members.get(name)
        if found is None:
            found = ctx.session.exec(select(Member.id).where(Member.name == name)).first()
        if found is not None:
            return int(record), stage, found, report
    raise ctx.refuse(f"vote {key} names nobody who is a member")


def _current_vote(
    ctx: Context, record: int, stage: str, member: int, report: int | None
) -> ScreeningDecision | None:
    d = ScreeningDecision
    query = select(d).where(
        d.record_id == record,
        d.stage == stage,
        d.member_id == member,
        col(d.superseded_at).is_(None),
    )
    if report is None:
        query = query.where(col(d.report_in_ledger).is_(False))
    else:
        query = query.where(col(d.report_in_ledger).is_(True), d.report_id == report)
    return ctx.session.exec(query).first()


def _vote(ctx: Context, key: str, snapshot: Any) -> None:
    """A vote: the current one of the key is superseded (at the event's time); a snapshot adds
    the new current row. Superseded votes stay, so every reviewer's history is rebuilt in order.
    The vote is the member its key names, also when an owner entered it for them (the event's
    ``on_behalf_of``: its actor is the owner); its queue stamp (``order``, ``model``, schema
    0017) is the snapshot's."""
    record, stage, member, report = _vote_rows(ctx, key)
    if snapshot is not None and "report" in snapshot:
        report = snapshot["report"]
    current = _current_vote(ctx, record, stage, member, report)
    if current is not None:
        current.superseded_at = ctx.occurred_at
        if ctx.action != "screening-decision" or key != ctx.entity_id:
            current.superseded_because = f"{ctx.action} (event #{ctx.seq})"
        ctx.session.add(current)
        ctx.session.flush()
    if snapshot is None:
        return
    if stage == "fulltext" and "report" not in snapshot:
        raise ctx.refuse(f"full-text vote {key} does not name its report (before schema 0009)")
    ctx.session.add(
        ScreeningDecision(
            record_id=record,
            reference_id=ctx.reference_of(record),
            stage=stage,
            member_id=member,
            decision=snapshot["decision"],
            reason=snapshot["reason"],
            note=snapshot["note"],
            decided_at=ctx.occurred_at,
            report_id=snapshot.get("report"),
            report_in_ledger="report" in snapshot,
            queue_order=snapshot.get("order"),
            model_version=snapshot.get("model"),
        )
    )
    ctx.session.flush()


def _resolution_unit(key: str) -> tuple[int, str, int | None]:
    record, stage, *rest = key.split(":")
    report = int(rest[0][1:]) if rest and rest[0].startswith("r") else None
    return int(record), stage, report


def _current_resolution(
    ctx: Context, record: int, stage: str, report: int | None
) -> ScreeningResolution | None:
    r = ScreeningResolution
    query = select(r).where(r.record_id == record, r.stage == stage, col(r.reopened_at).is_(None))
    if report is None:
        query = query.where(col(r.report_in_ledger).is_(False))
    else:
        query = query.where(col(r.report_in_ledger).is_(True), r.report_id == report)
    return ctx.session.exec(query).first()


def _reopened(
    ctx: Context, record: int, stage: str, report: int | None, snapshot: dict[str, Any]
) -> ScreeningResolution | None:
    """The newest reopened resolution of a unit, in force again when it says what ``snapshot``
    says (its reopening and contest cleared); None when there is none or it says otherwise."""
    r = ScreeningResolution
    query = select(r).where(r.record_id == record, r.stage == stage)
    if report is None:
        query = query.where(col(r.report_in_ledger).is_(False))
    else:
        query = query.where(col(r.report_in_ledger).is_(True), r.report_id == report)
    row = ctx.session.exec(query.order_by(col(r.id).desc())).first()
    if row is None or row.reopened_at is None:
        return None
    names = {v: k for k, v in ctx.run.members.items()}
    adjudicator = names.get(row.member_id) or ctx.session.get(Member, row.member_id)
    name = adjudicator.name if isinstance(adjudicator, Member) else adjudicator
    said = (row.decision, row.reason, row.note, name)
    wanted = (snapshot["decision"], snapshot["reason"], snapshot["note"], snapshot["adjudicator"])
    if said != wanted:
        return None
    row.reopened_at = row.reopened_because = None
    row.contested_at = row.contested_because = None
    return row


def _resolution(ctx: Context, key: str, snapshot: Any) -> None:
    """A resolution. None: the current one is reopened. The resolving event's own snapshot: the
    current one (if any) is reopened and a new row written. A snapshot in another event's state
    (a vote that contested it): the current row is updated in place."""
    record, stage, report = _resolution_unit(key)
    current = _current_resolution(ctx, record, stage, report)
    own = ctx.action == "screening-resolution" and key == ctx.entity_id
    if snapshot is None or (own and current is not None):
        if current is not None:
            current.reopened_at = ctx.occurred_at
            current.reopened_because = f"{ctx.action} (event #{ctx.seq})"
            ctx.session.add(current)
            ctx.session.flush()
        if snapshot is None:
            return
        current = None
    if stage == "fulltext" and "report" not in snapshot:
        raise ctx.refuse(f"full-text resolution {key} does not name its report (before 0009)")
    if current is None and not own:
        # A vote taken back restores the resolution it had reopened (``undo_last``): the same row
        # is in force again.
        current = _reopened(ctx, record, stage, report, snapshot)
    row = current or ScreeningResolution(
        record_id=record,
        reference_id=ctx.reference_of(record),
        stage=stage,
        member_id=0,
        decision="",
        resolved_at=ctx.occurred_at,
        report_id=snapshot.get("report"),
        report_in_ledger="report" in snapshot,
    )
    adjudicator = ctx.member_id(snapshot["adjudicator"])
    assert adjudicator is not None
    row.member_id = adjudicator
    row.decision, row.reason, row.note = snapshot["decision"], snapshot["reason"], snapshot["note"]
    if "contested" in snapshot:
        row.contested_at = row.contested_at or ctx.occurred_at
        row.contested_because = snapshot["contested"]
    else:
        row.contested_at = row.contested_because = None
    ctx.session.add(row)
    ctx.session.flush()


def _labels(ctx: Context, key: str, labels: Any) -> None:
    """A member's labels on a record: exactly these (None: none)."""
    record_text, name = key.split(":", 1)
    record = int(record_text)
    member = ctx.member_id(name)
    l_ = RecordLabel
    have = {
        row.label: row
        for row in ctx.session.exec(
            select(l_).where(l_.record_id == record, l_.member_id == member)
        ).all()
    }
    wanted = set(labels or [])
    for label, row in have.items():
        if label not in wanted:
            ctx.session.delete(row)
    for label in sorted(wanted - set(have)):
        assert member is not None
        ctx.session.add(
            RecordLabel(
                record_id=record,
                reference_id=ctx.reference_of(record),
                member_id=member,
                label=label,
                added_at=ctx.occurred_at,
            )
        )
    ctx.session.flush()


def _report(ctx: Context, entity_id: str, snapshot: Any) -> None:
    """A report, recorded by the event's actor (reviewtool itself: nobody)."""
    row = ctx.session.get(FullTextReport, int(entity_id))
    record = snapshot["record"]
    if row is None:
        row = FullTextReport(
            id=int(entity_id),
            record_id=record,
            reference_id=ctx.reference_of(record),
            status=snapshot["status"],
            recorded_at=ctx.occurred_at,
        )
    row.record_id, row.kind, row.status = record, snapshot["kind"], snapshot["status"]
    row.location, row.reason, row.note = snapshot["location"], snapshot["reason"], snapshot["note"]
    row.recorded_by_id = None if ctx.actor == SYSTEM_ACTOR else ctx.member_id(ctx.actor)
    row.recorded_at = ctx.occurred_at
    ctx.session.add(row)
    ctx.session.flush()


def _removal(ctx: Context, entity_id: str, snapshot: Any) -> None:
    """A reference removed before screening (None: restored)."""
    row = ctx.session.get(PrescreenRemoval, int(entity_id))
    if snapshot is None:
        if row is not None:
            ctx.session.delete(row)
        return
    row = row or PrescreenRemoval(
        record_id=int(entity_id), reason="", removed_by="", removed_at=ctx.occurred_at
    )
    row.reason, row.removed_by, row.removed_at = snapshot["reason"], snapshot["by"], ctx.occurred_at
    ctx.session.add(row)


# --- studies -------------------------------------------------------------------------------------


def _study_link(ctx: Context, entity_id: str, snapshot: Any) -> None:
    """A reference linked into a study by the event's actor (None: unlinked)."""
    row = ctx.session.get(StudyLink, int(entity_id))
    if snapshot is None:
        if row is not None:
            ctx.session.delete(row)
        return
    linker = ctx.member_id(ctx.actor)
    assert linker is not None
    row = row or StudyLink(
        record_id=int(entity_id), study_record_id=0, linked_by_id=linker, linked_at=""
    )
    row.study_record_id, row.linked_by_id, row.linked_at = (
        snapshot["study"],
        linker,
        ctx.occurred_at,
    )
    ctx.session.add(row)


# --- analysis ------------------------------------------------------------------------------------


def _analysis_complete(payload: dict[str, Any]) -> str | None:
    if payload.get("results") is None or payload.get("settings_text") is None:
        return "it holds only a hash of the run's results (written before issue 14)"
    return None


def _analysis_run(ctx: Context, entity_id: str, snapshot: Any) -> None:
    """A stored run: results and settings as written (from the event), checked against its hash."""
    results, settings = ctx.payload.get("results"), ctx.payload.get("settings_text")
    if results is None or settings is None:
        raise ctx.refuse("it holds only a hash of the run's results (written before issue 14)")
    if hashlib.sha256(results.encode("utf-8")).hexdigest() != snapshot["results_sha256"]:
        raise ctx.refuse("its results do not match the hash it recorded")
    if json.loads(settings) != snapshot["settings"]:
        raise ctx.refuse("its settings text does not match its settings")
    runner = ctx.member_id(ctx.actor)
    assert runner is not None
    ctx.session.add(
        AnalysisRun(
            id=int(entity_id),
            name=snapshot["name"],
            run_by_id=runner,
            run_at=ctx.occurred_at,
            settings=settings,
            input_sha256=snapshot["input_sha256"],
            input_source=snapshot["input_source"],
            results=results,
        )
    )


# --- extraction ----------------------------------------------------------------------------------


def _form_complete(payload: dict[str, Any]) -> str | None:
    if payload.get("toml") is None:
        return "it holds only a hash of the form's text (written before issue 14)"
    return None


def _form(ctx: Context, entity_id: str, snapshot: Any) -> None:
    """A form version: its TOML text (from the event), checked against its sha256."""
    text = ctx.payload.get("toml")
    if text is None:
        raise ctx.refuse("it holds only a hash of the form's text (written before issue 14)")
    if hashlib.sha256(text.encode()).hexdigest() != snapshot["sha256"]:
        raise ctx.refuse("its form text does not match the hash it recorded")
    ctx.session.add(
        ExtractionForm(
            version=int(entity_id),
            name=snapshot["name"],
            toml=text,
            sha256=snapshot["sha256"],
            added_by=ctx.actor,
            added_at=ctx.occurred_at,
        )
    )
    ctx.session.flush()


def _place(parts: list[str]) -> dict[str, Any]:
    """arm, outcome, time point and field: the last four parts of an extraction key."""
    arm, outcome, time_point, name = parts[-4:]
    return {"arm": arm, "outcome": outcome, "time_point": time_point, "field": name}


def _value(ctx: Context, entity_id: str, snapshot: Any) -> None:
    """One extractor's value (``study|extractor|arm|outcome|time|field`` -> [value, form
    version, source kind, source]; None: removed)."""
    parts = entity_id.split("|")
    study, where = int(parts[0]), _place(parts)
    member = ctx.member_id("|".join(parts[1:-4]))
    v = ExtractionValue
    row = ctx.session.exec(
        select(v).where(
            v.study_id == study,
            v.member_id == member,
            v.arm == where["arm"],
            v.outcome == where["outcome"],
            v.time_point == where["time_point"],
            v.field == where["field"],
        )
    ).first()
    if snapshot is None:
        if row is not None:
            ctx.session.delete(row)
        return
    value, version, kind, source = snapshot
    assert member is not None
    row = row or ExtractionValue(
        study_id=study, member_id=member, value="", form_version=version, entered_at="", **where
    )
    row.value, row.form_version, row.source_kind, row.source = value, version, kind, source
    row.entered_at = ctx.occurred_at
    ctx.session.add(row)
    ctx.session.flush()


def _consensus(ctx: Context, entity_id: str, snapshot: Any) -> None:
    """A consensus value (``study|arm|outcome|time|field`` -> [value, form version, source kind,
    source, how, decided by, reopened at, reopened because]; None: removed)."""
    parts = entity_id.split("|")
    study, where = int(parts[0]), _place(parts)
    c = ExtractionConsensus
    row = ctx.session.exec(
        select(c).where(
            c.study_id == study,
            c.arm == where["arm"],
            c.outcome == where["outcome"],
            c.time_point == where["time_point"],
            c.field == where["field"],
        )
    ).first()
    if snapshot is None:
        if row is not None:
            ctx.session.delete(row)
        return
    value, version, kind, source, how, by, reopened_at, because = snapshot
    member = ctx.member_id(by)
    assert member is not None
    if row is None or row.decided_at == "" or (row.how, row.value) != (how, value):
        decided_at = ctx.occurred_at
    else:
        decided_at = row.decided_at
    row = row or ExtractionConsensus(
        study_id=study,
        value="",
        form_version=version,
        how=how,
        member_id=member,
        decided_at="",
        **where,
    )
    row.value, row.form_version, row.source_kind, row.source = value, version, kind, source
    row.how, row.member_id, row.decided_at = how, member, decided_at
    row.reopened_at, row.reopened_because = reopened_at, because
    ctx.session.add(row)
    ctx.session.flush()


# --- risk of bias --------------------------------------------------------------------------------


def _rob_judgement(ctx: Context, entity_id: str, snapshot: Any) -> None:
    """One assessor's judgement (``tool|study|result|domain|group|assessor``; None: removed),
    changed by the event's actor."""
    tool, study, result, domain, group, *name = entity_id.split("|")
    assessor = ctx.member_id("|".join(name))
    j = RobJudgement
    row = ctx.session.exec(
        select(j).where(
            j.tool == tool,
            j.study_id == int(study),
            j.result == result,
            j.domain == domain,
            j.outcome_group == group,
            j.assessor_id == assessor,
        )
    ).first()
    if snapshot is None:
        if row is not None:
            ctx.session.delete(row)
        return
    assert assessor is not None
    row = row or RobJudgement(
        tool=tool,
        study_id=int(study),
        result=result,
        domain=domain,
        outcome_group=group,
        assessor_id=assessor,
        changed_by="",
        changed_at="",
    )
    row.judgement, row.algorithm = snapshot["judgement"], snapshot["algorithm"]
    row.justification, row.support = snapshot["justification"], snapshot["support"]
    row.direction = snapshot["direction"]
    answers = snapshot["answers"]
    row.answers = json.dumps(answers, sort_keys=True) if isinstance(answers, dict) else answers
    row.changed_by, row.changed_at = ctx.actor, ctx.occurred_at
    ctx.session.add(row)
    ctx.session.flush()


def _rob_consensus(ctx: Context, entity_id: str, snapshot: Any) -> None:
    """The consensus of one domain (``tool|study|result|domain|group``; None: removed)."""
    tool, study, result, domain, group = entity_id.split("|", 4)
    c = RobConsensus
    row = ctx.session.exec(
        select(c).where(
            c.tool == tool,
            c.study_id == int(study),
            c.result == result,
            c.domain == domain,
            c.outcome_group == group,
        )
    ).first()
    if snapshot is None:
        if row is not None:
            ctx.session.delete(row)
        return
    row = row or RobConsensus(
        tool=tool,
        study_id=int(study),
        result=result,
        domain=domain,
        outcome_group=group,
        judgement="",
        how="",
        decided_by="",
        decided_at=ctx.occurred_at,
    )
    row.judgement, row.support, row.how = (
        snapshot["judgement"],
        snapshot["support"],
        snapshot["how"],
    )
    row.status, row.reopened_because = snapshot["status"], snapshot["reopened_because"]
    if row.decided_by != snapshot["decided_by"] or snapshot["status"] != "reopened":
        row.decided_at = ctx.occurred_at
    row.decided_by = snapshot["decided_by"]
    ctx.session.add(row)
    ctx.session.flush()


def _rob1_overall(ctx: Context, entity_id: str, snapshot: Any) -> None:
    """A study's RoB 1 overall rating with its rule (``rob1|study``; None: removed)."""
    study = int(entity_id.split("|", 1)[1])
    row = ctx.session.get(Rob1Overall, study)
    if snapshot is None:
        if row is not None:
            ctx.session.delete(row)
        return
    row = row or Rob1Overall(study_id=study, rule="", rated_at=ctx.occurred_at)
    row.rating, row.risk, row.rule = snapshot["rating"], snapshot["risk"], snapshot["rule"]
    row.rated_at = ctx.occurred_at
    ctx.session.add(row)
    ctx.session.flush()


# --- team mode ---------------------------------------------------------------------------------


def _login(ctx: Context, entity_id: str, snapshot: Any) -> None:
    """A member's PostgreSQL login (``member_id`` -> ``{"member", "db_role"}``; None: unmapped)."""
    member_id = int(entity_id)
    row = ctx.session.get(MemberLogin, member_id)
    if snapshot is None:
        if row is not None:
            ctx.session.delete(row)
            ctx.session.flush()
        return
    if ctx.member_id(snapshot["member"]) != member_id:
        raise ctx.refuse(
            f"login {snapshot['db_role']!r} names {snapshot['member']!r}, not #{member_id}"
        )
    row = row or MemberLogin(member_id=member_id, db_role=snapshot["db_role"])
    row.db_role = snapshot["db_role"]
    ctx.session.add(row)
    ctx.session.flush()


# --- calibration rounds and stops (issue 15) ------------------------------------------------------


def _calibration(ctx: Context, entity_id: str, snapshot: Any) -> None:
    """A calibration round as ``calibration.round_snapshot`` gives it; started by ``by`` at the
    time of the event that started it (``started_at`` is kept from then), the sample stored as
    ``start_round`` writes it."""
    row = ctx.session.get(ScreeningCalibration, int(entity_id))
    if row is None:
        row = ScreeningCalibration(
            id=int(entity_id),
            stage=snapshot["stage"],
            seed=snapshot["seed"],
            size=snapshot["size"],
            sample="",
            threshold=snapshot["threshold"],
            started_at=ctx.occurred_at,
            started_by_id=ctx.person(snapshot["by"]),
        )
    row.stage, row.seed, row.size = snapshot["stage"], snapshot["seed"], snapshot["size"]
    row.sample = json.dumps(snapshot["sample"])
    row.threshold, row.started_by_id = snapshot["threshold"], ctx.person(snapshot["by"])
    row.closed_at, row.closed_by_id = snapshot["closed_at"], ctx.member_id(snapshot["closed_by"])
    row.outcome, row.kappa, row.reason = snapshot["outcome"], snapshot["kappa"], snapshot["reason"]
    ctx.session.add(row)
    ctx.session.flush()


def _stop(ctx: Context, entity_id: str, snapshot: Any) -> None:
    """A stop as ``stop.stop_snapshot`` gives it; recorded by ``by`` at the time of the event that
    recorded it, evidence and references stored as ``record_stop`` writes them."""
    row = ctx.session.get(ScreeningStop, int(entity_id))
    if row is None:
        row = ScreeningStop(
            id=int(entity_id),
            stage=snapshot["stage"],
            rule=snapshot["rule"],
            evidence="",
            references="",
            methods=snapshot["methods"],
            stopped_at=ctx.occurred_at,
            stopped_by_id=ctx.person(snapshot["by"]),
        )
    row.stage, row.rule, row.methods = snapshot["stage"], snapshot["rule"], snapshot["methods"]
    row.evidence = json.dumps(snapshot["evidence"], sort_keys=True, separators=(",", ":"))
    row.references = json.dumps(snapshot["references"])
    row.stopped_by_id = ctx.person(snapshot["by"])
    row.resumed_at, row.resumed_by_id = (
        snapshot["resumed_at"],
        ctx.member_id(snapshot["resumed_by"]),
    )
    row.resume_reason = snapshot["resume_reason"]
    ctx.session.add(row)
    ctx.session.flush()


# --- registration --------------------------------------------------------------------------------

# Rows a kind refers to come first: members, the review, batches (records), reports (full-text
# votes name them), forms (values name their version).
register_setter("member", _member, order=0)
register_setter("review", _review, order=1)
register_setter("review_setting", _setting, order=2)
register_setter("import_batch", _batch, order=3)
register_setter("record_duplicate", _duplicate, order=4)
register_setter("dedup_pair", _pair, order=5)
register_setter("fulltext_report", _report, order=6)
register_setter("screening_vote", _vote, order=7)
register_setter("screening_resolution", _resolution, order=8)
register_setter("record_label", _labels, order=9)
register_setter("prescreen_removal", _removal, order=10)
register_setter("study_link", _study_link, order=11)
register_setter("extraction_form", _form, order=12)
register_setter("extraction_value", _value, order=13)
register_setter("extraction_consensus", _consensus, order=14)
register_setter("rob_judgement", _rob_judgement, order=15)
register_setter("rob_consensus", _rob_consensus, order=16)
register_setter("analysis_run", _analysis_run, order=17)
register_setter("rob1_overall", _rob1_overall, order=18)
register_setter("member_login", _login, order=19)
register_setter("screening_calibration", _calibration, order=20)
register_setter("screening_stop", _stop, order=21)
declare_derived(
    "reference_link",
    "references follow the duplicate groups: the replay moves every reference_id with them "
    "(audit.replay.sync_references); the ledger's state of this kind is always empty",
)


def _report_keyed(payload: dict[str, Any]) -> str | None:
    if payload.get("report_id") is None:
        return "it is keyed by its record, not its report (written before schema 0007)"
    return None


register_event("review-created")
register_event("setting-changed")
register_event("member-added")
register_event("member-changed")
register_event("schema-upgraded")
register_event("records-imported", missing=_batch_complete)
register_event("records-imported-part", before=_records_part)
register_event("dedup-run-group", missing=_run_groups_scored)
register_event("dedup-run", after=_run_finished)
register_event("dedup-decision")
register_event("screening-decision")
register_event("screening-resolution")
register_event("fulltext-report", missing=_report_keyed)
register_event("stage-unblinded")
register_event("analysis-run", missing=_analysis_complete)
register_event("labels-changed")
register_event("study-changed")
register_event("references-removed")
register_event("rob-assessed")
register_event("rob-consensus")
register_event("extraction-form", missing=_form_complete)
register_event("extraction-values")
register_event("extraction-consensus")
register_event("member-login-mapped")
register_event("screening-calibration")
register_event("screening-stopped")
register_event("screening-resolution-revisited")
declare_not_replayed(
    "database-roles-granted",
    "`member db-setup` creates PostgreSQL roles, grants, functions and row-level security "
    "policies on the server, and writes no row of any table: a rebuilt team-mode review needs "
    "`member db-setup` run again against its new database",
)
declare_not_replayed(
    "access-refused",
    "a refusal changes no table: the event is copied into the rebuilt ledger, nothing is applied",
)
