"""Prioritised screening, the workflow side (issue 15): the queue order as a setting, blinding of
the ranking, the order stored with every vote, calibration rounds.

The review: 8 trials of mesenchymal stem cells in cirrhosis patients (what the review wants) and 8
animal studies of liver fibrosis in rats (what it does not), records 1-16 alternating, so a model
trained on one include and one exclude must put the other trials first.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reviewtool.cli import app

runner = CliRunner()

TRIAL = (
    "Mesenchymal stem cell infusion in patients with decompensated cirrhosis: a randomised "
    "controlled trial {n}",
    "Patients with decompensated liver cirrhosis were randomised to autologous mesenchymal stem "
    "cells or standard care; MELD score and survival at 24 weeks. Trial {n}.",
)
ANIMAL = (
    "Carbon tetrachloride induced liver fibrosis in rats treated with bone marrow cells {n}",
    "Male Wistar rats received carbon tetrachloride; fibrosis area and collagen in the rat liver "
    "were measured after cell transplantation. Experiment {n}.",
)


def _ris(n: int) -> str:
    title, abstract = TRIAL if n % 2 else ANIMAL
    return (
        f"TY  - JOUR\nID  - R{n}\nTI  - {title.format(n=n)}\nAB  - {abstract.format(n=n)}\n"
        "PY  - 2020\nER  -\n\n"
    )


#: The fixed-N rule (N excludes in a row), not scaled to the review (the default).
FIXED_RUN = "screening.stop_consecutive_confidence=0"

TRIALS = [n for n in range(1, 17) if n % 2]
ANIMALS = [n for n in range(1, 17) if not n % 2]


def run(db: str, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, [*args, "--db", db])
    return result.exit_code, result.stdout, result.stderr


def ok(db: str, *args: str) -> str:
    code, out, err = run(db, *args)
    assert code == 0, (args, out, err)
    return out


def _review(path: Path, *settings: str) -> str:
    path.mkdir(parents=True, exist_ok=True)
    db = str(path / "r.db")
    export = path / "search.ris"
    export.write_text("".join(_ris(n) for n in range(1, 17)), encoding="utf-8")
    ok(db, "init", "--title", "MSC in cirrhosis", "--as", "olga")
    ok(db, "member", "add", "alice", "--role", "reviewer", "--as", "olga")
    ok(db, "member", "add", "bob", "--role", "reviewer", "--as", "olga")
    ok(db, "member", "add", "carol", "--role", "adjudicator", "--as", "olga")
    ok(db, "import", str(export), "--source", "MEDLINE", "--as", "olga")
    for pair in settings:
        key, value = pair.split("=")
        ok(db, "settings", "set", key, value, "--as", "olga")
    return db


def _next(db: str, who: str) -> dict[str, object]:
    return json.loads(ok(db, "screen", "next", "--count", "20", "--format", "json", "--as", who))


def _votes(db: str) -> list[tuple[int, str, str, str | None, str | None]]:
    with sqlite3.connect(db) as con:
        return con.execute(
            "SELECT d.reference_id, m.name, d.decision, d.queue_order, d.model_version "
            "FROM screening_decision d JOIN member m ON m.id = d.member_id "
            "WHERE d.superseded_at IS NULL ORDER BY d.id"
        ).fetchall()


def test_order_settings_are_checked_in_one_line(tmp_path: Path) -> None:
    db = _review(tmp_path)
    code, _out, err = run(db, "settings", "set", "screening.random_fraction", "1.5", "--as", "olga")
    assert code == 2
    assert err == ("reviewtool: error: screening.random_fraction must be at most 1, not 1.5\n")
    code, _out, err = run(db, "settings", "set", "screening.order", "best", "--as", "olga")
    assert code == 2 and "must be one of random, relevance, mixed" in err
    ok(db, "settings", "set", "screening.random_fraction", "0.25", "--as", "olga")
    shown = ok(db, "settings", "show", "--format", "json", "--as", "olga")
    assert "0.25" in shown


def test_random_order_is_reproducible_with_its_seed(tmp_path: Path) -> None:
    one = _review(tmp_path / "one", "screening.order_seed=7")
    two = _review(tmp_path / "two", "screening.order_seed=7")
    other = _review(tmp_path / "other", "screening.order_seed=8")
    first = _next(one, "alice")
    assert first["ordering"] == "random" and first["model_version"] is None
    assert first["ids"] == _next(two, "alice")["ids"]
    assert sorted(first["ids"]) == list(range(1, 17))  # type: ignore[arg-type]
    assert first["ids"] != _next(other, "alice")["ids"]
    # Each reviewer has their own shuffle of the same seed.
    assert first["ids"] != _next(one, "bob")["ids"]


def test_relevance_order_starts_after_the_minimum_and_ranks_the_trials_first(
    tmp_path: Path,
) -> None:
    db = _review(tmp_path, "screening.order=relevance")
    before = _next(db, "alice")
    assert before["ordering"] == "random" and before["requested"] == "relevance"
    ok(db, "screen", "decide", "1", "include", "--as", "alice")
    # One include is not enough (min_excludes 1): still random, and the vote says so.
    assert _votes(db)[-1][3:] == ("random", None)
    ok(db, "screen", "decide", "2", "exclude", "--as", "alice")
    after = _next(db, "alice")
    assert after["ordering"] == "relevance"
    ids = after["ids"]
    assert isinstance(ids, list) and len(ids) == 14
    # Every remaining trial ranks above every animal study.
    assert set(ids[:7]) == set(TRIALS) - {1}
    assert set(ids[7:]) == set(ANIMALS) - {2}
    version = after["model_version"]
    assert isinstance(version, str) and version.startswith("svm:") and len(version) == 68
    ok(db, "screen", "decide", str(ids[0]), "include", "--as", "alice")
    assert _votes(db)[-1] == (ids[0], "alice", "include", "relevance", version)
    # The same training set gives the same model version (reproducible).
    again = _next(db, "alice")
    assert again["model_version"] != version  # one more label: a new model
    ok(db, "screen", "undo", "--as", "alice")
    assert _next(db, "alice")["model_version"] == version


def test_mixed_order_draws_every_other_vote_at_random_with_fraction_one_half(
    tmp_path: Path,
) -> None:
    db = _review(tmp_path, "screening.order=mixed", "screening.random_fraction=0.5")
    ok(db, "screen", "decide", "1", "include", "--as", "alice")
    ok(db, "screen", "decide", "2", "exclude", "--as", "alice")
    for _ in range(4):
        head = _next(db, "alice")["ids"]
        assert isinstance(head, list)
        ok(db, "screen", "decide", str(head[0]), "exclude", "--as", "alice")
    # Votes n = 2..5: place n is random when floor((n+1)/2) > floor(n/2), i.e. n odd.
    orders = [v[3] for v in _votes(db) if v[1] == "alice"]
    assert orders == [
        "random",
        "random",
        "mixed-relevance",
        "mixed-random",
        "mixed-relevance",
        "mixed-random",
    ]


def _alice_sees(db: str) -> tuple[object, ...]:
    seen = _next(db, "alice")
    return seen["ids"], seen["model_version"], seen["ordering"], seen["includes"]


BOB_STORIES = {
    "none": [],
    "agrees": [("1", "include"), ("2", "exclude"), ("3", "include")],
    "disagrees": [("1", "exclude"), ("2", "include"), ("3", "exclude"), ("4", "include")],
    "screens ahead": [(str(n), "include" if n % 2 else "exclude") for n in range(5, 15)],
}


@pytest.mark.parametrize("order", ["relevance", "mixed"])
def test_one_reviewers_open_votes_cannot_change_the_others_ranking(
    tmp_path: Path, order: str
) -> None:
    """The blinding difference test for the ranking: reviews identical but for bob's votes give
    alice the same queue, order and model version; the owner's queue, which learns from final
    decisions, and alice's own after `screen unblind`, do differ (so the comparison can fail)."""
    seen: dict[str, tuple[object, ...]] = {}
    dbs: dict[str, str] = {}
    for story, votes in BOB_STORIES.items():
        db = _review(tmp_path / story.replace(" ", "_"), f"screening.order={order}")
        for record, decision in [("1", "include"), ("2", "exclude"), ("3", "include")]:
            ok(db, "screen", "decide", record, decision, "--as", "alice")
        for record, decision in votes:
            ok(db, "screen", "decide", record, decision, "--as", "bob")
        seen[story] = _alice_sees(db)
        dbs[story] = db
    assert seen["none"][2] == order
    for story in BOB_STORIES:
        assert seen[story] == seen["none"], story
    # Once title/abstract is unblinded, alice's model learns the final decisions: the conflicts
    # bob made are not final, but with carol's resolutions they are and the ranking moves.
    db = dbs["disagrees"]
    ok(db, "screen", "resolve", "1", "exclude", "--reason", "not an RCT", "--as", "carol")
    ok(db, "screen", "resolve", "2", "include", "--as", "carol")
    assert _alice_sees(db) == seen["none"]  # still blind to alice: resolutions unseen
    ok(db, "screen", "unblind", "--stage", "tiab", "--as", "olga")
    assert _alice_sees(db) != seen["none"]


def test_votes_carry_their_order_in_the_ledger_and_verify_checks_it(tmp_path: Path) -> None:
    db = _review(tmp_path, "screening.order=relevance")
    ok(db, "screen", "decide", "1", "include", "--as", "alice")
    ok(db, "screen", "decide", "2", "exclude", "--as", "alice")
    head = _next(db, "alice")
    ok(db, "screen", "decide", str(head["ids"][0]), "include", "--as", "alice")  # type: ignore[index]
    log = json.loads(
        ok(db, "audit", "log", "--action", "screening-decision", "--format", "json", "--as", "olga")
    )
    afters = [e["payload"]["after"] for e in log]
    assert [a.get("order") for a in afters] == ["random", "random", "relevance"]
    assert afters[-1]["model"] == head["model_version"]
    assert "model" not in afters[0]
    ok(db, "audit", "verify", "--as", "olga")
    with sqlite3.connect(db) as con:
        con.execute("UPDATE screening_decision SET queue_order = 'random' WHERE id = 3")
    code, out, err = run(db, "audit", "verify", "--as", "olga")
    assert code == 8, (out, err)


def test_a_calibration_round_holds_screening_proper_until_kappa_reaches_the_threshold(
    tmp_path: Path,
) -> None:
    """Pilot of 4: alice include, include, exclude, exclude; bob include, exclude, exclude,
    exclude. p_o = 3/4, p_e = 1/2 * 1/4 + 1/2 * 3/4 = 1/2, kappa = (3/4 - 1/2) / (1 - 1/2) = 0.5:
    below 0.6 (the default), at the threshold 0.5."""
    db = _review(tmp_path)
    none = json.loads(ok(db, "screen", "calibrate", "--format", "json", "--as", "olga"))
    assert (none["round"], none["outcome"], none["threshold"]) == (None, None, 0.6)
    code, _out, err = run(db, "screen", "calibrate", "--sample", "4", "--as", "alice")
    assert code == 5 and "may not" in err
    out = ok(db, "screen", "calibrate", "--sample", "4", "--seed", "3", "--as", "olga")
    assert "Calibration round 1: 4 references drawn with seed 3" in out
    pilot = _next(db, "alice")
    assert pilot["ordering"] == "calibration"
    sample = pilot["ids"]
    assert isinstance(sample, list) and len(sample) == 4
    assert sorted(_next(db, "bob")["ids"]) == sorted(sample)  # type: ignore[arg-type]
    outside = next(n for n in range(1, 17) if n not in sample)
    code, _out, err = run(db, "screen", "decide", str(outside), "include", "--as", "alice")
    assert code == 2 and "not in the calibration round's pilot" in err
    for record, a, b in zip(sample, ["include", "include", "exclude", "exclude"],
                            ["include", "exclude", "exclude", "exclude"], strict=True):  # fmt: skip
        ok(db, "screen", "decide", str(record), a, "--as", "alice")
        ok(db, "screen", "decide", str(record), b, "--as", "bob")
    assert {v[3] for v in _votes(db)} == {"calibration"}
    # alice (blind) sees her own progress only.
    mine = json.loads(ok(db, "screen", "calibrate", "--format", "json", "--as", "alice"))
    assert (mine["mine"], mine["kappa"], mine["done"]) == (4, None, None)
    checked = json.loads(ok(db, "screen", "calibrate", "--format", "json", "--as", "olga"))
    assert checked["kappa"] == pytest.approx(0.5)
    assert checked["complete"] is True and checked["outcome"] is None
    assert _next(db, "alice")["ids"] == []  # still the pilot only
    ok(db, "settings", "set", "screening.calibration_kappa", "0.5", "--as", "olga")
    # The threshold is the round's own (fixed when it started): an owner overrides instead.
    still = json.loads(ok(db, "screen", "calibrate", "--format", "json", "--as", "olga"))
    assert still["outcome"] is None and still["threshold"] == 0.6
    code, _out, err = run(db, "screen", "calibrate", "--override", "--as", "olga")
    assert code == 2 and "--reason" in err
    done = json.loads(
        ok(
            db,
            "screen",
            "calibrate",
            "--override",
            "--reason",
            "discussed the two differences",
            "--format",
            "json",
            "--as",
            "olga",
        )
    )
    assert done["outcome"] == "overridden" and done["kappa"] == pytest.approx(0.5)
    assert len(_next(db, "alice")["ids"]) == 12  # type: ignore[arg-type]
    log = json.loads(
        ok(
            db,
            "audit",
            "log",
            "--action",
            "screening-calibration",
            "--format",
            "json",
            "--as",
            "olga",
        )
    )
    assert [e["payload"]["change"] for e in log] == ["start", "override"]
    assert log[-1]["payload"]["after"]["reason"] == "discussed the two differences"
    ok(db, "audit", "verify", "--as", "olga")


def test_a_round_passes_when_kappa_reaches_its_threshold(tmp_path: Path) -> None:
    db = _review(tmp_path, "screening.calibration_kappa=0.5")
    ok(db, "screen", "calibrate", "--sample", "4", "--seed", "3", "--as", "olga")
    sample = _next(db, "alice")["ids"]
    assert isinstance(sample, list)
    for record, a, b in zip(sample, ["include", "include", "exclude", "exclude"],
                            ["include", "exclude", "exclude", "exclude"], strict=True):  # fmt: skip
        ok(db, "screen", "decide", str(record), a, "--as", "alice")
        ok(db, "screen", "decide", str(record), b, "--as", "bob")
    passed = json.loads(ok(db, "screen", "calibrate", "--format", "json", "--as", "olga"))
    assert passed["outcome"] == "passed" and passed["kappa"] == pytest.approx(0.5)
    assert _next(db, "alice")["ordering"] == "random"
    assert len(_next(db, "alice")["ids"]) == 12  # type: ignore[arg-type]


def _screen_by_priority(db: str, who: str, votes: int) -> None:
    """``who`` votes 1 include and 2 exclude, then takes the head of their queue ``votes`` - 2
    times, voting as the truth says (trials include, animal studies exclude)."""
    ok(db, "screen", "decide", "1", "include", "--as", who)
    ok(db, "screen", "decide", "2", "exclude", "--as", who)
    for _ in range(votes - 2):
        head = _next(db, who)["ids"]
        assert isinstance(head, list)
        decision = "include" if head[0] % 2 else "exclude"
        ok(db, "screen", "decide", str(head[0]), decision, "--as", who)


def _rule(db: str, who: str, rule: str) -> dict[str, object]:
    checks = json.loads(ok(db, "screen", "stop-check", "--format", "json", "--as", who))
    return next(c for c in checks if c["rule"] == rule)


def test_stop_check_stop_prisma_and_undo(tmp_path: Path) -> None:
    """Both reviewers screen 13 of 16 by priority: 2 random, the 7 other trials, 4 animal studies,
    so each ends with 4 excludes in a row and consecutive_exclusions (n = 4) is met for both. The
    owner stops: the 3 references nobody voted on are set aside and PRISMA counts them as marked
    ineligible by automation tools (13 screened = 16 - 0 - 0 - 3). Undo brings them back."""
    db = _review(tmp_path, "screening.order=relevance", "screening.stop_consecutive=4", FIXED_RUN)
    _screen_by_priority(db, "alice", 13)
    _screen_by_priority(db, "bob", 13)
    consecutive = _rule(db, "olga", "consecutive_exclusions")
    assert consecutive["met"] is True
    assert consecutive["parameters"] == {"n": 4, "recall_target": 0.95, "confidence": 0.0}
    evidence = consecutive["evidence"]
    assert isinstance(evidence, dict) and sorted(evidence) == ["alice", "bob"]
    numbers = evidence["alice"]["numbers"]
    assert (numbers["screened"], numbers["included"], numbers["run"]) == (13, 8, 4)
    hyper = _rule(db, "olga", "hypergeometric")
    assert hyper["met"] is False  # no random sample after prioritisation yet
    assert hyper["evidence"]["alice"]["numbers"]["p"] is None  # type: ignore[index]
    # A blind reviewer sees their own evidence only, and no verdict for the review.
    mine = _rule(db, "alice", "consecutive_exclusions")
    assert mine["met"] is None and sorted(mine["evidence"]) == ["alice"]  # type: ignore[arg-type]
    code, _out, err = run(db, "screen", "stop", "--rule", "hypergeometric", "--as", "olga")
    assert (code, err) == (
        2,
        "reviewtool: error: stopping rule hypergeometric is not met for alice, bob (see "
        "`reviewtool screen stop-check`)\n",
    )
    code, _out, err = run(db, "screen", "stop", "--rule", "consecutive_exclusions", "--as", "bob")
    assert code == 5 and "may not" in err
    out = ok(db, "screen", "stop", "--rule", "consecutive_exclusions", "--as", "olga")
    assert "3 references set aside, not screened" in out
    assert "each in their own queue order" in out
    assert "planned to stop screening after 4 consecutive records were excluded" in out
    assert "3 of the 16 records had not been screened by any reviewer" in out
    assert _next(db, "alice")["ids"] == []
    prisma = json.loads(ok(db, "report", "prisma", "--format", "json", "--as", "olga"))
    counts = prisma.get("counts", prisma)
    assert (counts["not_screened_stopped"], counts["records_screened"]) == (3, 13)
    assert counts["awaiting_title_abstract"] == 0
    # The PRISMA2020 R package's CSV puts them in "Records marked as ineligible by automation
    # tools" (excluded_automatic), the diagram too.
    ok(db, "report", "prisma", "--out", str(tmp_path / "prisma"), "--as", "olga")
    template = (tmp_path / "prisma" / "prisma_PRISMA2020.csv").read_text(encoding="utf-8")
    row = next(line for line in template.splitlines() if line.startswith("excluded_automatic,"))
    assert row.endswith(",3")
    assert next(ln for ln in template.splitlines() if ln.startswith("records_screened,")).endswith(
        ",13"
    )
    log = json.loads(
        ok(db, "audit", "log", "--action", "screening-stopped", "--format", "json", "--as", "olga")
    )
    after = log[0]["payload"]["after"]
    assert after["rule"] == "consecutive_exclusions" and len(after["references"]) == 3
    assert after["evidence"]["evidence"]["bob"]["met"] is True
    # A blind reviewer's audit log leaves the stop out (its evidence is every reviewer's).
    theirs = json.loads(ok(db, "audit", "log", "--format", "json", "--as", "alice"))
    assert "screening-stopped" not in {e["action"] for e in theirs}
    ok(db, "audit", "verify", "--as", "olga")
    aside = after["references"][0]
    code, _out, err = run(db, "screen", "decide", str(aside), "include", "--as", "alice")
    assert code == 2 and "set aside when screening stopped" in err
    code, _out, err = run(db, "screen", "stop", "--undo", "--as", "olga")
    assert code == 2 and "--reason" in err
    ok(db, "screen", "stop", "--undo", "--reason", "a new search is coming", "--as", "olga")
    assert sorted(_next(db, "alice")["ids"]) == sorted(after["references"])  # type: ignore[arg-type]
    prisma = json.loads(ok(db, "report", "prisma", "--format", "json", "--as", "olga"))
    counts = prisma.get("counts", prisma)
    assert (counts["not_screened_stopped"], counts["records_screened"]) == (0, 16)
    ok(db, "audit", "verify", "--as", "olga")


def test_the_hypergeometric_rule_on_a_random_sample_after_prioritisation(tmp_path: Path) -> None:
    """Alice screens 13 by priority (8 includes), then the owner sets the order back to random and
    she screens the 3 left at random. Callaghan & Müller-Hansen: rho_AL = 8, urn 16 - 13 = 3,
    K_tar = floor(8 / 0.95 - 8 + 1) = 1. After 2 draws with no include, p = P(X <= 0) for
    X ~ Hypergeometric(3, 1, 2) = C(2,2) / C(3,2) = 1/3: not met. After the 3rd, P(X <= 0) = 0
    (all 3 drawn must hold the 1): met."""
    db = _review(tmp_path, "screening.order=relevance")
    _screen_by_priority(db, "alice", 13)
    ok(db, "settings", "set", "screening.order", "random", "--as", "olga")
    for expected_p, met in ((1 / 3, False), (0.0, True)):
        left = _next(db, "alice")["ids"]
        assert isinstance(left, list)
        draws = 2 if met is False else 1
        for record in left[:draws]:
            ok(db, "screen", "decide", str(record), "exclude", "--as", "alice")
        numbers = _rule(db, "olga", "hypergeometric")["evidence"]["alice"]["numbers"]  # type: ignore[index]
        assert numbers["prioritised"] == 13 and numbers["prioritised_included"] == 8
        assert numbers["urn"] == 3 and numbers["k_target"] == 1
        assert numbers["p"] == pytest.approx(expected_p)
        assert _rule(db, "olga", "hypergeometric")["met"] is met
