"""What ``audit verify`` checks of the members and their roles (see ``storage.snapshots``)."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from typing import Any

from sqlmodel import Session, select

from reviewtool.storage.models import Member, MemberLogin, MemberRole
from reviewtool.storage.snapshots import declare_unchecked, only, register_state


def _members(session: Session, ids: Collection[str] | None) -> Iterator[tuple[str, Any]]:
    roles: dict[int, list[str]] = {}
    for member_id, role in session.exec(select(MemberRole.member_id, MemberRole.role)).all():
        roles.setdefault(member_id, []).append(role)
    rows = session.exec(select(Member.id, Member.name, Member.active)).all()
    yield from only(
        ids,
        (
            (
                str(mid),
                {"name": name, "active": bool(active), "roles": sorted(roles.get(mid or 0, []))},
            )
            for mid, name, active in rows
        ),
    )


register_state(
    "member",
    _members,
    covers={"member": ("id", "name", "active"), "member_role": ("member_id", "role")},
)
declare_unchecked(
    "member", {"added_at": "a copy for listings; the member-added event's time is the audited one"}
)
declare_unchecked(
    "member_role", {"id": "a surrogate key: a role is the (member_id, role) pair, checked"}
)


def _logins(session: Session, ids: Collection[str] | None) -> Iterator[tuple[str, Any]]:
    rows = session.exec(
        select(MemberLogin.member_id, Member.name, MemberLogin.db_role).join(
            Member,
            Member.id == MemberLogin.member_id,  # type: ignore[arg-type]
        )
    ).all()
    yield from only(
        ids, ((str(mid), {"member": name, "db_role": role}) for mid, name, role in rows)
    )


register_state("member_login", _logins, covers={"member_login": ("member_id", "db_role")})
