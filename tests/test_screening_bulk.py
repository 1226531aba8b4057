"""`screen import-decisions` in bulk: the same rows, resolutions and events as one vote at a time.

The bulk path reads the state once and writes rows and events in bulk; these tests hold it to the
single-vote path (`record_decision`) on a scenario with every rule: a new vote, a stored vote
superseded, one reference twice in the file, a resolution contested and then reopened in the same
file, one reopened by a change, one reopened because the votes now agree with it, a reason by
number and by case.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import select

from reviewtool import audit
from reviewtool.audit.events import MemberAdded
from reviewtool.audit.log import record_many
from reviewtool.domain import QueueStamp, Role
from reviewtool.errors import InvalidInput, NotFound, StageOrderError
from reviewtool.importing.service import import_files
from reviewtool.screening import service as sv
from reviewtool.storage import Review
from reviewtool.storage.models import AuditEvent, ScreeningDecision, ScreeningResolution

# alice's votes in the file, in order: (record, decision, reason, note).
ALICE_FILE = [
    (1, "include", None, "first vote"),
    (2, "exclude", "animal study", None),  # supersedes her stored include
    (3, "exclude", "animal study", None),  # bob excluded too: contests carol's include
    (3, "include", None, "second thoughts"),  # a second file: the votes split, reopened
    (4, "maybe", None, None),  # maybe vs bob's exclude: still a conflict, reopened
    (5, "exclude", "5", None),  # by number: now agrees with carol's exclude, reopened
    (6, "exclude", "ANIMAL STUDY", None),  # any case
]


def _ris(n: int) -> str:
    return "".join(
        f"TY  - JOUR\nID  - R{i}\nTI  - Trial number {i} of stem cells in liver disease cohort {i * 7}\n"
        f"AU  - Author{i}, A.\nPY  - {2000 + i % 20}\nER  -\n\n"
        for i in range(1, n + 1)
    )


def _prepare(review: Review, tmp_path: Path) -> Review:
    """Six references; dora joins; alice and bob disagree on 2..5 and carol resolved 3, 4 and 5."""
    from reviewtool.members.service import add_member

    path = tmp_path / "six.ris"
    path.write_text(_ris(6))
    with review.transaction() as session:
        import_files(session, actor="alice", paths=[path], source="MEDLINE")
        add_member(session, actor="alice", name="dora", roles=[Role.REVIEWER])
        for record in (2, 3, 4, 5):
            sv.record_decision(
                session, actor="alice", record_id=record, stage="tiab", decision="include"
            )
            sv.record_decision(
                session,
                actor="bob",
                record_id=record,
                stage="tiab",
                decision="exclude",
                reason="not an RCT",
            )
        for record, decision, reason in (
            (3, "include", None),
            (4, "include", None),
            (5, "exclude", "not an RCT"),
        ):
            sv.resolve_conflict(
                session,
                actor="carol",
                record_id=record,
                stage="tiab",
                decision=decision,
                reason=reason,
            )
    return review


@pytest.fixture
def review(fresh_review: Review, tmp_path: Path) -> Review:
    """The prepared review (see ``_prepare``)."""
    return _prepare(fresh_review, tmp_path)


def _state(review: Review, since: int) -> dict[str, Any]:
    """Everything the votes wrote, without the clock: vote rows, resolutions, events after ``since``."""
    with review.reading() as session:
        votes = [
            (
                d.record_id,
                d.stage,
                d.member_id,
                d.decision,
                d.reason,
                d.note,
                d.superseded_at is None,
            )
            for d in session.exec(select(ScreeningDecision).order_by(ScreeningDecision.id)).all()  # type: ignore[arg-type]
        ]
        resolutions = [
            (
                r.record_id,
                r.decision,
                r.reason,
                r.reopened_at is None,
                r.reopened_because,
                r.contested_at is None,
                r.contested_because,
            )
            for r in session.exec(
                select(ScreeningResolution).order_by(ScreeningResolution.id)  # type: ignore[arg-type]
            ).all()
        ]
        events = [
            (e.seq, e.actor, e.action, e.entity_type, e.entity_id, e.payload)
            for e in audit.list_events(session)
            if e.seq > since
        ]
        assert audit.verify(session).ok
    return {"votes": votes, "resolutions": resolutions, "events": events}


def _last_seq(review: Review) -> int:
    with review.reading() as session:
        return audit.list_events(session, limit=1)[0].seq


def _csv(path: Path, rows: list[tuple[Any, ...]]) -> Path:
    lines = ["record_id,decision,reason,note"]
    lines += [",".join("" if v is None else str(v) for v in row) for row in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_bulk_import_writes_what_one_vote_at_a_time_writes(
    review: Review, review_url: str, tmp_path: Path
) -> None:
    since = _last_seq(review)
    # One file may hold one vote per record (tests/test_csvfiles.py), so the change of mind on
    # record 3 comes in a second file.
    count = 0
    for name, part in (("a.csv", ALICE_FILE[:3]), ("b.csv", ALICE_FILE[3:])):
        with review.transaction() as session:
            count += sv.import_decisions(
                session, actor="alice", path=str(_csv(tmp_path / name, part)), stage="tiab"
            ).written
    assert count == 7
    bulk = _state(review, since)

    # The same votes cast one at a time on a second review prepared the same way.
    from reviewtool.members.service import add_member
    from reviewtool.review.service import init_review

    other = tmp_path / "copy"
    other.mkdir()
    copy = init_review(
        f"sqlite:///{other / 'review.db'}",
        title="MSC therapy in chronic liver disease",
        owner="alice",
    )
    with copy.transaction() as session:
        add_member(session, actor="alice", name="bob", roles=[Role.REVIEWER])
        add_member(session, actor="alice", name="carol", roles=[Role.ADJUDICATOR])
    _prepare(copy, other)
    assert _last_seq(copy) == since
    for record, decision, reason, note in ALICE_FILE:
        with copy.transaction() as session:
            sv.record_decision(
                session,
                actor="alice",
                record_id=record,
                stage="tiab",
                decision=decision,
                reason=reason,
                note=note,
                stamp=QueueStamp("imported"),  # what an import stamps (issue 15)
            )
    one_by_one = _state(copy, since)
    copy.close()

    # Each imported vote's event names its file (issue 15); the rest is what one vote writes.
    assert [e[5].pop("source_file") for e in bulk["events"]] == ["a.csv"] * 3 + ["b.csv"] * 4
    assert bulk == one_by_one
    # The known answers, from the rules (not from either path).
    assert [e[2] for e in bulk["events"]] == ["screening-decision"] * 7
    by_record = {r[0]: r for r in bulk["resolutions"]}
    assert by_record[3][3:] == (
        False,
        "alice changed their vote from exclude (animal study) to include",
        False,
        "alice changed their vote from include to exclude (animal study); "
        "the votes now agree on exclude (animal study), against this resolution",
    )
    assert by_record[4][4] == "alice changed their vote from include to maybe"
    assert by_record[5][4] == (
        "alice changed their vote from include to exclude (not an RCT); "
        "the votes now agree with the resolution"
    )
    contested = bulk["events"][2][5]["state"]["screening_resolution"]["3:tiab"]
    assert contested["decision"] == "include" and contested["contested"].startswith("alice")
    assert bulk["events"][3][5]["state"] == {"screening_resolution": {"3:tiab": None}}
    assert bulk["events"][3][5]["before"] == {
        "decision": "exclude",
        "reason": "animal study",
        "note": None,
        "order": "imported",
    }
    alice_current = [v for v in bulk["votes"] if v[2] == 1 and v[6]]
    assert [(v[0], v[3], v[4]) for v in alice_current] == [
        (1, "include", None),
        (2, "exclude", "animal study"),
        (3, "include", None),
        (4, "maybe", None),
        (5, "exclude", "not an RCT"),
        (6, "exclude", "animal study"),
    ]


def _counts(review: Review) -> tuple[int, int, list[Any]]:
    with review.reading() as session:
        votes = len(session.exec(select(ScreeningDecision)).all())
        events = len(session.exec(select(AuditEvent)).all())
        resolutions = [
            (r.id, r.reopened_at, r.contested_at)
            for r in session.exec(select(ScreeningResolution)).all()
        ]
    return votes, events, resolutions


@pytest.mark.parametrize(
    ("bad_row", "error", "message"),
    [
        ((99, "include", None, None), NotFound, r"bad\.csv:5: no record 99"),
        ((6, "exclude", "boredom", None), InvalidInput, r"bad\.csv:5: unknown exclusion reason"),
        ((6, "perhaps", None, None), InvalidInput, r"bad\.csv:5: decision must be include"),
        ((6, "include", "animal study", None), InvalidInput, r"bad\.csv:5: a reason goes with"),
        (("six", "include", None, None), InvalidInput, r"bad\.csv:5: 'six' is not a whole number"),
    ],
)
def test_a_bad_row_names_its_line_and_nothing_is_written(
    review: Review, tmp_path: Path, bad_row: tuple[Any, ...], error: type, message: str
) -> None:
    before = _counts(review)
    # Rows 2-4 would supersede a vote, contest a resolution and reopen another.
    rows = [(2, "exclude", None, None), (3, "exclude", "1", None), (4, "maybe", None, None)]
    with pytest.raises(error, match=message), review.transaction() as session:
        sv.import_decisions(
            session,
            actor="alice",
            path=str(_csv(tmp_path / "bad.csv", [*rows, bad_row])),
            stage="tiab",
        )
    assert _counts(review) == before
    with review.reading() as session:
        assert audit.verify(session).ok


def test_a_duplicate_record_names_its_reference_as_one_vote_does(
    review: Review, tmp_path: Path
) -> None:
    # Since references (schema 0007) any record id names its reference: a vote on a duplicate is
    # a vote on its group's reference, shown (and stored) on the group's primary.
    from reviewtool.storage.references import follow_groups

    # Regrouped with SQL (not audited: the ledger is not verified here), then followed as dedup does.
    with review.transaction() as session:
        session.execute(text("UPDATE record SET duplicate_of = 1 WHERE id = 6"))
        follow_groups(session, audit.log.utc_now())
    since = _last_seq(review)
    with review.transaction() as session:
        sv.import_decisions(
            session,
            actor="dora",
            path=str(_csv(tmp_path / "d.csv", [(6, "include", None, None)])),
            stage="tiab",
        )
        sv.record_decision(session, actor="bob", record_id=6, stage="tiab", decision="include")
    with review.reading() as session:
        rows = session.exec(
            select(
                ScreeningDecision.member_id,
                ScreeningDecision.record_id,
                ScreeningDecision.reference_id,
            ).where(ScreeningDecision.stage == "tiab", ScreeningDecision.record_id == 1)
        ).all()
        assert sorted((rec, ref) for _, rec, ref in rows) == [(1, 1), (1, 1)]
        events = [e for e in audit.list_events(session) if e.seq > since]
        assert sorted(e.entity_id for e in events if e.action == "screening-decision") == [
            "1:tiab:bob",
            "1:tiab:dora",
        ]
        # Both votes include reference 1: its report is sought from then on (report 3, after
        # the two of the fixture), recorded once.
        assert [(e.action, e.entity_id, e.payload["after"]["status"]) for e in events[2:]] == [
            ("fulltext-report", "3", "sought")
        ]


def test_full_text_rows_need_an_inclusion_and_a_retrieved_text(
    review: Review, tmp_path: Path
) -> None:
    with review.transaction() as session:
        for who in ("alice", "bob"):
            sv.record_decision(session, actor=who, record_id=1, stage="tiab", decision="include")
            sv.record_decision(session, actor=who, record_id=6, stage="tiab", decision="include")
        sv.set_fulltext(session, actor="alice", record_id=6, not_retrieved=True)
    # While title/abstract is blind, full text is closed to reviewers: the first row says so.
    with (
        pytest.raises(StageOrderError, match=r"e\.csv:2: full-text screening opens to reviewers"),
        review.transaction() as session,
    ):
        path = _csv(tmp_path / "e.csv", [(1, "include", None, None)])
        sv.import_decisions(session, actor="dora", path=str(path), stage="fulltext")
    with review.transaction() as session:
        sv.unblind_stage(session, actor="alice", stage="tiab")
    with (
        pytest.raises(
            StageOrderError,
            match=r"f\.csv:3: record 2 is not included at title/abstract \(conflict\)",
        ),
        review.transaction() as session,
    ):
        sv.import_decisions(
            session,
            actor="dora",
            path=str(
                _csv(tmp_path / "f.csv", [(1, "include", None, None), (2, "include", None, None)])
            ),
            stage="fulltext",
        )
    with (
        pytest.raises(
            StageOrderError, match=r"g\.csv:2: record 6: its full text was marked not retrieved"
        ),
        review.transaction() as session,
    ):
        sv.import_decisions(
            session,
            actor="dora",
            path=str(_csv(tmp_path / "g.csv", [(6, "include", None, None)])),
            stage="fulltext",
        )
    # Full text needs a reason to exclude (the default): the rule of the single-vote path.
    with (
        pytest.raises(InvalidInput, match=r"h\.csv:2: excluding at fulltext needs a reason"),
        review.transaction() as session,
    ):
        sv.import_decisions(
            session,
            actor="dora",
            path=str(_csv(tmp_path / "h.csv", [(1, "exclude", None, None)])),
            stage="fulltext",
        )
    with review.transaction() as session:
        assert (
            sv.import_decisions(
                session,
                actor="dora",
                path=str(_csv(tmp_path / "ok.csv", [(1, "exclude", "1", None)])),
                stage="fulltext",
            ).written
            == 1
        )
    with review.reading() as session:
        (row,) = session.exec(
            select(ScreeningDecision).where(ScreeningDecision.stage == "fulltext")
        ).all()
        assert audit.verify(session).ok
    assert (row.record_id, row.decision, row.reason) == (1, "exclude", "insufficient data")


class Rogue(MemberAdded):
    """An event kind the ledger does not know."""


def test_record_many_writes_the_rows_record_writes(fresh_review: Review) -> None:
    with fresh_review.transaction() as session:
        assert record_many(session, "alice", []) == 0
        head = audit.list_events(session, limit=1)[0]
        events = [MemberAdded(member_id=90 + n, after={"n": n}) for n in range(3)]
        assert record_many(session, "alice", events) == 3
        with pytest.raises(TypeError, match="unknown audit event type"):
            record_many(session, "alice", [Rogue(member_id=1, after={})])
    with fresh_review.reading() as session:
        rows = audit.list_events(session)[-3:]
        report = audit.verify(session)
    # Numbered after the head, each linking to the one before: what three `record` calls write.
    assert [r.seq for r in rows] == [head.seq + 1, head.seq + 2, head.seq + 3]
    assert [r.entity_id for r in rows] == ["90", "91", "92"]
    assert rows[0].payload == {"member_id": 90, "after": {"n": 0}}
    assert report.head_hash == rows[-1].hash
    # The members 90..92 do not exist, so verify reports them as state differences, not chain faults.
    assert report.first_bad_seq is None
    assert all(p.startswith("member 9") for p in report.problems)


def _contest_3(review: Review) -> None:
    """alice now excludes 3 as bob does: carol's include on 3 is contested."""
    with review.transaction() as session:
        sv.record_decision(
            session, actor="alice", record_id=3, stage="tiab", decision="exclude", reason="1"
        )


RESOLUTIONS = [
    (2, "include", None, "both read it"),  # an open conflict
    (3, "exclude", "animal study", None),  # replaces the contested include
]


def test_bulk_resolutions_write_what_one_resolution_at_a_time_writes(
    review: Review, tmp_path: Path
) -> None:
    from reviewtool.members.service import add_member
    from reviewtool.review.service import init_review

    _contest_3(review)
    since = _last_seq(review)
    with review.transaction() as session:
        path = _csv(tmp_path / "r.csv", RESOLUTIONS)
        done = sv.import_resolutions(session, actor="carol", path=str(path), stage="tiab")
        assert (done.written, done.unchanged) == (2, 0)
    bulk = _state(review, since)

    other = tmp_path / "copy"
    other.mkdir()
    copy = init_review(
        f"sqlite:///{other / 'review.db'}",
        title="MSC therapy in chronic liver disease",
        owner="alice",
    )
    with copy.transaction() as session:
        add_member(session, actor="alice", name="bob", roles=[Role.REVIEWER])
        add_member(session, actor="alice", name="carol", roles=[Role.ADJUDICATOR])
    _prepare(copy, other)
    _contest_3(copy)
    for record, decision, reason, note in RESOLUTIONS:
        with copy.transaction() as session:
            sv.resolve_conflict(
                session,
                actor="carol",
                record_id=record,
                stage="tiab",
                decision=decision,
                reason=reason,
                note=note,
            )
    one_by_one = _state(copy, since)
    copy.close()

    assert bulk == one_by_one
    # Including reference 2 seeks its report (recorded right after, as one resolution does).
    assert [e[2] for e in bulk["events"]] == [
        "screening-resolution",
        "fulltext-report",
        "screening-resolution",
    ]
    events = [e for e in bulk["events"] if e[2] == "screening-resolution"]
    assert events[0][5]["votes"] == [
        {"reviewer": "alice", "decision": "include", "reason": None},
        {"reviewer": "bob", "decision": "exclude", "reason": "not an RCT"},
    ]
    assert events[0][5]["replaced"] is None
    assert events[1][5]["replaced"]["decision"] == "include"
    assert events[1][5]["after"] == {
        "decision": "exclude",
        "reason": "animal study",
        "note": None,
        "adjudicator": "carol",
    }
    current = [r for r in bulk["resolutions"] if r[3]]
    assert [(r[0], r[1], r[2]) for r in current] == [
        (4, "include", None),
        (5, "exclude", "not an RCT"),
        (2, "include", None),
        (3, "exclude", "animal study"),
    ]
    replaced = [r for r in bulk["resolutions"] if r[0] == 3 and not r[3]]
    assert [r[4] for r in replaced] == ["resolved again by carol"]


@pytest.mark.parametrize(
    ("bad_row", "error", "message"),
    [
        (
            (4, "exclude", "1", None),
            InvalidInput,
            r"res\.csv:4: record 4 has no open conflict at tiab \(it is resolved-included\)",
        ),
        (
            (1, "include", None, None),
            InvalidInput,
            r"res\.csv:4: record 1 has no open conflict at tiab \(it is not screened\)",
        ),
        (
            (2, "include", None, None),
            InvalidInput,
            r"res\.csv:4: record 2 is already decided on line \d of this file",
        ),
        (
            (6, "maybe", None, None),
            InvalidInput,
            r"res\.csv:4: a resolution is include or exclude, not maybe",
        ),
        ((6, "exclude", "boredom", None), InvalidInput, r"res\.csv:4: unknown exclusion reason"),
        (("x", "include", None, None), InvalidInput, r"res\.csv:4: 'x' is not a whole number"),
    ],
)
def test_a_bad_resolution_row_names_its_line_and_nothing_is_written(
    review: Review, tmp_path: Path, bad_row: tuple[Any, ...], error: type, message: str
) -> None:
    _contest_3(review)
    before = _counts(review)
    with pytest.raises(error, match=message), review.transaction() as session:
        path = _csv(tmp_path / "res.csv", [*RESOLUTIONS, bad_row])
        sv.import_resolutions(session, actor="carol", path=str(path), stage="tiab")
    assert _counts(review) == before
    with review.reading() as session:
        assert audit.verify(session).ok


def test_resolving_a_reference_waiting_for_votes_says_so(review: Review) -> None:
    """A reference with one vote of the two needed is "open" in the rules' words, which in this
    message read as the open conflict it lacks (found by a new user): it says what it waits for."""
    with review.transaction() as session:
        sv.record_decision(session, actor="alice", record_id=6, stage="tiab", decision="include")
    with (
        pytest.raises(
            InvalidInput,
            match=r"^record 6 has no open conflict at tiab \(it is waiting for more votes\)$",
        ),
        review.transaction() as session,
    ):
        sv.resolve_conflict(
            session, actor="carol", record_id=6, stage="tiab", decision="include", reason=None
        )
