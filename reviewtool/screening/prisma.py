"""PRISMA 2020 flow counts, read from the entities they count: records, references, reports, studies.

One function, ``prisma_counts``, is the single source of these numbers (the report stage draws the
diagram from it). The units follow PRISMA 2020 (Page et al., BMJ 2021;372:n71) as
``shared/spec/domain.md`` names them:

- records identified: imported records, per source (import batch ``source``);
- duplicates removed: records - references (a reference is one duplicate group);
- records removed for other reasons, by reason: references removed before screening
  (``screening.prescreen``: publication types the review does not screen, by filter or list);
- records not screened because screening stopped (issue 15, ``screening.stop``): references an
  owner's stop set aside that nobody voted on, reported in PRISMA's "Records marked as ineligible
  by automation tools" box (a relevance model ranked them last and a stopping rule ended screening
  before anyone read them);
- records screened: the other references; records excluded: those excluded at title/abstract;
- reports sought: the report rows (``fulltext_report``: sought, retrieved or not retrieved) of
  the references included at title/abstract; a reference with none recorded yet counts one
  (its row is made, as sought, by the first full-text vote or resolution on it); not retrieved:
  reports marked so; assessed: the others;
- reports excluded, by reason: the assessed reports excluded at full text, each by its own votes
  or resolution (schema 0009: full-text decisions are taken per report), with its own reason;
- studies included: studies (``reviewtool.studies``) made of the references included at full
  text (a reference is included when any of its reports is); reports of included studies: the
  assessed reports included at full text.

References still open (no final decision) at a stage are counted as ``awaiting`` so the arithmetic
of ``rob_prisma.md`` section 4.4 holds at every moment, not only once screening is done:

    identified = sum(identified_by_source)
    removed_other = sum(removed_by_reason)
    screened = identified - duplicates_removed - removed_other - not_screened_stopped
    references_to_full_text = screened - excluded - awaiting_title_abstract
    sought >= references_to_full_text (equal when each has one report; else a note says so)
    assessed = sought - not_retrieved
    reports_of_included_studies = assessed - sum(excluded_by_reason) - awaiting_full_text
    studies_included <= reports_of_included_studies
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from reviewtool.access import require, sight
from reviewtool.domain import Action, Stage
from reviewtool.errors import PermissionDenied
from reviewtool.storage.models import FullTextReport, ImportBatch, Record, Reference
from reviewtool.storage.queries import stage_outcomes, unit_outcomes
from reviewtool.text import counted

NOT_RETRIEVED = "not_retrieved"


@dataclass(frozen=True)
class PrismaCounts:
    """The PRISMA 2020 flow (databases arm), each box a count of its own unit.

    :ivar identified_by_source: source -> records identified there.
    :ivar removed_other: references removed before screening for other reasons than duplication
        (PRISMA 2020 "Records removed for other reasons"); ``removed_by_reason``: reason -> n.
    :ivar excluded_by_reason: full-text exclusion reason -> reports excluded for it.
    """

    identified: int
    identified_by_source: dict[str, int]
    duplicates_removed: int
    removed_other: int
    removed_by_reason: dict[str, int]
    records_screened: int
    records_excluded: int
    awaiting_title_abstract: int
    references_to_full_text: int
    reports_sought: int
    reports_not_retrieved: int
    reports_assessed: int
    reports_excluded: int
    excluded_by_reason: dict[str, int]
    awaiting_full_text: int
    studies_included: int
    reports_of_included_studies: int
    not_screened_stopped: int = 0
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)

    def broken_identities(self) -> list[str]:
        """The identities of the module docstring that do not hold (empty when all hold)."""
        checks = [
            (
                "identified = sum by source",
                self.identified,
                sum(self.identified_by_source.values()),
            ),
            (
                "removed for other reasons = sum by reason",
                self.removed_other,
                sum(self.removed_by_reason.values()),
            ),
            (
                "screened = identified - duplicates - removed for other reasons"
                + (
                    " - not screened because screening stopped" if self.not_screened_stopped else ""
                ),
                self.records_screened,
                self.identified
                - self.duplicates_removed
                - self.removed_other
                - self.not_screened_stopped,
            ),
            (
                "references to full text = screened - excluded - awaiting",
                self.references_to_full_text,
                self.records_screened - self.records_excluded - self.awaiting_title_abstract,
            ),
            (
                "assessed = sought - not retrieved",
                self.reports_assessed,
                self.reports_sought - self.reports_not_retrieved,
            ),
            (
                "excluded = sum by reason",
                self.reports_excluded,
                sum(self.excluded_by_reason.values()),
            ),
            (
                "reports of included studies = assessed - excluded - awaiting",
                self.reports_of_included_studies,
                self.reports_assessed - self.reports_excluded - self.awaiting_full_text,
            ),
        ]
        broken = [f"{name}: {have} != {want}" for name, have, want in checks if have != want]
        if self.reports_sought < self.references_to_full_text:
            broken.append(
                f"reports sought >= references to full text: {self.reports_sought} < "
                f"{self.references_to_full_text}"
            )
        if self.studies_included > self.reports_of_included_studies:
            broken.append(
                f"studies <= reports of included studies: {self.studies_included} > "
                f"{self.reports_of_included_studies}"
            )
        return broken


def prisma_counts(session: Session, *, actor: str) -> PrismaCounts:
    """The PRISMA 2020 counts of the review now (see the module docstring for units and formulas).

    Every count past deduplication depends on the screening outcomes, so a viewer to whom a
    screening stage is blind is refused (PermissionDenied, one line) instead of shown part of it.
    """
    require(session, actor, Action.READ, doing="read the PRISMA counts")
    seen = sight(session, actor)
    for stage in (Stage.TITLE_ABSTRACT, Stage.FULL_TEXT):
        if not seen.sees_others(stage.value):
            raise PermissionDenied(
                f"the PRISMA counts show screening outcomes, hidden while {stage.value} is blind; "
                f"an owner ends blinding with `reviewtool screen unblind --stage {stage.value}`"
            )
    from reviewtool.screening.prescreen import removed_references
    from reviewtool.screening.stop import not_screened
    from reviewtool.studies.service import study_map

    by_source: Counter[str] = Counter()
    for source, n in session.exec(
        select(ImportBatch.source, func.count())
        .select_from(Record)
        .join(ImportBatch, col(ImportBatch.id) == col(Record.batch_id))
        .group_by(col(ImportBatch.source))
    ).all():
        by_source[source] += int(n)
    identified = int(session.exec(select(func.count()).select_from(Record)).one())
    all_references = [r for r in session.exec(select(Reference.id)).all() if r is not None]
    removed = removed_references(session)
    removed_by_reason = Counter(removed[r] for r in all_references if r in removed)
    stopped = not_screened(session)
    references = [r for r in all_references if r not in removed and r not in stopped]
    tiab = stage_outcomes(session, Stage.TITLE_ABSTRACT.value)
    decided = {r: tiab[r] for r in references if r in tiab and tiab[r].final}
    sought = sorted(r for r, o in decided.items() if o.goes_on)
    excluded = sum(1 for o in decided.values() if not o.goes_on)
    # Reports: the rows of the references included at title/abstract; a reference with none
    # recorded yet counts one report, sought (its row is made by the first full-text vote on it).
    reports: dict[int, list[tuple[int, str]]] = {}
    for report_id, ref, status in session.exec(
        select(FullTextReport.id, FullTextReport.reference_id, FullTextReport.status)
    ):
        if report_id is not None:
            reports.setdefault(ref, []).append((report_id, status))
    per_report = unit_outcomes(session, Stage.FULL_TEXT.value)
    reports_sought = not_retrieved = assessed = 0
    reasons: Counter[str] = Counter()
    included = 0
    awaiting_full = 0
    for r in sought:
        found = reports.get(r, [])
        if not found:
            reports_sought += 1
            assessed += 1
            awaiting_full += 1
            continue
        reports_sought += len(found)
        for report_id, status in found:
            if status == NOT_RETRIEVED:
                not_retrieved += 1
                continue
            assessed += 1
            outcome = per_report.get(report_id)
            if outcome is None or not outcome.final:
                awaiting_full += 1
            elif outcome.goes_on:
                included += 1
            else:
                reasons[outcome.reason or "(no reason)"] += 1
    studies = set(study_map(session).values())
    notes = []
    if reports_sought != len(sought):
        notes.append(
            f"{counted(reports_sought, 'report')} "
            f"{'was' if reports_sought == 1 else 'were'} sought for "
            f"{counted(len(sought), 'reference')} (some have several), so reports sought "
            "differs from records screened - excluded"
        )
    if awaiting_full or len(decided) < len(references):
        notes.append("screening is not finished: the awaiting counts are references not decided")
    return PrismaCounts(
        identified=identified,
        identified_by_source=dict(sorted(by_source.items())),
        duplicates_removed=identified - len(all_references),
        removed_other=sum(removed_by_reason.values()),
        removed_by_reason=dict(sorted(removed_by_reason.items(), key=lambda kv: (-kv[1], kv[0]))),
        records_screened=len(references),
        records_excluded=excluded,
        awaiting_title_abstract=len(references) - len(decided),
        references_to_full_text=len(sought),
        reports_sought=reports_sought,
        reports_not_retrieved=not_retrieved,
        reports_assessed=assessed,
        reports_excluded=sum(reasons.values()),
        excluded_by_reason=dict(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))),
        awaiting_full_text=awaiting_full,
        studies_included=len(studies),
        reports_of_included_studies=included,
        not_screened_stopped=len(stopped),
        notes=notes,
    )
