"""Removal before screening: references taken out before title/abstract screening for a reason
other than duplication (PRISMA 2020, Page et al. BMJ 2021;372:n71, "Records removed before
screening: Records removed for other reasons").

A review team that limits by publication type (animal studies, case reports or letters, reviews,
meeting abstracts) removes those references in bulk, by a filter on the records or from a list of
reference ids, before anyone screens them. A removed reference leaves every reviewer's queue, takes
no vote, and is counted in the PRISMA "removed before screening" box with its reason, not among the
records excluded at title/abstract. ``restore_references`` undoes a removal. Both are owner
actions and write one ``references-removed`` event each, in the caller's transaction.

A reference is removed when one of its records carries a ``prescreen_removal`` row (the row names
the reference's first record, so it follows the record through merges and splits).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import Session, col, delete, select

from reviewtool import audit
from reviewtool.access import require
from reviewtool.audit.events import ReferencesRemoved
from reviewtool.csvfiles import at_line, numbered, read_rows
from reviewtool.domain import Action
from reviewtool.errors import InvalidInput, NotFound
from reviewtool.storage.models import PrescreenRemoval, Record, ScreeningDecision
from reviewtool.text import counted

DOING_REMOVE = "remove references before screening"
DOING_RESTORE = "restore references removed before screening"


@dataclass(frozen=True)
class Selection:
    """Which references a removal is about.

    :ivar publication_types: the record's publication type contains one of these (any case).
    :ivar title_words: the record's title contains one of these as a whole word or phrase (any case).
    :ivar references: these reference ids (any record id of a reference names it).
    A reference matches when one of its records passes every filter given; at least one is needed.
    """

    publication_types: tuple[str, ...] = ()
    title_words: tuple[str, ...] = ()
    references: tuple[int, ...] | None = None
    source: str = ""

    def describe(self) -> str:
        """The selection in words, for the ledger and the command's answer."""
        parts = []
        if self.publication_types:
            parts.append("publication type: " + " | ".join(self.publication_types))
        if self.title_words:
            parts.append("title words: " + " | ".join(self.title_words))
        if self.references is not None:
            parts.append(f"list: {self.source or counted(len(self.references), 'reference')}")
        return "; ".join(parts)


@dataclass(frozen=True)
class RemovalResult:
    """What a removal or restoration did.

    :ivar changed: references removed (or restored), ascending.
    :ivar already: matched references left as they were (removed already, or not removed).
    """

    changed: list[int]
    already: list[int]


def removed_references(session: Session) -> dict[int, str]:
    """reference id -> the reason it was removed before screening (every removed reference)."""
    rows = session.exec(
        select(Record.reference_id, PrescreenRemoval.reason)
        .join(Record, col(Record.id) == col(PrescreenRemoval.record_id))
        .order_by(col(PrescreenRemoval.record_id))
    ).all()
    return {int(ref): reason for ref, reason in rows if ref is not None}


def ids_from_file(path: str) -> tuple[int, ...]:
    """Reference ids from a CSV with a ``reference_id`` (or ``record_id``) column, in file order.

    InvalidInput naming the file and line for a bad id, a missing column or an empty file.
    """
    rows = read_rows(
        path,
        required=[{"reference_id"}, {"record_id"}],
        what="reference list",
        unique=lambda row: (row.get("reference_id") or row.get("record_id") or "").strip() or None,
        unique_words="reference",
    )
    column = "reference_id" if "reference_id" in rows[0] else "record_id"
    ids: list[int] = []
    for line, row in numbered(rows):
        text = (row.get(column) or "").strip()
        if not text:
            raise InvalidInput(f"{path}:{line}: {column} is empty")
        with at_line(path, line):
            ids.append(int(text))
    return tuple(ids)


def select_references(session: Session, selection: Selection) -> list[int]:
    """The references ``selection`` matches, ascending (see ``Selection``).

    InvalidInput when no filter is given; NotFound naming the first id that is no record.
    """
    if not (selection.publication_types or selection.title_words or selection.references):
        raise InvalidInput(
            "say which references to remove: --publication-type, --title-word or --file"
        )
    rows = session.exec(
        select(Record.id, Record.reference_id, Record.title, Record.publication_type)
    )
    by_record: dict[int, int] = {}
    matched: set[int] = set()
    types = [t.casefold() for t in selection.publication_types]
    words = (
        re.compile(
            r"\b(" + "|".join(re.escape(w) for w in selection.title_words) + r")\b", re.IGNORECASE
        )
        if selection.title_words
        else None
    )
    for rid, ref, title, ptype in rows:
        if rid is None or ref is None:
            continue
        by_record[rid] = ref
        if not (types or words):
            continue
        if types and not any(t in (ptype or "").casefold() for t in types):
            continue
        if words is not None and not words.search(title or ""):
            continue
        matched.add(ref)
    if selection.references is None:
        return sorted(matched)
    listed: set[int] = set()
    for rid in selection.references:
        if rid not in by_record:
            raise NotFound(f"no reference {rid}; see `reviewtool screen export`")
        listed.add(by_record[rid])
    return sorted(listed & matched if (types or words) else listed)


def _voted(session: Session, refs: Sequence[int]) -> list[int]:
    wanted = set(refs)
    rows = session.exec(
        select(ScreeningDecision.reference_id).where(col(ScreeningDecision.superseded_at).is_(None))
    ).all()
    return sorted({r for r in rows if r in wanted})


def remove_references(
    session: Session, *, actor: str, reason: str, selection: Selection, dry_run: bool = False
) -> RemovalResult:
    """Remove the references ``selection`` matches before screening, for ``reason`` (an owner).

    References removed already are left as they are (``already``). InvalidInput when the reason is
    empty, nothing matches, or a matched reference has votes (removal comes before screening: an
    excluded reference is excluded at title/abstract instead). ``dry_run``: check and answer, write
    nothing.
    """
    require(session, actor, Action.CHANGE_SETTINGS, doing=DOING_REMOVE)
    reason = " ".join(reason.split())
    if not reason:
        raise InvalidInput("say why the references are removed: --reason")
    refs = select_references(session, selection)
    if not refs:
        raise InvalidInput(f"no reference matches ({selection.describe()})")
    removed = removed_references(session)
    new = [r for r in refs if r not in removed]
    voted = _voted(session, new)
    if voted:
        shown = ", ".join(map(str, voted[:5])) + (" ..." if len(voted) > 5 else "")
        raise InvalidInput(
            f"{len(voted)} of the matched references have screening votes ({shown}); removal is "
            "before screening: exclude them at title/abstract instead, or narrow the selection"
        )
    result = RemovalResult(changed=new, already=[r for r in refs if r in removed])
    if dry_run or not new:
        return result
    now = audit.log.utc_now()
    for ref in new:
        session.add(
            PrescreenRemoval(record_id=ref, reason=reason, removed_by=actor, removed_at=now)
        )
    session.flush()
    audit.record(
        session,
        actor,
        ReferencesRemoved(
            change="remove",
            reason=reason,
            selection=selection.describe(),
            references=new,
            state={"prescreen_removal": {str(r): {"reason": reason, "by": actor} for r in new}},
        ),
    )
    return result


def restore_references(
    session: Session,
    *,
    actor: str,
    reason: str | None = None,
    references: Sequence[int] | None = None,
) -> RemovalResult:
    """Undo removals (an owner): every reference removed for ``reason``, or the listed references.

    InvalidInput when neither or both are given, or when nothing is removed for that reason;
    NotFound for an id that is no record. Listed references that are not removed are ``already``.
    """
    require(session, actor, Action.CHANGE_SETTINGS, doing=DOING_RESTORE)
    if (reason is None) == (references is None):
        raise InvalidInput("say which removals to undo: --reason R or --file IDS.csv")
    removed = removed_references(session)
    if reason is not None:
        refs = sorted(r for r, why in removed.items() if why.casefold() == reason.casefold())
        if not refs:
            known = "; ".join(sorted(set(removed.values()))) or "none"
            raise InvalidInput(f"no reference is removed for {reason!r}; reasons: {known}")
        already: list[int] = []
    else:
        assert references is not None
        listed = select_references(session, Selection(references=tuple(references)))
        refs = [r for r in listed if r in removed]
        already = [r for r in listed if r not in removed]
    if not refs:
        return RemovalResult(changed=[], already=already)
    rows = session.exec(
        select(PrescreenRemoval.record_id, Record.reference_id).join(
            Record, col(Record.id) == col(PrescreenRemoval.record_id)
        )
    ).all()
    wanted = set(refs)
    gone = sorted(rid for rid, ref in rows if ref in wanted)
    session.exec(delete(PrescreenRemoval).where(col(PrescreenRemoval.record_id).in_(gone)))
    session.flush()
    audit.record(
        session,
        actor,
        ReferencesRemoved(
            change="restore",
            reason=reason or "",
            selection=f"reason: {reason}" if reason is not None else f"list of {len(refs)}",
            references=refs,
            state={"prescreen_removal": {str(r): None for r in gone}},
        ),
    )
    return RemovalResult(changed=refs, already=already)
