"""Stopping title/abstract screening early under a stopping rule (issue 15).

The rules themselves are the pure kernel ``screening.stopping``; this module gives them each
reviewer's screening history and records an owner's decision to stop.

A reviewer's history (``histories``) is their current votes at title/abstract in the order they
first voted on each reference (the order they screened in), each with whether it was an include
(include or maybe) and the queue order it was drawn in (``screening_decision.queue_order``:
``mixed-random`` votes are the random sample the statistical rule tests on). Blinding: a reviewer
sees only their own history while title/abstract is blind to them; owners and adjudicators every
reviewer's.

``stop_check`` evaluates every rule of ``RULES`` (parameters from the settings) for each reviewer;
a rule is met for the review when it is met for every reviewer who has voted. ``stop_screening``
(an owner, ``screen stop --rule R``) refuses unless the rule is met, then sets aside the references
nobody has voted on at title/abstract: they leave every queue and count in PRISMA as "records not
screened because screening stopped". References with at least one vote stay in the queues of the
reviewers who have not voted on them, so every reference screened is screened in duplicate. One
``screening-stopped`` event carries the rule, its evidence per reviewer and the methods paragraph.

Undo: ``resume_screening`` (an owner, ``screen stop --undo --reason R``) brings the references set
aside back into the queues, with a ``screening-stopped`` event (``resume``); the stop's row stays
(marked resumed), so the ledger still shows that screening once stopped and why it resumed. A stop
is only possible while no calibration round is open and no other stop is in force.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, col, select

from reviewtool import audit
from reviewtool.access import require, sight
from reviewtool.audit.events import ScreeningStopped
from reviewtool.domain import Action, Decision, Stage
from reviewtool.errors import InvalidInput
from reviewtool.screening.owner_rows import loaded, named, record_row
from reviewtool.storage.models import Member, ScreeningDecision, ScreeningStop

if TYPE_CHECKING:
    from reviewtool.screening.stopping import StopEvidence

STAGE = Stage.TITLE_ABSTRACT.value


def _in_force(session: Session) -> ScreeningStop | None:
    return session.exec(
        select(ScreeningStop)
        .where(col(ScreeningStop.resumed_at).is_(None))
        .order_by(col(ScreeningStop.id).desc())
    ).first()


def set_aside(session: Session) -> set[int]:
    """The references the stop in force keeps out of the queues now (empty when screening is not
    stopped): those it set aside (``screening_stop.references``) that are still references at
    title/abstract and still have no vote there.

    Derived from the current references, so a stop follows later dedup merges and splits (a
    reference's id is the smallest record id of its group: a merge keeps the older id, a split
    gives each part its id back, ``storage.models.Reference``): merging two references set aside
    leaves one; merging one with a reference someone voted on brings the merged reference back
    into the queues of the reviewers who have not voted on it (every reference screened is
    screened in duplicate); undoing the merge sets the part without votes aside again."""
    row = _in_force(session)
    if row is None:
        return set()
    return set(json.loads(row.references)) & set(not_voted(session))


def stop_snapshot(row: ScreeningStop, names: dict[int, str]) -> dict[str, Any]:
    """What the ledger records of a stop (``queue_ledger`` reads the same from the table)."""
    return {
        "stage": row.stage,
        "rule": row.rule,
        "evidence": loaded(row.evidence),
        "references": loaded(row.references),
        "methods": row.methods,
        "by": named(names, row.stopped_by_id),
        "resumed_at": row.resumed_at,
        "resumed_by": named(names, row.resumed_by_id),
        "resume_reason": row.resume_reason,
    }


@dataclass(frozen=True)
class History:
    """One reviewer's title/abstract screening in the order they screened.

    :ivar references: reference ids, first voted first.
    :ivar included: True where their current vote is include or maybe.
    :ivar orders: the queue order each was drawn in (``imported`` from a file; None: cast before
        schema 0017).
    """

    reviewer: str
    references: tuple[int, ...]
    included: tuple[bool, ...]
    orders: tuple[str | None, ...]


def histories(session: Session, *, actor: str) -> list[History]:
    """Every reviewer's history ``actor`` may see (only their own while title/abstract is blind to
    them), by reviewer name."""
    seen = sight(session, actor)
    names = dict(session.exec(select(Member.id, Member.name)).all())
    d = ScreeningDecision
    columns: list[Any] = [d.member_id, d.reference_id, d.decision, d.queue_order, d.superseded_at]
    rows = session.exec(select(*columns).where(d.stage == STAGE).order_by(col(d.id))).all()
    first: dict[int, dict[int, str | None]] = {}
    current: dict[int, dict[int, bool]] = {}
    for member_id, ref, decision, order, superseded in rows:
        if not seen.sees_others(STAGE) and names.get(member_id) != actor:
            continue
        first.setdefault(member_id, {}).setdefault(ref, order)
        if superseded is None:
            current.setdefault(member_id, {})[ref] = decision != Decision.EXCLUDE
    out = []
    for member_id, refs in first.items():
        now = current.get(member_id, {})
        kept = [r for r in refs if r in now]  # a vote taken back is not a screening
        out.append(
            History(
                names[member_id],
                tuple(kept),
                tuple(now[r] for r in kept),
                tuple(refs[r] for r in kept),
            )
        )
    return sorted(out, key=lambda h: h.reviewer)


def not_voted(session: Session) -> list[int]:
    """References at title/abstract that nobody has voted on (what a stop would set aside)."""
    from reviewtool.screening.service import eligible

    voted = set(
        session.exec(
            select(ScreeningDecision.reference_id).where(
                ScreeningDecision.stage == STAGE,
                col(ScreeningDecision.superseded_at).is_(None),
            )
        ).all()
    )
    return [r for r in eligible(session, Stage.TITLE_ABSTRACT) if r not in voted]


def not_screened(session: Session) -> set[int]:
    """PRISMA's "records not screened because screening stopped": ``set_aside``, the references
    the stop in force set aside that are references now and have no vote (a reference that
    gained a vote through a merge counts as screened)."""
    return set_aside(session)


def _record(session: Session, actor: str, row: ScreeningStop, change: str) -> None:
    record_row(
        session,
        actor,
        row,
        lambda row_id, names: ScreeningStopped(
            stop_id=row_id, change=change, after=stop_snapshot(row, names)
        ),
    )


def record_stop(
    session: Session, *, actor: str, rule: str, evidence: dict[str, Any], methods: str
) -> tuple[int, list[int]]:
    """Set aside the references nobody has voted on (an owner) under ``rule``; (stop id, the
    references). The caller (``stop_screening`` in ``stop_rules``) has checked the rule is met.
    InvalidInput when a stop is in force already, a calibration round is open, or nothing is
    left to set aside."""
    from reviewtool.screening.calibration import open_round

    member = require(session, actor, Action.CHANGE_SETTINGS, doing="stop screening")
    assert member.id is not None
    if _in_force(session) is not None:
        raise InvalidInput(
            "screening is stopped already (`screen stop --undo --reason R` undoes it)"
        )
    if open_round(session) is not None:
        raise InvalidInput("a calibration round is open: close it first (`screen calibrate`)")
    aside = not_voted(session)
    if not aside:
        raise InvalidInput("every reference has been screened: there is nothing left to stop")
    row = ScreeningStop(
        stage=STAGE,
        rule=rule,
        evidence=json.dumps(evidence, sort_keys=True, separators=(",", ":")),
        references=json.dumps(aside),
        methods=methods,
        stopped_at=audit.log.utc_now(),
        stopped_by_id=member.id,
    )
    _record(session, actor, row, "stop")
    assert row.id is not None
    return row.id, aside


def resume_screening(session: Session, *, actor: str, reason: str) -> list[int]:
    """Undo the stop in force (an owner), with ``reason``: the references it set aside go back to
    the queues. Returns them. InvalidInput without a reason or when screening is not stopped."""
    member = require(session, actor, Action.CHANGE_SETTINGS, doing="resume screening")
    assert member.id is not None
    reason = " ".join(reason.split())
    if not reason:
        raise InvalidInput("say why screening resumes: --reason")
    row = _in_force(session)
    if row is None:
        raise InvalidInput("screening is not stopped")
    row.resumed_at = audit.log.utc_now()
    row.resumed_by_id = member.id
    row.resume_reason = reason
    _record(session, actor, row, "resume")
    return list(json.loads(row.references))


# -- the rules, evaluated on each reviewer's history ------------------------------------------------

#: Rule name -> the settings of its parameters (``domain.SETTINGS``).
RULE_SETTINGS: dict[str, dict[str, str]] = {
    "consecutive_exclusions": {
        "n": "screening.stop_consecutive",
        "recall_target": "screening.stop_recall_target",
        "confidence": "screening.stop_consecutive_confidence",
    },
    "hypergeometric": {
        "recall_target": "screening.stop_recall_target",
        "confidence": "screening.stop_confidence",
    },
    "safe": {
        "consecutive": "screening.stop_safe_consecutive",
        "min_fraction": "screening.stop_safe_min_fraction",
        "relevant_factor": "screening.stop_safe_relevant_factor",
        "recall_target": "screening.stop_recall_target",
        "confidence": "screening.stop_safe_confidence",
    },
}
PRIORITISED = ("relevance", "mixed-relevance", "mixed-random")


def sample_start(orders: tuple[str | None, ...]) -> int | None:
    """Where a reviewer's random sample begins, for the hypergeometric rule: the start of the run of
    votes cast in random order that ends their history, after prioritised screening (the owner set
    ``screening.order`` back to random for it). 0 when every vote was cast in random order (the
    whole history is a random sample); None when the history does not end in random order."""
    if not orders or orders[-1] != "random":
        return None
    start = len(orders)
    while start > 0 and orders[start - 1] == "random":
        start -= 1
    return start


def _switched_at(history: History, models: tuple[str | None, ...]) -> int | None:
    """SAFE's stage 3: the first vote ranked by another classifier than the first prioritised one
    (``screening.model`` changed), or None."""
    first: str | None = None
    for i, (order, model) in enumerate(zip(history.orders, models, strict=True)):
        if order not in PRIORITISED or not model:
            continue
        name = model.split(":", 1)[0]
        if first is None:
            first = name
        elif name != first:
            return i
    return None


def evaluate(
    rule: str,
    history: History,
    *,
    total: int,
    parameters: dict[str, Any],
    models: tuple[str | None, ...] = (),
) -> StopEvidence:
    """One rule's ``stopping.StopEvidence`` on one reviewer's history of ``total`` references,
    with the counts of the history's order stamps (``order_counts``) in ``orders``.

    consecutive_exclusions and hypergeometric (random sample from ``sample_start``) as in
    ``screening.stopping``; safe with stage 1 the run of votes stamped ``random`` that begins the
    history (``random_training``) and stage 3 from ``_switched_at``. One rule for every rule: only
    votes stamped ``random`` are a random sample; votes imported from files, cast in a calibration
    round or unstamped count as screened records, never as a random sample."""
    from dataclasses import replace

    from reviewtool.screening import stopping

    labels = list(history.included)
    evidence: stopping.StopEvidence
    if rule == "consecutive_exclusions":
        evidence = stopping.consecutive_exclusions(
            labels,
            total=total,
            n=int(parameters["n"]),
            recall_target=float(parameters["recall_target"]),
            confidence=float(parameters["confidence"]),
        )
    elif rule == "hypergeometric":
        evidence = stopping.hypergeometric_test(
            labels,
            total=total,
            sample_start=sample_start(history.orders),
            recall_target=float(parameters["recall_target"]),
            confidence=float(parameters["confidence"]),
        )
    else:
        evidence = stopping.safe_procedure(
            labels,
            total=total,
            random_training=random_training(history.orders),
            switched_at=_switched_at(history, models or (None,) * len(labels)),
            consecutive=int(parameters["consecutive"]),
            min_fraction=float(parameters["min_fraction"]),
            relevant_factor=float(parameters["relevant_factor"]),
            recall_target=float(parameters["recall_target"]),
            confidence=float(parameters["confidence"]),
        )
    return replace(evidence, orders=order_counts(history.orders))


def order_counts(orders: tuple[str | None, ...]) -> dict[str, int]:
    """How many votes carry each order stamp (``unstamped`` for None), for ``StopEvidence.orders``."""
    counts: dict[str, int] = {}
    for order in orders:
        key = order or "unstamped"
        counts[key] = counts.get(key, 0) + 1
    return counts


def random_training(orders: tuple[str | None, ...]) -> int:
    """SAFE's stage 1: the length of the run of votes stamped ``random`` that begins a history
    (0 when the first vote is not: an imported or calibration vote is no random sample)."""
    run = 0
    for order in orders:
        if order != "random":
            break
        run += 1
    return run


@dataclass(frozen=True)
class RuleCheck:
    """One rule for the review: its parameters, each reviewer's evidence (``as_dict`` of
    ``stopping.StopEvidence``) and whether it is met for every reviewer (None when the viewer may
    see only their own evidence, or nobody has screened)."""

    rule: str
    parameters: dict[str, Any]
    evidence: dict[str, dict[str, Any]]
    met: bool | None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "rule": self.rule,
            "parameters": self.parameters,
            "met": self.met,
            "evidence": self.evidence,
        }


def _models(session: Session, history: History, member_id: int) -> tuple[str | None, ...]:
    rows = session.exec(
        select(ScreeningDecision.reference_id, ScreeningDecision.model_version)
        .where(ScreeningDecision.member_id == member_id, ScreeningDecision.stage == STAGE)
        .order_by(col(ScreeningDecision.id))
    ).all()
    first: dict[int, str | None] = {}
    for ref, model in rows:
        first.setdefault(ref, model)
    return tuple(first.get(r) for r in history.references)


def stop_check(session: Session, *, actor: str) -> list[RuleCheck]:
    """Every stopping rule (``RULE_SETTINGS``, parameters from the settings) on every history
    ``actor`` may see (``histories``); a rule is met for the review when it is met for every
    reviewer who has screened. A reviewer at a blind stage sees their own evidence only (``met``
    None). The total is the references at title/abstract (not removed before screening)."""
    from reviewtool.screening.service import eligible
    from reviewtool.storage.queries import setting

    require(session, actor, Action.READ, doing="check the stopping rules")
    seen = sight(session, actor)
    seen.check_stage_open(STAGE)
    total = len(eligible(session, Stage.TITLE_ABSTRACT))
    ids = {name: mid for mid, name in session.exec(select(Member.id, Member.name)).all() if mid}
    found = histories(session, actor=actor)
    checks = []
    for rule, keys in RULE_SETTINGS.items():
        parameters = {name: setting(session, key) for name, key in keys.items()}
        evidence = {}
        for history in found:
            models = _models(session, history, ids[history.reviewer])
            evidence[history.reviewer] = evaluate(
                rule, history, total=total, parameters=parameters, models=models
            ).as_dict()
        met: bool | None = None
        if seen.sees_others(STAGE) and evidence:
            met = all(e["met"] for e in evidence.values())
        checks.append(RuleCheck(rule, parameters, evidence, met))
    return checks


def methods_paragraph(check: RuleCheck, set_aside_count: int, total: int) -> str:
    """The ready-to-paste methods paragraph of a stop: how the rule was applied to dual screening,
    each reviewer's own paragraph (``StopEvidence.methods_text``), and what was left unscreened."""
    reviewers = sorted(check.evidence)
    head = (
        (
            "Title and abstract screening was done by one reviewer and stopped early under a "
            "stopping rule evaluated on their decisions; screening stopped when the rule was met."
        )
        if len(reviewers) == 1
        else (
            f"Title and abstract screening was done independently by {len(reviewers)} reviewers, "
            "each in their own queue order, and stopped early under a stopping rule evaluated on "
            "each reviewer's own decisions; screening stopped when the rule was met for every "
            "reviewer."
        )
    )
    parts = [f"Reviewer {who}: {check.evidence[who]['methods_text']}" for who in reviewers]
    tail = (
        f"When screening stopped, {set_aside_count} of the {total} records had not been screened "
        "by any reviewer; they are reported in the PRISMA flow diagram as records not screened "
        "because screening stopped."
    )
    return " ".join([head, *parts, tail])


@dataclass(frozen=True)
class StopResult:
    """A stop just recorded: its id, the references set aside and the methods paragraph."""

    stop_id: int
    references: list[int]
    methods: str


def stop_screening(session: Session, *, actor: str, rule: str) -> StopResult:
    """End title/abstract screening under ``rule`` (an owner): InvalidInput naming the rules when
    it is unknown, and naming the reviewers for whom it is not met when it is not met for all;
    else ``record_stop`` with the evidence and the methods paragraph."""
    from reviewtool.screening.service import eligible

    require(session, actor, Action.CHANGE_SETTINGS, doing="stop screening")
    if rule not in RULE_SETTINGS:
        raise InvalidInput(f"unknown stopping rule {rule!r}; rules: {', '.join(RULE_SETTINGS)}")
    check = next(c for c in stop_check(session, actor=actor) if c.rule == rule)
    if not check.evidence:
        raise InvalidInput("nobody has screened yet: no stopping rule can be met")
    unmet = sorted(who for who, e in check.evidence.items() if not e["met"])
    if unmet:
        raise InvalidInput(
            f"stopping rule {rule} is not met for {', '.join(unmet)} "
            "(see `reviewtool screen stop-check`)"
        )
    aside = not_voted(session)
    total = len(eligible(session, Stage.TITLE_ABSTRACT))
    methods = methods_paragraph(check, len(aside), total)
    stop_id, refs = record_stop(
        session, actor=actor, rule=rule, evidence=check.to_dict(), methods=methods
    )
    return StopResult(stop_id, refs, methods)
