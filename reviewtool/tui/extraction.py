"""``reviewtool extract STUDY``: the extraction form of one study, for one extractor.

The screen lists the form's places in the form's order (``Form.order``): the study fields, then the
arm fields as a grid (one column per arm), then each outcome as an arm × time-point grid (a row per
time point; per arm the outcome's statistics: mean, SD, n or events, total). Tab / Shift-Tab (and
down / up) move the cursor cell by cell in that order. Above the form are the study's reports and
where they are (``FullTextReport.location``); under it, the cell under the cursor: what it takes
(type, unit, range, choices), the extractor's value with its provenance, and the consensus value.

A value is entered with its provenance: the **source kind** (reported, converted, digitised) and
the **source** text in force, shown on the status line, are stored with each value saved (``k``
picks the kind, ``s`` edits the source). With kind **converted** the cell's prompt takes the
conversion instead of the value (``se 0.47 n=20``, ``ci 10.1 14.3``, ``median_iqr 12 9 15`` ...:
``extraction.service.set_converted``), and the cell shows the stored inputs, formula and citation.
``Enter`` (or ``e``) edits the cell, ``x`` / ``Delete``
empties it, ``a`` adds an arm (an arm exists once it has a value), ``q`` quits.

Every saved cell is one committed transaction through ``extraction.service`` (``set_value``,
``clear_value``), checked there exactly as by ``extract set``; a refused value is shown as the
service's one line and nothing is written; a saved n that converted values followed
(``recompute``) is followed by the same lines ``extract set`` prints (``sd followed n: 5.19615 →
5 (from se 1, n 27 → 25)``), under the form and in a notification. The screen keeps no business
state: after each write it reads the study again (``study_sheet``), so it shows what is stored. The extractor sees only their
own values and the consensus values (blinding; ``study_sheet`` never returns another's).
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import ScrollableContainer
from textual.geometry import Region
from textual.widgets import Footer, Header, Static

from reviewtool.errors import ReviewtoolError
from reviewtool.extraction import service as extraction
from reviewtool.extraction.forms import SOURCE_KINDS, FieldSpec, ValueKey
from reviewtool.extraction.provenance import CONVERTED, describe
from reviewtool.review.service import open_existing
from reviewtool.storage import Review
from reviewtool.text import counted
from reviewtool.tui.widgets.modals import ChoiceScreen, PromptScreen
from reviewtool.tui.widgets.ordered_keys import Dialog, OrderedKeysApp, ask

# How a cell's source kind is marked in the grids (reported values carry no mark).
KIND_MARK = {"reported": "", "converted": "ᶜ", "digitised": "ᵈ"}
LABEL_WIDTH = 22
ARM_WIDTH = 16
CELL_WIDTH = 8
TIME_WIDTH = 10


def _fit(text: str, width: int) -> str:
    """``text`` cut (with …) or padded to ``width`` characters."""
    return text[: width - 1] + "…" if len(text) > width else text.ljust(width)


class ExtractionApp(OrderedKeysApp):
    """The extraction form screen of one extractor for one study."""

    TITLE = "reviewtool · data extraction"
    CSS = """
    #status { height: auto; padding: 0 1; background: $boost; }
    #reports { height: auto; max-height: 5; padding: 0 1; color: $text-muted; }
    #body { height: 1fr; border: round $primary; padding: 0 1; }
    #grid { width: auto; }
    #cell { height: auto; padding: 0 1; border-top: solid $primary; }
    #message { height: auto; padding: 0 1; color: $error; }
    #followed { height: auto; padding: 0 1; color: $warning; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("tab", "move(1)", "Next", key_display="Tab", priority=True),
        Binding("shift+tab", "move(-1)", "Prev", key_display="S-Tab", priority=True),
        Binding("down", "move(1)", "Next", show=False, priority=True),
        Binding("up", "move(-1)", "Previous", show=False, priority=True),
        Binding("enter,e", "edit", "Edit", priority=True),
        Binding("x,delete", "clear", "Empty", priority=True),
        Binding("a", "add_arm", "Arm+", priority=True),
        Binding("k", "source_kind", "Kind", priority=True),
        Binding("s", "source", "Source", priority=True),
        Binding("q", "quit", "Quit", priority=True),
    ]

    def __init__(self, url: str, actor: str, study: str) -> None:
        super().__init__()
        self.url = url
        self.actor = actor
        # Opened before the app runs: a missing review, form or study is one CLI line, not a screen.
        self.review: Review | None = open_existing(url)
        with self.review.reading() as session:
            self.sheet = extraction.study_sheet(session, actor=actor, study=study)
        self.study = str(self.sheet.study.study_id)
        self.new_arms: list[str] = []  # arms added on screen, not yet holding a value
        self.source_kind = "reported"
        self.source = ""
        self.cursor = 0
        self.message = ""
        self.followed = ""  # what the last save changed besides its cell (``_followed``)

    # --- what is shown ----------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="status")
        yield Static(id="reports")
        with ScrollableContainer(id="body"):
            yield Static(id="grid")
        yield Static(id="cell")
        yield Static(id="message")
        yield Static(id="followed")
        yield Footer()

    def on_mount(self) -> None:
        self._show()

    def on_unmount(self) -> None:
        if self.review is not None:
            self.review.close()

    @property
    def arms(self) -> list[str]:
        """The arms in the order first entered, then those added on screen."""
        return [*self.sheet.arms, *(a for a in self.new_arms if a not in self.sheet.arms)]

    def cells(self) -> list[ValueKey]:
        """Every place of the form for this study's arms, in the form's order (Tab order)."""
        form = self.sheet.form
        arms = self.arms
        keys = [ValueKey(f.key) for f in form.fields]
        keys += [ValueKey(f.key, arm) for arm in arms for f in form.arm_fields]
        keys += [
            ValueKey(statistic, arm, o.key, t)
            for o in form.outcomes
            for t in o.time_points
            for arm in arms
            for statistic in o.fields
        ]
        rank = {arm: i for i, arm in enumerate(arms)}
        return sorted(keys, key=lambda k: form.order(k, rank.get(k.arm, 0)))

    def current(self) -> ValueKey | None:
        """The place under the cursor (None when the form has none)."""
        cells = self.cells()
        if not cells:
            return None
        self.cursor = max(0, min(self.cursor, len(cells) - 1))
        return cells[self.cursor]

    def _reload(self, keep: ValueKey | None = None) -> None:
        """Read the study again and show it, the cursor staying on ``keep`` (an arm's first value
        can change the order of the arms, so the cell's index may change)."""
        assert self.review is not None
        with self.review.reading() as session:
            self.sheet = extraction.study_sheet(session, actor=self.actor, study=self.study)
        cells = self.cells()
        if keep in cells:
            self.cursor = cells.index(keep)
        self._show()

    def _cell_text(self, key: ValueKey, width: int, here: ValueKey | None) -> Text:
        """One cell: the extractor's value (marked c / d when converted / digitised), or the
        consensus value in italics when they have none; reverse video under the cursor."""
        mine = self.sheet.values.get(key)
        agreed = self.sheet.consensus.get(key)
        if mine is not None:
            mark = KIND_MARK.get(mine.source_kind, "")
            value = mine.value  # a long converted value is cut before its mark, which stays
            if mark and len(value) + len(mark) > width:
                value = value[: width - len(mark) - 1] + "…"
            shown, style = value + mark, ""
            if agreed is not None and agreed.value == mine.value and not agreed.reopened_because:
                style = "green"
        elif agreed is not None:
            shown, style = agreed.value, "italic cyan"
        else:
            shown, style = "·", "dim"
        if key == here:
            style = "reverse bold"
        return Text(_fit(shown, width), style=style)

    def _grid(self, here: ValueKey | None) -> tuple[Text, Region]:
        """The whole form as text (lines never wrapped: wide grids scroll sideways), and where
        the cell under the cursor is in it."""
        form = self.sheet.form
        out = Text(no_wrap=True, overflow="ignore")
        line = 0
        start = 0  # where the current line starts in ``out``
        cursor = Region(0, 0, 1, 1)

        def newline() -> None:
            nonlocal line, start
            out.append("\n")
            line += 1
            start = len(out)

        def cell(key: ValueKey, width: int) -> None:
            nonlocal cursor
            if key == here:
                cursor = Region(len(out) - start, line, width, 1)
            out.append_text(self._cell_text(key, width, here))

        out.append("Study", style="bold underline")
        newline()
        for spec in form.fields:
            key = ValueKey(spec.key)
            out.append("▶ " if key == here else "  ")
            out.append(_fit(self._label(spec), LABEL_WIDTH))
            cell(key, 40)
            newline()
        arms = self.arms
        newline()
        out.append(_fit("Arms", LABEL_WIDTH + 2), style="bold underline")
        if not arms:
            out.append("none yet: a adds an arm", style="dim")
        for arm in arms:
            out.append(_fit(arm, ARM_WIDTH) + " ", style="bold")
        newline()
        if arms:
            for spec in form.arm_fields:
                keys = [ValueKey(spec.key, arm) for arm in arms]
                out.append("▶ " if here in keys else "  ")
                out.append(_fit(self._label(spec), LABEL_WIDTH))
                for key in keys:
                    cell(key, ARM_WIDTH)
                    out.append(" ")
                newline()
        for outcome in form.outcomes:
            newline()
            unit = f", {outcome.unit}" if outcome.unit else ""
            out.append(f"{outcome.label} ({outcome.kind}{unit})", style="bold underline")
            newline()
            if not arms:
                continue
            span = (CELL_WIDTH + 1) * len(outcome.fields)
            out.append(" " * (TIME_WIDTH + 2))
            for arm in arms:
                out.append(_fit(arm, span - 1) + " ", style="bold")
            newline()
            out.append(" " * (TIME_WIDTH + 2))
            for _arm in arms:
                for statistic in outcome.fields:
                    name = "SD" if statistic == "sd" else statistic
                    out.append(_fit(name, CELL_WIDTH) + " ", style="dim")
            newline()
            for time_point in outcome.time_points:
                keys = [
                    ValueKey(s, a, outcome.key, time_point) for a in arms for s in outcome.fields
                ]
                out.append("▶ " if here in keys else "  ")
                out.append(_fit(time_point, TIME_WIDTH))
                for key in keys:
                    cell(key, CELL_WIDTH)
                    out.append(" ")
                newline()
        newline()
        out.append("ᶜ converted · ᵈ digitised · green: agreed · ", style="dim")
        out.append("italic: consensus only", style="dim italic")
        return out, cursor

    @staticmethod
    def _label(spec: FieldSpec) -> str:
        unit = f" ({spec.unit})" if spec.unit else ""
        return f"{spec.label}{unit}{' *' if spec.required else ''}"

    def _place(self, key: ValueKey) -> str:
        """Where a cell is, in the form's words: "MELD score · 4 weeks · arm MSC · SD"."""
        form = self.sheet.form
        label = form.spec(key).label
        if key.outcome:
            return f"{form.outcome(key.outcome).label} · {key.time_point} · arm {key.arm} · {label}"
        return f"arm {key.arm} · {label}" if key.arm else label

    @staticmethod
    def _takes(spec: FieldSpec) -> str:
        """What a field takes: "number, weeks, 0–520", "integer, ≥ 1", "single choice: a | b"."""
        takes = spec.type.replace("_", " ")
        if spec.unit:
            takes += f", {spec.unit}"
        if spec.minimum is not None and spec.maximum is not None:
            takes += f", {spec.minimum:g}–{spec.maximum:g}"
        elif spec.minimum is not None:
            takes += f", ≥ {spec.minimum:g}"
        elif spec.maximum is not None:
            takes += f", ≤ {spec.maximum:g}"
        if spec.positive:
            takes += ", > 0"
        if spec.required:
            takes += ", required"
        if spec.choices:
            takes += ": " + " | ".join(spec.choices)
        return takes

    def _provenance(self) -> str:
        """The provenance in force: "converted · report 1, Table 2"."""
        return self.source_kind + (f" · {self.source}" if self.source else "")

    def _describe(self, key: ValueKey) -> Text:
        """What the cell under the cursor takes, its value with provenance, and the consensus."""
        out = Text(self._place(key), style="bold")
        out.append(f"  ({self._takes(self.sheet.form.spec(key))})\n", style="dim")
        mine = self.sheet.values.get(key)
        out.append("Yours: ", style="bold")
        if mine is None:
            out.append("—", style="dim")
        else:
            out.append(mine.value)
            out.append(f"  [{describe(mine.source_kind, mine.source)}]", style="cyan")
        agreed = self.sheet.consensus.get(key)
        if agreed is not None:
            out.append("\nConsensus: ", style="bold")
            out.append(agreed.value)
            out.append(f"  ({agreed.how}", style="dim")
            if agreed.reopened_because:
                out.append(f"; reopened: {agreed.reopened_because}", style="dim")
            out.append(")", style="dim")
        return out

    def _show(self) -> None:
        study = self.sheet.study
        status = Text(f"{study.label}", style="bold")
        status.append(f" · form v{self.sheet.form_version} {self.sheet.form.name}")
        status.append(f" · extractor {self.actor} · {counted(len(self.sheet.values), 'value')}\n")
        status.append("Provenance of the next value: ", style="bold")
        status.append(self._provenance(), style="cyan")
        status.append("" if self.source else " · no source text (s)")
        self.query_one("#status", Static).update(status)
        reports = Text("Reports: ", style="bold")
        if not self.sheet.reports:
            reports.append("none recorded", style="dim")
        for index, (report_id, kind, location) in enumerate(self.sheet.reports):
            reports.append("\n  " if index else "")
            reports.append(f"report {report_id} · {kind.replace('_', ' ')} · {location or '—'}")
        self.query_one("#reports", Static).update(reports)
        here = self.current()
        grid, where = self._grid(here)
        self.query_one("#grid", Static).update(grid)
        cell = self._describe(here) if here is not None else Text("the form has no fields")
        self.query_one("#cell", Static).update(cell)
        message = self.query_one("#message", Static)
        message.update(Text(self.message))
        message.display = bool(self.message)
        followed = self.query_one("#followed", Static)
        followed.update(Text(self.followed))
        followed.display = bool(self.followed)
        # Keep the cell in view, with a little of what is around it (the rows above, the labels).
        body = self.query_one("#body", ScrollableContainer)
        around = Region(max(where.x - 12, 0), max(where.y - 2, 0), where.width + 14, 5)
        self.call_after_refresh(body.scroll_to_region, around, animate=False)

    def screen_text(self) -> str:
        """The screen's text (status, reports, form, cell, message, values that followed), for
        tests and screenshots."""
        parts = [
            self.query_one(f"#{name}", Static).render()
            for name in ("status", "reports", "grid", "cell", "message", "followed")
        ]
        return "\n".join(str(p) for p in parts)

    # --- actions --------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The form's keys do nothing while a dialog is open (its own keys are its own)."""
        return action == "quit" or not isinstance(self.screen, Dialog)

    def action_move(self, step: int) -> None:
        """Next / previous cell in the form's order (wrapping round)."""
        self.followed = ""
        self._step(step)

    def _step(self, step: int) -> None:
        """Move the cursor ``step`` cells (what the last save changed stays shown)."""
        count = len(self.cells())
        if count:
            self.cursor = (self.cursor + step) % count
        self.message = ""
        self._show()

    @staticmethod
    def _followed(saved: extraction.ValueView | None) -> str:
        """What ``extract set`` prints after the value: its warnings, then one line per converted
        value that followed the n saved (``recompute.Recomputed.line``: ``sd followed n: 5.19615
        → 5 (from se 1, n 27 → 25)``, ``consensus sd followed n: ...``); "" for none."""
        if saved is None:
            return ""
        return "\n".join([*saved.warnings, *(r.line() for r in saved.recomputed)])

    def _write(self, key: ValueKey, value: str | None) -> bool:
        """Save (or, with None, empty) one cell in one committed transaction; False, with the
        service's one line shown, when it is refused (nothing is written). The values that
        followed the n saved are shown under the cell and in a notification."""
        assert self.review is not None
        saved: extraction.ValueView | None = None
        self.followed = ""
        try:
            with self.review.transaction() as session:
                if value is None:
                    extraction.clear_value(
                        session,
                        actor=self.actor,
                        study=self.study,
                        field=key.field,
                        arm=key.arm,
                        outcome=key.outcome,
                        time_point=key.time_point,
                    )
                elif self.source_kind == CONVERTED:  # the text is the conversion's inputs
                    (saved,) = extraction.set_converted(
                        session,
                        actor=self.actor,
                        study=self.study,
                        fields=[key.field],
                        conversion=value,
                        arm=key.arm,
                        outcome=key.outcome,
                        time_point=key.time_point,
                    )
                else:
                    saved = extraction.set_value(
                        session,
                        actor=self.actor,
                        study=self.study,
                        field=key.field,
                        value=value,
                        arm=key.arm,
                        outcome=key.outcome,
                        time_point=key.time_point,
                        source_kind=self.source_kind,
                        source=self.source or None,
                    )
        except ReviewtoolError as exc:
            self.message = str(exc)
            self.notify(self.message, severity="error", timeout=8)
            self._reload(key)
            return False
        self.message = ""
        self.followed = self._followed(saved)
        if self.followed:
            self.notify(self.followed, title="Followed the n saved", timeout=8)
        self._reload(key)
        return True

    def action_edit(self) -> None:
        """Enter the value of the cell under the cursor (with the provenance in force); a value
        accepted moves the cursor to the next cell."""
        key = self.current()
        if key is None:
            return
        mine = self.sheet.values.get(key)
        spec = self.sheet.form.spec(key)
        title = (
            f"{self._place(key)} ({self._takes(spec)})\n"
            f"provenance: {self._provenance()} (k, s change it)"
        )
        prefill = mine.value if mine is not None else ""
        if self.source_kind == CONVERTED:
            title = (
                f"{self._place(key)}: converted from (the value is computed)\n"
                "se SE | ci LOW HIGH | median_iqr MEDIAN Q1 Q3 | median_range MEDIAN MIN MAX | "
                "change SD_BASELINE SD_FINAL, then n=N unless the arm's n is entered"
            )
            prefill = ""

        def save(text: str | None) -> None:
            if text is None:
                return
            if not text.strip():
                if mine is not None:
                    self._write(key, None)
                return
            if self._write(key, text):
                self._step(1)

        ask(self, PromptScreen(title, value=prefill), save)

    def action_clear(self) -> None:
        """Empty the cell under the cursor (a consensus there is reopened by the service)."""
        key = self.current()
        if key is not None and key in self.sheet.values:
            self._write(key, None)

    def action_add_arm(self) -> None:
        """Add an arm (a column of the arm and outcome grids) and put the cursor on its first
        cell; it is stored with its first value."""

        def add(name: str | None) -> None:
            name = (name or "").strip()
            if not name or name in self.arms:
                return
            self.new_arms.append(name)
            cells = self.cells()
            first = next((i for i, k in enumerate(cells) if k.arm == name), self.cursor)
            self.cursor = first
            self._show()

        ask(self, PromptScreen("Name of the new arm (e.g. MSC, Control)"), add)

    def action_source_kind(self) -> None:
        """Choose the source kind stored with the next values: reported, converted, digitised."""

        def choose(index: int | None) -> None:
            if index is not None:
                self.source_kind = SOURCE_KINDS[index]
                self._show()

        ask(self, ChoiceScreen("Source kind of the next values", list(SOURCE_KINDS)), choose)

    def action_source(self) -> None:
        """Edit the source text stored with the next values ("report 12, Table 2", a formula,
        "report 3, Figure 2, Engauge Digitizer")."""
        first = self.sheet.reports[0][0] if self.sheet.reports else None
        value = self.source or (f"report {first}, " if first is not None else "")

        def keep(text: str | None) -> None:
            if text is not None:
                self.source = text.strip()
                self._show()

        ask(self, PromptScreen("Source of the next values", value=value), keep)
