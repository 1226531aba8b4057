"""The kinds of audit event: one typed, documented dataclass per kind.

Event names are stable kebab-case strings because they are stored forever. ``payload()`` is what the
ledger stores and hashes. Events that change the state of an entity carry ``after`` (the entity's
full snapshot once the change is made, ``None`` once it is gone) so that ``audit verify`` can replay
the ledger and compare it with the tables; ``before`` is there for people reading the log.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, ClassVar

Snapshot = dict[str, Any]


@dataclass(frozen=True)
class Event:
    """Base of every audit event."""

    name: ClassVar[str]
    entity_type: ClassVar[str]

    @property
    def entity_id(self) -> str:
        """The id of the entity the event is about, as text."""
        raise NotImplementedError

    def payload(self) -> dict[str, Any]:
        """The JSON-serialisable content stored in the ledger."""
        return asdict(self)


@dataclass(frozen=True)
class ReviewCreated(Event):
    """A review was created by ``reviewtool init``.

    :ivar review_id: the new review's id.
    :ivar after: the review row (title, question).
    """

    name: ClassVar[str] = "review-created"
    entity_type: ClassVar[str] = "review"
    review_id: int
    after: Snapshot

    @property
    def entity_id(self) -> str:
        return str(self.review_id)


@dataclass(frozen=True)
class SettingChanged(Event):
    """A review setting was set (``before`` is None when it had its default).

    :ivar key: the setting's name.
    """

    name: ClassVar[str] = "setting-changed"
    entity_type: ClassVar[str] = "review_setting"
    key: str
    before: Any
    after: Any

    @property
    def entity_id(self) -> str:
        return self.key


@dataclass(frozen=True)
class MemberAdded(Event):
    """A person joined the review.

    :ivar after: the member's snapshot (name, active, roles).
    """

    name: ClassVar[str] = "member-added"
    entity_type: ClassVar[str] = "member"
    member_id: int
    after: Snapshot

    @property
    def entity_id(self) -> str:
        return str(self.member_id)


@dataclass(frozen=True)
class MemberChanged(Event):
    """A member's roles or active flag changed (``member grant``, ``revoke``, ``remove``).

    :ivar change: what was done: ``grant``, ``revoke``, ``remove`` or ``reactivate``.
    """

    name: ClassVar[str] = "member-changed"
    entity_type: ClassVar[str] = "member"
    member_id: int
    change: str
    before: Snapshot
    after: Snapshot

    @property
    def entity_id(self) -> str:
        return str(self.member_id)


@dataclass(frozen=True)
class AccessRefused(Event):
    """Someone was refused: an unknown person, or a member whose roles do not allow the action.

    :ivar person: the name the command was run as.
    :ivar attempted: the action that was refused.
    :ivar reason: why, as shown to the person.
    """

    name: ClassVar[str] = "access-refused"
    entity_type: ClassVar[str] = "member"
    person: str
    attempted: str
    reason: str

    @property
    def entity_id(self) -> str:
        return self.person


@dataclass(frozen=True)
class SchemaUpgraded(Event):
    """The database schema was migrated to a newer revision when the review was opened.

    :ivar backup: the copy made before the upgrade (SQLite files), or None.
    """

    name: ClassVar[str] = "schema-upgraded"
    entity_type: ClassVar[str] = "schema"
    from_revision: str
    to_revision: str
    backup: str | None

    @property
    def entity_id(self) -> str:
        return self.to_revision


# The closed set of event kinds the ledger accepts; later stages add theirs here.
EVENT_TYPES: dict[str, type[Event]] = {
    cls.name: cls
    for cls in (
        ReviewCreated,
        SettingChanged,
        MemberAdded,
        MemberChanged,
        AccessRefused,
        SchemaUpgraded,
    )
}
