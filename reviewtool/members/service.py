"""Add members, change their roles, remove them; owners only, every change audited.

Members are never deleted: the ledger and every decision name them, so ``remove`` deactivates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, delete, select

from reviewtool import audit
from reviewtool.access import require
from reviewtool.audit.events import MemberAdded, MemberChanged
from reviewtool.domain import SCREENING_STAGES, Action, Role, ScreeningStatus
from reviewtool.errors import AlreadyExists, InvalidInput, NotFound
from reviewtool.storage.models import Member, MemberRole
from reviewtool.storage.queries import stage_outcomes
from reviewtool.storage.snapshots import member_snapshot
from reviewtool.text import counted


@dataclass(frozen=True)
class MemberView:
    """A member as listings show it."""

    name: str
    roles: tuple[str, ...]
    active: bool
    added_at: str

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "name": self.name,
            "roles": list(self.roles),
            "active": self.active,
            "added_at": self.added_at,
        }


def parse_roles(values: list[str]) -> list[Role]:
    """Roles named by the user, or InvalidInput naming the unknown one."""
    roles: list[Role] = []
    for value in values:
        try:
            roles.append(Role(value.strip().lower()))
        except ValueError:
            known = ", ".join(r.value for r in Role)
            raise InvalidInput(f"unknown role {value!r}; roles are {known}") from None
    if not roles:
        raise InvalidInput("give at least one --role")
    return roles


def _view(session: Session, member: Member) -> MemberView:
    snap = member_snapshot(session, member)
    return MemberView(member.name, tuple(snap["roles"]), bool(member.active), member.added_at)


def _find(session: Session, name: str) -> Member:
    member = session.exec(select(Member).where(Member.name == name)).first()
    if member is None:
        raise NotFound(f"no member called {name!r}; see `reviewtool member list`")
    return member


def _open_conflicts(session: Session) -> int:
    return sum(
        1
        for stage in SCREENING_STAGES
        for outcome in stage_outcomes(session, stage.value).values()
        if outcome.status is ScreeningStatus.CONFLICT
    )


def _check_adjudicator_left(session: Session, member: Member, roles: list[str]) -> None:
    """Refuse to take away the last adjudicator while conflicts wait for one."""
    if Role.ADJUDICATOR.value not in roles or not member.active:
        return
    others = [
        m
        for m in session.exec(
            select(Member)
            .join(MemberRole, col(MemberRole.member_id) == col(Member.id))
            .where(Member.active == True, MemberRole.role == Role.ADJUDICATOR.value)  # noqa: E712
        ).all()
        if m.id != member.id
    ]
    conflicts = _open_conflicts(session)
    if not others and conflicts:
        raise InvalidInput(
            f"{member.name!r} is the last adjudicator and {counted(conflicts, 'conflict')} {'is' if conflicts == 1 else 'are'} open; "
            "make someone else adjudicator first"
        )


def _active_owners(session: Session) -> int:
    rows = session.exec(
        select(Member.id)
        .join(MemberRole, col(MemberRole.member_id) == col(Member.id))
        .where(Member.active == True, MemberRole.role == Role.OWNER.value)  # noqa: E712
    ).all()
    return len(rows)


def add_member(session: Session, *, actor: str, name: str, roles: list[Role]) -> MemberView:
    """Add a person with ``roles``."""
    require(session, actor, Action.MANAGE_MEMBERS, doing="add members")
    name = name.strip()
    if not name or any(ch.isspace() for ch in name):
        raise InvalidInput(f"member name {name!r} must be one word without spaces")
    if session.exec(select(Member).where(Member.name == name)).first() is not None:
        raise AlreadyExists(
            f"{name!r} is a member already; use `reviewtool member grant` to add a role"
        )
    member = Member(name=name, added_at=audit.log.utc_now())
    session.add(member)
    session.flush()
    assert member.id is not None
    for role in sorted(set(roles)):
        session.add(MemberRole(member_id=member.id, role=role.value))
    session.flush()
    audit.record(
        session, actor, MemberAdded(member_id=member.id, after=member_snapshot(session, member))
    )
    return _view(session, member)


def _change(
    session: Session, actor: str, member: Member, change: str, before: dict[str, Any]
) -> MemberView:
    session.flush()
    after = member_snapshot(session, member)
    if after != before:
        assert member.id is not None
        audit.record(
            session,
            actor,
            MemberChanged(member_id=member.id, change=change, before=before, after=after),
        )
    return _view(session, member)


def grant_role(session: Session, *, actor: str, name: str, role: Role) -> MemberView:
    """Give ``name`` the role ``role`` (nothing happens if they hold it)."""
    require(session, actor, Action.MANAGE_MEMBERS, doing="grant roles")
    member = _find(session, name)
    before = member_snapshot(session, member)
    if role.value not in before["roles"]:
        assert member.id is not None
        session.add(MemberRole(member_id=member.id, role=role.value))
    return _change(session, actor, member, "grant", before)


def revoke_role(session: Session, *, actor: str, name: str, role: Role) -> MemberView:
    """Take the role ``role`` from ``name``; the last active owner keeps theirs."""
    require(session, actor, Action.MANAGE_MEMBERS, doing="revoke roles")
    member = _find(session, name)
    before = member_snapshot(session, member)
    if role.value not in before["roles"]:
        raise InvalidInput(f"{name!r} does not hold the role {role.value}")
    if role is Role.OWNER and member.active and _active_owners(session) <= 1:
        raise InvalidInput(f"{name!r} is the last owner; make someone else owner first")
    if role is Role.ADJUDICATOR:
        _check_adjudicator_left(session, member, before["roles"])
    session.execute(
        delete(MemberRole).where(
            col(MemberRole.member_id) == member.id, col(MemberRole.role) == role.value
        )
    )
    return _change(session, actor, member, "revoke", before)


def remove_member(session: Session, *, actor: str, name: str) -> MemberView:
    """Deactivate ``name``: they can no longer act, but everything they did stays attributed."""
    require(session, actor, Action.MANAGE_MEMBERS, doing="remove members")
    member = _find(session, name)
    if not member.active:
        raise InvalidInput(f"{name!r} was removed already")
    before = member_snapshot(session, member)
    if Role.OWNER.value in before["roles"] and _active_owners(session) <= 1:
        raise InvalidInput(f"{name!r} is the last owner; make someone else owner first")
    _check_adjudicator_left(session, member, before["roles"])
    member.active = False
    session.add(member)
    return _change(session, actor, member, "remove", before)


def list_members(session: Session, *, include_removed: bool = False) -> list[MemberView]:
    """Members by name."""
    query = select(Member).order_by(col(Member.name))
    if not include_removed:
        query = query.where(Member.active == True)  # noqa: E712
    return [_view(session, m) for m in session.exec(query).all()]
