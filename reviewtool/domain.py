"""Pure domain vocabulary: enums and value objects shared by every layer.

Nothing here imports from the rest of reviewtool or touches a database, so every layer may use it.
Names follow ``shared/spec/domain.md`` (record, reference, report, study ...).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Role(StrEnum):
    """A member's role in a review; one person may hold several."""

    OWNER = "owner"
    """Runs the review: changes settings, manages members, may do everything a reviewer may."""
    REVIEWER = "reviewer"
    """Screens, extracts and assesses risk of bias."""
    ADJUDICATOR = "adjudicator"
    """Resolves conflicts between reviewers."""


class Action(StrEnum):
    """Things a member may be allowed or refused to do; the permission table maps them to roles."""

    CHANGE_SETTINGS = "change-settings"
    MANAGE_MEMBERS = "manage-members"
    IMPORT_RECORDS = "import-records"
    DEDUPLICATE = "deduplicate"
    SCREEN = "screen"
    RESOLVE_CONFLICT = "resolve-conflict"
    EXTRACT = "extract"
    ASSESS_RISK_OF_BIAS = "assess-risk-of-bias"
    ANALYSE = "analyse"
    READ = "read"


# Which roles may perform which action. Data, not code, so the rules can be read and tested at once.
PERMISSIONS: dict[Action, frozenset[Role]] = {
    Action.CHANGE_SETTINGS: frozenset({Role.OWNER}),
    Action.MANAGE_MEMBERS: frozenset({Role.OWNER}),
    Action.IMPORT_RECORDS: frozenset({Role.OWNER, Role.REVIEWER}),
    Action.DEDUPLICATE: frozenset({Role.OWNER, Role.REVIEWER}),
    Action.SCREEN: frozenset({Role.OWNER, Role.REVIEWER}),
    Action.RESOLVE_CONFLICT: frozenset({Role.ADJUDICATOR}),
    Action.EXTRACT: frozenset({Role.OWNER, Role.REVIEWER}),
    Action.ASSESS_RISK_OF_BIAS: frozenset({Role.OWNER, Role.REVIEWER}),
    Action.ANALYSE: frozenset({Role.OWNER, Role.REVIEWER}),
    Action.READ: frozenset({Role.OWNER, Role.REVIEWER, Role.ADJUDICATOR}),
}


class Stage(StrEnum):
    """The PRISMA stages a review passes through, in order."""

    IDENTIFICATION = "identification"
    DEDUPLICATION = "deduplication"
    TITLE_ABSTRACT = "tiab"
    FULL_TEXT = "fulltext"
    EXTRACTION = "extraction"
    RISK_OF_BIAS = "rob"
    SYNTHESIS = "synthesis"


@dataclass(frozen=True)
class CitationIn:
    """One bibliographic record as a parser produced it, before it is stored.

    ``raw`` is the record's text verbatim as it stood in the file; ``line`` is the 1-based line where
    it starts, so every later error or listing can point back to the file.
    """

    source_key: str | None
    raw: str
    line: int
    title: str | None = None
    authors: tuple[str, ...] = ()
    year: int | None = None
    journal: str | None = None
    volume: str | None = None
    issue: str | None = None
    pages: str | None = None
    doi: str | None = None
    pmid: str | None = None
    abstract: str | None = None
    keywords: tuple[str, ...] = ()
    publication_type: str | None = None
    language: str | None = None
    extra: dict[str, str] = field(default_factory=dict)
