"""Labels on references (issue 9 item 7): user-defined, filterable, on the card, exported, audited,
and private to their author while screening is blind."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from reviewtool import audit
from reviewtool.cli import app
from reviewtool.errors import InvalidInput, NotFound, UnknownMember
from reviewtool.importing.service import import_files
from reviewtool.review.service import set_setting
from reviewtool.screening import service as sv
from reviewtool.screening.labels import change_label, clean_label, visible_labels
from reviewtool.storage import Review
from reviewtool.tui.widgets.citation import citation_text

runner = CliRunner()


@pytest.fixture
def review(fresh_review: Review, tmp_path: Path) -> Review:
    """alice (owner), bob (reviewer), carol (adjudicator); references 1..3."""
    path = tmp_path / "three.ris"
    path.write_text(
        "".join(
            f"TY  - JOUR\nID  - L{i}\nTI  - Trial {i} of stem cells\nPY  - 2020\nAB  - Abstract {i}.\n"
            "ER  -\n\n"
            for i in (1, 2, 3)
        )
    )
    with fresh_review.transaction() as session:
        import_files(session, actor="alice", paths=[path], source="MEDLINE")
    return fresh_review


def label(review: Review, who: str, record: int, text_: str, add: bool = True) -> list[str]:
    with review.transaction() as session:
        return change_label(session, actor=who, record_id=record, label=text_, add=add)


def seen(review: Review, who: str) -> dict[int, list[str]]:
    with review.reading() as session:
        return {
            r: [v.shown(who) for v in views]
            for r, views in visible_labels(session, actor=who).items()
        }


def test_add_remove_and_the_ledger(review: Review) -> None:
    assert label(review, "bob", 1, "  RCT? ") == ["RCT?"]
    assert label(review, "bob", 1, "ask Alice") == ["RCT?", "ask Alice"]
    assert label(review, "bob", 1, "rct?") == ["RCT?", "ask Alice"]  # already there: no change
    assert label(review, "bob", 1, "RCT?", add=False) == ["ask Alice"]
    with pytest.raises(InvalidInput, match=r"record 1 has no label 'RCT\?' of yours"):
        label(review, "bob", 1, "RCT?", add=False)
    with review.reading() as session:
        events = audit.list_events(session, action="labels-changed")
        assert audit.verify(session).ok
    assert [(e.actor, e.entity_id, e.payload["before"], e.payload["after"]) for e in events] == [
        ("bob", "1:bob", None, ["RCT?"]),
        ("bob", "1:bob", ["RCT?"], ["RCT?", "ask Alice"]),
        ("bob", "1:bob", ["RCT?", "ask Alice"], ["ask Alice"]),
    ]


def test_bad_labels_and_records_are_refused(review: Review) -> None:
    for bad, message in (
        ("", "needs some text"),
        ("a;b", "no ';'"),
        ("x" * 41, "at most 40 characters, not 41"),
    ):
        with pytest.raises(InvalidInput, match=message):
            label(review, "bob", 1, bad)
    with pytest.raises(NotFound, match="no record 99"):
        label(review, "bob", 99, "x")
    with pytest.raises(UnknownMember):
        label(review, "mallory", 1, "x")
    assert clean_label("ask \t Bob") == "ask Bob"


def test_labels_are_private_while_blind(review: Review) -> None:
    label(review, "alice", 1, "exclude?")
    label(review, "bob", 1, "RCT?")
    label(review, "bob", 2, "pediatric")
    # Blind (the default): bob sees his own only; the owner and the adjudicator see all.
    assert seen(review, "bob") == {1: ["RCT?"], 2: ["pediatric"]}
    assert seen(review, "alice") == {1: ["exclude?", "bob:RCT?"], 2: ["bob:pediatric"]}
    assert seen(review, "carol") == {1: ["alice:exclude?", "bob:RCT?"], 2: ["bob:pediatric"]}
    # The ledger hides alice's label events from bob too.
    with review.reading() as session:
        from sqlmodel import select

        from reviewtool.access import visible_events
        from reviewtool.storage.models import Member

        bob = session.exec(select(Member).where(Member.name == "bob")).one()
        events = visible_events(session, bob, audit.list_events(session, action="labels-changed"))
    assert "exclude?" not in json.dumps([e.payload for e in events])
    assert [e.payload.get("after") for e in events if e.actor == "bob"] == [["RCT?"], ["pediatric"]]
    # Not blind: everyone sees everyone's labels.
    with review.transaction() as session:
        set_setting(session, actor="alice", key="screening.blind", value="false")
    assert seen(review, "bob") == {1: ["RCT?", "alice:exclude?"], 2: ["pediatric"]}


def test_card_shows_the_readers_labels(review: Review) -> None:
    label(review, "alice", 1, "exclude?")
    label(review, "bob", 1, "RCT?")
    with review.reading() as session:
        bobs = sv.record_card(session, actor="bob", record_id=1, stage="tiab")
        carols = sv.record_card(session, actor="carol", record_id=1, stage="tiab")
    assert bobs.fields["labels"] == ["RCT?"]
    assert carols.fields["labels"] == ["alice:exclude?", "bob:RCT?"]
    rendered = citation_text(bobs.fields).plain
    assert "Labels: RCT?" in rendered and "exclude?" not in rendered


def test_queue_filtered_by_label(review: Review) -> None:
    label(review, "bob", 2, "pediatric")
    label(review, "bob", 3, "Pediatric")
    label(review, "alice", 1, "pediatric")  # alice's label: bob cannot see it while blind
    with review.reading() as session:
        queue = sv.screening_queue(session, actor="bob", stage="tiab", label="PEDIATRIC")
    assert sorted(queue) == [2, 3]


def test_verify_catches_a_label_written_behind_the_tools_back(review: Review) -> None:
    label(review, "bob", 1, "RCT?")
    with review.engine.begin() as conn:
        conn.execute(text("UPDATE record_label SET label = 'include!'"))
    with review.reading() as session:
        report = audit.verify(session)
    assert not report.ok
    assert any("record_label 1:bob" in p for p in report.problems)


def _cli(db: str, *args: str) -> object:
    return runner.invoke(app, [*args, "--db", db])


def test_cli_label_filter_and_exports(review: Review, review_url: str) -> None:
    db = review_url.removeprefix("sqlite:///")
    review.close()
    result = _cli(db, "screen", "label", "2", "add", "RCT?", "--as", "bob")
    assert result.exit_code == 0 and result.stdout == "Record 2: your labels are RCT?.\n"
    assert _cli(db, "screen", "label", "3", "add", "ask Alice", "--as", "alice").exit_code == 0
    bad = _cli(db, "screen", "label", "2", "tag", "x", "--as", "bob")
    assert bad.exit_code == 2 and bad.stderr == "reviewtool: error: say add or remove, not 'tag'\n"
    listed = _cli(db, "records", "list", "--label", "rct?", "--as", "bob", "-f", "csv")
    rows = list(csv.DictReader(io.StringIO(listed.stdout)))
    assert [(r["record_id"], r["labels"]) for r in rows] == [("2", "RCT?")]
    as_alice = json.loads(_cli(db, "records", "list", "--as", "alice", "-f", "json").stdout)
    assert [r["labels"] for r in as_alice] == [[], ["bob:RCT?"], ["ask Alice"]]
    as_bob = json.loads(_cli(db, "records", "list", "--as", "bob", "-f", "json").stdout)
    assert [r["labels"] for r in as_bob] == [[], ["RCT?"], []]  # alice's label hidden (blind)
    # The export carries the labels of decided references.
    for who in ("alice", "bob"):
        assert _cli(db, "screen", "decide", "2", "include", "--as", who).exit_code == 0
    export = list(csv.DictReader(io.StringIO(_cli(db, "screen", "export", "--as", "alice").stdout)))
    assert [(r["record_id"], r["labels"]) for r in export] == [("2", "bob:RCT?")]  # the owner
    # bob is a reviewer and the stage is blind: no export for him (docs/blinding.md).
    assert _cli(db, "screen", "export", "--as", "bob").exit_code == 5


def test_records_show_prints_the_record_whole_without_votes(
    review: Review, review_url: str
) -> None:
    db = review_url.removeprefix("sqlite:///")
    review.close()
    _cli(db, "screen", "decide", "1", "exclude", "--reason", "animal study", "--as", "alice")
    _cli(db, "screen", "label", "1", "add", "check dose", "--as", "bob")
    shown = runner.invoke(
        app, ["records", "show", "1", "--as", "bob", "--db", db], env={"COLUMNS": "100"}
    )
    assert shown.exit_code == 0
    lines = shown.stdout.splitlines()
    assert lines[0] == "Trial 1 of stem cells"
    assert "Abstract 1." in lines
    assert "labels: check dose" in lines
    assert any(
        line.startswith("record: 1 · batch 1 (MEDLINE, three.ris line 1, imported by alice)")
        for line in lines
    )
    assert "animal study" not in shown.stdout and "exclude" not in shown.stdout  # no votes
    detail = json.loads(_cli(db, "records", "show", "1", "--as", "bob", "-f", "json").stdout)
    assert (detail["title"], detail["abstract"], detail["year"], detail["imported_by"]) == (
        "Trial 1 of stem cells",
        "Abstract 1.",
        2020,
        "alice",
    )
    assert detail["raw"].startswith("TY  - JOUR\nID  - L1\nTI  - Trial 1 of stem cells")
    missing = _cli(db, "records", "show", "42", "--as", "bob")
    assert missing.exit_code == 3
    assert missing.stderr == "reviewtool: error: no record 42; see `reviewtool records list`\n"


def test_search_takes_percent_and_underscore_literally(
    fresh_review: Review, tmp_path: Path
) -> None:
    """``%`` and ``_`` typed into the search are text, not LIKE wildcards (issue 14, item 4)."""
    path = tmp_path / "pct.ris"
    titles = ["5% albumin in ACLF", "50 patients with cirrhosis", "IL_6 levels after MSC", "IL-6 x"]
    path.write_text("".join(f"TY  - JOUR\nTI  - {t}\nER  -\n\n" for t in titles))
    with fresh_review.transaction() as session:
        import_files(session, actor="alice", paths=[path], source="MEDLINE")
    with fresh_review.reading() as session:

        def found(text_: str) -> list[int]:
            return sv.search_references(session, actor="bob", stage="tiab", text=text_)

        assert found("5%") == [1]  # a wildcard would also find "50 patients"
        assert found("IL_6") == [3]  # a wildcard would also find "IL-6"
        assert found("%") == [1] and found("\\") == []
