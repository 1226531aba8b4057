"""Team mode on PostgreSQL: a changed vote revisits a resolution the voter's login cannot read.

At a blind stage a reviewer's login reads no resolution (row-level security,
``storage.postgres_roles``), so ``screening.service`` running as that login cannot apply its rule
to a resolution standing on the reference (or report) whose vote changed. The server applies it:
``member db-setup`` installs, with the policies, the functions below (``revisit_statements``),
and the tool calls ``reviewtool_revisit_resolution(stage, unit, undo)`` in the vote's transaction
whenever it changed or took back a vote and found no resolution to revisit
(``revisit_hidden_resolution``). The function runs as the table owner (SECURITY DEFINER) and:

* finds the caller's change from the rows alone (the caller's newest vote on the unit and the
  one it superseded, at the same instant, written by the calling transaction itself: ``xmin``),
  never from its arguments, so calling it by hand does nothing a vote change would not do, and
  returns nothing (it tells the caller nothing);
* applies ``screening.votes._answer_changed_vote`` to the current resolution, if any, with
  ``domain.screening_outcome``'s rule over every current vote (reviewers required, maybe counts as
  include, excludes with different reasons conflict at full text, the reported reason the earliest
  in the stage's exclusion reasons): contested when the votes now agree with each other against
  it, else reopened, with the same words and the change's time; for an undo (``undo``) it first
  restores the resolution the undone vote had reopened or contested, as ``undo_last`` does;
* records it as a ``screening-resolution-revisited`` event (``audit.events.ResolutionRevisited``)
  in the caller's name, appended as ``audit.log.record`` appends (next number from ``audit_head``
  locked FOR UPDATE, ``hash = sha256(prev_hash + canonical JSON [seq, occurred_at, actor, action,
  entity_type, entity_id, payload, salt])``, the salt drawn by ``reviewtool_new_salt``;
  ``reviewtool_event_hash`` is that formula, and a test
  compares it with ``audit.log.event_hash``).

A restrictive policy hides those events from every login the stage is hidden from (as
resolutions are); ``access.visible_events`` hides them in the tool.

The same kind of rule lives in extraction: values that agree become consensus at once, which an
extractor's login cannot see while the others' values are hidden from it.
``reviewtool_extraction_agreement(study)`` (``agree_on_server``, called after an extractor's
values are written) records that consensus and its ``extraction-consensus`` event as
``extraction.service._write_chunk`` does where it can read them. Reopening a consensus needs no
function: the consensus tables have no row rules.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence

from sqlalchemy import text
from sqlmodel import Session

from reviewtool.errors import PermissionDenied
from reviewtool.storage.models import AuditHead
from reviewtool.storage.postgres_roles import check_role_name

REVISIT_FUNCTION = "reviewtool_revisit_resolution(text,integer,boolean)"
"""The signature ``revisit_hidden_resolution`` calls."""
AGREEMENT_FUNCTION = "reviewtool_extraction_agreement(integer)"
"""The signature ``agree_on_server`` calls."""

ACTION = "screening-resolution-revisited"


def _literal(value: object) -> str:
    """``value`` as JSON, quoted as an SQL literal of type jsonb."""
    return "'" + json.dumps(value).replace("'", "''") + "'::jsonb"


def revisit_statements(
    schema: str,
    *,
    required: int,
    reasons: Mapping[str, Sequence[str]],
    roles: Sequence[str] = (),
) -> list[str]:
    """The SQL of the revisit functions and of the policy hiding their events; run by the table
    owner (``member db-setup``), every statement may be run again.

    ``schema``: the review's schema; ``required``: the default of ``screening.reviewers_required``;
    ``reasons``: the default exclusion reasons by stage (``tiab``, ``fulltext``), used while the
    setting was never set (``domain.SETTINGS``); ``roles``: the members' logins, granted EXECUTE
    on the functions they call (whatever the database's default privileges say).
    """
    statements = _statements(schema, required, reasons)
    for role in sorted(set(roles)):
        statements += [
            f'GRANT EXECUTE ON FUNCTION {function} TO "{check_role_name(role)}"'
            for function in (REVISIT_FUNCTION, AGREEMENT_FUNCTION)
        ]
    return [_escaped(statement) for statement in statements]


def _escaped(statement: str) -> str:
    """``statement`` for ``sqlalchemy.text``: a colon before a name (``':r'``, ``HH24:MI``) is
    escaped, or it would be taken for a bound parameter (``::`` casts are left as they are)."""
    return re.sub(r"(?<![:\\]):(?=[A-Za-z_])", r"\\:", statement)


def _statements(schema: str, required: int, reasons: Mapping[str, Sequence[str]]) -> list[str]:
    path = f'SET search_path = "{schema}", pg_catalog, pg_temp'
    unit = (
        "CASE WHEN p_stage = 'fulltext' THEN {t}.report_id = p_unit "
        "ELSE {t}.reference_id = p_unit END"
    )
    on_d, on_r = unit.format(t="d"), unit.format(t="r")
    words = (
        "{v}.decision || CASE WHEN COALESCE({v}.reason, '') <> '' "
        "THEN ' (' || {v}.reason || ')' ELSE '' END"
    )
    setting = "(SELECT value::jsonb FROM review_setting WHERE key = {key})"
    # storage.snapshots.vote_key_of
    key = (
        "{v}.record_id || ':' || p_stage || ':' || me_name || "
        "CASE WHEN {v}.report_in_ledger THEN ':r' || {v}.report_id ELSE '' END"
    )
    return [
        # audit.log.event_hash: sha256 over prev_hash + canonical JSON of the event's fields
        # (to_json escapes text as json.encoder.encode_basestring does, ensure_ascii off).
        # (set up before the salt, schema 0019: the function without it goes)
        "DROP FUNCTION IF EXISTS reviewtool_event_hash(text, bigint, text, text, text, text, "
        "text, text)",
        "CREATE OR REPLACE FUNCTION reviewtool_event_hash(prev text, seq bigint, occurred_at text, "
        "actor text, action text, entity_type text, entity_id text, payload text, salt text) "
        f"RETURNS text LANGUAGE sql IMMUTABLE {path} AS $fn$ SELECT encode(sha256(convert_to($1 || "
        "'[' || $2::text || ',' || to_json($3)::text || ',' || to_json($4)::text || ',' || "
        "to_json($5)::text || ',' || to_json($6)::text || ',' || to_json($7)::text || ',' || "
        "to_json($8)::text || CASE WHEN $9 IS NULL THEN '' ELSE ',' || to_json($9)::text END "
        "|| ']', 'UTF8')), 'hex') $fn$",
        # audit.log.new_salt: 128 random bits as 32 hex digits, from the server's strong random
        # source (gen_random_uuid: pg_strong_random; two of them, 244 random bits, hashed).
        "CREATE OR REPLACE FUNCTION reviewtool_new_salt() RETURNS text "
        f"LANGUAGE sql VOLATILE {path} AS $fn$ SELECT left(encode(sha256(convert_to("
        "gen_random_uuid()::text || gen_random_uuid()::text, 'UTF8')), 'hex'), 32) $fn$",
        # audit.log.record: the next number under the head's row lock, chained, head moved.
        # SECURITY INVOKER: called by a login, the audit_event policy still wants its own name.
        "CREATE OR REPLACE FUNCTION reviewtool_append_event(p_actor text, p_action text, "
        "p_entity_type text, p_entity_id text, p_payload text) RETURNS bigint "
        f"LANGUAGE plpgsql VOLATILE {path} AS $fn$ "
        "DECLARE v_seq bigint := 1; v_prev text := repeat('0', 64); v_at text; v_hash text; "
        "v_salt text := reviewtool_new_salt(); "
        "v_head_seq bigint; v_head_hash text; "
        "BEGIN "
        "SELECT h.seq, h.hash INTO v_head_seq, v_head_hash FROM audit_head h WHERE h.id = 1 "
        "FOR UPDATE; "
        "IF FOUND THEN v_seq := v_head_seq + 1; v_prev := v_head_hash; END IF; "
        "v_at := to_char(clock_timestamp() AT TIME ZONE 'UTC', "
        '\'YYYY-MM-DD"T"HH24:MI:SS.US"Z"\'); '
        "v_hash := reviewtool_event_hash(v_prev, v_seq, v_at, p_actor, p_action, "
        "p_entity_type, p_entity_id, p_payload, v_salt); "
        "INSERT INTO audit_event (seq, occurred_at, actor, action, entity_type, entity_id, "
        "payload, prev_hash, hash, salt) VALUES (v_seq, v_at, p_actor, p_action, p_entity_type, "
        "p_entity_id, p_payload, v_prev, v_hash, v_salt); "
        "IF v_seq = 1 THEN INSERT INTO audit_head (id, seq, hash) VALUES (1, v_seq, v_hash); "
        "ELSE UPDATE audit_head SET seq = v_seq, hash = v_hash WHERE id = 1; END IF; "
        "RETURN v_seq; END $fn$",
        # screening.votes._write_vote / _revisit_resolution / _answered_before, server-side.
        "CREATE OR REPLACE FUNCTION reviewtool_revisit_resolution(p_stage text, p_unit integer, "
        "p_undo boolean) RETURNS void "
        f"LANGUAGE plpgsql VOLATILE SECURITY DEFINER {path} AS $fn$ "
        "DECLARE me integer := reviewtool_me(); me_name text := reviewtool_my_name(); "
        "last_row screening_decision%ROWTYPE; old_row screening_decision%ROWTYPE; "
        "new_row screening_decision%ROWTYPE; has_new boolean := false; change_at text; "
        "res screening_resolution%ROWTYPE; required integer; reasons jsonb; "
        "n_votes integer; n_sides integer; all_exclude boolean; n_reasons integer; "
        "final boolean; agreed text; agreed_reason text; against boolean; change text; "
        "snap text; res_key text; vote_key text; "
        "BEGIN "
        "IF me IS NULL OR p_stage IS NULL OR p_stage NOT IN ('tiab', 'fulltext') THEN RETURN; "
        "END IF; "
        # The caller's change: their newest row on the unit, and the row it superseded then.
        f"SELECT * INTO last_row FROM screening_decision d WHERE d.member_id = me "
        f"AND d.stage = p_stage AND {on_d} ORDER BY d.id DESC LIMIT 1; "
        "IF NOT FOUND THEN RETURN; END IF; "
        "IF last_row.superseded_at IS NULL THEN "
        "new_row := last_row; has_new := true; change_at := last_row.decided_at; "
        f"SELECT * INTO old_row FROM screening_decision d WHERE d.member_id = me "
        f"AND d.stage = p_stage AND {on_d} AND d.id < last_row.id "
        "AND d.superseded_at = change_at ORDER BY d.id DESC LIMIT 1; "
        "IF NOT FOUND THEN RETURN; END IF; "  # a first vote: no vote a resolution answered changed
        "ELSE old_row := last_row; change_at := last_row.superseded_at; END IF; "
        # ... made by this very transaction (the row's version is its own): called by hand
        # later, or again, the function finds no change to answer.
        "IF NOT EXISTS (SELECT 1 FROM screening_decision d WHERE d.id = last_row.id "
        "AND d.xmin::text = (txid_current() % 4294967296)::text) THEN RETURN; END IF; "
        f"IF has_new THEN vote_key := {key.format(v='new_row')}; "
        f"ELSE vote_key := {key.format(v='old_row')}; END IF; "
        # undo_last: the vote undone (old_row) gives back the votes the resolution it reopened or
        # contested answered, when no other vote on the unit moved since (_answered_before).
        "IF p_undo AND has_new AND NOT EXISTS (SELECT 1 FROM screening_decision d "
        f"WHERE d.stage = p_stage AND {on_d} AND d.id <> old_row.id AND d.id <> new_row.id "
        'AND (d.decided_at COLLATE "C" >= old_row.decided_at '
        'OR d.superseded_at COLLATE "C" > old_row.decided_at)) THEN '
        f"SELECT * INTO res FROM screening_resolution r WHERE r.stage = p_stage AND {on_r} "
        "ORDER BY r.id DESC LIMIT 1; "
        "IF FOUND AND (res.contested_at = old_row.decided_at "
        "OR res.reopened_at = old_row.decided_at) THEN "
        "UPDATE screening_resolution SET reopened_at = NULL, reopened_because = NULL, "
        "contested_at = NULL, contested_because = NULL WHERE id = res.id; "
        "res.contested_at := NULL; snap := 'restore'; END IF; END IF; "
        "IF snap IS NULL THEN "
        f"SELECT * INTO res FROM screening_resolution r WHERE r.stage = p_stage AND {on_r} "
        "AND r.reopened_at IS NULL ORDER BY r.id LIMIT 1; "
        "IF NOT FOUND THEN RETURN; END IF; "
        # Called again without a new change: the change is not newer than what answered it.
        'IF change_at COLLATE "C" <= res.resolved_at '
        "OR change_at COLLATE \"C\" <= COALESCE(res.contested_at, '') THEN RETURN; END IF; "
        # domain.screening_outcome over the current votes, after the change.
        "required := COALESCE("
        f"{setting.format(key=chr(39) + 'screening.reviewers_required' + chr(39))}, "
        f"{_literal(required)}) #>> '{{}}'; "
        "reasons := CASE WHEN p_stage = 'tiab' THEN COALESCE("
        f"{setting.format(key=chr(39) + 'screening.exclusion_reasons_tiab' + chr(39))}, "
        f"{_literal(list(reasons['tiab']))}) ELSE COALESCE("
        f"{setting.format(key=chr(39) + 'screening.exclusion_reasons_fulltext' + chr(39))}, "
        f"{_literal(list(reasons['fulltext']))}) END; "
        "SELECT count(*), count(DISTINCT (d.decision = 'exclude')), "
        "COALESCE(bool_and(d.decision = 'exclude'), false), "
        "count(DISTINCT d.reason) FILTER (WHERE d.decision = 'exclude') + "
        "COALESCE(bool_or(d.decision = 'exclude' AND d.reason IS NULL), false)::int "
        "INTO n_votes, n_sides, all_exclude, n_reasons FROM screening_decision d "
        f"WHERE d.stage = p_stage AND {on_d} AND d.superseded_at IS NULL; "
        "final := n_votes >= required AND n_sides = 1 "
        "AND NOT (p_stage = 'fulltext' AND all_exclude AND n_reasons > 1); "
        "IF final AND all_exclude THEN agreed := 'exclude'; "
        "SELECT d.reason INTO agreed_reason FROM screening_decision d "
        f"WHERE d.stage = p_stage AND {on_d} AND d.superseded_at IS NULL "
        "AND COALESCE(d.reason, '') <> '' ORDER BY COALESCE((SELECT min(t.ord) - 1 FROM "
        "jsonb_array_elements_text(reasons) WITH ORDINALITY AS t(r, ord) WHERE t.r = d.reason), "
        'jsonb_array_length(reasons)), d.reason COLLATE "C" LIMIT 1; '
        "ELSIF final THEN agreed := 'include'; END IF; "
        # screening.votes._against
        "against := final AND (agreed IS DISTINCT FROM res.decision OR (p_stage = 'fulltext' "
        "AND agreed = 'exclude' AND agreed_reason IS NOT NULL "
        "AND agreed_reason IS DISTINCT FROM res.reason)); "
        "change := CASE WHEN has_new THEN me_name || ' changed their vote from ' || "
        f"{words.format(v='old_row')} || ' to ' || {words.format(v='new_row')} "
        f"ELSE me_name || ' took back their vote (' || {words.format(v='old_row')} || ')' END; "
        "IF against THEN "
        "res.contested_at := change_at; res.contested_because := change || "
        "'; the votes now agree on ' || agreed || CASE WHEN COALESCE(agreed_reason, '') <> '' "
        "THEN ' (' || agreed_reason || ')' ELSE '' END || ', against this resolution'; "
        "UPDATE screening_resolution SET contested_at = res.contested_at, "
        "contested_because = res.contested_because WHERE id = res.id; snap := 'keep'; "
        "ELSE UPDATE screening_resolution SET reopened_at = change_at, reopened_because = "
        "change || CASE WHEN final THEN '; the votes now agree with the resolution' ELSE '' END "
        "WHERE id = res.id; snap := 'null'; END IF; END IF; "
        # storage.snapshots.resolution_key / resolution_snapshot, canonical (sorted keys).
        "res_key := res.record_id || ':' || p_stage || "
        "CASE WHEN res.report_in_ledger THEN ':r' || res.report_id ELSE '' END; "
        "IF snap <> 'null' THEN snap := '{\"adjudicator\":' || to_json((SELECT m.name FROM "
        "member m WHERE m.id = res.member_id))::text || CASE WHEN res.contested_at IS NOT NULL "
        "THEN ',\"contested\":' || COALESCE(to_json(res.contested_because)::text, 'null') "
        "ELSE '' END || ',\"decision\":' || to_json(res.decision)::text || ',\"note\":' || "
        "COALESCE(to_json(res.note)::text, 'null') || ',\"reason\":' || "
        "COALESCE(to_json(res.reason)::text, 'null') || CASE WHEN res.report_in_ledger THEN "
        "',\"report\":' || COALESCE(res.report_id::text, 'null') ELSE '' END || '}'; END IF; "
        "PERFORM reviewtool_append_event(me_name, "
        f"'{ACTION}', 'screening_resolution', res_key, "
        "'{\"key\":' || to_json(res_key)::text || ',\"stage\":' || to_json(p_stage)::text || "
        "',\"state\":{\"screening_resolution\":{' || to_json(res_key)::text || ':' || snap || "
        "'}},\"vote\":' || to_json(vote_key)::text || '}'); "
        "END $fn$",
        # extraction.service._write_chunk's consensus by agreement, for the values the caller
        # wrote in this transaction (xmin) that the tool could not compare with the others'.
        "CREATE OR REPLACE FUNCTION reviewtool_extraction_agreement(p_study integer) "
        f"RETURNS void LANGUAGE plpgsql VOLATILE SECURITY DEFINER {path} AS $fn$ "
        "DECLARE me integer := reviewtool_me(); me_name text := reviewtool_my_name(); "
        "v extraction_value%ROWTYPE; held_id integer; held_reopened text; held_now boolean; "
        "n_with integer; n_same integer; "
        "keys text[] := '{}'; snaps text[] := '{}'; agreed text; "
        "BEGIN "
        "IF me IS NULL THEN RETURN; END IF; "
        "FOR v IN SELECT x.* FROM extraction_value x WHERE x.study_id = p_study "
        "AND x.member_id = me AND x.xmin::text = (txid_current() % 4294967296)::text "
        "ORDER BY x.id LOOP "
        "SELECT c.id, c.reopened_at, c.xmin::text = (txid_current() % 4294967296)::text "
        "INTO held_id, held_reopened, held_now FROM extraction_consensus c WHERE c.study_id = p_study AND c.arm = v.arm "
        "AND c.outcome = v.outcome AND c.time_point = v.time_point AND c.field = v.field; "
        # A consensus in force, or one the tool reopened or agreed just now: the tool's answer.
        "IF held_id IS NOT NULL AND (held_reopened IS NULL OR held_now) THEN CONTINUE; "
        "END IF; "
        # Every other extractor with a value at this place has this one (and one has).
        "SELECT count(DISTINCT o.member_id), count(DISTINCT o.member_id) "
        "FILTER (WHERE o.value = v.value) INTO n_with, n_same FROM extraction_value o "
        "WHERE o.study_id = p_study AND o.member_id <> me AND o.arm = v.arm "
        "AND o.outcome = v.outcome AND o.time_point = v.time_point AND o.field = v.field; "
        "IF n_with = 0 OR n_same < n_with THEN CONTINUE; END IF; "
        "IF held_id IS NULL THEN INSERT INTO extraction_consensus (study_id, arm, outcome, "
        "time_point, field, value, form_version, source_kind, source, how, member_id, "
        "decided_at) VALUES (p_study, v.arm, v.outcome, v.time_point, v.field, v.value, "
        "v.form_version, v.source_kind, v.source, 'agreement', me, v.entered_at); "
        "ELSE UPDATE extraction_consensus SET value = v.value, form_version = v.form_version, "
        "source_kind = v.source_kind, source = v.source, how = 'agreement', member_id = me, "
        "decided_at = v.entered_at, reopened_at = NULL, reopened_because = NULL "
        "WHERE id = held_id; END IF; "
        # extraction.forms.consensus_id and extraction.service.consensus_snapshot
        "keys := keys || (p_study || '|' || v.arm || '|' || v.outcome || '|' || v.time_point "
        "|| '|' || v.field); "
        "snaps := snaps || ('[' || to_json(v.value)::text || ',' || v.form_version || ',' || "
        "to_json(v.source_kind)::text || ',' || to_json(v.source)::text || ',\"agreement\",' "
        "|| to_json(me_name)::text || ',null,null]'); "
        "END LOOP; "
        "IF cardinality(keys) = 0 THEN RETURN; END IF; "
        "SELECT string_agg(to_json(u.k)::text || ':' || u.s, ',' ORDER BY u.k COLLATE \"C\") "
        "INTO agreed FROM unnest(keys, snaps) AS u(k, s); "
        "PERFORM reviewtool_append_event(me_name, 'extraction-consensus', "
        '\'extraction_consensus_study\', p_study::text, \'{"change":"agreement","state":'
        "{\"extraction_consensus\":{' || agreed || '}},\"study\":' || p_study || '}'); "
        "END $fn$",
        # Resolutions are hidden from a login at a blind stage; so are the events revisiting them.
        "DROP POLICY IF EXISTS reviewtool_revisit_hidden ON audit_event",
        "CREATE POLICY reviewtool_revisit_hidden ON audit_event AS RESTRICTIVE FOR SELECT "
        f"USING (action <> '{ACTION}' OR NOT reviewtool_hidden(payload::jsonb ->> 'stage'))",
    ]


def revisit_hidden_resolution(
    session: Session, stage: str, unit: int, *, undo: bool = False
) -> None:
    """After a vote on ``unit`` (a reference at title/abstract, a report at full text) at
    ``stage`` was changed or taken back (``undo``: by ``undo_last``) and the tool found no
    resolution standing there: on a PostgreSQL review in team mode, let the server revisit the one
    the login may not read (``reviewtool_revisit_resolution``), in this transaction. Nothing on
    SQLite or outside team mode (the tool reads every resolution there).

    PermissionDenied when the review is in team mode, the stage is hidden from the login and the
    server lacks the function (``member db-setup`` was last run by an older version): the vote
    would otherwise leave a resolution standing that it should reopen.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    installed, policed, team = session.execute(
        text(
            f"SELECT to_regprocedure('{REVISIT_FUNCTION}') IS NOT NULL, "
            "to_regprocedure('reviewtool_hidden(text)') IS NOT NULL, "
            "EXISTS (SELECT 1 FROM member_login)"
        )
    ).one()
    if not team:
        return
    if installed:
        session.execute(
            text("SELECT reviewtool_revisit_resolution(:stage, :unit, :undo)"),
            {"stage": stage, "unit": unit, "undo": undo},
        )
        # The server may have appended an event: the next one chains on the head it wrote.
        for held in list(session.identity_map.values()):
            if isinstance(held, AuditHead):
                session.expire(held)
        return
    if (
        policed
        and session.execute(text("SELECT reviewtool_hidden(:stage)"), {"stage": stage}).scalar()
    ):
        raise PermissionDenied(
            "this server's team-mode functions are older than this version of reviewtool, so a "
            "changed vote could not reopen a resolution you may not see; an owner runs "
            "`reviewtool member db-setup` again"
        )


def agree_on_server(session: Session, studies: Sequence[int]) -> None:
    """After an extractor's values of ``studies`` were written: on a PostgreSQL review in team
    mode, let the server record the consensus by agreement the login could not see (others'
    values are hidden from it while extraction is blind): ``reviewtool_extraction_agreement``,
    one ``extraction-consensus`` event (``change`` agreement) per study where values agree.
    Nothing on SQLite or outside team mode. PermissionDenied as ``revisit_hidden_resolution``
    when the server's functions are older and extraction is hidden from the login."""
    if session.get_bind().dialect.name != "postgresql" or not studies:
        return
    installed, policed, team = session.execute(
        text(
            f"SELECT to_regprocedure('{AGREEMENT_FUNCTION}') IS NOT NULL, "
            "to_regprocedure('reviewtool_hidden(text)') IS NOT NULL, "
            "EXISTS (SELECT 1 FROM member_login)"
        )
    ).one()
    if not team:
        return
    if installed:
        for study in studies:
            session.execute(
                text("SELECT reviewtool_extraction_agreement(:study)"), {"study": study}
            )
        for held in list(session.identity_map.values()):
            if isinstance(held, AuditHead):
                session.expire(held)
        return
    if policed and session.execute(text("SELECT reviewtool_hidden('extraction')")).scalar():
        raise PermissionDenied(
            "this server's team-mode functions are older than this version of reviewtool, so "
            "values that agree with another extractor's could not be recorded as consensus; an "
            "owner runs `reviewtool member db-setup` again"
        )


def server_agrees(session: Session) -> bool:
    """True when ``agree_on_server`` lets the server record consensus by agreement (a PostgreSQL
    review in team mode whose server has ``reviewtool_extraction_agreement``): the caller then
    cannot count the agreements it caused, so what follows a consensus reached (a converted
    consensus SD brought onto the consensus n, ``extraction.service._follow_consensus_n``) is
    looked for whatever it counted. False on SQLite and outside team mode (no query)."""
    if session.get_bind().dialect.name != "postgresql":
        return False
    installed, team = session.execute(
        text(
            f"SELECT to_regprocedure('{AGREEMENT_FUNCTION}') IS NOT NULL, "
            "EXISTS (SELECT 1 FROM member_login)"
        )
    ).one()
    return bool(installed and team)
