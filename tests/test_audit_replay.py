"""``reviewtool audit replay --to NEW_DB``: the ledger alone rebuilds the review.

Two reviews are rebuilt and compared with their originals:

* ``tests/ledger_builder.py``'s review, which writes every kind of event (plus a refusal and a
  member removed and reactivated here), through the library's services;
* the sample project as ``sample_project/run.sh`` builds it (four exports, deduplication with a
  person's decisions, removals, blind votes and resolutions at both stages, risk of bias, dual
  extraction with consensus, the pooled analysis, ``audit verify``'s checkpoint).

The comparison is the verification snapshots (every state reader, and every vote row, superseded
ones too, in order), the PRISMA 2020 counts, ``audit verify``'s result and head, and every table
row by row, column by column, where only the columns listed in ``ALLOWED`` may differ, each for
the reason given there.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import sqlite3
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from reviewtool.audit.events import EVENT_TYPES
from reviewtool.cli import app
from tests.test_postgres import pg_server, pg_url  # noqa: F401  (fixtures: a throw-away server)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SAMPLE = ROOT / "sample_project"
OUTCOMES = SAMPLE / "outcomes.csv"
runner = CliRunner()

# Columns whose rebuilt value may differ from the original's, with why. Time columns hold the time
# of the event that wrote the row (the audited time; the service took its own clock a moment
# before): for them only being set or not is compared.
ALLOWED: dict[tuple[str, str], str] = {
    ("member", "added_at"): "event time",
    ("review", "created_at"): "event time",
    ("import_batch", "imported_at"): "event time",
    ("dedup_run", "run_at"): "event time",
    ("dedup_pair", "decided_at"): "event time",
    ("screening_decision", "decided_at"): "event time",
    ("screening_decision", "superseded_at"): "event time",
    ("screening_resolution", "resolved_at"): "event time",
    ("screening_resolution", "reopened_at"): "event time",
    ("screening_resolution", "contested_at"): "event time",
    ("record_label", "added_at"): "event time",
    ("fulltext_report", "recorded_at"): "event time",
    ("study_link", "linked_at"): "event time",
    ("analysis_run", "run_at"): "event time",
    ("prescreen_removal", "removed_at"): "event time",
    ("extraction_form", "added_at"): "event time",
    ("extraction_value", "entered_at"): "event time",
    ("extraction_consensus", "decided_at"): "event time",
    ("rob_judgement", "changed_at"): "event time",
    ("rob_consensus", "decided_at"): "event time",
    ("rob1_overall", "rated_at"): "event time",
    ("screening_calibration", "started_at"): "event time",
    ("screening_stop", "stopped_at"): "event time",
    # The why of a vote superseded or a resolution reopened is the service's sentence (unchecked
    # by verify); the rebuilt row names the event that did it. Set or not is compared.
    ("screening_decision", "superseded_because"): "names the event instead",
    ("screening_resolution", "reopened_because"): "names the event instead",
    # The ledger stores JSON canonically (sorted keys): the run's settings compare parsed.
    ("dedup_run", "settings"): "same JSON, keys sorted",
    # Surrogate keys nothing refers to, of rows the ledger names by their content: a role by
    # (member, role); a value by (study, extractor, place), a consensus by (study, place), whose
    # events list them by that name, not in the order the rows were written.
    ("member_role", "id"): "surrogate key",
    ("extraction_value", "id"): "surrogate key",
    ("extraction_consensus", "id"): "surrogate key",
}
# Tables that are not the review's state: checkpoints are written by `audit verify`, not events.
NOT_REBUILT = {"audit_checkpoint": "a checkpoint is not an event: verify writes it"}
JSON_COLUMNS = {("dedup_run", "settings")}


def _cli(*args: str) -> Any:
    return runner.invoke(app, list(args))


# A UTF-8 record with three bytes that are not UTF-8 (FF FE C3 inside its title; the rest of its
# text is UTF-8, so the file is read as UTF-8): its raw is kept as base64.
NOT_UTF8 = (
    b"TY  - JOUR\nID  - E1\nTI  - Stem cells an\xff\xfe\xc3d cirrhosis: a pilot trial\n"
    b"AU  - M\xc3\xbcller, K.\nAB  - Gr\xc3\xb6\xc3\x9fe \xe2\x80\x94 \xc3\xa9t\xc3\xa9 "
    b"\xe2\x80\x9cx\xe2\x80\x9d\nPY  - 2024\nDO  - 10.5555/ledger.e1\nER  -\n"
)


def _extend(url: str, work: Path) -> None:
    """What the ledger builder does not write: a refusal, a role taken back, a member removed,
    a vote undone, a duplicate group split, votes an owner entered on behalf of a reviewer, a
    record whose raw is kept as base64."""
    from reviewtool.dedup.service import undo_group
    from reviewtool.domain import Role
    from reviewtool.errors import PermissionDenied
    from reviewtool.importing.service import import_files
    from reviewtool.members.service import add_member, grant_role, remove_member, revoke_role
    from reviewtool.review.service import open_existing
    from reviewtool.screening.service import import_decisions, undo_last

    review = open_existing(url)
    try:
        with review.transaction() as s:
            add_member(s, actor="alice", name="dora", roles=[Role.REVIEWER])
            grant_role(s, actor="alice", name="dora", role=Role.ADJUDICATOR)
            revoke_role(s, actor="alice", name="dora", role=Role.REVIEWER)
        with review.transaction() as s:
            remove_member(s, actor="alice", name="dora")
        with review.transaction() as s:
            # a vote taken back (its row stays, superseded), and a group split by a person
            assert undo_last(s, actor="bob", stage="tiab") is not None
        with review.transaction() as s:
            assert undo_group(s, actor="alice", group_id=3, note="different trials") != []
        with pytest.raises(PermissionDenied), review.transaction() as s:
            add_member(s, actor="bob", name="eve", roles=[Role.REVIEWER])
        votes = work / "carol_votes.csv"
        votes.write_text(
            "record_id,decision,reason,note\n9,include,,\n10,exclude,,entered from paper\n",
            encoding="utf-8",
        )
        with review.transaction() as s:
            import_decisions(s, actor="alice", path=str(votes), stage="tiab", on_behalf_of="carol")
        export = work / "not_utf8.ris"
        export.write_bytes(NOT_UTF8)
        with review.transaction() as s:
            import_files(s, actor="alice", paths=[export], source="Scopus")
    finally:
        review.close()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ledger builder's review (every kind of event) and a few more events."""
    from tests.ledger_builder import build_populated

    work = tmp_path_factory.mktemp("replay_built")
    path = work / "review.db"
    build_populated(f"sqlite:///{path}", work, OUTCOMES)
    _extend(f"sqlite:///{path}", work)
    return path


# Commands of run.sh that only draw files (figures, the report folder) and write no row or event.
DRAWING_ONLY = (["rob", "plot"], ["report", "prisma"], ["report", "build"])


def run_sh_commands() -> list[list[str]]:
    """The ``rt ...`` commands of ``sample_project/run.sh`` in order, as argument lists, less
    those that only draw files (``DRAWING_ONLY``)."""
    script = re.sub(r"\\\n\s*", " ", (SAMPLE / "run.sh").read_text(encoding="utf-8"))
    commands = [shlex.split(line)[1:] for line in script.splitlines() if line.startswith("rt ")]
    return [args for args in commands if args[:2] not in DRAWING_ONLY]


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample project as its run.sh builds it: every ``rt`` command of the script, in order,
    run in a copy of the folder (in this process: the script's own ~100 interpreters would take
    minutes on a loaded machine; ``tests/test_sample_*.py`` pin what they produce)."""
    work = tmp_path_factory.mktemp("replay_sample") / "sample_project"
    shutil.copytree(SAMPLE, work, ignore=shutil.ignore_patterns("review.db*", "analysis", "report"))
    db = work / "review.db"
    here = Path.cwd()
    os.chdir(work)  # the script names its files relative to sample_project/
    try:
        for args in run_sh_commands():
            done = runner.invoke(app, args, env={"REVIEWTOOL_DB": str(db)})
            assert done.exit_code == 0, (args, done.output)
    finally:
        os.chdir(here)
    return db


def _replayed(source: Path, target: Path) -> Any:
    result = _cli("audit", "replay", "--to", str(target), "--db", str(source), "--as", "alice")
    return result


# --- the comparison ------------------------------------------------------------------------------


def _url(where: Path | str) -> str:
    return where if isinstance(where, str) else f"sqlite:///{where}"


def _snapshots(where: Path | str) -> dict[str, Any]:
    """Every state reader's snapshots (every vote row too, in order) of the review at ``where``
    (an SQLite file, or a URL)."""
    from reviewtool.review.service import open_existing
    from reviewtool.storage.snapshots import load_state_readers

    review = open_existing(_url(where))
    try:
        with review.reading() as session:
            found: dict[str, Any] = {}
            for kind, reader in load_state_readers().items():
                found[kind] = sorted(
                    (entity_id, json.dumps(snapshot, sort_keys=True))
                    for entity_id, snapshot in reader.read(session, None)
                )
                if reader.history is not None:
                    found[f"{kind} history"] = [
                        (entity_id, json.dumps(snapshot, sort_keys=True), current)
                        for entity_id, snapshot, current in reader.history(session, None)
                    ]
                if reader.who is not None:
                    found[f"{kind} who"] = sorted(reader.who(session, None))
            return found
    finally:
        review.close()


def _verified(where: Path | str, actor: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(audit verify's report, the PRISMA 2020 counts) of the review at ``where``."""
    from reviewtool import audit
    from reviewtool.review.service import open_existing
    from reviewtool.screening.prisma import prisma_counts

    review = open_existing(_url(where))
    try:
        with review.reading() as session:
            report = audit.verify(session)
            counts = prisma_counts(session, actor=actor)
    finally:
        review.close()
    seen = {
        "ok": report.ok,
        "events": report.events,
        "last_seq": report.last_seq,
        "head": report.head_hash,
        "problems": report.problems,
    }
    return seen, asdict(counts)


def _table_rows(path: Path) -> dict[str, tuple[list[str], list[tuple[Any, ...]]]]:
    with sqlite3.connect(path) as connection:
        tables = [
            row[0]
            for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        found = {}
        for table in tables:
            columns = [row[1] for row in connection.execute(f"PRAGMA table_info({table})")]
            rows = connection.execute(f"SELECT * FROM {table}").fetchall()
            found[table] = (columns, rows)
    return found


def _comparable(table: str, columns: list[str], row: tuple[Any, ...]) -> tuple[Any, ...]:
    out = []
    for column, value in zip(columns, row, strict=True):
        if (table, column) in JSON_COLUMNS:
            out.append(json.dumps(json.loads(value), sort_keys=True))
        elif (table, column) in ALLOWED:
            out.append(value is None)
        else:
            out.append(value)
    return tuple(out)


def _tables_differ(original: Path, rebuilt: Path) -> list[str]:
    """Every difference between the two databases' tables, outside ``ALLOWED``."""
    before, after = _table_rows(original), _table_rows(rebuilt)
    problems = []
    assert set(before) == set(after)
    for table, (columns, rows) in sorted(before.items()):
        if table in NOT_REBUILT:
            continue
        theirs = after[table]
        assert theirs[0] == columns, table
        mine = sorted(_comparable(table, columns, r) for r in rows)
        replayed = sorted(_comparable(table, columns, r) for r in theirs[1])
        if mine != replayed:
            gone = [r for r in mine if r not in replayed][:3]
            extra = [r for r in replayed if r not in mine][:3]
            problems.append(f"{table}: original only {gone}; rebuilt only {extra}")
    return problems


def _assert_same_review(original: Path, rebuilt: Path, actor: str) -> None:
    assert _snapshots(rebuilt) == _snapshots(original)
    assert _verified(rebuilt, actor) == _verified(original, actor)
    assert _tables_differ(original, rebuilt) == []


# --- the registries ------------------------------------------------------------------------------


def test_every_event_kind_is_replayed_or_declared() -> None:
    """A new event class in events.py without an applier (or a reason it changes nothing) fails."""
    from reviewtool.audit.replay import EVENT_APPLIERS, NOT_REPLAYED, load_appliers

    load_appliers()
    for name in EVENT_TYPES:
        assert name in EVENT_APPLIERS or name in NOT_REPLAYED, (
            f"event {name!r} has no replay applier: register it (audit/rebuild.py "
            "register_event, with a setter for each entity type it carries) or declare why it "
            "changes nothing (declare_not_replayed)"
        )
    for name, reason in NOT_REPLAYED.items():
        assert reason.strip() and name not in EVENT_APPLIERS


def test_every_audited_entity_type_has_a_setter() -> None:
    """Every kind a state reader checks is written by a replay setter, or derived by the replay."""
    from reviewtool.audit.replay import DERIVED, SETTERS, load_appliers
    from reviewtool.storage.snapshots import load_state_readers

    load_appliers()
    for kind in load_state_readers():
        assert kind in SETTERS or kind in DERIVED, f"no replay setter for entity type {kind!r}"
    assert set(DERIVED) == {"reference_link"}


# Event kinds the SQLite fixture cannot write, with where they are replayed instead.
NOT_IN_FIXTURE = {
    "schema-upgraded": "written by `reviewtool upgrade` of an older database",
    "database-roles-granted": "`member db-setup` is for PostgreSQL only: "
    "test_a_team_mode_review_on_postgresql_is_rebuilt replays it",
    "screening-resolution-revisited": "written by the PostgreSQL server in team mode: "
    "tests/test_postgres_teamtrust.py replays it",
}


def test_the_fixture_writes_every_kind_of_event(built: Path) -> None:
    """So the rebuilt-review test below applies every applier at least once, and the rows that
    came later than the appliers are there: a vote stamped with its queue order and model, votes
    an owner entered for a reviewer, converted values with their structured provenance, a raw
    kept as base64, a batch's records in a records-imported-part event."""
    with sqlite3.connect(built) as connection:
        kinds = {row[0] for row in connection.execute("SELECT DISTINCT action FROM audit_event")}
        behalf = connection.execute(
            "SELECT actor, entity_id FROM audit_event WHERE action = 'screening-decision' "
            'AND payload LIKE \'%"on_behalf_of":"carol"%\' ORDER BY seq'
        ).fetchall()
        stamped = connection.execute(
            "SELECT queue_order, model_version FROM screening_decision "
            "WHERE queue_order IS NOT NULL"
        ).fetchall()
        converted = connection.execute(
            "SELECT source FROM extraction_value WHERE source_kind = 'converted'"
        ).fetchall()
        raws = connection.execute("SELECT raw FROM record WHERE raw LIKE 'base64:%'").fetchall()
    assert kinds == set(EVENT_TYPES) - set(NOT_IN_FIXTURE)
    assert behalf == [("alice", "9:tiab:carol"), ("alice", "10:tiab:carol")]
    # The votes carol's were entered from a file are stamped imported (issue 15).
    assert stamped == [
        ("relevance", "logistic:" + "ab" * 32),
        ("imported", None),
        ("imported", None),
    ]
    assert len(converted) == 2 and all(json.loads(s) for (s,) in converted)
    assert len(raws) == 1


# --- rebuilt reviews -----------------------------------------------------------------------------


def test_replay_rebuilds_every_kind_of_event(built: Path, tmp_path: Path) -> None:
    target = tmp_path / "rebuilt.db"
    result = _replayed(built, target)
    assert result.exit_code == 0, result.output
    verified, _counts = _verified(built, "alice")
    assert result.stdout.split() == [
        "Replayed",
        str(verified["events"]),
        "events",
        "into",
        f"{target}:",
        "the",
        "rebuilt",
        "review",
        "verifies,",
        "head",
        verified["head"],
    ]
    _assert_same_review(built, target, "alice")
    # The rebuilt review works on: a vote and an undo there verify.
    from reviewtool.review.service import open_existing
    from reviewtool.screening.service import record_decision

    review = open_existing(f"sqlite:///{target}")
    try:
        with review.transaction() as s:
            record_decision(s, actor="bob", record_id=6, stage="tiab", decision="exclude")
    finally:
        review.close()
    assert _verified(target, "alice")[0]["ok"]


def test_replay_rebuilds_the_sample_review(sample: Path, tmp_path: Path) -> None:
    target = tmp_path / "rebuilt.db"
    result = _cli("audit", "replay", "--to", str(target), "--db", str(sample), "--as", "jniu")
    assert result.exit_code == 0, result.output
    _assert_same_review(sample, target, "jniu")
    verified, counts = _verified(target, "jniu")
    # The sample's PRISMA numbers (tests/test_sample_screening.py pins them to the seed paper).
    assert verified["ok"] and counts["studies_included"] > 0


def test_a_batch_in_several_parts_is_rebuilt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Five records two to a part: three records-imported-part events after the batch's event,
    in id order; the rebuilt records are the original's."""
    from reviewtool.importing.service import import_files
    from reviewtool.review.service import init_review
    from tests.ledger_builder import RIS

    monkeypatch.setattr("reviewtool.importing.service.RECORDS_PER_PART", 2)
    source = tmp_path / "review.db"
    export = tmp_path / "five.ris"
    export.write_text(RIS, encoding="utf-8")
    review = init_review(f"sqlite:///{source}", title="Parts", owner="alice")
    with review.transaction() as s:
        import_files(s, actor="alice", paths=[export], source="MEDLINE")
    review.close()
    with sqlite3.connect(source) as connection:
        parts = [
            json.loads(payload)
            for (payload,) in connection.execute(
                "SELECT payload FROM audit_event WHERE action = 'records-imported-part' ORDER BY seq"
            )
        ]
    assert [(p["part"], p["parts"], [r[0] for r in p["records"]]) for p in parts] == [
        (1, 3, [1, 2]),
        (2, 3, [3, 4]),
        (3, 3, [5]),
    ]
    target = tmp_path / "rebuilt.db"
    result = _replayed(source, target)
    assert result.exit_code == 0, result.output
    _assert_same_review(source, target, "alice")


# --- refusals ------------------------------------------------------------------------------------


def test_an_old_ledger_is_refused_naming_its_first_incomplete_event(tmp_path: Path) -> None:
    """The ledger of schema 0005 (tests/data/ledger_0005.sql) verifies, but its records-imported
    events hold only a digest of the records: one line names the first, nothing is left."""
    source = tmp_path / "old.db"
    with sqlite3.connect(source) as connection:
        connection.executescript((HERE / "data" / "ledger_0005.sql").read_text(encoding="utf-8"))
    with sqlite3.connect(source) as connection:
        first = connection.execute(
            "SELECT min(seq) FROM audit_event WHERE action = 'records-imported'"
        ).fetchone()[0]
    target = tmp_path / "rebuilt.db"
    result = _replayed(source, target)
    assert result.exit_code == 8, result.output
    assert result.stderr.strip().splitlines() == [
        f"reviewtool: error: event #{first} (records-imported) cannot be replayed: it holds only a digest of "
        "the batch's records (written before issue 14)"
    ]
    assert not target.exists()
    assert not list(tmp_path.glob("rebuilt.db*"))


def test_a_ledger_that_does_not_verify_is_not_replayed(built: Path, tmp_path: Path) -> None:
    source = tmp_path / "tampered.db"
    shutil.copy(built, source)
    with sqlite3.connect(source) as connection:
        connection.execute("UPDATE screening_decision SET note = 'forged' WHERE id = 1")
    target = tmp_path / "rebuilt.db"
    result = _replayed(source, target)
    assert result.exit_code == 8, result.output
    assert "the source ledger does not verify" in result.stderr
    assert "nothing was replayed" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not target.exists()


def test_an_event_whose_content_does_not_match_its_digest_is_refused(
    built: Path, tmp_path: Path
) -> None:
    """A records-imported-part event whose records were edited and the whole chain re-hashed
    after it (a rewritten ledger) no longer matches its batch's digest: refused, nothing left
    behind."""
    from reviewtool.audit.log import event_hash

    source = tmp_path / "rewritten.db"
    shutil.copy(built, source)
    with sqlite3.connect(source) as connection:
        rows = connection.execute(
            "SELECT seq, occurred_at, actor, action, entity_type, entity_id, payload, salt "
            "FROM audit_event ORDER BY seq"
        ).fetchall()
        prev, target_seq, batch = "0" * 64, None, None
        for seq, at, actor, action, etype, eid, payload, salt in rows:
            if action == "records-imported-part" and target_seq is None:
                content = json.loads(payload)
                assert content["part"] == content["parts"] == 1
                content["records"][0][4] = "A forged title"
                batch = content["batch_id"]
                payload = json.dumps(
                    content, sort_keys=True, separators=(",", ":"), ensure_ascii=False
                )
                target_seq = seq
            digest = event_hash(
                prev,
                seq=seq,
                occurred_at=at,
                actor=actor,
                action=action,
                entity_type=etype,
                entity_id=eid,
                payload=payload,
                salt=salt,
            )
            connection.execute(
                "UPDATE audit_event SET payload = ?, prev_hash = ?, hash = ? WHERE seq = ?",
                (payload, prev, digest, seq),
            )
            prev = digest
        connection.execute("UPDATE audit_head SET hash = ?", (prev,))
    target = tmp_path / "rebuilt.db"
    result = _replayed(source, target)
    assert result.exit_code == 8, result.output
    assert result.stderr.strip() == (
        f"reviewtool: error: event #{target_seq} (records-imported-part) cannot be replayed: the "
        f"records of batch {batch} do not match the digest its records-imported event recorded"
    )
    assert not list(tmp_path.glob("rebuilt.db*"))


def test_replay_is_for_owners_and_into_a_new_database(built: Path, tmp_path: Path) -> None:
    target = tmp_path / "rebuilt.db"
    refused = _cli("audit", "replay", "--to", str(target), "--db", str(built), "--as", "bob")
    assert refused.exit_code == 5, refused.output
    assert len(refused.stderr.strip().splitlines()) == 1
    assert not target.exists()
    target.write_text("something else")
    exists = _replayed(built, target)
    assert exists.exit_code == 4, exists.output
    assert target.read_text() == "something else"
    # The message names the option the user gave the path with (before: "--db").
    assert exists.stderr.strip().endswith("exists already; choose another --to path")
    folder = _replayed(built, tmp_path)
    assert folder.stderr.strip().endswith("is a directory; choose a file path for --to")
    bad = _cli("audit", "replay", "--to", "nosuchdialect://x", "--db", str(built), "--as", "alice")
    assert bad.exit_code == 2 and "--to nosuchdialect://x: not a database URL" in bad.stderr


# --- PostgreSQL ----------------------------------------------------------------------------------


def test_replay_into_postgresql_and_back(built: Path, pg_url: str, tmp_path: Path) -> None:  # noqa: F811
    """SQLite -> PostgreSQL -> SQLite: the review on the server is the original (snapshots, PRISMA,
    verify and head), it works on (new rows get new ids), and replaying it back gives the
    original's tables.

    The fixture maps bob to a database login, so the review is in team mode on the server: the
    owner maps her own login first (`member map alice --db-role postgres`, the server's login
    here), or on the server nobody could act as her (docs/replay.md)."""
    from sqlmodel import select

    from reviewtool.members.identity import put_login
    from reviewtool.review.service import open_existing
    from reviewtool.storage.models import Member

    source = tmp_path / "mapped.db"
    shutil.copy(built, source)
    review = open_existing(f"sqlite:///{source}")
    try:
        with review.transaction() as s:
            alice = s.exec(select(Member).where(Member.name == "alice")).one()
            put_login(s, "alice", alice, "postgres")
    finally:
        review.close()
    into = _cli("audit", "replay", "--to", pg_url, "--db", str(source), "--as", "alice")
    assert into.exit_code == 0, into.output
    assert _snapshots(pg_url) == _snapshots(source)
    assert _verified(pg_url, "alice") == _verified(source, "alice")
    back = tmp_path / "back.db"
    result = _cli("audit", "replay", "--to", str(back), "--db", pg_url, "--as", "alice")
    assert result.exit_code == 0, result.output
    assert _tables_differ(source, back) == []
    from reviewtool.members.service import add_member

    review = open_existing(pg_url)
    try:
        with review.transaction() as s:
            from reviewtool.domain import Role

            assert add_member(s, actor="alice", name="fred", roles=[Role.REVIEWER]).name == "fred"
    finally:
        review.close()
    assert _verified(pg_url, "alice")[0]["ok"]


def test_a_refused_replay_leaves_the_postgresql_database_empty(pg_url: str, tmp_path: Path) -> None:  # noqa: F811
    source = tmp_path / "old.db"
    with sqlite3.connect(source) as connection:
        connection.executescript((HERE / "data" / "ledger_0005.sql").read_text(encoding="utf-8"))
    result = _cli("audit", "replay", "--to", pg_url, "--db", str(source), "--as", "alice")
    assert result.exit_code == 8, result.output
    from sqlalchemy import create_engine, inspect

    engine = create_engine(pg_url)
    try:
        assert inspect(engine).get_table_names() == []
    finally:
        engine.dispose()


def _login_url(url: str, login: str) -> str:
    """``url`` (the throw-away server's, as ``postgres``) connecting as ``login`` (trust)."""
    return url.replace("postgresql+psycopg://postgres@", f"postgresql+psycopg://{login}@", 1)


def _another_database(server: str, name: str) -> str:
    from sqlalchemy import create_engine, text

    admin = create_engine(server.replace("/?", "/postgres?"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return server.replace("/?", f"/{name}?")


def test_a_team_mode_review_on_postgresql_is_rebuilt(
    pg_server: str,  # noqa: F811
    pg_url: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    """Team mode (docs/identity.md): logins mapped (``member-login-mapped``), ``member db-setup``
    (``database-roles-granted``: copied, nothing applied), votes cast by each reviewer's own
    login. Rebuilt in SQLite the logins and votes are the original's; rebuilt in a new PostgreSQL
    database bob's login is refused there until ``member db-setup`` is run again (docs/replay.md),
    then his vote is his."""
    from tests.test_postgres_identity import RIS

    ris = tmp_path / "search.ris"
    ris.write_text(RIS, encoding="utf-8")
    steps = [
        ("postgres", "init", "--title", "MSC review", "--as", "alice"),
        ("postgres", "import", str(ris), "--source", "MEDLINE", "--as", "alice"),
        ("postgres", "member", "add", "bob", "--role", "reviewer", "--db-role", "bob", "--as", "alice"),
        ("postgres", "member", "add", "carol", "--role", "reviewer", "--db-role", "carol"),
        ("postgres", "member", "db-setup"),
        ("bob", "screen", "decide", "1", "include"),
        ("carol", "screen", "decide", "1", "exclude", "--reason", "wrong population"),
    ]  # fmt: skip
    for login, *args in steps:
        done = runner.invoke(app, [*args, "--db", _login_url(pg_url, login)])
        assert done.exit_code == 0, (login, args, done.output)
    rebuilt = tmp_path / "rebuilt.db"
    result = _cli("audit", "replay", "--to", str(rebuilt), "--db", pg_url)
    assert result.exit_code == 0, result.output
    original = _snapshots(pg_url)
    assert original["member_login"] == [
        ("1", json.dumps({"db_role": "postgres", "member": "alice"})),
        ("2", json.dumps({"db_role": "bob", "member": "bob"})),
        ("3", json.dumps({"db_role": "carol", "member": "carol"})),
    ]
    assert _snapshots(rebuilt) == original
    assert _verified(rebuilt, "alice") == _verified(pg_url, "alice")
    with sqlite3.connect(rebuilt) as connection:
        granted = connection.execute(
            "SELECT count(*) FROM audit_event WHERE action = 'database-roles-granted'"
        ).fetchone()[0]
    assert granted == 1
    # Into a new PostgreSQL database: the grants and policies are the server's, not the ledger's.
    again = _another_database(pg_server, f"rebuilt_{os.getpid()}")
    into = _cli("audit", "replay", "--to", again, "--db", str(rebuilt), "--as", "alice")
    assert into.exit_code == 0, into.output
    assert _snapshots(again) == original
    bob = ("screen", "decide", "2", "include", "--db", _login_url(again, "bob"))
    refused = runner.invoke(app, list(bob))
    assert refused.exit_code != 0 and "permission denied" in refused.output.lower(), refused.output
    setup = runner.invoke(app, ["member", "db-setup", "--db", again])
    assert setup.exit_code == 0, setup.output
    voted = runner.invoke(app, list(bob))
    assert voted.exit_code == 0, voted.output
    mine = {"decision": "include", "note": None, "order": "random", "reason": None}
    assert ("2:tiab:bob", json.dumps(mine)) in _snapshots(again)["screening_vote"]
