"""The exports a review team hands to the next program: references with their final decisions
(RIS, BibTeX, CSV), the reports of the included studies as RIS for a reference manager, and the
audit log as JSON Lines.

Everything here is read through the same rules as the screens: final decisions come from
``screening.service.final_decisions`` (refused while the stage is blind to the reader), studies from
``studies.service.list_studies`` (refused while full text is blind), events through
``access.visible_events``. RIS is written by rispy and BibTeX by bibtexparser (the libraries the
importers read with), so a file exported here imports back unchanged.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from sqlmodel import Session, col, select

from reviewtool.errors import InvalidInput
from reviewtool.storage.models import FullTextReport, Record

#: The columns of a reference export (CSV) and the fields every format carries.
REFERENCE_COLUMNS: tuple[str, ...] = (
    "reference_id", "record_id", "title", "authors", "year", "journal", "volume", "issue", "pages",
    "doi", "pmid", "stage", "decision", "reason", "via",
)  # fmt: skip

DECISIONS = ("include", "exclude", "all")


@dataclass(frozen=True)
class ExportedReference:
    """One decided reference, shown by its primary record, with its final decision at one stage.

    :ivar reference_id: the reference (duplicate group) id.
    :ivar record_id: the primary record whose bibliographic fields are exported.
    :ivar authors: "Surname, Given" strings in the record's order.
    :ivar decision: ``include`` or ``exclude``; ``reason`` the exclusion reason or "".
    :ivar via: ``agreement`` or ``adjudication``.
    """

    reference_id: int
    record_id: int
    title: str | None
    authors: tuple[str, ...]
    year: int | None
    journal: str | None
    volume: str | None
    issue: str | None
    pages: str | None
    doi: str | None
    pmid: str | None
    abstract: str | None
    keywords: tuple[str, ...]
    stage: str
    decision: str
    reason: str
    via: str

    def to_row(self) -> dict[str, Any]:
        """The CSV row (``REFERENCE_COLUMNS``; authors joined with "; ")."""
        row = asdict(self)
        row["authors"] = "; ".join(self.authors)
        return {c: row[c] for c in REFERENCE_COLUMNS}


def _primary(session: Session, reference_id: int) -> Record:
    """The record that shows a reference: its group's primary (the one without ``duplicate_of``)."""
    records = session.exec(
        select(Record).where(Record.reference_id == reference_id).order_by(col(Record.id))
    ).all()
    return next((r for r in records if r.duplicate_of is None), records[0])


def decided_references(
    session: Session,
    *,
    actor: str,
    stage: str,
    decision: str = "all",
    progress: Callable[[int, int], None] | None = None,
) -> list[ExportedReference]:
    """Every reference with a final decision at ``stage`` (``tiab`` or ``fulltext``), filtered to
    ``decision`` (``include``, ``exclude`` or ``all``), by reference id. ``progress(done, total)``
    is called after each reference read (``total``: the references kept by the filter).

    Raises InvalidInput for an unknown decision filter or stage, PermissionDenied while the stage is
    blind to ``actor`` (a final decision would show how the others voted; docs/blinding.md).
    """
    from reviewtool.screening.service import final_decisions

    if decision not in DECISIONS:
        raise InvalidInput(f"--decision must be one of {', '.join(DECISIONS)}, not {decision!r}")
    kept = ("include", "maybe") if decision == "include" else (decision,)
    rows = [
        row
        for row in final_decisions(session, actor=actor, stage=stage)
        if decision == "all" or row["decision"] in kept
    ]
    out = []
    for n, row in enumerate(rows, 1):
        record = _primary(session, int(row["record_id"]))
        out.append(
            ExportedReference(
                reference_id=int(row["record_id"]),
                record_id=int(record.id or 0),
                title=record.title,
                authors=tuple(json.loads(record.authors)),
                year=record.year,
                journal=record.journal,
                volume=record.volume,
                issue=record.issue,
                pages=record.pages,
                doi=record.doi,
                pmid=record.pmid,
                abstract=record.abstract,
                keywords=tuple(json.loads(record.keywords)),
                stage=row["stage"],
                decision=row["decision"],
                reason=row["reason"],
                via=row["via"],
            )
        )
        if progress is not None:
            progress(n, len(rows))
    return out


def _pages(pages: str | None) -> dict[str, str]:
    if not pages:
        return {}
    first, sep, last = pages.partition("-")
    return {"start_page": first.strip(), "end_page": last.strip()} if sep else {"start_page": pages}


def _ris_entry(ref: ExportedReference, notes: Sequence[str]) -> dict[str, Any]:
    entry: dict[str, Any] = {"type_of_reference": "JOUR", "id": str(ref.reference_id)}
    fields = {
        "title": ref.title,
        "journal_name": ref.journal,
        "volume": ref.volume,
        "number": ref.issue,
        "doi": ref.doi,
        "accession_number": ref.pmid,
        "abstract": ref.abstract,
        "year": str(ref.year) if ref.year is not None else None,
    }
    entry.update({k: v for k, v in fields.items() if v})
    if ref.authors:
        entry["authors"] = list(ref.authors)
    if ref.keywords:
        entry["keywords"] = list(ref.keywords)
    entry.update(_pages(ref.pages))
    entry["notes"] = list(notes)
    return entry


def _decision_note(ref: ExportedReference) -> str:
    reason = f" ({ref.reason})" if ref.reason else ""
    return f"reviewtool {ref.stage}: {ref.decision}{reason} by {ref.via}"


def to_ris(references: Sequence[ExportedReference]) -> str:
    """RIS text (rispy), one ``TY``…``ER`` per reference: ``ID`` the reference id, ``AN`` the PMID,
    ``N1`` the decision ("reviewtool tiab: exclude (animal study) by agreement")."""
    return _ris_text([_ris_entry(r, [_decision_note(r)]) for r in references])


def _ris_text(entries: list[dict[str, Any]]) -> str:
    """RIS text by rispy, without the "1." line rispy's writer puts before each record: a record
    starts at its ``TY`` tag, and reference managers (and our own importer) expect nothing else."""
    import rispy

    class _PlainRis(rispy.RisWriter):
        def set_header(self, count: int) -> str:
            return ""

    return str(rispy.dumps(entries, implementation=_PlainRis))


def _bibtex_key(ref: ExportedReference, taken: set[str]) -> str:
    surname = ref.authors[0].split(",")[0] if ref.authors else "anon"
    base = re.sub(r"[^A-Za-z0-9]", "", surname) or "anon"
    key = f"{base}{ref.year or ''}_{ref.reference_id}"
    while key in taken:  # reference ids are unique, so this never loops more than once
        key += "x"
    taken.add(key)
    return key


def _bibtex_text(text: str) -> str:
    """A BibTeX field value (bibtexparser's writer adds the enclosing braces); unbalanced braces
    in the text are escaped so the entry stays readable."""
    depth = 0
    for ch in text:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth < 0:
            break
    if depth != 0:
        text = text.replace("{", r"\{").replace("}", r"\}")
    return text


def to_bibtex(references: Sequence[ExportedReference]) -> str:
    """BibTeX text (bibtexparser), one ``@article`` per reference, keyed ``Surname<year>_<ref id>``;
    ``pmid`` and ``note`` (the decision) as extra fields."""
    import bibtexparser
    from bibtexparser.model import Entry, Field

    library = bibtexparser.Library()
    taken: set[str] = set()
    for ref in references:
        values = {
            "author": " and ".join(ref.authors) if ref.authors else None,
            "title": ref.title,
            "journal": ref.journal,
            "year": str(ref.year) if ref.year is not None else None,
            "volume": ref.volume,
            "number": ref.issue,
            "pages": ref.pages.replace("-", "--") if ref.pages else None,
            "doi": ref.doi,
            "pmid": ref.pmid,
            "abstract": ref.abstract,
            "keywords": ", ".join(ref.keywords) if ref.keywords else None,
            "note": _decision_note(ref),
        }
        fields = [Field(k, _bibtex_text(v)) for k, v in values.items() if v]
        library.add(Entry("article", _bibtex_key(ref, taken), fields))
    return str(bibtexparser.write_string(library))


@dataclass(frozen=True)
class IncludedReport:
    """One report of an included study, with the reference it belongs to."""

    study_id: int
    report_id: int
    kind: str
    location: str | None
    reference: ExportedReference


def included_reports(
    session: Session, *, actor: str, progress: Callable[[int, int], None] | None = None
) -> list[IncludedReport]:
    """The retrieved reports of every included study, by study then report.
    ``progress(done, total)`` is called after each study (``total``: the included studies).

    PermissionDenied while full text is blind to ``actor`` (studies are built from full-text
    decisions).
    """
    from reviewtool.studies.service import list_studies

    studies = list_studies(session, actor=actor)
    decided = {
        r.reference_id: r for r in decided_references(session, actor=actor, stage="fulltext")
    }
    out = []
    for n, study in enumerate(studies, 1):
        for ref_id in study.references:
            reports = session.exec(
                select(FullTextReport)
                .where(FullTextReport.reference_id == ref_id, FullTextReport.status == "retrieved")
                .order_by(col(FullTextReport.id))
            ).all()
            for report in reports:
                out.append(
                    IncludedReport(
                        study_id=study.study_id,
                        report_id=int(report.id or 0),
                        kind=report.kind,
                        location=report.location,
                        reference=decided[ref_id],
                    )
                )
        if progress is not None:
            progress(n, len(studies))
    return out


def reports_to_ris(reports: Sequence[IncludedReport]) -> str:
    """RIS of the included studies' reports: the reference's bibliographic fields, the report's
    file as ``L1`` or its URL as ``UR``, and ``N1`` naming study, report and kind."""

    entries = []
    for rep in reports:
        note = f"reviewtool study {rep.study_id}, report {rep.report_id} ({rep.kind})"
        entry = _ris_entry(rep.reference, [note])
        entry["id"] = f"{rep.study_id}.{rep.report_id}"
        if rep.location and re.match(r"[a-z][a-z0-9+.-]*://", rep.location, re.IGNORECASE):
            entry["urls"] = [rep.location]
        elif rep.location:
            entry["file_attachments1"] = rep.location
        entries.append(entry)
    return _ris_text(entries)


def audit_lines(
    session: Session, *, actor: str, progress: Callable[[int, int], None] | None = None
) -> Iterator[str]:
    """The whole audit log as JSON Lines (one event per line, oldest first), as ``actor`` may see
    it: events at a stage still blind to them are left out, as in ``audit log``.
    ``progress(done, total)`` is called after each line (``total``: the events shown)."""
    from reviewtool.access import require, visible_events
    from reviewtool.audit import list_events
    from reviewtool.domain import Action

    member = require(session, actor, Action.READ, doing="export the audit log")
    events = list(visible_events(session, member, list_events(session)))
    for n, event in enumerate(events, 1):
        yield json.dumps(event.to_dict(), ensure_ascii=False, sort_keys=True)
        if progress is not None:
            progress(n, len(events))
