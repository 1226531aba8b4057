"""Risk of bias: each assessor's RoB 1 / RoB 2 judgements, blind dual assessment, and consensus.

What is stored (``storage.models.RobJudgement``, ``RobConsensus``):

- **RoB 1** (spec §1) per study: one row per assessor and domain (A-G; C, D and E optionally per
  outcome group), a judgement Low / Unclear / High and the support text. The overall rating is
  stored per study (``Rob1Overall``) with the rule that made it: it is computed from the
  consensus domains in force by the rule in the setting ``rob1.overall_rule`` (``rob.algorithms``)
  whenever that consensus changes, and again for every study when the owner changes the rule
  (``set_overall_rule``); every view of it names the rule.
- **RoB 2** (spec §2) per result (a study's estimate of one outcome at one time point,
  ``OUTCOME@TIME``): the preliminary considerations (domain ``preliminary``), the signalling
  answers of each domain, the judgement the published algorithm gives for them (``algorithm``;
  ``incomplete`` while an answer it needs is missing, never a guess), the final judgement and the
  predicted direction of bias; the overall row (domain ``overall``) is the worst of the domains.
  A final judgement that differs from the algorithm's is an override and needs a justification;
  both values are stored and audited.

Dual assessment is blind (setting ``rob.blind``, ended by an owner with ``rob unblind``): an
assessor who is neither owner nor adjudicator sees only their own judgements and the consensus,
never another assessor's open work, from every read here (``compare`` and ``agreement`` are refused
to them). Consensus is recorded by agreement (``agree``: every domain on which the assessors gave
the same judgement) or by an adjudicator (``resolve``); an assessor who changes a judgement
afterwards reopens that domain's consensus (``status`` ``reopened``, with why).

Studies are named by id or by their unique label "<first author's surname> <year>" (``Suk 2016``),
taken from the study's anchor reference. Every change is one ``rob-assessed`` or ``rob-consensus``
event in the same transaction; ``rob/ledger.py`` registers what ``audit verify`` checks.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlmodel import Session, col, select

from reviewtool import audit
from reviewtool.access import duties_separate, own_work_refused, require, sight
from reviewtool.agreement import Agreement, agreement_from_pairs
from reviewtool.audit.events import (
    RobAssessed,
    RobConsensusChanged,
    SettingChanged,
    StageUnblinded,
)
from reviewtool.domain import Action
from reviewtool.errors import InvalidInput, NotFound, PermissionDenied
from reviewtool.rob import algorithms, tools
from reviewtool.rob.ledger import (
    consensus_key,
    consensus_snapshot,
    judgement_key,
    judgement_snapshot,
    overall_key,
    overall_snapshot,
)
from reviewtool.storage.models import (
    Member,
    Record,
    ReviewSetting,
    Rob1Overall,
    RobConsensus,
    RobJudgement,
)
from reviewtool.storage.queries import setting
from reviewtool.storage.references import primary_of
from reviewtool.studies.service import study_map

ROB1 = "rob1"
ROB2 = "rob2"
TOOLS = (ROB1, ROB2)
PRELIMINARY = "preliminary"
OVERALL = "overall"
INCOMPLETE = "incomplete"
AGREEMENT = "agreement"
ADJUDICATOR = "adjudicator"
AGREED = "agreed"
REOPENED = "reopened"
BLIND_KEY = "rob.blind"

BLIND_REFUSAL = (
    "other assessors' risk-of-bias judgements are hidden while risk of bias is blind; an owner "
    "ends blinding with `reviewtool rob unblind` (owners and adjudicators see them)"
)


# --- who sees what ------------------------------------------------------------------------------


def blind_to(session: Session, person: str) -> bool:
    """True while risk of bias is blind to ``person``: ``rob.blind`` is on and they are neither
    owner nor adjudicator (a name that is not an active member is blind too)."""
    return bool(setting(session, BLIND_KEY)) and not sight(session, person).privileged


# --- studies and their labels -----------------------------------------------------------------


def _surname(authors_json: str | None) -> str:
    try:
        authors = json.loads(authors_json or "[]")
    except ValueError:
        authors = []
    first = str(authors[0]) if authors else ""
    return first.split(",")[0].strip() or "Anonymous"


def study_labels(session: Session) -> dict[int, str]:
    """study id -> its label "<first author's surname> <year>" (from the anchor reference's
    primary record); two studies with one label are told apart by their id ("Xu 2014 [95]")."""
    ids = sorted(set(study_map(session).values()))
    raw: dict[int, str] = {}
    for study in ids:
        record = session.get(Record, primary_of(session, study))
        year = record.year if record is not None and record.year else "n.d."
        raw[study] = f"{_surname(record.authors if record else None)} {year}"
    counts: dict[str, int] = {}
    for label in raw.values():
        counts[label] = counts.get(label, 0) + 1
    return {s: (lab if counts[lab] == 1 else f"{lab} [{s}]") for s, lab in raw.items()}


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    return " ".join("".join(c for c in text if not unicodedata.combining(c)).lower().split())


def _check_studies_visible(session: Session, actor: str) -> None:
    if not sight(session, actor).sees_others("fulltext"):
        raise PermissionDenied(
            "studies are built from the full-text decisions, hidden while full text is blind; "
            "an owner ends blinding with `reviewtool screen unblind --stage fulltext`"
        )


def find_study(session: Session, text: str, labels: Mapping[int, str] | None = None) -> int:
    """The study id named by ``text``: a study id, or a label "Surname Year" (case and accents
    ignored). NotFound naming the text when no study has it."""
    labels = study_labels(session) if labels is None else labels
    wanted = text.strip()
    if wanted.isdigit() and int(wanted) in labels:
        return int(wanted)
    folded = _fold(wanted)
    hits = [s for s, label in labels.items() if _fold(label) == folded]
    if len(hits) == 1:
        return hits[0]
    raise NotFound(
        f"no study {text!r}: name a study by its id or its label "
        f"(e.g. {next(iter(labels.values()), 'Suk 2016')!r}; `reviewtool study list` lists them)"
    )


# --- parsing the words people type --------------------------------------------------------------


def parse_tool(text: str) -> str:
    """``rob1`` or ``rob2`` (case-insensitive; ``RoB 2`` too); InvalidInput otherwise."""
    key = text.strip().lower().replace(" ", "")
    if key not in TOOLS:
        raise InvalidInput(f"unknown risk-of-bias tool {text!r}; use rob1 or rob2")
    return key


def parse_result(text: str | None) -> str:
    """A RoB 2 result ``OUTCOME@TIME`` (e.g. ``MELD@24 weeks``), spaces around ``@`` trimmed.

    InvalidInput when it is missing or has no ``@`` between two non-empty parts."""
    if text is None or "@" not in text:
        raise InvalidInput(
            f"RoB 2 assesses one result: give it as OUTCOME@TIME (e.g. 'MELD@24 weeks'), not {text!r}"
        )
    outcome, _, time = text.partition("@")
    outcome, time = outcome.strip(), time.strip()
    if not outcome or not time:
        raise InvalidInput(f"a result is OUTCOME@TIME with both parts given, not {text!r}")
    return f"{outcome}@{time}"


def _rob1_domain(text: str) -> tools.Rob1Domain:
    try:
        return tools.rob1_domain(text)
    except KeyError as exc:
        raise InvalidInput(str(exc.args[0])) from None


def _rob2_domain_code(text: str) -> str:
    key = text.strip().upper()
    if key in tools.ROB2_DOMAIN_CODES:
        return key
    if key in ("D2A", "D2B"):
        return "D2"
    if key == OVERALL.upper():
        return OVERALL
    for code, name in tools.ROB2_DOMAIN_NAMES.items():
        if _fold(name) == _fold(text):
            return code
    raise InvalidInput(
        f"{text!r} is not a RoB 2 domain; use one of {', '.join(tools.ROB2_DOMAIN_CODES)} or overall"
    )


def _parse_judgement(tool: str, text: str) -> str:
    try:
        if tool == ROB1:
            return tools.parse_rob1_judgement(text).value
        return tools.parse_rob2_judgement(text).value
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None


# --- views ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class JudgementView:
    """One assessor's judgement of one domain, as stored.

    :ivar tool: ``rob1`` or ``rob2``.
    :ivar study: the study's id; ``label`` its label ("Suk 2016").
    :ivar result: RoB 2 only: ``OUTCOME@TIME`` ("" for RoB 1).
    :ivar domain: RoB 1: the letter A-G; RoB 2: D1-D5, ``overall`` or ``preliminary``.
    :ivar outcome_group: RoB 1 C/D/E split by outcome group ("" for the whole study).
    :ivar assessor: the member who made it.
    :ivar judgement: the final judgement (None: RoB 2 with answers still missing).
    :ivar algorithm: RoB 2: what the published algorithm gives (``incomplete`` while an answer it
        needs is missing); None for RoB 1.
    :ivar justification: why the final judgement differs from the algorithm's (an override).
    :ivar support: the support for judgement (quote / comment).
    :ivar direction: RoB 2: the predicted direction of bias.
    :ivar answers: RoB 2: signalling answers (question id -> code) or preliminary fields.
    """

    tool: str
    study: int
    label: str
    result: str
    domain: str
    outcome_group: str
    assessor: str
    judgement: str | None
    algorithm: str | None
    justification: str | None
    support: str
    direction: str | None
    answers: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True)
class ConsensusView:
    """The consensus of one domain: judgement, support, how it was reached and its status
    (``agreed``, or ``reopened`` with ``reopened_because``)."""

    tool: str
    study: int
    label: str
    result: str
    domain: str
    outcome_group: str
    judgement: str
    support: str
    how: str
    status: str
    reopened_because: str | None
    decided_by: str

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True)
class Difference:
    """One domain on which the assessors' judgements differ, with the consensus if any.

    :ivar judgements: assessor -> their judgement (None: not judged / incomplete).
    :ivar consensus: the consensus judgement (None when there is none).
    :ivar status: ``open`` (no consensus), ``reopened``, or ``agreed`` (a consensus in force,
        shown only with ``include_resolved``).
    """

    tool: str
    study: int
    label: str
    result: str
    domain: str
    outcome_group: str
    judgements: dict[str, str | None]
    consensus: str | None
    status: str

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


# --- reading ---------------------------------------------------------------------------------


def _names(session: Session) -> dict[int, str]:
    return {mid: name for mid, name in session.exec(select(Member.id, Member.name)).all() if mid}


def _view(row: RobJudgement, names: Mapping[int, str], labels: Mapping[int, str]) -> JudgementView:
    return JudgementView(
        tool=row.tool,
        study=row.study_id,
        label=labels.get(row.study_id, str(row.study_id)),
        result=row.result,
        domain=row.domain,
        outcome_group=row.outcome_group,
        assessor=names.get(row.assessor_id, f"#{row.assessor_id}"),
        judgement=row.judgement,
        algorithm=row.algorithm,
        justification=row.justification,
        support=row.support,
        direction=row.direction,
        answers=json.loads(row.answers or "{}"),
    )


def _consensus_view(row: RobConsensus, labels: Mapping[int, str]) -> ConsensusView:
    return ConsensusView(
        tool=row.tool,
        study=row.study_id,
        label=labels.get(row.study_id, str(row.study_id)),
        result=row.result,
        domain=row.domain,
        outcome_group=row.outcome_group,
        judgement=row.judgement,
        support=row.support,
        how=row.how,
        status=row.status,
        reopened_because=row.reopened_because,
        decided_by=row.decided_by,
    )


def judgements(
    session: Session,
    *,
    actor: str,
    tool: str | None = None,
    study: str | None = None,
    result: str | None = None,
    assessor: str | None = None,
) -> list[JudgementView]:
    """The judgements ``actor`` may see, in study, result, assessor and domain order.

    While risk of bias is blind to them (``blind_to``) that is their own only, whatever
    ``assessor`` asks for (another assessor's name gives an empty list, the same whether or not
    that person has judged anything). Filters: ``tool``, ``study`` (id or label), ``result``,
    ``assessor``.
    """
    require(session, actor, Action.READ, doing="read risk-of-bias judgements")
    _check_studies_visible(session, actor)
    blind = blind_to(session, actor)
    labels = study_labels(session)
    names = _names(session)
    query = select(RobJudgement)
    if tool is not None:
        query = query.where(RobJudgement.tool == parse_tool(tool))
    if study is not None:
        query = query.where(RobJudgement.study_id == find_study(session, study, labels))
    if result is not None:
        query = query.where(RobJudgement.result == parse_result(result))
    rows = session.exec(query).all()
    views = [_view(r, names, labels) for r in rows]
    if blind:
        views = [v for v in views if v.assessor == actor]
    if assessor is not None:
        views = [v for v in views if v.assessor == assessor]
    order = {d.id: i for i, d in enumerate(tools.ROB1_DOMAINS)}
    order.update({PRELIMINARY: -1, OVERALL: 99})
    order.update({c: i for i, c in enumerate(tools.ROB2_DOMAIN_CODES)})
    return sorted(
        views,
        key=lambda v: (
            v.label,
            v.tool,
            v.result,
            v.assessor,
            order.get(v.domain, 50),
            v.outcome_group,
        ),
    )


def consensus(
    session: Session, *, actor: str, tool: str | None = None, study: str | None = None
) -> list[ConsensusView]:
    """Every consensus (in force or reopened), visible to everyone who may read the review."""
    require(session, actor, Action.READ, doing="read risk-of-bias consensus")
    _check_studies_visible(session, actor)
    labels = study_labels(session)
    query = select(RobConsensus)
    if tool is not None:
        query = query.where(RobConsensus.tool == parse_tool(tool))
    if study is not None:
        query = query.where(RobConsensus.study_id == find_study(session, study, labels))
    views = [_consensus_view(r, labels) for r in session.exec(query).all()]
    return sorted(views, key=lambda v: (v.label, v.tool, v.result, v.domain, v.outcome_group))


# --- writing one assessor's judgements -----------------------------------------------------------


def _row(
    session: Session, tool: str, study: int, result: str, domain: str, group: str, member: Member
) -> RobJudgement | None:
    return session.exec(
        select(RobJudgement).where(
            RobJudgement.tool == tool,
            RobJudgement.study_id == study,
            RobJudgement.result == result,
            RobJudgement.domain == domain,
            RobJudgement.outcome_group == group,
            RobJudgement.assessor_id == member.id,
        )
    ).first()


def _reopen(
    session: Session,
    tool: str,
    study: int,
    result: str,
    domain: str,
    group: str,
    assessor: str,
    before: str | None,
    after: str | None,
    state: dict[str, dict[str, Any]],
) -> None:
    """A changed judgement reopens the domain's consensus in force (recorded in ``state``)."""
    if before == after:
        return
    row = _consensus_row(session, tool, study, result, domain, group)
    if row is None or row.status != AGREED:
        return
    row.status = REOPENED
    row.reopened_because = (
        f"{assessor} changed {domain}{f' ({group})' if group else ''} from "
        f"{before or 'not judged'} to {after or 'not judged'}"
    )
    session.add(row)
    key = consensus_key(tool, study, result, domain, group)
    state.setdefault("rob_consensus", {})[key] = consensus_snapshot(row)
    if tool == ROB1:
        _rate(session, study, overall_rule(session), audit.log.utc_now(), state)


def _store(
    session: Session,
    member: Member,
    now: str,
    tool: str,
    study: int,
    result: str,
    domain: str,
    group: str,
    state: dict[str, dict[str, Any]],
    **values: Any,
) -> RobJudgement:
    """Create or update one judgement row with ``values`` and note its snapshot in ``state``."""
    row = _row(session, tool, study, result, domain, group, member)
    before = row.judgement if row is not None else None
    if row is None:
        assert member.id is not None
        row = RobJudgement(
            tool=tool,
            study_id=study,
            result=result,
            domain=domain,
            outcome_group=group,
            assessor_id=member.id,
            changed_by=member.name,
            changed_at=now,
        )
    for name, value in values.items():
        setattr(row, name, json.dumps(value, sort_keys=True) if name == "answers" else value)
    row.changed_by, row.changed_at = member.name, now
    session.add(row)
    key = judgement_key(tool, study, result, domain, group, member.name)
    state.setdefault("rob_judgement", {})[key] = judgement_snapshot(
        row.judgement,
        row.algorithm,
        row.justification,
        row.support,
        row.direction,
        json.loads(row.answers or "{}"),
    )
    _reopen(session, tool, study, result, domain, group, member.name, before, row.judgement, state)
    return row


def _assessor(session: Session, actor: str) -> Member:
    return require(session, actor, Action.ASSESS_RISK_OF_BIAS)


def set_judgement(
    session: Session,
    *,
    actor: str,
    study: str,
    domain: str,
    judgement: str,
    support: str | None = None,
    tool: str = ROB1,
    result: str | None = None,
    outcome_group: str | None = None,
    justification: str | None = None,
    direction: str | None = None,
) -> JudgementView:
    """Record ``actor``'s judgement of one domain (``rob set``); returns it as stored.

    RoB 1: ``domain`` is a letter A-G or a domain's name or robvis header; ``judgement`` Low,
    Unclear or High; ``outcome_group`` only for C, D and E. ``support`` replaces the support text
    when given (kept otherwise).

    RoB 2: ``result`` (``OUTCOME@TIME``) is required; ``domain`` is D1-D5 or ``overall``;
    ``judgement`` Low, Some concerns or High. A judgement that differs from what the algorithm
    gives for the answers recorded (``algorithm``, ``incomplete`` when answers are missing) is an
    override: it needs ``justification`` (InvalidInput otherwise). Setting the algorithm's own
    value clears an override.

    A changed judgement reopens the domain's consensus. One ``rob-assessed`` event.
    """
    tool = parse_tool(tool)
    member = _assessor(session, actor)
    _check_studies_visible(session, actor)
    study_id = find_study(session, study)
    now = audit.log.utc_now()
    state: dict[str, dict[str, Any]] = {}
    value = _parse_judgement(tool, judgement)
    if tool == ROB1:
        if result:
            raise InvalidInput("RoB 1 judges a study, not a result: leave out --result")
        dom = _rob1_domain(domain)
        group = (outcome_group or "").strip()
        if group and not dom.per_outcome_group:
            raise InvalidInput(
                f"{dom.name} is judged per study; only blinding (C, D) and incomplete outcome "
                "data (E) take an outcome group"
            )
        values: dict[str, Any] = {"judgement": value}
        if support is not None:
            values["support"] = support
        row = _store(session, member, now, ROB1, study_id, "", dom.id, group, state, **values)
        change = "set"
        res = ""
    else:
        res = parse_result(result)
        code = _rob2_domain_code(domain)
        if outcome_group:
            raise InvalidInput("RoB 2 assesses one result; outcome groups are RoB 1's")
        current = _row(session, ROB2, study_id, res, code, "", member)
        algo = current.algorithm if current is not None else INCOMPLETE
        if code == OVERALL and current is None:
            algo = _rob2_overall_algorithm(session, member, study_id, res)
        why = (justification or "").strip() or None
        if value != algo and why is None:
            raise InvalidInput(
                f"the algorithm gives {algo!r} for {code} from the answers recorded; to override it "
                f"with {value!r} give --justification (both values are kept)"
            )
        values = {
            "judgement": value,
            "algorithm": algo,
            "justification": None if value == algo else why,
        }
        if support is not None:
            values["support"] = support
        if direction is not None:
            values["direction"] = _parse_direction(direction)
        row = _store(session, member, now, ROB2, study_id, res, code, "", state, **values)
        change = "override" if values["justification"] else "set"
        if code != OVERALL:
            _refresh_overall(session, member, now, study_id, res, state)
    session.flush()
    audit.record(
        session,
        actor,
        RobAssessed(change=change, tool=tool, study=study_id, result=res, state=state),
    )
    return _view(row, _names(session), study_labels(session))


def _parse_direction(text: str) -> str:
    try:
        return tools.parse_direction(text)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None


# --- RoB 2 answers and the algorithms ---------------------------------------------------------


def _answers_of(
    session: Session, member: Member, study: int, result: str, domain: str
) -> dict[str, str]:
    row = _row(session, ROB2, study, result, domain, "", member)
    return dict(json.loads(row.answers)) if row is not None else {}


def _effect(preliminary: Mapping[str, str]) -> str:
    return preliminary.get("effect_of_interest") or tools.EFFECT_ASSIGNMENT


def _domain_for_code(code: str, preliminary: Mapping[str, str]) -> tools.Rob2Domain:
    return next(d for d in tools.rob2_domains(_effect(preliminary)) if d.code == code)


def domain_algorithm(
    code: str, answers: Mapping[str, str], preliminary: Mapping[str, str] | None = None
) -> str:
    """The judgement the published RoB 2 algorithm gives for one domain (``D1``-``D5``) from its
    signalling answers (question id -> Y/PY/PN/N/NI/NA), or ``incomplete`` while an answer it
    needs is missing. Domain 2's variant follows ``preliminary["effect_of_interest"]``
    (assignment: 2a, adhering: 2b). Source: ``rob.algorithms`` (spec §2.2)."""
    prelim = dict(preliminary or {})
    domain = _domain_for_code(code, prelim)
    return algorithms.rob2_domain_judgement(domain.id, {**prelim, **answers}).status


def _rob2_overall_algorithm(session: Session, member: Member, study: int, result: str) -> str:
    finals: dict[str, str | None] = {}
    for code in tools.ROB2_DOMAIN_CODES:
        row = _row(session, ROB2, study, result, code, "", member)
        finals[code] = row.judgement if row is not None else None
    return algorithms.rob2_overall(finals).status


def _refresh_overall(
    session: Session,
    member: Member,
    now: str,
    study: int,
    result: str,
    state: dict[str, dict[str, Any]],
) -> None:
    """Recompute the overall row's algorithm value; an overall not overridden follows it."""
    session.flush()
    algo = _rob2_overall_algorithm(session, member, study, result)
    current = _row(session, ROB2, study, result, OVERALL, "", member)
    if current is not None and current.justification:
        if current.algorithm != algo:
            _store(session, member, now, ROB2, study, result, OVERALL, "", state, algorithm=algo)
        return
    final = None if algo == INCOMPLETE else algo
    if current is None or current.algorithm != algo or current.judgement != final:
        _store(
            session,
            member,
            now,
            ROB2,
            study,
            result,
            OVERALL,
            "",
            state,
            algorithm=algo,
            judgement=final,
            justification=None,
        )


PRELIMINARY_FIELDS = {f.id: f for f in tools.ROB2_PRELIMINARY}


def _check_answer(question_or_field: str, value: str) -> tuple[str, str, str]:
    """(domain code or ``preliminary``, key, canonical value); InvalidInput naming the field."""
    key = question_or_field.strip()
    if key in PRELIMINARY_FIELDS:
        spec = PRELIMINARY_FIELDS[key]
        text = value.strip()
        if spec.kind == "choice" and text and text not in spec.choices:
            raise InvalidInput(f"{key} must be one of {', '.join(spec.choices)}, not {value!r}")
        if spec.kind == "multi" and text:
            items = [i.strip() for i in text.split(";") if i.strip()]
            bad = [i for i in items if i not in spec.choices]
            if bad:
                raise InvalidInput(
                    f"{key}: {bad[0]!r} is not one of {', '.join(spec.choices)} (separate with ';')"
                )
            text = ";".join(items)
        return PRELIMINARY, key, text
    match = re.fullmatch(r"([1-5])\.([1-7])", key)
    if match is None:
        raise InvalidInput(
            f"{question_or_field!r} is neither a RoB 2 signalling question (1.1 ... 5.3) nor a "
            f"preliminary field ({', '.join(PRELIMINARY_FIELDS)})"
        )
    code = f"D{match.group(1)}"
    try:
        answer = tools.parse_answer(value)
    except ValueError as exc:
        raise InvalidInput(f"{key}: {exc}") from None
    allowed: set[str] = set()
    for variant in (tools.EFFECT_ASSIGNMENT, tools.EFFECT_ADHERING):
        domain = _domain_for_code(code, {"effect_of_interest": variant})
        try:
            allowed.update(domain.question(key).answers)
        except KeyError:
            continue
    if not allowed:
        raise InvalidInput(f"{key} is not a RoB 2 signalling question")
    if answer not in allowed:
        raise InvalidInput(f"{key} does not take {answer}; use {', '.join(sorted(allowed))}")
    return code, key, answer


def answer(
    session: Session,
    *,
    actor: str,
    study: str,
    result: str,
    answers: Mapping[str, str],
    support: Mapping[str, str] | None = None,
    direction: Mapping[str, str] | None = None,
) -> list[JudgementView]:
    """Record ``actor``'s RoB 2 signalling answers for one result (``rob answer``).

    ``answers`` maps question ids (``"1.2"``) to Y/PY/PN/N/NI/NA (or their words) and preliminary
    fields (``effect_of_interest``, ``deviations`` ...) to their values; an empty value clears an
    answer. Each domain touched gets its algorithm judgement again (``incomplete`` while an answer
    it needs is missing); a domain without an override follows it, and so does the overall.
    ``support`` / ``direction`` map domain codes to support text / predicted direction. Returns
    the result's judgements by ``actor``. One ``rob-assessed`` event.
    """
    member = _assessor(session, actor)
    _check_studies_visible(session, actor)
    study_id = find_study(session, study)
    res = parse_result(result)
    if not answers and not support and not direction:
        raise InvalidInput("give at least one answer (e.g. 1.1=Y)")
    changes: dict[str, dict[str, str]] = {}
    for key, value in answers.items():
        code, qid, canonical = _check_answer(key, value)
        changes.setdefault(code, {})[qid] = canonical
    now = audit.log.utc_now()
    state: dict[str, dict[str, Any]] = {}
    write_unit(session, member, now, study_id, res, changes, support or {}, direction or {}, state)
    session.flush()
    audit.record(
        session,
        actor,
        RobAssessed(change="answer", tool=ROB2, study=study_id, result=res, state=state),
    )
    return [
        v
        for v in judgements(session, actor=actor, tool=ROB2, study=str(study_id), result=res)
        if v.assessor == actor
    ]


def write_unit(
    session: Session,
    member: Member,
    now: str,
    study: int,
    result: str,
    changes: Mapping[str, Mapping[str, str]],
    support: Mapping[str, str],
    direction: Mapping[str, str],
    state: dict[str, dict[str, Any]],
) -> None:
    """Apply checked RoB 2 answer changes ({domain code or ``preliminary``: {key: value}}) for one
    assessor and result, recompute the algorithms, and note the snapshots in ``state``."""
    prelim = _answers_of(session, member, study, result, PRELIMINARY)
    if PRELIMINARY in changes:
        for key, value in changes[PRELIMINARY].items():
            if value:
                prelim[key] = value
            else:
                prelim.pop(key, None)
        _store(session, member, now, ROB2, study, result, PRELIMINARY, "", state, answers=prelim)
    codes = set(tools.ROB2_DOMAIN_CODES) if PRELIMINARY in changes else set(changes)
    codes |= set(support) | set(direction)
    for code in tools.ROB2_DOMAIN_CODES:
        if code not in codes:
            continue
        answers = _answers_of(session, member, study, result, code)
        for key, value in changes.get(code, {}).items():
            if value:
                answers[key] = value
            else:
                answers.pop(key, None)
        algo = domain_algorithm(code, answers, prelim)
        current = _row(session, ROB2, study, result, code, "", member)
        values: dict[str, Any] = {"answers": answers, "algorithm": algo}
        if current is None or not current.justification:
            values["judgement"] = None if algo == INCOMPLETE else algo
            values["justification"] = None
        if code in support:
            values["support"] = support[code]
        if code in direction:
            values["direction"] = _parse_direction(direction[code]) if direction[code] else None
        _store(session, member, now, ROB2, study, result, code, "", state, **values)
    _refresh_overall(session, member, now, study, result, state)


# --- consensus -----------------------------------------------------------------------------------


def _consensus_row(
    session: Session, tool: str, study: int, result: str, domain: str, group: str
) -> RobConsensus | None:
    return session.exec(
        select(RobConsensus).where(
            RobConsensus.tool == tool,
            RobConsensus.study_id == study,
            RobConsensus.result == result,
            RobConsensus.domain == domain,
            RobConsensus.outcome_group == group,
        )
    ).first()


Unit = tuple[str, int, str, str, str]
"""(tool, study, result, domain, outcome group): what one consensus is about."""


def _by_unit(
    session: Session, tool: str | None, study: int | None
) -> dict[Unit, dict[str, RobJudgement]]:
    names = _names(session)
    query = select(RobJudgement).where(col(RobJudgement.domain) != PRELIMINARY)
    if tool is not None:
        query = query.where(RobJudgement.tool == tool)
    if study is not None:
        query = query.where(RobJudgement.study_id == study)
    units: dict[Unit, dict[str, RobJudgement]] = {}
    for row in session.exec(query).all():
        unit = (row.tool, row.study_id, row.result, row.domain, row.outcome_group)
        units.setdefault(unit, {})[names.get(row.assessor_id, f"#{row.assessor_id}")] = row
    return units


def _require_others_visible(session: Session, actor: str, doing: str) -> None:
    require(session, actor, Action.READ, doing=doing)
    _check_studies_visible(session, actor)
    if blind_to(session, actor):
        raise PermissionDenied(BLIND_REFUSAL)


def compare(
    session: Session,
    *,
    actor: str,
    study: str | None = None,
    tool: str | None = None,
    include_resolved: bool = False,
) -> list[Difference]:
    """The domains on which the assessors disagree, domain by domain (``rob compare``).

    A domain is listed when at least two assessors judged it and their final judgements differ
    (an incomplete RoB 2 domain counts as not judged), unless a consensus is in force
    (``include_resolved`` lists those too). Refused (PermissionDenied) while risk of bias is blind
    to ``actor``: the list is other assessors' open work.
    """
    _require_others_visible(session, actor, "compare risk-of-bias judgements")
    labels = study_labels(session)
    study_id = find_study(session, study, labels) if study is not None else None
    wanted_tool = parse_tool(tool) if tool is not None else None
    found: list[Difference] = []
    for unit, rows in _by_unit(session, wanted_tool, study_id).items():
        if len(rows) < 2:
            continue
        values = {name: rows[name].judgement for name in sorted(rows)}
        if len(set(values.values())) == 1:
            continue
        row = _consensus_row(session, *unit)
        status = "open" if row is None else row.status
        if status == AGREED and not include_resolved:
            continue
        found.append(
            Difference(
                tool=unit[0],
                study=unit[1],
                label=labels.get(unit[1], str(unit[1])),
                result=unit[2],
                domain=unit[3],
                outcome_group=unit[4],
                judgements=values,
                consensus=row.judgement if row is not None else None,
                status=status,
            )
        )
    order = _domain_order()
    return sorted(
        found, key=lambda d: (d.label, d.tool, d.result, order.get(d.domain, 50), d.outcome_group)
    )


def _domain_order() -> dict[str, int]:
    order = {d.id: i for i, d in enumerate(tools.ROB1_DOMAINS)}
    order.update({c: i for i, c in enumerate(tools.ROB2_DOMAIN_CODES)})
    order[OVERALL] = 99
    return order


def _write_consensus(
    session: Session,
    actor: str,
    unit: Unit,
    judgement: str,
    support: str,
    how: str,
    now: str,
    state: dict[str, dict[str, Any]],
) -> RobConsensus:
    row = _consensus_row(session, *unit)
    if row is None:
        tool, study, result, domain, group = unit
        row = RobConsensus(
            tool=tool,
            study_id=study,
            result=result,
            domain=domain,
            outcome_group=group,
            judgement=judgement,
            how=how,
            decided_by=actor,
            decided_at=now,
        )
    row.judgement, row.support, row.how = judgement, support, how
    row.status, row.reopened_because = AGREED, None
    row.decided_by, row.decided_at = actor, now
    session.add(row)
    state.setdefault("rob_consensus", {})[consensus_key(*unit)] = consensus_snapshot(row)
    return row


def agree(
    session: Session, *, actor: str, study: str | None = None, tool: str | None = None
) -> list[ConsensusView]:
    """Record the consensus of every domain on which all (at least two) assessors gave the same
    final judgement and no consensus is in force (``rob agree``; owners and adjudicators).

    The consensus takes that judgement and the assessors' support texts (one text when they are
    the same, else each prefixed with its assessor). One ``rob-consensus`` event per study and
    result. Returns the consensus recorded (empty when there was nothing to agree).
    """
    require(session, actor, Action.RESOLVE_CONFLICT, doing="record risk-of-bias consensus")
    _check_studies_visible(session, actor)
    labels = study_labels(session)
    study_id = find_study(session, study, labels) if study is not None else None
    wanted_tool = parse_tool(tool) if tool is not None else None
    now = audit.log.utc_now()
    states: dict[tuple[str, int, str], dict[str, dict[str, Any]]] = {}
    written: list[RobConsensus] = []
    for unit, rows in sorted(_by_unit(session, wanted_tool, study_id).items()):
        if len(rows) < 2:
            continue
        values = {r.judgement for r in rows.values()}
        if len(values) != 1 or None in values:
            continue
        current = _consensus_row(session, *unit)
        if current is not None and current.status == AGREED:
            continue
        supports = {name: rows[name].support for name in sorted(rows) if rows[name].support}
        texts = set(supports.values())
        support = (
            next(iter(texts))
            if len(texts) == 1
            else " | ".join(f"{name}: {text}" for name, text in supports.items())
        )
        state = states.setdefault((unit[0], unit[1], unit[2]), {})
        judgement = next(iter(values))
        assert judgement is not None
        written.append(
            _write_consensus(session, actor, unit, judgement, support, AGREEMENT, now, state)
        )
    session.flush()
    rule = overall_rule(session)
    for (tool_name, study_no, _result), state in states.items():
        if tool_name == ROB1:
            _rate(session, study_no, rule, now, state)
    for (tool_name, study_no, result), state in sorted(states.items()):
        audit.record(
            session,
            actor,
            RobConsensusChanged(
                change="agree", tool=tool_name, study=study_no, result=result, state=state
            ),
        )
    return [_consensus_view(r, labels) for r in written]


def resolve(
    session: Session,
    *,
    actor: str,
    study: str,
    domain: str,
    judgement: str,
    support: str | None = None,
    tool: str = ROB1,
    result: str | None = None,
    outcome_group: str | None = None,
) -> ConsensusView:
    """An adjudicator's (or owner's) consensus judgement of one domain (``rob resolve``).

    ``support`` defaults to the support text of the assessor whose judgement it matches. One
    ``rob-consensus`` event.
    """
    member = require(
        session, actor, Action.RESOLVE_CONFLICT, doing="resolve risk-of-bias disagreements"
    )
    _check_studies_visible(session, actor)
    tool = parse_tool(tool)
    study_id = find_study(session, study)
    value = _parse_judgement(tool, judgement)
    if tool == ROB1:
        dom = _rob1_domain(domain).id
        res = ""
    else:
        dom = _rob2_domain_code(domain)
        res = parse_result(result)
    group = (outcome_group or "").strip()
    unit: Unit = (tool, study_id, res, dom, group)
    rows = _by_unit(session, tool, study_id).get(unit, {})
    if member.name in rows and duties_separate(session):
        label = study_labels(session).get(study_id, str(study_id))
        place = (
            f"{tool} domain {dom}"
            + (f" of {res}" if res else "")
            + (f" (outcome group {group})" if group else "")
        )
        raise own_work_refused(
            member.name, f"judged {place} for study {label} ({study_id})", "its consensus"
        )
    if support is None:
        support = next(
            (
                rows[n].support
                for n in sorted(rows)
                if rows[n].judgement == value and rows[n].support
            ),
            "",
        )
    state: dict[str, dict[str, Any]] = {}
    now = audit.log.utc_now()
    row = _write_consensus(session, actor, unit, value, support, ADJUDICATOR, now, state)
    session.flush()
    if tool == ROB1:
        _rate(session, study_id, overall_rule(session), now, state)
    audit.record(
        session,
        actor,
        RobConsensusChanged(change="resolve", tool=tool, study=study_id, result=res, state=state),
    )
    return _consensus_view(row, study_labels(session))


def unblind(session: Session, *, actor: str) -> bool:
    """End blinding of risk of bias (owners only; ``rob unblind``): from now on every assessor
    sees the others' judgements. Returns False when it was not blind. Never turned back on; one
    ``stage-unblinded`` event (stage ``rob``, key ``rob.blind``)."""
    require(session, actor, Action.CHANGE_SETTINGS, doing="end risk-of-bias blinding")
    if not setting(session, BLIND_KEY):
        return False
    row = session.get(ReviewSetting, BLIND_KEY)
    before = json.loads(row.value) if row is not None else None
    if row is None:
        row = ReviewSetting(key=BLIND_KEY, value="")
    row.value = audit.log.canonical_json(False)
    session.add(row)
    session.flush()
    audit.record(
        session, actor, StageUnblinded(stage="rob", key=BLIND_KEY, before=before, after=False)
    )
    return True


# --- agreement ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DomainAgreement:
    """Agreement of two assessors on one domain over the studies (results) both judged.

    ``agreement`` holds Cohen's kappa, its standard error and interval, PABAK and AC1
    (``reviewtool.agreement``), over the tool's three judgement levels.
    """

    tool: str
    domain: str
    assessor_a: str
    assessor_b: str
    agreement: Agreement

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: tool, domain, the two assessors and every agreement statistic."""
        return {
            "tool": self.tool,
            "domain": self.domain,
            "assessor_a": self.assessor_a,
            "assessor_b": self.assessor_b,
            **self.agreement.to_dict(),
        }


def agreement(session: Session, *, actor: str, tool: str = ROB1) -> list[DomainAgreement]:
    """Cohen's kappa (and PABAK, AC1) per domain for every pair of assessors, over the units both
    judged (RoB 1: studies, whole-study rows; RoB 2: results). Domains in the tool's order; a
    domain both never judged is left out. Refused while risk of bias is blind to ``actor``."""
    _require_others_visible(session, actor, "read risk-of-bias agreement")
    tool = parse_tool(tool)
    levels = (
        [j.value for j in tools.ROB1_JUDGEMENT_ORDER]
        if tool == ROB1
        else [j.value for j in tools.ROB2_JUDGEMENT_ORDER]
    )
    per_domain: dict[str, dict[str, dict[tuple[int, str, str], str]]] = {}
    for (_tool, study, result, domain, group), rows in _by_unit(session, tool, None).items():
        for name, row in rows.items():
            if row.judgement is not None:
                per_domain.setdefault(domain, {}).setdefault(name, {})[(study, result, group)] = (
                    row.judgement
                )
    order = _domain_order()
    found: list[DomainAgreement] = []
    for domain in sorted(per_domain, key=lambda d: order.get(d, 50)):
        by_assessor = per_domain[domain]
        names = sorted(by_assessor)
        for i, a in enumerate(names):
            for b in names[i + 1 :]:
                shared = sorted(by_assessor[a].keys() & by_assessor[b].keys())
                if not shared:
                    continue
                pairs = [(by_assessor[a][k], by_assessor[b][k]) for k in shared]
                found.append(
                    DomainAgreement(
                        tool, domain, a, b, agreement_from_pairs(pairs, categories=levels)
                    )
                )
    return found


# --- status and the overall judgements -------------------------------------------------------------


def overall_rule(session: Session) -> str:
    """The RoB 1 overall rule in force (setting ``rob1.overall_rule``)."""
    return str(setting(session, RULE_KEY))


def rob1_overall(domains: Mapping[str, str], rule: str) -> algorithms.Rob1Overall:
    """The RoB 1 overall rating of one study from its domain judgements (letter -> Low/Unclear/
    High, outcome groups already folded to their worst) by ``rule`` (``rob.algorithms``
    ``rob1_overall``: its ``judgement`` is None while a domain the rule reads is missing; ``risk``
    the RoB 1 level the rating stands for; ``rule`` the rule's name)."""
    return algorithms.rob1_overall(dict(domains), rule)


def _fold_groups(rows: Iterable[tuple[str, str, str | None]]) -> dict[str, str]:
    """(domain, outcome group, judgement) -> domain -> its worst judgement over the groups."""
    rank = {j.value: i for i, j in enumerate(tools.ROB1_JUDGEMENT_ORDER)}
    worst: dict[str, str] = {}
    for domain, _group, judgement in rows:
        if judgement is None:
            continue
        if domain not in worst or rank[judgement] > rank[worst[domain]]:
            worst[domain] = judgement
    return worst


def consensus_table(session: Session, tool: str = ROB1) -> dict[tuple[int, str], dict[str, str]]:
    """(study, result) -> domain -> the consensus judgement in force (no access check: library
    use by ``overall_by_study`` and the exports, which check it)."""
    table: dict[tuple[int, str], list[tuple[str, str, str | None]]] = {}
    rows = session.exec(
        select(RobConsensus).where(RobConsensus.tool == tool, RobConsensus.status == AGREED)
    ).all()
    for row in rows:
        table.setdefault((row.study_id, row.result), []).append(
            (row.domain, row.outcome_group, row.judgement)
        )
    if tool == ROB1:
        return {unit: _fold_groups(r) for unit, r in table.items()}
    return {unit: {d: j for d, _g, j in r if j is not None} for unit, r in table.items()}


def _rate(
    session: Session, study: int, rule: str, now: str, state: dict[str, dict[str, Any]]
) -> bool:
    """Store ``study``'s RoB 1 overall rating by ``rule`` from its consensus domains in force
    (None while a domain the rule reads has none), noting the snapshot in ``state``. A study
    that never had a consensus gets no row. Returns True when the stored rating changed."""
    session.flush()
    rows = session.exec(
        select(RobConsensus.domain, RobConsensus.outcome_group, RobConsensus.judgement).where(
            RobConsensus.tool == ROB1,
            RobConsensus.study_id == study,
            RobConsensus.status == AGREED,
        )
    ).all()
    result = rob1_overall(_fold_groups(rows), rule)
    rating = result.judgement
    risk = str(result.risk) if result.risk is not None else None
    row = session.get(Rob1Overall, study)
    if row is None and rating is None:
        return False
    if row is not None and (row.rating, row.risk, row.rule) == (rating, risk, rule):
        return False
    if row is None:
        row = Rob1Overall(study_id=study, rule=rule, rated_at=now)
    row.rating, row.risk, row.rule, row.rated_at = rating, risk, rule, now
    session.add(row)
    state.setdefault("rob1_overall", {})[overall_key(study)] = overall_snapshot(rating, risk, rule)
    return True


@dataclass(frozen=True)
class OverallRating:
    """One study's stored RoB 1 overall rating (``rating`` None: incomplete) and its rule."""

    study: str
    rating: str | None
    risk: str | None
    rule: str


RULE_KEY = "rob1.overall_rule"


def set_overall_rule(
    session: Session, *, actor: str, rule: str | None = None
) -> list[OverallRating]:
    """Make ``rule`` the RoB 1 overall rule (setting ``rob1.overall_rule``; None keeps the rule in
    force) and rate every study's overall again by it (``rob rule``; owners only).

    The setting is changed here and nowhere else once a review exists (``settings set`` refers
    here), so a stored rating never names a rule other than the one that made it. Records one
    ``setting-changed`` event when the rule changes and one ``rob-consensus`` event (change
    ``rule``) per study whose stored rating changed; returns those studies' new ratings. An
    unknown rule raises InvalidInput naming the rules. Sources of the rules: ``rob.algorithms``.
    """
    require(session, actor, Action.CHANGE_SETTINGS, doing="change the RoB 1 overall rule")
    if rule is not None:
        name = rule.strip().lower().replace("-", "_")
        if name not in algorithms.ROB1_OVERALL_RULES:
            raise InvalidInput(
                f"unknown RoB 1 overall rule {rule!r}; use one of "
                f"{', '.join(algorithms.ROB1_OVERALL_RULES)}"
            )
        row = session.get(ReviewSetting, RULE_KEY)
        before = json.loads(row.value) if row is not None else None
        if name != overall_rule(session):
            if row is None:
                row = ReviewSetting(key=RULE_KEY, value="")
            row.value = audit.log.canonical_json(name)
            session.add(row)
            session.flush()
            audit.record(session, actor, SettingChanged(key=RULE_KEY, before=before, after=name))
    rule_now = overall_rule(session)
    now = audit.log.utc_now()
    labels = study_labels(session)
    studies = set(
        session.exec(select(RobConsensus.study_id).where(RobConsensus.tool == ROB1)).all()
    )
    studies.update(session.exec(select(Rob1Overall.study_id)).all())
    changed: list[OverallRating] = []
    for study in sorted(studies):
        state: dict[str, dict[str, Any]] = {}
        if not _rate(session, study, rule_now, now, state):
            continue
        session.flush()
        audit.record(
            session,
            actor,
            RobConsensusChanged(change="rule", tool=ROB1, study=study, result="", state=state),
        )
        stored = session.get(Rob1Overall, study)
        assert stored is not None
        changed.append(
            OverallRating(labels.get(study, str(study)), stored.rating, stored.risk, stored.rule)
        )
    return changed


def stored_overall(session: Session) -> list[OverallRating]:
    """Every stored RoB 1 overall rating (complete or not) with its rule, by study label. No
    access check (consensus is visible to every member; callers check the person)."""
    labels = study_labels(session)
    rows = session.exec(select(Rob1Overall)).all()
    return sorted(
        (
            OverallRating(labels.get(r.study_id, str(r.study_id)), r.rating, r.risk, r.rule)
            for r in rows
        ),
        key=lambda o: o.study,
    )


def overall_by_study(session: Session, *, risk: bool = False) -> dict[str, str]:
    """study label -> the stored consensus RoB 1 overall rating of that study (``Rob1Overall``,
    made by the rule stored with it), for every study whose rating is complete.

    Plain data for the analysis (``analyze run --exclude-rob`` / ``--by rob_overall``, composed by
    the CLI): the analysis matches its ``study`` column against these labels. No access check:
    the caller has checked the person (consensus is visible to every member).
    """
    found: dict[str, str] = {}
    for o in stored_overall(session):
        value = o.risk if risk else o.rating
        if o.rating is not None and value is not None:
            found[o.study] = value
    return dict(sorted(found.items()))


def overall_risk_by_study(session: Session) -> dict[str, str]:
    """study label -> the RoB 1 risk level (Low / Unclear / High) the consensus overall rating
    stands for under the rule in force (``count_unmet``'s "low quality" is High): what
    ``--exclude-rob high`` compares with. Same studies as ``overall_by_study``."""
    return overall_by_study(session, risk=True)


@dataclass(frozen=True)
class RobStatus:
    """Where risk of bias stands for the person asking.

    :ivar blind: True while risk of bias is blind (to reviewers); ``blind_to_you`` for the viewer.
    :ivar studies: how many studies the review has.
    :ivar assessed: assessor -> studies (RoB 1) / results (RoB 2) they judged fully; only the
        viewer's own while it is blind to them.
    :ivar consensus: domains with a consensus in force; ``reopened`` those reopened.
    :ivar disagreements: domains in disagreement without consensus (None while blind to you).
    :ivar agreeable: domains every assessor judged alike that have no consensus in force yet:
        what ``rob agree`` would record now (None while blind to you).
    :ivar overall: RoB 1 consensus overall rating -> studies (with the rule ``rule``).
    :ivar attrition_high: labels of the studies whose consensus RoB 1 domain E is High.
    """

    tool: str
    blind: bool
    blind_to_you: bool
    studies: int
    assessed: dict[str, int]
    consensus: int
    reopened: int
    disagreements: int | None
    agreeable: int | None
    rule: str | None
    overall: dict[str, int]
    attrition_high: list[str]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


def status(session: Session, *, actor: str, tool: str = ROB1) -> RobStatus:
    """Progress, consensus and (for RoB 1) the overall ratings by the rule in force."""
    require(session, actor, Action.READ, doing="read risk-of-bias status")
    _check_studies_visible(session, actor)
    tool = parse_tool(tool)
    blind = blind_to(session, actor)
    labels = study_labels(session)
    units = _by_unit(session, tool, None)
    needed = 7 if tool == ROB1 else 6
    done: dict[str, set[tuple[int, str]]] = {}
    for (_tool, study, result, _domain, group), rows in units.items():
        for name, row in rows.items():
            if row.judgement is not None and not group:
                done.setdefault(name, set()).add((study, result))
    counts: dict[str, int] = {}
    for name, studies in done.items():
        full = 0
        for study, result in studies:
            judged = {
                u[3]
                for u, by_name in units.items()
                if u[1] == study and u[2] == result and name in by_name and by_name[name].judgement
            }
            full += len(judged) >= needed
        counts[name] = full
    if blind:
        counts = {actor: counts.get(actor, 0)}
    statuses = session.exec(select(RobConsensus.status).where(RobConsensus.tool == tool)).all()
    agreed = sum(s == AGREED for s in statuses)
    reopened = sum(s == REOPENED for s in statuses)
    disagreements = None if blind else len(compare(session, actor=actor, tool=tool))
    agreeable: int | None = None
    if not blind:
        agreeable = 0
        for unit, by_name in units.items():
            values = {r.judgement for r in by_name.values()}
            if len(by_name) >= 2 and len(values) == 1 and None not in values:
                current = _consensus_row(session, *unit)
                agreeable += current is None or current.status != AGREED
    overall: dict[str, int] = {}
    attrition: list[str] = []
    rule: str | None = None
    if tool == ROB1:
        stored = stored_overall(session)
        rules = sorted({o.rule for o in stored}) or [overall_rule(session)]
        rule = ", ".join(rules)
        for o in stored:
            if o.rating is not None:
                overall[o.rating] = overall.get(o.rating, 0) + 1
        for (study, _r), domains in consensus_table(session, ROB1).items():
            if domains.get("E") == tools.Rob1Judgement.HIGH.value and study in labels:
                attrition.append(labels[study])
    return RobStatus(
        tool=tool,
        blind=bool(setting(session, BLIND_KEY)),
        blind_to_you=blind,
        studies=len(labels),
        assessed=dict(sorted(counts.items())),
        consensus=agreed,
        reopened=reopened,
        disagreements=disagreements,
        agreeable=agreeable,
        rule=rule,
        overall=dict(sorted(overall.items())),
        attrition_high=sorted(attrition),
    )


__all__ = [
    "ConsensusView",
    "Difference",
    "DomainAgreement",
    "JudgementView",
    "OverallRating",
    "RobStatus",
    "agree",
    "agreement",
    "answer",
    "blind_to",
    "compare",
    "consensus",
    "domain_algorithm",
    "find_study",
    "judgements",
    "overall_by_study",
    "overall_risk_by_study",
    "parse_result",
    "parse_tool",
    "resolve",
    "rob1_overall",
    "set_judgement",
    "set_overall_rule",
    "status",
    "stored_overall",
    "study_labels",
    "unblind",
]
