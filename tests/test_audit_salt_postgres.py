"""The hash oracle on a real PostgreSQL server in team mode (issue 14, sections 1 and 3).

Row-level security hides another reviewer's open vote event from a reviewer's login, row and all,
but the login still reads the hashes around it: the ``prev_hash`` of the next event it may read
is the hidden event's hash. The story of ``tests/test_audit_salt.py`` is played on a throw-away
cluster (``benchmarks/_pgcluster.py``), each person with their own login: owen owns the review,
alice and bob are reviewers, title/abstract is blind; alice includes 1, bob excludes 2 ("not an
RCT"), alice includes 3. Then, connected as alice with psycopg:

- bob's event, its salt included, is not readable (not the row, not the column);
- written without salts (as before schema 0019), the rows alice reads give bob's vote away;
- written with salts, the same search finds nothing; with the salt the owner reads, it would.

The module is skipped, with the reason, when no server binaries or driver are on the machine.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from reviewtool.cli import app
from reviewtool.domain import TIAB_EXCLUSION_REASONS
from tests.hash_oracle import (
    SeenEvent,
    microseconds_between,
    recover_hidden_events,
    vote_candidates,
)
from tests.pg_team import as_login as _as_login
from tests.pg_team import dsn as _dsn
from tests.pg_team import pgcluster as _pgcluster
from tests.test_audit_salt import BOBS_REASON, RIS, stepped_clock, unsalted

psycopg = pytest.importorskip(
    "psycopg", reason="the PostgreSQL driver is not installed (pip install '.[postgres]')"
)


runner = CliRunner()


def _rows(url: str, login: str, sql: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(_dsn(url, login)) as conn:
        return list(conn.execute(sql).fetchall())


@pytest.fixture(scope="module")
def server() -> Any:
    reason = _pgcluster.unavailable()
    if reason is not None:
        pytest.skip(reason)
    with _pgcluster.pg_cluster() as base:
        yield base


def _team_review(server: str, name: str, ris: Path) -> str:
    """The story, each step run by the CLI connected as the person's own login."""
    url = _pgcluster.new_database(server, name)
    steps = [
        ("postgres", "init", "--title", "MSC review", "--as", "owen"),
        ("postgres", "import", str(ris), "--source", "MEDLINE"),
        ("postgres", "member", "add", "alice", "--role", "reviewer", "--db-role", "alice"),
        ("postgres", "member", "add", "bob", "--role", "reviewer", "--db-role", "bob"),
        ("postgres", "member", "db-setup"),
        ("alice", "screen", "decide", "1", "include"),
        ("bob", "screen", "decide", "2", "exclude", "--reason", BOBS_REASON),
        ("alice", "screen", "decide", "3", "include"),
    ]
    for login, *args in steps:
        if login == "postgres" and args[0] != "init":
            args = [*args, "--as", "owen"]
        done = runner.invoke(app, [*args, "--db", _as_login(url, login)])
        assert done.exit_code == 0, (login, args, done.output, done.stderr)
    return url


EVENTS = "SELECT seq, occurred_at, prev_hash, hash, salt FROM audit_event ORDER BY seq"


@pytest.mark.parametrize("salted", [False, True], ids=["unsalted", "salted"])
def test_a_reviewer_login_cannot_learn_a_hidden_vote_from_the_hashes(
    server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, salted: bool
) -> None:
    ris = tmp_path / "search.ris"
    ris.write_text(RIS, encoding="utf-8")
    with monkeypatch.context() as patched:
        stepped_clock(patched)
        if not salted:
            unsalted(patched)
        url = _team_review(server, f"salt_{'on' if salted else 'off'}", ris)
    # What the owner reads: bob's vote event, its salt, and his vote.
    ((seq, salt, entity_id),) = _rows(
        url,
        "postgres",
        "SELECT seq, salt, entity_id FROM audit_event WHERE action = 'screening-decision' "
        "AND actor = 'bob'",
    )
    assert (salt is not None) is salted
    (vote,) = _rows(
        url,
        "postgres",
        "SELECT d.record_id, d.decision, d.reason FROM screening_decision d "
        "JOIN member m ON m.id = d.member_id WHERE m.name = 'bob'",
    )
    assert entity_id == "2:tiab:bob" and vote == (2, "exclude", BOBS_REASON)
    # What alice's login reads: not bob's event, not its salt; but the events around it.
    readable = _rows(url, "alice", EVENTS)
    assert seq not in [r[0] for r in readable]
    assert _rows(url, "alice", f"SELECT salt FROM audit_event WHERE seq = {seq}") == []
    assert _rows(url, "alice", "SELECT count(*) FROM audit_event WHERE salt IS NOT NULL") == [
        (sum(r[4] is not None for r in readable),)
    ]
    seen = [SeenEvent(r[0], r[1], r[2], r[3]) for r in readable]
    assert {seq - 1, seq + 1} <= {e.seq for e in seen}
    # alice's guesses from what she may read: the members, the records, the reasons offered.
    members = [n for (n,) in _rows(url, "alice", "SELECT name FROM member") if n != "alice"]
    records = [i for (i,) in _rows(url, "alice", "SELECT id FROM record ORDER BY id")]
    stored = _rows(
        url,
        "alice",
        "SELECT value FROM review_setting WHERE key = 'screening.exclusion_reasons_tiab'",
    )
    offered = json.loads(stored[0][0]) if stored else list(TIAB_EXCLUSION_REASONS)
    # The queue stamp the CLI puts in a vote (``order``), as alice's own vote events show it.
    stamps = {
        json.loads(p)["after"].get("order")
        for (p,) in _rows(
            url,
            "alice",
            "SELECT payload FROM audit_event WHERE actor = 'alice' "
            "AND action = 'screening-decision'",
        )
    }
    assert stamps == {"random"}
    candidates = vote_candidates(members, records, "tiab", offered, orders=[None, *stamps])
    found, tried = recover_hidden_events(seen, candidates)
    if not salted:
        # Row-level security alone: the hashes alice reads give bob's vote away.
        assert [(f.seq, f.candidate.actor, f.candidate.vote) for f in found] == [(seq, "bob", vote)]
        return
    times = {e.seq: e.occurred_at for e in seen}
    window = len(list(microseconds_between(times[seq - 1], times[seq + 1])))
    assert found == [] and tried == window * len(candidates)
    # The owner's salt makes the very same search succeed: only the salt stops alice.
    found, _ = recover_hidden_events(seen, candidates, salt_of={seq: salt}.get)
    assert [(f.seq, f.candidate.actor, f.candidate.vote) for f in found] == [(seq, "bob", vote)]
    verified = runner.invoke(app, ["audit", "verify", "--db", url, "--as", "owen"])
    assert verified.exit_code == 0, verified.output
