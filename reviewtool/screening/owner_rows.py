"""What calibration rounds and stops share (issue 15): a row an owner changes, stored and recorded
as one event in the same transaction, and the JSON columns of its ledger snapshot."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sqlmodel import Session, SQLModel

from reviewtool import audit
from reviewtool.audit.events import Event
from reviewtool.storage.snapshots import member_names


def record_row(
    session: Session,
    actor: str,
    row: SQLModel,
    event: Callable[[int, dict[int, str]], Event],
) -> None:
    """Store ``row`` (flushed, so it has its id) and record ``event(row id, member names by id)``,
    the typed event that carries the row's snapshot, by ``actor``."""
    session.add(row)
    session.flush()
    row_id = getattr(row, "id", None)
    assert isinstance(row_id, int)
    audit.record(session, actor, event(row_id, member_names(session)))


def loaded(text: str) -> Any:
    """A JSON column's value; its text as it is when it is not JSON (an edit behind the tool's
    back), so ``audit verify`` reports the difference instead of failing."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def named(names: dict[int, str], member_id: int | None) -> str | None:
    """A member's name in a snapshot (``#<id>`` for an id not in ``names``; None for no member)."""
    return None if member_id is None else names.get(member_id, f"#{member_id}")
