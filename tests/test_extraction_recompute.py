"""Converted values follow the n they used (issue 11, ``extraction/recompute.py``).

A converted SD records its inputs, the group's n among them. When that n (the extractor's n at
the same arm, outcome and time point, or the consensus n for a consensus SD) changes, by
``extract set``, ``extract import``, the form screen's ``set_value`` or an adjudicator's or
agreed consensus, the SD is computed again from its recorded inputs by the same formula, in the
same transaction, recorded with its old and new values, reopening a consensus as any changed
value does; a change of n the conversion cannot take is refused, naming study, arm and field.

Known answers, Cochrane Handbook 6.5.2.2 (v5.1 7.7.3.2):

- SD = SE·√n: SE 1.2 gives 1.2·√20 = 5.366563145999495 with n = 20 and 1.2·√25 = 6 with n = 25;
- SD = √n·(upper − lower)/(2·t(0.975, n − 1)) for a small group: the 95% CI 10.1 to 14.3 gives
  √20·4.2/(2 × 2.0930) = 4.487041362816091 with n = 20 and √25·4.2/(2 × 2.0639) =
  5.087459333135778 with n = 25 (the Handbook's divisor 4.128 for n = 25).
- n = 1 has no SD (SE·√1 would be a single participant's "SD"; the kernels refuse n < 2).
"""

from __future__ import annotations

import json
import math
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from reviewtool.errors import InvalidInput
from reviewtool.extraction import service as x
from reviewtool.review.service import open_existing
from tests.extraction_builder import cli, review_fixtures, verify_problems
from tests.extraction_builder import run as _run

PLACE = {"arm": "MSC", "outcome": "meld", "time_point": "4 weeks"}
CLI_PLACE = ["--arm", "MSC", "--outcome", "meld", "--time", "4 weeks"]
HEADER = "study,arm,outcome,time_point,field,value,source_kind,source,extractor,convert_from\n"
SE_20, SE_25 = 5.366563145999495, 6.0
CI_20, CI_25 = 4.487041362816091, 5.087459333135778


template, db = review_fixtures("recompute")


def _set(db: str, who: str, field: str, value: str, **where: Any) -> Any:
    return _run(db, x.set_value, actor=who, study="Suk 2016", field=field, value=value, **where)


def _convert(db: str, who: str, conversion: str, fields: tuple[str, ...] = ("sd",)) -> Any:
    return _run(
        db,
        x.set_converted,
        actor=who,
        study="Suk 2016",
        fields=fields,
        conversion=conversion,
        **PLACE,
    )


def _mine(db: str, who: str = "alice") -> dict[str, x.ValueView]:
    review = open_existing(db)
    try:
        with review.reading() as s:
            return {
                v.field: v
                for v in x.values(s, actor=who)
                if (v.arm, v.outcome, v.time_point) == ("MSC", "meld", "4 weeks")
            }
    finally:
        review.close()


def _consensus(db: str) -> dict[str, x.ConsensusView]:
    review = open_existing(db)
    try:
        with review.reading() as s:
            sheet = x.study_sheet(s, actor="carol", study="Suk 2016")
        return {k.field: c for k, c in sheet.consensus.items() if k.arm == "MSC"}
    finally:
        review.close()


def _events(db: str, action: str) -> list[tuple[str, dict[str, Any]]]:
    conn = sqlite3.connect(db.removeprefix("sqlite:///"))
    try:
        rows = conn.execute(
            "SELECT actor, payload FROM audit_event WHERE action = ? ORDER BY seq", (action,)
        ).fetchall()
    finally:
        conn.close()
    return [(actor, json.loads(payload)) for actor, payload in rows]


def _inputs(view: Any) -> dict[str, float]:
    return dict(json.loads(view.source)["inputs"])


# --- the extractor's own values ------------------------------------------------------------------


def test_an_sd_from_se_follows_a_changed_n_with_its_old_and_new_values_recorded(db: str) -> None:
    _set(db, "alice", "n", "20", **PLACE)
    _convert(db, "alice", "se 1.2")
    assert float(_mine(db)["sd"].value) == SE_20 == 1.2 * math.sqrt(20)

    _set(db, "alice", "n", "25", **PLACE)
    mine = _mine(db)
    assert mine["n"].value == "25"
    assert mine["sd"].value == "6" and float(mine["sd"].value) == SE_25 == 1.2 * math.sqrt(25)
    assert mine["sd"].source_kind == "converted"
    assert _inputs(mine["sd"]) == {"se": 1.2, "n": 25}
    assert json.loads(mine["sd"].source)["formula"] == "SD = SE·√n"
    events = _events(db, "extraction-values")
    actor, last = events[-1]
    assert actor == "alice"
    assert last["origin"] == (
        f"recomputed: arm 'MSC', meld at '4 weeks': sd {SE_20!r} → 6 (n 20 → 25)"
    )
    (snapshot,) = last["state"]["extraction_value"].values()
    assert snapshot[:3] == ["6", 1, "converted"]
    assert events[-2][1]["origin"] == "set"  # the change of n itself, then the SD that followed
    assert verify_problems(db) == []


def test_an_sd_from_a_ci_follows_n_with_the_t_divisor_of_the_new_n(db: str) -> None:
    _set(db, "alice", "n", "20", **PLACE)
    _convert(db, "alice", "ci 10.1 14.3")
    sd = float(_mine(db)["sd"].value)
    assert sd == pytest.approx(CI_20, rel=1e-12)
    assert math.sqrt(20) * 4.2 / sd == pytest.approx(2 * 2.0930, abs=5e-4)

    _set(db, "alice", "n", "25", **PLACE)
    sd = float(_mine(db)["sd"].value)
    assert sd == pytest.approx(CI_25, rel=1e-12)
    assert math.sqrt(25) * 4.2 / sd == pytest.approx(4.128, abs=5e-4)  # Handbook, n = 25
    assert json.loads(_mine(db)["sd"].source)["method"] == "sd_from_ci/t"
    assert _inputs(_mine(db)["sd"])["n"] == 25
    assert verify_problems(db) == []


def test_a_median_conversion_moves_mean_and_sd_together(db: str) -> None:
    from reviewtool.extraction import conversions as cv

    _set(db, "alice", "n", "30", **PLACE)
    _convert(db, "alice", "median_range 4 1 10", ("mean", "sd"))
    mine = _mine(db)
    assert float(mine["mean"].value) == pytest.approx(4.356748, abs=5e-7)  # metaBLUE Luo.mean
    assert float(mine["sd"].value) == pytest.approx(2.205578, abs=5e-7)  # metaBLUE Wan.std
    _set(db, "alice", "n", "40", **PLACE)
    mine = _mine(db)
    forty = cv.mean_sd_from_median_range(4, 1, 10, 40)
    assert (float(mine["mean"].value), float(mine["sd"].value)) == (forty.mean, forty.sd)
    assert mine["mean"].source == mine["sd"].source
    assert _inputs(mine["sd"])["n"] == 40


def test_a_conversion_made_with_another_n_does_not_follow(db: str) -> None:
    _set(db, "alice", "n", "20", **PLACE)
    _convert(db, "alice", "se 1.2 n=18")  # the report's SE was of 18 analysed, say
    before = _mine(db)["sd"]
    _set(db, "alice", "n", "25", **PLACE)
    assert _mine(db)["sd"] == before


def test_an_n_the_conversion_cannot_take_is_refused_naming_study_arm_and_field(db: str) -> None:
    _set(db, "alice", "n", "20", **PLACE)
    _convert(db, "alice", "se 1.2")
    before = _mine(db)
    events = len(_events(db, "extraction-values"))
    with pytest.raises(InvalidInput) as error:
        _set(db, "alice", "n", "1", **PLACE)
    assert str(error.value) == (
        f"study Suk 2016 (1), arm 'MSC', meld at '4 weeks': sd: the converted sd ({SE_20!r}, "
        "from se with n 20) cannot be computed again with n 1: n must be at least 2 "
        "participants, got 1; the change of n is refused"
    )
    assert _mine(db) == before  # nothing written: n is still 20
    assert len(_events(db, "extraction-values")) == events


def test_the_cli_follows_and_refuses_in_one_line(db: str) -> None:
    assert cli(db, "extract", "set", "Suk 2016", "n", "20", *CLI_PLACE).exit_code == 0
    done = cli(db, "extract", "set", "Suk 2016", "sd", "--from-ci", "10.1", "14.3", *CLI_PLACE)
    assert done.exit_code == 0, done.output
    done = cli(db, "extract", "set", "Suk 2016", "n", "25", *CLI_PLACE)
    assert done.exit_code == 0, done.output
    assert float(_mine(db)["sd"].value) == pytest.approx(CI_25, rel=1e-12)
    refused = cli(db, "extract", "set", "Suk 2016", "n", "1", *CLI_PLACE)
    assert refused.exit_code != 0
    lines = refused.output.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in refused.output
    assert "study Suk 2016 (1), arm 'MSC', meld at '4 weeks': sd: the converted sd" in lines[0]
    assert "cannot be computed again with n 1" in lines[0]
    assert _mine(db)["n"].value == "25"


def test_an_import_changing_n_recomputes_and_a_bad_one_names_file_and_line(
    db: str, tmp_path: Path
) -> None:
    first = tmp_path / "alice.csv"
    first.write_text(
        HEADER
        + "Suk 2016,MSC,meld,4 weeks,n,20,reported,Table 2,,\n"
        + "Suk 2016,MSC,meld,4 weeks,sd,,,,,se 1.2\n"
        + "Suk 2016,control,meld,4 weeks,n,17,reported,Table 2,,\n"
        + "Suk 2016,control,meld,4 weeks,sd,,,,,ci 10.1 14.3 n=20\n",
        encoding="utf-8",
    )
    done = cli(db, "extract", "import", str(first))
    assert done.exit_code == 0, done.output
    assert float(_mine(db)["sd"].value) == SE_20

    second = tmp_path / "alice2.csv"
    second.write_text(
        HEADER
        + "Shi 2021,,,,country,China,,,,\n"
        + "Suk 2016,MSC,meld,4 weeks,n,25,reported,Table 2 (corrected),,\n"
        + "Suk 2016,control,meld,4 weeks,n,20,reported,Table 2 (corrected),,\n",
        encoding="utf-8",
    )
    done = cli(db, "extract", "import", str(second))
    assert done.exit_code == 0, done.output
    assert "4 values written in 2 studies" in done.output  # 3 from the file + the MSC SD
    assert "1 converted value recomputed (it followed a changed n)." in done.output
    assert float(_mine(db)["sd"].value) == SE_25
    review = open_existing(db)
    try:
        with review.reading() as s:
            control = {
                v.field: v
                for v in x.values(s, actor="alice")
                if (v.arm, v.time_point) == ("control", "4 weeks")
            }
    finally:
        review.close()
    # made with n=20 given by hand: the stored n was 17, so it did not follow 17 -> 20
    assert float(control["sd"].value) == pytest.approx(CI_20, rel=1e-12)

    bad = tmp_path / "alice3.csv"
    bad.write_text(
        HEADER
        + "Shi 2021,,,,country,Korea,,,,\n"
        + "Suk 2016,MSC,meld,4 weeks,n,1,reported,Table 2,,\n",
        encoding="utf-8",
    )
    refused = cli(db, "extract", "import", str(bad))
    assert refused.exit_code != 0
    assert f"{bad}:3: study Suk 2016 (1), arm 'MSC', meld at '4 weeks': sd" in refused.output
    assert "Traceback" not in refused.output
    assert _mine(db)["n"].value == "25"
    review = open_existing(db)
    try:
        with review.reading() as s:
            countries = [v.value for v in x.values(s, actor="alice") if v.field == "country"]
    finally:
        review.close()
    assert countries == ["China"]  # all or nothing
    assert verify_problems(db) == []


def test_an_import_giving_the_new_n_and_its_own_sd_keeps_the_given_sd(
    db: str, tmp_path: Path
) -> None:
    _set(db, "alice", "n", "20", **PLACE)
    _convert(db, "alice", "se 1.2")
    path = tmp_path / "alice.csv"
    path.write_text(
        HEADER
        + "Suk 2016,MSC,meld,4 weeks,n,25,reported,Table 2,,\n"
        + "Suk 2016,MSC,meld,4 weeks,sd,5.5,reported,Table 3,,\n",
        encoding="utf-8",
    )
    assert cli(db, "extract", "import", str(path)).exit_code == 0
    assert (_mine(db)["sd"].value, _mine(db)["sd"].source_kind) == ("5.5", "reported")


# --- consensus -----------------------------------------------------------------------------------


def _both_agree(db: str) -> None:
    for who in ("alice", "bob"):
        _set(db, who, "n", "20", **PLACE)
        _convert(db, who, "se 1.2")
    agreed = _consensus(db)
    assert {f: (c.value, c.how, c.open) for f, c in agreed.items()} == {
        "n": ("20", "agreement", False),
        "sd": (repr(SE_20), "agreement", False),
    }


def test_a_recomputed_value_reopens_its_consensus_and_agrees_again(db: str) -> None:
    _both_agree(db)
    _set(db, "alice", "n", "25", **PLACE)
    agreed = _consensus(db)
    assert agreed["n"].open and agreed["sd"].open
    assert agreed["sd"].reopened_because == (
        f"alice changed arm 'MSC', meld at '4 weeks': sd from {SE_20!r} to 6"
    )
    assert agreed["sd"].value == repr(SE_20)  # kept, no longer used
    _set(db, "bob", "n", "25", **PLACE)  # bob's SD follows and agrees with alice's
    agreed = _consensus(db)
    assert {f: (c.value, c.how, c.open) for f, c in agreed.items()} == {
        "n": ("25", "agreement", False),
        "sd": ("6", "agreement", False),
    }
    assert _inputs(agreed["sd"]) == {"se": 1.2, "n": 25}
    assert verify_problems(db) == []


def test_an_adjudicated_n_recomputes_the_consensus_sd(db: str) -> None:
    _both_agree(db)
    done = cli(db, "extract", "resolve", "Suk 2016", "n", "25", *CLI_PLACE, who="carol")
    assert done.exit_code == 0, done.output
    agreed = _consensus(db)
    assert (agreed["n"].value, agreed["n"].how) == ("25", "adjudicator")
    assert (agreed["sd"].value, agreed["sd"].how, agreed["sd"].open) == ("6", "agreement", False)
    assert _inputs(agreed["sd"]) == {"se": 1.2, "n": 25}
    actor, event = _events(db, "extraction-consensus")[-1]  # after the adjudicator's own
    assert (actor, event["change"]) == ("carol", "recomputed")
    (snapshot,) = event["state"]["extraction_consensus"].values()
    assert snapshot[0] == "6" and snapshot[4:6] == ["agreement", "bob"]
    assert float(_mine(db, "alice")["sd"].value) == SE_20  # the extractors' values stay theirs
    refused = cli(db, "extract", "resolve", "Suk 2016", "n", "1", *CLI_PLACE, who="carol")
    assert refused.exit_code != 0
    assert "study Suk 2016 (1), consensus arm 'MSC', meld at '4 weeks': sd" in refused.output
    assert _consensus(db)["n"].value == "25"
    assert verify_problems(db) == []


def test_the_ledger_rebuilds_recomputed_and_entered_for_values(db: str, tmp_path: Path) -> None:
    """``audit replay``: values computed again (extractor and consensus), and values an owner
    entered for an extractor, are rebuilt from the ledger alone, table by table."""
    from tests.test_audit_replay import _assert_same_review

    _both_agree(db)
    _set(db, "alice", "n", "25", **PLACE)  # alice's SD follows, the consensus reopens
    assert (
        cli(db, "extract", "resolve", "Suk 2016", "n", "30", *CLI_PLACE, who="carol").exit_code == 0
    )
    path = tmp_path / "bob.csv"
    path.write_text(
        HEADER + "Suk 2016,MSC,meld,4 weeks,n,24,reported,Table 2,,\n", encoding="utf-8"
    )
    done = cli(db, "extract", "import", str(path), "--on-behalf-of", "bob", who="olga")
    assert done.exit_code == 0, done.output
    assert float(_mine(db, "bob")["sd"].value) == 1.2 * math.sqrt(24)
    original = Path(db.removeprefix("sqlite:///"))
    rebuilt = tmp_path / "rebuilt.db"
    replay = cli(db, "audit", "replay", "--to", str(rebuilt), who="olga")
    assert replay.exit_code == 0, replay.output
    _assert_same_review(original, rebuilt, "olga")


def test_an_agreed_n_recomputes_the_consensus_sd_and_keeps_it_reopened(db: str) -> None:
    _both_agree(db)
    _set(db, "alice", "n", "25", **PLACE)  # both consensus values reopened by alice's change
    done = cli(db, "extract", "agree", "Suk 2016", "n", "--take", "alice", *CLI_PLACE, who="olga")
    assert done.exit_code == 0, done.output
    agreed = _consensus(db)
    assert (agreed["n"].value, agreed["n"].how, agreed["n"].open) == ("25", "agreement", False)
    # the consensus SD used the consensus n 20: computed again with 25, still reopened (bob's
    # SD is still 5.37) until agreed or resolved
    assert (agreed["sd"].value, agreed["sd"].open) == ("6", True)
    assert _inputs(agreed["sd"]) == {"se": 1.2, "n": 25}
    assert [e["change"] for _, e in _events(db, "extraction-consensus")[-2:]] == [
        "agreement",
        "recomputed",
    ]
    assert verify_problems(db) == []


# --- the consensus pair n/SD agrees, whichever is decided first (SD = SE·√n) --------------------

SQRT_27, SQRT_30 = 5.196152422706632, 5.477225575051661  # SE 1 · √27, SE 1 · √30


def _two_sds(db: str) -> None:
    """alice: n 27 and SD from SE 1 (√27); bob: n 25 and SD from SE 1 (5)."""
    for who, n in (("alice", "27"), ("bob", "25")):
        _set(db, who, "n", n, **PLACE)
        _convert(db, who, "se 1")
    assert float(_mine(db, "alice")["sd"].value) == SQRT_27
    assert _mine(db, "bob")["sd"].value == "5"


def test_a_taken_sd_follows_the_consensus_n_already_decided(db: str) -> None:
    _two_sds(db)
    assert (
        cli(db, "extract", "resolve", "Suk 2016", "n", "27", *CLI_PLACE, who="carol").exit_code == 0
    )
    done = cli(db, "extract", "resolve", "Suk 2016", "sd", "--from", "bob", *CLI_PLACE, who="carol")
    assert done.exit_code == 0, done.output
    assert done.output.splitlines() == [
        "Suk 2016: arm 'MSC', meld at '4 weeks': sd = 5.19615 (adjudicated, from bob).",
        "consensus sd followed n: 5 → 5.19615 (from se 1, n 25 → 27)",
    ]
    agreed = _consensus(db)
    assert float(agreed["sd"].value) == SQRT_27  # stored in full
    assert _inputs(agreed["sd"]) == {"se": 1.0, "n": 27}
    assert (agreed["sd"].how, agreed["sd"].by) == ("adjudicator", "carol")
    assert _mine(db, "bob")["sd"].value == "5"  # bob's own value stays his
    # then a new consensus n: the consensus SD follows it (recorded n 27 = the old n)
    done = cli(db, "extract", "resolve", "Suk 2016", "n", "30", *CLI_PLACE, who="carol")
    assert done.exit_code == 0, done.output
    assert done.output.splitlines()[1:] == [
        "consensus sd followed n: 5.19615 → 5.47723 (from se 1, n 27 → 30)"
    ]
    assert float(_consensus(db)["sd"].value) == SQRT_30
    assert _inputs(_consensus(db)["sd"]) == {"se": 1.0, "n": 30}
    assert verify_problems(db) == []


def test_a_consensus_n_set_after_a_taken_sd_recomputes_it_whatever_n_it_used(db: str) -> None:
    """The issue's case: bob's SD (n 25) taken while no consensus n exists; the consensus n then
    set to 30 (not 25 → 30: there was no old n) still brings the SD onto n 30."""
    _two_sds(db)
    done = cli(db, "extract", "resolve", "Suk 2016", "sd", "--from", "bob", *CLI_PLACE, who="carol")
    assert done.exit_code == 0, done.output
    assert len(done.output.splitlines()) == 1  # no consensus n yet: nothing to follow
    assert _inputs(_consensus(db)["sd"]) == {"se": 1.0, "n": 25}
    done = cli(db, "extract", "resolve", "Suk 2016", "n", "30", *CLI_PLACE, who="carol")
    assert done.exit_code == 0, done.output
    assert done.output.splitlines() == [
        "Suk 2016: arm 'MSC', meld at '4 weeks': n = 30 (adjudicated).",
        "consensus sd followed n: 5 → 5.47723 (from se 1, n 25 → 30)",
    ]
    agreed = _consensus(db)
    assert float(agreed["sd"].value) == SQRT_30
    assert _inputs(agreed["sd"]) == {"se": 1.0, "n": 30}
    # agreeing on alice's n 27 brings it onto 27 again
    done = cli(db, "extract", "agree", "Suk 2016", "n", "--take", "alice", *CLI_PLACE, who="olga")
    assert done.exit_code == 0, done.output
    assert done.output.splitlines()[1:] == [
        "consensus sd followed n: 5.47723 → 5.19615 (from se 1, n 30 → 27)"
    ]
    assert float(_consensus(db)["sd"].value) == SQRT_27
    assert verify_problems(db) == []


# --- the CLI says what followed, shows 6 significant digits, warns on another n -----------------


def test_the_cli_prints_each_value_that_followed_n_and_rounds_only_on_screen(db: str) -> None:
    assert cli(db, "extract", "set", "Suk 2016", "n", "27", *CLI_PLACE).exit_code == 0
    done = cli(db, "extract", "set", "Suk 2016", "sd", "--from-se", "1", *CLI_PLACE)
    assert done.exit_code == 0, done.output
    assert "sd = 5.19615 (converted" in done.output and "5.196152" not in done.output
    done = cli(db, "extract", "set", "Suk 2016", "n", "25", *CLI_PLACE)
    assert done.exit_code == 0, done.output
    assert done.output.splitlines() == [
        "Suk 2016: arm 'MSC', meld at '4 weeks': n = 25 (reported; form version 1).",
        "sd followed n: 5.19615 → 5 (from se 1, n 27 → 25)",
    ]
    assert cli(db, "extract", "set", "Suk 2016", "n", "27", *CLI_PLACE).exit_code == 0
    table = cli(db, "extract", "values", "Suk 2016", "--format", "table")
    assert "5.19615" in table.output and "5.196152" not in table.output
    exported = cli(db, "extract", "values", "Suk 2016", "--format", "json")
    (sd,) = [v for v in json.loads(exported.output) if v["field"] == "sd" and v["arm"] == "MSC"]
    assert sd["value"] == repr(SQRT_27)  # full precision off screen


def test_a_conversion_with_another_n_than_the_stored_one_warns_naming_both(db: str) -> None:
    done = cli(db, "extract", "set", "Suk 2016", "sd", "--from-se", "1", "--n", "40", *CLI_PLACE)
    assert done.exit_code == 0, done.output
    assert "warning" not in done.output  # no n stored there: nothing to differ from
    assert cli(db, "extract", "set", "Suk 2016", "n", "27", *CLI_PLACE).exit_code == 0
    done = cli(db, "extract", "set", "Suk 2016", "sd", "--from-se", "1", "--n", "40", *CLI_PLACE)
    assert done.exit_code == 0, done.output
    assert done.output.splitlines()[1:] == [
        "warning: the conversion uses n 40, but your n at arm 'MSC', meld at '4 weeks' is 27; "
        "it will not follow that n"
    ]
    assert float(_mine(db)["sd"].value) == math.sqrt(40)  # stored as asked
    done = cli(db, "extract", "set", "Suk 2016", "sd", "--from-se", "1", "--n", "27", *CLI_PLACE)
    assert "warning" not in done.output  # the same n: nothing to say


def test_a_consensus_n_reached_by_identical_values_brings_the_consensus_sd_along(db: str) -> None:
    for who, n in (("alice", "20"), ("bob", "25")):
        _set(db, who, "n", n, **PLACE)
        _convert(db, who, "se 1.2")
    done = cli(
        db, "extract", "resolve", "Suk 2016", "sd", "--from", "alice", *CLI_PLACE, who="carol"
    )
    assert done.exit_code == 0, done.output
    assert _inputs(_consensus(db)["sd"]) == {"se": 1.2, "n": 20}  # no consensus n yet
    done = cli(db, "extract", "set", "Suk 2016", "n", "25", *CLI_PLACE)  # now as bob's: agreed
    assert done.exit_code == 0, done.output
    assert done.output.splitlines()[1:] == [
        "sd followed n: 5.36656 → 6 (from se 1.2, n 20 → 25)",
        "consensus sd followed n: 5.36656 → 6 (from se 1.2, n 20 → 25)",
    ]
    agreed = _consensus(db)
    assert (agreed["n"].value, agreed["n"].how) == ("25", "agreement")
    assert (agreed["sd"].value, _inputs(agreed["sd"])) == ("6", {"se": 1.2, "n": 25})
    assert verify_problems(db) == []
