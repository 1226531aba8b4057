"""Labels on references: short user-defined tags ("RCT?", "ask Bob", "pediatric") to sort and find.

Labels belong to the member who wrote them. Who sees them (the blinding rule of issue 9):

- every member sees their own labels;
- owners and adjudicators see everyone's (they may see every vote too);
- a reviewer sees another member's labels only when no screening stage is blind to them
  (``screening.blind`` false, or every stage ended with ``screen unblind``; docs/blinding.md).
  While a stage is blind a label such as "exclude?" would tell one reviewer how another leans, so
  labels stay private to their author then (Rayyan shows labels to collaborators; under blinding
  we choose the safe side).

Every change is one ``labels-changed`` event carrying the member's labels on the reference before
and after, and ``audit verify`` compares the replayed labels with the ``record_label`` table.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sqlmodel import Session, col, select

from reviewtool import audit
from reviewtool.access import require, sight
from reviewtool.audit.events import LabelsChanged
from reviewtool.domain import Action
from reviewtool.errors import InvalidInput, NotFound
from reviewtool.storage.models import Member, Record, RecordLabel
from reviewtool.storage.snapshots import label_key

MAX_LABEL = 40


def clean_label(text: str) -> str:
    """The label as stored: spaces collapsed; InvalidInput when empty, too long, or holding ";"
    (the separator of label lists in CSV exports) or a line break.

    >>> clean_label("  ask   Bob ")
    'ask Bob'
    """
    if "\n" in text or "\r" in text or ";" in text:
        raise InvalidInput(f"a label holds no ';' or line break: {text!r}")
    label = " ".join(text.split())
    if not label:
        raise InvalidInput("a label needs some text")
    if len(label) > MAX_LABEL:
        raise InvalidInput(f"a label has at most {MAX_LABEL} characters, not {len(label)}")
    return label


def _own(session: Session, record_id: int, member_id: int | None) -> list[RecordLabel]:
    return list(
        session.exec(
            select(RecordLabel)
            .where(RecordLabel.record_id == record_id, RecordLabel.member_id == member_id)
            .order_by(col(RecordLabel.label))
        ).all()
    )


def change_label(
    session: Session, *, actor: str, record_id: int, label: str, add: bool
) -> list[str]:
    """Add (``add``) or remove one of ``actor``'s labels on a reference; returns their labels on it
    now, sorted. Adding a label they already have (any case) changes nothing and records nothing.

    Any member may label (``Action.READ``). NotFound for an unknown record; InvalidInput for a
    duplicate record (label its group's primary), a bad label, or removing a label they lack.
    """
    member = require(session, actor, Action.READ, doing="label references")
    text = clean_label(label)
    record = session.get(Record, record_id)
    if record is None:
        raise NotFound(f"no record {record_id}; see `reviewtool records list`")
    if record.duplicate_of is not None:
        raise InvalidInput(
            f"record {record_id} is a duplicate of record {record.duplicate_of}; "
            f"label {record.duplicate_of}"
        )
    rows = _own(session, record_id, member.id)
    before = sorted(r.label for r in rows)
    same = next((r for r in rows if r.label.casefold() == text.casefold()), None)
    if add:
        if same is not None:
            return before
        assert member.id is not None
        session.add(
            RecordLabel(
                record_id=record_id,
                member_id=member.id,
                label=text,
                added_at=audit.log.utc_now(),
            )
        )
    else:
        if same is None:
            have = "; ".join(before) or "none"
            raise InvalidInput(
                f"record {record_id} has no label {text!r} of yours (your labels: {have})"
            )
        session.delete(same)
    session.flush()
    after = sorted(r.label for r in _own(session, record_id, member.id))
    audit.record(
        session,
        actor,
        LabelsChanged(
            key=label_key(record_id, member.name),
            record_id=record_id,
            before=before or None,
            after=after or None,
        ),
    )
    return after


@dataclass(frozen=True)
class LabelView:
    """One label as a member may see it: the text and who wrote it."""

    label: str
    by: str

    def shown(self, viewer: str) -> str:
        """The label for ``viewer``: their own plain, another's as ``by:label``."""
        return self.label if self.by == viewer else f"{self.by}:{self.label}"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


def sees_all_labels(session: Session, member: Member) -> bool:
    """True when ``member`` may read other members' labels (see the module docstring): owners and
    adjudicators always, a reviewer once no screening stage is blind to them (``access.Sight``)."""
    return not sight(session, member.name).blind


def visible_labels(
    session: Session, *, actor: str, quiet: bool = False, record_ids: set[int] | None = None
) -> dict[int, list[LabelView]]:
    """record id -> the labels ``actor`` may see on it (own first, then by author and text).

    ``quiet``: a person who is not an active member gets ``{}`` instead of a refusal (listings
    that work without membership, such as ``records list``, then show no labels).
    ``record_ids`` limits the answer to those records (one card: one record).
    """
    if quiet:
        member = session.exec(select(Member).where(Member.name == actor)).first()
        if member is None or not member.active:
            return {}
    else:
        member = require(session, actor, Action.READ, doing="read labels")
    names = dict(session.exec(select(Member.id, Member.name)).all())
    query = select(RecordLabel.record_id, RecordLabel.member_id, RecordLabel.label)
    if not sees_all_labels(session, member):
        query = query.where(RecordLabel.member_id == member.id)
    if record_ids is not None:
        query = query.where(col(RecordLabel.record_id).in_(record_ids))
    found: dict[int, list[LabelView]] = {}
    for record_id, member_id, label in session.exec(query).all():
        found.setdefault(record_id, []).append(LabelView(label, names[member_id]))
    for views in found.values():
        views.sort(key=lambda v: (v.by != actor, v.by, v.label.casefold()))
    return found


def records_labelled(labels: dict[int, list[LabelView]], label: str) -> set[int]:
    """The records among ``labels`` that carry ``label`` (any case, anyone's label shown)."""
    wanted = clean_label(label).casefold()
    return {r for r, views in labels.items() if any(v.label.casefold() == wanted for v in views)}
