"""full-text votes and resolutions on reports; reports may be "sought"

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 13:40:00

Full-text votes and resolutions are taken on one report each from now on (one current vote per
reviewer and report, one current resolution per report), and a new vote's ledger snapshot names its
report (``report_in_ledger``). Rows recorded before keep their snapshots as written: their report
was "the reference's report", and the migration sets ``report_id`` to it. A full-text vote or
resolution with no report (cast before any full text was recorded) gets the reference's report: its
latest retrieved one, else its latest one of any status; where the reference has none, one report
is created for it with status ``sought``, kind "journal article", recorded by the member of its
earliest full-text vote or resolution, its note saying it was made by this migration
(``MIGRATION_MARK``); ``reviewtool.review.service.open_existing`` records those reports in the
ledger with the ``schema-upgraded`` event. Nothing else changes, so every event before still
verifies.
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Kept in step with reviewtool.review.service (which finds these rows after the upgrade).
MIGRATION_MARK = "schema 0009"
NOTE = f"{MIGRATION_MARK}: full-text votes were cast before any report was recorded"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def upgrade() -> None:
    bind = op.get_bind()
    reports = bind.execute(
        sa.text("SELECT id, reference_id, status FROM fulltext_report ORDER BY id")
    ).all()
    latest: dict[int, int] = {}
    retrieved: dict[int, int] = {}
    for report_id, ref, status in reports:
        latest[ref] = report_id
        if status == "retrieved":
            retrieved[ref] = report_id
    chosen = {**latest, **retrieved}  # the latest retrieved, else the latest
    unnamed: dict[str, list[tuple[int, int, int, int]]] = {}
    for table in ("screening_decision", "screening_resolution"):
        unnamed[table] = [
            tuple(row)
            for row in bind.execute(
                sa.text(
                    f"SELECT id, reference_id, record_id, member_id FROM {table} "
                    "WHERE stage = 'fulltext' AND report_id IS NULL ORDER BY id"
                )
            ).all()
        ]
    now = _now()
    for table in ("screening_decision", "screening_resolution"):
        for _row_id, ref, record, member in unnamed[table]:
            if ref in chosen:
                continue
            found = bind.execute(
                sa.text(
                    "INSERT INTO fulltext_report (record_id, reference_id, kind, status, note, "
                    "recorded_by_id, recorded_at) VALUES (:record, :ref, 'journal article', "
                    "'sought', :note, :who, :now)"
                ),
                {"record": record, "ref": ref, "note": NOTE, "who": member, "now": now},
            )
            chosen[ref] = int(found.lastrowid)  # type: ignore[attr-defined]
        named = [{"id": i, "report": chosen[ref]} for i, ref, _rec, _mem in unnamed[table]]
        if named:
            bind.execute(sa.text(f"UPDATE {table} SET report_id = :report WHERE id = :id"), named)

    with op.batch_alter_table("screening_decision", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("report_in_ledger", sa.Boolean(), server_default="0", nullable=False)
        )
        batch_op.create_index(
            batch_op.f("ix_screening_decision_report_id"), ["report_id"], unique=False
        )
        batch_op.drop_index("uq_screening_decision_current")
        batch_op.create_index(
            "uq_screening_decision_current",
            ["reference_id", "stage", "member_id"],
            unique=True,
            sqlite_where=sa.text("superseded_at IS NULL AND report_id IS NULL"),
            postgresql_where=sa.text("superseded_at IS NULL AND report_id IS NULL"),
        )
        batch_op.create_index(
            "uq_screening_decision_current_report",
            ["report_id", "stage", "member_id"],
            unique=True,
            sqlite_where=sa.text("superseded_at IS NULL AND report_id IS NOT NULL"),
            postgresql_where=sa.text("superseded_at IS NULL AND report_id IS NOT NULL"),
        )
    with op.batch_alter_table("screening_resolution", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("report_in_ledger", sa.Boolean(), server_default="0", nullable=False)
        )
        batch_op.create_index(
            batch_op.f("ix_screening_resolution_report_id"), ["report_id"], unique=False
        )
        batch_op.drop_index("uq_screening_resolution_current")
        batch_op.create_index(
            "uq_screening_resolution_current",
            ["reference_id", "stage"],
            unique=True,
            sqlite_where=sa.text("reopened_at IS NULL AND report_id IS NULL"),
            postgresql_where=sa.text("reopened_at IS NULL AND report_id IS NULL"),
        )
        batch_op.create_index(
            "uq_screening_resolution_current_report",
            ["report_id", "stage"],
            unique=True,
            sqlite_where=sa.text("reopened_at IS NULL AND report_id IS NOT NULL"),
            postgresql_where=sa.text("reopened_at IS NULL AND report_id IS NOT NULL"),
        )

    _report_in_ledger_from_the_events(bind)


def _report_in_ledger_from_the_events(bind: sa.Connection) -> None:
    """Votes and resolutions whose ledger events are keyed per report (``12:fulltext:ann:r7``,
    ``12:fulltext:r7``) name their report in the ledger. None exist in a review that never ran
    0009; a review taken back to 0007 and upgraded again (the tests do) keeps what its ledger says.
    """
    import re

    per_report = re.compile(r"^(\d+):fulltext:(?:(.+):)?r(\d+)$")
    rows = bind.execute(
        sa.text(
            "SELECT DISTINCT entity_type, entity_id FROM audit_event WHERE entity_type IN "
            "('screening_vote', 'screening_resolution') AND entity_id LIKE :pattern"
        ),
        {"pattern": "%:r%"},
    ).all()
    for entity_type, entity_id in rows:
        found = per_report.match(entity_id)
        if found is None:
            continue
        record, reviewer, report = int(found[1]), found[2], int(found[3])
        if entity_type == "screening_vote" and reviewer is not None:
            bind.execute(
                sa.text(
                    "UPDATE screening_decision SET report_in_ledger = :yes WHERE record_id = :rec "
                    "AND stage = 'fulltext' AND report_id = :rep AND member_id = "
                    "(SELECT id FROM member WHERE name = :who)"
                ),
                {"yes": True, "rec": record, "rep": report, "who": reviewer},
            )
        elif entity_type == "screening_resolution" and reviewer is None:
            bind.execute(
                sa.text(
                    "UPDATE screening_resolution SET report_in_ledger = :yes WHERE "
                    "record_id = :rec AND stage = 'fulltext' AND report_id = :rep"
                ),
                {"yes": True, "rec": record, "rep": report},
            )


def downgrade() -> None:
    with op.batch_alter_table("screening_resolution", schema=None) as batch_op:
        batch_op.drop_index("uq_screening_resolution_current_report")
        batch_op.drop_index("uq_screening_resolution_current")
        batch_op.create_index(
            "uq_screening_resolution_current",
            ["reference_id", "stage"],
            unique=True,
            sqlite_where=sa.text("reopened_at IS NULL"),
            postgresql_where=sa.text("reopened_at IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_screening_resolution_report_id"))
        batch_op.drop_column("report_in_ledger")
    with op.batch_alter_table("screening_decision", schema=None) as batch_op:
        batch_op.drop_index("uq_screening_decision_current_report")
        batch_op.drop_index("uq_screening_decision_current")
        batch_op.create_index(
            "uq_screening_decision_current",
            ["reference_id", "stage", "member_id"],
            unique=True,
            sqlite_where=sa.text("superseded_at IS NULL"),
            postgresql_where=sa.text("superseded_at IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_screening_decision_report_id"))
        batch_op.drop_column("report_in_ledger")
