"""``reviewtool rob STUDY``: assess one study (RoB 1) or one result (RoB 2) with single keys.

The domains are listed in the tool's order on the left, each with the assessor's current
judgement. On the right, the domain on screen: for RoB 1 its question and the Handbook's criteria
for Low / High / Unclear, and the support text; for RoB 2 its signalling questions (only those the
algorithm asks, given the answers so far), the guidance of the question under the cursor, and the
judgement the published algorithm gives, updated as each answer is recorded. Every key that
changes something is one committed transaction through ``rob.service`` (the same functions as
the CLI), so the screen shows what is stored.

Keys. RoB 1: ``l`` Low, ``u`` Unclear, ``h`` High. RoB 2: ``y`` Yes, ``p`` Probably yes, ``o``
Probably no, ``n`` No, ``i`` No information, ``a`` Not applicable; ``e`` switches the effect of
interest (assignment / adhering). Both: ``down``/``j`` and ``up``/``k`` move between questions
(RoB 2) or domains (RoB 1), ``right``/``tab`` and ``left`` between domains, ``s`` edits the
domain's support text, ``q`` quits. The assessor sees only their own judgements (blinding).
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Footer, Header, Static

from reviewtool.errors import ReviewtoolError
from reviewtool.review.service import open_existing
from reviewtool.rob import service as rob
from reviewtool.rob import tools
from reviewtool.storage import Review
from reviewtool.tui.widgets.modals import PromptScreen
from reviewtool.tui.widgets.ordered_keys import OrderedKeysApp, ask

ANSWER_KEYS = {"y": "Y", "p": "PY", "o": "PN", "n": "N", "i": "NI", "a": "NA"}
JUDGEMENT_KEYS = {"l": "Low", "u": "Unclear", "h": "High"}
STYLE = {
    "Low": "bold green",
    "Unclear": "bold yellow",
    "Some concerns": "bold yellow",
    "High": "bold red",
    "incomplete": "dim",
}


class RobApp(OrderedKeysApp):
    """The risk-of-bias assessment screen of one assessor for one study or result."""

    TITLE = "reviewtool · risk of bias"
    CSS = """
    #status { height: auto; padding: 0 1; background: $boost; }
    #body { height: 1fr; }
    #domains { width: 38; border: round $primary; padding: 0 1; }
    #detail { width: 1fr; border: round $primary; padding: 0 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        *(Binding(k, f"answer('{v}')", v, priority=True) for k, v in ANSWER_KEYS.items()),
        *(Binding(k, f"judge('{v}')", v, priority=True) for k, v in JUDGEMENT_KEYS.items()),
        Binding("e", "effect", "Effect", priority=True),
        Binding("down,j", "move(1)", "Next", priority=True),
        Binding("up,k", "move(-1)", "Previous", priority=True),
        Binding("right,tab", "domain(1)", "Next domain", priority=True),
        Binding("left", "domain(-1)", "Previous domain", priority=True),
        Binding("s", "support", "Support", priority=True),
        Binding("q", "quit", "Quit", priority=True),
    ]

    def __init__(
        self, url: str, actor: str, study: str, *, tool: str = rob.ROB1, result: str | None = None
    ) -> None:
        super().__init__()
        self.url = url
        self.actor = actor
        self.tool = rob.parse_tool(tool)
        self.result = rob.parse_result(result) if self.tool == rob.ROB2 else ""
        # Opened before the app runs: a missing review or study is one CLI line, not a screen.
        self.review: Review | None = open_existing(url)
        with self.review.reading() as session:
            self.study_id = rob.find_study(session, study)
            self.label = rob.study_labels(session)[self.study_id]
        self.domain_index = 0
        self.question_index = 0
        self.rows: dict[str, rob.JudgementView] = {}

    # --- what is shown ----------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="status")
        with Horizontal(id="body"):
            with VerticalScroll(id="domains"):
                yield Static(id="domain-list")
            with VerticalScroll(id="detail"):
                yield Static(id="domain-detail")
        yield Footer()

    def on_mount(self) -> None:
        self._reload()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The footer and the keys offer only the tool's own keys (RoB 1 judgements or RoB 2
        answers)."""
        if action in ("answer", "effect"):
            return self.tool == rob.ROB2
        if action == "judge":
            return self.tool == rob.ROB1
        return True

    def on_unmount(self) -> None:
        if self.review is not None:
            self.review.close()

    @property
    def preliminary(self) -> dict[str, str]:
        """The RoB 2 preliminary considerations recorded (effect of interest ...)."""
        row = self.rows.get(rob.PRELIMINARY)
        return dict(row.answers) if row is not None else {}

    def domain_keys(self) -> list[str]:
        """The domains in the tool's order (RoB 1 letters; RoB 2 codes D1-D5)."""
        if self.tool == rob.ROB1:
            return [d.id for d in tools.ROB1_DOMAINS]
        return list(tools.ROB2_DOMAIN_CODES)

    def rob2_domain(self) -> tools.Rob2Domain:
        """The RoB 2 domain on screen (domain 2 in the variant of the effect of interest)."""
        effect = self.preliminary.get("effect_of_interest") or tools.EFFECT_ASSIGNMENT
        return tools.rob2_domains(effect)[self.domain_index]

    def asked(self) -> list[tools.Question]:
        """The questions of the domain on screen that are asked, given the answers so far."""
        domain = self.rob2_domain()
        row = self.rows.get(domain.code)
        answers = {**self.preliminary, **(row.answers if row is not None else {})}
        return list(domain.asked(answers))

    def _reload(self) -> None:
        assert self.review is not None
        with self.review.reading() as session:
            views = rob.judgements(
                session,
                actor=self.actor,
                tool=self.tool,
                study=str(self.study_id),
                result=self.result or None,
                assessor=self.actor,
            )
        self.rows = {v.domain: v for v in views if not v.outcome_group}
        self._show()

    def _judgement_text(self, key: str) -> Text:
        row = self.rows.get(key)
        value = (row.judgement or row.algorithm) if row is not None else None
        value = value or "not judged"
        text = Text(value, style=STYLE.get(value, "dim"))
        if row is not None and row.justification:
            text.append(f" (override; algorithm: {row.algorithm})", style="italic")
        return text

    def _show(self) -> None:
        where = f"{self.label}" + (f" · result {self.result}" if self.result else "")
        status = Text(f"{where} · {self.tool.upper()} · assessor {self.actor}")
        if self.tool == rob.ROB2:
            status.append(" · overall: ")
            status.append_text(self._judgement_text(rob.OVERALL))
            effect = self.preliminary.get("effect_of_interest") or tools.EFFECT_ASSIGNMENT
            status.append(f" · effect of {effect}")
        self.query_one("#status", Static).update(status)
        listing = Text()
        for index, key in enumerate(self.domain_keys()):
            name = (
                tools.ROB1_DOMAIN_BY_ID[key].name
                if self.tool == rob.ROB1
                else tools.ROB2_DOMAIN_NAMES[key]
            )
            marker = "▶ " if index == self.domain_index else "  "
            listing.append(f"{marker}{key} {name}\n", style="bold" if marker.strip() else None)
            listing.append("    ")
            listing.append_text(self._judgement_text(key))
            listing.append("\n")
        self.query_one("#domain-list", Static).update(listing)
        detail = self._rob1_detail() if self.tool == rob.ROB1 else self._rob2_detail()
        self.query_one("#domain-detail", Static).update(detail)

    def _rob1_detail(self) -> Text:
        domain = tools.ROB1_DOMAINS[self.domain_index]
        row = self.rows.get(domain.id)
        out = Text(f"{domain.id}. {domain.label}\n", style="bold")
        out.append(f"{domain.question}\n\n")
        for word, criteria in (
            ("Low", domain.low),
            ("High", domain.high),
            ("Unclear", domain.unclear),
        ):
            out.append(f"{word} risk", style=STYLE[word])
            out.append(f" ({word[0].lower()}): {criteria}\n")
        out.append("\nYour judgement: ", style="bold")
        out.append_text(self._judgement_text(domain.id))
        out.append("\nSupport (s): ", style="bold")
        out.append((row.support if row is not None else "") or "—")
        return out

    def _rob2_detail(self) -> Text:
        domain = self.rob2_domain()
        row = self.rows.get(domain.code)
        answers = row.answers if row is not None else {}
        asked = self.asked()
        self.question_index = min(self.question_index, max(len(asked) - 1, 0))
        out = Text(f"{domain.code}. {domain.name}\n", style="bold")
        out.append("Judgement (algorithm): ", style="bold")
        out.append_text(self._judgement_text(domain.code))
        out.append("\n\n")
        for index, question in enumerate(asked):
            cursor = "▶ " if index == self.question_index else "  "
            given = answers.get(question.id, "·")
            out.append(f"{cursor}{question.id} ", style="bold" if cursor.strip() else None)
            out.append(f"[{given:>2}] ", style="bold cyan")
            out.append(f"{question.text}\n")
        if asked:
            current = asked[self.question_index]
            out.append("\nGuidance: ", style="bold")
            out.append(f"{current.guidance}\n")
            keys = [k for k, v in ANSWER_KEYS.items() if v in current.answers]
            out.append(
                "Answers: "
                + "  ".join(f"{k}={tools.ANSWER_LABELS[ANSWER_KEYS[k]]}" for k in keys)
                + "\n"
            )
        out.append("\nSupport (s): ", style="bold")
        out.append((row.support if row is not None else "") or "—")
        return out

    def screen_text(self) -> str:
        """The screen's text (status, domain list, domain detail), for tests and screenshots."""
        parts = [
            self.query_one("#status", Static).render(),
            self.query_one("#domain-list", Static).render(),
            self.query_one("#domain-detail", Static).render(),
        ]
        return "\n".join(str(p) for p in parts)

    # --- actions --------------------------------------------------------------------------------

    def _write(self, what: str, **kwargs: object) -> None:
        assert self.review is not None
        try:
            with self.review.transaction() as session:
                if what == "answer":
                    rob.answer(
                        session,
                        actor=self.actor,
                        study=str(self.study_id),
                        result=self.result,
                        **kwargs,  # type: ignore[arg-type]
                    )
                else:
                    rob.set_judgement(
                        session,
                        actor=self.actor,
                        study=str(self.study_id),
                        tool=self.tool,
                        result=self.result or None,
                        **kwargs,  # type: ignore[arg-type]
                    )
        except ReviewtoolError as exc:
            self.notify(str(exc), severity="error", timeout=8)
        self._reload()

    def action_answer(self, code: str) -> None:
        """Answer the RoB 2 question under the cursor, then move to the next asked question."""
        if self.tool != rob.ROB2:
            return
        asked = self.asked()
        if not asked:
            return
        question = asked[self.question_index]
        if code not in question.answers:
            self.notify(f"{question.id} does not take {code}", severity="warning")
            return
        self._write("answer", answers={question.id: code})
        self.question_index = min(self.question_index + 1, max(len(self.asked()) - 1, 0))
        self._show()

    def action_judge(self, value: str) -> None:
        """Judge the RoB 1 domain on screen (Low / Unclear / High) and go to the next one."""
        if self.tool != rob.ROB1:
            return
        key = self.domain_keys()[self.domain_index]
        self._write("set", domain=key, judgement=value)
        self.domain_index = min(self.domain_index + 1, len(self.domain_keys()) - 1)
        self._show()

    def action_effect(self) -> None:
        """Switch the RoB 2 effect of interest (assignment <-> adhering; domain 2's variant)."""
        if self.tool != rob.ROB2:
            return
        now = self.preliminary.get("effect_of_interest") or tools.EFFECT_ASSIGNMENT
        other = tools.EFFECT_ADHERING if now == tools.EFFECT_ASSIGNMENT else tools.EFFECT_ASSIGNMENT
        self._write("answer", answers={"effect_of_interest": other})

    def action_move(self, step: int) -> None:
        """Next / previous question (RoB 2) or domain (RoB 1)."""
        if self.tool == rob.ROB1:
            self.action_domain(step)
            return
        count = len(self.asked())
        self.question_index = max(0, min(self.question_index + step, count - 1))
        self._show()

    def action_domain(self, step: int) -> None:
        """Next / previous domain."""
        self.domain_index = (self.domain_index + step) % len(self.domain_keys())
        self.question_index = 0
        self._show()

    def action_support(self) -> None:
        """Edit the support text of the domain on screen."""
        key = self.domain_keys()[self.domain_index]
        row = self.rows.get(key)

        def save(text: str | None) -> None:
            if text is None:
                return
            if self.tool == rob.ROB2:
                self._write("answer", answers={}, support={key: text})
            elif row is None or row.judgement is None:
                self.notify("judge the domain first (l, u, h)", severity="warning")
            else:
                self._write("set", domain=key, judgement=row.judgement, support=text)

        ask(
            self,
            PromptScreen(
                f'Support for judgement, {key} (Quote: "..." / Comment: ...)',
                value=row.support if row is not None else "",
            ),
            save,
        )
