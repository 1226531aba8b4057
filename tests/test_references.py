"""References: title/abstract decisions stay attached to a duplicate group through every later
import, merge, split and change of primary (issue 10)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from reviewtool.cli import app

runner = CliRunner()

TITLE = "Autologous bone marrow stem cells for decompensated cirrhosis: a randomised trial"
# The first search round: a bare copy (title, one author, year, DOI).
BARE = (
    f"TY  - JOUR\nID  - M1\nTI  - {TITLE}\nAU  - Mohamadnejad, M.\nPY  - 2013\n"
    "DO  - 10.1111/liv.12228\nER  -\n\n"
)
# A later round: the same paper, more complete (DOI, journal, pages, abstract), so it becomes the
# group's primary record when deduplicated.
FULL = (
    f"TY  - JOUR\nID  - E7\nTI  - {TITLE}\nAU  - Mohamadnejad, M.\nAU  - Vosough, M.\n"
    "PY  - 2013\nJO  - Liver International\nVL  - 33\nIS  - 10\nSP  - 1490\nEP  - 1496\n"
    "DO  - 10.1111/liv.12228\nAB  - Forty patients with decompensated cirrhosis were randomised.\n"
    "ER  -\n\n"
)
OTHER = "TY  - JOUR\nID  - M2\nTI  - Hepatocyte transplantation in mice\nPY  - 2011\nER  -\n\n"


def cli(db: str, *args: str) -> str:
    result = runner.invoke(app, [*args, "--db", db])
    assert result.exit_code == 0, (args, result.output)
    return result.stdout


def _review(tmp_path: Path) -> str:
    db = str(tmp_path / "r.db")
    first = tmp_path / "round1.ris"
    first.write_text(BARE + OTHER)
    cli(db, "init", "--title", "T", "--as", "alice")
    cli(db, "member", "add", "bob", "--role", "reviewer", "--as", "alice")
    cli(db, "member", "add", "carol", "--role", "adjudicator", "--as", "alice")
    cli(db, "import", str(first), "--source", "MEDLINE", "--as", "alice")
    return db


def _stats(db: str) -> dict[str, object]:
    return json.loads(cli(db, "screen", "stats", "--format", "json", "--as", "alice"))["tiab"]


def _queue(db: str, who: str) -> list[int]:
    from reviewtool.screening.service import screening_queue
    from reviewtool.storage import open_review

    review = open_review(f"sqlite:///{db}")
    try:
        with review.reading() as session:
            return screening_queue(session, actor=who, stage="tiab")
    finally:
        review.close()


def test_votes_survive_a_new_round_whose_copy_becomes_primary(tmp_path: Path) -> None:
    """The issue's fault: both reviewers exclude record 1; a second export brings a more complete
    copy (record 3) which becomes the primary. The exclusion must still hold for the paper."""
    db = _review(tmp_path)
    for who in ("alice", "bob"):
        cli(db, "screen", "decide", "1", "exclude", "--reason", "wrong population", "--as", who)
    assert _stats(db)["excluded"] == 1
    assert 1 not in _queue(db, "alice") and 1 not in _queue(db, "bob")

    second = tmp_path / "round2.ris"
    second.write_text(FULL)
    cli(db, "import", str(second), "--source", "Embase", "--as", "alice")
    cli(db, "dedup", "run", "--as", "alice")
    shown = json.loads(cli(db, "records", "show", "3", "--format", "json", "--as", "alice"))
    assert shown["duplicate_of"] is None  # the new, fuller copy is the group's primary

    stats = _stats(db)
    assert stats["references"] == 2  # the paper and the mouse study
    assert stats["excluded"] == 1  # still excluded: 1 -> 1, not 1 -> 0
    assert stats["excluded_by_reason"] == {"wrong population": 1}
    # The paper does not come back into either reviewer's queue under any id.
    assert _queue(db, "alice") == [2] and _queue(db, "bob") == [2]
    assert cli(db, "audit", "verify", "--as", "alice").startswith("Audit ledger verified")
