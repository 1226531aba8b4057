"""Pure domain vocabulary: enums and value objects shared by every layer.

Nothing here imports from the rest of reviewtool or touches a database, so every layer may use it.
Names follow ``shared/spec/domain.md`` (record, reference, report, study ...).
"""

from __future__ import annotations

import math
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


#: The actor of what reviewtool does by itself (schema upgrades), in the ledger and in who-columns
#: left empty (None) for it.
SYSTEM_ACTOR = "reviewtool"


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


@dataclass(frozen=True)
class Setting:
    """A review setting: its type, default, allowed values and what it does."""

    key: str
    kind: type
    default: object
    help: str
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: float | None = None
    """Largest value of a number setting (``float`` settings: fractions, kappa)."""

    def parse(self, text: str) -> object:
        """Turn the text a user typed into a valid value, or raise ValueError saying why."""
        if self.kind is bool:
            lowered = text.strip().lower()
            if lowered in ("true", "yes", "1", "on"):
                return True
            if lowered in ("false", "no", "0", "off"):
                return False
            raise ValueError(f"{self.key} must be true or false, not {text!r}")
        if self.kind is int:
            try:
                number = int(text)
            except ValueError:
                raise ValueError(f"{self.key} must be a whole number, not {text!r}") from None
            if self.minimum is not None and number < self.minimum:
                raise ValueError(f"{self.key} must be at least {self.minimum}, not {number}")
            return number
        if self.kind is float:
            return self._parse_float(text)
        if self.kind is list:
            return [item.strip() for item in text.split(";") if item.strip()]
        if self.choices and text not in self.choices:
            raise ValueError(f"{self.key} must be one of {', '.join(self.choices)}, not {text!r}")
        return text

    def _parse_float(self, text: str) -> float:
        """A real number within ``minimum``..``maximum`` (both inclusive)."""
        try:
            number = float(text)
        except ValueError:
            raise ValueError(f"{self.key} must be a number, not {text!r}") from None
        if not math.isfinite(number):
            raise ValueError(f"{self.key} must be a finite number, not {text!r}")
        if self.minimum is not None and number < self.minimum:
            raise ValueError(f"{self.key} must be at least {self.minimum}, not {number}")
        if self.maximum is not None and number > self.maximum:
            raise ValueError(f"{self.key} must be at most {self.maximum}, not {number}")
        return number


# Defaults from the seed review: the publication types it excluded before reading abstracts, then the
# eligibility criteria, then (full text) the reasons it reported.
TIAB_EXCLUSION_REASONS = (
    "animal study",
    "case report or letter",
    "review or meta-analysis",
    "meeting abstract",
    "not an RCT",
    "wrong population",
    "wrong intervention",
    "wrong comparator",
)
FULLTEXT_EXCLUSION_REASONS = (
    "insufficient data",
    "not an RCT",
    "wrong population",
    "wrong intervention",
    "wrong comparator",
    "duplicate report",
)

# Every setting a review has; owners change them with `reviewtool settings set`.
SETTINGS: dict[str, Setting] = {
    s.key: s
    for s in (
        Setting(
            "screening.reviewers_required",
            int,
            2,
            "Independent reviewers needed per record and stage.",
            minimum=1,
        ),
        Setting(
            "screening.blind",
            bool,
            True,
            "Hide reviewers' votes, agreement and conflicts from each other (see docs/blinding.md).",
        ),
        Setting(
            "screening.blind_tiab",
            bool,
            True,
            "Title/abstract still blind; an owner ends it with `screen unblind --stage tiab`.",
        ),
        Setting(
            "screening.blind_fulltext",
            bool,
            True,
            "Full text still blind; an owner ends it with `screen unblind --stage fulltext`.",
        ),
        Setting(
            "extraction.blind",
            bool,
            True,
            "Hide extractors' values from each other until consensus; an owner ends it with "
            "`extract unblind`.",
        ),
        Setting(
            "screening.exclusion_reasons_tiab",
            list,
            list(TIAB_EXCLUSION_REASONS),
            "Exclusion reasons offered at title/abstract (separate with ';').",
        ),
        Setting(
            "screening.exclusion_reasons_fulltext",
            list,
            list(FULLTEXT_EXCLUSION_REASONS),
            "Exclusion reasons offered at full text (separate with ';').",
        ),
        Setting(
            "screening.reason_required_tiab",
            bool,
            False,
            "Require a reason to exclude at title/abstract.",
        ),
        Setting(
            "screening.reason_required_fulltext",
            bool,
            True,
            "Require a reason to exclude at full text.",
        ),
        Setting(
            "screening.include_keywords", list, [], "Words highlighted as inclusion cues (';')."
        ),
        Setting(
            "screening.exclude_keywords", list, [], "Words highlighted as exclusion cues (';')."
        ),
        Setting(
            "analysis.model",
            str,
            "auto",
            "Pooling model: fixed, random, or auto (random when Q p < 0.1 or I² > 50%).",
            choices=("fixed", "random", "auto"),
        ),
        Setting(
            "analysis.tau2",
            str,
            "REML",
            "Between-study variance estimator for random effects.",
            choices=("DL", "REML", "PM"),
        ),
        Setting(
            "analysis.funnel_min_k",
            int,
            10,
            "Fewest studies for a funnel plot and its Egger/Begg lines in an export (Cochrane "
            "Handbook ch. 13: asymmetry tests need at least 10).",
            minimum=2,
        ),
        Setting(
            "rob.blind",
            bool,
            True,
            "Risk of bias still blind: an assessor sees only their own judgements until a domain "
            "has its consensus; an owner ends it with `rob unblind` (see docs/rob.md).",
        ),
        Setting(
            "rob1.overall_rule",
            str,
            "worst_domain",
            "How a study's RoB 1 domains make its overall rating (docs/rob.md): worst_domain "
            "(default; Handbook-style worst of all seven), key_domains (worst of A-D), "
            "count_unmet (0-1 / 2-3 / >3 domains not Low: high / moderate / low quality), "
            "count_low (>=3 / 2 / <2 domains Low: good / fair / poor).",
            choices=("worst_domain", "key_domains", "count_unmet", "count_low"),
        ),
        Setting(
            "extraction.change_correlation",
            float,
            0.5,
            "Assumed correlation r between baseline and final values, used to impute the SD of "
            "a change from baseline (`extract set ... --from-change`; Cochrane Handbook 6.5.2.8, "
            "after Follmann 1992: 0.5 is the conservative choice, below which change scores are "
            "less precise than final values). Impute it from studies reporting all three SDs.",
            minimum=-1,
            maximum=1,
        ),
        Setting(
            "adjudication.separate_duties",
            bool,
            True,
            "Separation of duties: an adjudicator may not resolve a disagreement they took part "
            "in (a screening conflict on a reference they voted on at that stage, at full text "
            "on that report; an extraction value they extracted; a risk-of-bias domain they "
            "judged). A one-adjudicator team turns it off (docs/trust.md).",
        ),
        # Issue 15: prioritised screening (docs/prioritisation.md).
        Setting(
            "screening.order",
            str,
            "random",
            "Order of each reviewer's title/abstract queue: random (shuffled with "
            "screening.order_seed), relevance (a model trained on the reviewer's own votes and "
            "the final decisions they may see ranks likely includes first) or mixed (relevance, "
            "with screening.random_fraction of the records drawn at random). Relevance and mixed "
            "start once the reviewer has screening.min_includes includes and min_excludes excludes.",
            choices=("random", "relevance", "mixed"),
        ),
        Setting(
            "screening.order_seed",
            int,
            0,
            "Seed of the random queue order (each reviewer gets their own shuffle of it).",
            minimum=0,
        ),
        Setting(
            "screening.random_fraction",
            float,
            0.1,
            "Under screening.order mixed: the fraction of the queue drawn at random, which keeps "
            "the model honest and gives the random sample a statistical stopping rule needs.",
            minimum=0,
            maximum=1,
        ),
        Setting(
            "screening.min_includes",
            int,
            1,
            "Includes (or maybes) a reviewer must have voted before their queue is ranked by "
            "relevance; random order until then.",
            minimum=1,
        ),
        Setting(
            "screening.min_excludes",
            int,
            1,
            "Excludes a reviewer must have voted before their queue is ranked by relevance.",
            minimum=1,
        ),
        Setting(
            "screening.calibration_kappa",
            float,
            0.6,
            "Cohen's kappa the reviewers must reach on a calibration round's pilot sample "
            "(`screen calibrate`) before screening proper opens (0.6: substantial agreement, "
            "Landis & Koch 1977).",
            minimum=-1,
            maximum=1,
        ),
        Setting(
            "screening.model",
            str,
            "svm",
            "The relevance model's classifier on TF-IDF features (screening.ranking): a linear "
            "SVM (ASReview's default ELAS u4), logistic regression or naive Bayes. Changing it "
            "mid-screening is the model switch of the SAFE procedure's stage 3.",
            choices=("logistic", "svm", "naive_bayes"),
        ),
        Setting(
            "screening.stop_consecutive",
            int,
            100,
            "Stopping rule consecutive_exclusions: met after this many excludes in a row (a "
            "heuristic, reported as such).",
            minimum=1,
        ),
        Setting(
            "screening.stop_recall_target",
            float,
            0.95,
            "Stopping rule hypergeometric (Callaghan & Müller-Hansen 2020): the recall to reach.",
            minimum=0,
            maximum=1,
        ),
        Setting(
            "screening.stop_confidence",
            float,
            0.95,
            "Stopping rule hypergeometric: the confidence level of its test (met when p < 1 - it).",
            minimum=0,
            maximum=1,
        ),
        Setting(
            "screening.stop_safe_consecutive",
            int,
            50,
            "Stopping rule safe (Boetje & van de Schoot 2024): excludes in a row that end stages "
            "2 and 3.",
            minimum=1,
        ),
        Setting(
            "screening.stop_safe_min_fraction",
            float,
            0.1,
            "Stopping rule safe: the fraction of all records screened before stage 2 may end.",
            minimum=0,
            maximum=1,
        ),
        Setting(
            "screening.stop_safe_relevant_factor",
            float,
            2.0,
            "Stopping rule safe: stage 2 screens at least this many times the estimated number "
            "of relevant records.",
            minimum=0,
        ),
        Setting(
            "screening.stop_consecutive_confidence",
            float,
            0.95,
            "Stopping rule consecutive_exclusions: the run must also be long enough that, had the "
            "records left when it began been screened at random, it would have had a probability "
            "below 1 - this if recall were below screening.stop_recall_target (still a heuristic: "
            "the order was prioritised, not random). 0: the fixed run of stop_consecutive only.",
            minimum=0,
            maximum=0.999,
        ),
        Setting(
            "screening.stop_safe_confidence",
            float,
            0.95,
            "Stopping rule safe: stage 2's run of excludes must also pass the test of "
            "stop_consecutive_confidence at this level. 0: the published 50 in a row only.",
            minimum=0,
            maximum=0.999,
        ),
    )
}


class Decision(StrEnum):
    """A screening vote."""

    INCLUDE = "include"
    EXCLUDE = "exclude"
    MAYBE = "maybe"
    """Counts as include: the reference goes on to the next stage (as Covidence counts it)."""


SCREENING_STAGES = (Stage.TITLE_ABSTRACT, Stage.FULL_TEXT)


class ScreeningStatus(StrEnum):
    """Where a reference stands at one screening stage."""

    OPEN = "open"
    """Fewer current votes than the review requires."""
    INCLUDED = "included"
    """The required reviewers agree it goes on (include or maybe)."""
    EXCLUDED = "excluded"
    """The required reviewers agree it is out (at full text: for the same reason)."""
    CONFLICT = "conflict"
    """The reviewers disagree and no adjudicator has resolved it yet."""
    RESOLVED_INCLUDED = "resolved-included"
    """An adjudicator resolved a conflict as include."""
    RESOLVED_EXCLUDED = "resolved-excluded"
    """An adjudicator resolved a conflict as exclude."""


@dataclass(frozen=True)
class Vote:
    """One reviewer's current decision, as the screening rules see it."""

    reviewer: str
    decision: str
    reason: str | None = None


@dataclass(frozen=True)
class ScreeningOutcome:
    """The status of one reference at one stage, with the final decision and reason when there is one."""

    status: ScreeningStatus
    decision: str | None = None
    reason: str | None = None

    @property
    def final(self) -> bool:
        """True when the reference is decided at this stage (agreement or resolution)."""
        return self.status not in (ScreeningStatus.OPEN, ScreeningStatus.CONFLICT)

    @property
    def goes_on(self) -> bool:
        """True when the reference is included at this stage."""
        return self.status in (ScreeningStatus.INCLUDED, ScreeningStatus.RESOLVED_INCLUDED)


def screening_outcome(
    votes: list[Vote],
    *,
    required: int,
    stage: str,
    resolution: tuple[str, str | None] | None = None,
    reason_order: list[str] | tuple[str, ...] = (),
) -> ScreeningOutcome:
    """Apply the screening rules to the current votes on one reference.

    Maybe counts as include. Fewer votes than ``required``: open. A current ``resolution`` (decision,
    reason) decides the reference while it stands: a changed vote reopens it (the service does
    that), except when the votes come to agree with each other against it, when it stays in force,
    marked contested, until the adjudicator resolves again; so votes never silently override an
    adjudicator. Otherwise, all on one side: decided, except at full text where excludes with
    different reasons are a conflict (the reason feeds PRISMA); else a conflict. When agreeing
    excludes give different reasons (title/abstract), the one earliest in ``reason_order`` is
    reported, so the outcome does not depend on who voted first.
    """
    if len(votes) < required:
        return ScreeningOutcome(ScreeningStatus.OPEN)
    if resolution is not None:
        decision, reason = resolution
        status = (
            ScreeningStatus.RESOLVED_INCLUDED
            if decision == Decision.INCLUDE
            else ScreeningStatus.RESOLVED_EXCLUDED
        )
        return ScreeningOutcome(status, decision, reason)
    sides = {
        Decision.EXCLUDE if v.decision == Decision.EXCLUDE else Decision.INCLUDE for v in votes
    }
    reasons = {v.reason for v in votes if v.decision == Decision.EXCLUDE}
    agreed = len(sides) == 1 and not (
        stage == Stage.FULL_TEXT and sides == {Decision.EXCLUDE} and len(reasons) > 1
    )
    if agreed:
        if sides == {Decision.INCLUDE}:
            return ScreeningOutcome(ScreeningStatus.INCLUDED, Decision.INCLUDE.value)
        given = sorted(
            {v.reason for v in votes if v.reason},
            key=lambda r: (reason_order.index(r) if r in reason_order else len(reason_order), r),
        )
        return ScreeningOutcome(
            ScreeningStatus.EXCLUDED, Decision.EXCLUDE.value, given[0] if given else None
        )
    return ScreeningOutcome(ScreeningStatus.CONFLICT)


def reference_outcome(
    reports: list[ScreeningOutcome | None], *, reason_order: list[str] | tuple[str, ...] = ()
) -> ScreeningOutcome:
    """A reference's full-text outcome, derived from the outcomes of its reports (those that can be
    assessed; None: a report with no vote yet).

    Included when any report is included (finally: by agreement or resolution); excluded when every
    report is finally excluded (the reason reported is the one earliest in ``reason_order`` among
    theirs; ``resolved-excluded`` when any of them was resolved); otherwise a conflict when some
    report is in conflict, else open (awaiting). PRISMA 2020 counts the reports themselves; the
    reference's outcome decides whether it goes on to be a study (Page et al., BMJ 2021;372:n71).
    """
    final = [o for o in reports if o is not None and o.final]
    included = [o for o in final if o.goes_on]
    if included:
        return included[0]
    if reports and len(final) == len(reports):
        given = sorted(
            {o.reason for o in final if o.reason},
            key=lambda r: (reason_order.index(r) if r in reason_order else len(reason_order), r),
        )
        resolved = any(o.status is ScreeningStatus.RESOLVED_EXCLUDED for o in final)
        return ScreeningOutcome(
            ScreeningStatus.RESOLVED_EXCLUDED if resolved else ScreeningStatus.EXCLUDED,
            Decision.EXCLUDE.value,
            given[0] if given else None,
        )
    if any(o is not None and o.status is ScreeningStatus.CONFLICT for o in reports):
        return ScreeningOutcome(ScreeningStatus.CONFLICT)
    return ScreeningOutcome(ScreeningStatus.OPEN)

    return ScreeningOutcome(ScreeningStatus.OPEN)


@dataclass(frozen=True)
class QueueStamp:
    """The queue order a vote was cast in, stored with the vote (schema 0017, issue 15).

    :ivar order: ``random``, ``relevance``, ``mixed-random`` (mixed order, drawn at random) or
        ``mixed-relevance`` (mixed order, ranked by the model).
    :ivar model: the relevance model's version that ranked the queue (None under random order).
    """

    order: str
    model: str | None = None
