"""Team mode on PostgreSQL: the person is the database login, and the server enforces blinding.

Two things live here, both below the access layer:

* ``login(session)``: the connection's ``session_user``, the member mapped to it (table
  ``member_login``) and whether any mapping exists. Once one does, the review is in *team mode*:
  ``access.require`` accepts only the member mapped to the login (``--as`` naming anyone else is
  refused), and the CLI's default person is that member.
* ``setup_statements``: the SQL an owner runs once (``reviewtool member db-setup``) to grant the
  mapped roles what reviewtool needs and to install row-level security (RLS) policies, so that a
  reviewer connected with their own login cannot read another reviewer's open work or write rows
  in someone else's name, even with ``psql``. The rules mirror ``access.Sight`` (docs/blinding.md):

  =====================  ==============================================  ===============================
  table                  a member's login may SELECT                     may INSERT / UPDATE / DELETE
  =====================  ==============================================  ===============================
  screening_decision     own votes; others' where the stage is not       own votes (an owner: any, for
                         hidden from them (``reviewtool_hidden``)        imports and regrouping); an
                                                                         adjudicator may update any
  screening_resolution   where the stage is not hidden from them         an adjudicator's own (an owner:
                                                                         any); update where visible
  rob_judgement          own; others' once risk of bias is not blind     own (an owner: any)
  extraction_value       own; others' once extraction is not blind       own (an owner: any)
  audit_event            every event ``access.visible_events`` would     INSERT only, as themselves
                         show them (others' open votes, resolutions,     (``actor`` = their member);
                         assessments, values, labels are hidden; so      never UPDATE or DELETE: the
                         are their own vote events that say a hidden     ledger is append-only for
                         resolution was reopened)                        members' logins
  record_label           own labels; others' while no screening stage    own (owners, adjudicators: any)
                         nor extraction is blind to them
  member, member_role,   everything                                      owners only
  member_login,
  review_setting
  =====================  ==============================================  ===============================

Owners and adjudicators (``reviewtool_privileged``) are never hidden from. The table owner and
superusers bypass RLS (PostgreSQL's rule): the owner who created the review with such a login sees
and may write everything, as the tool's own rules allow an owner anyway. Every other table is
granted to the members' logins without row rules; the tool's permission checks and ``audit
verify`` guard them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import text
from sqlmodel import Session

ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
"""The PostgreSQL role names team mode accepts: an unquoted identifier (lower case, digits, ``_``)."""

POLICY_TABLES: tuple[str, ...] = (
    "audit_event",
    "extraction_value",
    "member",
    "member_login",
    "member_role",
    "record_label",
    "review_setting",
    "rob_judgement",
    "screening_decision",
    "screening_resolution",
)
"""The tables that carry row-level security policies (sorted)."""

BLIND_SETTINGS: tuple[str, ...] = (
    "screening.blind",
    "screening.blind_tiab",
    "screening.blind_fulltext",
    "extraction.blind",
    "rob.blind",
)
"""The settings the ``reviewtool_hidden`` function reads (their defaults are built into it)."""


def on_postgres(session: Session) -> bool:
    """True when ``session`` is bound to a PostgreSQL database."""
    return session.get_bind().dialect.name == "postgresql"


@dataclass(frozen=True)
class Login:
    """Who is connected to a PostgreSQL review.

    :ivar role: ``session_user``, the login the server authenticated.
    :ivar member: the name of the active member mapped to it, or None.
    :ivar enforced: True once any member is mapped to a login (team mode).
    """

    role: str
    member: str | None
    enforced: bool


def login(session: Session) -> Login | None:
    """The login of ``session`` and its member (one query); None on SQLite."""
    if not on_postgres(session):
        return None
    row = session.execute(
        text(
            "SELECT session_user, "
            "(SELECT m.name FROM member_login l JOIN member m ON m.id = l.member_id "
            " WHERE l.db_role = session_user AND m.active), "
            "EXISTS (SELECT 1 FROM member_login)"
        )
    ).one()
    return Login(str(row[0]), row[1], bool(row[2]))


def check_role_name(role: str) -> str:
    """``role`` if it is a name team mode accepts (``ROLE_NAME``), else ValueError saying why."""
    if not ROLE_NAME.match(role):
        raise ValueError(
            f"PostgreSQL role {role!r} must be lower-case letters, digits and _ "
            "(starting with a letter or _, at most 63 characters)"
        )
    return role


def existing_roles(session: Session, roles: Iterable[str]) -> set[str]:
    """The roles of ``roles`` that exist on the server."""
    wanted = sorted(set(roles))
    if not wanted:
        return set()
    found = session.execute(
        text("SELECT rolname FROM pg_roles WHERE rolname = ANY(:names)"), {"names": wanted}
    ).all()
    return {str(r[0]) for r in found}


def _functions(schema: str, defaults: Mapping[str, bool]) -> list[str]:
    """The helper functions the policies call. SECURITY DEFINER: they read ``member_login``,
    ``member_role`` and ``review_setting`` as the table owner, so a policy never recurses."""
    head = (
        "LANGUAGE sql STABLE SECURITY DEFINER "
        f'SET search_path = "{schema}", pg_catalog, pg_temp AS $fn$'
    )
    # access.own_event: the login wrote the event, or an owner entered it for them
    not_own = (
        "($1 IS DISTINCT FROM reviewtool_my_name() "
        "AND ($3::jsonb ->> 'on_behalf_of') IS DISTINCT FROM reviewtool_my_name())"
    )

    def on(key: str) -> str:
        fallback = "true" if defaults[key] else "false"
        return (
            f"COALESCE((SELECT value = 'true' FROM review_setting WHERE key = '{key}'), {fallback})"
        )

    tiab = f"({on('screening.blind')} AND {on('screening.blind_tiab')})"
    fulltext = f"({on('screening.blind')} AND ({on('screening.blind_fulltext')} OR {on('screening.blind_tiab')}))"
    return [
        # The member id mapped to the login (NULL: none, or removed).
        "CREATE OR REPLACE FUNCTION reviewtool_me() RETURNS integer "
        f"{head} SELECT l.member_id FROM member_login l JOIN member m ON m.id = l.member_id "
        "WHERE l.db_role = session_user AND m.active $fn$",
        "CREATE OR REPLACE FUNCTION reviewtool_my_name() RETURNS text "
        f"{head} SELECT m.name FROM member_login l JOIN member m ON m.id = l.member_id "
        "WHERE l.db_role = session_user AND m.active $fn$",
        # True when the login's member holds ``role``.
        "CREATE OR REPLACE FUNCTION reviewtool_holds(role text) RETURNS boolean "
        f"{head} SELECT EXISTS (SELECT 1 FROM member_login l JOIN member m ON m.id = l.member_id "
        "JOIN member_role r ON r.member_id = m.id "
        "WHERE l.db_role = session_user AND m.active AND r.role = $1) $fn$",
        "CREATE OR REPLACE FUNCTION reviewtool_privileged() RETURNS boolean "
        f"{head} SELECT reviewtool_holds('owner') OR reviewtool_holds('adjudicator') $fn$",
        # access.Sight: another's work at ``stage`` is hidden from this login. Full text is hidden
        # while title/abstract is blind too (full text is closed to them then: FULLTEXT_CLOSED).
        "CREATE OR REPLACE FUNCTION reviewtool_hidden(stage text) RETURNS boolean "
        f"{head} SELECT NOT reviewtool_privileged() AND CASE $1 "
        f"WHEN 'tiab' THEN {tiab} "
        f"WHEN 'fulltext' THEN {fulltext} "
        f"WHEN 'extraction' THEN {on('extraction.blind')} "
        "AND EXISTS (SELECT 1 FROM extraction_form) "
        f"WHEN 'rob' THEN {on('rob.blind')} "
        "ELSE false END $fn$",
        # screening.labels: another's labels are private while any screening stage or extraction
        # is blind to this login (access.sees_entity, record_label).
        "CREATE OR REPLACE FUNCTION reviewtool_labels_hidden() RETURNS boolean "
        f"{head} SELECT reviewtool_hidden('tiab') OR reviewtool_hidden('fulltext') "
        "OR reviewtool_hidden('extraction') $fn$",
        # access.visible_events, row by row: the ledger events this login may not read.
        "CREATE OR REPLACE FUNCTION reviewtool_event_hidden(actor text, action text, payload text) "
        f"RETURNS boolean {head} SELECT CASE $2 "
        # Work an owner entered for a member (``on_behalf_of``) is that member's own too.
        "WHEN 'screening-decision' THEN reviewtool_hidden($3::jsonb ->> 'stage') "
        f"AND ({not_own} "
        "OR ($3::jsonb -> 'state') ? 'screening_resolution') "
        "WHEN 'screening-resolution' THEN reviewtool_hidden($3::jsonb ->> 'stage') "
        f"WHEN 'rob-assessed' THEN {not_own} "
        "AND reviewtool_hidden('rob') "
        f"WHEN 'extraction-values' THEN {not_own} "
        "AND reviewtool_hidden('extraction') "
        "WHEN 'labels-changed' THEN $1 IS DISTINCT FROM reviewtool_my_name() "
        "AND reviewtool_labels_hidden() "
        "WHEN 'fulltext-report' THEN reviewtool_hidden('tiab') "
        "ELSE false END $fn$",
    ]


def _policies() -> list[str]:
    """The RLS policies (see the module's table). Permissive policies of one command are OR-ed."""
    own_vote = "member_id = reviewtool_me()"
    owner = "reviewtool_holds('owner')"
    rules: dict[str, list[tuple[str, str, str | None, str | None]]] = {
        # table: [(policy, command, USING, WITH CHECK)]
        "screening_decision": [
            ("read", "SELECT", f"{own_vote} OR NOT reviewtool_hidden(stage)", None),
            ("add", "INSERT", None, f"{own_vote} OR {owner}"),
            (
                "change",
                "UPDATE",
                f"{own_vote} OR reviewtool_privileged()",
                f"{own_vote} OR reviewtool_privileged()",
            ),
            ("drop", "DELETE", f"{own_vote} OR {owner}", None),
        ],
        "screening_resolution": [
            ("read", "SELECT", "NOT reviewtool_hidden(stage)", None),
            (
                "add",
                "INSERT",
                None,
                f"({own_vote} AND reviewtool_holds('adjudicator')) OR {owner}",
            ),
            ("change", "UPDATE", "NOT reviewtool_hidden(stage)", "NOT reviewtool_hidden(stage)"),
            ("drop", "DELETE", "reviewtool_privileged()", None),
        ],
        "rob_judgement": [
            (
                "read",
                "SELECT",
                "assessor_id = reviewtool_me() OR NOT reviewtool_hidden('rob')",
                None,
            ),
            (
                "write",
                "ALL",
                f"assessor_id = reviewtool_me() OR {owner}",
                f"assessor_id = reviewtool_me() OR {owner}",
            ),
        ],
        "extraction_value": [
            ("read", "SELECT", f"{own_vote} OR NOT reviewtool_hidden('extraction')", None),
            ("write", "ALL", f"{own_vote} OR {owner}", f"{own_vote} OR {owner}"),
        ],
        "record_label": [
            ("read", "SELECT", f"{own_vote} OR NOT reviewtool_labels_hidden()", None),
            (
                "write",
                "ALL",
                f"{own_vote} OR reviewtool_privileged()",
                f"{own_vote} OR reviewtool_privileged()",
            ),
        ],
        "audit_event": [
            ("read", "SELECT", "NOT reviewtool_event_hidden(actor, action, payload)", None),
            ("add", "INSERT", None, "actor = reviewtool_my_name()"),
        ],
    }
    for table in ("member", "member_role", "member_login", "review_setting"):
        rules[table] = [("read", "SELECT", "true", None), ("write", "ALL", owner, owner)]
    statements: list[str] = []
    for table in POLICY_TABLES:
        statements.append(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        for name, command, using, check in rules[table]:
            statements.append(f"DROP POLICY IF EXISTS reviewtool_{name} ON {table}")
            clause = f"CREATE POLICY reviewtool_{name} ON {table} FOR {command}"
            if using is not None:
                clause += f" USING ({using})"
            if check is not None:
                clause += f" WITH CHECK ({check})"
            statements.append(clause)
    return statements


def setup_statements(
    schema: str, roles: Iterable[str], defaults: Mapping[str, bool], *, create: Iterable[str] = ()
) -> list[str]:
    """The SQL that puts a review's database into team mode, in order; run by the table owner.

    ``schema``: the schema holding the review's tables (``current_schema()``); ``roles``: the
    members' PostgreSQL roles to grant; ``create``: those of them to create first (LOGIN, no
    password: set one with ``ALTER ROLE ... PASSWORD`` or let ``pg_hba.conf`` decide);
    ``defaults``: the defaults of ``BLIND_SETTINGS`` (``domain.SETTINGS``). Every statement may be
    run again: the functions are replaced, the policies dropped and made again.
    """
    statements = [f'CREATE ROLE "{check_role_name(r)}" LOGIN' for r in sorted(set(create))]
    statements += _functions(schema, defaults)
    statements += _policies()
    for role in sorted(set(roles)):
        quoted = f'"{check_role_name(role)}"'
        statements += [
            f'GRANT USAGE ON SCHEMA "{schema}" TO {quoted}',
            f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "{schema}" TO {quoted}',
            f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA "{schema}" TO {quoted}',
            # The ledger is append-only for members' logins; the schema is the owner's.
            f"REVOKE UPDATE, DELETE ON audit_event FROM {quoted}",
            f"REVOKE INSERT, UPDATE, DELETE ON alembic_version FROM {quoted}",
            f'GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA "{schema}" TO {quoted}',
        ]
    return statements
