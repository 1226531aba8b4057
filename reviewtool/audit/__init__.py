"""The append-only, hash-chained audit ledger (see ``log`` and ``events``)."""

from reviewtool.audit.log import EventView, VerifyReport, list_events, record, verify

__all__ = ["EventView", "VerifyReport", "list_events", "record", "verify"]
