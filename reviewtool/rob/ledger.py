"""What ``audit verify`` checks of risk of bias: each assessor's judgements and the consensus.

The readers give the snapshots ``rob.service`` puts in its ``rob-assessed`` and ``rob-consensus``
events (``judgement_snapshot``, ``consensus_snapshot``), read as column tuples. Keys:
``tool|study|result|domain|outcome group|assessor`` for a judgement and
``tool|study|result|domain|outcome group`` for a consensus (``|``: an outcome's name may hold
``:``). See ``storage.snapshots`` for the registry.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from typing import Any

from sqlmodel import Session, select

from reviewtool.storage.models import Rob1Overall, RobConsensus, RobJudgement
from reviewtool.storage.snapshots import (
    declare_unchecked,
    json_or_text,
    member_names,
    only,
    register_state,
    stream,
)


def judgement_key(
    tool: str, study: int, result: str, domain: str, group: str, assessor: str
) -> str:
    """The ledger id of one assessor's judgement of one domain."""
    return f"{tool}|{study}|{result}|{domain}|{group}|{assessor}"


def consensus_key(tool: str, study: int, result: str, domain: str, group: str) -> str:
    """The ledger id of the consensus of one domain."""
    return f"{tool}|{study}|{result}|{domain}|{group}"


def judgement_snapshot(
    judgement: str | None,
    algorithm: str | None,
    justification: str | None,
    support: str,
    direction: str | None,
    answers: dict[str, str],
) -> dict[str, Any]:
    """What the ledger records of one assessor's judgement of one domain."""
    return {
        "judgement": judgement,
        "algorithm": algorithm,
        "justification": justification,
        "support": support,
        "direction": direction,
        "answers": answers,
    }


def consensus_snapshot(row: RobConsensus) -> dict[str, Any]:
    """What the ledger records of the consensus of one domain."""
    return {
        "judgement": row.judgement,
        "support": row.support,
        "how": row.how,
        "status": row.status,
        "reopened_because": row.reopened_because,
        "decided_by": row.decided_by,
    }


def overall_key(study: int) -> str:
    """The ledger id of one study's RoB 1 overall rating."""
    return f"rob1|{study}"


def overall_snapshot(rating: str | None, risk: str | None, rule: str) -> dict[str, Any]:
    """What the ledger records of one study's RoB 1 overall rating: the rating, the risk level it
    stands for and the rule (``rob1.overall_rule``) that made it."""
    return {"rating": rating, "risk": risk, "rule": rule}


def _overall(session: Session, ids: Collection[str] | None) -> Iterator[tuple[str, Any]]:
    o = Rob1Overall
    query = select(o.study_id, o.rating, o.risk, o.rule)
    found = (
        (overall_key(study), overall_snapshot(rating, risk, rule))
        for study, rating, risk, rule in stream(session, query)
    )
    yield from only(ids, found)


def _judgements(session: Session, ids: Collection[str] | None) -> Iterator[tuple[str, Any]]:
    names = member_names(session)
    j = RobJudgement
    columns: list[Any] = [
        j.tool,
        j.study_id,
        j.result,
        j.domain,
        j.outcome_group,
        j.assessor_id,
        j.judgement,
        j.algorithm,
        j.justification,
        j.support,
        j.direction,
        j.answers,
    ]
    query = select(*columns)
    found = (
        (
            judgement_key(tool, study, result, domain, group, names.get(who, f"#{who}")),
            judgement_snapshot(
                judgement, algorithm, justification, support, direction, json_or_text(answers)
            ),
        )
        for (
            tool,
            study,
            result,
            domain,
            group,
            who,
            judgement,
            algorithm,
            justification,
            support,
            direction,
            answers,
        ) in stream(session, query)
    )
    yield from only(ids, found)


def _consensus(session: Session, ids: Collection[str] | None) -> Iterator[tuple[str, Any]]:
    c = RobConsensus
    columns: list[Any] = [
        c.tool,
        c.study_id,
        c.result,
        c.domain,
        c.outcome_group,
        c.judgement,
        c.support,
        c.how,
        c.status,
        c.reopened_because,
        c.decided_by,
    ]
    query = select(*columns)
    found = (
        (
            consensus_key(tool, study, result, domain, group),
            {
                "judgement": judgement,
                "support": support,
                "how": how,
                "status": status,
                "reopened_because": because,
                "decided_by": by,
            },
        )
        for (
            tool,
            study,
            result,
            domain,
            group,
            judgement,
            support,
            how,
            status,
            because,
            by,
        ) in stream(session, query)
    )
    yield from only(ids, found)


register_state(
    "rob_judgement",
    _judgements,
    covers={
        "rob_judgement": (
            "tool",
            "study_id",
            "result",
            "domain",
            "outcome_group",
            "assessor_id",
            "judgement",
            "algorithm",
            "justification",
            "support",
            "direction",
            "answers",
        )
    },
)
declare_unchecked(
    "rob_judgement",
    {
        "id": "a surrogate key; the ledger names a judgement by tool, study, result, domain, "
        "outcome group and assessor",
        "changed_by": "a copy for listings; the rob-assessed event's actor is the audited one",
        "changed_at": "a copy for listings; the rob-assessed event's time is the audited one",
    },
)
register_state(
    "rob_consensus",
    _consensus,
    covers={
        "rob_consensus": (
            "tool",
            "study_id",
            "result",
            "domain",
            "outcome_group",
            "judgement",
            "support",
            "how",
            "status",
            "reopened_because",
            "decided_by",
        )
    },
)
declare_unchecked(
    "rob_consensus",
    {
        "id": "a surrogate key; the ledger names a consensus by tool, study, result, domain and "
        "outcome group",
        "decided_at": "a copy for listings; the rob-consensus event's time is the audited one",
    },
)

register_state(
    "rob1_overall",
    _overall,
    covers={"rob1_overall": ("study_id", "rating", "risk", "rule")},
)
declare_unchecked(
    "rob1_overall",
    {"rated_at": "a copy for listings; the event's time is the audited one"},
)

__all__ = [
    "consensus_key",
    "consensus_snapshot",
    "judgement_key",
    "judgement_snapshot",
    "overall_key",
    "overall_snapshot",
]
