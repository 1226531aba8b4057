"""The hash oracle is closed by a random salt per event (issue 14, section 3).

The story: owen owns a review of three references whose title/abstract screening is blind; alice
and bob are reviewers. alice includes reference 1, bob excludes reference 2 ("not an RCT", no
note), alice includes reference 3. bob's vote is hidden from alice. Reading what alice's login
may read (on PostgreSQL: the rows row-level security leaves her, ``access.visible_events``'s
rule), she has the hashes around bob's event and the times of its neighbours.

- A ledger written without salts (as before schema 0019) gives bob's vote away: the attack of
  ``tests/hash_oracle.py`` tries every candidate vote at every microsecond between the
  neighbours' times and finds it.
- A salted ledger does not: the same search finds nothing. Given the salt (read as the owner)
  the same search finds the vote again, so the salt, and nothing else, is what stops it.

The clock of the ledger is stepped (37 µs per event) so that the window is short and the test
fast; on a real review the window is milliseconds, a thousand times more hashes, still seconds.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from reviewtool import audit
from reviewtool.cli import app
from tests.hash_oracle import (
    SeenEvent,
    microseconds_between,
    recover_hidden_events,
    vote_candidates,
)

RIS = "".join(
    f"TY  - JOUR\nID  - S{i}\nTI  - Stem cell trial {i} in cirrhosis cohort {i * 11}\n"
    f"AU  - Author{i}, A.\nPY  - {2010 + i}\nAB  - Abstract {i}: patients randomised.\nER  -\n\n"
    for i in range(1, 4)
)
BOBS_REASON = "not an RCT"

runner = CliRunner()


def stepped_clock(monkeypatch: pytest.MonkeyPatch, step_us: int = 37) -> None:
    """The ledger's clock (``audit.log.utc_now``) from 2026-11-29 10:00 UTC, ``step_us`` per call."""
    moment = [datetime(2026, 11, 29, 10, 0, 0)]

    def now() -> str:
        moment[0] += timedelta(microseconds=step_us)
        return moment[0].isoformat(timespec="microseconds") + "Z"

    monkeypatch.setattr("reviewtool.audit.log.utc_now", now)


def unsalted(monkeypatch: pytest.MonkeyPatch) -> None:
    """Write events as reviewtool did before schema 0019: no salt (NULL), the old hash."""
    monkeypatch.setattr("reviewtool.audit.log.new_salt", lambda: None)


def build_blind_review(path: Path) -> str:
    """The story's review at ``path`` (SQLite); its URL."""
    from reviewtool.domain import Role
    from reviewtool.importing.service import import_files
    from reviewtool.members.service import add_member
    from reviewtool.review.service import init_review
    from reviewtool.screening.service import record_decision

    ris = path.with_suffix(".ris")
    ris.write_text(RIS, encoding="utf-8")
    url = f"sqlite:///{path}"
    review = init_review(url, title="MSC review", owner="owen")
    try:
        with review.transaction() as session:
            add_member(session, actor="owen", name="alice", roles=[Role.REVIEWER])
            add_member(session, actor="owen", name="bob", roles=[Role.REVIEWER])
            import_files(session, actor="owen", paths=[ris], source="MEDLINE")
        votes = [("alice", 1, "include", None), ("bob", 2, "exclude", BOBS_REASON)]
        votes.append(("alice", 3, "include", None))
        for who, record, decision, reason in votes:
            with review.transaction() as session:
                record_decision(
                    session,
                    actor=who,
                    record_id=record,
                    stage="tiab",
                    decision=decision,
                    reason=reason,
                )
    finally:
        review.close()
    return url


def readable_by(url: str, viewer: str) -> list[SeenEvent]:
    """The ledger rows ``viewer`` may read, with the hashes they hold: the events
    ``access.visible_events`` shows them (the rule the PostgreSQL policies enforce row by row)."""
    from reviewtool.access import visible_events
    from reviewtool.review.service import open_existing
    from reviewtool.storage.models import AuditEvent, Member

    review = open_existing(url)
    try:
        with review.reading() as session:
            member = session.exec(select(Member).where(Member.name == viewer)).one()
            shown = visible_events(session, member, audit.list_events(session))
            keys = {(e.occurred_at, e.actor, e.action, e.entity_id) for e in shown}
            rows = session.exec(select(AuditEvent).order_by(AuditEvent.seq)).all()  # type: ignore[arg-type]
            return [
                SeenEvent(r.seq, r.occurred_at, r.prev_hash, r.hash)
                for r in rows
                if (r.occurred_at, r.actor, r.action, r.entity_id) in keys
            ]
    finally:
        review.close()


def alices_guesses(url: str) -> list[Any]:
    """The candidates alice can list from what she may read: every other member, every record,
    include / maybe / exclude with no reason or each reason the review offers at title/abstract."""
    from reviewtool.review.service import get_settings, open_existing
    from reviewtool.storage.models import Member, Record

    review = open_existing(url)
    try:
        with review.reading() as session:
            others = [n for n in session.exec(select(Member.name)).all() if n != "alice"]
            records = list(session.exec(select(Record.id)).all())
            reasons = list(get_settings(session)["screening.exclusion_reasons_tiab"])
    finally:
        review.close()
    return vote_candidates(others, records, "tiab", reasons)


def bobs_vote(path: Path) -> tuple[int, tuple[int, str, str | None], str | None]:
    """bob's vote as the owner reads it: the event's number, (record, decision, reason), salt."""
    with sqlite3.connect(path) as conn:
        seq, entity_id, salt = conn.execute(
            "SELECT seq, entity_id, salt FROM audit_event WHERE actor = 'bob'"
        ).fetchone()
        decision, reason = conn.execute(
            "SELECT decision, reason FROM screening_decision d JOIN member m ON m.id = d.member_id"
            " WHERE m.name = 'bob'"
        ).fetchone()
    return seq, (int(entity_id.split(":")[0]), decision, reason), salt


@pytest.fixture
def old_ledger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The story written as before schema 0019 (no salts)."""
    stepped_clock(monkeypatch)
    unsalted(monkeypatch)
    path = tmp_path / "old.db"
    build_blind_review(path)
    monkeypatch.undo()
    yield path


@pytest.fixture
def salted_ledger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The story written by today's code (a salt per event), on the same stepped clock."""
    stepped_clock(monkeypatch)
    path = tmp_path / "salted.db"
    build_blind_review(path)
    monkeypatch.undo()
    yield path


def test_without_a_salt_the_hashes_around_a_hidden_vote_give_it_away(old_ledger: Path) -> None:
    url = f"sqlite:///{old_ledger}"
    seen = readable_by(url, "alice")
    seq, vote, salt = bobs_vote(old_ledger)
    assert salt is None
    assert seq not in {e.seq for e in seen}  # bob's event is hidden from alice ...
    assert {seq - 1, seq + 1} <= {e.seq for e in seen}  # ... between two she may read
    candidates = alices_guesses(url)
    assert len(candidates) == 2 * 3 * 11  # owen and bob, 3 records, 11 possible votes each
    found, tried = recover_hidden_events(seen, candidates)
    assert [(f.seq, f.candidate.actor, f.candidate.vote) for f in found] == [(seq, "bob", vote)]
    assert vote == (2, "exclude", BOBS_REASON)
    assert tried <= _window(seen, seq) * len(candidates)  # found in the window searched
    # The ledger written so still verifies: old events keep their hash.
    assert _verified(url).ok


def test_with_a_salt_the_same_search_finds_nothing(salted_ledger: Path) -> None:
    url = f"sqlite:///{salted_ledger}"
    seen = readable_by(url, "alice")
    seq, vote, salt = bobs_vote(salted_ledger)
    assert salt is not None and len(salt) == 32
    candidates = alices_guesses(url)
    found, tried = recover_hidden_events(seen, candidates)
    assert found == []
    # Every candidate at every microsecond of the window was tried ...
    assert tried == _window(seen, seq) * len(candidates)
    # ... and with the hidden event's salt (which alice cannot read) the very same search finds
    # the vote: the salt is what stops it.
    salts = {seq: salt}
    found, _ = recover_hidden_events(seen, candidates, salt_of=salts.get)
    assert [(f.seq, f.candidate.actor, f.candidate.vote) for f in found] == [(seq, "bob", vote)]
    assert _verified(url).ok


def _window(seen: list[SeenEvent], seq: int) -> int:
    """How many microseconds lie from the time of event ``seq - 1`` to that of ``seq + 1``
    (both included), as alice reads them."""
    times = {e.seq: e.occurred_at for e in seen}
    moments = list(microseconds_between(times[seq - 1], times[seq + 1]))
    assert 2 < len(moments) < 1000
    return len(moments)


def _verified(url: str) -> audit.VerifyReport:
    from reviewtool.review.service import open_existing

    review = open_existing(url)
    try:
        with review.reading() as session:
            return audit.verify(session)
    finally:
        review.close()


def _cli(path: Path, *args: str) -> Any:
    return runner.invoke(app, [*args, "--db", str(path)])


def _stored_salts(path: Path) -> dict[str, str | None]:
    with sqlite3.connect(path) as conn:
        return dict(conn.execute("SELECT occurred_at, salt FROM audit_event").fetchall())


def test_the_salt_is_shown_with_the_hash_and_hidden_with_it(salted_ledger: Path) -> None:
    """The owner's log (JSON, CSV) and export carry each event's salt, as stored; alice, blind,
    reads no salt anywhere, as no hash (docs/blinding.md)."""
    stored = _stored_salts(salted_ledger)
    owner = json.loads(_cli(salted_ledger, "audit", "log", "-f", "json", "--as", "owen").stdout)
    assert {e["occurred_at"]: e["salt"] for e in owner} == stored
    csv_out = _cli(salted_ledger, "audit", "log", "-f", "csv", "--as", "owen").stdout
    header, *lines = csv_out.splitlines()
    assert header.split(",")[-2:] == ["hash", "salt"]
    assert sorted(line.rsplit(",", 1)[1] for line in lines) == sorted(
        s for s in stored.values() if s
    )
    exported = _cli(salted_ledger, "export", "audit", "--as", "owen").stdout.splitlines()
    assert [json.loads(line)["salt"] for line in exported] == [e["salt"] for e in owner]
    for fmt in ("json", "csv", "table"):
        shown = _cli(salted_ledger, "audit", "log", "-f", fmt, "--as", "alice")
        assert shown.exit_code == 0, shown.output
        assert not any(s and s in shown.stdout for s in stored.values()), fmt
    blind = json.loads(_cli(salted_ledger, "audit", "log", "-f", "json", "--as", "alice").stdout)
    assert blind and all(e["salt"] is None and e["hash"] is None for e in blind)
    exported = _cli(salted_ledger, "export", "audit", "--as", "alice").stdout
    assert not any(s and s in exported for s in stored.values())


def test_a_ledger_half_old_half_salted_verifies_and_replays_with_its_head(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Events written before the salt keep their old hashes, the ones after carry salts; verify
    checks both, and `audit replay` copies every salt (NULL ones too), so the rebuilt ledger has
    the same head."""
    from reviewtool.review.service import open_existing
    from reviewtool.screening.service import record_decision

    path = tmp_path / "mixed.db"
    with monkeypatch.context() as patched:
        unsalted(patched)
        url = build_blind_review(path)
    with sqlite3.connect(path) as conn:
        (old,) = conn.execute("SELECT count(*) FROM audit_event").fetchone()
    review = open_existing(url)
    try:
        with review.transaction() as session:
            record_decision(session, actor="bob", record_id=1, stage="tiab", decision="include")
    finally:
        review.close()
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT seq, salt, hash FROM audit_event ORDER BY seq").fetchall()
    assert len(rows) > old and all(salt is None for _, salt, _ in rows[:old])
    assert all(salt is not None for _, salt, _ in rows[old:])
    report = _verified(url)
    assert report.ok, report.problems
    target = tmp_path / "rebuilt.db"
    done = _cli(path, "audit", "replay", "--to", str(target), "--as", "owen")
    assert done.exit_code == 0, done.output
    with sqlite3.connect(target) as conn:
        rebuilt = conn.execute("SELECT seq, salt, hash FROM audit_event ORDER BY seq").fetchall()
        head = conn.execute("SELECT seq, hash FROM audit_head").fetchone()
    assert rebuilt == rows
    assert head == (report.last_seq, report.head_hash)
    assert _verified(f"sqlite:///{target}").head_hash == report.head_hash


def test_a_review_taken_down_to_0018_and_up_again_keeps_its_salts(salted_ledger: Path) -> None:
    """Schema 0019's downgrade keeps the salts in a side table and its upgrade puts them back, so
    the salted events verify again; events written at 0018 meanwhile get none (the old format)."""
    from reviewtool.review.service import open_existing
    from reviewtool.storage import schema

    url = f"sqlite:///{salted_ledger}"
    before = _stored_salts(salted_ledger)
    review = open_existing(url)
    schema.downgrade(review.engine, "0018")
    review.close()
    with sqlite3.connect(salted_ledger) as conn:
        columns = [row[1] for row in conn.execute("PRAGMA table_info(audit_event)")]
        kept = conn.execute("SELECT count(*) FROM audit_event_salt_kept").fetchone()[0]
    assert "salt" not in columns and kept == len(before)
    report = _verified(url)  # opening upgrades it again (and records that, with a salt)
    assert report.ok, report.problems
    after = _stored_salts(salted_ledger)
    assert {k: v for k, v in after.items() if k in before} == before
    with sqlite3.connect(salted_ledger) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "audit_event_salt_kept" not in tables
