"""What ``audit verify`` checks of extraction: form versions, each extractor's values, consensus.

The snapshots are those ``extraction.service`` puts in its events (``extraction-form``'s
``after``; ``extraction-values`` and ``extraction-consensus`` carry ``state``), read as column
tuples. Value ids are ``study|member|arm|outcome|time point|field`` (``forms.value_id``),
consensus ids ``study|arm|outcome|time point|field`` (``forms.consensus_id``). See
``storage.snapshots`` for the registry.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterator
from typing import Any

from sqlalchemy import String, cast, func, literal
from sqlmodel import Session, select

from reviewtool.storage.models import ExtractionConsensus, ExtractionForm, ExtractionValue, Member
from reviewtool.storage.snapshots import chunks, declare_unchecked, only, register_state, stream

SEPARATOR = "|"  # as extraction.forms.SEPARATOR (storage-level readers stay free of the kernel)


def _study_ids(ids: Collection[str] | None) -> list[list[int] | None]:
    if ids is None:
        return [None]
    found: set[int] = set()
    for entity_id in ids:
        try:
            found.add(int(entity_id.split(SEPARATOR)[0]))
        except ValueError:
            continue
    return list(chunks(sorted(found)))


def _forms(session: Session, ids: Collection[str] | None) -> Iterator[tuple[str, Any]]:
    f = ExtractionForm
    rows = stream(session, select(f.version, f.name, f.toml, f.sha256))
    found = (
        (
            str(version),
            # The stored hash must be the text's: an edited text (or hash) shows as a change.
            {
                "name": name,
                "sha256": sha if hashlib.sha256(toml.encode()).hexdigest() == sha else toml,
            },
        )
        for version, name, toml, sha in rows
    )
    yield from only(ids, found)


def _form_authors(session: Session, ids: Collection[str] | None) -> Iterator[tuple[str, Any]]:
    rows = stream(session, select(ExtractionForm.version, ExtractionForm.added_by))
    yield from only(ids, ((str(version), who) for version, who in rows))


VALUE_COLUMNS = (
    "study_id",
    "member_id",
    "field",
    "arm",
    "outcome",
    "time_point",
    "value",
    "form_version",
    "source_kind",
    "source",
)
"""The columns of ``extraction_value`` its snapshots cover: the study and member, the place (in
``ValueKey``'s order: field, arm, outcome, time point), then the snapshot's (``value_snapshot``)."""
CONSENSUS_COLUMNS = (
    "study_id",
    "field",
    "arm",
    "outcome",
    "time_point",
    "value",
    "form_version",
    "source_kind",
    "source",
    "how",
    "member_id",
    "reopened_at",
    "reopened_because",
)
"""The columns of ``extraction_consensus`` its snapshots cover: the study, the place (in
``ValueKey``'s order), then the snapshot's (``consensus_snapshot``, with ``member_id`` named).
``extraction.service`` reads consensus rows with these columns (after the row id)."""


def _text(column: Any) -> Any:
    return cast(column, String)


def _ledger_id(*parts: Any) -> Any:
    """``a|b|c`` built by the database (one text per row instead of a join in Python)."""
    joined = _text(parts[0])
    for part in parts[1:]:
        joined = joined + literal(SEPARATOR) + _text(part)
    return joined


def _member_name(table: Any) -> Any:
    """The name of the row's member, ``#<id>`` for an id no member has (``member_name``)."""
    return func.coalesce(Member.__table__.c.name, literal("#") + _text(table.c.member_id))  # type: ignore[attr-defined]


def _values(session: Session, ids: Collection[str] | None) -> Iterator[tuple[str, Any]]:
    v: Any = ExtractionValue.__table__  # type: ignore[attr-defined]
    m: Any = Member.__table__  # type: ignore[attr-defined]
    c = v.c
    columns: list[Any] = [
        _ledger_id(c.study_id, _member_name(v), c.arm, c.outcome, c.time_point, c.field),
        c.value,
        c.form_version,
        c.source_kind,
        c.source,
    ]
    query = select(*columns).select_from(v.outerjoin(m, m.c.id == c.member_id))
    for part in _study_ids(ids):
        chunk = query if part is None else query.where(c.study_id.in_(part))
        found = (
            (entity_id, [value, version, kind, source])
            for entity_id, value, version, kind, source in stream(session, chunk)
        )
        yield from only(ids, found)


def _consensus(session: Session, ids: Collection[str] | None) -> Iterator[tuple[str, Any]]:
    t: Any = ExtractionConsensus.__table__  # type: ignore[attr-defined]
    m: Any = Member.__table__  # type: ignore[attr-defined]
    c = t.c
    columns: list[Any] = [
        _ledger_id(c.study_id, c.arm, c.outcome, c.time_point, c.field),
        c.value,
        c.form_version,
        c.source_kind,
        c.source,
        c.how,
        _member_name(t),
        c.reopened_at,
        c.reopened_because,
    ]
    query = select(*columns).select_from(t.outerjoin(m, m.c.id == c.member_id))
    for part in _study_ids(ids):
        chunk = query if part is None else query.where(c.study_id.in_(part))
        found = ((row[0], list(row[1:])) for row in stream(session, chunk))
        yield from only(ids, found)


register_state(
    "extraction_form",
    _forms,
    who=_form_authors,
    covers={"extraction_form": ("version", "name", "toml", "sha256", "added_by")},
)
register_state(
    "extraction_value",
    _values,
    covers={"extraction_value": VALUE_COLUMNS},
)
register_state(
    "extraction_consensus",
    _consensus,
    covers={"extraction_consensus": CONSENSUS_COLUMNS},
)
_ID = "a surrogate key; the row is known by the columns its snapshot key is made of"
declare_unchecked(
    "extraction_form",
    {"added_at": "a copy for listings; the extraction-form event's time is the audited one"},
)
declare_unchecked(
    "extraction_value",
    {
        "id": _ID,
        "entered_at": "a copy for listings; the extraction-values event's time is the audited one",
    },
)
declare_unchecked(
    "extraction_consensus",
    {
        "id": _ID,
        "decided_at": "a copy for listings; the extraction-consensus event's time is the "
        "audited one",
    },
)
