"""Anchors: the ledger's head written down outside the database.

``audit_head`` is an ordinary row in the same database as the events, so someone who cuts events
off the end (or rewrites the ledger from some point on, re-hashing as they go) can fix it too, and
the chain still verifies. An anchor is the head (event number, hash, time) copied somewhere they
cannot reach: a file kept elsewhere, a lab notebook, an e-mail, the review's report. ``audit verify
--anchors FILE`` then checks that every anchored event is still in the ledger with the same hash:

- an anchored event that is missing means events were cut off (or the ledger replaced);
- an anchored event whose hash differs means the ledger was rewritten from that event or earlier.

What an anchor cannot tell: anything written after the newest anchor. Anchor often.

An anchor file holds one JSON object per line (``{"seq": …, "hash": …, "at": …}``), the lines
``audit anchor --out FILE`` appends; blank lines and lines starting with ``#`` are skipped.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlmodel import Session, col, select

from reviewtool.audit.log import utc_now
from reviewtool.errors import InvalidInput
from reviewtool.storage.models import AuditEvent


@dataclass(frozen=True)
class Anchor:
    """One anchored head: the newest event's number and hash, and when it was anchored (UTC)."""

    seq: int
    hash: str
    at: str

    def to_line(self) -> str:
        """The anchor as one JSON line (no newline), as anchor files hold it."""
        return json.dumps(asdict(self), sort_keys=True)


def current_anchor(session: Session) -> Anchor:
    """The ledger's newest event as an anchor, stamped now. InvalidInput for an empty ledger."""
    last = session.exec(select(AuditEvent).order_by(col(AuditEvent.seq).desc()).limit(1)).first()
    if last is None:
        raise InvalidInput("the audit ledger has no events yet: there is nothing to anchor")
    return Anchor(seq=last.seq, hash=last.hash, at=utc_now())


def read_anchors(path: Path) -> list[Anchor]:
    """Every anchor in ``path``, in file order. InvalidInput naming the file and line for a line
    that is not an anchor (not JSON, a missing or ill-typed ``seq``/``hash``)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidInput(f"{path}: cannot read the anchor file ({error})") from None
    anchors = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError:
            raise InvalidInput(
                f"{path}:{number}: not an anchor (one JSON object per line)"
            ) from None
        seq, digest = (
            (data.get("seq"), data.get("hash")) if isinstance(data, dict) else (None, None)
        )
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
            raise InvalidInput(f"{path}:{number}: field seq: an event number (1 or more) is needed")
        if not isinstance(digest, str) or len(digest) != 64:
            raise InvalidInput(f"{path}:{number}: field hash: 64 hexadecimal digits are needed")
        anchors.append(Anchor(seq=seq, hash=digest.lower(), at=str(data.get("at", ""))))
    if not anchors:
        raise InvalidInput(f"{path}: holds no anchor")
    return anchors


def anchor_problems(session: Session, anchors: list[Anchor]) -> list[str]:
    """What does not hold: one message per anchor whose event is gone or whose hash differs.
    Empty when every anchor holds."""
    problems = []
    wanted = sorted({a.seq for a in anchors})
    stored: dict[int, str] = {}
    for start in range(0, len(wanted), 500):
        part = wanted[start : start + 500]
        stored.update(
            session.exec(
                select(AuditEvent.seq, AuditEvent.hash).where(col(AuditEvent.seq).in_(part))
            ).all()
        )
    for anchor in anchors:
        found = stored.get(anchor.seq)
        when = f" (anchored {anchor.at})" if anchor.at else ""
        if found is None:
            problems.append(
                f"anchored event #{anchor.seq}{when} is missing from the ledger: events were cut "
                "off the end, or the ledger was replaced"
            )
        elif found != anchor.hash:
            problems.append(
                f"anchored event #{anchor.seq}{when} has another hash now ({found[:12]}…, anchored "
                f"{anchor.hash[:12]}…): the ledger was rewritten at or before that event"
            )
    return problems
