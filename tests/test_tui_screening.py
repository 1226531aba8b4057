"""The screening screen, driven with textual's pilot: keys pressed, votes stored, blinding held."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input
from tui_keys import burst, keys_of, paste, settle

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
    return make_tiny_review(tmp_path)


def make_tiny_review(tmp_path: Path) -> str:
    """The ``tiny_url`` review, for other test modules."""
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
        assert _text(app, "#status-counts") == "0/5 voted ░░░░░░░░░░ 0% "
        assert "Tiny review" in _text(app, "#status-title")
        await pilot.press("i")
        assert _shown(app) == queue[1]
        await pilot.press("e", "2")  # the second tiab reason: case report or letter
        await pilot.press("m")
        assert _text(app, "#status-counts") == "3/5 voted ██████░░░░ 60% "
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
        assert "1/5 voted" in _text(app, "#status-counts")
        await pilot.press("u")  # undo the change: include is back
        assert _shown(app) == queue[1]
        assert "your vote: include" in _text(app, "#heading")
        await pilot.press("s")  # back to the queue
        assert _shown(app) == queue[2]
        await pilot.press("i")
        assert "2/5 voted" in _text(app, "#status-counts")
        await pilot.press("u")  # undo a first vote: unvoted and on screen, in the queue again
        assert _shown(app) == queue[2]
        assert "1/5 voted" in _text(app, "#status-counts")
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
        assert "2/5 voted" in _text(again, "#status-counts")


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
        assert "0/5 voted" in _text(app, "#status-counts")


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
        assert "0/604 voted" in _text(app, "#status-counts")
        await pilot.press("question_mark")
        assert any("Take back your last vote" in what for _, what in app.screen.rows)  # type: ignore[attr-defined]
        await pilot.press("escape", "i")
    assert len(_votes(sample_review_url)) == 1


async def _status_after_maybe(url: str, bob_votes: str) -> list[str]:
    """alice's status line before and after her vote, and after undoing it, with bob's vote given."""
    target = _queue(url, "alice")[0]
    review = open_existing(url)
    with review.transaction() as session:
        record_decision(session, actor="bob", record_id=target, stage="tiab", decision=bob_votes)
    review.close()
    app = ScreeningApp(url, "alice", "tiab")
    seen = []
    async with app.run_test(size=SIZE) as pilot:
        seen.append(_text(app, "#status-counts"))
        await pilot.press("m")
        await pilot.pause()
        seen.append(_text(app, "#status-counts"))
        await pilot.press("u")
        await pilot.pause()
        seen.append(_text(app, "#status-counts"))
    return seen


async def test_progress_is_own_votes_only_whatever_the_other_voted(
    tiny_url: str, tmp_path: Path
) -> None:
    """The status line is the reviewer's own progress as a bar and a percentage; it is the same
    whether the other reviewer agreed (the reference is then decided) or not (issue 9: a
    "decided" count that rose after a vote gave the other reviewer's vote away)."""
    import shutil

    other = tmp_path / "other.db"
    shutil.copy(tiny_url.removeprefix("sqlite:///"), other)
    agreed = await _status_after_maybe(tiny_url, "include")
    disagreed = await _status_after_maybe(f"sqlite:///{other}", "exclude")
    assert (
        agreed
        == disagreed
        == [
            "0/5 voted ░░░░░░░░░░ 0% ",
            "1/5 voted ██░░░░░░░░ 20% ",
            "0/5 voted ░░░░░░░░░░ 0% ",
        ]
    )


def test_progress_bar_rounds_down() -> None:
    from reviewtool.tui.screening import progress_text

    assert progress_text(2, 3).plain == "2/3 voted ██████░░░░ 66% "
    assert progress_text(603, 604).plain == "603/604 voted █████████░ 99% "
    assert progress_text(604, 604).plain == "604/604 voted ██████████ 100% "
    assert progress_text(0, 0).plain == "0/0 voted ░░░░░░░░░░ 0% "


# ---- keys typed back to back (issue 9 item 1: a key meant for the screen never lands in a
# closed input, and no vote is lost) ----------------------------------------------------------


def _record_titled(url: str, start: str) -> int:
    from sqlmodel import select

    from reviewtool.storage.models import Record

    review = open_existing(url)
    with review.reading() as session:
        ids = [
            r.id for r in session.exec(select(Record)).all() if (r.title or "").startswith(start)
        ]
    review.close()
    assert len(ids) == 1 and ids[0] is not None
    return ids[0]


def _on_top(app: ScreeningApp) -> str:
    return type(app.screen).__name__


async def test_note_enter_then_vote_back_to_back_keeps_both(tiny_url: str) -> None:
    """The issue's example: n, the note, Enter and i arrive together; the note goes with the vote."""
    queue = _queue(tiny_url, "alice")
    app = ScreeningApp(tiny_url, "alice", "tiab")
    async with app.run_test(size=SIZE) as pilot:
        burst(app, "n", *keys_of("check dose"), "enter", "i")
        await settle(pilot)
        assert _on_top(app) == "ScreeningScreen" and _shown(app) == queue[1]
        assert "1/5 voted" in _text(app, "#status-counts")
    assert _votes(tiny_url) == {("alice", queue[0]): ("include", None, "check dose")}


async def test_note_after_voting_then_more_votes_back_to_back(tiny_url: str) -> None:
    """A note edited on a voted reference (saved at once), then votes on the next two."""
    queue = _queue(tiny_url, "alice")
    app = ScreeningApp(tiny_url, "alice", "tiab")
    async with app.run_test(size=SIZE) as pilot:
        burst(app, "i", "b", "n", "backspace", *keys_of("ok"), "enter", "s", "m", "e", "3")
        await settle(pilot)
        assert _on_top(app) == "ScreeningScreen"
    assert _votes(tiny_url) == {
        ("alice", queue[0]): ("include", None, "ok"),
        ("alice", queue[1]): ("maybe", None, None),
        ("alice", queue[2]): ("exclude", "review or meta-analysis", None),
    }


async def test_note_escape_then_vote_back_to_back(tiny_url: str) -> None:
    queue = _queue(tiny_url, "alice")
    app = ScreeningApp(tiny_url, "alice", "tiab")
    async with app.run_test(size=SIZE) as pilot:
        burst(app, "n", *keys_of("never mind"), "escape", "m")
        await settle(pilot)
    assert _votes(tiny_url) == {("alice", queue[0]): ("maybe", None, None)}


async def test_pasted_note_then_vote_back_to_back(tiny_url: str) -> None:
    queue = _queue(tiny_url, "alice")
    app = ScreeningApp(tiny_url, "alice", "tiab")
    async with app.run_test(size=SIZE) as pilot:
        burst(app, "n")
        paste(app, "pasted from the protocol")
        burst(app, "enter", "i")
        await settle(pilot)
    assert _votes(tiny_url) == {("alice", queue[0]): ("include", None, "pasted from the protocol")}


async def test_reason_number_and_next_votes_back_to_back(tiny_url: str) -> None:
    """e then the reason's number then votes on the next references, all at once."""
    queue = _queue(tiny_url, "alice")
    app = ScreeningApp(tiny_url, "alice", "tiab")
    async with app.run_test(size=SIZE) as pilot:
        burst(app, "e", "2", "i", "e", "escape", "m", "e", "down", "down", "enter")
        await settle(pilot)
        assert _on_top(app) == "ScreeningScreen"
    assert _votes(tiny_url) == {
        ("alice", queue[0]): ("exclude", "case report or letter", None),
        ("alice", queue[1]): ("include", None, None),
        ("alice", queue[2]): ("maybe", None, None),
        # the picker opens on "no reason"; two rows down is the second reason
        ("alice", queue[3]): ("exclude", "case report or letter", None),
    }


async def test_search_picker_then_vote_back_to_back(tiny_url: str) -> None:
    bone = _record_titled(tiny_url, "Bone marrow stromal cells")
    cord = _record_titled(tiny_url, "Umbilical cord cells")
    app = ScreeningApp(tiny_url, "alice", "tiab")
    async with app.run_test(size=SIZE) as pilot:
        # "cells" is in four titles, by record id: mesenchymal, bone marrow, umbilical, autologous
        burst(app, "slash", *keys_of("cells"), "enter", "2", "i")
        burst(app, "slash", *keys_of(str(cord)), "enter", "e", "1")
        await settle(pilot)
        assert _on_top(app) == "ScreeningScreen"
    assert _votes(tiny_url) == {
        ("alice", bone): ("include", None, None),
        ("alice", cord): ("exclude", "animal study", None),
    }


async def test_flag_duplicate_then_vote_back_to_back(tiny_url: str) -> None:
    from reviewtool.dedup.service import review_queue

    queue = _queue(tiny_url, "alice")
    app = ScreeningApp(tiny_url, "alice", "tiab")
    async with app.run_test(size=SIZE) as pilot:
        burst(app, "d", *keys_of(f"{queue[1]} same trial"), "enter", "i")
        await settle(pilot)
    assert _votes(tiny_url) == {("alice", queue[0]): ("include", None, None)}
    review = open_existing(tiny_url)
    with review.reading() as session:
        pairs = [{p.a["record_id"], p.b["record_id"]} for p in review_queue(session)]
    review.close()
    assert {queue[0], queue[1]} in pairs


async def test_help_closed_then_vote_back_to_back(tiny_url: str) -> None:
    queue = _queue(tiny_url, "alice")
    app = ScreeningApp(tiny_url, "alice", "tiab")
    async with app.run_test(size=SIZE) as pilot:
        burst(app, "question_mark", "q", "i", "question_mark", "escape", "m")
        await settle(pilot)
        assert _on_top(app) == "ScreeningScreen" and app.is_running
    assert _votes(tiny_url) == {
        ("alice", queue[0]): ("include", None, None),
        ("alice", queue[1]): ("maybe", None, None),
    }


# ---- what a screener expects (issue 9 item 7) ------------------------------------------------


def _key_line(app: ScreeningApp) -> str:
    return " ".join(_text(app, "#keys").split())


@pytest.mark.parametrize(
    ("size", "line"),
    [
        ((80, 24), "i Include e Exclude m Maybe n Note u Undo s Skip b Back ? Help +5 more"),
        (
            (140, 45),
            "i Include e Exclude m Maybe n Note u Undo s Skip b Back / Search c Criteria "
            "d Duplicate q Quit f Full text ? Help",
        ),
    ],
)
async def test_key_line_shows_every_key_that_fits(
    tiny_url: str, size: tuple[int, int], line: str
) -> None:
    app = ScreeningApp(tiny_url, "alice", "tiab")
    async with app.run_test(size=size) as pilot:
        assert _key_line(app) == line
        await pilot.press("question_mark")  # the rest are in help, with every other key
        listed = {keys for keys, _ in app.screen.rows}  # type: ignore[attr-defined]
    assert {"b", "/", "c", "d", "q", "?", "f"} <= listed


def test_key_line_fits_and_counts_the_rest() -> None:
    from reviewtool.tui.widgets.keybar import key_line

    entries = [("i", "Include"), ("e", "Exclude"), ("q", "Quit")]
    # " i Include " is 11 cells, " e Exclude " 11, " q Quit " 8, " ? Help " 8, " ? Help +2 more " 16
    assert key_line(entries, ("?", "Help"), 38).plain == " i Include  e Exclude  q Quit  ? Help "
    assert key_line(entries, ("?", "Help"), 37).plain == " i Include  ? Help +2 more "
    assert key_line(entries, ("?", "Help"), 26).plain == " ? Help +3 more "


async def test_key_line_follows_the_keymap_and_the_stage(tiny_url: str, tmp_path: Path) -> None:
    keys = tmp_path / "keys.toml"
    keys.write_text('include = "y"\nhelp = "f1"\n', encoding="utf-8")
    app = ScreeningApp(tiny_url, "alice", "fulltext", keymap_path=keys)
    async with app.run_test(size=(80, 24)):
        assert _key_line(app).startswith("y Include e Exclude m Maybe n Note f Full text")
        assert _key_line(app).endswith("u Undo f1 Help +6 more")


async def test_search_picker_counts_all_hits_keeps_whole_titles_and_marks_own_votes(
    tiny_url: str,
) -> None:
    mesenchymal = _record_titled(tiny_url, "Mesenchymal stem cells")
    bone = _record_titled(tiny_url, "Bone marrow stromal cells")
    review = open_existing(tiny_url)
    with review.transaction() as session:
        record_decision(
            session, actor="alice", record_id=mesenchymal, stage="tiab", decision="include"
        )
        record_decision(
            session,
            actor="bob",
            record_id=bone,
            stage="tiab",
            decision="exclude",
            reason="animal study",
        )
    review.close()
    app = ScreeningApp(tiny_url, "alice", "tiab")
    async with app.run_test(size=(80, 24)) as pilot:
        burst(app, "slash", *keys_of("cells"), "enter")
        await settle(pilot)
        picker = app.screen
        assert picker.title_text == "4 references have all of: cells"  # type: ignore[attr-defined]
        options = [str(o) for o in picker.options]  # type: ignore[attr-defined]
    assert options == [
        f"#{mesenchymal} {TITLES[0]}  ✓ your vote: include",
        f"#{bone} {TITLES[1]}",  # bob's exclude is not alice's to see
        f"#{_record_titled(tiny_url, 'Umbilical')} {TITLES[3]}",
        f"#{_record_titled(tiny_url, 'Autologous')} {TITLES[4]}",
    ]


async def test_search_picker_says_how_many_beyond_the_first_fifty(sample_review_url: str) -> None:
    from reviewtool.screening.service import search_references

    review = open_existing(sample_review_url)
    with review.reading() as session:
        total = len(search_references(session, actor="bob", stage="tiab", text="the", limit=10**6))
    review.close()
    assert total > 50
    app = ScreeningApp(sample_review_url, "bob", "tiab")
    async with app.run_test(size=(80, 24)) as pilot:
        burst(app, "slash", *keys_of("the"), "enter")
        await settle(pilot)
        assert app.screen.title_text == (  # type: ignore[attr-defined]
            f"{total} references have all of: the (the first 50 by record id; add words to narrow)"
        )
        assert len(app.screen.options) == 50  # type: ignore[attr-defined]


@pytest.fixture
def fulltext_url(tiny_url: str, tmp_path: Path) -> tuple[str, int]:
    """The first reference included at title/abstract by alice (with a note) and bob, its full
    text a PDF in pdfs/ next to the review."""
    first = _queue(tiny_url, "alice")[0]
    (tmp_path / "pdfs").mkdir()
    (tmp_path / "pdfs" / "first.pdf").write_bytes(b"%PDF-1.4\n")
    review = open_existing(tiny_url)
    with review.transaction() as session:
        record_decision(
            session,
            actor="alice",
            record_id=first,
            stage="tiab",
            decision="include",
            note="check the dose arm",
        )
        record_decision(session, actor="bob", record_id=first, stage="tiab", decision="maybe")
        set_fulltext(session, actor="alice", record_id=first, location="pdfs/first.pdf")
        # Full text opens to a reviewer once title/abstract is no longer blind (docs/blinding.md).
        unblind_stage(session, actor="alice", stage="tiab")
    review.close()
    return tiny_url, first


async def test_fulltext_key_opens_the_file_with_the_system_opener(
    fulltext_url: tuple[str, int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reviewtool.tui.widgets import opener

    launched: list[tuple[list[str], str]] = []
    monkeypatch.setattr(opener, "system_opener", lambda: ["/usr/bin/xdg-open"])
    monkeypatch.setattr(opener, "launch", lambda cmd, target: launched.append((cmd, target)))
    url, first = fulltext_url
    app = ScreeningApp(url, "bob", "fulltext")
    async with app.run_test(size=SIZE) as pilot:
        assert _shown(app) == first
        await pilot.press("f")
        messages = [n.message for n in app._notifications]
    pdf = str((tmp_path / "pdfs" / "first.pdf").resolve())
    assert launched == [(["/usr/bin/xdg-open"], pdf)]
    assert messages[-1] == f"Opening {pdf}"


async def test_fulltext_key_says_where_it_is_without_an_opener(
    fulltext_url: tuple[str, int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reviewtool.tui.widgets import opener

    launched: list[str] = []
    monkeypatch.setattr(opener, "system_opener", lambda: None)  # e.g. over SSH
    monkeypatch.setattr(opener, "launch", lambda cmd, target: launched.append(target))
    url, _ = fulltext_url
    app = ScreeningApp(url, "bob", "fulltext")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f")
        messages = [n.message for n in app._notifications]
    pdf = (tmp_path / "pdfs" / "first.pdf").resolve()
    assert launched == [] and messages[-1] == (
        f"No program to open it here; the full text is at {pdf}"
    )


def test_open_location_urls_missing_files_and_failing_openers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reviewtool.tui.widgets import opener

    launched: list[str] = []
    monkeypatch.setattr(opener, "system_opener", lambda: ["open"])
    monkeypatch.setattr(opener, "launch", lambda cmd, target: launched.append(target))
    doi = "https://doi.org/10.1000/test.1"
    assert opener.open_location(doi, tmp_path) == opener.Opening(True, doi, f"Opening {doi}")
    missing = opener.open_location("pdfs/none.pdf", tmp_path)
    assert not missing.opened
    assert (
        missing.message == f"The full text file pdfs/none.pdf is not found here or in {tmp_path}."
    )
    assert launched == [doi]

    def broken(cmd: list[str], target: str) -> None:
        raise FileNotFoundError(2, "No such file or directory")

    monkeypatch.setattr(opener, "launch", broken)
    failed = opener.open_location(doi, None)
    assert not failed.opened and failed.message.startswith("open could not open it (")
    assert failed.message.endswith(f"the full text is at {doi}")


def test_system_opener_needs_a_graphical_session_on_linux(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from reviewtool.tui.widgets import opener

    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr(opener.os, "name", "posix")
    monkeypatch.setattr(opener.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert opener.system_opener() is None
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    assert opener.system_opener() == ["/usr/bin/xdg-open"]
    monkeypatch.setattr(sys, "platform", "darwin")
    assert opener.system_opener() == ["/usr/bin/open"]


async def test_own_title_abstract_note_is_shown_again_at_full_text(
    fulltext_url: tuple[str, int],
) -> None:
    url, first = fulltext_url
    app = ScreeningApp(url, "alice", "fulltext")
    async with app.run_test(size=SIZE):
        assert _shown(app) == first
        assert "Your title/abstract vote: include · note: check the dose arm" in _text(app, "#card")
    other = ScreeningApp(url, "bob", "fulltext")
    async with other.run_test(size=SIZE):
        card = _text(other, "#card")
        assert "Your title/abstract vote: maybe" in card
        assert "check the dose arm" not in card  # alice's note is hers


async def test_prompt_editing_keys_in_order_and_ctrl_q_still_quits(tiny_url: str) -> None:
    """Editing keys in a dialog run in the order typed too; keys the dialog has no use for
    (ctrl+q) reach the app."""
    queue = _queue(tiny_url, "alice")
    app = ScreeningApp(tiny_url, "alice", "tiab")
    async with app.run_test(size=SIZE) as pilot:
        burst(app, "n", *keys_of("dose"), "home", *keys_of("check "), "end", "backspace", "enter")
        burst(app, "i", "n", *keys_of("unsent"), "ctrl+q")
        await settle(pilot)
    assert not app.is_running
    assert _votes(tiny_url) == {("alice", queue[0]): ("include", None, "check dos")}
