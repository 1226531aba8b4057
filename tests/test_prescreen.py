"""Removal before screening (`screen remove` / `screen restore`, issue 13): references removed in
bulk by publication type, title words or a list leave the screening queues, take no vote, are
counted in PRISMA 2020's "Records removed for other reasons" box with their reason (not among the
title/abstract exclusions), are audited, and come back with `screen restore`."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from typer.testing import CliRunner

from reviewtool.cli import app

runner = CliRunner()


def _ris(ident: str, title: str, ptype: str) -> str:
    return f"TY  - JOUR\nID  - {ident}\nTI  - {title}\nM3  - {ptype}\nPY  - 2020\nER  -\n\n"


RECORDS = (
    _ris("R1", "Mesenchymal stem cells in decompensated cirrhosis: a randomised trial", "Article"),
    _ris("R2", "Bone marrow cells in cirrhotic rats", "Article"),
    _ris("R3", "Stem cell therapy for liver failure: a review", "Review"),
    _ris("R4", "Umbilical cord cells in ACLF", "Conference Abstract"),
    _ris("R5", "Hepatocyte transplantation in mice with liver fibrosis", "Article"),
    _ris("R6", "Cord blood cells for hepatitis B failure: a randomised trial", "Article"),
)


def run(db: str, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, [*args, "--db", db])
    return result.exit_code, result.stdout, result.stderr


def ok(db: str, *args: str) -> str:
    code, out, err = run(db, *args)
    assert code == 0, (args, out, err)
    return out


def _review(tmp_path: Path) -> str:
    db = str(tmp_path / "r.db")
    export = tmp_path / "search.ris"
    export.write_text("".join(RECORDS), encoding="utf-8")
    ok(db, "init", "--title", "T", "--as", "alice")
    ok(db, "member", "add", "bob", "--role", "reviewer", "--as", "alice")
    ok(db, "member", "add", "carol", "--role", "reviewer", "--as", "alice")
    ok(db, "import", str(export), "--source", "MEDLINE", "--as", "alice")
    return db


def _queue(db: str, who: str) -> list[int]:
    from reviewtool.screening.service import screening_queue
    from reviewtool.storage import open_review

    review = open_review(f"sqlite:///{db}")
    try:
        with review.reading() as session:
            return sorted(screening_queue(session, actor=who, stage="tiab"))
    finally:
        review.close()


def _prisma(db: str) -> dict[str, object]:
    return json.loads(ok(db, "report", "prisma", "--format", "json", "--as", "alice"))


def test_remove_by_publication_type_and_title_words_leaves_queues_and_counts_apart(
    tmp_path: Path,
) -> None:
    db = _review(tmp_path)
    assert _queue(db, "bob") == [1, 2, 3, 4, 5, 6]
    out = ok(db, "screen", "remove", "--reason", "review", "--publication-type", "review",
             "--as", "alice")  # fmt: skip
    assert "Removed 1 reference before screening (review): 3." in out
    out = ok(db, "screen", "remove", "--reason", "animal study", "--title-word", "rats",
             "--title-word", "mice", "--as", "alice")  # fmt: skip
    assert "Removed 2 references before screening (animal study): 2, 5." in out
    assert _queue(db, "bob") == [1, 4, 6]
    assert _queue(db, "carol") == [1, 4, 6]
    # Both filters given must match: "Conference Abstract" and "cord" -> record 4 only.
    ok(db, "screen", "remove", "--reason", "meeting abstract", "--publication-type",
       "conference abstract", "--title-word", "cord", "--as", "alice")  # fmt: skip
    assert _queue(db, "bob") == [1, 6]
    for who in ("bob", "carol"):
        ok(db, "screen", "decide", "1", "include", "--as", who)
        ok(db, "screen", "decide", "6", "exclude", "--reason", "not an RCT", "--as", who)
    counts = _prisma(db)
    assert (counts["identified"], counts["duplicates_removed"]) == (6, 0)
    assert counts["removed_by_reason"] == {"animal study": 2, "meeting abstract": 1, "review": 1}
    # Not folded into the title/abstract exclusions: 6 - 0 - 4 = 2 screened, 1 excluded there.
    assert (counts["removed_other"], counts["records_screened"], counts["records_excluded"]) == (
        4, 2, 1,
    )  # fmt: skip
    stats = json.loads(ok(db, "screen", "stats", "--format", "json", "--as", "alice"))["tiab"]
    assert (stats["references"], stats["excluded"]) == (2, 1)
    status = json.loads(ok(db, "status", "--format", "json", "--as", "alice"))
    assert status["stages"]["removal before screening"] == {"records removed for other reasons": 4}
    assert ok(db, "audit", "verify", "--as", "alice")


def test_remove_from_a_list_dry_run_and_restore(tmp_path: Path) -> None:
    db = _review(tmp_path)
    ids = tmp_path / "ids.csv"
    ids.write_text("reference_id\n2\n5\n", encoding="utf-8")
    out = ok(db, "screen", "remove", "--reason", "animal study", "--file", str(ids), "--dry-run",
             "--as", "alice")  # fmt: skip
    assert "Would remove 2 references" in out
    assert _queue(db, "bob") == [1, 2, 3, 4, 5, 6]  # nothing written
    ok(db, "screen", "remove", "--reason", "animal study", "--file", str(ids), "--as", "alice")
    out = ok(db, "screen", "remove", "--reason", "animal study", "--title-word", "rats", "--as",
             "alice")  # fmt: skip
    assert "Removed 0 references" in out and "1 matched references were removed already: 2" in out
    assert _queue(db, "bob") == [1, 3, 4, 6]
    # A removed reference takes no vote (one line naming it and the way back).
    code, _, err = run(db, "screen", "decide", "5", "exclude", "--reason", "not an RCT",
                       "--as", "bob")  # fmt: skip
    assert code != 0
    assert err.strip().splitlines() == [
        "reviewtool: error: reference 5 was removed before screening (animal study); an owner "
        "brings it back with `reviewtool screen restore --reference 5`"
    ]
    out = ok(db, "screen", "restore", "--reference", "5", "--as", "alice")
    assert "Restored 1 reference: 5." in out
    assert _queue(db, "bob") == [1, 3, 4, 5, 6]
    ok(db, "screen", "restore", "--reason", "animal study", "--as", "alice")
    assert _queue(db, "bob") == [1, 2, 3, 4, 5, 6]
    assert _prisma(db)["removed_other"] == 0
    log = json.loads(ok(db, "audit", "log", "--format", "json", "--as", "alice"))
    events = [e for e in log if e["action"] == "references-removed"]
    assert [(e["payload"]["change"], e["payload"]["references"]) for e in events] == [
        ("remove", [2, 5]),
        ("restore", [5]),
        ("restore", [2]),
    ]
    assert ok(db, "audit", "verify", "--as", "alice")


def test_refusals_are_one_line_and_write_nothing(tmp_path: Path) -> None:
    db = _review(tmp_path)
    ok(db, "screen", "decide", "2", "exclude", "--reason", "not an RCT", "--as", "bob")
    cases = [
        (("--reason", "animal study", "--as", "bob", "--title-word", "rats"),
         "may not remove references before screening: that needs the role owner"),
        (("--reason", "animal study", "--as", "alice"), "say which references to remove"),
        (("--reason", " ", "--title-word", "rats", "--as", "alice"), "say why"),
        (("--reason", "x", "--title-word", "zebrafish", "--as", "alice"), "no reference matches"),
        (("--reason", "animal study", "--title-word", "rats", "--title-word", "mice", "--as",
          "alice"), "1 of the matched references have screening votes (2)"),
    ]  # fmt: skip
    bad = tmp_path / "bad.csv"
    bad.write_text("reference_id\n3\nthree\n", encoding="utf-8")
    cases.append((("--reason", "x", "--file", str(bad), "--as", "alice"), f"{bad}:3: 'three'"))
    missing = tmp_path / "missing.csv"
    missing.write_text("reference_id\n99\n", encoding="utf-8")
    cases.append((("--reason", "x", "--file", str(missing), "--as", "alice"), "no reference 99"))
    for args, words in cases:
        code, _, err = run(db, "screen", "remove", *args)
        assert code != 0, args
        lines = err.strip().splitlines()
        assert len(lines) == 1 and words in lines[0], (args, lines)
    assert _prisma(db)["removed_other"] == 0
    conn = sqlite3.connect(tmp_path / "r.db")
    assert conn.execute("SELECT count(*) FROM prescreen_removal").fetchone() == (0,)
    conn.close()


def test_a_removal_follows_its_reference_through_a_merge_and_split(tmp_path: Path) -> None:
    """Records never change: a removal named by a reference's first record stays with the
    reference that record is in after a merge (the merged reference keeps the smaller id), and
    with its own reference again after the split."""
    from reviewtool.dedup.service import decide_pair, undo_group
    from reviewtool.screening.prescreen import removed_references
    from reviewtool.storage import open_review

    db = _review(tmp_path)
    ok(db, "dedup", "run", "--as", "alice")
    ok(db, "screen", "remove", "--reason", "animal study", "--title-word", "mice", "--as", "alice")
    review = open_review(f"sqlite:///{db}")
    try:
        with review.reading() as session:
            assert removed_references(session) == {5: "animal study"}
        with review.transaction() as session:
            decide_pair(session, actor="alice", decision="confirm", records=(2, 5))
        with review.reading() as session:
            assert removed_references(session) == {2: "animal study"}
        with review.transaction() as session:
            undo_group(session, actor="alice", group_id=2)
        with review.reading() as session:
            assert removed_references(session) == {5: "animal study"}
    finally:
        review.close()
    assert _queue(db, "bob") == [1, 2, 3, 4, 6]
    assert ok(db, "audit", "verify", "--as", "alice")


def test_the_screening_search_does_not_find_removed_references(tmp_path: Path) -> None:
    from reviewtool.screening.service import search_references
    from reviewtool.storage import open_review

    db = _review(tmp_path)
    review = open_review(f"sqlite:///{db}")
    try:
        with review.reading() as session:
            assert search_references(session, actor="bob", stage="tiab", text="cells") == [
                1,
                2,
                4,
                6,
            ]
        ok(
            db,
            "screen",
            "remove",
            "--reason",
            "animal study",
            "--title-word",
            "rats",
            "--as",
            "alice",
        )
        with review.reading() as session:
            assert search_references(session, actor="bob", stage="tiab", text="cells") == [1, 4, 6]
    finally:
        review.close()
