"""Whose work an imported file is (issue 14, section 3): a decisions or values file with a column
the importer does not read (``reviewer``, ``member_id`` ...) is refused naming the file and the
columns, in every such import (screening decisions and resolutions, dedup decisions, extraction
values, risk-of-bias judgements); an owner enters another member's votes with
``screen import-decisions --on-behalf-of NAME``, the ledger naming both people, blinding intact."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from reviewtool import audit
from reviewtool.access import visible_events
from reviewtool.cli import app
from reviewtool.dedup.service import decide_from_file, run_dedup
from reviewtool.domain import Role
from reviewtool.errors import InvalidInput, PermissionDenied
from reviewtool.extraction import service as x
from reviewtool.importing.service import import_files
from reviewtool.members.service import add_member
from reviewtool.review.service import open_existing
from reviewtool.rob import exchange
from reviewtool.screening import service as sv
from reviewtool.storage import Review
from reviewtool.storage.models import AuditEvent, Member, ScreeningDecision
from tests.extraction_builder import build_review_with_form, copy_review
from tests.rob_review import build_rob_review

runner = CliRunner()


def _ris(n: int) -> str:
    return "".join(
        f"TY  - JOUR\nID  - R{i}\nTI  - Trial {i} of stem cells in liver disease cohort {i * 7}\n"
        f"AU  - Author{i}, A.\nPY  - {2000 + i}\nER  -\n\n"
        for i in range(1, n + 1)
    )


@pytest.fixture
def review(fresh_review: Review, tmp_path: Path) -> Review:
    """alice owns, bob and dan screen (reviewers), carol adjudicates; references 1..4."""
    path = tmp_path / "four.ris"
    path.write_text(_ris(4))
    with fresh_review.transaction() as s:
        import_files(s, actor="alice", paths=[path], source="MEDLINE")
        add_member(s, actor="alice", name="dan", roles=[Role.REVIEWER])
    return fresh_review


def _events(review: Review) -> int:
    with review.reading() as s:
        return len(s.exec(select(AuditEvent.seq)).all())


def _votes(review: Review) -> list[tuple[str, int, str]]:
    with review.reading() as s:
        rows = s.exec(
            select(Member.name, ScreeningDecision.reference_id, ScreeningDecision.decision).join(
                Member, Member.id == ScreeningDecision.member_id
            )
        ).all()
    return sorted((str(n), int(r or 0), str(d)) for n, r, d in rows)


@pytest.mark.parametrize("column", ["reviewer", "member_id"])
def test_a_column_naming_whose_vote_it_is_is_refused_naming_file_and_column(
    review: Review, tmp_path: Path, column: str
) -> None:
    path = tmp_path / "votes.csv"
    path.write_text(f"record_id,decision,{column}\n1,include,bob\n2,include,bob\n")
    before = _events(review)
    with review.transaction() as s, pytest.raises(InvalidInput) as caught:
        sv.import_decisions(s, actor="alice", path=str(path), stage="tiab")
    assert str(caught.value) == (
        f"{path}:1: unknown column '{column}' in this decisions file (its columns: decision, "
        "note, reason, record_id, report); every row is the importing person's own (an owner "
        "enters another member's votes with --on-behalf-of NAME)"
    )
    assert _votes(review) == [] and _events(review) == before


def test_every_unknown_column_is_named_and_the_cli_says_one_line(
    review: Review, tmp_path: Path
) -> None:
    path = tmp_path / "votes.csv"
    path.write_text("record_id,decision,title,Reviewer\n1,include,A trial,bob\n")
    result = runner.invoke(
        app,
        ["screen", "import-decisions", str(path), "--stage", "tiab", "--as", "alice",
         "--db", str(review.engine.url)],
    )  # fmt: skip
    assert result.exit_code == 2
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1, result.output
    assert f"{path.name}:1: unknown columns 'title', 'Reviewer' in this decisions file" in (
        result.output.replace("\n", "")
    )


def test_resolutions_and_dedup_decisions_refuse_unknown_columns(
    review: Review, tmp_path: Path
) -> None:
    resolutions = tmp_path / "resolutions.csv"
    resolutions.write_text("record_id,decision,adjudicator\n1,include,carol\n")
    with review.transaction() as s, pytest.raises(InvalidInput) as caught:
        sv.import_resolutions(s, actor="carol", path=str(resolutions), stage="tiab")
    assert str(caught.value).startswith(
        f"{resolutions}:1: unknown column 'adjudicator' in this resolutions file"
    )
    assert "every row is the importing person's own" in str(caught.value)
    with review.transaction() as s:
        run_dedup(s, actor="alice")
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("record_a,record_b,decision,decided_by\n1,2,reject,bob\n")
    with review.transaction() as s, pytest.raises(InvalidInput) as caught:
        decide_from_file(s, actor="alice", path=str(pairs))
    assert str(caught.value).startswith(
        f"{pairs}:1: unknown column 'decided_by' in this decisions file (its columns: decision, "
        "note, pair_id, record_a, record_b)"
    )


# --- on behalf of another member ---------------------------------------------------------------


def test_an_owner_enters_another_member_s_votes_naming_both(review: Review, tmp_path: Path) -> None:
    path = tmp_path / "bob_paper_form.csv"
    path.write_text("record_id,decision,reason\n1,include,\n2,exclude,not an RCT\n")
    with review.reading() as s:
        dan = s.exec(select(Member).where(Member.name == "dan")).one()
        carol_view = visible_events(s, dan, audit.list_events(s))
    before = _events(review)
    result = runner.invoke(
        app,
        ["screen", "import-decisions", str(path), "--stage", "tiab", "--on-behalf-of", "bob",
         "--as", "alice", "--db", str(review.engine.url)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Recorded 2 votes by bob (entered by alice)" in result.output
    assert _votes(review) == [("bob", 1, "include"), ("bob", 2, "exclude")]
    with review.reading() as s:
        events = audit.list_events(s, action="screening-decision")
        assert audit.verify(s).ok
        # Blinding holds: dan, the other reviewer, sees exactly what he saw before the import.
        dan = s.exec(select(Member).where(Member.name == "dan")).one()
        assert visible_events(s, dan, audit.list_events(s)) == carol_view
        # bob sees his own votes (entered for him) in the log; dan sees none of them.
        bob = s.exec(select(Member).where(Member.name == "bob")).one()
        mine = [e for e in visible_events(s, bob, events)]
    assert _events(review) == before + 2
    assert [(e.actor, e.entity_id, e.payload["on_behalf_of"]) for e in events] == [
        ("alice", "1:tiab:bob", "bob"),
        ("alice", "2:tiab:bob", "bob"),
    ]
    assert [e.entity_id for e in mine] == ["1:tiab:bob", "2:tiab:bob"]
    shown = runner.invoke(
        app, ["audit", "log", "--action", "screening-decision", "--as", "alice",
              "--db", str(review.engine.url)],
        env={"COLUMNS": "200"},
    )  # fmt: skip
    assert shown.exit_code == 0, shown.output
    assert shown.output.count("alice (for bob)") == 2
    as_json = runner.invoke(
        app, ["audit", "log", "--format", "json", "--as", "dan", "--db", str(review.engine.url)]
    )
    assert as_json.exit_code == 0, as_json.output
    assert "bob" not in {e["payload"].get("on_behalf_of") for e in json.loads(as_json.output)}
    # A vote bob casts himself carries no on_behalf_of: the payload of a reviewer's own vote.
    with review.transaction() as s:
        sv.record_decision(s, actor="bob", record_id=3, stage="tiab", decision="include")
    with review.reading() as s:
        own = audit.list_events(s, action="screening-decision")[-1]
    assert (own.actor, "on_behalf_of" in own.payload) == ("bob", False)


def test_only_an_owner_enters_votes_for_another(review: Review, tmp_path: Path) -> None:
    path = tmp_path / "votes.csv"
    path.write_text("record_id,decision\n1,include\n")
    with review.transaction() as s, pytest.raises(PermissionDenied) as caught:
        sv.import_decisions(s, actor="bob", path=str(path), stage="tiab", on_behalf_of="dan")
    assert "'bob' (reviewer) may not import votes on behalf of dan" in str(caught.value)
    with review.transaction() as s, pytest.raises(PermissionDenied):
        # carol adjudicates; she does not screen, so no votes are entered for her either.
        sv.import_decisions(s, actor="alice", path=str(path), stage="tiab", on_behalf_of="carol")
    assert _votes(review) == []


# --- extraction values and risk-of-bias judgements ---------------------------------------------


@pytest.fixture(scope="module")
def extraction_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_review_with_form(tmp_path_factory.mktemp("columns") / "review.db")


@pytest.fixture
def extraction(extraction_template: Path, tmp_path: Path) -> Iterator[Review]:
    opened = open_existing(f"sqlite:///{copy_review(extraction_template, tmp_path)}")
    yield opened
    opened.close()


def test_extraction_values_refuse_an_unknown_column(extraction: Review, tmp_path: Path) -> None:
    path = tmp_path / "values.csv"
    path.write_text(
        "study,arm,outcome,time_point,field,value,reviewer\nSuk 2016,,,,country,Korea,bob\n"
    )
    with extraction.transaction() as s, pytest.raises(InvalidInput) as caught:
        x.import_values(s, actor="alice", path=str(path))
    message = str(caught.value)
    assert message.startswith(f"{path}:1: unknown column 'reviewer' in this extraction values file")
    assert message.endswith("every row is the importing person's own")


def test_rob_import_refuses_an_assessor_column(tmp_path: Path, shared_dir: Path) -> None:
    opened: Any = open_existing(build_rob_review(tmp_path / "review.db"))
    path = tmp_path / "rob.csv"
    domains = (
        "Random.sequence.generation,Allocation.concealment,Blinding.of.participants.and.personnel,"
        "Blinding.of.outcome.assessment,Incomplete.outcome.data,Selective.reporting,"
        "Other.sources.of.bias"
    )
    path.write_text(
        f"Study,{domains},Overall,Assessor\nSuk 2016,Low,Low,Low,Low,Low,Low,Low,Low,carol\n"
    )
    with opened.transaction() as s, pytest.raises(InvalidInput) as caught:
        exchange.import_file(s, actor="bob", path=str(path))
    assert str(caught.value).startswith(
        f"{path}:1: unknown column 'Assessor' in this robvis RoB 1 file"
    )
    # Without it the same file imports (the layout itself is fine).
    path.write_text(f"Study,{domains},Overall\nSuk 2016,Low,Low,Low,Low,Low,Low,Low,Low\n")
    with opened.transaction() as s:
        assert exchange.import_file(s, actor="bob", path=str(path)).values == 7
    opened.close()
