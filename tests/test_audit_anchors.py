"""Anchors: the ledger's head kept outside the database catches events cut off the end with the
head row fixed, which a verify without it cannot see (issue 14, item 2)."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import text
from typer.testing import CliRunner

from reviewtool.cli import app
from reviewtool.review.service import set_setting
from reviewtool.storage import Review

runner = CliRunner()


def _sql(review: Review, statement: str) -> None:
    with review.engine.begin() as conn:
        conn.execute(text(statement))


def _cut_last_event_and_fix_the_head(review: Review) -> None:
    """The attack: delete the newest event and the row it made, and point audit_head at the
    event before, exactly as the tool would have left it without that change."""
    with review.engine.begin() as conn:
        last = conn.execute(text("SELECT max(seq) FROM audit_event")).scalar_one()
        before = conn.execute(
            text("SELECT seq, hash FROM audit_event WHERE seq = :s"), {"s": last - 1}
        ).one()
        conn.execute(text("DELETE FROM audit_event WHERE seq = :s"), {"s": last})
        conn.execute(text("DELETE FROM review_setting WHERE key = 'screening.reviewers_required'"))
        conn.execute(
            text("UPDATE audit_head SET seq = :s, hash = :h"), {"s": before.seq, "h": before.hash}
        )


def _db(review: Review) -> str:
    return str(review.engine.url).removeprefix("sqlite:///")


def test_anchor_catches_events_cut_off_with_the_head_fixed(
    fresh_review: Review, tmp_path: Path
) -> None:
    with fresh_review.transaction() as session:
        set_setting(session, actor="alice", key="screening.reviewers_required", value="1")
    db, anchors = _db(fresh_review), tmp_path / "anchors.jsonl"
    made = runner.invoke(
        app, ["audit", "anchor", "--out", str(anchors), "--db", db, "--as", "alice"]
    )
    assert made.exit_code == 0, made.output
    anchor = json.loads(made.stdout)
    assert anchor["seq"] == 5 and json.loads(anchors.read_text()) == anchor
    assert anchor["at"].endswith("Z") and len(anchor["hash"]) == 64
    held = runner.invoke(
        app, ["audit", "verify", "--anchors", str(anchors), "--db", db, "--as", "alice"]
    )
    assert held.exit_code == 0 and "1 anchor holds" in " ".join(held.stdout.split())

    _cut_last_event_and_fix_the_head(fresh_review)
    # Without the anchor the shorter ledger verifies: this is the gap anchors close.
    assert runner.invoke(app, ["audit", "verify", "--db", db, "--as", "alice"]).exit_code == 0
    caught = runner.invoke(
        app, ["audit", "verify", "--anchors", str(anchors), "--db", db, "--as", "alice"]
    )
    assert caught.exit_code == 8
    assert "anchored event #5" in caught.stderr and "is missing from the ledger" in caught.stderr


def test_anchor_catches_a_rewritten_ledger(fresh_review: Review, tmp_path: Path) -> None:
    """The same event number with another change behind it (cut, then redone differently)."""
    with fresh_review.transaction() as session:
        set_setting(session, actor="alice", key="screening.reviewers_required", value="1")
    db, anchors = _db(fresh_review), tmp_path / "anchors.jsonl"
    assert (
        runner.invoke(
            app, ["audit", "anchor", "-o", str(anchors), "--db", db, "--as", "alice"]
        ).exit_code
        == 0
    )
    _cut_last_event_and_fix_the_head(fresh_review)
    with fresh_review.transaction() as session:
        set_setting(session, actor="alice", key="screening.reviewers_required", value="3")
    caught = runner.invoke(
        app, ["audit", "verify", "--anchors", str(anchors), "--db", db, "--as", "alice"]
    )
    assert caught.exit_code == 8
    assert "anchored event #5" in caught.stderr and "has another hash now" in caught.stderr


def test_bad_anchor_file_is_one_line_naming_file_line_and_field(
    fresh_review: Review, tmp_path: Path
) -> None:
    anchors = tmp_path / "anchors.jsonl"
    anchors.write_text('# my notebook\n{"seq": 4, "hash": "abc"}\n', encoding="utf-8")
    result = runner.invoke(
        app,
        ["audit", "verify", "--anchors", str(anchors), "--db", _db(fresh_review), "--as", "alice"],
    )
    assert result.exit_code == 2
    assert result.stderr == (
        f"reviewtool: error: {anchors}:2: field hash: 64 hexadecimal digits are needed\n"
    )


def test_a_blind_reviewer_is_not_given_the_head(fresh_review: Review, tmp_path: Path) -> None:
    result = runner.invoke(app, ["audit", "anchor", "--db", _db(fresh_review), "--as", "bob"])
    assert result.exit_code == 5 and result.stdout == ""
