"""What ``audit verify`` checks of import batches and their records (see ``storage.snapshots``).

A batch's snapshot holds a sha256 over every field of every record it holds, in record id order,
so an edited, added, deleted or moved record changes its batch's snapshot.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterator
from typing import Any

from sqlmodel import Session, col, select

from reviewtool.storage.models import ImportBatch, Record
from reviewtool.storage.snapshots import (
    RECORD_FIELDS,
    add_record_to_digest,
    batch_snapshot,
    declare_unchecked,
    int_ids,
    register_state,
    stream,
    who_names,
)

_BATCH_FIELDS = (
    "id",
    "file_name",
    "sha256",
    "format",
    "encoding",
    "source",
    "searched_on",
    "query",
    "search_round",
    "record_count",
)


def _batches(session: Session, ids: Collection[str] | None) -> Iterator[tuple[str, Any]]:
    query = select(ImportBatch)
    records = select(Record.batch_id, *[getattr(Record, name) for name in RECORD_FIELDS])
    if ids is not None:
        wanted = int_ids(ids)
        query = query.where(col(ImportBatch.id).in_(wanted))
        records = records.where(col(Record.batch_id).in_(wanted))
    batches = list(session.exec(query).all())
    digests = {b.id: hashlib.sha256() for b in batches}
    # One pass over the records in id order, each fed to its batch's running digest.
    for row in stream(session, records.order_by(col(Record.id)), 2000):
        digest = digests.get(row[0])
        if digest is not None:
            add_record_to_digest(digest, tuple(row[1:]))
    for batch in batches:
        yield str(batch.id), batch_snapshot(batch, digests[batch.id].hexdigest())


def _importers(session: Session, ids: Collection[str] | None) -> Iterator[tuple[str, Any]]:
    yield from who_names(session, ImportBatch.imported_by_id, ImportBatch.id, ids)


register_state(
    "import_batch",
    _batches,
    who=_importers,
    covers={
        "import_batch": (*_BATCH_FIELDS, "imported_by_id"),
        "record": ("batch_id", *RECORD_FIELDS),
    },
)
declare_unchecked(
    "import_batch",
    {
        "imported_at": "a copy for listings; the records-imported event's time is the audited one",
        "bad_records": "the records-imported event holds the same list (bad_records), hashed",
        "warnings": "parser messages for the import report; re-parsing the file reproduces them",
    },
)
