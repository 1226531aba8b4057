"""Issue 15, the workflow gaps around stopping: votes imported from a file are stamped and held
to calibration rounds and stops like votes cast with ``screen decide``; a stop follows later dedup
merges and splits (PRISMA derives the references not screened from the current references).

The review of ``tests/test_prioritisation.py``: 16 references, trials odd (include) and animal
studies even (exclude); alice and bob screen by priority.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.test_prioritisation import (
    FIXED_RUN,
    _next,
    _review,
    _screen_by_priority,
    _votes,
    ok,
    run,
)


def _csv(path: Path, rows: list[tuple[int, str]]) -> str:
    path.write_text(
        "record_id,decision,reason,note\n" + "".join(f"{r},{d},,\n" for r, d in rows),
        encoding="utf-8",
    )
    return str(path)


def _counts(db: str) -> dict[str, Any]:
    prisma = json.loads(ok(db, "report", "prisma", "--format", "json", "--as", "olga"))
    counts: dict[str, Any] = prisma.get("counts", prisma)
    # PRISMA 2020's identity with the stop's box (docs/screening_queue.md, PRISMA).
    assert counts["records_screened"] == (
        counts["identified"]
        - counts["duplicates_removed"]
        - counts["removed_other"]
        - counts["not_screened_stopped"]
    )
    return counts


def test_imported_votes_are_stamped_imported_and_name_their_file(tmp_path: Path) -> None:
    db = _review(tmp_path)
    path = _csv(tmp_path / "alice_tiab.csv", [(1, "include"), (2, "exclude")])
    ok(db, "screen", "import-decisions", path, "--stage", "tiab", "--as", "alice")
    assert _votes(db) == [(1, "alice", "include", "imported", None), (2, "alice", "exclude", "imported", None)]  # fmt: skip
    log = json.loads(
        ok(db, "audit", "log", "--action", "screening-decision", "--format", "json", "--as", "olga")
    )
    assert [e["payload"]["source_file"] for e in log] == ["alice_tiab.csv"] * 2
    assert [e["payload"]["after"]["order"] for e in log] == ["imported"] * 2
    # A vote cast with `screen decide` names no file (the payload as before).
    ok(db, "screen", "decide", "3", "include", "--as", "bob")
    log = json.loads(
        ok(db, "audit", "log", "--action", "screening-decision", "--format", "json", "--as", "olga")
    )
    assert "source_file" not in log[-1]["payload"]
    ok(db, "audit", "verify", "--as", "olga")


def test_an_import_during_a_calibration_round_is_held_to_its_pilot_and_counts_toward_it(
    tmp_path: Path,
) -> None:
    """Pilot of 4 (seed 3) as in test_prioritisation: a file with a reference outside it is
    refused in one line naming the file and line, nothing written; files of pilot votes
    (alice include, include, exclude, exclude; bob include, exclude, exclude, exclude) count
    toward the round: kappa = (3/4 - 1/2) / (1 - 1/2) = 0.5, passed at the threshold 0.5."""
    db = _review(tmp_path, "screening.calibration_kappa=0.5")
    ok(db, "screen", "calibrate", "--sample", "4", "--seed", "3", "--as", "olga")
    sample = _next(db, "alice")["ids"]
    assert isinstance(sample, list) and len(sample) == 4
    outside = next(n for n in range(1, 17) if n not in sample)
    mixed = _csv(tmp_path / "alice.csv", [(sample[0], "include"), (outside, "exclude")])
    code, _out, err = run(
        db, "screen", "import-decisions", mixed, "--stage", "tiab", "--as", "alice"
    )
    assert code == 2
    assert err == (
        f"reviewtool: error: {mixed}:3: record {outside} is not in the calibration round's pilot: "
        "screening proper opens once an owner closes the round (`reviewtool screen calibrate`)\n"
    )
    assert _votes(db) == []
    alice = ["include", "include", "exclude", "exclude"]
    bob = ["include", "exclude", "exclude", "exclude"]
    for who, decisions in (("alice", alice), ("bob", bob)):
        path = _csv(tmp_path / f"{who}.csv", list(zip(sample, decisions, strict=True)))
        ok(db, "screen", "import-decisions", path, "--stage", "tiab", "--as", who)
    passed = json.loads(ok(db, "screen", "calibrate", "--format", "json", "--as", "olga"))
    assert passed["outcome"] == "passed" and passed["kappa"] == 0.5
    assert {v[3] for v in _votes(db)} == {"imported"}
    ok(db, "audit", "verify", "--as", "olga")


def _stopped(tmp_path: Path) -> tuple[str, list[int]]:
    """Both screen 13 by priority, consecutive_exclusions (n = 4) is met, olga stops: the 3
    references nobody voted on are set aside (returned, ascending)."""
    db = _review(tmp_path, "screening.order=relevance", "screening.stop_consecutive=4", FIXED_RUN)
    _screen_by_priority(db, "alice", 13)
    _screen_by_priority(db, "bob", 13)
    ok(db, "screen", "stop", "--rule", "consecutive_exclusions", "--as", "olga")
    log = json.loads(
        ok(db, "audit", "log", "--action", "screening-stopped", "--format", "json", "--as", "olga")
    )
    return db, sorted(log[0]["payload"]["after"]["references"])


def test_an_import_after_a_stop_is_refused_for_the_references_it_set_aside(
    tmp_path: Path,
) -> None:
    db, aside = _stopped(tmp_path)
    assert len(aside) == 3
    before = _votes(db)
    screened = next(n for n in range(1, 17) if n not in aside)
    path = _csv(tmp_path / "late.csv", [(screened, "include"), (aside[1], "exclude")])
    code, _out, err = run(
        db, "screen", "import-decisions", path, "--stage", "tiab", "--as", "alice"
    )
    assert code == 2
    assert err == (
        f"reviewtool: error: {path}:3: record {aside[1]} was set aside when screening stopped; "
        "an owner brings it back with `reviewtool screen stop --undo --reason R`\n"
    )
    assert _votes(db) == before  # nothing written, not even the first row
    ok(db, "screen", "stop", "--undo", "--reason", "late votes from a paper form", "--as", "olga")
    ok(db, "screen", "import-decisions", path, "--stage", "tiab", "--as", "alice")
    assert _votes(db)[-1] == (aside[1], "alice", "exclude", "imported", None)
    ok(db, "audit", "verify", "--as", "olga")


def test_a_stop_follows_dedup_merges_and_splits(tmp_path: Path) -> None:
    """After both screened 13 and alice one more (the largest of the 3 left, c), olga stops: a
    and b are set aside. PRISMA: 16 identified, 0 duplicates, 2 not screened, 14 screened.

    * Merge a and b (both set aside): one reference a, 1 duplicate, 1 not screened, 14 screened.
    * Undo it: back to 0, 2, 14.
    * Merge a with c (alice voted on c): the merged reference keeps the older id a and carries
      alice's vote, so it is screened, not set aside: it comes back into bob's queue (every
      reference screened is screened in duplicate) and bob can vote on it. 1 duplicate, 1 not
      screened (b), 14 screened.
    * Undo it: each part has its id back; the part without a vote is set aside again.
    """
    db = _review(tmp_path, "screening.order=relevance", "screening.stop_consecutive=4", FIXED_RUN)
    ok(db, "dedup", "run", "--as", "olga")  # pairs are decided after a run (it merges none here)
    _screen_by_priority(db, "alice", 13)
    _screen_by_priority(db, "bob", 13)
    left = sorted(_next(db, "alice")["ids"])  # type: ignore[type-var]
    assert len(left) == 3
    a, b, c = left
    ok(db, "screen", "decide", str(c), "exclude", "--as", "alice")
    ok(db, "screen", "stop", "--rule", "consecutive_exclusions", "--as", "olga")
    counts = _counts(db)
    assert (counts["identified"], counts["duplicates_removed"]) == (16, 0)
    assert (counts["not_screened_stopped"], counts["records_screened"]) == (2, 14)
    assert _next(db, "bob")["ids"] == [c]

    ok(db, "dedup", "confirm", str(a), str(b), "--as", "olga")
    counts = _counts(db)
    assert (counts["duplicates_removed"], counts["not_screened_stopped"]) == (1, 1)
    assert counts["records_screened"] == 14
    ok(db, "dedup", "undo", str(a), "--as", "olga")
    counts = _counts(db)
    assert (counts["duplicates_removed"], counts["not_screened_stopped"]) == (0, 2)
    assert counts["records_screened"] == 14

    ok(db, "dedup", "confirm", str(a), str(c), "--as", "olga")
    counts = _counts(db)
    assert (counts["duplicates_removed"], counts["not_screened_stopped"]) == (1, 1)
    assert counts["records_screened"] == 14
    assert _next(db, "bob")["ids"] == [a]
    ok(db, "screen", "decide", str(a), "exclude", "--as", "bob")
    assert _counts(db)["awaiting_title_abstract"] == 0
    ok(db, "dedup", "undo", str(a), "--as", "olga")
    counts = _counts(db)
    # Each vote followed the record it was cast on: alice's stays on c; bob's is on the record
    # he saw (the merged group's primary). Whichever part has no vote is set aside again.
    voted = {ref for ref, *_ in _votes(db)}
    unvoted = {a, b, c} - voted
    assert counts["duplicates_removed"] == 0
    assert counts["not_screened_stopped"] == len(unvoted)
    assert counts["records_screened"] == 16 - len(unvoted)
    ok(db, "audit", "verify", "--as", "olga")


def test_stop_check_scales_the_run_of_exclusions_by_default(tmp_path: Path) -> None:
    """The default consecutive rule asks more than n = 4 in a row: alice screened 13 (8 included),
    the last 4 excluded, so 16 - 9 = 7 records were left when the run began, K_tar =
    floor(8/0.95 - 8 + 1) = 1 and p = (7 - 4)/7 = 3/7: not met; only a run through all 7 would
    do (K_tar > 7 - 7: p = 0)."""
    db = _review(tmp_path, "screening.order=relevance", "screening.stop_consecutive=4")
    _screen_by_priority(db, "alice", 13)
    checks = json.loads(ok(db, "screen", "stop-check", "--format", "json", "--as", "olga"))
    rule = next(c for c in checks if c["rule"] == "consecutive_exclusions")
    assert rule["parameters"] == {"n": 4, "recall_target": 0.95, "confidence": 0.95}
    numbers = rule["evidence"]["alice"]["numbers"]
    assert (numbers["run"], numbers["urn"], numbers["k_target"]) == (4, 7, 1)
    assert numbers["p"] == 3 / 7 and numbers["run_needed"] == 7
    assert rule["met"] is False
