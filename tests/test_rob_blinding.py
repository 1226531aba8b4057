"""Risk-of-bias blinding as a difference test (docs/blinding.md, docs/rob.md).

Reviews are built that differ only in carol's open work (she has not assessed, agrees with bob,
disagrees with him, answered RoB 2 questions, or the owner imported her judgements for her:
``rob import --on-behalf-of carol``). While risk of bias is blind, bob (a reviewer) must
get byte-identical output from every risk-of-bias read command in every format, from ``audit
log``, ``status`` and ``audit verify``, and from the risk-of-bias screen; the owner and the
adjudicator see the difference, and so does bob once the owner runs ``rob unblind``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from reviewtool.cli import app
from tests.rob_review import build_rob_review

T_SETUP, T_BOB, T_CAROL, T_READ, T_UNBLIND = (f"2026-02-01T00:00:0{n}.000000Z" for n in range(5))
RESULT = "MELD@24 weeks"
SCENARIOS: dict[str, list[tuple[str, ...]]] = {
    "carol has not assessed": [],
    "carol agrees": [
        ("set", "Suk 2016", "A", "Low"),
        ("set", "Suk 2016", "E", "High", "--support", "Comment: 8 of 30 lost"),
    ],
    "carol disagrees": [
        ("set", "Suk 2016", "A", "High", "--support", "Comment: alternation"),
        ("set", "Suk 2016", "E", "Low"),
        ("set", "Xu 2014", "C", "Unclear", "--group", "objective outcomes"),
    ],
    "carol answered RoB 2": [
        ("answer", "Suk 2016", "1.1=Y", "1.2=NI", "1.3=PY", "--result", RESULT),
    ],
    # her paper form, entered by the owner (``rob import --on-behalf-of carol --as olga``)
    "olga entered carol's judgements": [("import", "{carol_file}", "--on-behalf-of", "carol")],
}
CAROL_FILE = (
    "Study,Random.sequence.generation,Allocation.concealment,"
    "Blinding.of.participants.and.personnel,Blinding.of.outcome.assessment,"
    "Incomplete.outcome.data,Selective.reporting,Other.sources.of.bias,Overall\n"
    "Suk 2016,High,Low,Unclear,Low,Low,Low,Low,\n"
)
BOB = [
    ("set", "Suk 2016", "A", "Low"),
    ("set", "Suk 2016", "E", "High", "--support", "Comment: 8 of 30 lost"),
    ("answer", "Suk 2016", "1.1=Y", "1.2=Y", "1.3=N", "--result", RESULT),
]
READS: list[list[str]] = [
    ["rob", "show"],
    ["rob", "show", "Suk 2016"],
    ["rob", "show", "--tool", "rob2", "-f", "json"],
    ["rob", "show", "-f", "csv"],
    ["rob", "status"],
    ["rob", "status", "-f", "json"],
    ["rob", "status", "--tool", "rob2", "-f", "csv"],
    ["rob", "compare"],
    ["rob", "compare", "Suk 2016", "-f", "json"],
    ["rob", "export", "--out", "{tmp}/c.csv"],
    ["rob", "export", "--out", "{tmp}/b.csv", "--source", "bob"],
    ["rob", "export", "--out", "{tmp}/r2.csv", "--source", "bob", "--tool", "rob2"],
    ["rob", "export", "--out", "{tmp}/carol.csv", "--source", "carol"],
    ["audit", "log", "-f", "json"],
    ["audit", "log", "--actor", "carol"],
    ["audit", "verify"],
    ["status", "-f", "json"],
]

runner = CliRunner()


class Clock:
    def __init__(self) -> None:
        self.now = T_SETUP

    def __call__(self) -> str:
        return self.now


def _run(db: Path, who: str, args: list[str], tmp: Path) -> tuple[int, str, str, str]:
    call = [a.format(tmp=tmp) for a in args]
    result = runner.invoke(app, [*call, "--db", str(db), "--as", who], env={"COLUMNS": "120"})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{call} raised {result.exception!r}") from result.exception
    written = ""
    for index, arg in enumerate(call[:-1]):
        if arg == "--out":
            path = Path(call[index + 1])
            written = path.read_text(encoding="utf-8") if path.is_file() else ""
            if path.is_file():
                path.unlink()
    return result.exit_code, result.stdout, result.stderr, written


def build(db: Path, carol: list[tuple[str, ...]], clock: Clock) -> None:
    clock.now = T_SETUP
    build_rob_review(db)
    clock.now = T_BOB
    for command in BOB:
        result = runner.invoke(app, ["rob", *command, "--db", str(db), "--as", "bob"])
        assert result.exit_code == 0, result.output
    clock.now = T_CAROL
    for command in carol:
        carol_file = db.with_name("carol_rob.csv")
        carol_file.write_text(CAROL_FILE, encoding="utf-8")
        who = "olga" if "--on-behalf-of" in command else "carol"
        args = [a.format(carol_file=carol_file) for a in command]
        result = runner.invoke(app, ["rob", *args, "--db", str(db), "--as", who])
        assert result.exit_code == 0, result.output
    clock.now = T_READ


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, dict[str, Any]]]:
    tmp = tmp_path_factory.mktemp("rob_blind")
    db = tmp / "review.db"
    clock = Clock()
    found: dict[str, dict[str, Any]] = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("reviewtool.audit.log.utc_now", clock)
        for name, carol in SCENARIOS.items():
            build(db, carol, clock)
            found[name] = {
                who: {" ".join(r): _run(db, who, r, tmp) for r in READS}
                for who in ("bob", "olga", "dave")
            }
            found[name]["screen"] = _screen(db)
            clock.now = T_UNBLIND
            done = runner.invoke(app, ["rob", "unblind", "--db", str(db), "--as", "olga"])
            assert done.exit_code == 0, done.output
            found[name]["bob unblinded"] = {" ".join(r): _run(db, "bob", r, tmp) for r in READS}
        yield found


def _screen(db: Path) -> str:
    """What bob's risk-of-bias screen shows for Suk 2016 (RoB 1 and RoB 2), as text."""
    import asyncio

    from reviewtool.tui.rob import RobApp

    async def look(tool: str, result: str | None) -> str:
        app_ = RobApp(f"sqlite:///{db}", "bob", "Suk 2016", tool=tool, result=result)
        async with app_.run_test(size=(120, 60)) as pilot:
            await pilot.pause()
            return app_.screen_text()

    return asyncio.run(look("rob1", None)) + asyncio.run(look("rob2", RESULT))


BASE = "carol has not assessed"


@pytest.mark.parametrize("scenario", [s for s in SCENARIOS if s != BASE])
def test_bob_sees_the_same_whatever_carol_did(outputs: dict[str, Any], scenario: str) -> None:
    base, other = outputs[BASE]["bob"], outputs[scenario]["bob"]
    differ = [call for call in base if base[call] != other[call]]
    assert not differ, f"bob can tell that {scenario}: {differ}"
    assert outputs[BASE]["screen"] == outputs[scenario]["screen"]


def test_what_bob_sees_is_his_own(outputs: dict[str, Any]) -> None:
    bob = outputs["carol disagrees"]["bob"]
    assert "carol" not in bob["rob show -f csv"][1]
    assert "bob" in bob["rob show -f csv"][1] and "High" in bob["rob show -f csv"][1]
    code, _out, err, _ = bob["rob compare"]
    assert code == 5 and "hidden while risk of bias is blind" in err
    assert bob["rob export --out {tmp}/carol.csv --source carol"][0] == 5
    assert "Suk 2016,Low" in bob["rob export --out {tmp}/b.csv --source bob"][3]
    assert '"seq": null' in bob["audit log -f json"][1]
    assert "Audit ledger verified" in bob["audit verify"][1]


def test_the_owner_and_the_adjudicator_see_the_difference(outputs: dict[str, Any]) -> None:
    for who in ("olga", "dave"):
        base, other = outputs[BASE][who], outputs["carol disagrees"][who]
        assert base["rob compare"] != other["rob compare"]
        assert "carol" in other["rob show -f csv"][1]
        assert base["audit log --actor carol"] != other["audit log --actor carol"]


def test_after_unblinding_bob_sees_the_difference(outputs: dict[str, Any]) -> None:
    base, other = outputs[BASE]["bob unblinded"], outputs["carol disagrees"]["bob unblinded"]
    assert base["rob compare"] != other["rob compare"]
    assert "carol: High" in other["rob compare"][1] or "carol" in other["rob compare"][1]
    assert "carol" in other["rob show -f csv"][1]


def test_rob_blind_cannot_be_set_back(tmp_path: Path) -> None:
    db = tmp_path / "review.db"
    build_rob_review(db)
    result = runner.invoke(
        app, ["settings", "set", "rob.blind", "false", "--db", str(db), "--as", "olga"]
    )
    assert result.exit_code == 2 and "rob unblind" in result.stderr
    assert runner.invoke(app, ["rob", "unblind", "--db", str(db), "--as", "bob"]).exit_code == 5
