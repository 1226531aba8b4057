"""A review whose references are included at full text (studies), ready for extraction.

Members: olga (owner), alice and bob (reviewers, the two extractors), carol (adjudicator).
Title/abstract and full text are unblinded, so every member sees the studies; extraction stays
blind (the default) until a test unblinds it. Used by the extraction tests and the benchmark.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

# (first author, year) of each reference; Suk 2016 is the seed paper's example label.
AUTHORS = [("Suk", 2016), ("Shi", 2021), ("Xu", 2019), ("Lin", 2017)]

FORM = """\
[form]
name = "Test extraction"
[[field]]
key = "country"
label = "Country"
type = "text"
required = true
[[field]]
key = "follow_up"
label = "Follow-up"
type = "number"
unit = "weeks"
min = 0
max = 520
[[field]]
key = "route"
type = "single_choice"
choices = ["intravenous", "intra-arterial", "intrahepatic"]
[[field]]
key = "adverse_events"
type = "multiple_choice"
choices = ["fever", "rash", "none"]
[[field]]
key = "blinded"
type = "yes_no"
[[field]]
key = "published"
type = "date"
[arms]
fields = [
  {key = "name", type = "text"},
  {key = "intervention", type = "text"},
  {key = "n_randomised", type = "integer", min = 1},
]
[[outcome]]
key = "meld"
label = "MELD score"
kind = "continuous"
unit = "points"
direction = "lower_is_better"
time_points = ["4 weeks", "12 weeks", "24 weeks"]
[[outcome]]
key = "survival"
label = "Survival"
kind = "dichotomous"
direction = "higher_is_better"
time_points = ["24 weeks"]
"""


def ris(authors: list[tuple[str, int]]) -> str:
    """One RIS record per (surname, year), each a distinct trial."""
    return "".join(
        f"TY  - JOUR\nID  - E{i}\nTI  - Stem cell trial {i}: {name} cohort of liver failure {i * 7}\n"
        f"AU  - {name}, A.\nPY  - {year}\nDO  - 10.5555/extract.{i}\nER  -\n\n"
        for i, (name, year) in enumerate(authors, start=1)
    )


def build_review(path: Path, authors: list[tuple[str, int]] | None = None) -> str:
    """A review at ``path`` (a new file) whose references are all included studies; its URL."""
    from reviewtool.dedup.service import run_dedup
    from reviewtool.domain import Role
    from reviewtool.importing.service import import_files
    from reviewtool.members.service import add_member
    from reviewtool.review.service import init_review, set_setting
    from reviewtool.screening.service import import_decisions, set_fulltext, unblind_stage

    authors = authors or AUTHORS
    refs = path.with_name(path.stem + "_refs.ris")
    refs.write_text(ris(authors), encoding="utf-8")
    url = f"sqlite:///{path}"
    review = init_review(url, title="Extraction review", owner="olga")
    with review.transaction() as s:
        add_member(s, actor="olga", name="alice", roles=[Role.REVIEWER])
        add_member(s, actor="olga", name="bob", roles=[Role.REVIEWER])
        add_member(s, actor="olga", name="carol", roles=[Role.ADJUDICATOR])
        set_setting(s, actor="olga", key="screening.reason_required_fulltext", value="false")
        import_files(s, actor="olga", paths=[refs], source="MEDLINE")
    with review.transaction() as s:
        run_dedup(s, actor="olga")
    votes = path.with_name(path.stem + "_votes.csv")
    with votes.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["record_id", "decision"])
        writer.writerows([i, "include"] for i in range(1, len(authors) + 1))
    with review.transaction() as s:
        for who in ("alice", "bob"):
            import_decisions(s, actor=who, path=str(votes), stage="tiab")
        unblind_stage(s, actor="olga", stage="tiab")
    with review.transaction() as s:
        for i in range(1, len(authors) + 1):
            set_fulltext(s, actor="olga", record_id=i, location=f"pdfs/e{i}.pdf")
    with review.transaction() as s:
        for who in ("alice", "bob"):
            import_decisions(s, actor=who, path=str(votes), stage="fulltext")
        unblind_stage(s, actor="olga", stage="fulltext")
    review.close()
    return url


def build_review_with_form(path: Path, authors: list[tuple[str, int]] | None = None) -> Path:
    """``build_review`` at ``path`` with ``FORM`` added by the owner (version 1); ``path``.

    The extraction tests build this once per module (a module-scoped ``template`` fixture) and
    give each test a copy (``copy_review``)."""
    from reviewtool.extraction import service as x
    from reviewtool.review.service import open_existing

    review = open_existing(build_review(path, authors))
    try:
        with review.transaction() as s:
            x.add_form(s, actor="olga", text=FORM, file_name="form.toml")
    finally:
        review.close()
    return path


def copy_review(template: Path, directory: Path) -> Path:
    """A copy of the review file ``template`` as ``directory/review.db`` (one test's own)."""
    import shutil

    copy = directory / "review.db"
    shutil.copy(template, copy)
    return copy


def review_fixtures(name: str) -> tuple[Any, Any]:
    """The ``template`` and ``db`` fixtures of an extraction test module, written once:
    ``template, db = review_fixtures("recompute")``. ``template`` (module scope) is
    ``build_review_with_form`` under a temporary folder named ``name``; ``db`` is the URL of each
    test's own copy of it (``copy_review``)."""
    import pytest

    @pytest.fixture(scope="module", name="template")
    def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
        return build_review_with_form(tmp_path_factory.mktemp(name) / "review.db")

    @pytest.fixture(name="db")
    def db(template: Path, tmp_path: Path) -> str:
        return f"sqlite:///{copy_review(template, tmp_path)}"

    return template, db


def run(url: str, call: Any, **kwargs: Any) -> Any:
    """``call(session, **kwargs)`` in one committed transaction on the review at ``url``; its
    result."""
    from reviewtool.review.service import open_existing

    review = open_existing(url)
    try:
        with review.transaction() as s:
            return call(s, **kwargs)
    finally:
        review.close()


def cli(url: str, *args: str, who: str = "alice") -> Any:
    """``reviewtool ARGS --db URL --as WHO`` through typer's CliRunner; its result."""
    from typer.testing import CliRunner

    from reviewtool.cli import app

    return CliRunner().invoke(app, [*args, "--db", url, "--as", who])


def verify_problems(url: str) -> list[str]:
    """What ``audit verify`` finds in the review at ``url`` (empty when it verifies)."""
    from reviewtool import audit
    from reviewtool.review.service import open_existing

    review = open_existing(url)
    try:
        with review.reading() as s:
            report = audit.verify(s)
    finally:
        review.close()
    return [] if report.ok else list(report.problems)
