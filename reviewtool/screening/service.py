"""Screening: votes, conflicts, adjudication, full texts, queues, exports and statistics.

Two reviewers (``screening.reviewers_required``) vote independently on each reference (one per
duplicate group, ``storage.references``) at title/abstract, then on the full texts (reports) of
those included. A ``record_id`` argument is any record of the reference: a duplicate names its
group's reference, and a reference's id is its first record's id, so the ids people see in the
queue are record ids. Votes are stored with the record shown (the primary then) and follow it
through later merges and splits. Votes are never edited: a change supersedes the current row. Every read a reviewer makes goes through
``access.sight``: while a stage is blind, a reviewer sees their own votes and progress there and
nothing that depends on another reviewer's vote (docs/blinding.md); owners and adjudicators see all.

This module is the stage's public face: it re-exports the names callers use (the CLI, the TUI,
``report``, tests and benchmarks) from the modules that hold them:

- ``rules``: parsing the stage and decision, exclusion reasons, the reference a record names, and
  whether a reference is open at a stage (the checks every path shares);
- ``reports``: full-text reports (sought at inclusion, recorded, chosen for a vote);
- ``votes``: one vote cast, changed or taken back, and what that does to a resolution;
- ``conflicts``: the conflicts list; ``resolutions``: the adjudicator's resolution of one;
- ``bulk``: votes and resolutions imported from CSV files in one transaction;
- ``worklist``: which references can be screened, the reviewer's queue, progress, search;
- ``cards``: one reference as a reviewer may see it; ``stats``: final decisions, counts and
  agreement; ``blinding``: ending blinding at a stage.
"""

from __future__ import annotations

# The stage and decision enums the functions here take and return (as the module always had them).
from reviewtool.domain import Decision, Stage
from reviewtool.screening.blinding import unblind_stage
from reviewtool.screening.bulk import (
    DECISION_COLUMNS,
    IMPORTED,
    ImportCounts,
    import_decisions,
    import_resolutions,
)
from reviewtool.screening.cards import RecordCard, record_card
from reviewtool.screening.conflicts import ConflictView, list_conflicts
from reviewtool.screening.reports import (
    NOT_RETRIEVED,
    REPORT_KINDS,
    REPORT_STATUSES,
    RETRIEVED,
    SOUGHT,
    choose_report,
    fulltext_reports,
    seek_reports,
    set_fulltext,
)
from reviewtool.screening.resolutions import resolve_conflict
from reviewtool.screening.rules import exclusion_reasons, parse_decision, parse_stage
from reviewtool.screening.stats import (
    AGREEMENT_NOTE,
    BLIND_NOTE,
    FULLTEXT_CLOSED_NOTE,
    StageStats,
    final_decisions,
    screening_stats,
)
from reviewtool.screening.votes import (
    UNCHECKED,
    Unchecked,
    VoteCast,
    VoteChangedElsewhere,
    VoteView,
    cast_vote,
    my_vote,
    record_decision,
    undo_last,
)
from reviewtool.screening.worklist import (
    Progress,
    eligible,
    screening_progress,
    screening_queue,
    search_references,
)

__all__ = [
    "AGREEMENT_NOTE",
    "BLIND_NOTE",
    "DECISION_COLUMNS",
    "FULLTEXT_CLOSED_NOTE",
    "IMPORTED",
    "NOT_RETRIEVED",
    "REPORT_KINDS",
    "REPORT_STATUSES",
    "RETRIEVED",
    "SOUGHT",
    "UNCHECKED",
    "ConflictView",
    "Decision",
    "ImportCounts",
    "Progress",
    "RecordCard",
    "Stage",
    "StageStats",
    "Unchecked",
    "VoteCast",
    "VoteChangedElsewhere",
    "VoteView",
    "cast_vote",
    "choose_report",
    "eligible",
    "exclusion_reasons",
    "final_decisions",
    "fulltext_reports",
    "import_decisions",
    "import_resolutions",
    "list_conflicts",
    "my_vote",
    "parse_decision",
    "parse_stage",
    "record_card",
    "record_decision",
    "resolve_conflict",
    "screening_progress",
    "screening_queue",
    "screening_stats",
    "search_references",
    "seek_reports",
    "set_fulltext",
    "unblind_stage",
    "undo_last",
]
