"""Who is acting, and may they? Refusals are themselves recorded in the ledger.

A refusal must outlive the transaction that is about to be rolled back, so ``require`` writes the
``access-refused`` event and commits it at once. That is only safe before the caller has written
anything, so callers check access first, and ``require`` refuses to commit pending writes.
"""

from __future__ import annotations

from dataclasses import replace

from sqlmodel import Session, col, select

from reviewtool import audit
from reviewtool.audit import EventView
from reviewtool.audit.events import AccessRefused
from reviewtool.domain import PERMISSIONS, Action, Role
from reviewtool.errors import PermissionDenied, UnknownMember
from reviewtool.storage.models import Member, MemberRole


def roles_of(session: Session, member: Member) -> set[Role]:
    """The roles a member holds now."""
    rows = session.exec(select(MemberRole.role).where(MemberRole.member_id == member.id)).all()
    return {Role(r) for r in rows}


def _refuse(session: Session, person: str, action: Action, reason: str) -> None:
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("access must be checked before anything is written")
    audit.record(
        session, person, AccessRefused(person=person, attempted=action.value, reason=reason)
    )
    session.commit()


def require(session: Session, person: str, action: Action, *, doing: str | None = None) -> Member:
    """The active member called ``person`` if their roles allow ``action``; else refuse (and record).

    ``doing`` names what the person tried, in their words ("list conflicts"), when that is not
    the action itself; the refusal says it (PermissionDenied, UnknownMember).
    """
    # One query for the member and their roles: this runs on every key press of the screening screen.
    rows = session.exec(
        select(Member, MemberRole.role)
        .outerjoin(MemberRole, col(MemberRole.member_id) == col(Member.id))
        .where(Member.name == person)
    ).all()
    member = rows[0][0] if rows else None
    if member is None or not member.active:
        state = (
            "is not a member of this review" if member is None else "was removed from this review"
        )
        reason = f"{person!r} {state}"
        _refuse(session, person, action, reason)
        raise UnknownMember(
            f"{reason}; an owner can add them with `reviewtool member add {person}`"
        )
    allowed = PERMISSIONS[action]
    held = {Role(role) for _, role in rows if role is not None}
    if not held & allowed:
        needed = " or ".join(sorted(r.value for r in allowed))
        reason = f"{person!r} ({', '.join(sorted(r.value for r in held)) or 'no role'}) may not {doing or action.value}"
        _refuse(session, person, action, reason)
        raise PermissionDenied(f"{reason}: that needs the role {needed}")
    return member


REDACTED = "hidden while screening is blind: shown once the reference is decided"
LABELS_HIDDEN = "labels are private to their author while screening is blind"


def visible_events(session: Session, viewer: Member, events: list[EventView]) -> list[EventView]:
    """The events ``viewer`` may read: in a blind review, other reviewers' votes on references
    that are not decided yet are redacted (an adjudicator who does not screen sees everything)."""
    from reviewtool.storage.queries import setting, stage_outcomes

    roles = roles_of(session, viewer)
    if not setting(session, "screening.blind") or roles == {Role.ADJUDICATOR}:
        return events
    outcomes: dict[str, dict[int, object]] = {}
    shown: list[EventView] = []
    for event in events:
        # Labels are private to their author while screening is blind (see screening.labels).
        if (
            event.action == "labels-changed"
            and event.actor != viewer.name
            and Role.OWNER not in roles
        ):
            record_id = event.payload.get("record_id")
            shown.append(
                replace(event, payload={"record_id": record_id, "redacted": LABELS_HIDDEN})
            )
            continue
        if event.action != "screening-decision" or event.actor == viewer.name:
            shown.append(event)
            continue
        stage = str(event.payload.get("stage"))
        if stage not in outcomes:
            outcomes[stage] = stage_outcomes(session, stage)  # type: ignore[assignment]
        outcome = outcomes[stage].get(int(event.payload.get("record_id", 0)))
        if outcome is not None and outcome.final:  # type: ignore[attr-defined]
            shown.append(event)
            continue
        payload = {
            "record_id": event.payload.get("record_id"),
            "stage": stage,
            "redacted": REDACTED,
        }
        shown.append(replace(event, payload=payload))
    return shown
