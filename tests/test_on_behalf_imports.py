"""``extract import`` and ``rob import`` with ``--on-behalf-of NAME`` (issue 14's rule, as
``screen import-decisions`` has it; ``access.entering_for``).

An owner enters another member's work (a paper form): the values or judgements are that
member's, checked and blinded as theirs; every event is written by the owner and names the
member (``on_behalf_of``), so ``audit log`` shows ``olga (for bob)``. Only owners may; the
member must be one who does that work. Blinding as a difference test is in
tests/test_extraction_blinding.py ("olga entered bob's file for him") and
tests/test_rob_blinding.py ("olga entered carol's judgements"); here what the member and the
other reviewer see of the ledger.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from reviewtool import audit
from reviewtool.access import visible_events
from reviewtool.errors import InvalidInput, PermissionDenied, UnknownMember
from reviewtool.extraction import service as x
from reviewtool.review.service import open_existing
from reviewtool.rob import exchange
from reviewtool.rob import service as rob
from reviewtool.storage.models import Member
from tests.extraction_builder import build_review_with_form, cli, copy_review, verify_problems
from tests.rob_review import build_rob_review

HEADER = "study,arm,outcome,time_point,field,value,source_kind,source,extractor\n"
ROB1 = (
    "Study,Random.sequence.generation,Allocation.concealment,"
    "Blinding.of.participants.and.personnel,Blinding.of.outcome.assessment,"
    "Incomplete.outcome.data,Selective.reporting,Other.sources.of.bias,Overall\n"
)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_review_with_form(tmp_path_factory.mktemp("on_behalf") / "review.db")


@pytest.fixture
def db(template: Path, tmp_path: Path) -> str:
    return f"sqlite:///{copy_review(template, tmp_path)}"


def _seen(url: str, who: str, action: str | None = None) -> list[Any]:
    review = open_existing(url)
    try:
        with review.reading() as s:
            member = s.exec(select(Member).where(Member.name == who)).one()
            return visible_events(s, member, audit.list_events(s, action=action))
    finally:
        review.close()


def _log(url: str, who: str, action: str) -> str:
    from typer.testing import CliRunner

    from reviewtool.cli import app

    done = CliRunner().invoke(
        app,
        ["audit", "log", "--action", action, "--db", url, "--as", who],
        env={"COLUMNS": "200"},
    )
    assert done.exit_code == 0, done.output
    return done.output


# --- extraction ----------------------------------------------------------------------------------


def test_an_owner_imports_an_extractors_values_naming_both(db: str, tmp_path: Path) -> None:
    alice_before = _seen(db, "alice")
    path = tmp_path / "bob_paper_form.csv"
    path.write_text(
        HEADER
        + 'Suk 2016,,,,country,Korea,reported,"report 1, p. 2",bob\n'
        + "Suk 2016,MSC,meld,4 weeks,mean,12.5,reported,Table 2,\n",
        encoding="utf-8",
    )
    done = cli(db, "extract", "import", str(path), "--on-behalf-of", "bob", who="olga")
    assert done.exit_code == 0, done.output
    assert done.output.startswith("2 values by bob (entered by olga) written in 1 study")
    review = open_existing(db)
    try:
        with review.reading() as s:
            bobs = [(v.extractor, v.field, v.value) for v in x.values(s, actor="bob")]
            events = audit.list_events(s, action="extraction-values")
    finally:
        review.close()
    assert bobs == [("bob", "country", "Korea"), ("bob", "mean", "12.5")]
    assert [(e.actor, e.entity_id, e.payload["extractor"], e.payload["on_behalf_of"])
            for e in events] == [("olga", "1|bob", "bob", "bob")]  # fmt: skip
    assert set(events[0].payload["state"]["extraction_value"]) == {
        "1|bob||||country",
        "1|bob|MSC|meld|4 weeks|mean",
    }
    assert _log(db, "olga", "extraction-values").count("olga (for bob)") == 1
    # bob sees the event of his values; alice, blind to bob, sees nothing new.
    assert [e.entity_id for e in _seen(db, "bob", "extraction-values")] == ["1|bob"]
    assert _seen(db, "alice") == alice_before
    assert verify_problems(db) == []

    # bob's own import afterwards carries no on_behalf_of (the payload as before the field).
    own = tmp_path / "bob.csv"
    own.write_text(HEADER + "Shi 2021,,,,country,China,reported,p. 3,bob\n", encoding="utf-8")
    assert cli(db, "extract", "import", str(own), who="bob").exit_code == 0
    review = open_existing(db)
    try:
        with review.reading() as s:
            last = audit.list_events(s, action="extraction-values")[-1]
    finally:
        review.close()
    assert (last.actor, "on_behalf_of" in last.payload) == ("bob", False)


def _json_log(url: str, who: str, *options: str) -> list[dict[str, Any]]:
    done = cli(url, "audit", "log", *options, "--format", "json", who=who)
    assert done.exit_code == 0, done.output
    found: list[dict[str, Any]] = json.loads(done.output)
    return found


def test_audit_log_actor_lists_the_events_entered_on_their_behalf(db: str, tmp_path: Path) -> None:
    path = tmp_path / "bob_paper_form.csv"
    path.write_text(HEADER + "Suk 2016,,,,country,Korea,reported,p. 2,\n", encoding="utf-8")
    assert (
        cli(db, "extract", "import", str(path), "--on-behalf-of", "bob", who="olga").exit_code == 0
    )
    entered = ("olga", "extraction-values", "bob")

    def rows(who: str, *options: str) -> list[tuple[str, str, str | None]]:
        return [
            (e["actor"], e["action"], e["payload"].get("on_behalf_of"))
            for e in _json_log(db, who, *options)
        ]

    # bob's values: none of his own yet, the ones olga entered for him (before: missed).
    values = ("--action", "extraction-values")
    assert rows("olga", "--actor", "bob", *values) == [entered]
    assert rows("bob", "--actor", "bob", *values) == [entered]
    assert rows("olga", "--actor", "olga", *values) == [entered]  # olga wrote it: hers too
    assert rows("olga", "--actor", "alice", *values) == []
    assert {actor for actor, _, _ in rows("olga", "--actor", "bob")} == {"bob", "olga"}
    # Blinding: alice, blind to bob's extraction, gets from --actor bob exactly bob's events
    # among those she sees without the filter, so nothing of the hidden import.
    everything = _json_log(db, "alice")
    assert _json_log(db, "alice", "--actor", "bob") == [
        e for e in everything if "bob" in (e["actor"], e["payload"].get("on_behalf_of"))
    ]
    assert ("extraction-values", "bob") not in {
        (action, behalf) for _, action, behalf in rows("alice", "--actor", "bob")
    }


def test_values_entered_for_an_extractor_agree_and_reopen_as_theirs(
    db: str, tmp_path: Path
) -> None:
    review = open_existing(db)
    try:
        with review.transaction() as s:
            x.set_value(s, actor="alice", study="Suk 2016", field="country", value="Korea")
    finally:
        review.close()
    path = tmp_path / "bob.csv"
    path.write_text(HEADER + "Suk 2016,,,,country,Korea,,,\n", encoding="utf-8")
    done = cli(db, "extract", "import", str(path), "--on-behalf-of", "bob", who="olga")
    assert done.exit_code == 0, done.output
    assert "consensus reached on 1" in " ".join(done.output.split())
    actor, payload = _consensus_events(db)[-1]
    assert (actor, payload["change"]) == ("olga", "agreement")
    path.write_text(HEADER + "Suk 2016,,,,country,China,,,\n", encoding="utf-8")
    done = cli(db, "extract", "import", str(path), "--on-behalf-of", "bob", who="olga")
    assert "reopened on 1" in " ".join(done.output.split())
    (snapshot,) = _consensus_events(db)[-1][1]["state"]["extraction_consensus"].values()
    assert snapshot[7] == "bob changed country from Korea to China"  # whose change it is


def _consensus_events(url: str) -> list[tuple[str, dict[str, Any]]]:
    review = open_existing(url)
    try:
        with review.reading() as s:
            found = audit.list_events(s, action="extraction-consensus")
    finally:
        review.close()
    return [(e.actor, e.payload) for e in found]


@pytest.mark.parametrize(
    ("who", "behalf", "extractor", "message"),
    [
        ("alice", "bob", "", "'alice' (reviewer) may not import extracted data on behalf of bob"),
        ("carol", "bob", "", "'carol' (adjudicator) may not import extracted data on behalf of"),
        (
            "olga",
            "carol",
            "",
            "'carol' (adjudicator) may not extract data: that needs the role",
        ),
        ("olga", "zed", "", "'zed' is not a member of this review"),
        ("olga", "bob", "alice", "column extractor: 'alice' is not bob, whose values these are"),
    ],
)
def test_only_an_owner_enters_values_and_only_for_an_extractor(
    db: str, tmp_path: Path, who: str, behalf: str, extractor: str, message: str
) -> None:
    path = tmp_path / "values.csv"
    path.write_text(HEADER + f"Suk 2016,,,,country,Korea,,,{extractor}\n", encoding="utf-8")
    review = open_existing(db)
    try:
        with (
            review.transaction() as s,
            pytest.raises((PermissionDenied, InvalidInput, UnknownMember)) as caught,
        ):
            x.import_values(s, actor=who, path=str(path), on_behalf_of=behalf)
        with review.reading() as s:
            assert audit.list_events(s, action="extraction-values") == []
    finally:
        review.close()
    assert message in str(caught.value)


def _refusals(url: str) -> list[tuple[str, str, str]]:
    review = open_existing(url)
    try:
        with review.reading() as s:
            found = audit.list_events(s, action="access-refused")
    finally:
        review.close()
    return [(e.actor, e.payload["person"], e.payload["attempted"]) for e in found]


@pytest.mark.parametrize(
    ("behalf", "command", "attempted"),
    [
        ("carol", ("extract", "import"), "extract data on behalf of carol"),
        ("zed", ("extract", "import"), "extract data on behalf of zed"),
        ("carol", ("screen", "import-decisions"), "screen references on behalf of carol"),
        ("zed", ("screen", "import-decisions"), "screen references on behalf of zed"),
    ],
)
def test_a_refused_on_behalf_import_is_the_owners_refusal(
    db: str, tmp_path: Path, behalf: str, command: tuple[str, str], attempted: str
) -> None:
    # The owner ran the command: the refusal is olga's, naming the member it was for; a name
    # that is no member's (zed) never becomes an actor (before: actor carol/zed).
    path = tmp_path / "late.csv"
    path.write_text(
        "record_id,decision,reason,note\n1,include,,\n"
        if command[0] == "screen"
        else HEADER + "Suk 2016,,,,country,Korea,,,\n",
        encoding="utf-8",
    )
    done = cli(db, *command, str(path), "--on-behalf-of", behalf, who="olga")
    assert done.exit_code != 0 and "Traceback" not in done.output
    assert _refusals(db)[-1] == ("olga", "olga", attempted)
    assert behalf not in {actor for actor, _, _ in _refusals(db)}


# --- risk of bias --------------------------------------------------------------------------------


def test_an_owner_imports_an_assessors_judgements_naming_both(tmp_path: Path) -> None:
    url = build_rob_review(tmp_path / "review.db")
    bob_before = _seen(url, "bob")
    path = tmp_path / "carol_paper_form.csv"
    path.write_text(ROB1 + "Suk 2016,High,Low,Unclear,Low,Low,Low,Low,\n", encoding="utf-8")
    done = cli(url, "rob", "import", str(path), "--on-behalf-of", "carol", who="olga")
    assert done.exit_code == 0, done.output
    assert "Imported 7 judgements by carol (entered by olga) for 1 study" in " ".join(
        done.output.split()
    )
    review = open_existing(url)
    try:
        with review.reading() as s:
            carols = {
                (j.assessor, j.domain, j.judgement)
                for j in rob.judgements(s, actor="carol", tool="rob1")
            }
            events = audit.list_events(s, action="rob-assessed")
    finally:
        review.close()
    assert ("carol", "A", "High") in carols and ("carol", "C", "Unclear") in carols
    assert {a for a, _, _ in carols} == {"carol"}
    assert [(e.actor, e.payload["change"], e.payload["on_behalf_of"]) for e in events] == [
        ("olga", "import", "carol")
    ]
    keys = set(events[0].payload["state"]["rob_judgement"])
    assert keys and all(k.endswith("|carol") for k in keys)
    assert _log(url, "olga", "rob-assessed").count("olga (for carol)") == 1
    assert len(_seen(url, "carol", "rob-assessed")) == 1  # her own, entered for her
    assert _seen(url, "bob") == bob_before  # blind to carol's work: nothing new
    assert verify_problems(url) == []

    refused = cli(url, "rob", "import", str(path), "--on-behalf-of", "carol", who="bob")
    assert refused.exit_code == 5
    assert "'bob' (reviewer) may not import risk-of-bias judgements on behalf of carol" in (
        refused.output
    )
    # dave (adjudicator) assesses no risk of bias: olga's refusal, naming dave
    refused = cli(url, "rob", "import", str(path), "--on-behalf-of", "dave", who="olga")
    assert refused.exit_code == 5
    assert "'dave' (adjudicator) may not assess risk of bias" in refused.output
    review = open_existing(url)
    try:
        with review.reading() as s:
            last = audit.list_events(s, action="access-refused")[-1]
    finally:
        review.close()
    assert (last.actor, last.payload["attempted"]) == (
        "olga",
        "assess risk of bias on behalf of dave",
    )
    as_json = cli(url, "audit", "log", "--format", "json", who="bob")
    assert as_json.exit_code == 0, as_json.output
    assert "carol" not in {e["payload"].get("on_behalf_of") for e in json.loads(as_json.output)}


def test_rob2_answers_entered_for_an_assessor(tmp_path: Path) -> None:
    url = build_rob_review(tmp_path / "review.db")
    path = tmp_path / "carol_rob2.csv"
    path.write_text("Study,Result,1.1,1.2,1.3\nSuk 2016,MELD@24 weeks,Y,Y,N\n", encoding="utf-8")
    review = open_existing(url)
    try:
        with review.transaction() as s:
            report = exchange.import_file(s, actor="olga", path=str(path), on_behalf_of="carol")
        with review.reading() as s:
            (event,) = audit.list_events(s, action="rob-assessed")
            answers = rob.judgements(s, actor="carol", tool="rob2")
    finally:
        review.close()
    assert report.values == 3
    assert (event.actor, event.payload["tool"], event.payload["on_behalf_of"]) == (
        "olga",
        "rob2",
        "carol",
    )
    assert answers and {j.assessor for j in answers} == {"carol"}
    assert verify_problems(url) == []


# --- naming oneself ------------------------------------------------------------------------------


def _ledger(url: str) -> list[tuple[int, str, str]]:
    review = open_existing(url)
    try:
        with review.reading() as s:
            return [(e.seq, e.actor, e.action) for e in audit.list_events(s)]
    finally:
        review.close()


@pytest.mark.parametrize(
    ("who", "command", "body"),
    [
        ("olga", ("extract", "import"), HEADER + "Suk 2016,,,,country,Korea,,,\n"),
        ("alice", ("extract", "import"), HEADER + "Suk 2016,,,,country,Korea,,,\n"),
        ("olga", ("rob", "import"), ROB1 + "Suk 2016,High,Low,Unclear,Low,Low,Low,Low,\n"),
        ("alice", ("screen", "import-decisions"), "record_id,decision,reason,note\n1,include,,\n"),
    ],
    ids=["owner-extract", "extractor-extract", "owner-rob", "reviewer-screen"],
)
def test_on_behalf_of_oneself_is_refused_in_one_line_with_nothing_written(
    db: str, tmp_path: Path, who: str, command: tuple[str, str], body: str
) -> None:
    """``--on-behalf-of`` naming the caller was accepted silently (the work entered as if for
    someone else); it is refused by ``access.entering_for``: one line, exit 2 (InvalidInput),
    the ledger as it was (no event, not even an ``access-refused``)."""
    url = build_rob_review(tmp_path / "rob.db") if command[0] == "rob" else db
    path = tmp_path / "mine.csv"
    path.write_text(body, encoding="utf-8")
    before = _ledger(url)
    done = cli(url, *command, str(path), "--on-behalf-of", who, who=who)
    assert done.exit_code == 2, done.output
    assert done.output.strip().splitlines() == [
        f"reviewtool: error: --on-behalf-of names yourself ({who}): your own work is entered as yours; "
        "drop the option"
    ]
    assert _ledger(url) == before
    assert verify_problems(url) == []
