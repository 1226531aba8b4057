"""Separation of duties (issue 14, section 3): an adjudicator who took part in a disagreement does
not resolve it, at every place an adjudicator resolves one: screening conflicts (title/abstract,
full text per report, single and imported resolutions), extraction consensus by adjudicator and
risk-of-bias consensus by adjudicator. The setting ``adjudication.separate_duties`` (on by
default) is turned off by an owner, audited as any setting change."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from reviewtool import audit
from reviewtool.cli import app
from reviewtool.domain import SETTINGS, Role
from reviewtool.errors import PermissionDenied
from reviewtool.extraction import service as x
from reviewtool.importing.service import import_files
from reviewtool.members.service import add_member, grant_role
from reviewtool.review.service import open_existing, set_setting
from reviewtool.rob import service as rob
from reviewtool.screening import service as sv
from reviewtool.storage import Review
from tests.extraction_builder import FORM, build_review
from tests.rob_review import build_rob_review

KEY = "adjudication.separate_duties"
runner = CliRunner()


def _ris(n: int) -> str:
    return "".join(
        f"TY  - JOUR\nID  - R{i}\nTI  - Trial {i} of stem cells in liver disease cohort {i * 7}\n"
        f"AU  - Author{i}, A.\nPY  - {2000 + i}\nER  -\n\n"
        for i in range(1, n + 1)
    )


@pytest.fixture
def review(fresh_review: Review, tmp_path: Path) -> Review:
    """alice (owner) and bob screen; carol adjudicates and, as a reviewer too, votes; dave is a
    second adjudicator. References 1..4; reference 1 a conflict carol voted in, reference 2 a
    conflict between alice and bob only."""
    path = tmp_path / "four.ris"
    path.write_text(_ris(4))
    with fresh_review.transaction() as s:
        import_files(s, actor="alice", paths=[path], source="MEDLINE")
        grant_role(s, actor="alice", name="carol", role=Role.REVIEWER)
        add_member(s, actor="alice", name="dave", roles=[Role.ADJUDICATOR])
        set_setting(s, actor="alice", key="screening.reviewers_required", value="2")
    for who, ref, decision in [
        ("carol", 1, "include"),
        ("bob", 1, "exclude"),
        ("alice", 2, "include"),
        ("bob", 2, "exclude"),
    ]:
        with fresh_review.transaction() as s:
            sv.record_decision(
                s, actor=who, record_id=ref, stage="tiab", decision=decision,
                reason="not an RCT" if decision == "exclude" else None,
            )  # fmt: skip
    return fresh_review


def _resolve(review: Review, who: str, ref: int, **kw: Any) -> str:
    with review.transaction() as s:
        kw.setdefault("decision", "include")
        kw.setdefault("stage", "tiab")
        return sv.resolve_conflict(s, actor=who, record_id=ref, **kw).status.value


def test_the_setting_is_on_by_default_and_a_boolean() -> None:
    assert SETTINGS[KEY].default is True
    assert SETTINGS[KEY].kind is bool


def test_an_adjudicator_who_voted_does_not_resolve_the_conflict(review: Review) -> None:
    with pytest.raises(PermissionDenied) as caught:
        _resolve(review, "carol", 1)
    message = str(caught.value)
    assert message.startswith(
        "carol voted on reference 1 at tiab, so carol may not resolve its conflict "
        "(separation of duties)"
    )
    assert "\n" not in message and f"settings set {KEY} false" in message
    # Nothing written: reference 1 is still a conflict, and carol resolves the one she did not
    # vote on; dave, who voted on neither, resolves reference 1.
    with review.reading() as s:
        assert [c.record_id for c in sv.list_conflicts(s, actor="carol", stage="tiab")] == [1, 2]
    assert _resolve(review, "carol", 2) == "resolved-included"
    assert _resolve(review, "dave", 1, decision="exclude", reason="not an RCT") == (
        "resolved-excluded"
    )
    with review.reading() as s:
        assert audit.verify(s).ok


def test_a_vote_changed_since_still_counts_as_having_voted(review: Review) -> None:
    with review.transaction() as s:  # carol changes her vote to agree with bob, then back
        sv.record_decision(s, actor="carol", record_id=1, stage="tiab", decision="maybe")
    with pytest.raises(PermissionDenied, match="carol voted on reference 1 at tiab"):
        _resolve(review, "carol", 1)


def test_imported_resolutions_are_refused_naming_the_file_and_line(
    review: Review, tmp_path: Path
) -> None:
    path = tmp_path / "resolutions.csv"
    path.write_text("record_id,decision,reason,note\n2,include,,\n1,include,,\n")
    with review.transaction() as s, pytest.raises(PermissionDenied) as caught:
        sv.import_resolutions(s, actor="carol", path=str(path), stage="tiab")
    assert str(caught.value).startswith(
        f"{path}:3: carol voted on reference 1 at tiab, so carol may not resolve its conflict"
    )
    with review.reading() as s:  # all or nothing: reference 2 is not resolved either
        assert len(sv.list_conflicts(s, actor="carol", stage="tiab")) == 2


def test_turned_off_by_an_owner_audited_then_the_adjudicator_resolves(review: Review) -> None:
    with review.transaction() as s, pytest.raises(PermissionDenied):
        set_setting(s, actor="carol", key=KEY, value="false")  # owners only
    with review.transaction() as s:
        assert set_setting(s, actor="alice", key=KEY, value="false") is False
    with review.reading() as s:
        (event,) = audit.list_events(s, action="setting-changed", entity_id=KEY)
    assert (event.actor, event.payload["before"], event.payload["after"]) == ("alice", None, False)
    assert _resolve(review, "carol", 1) == "resolved-included"
    with review.reading() as s:
        assert audit.verify(s).ok


def test_the_cli_refusal_is_one_line_exit_5(review: Review, tmp_path: Path) -> None:
    url = str(review.engine.url)
    result = runner.invoke(
        app, ["screen", "resolve", "1", "include", "--stage", "tiab", "--db", url, "--as", "carol"]
    )
    assert result.exit_code == 5, result.output
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and "carol voted on reference 1 at tiab" in lines[0]
    assert "Traceback" not in result.output


# --- full text: per report ------------------------------------------------------------------------


def test_at_full_text_the_rule_is_per_report(review: Review) -> None:
    with review.transaction() as s:
        sv.unblind_stage(s, actor="alice", stage="tiab")
    _resolve(review, "dave", 1)
    _resolve(review, "dave", 2)
    with review.transaction() as s:
        article = sv.set_fulltext(s, actor="alice", record_id=1, location="pdfs/a.pdf")["id"]
        registry = sv.set_fulltext(
            s, actor="alice", record_id=1, location="reg/NCT1", kind="registry entry", add=True
        )["id"]
    assert (article, registry) == (1, 3)  # report 2 was sought for reference 2 on inclusion
    for who, report, decision in [
        ("carol", article, "include"),
        ("bob", article, "exclude"),
        ("alice", registry, "include"),
        ("bob", registry, "exclude"),
    ]:
        with review.transaction() as s:
            sv.record_decision(
                s, actor=who, record_id=1, stage="fulltext", decision=decision, report=report,
                reason="not an RCT" if decision == "exclude" else None,
            )  # fmt: skip
    with pytest.raises(PermissionDenied) as caught:
        _resolve(review, "carol", 1, stage="fulltext", report=1)
    assert str(caught.value).startswith(
        "carol voted on report 1 of reference 1 at fulltext, so carol may not resolve its conflict"
    )
    # The registry entry is another unit: carol did not vote on it and resolves it.
    assert _resolve(review, "carol", 1, stage="fulltext", report=registry) == "resolved-included"
    assert _resolve(review, "dave", 1, stage="fulltext", report=1) == "resolved-included"
    with review.reading() as s:
        assert audit.verify(s).ok


# --- extraction ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def extraction_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("duties") / "review.db"
    url = build_review(path)
    opened = open_existing(url)
    with opened.transaction() as s:
        x.add_form(s, actor="olga", text=FORM, file_name="form.toml")
        grant_role(s, actor="olga", name="carol", role=Role.REVIEWER)
        add_member(s, actor="olga", name="dave", roles=[Role.ADJUDICATOR])
    opened.close()
    return path


@pytest.fixture
def extraction(extraction_template: Path, tmp_path: Path) -> Iterator[Review]:
    copy = tmp_path / "review.db"
    shutil.copy(extraction_template, copy)
    opened = open_existing(f"sqlite:///{copy}")
    yield opened
    opened.close()


def _value(review: Review, who: str, field: str, value: str) -> None:
    with review.transaction() as s:
        x.set_value(s, actor=who, study="Suk 2016", field=field, value=value)


def test_an_extractor_adjudicator_does_not_resolve_the_value_they_extracted(
    extraction: Review,
) -> None:
    _value(extraction, "alice", "route", "intravenous")
    _value(extraction, "carol", "route", "intrahepatic")
    _value(extraction, "alice", "country", "Korea")
    _value(extraction, "bob", "country", "South Korea")
    with extraction.transaction() as s, pytest.raises(PermissionDenied) as caught:
        x.resolve(s, actor="carol", study="Suk 2016", field="route", value="intrahepatic")
    assert str(caught.value).startswith(
        "carol extracted a value for study Suk 2016 (1), route, so carol may not resolve its "
        "consensus value (separation of duties)"
    )
    with extraction.transaction() as s:  # a place carol did not extract: hers to resolve
        done = x.resolve(s, actor="carol", study="Suk 2016", field="country", value="Korea")
        assert (done.how, done.by) == ("adjudicator", "carol")
        other = x.resolve(s, actor="dave", study="Suk 2016", field="route", value="intrahepatic")
        assert (other.how, other.by) == ("adjudicator", "dave")
    with extraction.transaction() as s:
        set_setting(s, actor="olga", key=KEY, value="false")
    with extraction.transaction() as s:
        again = x.resolve(s, actor="carol", study="Suk 2016", field="route", value="intravenous")
    assert (again.value, again.by) == ("intravenous", "carol")
    with extraction.reading() as s:
        assert audit.verify(s).ok


# --- risk of bias --------------------------------------------------------------------------------


@pytest.fixture
def rob_review(tmp_path: Path) -> Iterator[Review]:
    """bob and carol assess; dave adjudicates and, as a reviewer too, judges; erin adjudicates."""
    opened = open_existing(build_rob_review(tmp_path / "review.db"))
    with opened.transaction() as s:
        grant_role(s, actor="olga", name="dave", role=Role.REVIEWER)
        add_member(s, actor="olga", name="erin", roles=[Role.ADJUDICATOR])
    yield opened
    opened.close()


def _judge(review: Review, who: str, domain: str, judgement: str) -> None:
    with review.transaction() as s:
        rob.set_judgement(s, actor=who, study="Suk 2016", domain=domain, judgement=judgement)


def test_an_assessor_adjudicator_does_not_resolve_the_domain_they_judged(
    rob_review: Review,
) -> None:
    _judge(rob_review, "bob", "A", "Low")
    _judge(rob_review, "dave", "A", "High")
    _judge(rob_review, "bob", "B", "Low")
    _judge(rob_review, "carol", "B", "High")
    with rob_review.transaction() as s, pytest.raises(PermissionDenied) as caught:
        rob.resolve(s, actor="dave", study="Suk 2016", domain="A", judgement="High")
    assert str(caught.value).startswith(
        "dave judged rob1 domain A for study Suk 2016 (1), so dave may not resolve its "
        "consensus (separation of duties)"
    )
    with rob_review.transaction() as s:
        done = rob.resolve(s, actor="dave", study="Suk 2016", domain="B", judgement="Low")
        other = rob.resolve(s, actor="erin", study="Suk 2016", domain="A", judgement="High")
    assert (done.judgement, other.judgement) == ("Low", "High")
    with rob_review.transaction() as s:
        set_setting(s, actor="olga", key=KEY, value="false")
    with rob_review.transaction() as s:
        again = rob.resolve(s, actor="dave", study="Suk 2016", domain="A", judgement="Low")
    assert again.judgement == "Low"
    with rob_review.reading() as s:
        assert audit.verify(s).ok
