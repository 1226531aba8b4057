"""``access.sees_entity`` reads every form of a ledger id: full-text votes and resolutions are keyed
by their report since schema 0009 (``storage.snapshots.vote_key``: ``12:fulltext:bob:r7``)."""

from __future__ import annotations

from reviewtool.access import Sight, sees_entity
from reviewtool.domain import Role
from reviewtool.storage.snapshots import resolution_key, vote_key


def _bob(blind: set[str]) -> Sight:
    return Sight(name="bob", member=None, roles=frozenset({Role.REVIEWER}), blind=frozenset(blind))


def test_a_reviewer_sees_their_own_full_text_vote_on_a_report_and_not_anothers() -> None:
    bob = _bob({"fulltext"})  # title/abstract unblinded, full text still blind
    assert sees_entity(bob, "screening_vote", vote_key(12, "fulltext", "bob", 7))
    assert not sees_entity(bob, "screening_vote", vote_key(12, "fulltext", "carol", 7))
    assert not sees_entity(bob, "screening_resolution", resolution_key(12, "fulltext", 7))
    # Beyond the example: once full text is unblinded, every report's votes and resolution.
    open_ = _bob(set())
    assert sees_entity(open_, "screening_vote", vote_key(12, "fulltext", "carol", 7))
    assert sees_entity(open_, "screening_resolution", resolution_key(12, "fulltext", 7))


def test_title_abstract_keys_are_read_as_before() -> None:
    bob = _bob({"tiab", "fulltext"})
    assert sees_entity(bob, "screening_vote", vote_key(3, "tiab", "bob"))
    assert not sees_entity(bob, "screening_vote", vote_key(3, "tiab", "carol"))
    assert not sees_entity(bob, "screening_resolution", resolution_key(3, "tiab"))
    # Full text is closed while title/abstract is blind: not even bob's own report vote.
    assert not sees_entity(bob, "screening_vote", vote_key(3, "fulltext", "bob", 1))
