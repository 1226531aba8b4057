"""Import search exports into a review: one batch per file, every record kept verbatim.

All files of one call are parsed before anything is written, and written in the caller's single
transaction: a bad record in the third file leaves the review exactly as it was.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert
from sqlmodel import Session, col, select

from reviewtool import audit
from reviewtool.access import require
from reviewtool.audit.events import RECORDS_PER_PART, RecordsImported, RecordsImportedPart
from reviewtool.csvfiles import check_lines
from reviewtool.domain import Action, CitationIn
from reviewtool.errors import AlreadyExists, InvalidInput, NotFound
from reviewtool.importing.detect import FORMATS, check_encoding, lines_named, replaced_lines
from reviewtool.importing.parsers import RAW_BASE64, ParsedFile, parse_bytes, raw_text
from reviewtool.storage.models import ImportBatch, Member, Record
from reviewtool.storage.references import new_references
from reviewtool.storage.snapshots import RECORD_FIELDS, batch_state


@dataclass(frozen=True)
class ImportReport:
    """What one file brought into the review."""

    batch_id: int
    file_name: str
    format: str
    encoding: str
    source: str
    records: int
    bad: tuple[dict[str, Any], ...] = ()
    warnings: tuple[str, ...] = ()
    replaced_at: str = ""
    """Where the file held bytes that are not UTF-8 (``file:line`` for the first few, then "and N
    more"; ``detect.lines_named``), when its encoding is ``utf-8 (N invalid bytes replaced)``."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "replaced_at": self.replaced_at,
            "batch_id": self.batch_id,
            "file_name": self.file_name,
            "format": self.format,
            "encoding": self.encoding,
            "source": self.source,
            "records": self.records,
            "bad": list(self.bad),
            "warnings": list(self.warnings),
        }


@dataclass
class _Loaded:
    path: Path
    sha256: str
    parsed: ParsedFile
    forced: bool = False
    bad: list[dict[str, Any]] = field(default_factory=list)
    replaced_at: str = ""


def _check_date(searched_on: str | None) -> str | None:
    if searched_on is None:
        return None
    try:
        return date.fromisoformat(searched_on).isoformat()
    except ValueError:
        raise InvalidInput(
            f"--searched must be a date as YYYY-MM-DD, not {searched_on!r}"
        ) from None


def record_row(batch_id: int, citation: CitationIn) -> dict[str, Any]:
    """The ``record`` table row for one parsed citation."""
    return {
        "batch_id": batch_id,
        "source_key": citation.source_key,
        "line": citation.line,
        "raw": citation.raw,
        "title": citation.title,
        "authors": json.dumps(list(citation.authors), ensure_ascii=False),
        "year": citation.year,
        "journal": citation.journal,
        "volume": citation.volume,
        "issue": citation.issue,
        "pages": citation.pages,
        "doi": citation.doi,
        "pmid": citation.pmid,
        "abstract": citation.abstract,
        "keywords": json.dumps(list(citation.keywords), ensure_ascii=False),
        "publication_type": citation.publication_type,
        "language": citation.language,
        "extra": json.dumps(citation.extra, ensure_ascii=False, sort_keys=True),
    }


def import_files(
    session: Session,
    *,
    actor: str,
    paths: Sequence[str | Path],
    source: str,
    searched_on: str | None = None,
    query: str | None = None,
    format: str | None = None,
    encoding: str | None = None,
    skip_bad: bool = False,
    force: bool = False,
    column_map: dict[str, str] | None = None,
    progress: Callable[[str, int], None] | None = None,
) -> list[ImportReport]:
    """Import export files as batches (see the module docstring for the all-or-nothing rule).

    ``format`` forces the input format (any case) and ``encoding`` the text encoding of every
    file (``InvalidInput`` for an unknown one, before any file is read); otherwise both are
    detected, and a guessed legacy code page is reported in the batch's warnings.
    ``progress(file_name, records_so_far)`` is called while a file is parsed.
    """
    importer = require(session, actor, Action.IMPORT_RECORDS)
    assert importer.id is not None
    if not source.strip():
        raise InvalidInput("--source must name the database searched, e.g. 'MEDLINE (PubMed)'")
    searched = _check_date(searched_on)
    if not paths:
        raise InvalidInput("give at least one file to import")
    if encoding is not None:
        encoding = check_encoding(encoding)
    if format is not None:
        format = format.strip().lower().replace("-", "_")
        if format not in FORMATS:
            raise InvalidInput(
                f"--input-format: unknown format {format!r}; use one of {', '.join(FORMATS)}"
            )

    loaded: list[_Loaded] = []
    seen: dict[str, Path] = {}
    for raw_path in paths:
        path = Path(raw_path)
        try:
            check_lines(path, what="export")  # before the file is read whole (bounded memory)
            data = path.read_bytes()
        except OSError as exc:
            raise InvalidInput(f"{path}: cannot read the file ({exc.strerror or exc})") from None
        digest = hashlib.sha256(data).hexdigest()
        if digest in seen:
            raise InvalidInput(f"{path}: same content as {seen[digest]} in this command")
        seen[digest] = path
        earlier = session.exec(select(ImportBatch).where(ImportBatch.sha256 == digest)).first()
        if earlier is not None and not force:
            raise AlreadyExists(
                f"{path}: this file was imported already as batch {earlier.id} "
                f"({earlier.file_name}, {earlier.imported_at[:10]}); use --force to import it again"
            )
        name = str(raw_path)
        callback = (lambda n, _name=name: progress(_name, n)) if progress else None
        parsed = parse_bytes(
            data,
            name=name,
            format=format,
            encoding=encoding,
            skip_bad=skip_bad,
            column_map=column_map,
            progress=callback,
        )
        if not parsed.citations:
            if parsed.bad:
                first = parsed.bad[0]
                raise InvalidInput(
                    f"{path}: {len(parsed.bad)} record{'s' if len(parsed.bad) != 1 else ''} "
                    f"found in this {parsed.format} file and all were skipped as bad; nothing "
                    f"imported (first, line {first.line}: {first.reason})"
                )
            raise InvalidInput(f"{path}: no records found in this {parsed.format} file")
        bad = [
            {"line": b.line, "source_key": b.source_key, "reason": b.reason, "raw": b.raw[:500]}
            for b in parsed.bad
        ]
        replaced_at = (
            lines_named(path.name, replaced_lines(data))
            if parsed.encoding.startswith("utf-8 (")
            else ""
        )
        loaded.append(
            _Loaded(
                path, digest, parsed, forced=earlier is not None, bad=bad, replaced_at=replaced_at
            )
        )

    now = audit.log.utc_now()
    reports: list[ImportReport] = []
    for item in loaded:
        warnings = [f"line {w.line}: {w.message}" for w in item.parsed.warnings]
        batch = ImportBatch(
            file_name=item.path.name,
            sha256=item.sha256,
            format=item.parsed.format,
            encoding=item.parsed.encoding,
            source=source.strip(),
            searched_on=searched,
            query=query,
            imported_by_id=importer.id,
            imported_at=now,
            record_count=len(item.parsed.citations),
            bad_records=json.dumps(item.bad, ensure_ascii=False),
            warnings=json.dumps(warnings, ensure_ascii=False),
        )
        session.add(batch)
        session.flush()
        assert batch.id is not None
        # One multi-row INSERT per file: tens of thousands of records in well under a second.
        session.execute(insert(Record), [record_row(batch.id, c) for c in item.parsed.citations])
        new_references(session)  # each new record is its own reference until deduplicated
        audit.record(
            session,
            actor,
            RecordsImported(
                batch_id=batch.id,
                after=batch_state(session, batch),
                bad_records=[{k: v for k, v in b.items() if k != "raw"} for b in item.bad],
                forced=item.forced,
                parts=-(-batch.record_count // RECORDS_PER_PART),
                unchecked={"warnings": warnings, "bad_records": item.bad},
            ),
        )
        _record_parts(session, actor, batch.id, batch.record_count)
        reports.append(
            ImportReport(
                batch_id=batch.id,
                file_name=batch.file_name,
                format=batch.format,
                encoding=batch.encoding,
                source=batch.source,
                records=batch.record_count,
                bad=tuple(item.bad),
                warnings=tuple(warnings),
                replaced_at=item.replaced_at,
            )
        )
    return reports


def _record_parts(session: Session, actor: str, batch_id: int, count: int) -> None:
    """The ``records-imported-part`` events of a batch just written: its records in id order,
    ``RECORDS_PER_PART`` to an event, read back as stored (so the ledger holds what the batch
    digest is taken over), one part in memory at a time."""
    parts = -(-count // RECORDS_PER_PART)
    columns = [getattr(Record, name) for name in RECORD_FIELDS]
    last, part = 0, 0
    while True:
        query = (
            select(*columns)
            .where(Record.batch_id == batch_id, col(Record.id) > last)
            .order_by(col(Record.id))
            .limit(RECORDS_PER_PART)
        )
        chunk = [list(row) for row in session.execute(query).all()]
        if not chunk:
            return
        part, last = part + 1, chunk[-1][0]
        audit.record(session, actor, RecordsImportedPart(batch_id, part, parts, chunk))


@dataclass(frozen=True)
class RecordView:
    """One record as `records list` shows it."""

    record_id: int
    batch_id: int
    source: str
    source_key: str | None
    title: str | None
    first_author: str | None
    year: int | None
    doi: str | None
    pmid: str | None
    status: str
    group_id: int
    reference_id: int

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return dict(self.__dict__)


def list_records(
    session: Session, *, batch_id: int | None = None, status: str | None = None
) -> list[RecordView]:
    """Records in id order with where they stand: unique, primary of a group, or duplicate of one.

    ``status`` filters on ``unique``, ``primary`` or ``duplicate``.
    """
    sizes = dict(
        session.exec(
            select(Record.duplicate_of, func.count())
            .where(col(Record.duplicate_of).is_not(None))
            .group_by(col(Record.duplicate_of))
        ).all()
    )
    sources = {b.id: b.source for b in session.exec(select(ImportBatch)).all()}
    query = select(Record).order_by(col(Record.id))
    if batch_id is not None:
        query = query.where(Record.batch_id == batch_id)
    views: list[RecordView] = []
    for r in session.exec(query).all():
        assert r.id is not None
        if r.duplicate_of is not None:
            state = f"duplicate of {r.duplicate_of}"
            kind = "duplicate"
        elif r.id in sizes:
            state = f"primary of {sizes[r.id] + 1} records"
            kind = "primary"
        else:
            state, kind = "unique", "unique"
        if status is not None and kind != status:
            continue
        authors = json.loads(r.authors)
        views.append(
            RecordView(
                record_id=r.id,
                batch_id=r.batch_id,
                source=sources.get(r.batch_id, ""),
                source_key=r.source_key,
                title=r.title,
                first_author=authors[0] if authors else None,
                year=r.year,
                doi=r.doi,
                pmid=r.pmid,
                status=state,
                group_id=r.duplicate_of or r.id,
                reference_id=r.reference_id or r.id,
            )
        )
    return views


def record_detail(session: Session, record_id: int) -> dict[str, Any]:
    """Everything stored about one record, for `records show`: its batch, source and who imported
    it (``imported_by``, the member's name), every normalised field (authors and keywords as
    lists, ``extra`` as a dict), its group, and the raw text as it stood in the file. No votes:
    those are the screening screen's, under blinding.

    NotFound names the id.
    """
    record = session.get(Record, record_id)
    if record is None:
        raise NotFound(f"no record {record_id}; see `reviewtool records list`")
    batch = session.get(ImportBatch, record.batch_id)
    importer = session.get(Member, batch.imported_by_id) if batch else None
    group_id = record.duplicate_of or record_id
    members = sorted(
        r
        for r in session.exec(
            select(Record.id).where(
                (col(Record.duplicate_of) == group_id) | (col(Record.id) == group_id)
            )
        ).all()
        if r is not None and r != record_id
    )
    return {
        "record_id": record_id,
        "reference_id": record.reference_id,
        "batch_id": record.batch_id,
        "file_name": batch.file_name if batch else None,
        "line": record.line,
        "source": batch.source if batch else None,
        "imported_by": importer.name if importer else None,
        "source_key": record.source_key,
        "title": record.title,
        "authors": json.loads(record.authors or "[]"),
        "year": record.year,
        "journal": record.journal,
        "volume": record.volume,
        "issue": record.issue,
        "pages": record.pages,
        "doi": record.doi,
        "pmid": record.pmid,
        "publication_type": record.publication_type,
        "language": record.language,
        "keywords": json.loads(record.keywords or "[]"),
        "abstract": record.abstract,
        "extra": json.loads(record.extra or "{}"),
        "group_id": group_id,
        "duplicate_of": record.duplicate_of,
        "same_group": members,
        # A raw holding bytes that are not UTF-8 is stored as base64 (parsers.RAW_BASE64):
        # shown as text with U+FFFD, the exact bytes given beside it.
        "raw": raw_text(record.raw),
        "raw_base64": record.raw[len(RAW_BASE64) :] if record.raw.startswith(RAW_BASE64) else None,
    }
