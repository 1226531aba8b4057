"""Who is acting, and may they? Refusals are themselves recorded in the ledger.

A refusal must outlive the transaction that is about to be rolled back, so ``require`` writes the
``access-refused`` event and commits it at once. That is only safe before the caller has written
anything, so callers check access first, and ``require`` refuses to commit pending writes.

What a person may *see* of the screening is decided here too, in one place: ``sight`` gives the
stages blind to them (docs/blinding.md), and every read a reviewer can make asks it.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, replace

from sqlmodel import Session, col, select

from reviewtool import audit
from reviewtool.audit import EventView
from reviewtool.audit.events import AccessRefused
from reviewtool.domain import PERMISSIONS, Action, Role
from reviewtool.errors import InvalidInput, PermissionDenied, StageOrderError, UnknownMember
from reviewtool.storage.models import ExtractionForm, Member, MemberRole


def roles_of(session: Session, member: Member) -> set[Role]:
    """The roles a member holds now."""
    rows = session.exec(select(MemberRole.role).where(MemberRole.member_id == member.id)).all()
    return {Role(r) for r in rows}


ACTION_WORDS: dict[Action, str] = {
    Action.CHANGE_SETTINGS: "change settings",
    Action.MANAGE_MEMBERS: "manage members",
    Action.IMPORT_RECORDS: "import records",
    Action.DEDUPLICATE: "deduplicate records",
    Action.SCREEN: "screen references",
    Action.RESOLVE_CONFLICT: "resolve conflicts",
    Action.EXTRACT: "extract data",
    Action.ASSESS_RISK_OF_BIAS: "assess risk of bias",
    Action.ANALYSE: "run analyses",
    Action.READ: "read this review",
}
"""What each action is called in a refusal when the caller does not say what was tried."""


def _refuse(session: Session, person: str, doing: str, reason: str) -> None:
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("access must be checked before anything is written")
    audit.record(session, person, AccessRefused(person=person, attempted=doing, reason=reason))
    session.commit()


def require(
    session: Session,
    person: str,
    action: Action,
    *,
    doing: str | None = None,
    entered_by: str | None = None,
) -> Member:
    """The active member called ``person`` if their roles allow ``action``; else refuse (and record).

    ``doing`` names what the person tried, in their words ("list conflicts"); without it the
    action's words (``ACTION_WORDS``, never its internal name). The refusal says it
    (PermissionDenied, UnknownMember), and the ledger's ``access-refused`` event records it as
    ``attempted``.

    ``entered_by``: the owner entering ``person``'s work for them (``entering_for``). The command
    was then run by ``entered_by``, so a refusal is recorded as theirs (the event's actor and
    ``person``), with ``attempted`` naming the member it was for ("extract data on behalf of
    bob"): a name that is no member's never becomes an actor in the ledger.
    """
    doing = doing or ACTION_WORDS[action]
    runner = entered_by or person
    attempted = f"{doing} on behalf of {person}" if entered_by else doing
    check_login(session, runner, action, attempted)
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
        _refuse(session, runner, attempted, reason)
        raise UnknownMember(
            f"{reason}; an owner can add them with "
            f"`reviewtool member add {shlex.quote(person)} --role reviewer`"
        )
    allowed = PERMISSIONS[action]
    held = {Role(role) for _, role in rows if role is not None}
    if not held & allowed:
        needed = " or ".join(sorted(r.value for r in allowed))
        reason = (
            f"{person!r} ({', '.join(sorted(r.value for r in held)) or 'no role'}) may not {doing}"
        )
        _refuse(session, runner, attempted, reason)
        raise PermissionDenied(f"{reason}: that needs the role {needed}")
    return member


def check_login(session: Session, person: str, action: Action, doing: str) -> None:
    """Team mode on PostgreSQL (docs/identity.md): the person is the database login.

    Nothing happens on SQLite, or while no member of the review is mapped to a login. Once one is,
    ``person`` must be the member mapped to ``session_user``: an unmapped login is refused
    (UnknownMember; not recorded, the ledger takes events only from members' logins), and a
    ``--as`` naming someone else is refused (PermissionDenied) and recorded as refused for the
    login's member. Deduplication moves every reviewer's votes, which the server hides from a
    reviewer's login, so in team mode it needs an owner or adjudicator's login.
    """
    from reviewtool.storage.postgres_roles import login

    who = login(session)
    if who is None or not who.enforced:
        return
    if who.member is None:
        raise UnknownMember(
            f"your database login {who.role!r} is not mapped to a member of this review; "
            f"an owner maps it with `reviewtool member map NAME --db-role {who.role}`"
        )
    if person != who.member:
        reason = (
            f"you are connected as database login {who.role!r}, member {who.member!r}: "
            f"acting as {person!r} is refused (on this PostgreSQL review the person is the login)"
        )
        if session.new or session.dirty or session.deleted:
            raise RuntimeError("access must be checked before anything is written")
        audit.record(
            session,
            who.member,
            AccessRefused(person=person, attempted=doing, reason=reason),
        )
        session.commit()
        raise PermissionDenied(reason)
    if action is Action.DEDUPLICATE and not {Role.OWNER, Role.ADJUDICATOR} & roles_of(
        session, _member_named(session, person)
    ):
        reason = (
            f"{person!r} may not {doing} on this PostgreSQL review: deduplication moves every "
            "reviewer's votes, which the server hides from a reviewer's login"
        )
        _refuse(session, person, doing, reason)
        raise PermissionDenied(f"{reason}; an owner deduplicates")


def check_whole_ledger(session: Session, person: str) -> None:
    """Before ``audit verify``: in team mode on PostgreSQL the server hides from a reviewer's login
    the ledger rows of others' open work (docs/identity.md), so the chain they can read has gaps
    that are not damage. Such a login is told so in one line (PermissionDenied) rather than that
    the ledger is broken; an owner's or adjudicator's login reads, and verifies, every event."""
    from sqlalchemy import text

    from reviewtool.storage.postgres_roles import login

    who = login(session)
    if who is None or not who.enforced or who.member is None:
        return
    if {Role.OWNER, Role.ADJUDICATOR} & roles_of(session, _member_named(session, who.member)):
        return
    shown, head = session.execute(
        text("SELECT (SELECT count(*) FROM audit_event), (SELECT max(seq) FROM audit_head)")
    ).one()
    if head is not None and shown != head:
        raise PermissionDenied(
            f"the server hides others' open work in the ledger from your login {who.role!r}, so "
            "you cannot verify the whole chain; an owner or adjudicator runs `audit verify`"
        )


def _member_named(session: Session, name: str) -> Member:
    member = session.exec(select(Member).where(Member.name == name)).first()
    assert member is not None  # the login's member, read just before
    return member


SCREENING_STAGE_NAMES = ("tiab", "fulltext")
"""The screening stages blinding applies to (``domain.SCREENING_STAGES`` by value)."""
EXTRACTION = "extraction"
"""Extraction is blind like a screening stage (``Sight.blind`` holds it while it is blind)."""

FULLTEXT_CLOSED = (
    "full-text screening opens to reviewers once an owner ends blinding at title/abstract "
    "(`reviewtool screen unblind --stage tiab`): until then which references reached full text "
    "would show how the other reviewers voted"
)
"""The one refusal a blind reviewer gets for anything at full text while title/abstract is blind."""


def stage_blind(session: Session, stage: str) -> bool:
    """True while ``stage`` is blind: the review is blind (``screening.blind``) and no owner has
    ended blinding there (``screening.blind_<stage>``, set by ``screen unblind``).

    Extraction (``EXTRACTION``) is blind once a form exists while ``extraction.blind`` holds (an
    owner ends it with ``extract unblind``): each extractor sees their own values and the
    consensus values, never another's values."""
    from reviewtool.storage.queries import setting

    if stage == EXTRACTION:
        return bool(setting(session, "extraction.blind")) and (
            session.exec(select(ExtractionForm.version).limit(1)).first() is not None
        )
    return bool(setting(session, "screening.blind")) and bool(
        setting(session, f"screening.blind_{stage}")
    )


@dataclass(frozen=True)
class Sight:
    """What one person may see of the screening: the blinding rule in one place.

    While a stage is blind, a member who is neither owner nor adjudicator sees only their own votes
    and progress there: no other reviewer's vote, no outcome (agreed, conflict, resolved), no
    agreement statistic, no count that depends on another's vote. Full text's references are the
    ones included at title/abstract, so full text is closed to them while title/abstract is blind.
    A name that is not an active member sees what a blind reviewer with no votes sees.

    :ivar name: the person's name as given (``--as``).
    :ivar member: the active member of that name, or None.
    :ivar roles: the roles they hold now.
    :ivar blind: the screening stages that are blind *to this person*.
    """

    name: str
    member: Member | None
    roles: frozenset[Role]
    blind: frozenset[str]

    @property
    def privileged(self) -> bool:
        """Owners and adjudicators see votes, outcomes and statistics at every stage."""
        return bool(self.roles & {Role.OWNER, Role.ADJUDICATOR})

    def sees_others(self, stage: str) -> bool:
        """True when this person may see other reviewers' votes and the outcomes at ``stage``."""
        return stage not in self.blind

    def stage_open(self, stage: str) -> bool:
        """True when this person may see which references are at ``stage`` (full text: only once
        title/abstract outcomes are visible to them)."""
        return stage != "fulltext" or self.sees_others("tiab")

    def check_stage_open(self, stage: str) -> None:
        """Raise StageOrderError (one fixed line) when ``stage`` is closed to this person."""
        if not self.stage_open(stage):
            raise StageOrderError(FULLTEXT_CLOSED)


def sight(session: Session, person: str) -> Sight:
    """The blinding rule for ``person`` now (no refusal is recorded: reading is not refused here)."""
    rows = session.exec(
        select(Member, MemberRole.role)
        .outerjoin(MemberRole, col(MemberRole.member_id) == col(Member.id))
        .where(Member.name == person)
    ).all()
    member = rows[0][0] if rows and rows[0][0].active else None
    roles = frozenset(Role(role) for _, role in rows if role is not None) if member else frozenset()
    seen = Sight(person, member, roles, frozenset())
    if seen.privileged:
        return seen
    blind = {s for s in (*SCREENING_STAGE_NAMES, EXTRACTION) if stage_blind(session, s)}
    if "fulltext" not in blind and rob_blind(session):
        # Risk of bias follows full text: blind to reviewers until an owner runs `rob unblind`.
        blind.add(ROB_STAGE)
    return replace(seen, blind=frozenset(blind))


ROB_STAGE = "rob"
"""The risk-of-bias stage in ``Sight.blind``: another assessor's judgements are their open work."""


def rob_blind(session: Session) -> bool:
    """True while risk of bias is blind (``rob.blind``; ended by ``reviewtool rob unblind``)."""
    from reviewtool.storage.queries import setting

    return bool(setting(session, "rob.blind"))


SEPARATE_DUTIES = "adjudication.separate_duties"
"""The setting that keeps an adjudicator from resolving a disagreement they took part in."""


def duties_separate(session: Session) -> bool:
    """True while separation of duties holds (``adjudication.separate_duties``, on by default):
    an adjudicator may not resolve a disagreement they took part in (docs/trust.md)."""
    from reviewtool.storage.queries import setting

    return bool(setting(session, SEPARATE_DUTIES))


def entering_for(
    session: Session, actor: str, on_behalf_of: str | None, *, doing: str
) -> tuple[str, str | None]:
    """Whose work an import is and who enters it: ``(actor, None)`` for one's own; with
    ``on_behalf_of`` another member's name, ``(that member, actor)`` once ``actor`` is an owner
    (``Action.MANAGE_MEMBERS``; PermissionDenied otherwise, recorded as ``access-refused``).

    The work is then the member's, checked and blinded as theirs; the caller records its events
    with the owner as actor and ``on_behalf_of`` naming the member, so the ledger holds both
    names (``audit log``: ``olga (for bob)``). ``screen import-decisions``, ``extract import``
    and ``rob import`` take ``--on-behalf-of`` through this.

    InvalidInput when ``on_behalf_of`` names ``actor``: it would say the work was entered for
    someone else while it is one's own (nothing is checked or written then).
    """
    if on_behalf_of is None:
        return actor, None
    if on_behalf_of == actor:
        raise InvalidInput(
            f"--on-behalf-of names yourself ({actor}): your own work is entered as yours; "
            "drop the option"
        )
    owner = require(
        session, actor, Action.MANAGE_MEMBERS, doing=f"{doing} on behalf of {on_behalf_of}"
    )
    return on_behalf_of, owner.name


def own_event(viewer: str, event: EventView) -> bool:
    """True when ``event`` records ``viewer``'s own work: they wrote it, or an owner entered it
    for them (its payload's ``on_behalf_of``)."""
    return viewer in (event.actor, event.payload.get("on_behalf_of"))


def own_work_refused(person: str, took_part: str, disagreement: str) -> PermissionDenied:
    """The one-line refusal when ``person`` would resolve a disagreement they took part in.

    ``took_part`` says what they did ("voted on reference 12 at tiab"), ``disagreement`` what
    they tried to resolve ("its conflict"). Returned, for the caller to raise.
    """
    return PermissionDenied(
        f"{person} {took_part}, so {person} may not resolve {disagreement} (separation of "
        f"duties); another adjudicator must, or an owner of a one-adjudicator team turns this "
        f"off with `reviewtool settings set {SEPARATE_DUTIES} false`"
    )


SCREENING_EVENTS = ("screening-decision", "screening-resolution", "screening-resolution-revisited")
"""The ledger's screening events, hidden by stage from those at a blind stage (``visible_events``)."""


def visible_events(session: Session, viewer: Member, events: list[EventView]) -> list[EventView]:
    """The events ``viewer`` may read (see ``Sight``): at a stage blind to them, other members'
    votes and every resolution are left out (not merely redacted: who voted on which record when
    is itself another's progress), their own vote events lose the ``state`` that would say a
    resolution was reopened, and while title/abstract is blind the full-text reports (which say
    what was included there) are left out too, as are other members' labels. The events shown
    then carry no ``seq``, ``hash`` or ``salt``: gaps in the numbering would count the hidden
    events, and a salt serves only to re-compute its event's hash."""
    seen = sight(session, viewer.name)
    if not seen.blind:
        return events
    shown: list[EventView] = []
    # The ledger's numbers and hashes count every member's events: left out too (None).
    events = [replace(e, seq=None, hash=None, salt=None) for e in events]
    for event in events:
        if event.action in SCREENING_EVENTS:
            # Each kind carries its stage in the payload (ScreeningDecided, ConflictResolved,
            # ResolutionRevisited: a resolution reopened by the server, hidden as resolutions are).
            stage = str(event.payload.get("stage"))
            if not seen.sees_others(stage):
                # A vote is the viewer's own when they cast it or an owner entered it for them.
                own = own_event(viewer.name, event)
                if event.action != "screening-decision" or not own:
                    continue
                payload = {k: v for k, v in event.payload.items() if k != "state"}
                shown.append(replace(event, payload=payload))
                continue
        elif event.action in ("screening-stopped", "screening-calibration") and not (
            seen.sees_others("tiab")
            or (event.action == "screening-calibration" and event.payload.get("change") == "start")
        ):
            # A stop's evidence is every reviewer's, a closed round's kappa their agreement
            # (issue 15); a round's start names only the pilot, which every reviewer screens.
            continue
        elif event.action == "rob-assessed" and not own_event(viewer.name, event):
            # Another assessor's judgements are their open work while risk of bias is blind.
            if not seen.sees_others(ROB_STAGE):
                continue
        elif (
            event.action == "extraction-values"
            and not own_event(viewer.name, event)
            and not seen.sees_others(EXTRACTION)
        ):
            continue  # another extractor's values, while extraction is blind to the viewer
        elif event.actor != viewer.name and (
            # Another's labels can say how they lean ("exclude?"): private while any screening
            # stage is blind to the viewer (screening.labels), left out like their votes.
            (event.action == "labels-changed" and bool(seen.blind - {ROB_STAGE}))
            or (event.action == "fulltext-report" and not seen.stage_open("fulltext"))
        ):
            continue
        shown.append(event)
    return shown


def sees_entity(seen: Sight, kind: str, entity_id: str) -> bool:
    """True when ``seen`` may read what the ledger or the tables say of one audited entity.

    At a stage blind to them, another reviewer's vote, every resolution, another member's labels
    and (while full text is closed to them) the full-text reports are not theirs to see; ids are
    the ledger's (``storage.snapshots.vote_key``: ``record:stage:member[:rREPORT]``; resolutions
    ``record:stage[:rREPORT]``; labels ``record:member``). Anything else is visible.
    """
    if not seen.blind:
        return True
    parts = entity_id.split(":")
    if kind == "screening_vote":
        return (
            len(parts) in (3, 4)  # a full-text vote's key ends with its report, ``:rN``
            and seen.stage_open(parts[1])
            and (seen.sees_others(parts[1]) or parts[2] == seen.name)
        )
    if kind == "screening_resolution":
        return len(parts) in (2, 3) and seen.sees_others(parts[1])
    if kind == "record_label":
        return not seen.blind - {ROB_STAGE} or (len(parts) == 2 and parts[1] == seen.name)
    if kind == "fulltext_report":
        return seen.stage_open("fulltext")
    if kind in ("screening_stop", "screening_calibration"):  # issue 15: see visible_events
        return seen.sees_others("tiab")
    if kind == "rob_judgement":  # tool|study|result|domain|group|assessor (rob/ledger.py)
        return seen.sees_others(ROB_STAGE) or entity_id.endswith(f"|{seen.name}")
    if kind == "extraction_value":  # ``study|member|arm|outcome|time point|field``
        values = entity_id.split("|")
        return seen.sees_others(EXTRACTION) or (len(values) > 1 and values[1] == seen.name)
    return True


def verify_problems(seen: Sight, report: audit.VerifyReport) -> list[str]:
    """The problems of a failed ``audit verify`` as ``seen`` may read them, one line each.

    Everyone else reads every problem in full. A viewer at a stage blind to them (docs/blinding.md)
    reads no event number (the ledger's numbering counts every member's events) and no value: a
    chain problem and a problem of an entity they may see (``sees_entity``) in its plain wording,
    and the problems of entities they may not see only counted, in one line.
    """
    if not seen.blind:
        return [p.text for p in report.details]
    lines: list[str] = []
    hidden = 0
    for problem in report.details:
        if problem.subject is not None and not sees_entity(seen, *problem.subject):
            hidden += 1
        elif problem.plain not in lines:
            lines.append(problem.plain)
    if hidden:
        lines.append(
            f"{hidden} problem{'s' if hidden != 1 else ''} in entities you may not see; "
            "an owner or adjudicator can see " + ("it" if hidden == 1 else "them")
        )
    return lines
