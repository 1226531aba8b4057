"""The audit ledger: appended in the same transaction, verified, and tampering detected."""

from __future__ import annotations

import hashlib
import json
import re

import pytest
from sqlalchemy import text

from reviewtool import audit
from reviewtool.audit.events import Event, SettingChanged
from reviewtool.audit.log import GENESIS, canonical_json, event_hash
from reviewtool.domain import Role
from reviewtool.members.service import add_member, grant_role
from reviewtool.review.service import set_setting
from reviewtool.storage import Review


def _verify(review: Review) -> audit.VerifyReport:
    with review.reading() as session:
        return audit.verify(session)


def _sql(review: Review, statement: str) -> None:
    with review.engine.begin() as conn:
        conn.execute(text(statement))


def test_events_are_chained_and_verify(fresh_review: Review) -> None:
    with fresh_review.reading() as session:
        events = audit.list_events(session)
    assert [e.action for e in events] == [
        "review-created",
        "member-added",
        "member-added",
        "member-added",
    ]
    assert [e.seq for e in events] == [1, 2, 3, 4]
    # The first event links to the genesis hash; each later one to its predecessor, recomputable by hand.
    with fresh_review.engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM audit_event ORDER BY seq")).mappings().all()
    prev = GENESIS
    for row in rows:
        assert row["prev_hash"] == prev
        fields = [
            row[k]
            for k in (
                "seq",
                "occurred_at",
                "actor",
                "action",
                "entity_type",
                "entity_id",
                "payload",
                "salt",
            )
        ]
        import hashlib

        # Every new event carries its own 128-bit salt (32 hex digits), hashed last (issue 14).
        assert re.fullmatch(r"[0-9a-f]{32}", row["salt"])
        assert row["hash"] == hashlib.sha256((prev + canonical_json(fields)).encode()).hexdigest()
        prev = row["hash"]
    report = _verify(fresh_review)
    assert report.ok, report.problems
    assert report.events == 4
    assert report.head_hash == prev


def test_event_records_actor_time_and_before_after(fresh_review: Review) -> None:
    with fresh_review.transaction() as session:
        grant_role(session, actor="alice", name="bob", role=Role.ADJUDICATOR)
    with fresh_review.reading() as session:
        (event,) = audit.list_events(session, action="member-changed")
    assert event.actor == "alice"
    assert event.occurred_at.endswith("Z") and "T" in event.occurred_at
    assert event.payload["before"]["roles"] == ["reviewer"]
    assert event.payload["after"]["roles"] == ["adjudicator", "reviewer"]
    assert event.entity_type == "member"


def test_failed_operation_writes_no_event(fresh_review: Review) -> None:
    with pytest.raises(RuntimeError), fresh_review.transaction() as session:
        add_member(session, actor="alice", name="dave", roles=[Role.REVIEWER])
        raise RuntimeError("crash after the write")
    with fresh_review.reading() as session:
        assert not audit.list_events(session, entity_type="member", entity_id="4")
    assert _verify(fresh_review).ok


def test_edited_payload_is_detected(fresh_review: Review) -> None:
    _sql(
        fresh_review,
        """UPDATE audit_event SET payload = replace(payload, '"reviewer"', '"owner"') WHERE seq = 3""",
    )
    report = _verify(fresh_review)
    assert not report.ok
    assert report.first_bad_seq == 3
    assert "event #3" in report.problems[0]


def test_edited_actor_is_detected(fresh_review: Review) -> None:
    _sql(fresh_review, "UPDATE audit_event SET actor = 'mallory' WHERE seq = 2")
    report = _verify(fresh_review)
    assert report.first_bad_seq == 2


def test_a_number_written_into_a_text_column_is_detected(fresh_review: Review) -> None:
    _sql(fresh_review, "UPDATE audit_event SET actor = 12 WHERE seq = 2")
    report = _verify(fresh_review)
    assert report.first_bad_seq == 2
    assert "content was changed" in report.problems[0]


def test_a_number_written_as_a_payload_is_detected(fresh_review: Review) -> None:
    _sql(fresh_review, "UPDATE audit_event SET payload = 7, entity_id = 3 WHERE seq = 3")
    report = _verify(fresh_review)
    assert report.first_bad_seq == 3
    # SQLite stores the numbers as text ('7' is JSON, but not an event's payload): the hash
    # breaks, and bob's member row is left without the event that recorded it.
    assert report.problems == [
        "event #3 (member-added): content was changed after it was written",
        'member 2: current state {"active":true,"name":"bob","roles":["reviewer"]} differs from '
        "the ledger (no event records it)",
    ]


def test_deleted_event_in_the_middle_is_detected(fresh_review: Review) -> None:
    _sql(fresh_review, "DELETE FROM audit_event WHERE seq = 2")
    report = _verify(fresh_review)
    assert not report.ok
    assert report.first_bad_seq == 3
    assert "missing" in report.problems[0]


def test_deleted_last_event_is_detected_by_the_head(fresh_review: Review) -> None:
    _sql(fresh_review, "DELETE FROM audit_event WHERE seq = 4")
    report = _verify(fresh_review)
    assert not report.ok
    assert any("removed from the end" in p for p in report.problems)


def test_reordered_chain_is_detected(fresh_review: Review) -> None:
    # Swap two events' places in the sequence (through a free number, as seq is the key).
    _sql(fresh_review, "UPDATE audit_event SET seq = 100 WHERE seq = 2")
    _sql(fresh_review, "UPDATE audit_event SET seq = 2 WHERE seq = 3")
    _sql(fresh_review, "UPDATE audit_event SET seq = 3 WHERE seq = 100")
    report = _verify(fresh_review)
    assert not report.ok
    assert report.first_bad_seq == 2


def test_rewritten_chain_fails_against_a_noted_head(fresh_review: Review) -> None:
    noted = _verify(fresh_review).head_hash
    with fresh_review.transaction() as session:
        set_setting(session, actor="alice", key="screening.blind", value="false")
    assert _verify(fresh_review).head_hash != noted


def test_state_edited_behind_the_tools_back_is_detected(fresh_review: Review) -> None:
    # bob makes himself owner with an SQL client: the chain is intact but the state disagrees.
    _sql(fresh_review, "UPDATE member_role SET role = 'owner' WHERE member_id = 2")
    report = _verify(fresh_review)
    assert not report.ok
    assert report.first_bad_seq is None
    assert "member 2" in report.problems[0] and "event #3" in report.problems[0]


def test_setting_inserted_behind_the_tools_back_is_detected(fresh_review: Review) -> None:
    _sql(
        fresh_review,
        """INSERT INTO review_setting (key, value) VALUES ('screening.blind', 'false')""",
    )
    report = _verify(fresh_review)
    assert any("review_setting screening.blind" in p and "no event" in p for p in report.problems)


def test_unknown_event_type_is_rejected(fresh_review: Review) -> None:
    class Rogue(SettingChanged):
        pass

    with pytest.raises(TypeError), fresh_review.transaction() as session:
        audit.record(session, "alice", Rogue(key="x", before=None, after=1))
    assert isinstance(Rogue(key="x", before=None, after=1), Event)


def test_hash_depends_on_every_field() -> None:
    base = dict(
        seq=1,
        occurred_at="2026-01-01T00:00:00.000000Z",
        actor="alice",
        action="member-added",
        entity_type="member",
        entity_id="1",
        payload=json.dumps({"a": 1}),
    )
    reference = event_hash(GENESIS, **base, salt=None)  # type: ignore[arg-type]
    for key in base:
        changed = dict(base)
        changed[key] = 2 if key == "seq" else f"{base[key]}x"
        assert event_hash(GENESIS, **changed, salt=None) != reference  # type: ignore[arg-type]
    assert event_hash("1" * 64, **base, salt=None) != reference  # type: ignore[arg-type]
    salted = event_hash(GENESIS, **base, salt="00" * 16)  # type: ignore[arg-type]
    assert salted != reference
    assert event_hash(GENESIS, **base, salt="00" * 15 + "01") != salted  # type: ignore[arg-type]


def test_hash_without_a_salt_is_the_old_format_and_with_one_the_salt_comes_last() -> None:
    """The hashed text, written out by hand: events from before schema 0019 (no salt) hash exactly
    as they always did, so old ledgers verify; a salted event appends the salt to the array."""
    old = '[7,"2026-01-01T00:00:00.000000Z","alice","member-added","member","1","{\\"a\\":1}"]'
    salt = "0123456789abcdef" * 2
    new = old[:-1] + f',"{salt}"]'
    fields = dict(
        seq=7,
        occurred_at="2026-01-01T00:00:00.000000Z",
        actor="alice",
        action="member-added",
        entity_type="member",
        entity_id="1",
        payload='{"a":1}',
    )
    prev = "ab" * 32
    assert (
        event_hash(prev, **fields, salt=None) == hashlib.sha256((prev + old).encode()).hexdigest()
    )  # type: ignore[arg-type]
    assert (
        event_hash(prev, **fields, salt=salt)  # type: ignore[arg-type]
        == hashlib.sha256((prev + new).encode()).hexdigest()
    )


@pytest.mark.parametrize(
    "actor",
    ["alice", 'Zoë "Z" O\'Brien', "tab\there", "line\u2028sep", "\x00nul", "emoji \U0001f600"],
)
@pytest.mark.parametrize("salt", [None, "ff" * 16])
def test_the_fast_hash_text_is_the_canonical_json_of_the_fields(
    actor: str, salt: str | None
) -> None:
    """``event_hash`` spells the canonical JSON array out (verify hashes every event); it must be
    the text ``canonical_json`` writes, for any text, with and without a salt."""
    fields = [3, "2026-01-01T00:00:00.000000Z", actor, "a", "t", "1", '{"x":"\u00e9"}']
    material = canonical_json(fields if salt is None else [*fields, salt])
    want = hashlib.sha256((GENESIS + material).encode("utf-8")).hexdigest()
    got = event_hash(
        GENESIS,
        seq=3,
        occurred_at=fields[1],  # type: ignore[arg-type]
        actor=actor,
        action="a",
        entity_type="t",
        entity_id="1",
        payload=fields[6],  # type: ignore[arg-type]
        salt=salt,
    )
    assert got == want
    # A value of another type (written with SQL: a NULL time) falls back to canonical_json.
    odd = [3, None, *fields[2:]]
    material = canonical_json(odd if salt is None else [*odd, salt])
    stored: dict[str, object] = dict(
        zip(
            ("seq", "occurred_at", "actor", "action", "entity_type", "entity_id", "payload"),
            odd,
            strict=True,
        )
    )
    assert (
        event_hash(GENESIS, **stored, salt=salt)  # type: ignore[arg-type]
        == hashlib.sha256((GENESIS + material).encode("utf-8")).hexdigest()
    )


def test_a_unique_row_written_twice_is_a_concurrent_change_in_words(fresh_review: Review) -> None:
    """The loser of a race on SQLite or PostgreSQL gets one line in the field's words, and nothing
    of its transaction is kept (issue 14, item 5; the live PostgreSQL race is in test_postgres)."""
    from reviewtool.errors import ConcurrentChange

    with pytest.raises(ConcurrentChange) as caught, fresh_review.transaction() as session:
        set_setting(session, actor="alice", key="screening.reviewers_required", value="1")
        session.execute(
            text("INSERT INTO member (name, active, added_at) VALUES ('bob', 1, '2026-01-01')")
        )
        session.flush()
    assert str(caught.value).startswith("a member of that name was just added by someone else")
    assert "nothing of this command was written" in str(caught.value)
    with fresh_review.reading() as session:
        assert [e.action for e in audit.list_events(session)][-1] == "member-added"
        assert audit.verify(session).ok
