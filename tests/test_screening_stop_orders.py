"""The stopping rules and ``reviewtool prisma`` against the orders the votes were actually cast in:
the methods paragraph names the order stamps of the votes (never "prioritised screening" for votes
imported from files), only votes stamped ``random`` are a random sample (SAFE's stage 1 and the
hypergeometric rule alike), the evidence is in words, and ``reviewtool prisma`` shows the records
set aside by a stop in every format (its counts add up).

The review of ``tests/test_prioritisation.py``: 16 references, trials odd (include) and animal
studies even (exclude).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from reviewtool.screening import stopping
from reviewtool.screening.stop import History, evaluate, order_counts, random_training
from tests.test_prioritisation import FIXED_RUN, _review, _screen_by_priority, ok

SAFE = {
    "consecutive": 4,
    "min_fraction": 0.1,
    "relevant_factor": 2.0,
    "recall_target": 0.95,
    "confidence": 0.0,
}
HYPER = {"recall_target": 0.95, "confidence": 0.95}
CONSECUTIVE = {"n": 4, "recall_target": 0.95, "confidence": 0.0}
#: alice's file: the 7 trials of 1-13 (include), then the 6 animal studies (exclude).
IMPORTED = [*range(1, 14, 2), *range(2, 13, 2)]


def _history(orders: list[str | None], included: list[bool]) -> History:
    refs = tuple(range(1, len(orders) + 1))
    return History("alice", refs, tuple(included), tuple(orders))


def _import(db: str, tmp_path: Path, who: str) -> None:
    path = tmp_path / f"{who}.csv"
    rows = "".join(f"{r},{'include' if r % 2 else 'exclude'},,\n" for r in IMPORTED)
    path.write_text("record_id,decision,reason,note\n" + rows, encoding="utf-8")
    ok(db, "screen", "import-decisions", str(path), "--stage", "tiab", "--as", who)


def test_order_counts_and_the_random_training_set_are_read_from_the_stamps() -> None:
    orders = ("random", "random", "imported", "random", "relevance", None)
    assert order_counts(orders) == {
        "random": 3,
        "imported": 1,
        "relevance": 1,
        "unstamped": 1,
    }
    assert random_training(orders) == 2  # the run of `random` that begins the history
    assert random_training(("imported", "random", "relevance")) == 0
    assert random_training(("calibration", "relevance")) == 0


def test_safe_takes_no_imported_or_calibration_vote_as_its_random_training_set() -> None:
    """Before: every vote before the first prioritised one was stage 1, so 3 imported votes (1
    include) gave a prevalence of 1/3; now stage 1 is empty and there is no estimate."""
    history = _history(
        ["imported", "calibration", "imported", "relevance", "relevance"],
        [True, False, False, False, False],
    )
    evidence = evaluate("safe", history, total=10, parameters=SAFE)
    assert evidence.numbers["random_training"] == 0
    assert evidence.numbers["estimated_prevalence"] is None
    assert evidence.orders == {"imported": 2, "calibration": 1, "relevance": 2}
    random_first = _history(["random"] * 3 + ["relevance"] * 2, [True, False, False, False, False])
    evidence = evaluate("safe", random_first, total=10, parameters=SAFE)
    assert evidence.numbers["random_training"] == 3
    assert evidence.numbers["estimated_prevalence"] == 1 / 3


def test_the_hypergeometric_rule_takes_only_votes_stamped_random_as_its_sample() -> None:
    """5 imported excludes at the end are no random sample (no p); 5 random ones are: 2 includes
    before them in N = 20: urn 18, K_tar = floor(2/0.95 - 2 + 1) = 1, p = C(17,5)/C(18,5) =
    13/18."""
    included = [True, True] + [False] * 5
    imported = evaluate(
        "hypergeometric",
        _history(["relevance"] * 2 + ["imported"] * 5, included),
        total=20,
        parameters=HYPER,
    )
    assert imported.numbers["sample"] == 0 and imported.numbers["p"] is None
    sampled = evaluate(
        "hypergeometric",
        _history(["relevance"] * 2 + ["random"] * 5, included),
        total=20,
        parameters=HYPER,
    )
    assert (sampled.numbers["sample"], sampled.numbers["urn"], sampled.numbers["k_target"]) == (
        5,
        18,
        1,
    )
    assert abs(float(sampled.numbers["p"] or 0) - 13 / 18) < 1e-12
    text = sampled.methods_text()
    assert text.startswith(
        "Of the 7 records screened, 2 were screened in the order of a relevance model retrained "
        "on the screening decisions (prioritised screening) and 5 were screened in random order."
    )
    assert "2 records were screened before the random sample (2 included)" in text


def test_the_methods_paragraph_names_the_orders_the_votes_were_cast_in() -> None:
    included = [True] + [False] * 5
    random = evaluate(
        "consecutive_exclusions",
        _history(["random"] * 6, included),
        total=20,
        parameters=CONSECUTIVE,
    ).methods_text()
    assert random.startswith("All 6 records screened were screened in random order. ")
    assert "prioritised" not in random
    mixed = evaluate(
        "consecutive_exclusions",
        _history(["random", "random", "imported", "calibration", None, "random"], included),
        total=20,
        parameters=CONSECUTIVE,
    ).methods_text()
    assert mixed.startswith(
        "Of the 6 records screened, 3 were screened in random order, 1 was screened in a "
        "calibration round (a sample shared by the reviewers), 1 was imported from files as "
        "decisions already made (the order they were screened in is not known) and 1 was screened "
        "before screening orders were recorded (the order is not known). Records imported, "
        "screened in a calibration round or without a recorded order count as screened, but "
        "neither as a random sample nor as evidence of random order."
    )
    # The pure kernel without stamps (a simulation) keeps the prioritised order it replays.
    kernel = stopping.consecutive_exclusions(included, total=20, n=4, confidence=0.0)
    assert kernel.methods_text().startswith(
        "Records were screened in the order of a relevance model retrained on the screening "
        "decisions (prioritised screening). "
    )


def test_a_stop_on_imported_votes_does_not_claim_prioritised_screening(tmp_path: Path) -> None:
    """Both reviewers import 13 decisions (7 includes then 6 excludes): the fixed run of 4 is met;
    the paragraph says the 13 were imported, and the rules see no random sample."""
    db = _review(tmp_path, "screening.stop_consecutive=4", FIXED_RUN)
    _import(db, tmp_path, "alice")
    _import(db, tmp_path, "bob")
    checks = json.loads(ok(db, "screen", "stop-check", "--format", "json", "--as", "olga"))
    by_rule = {c["rule"]: c["evidence"]["alice"] for c in checks}
    assert by_rule["safe"]["numbers"]["random_training"] == 0  # before: 13
    assert by_rule["hypergeometric"]["numbers"]["sample"] == 0
    assert by_rule["consecutive_exclusions"]["orders"] == {"imported": 13}
    out = ok(db, "screen", "stop", "--rule", "consecutive_exclusions", "--as", "olga")
    assert "prioritised" not in out and "relevance model" not in out
    assert (
        "Reviewer alice: All 13 records screened were imported from files as decisions already "
        "made (the order they were screened in is not known)." in out
    )
    assert "3 of the 16 records had not been screened by any reviewer" in out


def test_stop_check_names_its_numbers_in_words(tmp_path: Path) -> None:
    """As test_stop_check_scales_the_run_of_exclusions_by_default: alice screened 13 by priority,
    the last 4 excluded, 7 records left when the run began, K_tar 1, p = 3/7."""
    db = _review(tmp_path, "screening.order=relevance", "screening.stop_consecutive=4")
    _screen_by_priority(db, "alice", 13)
    rows = list(
        csv.DictReader(
            io.StringIO(ok(db, "screen", "stop-check", "--format", "csv", "--as", "olga"))
        )
    )
    evidence = next(r for r in rows if r["rule"] == "consecutive_exclusions")["evidence"]
    assert "records left when the run began: 7" in evidence
    assert "excluded in a row at the end: 4" in evidence
    assert "p (a random run that long missing them all): 0.4286" in evidence
    assert "urn=" not in evidence


def test_reviewtool_prisma_shows_the_records_set_aside_by_a_stop_in_every_format(
    tmp_path: Path,
) -> None:
    """After the stop of test_a_stop_on_imported_votes...: 16 identified, 3 set aside, 13 screened
    (16 - 0 duplicates - 0 removed - 3 set aside)."""
    db = _review(tmp_path, "screening.stop_consecutive=4", FIXED_RUN)
    _import(db, tmp_path, "alice")
    _import(db, tmp_path, "bob")
    ok(db, "screen", "stop", "--rule", "consecutive_exclusions", "--as", "olga")
    box = "records marked as ineligible by automation tools (not screened: screening stopped)"
    data = json.loads(ok(db, "prisma", "--format", "json", "--as", "olga"))
    assert (data["identified"], data["not_screened_stopped"], data["records_screened"]) == (
        16,
        3,
        13,
    )
    rows = {
        r["box"]: r["n"]
        for r in csv.DictReader(io.StringIO(ok(db, "prisma", "--format", "csv", "--as", "olga")))
    }
    assert rows[box] == "3" and rows["records screened"] == "13"
    table = ok(db, "prisma", "--as", "olga")
    cells = [[c.strip() for c in line.split("│")[1:-1]] for line in table.splitlines()]
    row = next(i for i, c in enumerate(cells) if c and c[0].startswith("records marked as"))
    wrapped = " ".join(c[0] for c in cells[row : row + 3] if c and (c[1] == "" or c is cells[row]))
    assert wrapped.startswith(box) and cells[row][1] == "3"


def test_counts_take_the_number_of_their_noun(tmp_path: Path) -> None:
    """ "Recorded 1 votes" / "for 1 studies" before: one vote, one study; plurals unchanged."""
    from reviewtool.cli._common import counted

    assert [counted(1, "study"), counted(2, "study"), counted(0, "vote")] == [
        "1 study",
        "2 studies",
        "0 votes",
    ]
    assert counted(3, "day") == "3 days" and counted(2, "analysis", "analyses") == "2 analyses"
    db = _review(tmp_path)
    path = tmp_path / "one.csv"
    path.write_text("record_id,decision,reason,note\n1,include,,\n", encoding="utf-8")
    out = ok(db, "screen", "import-decisions", str(path), "--stage", "tiab", "--as", "alice")
    assert out.startswith("Recorded 1 vote from ")


def test_the_docs_do_not_call_logistic_regression_the_default_model() -> None:
    """The default is the linear SVM (ELAS u4, ``ranking.DEFAULT_MODEL``); SAFE's simulation uses it
    first and logistic regression second (``simulation.SECOND_MODEL`` / ``OTHER_SECOND_MODEL``)."""
    from reviewtool.screening import ranking, simulation

    assert ranking.DEFAULT_MODEL == "svm" and simulation.OTHER_SECOND_MODEL == "logistic"
    text = " ".join((Path(__file__).parents[1] / "docs" / "prioritisation.md").read_text().split())
    assert "(logistic regression, the defaults above)" not in text
    assert "`simulation.safe_stop`: logistic regression, then the linear SVM" not in text
    assert "1 % random, logistic regression, then the linear SVM" not in text
    assert (
        "`simulation.safe_stop`: the review's model, the linear SVM by default, then logistic"
        in text
    )
