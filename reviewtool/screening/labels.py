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
from reviewtool.access import ROB_STAGE, require, sight
from reviewtool.audit.events import LabelsChanged
from reviewtool.domain import Action
from reviewtool.errors import InvalidInput
from reviewtool.storage.models import Member, RecordLabel
from reviewtool.storage.references import primary_of, reference_of
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
            .where(RecordLabel.reference_id == record_id, RecordLabel.member_id == member_id)
            .order_by(col(RecordLabel.label))
        ).all()
    )


def change_label(
    session: Session, *, actor: str, record_id: int, label: str, add: bool
) -> list[str]:
    """Add (``add``) or remove one of ``actor``'s labels on a reference; returns their labels on it
    now, sorted. Adding a label they already have (any case) changes nothing and records nothing.

    ``record_id`` is any record of the reference (its id, the reference id, included). A label is
    stored on the record shown (the primary) and follows it through merges and splits; after a
    merge a member may hold the same label on two records of one reference, shown once and
    removed together. Any member may label (``Action.READ``). NotFound for an unknown record;
    InvalidInput for a bad label, or removing a label they lack.
    """
    member = require(session, actor, Action.READ, doing="label references")
    text = clean_label(label)
    ref = reference_of(session, record_id)
    rows = _own(session, ref, member.id)
    before = sorted({r.label for r in rows})
    same = [r for r in rows if r.label.casefold() == text.casefold()]
    # Each record's labels are one ledger entity: (record key, labels before) of those touched.
    touched: dict[int, list[str]] = {}
    if add:
        if same:
            return before
        assert member.id is not None
        shown = primary_of(session, ref)
        touched[shown] = sorted(r.label for r in rows if r.record_id == shown)
        session.add(
            RecordLabel(
                record_id=shown,
                reference_id=ref,
                member_id=member.id,
                label=text,
                added_at=audit.log.utc_now(),
            )
        )
    else:
        if not same:
            have = "; ".join(before) or "none"
            raise InvalidInput(
                f"record {record_id} has no label {text!r} of yours (your labels: {have})"
            )
        for row in same:
            touched[row.record_id] = sorted(r.label for r in rows if r.record_id == row.record_id)
            session.delete(row)
    session.flush()
    now = _own(session, ref, member.id)
    for rid, was in sorted(touched.items()):
        after = sorted(r.label for r in now if r.record_id == rid)
        audit.record(
            session,
            actor,
            LabelsChanged(
                key=label_key(rid, member.name),
                record_id=rid,
                before=was or None,
                after=after or None,
            ),
        )
    return sorted({r.label for r in now})


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
    return not sight(session, member.name).blind - {ROB_STAGE}


def visible_labels(
    session: Session, *, actor: str, quiet: bool = False, record_ids: set[int] | None = None
) -> dict[int, list[LabelView]]:
    """reference id -> the labels ``actor`` may see on it (own first, then by author and text).

    ``quiet``: a person who is not an active member gets ``{}`` instead of a refusal (listings
    that work without membership, such as ``records list``, then show no labels).
    ``record_ids`` limits the answer to those references (one card: one reference).
    """
    if quiet:
        member = session.exec(select(Member).where(Member.name == actor)).first()
        if member is None or not member.active:
            return {}
    else:
        member = require(session, actor, Action.READ, doing="read labels")
    names = dict(session.exec(select(Member.id, Member.name)).all())
    query = select(RecordLabel.reference_id, RecordLabel.member_id, RecordLabel.label)
    if not sees_all_labels(session, member):
        query = query.where(RecordLabel.member_id == member.id)
    if record_ids is not None:
        query = query.where(col(RecordLabel.reference_id).in_(record_ids))
    found: dict[int, list[LabelView]] = {}
    for record_id, member_id, label in session.exec(query.distinct()).all():
        found.setdefault(record_id, []).append(LabelView(label, names[member_id]))
    for views in found.values():
        views.sort(key=lambda v: (v.by != actor, v.by, v.label.casefold()))
    return found


def records_labelled(labels: dict[int, list[LabelView]], label: str) -> set[int]:
    """The records among ``labels`` that carry ``label`` (any case, anyone's label shown)."""
    wanted = clean_label(label).casefold()
    return {r for r, views in labels.items() if any(v.label.casefold() == wanted for v in views)}
