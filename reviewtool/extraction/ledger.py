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

from sqlmodel import Session, col, select

from reviewtool.storage.models import ExtractionConsensus, ExtractionForm, ExtractionValue
from reviewtool.storage.snapshots import (
    chunks,
    declare_unchecked,
    member_names,
    only,
    register_state,
    stream,
)

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


def _values(session: Session, ids: Collection[str] | None) -> Iterator[tuple[str, Any]]:
    names = member_names(session)
    v = ExtractionValue
    columns: list[Any] = [
        v.study_id,
        v.member_id,
        v.arm,
        v.outcome,
        v.time_point,
        v.field,
        v.value,
        v.form_version,
        v.source_kind,
        v.source,
    ]
    query = select(*columns)
    for part in _study_ids(ids):
        chunk = query if part is None else query.where(col(v.study_id).in_(part))
        found = (
            (
                SEPARATOR.join(
                    (str(study), names.get(member, f"#{member}"), arm, outcome, time, name)
                ),
                [value, version, kind, source],
            )
            for study, member, arm, outcome, time, name, value, version, kind, source in stream(
                session, chunk
            )
        )
        yield from only(ids, found)


def _consensus(session: Session, ids: Collection[str] | None) -> Iterator[tuple[str, Any]]:
    names = member_names(session)
    c = ExtractionConsensus
    columns: list[Any] = [
        c.study_id,
        c.arm,
        c.outcome,
        c.time_point,
        c.field,
        c.value,
        c.form_version,
        c.source_kind,
        c.source,
        c.how,
        c.member_id,
        c.reopened_at,
        c.reopened_because,
    ]
    query = select(*columns)
    for part in _study_ids(ids):
        chunk = query if part is None else query.where(col(c.study_id).in_(part))
        found = (
            (
                SEPARATOR.join((str(study), arm, outcome, time, name)),
                [
                    value,
                    version,
                    kind,
                    source,
                    how,
                    names.get(member, f"#{member}"),
                    reopened_at,
                    because,
                ],
            )
            for (
                study,
                arm,
                outcome,
                time,
                name,
                value,
                version,
                kind,
                source,
                how,
                member,
                reopened_at,
                because,
            ) in stream(session, chunk)
        )
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
    covers={
        "extraction_value": (
            "study_id",
            "member_id",
            "arm",
            "outcome",
            "time_point",
            "field",
            "value",
            "form_version",
            "source_kind",
            "source",
        )
    },
)
register_state(
    "extraction_consensus",
    _consensus,
    covers={
        "extraction_consensus": (
            "study_id",
            "arm",
            "outcome",
            "time_point",
            "field",
            "value",
            "form_version",
            "source_kind",
            "source",
            "how",
            "member_id",
            "reopened_at",
            "reopened_because",
        )
    },
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
