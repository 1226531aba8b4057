"""Data extraction: versioned forms, each extractor's values with their provenance, consensus.

One library API for every way in (the CLI's ``extract set`` and ``extract import``, the form screen):

* ``add_form`` / ``show_form``: the form is a TOML text (``extraction.forms``); adding a changed one
  makes the next version; a version that would orphan entered values is refused, naming them.
* ``set_value`` / ``import_values``: one value, or a long-layout file all or nothing. Every value is
  checked on every path (type, range, SD > 0, events <= total, an arm's n <= its n randomised,
  time point on the form) and stored with the form version, the extractor and its provenance.
* ``compare`` lists every disagreement field by field; identical values of two extractors become
  consensus at once (``agreement``); ``agree`` takes one extractor's value, ``resolve`` records an
  adjudicator's. A changed value after consensus reopens that field.
* ``status``, ``export_table``, ``study_sheet`` read; ``analysis_rows`` gives the consensus values
  as plain rows for the analysis stage (which the CLI hands them to: stages do not import each other).

Blinding (docs/blinding.md): while extraction is blind to a person (``access.sight``: a form exists,
``extraction.blind`` holds, they are neither owner nor adjudicator) they see their own values and
the consensus values only; ``compare`` is refused to them. An owner ends it with ``unblind``.
"""

from __future__ import annotations

import dataclasses
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from operator import itemgetter
from pathlib import Path
from typing import Any

from sqlalchemy import delete
from sqlalchemy import text as sql_text
from sqlmodel import Session, col, select

from reviewtool import audit
from reviewtool.access import (
    EXTRACTION,
    duties_separate,
    entering_for,
    own_work_refused,
    require,
    sight,
)
from reviewtool.audit.events import (
    ExtractionConsensusChanged,
    ExtractionFormAdded,
    ExtractionValuesChanged,
    StageUnblinded,
)
from reviewtool.csvfiles import check_lines, unknown_columns
from reviewtool.domain import Action, Role
from reviewtool.errors import InvalidInput, NotFound, PermissionDenied, StageOrderError
from reviewtool.extraction import bulk, provenance, recompute
from reviewtool.extraction.forms import (
    RANDOMISED,
    SEPARATOR,
    SOURCE_KINDS,
    FieldSpec,
    Form,
    ValueKey,
    check_field,
    consensus_id,
    parse_form,
    value_id,
)
from reviewtool.extraction.ledger import CONSENSUS_COLUMNS, VALUE_COLUMNS
from reviewtool.storage.models import (
    ExtractionConsensus,
    ExtractionForm,
    ExtractionValue,
    FullTextReport,
    Member,
    Record,
    ReviewSetting,
)
from reviewtool.storage.postgres_revisit import agree_on_server, server_agrees
from reviewtool.storage.queries import setting
from reviewtool.storage.snapshots import chunks, stream
from reviewtool.studies.service import list_studies
from reviewtool.text import counted

LONG_COLUMNS = (
    "study",
    "arm",
    "outcome",
    "time_point",
    "field",
    "value",
    "source_kind",
    "source",
    "extractor",
)
"""The long layout of ``extract import`` and ``extract export --long``: one row per value."""
STATISTIC_COLUMNS = ("mean", "sd", "n", "events", "total")
AGREEMENT, ADJUDICATOR, REOPENED = "agreement", "adjudicator", "reopened"
RECOMPUTED = "recomputed"
"""The ``change`` of a consensus event whose converted values followed a changed n."""


# --- views ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StudyRef:
    """A study as extraction names it.

    :ivar study_id: the study's id (its anchor reference, ``studies``).
    :ivar label: "<first author surname> <year>" of its anchor record ("Suk 2016").
    :ivar first_author: that surname; :ivar year: that year (None when unknown).
    :ivar references: the references (reports) in the study.
    """

    study_id: int
    label: str
    first_author: str
    year: int | None
    title: str | None
    references: tuple[int, ...]


@dataclass(frozen=True)
class FormVersion:
    """One version of the form: number, name, sha256 of its TOML text, who added it when.

    :ivar added: False when ``add_form`` found the text identical to the current version.
    """

    version: int
    name: str
    sha256: str
    added_by: str
    added_at: str
    text: str
    added: bool = True

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True)
class Provenance:
    """Where a value came from: ``kind`` reported | converted | digitised, ``source`` free text
    ("report 12, Table 2"; for converted values the inputs and formula; for digitised the figure
    and tool)."""

    kind: str = "reported"
    source: str = ""


@dataclass(frozen=True, slots=True)
class ValueView:
    """One value: whose (``extractor``; "" for a consensus value), where, what, under which form
    version and from where (``source_kind``, ``source``).

    :ivar recomputed: converted values that followed the n just entered
        (``recompute.Recomputed``; not part of ``to_dict``).
    :ivar warnings: one line each, for the person entering the value (e.g. a conversion's
        ``n=N`` differing from the n stored at its place); not part of ``to_dict``.
    """

    study_id: int
    study: str
    extractor: str
    arm: str
    outcome: str
    time_point: str
    field: str
    value: str
    form_version: int
    source_kind: str
    source: str
    recomputed: tuple[recompute.Recomputed, ...] = dataclasses.field(
        default=(), compare=False, repr=False
    )
    warnings: tuple[str, ...] = dataclasses.field(default=(), compare=False, repr=False)

    @property
    def key(self) -> ValueKey:
        """Its place on the form."""
        return ValueKey(self.field, self.arm, self.outcome, self.time_point)

    @classmethod
    def entered(
        cls,
        ref: StudyRef,
        extractor: str,
        key: ValueKey,
        value: str,
        version: int,
        prov: Provenance,
    ) -> ValueView:
        """The view of a value just entered by ``extractor`` at ``key`` of study ``ref``."""
        return cls(
            ref.study_id,
            ref.label,
            extractor,
            key.arm,
            key.outcome,
            key.time_point,
            key.field,
            value,
            version,
            prov.kind,
            prov.source,
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (without ``recomputed`` and ``warnings``)."""
        out = asdict(self)
        del out["recomputed"], out["warnings"]
        return out


@dataclass(frozen=True, slots=True)
class ConsensusView:
    """A consensus value: ``how`` (agreement | adjudicator), ``by`` whom, ``open`` when reopened
    (``reopened_because`` says which change reopened it).

    :ivar recomputed: converted consensus values at its arm, outcome and time point computed
        again with the consensus n when it was decided (``recompute.Recomputed``; not part of
        ``to_dict``).
    """

    study_id: int
    study: str
    arm: str
    outcome: str
    time_point: str
    field: str
    value: str
    form_version: int
    source_kind: str
    source: str
    how: str
    by: str
    reopened_because: str | None
    recomputed: tuple[recompute.Recomputed, ...] = dataclasses.field(
        default=(), compare=False, repr=False
    )

    @property
    def key(self) -> ValueKey:
        """Its place on the form."""
        return ValueKey(self.field, self.arm, self.outcome, self.time_point)

    @property
    def open(self) -> bool:
        """True while reopened (not in force)."""
        return self.reopened_because is not None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (with ``open``, without ``recomputed``)."""
        out = {**asdict(self), "open": self.open}
        del out["recomputed"]
        return out


@dataclass(frozen=True, slots=True)
class Disagreement:
    """One place of a study's form where the extractors differ (None: not entered by them).

    :ivar values: extractor name -> their value (or None), sorted by name.
    :ivar reopened_because: set when a consensus there was reopened by a change.
    """

    study_id: int
    study: str
    arm: str
    outcome: str
    time_point: str
    field: str
    values: dict[str, str | None]
    reopened_because: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class StatusRow:
    """Per study and extractor: values entered; per study: disagreements open (None while hidden
    from the viewer by blinding) and consensus values in force."""

    study_id: int
    study: str
    extractor: str
    filled: int
    disagreements: int | None
    consensus: int

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True)
class ImportSummary:
    """What ``import_values`` wrote: values new or changed, unchanged ones skipped, studies;
    ``recomputed``: the converted values that followed an n written (``recompute.Recomputed``,
    also counted in ``changed``)."""

    changed: int
    unchanged: int
    studies: int
    consensus: int
    reopened: int
    recomputed: tuple[recompute.Recomputed, ...] = ()

    def describe(
        self,
        *,
        kind: str = "",
        by: str | None = None,
        entered_by: str | None = None,
        origin: str = "",
    ) -> str:
        """The summary for people (``extract import``, ``extract digitised``), plurals right
        (``text.counted``): ``2 values by bob (entered by olga) written in 1 study (0 unchanged);
        consensus reached on 1, reopened on 0.`` and, when converted values followed an n, a
        second line ``1 converted value recomputed (it followed a changed n).``

        ``kind``: the values' kind before "value" (``digitised``); ``by``/``entered_by``: whose
        values an owner entered (``access.entering_for``); ``origin``: where they came from
        (``fig2.csv, Figure 2, report 1``)."""
        whose = f" by {by} (entered by {entered_by})" if by and entered_by else ""
        where = f" from {origin}" if origin else ""
        noun = f"{kind} value" if kind else "value"
        text = (
            f"{counted(self.changed, noun)}{whose} written in {counted(self.studies, 'study')}"
            f"{where} ({self.unchanged} unchanged); consensus reached on {self.consensus}, "
            f"reopened on {self.reopened}."
        )
        if self.recomputed:
            they = "it" if len(self.recomputed) == 1 else "they"
            text += (
                f"\n{counted(len(self.recomputed), 'converted value')} recomputed ({they} "
                "followed a changed n)."
            )
        return text


@dataclass(frozen=True)
class Table:
    """A table to print or write: ``columns`` and ``rows`` (dicts keyed by column)."""

    columns: tuple[str, ...]
    rows: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class AnalysisRow:
    """One consensus cell for analysis: a study's arm's outcome at a time point.

    Continuous outcomes carry ``mean``, ``sd``, ``n``; dichotomous ``events``, ``total`` (None where
    no consensus value exists). ``form_version`` is the newest version among its values.
    """

    study_id: int
    study: str
    arm: str
    outcome: str
    kind: str
    time_point: str
    mean: float | None = None
    sd: float | None = None
    n: int | None = None
    events: int | None = None
    total: int | None = None
    form_version: int = 0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True)
class StudySheet:
    """Everything a form screen shows for one study and one extractor.

    :ivar values: the extractor's own values by place; :ivar consensus: the consensus values.
    :ivar arms: arm names entered so far (own values and consensus), in order of first entry.
    :ivar reports: (report id, kind, location or reason) of the study's references.
    """

    study: StudyRef
    form_version: int
    form: Form
    arms: list[str]
    values: dict[ValueKey, ValueView]
    consensus: dict[ValueKey, ConsensusView]
    reports: list[tuple[int, str, str]] = field(default_factory=list)


# --- forms ---------------------------------------------------------------------------------------


def _form_row(session: Session, version: int | None = None) -> ExtractionForm | None:
    query = select(ExtractionForm)
    if version is None:
        query = query.order_by(col(ExtractionForm.version).desc()).limit(1)
    else:
        query = query.where(ExtractionForm.version == version)
    return session.exec(query).first()


def current_form(session: Session) -> tuple[int, Form]:
    """The form in use (the newest version) and its number; StageOrderError when none was added."""
    row = _form_row(session)
    if row is None:
        raise StageOrderError(
            "no extraction form yet; an owner adds one with `reviewtool extract form add FORM.toml`"
        )
    return row.version, parse_form(row.toml, source=f"form version {row.version}")


def _view(row: ExtractionForm, added: bool = True) -> FormVersion:
    return FormVersion(
        row.version, row.name, row.sha256, row.added_by, row.added_at, row.toml, added
    )


def _orphans(session: Session, form: Form) -> list[str]:
    """The places of entered values (any extractor's, or consensus) the form ``form`` would not
    hold, or whose values it would refuse: ``place (N values): why``."""
    problems: dict[str, list[str]] = defaultdict(list)
    for model in (ExtractionValue, ExtractionConsensus):
        m: Any = model
        columns: list[Any] = [m.arm, m.outcome, m.time_point, m.field, m.value]
        query = select(*columns).distinct()
        for arm, outcome, time_point, name, value in session.exec(query).all():
            key = ValueKey(name, arm, outcome, time_point)
            try:
                form.check_value(key, value)
            except InvalidInput as error:
                where = (
                    f"{outcome} at {time_point!r}: {name}"
                    if outcome
                    else f"arm field {name}"
                    if arm
                    else name
                )
                problems[where].append(str(error))
    return [f"{where} ({reasons[0]})" for where, reasons in sorted(problems.items())]


def add_form(
    session: Session, *, actor: str, text: str, file_name: str | None = None
) -> FormVersion:
    """Add the form ``text`` (TOML, ``extraction.forms``) as the next version (owners only).

    The same text as the current version adds nothing (``added`` False). A version that would
    orphan entered values (a field, outcome or time point dropped, a type or range that refuses
    a value) is refused with InvalidInput listing the fields affected.
    """
    require(session, actor, Action.CHANGE_SETTINGS, doing="add an extraction form")
    form = parse_form(text, source=file_name or "form")
    current = _form_row(session)
    if current is not None and current.sha256 == form.sha256:
        return _view(current, added=False)
    orphans = _orphans(session, form)
    if orphans:
        raise InvalidInput(
            f"{file_name or 'the form'} would orphan entered values: "
            + "; ".join(orphans[:10])
            + (f"; and {len(orphans) - 10} more" if len(orphans) > 10 else "")
        )
    version = 1 if current is None else current.version + 1
    row = ExtractionForm(
        version=version,
        name=form.name,
        toml=text,
        sha256=form.sha256,
        added_by=actor,
        added_at=audit.log.utc_now(),
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        ExtractionFormAdded(
            version=version,
            file_name=file_name,
            after={"name": form.name, "sha256": form.sha256},
            toml=text,
        ),
    )
    return _view(row)


def show_form(session: Session, *, actor: str, version: int | None = None) -> FormVersion:
    """A version of the form (the newest by default); NotFound / StageOrderError when none."""
    require(session, actor, Action.READ, doing="read the extraction form")
    row = _form_row(session, version)
    if row is None:
        if version is None:
            current_form(session)  # raises: no form yet
        raise NotFound(f"no extraction form version {version}")
    return _view(row)


def form_versions(session: Session, *, actor: str) -> list[FormVersion]:
    """Every version of the form, oldest first."""
    require(session, actor, Action.READ, doing="read the extraction form")
    rows = session.exec(select(ExtractionForm).order_by(col(ExtractionForm.version))).all()
    return [_view(r) for r in rows]


# --- studies -------------------------------------------------------------------------------------


def _surname(authors: str) -> str:
    try:
        names = json.loads(authors or "[]")
    except ValueError:
        names = []
    if not names or not isinstance(names[0], str):
        return "Anonymous"
    first = names[0].strip()
    return first.split(",")[0].strip() if "," in first else (first.split() or ["Anonymous"])[-1]


def studies(session: Session, *, actor: str) -> list[StudyRef]:
    """The included studies with their labels, by id (PermissionDenied while full text is blind
    to ``actor``: which references are included would show how others voted)."""
    found = []
    views = list_studies(session, actor=actor)
    # each study's anchor reference: its first record that is no duplicate (one query per 500)
    anchors: dict[int, tuple[str, int | None]] = {}
    for part in chunks([view.study_id for view in views]):
        for reference, authors, year in session.exec(
            select(Record.reference_id, Record.authors, Record.year)
            .where(col(Record.reference_id).in_(part), col(Record.duplicate_of).is_(None))
            .order_by(col(Record.id))
        ).all():
            if reference is not None:
                anchors.setdefault(reference, (authors, year))
    for view in views:
        authors, year = anchors.get(view.study_id, ("[]", None))
        surname = _surname(authors)
        label = f"{surname} {year}" if year else surname
        found.append(StudyRef(view.study_id, label, surname, year, view.title, view.references))
    return found


class _Studies:
    """Studies by id and by label, resolving what a person typed ("12", "Suk 2016")."""

    def __init__(self, refs: list[StudyRef]) -> None:
        self.by_id = {s.study_id: s for s in refs}
        self.by_label: dict[str, list[StudyRef]] = defaultdict(list)
        for s in refs:
            self.by_label[s.label.casefold()].append(s)

    def find(self, text: str) -> StudyRef:
        given = str(text).strip()
        if given.isdigit():
            found = self.by_id.get(int(given))
            if found is None:
                raise NotFound(
                    f"study {given} is not an included study; see `reviewtool study list`"
                )
            return found
        matches = self.by_label.get(given.casefold(), [])
        if len(matches) == 1:
            return matches[0]
        if matches:
            ids = ", ".join(str(s.study_id) for s in matches)
            raise InvalidInput(f"study {given!r} is ambiguous: studies {ids}; give the id")
        close = [
            s.label
            for s in self.by_id.values()
            if given.split(" ")[0].casefold() in s.label.casefold()
        ]
        hint = f" (did you mean {', '.join(sorted(set(close))[:5])}?)" if close else ""
        raise NotFound(f"no included study {given!r}{hint}; see `reviewtool study list`")

    def label(self, study_id: int) -> str:
        """The unique label of a study, else its id (what exports write in ``study``)."""
        ref = self.by_id.get(study_id)
        if ref is None:
            return str(study_id)
        return ref.label if len(self.by_label[ref.label.casefold()]) == 1 else str(study_id)


def _study_index(session: Session, actor: str) -> _Studies:
    return _Studies(studies(session, actor=actor))


# --- reading values ------------------------------------------------------------------------------

_new_key = tuple.__new__  # a ValueKey from a row's (field, arm, outcome, time point) slice

_Stored = tuple[int | None, str, int, str, str]  # (row id, value, form version, kind, source)


def _names(session: Session) -> dict[int, str]:
    return {i: n for i, n in session.exec(select(Member.id, Member.name)).all() if i is not None}


def _values(
    session: Session, study_ids: Iterable[int] | None = None, member_id: int | None = None
) -> dict[int, dict[int, dict[ValueKey, _Stored]]]:
    """study -> member id -> place -> stored value (places and sources shared across rows)."""
    v = ExtractionValue
    # id, study_id, member_id, field, arm, outcome, time_point, value, form_version, kind, source
    columns: list[Any] = [v.id, *(getattr(v, name) for name in VALUE_COLUMNS)]
    query = select(*columns)
    if member_id is not None:
        query = query.where(v.member_id == member_id)
    found: dict[int, dict[int, dict[ValueKey, _Stored]]] = defaultdict(lambda: defaultdict(dict))
    places: dict[tuple[Any, ...], ValueKey] = {}
    pooled: dict[str, str] = {}
    ids = None if study_ids is None else sorted(set(study_ids))
    parts = [None] if ids is None else [ids[i : i + 500] for i in range(0, len(ids), 500)]
    for part in parts:
        chunk = query if part is None else query.where(col(v.study_id).in_(part))
        for row in stream(session, chunk):
            shape = row[3:7]
            place = places.get(shape)
            if place is None:
                place = places[shape] = _new_key(ValueKey, shape)
            kind, source = row[9], row[10]
            found[row[1]][row[2]][place] = (
                row[0],
                row[7],
                row[8],
                pooled.setdefault(kind, kind),
                pooled.setdefault(source, source),
            )
    return found


_Consensus = tuple[int, str, int, str, str, str, int, str | None, str | None]
# (row id, value, form version, kind, source, how, member id, reopened_at, reopened_because)


def _consensus(
    session: Session, study_ids: Iterable[int] | None = None
) -> dict[int, dict[ValueKey, _Consensus]]:
    c = ExtractionConsensus
    # id, study_id, field, arm, outcome, time_point, value, form_version, kind, source, how,
    # member_id, reopened_at, reopened_because
    columns: list[Any] = [c.id, *(getattr(c, name) for name in CONSENSUS_COLUMNS)]
    query = select(*columns)
    found: dict[int, dict[ValueKey, _Consensus]] = defaultdict(dict)
    places: dict[tuple[Any, ...], ValueKey] = {}
    pooled: dict[str, str] = {}
    ids = None if study_ids is None else sorted(set(study_ids))
    parts = [None] if ids is None else [ids[i : i + 500] for i in range(0, len(ids), 500)]
    for part in parts:
        chunk = query if part is None else query.where(col(c.study_id).in_(part))
        for row in stream(session, chunk):
            shape = row[2:6]
            place = places.get(shape)
            if place is None:
                place = places[shape] = _new_key(ValueKey, shape)
            kind, source, how = row[8], row[9], row[10]
            found[row[1]][place] = (
                row[0],
                row[6],
                row[7],
                pooled.setdefault(kind, kind),
                pooled.setdefault(source, source),
                pooled.setdefault(how, how),
                *row[11:],
            )
    return found


def value_snapshot(value: str, version: int, kind: str, source: str) -> list[Any]:
    """What the ledger records of one extractor's value: [value, form version, source kind,
    source] (a list, not a dict: a bulk import writes hundreds of thousands)."""
    return [value, version, kind, source]


def consensus_snapshot(
    value: str,
    version: int,
    kind: str,
    source: str,
    how: str,
    by: str,
    reopened_at: str | None,
    because: str | None,
) -> list[Any]:
    """What the ledger records of one consensus value: [value, form version, source kind,
    source, how, by whom, reopened at, reopened because]."""
    return [value, version, kind, source, how, by, reopened_at, because]


# --- checks across values ------------------------------------------------------------------------


def _rules_hold(values: Mapping[ValueKey, str], randomised: bool) -> bool:
    """True when no value in ``values`` breaks a rule ``cross_check`` checks (over every place,
    not only the changed ones; False also when a value is no integer): one pass, no message."""
    try:
        limits: dict[str, int] = {}
        if randomised:
            for (field, arm, outcome, time), value in values.items():
                if field == RANDOMISED and not outcome and not time:
                    limits[arm] = int(value)
        get: Any = values.get  # looked up with plain tuples: a ValueKey is equal to its tuple
        for (field, arm, outcome, time), value in values.items():
            if not outcome:
                continue
            if field == "events":
                total = get(("total", arm, outcome, time))
                if total is not None and int(value) > int(total):
                    return False
            if field == "n" or field == "total":
                limit = limits.get(arm)
                if limit is not None and int(value) > limit:
                    return False
    except ValueError:
        return False
    return True


def cross_check(form: Form, values: Mapping[ValueKey, str], changed: Iterable[ValueKey]) -> None:
    """The rules between values of one extractor and study, for the places ``changed``:
    events <= total (dichotomous outcomes), and an outcome's n (or total) <= its arm's
    n randomised (``forms.RANDOMISED``). InvalidInput names the arm, outcome, time point and field.
    """
    randomised = RANDOMISED in {f.key for f in form.arm_fields}
    if _rules_hold(values, randomised):
        return  # (the usual case, found in one pass; otherwise the first broken rule is named)
    cells: set[tuple[str, str, str]] = set()
    arms: set[str] = set()
    for key in changed:
        if key.outcome:
            cells.add((key.arm, key.outcome, key.time_point))
        elif key.arm and key.field == RANDOMISED:
            arms.add(key.arm)
    if arms and randomised:
        for key in values:
            if key.outcome and key.arm in arms:
                cells.add((key.arm, key.outcome, key.time_point))
    get: Any = values.get  # looked up with plain tuples: a ValueKey is equal to its tuple
    for arm, outcome, time in sorted(cells):
        events = get(("events", arm, outcome, time))
        total = get(("total", arm, outcome, time))
        if events is not None and total is not None and int(events) > int(total):
            raise InvalidInput(
                f"arm {arm!r}, {outcome} at {time!r}: events ({events}) exceed total ({total})"
            )
        if not randomised:
            continue
        limit = get((RANDOMISED, arm, "", ""))
        for name in ("n", "total"):
            n = get((name, arm, outcome, time))
            if n is not None and limit is not None and int(n) > int(limit):
                raise InvalidInput(
                    f"arm {arm!r}, {outcome} at {time!r}: {name} ({n}) exceeds the arm's "
                    f"{RANDOMISED} ({limit})"
                )


def _provenance(kind: str, source: str | None) -> Provenance:
    if kind not in SOURCE_KINDS:
        raise InvalidInput(f"source kind {kind!r} is not one of {', '.join(SOURCE_KINDS)}")
    if kind == provenance.CONVERTED:
        provenance.parse_converted((source or "").strip())  # structured, never free text
    return Provenance(kind, (source or "").strip())


def _check_converted(key: ValueKey, value: str, prov: Provenance) -> None:
    """A converted value must be what its recorded conversion gives (``provenance``)."""
    if prov.kind == provenance.CONVERTED:
        try:
            provenance.check_converted(key.field, value, prov.source)
        except InvalidInput as error:
            raise InvalidInput(f"{key.describe()}: {error}") from None


# --- writing values ------------------------------------------------------------------------------


@dataclass
class _Change:
    """The values one extractor writes in one study: place -> (value, provenance)."""

    study: int
    values: dict[ValueKey, tuple[str, Provenance]]
    label: str = ""


_NEW_VALUE_COLUMNS = (
    "study_id",
    "arm",
    "outcome",
    "time_point",
    "field",
    "value",
    "source_kind",
    "source",
)
_CONSENSUS_COLUMNS = (
    "study_id",
    "arm",
    "outcome",
    "time_point",
    "field",
    "value",
    "form_version",
    "source_kind",
    "source",
    "how",
    "member_id",
    "decided_at",
    "reopened_at",
    "reopened_because",
)


def _many(session: Session, sql: str, rows: list[tuple[Any, ...]]) -> None:
    """Run ``sql`` (``?`` placeholders) once per row through the driver's ``executemany``: a
    bulk import writes hundreds of thousands of rows, and SQLAlchemy's per-row parameter
    processing would cost more than the database."""
    if not rows:
        return
    connection = session.connection()
    if connection.dialect.paramstyle != "qmark":
        sql = sql.replace("?", "%s")
    connection.exec_driver_sql(sql, rows)


def _insert_sql(table: str, columns: tuple[str, ...]) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"


_UPDATE_VALUE = (
    "UPDATE extraction_value SET value = ?, form_version = ?, source_kind = ?, source = ?, "
    "entered_at = ? WHERE id = ?"
)
_UPDATE_CONSENSUS = (
    "UPDATE extraction_consensus SET value = ?, form_version = ?, source_kind = ?, source = ?, "
    "how = ?, member_id = ?, decided_at = ?, reopened_at = ?, reopened_because = ? WHERE id = ?"
)
_REOPEN_CONSENSUS = (
    "UPDATE extraction_consensus SET reopened_at = ?, reopened_because = ? WHERE id = ?"
)


_MAX_VALUE_ID = "SELECT coalesce(max(id), 0) FROM extraction_value"
_COPY_AGREED = (
    "INSERT INTO extraction_consensus (study_id, arm, outcome, time_point, field, value, "
    "form_version, source_kind, source, how, member_id, decided_at, reopened_at, reopened_because) "
    "SELECT study_id, arm, outcome, time_point, field, value, form_version, source_kind, source, "
    "?, ?, ?, NULL, NULL FROM extraction_value "
    "WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id"
)


def _insert_values_and_agreements(
    session: Session,
    inserts: list[tuple[Any, ...]],
    updates: list[tuple[Any, ...]],
    agreements: list[int | tuple[Any, ...]],
    *,
    now: str,
    member: int,
    version: int,
) -> None:
    """Insert the value rows ``inserts`` (``_NEW_VALUE_COLUMNS``) of ``member`` under form
    ``version`` at ``now``, update ``updates``, then insert the consensus rows ``agreements``
    (``how`` agreement, by ``member`` at ``now``): each the index in ``inserts`` of the value row it
    copies, or a whole ``_CONSENSUS_COLUMNS`` row.

    The member, form version and time, the same in every new row, are written into the statement
    (an integer, an integer and ``utc_now``'s text, quoted): the driver binds 8 parameters a row,
    not 11.

    When every agreement copies a new value row (a first import), SQLite copies them itself with
    one ``INSERT ... SELECT`` by row id: the rows are the same, in the same order, and Python binds
    no parameter per consensus row (a third of the database's work at 360,000 rows). The row ids
    of the new values are the ones SQLite gives an insert into a table with no AUTOINCREMENT (the
    largest so far, plus one each); that is checked, else the rows are inserted one by one.
    """
    connection = session.connection()
    fast = (
        connection.dialect.name == "sqlite"
        and bool(agreements)
        and all(type(row) is int for row in agreements)
    )
    first = int(connection.exec_driver_sql(_MAX_VALUE_ID).scalar_one()) + 1 if fast else 0
    quoted = "'" + now.replace("'", "''") + "'"
    constants = f"{int(member)}, {int(version)}, {quoted}"
    _many(
        session,
        f"INSERT INTO extraction_value ({', '.join(_NEW_VALUE_COLUMNS)}, member_id, form_version, "
        f"entered_at) VALUES ({', '.join('?' * len(_NEW_VALUE_COLUMNS))}, {constants})",
        inserts,
    )
    _many(session, _UPDATE_VALUE, updates)
    if not agreements:
        return
    if fast and connection.exec_driver_sql(_MAX_VALUE_ID).scalar_one() == first + len(inserts) - 1:
        ids = "[" + ",".join(str(first + i) for i in agreements if isinstance(i, int)) + "]"
        connection.exec_driver_sql(_COPY_AGREED, (AGREEMENT, member, now, ids))
        return
    rows: list[tuple[Any, ...]] = []
    for row in agreements:
        if isinstance(row, int):
            study, arm, outcome, time, name, value, kind, source = inserts[row]
            row = (study, arm, outcome, time, name, value, version, kind, source)
            row += (AGREEMENT, member, now, None, None)
        rows.append(row)
    _many(session, _insert_sql("extraction_consensus", _CONSENSUS_COLUMNS), rows)


AGREE_IN_SQLITE = True
"""Find agreement inside SQLite for an extractor's first values in studies without consensus
(``_agreed_in_sqlite``); False compares in Python, as every other write does (the two give the
same rows and events: ``benchmarks/check_extraction_outputs.py --python-agreement``)."""

_PLACE_OF_B = (
    "a.study_id = b.study_id AND a.arm = b.arm AND a.outcome = b.outcome "
    "AND a.time_point = b.time_point AND a.field = b.field"
)
_AGREEING_NEW_VALUES = {
    # one other extractor: a join over the unique index (study, member, place)
    True: "SELECT b.id FROM extraction_value b JOIN extraction_value a ON a.member_id = ? AND "
    f"{_PLACE_OF_B} AND a.value = b.value WHERE b.member_id = ? AND b.id >= ? ORDER BY b.id",
    # several: every one of them with a value at the place has this one
    False: "SELECT b.id FROM extraction_value b JOIN extraction_value a ON a.member_id IN "
    f"(SELECT value FROM json_each(?)) AND {_PLACE_OF_B} WHERE b.member_id = ? AND b.id >= ? "
    "GROUP BY b.id HAVING min(a.value = b.value) = 1 ORDER BY b.id",
}
"""The row ids of a member's new values (``b.id >= ?``) that agree with the other extractors'."""
_HAS_VALUES_IN = (
    "SELECT EXISTS (SELECT 1 FROM extraction_value WHERE member_id = ? AND study_id IN "
)


def _agreed_in_sqlite(
    session: Session,
    inserts: list[tuple[Any, ...]],
    tails: list[str],
    consensus_events: list[Any],
    study_ids: list[int],
    *,
    actor: str,
    now: str,
    member: int,
    version: int,
) -> int:
    """Insert ``member``'s new value rows ``inserts`` (``_NEW_VALUE_COLUMNS``; ``tails``: each
    one's place as its ledger id's tail) in studies that hold no consensus and none of the
    member's values yet, then record consensus by agreement where SQLite finds it: at each new
    value's place, every other member with a value there has this value (at least one has).
    Appends one ``extraction-consensus`` event (agreement) per study to ``consensus_events`` and
    returns the number of consensus values. ``study_ids``: the studies of the rows.

    The same rows, in the same order, and the same events as the loop in ``_write_chunk`` makes
    when it reads the others' values into Python (``bulk.others_values``): here they are compared
    inside the database, by the unique index on (study, member, place), and only the row ids of
    the agreeing values come back (``benchmarks/check_extraction_outputs.py`` compares the two).
    """
    connection = session.connection()
    first = int(connection.exec_driver_sql(_MAX_VALUE_ID).scalar_one()) + 1
    _insert_values_and_agreements(session, inserts, [], [], now=now, member=member, version=version)
    if not inserts:
        return 0
    studies = "(" + ",".join(str(int(i)) for i in sorted(set(study_ids))) + ")"
    mates = [
        i
        for (i,) in connection.exec_driver_sql("SELECT id FROM member").all()
        if i != member
        and connection.exec_driver_sql(_HAS_VALUES_IN + studies + ")", (i,)).scalar_one()
    ]
    if not mates:
        return 0
    one = len(mates) == 1
    mate: int | str = mates[0] if one else "[" + ",".join(str(int(i)) for i in mates) + "]"
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:  # the ids in one fetch (hundreds of thousands of rows)
        agreeing = [i for (i,) in cursor.execute(_AGREEING_NEW_VALUES[one], (mate, member, first))]
    finally:
        cursor.close()
    if not agreeing:
        return 0
    connection.exec_driver_sql(
        _COPY_AGREED, (AGREEMENT, member, now, "[" + ",".join(map(str, agreeing)) + "]")
    )
    if connection.exec_driver_sql(_MAX_VALUE_ID).scalar_one() == first + len(inserts) - 1:
        positions = [i - first for i in agreeing]  # row ids given in insert order, as checked
    else:  # SQLite chose other row ids: find each new row's position among them
        new_ids = connection.exec_driver_sql(
            "SELECT id FROM extraction_value WHERE member_id = ? AND id >= ? ORDER BY id",
            (member, first),
        ).all()
        at = {row_id: position for position, (row_id,) in enumerate(new_ids)}
        positions = [at[i] for i in agreeing]
    by_study: dict[int, dict[str, Any]] = {}
    for position in positions:
        row = inserts[position]
        # consensus_snapshot, spelled out
        by_study.setdefault(row[0], {})[f"{row[0]}{SEPARATOR}{tails[position]}"] = [
            row[5],
            version,
            row[6],
            row[7],
            AGREEMENT,
            actor,
            None,
            None,
        ]
    consensus_events.extend(
        ExtractionConsensusChanged(
            study=study, change=AGREEMENT, state={"extraction_consensus": agreed}
        )
        for study, agreed in by_study.items()
    )
    return len(positions)


STUDIES_PER_CHUNK = 50
"""A bulk import reads, checks and writes this many studies at a time (memory stays bounded;
it is still one transaction, so a refusal in a later chunk leaves nothing written)."""


def _write(
    session: Session,
    *,
    actor: str,
    member: Member,
    version: int,
    form: Form,
    changes: list[_Change],
    origin: str,
    lines: Mapping[int, Mapping[ValueKey, int]] | None = None,
    path: str = "",
    entered_by: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImportSummary:
    """Check the rules across values, write the rows and their events, update consensus, a
    chunk of studies at a time (``STUDIES_PER_CHUNK``); the summary of all of it.

    ``lines`` gives the line of ``path`` each place of each study came from, for messages;
    ``progress(done, total)`` hears the studies written (0 first, then after each chunk).
    ``entered_by``: the owner entering ``actor``'s values (``access.entering_for``), who then
    writes the events (``on_behalf_of`` naming ``actor``).

    Converted values that used an n this changes are computed again (``_follow_n``), checked
    before anything is written, and written after, one ``extraction-values`` event per study
    (origin ``recomputed: ...``, old and new values), reopening or reaching consensus as any
    changed value does.
    """
    follow = _follow_n(session, member=member, form=form, changes=changes, lines=lines, path=path)
    total = ImportSummary(0, 0, 0, 0, 0)
    if progress is not None:
        progress(0, len(changes))
    for start in range(0, len(changes), STUDIES_PER_CHUNK):
        part = _write_chunk(
            session,
            actor=actor,
            member=member,
            version=version,
            form=form,
            changes=changes[start : start + STUDIES_PER_CHUNK],
            origin=origin,
            lines=lines,
            path=path,
            entered_by=entered_by,
        )
        total = ImportSummary(
            total.changed + part.changed,
            total.unchanged + part.unchanged,
            total.studies + part.studies,
            total.consensus + part.consensus,
            total.reopened + part.reopened,
        )
        if progress is not None:
            progress(min(start + STUDIES_PER_CHUNK, len(changes)), len(changes))
    for change, why, found in follow:
        part = _write_chunk(
            session,
            actor=actor,
            member=member,
            version=version,
            form=form,
            changes=[change],
            origin=why,
            entered_by=entered_by,
        )
        total = ImportSummary(
            total.changed + part.changed,
            total.unchanged,
            total.studies,
            total.consensus + part.consensus,
            total.reopened + part.reopened,
            total.recomputed + tuple(found),
        )
    # A consensus n or converted value reached by agreement (by the tool, or by the server in team
    # mode, which the tool cannot count): the pair agrees.
    if total.consensus or server_agrees(session):
        touched = [
            change
            for change in changes
            if any(
                k.field == recompute.N or p.kind == provenance.CONVERTED
                for k, (_, p) in change.values.items()
            )
        ]
        # Only studies holding a converted consensus value can have a pair to keep in step: one
        # query for all of them (a bulk import of reported values asks nothing more).
        converted = _studies_with_converted_consensus(session, [c.study for c in touched])
        for change in touched:
            if change.study in converted:
                found = _follow_consensus_n(
                    session,
                    actor=entered_by or actor,
                    study=change.study,
                    label=change.label,
                    place=None,
                )
                total = replace(total, recomputed=total.recomputed + tuple(found))
    return total


def _write_chunk(
    session: Session,
    *,
    actor: str,
    member: Member,
    version: int,
    form: Form,
    changes: list[_Change],
    origin: str,
    lines: Mapping[int, Mapping[ValueKey, int]] | None = None,
    path: str = "",
    entered_by: str | None = None,
) -> ImportSummary:
    """``_write`` for a few studies."""
    assert member.id is not None
    me = member.id
    now = audit.log.utc_now()
    affected = [c.study for c in changes]
    stored = _values(session, affected, me)
    consensus = _consensus(session, affected)
    # The extractor's first values in studies with no consensus yet (a first import): agreement
    # is found by SQLite after the rows are written (``_agreed_in_sqlite``); the others' values
    # never leave the database.
    in_sql = (
        AGREE_IN_SQLITE
        and not stored
        and not consensus
        and session.connection().dialect.name == "sqlite"
    )
    theirs_by_study = {} if in_sql else bulk.others_values(session, affected, me)
    new_tails: list[str] = []  # in_sql: each new value row's place tail, in ``inserts`` order
    names = _names(session)
    inserts: list[tuple[Any, ...]] = []
    updates: list[tuple[Any, ...]] = []
    # consensus rows to insert: the index in ``inserts`` of the value row they copy (a value new
    # in this chunk), or the whole row (a changed value)
    c_inserts: list[int | tuple[Any, ...]] = []
    c_updates: list[tuple[Any, ...]] = []
    reopens: list[tuple[Any, ...]] = []
    events: list[Any] = []
    consensus_events: list[Any] = []
    unchanged = changed_count = agreed_count = reopened_count = 0
    places: dict[ValueKey, str] = {}  # place -> its part of a value's or consensus's ledger id
    for change in changes:
        study = change.study
        mine = stored.get(study, {}).get(me, {})
        others = theirs_by_study.get(study, [])  # each other extractor's place tail -> value
        held_by_key = consensus.get(study, {})
        touched: Mapping[ValueKey, tuple[str, Provenance]] = change.values
        if mine:  # the extractor has values in this study: skip the unchanged ones
            touched = {}
            for key, (value, prov) in change.values.items():
                old = mine.get(key)
                if old is not None and old[1:] == (value, version, prov.kind, prov.source):
                    unchanged += 1
                    continue
                touched[key] = (value, prov)
        if not touched:
            continue
        after = {k: v[0] for k, v in touched.items()}
        if mine:
            after = {k: v[1] for k, v in mine.items()} | after
        try:
            cross_check(form, after, touched)
        except InvalidInput as error:
            where = ""
            if lines:
                # the line of the value the message names ("arm 'A', meld at '4 weeks': n (41)
                # exceeds ..."), else of one in its arm and outcome, else the first in form order
                message = str(error)
                ordered = sorted(touched, key=form.order)
                key = next(
                    (k for k in ordered if message.startswith(f"{k.describe()} (")),
                    next(
                        (k for k in ordered if message.startswith(f"arm {k.arm!r}, {k.outcome}")),
                        ordered[0],
                    ),
                )
                at = lines.get(study, {}).get(key)
                where = f"{path}:{at}: " if at is not None else ""
            name = f"{change.label} ({study})" if change.label else str(study)
            raise InvalidInput(f"{where}study {name}, {error}") from None
        state: dict[str, Any] = {}
        agreed: dict[str, Any] = {}
        reopened: dict[str, Any] = {}
        value_prefix = f"{study}{SEPARATOR}{actor}{SEPARATOR}"  # forms.value_id, spelled out
        consensus_prefix = f"{study}{SEPARATOR}"  # forms.consensus_id, spelled out
        changed_count += len(touched)
        other = others[0] if len(others) == 1 else None
        for key, (value, prov) in touched.items():
            old = mine.get(key) if mine else None
            kind, source = prov.kind, prov.source
            tail = places.get(key)
            if tail is None:
                tail = places[key] = SEPARATOR.join(
                    (key.arm, key.outcome, key.time_point, key.field)
                )
            if old is None:
                # _NEW_VALUE_COLUMNS (member, form version and time are the chunk's)
                inserts.append((study, key[1], key[2], key[3], key[0], value, kind, source))
                if in_sql:
                    new_tails.append(tail)
            else:
                updates.append((value, version, kind, source, now, old[0]))
            state[value_prefix + tail] = [value, version, kind, source]  # value_snapshot
            held = held_by_key.get(key) if held_by_key else None
            if held is not None and held[7] is None:  # a consensus in force
                if held[1] == value:
                    continue
                before = old[1] if old is not None else "nothing"
                because = f"{actor} changed {key.describe()} from {before} to {value}"
                reopens.append((now, because, held[0]))
                reopened[consensus_prefix + tail] = consensus_snapshot(
                    *held[1:6], names.get(held[6], f"#{held[6]}"), now, because
                )
                reopened_count += 1
                continue
            if not others:
                continue
            # consensus by agreement: every other extractor with a value here has this one
            if other is not None:
                if other.get(tail) != value:
                    continue
            else:
                theirs = [vals[tail] for vals in others if tail in vals]
                if not theirs or any(v != value for v in theirs):
                    continue
            if held is None:
                if old is None:
                    c_inserts.append(len(inserts) - 1)  # a copy of the value row just listed
                else:
                    c_inserts.append(
                        (
                            study,
                            key.arm,
                            key.outcome,
                            key.time_point,
                            key.field,
                            value,
                            version,
                            kind,
                            source,
                            AGREEMENT,
                            me,
                            now,
                            None,
                            None,
                        )
                    )
            else:
                c_updates.append(
                    (value, version, kind, source, AGREEMENT, me, now, None, None, held[0])
                )
            snapshot = [value, version, kind, source, AGREEMENT, actor, None, None]
            agreed[consensus_prefix + tail] = snapshot  # consensus_snapshot, spelled out
            agreed_count += 1
        events.append(
            ExtractionValuesChanged(
                study=study,
                extractor=actor,
                origin=origin,
                state={"extraction_value": state},
                on_behalf_of=actor if entered_by else None,
            )
        )
        for kind, found in ((AGREEMENT, agreed), (REOPENED, reopened)):
            if found:
                consensus_events.append(
                    ExtractionConsensusChanged(
                        study=study, change=kind, state={"extraction_consensus": found}
                    )
                )
    if in_sql:
        agreed_count = _agreed_in_sqlite(
            session,
            inserts,
            new_tails,
            consensus_events,
            affected,
            actor=actor,
            now=now,
            member=me,
            version=version,
        )
    else:
        _insert_values_and_agreements(
            session, inserts, updates, c_inserts, now=now, member=me, version=version
        )
    _many(session, _UPDATE_CONSENSUS, c_updates)
    _many(session, _REOPEN_CONSENSUS, reopens)
    audit.log.record_many(session, entered_by or actor, events + consensus_events)
    # In team mode the login may not read the others' values: the server compares (agreement).
    agree_on_server(session, sorted({c.study for c in changes}))
    return ImportSummary(changed_count, unchanged, len(events), agreed_count, reopened_count)


def set_value(
    session: Session,
    *,
    actor: str,
    study: str | int,
    field: str,
    value: str,
    arm: str = "",
    outcome: str = "",
    time_point: str = "",
    source_kind: str = "reported",
    source: str | None = None,
) -> ValueView:
    """Set one of ``actor``'s values for ``study`` (its id or label) under the current form.

    ``field`` is a study field (no arm), an arm field (``arm``) or an outcome's statistic
    (``arm``, ``outcome``, ``time_point``). Checked like every value (``forms.check_field``,
    ``cross_check``); InvalidInput names the study, arm, field and rule. An identical value
    writes nothing. A changed value after consensus reopens that consensus; a value identical to
    every other extractor's becomes consensus (``agreement``).
    """
    member = require(session, actor, Action.EXTRACT, doing="extract data")
    version, form = current_form(session)
    ref = _study_index(session, actor).find(str(study))
    key = ValueKey(field.strip(), arm.strip(), outcome.strip(), time_point.strip())
    try:
        checked = form.check_value(key, value)
    except InvalidInput as error:
        raise InvalidInput(f"study {ref.label} ({ref.study_id}), {error}") from None
    try:
        prov = _provenance(source_kind, source)
        _check_converted(key, checked, prov)
    except InvalidInput as error:
        raise InvalidInput(f"study {ref.label} ({ref.study_id}), {error}") from None
    summary = _write(
        session,
        actor=actor,
        member=member,
        version=version,
        form=form,
        changes=[_Change(ref.study_id, {key: (checked, prov)}, ref.label)],
        origin="set",
    )
    view = ValueView.entered(ref, actor, key, checked, version, prov)
    return replace(view, recomputed=summary.recomputed)


def _read_long(path: str) -> tuple[list[str], Iterator[tuple[list[str], int]], str]:
    """The header, rows (lists of cells) and line numbers of a long-layout CSV or XLSX file,
    and its sha256. A CSV is UTF-8 (BOM allowed) or UTF-16 with a BOM (``csvfiles``). Blank rows
    and rows of empty cells are skipped; a row starting with ``#`` is refused as a comment line
    naming its line (as ``csvfiles.csv_rows`` does for the other CSV files)."""
    import csv
    import hashlib
    import io

    from reviewtool.csvfiles import _decode

    try:
        if not path.lower().endswith((".xlsx", ".xlsm")):
            check_lines(path, what="extraction")
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot read the extraction file ({exc.strerror})") from None
    digest = hashlib.sha256(data).hexdigest()
    if path.lower().endswith((".xlsx", ".xlsm")):
        import pandas as pd

        try:
            frame = pd.read_excel(io.BytesIO(data), dtype=str, keep_default_na=False)
        except Exception as exc:  # openpyxl raises many kinds for a damaged file
            raise InvalidInput(f"{path}: not a readable XLSX file ({exc})") from None
        texts = (
            (["" if v is None else str(v) for v in r], i + 2)
            for i, r in enumerate(frame.itertuples(index=False))
        )
        cells = ((row, line) for row, line in texts if any(cell.strip() for cell in row))
        return [str(c) for c in frame.columns], cells, digest
    reader = csv.reader(io.StringIO(_decode(path, data), newline=""))
    try:
        header = next(reader, [])
    except csv.Error as exc:
        raise InvalidInput(f"{path}:1: not a readable CSV header ({exc})") from None

    def rows() -> Iterator[tuple[list[str], int]]:
        start = reader.line_num + 1
        try:
            for row in reader:
                if row and (row[0].strip() or any(cell.strip() for cell in row)):
                    if row[0].startswith("#"):
                        raise InvalidInput(
                            f"{path}:{start}: a comment line (it starts with '#'), and an "
                            "extraction file has none: delete the line"
                        )
                    yield row, start
                start = reader.line_num + 1
        except csv.Error as exc:
            raise InvalidInput(
                f"{path}:{reader.line_num}: not a readable CSV row ({exc})"
            ) from None

    return [h.strip() for h in header], rows(), digest


def _place_column(message: str) -> str:
    """The long-layout column a place error is about (from ``Form.spec``'s message)."""
    if message.startswith("time point"):
        return "time_point"
    if message.startswith("outcome") and "needs an arm" not in message:
        return "outcome"
    if "arm" in message.split(":")[-1] and ("--arm" in message or "give no arm" in message):
        return "arm"
    if "name the outcome" in message:
        return "outcome"
    return "field"


CHECKED_PER_FIELD = 100_000
"""A bulk import checks each distinct text of a field once (``check_field`` is a function of the
field and the text); it remembers this many per field."""


@bulk.no_cycle_collection()
def import_values(
    session: Session,
    *,
    actor: str,
    path: str,
    on_behalf_of: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImportSummary:
    """Import ``actor``'s values from a long-layout CSV or XLSX file, all or nothing.

    Columns (docs/extraction.md): study (id or "<surname> <year>"), arm, outcome, time_point,
    field, value, source_kind, source, extractor (optional; when given it must be the actor:
    nobody imports on another's behalf). A bad row raises InvalidInput naming the file, line and
    column; nothing is written then. Returns what was written.

    ``on_behalf_of``: an owner (``actor``) enters another extractor's values
    (``access.entering_for``): the values are theirs, checked and blinded as theirs (the
    ``extractor`` column, when given, must name them); the events are written by the owner and
    name the extractor (``on_behalf_of``). PermissionDenied for anyone but an owner.
    ``progress(done, total)`` hears the studies of the file written so far, once the whole file
    is read and checked: ``(0, total)``, then after each ``STUDIES_PER_CHUNK`` studies.
    """
    actor, entered_by = entering_for(session, actor, on_behalf_of, doing="import extracted data")
    doing = None if entered_by else "import extracted data"
    member = require(session, actor, Action.EXTRACT, doing=doing, entered_by=entered_by)
    version, form = current_form(session)
    index = _study_index(session, actor)
    header, rows, digest = _read_long(path)
    missing = [c for c in LONG_COLUMNS[:6] if c not in header]
    if missing:
        raise InvalidInput(f"{path}:1: missing column {', '.join(missing)}")
    unknown_columns(path, header, (*LONG_COLUMNS, CONVERT_FROM), "extraction values")
    at = {name: header.index(name) for name in LONG_COLUMNS if name in header}
    width = len(header)
    by_study: dict[int, dict[ValueKey, tuple[str, Provenance]]] = {}
    where: dict[int, dict[ValueKey, int]] = {}  # study -> place -> line
    found_study: dict[str, StudyRef] = {}
    specs: dict[tuple[bool, str, str, str], FieldSpec] = {}
    # Caches keyed by the cells as read (a bulk file repeats its places, values and sources):
    # place cells -> (place, its field, that field's checked values by text); provenance cells.
    places: dict[tuple[str, str, str, str], tuple[ValueKey, FieldSpec, dict[str, str]]] = {}
    checked_by_field: dict[int, dict[str, str]] = {}
    prov_cache: dict[tuple[str, str], Provenance] = {}
    i_study, i_arm, i_outcome, i_time, i_field, i_value = (at[c] for c in LONG_COLUMNS[:6])
    i_kind, i_source, i_who = (at.get(c) for c in LONG_COLUMNS[6:])
    pending: list[tuple[list[str], int]] = []  # convert_from rows: made into values below
    if CONVERT_FROM in header:
        rows = _without_conversions(rows, header.index(CONVERT_FROM), pending)
    cells_of = itemgetter(i_field, i_arm, i_outcome, i_time)
    kind_of = itemgetter(i_kind) if i_kind is not None else lambda row: ""
    source_of = itemgetter(i_source) if i_source is not None else lambda row: ""
    # the study of the row before, and its values and lines (a file lists a study's rows together)
    last_study: str | None = None
    ref = StudyRef(0, "", "", None, None, ())
    values: dict[ValueKey, tuple[str, Provenance]] = {}
    lines: dict[ValueKey, int] = {}
    for row, line in rows:
        if len(row) != width:
            if len(row) > width:
                raise InvalidInput(
                    f"{path}:{line}: {counted(len(row) - width, 'more field', 'more fields')} than the header has"
                )
            row = row + [""] * (width - len(row))
        try:
            if i_who is not None and row[i_who] != actor and row[i_who].strip() not in ("", actor):
                raise InvalidInput(
                    f"column extractor: {row[i_who].strip()!r} is not "
                    + (f"{actor}, whose values these are" if entered_by else f"you ({actor})")
                    + "; an owner enters another member's values with --on-behalf-of NAME"
                )
            if row[i_study] != last_study:
                last_study = row[i_study]
                found = found_study.get(last_study)
                if found is None:
                    try:
                        found = found_study[last_study] = index.find(last_study)
                    except (InvalidInput, NotFound) as error:
                        last_study = None
                        raise InvalidInput(f"column study: {error}") from None
                ref = found
                values = by_study.setdefault(ref.study_id, {})
                lines = where.setdefault(ref.study_id, {})
            cells = cells_of(row)
            place = places.get(cells)
            if place is None:
                key = ValueKey(*(cell.strip() for cell in cells))
                shape = (bool(key.arm), key.outcome, key.time_point, key.field)
                spec = specs.get(shape)
                if spec is None:
                    try:
                        spec = specs[shape] = form.spec(key)
                    except InvalidInput as error:
                        message = f"{_place_column(str(error))}: study {ref.label}, {error}"
                        raise InvalidInput(f"column {message}") from None
                known = checked_by_field.setdefault(id(spec), {})
                place = places[cells] = (key, spec, known)
            key, spec, known = place
            text = row[i_value]
            checked = known.get(text)
            if checked is None:
                try:
                    if SEPARATOR in key.arm:
                        form.check_value(key, text)  # raises, naming the arm
                    checked = check_field(spec, text)
                except InvalidInput as error:
                    message = str(error)
                    if not message.startswith(key.describe()):
                        message = f"{key.describe()}: {message}"
                    raise InvalidInput(f"column value: study {ref.label}, {message}") from None
                if len(known) < CHECKED_PER_FIELD:
                    known[text] = checked
            pk = (kind_of(row), source_of(row))
            prov = prov_cache.get(pk)
            if prov is None:
                try:
                    prov = prov_cache[pk] = _provenance(pk[0].strip() or "reported", pk[1].strip())
                except InvalidInput as error:
                    raise InvalidInput(f"column source_kind: {error}") from None
            if prov.kind == provenance.CONVERTED:
                try:
                    _check_converted(key, checked, prov)
                except InvalidInput as error:
                    raise InvalidInput(f"column source: study {ref.label}, {error}") from None
        except InvalidInput as error:
            raise InvalidInput(f"{path}:{line}: {error}") from None
        entry = (checked, prov)
        if values.setdefault(key, entry) is not entry:
            raise InvalidInput(
                f"{path}:{line}: study {ref.label}, {key.describe()} is given twice (also "
                f"{path}:{lines[key]})"
            )
        lines[key] = line
    if pending:
        _add_conversions(session, member, form, index, path, header, pending, by_study, where)
    changes = [
        _Change(study, values, index.by_id[study].label)
        for study, values in sorted(by_study.items())
    ]
    return _write(
        session,
        actor=actor,
        member=member,
        version=version,
        form=form,
        changes=changes,
        origin=f"import {Path(path).name} {digest}",
        lines=where,
        path=path,
        entered_by=entered_by,
        progress=progress,
    )


# --- consensus -----------------------------------------------------------------------------------


def _sees_others(session: Session, actor: str) -> bool:
    return sight(session, actor).sees_others(EXTRACTION)


def _require_sight(session: Session, actor: str, doing: str) -> None:
    if not _sees_others(session, actor):
        raise PermissionDenied(
            f"extraction is blind: you see your own values and the consensus values only, so you "
            f"cannot {doing}; an owner ends blinding with `reviewtool extract unblind`"
        )


@bulk.no_cycle_collection()
def compare(session: Session, *, actor: str, study: str | int | None = None) -> list[Disagreement]:
    """Every place where the extractors of a study differ (one has no value, or values differ)
    and no consensus is in force, field by field in the form's order; studies by id.

    Only studies with two or more extractors are compared (a reopened consensus is listed even
    with one extractor left). PermissionDenied while extraction is blind to ``actor`` (the list is
    the others' values). The places with a consensus in force are left out by the database
    (``bulk.open_places``), so a review where nearly everything is agreed reads little.
    """
    require(session, actor, Action.READ, doing="compare extractions")
    _require_sight(session, actor, "compare extractions")
    index = _study_index(session, actor)
    wanted = None if study is None else [index.find(str(study)).study_id]
    _, form = current_form(session)
    names = _names(session)
    # study -> place -> (member id -> value, the consensus there: None or (reopened_at, because))
    places: dict[int, dict[ValueKey, tuple[dict[int, str], tuple[str, str | None] | None]]] = {}
    for study_id, member, key, value, reopened_at, because in bulk.open_places(session, wanted):
        if study_id not in index.by_id:
            continue  # a study no longer included
        at = places.setdefault(study_id, {})
        held = at.get(key)
        if held is None:
            held = at[key] = ({}, None if reopened_at is None else (reopened_at, because))
        held[0][member] = value
    if not places:
        return []
    members, ranks = bulk.extractors_and_arms(session, wanted)
    found: list[Disagreement] = []
    for study_id in sorted(places):
        who = sorted(members.get(study_id, ()), key=lambda m: names.get(m, ""))
        arm_rank = ranks.get(study_id, {})
        label = index.label(study_id)
        at = places[study_id]
        for key in sorted(at, key=lambda k: (form.order(k, arm_rank.get(k.arm, 0)), k)):
            entered, reopened = at[key]
            values = {names[m]: entered.get(m) for m in who}
            if reopened is None and (len(who) < 2 or len(set(values.values())) == 1):
                continue  # agreed (or one extractor), and no consensus reopened
            found.append(
                Disagreement(
                    study_id,
                    label,
                    key.arm,
                    key.outcome,
                    key.time_point,
                    key.field,
                    values,
                    None if reopened is None else reopened[1],
                )
            )
    return found


def _decide(
    session: Session,
    *,
    actor: str,
    member: Member,
    ref: StudyRef,
    key: ValueKey,
    value: str,
    version: int,
    prov: Provenance,
    how: str,
) -> ConsensusView:
    assert member.id is not None
    """Record the consensus value at ``key`` (``how``: agreement | adjudicator), then bring the
    converted consensus values at its arm, outcome and time point onto the consensus n there
    (``_follow_consensus_n``), whichever of the two was decided first."""
    held = _consensus(session, [ref.study_id]).get(ref.study_id, {}).get(key)
    now = audit.log.utc_now()
    decided = (value, version, prov.kind, prov.source, how, member.id, now, None, None)
    if held is None:
        where = (ref.study_id, key.arm, key.outcome, key.time_point, key.field)
        _many(session, _insert_sql("extraction_consensus", _CONSENSUS_COLUMNS), [where + decided])
    else:
        _many(session, _UPDATE_CONSENSUS, [(*decided, held[0])])
    snapshot = consensus_snapshot(value, version, prov.kind, prov.source, how, actor, None, None)
    audit.record(
        session,
        actor,
        ExtractionConsensusChanged(
            study=ref.study_id,
            change=how,
            state={"extraction_consensus": {consensus_id(ref.study_id, key): snapshot}},
        ),
    )
    followed: list[recompute.Recomputed] = []
    if key.outcome and (key.field == recompute.N or prov.kind == provenance.CONVERTED):
        followed = _follow_consensus_n(
            session, actor=actor, study=ref.study_id, label=ref.label, place=key
        )
    value, source = next(
        ((r.new, r.source) for r in followed if r.key == key), (value, prov.source)
    )
    return ConsensusView(
        ref.study_id,
        ref.label,
        key.arm,
        key.outcome,
        key.time_point,
        key.field,
        value,
        version,
        prov.kind,
        source,
        how,
        actor,
        None,
        tuple(followed),
    )


def agree(
    session: Session,
    *,
    actor: str,
    study: str | int,
    field: str,
    take: str,
    arm: str = "",
    outcome: str = "",
    time_point: str = "",
) -> ConsensusView:
    """Record consensus by agreement: the extractors agreed on ``take``'s value (with its
    provenance). The actor must be one of the study's extractors (once extraction is not blind
    to them) or an owner/adjudicator. InvalidInput when ``take`` has no value there; a consensus
    in force is replaced."""
    member = require(session, actor, Action.READ, doing="record an extraction consensus")
    _require_sight(session, actor, "agree on a value")
    ref = _study_index(session, actor).find(str(study))
    key = ValueKey(field.strip(), arm.strip(), outcome.strip(), time_point.strip())
    names = _names(session)
    by_member = _values(session, [ref.study_id]).get(ref.study_id, {})
    extractors = {names[m] for m in by_member}
    roles = sight(session, actor).roles
    if actor not in extractors and not roles & {Role.OWNER, Role.ADJUDICATOR}:
        raise PermissionDenied(
            f"{actor!r} has extracted nothing from study {ref.label}: consensus by agreement is "
            "the extractors' (or an owner's or adjudicator's)"
        )
    chosen = _taken(session, ref, take, [key]).get(key)
    if chosen is None:
        raise InvalidInput(f"{take!r} has no value for study {ref.label}, {key.describe()}")
    _, form = current_form(session)
    form.check_value(key, chosen[1])
    return _decide(
        session,
        actor=actor,
        member=member,
        ref=ref,
        key=key,
        value=chosen[1],
        version=chosen[2],
        prov=Provenance(chosen[3], chosen[4]),
        how=AGREEMENT,
    )


def resolve(
    session: Session,
    *,
    actor: str,
    study: str | int,
    field: str,
    value: str,
    arm: str = "",
    outcome: str = "",
    time_point: str = "",
    source_kind: str = "reported",
    source: str | None = None,
) -> ConsensusView:
    """Record an adjudicator's consensus value (adjudicators only), checked like any value
    (and across values against the consensus of the study)."""
    member = require(session, actor, Action.RESOLVE_CONFLICT, doing="resolve an extraction value")
    version, form = current_form(session)
    ref = _study_index(session, actor).find(str(study))
    key = ValueKey(field.strip(), arm.strip(), outcome.strip(), time_point.strip())
    try:
        checked = form.check_value(key, value)
    except InvalidInput as error:
        raise InvalidInput(f"study {ref.label} ({ref.study_id}), {error}") from None
    prov = _provenance(source_kind, source)
    _check_converted(key, checked, prov)
    if duties_separate(session):
        assert member.id is not None
        mine = _values(session, [ref.study_id], member_id=member.id).get(ref.study_id, {})
        if key in mine.get(member.id, {}):
            raise own_work_refused(
                member.name,
                f"extracted a value for study {ref.label} ({ref.study_id}), {key.describe()}",
                "its consensus value",
            )
    held = {k: c[1] for k, c in _consensus(session, [ref.study_id]).get(ref.study_id, {}).items()}
    held[key] = checked
    try:
        cross_check(form, held, [key])
    except InvalidInput as error:
        raise InvalidInput(f"study {ref.label} ({ref.study_id}), {error}") from None
    return _decide(
        session,
        actor=actor,
        member=member,
        ref=ref,
        key=key,
        value=checked,
        version=version,
        prov=prov,
        how=ADJUDICATOR,
    )


@dataclass(frozen=True)
class ResolvedFrom:
    """What ``resolve_all_from`` did: the consensus values recorded (one per open disagreement
    where the extractor has a value) and the disagreements left open (the extractor has none
    there)."""

    resolved: list[ConsensusView]
    left_open: list[Disagreement]


def _refuse_own_work(
    session: Session, member: Member, ref: StudyRef, keys: Iterable[ValueKey]
) -> None:
    """Separation of duties (``adjudication.separate_duties``): PermissionDenied when ``member``
    extracted a value at one of ``keys`` of the study."""
    if not duties_separate(session):
        return
    assert member.id is not None
    mine = _values(session, [ref.study_id], member_id=member.id).get(ref.study_id, {})
    own = mine.get(member.id, {})
    for key in keys:
        if key in own:
            raise own_work_refused(
                member.name,
                f"extracted a value for study {ref.label} ({ref.study_id}), {key.describe()}",
                "its consensus value",
            )


def _taken(
    session: Session, ref: StudyRef, take: str, keys: Iterable[ValueKey]
) -> dict[ValueKey, _Stored]:
    """``take``'s stored values of the study at ``keys`` (those they have); InvalidInput when
    ``take`` is not a member."""
    names = _names(session)
    ids = [i for i, n in names.items() if n == take.strip()]
    if not ids:
        raise InvalidInput(f"{take!r} is not a member of this review")
    theirs = _values(session, [ref.study_id], member_id=ids[0]).get(ref.study_id, {})
    held = theirs.get(ids[0], {})
    return {key: held[key] for key in keys if key in held}


def _resolve_taken(
    session: Session,
    *,
    actor: str,
    member: Member,
    ref: StudyRef,
    take: str,
    keys: list[ValueKey],
) -> list[ConsensusView]:
    """Record ``take``'s values at ``keys`` as the adjudicator's consensus values, with their
    form version and provenance: each checked under the current form, all of them across values
    against the study's consensus, before any is written."""
    version, form = current_form(session)
    found = _taken(session, ref, take, keys)
    held = {k: c[1] for k, c in _consensus(session, [ref.study_id]).get(ref.study_id, {}).items()}
    for key in keys:
        stored = found[key]
        try:
            form.check_value(key, stored[1])
        except InvalidInput as error:
            raise InvalidInput(
                f"study {ref.label} ({ref.study_id}), {take}'s value no longer fits form "
                f"version {version}: {error}"
            ) from None
        held[key] = stored[1]
    try:
        cross_check(form, held, keys)
    except InvalidInput as error:
        raise InvalidInput(f"study {ref.label} ({ref.study_id}), {error}") from None
    return [
        _decide(
            session,
            actor=actor,
            member=member,
            ref=ref,
            key=key,
            value=found[key][1],
            version=found[key][2],
            prov=Provenance(found[key][3], found[key][4]),
            how=ADJUDICATOR,
        )
        for key in keys
    ]


def resolve_from(
    session: Session,
    *,
    actor: str,
    study: str | int,
    field: str,
    take: str,
    arm: str = "",
    outcome: str = "",
    time_point: str = "",
) -> ConsensusView:
    """The adjudicator's consensus value at one place taken from extractor ``take``: their value
    with its provenance (source kind, source, form version), recorded as ``adjudicator`` by
    ``actor`` (adjudicators only; ``extract resolve ... --from NAME``).

    Checked as ``resolve`` checks a value (the current form, the rules across values against
    the study's consensus); separation of duties holds (an adjudicator who extracted a value
    there may not resolve it). InvalidInput when ``take`` has no value there.
    """
    member = require(session, actor, Action.RESOLVE_CONFLICT, doing="resolve an extraction value")
    ref = _study_index(session, actor).find(str(study))
    key = ValueKey(field.strip(), arm.strip(), outcome.strip(), time_point.strip())
    current_form(session)[1].spec(key)
    _refuse_own_work(session, member, ref, [key])
    if key not in _taken(session, ref, take, [key]):
        raise InvalidInput(f"{take!r} has no value for study {ref.label}, {key.describe()}")
    (view,) = _resolve_taken(session, actor=actor, member=member, ref=ref, take=take, keys=[key])
    return view


def resolve_all_from(session: Session, *, actor: str, study: str | int, take: str) -> ResolvedFrom:
    """Resolve every open disagreement of one study (``compare``: values differing or missing,
    and consensus reopened) with extractor ``take``'s value there, with its provenance
    (adjudicators only; ``extract resolve STUDY --all --from NAME``). One ``extraction-consensus``
    event per place, as ``resolve``.

    Places where ``take`` has no value are left open (returned in ``left_open``). All or
    nothing: separation of duties (any of the places extracted by the adjudicator) and the
    checks of ``resolve_from`` are applied to every place before one is written.
    """
    member = require(session, actor, Action.RESOLVE_CONFLICT, doing="resolve extraction values")
    ref = _study_index(session, actor).find(str(study))
    open_ = compare(session, actor=actor, study=ref.study_id)
    keys = [ValueKey(d.field, d.arm, d.outcome, d.time_point) for d in open_]
    _refuse_own_work(session, member, ref, keys)
    found = _taken(session, ref, take, keys)
    taken = [k for k in keys if k in found]
    left = [d for d, k in zip(open_, keys, strict=True) if k not in found]
    resolved = _resolve_taken(session, actor=actor, member=member, ref=ref, take=take, keys=taken)
    return ResolvedFrom(resolved, left)


def unblind(session: Session, *, actor: str) -> bool:
    """End blinding of extraction (owners only), recorded as a ``stage-unblinded`` event;
    False (nothing recorded) when it was not blind. It is never turned back on."""
    require(session, actor, Action.CHANGE_SETTINGS, doing="end blinding (extract unblind)")
    key = "extraction.blind"
    if setting(session, key) is False:
        return False
    row = session.get(ReviewSetting, key)
    before = json.loads(row.value) if row is not None else None
    if row is None:
        row = ReviewSetting(key=key, value="")
    row.value = audit.log.canonical_json(False)
    session.add(row)
    session.flush()
    audit.record(
        session, actor, StageUnblinded(stage=EXTRACTION, key=key, before=before, after=False)
    )
    return True


# --- reading -------------------------------------------------------------------------------------


@bulk.no_cycle_collection()
def status(session: Session, *, actor: str) -> list[StatusRow]:
    """Per study and extractor: values entered, disagreements open, consensus values in force.

    While extraction is blind to ``actor`` only their own rows are given, without disagreements.
    """
    require(session, actor, Action.READ, doing="read extraction status")
    index = _study_index(session, actor)
    others = _sees_others(session, actor)
    names = _names(session)
    stored = _values(session)
    consensus = _consensus(session)
    open_by_study: dict[int, int] = defaultdict(int)
    if others:
        for d in compare(session, actor=actor):
            open_by_study[d.study_id] += 1
    rows = []
    for study_id in sorted(set(stored) | set(consensus)):
        if study_id not in index.by_id:
            continue
        agreed = sum(1 for c in consensus.get(study_id, {}).values() if c[7] is None)
        by_member = stored.get(study_id, {})
        who: list[int | None] = sorted(by_member, key=lambda m: names.get(m or 0, ""))
        if not others:
            who = [m for m in who if m is not None and names.get(m) == actor]
        for m in who or ([] if not agreed else [None]):
            rows.append(
                StatusRow(
                    study_id,
                    index.label(study_id),
                    "" if m is None else names[m],
                    0 if m is None else len(by_member[m]),
                    open_by_study[study_id] if others else None,
                    agreed,
                )
            )
    return rows


@bulk.no_cycle_collection()
def values(
    session: Session, *, actor: str, extractor: str | None = None, study: str | int | None = None
) -> list[ValueView]:
    """Values in the form's order: ``extractor``'s (the actor's own by default), or the
    consensus values in force when ``extractor`` is "consensus". Another's values only once
    extraction is not blind to the actor (PermissionDenied)."""
    return [ValueView(*row) for row in _value_rows(session, actor, extractor, study)]


def _value_rows(
    session: Session, actor: str, extractor: str | None, study: str | int | None = None
) -> list[tuple[Any, ...]]:
    """``values`` as tuples in ``ValueView``'s field order (one query, ``bulk.ordered``)."""
    require(session, actor, Action.READ, doing="read extracted values")
    who = extractor or actor
    if who not in (actor, "consensus"):
        _require_sight(session, actor, f"read {who}'s values")
    index = _study_index(session, actor)
    wanted = None if study is None else [index.find(str(study)).study_id]
    _, form = current_form(session)
    labels = {s: index.label(s) for s in (wanted if wanted is not None else index.by_id)}
    if who == "consensus":
        return bulk.ordered(session, form, labels, member_id=None, who="", study_ids=wanted)
    ids = {n: i for i, n in _names(session).items()}
    if who not in ids:
        raise NotFound(f"{who!r} is not a member of this review")
    return bulk.ordered(session, form, labels, member_id=ids[who], who=who, study_ids=wanted)


@bulk.no_cycle_collection()
def export_table(
    session: Session, *, actor: str, layout: str = "long", extractor: str | None = None
) -> Table:
    """A table of values (the consensus values unless ``extractor`` names a member):

    * ``long``: ``LONG_COLUMNS``, one row per value (``extract import`` reads it back);
    * ``wide``: one row per study × arm × outcome × time point: mean, sd, n, events, total,
      each with its ``_source_kind`` and ``_source``;
    * ``characteristics``: the study-characteristics table (the seed's Table 1 layout): year,
      first_author, then the form's ``characteristics`` columns (default: the study fields, then
      ``<arm field>_<arm>`` for each arm), one row per study, newest first.
    """
    rows = _value_rows(session, actor, extractor or "consensus")
    if layout == "long":
        # ValueView's order: study_id, study, extractor, arm, outcome, time point, field, value,
        # form version, source kind, source
        return Table(
            LONG_COLUMNS,
            [
                {
                    "study": study,
                    "arm": arm,
                    "outcome": outcome,
                    "time_point": time_point,
                    "field": name,
                    "value": value,
                    "source_kind": kind,
                    "source": source,
                    "extractor": who,
                }
                for _, study, who, arm, outcome, time_point, name, value, _, kind, source in rows
            ],
        )
    if layout == "wide":
        columns = ["study", "study_id", "arm", "outcome", "time_point", *STATISTIC_COLUMNS]
        columns += [f"{s}_{p}" for s in STATISTIC_COLUMNS for p in ("source_kind", "source")]
        cells: dict[tuple[int, str, str, str], dict[str, Any]] = {}
        named = {f: (f"{f}_source_kind", f"{f}_source") for f in STATISTIC_COLUMNS}
        for study_id, study, _, arm, outcome, time_point, name, value, _, kind, source in rows:
            if not outcome:
                continue
            cell = cells.get((study_id, arm, outcome, time_point))
            if cell is None:
                cell = cells[(study_id, arm, outcome, time_point)] = {
                    "study": study,
                    "study_id": study_id,
                    "arm": arm,
                    "outcome": outcome,
                    "time_point": time_point,
                }
            kind_column, source_column = named.get(name) or (
                f"{name}_source_kind",
                f"{name}_source",
            )
            cell[name] = value
            cell[kind_column] = kind
            cell[source_column] = source
        return Table(tuple(columns), list(cells.values()))
    if layout == "characteristics":
        return _characteristics(session, actor, [ValueView(*row) for row in rows])
    raise InvalidInput(f"layout {layout!r} is not long, wide or characteristics")


def _characteristics(session: Session, actor: str, rows: list[ValueView]) -> Table:
    _, form = current_form(session)
    refs = {s.study_id: s for s in studies(session, actor=actor)}
    by_study: dict[int, dict[str, str]] = defaultdict(dict)
    arms: list[str] = []
    for v in rows:
        if v.outcome:
            continue
        if v.arm:
            if v.arm not in arms:
                arms.append(v.arm)
            by_study[v.study_id][f"{v.field}_{v.arm}"] = v.value
        else:
            by_study[v.study_id][v.field] = v.value
    columns = list(form.characteristics) or [f.key for f in form.fields] + [
        f"{f.key}_{arm}" for f in form.arm_fields if f.key != "name" for arm in arms
    ]
    # The reference's year and first author lead, unless the form has its own column for them
    # (the seed's form: publication_year, first_author), which would print them twice.
    own = {"year": ("year", "publication_year"), "first_author": ("first_author",)}
    lead = [c for c, keys in own.items() if not any(k in columns for k in keys)]
    table = []
    for study_id, found in by_study.items():
        ref = refs.get(study_id)
        if ref is None:
            continue
        row = {"year": ref.year, "first_author": ref.first_author}
        table.append(
            {c: row[c] for c in lead}
            | {c: found.get(c, "") for c in columns}
            | {"_id": study_id, "_year": ref.year}
        )
    table.sort(key=lambda r: (-int(r["_year"] or 0), int(r["_id"] or 0)))
    for r in table:
        del r["_id"], r["_year"]
    return Table((*lead, *columns), table)


def analysis_rows(
    session: Session, *, actor: str, outcome: str | None = None, time_point: str | None = None
) -> list[AnalysisRow]:
    """The consensus values as plain rows for the analysis stage: one per study × arm × outcome ×
    time point (numbers as float/int; a statistic without consensus is None), in the form's
    order. Filtered by ``outcome`` and ``time_point`` when given (InvalidInput when not on the
    form)."""
    require(session, actor, Action.READ, doing="read consensus values")
    _, form = current_form(session)
    if outcome is not None:
        spec = form.outcome(outcome)
        if time_point is not None and time_point not in spec.time_points:
            raise InvalidInput(f"time point {time_point!r} is not one of outcome {outcome}'s")
    index = _study_index(session, actor)
    cells: dict[tuple[int, str, str, str], dict[str, Any]] = {}
    rank: dict[tuple[int, str], int] = {}
    for study_id, held in sorted(_consensus(session).items()):
        if study_id not in index.by_id:
            continue
        for key, c in held.items():
            if not key.outcome or c[7] is not None:
                continue
            if (outcome is not None and key.outcome != outcome) or (
                time_point is not None and key.time_point != time_point
            ):
                continue
            cell = cells.setdefault((study_id, key.arm, key.outcome, key.time_point), {})
            rank[(study_id, key.arm)] = min(rank.get((study_id, key.arm), c[0]), c[0])
            number = float(c[1]) if key.field in ("mean", "sd") else int(c[1])
            cell[key.field] = number
            cell["form_version"] = max(cell.get("form_version", 0), c[2])
    found = []
    for (study_id, arm, out, time), stats in cells.items():
        spec = form.outcome(out)
        found.append(
            AnalysisRow(study_id, index.label(study_id), arm, out, spec.kind, time, **stats)
        )
    found.sort(
        key=lambda r: (
            form.order(ValueKey("", r.arm, r.outcome, r.time_point))[:3],
            r.study_id,
            rank[(r.study_id, r.arm)],
        )
    )
    return found


def study_sheet(session: Session, *, actor: str, study: str | int) -> StudySheet:
    """One study as ``actor`` extracts it: the form, their values, the consensus values, the arms
    entered, and the study's reports (where to read)."""
    require(session, actor, Action.READ, doing="read extracted values")
    version, form = current_form(session)
    index = _study_index(session, actor)
    ref = index.find(str(study))
    mine = {v.key: v for v in values(session, actor=actor, study=ref.study_id)}
    agreed = {
        key: ConsensusView(
            ref.study_id,
            ref.label,
            key.arm,
            key.outcome,
            key.time_point,
            key.field,
            c[1],
            c[2],
            c[3],
            c[4],
            c[5],
            _names(session).get(c[6], ""),
            c[8],
        )
        for key, c in _consensus(session, [ref.study_id]).get(ref.study_id, {}).items()
    }
    arms: list[str] = []
    for key in [*mine, *agreed]:
        if key.arm and key.arm not in arms:
            arms.append(key.arm)
    reports = [
        (rid or 0, kind, location or reason or "")
        for rid, kind, location, reason in session.exec(
            select(
                FullTextReport.id,
                FullTextReport.kind,
                FullTextReport.location,
                FullTextReport.reason,
            )
            .where(col(FullTextReport.reference_id).in_(ref.references))
            .order_by(col(FullTextReport.id))
        ).all()
    ]
    return StudySheet(ref, version, form, arms, mine, agreed, reports)


def clear_value(
    session: Session,
    *,
    actor: str,
    study: str | int,
    field: str,
    arm: str = "",
    outcome: str = "",
    time_point: str = "",
) -> bool:
    """Remove one of ``actor``'s values (a form screen emptying a cell); False when there was
    none. A consensus in force there is reopened (the extraction changed after consensus)."""
    member = require(session, actor, Action.EXTRACT, doing="extract data")
    assert member.id is not None
    ref = _study_index(session, actor).find(str(study))
    key = ValueKey(field.strip(), arm.strip(), outcome.strip(), time_point.strip())
    mine = _values(session, [ref.study_id], member.id).get(ref.study_id, {}).get(member.id, {})
    old = mine.get(key)
    if old is None:
        return False
    session.execute(delete(ExtractionValue).where(col(ExtractionValue.id) == old[0]))
    events: list[Any] = [
        ExtractionValuesChanged(
            study=ref.study_id,
            extractor=actor,
            origin="clear",
            state={"extraction_value": {value_id(ref.study_id, actor, key): None}},
        )
    ]
    held = _consensus(session, [ref.study_id]).get(ref.study_id, {}).get(key)
    if held is not None and held[7] is None:
        now = audit.log.utc_now()
        because = f"{actor} removed {key.describe()} ({old[1]})"
        _many(session, _REOPEN_CONSENSUS, [(now, because, held[0])])
        names = _names(session)
        snapshot = consensus_snapshot(*held[1:6], names.get(held[6], f"#{held[6]}"), now, because)
        events.append(
            ExtractionConsensusChanged(
                study=ref.study_id,
                change=REOPENED,
                state={"extraction_consensus": {consensus_id(ref.study_id, key): snapshot}},
            )
        )
    audit.log.record_many(session, actor, events)
    return True


def clear_values(session: Session, *, actor: str, study: str | int) -> int:
    """Remove all of ``actor``'s values of one study (to start it again); returns how many.
    Consensus values stay (they are the extractors' joint record, reopened by new values)."""
    member = require(session, actor, Action.EXTRACT, doing="extract data")
    ref = _study_index(session, actor).find(str(study))
    mine = _values(session, [ref.study_id], member.id).get(ref.study_id, {}).get(member.id or 0, {})
    if not mine:
        return 0
    session.execute(
        delete(ExtractionValue).where(
            col(ExtractionValue.study_id) == ref.study_id,
            col(ExtractionValue.member_id) == member.id,
        )
    )
    audit.record(
        session,
        actor,
        ExtractionValuesChanged(
            study=ref.study_id,
            extractor=actor,
            origin="clear",
            state={"extraction_value": {value_id(ref.study_id, actor, k): None for k in mine}},
        ),
    )
    return len(mine)


# --- converted values (issue 11: structured provenance; extraction/provenance.py) ---------------

CONVERT_FROM = "convert_from"
"""The optional column of ``extract import`` asking for a converted value: ``se 1.2``,
``ci 10.1 14.3``, ``median_iqr 12 9 15``, ``median_range 12 4 20``, ``change 6.4 7.1``, with
optional ``n=N`` (``provenance.parse_conversion``); the value cell may stay empty."""


def _without_conversions(
    rows: Iterator[tuple[list[str], int]], at: int, pending: list[tuple[list[str], int]]
) -> Iterator[tuple[list[str], int]]:
    """The rows without a ``convert_from`` cell; those go to ``pending`` (made into values once
    the file's n values are known)."""
    for row, line in rows:
        if at < len(row) and row[at].strip():
            pending.append((row, line))
        else:
            yield row, line


def _place_n(
    session: Session, member: Member, study: int, key: ValueKey, given: Mapping[ValueKey, Any]
) -> float | None:
    """The arm's n at ``key``'s outcome and time point: from ``given`` (the same file or call),
    else the extractor's stored value; None when neither has one."""
    n_key = ValueKey("n", key.arm, key.outcome, key.time_point)
    if n_key in given:
        held = given[n_key]
        return float(held[0] if isinstance(held, tuple) else held)
    stored = _values(session, [study], member.id).get(study, {}).get(member.id or 0, {})
    found = stored.get(n_key)
    return float(found[1]) if found is not None else None


def _converted_values(
    session: Session,
    member: Member,
    form: Form,
    study: int,
    keys: list[ValueKey],
    request: provenance.ConversionRequest,
    given: Mapping[ValueKey, Any],
) -> dict[ValueKey, tuple[str, Provenance]]:
    """The values ``request`` gives at ``keys`` (one arm, outcome, time point), each checked like
    any value, with the conversion's structured provenance."""
    request = request.with_n(_place_n(session, member, study, keys[0], given))
    correlation = setting(session, provenance.CORRELATION_SETTING)
    result = provenance.convert(request, correlation=float(str(correlation)))
    source = provenance.converted_source(request, result)
    gives = dict(result.values)
    out: dict[ValueKey, tuple[str, Provenance]] = {}
    for key in keys:
        if key.field not in gives:
            raise InvalidInput(
                f"{key.describe()}: conversion {request.conversion} gives "
                f"{', '.join(gives)}, not {key.field}"
            )
        checked = form.check_value(key, provenance.value_text(gives[key.field]))
        out[key] = (checked, Provenance(provenance.CONVERTED, source))
    return out


def _add_conversions(
    session: Session,
    member: Member,
    form: Form,
    index: _Studies,
    path: str,
    header: list[str],
    pending: list[tuple[list[str], int]],
    by_study: dict[int, dict[ValueKey, tuple[str, Provenance]]],
    where: dict[int, dict[ValueKey, int]],
) -> None:
    """Make the ``convert_from`` rows of an import into converted values in ``by_study`` (the
    arm's n from the same file, else stored); InvalidInput names the file, line and column."""
    at = {name: header.index(name) for name in (*LONG_COLUMNS, CONVERT_FROM) if name in header}
    actor = member.name
    for row, line in pending:
        row = row + [""] * (len(header) - len(row))

        def cell(name: str, row: list[str] = row) -> str:
            return row[at[name]].strip() if name in at else ""

        column = "study"
        try:
            if cell("extractor") and cell("extractor") != actor:
                column = "extractor"
                raise InvalidInput(f"{cell('extractor')!r} is not you ({actor})")
            ref = index.find(cell("study"))
            column = "field"
            key = ValueKey(cell("field"), cell("arm"), cell("outcome"), cell("time_point"))
            form.spec(key)
            column = "source_kind"
            if cell("source_kind") not in ("", provenance.CONVERTED):
                raise InvalidInput(
                    f"a row with {CONVERT_FROM} is converted, not {cell('source_kind')!r}"
                )
            column = CONVERT_FROM
            request = provenance.parse_conversion(cell(CONVERT_FROM))
            values = by_study.setdefault(ref.study_id, {})
            made = _converted_values(session, member, form, ref.study_id, [key], request, values)
            value, prov = made[key]
            if cell("value"):  # a check: the computed value rounded as the cell is written
                column = "value"
                provenance.check_rounded(key.field, cell("value"), float(value))
        except (InvalidInput, NotFound) as error:
            message = str(error)
            raise InvalidInput(f"{path}:{line}: column {column}: {message}") from None
        if key in values:
            raise InvalidInput(
                f"{path}:{line}: study {ref.label}, {key.describe()} is given twice (also "
                f"{path}:{where[ref.study_id][key]})"
            )
        values[key] = (value, prov)
        where.setdefault(ref.study_id, {})[key] = line


def set_converted(
    session: Session,
    *,
    actor: str,
    study: str | int,
    fields: Iterable[str],
    conversion: provenance.ConversionRequest | str,
    arm: str,
    outcome: str,
    time_point: str,
) -> list[ValueView]:
    """Set ``actor``'s converted values of one arm, outcome and time point, in one transaction:
    the conversion (``provenance.parse_conversion`` text, or a request) is run by its published
    formula (``extraction.conversions``) and each of ``fields`` (``sd``; ``mean`` and/or ``sd``
    for a median conversion) is stored with the structured provenance (inputs, formula,
    citation; for ``change`` the correlation setting used). The group's n is the request's
    ``n=``, else the extractor's n at that place. InvalidInput names the study, arm, outcome,
    time point and field; nothing is written then. The form screen and ``extract set --from-*``
    call this; ``extract import`` makes the same values from its ``convert_from`` column.
    """
    member = require(session, actor, Action.EXTRACT, doing="extract data")
    version, form = current_form(session)
    ref = _study_index(session, actor).find(str(study))
    keys = [ValueKey(f.strip(), arm.strip(), outcome.strip(), time_point.strip()) for f in fields]
    if not keys:
        raise InvalidInput("name the field(s) the conversion gives: sd, or mean and sd")
    try:
        request = (
            provenance.parse_conversion(conversion) if isinstance(conversion, str) else conversion
        )
        for key in keys:
            form.spec(key)
        made = _converted_values(session, member, form, ref.study_id, keys, request, {})
    except InvalidInput as error:
        raise InvalidInput(f"study {ref.label} ({ref.study_id}), {error}") from None
    warnings: tuple[str, ...] = ()
    if "n" in request.inputs:  # n given by hand: say so when the place holds another n
        stored_n = _place_n(session, member, ref.study_id, keys[0], {})
        given = request.inputs["n"]
        if stored_n is not None and stored_n != given:
            warnings = (
                f"warning: the conversion uses n {provenance.value_text(given)}, but your n at "
                f"{_place_text(keys[0])} "
                f"is {provenance.value_text(stored_n)}; it will not follow that n",
            )
    summary = _write(
        session,
        actor=actor,
        member=member,
        version=version,
        form=form,
        changes=[_Change(ref.study_id, made, ref.label)],
        origin="set",
    )
    views = [
        ValueView.entered(ref, actor, key, value, version, prov)
        for key, (value, prov) in made.items()
    ]
    views[0] = replace(views[0], recomputed=summary.recomputed, warnings=warnings)
    return views


def _place_text(key: ValueKey) -> str:
    """``arm 'MSC', meld at '4 weeks'``: an arm, outcome and time point for messages."""
    return f"arm {key.arm!r}, {key.outcome} at {key.time_point!r}"


def _follow_n(
    session: Session,
    *,
    member: Member,
    form: Form,
    changes: list[_Change],
    lines: Mapping[int, Mapping[ValueKey, int]] | None = None,
    path: str = "",
) -> list[tuple[_Change, str, list[recompute.Recomputed]]]:
    """The member's stored converted values that follow an n ``changes`` changes
    (``recompute.follow_n``), as changes to write after them with their origin. Reads only the
    member's converted values of the studies whose n changes, and the n at their places.
    InvalidInput (``path:line`` of the n when from a file) when one cannot be computed again."""
    with_n = {c.study: c for c in changes if any(k.field == recompute.N for k in c.values)}
    if not with_n:
        return []
    v = ExtractionValue
    places: list[Any] = [v.study_id, v.field, v.arm, v.outcome, v.time_point, v.value]
    source: list[Any] = [v.source]
    converted: dict[int, dict[ValueKey, tuple[str, str, str]]] = defaultdict(dict)
    ids = sorted(with_n)
    for part in (ids[i : i + 500] for i in range(0, len(ids), 500)):
        query = select(*places, *source).where(
            v.member_id == member.id,
            v.source_kind == provenance.CONVERTED,
            col(v.study_id).in_(part),
        )
        for study, fld, arm, outcome, time, value, text in session.exec(query):
            key = ValueKey(fld, arm, outcome, time)
            if key not in with_n[study].values:
                converted[study][key] = (value, provenance.CONVERTED, text)
    if not converted:
        return []
    stored_n: dict[tuple[int, ValueKey], str] = {}
    ids = sorted(converted)
    for part in (ids[i : i + 500] for i in range(0, len(ids), 500)):
        query = select(*places).where(
            v.member_id == member.id, v.field == recompute.N, col(v.study_id).in_(part)
        )
        for study, fld, arm, outcome, time, value in session.exec(query):
            stored_n[(study, ValueKey(fld, arm, outcome, time))] = value
    follow: list[tuple[_Change, str, list[recompute.Recomputed]]] = []
    for study, stored in sorted(converted.items()):
        change = with_n[study]
        changed_n = {
            key: (stored_n[(study, key)], new)
            for key, (new, _) in change.values.items()
            if key.field == recompute.N
            and (study, key) in stored_n
            and stored_n[(study, key)] != new
        }
        try:
            found = recompute.follow_n(form, stored, changed_n)
        except InvalidInput as error:
            n_key = next(
                (k for k in changed_n if str(error).startswith(f"arm {k.arm!r}, {k.outcome} at ")),
                None,
            )
            at = lines.get(study, {}).get(n_key) if lines and n_key is not None else None
            where = f"{path}:{at}: " if at is not None else ""
            name = f"{change.label} ({study})" if change.label else str(study)
            raise InvalidInput(f"{where}study {name}, {error}") from None
        if found:
            values = {r.key: (r.new, Provenance(provenance.CONVERTED, r.source)) for r in found}
            follow.append((_Change(study, values, change.label), recompute.origin(found), found))
    return follow


def _studies_with_converted_consensus(session: Session, studies: Sequence[int]) -> set[int]:
    """Which of ``studies`` hold a converted consensus value (``source_kind`` converted), read
    500 studies a query."""
    found: set[int] = set()
    unique = sorted(set(studies))
    for start in range(0, len(unique), 500):
        part = unique[start : start + 500]
        marks = ", ".join(f":s{i}" for i in range(len(part)))
        rows = session.execute(
            sql_text(
                "SELECT DISTINCT study_id FROM extraction_consensus WHERE source_kind = :kind "
                f"AND study_id IN ({marks})"
            ),
            {"kind": provenance.CONVERTED, **{f"s{i}": s for i, s in enumerate(part)}},
        )
        found.update(r[0] for r in rows)
    return found


def _follow_consensus_n(
    session: Session,
    *,
    actor: str,
    study: int,
    label: str,
    place: ValueKey | None,
) -> list[recompute.Recomputed]:
    """Keep the consensus pair n/SD consistent (as RevMan reads it): after a consensus value at
    ``place``'s arm, outcome and time point (None: at every place of the study) was decided (agree, resolve, ``--from``), every
    converted consensus value there whose recorded n differs from the consensus n there (the
    n just decided, or the n already decided when a converted value was just taken) is
    computed again with the consensus n (``recompute.follow_n`` with ``consensus``) and stored,
    kept as it was otherwise (how, by, reopened), in one ``extraction-consensus`` event (change
    ``recomputed``); what was recomputed is returned. Nothing when there is no consensus n
    there. InvalidInput when one cannot be computed (the decision is then refused)."""
    held = _consensus(session, [study]).get(study, {})
    n_now = {  # the consensus n in force at each place
        k: ("", c[1])
        for k, c in held.items()
        if k.field == recompute.N
        and c[7] is None
        and (place is None or (k.arm, k.outcome, k.time_point) == place[1:])
    }
    stored = {k: (c[1], c[3], c[4]) for k, c in held.items() if c[3] == provenance.CONVERTED}
    if not n_now or not stored:
        return []
    _, form = current_form(session)
    try:
        found = recompute.follow_n(form, stored, n_now, consensus=True)
    except InvalidInput as error:
        raise InvalidInput(f"study {label} ({study}), consensus {error}") from None
    if not found:
        return []
    names = _names(session)
    state: dict[str, Any] = {}
    for r in found:
        c = held[r.key]
        _many(
            session,
            "UPDATE extraction_consensus SET value = ?, source = ? WHERE id = ?",
            [(r.new, r.source, c[0])],
        )
        state[consensus_id(study, r.key)] = consensus_snapshot(
            r.new, c[2], c[3], r.source, c[5], names.get(c[6], f"#{c[6]}"), c[7], c[8]
        )
    audit.record(
        session,
        actor,
        ExtractionConsensusChanged(
            study=study, change=RECOMPUTED, state={"extraction_consensus": state}
        ),
    )
    return found


# --- digitised values (issue 11: an Engauge Digitizer export; extraction/digitised.py) ----------


def import_digitised(
    session: Session,
    *,
    actor: str,
    study: str | int,
    path: str,
    report: int,
    figure: str,
    outcome: str,
    field: str = "mean",
    arms: Mapping[str, str] | None = None,
    times: Mapping[float, str] | None = None,
    tolerance: float | None = None,
) -> ImportSummary:
    """Import the points of an Engauge Digitizer export of one figure of one of the study's
    reports as ``actor``'s digitised values of ``outcome``'s ``field``, all or nothing.

    Curves are arms (``arms`` maps a curve to an arm; others keep their name) and x values time
    points (``times`` maps x to a time point; default the outcome's time points read as weeks),
    as ``extraction.digitised`` says. Each value is checked like any other and stored with the
    source ``provenance.digitised_source`` (report, figure, tool "Engauge Digitizer", file,
    SHA-256, curve, x, line). InvalidInput (or ParseError) names the file, line and curve.
    """
    import hashlib

    from reviewtool.extraction import digitised, engauge

    member = require(session, actor, Action.EXTRACT, doing="import digitised values")
    version, form = current_form(session)
    ref = _study_index(session, actor).find(str(study))
    reports = list(
        session.exec(
            select(FullTextReport.id).where(col(FullTextReport.reference_id).in_(ref.references))
        ).all()
    )
    if report not in reports:
        known = ", ".join(str(r) for r in sorted(r for r in reports if r is not None)) or "none"
        raise InvalidInput(
            f"report {report} is not a report of study {ref.label} (its reports: {known})"
        )
    if not figure.strip():
        raise InvalidInput("name the figure the points were read from (--figure 'Figure 2')")
    spec = form.outcome(outcome)
    points = engauge.read_engauge_csv(path)
    sha256 = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    placed = digitised.place_points(
        points,
        path=path,
        arms=arms or {},
        times=dict(times) if times else digitised.default_times(spec.time_points),
        tolerance=tolerance,
    )
    values: dict[ValueKey, tuple[str, Provenance]] = {}
    lines: dict[ValueKey, int] = {}
    for point in placed:
        key = ValueKey(field.strip(), point.arm, outcome, point.time_point)
        try:
            checked = form.check_value(key, provenance.value_text(point.y))
        except InvalidInput as error:
            raise InvalidInput(
                f"{path}:{point.line}: curve {point.curve!r}: study {ref.label}, {error}"
            ) from None
        source = provenance.digitised_source(
            report=f"report {report}",
            figure=figure.strip(),
            tool=engauge.TOOL,
            file=Path(path).name,
            sha256=sha256,
            curve=point.curve,
            x=point.x,
            line=point.line,
        )
        values[key] = (checked, Provenance(provenance.DIGITISED, source))
        lines[key] = point.line
    return _write(
        session,
        actor=actor,
        member=member,
        version=version,
        form=form,
        changes=[_Change(ref.study_id, values, ref.label)],
        origin=f"digitised {Path(path).name} {sha256}",
        lines={ref.study_id: lines},
        path=path,
    )


__all__ = [
    "LONG_COLUMNS",
    "AnalysisRow",
    "ConsensusView",
    "Disagreement",
    "FormVersion",
    "ImportSummary",
    "ResolvedFrom",
    "StatusRow",
    "StudyRef",
    "StudySheet",
    "Table",
    "ValueView",
    "add_form",
    "agree",
    "analysis_rows",
    "clear_value",
    "clear_values",
    "compare",
    "cross_check",
    "current_form",
    "export_table",
    "form_versions",
    "import_digitised",
    "import_values",
    "resolve",
    "resolve_all_from",
    "resolve_from",
    "set_converted",
    "set_value",
    "show_form",
    "status",
    "studies",
    "study_sheet",
    "unblind",
    "values",
]
