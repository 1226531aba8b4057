"""A small review that writes every kind of audited row, through the library's own services.

Used twice: ``tests/data/ledger_0005.sql`` is this review written by the code of schema 0005
(before issue 10's ledger work; an SQL text dump), so a test can check that a ledger written then
still verifies; and ``tests/test_audit_coverage.py`` builds it with today's code and tampers with
every column in turn. Only functions that exist in both versions are called.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

RIS = """TY  - JOUR
ID  - A1
TI  - Mesenchymal stem cells for decompensated cirrhosis: a randomised trial
AU  - Smith, A.
PY  - 2019
DO  - 10.5555/ledger.1
ER  -
TY  - JOUR
ID  - A2
TI  - Mesenchymal stem cells for decompensated cirrhosis: a randomised trial
AU  - Smith, A.
PY  - 2019
DO  - 10.5555/ledger.1
ER  -
TY  - JOUR
ID  - A3
TI  - Albumin infusion in acute-on-chronic liver failure
AU  - Jones, B.
PY  - 2020
DO  - 10.5555/ledger.2
ER  -
TY  - JOUR
ID  - A4
TI  - Bone marrow cell therapy outcomes in alcoholic hepatitis
AU  - Brown, C.
PY  - 2018
DO  - 10.5555/ledger.3
ER  -
TY  - JOUR
ID  - A5
TI  - Umbilical cord cells and placebo in hepatitis B failure
AU  - Green, D.
PY  - 2021
DO  - 10.5555/ledger.4
ER  -
"""

RIS_3 = """TY  - JOUR
ID  - C1
TI  - Mesenchymal stem cells in liver disease: a narrative review
AU  - White, E.
PY  - 2022
DO  - 10.5555/ledger.5
ER  -
"""

# Issue 15: references nobody has screened, for a calibration round's pilot and a stop.
RIS_4 = "".join(
    f"TY  - JOUR\nID  - D{n}\nTI  - Stem cell trial number {n} in decompensated cirrhosis\n"
    f"PY  - 2023\nDO  - 10.5555/ledger.d{n}\nER  -\n\n"
    for n in (1, 2, 3)
)

RIS_2 = """TY  - JOUR
ID  - B1
TI  - Albumin infusion in acute on chronic liver failure
AU  - Jones, B.
PY  - 2020
DO  - 10.5555/ledger.2
ER  -
"""


def build_populated(url: str, work: Path, outcomes: Path, *, after_0007: bool = True) -> None:
    """Create the review at ``url`` (files written under ``work``): see the module docstring.

    ``after_0007=False`` leaves out what came after schema 0007 (removal before screening,
    extraction, risk of bias): a review that can be taken back to 0007 whole (tests of 0008)."""
    from reviewtool.analysis.service import run_analysis
    from reviewtool.dedup.service import flag_duplicate, run_dedup
    from reviewtool.domain import Role
    from reviewtool.importing.service import import_files
    from reviewtool.members.service import add_member, grant_role
    from reviewtool.review.service import init_review, set_setting
    from reviewtool.screening.labels import change_label
    from reviewtool.screening.service import (
        record_decision,
        resolve_conflict,
        set_fulltext,
        unblind_stage,
    )

    first, second = work / "first.ris", work / "second.ris"
    first.write_text(RIS, encoding="utf-8")
    second.write_text(RIS_2, encoding="utf-8")
    review = init_review(url, title="Ledger fixture", owner="alice", question="Do MSCs help?")
    with review.transaction() as s:
        add_member(s, actor="alice", name="bob", roles=[Role.REVIEWER])
        add_member(s, actor="alice", name="carol", roles=[Role.REVIEWER])
        grant_role(s, actor="alice", name="carol", role=Role.ADJUDICATOR)
        set_setting(s, actor="alice", key="screening.include_keywords", value="randomi;RCT")
        import_files(s, actor="alice", paths=[first], source="MEDLINE", searched_on="2026-01-02")
        import_files(s, actor="alice", paths=[second], source="Embase", query="msc AND liver")
    with review.transaction() as s:
        run_dedup(s, actor="alice")
    with review.transaction() as s:
        flag_duplicate(s, actor="bob", record_a=4, record_b=5, note="same cohort?")
    with review.transaction() as s:
        for reviewer in ("alice", "bob"):
            record_decision(s, actor=reviewer, record_id=1, stage="tiab", decision="include")
        record_decision(s, actor="alice", record_id=3, stage="tiab", decision="include")
        record_decision(
            s, actor="bob", record_id=3, stage="tiab", decision="exclude", note="wrong design"
        )
        record_decision(s, actor="alice", record_id=4, stage="tiab", decision="maybe")
        record_decision(s, actor="alice", record_id=5, stage="tiab", decision="include")
        record_decision(s, actor="bob", record_id=5, stage="tiab", decision="exclude")
    with review.transaction() as s:
        resolve_conflict(s, actor="carol", record_id=3, stage="tiab", decision="include")
        resolve_conflict(
            s, actor="carol", record_id=5, stage="tiab", decision="include", note="dose arm"
        )
    with review.transaction() as s:
        record_decision(s, actor="bob", record_id=4, stage="tiab", decision="include")
        # bob changes his mind on 3: his first vote is superseded, carol's resolution reopened
        record_decision(s, actor="bob", record_id=3, stage="tiab", decision="include")
        change_label(s, actor="alice", record_id=1, label="RCT?", add=True)
        change_label(s, actor="alice", record_id=1, label="ask bob", add=True)
        change_label(s, actor="bob", record_id=3, label="check dose", add=True)
        change_label(s, actor="alice", record_id=1, label="ask bob", add=False)
    with review.transaction() as s:
        unblind_stage(s, actor="alice", stage="tiab")
        set_fulltext(s, actor="alice", record_id=1, location="https://example.org/a1.pdf")
        set_fulltext(s, actor="alice", record_id=3, not_retrieved=True, note="no reply")
        for reviewer in ("alice", "bob"):
            record_decision(s, actor=reviewer, record_id=1, stage="fulltext", decision="include")
    try:  # studies came with schema 0007 (the 0005 ledger was written without them)
        from reviewtool.studies.service import link
    except ImportError:
        pass
    else:
        with review.transaction() as s:
            set_fulltext(s, actor="bob", record_id=5, location="https://example.org/a5.pdf")
            for reviewer in ("alice", "bob"):
                record_decision(
                    s, actor=reviewer, record_id=5, stage="fulltext", decision="include"
                )
            unblind_stage(s, actor="alice", stage="fulltext")
            link(s, actor="alice", report=5, study=1)
    try:  # removal before screening came with schema 0010
        if not after_0007:
            raise ImportError
        from reviewtool.screening.prescreen import Selection, remove_references
    except ImportError:
        pass
    else:
        third = work / "third.ris"
        third.write_text(RIS_3, encoding="utf-8")
        with review.transaction() as s:
            import_files(s, actor="alice", paths=[third], source="Embase")
        with review.transaction() as s:
            remove_references(
                s, actor="alice", reason="review", selection=Selection(title_words=("review",))
            )
    try:  # risk of bias came with schema 0012
        if not after_0007:
            raise ImportError
        from reviewtool.rob import service as rob
    except ImportError:
        pass
    else:
        with review.transaction() as s:
            for who, c_value in (("alice", "High"), ("bob", "Unclear")):
                rob.set_judgement(s, actor=who, study="1", domain="A", judgement="Low")
                rob.set_judgement(
                    s,
                    actor=who,
                    study="1",
                    domain="C",
                    judgement=c_value,
                    outcome_group="objective outcomes",
                    support=f"Comment: {who}'s reading",
                )
            rob.answer(
                s,
                actor="bob",
                study="Smith 2019",
                result="MELD@24 weeks",
                answers={"1.1": "Y", "1.2": "PY", "1.3": "N"},
                direction={"D1": "Towards null"},
            )
            rob.set_judgement(
                s,
                actor="bob",
                study="1",
                domain="D1",
                judgement="Some concerns",
                tool="rob2",
                result="MELD@24 weeks",
                justification="baseline MELD differs by 3 points",
            )
        with review.transaction() as s:
            rob.agree(s, actor="carol")
            rob.resolve(
                s,
                actor="carol",
                study="1",
                domain="C",
                judgement="High",
                outcome_group="objective outcomes",
            )
            # the other five domains decided: the study gets its stored RoB 1 overall rating
            for letter in "BDEFG":
                rob.resolve(s, actor="carol", study="1", domain=letter, judgement="Low")
        with review.transaction() as s:
            # bob changes A after the consensus: it is reopened
            rob.set_judgement(s, actor="bob", study="1", domain="A", judgement="Unclear")
    with review.transaction() as s:
        run_analysis(s, actor="alice", data_path=outcomes, name="main")
    try:  # extraction came with schema 0011
        if not after_0007:
            raise ImportError
        from reviewtool.extraction import service as extraction
    except ImportError:
        pass
    else:
        _extract(review, extraction)
    if after_0007:  # team mode (schema 0015): bob's database login, as `member map` makes it
        from sqlmodel import select

        from reviewtool.members.identity import put_login
        from reviewtool.storage.models import Member

        with review.transaction() as s:
            bob = s.exec(select(Member).where(Member.name == "bob")).one()
            put_login(s, "alice", bob, "bob")
    if after_0007:  # prioritised screening came with schema 0017
        _prioritised(review, work)
    review.close()


def _prioritised(review: Any, work: Path) -> None:
    """Issue 15: a vote stamped with its queue order and model, a calibration round (started,
    then overridden), a stop (recorded, then undone)."""
    from reviewtool.domain import QueueStamp
    from reviewtool.importing.service import import_files
    from reviewtool.screening import calibration, stop
    from reviewtool.screening.service import record_decision

    fourth = work / "fourth.ris"
    fourth.write_text(RIS_4, encoding="utf-8")
    with review.transaction() as s:
        import_files(s, actor="alice", paths=[fourth], source="Embase")

    with review.transaction() as s:
        calibration.start_round(s, actor="alice", size=2, seed=1)
    with review.transaction() as s:
        pilot = calibration.open_round(s)
        assert pilot is not None
        record_decision(
            s,
            actor="bob",
            record_id=pilot.sample[0],
            stage="tiab",
            decision="exclude",
            stamp=QueueStamp("relevance", "logistic:" + "ab" * 32),
        )
    with review.transaction() as s:
        calibration.override_round(s, actor="alice", reason="pilot discussed")
    with review.transaction() as s:
        stop.record_stop(
            s,
            actor="alice",
            rule="consecutive_exclusions",
            evidence={"rule": "consecutive_exclusions", "met": True},
            methods="We stopped.",
        )
    with review.transaction() as s:
        stop.resume_screening(s, actor="alice", reason="more to read")


EXTRACTION_FORM = """\
[form]
name = "Ledger fixture form"
[[field]]
key = "country"
type = "text"
[arms]
fields = [{key = "n_randomised", type = "integer", min = 1}]
[[outcome]]
key = "meld"
kind = "continuous"
time_points = ["4 weeks", "12 weeks"]
"""


def _extract(review: object, extraction: object) -> None:
    """A form, two extractors' values (study 1), consensus by agreement and by the
    adjudicator, and one consensus reopened by a change."""
    x: Any = extraction
    r: Any = review
    at = {"arm": "MSC", "outcome": "meld", "time_point": "4 weeks"}
    at_12 = {**at, "time_point": "12 weeks"}
    with r.transaction() as s:
        x.add_form(s, actor="alice", text=EXTRACTION_FORM, file_name="form.toml")
    with r.transaction() as s:
        for who, country, mean in (("alice", "Korea", "12.5"), ("bob", "Korea", "13")):
            x.set_value(s, actor=who, study="1", field="country", value=country, source="p. 2")
            x.set_value(s, actor=who, study="1", field="mean", value=mean, **at)
            x.set_value(s, actor=who, study="1", field="n_randomised", value="20", arm="MSC")
            x.set_value(
                s,
                actor=who,
                study="1",
                field="sd",
                value="2.5",
                source="Table 2",
                **at,
            )
            # A converted value (SD from SE 0.56, n 20) with its structured provenance.
            x.set_converted(
                s, actor=who, study="1", fields=["sd"], conversion="se 0.56 n=20", **at_12
            )
    with r.transaction() as s:
        x.resolve(s, actor="carol", study="1", field="mean", value="12.5", source="Table 2", **at)
        x.set_value(s, actor="bob", study="1", field="n_randomised", value="21", arm="MSC")
