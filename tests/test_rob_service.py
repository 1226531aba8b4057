"""Risk of bias through the library and the CLI: judgements, RoB 2 answers and overrides, consensus,
reopening, kappa per domain, imports (all or nothing, errors naming line and field) and exports."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from reviewtool import audit
from reviewtool.cli import app
from reviewtool.errors import InvalidInput, NotFound, PermissionDenied
from reviewtool.review.service import open_existing
from reviewtool.rob import exchange
from reviewtool.rob import service as rob
from reviewtool.storage.models import RobJudgement
from tests.rob_review import build_rob_review

runner = CliRunner()
DOMAINS = "ABCDEFG"


@pytest.fixture
def url(tmp_path: Path) -> str:
    return build_rob_review(tmp_path / "review.db")


@pytest.fixture
def review(url: str) -> Iterator[Any]:
    opened = open_existing(url)
    yield opened
    opened.close()


def cli(url: str, *args: str) -> Any:
    return runner.invoke(app, [*args, "--db", url.removeprefix("sqlite:///")])


def write(review: Any, fn: Any, **kwargs: Any) -> Any:
    with review.transaction() as session:
        return fn(session, **kwargs)


def read(review: Any, fn: Any, **kwargs: Any) -> Any:
    with review.reading() as session:
        return fn(session, **kwargs)


def set_all(review: Any, who: str, study: str, values: str) -> None:
    for letter, value in zip(DOMAINS, values, strict=True):
        judgement = {"L": "Low", "U": "Unclear", "H": "High"}[value]
        write(review, rob.set_judgement, actor=who, study=study, domain=letter, judgement=judgement)


def verified(review: Any) -> bool:
    with review.reading() as session:
        return audit.verify(session).ok


# --- studies and RoB 1 -------------------------------------------------------------------------


def test_studies_are_named_by_label_or_id(review: Any) -> None:
    with review.reading() as session:
        labels = rob.study_labels(session)
        assert sorted(labels.values()) == ["Suk 2016", "Xu 2014", "Xu 2019"]
        suk = rob.find_study(session, "suk 2016")
        assert labels[suk] == "Suk 2016"
        assert rob.find_study(session, str(suk)) == suk
        with pytest.raises(NotFound, match="no study 'Smith 2020'"):
            rob.find_study(session, "Smith 2020")


def test_a_rob1_judgement_is_stored_audited_and_verified(review: Any) -> None:
    view = write(
        review,
        rob.set_judgement,
        actor="bob",
        study="Suk 2016",
        domain="Incomplete outcome data",
        judgement="high risk",
        support='Quote: "8 of 30 lost to follow-up"',
    )
    assert (view.domain, view.judgement, view.algorithm) == ("E", "High", None)
    assert view.support == 'Quote: "8 of 30 lost to follow-up"'
    with review.reading() as session:
        event = audit.list_events(session)[-1]
    assert event.action == "rob-assessed" and event.actor == "bob"
    key = f"rob1|{view.study}||E||bob"
    assert event.payload["state"]["rob_judgement"][key]["judgement"] == "High"
    assert verified(review)


def test_outcome_groups_only_for_blinding_and_attrition(review: Any) -> None:
    with pytest.raises(InvalidInput, match="judged per study"):
        write(
            review,
            rob.set_judgement,
            actor="bob",
            study="Suk 2016",
            domain="A",
            judgement="Low",
            outcome_group="objective",
        )
    for group, value in (("objective outcomes", "Low"), ("subjective outcomes", "High")):
        write(
            review,
            rob.set_judgement,
            actor="bob",
            study="Suk 2016",
            domain="D",
            judgement=value,
            outcome_group=group,
        )
    rows = read(review, rob.judgements, actor="bob", study="Suk 2016")
    assert [(r.domain, r.outcome_group, r.judgement) for r in rows] == [
        ("D", "objective outcomes", "Low"),
        ("D", "subjective outcomes", "High"),
    ]


def test_bad_judgements_and_domains_are_one_line(review: Any) -> None:
    with pytest.raises(InvalidInput, match="not a RoB 1 judgement"):
        write(review, rob.set_judgement, actor="bob", study="Suk 2016", domain="A", judgement="ok")
    with pytest.raises(InvalidInput, match="not a RoB 1 domain"):
        write(review, rob.set_judgement, actor="bob", study="Suk 2016", domain="H", judgement="Low")


def test_an_adjudicator_does_not_assess_and_a_reviewer_does_not_resolve(review: Any) -> None:
    with pytest.raises(PermissionDenied):
        write(
            review, rob.set_judgement, actor="dave", study="Suk 2016", domain="A", judgement="Low"
        )
    with pytest.raises(PermissionDenied):
        write(review, rob.agree, actor="bob")
    with pytest.raises(PermissionDenied):
        write(review, rob.resolve, actor="carol", study="Suk 2016", domain="A", judgement="Low")


# --- RoB 2: answers, algorithm, override ---------------------------------------------------------

RESULT = "MELD@24 weeks"


def test_rob2_answers_give_the_algorithms_judgement_and_missing_answers_give_incomplete(
    review: Any,
) -> None:
    views = write(
        review,
        rob.answer,
        actor="bob",
        study="Suk 2016",
        result=RESULT,
        answers={"1.1": "Y", "1.2": "Probably yes"},
    )
    by = {v.domain: v for v in views}
    # 1.3 is always asked: without it D1 is incomplete, never a guess; overall follows.
    assert (by["D1"].algorithm, by["D1"].judgement) == ("incomplete", None)
    assert by["overall"].algorithm == "incomplete"
    views = write(
        review, rob.answer, actor="bob", study="Suk 2016", result=RESULT, answers={"1.3": "N"}
    )
    by = {v.domain: v for v in views}
    assert by["D1"].answers == {"1.1": "Y", "1.2": "PY", "1.3": "N"}
    assert (by["D1"].algorithm, by["D1"].judgement) == ("Low", "Low")  # spec §2.2 D1 row 1
    # 1.2 = NI with 1.3 = Y gives High (decision table row 5).
    views = write(
        review,
        rob.answer,
        actor="bob",
        study="Suk 2016",
        result=RESULT,
        answers={"1.2": "NI", "1.3": "PY"},
    )
    assert {v.domain: v.judgement for v in views}["D1"] == "High"


def _all_low(review: Any, who: str = "bob") -> None:
    answers = {"1.1": "Y", "1.2": "Y", "1.3": "N", "2.1": "N", "2.2": "N", "2.6": "Y"}
    answers |= {"3.1": "Y", "4.1": "N", "4.2": "N", "4.3": "N", "5.1": "Y", "5.2": "N", "5.3": "N"}
    write(review, rob.answer, actor=who, study="Suk 2016", result=RESULT, answers=answers)


def test_an_override_needs_a_justification_and_keeps_both_values(review: Any) -> None:
    _all_low(review)
    with pytest.raises(InvalidInput, match=r"algorithm gives 'Low' for D3.*--justification"):
        write(
            review,
            rob.set_judgement,
            actor="bob",
            study="Suk 2016",
            domain="D3",
            judgement="Some concerns",
            tool="rob2",
            result=RESULT,
        )
    view = write(
        review,
        rob.set_judgement,
        actor="bob",
        study="Suk 2016",
        domain="D3",
        judgement="Some concerns",
        tool="rob2",
        result=RESULT,
        justification="a third lost in one arm",
    )
    assert (view.algorithm, view.judgement, view.justification) == (
        "Low",
        "Some concerns",
        "a third lost in one arm",
    )
    with review.reading() as session:
        event = audit.list_events(session)[-1]
        snap = event.payload["state"]["rob_judgement"]
    assert event.payload["change"] == "override"
    d3 = next(v for k, v in snap.items() if "|D3|" in k)
    assert (d3["algorithm"], d3["judgement"]) == ("Low", "Some concerns")
    overall = next(v for k, v in snap.items() if "|overall|" in k)
    assert (overall["algorithm"], overall["judgement"]) == ("Some concerns", "Some concerns")
    # New answers change the algorithm's value; the override stands until set back.
    write(review, rob.answer, actor="bob", study="Suk 2016", result=RESULT, answers={"3.1": "N"})
    rows = {v.domain: v for v in read(review, rob.judgements, actor="bob", tool="rob2")}
    assert rows["D3"].algorithm == "incomplete" and rows["D3"].judgement == "Some concerns"
    assert verified(review)


def test_bad_answers_name_the_question(review: Any) -> None:
    with pytest.raises(InvalidInput, match=r"3\.2 does not take NI"):
        write(
            review, rob.answer, actor="bob", study="Suk 2016", result=RESULT, answers={"3.2": "NI"}
        )
    with pytest.raises(InvalidInput, match="neither a RoB 2 signalling question"):
        write(
            review, rob.answer, actor="bob", study="Suk 2016", result=RESULT, answers={"6.1": "Y"}
        )
    with pytest.raises(InvalidInput, match="OUTCOME@TIME"):
        write(
            review, rob.answer, actor="bob", study="Suk 2016", result="MELD", answers={"1.1": "Y"}
        )


# --- consensus, reopening, kappa ----------------------------------------------------------------


def test_agreement_consensus_and_adjudication_then_a_change_reopens(review: Any) -> None:
    set_all(review, "bob", "Suk 2016", "LLHLLLL")
    set_all(review, "carol", "Suk 2016", "LLHLHLL")
    found = read(review, rob.compare, actor="dave")
    assert [(d.label, d.domain, d.judgements, d.status) for d in found] == [
        ("Suk 2016", "E", {"bob": "Low", "carol": "High"}, "open")
    ]
    agreed = write(review, rob.agree, actor="dave")
    assert sorted(c.domain for c in agreed) == ["A", "B", "C", "D", "F", "G"]
    assert write(review, rob.agree, actor="dave") == []  # nothing left to agree
    view = write(review, rob.resolve, actor="dave", study="Suk 2016", domain="E", judgement="High")
    assert (view.how, view.status) == ("adjudicator", "agreed")
    assert read(review, rob.compare, actor="dave") == []
    # bob changes C after the consensus: C is reopened, with why.
    write(review, rob.set_judgement, actor="bob", study="Suk 2016", domain="C", judgement="Unclear")
    reopened = [c for c in read(review, rob.consensus, actor="dave") if c.status == "reopened"]
    assert [(c.domain, c.reopened_because) for c in reopened] == [
        ("C", "bob changed C from High to Unclear")
    ]
    assert [(d.domain, d.status) for d in read(review, rob.compare, actor="dave")] == [
        ("C", "reopened")
    ]
    # A support text change alone reopens nothing.
    write(
        review,
        rob.set_judgement,
        actor="carol",
        study="Suk 2016",
        domain="A",
        judgement="Low",
        support="Comment: computer-generated list",
    )
    assert [
        c.domain for c in read(review, rob.consensus, actor="dave") if c.status != "agreed"
    ] == ["C"]
    # Not in force: the overall needs every domain agreed.
    assert read(review, rob.overall_by_study) == {}
    write(review, rob.resolve, actor="dave", study="Suk 2016", domain="C", judgement="High")
    assert read(review, rob.overall_by_study) == {"Suk 2016": "High"}  # worst_domain (default)
    assert verified(review)


def test_kappa_per_domain_is_cohens(review: Any) -> None:
    # Domain A: bob L, L, H and carol L, U, H over the three studies. p_o = 2/3; margins bob
    # (2/3, 0, 1/3), carol (1/3, 1/3, 1/3), p_e = 2/9 + 1/9 = 1/3; kappa = (2/3 - 1/3) / (2/3) = 0.5.
    for study, (b, c) in zip(("Suk 2016", "Xu 2014", "Xu 2019"), ("LL", "LU", "HH"), strict=True):
        for who, value in (("bob", b), ("carol", c)):
            judgement = {"L": "Low", "U": "Unclear", "H": "High"}[value]
            write(
                review, rob.set_judgement, actor=who, study=study, domain="A", judgement=judgement
            )
    found = read(review, rob.agreement, actor="olga")
    assert [(k.domain, k.assessor_a, k.assessor_b) for k in found] == [("A", "bob", "carol")]
    assert found[0].agreement.kappa == pytest.approx(0.5)
    assert found[0].agreement.n == 3
    with pytest.raises(PermissionDenied, match="blind"):
        read(review, rob.agreement, actor="bob")


def test_the_count_rule_gives_the_papers_quality_levels(review: Any) -> None:
    set_all(review, "bob", "Suk 2016", "LLHLLLL")  # 1 unmet: high quality
    set_all(review, "bob", "Xu 2019", "LUUULLL")  # 3 unmet: moderate
    set_all(review, "bob", "Xu 2014", "UUUUHLL")  # 5 unmet: low quality
    for study in ("Suk 2016", "Xu 2014", "Xu 2019"):
        for letter in DOMAINS:
            value = {
                v.domain: v.judgement
                for v in read(review, rob.judgements, actor="bob", study=study)
            }[letter]
            write(review, rob.resolve, actor="dave", study=study, domain=letter, judgement=value)
    write(review, rob.set_overall_rule, actor="olga", rule="count_unmet")
    assert read(review, rob.overall_by_study) == {
        "Suk 2016": "high quality",
        "Xu 2014": "low quality",
        "Xu 2019": "moderate quality",
    }
    assert read(review, rob.overall_risk_by_study) == {
        "Suk 2016": "Low",
        "Xu 2014": "High",
        "Xu 2019": "Unclear",
    }


def _agree_all(review: Any, study: str, values: str) -> None:
    set_all(review, "bob", study, values)
    set_all(review, "carol", study, values)
    write(review, rob.agree, actor="dave", study=study)


def _stored(review: Any) -> list[tuple[str, str | None, str | None, str]]:
    return [(o.study, o.rating, o.risk, o.rule) for o in read(review, rob.stored_overall)]


def test_the_overall_rating_is_stored_with_its_rule_and_follows_consensus(review: Any) -> None:
    # Suk 2016: A-G = L L H L L L L. worst_domain (default): any High -> High.
    _agree_all(review, "Suk 2016", "LLHLLLL")
    assert _stored(review) == [("Suk 2016", "High", "High", "worst_domain")]
    # A changed judgement reopens domain C: the rating is incomplete until consensus again.
    write(review, rob.set_judgement, actor="bob", study="Suk 2016", domain="C", judgement="Low")
    assert _stored(review) == [("Suk 2016", None, None, "worst_domain")]
    assert read(review, rob.overall_by_study) == {}
    # The adjudicator decides C Low: all seven Low -> Low.
    write(review, rob.resolve, actor="dave", study="Suk 2016", domain="C", judgement="Low")
    assert _stored(review) == [("Suk 2016", "Low", "Low", "worst_domain")]
    assert verified(review)


def test_a_new_rule_rates_every_study_again_and_the_ledger_records_it(review: Any) -> None:
    _agree_all(review, "Suk 2016", "LLHLLLL")  # 1 not Low
    _agree_all(review, "Xu 2014", "UUUUHLL")  # 5 not Low
    changed = write(review, rob.set_overall_rule, actor="olga", rule="count_unmet")
    # count_unmet (spec §1.5 V3): 0-1 not Low -> high quality (Low risk); >3 -> low quality (High).
    assert [(o.study, o.rating, o.risk, o.rule) for o in changed] == [
        ("Suk 2016", "high quality", "Low", "count_unmet"),
        ("Xu 2014", "low quality", "High", "count_unmet"),
    ]
    with review.reading() as session:
        kinds = [e.action for e in audit.list_events(session)][-3:]
        assert kinds == ["setting-changed", "rob-consensus", "rob-consensus"]
    # The same rule again changes nothing and records nothing.
    assert write(review, rob.set_overall_rule, actor="olga", rule="count_unmet") == []
    with pytest.raises(InvalidInput, match="unknown RoB 1 overall rule 'best'"):
        write(review, rob.set_overall_rule, actor="olga", rule="best")
    with pytest.raises(PermissionDenied):
        write(review, rob.set_overall_rule, actor="bob", rule="worst_domain")
    from reviewtool.review.service import set_setting

    with pytest.raises(InvalidInput, match="rob rule"):
        write(review, set_setting, actor="olga", key="rob1.overall_rule", value="worst_domain")
    assert verified(review)


def test_an_overall_rating_edited_outside_the_tool_is_found(review: Any) -> None:
    from sqlalchemy import text

    _agree_all(review, "Suk 2016", "LLHLLLL")
    with review.transaction() as session:
        session.connection().execute(text("UPDATE rob1_overall SET rating = 'Low', risk = 'Low'"))
    assert not verified(review)


def test_rob_rule_on_the_command_line(url: str, review: Any) -> None:
    _agree_all(review, "Suk 2016", "LLHLLLL")
    result = cli(url, "rob", "rule", "count_unmet", "--as", "olga")
    assert result.exit_code == 0, result.output
    assert "rob1.overall_rule = count_unmet" in result.output
    assert "Suk 2016: high quality (rule count_unmet)" in result.output
    result = cli(url, "settings", "set", "rob1.overall_rule", "worst_domain", "--as", "olga")
    assert result.exit_code != 0
    assert "reviewtool rob rule RULE" in result.output
    status = json.loads(cli(url, "rob", "status", "-f", "json", "--as", "olga").output)
    assert status["rule"] == "count_unmet"
    assert status["overall"] == {"high quality": 1}


def test_status_counts_what_rob_agree_would_record_and_hides_it_while_blind(
    url: str, review: Any
) -> None:
    _agree_all(review, "Suk 2016", "LLHLLLL")
    # After that agree, both judge Xu 2014 alike in A-F and differ in G: six domains wait for
    # another `rob agree`, one for `rob resolve`.
    set_all(review, "bob", "Xu 2014", "LLLLLLL")
    set_all(review, "carol", "Xu 2014", "LLLLLLH")
    found = read(review, rob.status, actor="dave")
    assert (found.consensus, found.agreeable, found.disagreements) == (7, 6, 1)
    assert read(review, rob.status, actor="bob").agreeable is None
    shown = cli(url, "rob", "status", "-f", "csv", "--as", "dave")
    assert shown.exit_code == 0, shown.output
    rows = {r["measure"]: r["value"] for r in csv.DictReader(shown.stdout.splitlines())}
    assert rows["domains judged alike, no consensus yet (`rob agree` records them)"] == "6"
    assert rows["studies fully assessed by bob"] == "2"
    write(review, rob.agree, actor="dave")
    assert read(review, rob.status, actor="dave").agreeable == 0


def test_an_unknown_study_points_to_the_study_list(review: Any) -> None:
    with pytest.raises(NotFound, match="`reviewtool study list` lists them"):
        write(review, rob.set_judgement, actor="bob", study="Smith 2020", domain="A",
              judgement="Low")  # fmt: skip


# --- import and export --------------------------------------------------------------------------

HEADER = (
    "Study,Random.sequence.generation,Allocation.concealment,"
    "Blinding.of.participants.and.personnel,Blinding.of.outcome.assessment,"
    "Incomplete.outcome.data,Selective.reporting,Other.sources.of.bias,Overall\n"
)
ROWS = (
    "Suk 2016,Low,Low,High,Low,Low,Low,Low,High\n"
    "Xu 2014,Unclear,Unclear,Unclear,Unclear,High,Low,Low,High\n"
    "Xu 2019,Low,Unclear,Unclear,Unclear,Low,Low,Low,Unclear\n"
)


def test_a_robvis_file_is_imported_and_exported_back_identically(
    url: str, review: Any, tmp_path: Path
) -> None:
    source = tmp_path / "bob.csv"
    source.write_text(HEADER + ROWS, encoding="utf-8")
    result = cli(url, "rob", "import", str(source), "--as", "bob")
    assert result.exit_code == 0, result.output
    assert "Imported 21 judgements for 3 studies" in result.output
    out = tmp_path / "back.csv"
    result = cli(
        url, "rob", "export", "-f", "csv", "--out", str(out), "--source", "bob", "--as", "bob"
    )
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == source.read_bytes()
    assert verified(review)


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (
            "Suk 2016,Low,Low,High,Low,Low,Low,Low,High\nXu 2014,Low,Maybe,Low,Low,Low,Low,Low,\n",
            ":3: column 3 (Allocation.concealment): 'Maybe' is not a ROB1 judgement",
        ),
        ("Smith 2020,Low,Low,Low,Low,Low,Low,Low,\n", ":2: Study 'Smith 2020' is not a study"),
        (
            "Suk 2016,Low,Low,No information,Low,Low,Low,Low,\n",
            ":2: Blinding.of.participants.and.personnel: 'No information' is not a RoB 1 judgement",
        ),
        (
            "Suk 2016,Low,Low,Low,Low,Low,Low,Low,High\n",
            ":2: Overall: 'High', but the domains give 'Low'",
        ),
        (
            "Suk 2016,Low,Low,Low,Low,Low,Low,Low,\nsuk 2016,Low,Low,Low,Low,Low,Low,Low,\n",
            ":3: Study 'suk 2016' is already on line 2",
        ),
        ("Suk 2016,Low,Low,Low,Low,Low,Low,Low,,1,extra\n", ":2: 11 fields, but the header has 9"),
        # a comment line used to be "1 fields, but the header has 9"
        (
            "# Bob's judgements, checked\nSuk 2016,Low,Low,Low,Low,Low,Low,Low,\n",
            ":2: a comment line (it starts with '#'), and a risk-of-bias file has none",
        ),
    ],
)
def test_a_bad_import_names_line_and_field_and_writes_nothing(
    url: str, review: Any, tmp_path: Path, rows: str, message: str
) -> None:
    source = tmp_path / "bad.csv"
    source.write_text(HEADER + rows, encoding="utf-8")
    before = read(review, audit.list_events)
    result = cli(url, "rob", "import", str(source), "--as", "bob")
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and message in result.stderr, result.stderr
    assert "Traceback" not in result.output
    assert len(read(review, audit.list_events)) == len(before)
    with review.reading() as session:
        assert session.exec(select(RobJudgement)).first() is None


def test_a_header_out_of_robvis_order_is_refused(url: str, tmp_path: Path) -> None:
    source = tmp_path / "swapped.csv"
    source.write_text(
        HEADER.replace(
            "Random.sequence.generation,Allocation.concealment",
            "Allocation.concealment,Random.sequence.generation",
        )
        + ROWS,
        encoding="utf-8",
    )
    result = cli(url, "rob", "import", str(source), "--as", "bob")
    assert result.exit_code == 2
    assert "column 2 ('Allocation.concealment') must be domain A" in result.stderr


def test_rob2_answers_import(url: str, review: Any, tmp_path: Path) -> None:
    source = tmp_path / "answers.csv"
    source.write_text(
        "Study,Result,effect_of_interest,1.1,1.2,1.3,3.1,3.2\n"
        f"Suk 2016,{RESULT},assignment,Y,PY,N,N,Y\n"
        "Xu 2019,TBIL@4 weeks,,NI,NI,PY,,\n",
        encoding="utf-8",
    )
    result = cli(url, "rob", "import", str(source), "--as", "carol")
    assert result.exit_code == 0, result.output
    rows = read(review, rob.judgements, actor="carol", tool="rob2")
    got = {(r.label, r.domain): r.algorithm for r in rows if r.domain in ("D1", "D3")}
    assert got == {
        ("Suk 2016", "D1"): "Low",
        ("Suk 2016", "D3"): "Low",  # 3.1 N, 3.2 Y: evidence the result is not biased
        ("Xu 2019", "D1"): "High",  # 1.2 NI and 1.3 PY
    }
    bad = tmp_path / "bad.csv"
    bad.write_text(f"Study,Result,1.1,3.2\nSuk 2016,{RESULT},Y,NI\n", encoding="utf-8")
    result = cli(url, "rob", "import", str(bad), "--as", "carol")
    assert result.exit_code == 2 and ":2: 3.2: 3.2 does not take NI" in result.stderr
    # a comment line is named as one (it was read as a study: "Study '# …' is not a study")
    bad.write_text(f"Study,Result,1.1,3.2\n# Carol, 2026\nSuk 2016,{RESULT},Y,N\n")
    result = cli(url, "rob", "import", str(bad), "--as", "carol")
    assert result.exit_code == 2
    assert result.stderr.strip().endswith(
        f"{bad}:2: a comment line (it starts with '#'), and a risk-of-bias file has none: "
        "delete the line (or quote the value if it is data)"
    )


def test_spreadsheet_formulas_are_neutralised(url: str, tmp_path: Path) -> None:
    assert exchange.neutralise("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert [exchange.neutralise(c) for c in ("+1", "-1", "@x", "Low")] == [
        "'+1",
        "'-1",
        "'@x",
        "Low",
    ]
    review = open_existing(url)
    with review.transaction() as session:
        from reviewtool.storage.models import Record

        record = session.get(Record, 1)
        assert record is not None
        record.authors = json.dumps(["=cmd|' /C calc'!A0, X."])
        session.add(record)
    review.close()
    out = tmp_path / "rob.xlsx"
    with_formula = cli(
        url, "rob", "export", "-f", "xlsx", "--out", str(out), "--source", "bob", "--as", "bob"
    )
    assert with_formula.exit_code == 0, with_formula.output
    source = tmp_path / "one.csv"
    source.write_text(HEADER + "Xu 2014,Low,Low,Low,Low,Low,Low,Low,\n", encoding="utf-8")
    assert cli(url, "rob", "set", "1", "A", "Low", "--as", "bob").exit_code == 0
    csv_out = tmp_path / "rob.csv"
    assert (
        cli(url, "rob", "export", "--out", str(csv_out), "--source", "bob", "--as", "bob").exit_code
        == 0
    )
    rows = list(csv.reader(csv_out.open(encoding="utf-8")))
    assert rows[1][0].startswith("'=cmd")
    cli(url, "rob", "export", "-f", "xlsx", "--out", str(out), "--source", "bob", "--as", "bob")
    from openpyxl import load_workbook

    sheet = load_workbook(out).active
    assert sheet is not None
    assert sheet["A2"].value.startswith("'=cmd") and sheet["A2"].data_type == "s"


def test_cli_set_answer_compare_status(url: str) -> None:
    assert cli(url, "rob", "set", "Suk 2016", "A", "Low", "--as", "bob").exit_code == 0
    assert cli(url, "rob", "set", "Suk 2016", "A", "High", "--as", "carol").exit_code == 0
    result = cli(
        url,
        "rob",
        "answer",
        "Suk 2016",
        "1.1=Y",
        "1.2=Y",
        "1.3=N",
        "--result",
        RESULT,
        "--as",
        "bob",
    )
    assert result.exit_code == 0 and "D1: Low" in result.output, result.output
    refused = cli(url, "rob", "compare", "--as", "bob")
    assert refused.exit_code == 5 and "blind" in refused.stderr
    shown = cli(url, "rob", "compare", "-f", "json", "--as", "dave")
    assert json.loads(shown.stdout)[0]["judgements"] == {"bob": "Low", "carol": "High"}
    status = json.loads(cli(url, "rob", "status", "-f", "json", "--as", "bob").stdout)
    assert status["blind_to_you"] is True and status["disagreements"] is None
    assert status["agreement"] == []
