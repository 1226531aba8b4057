"""The append-only, hash-chained audit ledger (see ``log`` and ``events``)."""

from reviewtool.audit.log import (
    EventView,
    VerifyReport,
    latest_checkpoint,
    list_events,
    record,
    verify,
    write_checkpoint,
)

__all__ = [
    "EventView",
    "VerifyReport",
    "latest_checkpoint",
    "list_events",
    "record",
    "verify",
    "write_checkpoint",
]
