"""Screening: the rules every vote and resolution is checked against.

The stage and decision as typed, the stage's exclusion reasons (any case, or a 1-based number from
``screening.exclusion_reasons_*``), the reference a record id names (any record of a duplicate
group names its reference), and whether a reference is open at a stage: removed before screening
(``prescreen``), or at full text not included at title/abstract or its full text not retrieved.
The single-vote path (``votes``), resolutions (``resolutions``) and the bulk imports (``bulk``)
share these functions, so the rules are written once.
"""

from __future__ import annotations

from sqlmodel import Session, select

from reviewtool.domain import Decision, ScreeningOutcome, Stage
from reviewtool.errors import InvalidInput, NotFound, StageOrderError
from reviewtool.screening.prescreen import removed_references
from reviewtool.storage.models import Record
from reviewtool.storage.queries import record_outcome, setting, unobtainable
from reviewtool.storage.references import primary_of


def parse_stage(value: str) -> Stage:
    """``tiab`` or ``fulltext``, or InvalidInput naming the value."""
    if value in (Stage.TITLE_ABSTRACT.value, Stage.FULL_TEXT.value):
        return Stage(value)
    raise InvalidInput(f"stage must be tiab or fulltext, not {value!r}")


def parse_decision(value: str) -> Decision:
    """``include``, ``exclude`` or ``maybe``, or InvalidInput naming the value."""
    try:
        return Decision(value.strip().lower())
    except ValueError:
        raise InvalidInput(f"decision must be include, exclude or maybe, not {value!r}") from None


def exclusion_reasons(session: Session, stage: Stage) -> list[str]:
    """The exclusion reasons offered at ``stage``."""
    key = (
        "screening.exclusion_reasons_tiab"
        if stage is Stage.TITLE_ABSTRACT
        else "screening.exclusion_reasons_fulltext"
    )
    return list(setting(session, key))  # type: ignore[call-overload]


def _reason_required(session: Session, stage: Stage) -> bool:
    key = (
        "screening.reason_required_tiab"
        if stage is Stage.TITLE_ABSTRACT
        else "screening.reason_required_fulltext"
    )
    return bool(setting(session, key))


def _check_reason(
    session: Session, stage: Stage, decision: Decision, reason: str | None
) -> str | None:
    return _reason_for(
        stage,
        decision,
        reason,
        allowed=exclusion_reasons(session, stage),
        required=_reason_required(session, stage),
    )


def _reason_for(
    stage: Stage, decision: Decision, reason: str | None, *, allowed: list[str], required: bool
) -> str | None:
    """The reason as stored (one of ``allowed``), or InvalidInput: the one rule for reasons.

    ``allowed`` and ``required`` are the stage's settings, read once by the caller.
    """
    reason = (reason or "").strip() or None
    if decision is not Decision.EXCLUDE:
        if reason is not None:
            raise InvalidInput("a reason goes with exclude only")
        return None
    if reason is None:
        if required:
            raise InvalidInput(f"excluding at {stage.value} needs a reason: {'; '.join(allowed)}")
        return None
    # Users type reasons; accept any case and a 1-based number from the list.
    if reason.isdigit() and 1 <= int(reason) <= len(allowed):
        return allowed[int(reason) - 1]
    for known in allowed:
        if known.casefold() == reason.casefold():
            return known
    raise InvalidInput(
        f"unknown exclusion reason {reason!r} at {stage.value}; reasons: {'; '.join(allowed)}"
    )


def _check_reference(session: Session, record_id: int) -> int:
    """The reference holding record ``record_id`` (any record of a duplicate group names its
    reference; a reference id is its first record's id). NotFound for an unknown record."""
    return _require_reference(record_id, _maybe_reference(session, record_id))


def _require_reference(record_id: int, reference_id: int | None) -> int:
    """The reference record ``record_id`` is in (``reference_id``: as read, None when there is no
    such record); NotFound for a missing record."""
    if reference_id is None:
        raise NotFound(f"no record {record_id}; see `reviewtool records list`")
    return reference_id


def _maybe_reference(session: Session, record_id: int) -> int | None:
    row = session.exec(select(Record.reference_id).where(Record.id == record_id)).first()
    return None if row is None else int(row)


def _reference(session: Session, reference_id: int) -> Record:
    """The record shown for a reference: its group's primary."""
    record = session.get(Record, primary_of(session, reference_id))
    assert record is not None
    return record


def _check_stage_open(session: Session, record_id: int, stage: Stage) -> None:
    if stage is Stage.TITLE_ABSTRACT:
        _require_not_removed(record_id, removed_references(session))
        return
    outcome = record_outcome(session, record_id, Stage.TITLE_ABSTRACT.value)
    _require_fulltext_open(record_id, outcome, record_id in unobtainable(session))


def _require_not_removed(reference_id: int, removed: dict[int, str]) -> None:
    """InvalidInput when the reference was removed before screening (``removed``: reference ->
    reason, from ``prescreen.removed_references``)."""
    if reference_id in removed:
        raise InvalidInput(
            f"reference {reference_id} was removed before screening ({removed[reference_id]}); "
            f"an owner brings it back with `reviewtool screen restore --reference {reference_id}`"
        )


def _require_fulltext_open(
    record_id: int, tiab: ScreeningOutcome | None, not_retrieved: bool
) -> None:
    """StageOrderError unless the reference was included at title/abstract and its full text
    could be had (``tiab``: its title/abstract outcome, None before any vote; ``not_retrieved``:
    it is in ``queries.unobtainable``)."""
    if tiab is None or not tiab.goes_on:
        status = tiab.status.value if tiab else "not screened"
        raise StageOrderError(
            f"record {record_id} is not included at title/abstract ({status}); only included records reach full text"
        )
    if not_retrieved:
        raise StageOrderError(
            f"record {record_id}: its full text was marked not retrieved, so it cannot be assessed"
        )
