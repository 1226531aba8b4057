"""Make the sample review's screening decisions: two reviewers' votes and the adjudicator's resolutions.

The votes are made up, but they reproduce the seed review's flow exactly once the adjudicator has
resolved every conflict (see the README's "Screening" section). The script builds the review up to
deduplication in a temporary database through the library, in the same steps and order as
``run.sh``, so that the record ids it writes are the ones ``run.sh`` creates; it maps each reference
(a record that is no duplicate) to its true category through ``exports/truth.csv``. The seed removed
332 references by publication type before title/abstract screening (animal studies, case reports or
letters, reviews, meeting abstracts): ``REMOVALS`` does the same with ``reviewtool screen remove``,
by publication type and title words where the sample records allow it and by a list
(``removed_case_reports.csv``) for the three case reports indexed as plain articles; ``run.sh`` has
the same commands. The script then writes the votes on the 272 references left and on the 34 that
reach full text, as CSV files that ``reviewtool screen import-decisions`` / ``import-resolutions``
read::

    python sample_project/make_screening.py            # writes sample_project/screening/
    python sample_project/make_screening.py /tmp/out   # or anywhere else

Deterministic: a fixed seed, references in record-id order. ``tests/test_sample_screening.py``
checks that the committed files are reproduced byte for byte and that they give the seed's counts.
"""

from __future__ import annotations

import csv
import random
import re
import sys
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

from sqlmodel import Session, col, select

from reviewtool.dedup.service import decide_from_file, run_dedup
from reviewtool.domain import Role
from reviewtool.importing.service import import_files
from reviewtool.members.service import add_member, grant_role
from reviewtool.review.service import init_review, set_setting
from reviewtool.screening.prescreen import Selection, remove_references, removed_references
from reviewtool.storage import Review
from reviewtool.storage.models import Record

HERE = Path(__file__).resolve().parent
EXPORTS = HERE / "exports"
SEED = 20220915

TITLE = "MSC therapy in ACLF and chronic liver disease (Liu et al. 2022 re-created)"
OWNER, REVIEWER_A, REVIEWER_B = "jniu", "yliu", "ydong"
SEARCHED = "2021-09-15"
# (file, source, query) exactly as run.sh imports them, in its order.
SOURCES: tuple[tuple[str, str, str | None], ...] = (
    ("pubmed.nbib", "MEDLINE (PubMed)", "mesenchymal stem cells AND liver disease (see paper.md)"),
    ("embase.ris", "Ovid EMBASE", None),
    ("wos.txt", "Web of Science", None),
    ("cochrane.ris", "Cochrane Library", None),
)

INCLUDE, EXCLUDE, MAYBE = "include", "exclude", "maybe"

# truth.csv category -> the title/abstract exclusion reason (None: goes on to full text).
TYPE_REASONS: dict[str, str] = {
    "animal": "animal study",
    "case_report_letter": "case report or letter",
    "review_meta_analysis": "review or meta-analysis",
    "meeting_abstract": "meeting abstract",
}
FULLTEXT_REASONS: dict[str, str] = {
    "fulltext_excluded_insufficient_data": "insufficient data",
    "fulltext_excluded_not_rct": "not an RCT",
}
GOES_ON = ("included", *FULLTEXT_REASONS)

CASE_REPORTS_FILE = "removed_case_reports.csv"
# The removals before screening, in run.sh's order: (reason, publication types, title words, list).
# Filters match any record of a reference; a reference removed already is left as it is (the 29
# meeting abstracts on animals keep "meeting abstract").
REMOVALS: tuple[tuple[str, tuple[str, ...], tuple[str, ...], str | None], ...] = (
    (
        "meeting abstract",
        ("Conference Abstract", "Conference proceeding", "Meeting Abstract"),
        (),
        None,
    ),
    ("review or meta-analysis", ("Review", "Meta-Analysis"), (), None),
    ("case report or letter", ("Case Reports", "Letter"), (), None),
    ("case report or letter", (), (), CASE_REPORTS_FILE),
    (
        "animal study",
        (),
        ("rat", "rats", "mice", "mouse", "pig", "pigs", "porcine", "canine", "dog", "dogs"),
        None,
    ),
)

FILES = (
    CASE_REPORTS_FILE,
    "tiab_yliu.csv",
    "tiab_ydong.csv",
    "tiab_resolutions.csv",
    "fulltext_yliu.csv",
    "fulltext_ydong.csv",
    "fulltext_resolutions.csv",
)


@dataclass(frozen=True)
class Reference:
    """A reference as the script needs it: its record id, true category and the text a screener reads."""

    record_id: int
    reference_id: int
    category: str
    title: str
    abstract: str
    publication_type: str


@dataclass(frozen=True)
class Vote:
    """One row of a decisions or resolutions file."""

    decision: str
    reason: str = ""
    note: str = ""


# --- the review up to deduplication, as run.sh builds it ------------------------------------------


def build_review(url: str) -> Review:
    """The sample review imported and deduplicated at ``url``, step by step as ``run.sh`` does it."""
    question = (HERE / "question.md").read_text(encoding="utf-8")
    review = init_review(url, title=TITLE, owner=OWNER, question=question)
    steps: list[Callable[[Session], object]] = [
        lambda s: add_member(s, actor=OWNER, name=REVIEWER_A, roles=[Role.REVIEWER]),
        lambda s: add_member(s, actor=OWNER, name=REVIEWER_B, roles=[Role.REVIEWER]),
        lambda s: grant_role(s, actor=OWNER, name=OWNER, role=Role.ADJUDICATOR),
        lambda s: set_setting(s, actor=OWNER, key="screening.reviewers_required", value="2"),
        lambda s: set_setting(s, actor=OWNER, key="analysis.model", value="auto"),
    ]
    for name, source, query in SOURCES:
        steps.append(
            partial(
                import_files,
                actor=REVIEWER_A,
                paths=[EXPORTS / name],
                source=source,
                searched_on=SEARCHED,
                query=query,
            )
        )
    steps.append(lambda s: run_dedup(s, actor=REVIEWER_A))
    steps.append(
        lambda s: decide_from_file(s, actor=REVIEWER_A, path=str(HERE / "dedup_decisions.csv"))
    )
    for step in steps:  # one transaction per command, like the CLI
        with review.transaction() as session:
            step(session)
    return review


def load_references(review: Review) -> list[Reference]:
    """Every reference (a record with no ``duplicate_of``) with its category from truth.csv."""
    with (EXPORTS / "truth.csv").open(encoding="utf-8", newline="") as handle:
        category = {row["source_id"]: row["category"] for row in csv.DictReader(handle)}
    with review.transaction() as session:
        rows = session.exec(
            select(Record).where(col(Record.duplicate_of).is_(None)).order_by(col(Record.id))
        ).all()
        refs = []
        for record in rows:
            assert record.id is not None and record.source_key is not None
            assert record.reference_id is not None
            refs.append(
                Reference(
                    record_id=record.id,
                    reference_id=record.reference_id,
                    category=category[record.source_key],
                    title=record.title or "",
                    abstract=record.abstract or "",
                    publication_type=record.publication_type or "",
                )
            )
    return refs


# --- what the references truly are --------------------------------------------------------------


def eligibility_reason(ref: Reference) -> str:
    """Why a clinical record the seed excluded on title/abstract fails the PICO, read off its text.

    Randomised trials of other cell or liver therapies fail the intervention; pilot studies in other
    populations (transplant recipients, children, GVHD, cancer, healthy volunteers) the population;
    dose-escalation studies compare doses, not MSC with conventional therapy (the comparator);
    single-arm, observational and laboratory studies, protocols and errata are not RCTs.
    """
    text = f"{ref.title} {ref.abstract}".lower()
    if "study protocol" in text:
        return "not an RCT"  # a protocol reports no trial yet
    if "dose-escalation" in text:
        return "wrong comparator"
    if "randomly assigned" in text or "randomi" in ref.title.lower():
        return "wrong intervention"
    if "in this pilot study" in text:
        return "wrong population"
    return "not an RCT"


def tiab_truth(ref: Reference) -> Vote:
    """The title/abstract decision the seed review reached on ``ref``."""
    if ref.category in GOES_ON:
        return Vote(INCLUDE)
    if ref.category in TYPE_REASONS:
        return Vote(EXCLUDE, TYPE_REASONS[ref.category])
    assert ref.category == "tiab_excluded", ref.category
    return Vote(EXCLUDE, eligibility_reason(ref))


def fulltext_truth(ref: Reference) -> Vote:
    """The full-text decision the seed review reached on ``ref``."""
    if ref.category == "included":
        return Vote(INCLUDE)
    return Vote(EXCLUDE, FULLTEXT_REASONS[ref.category])


def is_randomised(ref: Reference) -> bool:
    """The abstract or title reports random allocation."""
    return "randomly assigned" in ref.abstract or "random" in ref.title.lower()


# --- the made-up votes -------------------------------------------------------------------------


class Picker:
    """Draws references for the deliberate disagreements, never the same reference twice."""

    def __init__(self, refs: Sequence[Reference], seed: int) -> None:
        self.refs = refs
        self.rng = random.Random(seed)
        self.taken: set[int] = set()

    def pick(self, n: int, *, categories: Iterable[str], where: str = "") -> list[Reference]:
        wanted = set(categories)
        pool = [
            r
            for r in self.refs
            if r.category in wanted
            and r.record_id not in self.taken
            and (not where or re.search(where, f"{r.title} {r.abstract}", re.IGNORECASE))
        ]
        if len(pool) < n:
            raise SystemExit(f"make_screening: only {len(pool)} candidates for {wanted} {where!r}")
        chosen = sorted(self.rng.sample(pool, n), key=lambda r: r.record_id)
        self.taken.update(r.record_id for r in chosen)
        return chosen


def tiab_votes(
    refs: Sequence[Reference], seed: int
) -> tuple[dict[int, Vote], dict[int, Vote], dict[int, Vote]]:
    """Both reviewers' title/abstract votes and the adjudicator's resolutions.

    ``refs`` are the 272 references left after the removals before screening. Everyone agrees
    with the seed's decision except on 18 borderline references (8 of the 34 that go on, excluded
    by one reviewer; 10 that the seed excluded, kept by one reviewer, mostly as "maybe"); some
    agreed includes are "maybe" too. The adjudicator decides every conflict as the seed
    did. Excludes agree on the reason (at title/abstract the first vote's reason is the final one).
    """
    picker = Picker(refs, seed)
    truth = {r.record_id: tiab_truth(r) for r in refs}
    a, b = dict(truth), dict(truth)

    # One reviewer excludes a reference that goes on; the adjudicator sends it to full text.
    for ref in picker.pick(3, categories=["fulltext_excluded_not_rct"]):
        a[ref.record_id] = Vote(EXCLUDE, "not an RCT", "controlled, but no randomisation stated")
    for ref in picker.pick(2, categories=["fulltext_excluded_not_rct"]):
        b[ref.record_id] = Vote(EXCLUDE, "not an RCT", "allocation unclear")
    for ref in picker.pick(1, categories=["fulltext_excluded_insufficient_data"]):
        b[ref.record_id] = Vote(EXCLUDE, "wrong population", "mixed aetiologies")
    for ref in picker.pick(2, categories=["included"]):
        b[ref.record_id] = Vote(EXCLUDE, "wrong population", "not chronic liver disease?")
    # Unsure but not excluding: "maybe" on references that do go on (it counts as include).
    for ref in picker.pick(5, categories=GOES_ON):
        a[ref.record_id] = Vote(MAYBE, "", "need the full text for the design")
    for ref in picker.pick(6, categories=GOES_ON):
        b[ref.record_id] = Vote(MAYBE)

    # One reviewer keeps a reference the seed excluded; the adjudicator excludes it. (The
    # publication types removed before screening reach nobody's queue.)
    for ref in picker.pick(5, categories=["tiab_excluded"], where="randomly assigned"):
        a[ref.record_id] = Vote(MAYBE, "", "randomised; check the intervention")
    for ref in picker.pick(1, categories=["tiab_excluded"], where="in this pilot study"):
        a[ref.record_id] = Vote(INCLUDE)
    for ref in picker.pick(2, categories=["tiab_excluded"], where="dose-escalation"):
        b[ref.record_id] = Vote(MAYBE, "", "controlled study: randomised?")
    for ref in picker.pick(1, categories=["tiab_excluded"], where="randomly assigned"):
        b[ref.record_id] = Vote(INCLUDE)
    for ref in picker.pick(1, categories=["tiab_excluded"], where="in this pilot study"):
        b[ref.record_id] = Vote(MAYBE, "", "pilot study: is there a control arm?")

    resolutions = {}
    for ref in refs:
        rid = ref.record_id
        if (a[rid].decision == EXCLUDE) != (b[rid].decision == EXCLUDE):
            resolutions[rid] = replace(truth[rid], note=resolution_note(ref, truth[rid]))
    return a, b, resolutions


def resolution_note(ref: Reference, final: Vote) -> str:
    """The adjudicator's one-line reason for a resolution."""
    if final.decision == INCLUDE:
        return "possibly eligible: assess the full text"
    if final.reason == "meeting abstract":
        return "conference abstract only; no full report of the trial"
    if final.reason == "review or meta-analysis":
        return "a review; its trials are searched directly"
    if final.reason == "wrong intervention":
        return "the intervention is not MSC therapy"
    if final.reason == "wrong population":
        return "population outside the PICO"
    return "not randomised"


def fulltext_votes(
    refs: Sequence[Reference], seed: int
) -> tuple[dict[int, Vote], dict[int, Vote], dict[int, Vote]]:
    """Both reviewers' full-text votes on the 34 and the adjudicator's resolutions.

    Eight conflicts: three include-or-maybe against exclude, and at full text also three excludes
    with different reasons; the adjudicator decides each as the seed did.
    """
    picker = Picker(refs, seed + 1)
    truth = {r.record_id: fulltext_truth(r) for r in refs}
    a, b = dict(truth), dict(truth)

    for ref in picker.pick(2, categories=["included"]):
        b[ref.record_id] = Vote(
            EXCLUDE, "insufficient data", "outcomes as medians only; SDs may be derivable"
        )
    for ref in picker.pick(1, categories=["fulltext_excluded_insufficient_data"]):
        a[ref.record_id] = Vote(INCLUDE, "", "MELD reported at baseline and 24 weeks")
    for ref in picker.pick(1, categories=["fulltext_excluded_not_rct"]):
        a[ref.record_id] = Vote(MAYBE, "", "allocation method unclear; ask the authors?")
    for ref in picker.pick(2, categories=["fulltext_excluded_not_rct"]):
        b[ref.record_id] = Vote(EXCLUDE, "wrong comparator", "historical or self-selected controls")
    for ref in picker.pick(1, categories=["fulltext_excluded_insufficient_data"]):
        a[ref.record_id] = Vote(EXCLUDE, "not an RCT", "randomisation not described")

    notes = {
        INCLUDE: "eligible: randomised, usable outcome data",
        "insufficient data": "no usable outcome data by group",
        "not an RCT": "allocation was not random",
    }
    resolutions = {}
    for ref in refs:
        rid = ref.record_id
        sides = {a[rid].decision == EXCLUDE, b[rid].decision == EXCLUDE}
        reasons = {v.reason for v in (a[rid], b[rid]) if v.decision == EXCLUDE}
        if len(sides) > 1 or len(reasons) > 1:
            final = truth[rid]
            resolutions[rid] = replace(final, note=notes[final.reason or INCLUDE])
    return a, b, resolutions


# --- output ------------------------------------------------------------------------------------


def write_votes(path: Path, votes: dict[int, Vote]) -> None:
    """``record_id,decision,reason,note``, one row per reference in record-id order, LF endings."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["record_id", "decision", "reason", "note"])
        for record_id in sorted(votes):
            vote = votes[record_id]
            writer.writerow([record_id, vote.decision, vote.reason, vote.note])


def check_counts(refs: Sequence[Reference]) -> None:
    """Stop unless the deduplicated references are the seed's 604, category by category."""
    expected = {
        "animal": 176,
        "case_report_letter": 8,
        "review_meta_analysis": 67,
        "meeting_abstract": 81,
        "tiab_excluded": 238,
        "included": 12,
        "fulltext_excluded_insufficient_data": 10,
        "fulltext_excluded_not_rct": 12,
    }
    found: dict[str, int] = {}
    for ref in refs:
        found[ref.category] = found.get(ref.category, 0) + 1
    if found != expected:
        raise SystemExit(f"make_screening: references by category {found}, expected {expected}")


def removal_command(
    reason: str, types: Sequence[str], words: Sequence[str], listed: str | None
) -> str:
    """The ``run.sh`` line of one of ``REMOVALS``."""
    parts = ["rt screen remove", f'--reason "{reason}"']
    parts += [f'--publication-type "{t}"' for t in types]
    parts += [f"--title-word {w}" for w in words]
    if listed is not None:
        parts.append(f"--file screening/{listed}")
    parts.append(f"--as {OWNER}")
    return " ".join(parts)


def remove_before_screening(
    review: Review, refs: Sequence[Reference], out_dir: Path
) -> dict[int, str]:
    """Apply ``REMOVALS`` to ``review`` as run.sh does (one transaction each), first writing the
    list of case reports no filter finds into ``out_dir``; returns reference -> reason removed.

    Stops unless exactly the references of the four publication-type categories are removed,
    each for its category's reason.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    for reason, types, words, listed in REMOVALS:
        if listed is None:
            selection = Selection(publication_types=types, title_words=words)
        else:
            with review.transaction() as session:
                removed = removed_references(session)
            left = sorted(
                r.reference_id
                for r in refs
                if TYPE_REASONS.get(r.category) == reason and r.reference_id not in removed
            )
            path = out_dir / listed
            with path.open("w", encoding="utf-8", newline="") as handle:
                handle.write("reference_id\n" + "".join(f"{r}\n" for r in left))
            selection = Selection(references=tuple(left), source=f"screening/{listed}")
        with review.transaction() as session:
            remove_references(session, actor=OWNER, reason=reason, selection=selection)
    with review.transaction() as session:
        removed = removed_references(session)
    wanted = {r.reference_id: TYPE_REASONS[r.category] for r in refs if r.category in TYPE_REASONS}
    if removed != wanted:
        wrong = sorted(set(removed.items()) ^ set(wanted.items()))[:5]
        raise SystemExit(f"make_screening: the removals differ from the seed's types: {wrong}")
    return removed


def write_files(out_dir: Path, refs: Sequence[Reference], seed: int = SEED) -> list[Path]:
    """Make up the votes on ``refs`` (those not removed before screening) and write the six vote
    and resolution files into ``out_dir``."""
    tiab_a, tiab_b, tiab_res = tiab_votes(refs, seed)
    goes_on = [r for r in refs if r.category in GOES_ON]
    ft_a, ft_b, ft_res = fulltext_votes(goes_on, seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, votes in zip(FILES[1:], (tiab_a, tiab_b, tiab_res, ft_a, ft_b, ft_res), strict=True):
        path = out_dir / name
        write_votes(path, votes)
        written.append(path)
    return written


def make(out_dir: Path, seed: int = SEED) -> list[Path]:
    """Build the review in a temporary database, remove the publication types before screening
    and write the seven CSV files (``FILES``) into ``out_dir``."""
    with tempfile.TemporaryDirectory(prefix="make_screening-") as tmp:
        review = build_review(f"sqlite:///{Path(tmp) / 'review.db'}")
        try:
            refs = load_references(review)
            check_counts(refs)
            removed = remove_before_screening(review, refs, out_dir)
        finally:
            review.close()
    left = [r for r in refs if r.reference_id not in removed]
    return [out_dir / CASE_REPORTS_FILE, *write_files(out_dir, left, seed)]


def main(argv: Sequence[str]) -> int:
    """``make_screening.py [OUT_DIR]`` (default: ``sample_project/screening``)."""
    out_dir = Path(argv[0]) if argv else HERE / "screening"
    for path in make(out_dir):
        rows = sum(1 for _ in path.open(encoding="utf-8")) - 1
        print(f"{path}: {rows} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
