"""The hash oracle of issue 14, section 3, run as an attacker would run it.

A reviewer whose login may read some ledger rows (on PostgreSQL, the rows row-level security
leaves them: their own events and those not hidden from them) sees, around an event hidden from
them, the hash of the event before it (its ``prev_hash``) and, in the ``prev_hash`` of the next
event they may read, its own hash. A vote without a note has few possible payloads (each record
× include / maybe / exclude with each reason offered), its number is one more than the event
before, and its time lies between the times of its neighbours. Hashing every candidate at every
microsecond in between finds the one whose hash is the hidden event's: the vote.

The hashing here is written from the format docs/ledger.md documents (sha256 over the previous
hash and the canonical JSON array of the event's fields, the salt last when there is one), not
taken from ``reviewtool.audit``: the attacker needs no access to the tool's code, and a test
of the attack does not lean on the code it attacks.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise, product

MAX_WINDOW_MICROSECONDS = 2_000_000
"""A guard for the tests: refuse to search a window longer than 2 s (a real attacker would)."""


@dataclass(frozen=True)
class SeenEvent:
    """One ledger row the attacker may read: its number, time and the two hashes it holds."""

    seq: int
    occurred_at: str
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class Candidate:
    """One guess at a hidden event: who wrote it and what it says (payload as stored JSON text).

    :ivar vote: ``(record id, decision, reason)``, what the guess means.
    """

    actor: str
    action: str
    entity_type: str
    entity_id: str
    payload: str
    vote: tuple[int, str, str | None]


@dataclass(frozen=True)
class Found:
    """A hidden event recovered: its number, the time that matched and the candidate."""

    seq: int
    occurred_at: str
    candidate: Candidate


def _canonical(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def ledger_hash(
    prev_hash: str,
    seq: int,
    occurred_at: str,
    candidate: Candidate,
    salt: str | None = None,
) -> str:
    """sha256(prev_hash + canonical JSON of [seq, time, actor, action, type, id, payload(, salt)])."""
    fields: list[object] = [
        seq,
        occurred_at,
        candidate.actor,
        candidate.action,
        candidate.entity_type,
        candidate.entity_id,
        candidate.payload,
    ]
    if salt is not None:
        fields.append(salt)
    return hashlib.sha256((prev_hash + _canonical(fields)).encode("utf-8")).hexdigest()


def vote_candidates(
    reviewers: Iterable[str],
    records: Iterable[int],
    stage: str,
    reasons: Sequence[str],
    *,
    orders: Sequence[str | None] = (None,),
) -> list[Candidate]:
    """Every first vote without a note another reviewer may have cast: include, maybe, and
    exclude with no reason or with each reason offered (the payload ``screening-decision``
    events carry: ``after``, ``before`` None, ``key``, ``record_id``, ``stage``, ``state`` {}).
    ``orders``: the queue stamps (``after.order``; None: none) to try, as the attacker's own
    vote events show them."""
    found = []
    choices: list[tuple[str, str | None]] = [("include", None), ("maybe", None), ("exclude", None)]
    choices += [("exclude", reason) for reason in reasons]
    for reviewer in reviewers:
        for record in records:
            key = f"{record}:{stage}:{reviewer}"
            for (decision, reason), order in product(choices, orders):
                after: dict[str, object] = {"decision": decision, "note": None, "reason": reason}
                if order is not None:
                    after["order"] = order
                payload = {
                    "after": after,
                    "before": None,
                    "key": key,
                    "record_id": record,
                    "stage": stage,
                    "state": {},
                }
                found.append(
                    Candidate(
                        reviewer,
                        "screening-decision",
                        "screening_vote",
                        key,
                        _canonical(payload),
                        (record, decision, reason),
                    )
                )
    return found


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def microseconds_between(start: str, end: str) -> Iterator[str]:
    """Every time from ``start`` to ``end`` (both included), one microsecond apart, written as
    the ledger writes times (ISO-8601, microseconds, ``Z``)."""
    first, last = _instant(start), _instant(end)
    steps = int((last - first) / timedelta(microseconds=1))
    if steps > MAX_WINDOW_MICROSECONDS:
        raise ValueError(f"a window of {steps} µs: too long for a test")
    for step in range(steps + 1):
        moment = first + timedelta(microseconds=step)
        yield moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def recover_hidden_events(
    seen: Sequence[SeenEvent],
    candidates: Sequence[Candidate],
    *,
    salt_of: Callable[[int], str | None] = lambda seq: None,
) -> tuple[list[Found], int]:
    """Each single event hidden between two the attacker may read, recovered where a candidate
    at some microsecond between its neighbours' times has its hash; and how many hashes were
    tried. ``salt_of``: what the attacker knows of a hidden event's salt (nothing: None)."""
    found: list[Found] = []
    tried = 0
    rows = sorted(seen, key=lambda e: e.seq)
    for before, after in pairwise(rows):
        if after.seq != before.seq + 2:
            continue
        seq, target, salt = before.seq + 1, after.prev_hash, salt_of(before.seq + 1)
        hit = None
        for moment in microseconds_between(before.occurred_at, after.occurred_at):
            for candidate in candidates:
                tried += 1
                if ledger_hash(before.hash, seq, moment, candidate, salt) == target:
                    hit = Found(seq, moment, candidate)
                    break
            if hit is not None:
                break
        if hit is not None:
            found.append(hit)
    return found, tried
