"""Blinding of extraction as a difference test (issue 11; docs/blinding.md).

Reviews are built that are identical except for bob's open extraction work: he has not started,
entered other values than alice on her fields, entered fields and arms she has not, changed his
mind twice, imported a file, or the owner imported it for him (``--on-behalf-of bob``). While extraction is blind, alice (a reviewer) must get
byte-identical output from every read command of the CLI (the tree is walked, as in
``tests/test_blinding.py``; every ``--format``), from the exports written to files, and from
``audit verify`` after bob's value is tampered with. The owner and the adjudicator see the
difference; alice does once the owner runs ``extract unblind``. Consensus values are shared by
design (carol's resolution is in every story, and alice sees it).
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from reviewtool.cli import app
from tests.extraction_builder import FORM, build_review
from tests.test_blinding import Clock, invocations, run_all

runner = CliRunner()
T_SETUP, T_ALICE, T_BOB, T_CAROL, T_READ, T_UNBLIND = (
    f"2026-02-01T00:00:0{n}.000000Z" for n in range(6)
)
MELD = {"arm": "MSC", "outcome": "meld", "time_point": "4 weeks"}
ALICE = [
    ("Suk 2016", "country", "Korea", {}),
    ("Suk 2016", "n_randomised", "20", {"arm": "MSC"}),
    ("Suk 2016", "mean", "12.5", MELD),
    ("Suk 2016", "sd", "2.5", MELD),
    ("Shi 2021", "follow_up", "48", {}),
]
SCENARIOS: dict[str, list[tuple[str, str, str, dict[str, str]]] | str] = {
    "bob has not started": [],
    "bob disagrees": [
        ("Suk 2016", "country", "China", {}),
        ("Suk 2016", "n_randomised", "21", {"arm": "MSC"}),
        ("Suk 2016", "mean", "13.1", MELD),
        ("Shi 2021", "follow_up", "52", {}),
    ],
    "bob enters more": [
        ("Suk 2016", "route", "intravenous", {}),
        ("Suk 2016", "intervention", "placebo", {"arm": "Control"}),
        ("Xu 2019", "country", "China", {}),
        ("Xu 2019", "events", "3", {"arm": "A", "outcome": "survival", "time_point": "24 weeks"}),
    ],
    "bob changed his mind": [
        ("Suk 2016", "mean", "11", MELD),
        ("Suk 2016", "mean", "14", MELD),
        ("Lin 2017", "blinded", "yes", {}),
        ("Lin 2017", "blinded", "no", {}),
    ],
    "bob imported": "import",
    "olga entered bob's file for him": "import --on-behalf-of bob",
}
BOB_FILE = (
    "study,arm,outcome,time_point,field,value,source_kind,source,extractor\n"
    'Suk 2016,MSC,meld,4 weeks,sd,2.9,reported,"report 1, Table 2",bob\n'
    "Shi 2021,,,,country,China,reported,p. 3,bob\n"
)


def _set(review: Any, who: str, rows: list[tuple[str, str, str, dict[str, str]]]) -> None:
    from reviewtool.extraction.service import set_value

    for study, field, value, where in rows:
        with review.transaction() as s:
            set_value(s, actor=who, study=study, field=field, value=value, **where)


def build(path: Path, scenario: list[Any] | str, clock: Clock) -> None:
    """The review of one scenario at ``path`` (everything there removed first)."""
    from reviewtool.extraction.service import add_form, import_values, resolve
    from reviewtool.review.service import open_existing

    for leftover in path.parent.glob(path.stem + "*"):
        leftover.unlink()
    clock.now = T_SETUP
    review = open_existing(build_review(path))
    with review.transaction() as s:
        add_form(s, actor="olga", text=FORM, file_name="form.toml")
    clock.now = T_ALICE
    _set(review, "alice", ALICE)
    clock.now = T_BOB
    if isinstance(scenario, str):  # bob's file, imported by bob or by olga on his behalf
        file = path.with_name(path.stem + "_bob.csv")
        file.write_text(BOB_FILE, encoding="utf-8")
        with review.transaction() as s:
            if scenario == "import":
                import_values(s, actor="bob", path=str(file))
            else:
                import_values(s, actor="olga", path=str(file), on_behalf_of="bob")
    else:
        assert isinstance(scenario, list)
        _set(review, "bob", scenario)
    clock.now = T_CAROL
    with review.transaction() as s:
        resolve(s, actor="carol", study="Lin 2017", field="country", value="Taiwan")
    clock.now = T_READ
    review.close()


def _files(tmp: Path, db: Path, person: str) -> dict[str, Any]:
    """The exports written to files (xlsx read back: its metadata holds the time of writing)."""
    import pandas as pd

    found: dict[str, Any] = {}
    out = tmp / "out"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    for layout in ("--long", "--wide", "--characteristics"):
        for fmt in ("csv", "xlsx"):
            target = out / f"x.{fmt}"
            result = runner.invoke(
                app,
                ["extract", "export", layout, "-f", fmt, "--out", str(target), "--db", str(db)],
                env={"REVIEWTOOL_USER": person},
            )
            assert result.exit_code == 0, result.output
            found[f"{layout} {fmt}"] = (
                target.read_text(encoding="utf-8")
                if fmt == "csv"
                else pd.read_excel(target, dtype=str).to_csv(index=False)
            )
    return found


@pytest.fixture(scope="module")
def clock() -> Iterator[Clock]:
    tick = Clock()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("reviewtool.audit.log.utc_now", tick)
        yield tick


@pytest.fixture(scope="module")
def outputs(clock: Clock, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("blind_extraction")
    db = tmp / "review.db"
    calls = [c for c in invocations(tmp) if c[0] in ("extract", "audit", "status", "study")]
    assert sum(c[0] == "extract" for c in calls) >= 10
    shown = [c for c in calls if c[0] == "extract" or c[:2] == ["audit", "log"]]
    found: dict[str, dict[str, Any]] = {}
    for name, scenario in SCENARIOS.items():
        build(db, scenario, clock)
        found[name] = {"alice": run_all(db, "alice", calls) | _files(tmp, db, "alice")}
        found[name] |= {who: run_all(db, who, shown) for who in ("olga", "carol")}
        clock.now = T_UNBLIND
        done = runner.invoke(app, ["extract", "unblind", "--db", str(db), "--as", "olga"])
        assert done.exit_code == 0, done.output
        found[name]["alice unblinded"] = run_all(db, "alice", shown)
    return found


def _differences(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    return [call for call in a if a[call] != b[call]]


@pytest.mark.parametrize("scenario", [s for s in SCENARIOS if s != "bob has not started"])
def test_alice_sees_the_same_whatever_bob_extracted(outputs: dict[str, Any], scenario: str) -> None:
    base = outputs["bob has not started"]["alice"]
    assert _differences(base, outputs[scenario]["alice"]) == []


def test_what_alice_sees_is_her_own_and_the_consensus(outputs: dict[str, Any]) -> None:
    seen = outputs["bob disagrees"]["alice"]
    assert seen["extract values --format csv"][1].splitlines()[1:] == [
        "Suk 2016,,,,country,Korea,reported,,1",
        "Suk 2016,MSC,,,n_randomised,20,reported,,1",
        "Suk 2016,MSC,meld,4 weeks,mean,12.5,reported,,1",
        "Suk 2016,MSC,meld,4 weeks,sd,2.5,reported,,1",
        "Shi 2021,,,,follow_up,48,reported,,1",
    ]
    assert seen["--long csv"].splitlines()[1:] == ["Lin 2017,,,,country,Taiwan,reported,,"]
    code, _, err = seen["extract compare --format table"]
    assert code == 5 and "extraction is blind" in err
    assert seen["extract status --format csv"][1] == (
        "study,extractor,filled,disagreements,consensus\nSuk 2016,alice,4,,0\nShi 2021,alice,1,,0\nLin 2017,,0,,1\n"
    )


def test_the_owner_and_the_adjudicator_see_the_difference(outputs: dict[str, Any]) -> None:
    for who in ("olga", "carol"):
        base, other = outputs["bob has not started"][who], outputs["bob disagrees"][who]
        assert "extract compare --format csv" in _differences(base, other)
        assert "extract status --format csv" in _differences(base, other)
    compared = outputs["bob disagrees"]["carol"]["extract compare --format csv"][1]
    assert "Suk 2016,,,,country,alice: Korea; bob: China," in compared


def test_after_unblinding_alice_sees_the_difference(outputs: dict[str, Any]) -> None:
    base = outputs["bob has not started"]["alice unblinded"]
    other = outputs["bob disagrees"]["alice unblinded"]
    assert "extract compare --format csv" in _differences(base, other)
    assert "audit log --format json" in _differences(base, other)


def test_verify_tells_a_blind_extractor_nothing_of_bob_s_values(
    clock: Clock, tmp_path: Path
) -> None:
    db = tmp_path / "review.db"
    seen = []
    for scenario, value in (("bob disagrees", "99"), ("bob enters more", "77")):
        build(db, SCENARIOS[scenario], clock)
        conn = sqlite3.connect(db)
        conn.execute(
            "UPDATE extraction_value SET value = ? WHERE member_id = "
            "(SELECT id FROM member WHERE name = 'bob') AND id = "
            "(SELECT min(id) FROM extraction_value WHERE member_id = "
            "(SELECT id FROM member WHERE name = 'bob'))",
            (value,),
        )
        conn.commit()
        conn.close()
        result = runner.invoke(app, ["audit", "verify", "--db", str(db), "--as", "alice"])
        seen.append((result.exit_code, result.stdout, result.stderr))
        owner = runner.invoke(app, ["audit", "verify", "--db", str(db), "--as", "olga"])
        assert value in owner.stdout + owner.stderr  # the owner reads the problem in full
    assert seen[0] == seen[1]
    assert seen[0][0] != 0 and "1 problem in entities you may not see" in seen[0][1] + seen[0][2]
