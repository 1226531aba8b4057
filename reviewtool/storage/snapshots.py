"""Current state of each audited entity, in the form the ledger stores it.

Services put these snapshots in their events' ``after``; ``audit verify`` replays the ledger and
compares the result with what these functions read now, so an edit made behind the tool's back (a
role changed with an SQL client, a setting deleted) is caught. A stage that adds audited tables adds
its snapshot function to ``ENTITY_STATE``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sqlmodel import Session, select

from reviewtool.storage.models import Member, MemberRole, ReviewInfo, ReviewSetting


def review_snapshot(review: ReviewInfo) -> dict[str, Any]:
    """What the ledger records of the review row."""
    return {"title": review.title, "question": review.question}


def member_snapshot(session: Session, member: Member) -> dict[str, Any]:
    """What the ledger records of a member: name, active flag and sorted roles."""
    roles = session.exec(select(MemberRole.role).where(MemberRole.member_id == member.id)).all()
    return {"name": member.name, "active": bool(member.active), "roles": sorted(roles)}


def _reviews(session: Session) -> dict[str, Any]:
    return {str(r.id): review_snapshot(r) for r in session.exec(select(ReviewInfo)).all()}


def _settings(session: Session) -> dict[str, Any]:
    return {s.key: json.loads(s.value) for s in session.exec(select(ReviewSetting)).all()}


def _members(session: Session) -> dict[str, Any]:
    roles: dict[int, list[str]] = {}
    for member_id, role in session.exec(select(MemberRole.member_id, MemberRole.role)).all():
        roles.setdefault(member_id, []).append(role)
    return {
        str(m.id): {
            "name": m.name,
            "active": bool(m.active),
            "roles": sorted(roles.get(m.id or 0, [])),
        }
        for m in session.exec(select(Member)).all()
    }


# entity_type (as in audit events) -> reader of {entity_id: snapshot} for every live entity.
ENTITY_STATE: dict[str, Callable[[Session], dict[str, Any]]] = {
    "review": _reviews,
    "review_setting": _settings,
    "member": _members,
}
