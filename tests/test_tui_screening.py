"""The screening screen, driven with textual's pilot: keys pressed, votes stored, blinding held."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from reviewtool import audit
from reviewtool.dedup.service import run_dedup
from reviewtool.domain import Role
from reviewtool.errors import InvalidInput
from reviewtool.importing.service import import_files
from reviewtool.members.service import add_member
from reviewtool.review.service import init_review, open_existing, set_setting
from reviewtool.screening.service import (
    record_decision,
    screening_queue,
    set_fulltext,
    unblind_stage,
)
from reviewtool.tui.screening import ScreeningApp, ScreeningScreen, load_keymap
from reviewtool.tui.widgets.citation import EXCLUDE_STYLE, INCLUDE_STYLE, highlight

TITLES = [
    "Mesenchymal stem cells for decompensated cirrhosis: a randomised trial",
    "Bone marrow stromal cells in rats with liver fibrosis",
    "Stem cell therapy for liver failure: a review",
    "Umbilical cord cells in hepatitis B cirrhosis, a controlled trial",
    "Autologous cells in primary biliary cholangitis: a case report",
]
SIZE = (100, 30)


def _ris(titles: list[str]) -> str:
    entries = []
    for n, title in enumerate(titles, start=1):
        entries.append(
            f"TY  - JOUR\nID  - R{n}\nAU  - Author{n}, A.\nAU  - Second, B.\nTI  - {title}\n"
            f"JO  - Journal of Hepatology\nPY  - {2010 + n}\nDO  - 10.1000/test.{n}\n"
            f"AB  - Abstract {n}. Patients were randomized; rats were not used in study {n}.\nER  - \n"
        )
    return "\n".join(entries)


@pytest.fixture(autouse=True)
def _no_user_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A developer's own ~/.config/reviewtool/keys.toml must not change what these tests press.
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


@pytest.fixture
def tiny_url(tmp_path: Path) -> str:
    """Five references, members alice (owner), bob (reviewer), carol (adjudicator)."""
    url = f"sqlite:///{tmp_path / 'tiny.db'}"
    review = init_review(
        url,
        title="Tiny review",
        owner="alice",
        question="P: adults with cirrhosis. I: mesenchymal stem cells. S: RCTs.",
    )
    ris = tmp_path / "tiny.ris"
    ris.write_text(_ris(TITLES), encoding="utf-8")
    with review.transaction() as session:
        add_member(session, actor="alice", name="bob", roles=[Role.REVIEWER])
        add_member(session, actor="alice", name="carol", roles=[Role.ADJUDICATOR])
        import_files(session, actor="alice", paths=[ris], source="Test")
        set_setting(
            session, actor="alice", key="screening.include_keywords", value="randomi;cirrhosis"
        )
        set_setting(session, actor="alice", key="screening.exclude_keywords", value="rats")
    with review.transaction() as session:
        run_dedup(session, actor="alice")  # flagging a duplicate needs a dedup run first
    review.close()
    return url


def _votes(
    url: str, stage: str = "tiab"
) -> dict[tuple[str, int], tuple[str, str | None, str | None]]:
    """(reviewer, record) -> (decision, reason, note) of the current votes."""
    from sqlmodel import col, select

    from reviewtool.storage.models import Member, ScreeningDecision

    review = open_existing(url)
    with review.reading() as session:
        names = dict(session.exec(select(Member.id, Member.name)).all())
        rows = session.exec(
            select(ScreeningDecision).where(
                ScreeningDecision.stage == stage, col(ScreeningDecision.superseded_at).is_(None)
            )
        ).all()
        out = {(names[r.member_id], r.record_id): (r.decision, r.reason, r.note) for r in rows}
    review.close()
    return out


def _queue(url: str, actor: str) -> list[int]:
    review = open_existing(url)
    with review.reading() as session:
        queue = screening_queue(session, actor=actor, stage="tiab")
    review.close()
    return queue


def _screen(app: ScreeningApp) -> ScreeningScreen:
    return app.screening


def _text(app: ScreeningApp, widget: str) -> str:
    return str(_screen(app).query_one(widget).render())


async def _answer(pilot: Pilot[None], text: str) -> None:
    """Fill the open prompt and press Enter (typing key by key only slows the test)."""
    pilot.app.screen.query_one(Input).value = text
    await pilot.press("enter")


def _shown(app: ScreeningApp) -> int | None:
    card = _screen(app).card
    return card.record_id if card else None


async def test_include_exclude_with_reason_and_maybe_are_stored(tiny_url: str) -> None:
    queue = _queue(tiny_url, "alice")
    app = ScreeningApp(tiny_url, "alice", "tiab")
    async with app.run_test(size=SIZE) as pilot:
        assert _shown(app) == queue[0]
        assert "mine 0 · left 5 · decided 0/5" in _text(app, "#status-counts")
        assert "Tiny review" in _text(app, "#status-title")
        await pilot.press("i")
        assert _shown(app) == queue[1]
        await pilot.press("e", "2")  # the second tiab reason: case report or letter
        await pilot.press("m")
        assert "mine 3 · left 2" in _text(app, "#status-counts")
    assert _votes(tiny_url) == {
        ("alice", queue[0]): ("include", None, None),
        ("alice", queue[1]): ("exclude", "case report or letter", None),
        ("alice", queue[2]): ("maybe", None, None),
    }


async def test_reason_picker_escape_cancels_and_zero_means_no_reason(tiny_url: str) -> None:
    queue = _queue(tiny_url, "alice")
    app = ScreeningApp(tiny_url, "alice", "tiab")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("e")
        assert "why?" in str(app.screen.query_one("Label").render())
        await pilot.press("escape")
        assert _votes(tiny_url) == {} and _shown(app) == queue[0]
        await pilot.press("e", "0")  # reasons are optional at tiab by default
    assert _votes(tiny_url) == {("alice", queue[0]): ("exclude", None, None)}


async def test_undo_skip_and_back(tiny_url: str) -> None:
    queue = _queue(tiny_url, "alice")
    app = ScreeningApp(tiny_url, "alice", "tiab")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("s")  # skip the first: it stays unvoted
        assert _shown(app) == queue[1]
        await pilot.press("i")
        assert _shown(app) == queue[2]
        await pilot.press("b")  # back to the one just voted on: its vote is shown
        assert _shown(app) == queue[1]
        assert "your vote: include" in _text(app, "#heading")
        await pilot.press("m")  # change it; the screen returns to the queue
        assert _shown(app) == queue[2]
        assert "mine 1" in _text(app, "#status-counts")
        await pilot.press("u")  # undo the change: include is back
        assert _shown(app) == queue[1]
        assert "your vote: include" in _text(app, "#heading")
        await pilot.press("s")  # back to the queue
        assert _shown(app) == queue[2]
        await pilot.press("i")
        assert "mine 2" in _text(app, "#status-counts")
        await pilot.press("u")  # undo a first vote: unvoted and on screen, in the queue again
        assert _shown(app) == queue[2]
        assert "mine 1" in _text(app, "#status-counts")
        assert "your vote" not in _text(app, "#heading")
    assert _votes(tiny_url) == {("alice", queue[1]): ("include", None, None)}
    assert _queue(tiny_url, "alice") == [q for q in queue if q != queue[1]]


async def test_note_goes_with_the_vote_and_can_be_added_after(tiny_url: str) -> None:
    queue = _queue(tiny_url, "alice")
    app = ScreeningApp(tiny_url, "alice", "tiab")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        await _answer(pilot, "check dose")
        assert "Note for your vote: check dose" in _text(app, "#card")
        await pilot.press("i")
        await pilot.press("b", "n")  # edit the note after voting
        await _answer(pilot, "ok")
    assert _votes(tiny_url) == {("alice", queue[0]): ("include", None, "ok")}


async def test_search_by_words_and_by_id(tiny_url: str) -> None:
    app = ScreeningApp(tiny_url, "alice", "tiab")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("slash")
        await _answer(pilot, "umbilical hepatitis")
        assert "Umbilical cord cells" in _text(app, "#card")
        found = _shown(app)
        await pilot.press("i")
        await pilot.press("slash")
        await _answer(pilot, "cells")  # several hits: a picker
        await pilot.press("2")
        assert _shown(app) is not None
        await pilot.press("slash")
        await _answer(pilot, "9999")  # an unknown id: a notification
        assert any("9999" in n.message for n in app._notifications)
    assert found is not None and _votes(tiny_url)[("alice", found)][0] == "include"
    assert found not in _queue(tiny_url, "alice")


async def test_restart_resumes_with_the_unvoted(tiny_url: str) -> None:
    queue = _queue(tiny_url, "alice")
    app = ScreeningApp(tiny_url, "alice", "tiab")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("i", "i", "q")
    again = ScreeningApp(tiny_url, "alice", "tiab")
    async with again.run_test(size=SIZE):
        assert _shown(again) == queue[2]
        assert "mine 2 · left 3" in _text(again, "#status-counts")


async def test_blinding_holds_on_screen(tiny_url: str) -> None:
    review = open_existing(tiny_url)
    target = _queue(tiny_url, "alice")[0]
    with review.transaction() as session:
        record_decision(
            session,
            actor="bob",
            record_id=target,
            stage="tiab",
            decision="exclude",
            reason="animal study",
            note="bob thinks rats",
        )
    review.close()
    app = ScreeningApp(tiny_url, "alice", "tiab")
    async with app.run_test(size=SIZE):
        assert _shown(app) == target
        shown = _text(app, "#heading") + _text(app, "#card")
        assert "bob" not in shown and "animal study" not in shown and "Other votes" not in shown
        assert "decided 0/5" in _text(app, "#status-counts")


async def test_other_votes_show_once_the_review_is_not_blind(tiny_url: str) -> None:
    review = open_existing(tiny_url)
    target = _queue(tiny_url, "alice")[0]
    with review.transaction() as session:
        set_setting(session, actor="alice", key="screening.blind", value="false")
        record_decision(session, actor="bob", record_id=target, stage="tiab", decision="include")
    review.close()
    app = ScreeningApp(tiny_url, "alice", "tiab")
    async with app.run_test(size=SIZE):
        assert "Other votes: bob: include" in _text(app, "#card")


async def test_access_refused_shows_and_writes_no_vote(tiny_url: str) -> None:
    for person in ("carol", "mallory"):  # an adjudicator may not screen; mallory is no member
        app = ScreeningApp(tiny_url, person, "tiab")
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("i", "e", "1", "m")
            messages = [n.message for n in app._notifications]
            assert any(person in m for m in messages)
            assert "not open to you" in _text(app, "#heading")
    assert _votes(tiny_url) == {}
    review = open_existing(tiny_url)
    with review.reading() as session:
        refused = [e.actor for e in audit.list_events(session, action="access-refused")]
    review.close()
    assert refused == ["carol", "mallory"]


async def test_flag_duplicate_and_criteria_panel(tiny_url: str) -> None:
    queue = _queue(tiny_url, "alice")
    app = ScreeningApp(tiny_url, "alice", "tiab")
    async with app.run_test(size=SIZE) as pilot:
        panel = _screen(app).query_one("#criteria")
        assert not panel.display  # narrow terminal: hidden until asked for
        await pilot.press("c")
        assert panel.display and "mesenchymal stem cells" in _text(app, "#criteria-text")
        await pilot.press("d")
        await _answer(pilot, f"{queue[1]} same trial")
    review = open_existing(tiny_url)
    with review.reading() as session:
        flags = audit.list_events(session, action="dedup-decision")
    review.close()
    assert [e.actor for e in flags] == ["alice"]


async def test_fulltext_stage_shows_the_location(tiny_url: str) -> None:
    first = _queue(tiny_url, "alice")[0]
    review = open_existing(tiny_url)
    with review.transaction() as session:
        for person in ("alice", "bob"):
            record_decision(
                session, actor=person, record_id=first, stage="tiab", decision="include"
            )
        set_fulltext(session, actor="alice", record_id=first, location="pdfs/first.pdf")
        # Full text opens to a reviewer once title/abstract is no longer blind (docs/blinding.md).
        unblind_stage(session, actor="alice", stage="tiab")
    review.close()
    app = ScreeningApp(tiny_url, "bob", "fulltext")
    async with app.run_test(size=SIZE) as pilot:
        assert _shown(app) == first
        assert "Full text: pdfs/first.pdf" in _text(app, "#card")
        await pilot.press("f")
        assert any("pdfs/first.pdf" in n.message for n in app._notifications)
        await pilot.press("e", "1")  # a reason is required at full text: 1 is insufficient data
    assert _votes(tiny_url, "fulltext") == {("bob", first): ("exclude", "insufficient data", None)}


async def test_keymap_file_is_honoured_and_shown_in_help(tiny_url: str, tmp_path: Path) -> None:
    keys = tmp_path / "keys.toml"
    keys.write_text('include = "y"\nexclude = ["x", "ctrl+x"]\nhelp = "h"\n', encoding="utf-8")
    queue = _queue(tiny_url, "alice")
    app = ScreeningApp(tiny_url, "alice", "tiab", keymap_path=keys)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("i")  # no longer bound
        await pilot.press("y")
        await pilot.press("x", "3")
        await pilot.press("h")
        rows = dict((what, keys) for keys, what in app.screen.rows)  # type: ignore[attr-defined]
        assert rows["Include the reference"] == "y"
        assert rows["List every key"] == "h"
        assert rows["Exclude it, then pick the reason by its number"].startswith("x, ")
    assert _votes(tiny_url) == {
        ("alice", queue[0]): ("include", None, None),
        ("alice", queue[1]): ("exclude", "review or meta-analysis", None),
    }


def test_user_keymap_found_in_config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "xdg"
    (config / "reviewtool").mkdir(parents=True)
    (config / "reviewtool" / "keys.toml").write_text('maybe = "?"\nhelp = "f1"\n')
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    from reviewtool.tui.screening import default_keymap_path

    keys = load_keymap(default_keymap_path())
    assert keys["maybe"] == "question_mark" and keys["help"] == "f1"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('includ = "y"\n', "unknown action 'includ'"),
        ("include = 'y\n", "not a valid TOML key file"),
        ("include = 3\n", "include must be a key or a list of keys"),
        ('include = "notakey"\n', "include = 'notakey' is not a key name"),
        ('include = "e"\n', "key 'e' is bound to both include and exclude"),
    ],
)
def test_bad_keymap_refused_before_start(
    tiny_url: str, tmp_path: Path, content: str, message: str
) -> None:
    keys = tmp_path / "keys.toml"
    keys.write_text(content, encoding="utf-8")
    with pytest.raises(InvalidInput) as caught:
        ScreeningApp(tiny_url, "alice", "tiab", keymap_path=keys)
    assert str(caught.value).startswith(f"{keys}: ") and message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_missing_keymap_file_refused(tiny_url: str, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="cannot read the key file"):
        ScreeningApp(tiny_url, "alice", "tiab", keymap_path=tmp_path / "nope.toml")


def test_keywords_highlighted_in_two_colours() -> None:
    text = highlight("Randomized trial in rats with cirrhosis", ["randomi", "cirrhosis"], ["rats"])
    marked = {(text.plain[s.start : s.end], str(s.style)) for s in text.spans}
    assert marked == {
        ("Randomized", INCLUDE_STYLE),
        ("cirrhosis", INCLUDE_STYLE),
        ("rats", EXCLUDE_STYLE),
    }


async def test_sample_review_at_80_by_24(sample_review_url: str) -> None:
    app = ScreeningApp(sample_review_url, "bob", "tiab")
    async with app.run_test(size=(80, 24)) as pilot:
        assert "left 604" in _text(app, "#status-counts")
        await pilot.press("question_mark")
        assert any("Take back your last vote" in what for _, what in app.screen.rows)  # type: ignore[attr-defined]
        await pilot.press("escape", "i")
    assert len(_votes(sample_review_url)) == 1


async def test_decided_count_follows_votes_and_undo(tiny_url: str) -> None:
    target = _queue(tiny_url, "alice")[0]
    review = open_existing(tiny_url)
    with review.transaction() as session:
        record_decision(session, actor="bob", record_id=target, stage="tiab", decision="include")
    review.close()
    app = ScreeningApp(tiny_url, "alice", "tiab")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("m")  # maybe counts as include: alice and bob agree, it is decided
        await pilot.pause()
        assert "mine 1 · left 4 · decided 1/5" in _text(app, "#status-counts")
        await pilot.press("b")  # decided now, so bob's vote may be shown
        assert "Other votes: bob: include" in _text(app, "#card")
        await pilot.press("u")
        await pilot.pause()
        assert "mine 0 · left 5 · decided 0/5" in _text(app, "#status-counts")
