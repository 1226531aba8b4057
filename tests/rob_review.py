"""A small review with three included studies for the risk-of-bias tests.

olga owns it, bob and carol are reviewers (the two assessors), dave is the adjudicator. Three
trials ("Suk 2016", "Xu 2014", "Xu 2019") are included at both stages and both stages are
unblinded, so risk of bias is open (and blind, until ``rob unblind``).
"""

from __future__ import annotations

from pathlib import Path

RIS = "".join(
    f"TY  - JOUR\nID  - T{i}\nTI  - {title}\nAU  - {author}\nPY  - {year}\n"
    f"AB  - Patients were randomised.\nER  -\n\n"
    for i, (author, year, title) in enumerate(
        [
            ("Suk, K. T.", 2016, "Autologous bone marrow cells in alcoholic cirrhosis"),
            ("Xu, L.", 2014, "Autologous bone marrow cells in hepatitis B cirrhosis"),
            ("Xu, W. X.", 2019, "Plasma exchange and umbilical cord cells in ACLF"),
        ],
        start=1,
    )
)
STUDIES = ("Suk 2016", "Xu 2014", "Xu 2019")


def build_rob_review(path: Path) -> str:
    """Create the review at ``path`` (files removed first); returns its URL."""
    from reviewtool.dedup.service import run_dedup
    from reviewtool.domain import Role
    from reviewtool.importing.service import import_files
    from reviewtool.members.service import add_member
    from reviewtool.review.service import init_review
    from reviewtool.screening.service import record_decision, set_fulltext, unblind_stage

    for leftover in path.parent.glob(path.name + "*"):
        leftover.unlink()
    ris = path.with_name("trials.ris")
    ris.write_text(RIS, encoding="utf-8")
    url = f"sqlite:///{path}"
    review = init_review(url, title="RoB review", owner="olga")
    with review.transaction() as s:
        add_member(s, actor="olga", name="bob", roles=[Role.REVIEWER])
        add_member(s, actor="olga", name="carol", roles=[Role.REVIEWER])
        add_member(s, actor="olga", name="dave", roles=[Role.ADJUDICATOR])
        import_files(s, actor="olga", paths=[ris], source="MEDLINE")
    with review.transaction() as s:
        run_dedup(s, actor="olga")
    with review.transaction() as s:
        for record in (1, 2, 3):
            for who in ("bob", "carol"):
                record_decision(s, actor=who, record_id=record, stage="tiab", decision="include")
        unblind_stage(s, actor="olga", stage="tiab")
        for record in (1, 2, 3):
            set_fulltext(s, actor="olga", record_id=record, location=f"pdfs/t{record}.pdf")
            for who in ("bob", "carol"):
                record_decision(
                    s, actor=who, record_id=record, stage="fulltext", decision="include"
                )
        unblind_stage(s, actor="olga", stage="fulltext")
    review.close()
    return url
