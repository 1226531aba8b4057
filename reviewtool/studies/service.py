"""Studies: the units of synthesis, built from the references included at full text.

Every reference included at full text (its report, in this version one full text per reference)
is a study by itself, with the reference's id as the study's id. People link a reference into
another's study (a trial and its long-term follow-up, two dose-arm reports of one trial), unlink it,
merge two studies or split references out of one; each change is one ``study-changed`` event.

Links are stored between records (``study_link``: the linked reference's first record and the
study's anchor record), so they survive every later merge and split of references. A study's id
is its anchor's reference. A linked reference that is no longer included at full text drops out of
its study (its link waits, and counts again if it is included again).

Studies show full-text outcomes, so they are read through ``access.sight``: a viewer to whom the
full-text stage is blind is refused (PermissionDenied) rather than shown a partial list.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sqlmodel import Session, col, select

from reviewtool import audit
from reviewtool.access import require, sight
from reviewtool.audit.events import StudyChanged
from reviewtool.domain import Action, Stage
from reviewtool.errors import InvalidInput, NotFound, PermissionDenied
from reviewtool.storage.models import Member, Record, StudyLink
from reviewtool.storage.queries import stage_outcomes
from reviewtool.storage.references import primary_of, reference_of
from reviewtool.storage.snapshots import chunks


@dataclass(frozen=True)
class StudyView:
    """One study: its id (its anchor reference), the references (reports) in it, a title.

    :ivar study_id: the anchor reference's id; ``study show`` and ``study link`` take it.
    :ivar references: the references included at full text that make up the study, sorted.
    :ivar title: the anchor reference's title (its primary record's).
    """

    study_id: int
    references: tuple[int, ...]
    title: str | None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


def _check_sight(session: Session, actor: str) -> None:
    require(session, actor, Action.READ, doing="read studies")
    if not sight(session, actor).sees_others(Stage.FULL_TEXT.value):
        raise PermissionDenied(
            "studies are built from the full-text decisions, hidden while full text is blind; "
            "an owner ends blinding with `reviewtool screen unblind --stage fulltext`"
        )


def included_references(session: Session) -> list[int]:
    """References whose full-text outcome is a final include, sorted."""
    outcomes = stage_outcomes(session, Stage.FULL_TEXT.value)
    return sorted(r for r, o in outcomes.items() if o.final and o.goes_on)


def study_map(session: Session) -> dict[int, int]:
    """included reference id -> its study id (the reference id of the study's anchor record)."""
    included = set(included_references(session))
    refs = dict(session.exec(select(Record.id, Record.reference_id)).all())
    study = {r: r for r in included}
    for record, anchor in session.exec(select(StudyLink.record_id, StudyLink.study_record_id)):
        ref, home = refs.get(record), refs.get(anchor)
        if ref in included and home in included and ref is not None and home is not None:
            study[ref] = home
    return study


def list_studies(session: Session, *, actor: str) -> list[StudyView]:
    """Every study, by id. PermissionDenied while full text is blind to ``actor``."""
    _check_sight(session, actor)
    members: dict[int, list[int]] = {}
    for ref, study in study_map(session).items():
        members.setdefault(study, []).append(ref)
    # each study's primary record (``primary_of``: its first record that is no duplicate) and
    # title, read for all studies at once (one query per 500, not two per study)
    titles: dict[int, str | None] = {}
    studies = sorted(members)
    for part in chunks(studies):
        for reference, title in session.exec(
            select(Record.reference_id, Record.title)
            .where(col(Record.reference_id).in_(part), col(Record.duplicate_of).is_(None))
            .order_by(col(Record.id))
        ).all():
            if reference is not None and reference not in titles:
                titles[reference] = title
    views = []
    for study in studies:
        if study not in titles:
            primary_of(session, study)  # NotFound, as for any reference without a record
        views.append(StudyView(study, tuple(sorted(members[study])), titles.get(study)))
    return views


def study_of(session: Session, *, actor: str, record_id: int) -> StudyView | None:
    """The study holding the reference of record ``record_id`` (None: not included at full text)."""
    _check_sight(session, actor)
    ref = reference_of(session, record_id)
    study = study_map(session).get(ref)
    if study is None:
        return None
    return next(v for v in list_studies(session, actor=actor) if v.study_id == study)


def _included(session: Session, record_id: int, what: str) -> int:
    ref = reference_of(session, record_id)
    if ref not in study_map(session):
        raise InvalidInput(
            f"{what} {record_id} (reference {ref}) is not included at full text, so it is in no study"
        )
    return ref


def _record(change: str, study: int, refs: list[int], state: dict[str, Any]) -> StudyChanged:
    return StudyChanged(
        change=change, study=study, references=sorted(refs), state={"study_link": state}
    )


def _set_links(
    session: Session, member: Member, links: dict[int, int | None], now: str
) -> dict[str, Any]:
    """Write links (record -> anchor record, None: remove) made by ``member``; returns the
    ledger state."""
    assert member.id is not None
    state: dict[str, Any] = {}
    for record, anchor in sorted(links.items()):
        row = session.get(StudyLink, record)
        if anchor is None or anchor == record:
            if row is not None:
                session.delete(row)
                state[str(record)] = None
            continue
        if row is None:
            row = StudyLink(
                record_id=record, study_record_id=anchor, linked_by_id=member.id, linked_at=now
            )
        row.study_record_id, row.linked_by_id, row.linked_at = anchor, member.id, now
        session.add(row)
        state[str(record)] = {"study": anchor}
    session.flush()
    return state


def _members(session: Session, study: int) -> list[int]:
    return sorted(r for r, s in study_map(session).items() if s == study)


def link(session: Session, *, actor: str, report: int, study: int) -> StudyView:
    """Put the reference of record ``report`` into the study of record ``study`` (any reference
    of it); returns that study. Moving a study's anchor moves the whole study. InvalidInput when
    either is not included at full text, or both are in one study already."""
    member = require(session, actor, Action.SCREEN, doing="link studies")
    _check_sight(session, actor)
    ref = _included(session, report, "report")
    target = study_map(session)[_included(session, study, "study")]
    current = study_map(session)[ref]
    if current == target:
        raise InvalidInput(f"reference {ref} is in study {target} already")
    moving = _members(session, current) if current == ref else [ref]
    now = audit.log.utc_now()
    state = _set_links(session, member, {m: target for m in moving}, now)
    audit.record(session, actor, _record("link", target, moving, state))
    view = study_of(session, actor=actor, record_id=target)
    assert view is not None
    return view


def unlink(session: Session, *, actor: str, report: int) -> list[int]:
    """Take the reference of record ``report`` out of its study: it becomes a study by itself.
    Taking out a study's anchor re-anchors the others on the smallest of them. Returns the
    references moved. InvalidInput when it is a study by itself already."""
    member = require(session, actor, Action.SCREEN, doing="unlink studies")
    _check_sight(session, actor)
    ref = _included(session, report, "report")
    study = study_map(session)[ref]
    members = _members(session, study)
    if len(members) == 1:
        raise InvalidInput(f"reference {ref} is a study by itself already")
    links: dict[int, int | None] = {ref: None}
    if ref == study:
        rest = [m for m in members if m != ref]
        links.update({m: rest[0] for m in rest})
    state = _set_links(session, member, links, audit.log.utc_now())
    audit.record(session, actor, _record("unlink", study, [ref], state))
    return [ref]


def merge(session: Session, *, actor: str, study: int, other: int) -> StudyView:
    """Merge study ``other`` into study ``study`` (each named by any of its references)."""
    member = require(session, actor, Action.SCREEN, doing="merge studies")
    _check_sight(session, actor)
    target = study_map(session)[_included(session, study, "study")]
    source = study_map(session)[_included(session, other, "study")]
    if target == source:
        raise InvalidInput(f"references {study} and {other} are in one study ({target}) already")
    moving = _members(session, source)
    state = _set_links(session, member, {m: target for m in moving}, audit.log.utc_now())
    audit.record(session, actor, _record("merge", target, moving, state))
    view = study_of(session, actor=actor, record_id=target)
    assert view is not None
    return view


def split(session: Session, *, actor: str, study: int) -> list[int]:
    """Split a study back into one study per reference; returns its references."""
    member = require(session, actor, Action.SCREEN, doing="split studies")
    _check_sight(session, actor)
    anchor = study_map(session)[_included(session, study, "study")]
    members = _members(session, anchor)
    if len(members) == 1:
        raise NotFound(f"study {anchor} holds one reference; there is nothing to split")
    state = _set_links(session, member, {m: None for m in members}, audit.log.utc_now())
    audit.record(session, actor, _record("split", anchor, members, state))
    return members


__all__ = [
    "StudyView",
    "included_references",
    "link",
    "list_studies",
    "merge",
    "split",
    "study_map",
    "study_of",
    "unlink",
]
