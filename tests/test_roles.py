"""People and roles: owners manage, others are refused, and every refusal is in the ledger."""

from __future__ import annotations

import pytest

from reviewtool import audit
from reviewtool.domain import PERMISSIONS, Action, Role
from reviewtool.errors import AlreadyExists, InvalidInput, NotFound, PermissionDenied, UnknownMember
from reviewtool.members.service import (
    add_member,
    grant_role,
    list_members,
    parse_roles,
    remove_member,
    revoke_role,
)
from reviewtool.review.service import get_settings, set_setting
from reviewtool.storage import Review


def _refusals(review: Review) -> list[audit.EventView]:
    with review.reading() as session:
        return audit.list_events(session, action="access-refused")


def test_initialiser_is_the_first_owner(fresh_review: Review) -> None:
    with fresh_review.reading() as session:
        members = {m.name: m.roles for m in list_members(session)}
    assert members == {"alice": ("owner",), "bob": ("reviewer",), "carol": ("adjudicator",)}


def test_reviewer_cannot_add_members_and_the_refusal_is_recorded(fresh_review: Review) -> None:
    with pytest.raises(PermissionDenied, match="'bob' \\(reviewer\\) may not add members"):
        with fresh_review.transaction() as session:
            add_member(session, actor="bob", name="dave", roles=[Role.REVIEWER])
    (refusal,) = _refusals(fresh_review)
    assert refusal.actor == "bob"
    assert refusal.payload["attempted"] == "add members"
    with fresh_review.reading() as session:
        assert "dave" not in {m.name for m in list_members(session)}
        assert audit.verify(session).ok


def test_unknown_person_is_refused_and_recorded(fresh_review: Review) -> None:
    with pytest.raises(UnknownMember, match="'mallory' is not a member"):
        with fresh_review.transaction() as session:
            set_setting(session, actor="mallory", key="screening.blind", value="false")
    (refusal,) = _refusals(fresh_review)
    assert refusal.payload["person"] == "mallory"


def test_only_owners_change_settings(fresh_review: Review) -> None:
    for person in ("bob", "carol"):
        with pytest.raises(PermissionDenied), fresh_review.transaction() as session:
            set_setting(session, actor=person, key="screening.reviewers_required", value="3")
    with fresh_review.transaction() as session:
        assert (
            set_setting(session, actor="alice", key="screening.reviewers_required", value="3") == 3
        )
    with fresh_review.reading() as session:
        assert get_settings(session)["screening.reviewers_required"] == 3
    assert len(_refusals(fresh_review)) == 2


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("screening.reviewers_required", "0", "at least 1"),
        ("screening.reviewers_required", "two", "whole number"),
        ("screening.blind", "perhaps", "true or false"),
        ("analysis.model", "bayesian", "one of fixed, random, auto"),
        ("no.such.setting", "1", "unknown setting 'no.such.setting'"),
    ],
)
def test_impossible_setting_values_are_refused(
    fresh_review: Review, key: str, value: str, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message), fresh_review.transaction() as session:
        set_setting(session, actor="alice", key=key, value=value)


def test_adjudicator_permission_table() -> None:
    assert PERMISSIONS[Action.RESOLVE_CONFLICT] == {Role.ADJUDICATOR}
    assert Role.ADJUDICATOR not in PERMISSIONS[Action.SCREEN]


def test_member_with_several_roles(fresh_review: Review) -> None:
    with fresh_review.transaction() as session:
        view = grant_role(session, actor="alice", name="bob", role=Role.ADJUDICATOR)
    assert view.roles == ("adjudicator", "reviewer")


def test_duplicate_member_and_bad_names(fresh_review: Review) -> None:
    with pytest.raises(AlreadyExists), fresh_review.transaction() as session:
        add_member(session, actor="alice", name="bob", roles=[Role.REVIEWER])
    with pytest.raises(InvalidInput, match="one word"), fresh_review.transaction() as session:
        add_member(session, actor="alice", name="bob smith", roles=[Role.REVIEWER])
    with pytest.raises(InvalidInput, match="unknown role 'boss'"):
        parse_roles(["boss"])
    with pytest.raises(NotFound), fresh_review.transaction() as session:
        grant_role(session, actor="alice", name="zoe", role=Role.REVIEWER)


def test_last_owner_cannot_leave(fresh_review: Review) -> None:
    with pytest.raises(InvalidInput, match="last owner"), fresh_review.transaction() as session:
        revoke_role(session, actor="alice", name="alice", role=Role.OWNER)
    with pytest.raises(InvalidInput, match="last owner"), fresh_review.transaction() as session:
        remove_member(session, actor="alice", name="alice")
    with fresh_review.transaction() as session:
        grant_role(session, actor="alice", name="bob", role=Role.OWNER)
        revoke_role(session, actor="alice", name="alice", role=Role.OWNER)
    with fresh_review.reading() as session:
        assert audit.verify(session).ok


def test_removed_member_can_no_longer_act_but_stays_listed(fresh_review: Review) -> None:
    with fresh_review.transaction() as session:
        grant_role(session, actor="alice", name="bob", role=Role.OWNER)
        remove_member(session, actor="alice", name="bob")
    with pytest.raises(UnknownMember, match="was removed"), fresh_review.transaction() as session:
        add_member(session, actor="bob", name="dave", roles=[Role.REVIEWER])
    with fresh_review.reading() as session:
        everyone = {m.name: m.active for m in list_members(session, include_removed=True)}
        assert everyone["bob"] is False
        assert "bob" not in {m.name for m in list_members(session)}
