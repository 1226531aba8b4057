"""Risk-of-bias files: bulk import (robvis layout, RoB 2 answers layout) and the robvis export table.

Import layouts (docs/rob.md):

- **RoB 1 judgements, robvis layout** (``templates/robvis_data_rob1.csv``): a header, then one row
  per study: ``Study`` (id or label "Surname Year"), the seven domains in RevMan order A-G (column
  position matters; a header must name its domain: robvis header, name or letter), then optionally
  ``Overall`` and ``Weight``. Cells: Low / Unclear / High (empty: not judged). An ``Overall`` cell
  that is not empty must be what the domains give under ``rob1.overall_rule`` (as the RoB 1 risk
  level the rating stands for: Low / Unclear / High); ``Weight`` is ignored.
- **RoB 2 signalling answers**: a header ``Study,Result`` then any of the preliminary fields
  (``effect_of_interest``, ``deviations`` ...) and question ids (``1.1`` ... ``5.3``); one row per
  result (``OUTCOME@TIME``); cells Y / PY / PN / N / NI / NA (empty: not answered).

Either file is checked whole before anything is written (all or nothing); a problem is one
``InvalidInput`` line naming the file, the line and the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from reviewtool import audit
from reviewtool.access import entering_for, require
from reviewtool.audit.events import RobAssessed
from reviewtool.csvfiles import check_lines, csv_rows, unknown_columns
from reviewtool.domain import Action
from reviewtool.errors import InvalidInput, NotFound, PermissionDenied
from reviewtool.rob import robvis, service, tools
from reviewtool.storage.models import Member


@dataclass(frozen=True)
class ImportReport:
    """What ``rob import`` wrote: the layout read, rows (studies or results) in the file,
    judgements or answers recorded (new or changed), those unchanged (the same as the assessor's
    in force: nothing written for them), and ``written_rows``: the studies or results with
    something written (one ``rob-assessed`` event each)."""

    layout: str
    rows: int
    values: int
    unchanged: int = 0
    written_rows: int = 0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "layout": self.layout,
            "rows": self.rows,
            "values": self.values,
            "unchanged": self.unchanged,
            "written_rows": self.written_rows,
        }


def _read(path: str) -> list[tuple[int, list[str]]]:
    """The file's non-blank rows with the line each starts on (``csvfiles.csv_rows``)."""
    try:
        check_lines(path, what="risk-of-bias")
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot read the risk-of-bias file ({exc.strerror})") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(f"{path}: not UTF-8 text") from None
    rows = list(csv_rows(text, path=path, what="risk-of-bias"))
    if not rows:
        raise InvalidInput(f"{path}: empty file; expected a header line")
    return rows


def import_file(
    session: Session, *, actor: str, path: str, on_behalf_of: str | None = None
) -> ImportReport:
    """Import one assessor's (``actor``'s) judgements or answers from ``path``; the layout is
    told by the header (``Result`` as second column: RoB 2 answers; else robvis RoB 1).

    ``on_behalf_of``: an owner (``actor``) enters another assessor's judgements
    (``access.entering_for``): they are the assessor's, checked and blinded as theirs; each
    ``rob-assessed`` event is written by the owner and names the assessor (``on_behalf_of``).
    PermissionDenied for anyone but an owner.

    A judgement (RoB 1) or answer (RoB 2) the same as the assessor's in force is unchanged: nothing
    is written for it, and a study (RoB 1) or result (RoB 2) with nothing changed gets no
    ``rob-assessed`` event, so importing one file twice writes its events once."""
    actor, entered_by = entering_for(
        session, actor, on_behalf_of, doing="import risk-of-bias judgements"
    )
    member = require(session, actor, Action.ASSESS_RISK_OF_BIAS, entered_by=entered_by)
    rows = _read(path)
    header = [h.strip() for h in rows[0][1]]
    if len(header) > 1 and header[1].lower() == "result":
        return _import_rob2(session, member.name, path, header, rows[1:], entered_by)
    _rob1_columns(path, header)
    return _import_rob1(session, member.name, path, entered_by)


def _rob1_columns(path: str, header: list[str]) -> None:
    """Refuse a robvis RoB 1 header with a column that is neither Study, a domain, Overall nor
    Weight (``csvfiles.unknown_columns``): an ``assessor`` column would otherwise be read as a
    domain by position while every judgement goes to the importer."""
    known = ["Study", "Overall", "Weight"]
    for name in header[1:]:
        for candidate in (name.strip(), name.replace(".", " ").strip()):
            try:
                tools.rob1_domain(candidate)
            except KeyError:
                continue
            known.append(name.strip())
            break
    known += [h.strip() for h in header if h.strip().lower() in ("study", "overall", "weight")]
    unknown_columns(path, header, known, "robvis RoB 1")


def _study(session: Session, labels: Mapping[int, str], path: str, line: int, text: str) -> int:
    if not text.strip():
        raise InvalidInput(f"{path}:{line}: Study is empty")
    try:
        return service.find_study(session, text, labels)
    except NotFound:
        raise InvalidInput(
            f"{path}:{line}: Study {text!r} is not a study of this review (give its id or its "
            "label, e.g. 'Suk 2016')"
        ) from None


_ROB1_OF_LEVEL = {
    robvis.Level.LOW: tools.Rob1Judgement.LOW.value,
    robvis.Level.CONCERNS: tools.Rob1Judgement.UNCLEAR.value,
    robvis.Level.HIGH: tools.Rob1Judgement.HIGH.value,
}


def _import_rob1(
    session: Session, actor: str, path: str, entered_by: str | None = None
) -> ImportReport:
    table = robvis.read_robvis_file(path, tool=robvis.ROB1)
    if len(table.domain_headers) != len(tools.ROB1_DOMAINS):
        raise InvalidInput(
            f"{path}:1: the robvis RoB 1 layout has Study then the seven domains A-G "
            f"(then Overall, Weight); found {len(table.domain_headers)} domain columns"
        )
    for position, (name, domain) in enumerate(
        zip(table.domain_headers, tools.ROB1_DOMAINS, strict=True), start=2
    ):
        found: tools.Rob1Domain | None = None
        for candidate in (name.strip(), name.replace(".", " ").strip()):
            try:
                found = tools.rob1_domain(candidate)
                break
            except KeyError:
                continue
        if found is None or found.id != domain.id:
            raise InvalidInput(
                f"{path}:1: column {position} ({name!r}) must be domain {domain.id} "
                f"({domain.robvis_header}): robvis reads domains by position"
            )
    service._check_studies_visible(session, actor)
    labels = service.study_labels(session)
    rule = service.overall_rule(session)
    plan: dict[int, dict[str, str]] = {}
    seen: dict[int, int] = {}
    for row in table.rows:
        study = _study(session, labels, path, row.line, row.study)
        if study in seen:
            raise InvalidInput(
                f"{path}:{row.line}: Study {row.study!r} is already on line {seen[study]}; keep "
                "one row per study"
            )
        seen[study] = row.line
        judged: dict[str, str] = {}
        for position, (level, domain) in enumerate(
            zip(row.judgements, tools.ROB1_DOMAINS, strict=True), start=1
        ):
            if level is None:
                continue
            if level not in _ROB1_OF_LEVEL:
                raise InvalidInput(
                    f"{path}:{row.line}: {table.header[position]}: "
                    f"{robvis.LAYOUTS[robvis.ROB1].words[level]!r} is not a RoB 1 judgement; "
                    "use Low, Unclear or High (or leave the cell empty)"
                )
            judged[domain.id] = _ROB1_OF_LEVEL[level]
        if row.overall is not None:
            result = service.rob1_overall(judged, rule)
            given = _ROB1_OF_LEVEL.get(row.overall)
            want = str(result.risk) if result.risk is not None else None
            if given != want:
                shown = robvis.LAYOUTS[robvis.ROB1].words[row.overall]
                raise InvalidInput(
                    f"{path}:{row.line}: Overall: {shown!r}, but the domains give "
                    f"{result.status!r} ({want or 'incomplete'} risk) under rob1.overall_rule "
                    f"{rule}; leave Overall empty or correct it"
                )
        plan[study] = judged
    member = require(session, actor, Action.ASSESS_RISK_OF_BIAS)
    now = audit.log.utc_now()
    count = unchanged = written = 0
    for study, judged in plan.items():
        state: dict[str, dict[str, Any]] = {}
        for letter, value in judged.items():
            stored = service._row(session, service.ROB1, study, "", letter, "", member)
            if stored is not None and stored.judgement == value:
                unchanged += 1  # the assessor's judgement in force: nothing to write
                continue
            service._store(
                session, member, now, service.ROB1, study, "", letter, "", state, judgement=value
            )
            count += 1
        if state:
            written += 1
            session.flush()
            audit.record(
                session,
                entered_by or actor,
                RobAssessed(
                    change="import",
                    tool=service.ROB1,
                    study=study,
                    result="",
                    state=state,
                    on_behalf_of=actor if entered_by else None,
                ),
            )
    return ImportReport("robvis rob1", len(plan), count, unchanged, written)


def _import_rob2(
    session: Session,
    actor: str,
    path: str,
    header: list[str],
    body: list[tuple[int, list[str]]],
    entered_by: str | None = None,
) -> ImportReport:
    if header[0].lower() != "study":
        raise InvalidInput(f"{path}:1: the RoB 2 answers layout starts with Study,Result")
    fields = header[2:]
    if not fields:
        raise InvalidInput(f"{path}:1: no question or preliminary field columns after Study,Result")
    for position, name in enumerate(fields, start=3):
        try:
            service._check_answer(name, "")
        except InvalidInput as exc:
            if "neither" in str(exc) or "not a RoB 2" in str(exc):
                raise InvalidInput(f"{path}:1: column {position} ({name!r}): {exc}") from None
    service._check_studies_visible(session, actor)
    labels = service.study_labels(session)
    plan: dict[tuple[int, str], dict[str, dict[str, str]]] = {}
    seen: dict[tuple[int, str], int] = {}
    values = 0
    for index, cells in body:  # the line each row starts on
        if len(cells) > len(header):
            raise InvalidInput(
                f"{path}:{index}: {len(cells)} fields but the header has {len(header)} columns"
            )
        cells = cells + [""] * (len(header) - len(cells))
        study = _study(session, labels, path, index, cells[0])
        try:
            result = service.parse_result(cells[1])
        except InvalidInput as exc:
            raise InvalidInput(f"{path}:{index}: Result: {exc}") from None
        if (study, result) in seen:
            raise InvalidInput(
                f"{path}:{index}: {cells[0]} {result} is already on line {seen[(study, result)]}"
            )
        seen[(study, result)] = index
        changes: dict[str, dict[str, str]] = {}
        for name, cell in zip(fields, cells[2:], strict=True):
            if not cell.strip():
                continue
            try:
                code, key, value = service._check_answer(name, cell)
            except InvalidInput as exc:
                raise InvalidInput(f"{path}:{index}: {name}: {exc}") from None
            changes.setdefault(code, {})[key] = value
            values += 1
        plan[(study, result)] = changes
    if not plan:
        raise InvalidInput(f"{path}: no results in the file")
    member = require(session, actor, Action.ASSESS_RISK_OF_BIAS)
    now = audit.log.utc_now()
    unchanged = written = 0
    for (study, result), given in plan.items():
        changes = _changed_answers(session, member, study, result, given)
        unchanged += sum(map(len, given.values())) - sum(map(len, changes.values()))
        if not changes:
            continue  # every answer the assessor's in force: no event
        written += 1
        state: dict[str, dict[str, Any]] = {}
        service.write_unit(session, member, now, study, result, changes, {}, {}, state)
        session.flush()
        audit.record(
            session,
            entered_by or actor,
            RobAssessed(
                change="import",
                tool=service.ROB2,
                study=study,
                result=result,
                state=state,
                on_behalf_of=actor if entered_by else None,
            ),
        )
    return ImportReport("rob2 answers", len(plan), values - unchanged, unchanged, written)


def _changed_answers(
    session: Session,
    member: Member,
    study: int,
    result: str,
    given: Mapping[str, Mapping[str, str]],
) -> dict[str, dict[str, str]]:
    """The answers of ``given`` ({domain code or ``preliminary``: {key: value}}) that differ from
    the assessor's stored ones for the result (an empty value: differs when one is stored)."""
    changed: dict[str, dict[str, str]] = {}
    for code, answers in given.items():
        stored = service._answers_of(session, member, study, result, code)
        for key, value in answers.items():
            if stored.get(key, "") != value:
                changed.setdefault(code, {})[key] = value
    return changed


# --- export --------------------------------------------------------------------------------------

CONSENSUS = "consensus"


def robvis_export(
    session: Session, *, actor: str, tool: str = service.ROB1, source: str = CONSENSUS
) -> robvis.RobvisTable:
    """The robvis input table (``rob.robvis``) of the consensus or of one assessor's judgements.

    RoB 1: ``Study`` (label), the seven domains with robvis's RoB 1 headers, ``Overall`` (the
    RoB 1 risk level the rating under ``rob1.overall_rule`` stands for; a domain split by outcome
    group shows its worst group). RoB 2: ``Study`` ("label (OUTCOME@TIME)"), ``D1``-``D5``,
    ``Overall``. Cells not judged are empty. Studies in label order. Study labels starting with
    ``=``, ``+``, ``-`` or ``@`` are neutralised (``neutralise``): the file is opened by
    spreadsheets.

    ``source`` is ``consensus`` or an assessor's name; while risk of bias is blind to ``actor``
    only their own name or the consensus (PermissionDenied otherwise).
    """
    require(session, actor, Action.READ, doing="export risk of bias")
    service._check_studies_visible(session, actor)
    tool = service.parse_tool(tool)
    if source != CONSENSUS and source != actor and service.blind_to(session, actor):
        raise PermissionDenied(service.BLIND_REFUSAL)
    labels = service.study_labels(session)
    if source == CONSENSUS:
        table = service.consensus_table(session, tool)
    else:
        table = _assessor_table(session, actor, tool, source)
    rule = service.overall_rule(session)
    stored = {o.study: o.risk for o in service.stored_overall(session)}
    rows: list[tuple[str, list[str | None], str | None, float | None]] = []
    for (study, result), domains in sorted(
        table.items(), key=lambda item: (labels.get(item[0][0], ""), item[0][1])
    ):
        label = labels.get(study, str(study))
        if tool == service.ROB1:
            cells: list[str | None] = [domains.get(d.id) for d in tools.ROB1_DOMAINS]
            if source == CONSENSUS:
                risk = stored.get(label)
            else:
                overall = service.rob1_overall(domains, rule)
                risk = str(overall.risk) if overall.risk is not None else None
            rows.append((neutralise(label), cells, risk, None))
        else:
            cells = [domains.get(c) for c in tools.ROB2_DOMAIN_CODES]
            rows.append(
                (neutralise(f"{label} ({result})"), cells, domains.get(service.OVERALL), None)
            )
    kind = robvis.ROB1 if tool == service.ROB1 else robvis.ROB2
    return robvis.robvis_table(kind, rows)


def _assessor_table(
    session: Session, actor: str, tool: str, assessor: str
) -> dict[tuple[int, str], dict[str, str]]:
    views = service.judgements(session, actor=actor, tool=tool, assessor=assessor)
    grouped: dict[tuple[int, str], list[tuple[str, str, str | None]]] = {}
    for view in views:
        if view.domain == service.PRELIMINARY:
            continue
        grouped.setdefault((view.study, view.result), []).append(
            (view.domain, view.outcome_group, view.judgement)
        )
    if tool == service.ROB1:
        return {unit: service._fold_groups(rows) for unit, rows in grouped.items()}
    return {unit: {d: j for d, _g, j in rows if j is not None} for unit, rows in grouped.items()}


def neutralise(cell: str) -> str:
    """A cell a spreadsheet will not run as a formula: text starting with ``=``, ``+``, ``-`` or
    ``@`` gets a leading apostrophe (OWASP CSV injection advice)."""
    return "'" + cell if cell[:1] in ("=", "+", "-", "@") else cell


__all__ = [
    "CONSENSUS",
    "ImportReport",
    "import_file",
    "neutralise",
    "robvis_export",
]
