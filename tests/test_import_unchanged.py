"""Re-importing a file of judgements writes nothing for what is already in force.

As ``extract import`` skips unchanged values, a row of ``screen import-decisions``,
``screen import-resolutions``, ``rob import`` or ``dedup import-decisions`` that is the same as the
judgement in force (the member's current vote, the adjudicator's standing resolution, the
assessor's judgement or answer, the pair's decision) is counted unchanged and writes no row and no
event; a file of only unchanged rows leaves the ledger head where it was. The refusals stay as they
were (a row is checked before it is compared).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlmodel import func, select
from typer.testing import CliRunner

from reviewtool import audit
from reviewtool.cli import app
from reviewtool.errors import InvalidInput
from reviewtool.importing.service import import_files
from reviewtool.screening import service as sv
from reviewtool.storage import Review
from reviewtool.storage.models import AuditEvent, AuditHead, ScreeningDecision, ScreeningResolution
from tests.test_screening_bulk import ALICE_FILE, RESOLUTIONS, _contest_3, _csv, _prepare

runner = CliRunner()


def _head(review: Review) -> tuple[int, str]:
    """The ledger head: (seq, hash) of the last event."""
    with review.reading() as session:
        head = session.exec(select(AuditHead)).one()
        return head.seq, head.hash


def _rows(review: Review, table: Any) -> int:
    with review.reading() as session:
        return int(session.exec(select(func.count()).select_from(table)).one())


def _verified(review: Review) -> None:
    with review.reading() as session:
        report = audit.verify(session)
    assert report.ok, report.problems


@pytest.fixture
def review(fresh_review: Review, tmp_path: Path) -> Review:
    """tests/test_screening_bulk.py's review: six references, alice and bob disagree on 2..5,
    carol resolved 3, 4 and 5; dora a reviewer."""
    return _prepare(fresh_review, tmp_path)


def test_a_decisions_file_imported_twice_writes_its_votes_once(
    review: Review, tmp_path: Path
) -> None:
    # The first five rows of tests/test_screening_bulk.py's file (one row per reference): a new
    # vote, a vote superseded, a resolution contested, one reopened, one reopened by agreement.
    rows = [ALICE_FILE[i] for i in (0, 1, 2, 4, 5)]
    path = str(_csv(tmp_path / "a.csv", rows))
    with review.transaction() as session:
        first = sv.import_decisions(session, actor="alice", path=path, stage="tiab")
    assert (first.written, first.unchanged, first.rows) == (5, 0, 5)
    head, votes, resolutions = (
        _head(review),
        _rows(review, ScreeningDecision),
        _rows(review, ScreeningResolution),
    )
    with review.transaction() as session:
        again = sv.import_decisions(session, actor="alice", path=path, stage="tiab")
    assert (again.written, again.unchanged) == (0, 5)
    assert _head(review) == head  # no event at all
    assert _rows(review, ScreeningDecision) == votes
    assert _rows(review, ScreeningResolution) == resolutions
    _verified(review)


def test_only_the_changed_rows_of_a_file_are_written(review: Review, tmp_path: Path) -> None:
    """Row by row against the vote in force: a different note or reason is a change; the same
    reason given by number or in another case is not (it is stored as the reason's name)."""
    first = [(1, "include", None, "first vote"), (2, "exclude", "animal study", None)]
    first += [(6, "exclude", "animal study", None)]
    with review.transaction() as session:
        sv.import_decisions(
            session, actor="alice", path=str(_csv(tmp_path / "a.csv", first)), stage="tiab"
        )
    seq = _head(review)[0]
    second = [(1, "include", None, "  first vote "), (2, "exclude", "ANIMAL STUDY", None)]
    second += [(6, "exclude", "animal study", "now with a note"), (4, "include", None, None)]
    with review.transaction() as session:
        done = sv.import_decisions(
            session, actor="alice", path=str(_csv(tmp_path / "b.csv", second)), stage="tiab"
        )
    # Record 4: alice's include from the fixture is unchanged too; one event, for 6's note.
    assert (done.written, done.unchanged) == (1, 3)
    with review.reading() as session:
        events = [e for e in audit.list_events(session) if e.seq > seq]
    assert [(e.action, e.entity_id) for e in events] == [("screening-decision", "6:tiab:alice")]
    assert events[0].payload["after"]["note"] == "now with a note"
    _verified(review)


def _without_notes(path: Path, rows: list[tuple[Any, ...]]) -> str:
    """A decisions file with no note column: record_id, decision, reason."""
    lines = ["record_id,decision,reason"]
    lines += [f"{r},{d},{'' if why is None else why}" for r, d, why in rows]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def test_a_file_without_a_note_column_leaves_the_notes_alone(
    review: Review, tmp_path: Path
) -> None:
    """A file that has no note column says nothing about notes: a vote the same in decision and
    reason keeps its note and is unchanged (it cleared the note, found by a new user); a changed
    decision is a new vote, without the old vote's note. An empty cell of a note column still
    clears the note."""
    first = [(1, "include", None, "clearly RCT"), (6, "exclude", "animal study", "mice")]
    with review.transaction() as session:
        sv.import_decisions(
            session, actor="alice", path=str(_csv(tmp_path / "a.csv", first)), stage="tiab"
        )
    head = _head(review)
    same = _without_notes(
        tmp_path / "b.csv", [(1, "include", None), (6, "exclude", "animal study")]
    )
    with review.transaction() as session:
        done = sv.import_decisions(session, actor="alice", path=same, stage="tiab")
    assert (done.written, done.unchanged) == (0, 2)
    assert _head(review) == head
    changed = _without_notes(tmp_path / "c.csv", [(1, "exclude", "animal study")])
    with review.transaction() as session:
        done = sv.import_decisions(session, actor="alice", path=changed, stage="tiab")
        vote = sv.my_vote(session, actor="alice", record_id=1, stage="tiab")
        assert vote is not None and (vote.decision, vote.note) == ("exclude", None)
    assert (done.written, done.unchanged) == (1, 0)
    cleared = str(_csv(tmp_path / "d.csv", [(6, "exclude", "animal study", None)]))
    with review.transaction() as session:
        done = sv.import_decisions(session, actor="alice", path=cleared, stage="tiab")
        vote = sv.my_vote(session, actor="alice", record_id=6, stage="tiab")
        assert vote is not None and (vote.decision, vote.note) == ("exclude", None)
    assert (done.written, done.unchanged) == (1, 0)
    _verified(review)


def test_a_resolutions_file_without_a_note_column_keeps_the_resolution(
    review: Review, tmp_path: Path
) -> None:
    _contest_3(review)
    with review.transaction() as session:
        sv.import_resolutions(
            session, actor="carol", path=str(_csv(tmp_path / "r.csv", RESOLUTIONS)), stage="tiab"
        )
    head = _head(review)
    path = _without_notes(tmp_path / "s.csv", [(2, "include", None)])
    with review.transaction() as session:
        done = sv.import_resolutions(session, actor="carol", path=path, stage="tiab")
    assert (done.written, done.unchanged) == (0, 1)
    assert _head(review) == head
    _verified(review)


def test_a_file_entered_on_behalf_of_a_member_is_compared_with_their_votes(
    review: Review, tmp_path: Path
) -> None:
    path = str(_csv(tmp_path / "dora.csv", [(1, "include", None, None), (2, "maybe", None, None)]))
    with review.transaction() as session:
        sv.import_decisions(session, actor="alice", path=path, stage="tiab", on_behalf_of="dora")
    head = _head(review)
    with review.transaction() as session:
        done = sv.import_decisions(
            session, actor="alice", path=path, stage="tiab", on_behalf_of="dora"
        )
        # alice's own votes on 1 and 2 differ (none on 1; include on 2): both are written.
        mine = sv.import_decisions(session, actor="alice", path=path, stage="tiab")
    assert (done.written, done.unchanged, mine.written, mine.unchanged) == (0, 2, 2, 0)
    with review.reading() as session:
        events = [e for e in audit.list_events(session) if e.seq > head[0]]
    # dora's and alice's includes now agree on 1: its report is sought (as after one vote).
    assert [(e.action, e.entity_id) for e in events] == [
        ("screening-decision", "1:tiab:alice"),
        ("fulltext-report", "3"),  # the third report (after the fixture's two)
        ("screening-decision", "2:tiab:alice"),
    ]


def test_a_resolutions_file_imported_twice_writes_its_resolutions_once(
    review: Review, tmp_path: Path
) -> None:
    _contest_3(review)
    path = str(_csv(tmp_path / "r.csv", RESOLUTIONS))
    with review.transaction() as session:
        first = sv.import_resolutions(session, actor="carol", path=path, stage="tiab")
    assert (first.written, first.unchanged) == (2, 0)
    head, resolutions = _head(review), _rows(review, ScreeningResolution)
    with review.transaction() as session:
        again = sv.import_resolutions(session, actor="carol", path=path, stage="tiab")
    assert (again.written, again.unchanged) == (0, 2)
    assert _head(review) == head
    assert _rows(review, ScreeningResolution) == resolutions
    # A different resolution of a resolved reference is still refused as before: nothing to resolve.
    other = str(_csv(tmp_path / "o.csv", [(2, "include", None, "a second look")]))
    with (
        pytest.raises(InvalidInput, match=r"o\.csv:2: record 2 has no open conflict at tiab"),
        review.transaction() as session,
    ):
        sv.import_resolutions(session, actor="carol", path=other, stage="tiab")
    assert _head(review) == head
    _verified(review)


def test_full_text_votes_imported_twice_are_unchanged_per_report(
    fresh_review: Review, tmp_path: Path
) -> None:
    """Reference 1 included at title/abstract with two reports (article, registry entry); bob's
    full-text votes name the report: the same file again is unchanged, report by report."""
    ris = tmp_path / "two.ris"
    ris.write_text(
        "".join(
            f"TY  - JOUR\nID  - R{i}\nTI  - {t}\nAU  - Author{i}, A.\nPY  - 200{i}\nER  -\n\n"
            for i, t in ((1, "Stem cells in cirrhosis: a trial"), (2, "G-CSF in rats"))
        )
    )
    review = fresh_review
    with review.transaction() as session:
        import_files(session, actor="alice", paths=[ris], source="MEDLINE")
        sv.unblind_stage(session, actor="alice", stage="tiab")
        for who in ("alice", "bob"):
            sv.record_decision(session, actor=who, record_id=1, stage="tiab", decision="include")
        sv.set_fulltext(session, actor="alice", record_id=1, location="https://doi.org/10.1/a")
        sv.set_fulltext(
            session, actor="alice", record_id=1, location="https://example.org/nct",
            kind="registry entry", add=True,
        )  # fmt: skip
    votes = tmp_path / "bob.csv"
    votes.write_text(
        "record_id,decision,reason,note,report\n1,include,,,1\n1,exclude,insufficient data,,2\n"
    )
    with review.transaction() as session:
        first = sv.import_decisions(session, actor="bob", path=str(votes), stage="fulltext")
    head = _head(review)
    votes.write_text("record_id,decision,reason,note,report\n1,include,,,1\n1,include,,,2\n")
    with review.transaction() as session:
        second = sv.import_decisions(session, actor="bob", path=str(votes), stage="fulltext")
    assert (first.written, second.written, second.unchanged) == (2, 1, 1)
    with review.reading() as session:
        events = [e for e in audit.list_events(session) if e.seq > head[0]]
    assert [(e.action, e.payload["after"]["report"]) for e in events] == [("screening-decision", 2)]
    _verified(review)


def test_the_cli_says_how_many_votes_were_unchanged(review: Review, tmp_path: Path) -> None:
    db = str(review.engine.url).removeprefix("sqlite:///")
    path = _csv(tmp_path / "bob.csv", [(1, "include", None, None), (6, "maybe", None, None)])
    args = ["screen", "import-decisions", str(path), "--stage", "tiab", "--db", db, "--as", "bob"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    # Compared with the console's line wrapping undone (a long path wraps).
    assert " ".join(first.stdout.split()) == f"Recorded 2 votes from {path} at tiab (0 unchanged)."
    with review.reading() as session:
        events = len(audit.list_events(session))
    again = runner.invoke(app, args)
    assert again.exit_code == 0, again.output
    assert " ".join(again.stdout.split()) == f"Recorded 0 votes from {path} at tiab (2 unchanged)."
    with review.reading() as session:
        assert len(audit.list_events(session)) == events
        assert session.exec(select(func.count()).select_from(AuditEvent)).one() == events


def test_unchanged_rows_are_still_held_to_the_calibration_round(tmp_path: Path) -> None:
    """The review of tests/test_prioritisation.py with a pilot of 4 (seed 3): alice's pilot file
    imported twice is written once; a file whose unchanged pilot row comes with a reference
    outside the pilot is refused on that line as before, nothing written."""
    from tests.test_prioritisation import _next, _review, _votes, ok, run
    from tests.test_screening_stop_workflow import _csv as votes_csv

    db = _review(tmp_path, "screening.calibration_kappa=0.5")
    ok(db, "screen", "calibrate", "--sample", "4", "--seed", "3", "--as", "olga")
    sample = _next(db, "alice")["ids"]
    assert isinstance(sample, list) and len(sample) == 4
    pilot = votes_csv(tmp_path / "pilot.csv", [(n, "include") for n in sample])
    ok(db, "screen", "import-decisions", pilot, "--stage", "tiab", "--as", "alice")
    before = _votes(db)
    out = ok(db, "screen", "import-decisions", pilot, "--stage", "tiab", "--as", "alice")
    assert "Recorded 0 votes" in out and "(4 unchanged)" in " ".join(out.split())
    outside = next(n for n in range(1, 17) if n not in sample)
    mixed = votes_csv(tmp_path / "mixed.csv", [(sample[0], "include"), (outside, "exclude")])
    code, _out, err = run(
        db, "screen", "import-decisions", mixed, "--stage", "tiab", "--as", "alice"
    )
    assert code == 2
    assert err == (
        f"reviewtool: error: {mixed}:3: record {outside} is not in the calibration round's pilot: "
        "screening proper opens once an owner closes the round (`reviewtool screen calibrate`)\n"
    )
    assert _votes(db) == before
    ok(db, "audit", "verify", "--as", "olga")


# --- rob import ------------------------------------------------------------------------------


def _rob_review(tmp_path: Path) -> Any:
    from reviewtool.review.service import open_existing
    from tests.rob_review import build_rob_review

    return open_existing(build_rob_review(tmp_path / "rob.db"))


def _rob_events(review: Any, after: int) -> list[tuple[str, str]]:
    with review.reading() as session:
        return [
            (e.payload["study"], e.payload["result"])
            for e in audit.list_events(session, action="rob-assessed")
            if e.seq > after
        ]


def test_a_robvis_file_imported_twice_writes_its_judgements_once(tmp_path: Path) -> None:
    """tests/test_rob_service.py's robvis file (3 studies x 7 domains = 21 judgements): again,
    all 21 unchanged and no event; then with one domain changed (Suk 2016 C, High to Low; Overall
    left empty), 1 judgement written, 20 unchanged, one event for that study."""
    from reviewtool.rob import exchange
    from reviewtool.storage.models import RobJudgement
    from tests.test_rob_service import HEADER, ROWS

    review = _rob_review(tmp_path)
    source = tmp_path / "bob.csv"
    source.write_text(HEADER + ROWS, encoding="utf-8")
    with review.transaction() as s:
        first = exchange.import_file(s, actor="bob", path=str(source))
    assert (first.rows, first.values, first.unchanged, first.written_rows) == (3, 21, 0, 3)
    head, rows = _head(review), _rows(review, RobJudgement)
    with review.transaction() as s:
        again = exchange.import_file(s, actor="bob", path=str(source))
    assert (again.rows, again.values, again.unchanged, again.written_rows) == (3, 0, 21, 0)
    assert _head(review) == head and _rows(review, RobJudgement) == rows
    source.write_text(
        HEADER
        + ROWS.replace(
            "Suk 2016,Low,Low,High,Low,Low,Low,Low,High", "Suk 2016,Low,Low,Low,Low,Low,Low,Low,"
        ),
        encoding="utf-8",
    )
    with review.transaction() as s:
        changed = exchange.import_file(s, actor="bob", path=str(source))
    assert (changed.values, changed.unchanged, changed.written_rows) == (1, 20, 1)
    with review.reading() as s:
        (event,) = [e for e in audit.list_events(s, action="rob-assessed") if e.seq > head[0]]
        assert audit.verify(s).ok
    (snapshot,) = event.payload["state"]["rob_judgement"].values()
    assert snapshot["judgement"] == "Low"
    review.close()


def test_rob2_answers_imported_twice_are_written_once(tmp_path: Path) -> None:
    """tests/test_rob_service.py's answers file (9 answers over two results): again, 9
    unchanged and no event; with Xu 2019's 1.3 changed (PY to N), 1 written, 8 unchanged, one
    event for that result (its D1 follows: 1.2 NI and 1.3 N give Some concerns)."""
    from reviewtool.rob import exchange
    from reviewtool.rob import service as rob

    review = _rob_review(tmp_path)
    text = (
        "Study,Result,effect_of_interest,1.1,1.2,1.3,3.1,3.2\n"
        "Suk 2016,MELD@24 weeks,assignment,Y,PY,N,N,Y\n"
        "Xu 2019,TBIL@4 weeks,,NI,NI,PY,,\n"
    )
    source = tmp_path / "answers.csv"
    source.write_text(text, encoding="utf-8")
    with review.transaction() as s:
        first = exchange.import_file(s, actor="carol", path=str(source))
    assert (first.rows, first.values, first.unchanged) == (2, 9, 0)
    head = _head(review)
    with review.transaction() as s:
        again = exchange.import_file(s, actor="carol", path=str(source))
    assert (again.values, again.unchanged, again.written_rows) == (0, 9, 0)
    assert _head(review) == head
    source.write_text(text.replace("NI,NI,PY", "NI,NI,N"), encoding="utf-8")
    with review.transaction() as s:
        changed = exchange.import_file(s, actor="carol", path=str(source))
    assert (changed.values, changed.unchanged, changed.written_rows) == (1, 8, 1)
    assert _rob_events(review, head[0]) == [(3, "TBIL@4 weeks")]
    with review.reading() as s:
        assert audit.verify(s).ok
        views = rob.judgements(s, actor="carol", tool="rob2")
    assert {(v.label, v.domain): v.algorithm for v in views if v.domain == "D1"} == {
        ("Suk 2016", "D1"): "Low",
        ("Xu 2019", "D1"): "Some concerns",  # was High (1.2 NI, 1.3 PY)
    }
    review.close()


# --- dedup import-decisions ------------------------------------------------------------------


def test_a_dedup_decisions_file_imported_twice_writes_its_decisions_once(
    sample_review_url: str, tmp_path: Path
) -> None:
    """The sample review's queue, every pair rejected by bob with a note: again, every row
    unchanged and no event. A row is unchanged only as bob's own decision with no note or the
    same note: a new note is written, and alice repeating bob's decision is hers (written)."""
    from reviewtool.dedup.service import decide_from_file, review_queue
    from reviewtool.review.service import open_existing
    from reviewtool.storage.models import DedupPair

    review = open_existing(sample_review_url)
    with review.reading() as session:
        queue = [q.pair_id for q in review_queue(session)]
    assert len(queue) >= 2, "the sample leaves pairs for a person"
    path = tmp_path / "decisions.csv"
    path.write_text(
        "pair_id,decision,note\n" + "".join(f"{p},reject,not the same\n" for p in queue)
    )
    with review.transaction() as session:
        first = decide_from_file(session, actor="bob", path=str(path))
    assert (first.written, first.unchanged) == (len(queue), 0)
    head = _head(review)
    with review.transaction() as session:
        again = decide_from_file(session, actor="bob", path=str(path))
    assert (again.written, again.unchanged) == (0, len(queue))
    assert _head(review) == head
    mixed = tmp_path / "mixed.csv"
    mixed.write_text(
        f"pair_id,decision,note\n{queue[0]},reject,\n{queue[1]},reject,different arms\n"
    )
    with review.transaction() as session:
        done = decide_from_file(session, actor="bob", path=str(mixed))
        theirs = tmp_path / "alice.csv"
        theirs.write_text(f"pair_id,decision\n{queue[0]},reject\n")
        hers = decide_from_file(session, actor="alice", path=str(theirs))
    assert (done.written, done.unchanged, hers.written, hers.unchanged) == (1, 1, 1, 0)
    with review.reading() as session:
        events = [e for e in audit.list_events(session) if e.seq > head[0]]
        assert [(e.actor, e.action, e.payload["note"]) for e in events] == [
            ("bob", "dedup-decision", "different arms"),
            ("alice", "dedup-decision", None),
        ]
        notes = dict(session.exec(select(DedupPair.id, DedupPair.note)).all())
        assert (notes[queue[0]], notes[queue[1]]) == ("not the same", "different arms")
        assert audit.verify(session).ok
    review.close()


def test_rob_and_dedup_imports_say_how_many_were_unchanged(
    sample_review_url: str, tmp_path: Path
) -> None:
    """The summary lines of `rob import` and `dedup import-decisions` run twice on one file."""
    from reviewtool.dedup.service import review_queue
    from reviewtool.review.service import open_existing
    from tests.rob_review import build_rob_review
    from tests.test_rob_service import HEADER, ROWS

    def line(db: str, *args: str) -> str:
        result = runner.invoke(app, [*args, "--db", db])
        assert result.exit_code == 0, result.output
        return " ".join(result.stdout.split())

    rob_db = build_rob_review(tmp_path / "rob.db").removeprefix("sqlite:///")
    source = tmp_path / "bob.csv"
    source.write_text(HEADER + ROWS, encoding="utf-8")
    rob_import = ("rob", "import", str(source), "--as", "bob")
    assert line(rob_db, *rob_import) == (
        "Imported 21 judgements for 3 studies from bob.csv (robvis rob1); 0 unchanged."
    )
    assert line(rob_db, *rob_import) == (
        "Imported 0 judgements for 0 studies from bob.csv (robvis rob1); 21 unchanged."
    )
    dedup_db = sample_review_url.removeprefix("sqlite:///")
    review = open_existing(sample_review_url)
    with review.reading() as session:
        pairs = [q.pair_id for q in review_queue(session)]
    review.close()
    decisions = tmp_path / "decisions.csv"
    decisions.write_text("pair_id,decision\n" + "".join(f"{p},reject\n" for p in pairs))
    dedup_import = ("dedup", "import-decisions", str(decisions), "--as", "bob")
    n = len(pairs)
    assert line(dedup_db, *dedup_import) == (
        f"Applied {n} dedup decision{'' if n == 1 else 's'} from {decisions} (0 unchanged)."
    )
    assert line(dedup_db, *dedup_import) == (
        f"Applied 0 dedup decisions from {decisions} ({n} unchanged)."
    )
