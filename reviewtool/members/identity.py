"""Team mode on PostgreSQL: members mapped to database logins, and the server set up for them.

``map_login`` maps a member to a PostgreSQL role (``member add --db-role``, ``member map``); the
first mapping switches the review into team mode (``storage.postgres_roles.login``: the person is
then the login, whatever ``--as`` says), so the owner making it is mapped first, to the login they
are connected with, and is never locked out. ``set_up_server`` (``member db-setup``) creates the
mapped roles that are missing, grants them what reviewtool needs and installs the row-level
security policies of ``storage.postgres_roles``. Both are owners' actions and audited.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, col, select

from reviewtool import audit
from reviewtool.access import require
from reviewtool.audit.events import DatabaseRolesGranted, MemberLoginMapped
from reviewtool.domain import SETTINGS, Action
from reviewtool.errors import AlreadyExists, InvalidInput, NotFound, PermissionDenied
from reviewtool.storage import postgres_roles
from reviewtool.storage.models import Member, MemberLogin
from reviewtool.storage.postgres_revisit import revisit_statements

SQLITE_BOUNDARY = (
    "database logins are for a review on PostgreSQL; on SQLite the file's permissions are the "
    "boundary and the person is the OS login unless --as is given (docs/identity.md)"
)


def _checked_role(db_role: str) -> str:
    try:
        return postgres_roles.check_role_name(db_role.strip())
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None


def _snapshot(member: Member, db_role: str) -> dict[str, str]:
    return {"member": member.name, "db_role": db_role}


def put_login(session: Session, actor: str, member: Member, db_role: str) -> None:
    """Write (and audit) ``member``'s mapping to ``db_role``, nothing else: no permission or
    dialect check (``map_login`` makes them; tests build a team review's rows on SQLite with it).
    AlreadyExists when ``db_role`` is another member's."""
    assert member.id is not None
    taken = session.exec(select(MemberLogin).where(MemberLogin.db_role == db_role)).first()
    if taken is not None and taken.member_id != member.id:
        other = session.get(Member, taken.member_id)
        raise AlreadyExists(
            f"database login {db_role!r} is mapped to {other.name if other else '?'!r} already"
        )
    row = session.get(MemberLogin, member.id)
    before = _snapshot(member, row.db_role) if row is not None else None
    if row is not None and row.db_role == db_role:
        return
    if row is None:
        row = MemberLogin(member_id=member.id, db_role=db_role)
    else:
        row.db_role = db_role
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        MemberLoginMapped(member_id=member.id, before=before, after=_snapshot(member, db_role)),
    )


def map_login(session: Session, *, actor: str, name: str, db_role: str) -> list[tuple[str, str]]:
    """Map member ``name`` to the PostgreSQL role ``db_role``; the mappings made, [(member, role)].

    The first mapping of a review also maps ``actor`` (the owner making it) to the login they are
    connected with, first, so that they are still themselves once team mode is on. Raises
    InvalidInput (SQLite, a role name PostgreSQL would need quoted, the owner's own login given to
    someone else), NotFound (no such member), AlreadyExists (the role is another member's),
    PermissionDenied (not an owner).
    """
    owner = require(session, actor, Action.MANAGE_MEMBERS, doing="map members to database logins")
    who = postgres_roles.login(session)
    if who is None:
        raise InvalidInput(SQLITE_BOUNDARY)
    role = _checked_role(db_role)
    member = session.exec(select(Member).where(Member.name == name)).first()
    if member is None or not member.active:
        raise NotFound(f"no member called {name!r}; see `reviewtool member list`")
    made: list[tuple[str, str]] = []
    if not who.enforced and member.id != owner.id:
        if role == who.role:
            raise InvalidInput(
                f"{role!r} is the login you are connected with; map yourself to it first "
                f"(`reviewtool member map {owner.name} --db-role {role}`)"
            )
        put_login(session, actor, owner, _checked_role(who.role))
        made.append((owner.name, who.role))
    put_login(session, actor, member, role)
    made.append((member.name, role))
    return made


def logins(session: Session) -> dict[str, str]:
    """Member name -> the PostgreSQL role mapped to them (empty on a review not in team mode)."""
    rows = session.exec(
        select(Member.name, MemberLogin.db_role).join(
            MemberLogin, col(MemberLogin.member_id) == col(Member.id)
        )
    ).all()
    return dict(rows)


@dataclass(frozen=True)
class ServerSetUp:
    """What ``set_up_server`` did: the roles granted and created, the tables given policies."""

    roles: list[str]
    created: list[str]
    policies: list[str]


def set_up_server(session: Session, *, actor: str, create_roles: bool = True) -> ServerSetUp:
    """Grant the mapped members' PostgreSQL roles what reviewtool needs and install the row-level
    security policies (``storage.postgres_roles``); audited. Run it again after mapping new
    members or upgrading the schema (grants name the tables that exist when it runs).

    ``create_roles``: create the mapped roles that do not exist (LOGIN, no password; needs the
    CREATEROLE privilege); without it a missing role is refused, naming it. Must run with the
    login that owns the review's tables (the one that ran ``reviewtool init``): PostgreSQL lets
    only the owner enable row-level security. Raises InvalidInput (SQLite, no mapping, missing
    roles), PermissionDenied (not an owner, or the server refused a statement).
    """
    require(session, actor, Action.MANAGE_MEMBERS, doing="set up the database roles")
    if postgres_roles.login(session) is None:
        raise InvalidInput(SQLITE_BOUNDARY)
    roles = sorted(set(logins(session).values()))
    if not roles:
        raise InvalidInput(
            "no member is mapped to a database login yet: "
            "`reviewtool member add NAME --role ROLE --db-role LOGIN` (or `member map`) first"
        )
    missing = sorted(set(roles) - postgres_roles.existing_roles(session, roles))
    if missing and not create_roles:
        raise InvalidInput(
            f"PostgreSQL role(s) {', '.join(missing)} do not exist; create them "
            "(CREATE ROLE name LOGIN PASSWORD '...') or leave out --no-create-roles"
        )
    schema = str(session.execute(text("SELECT current_schema()")).scalar_one())
    defaults = {key: bool(SETTINGS[key].default) for key in postgres_roles.BLIND_SETTINGS}
    statements = postgres_roles.setup_statements(schema, roles, defaults, create=missing)
    # A changed vote revisits a resolution the voter's login cannot read (storage.postgres_revisit).
    statements += revisit_statements(
        schema,
        required=int(SETTINGS["screening.reviewers_required"].default),  # type: ignore[call-overload]
        reasons={
            stage: list(SETTINGS[f"screening.exclusion_reasons_{stage}"].default)  # type: ignore[call-overload]
            for stage in ("tiab", "fulltext")
        },
        roles=roles,
    )
    for statement in statements:
        try:
            with session.begin_nested():
                session.execute(text(statement))
        except DBAPIError as exc:
            cause = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise PermissionDenied(
                f"the server refused to set up team mode ({cause}); run `member db-setup` with "
                "the login that owns the review's tables and may create roles"
            ) from None
    done = ServerSetUp(roles, missing, list(postgres_roles.POLICY_TABLES))
    audit.record(
        session,
        actor,
        DatabaseRolesGranted(roles=roles, created=missing, policies=done.policies),
    )
    return done
