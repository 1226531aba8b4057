"""The one exception hierarchy of reviewtool.

Every error a user can cause is a ``ReviewtoolError`` subclass whose message is one plain line that
names the object at fault and, where there is one, the fix. Exceptions are inert: no colour, no side
effects. The CLI maps each class to an exit code in one place (``reviewtool.cli``).
"""

from __future__ import annotations


class ReviewtoolError(Exception):
    """Base class of every error reviewtool reports to a user."""

    exit_code: int = 1


class InvalidInput(ReviewtoolError):
    """A value, file or option given by the user is malformed or impossible."""

    exit_code = 2


class ParseError(InvalidInput):
    """A file could not be parsed; the message names the file, the line and the record."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None) -> None:
        self.path = path
        self.line = line
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line is not None else f"{path}: "
        super().__init__(f"{where}{message}")


class NotFound(ReviewtoolError):
    """A named object (review, member, record, event ...) does not exist."""

    exit_code = 3


class UnknownMember(NotFound):
    """The person a command acts as is not a member of the review."""


class AlreadyExists(ReviewtoolError):
    """The object to create exists already (a review in that file, a member of that name ...)."""

    exit_code = 4


class PermissionDenied(ReviewtoolError):
    """The acting member's roles do not allow the action."""

    exit_code = 5


class StageOrderError(ReviewtoolError):
    """A stage was asked to run before the stage it depends on was finished."""

    exit_code = 6


class SchemaTooNew(ReviewtoolError):
    """The database was written by a newer reviewtool than this one."""

    exit_code = 7


class SchemaError(ReviewtoolError):
    """The database is not a reviewtool review, or its schema could not be brought up to date."""

    exit_code = 7


class AuditChainBroken(ReviewtoolError):
    """The audit ledger does not verify: a row was edited, deleted or reordered behind our back."""

    exit_code = 8


class DatabaseUnavailable(ReviewtoolError):
    """The database could not be used: the server is unreachable, the file is locked, unreadable,
    read-only or damaged. The message names the database and gives the driver's first line."""

    exit_code = 9


class ConcurrentChange(AlreadyExists):
    """Someone else changed the same thing at the same moment (a unique row both tried to write,
    a serialization failure or deadlock on PostgreSQL): nothing of this command was written."""
