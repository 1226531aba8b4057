"""references: one per duplicate group; votes, resolutions, labels and full texts follow them

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 11:45:00

Every record gets the reference of its duplicate group (the group's smallest record id), and every
vote, resolution, label and full-text row the reference of the record it was made on, so votes
left on a record that a later, fuller copy displaced as primary (the issue-10 fault) are attached
again. Where that puts two current votes of one reviewer on one reference, or two current
resolutions on one reference, none is picked: a reviewer's identical votes keep the first, and
differing ones are superseded as "needs a fresh look"; the resolutions are reopened.
``reviewtool.review.service.open_existing`` records those in the ledger (``MIGRATION_MARK``).
"""

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Kept in step with reviewtool.review.service (which finds these rows after the upgrade).
MIGRATION_MARK = "schema 0007"
FOLLOWERS = ("screening_decision", "screening_resolution", "record_label", "fulltext_report")


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _words(decision: str, reason: str | None) -> str:
    return decision + (f" ({reason})" if reason else "")


def upgrade() -> None:
    bind = op.get_bind()
    op.create_table(
        "reference",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reference")),
    )
    op.create_table(
        "study_link",
        sa.Column("record_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("study_record_id", sa.Integer(), nullable=False),
        sa.Column("linked_by", sa.String(), nullable=False),
        sa.Column("linked_at", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"], ["record.id"], name=op.f("fk_study_link_record_id_record")
        ),
        sa.ForeignKeyConstraint(
            ["study_record_id"], ["record.id"], name=op.f("fk_study_link_study_record_id_record")
        ),
        sa.PrimaryKeyConstraint("record_id", name=op.f("pk_study_link")),
    )
    op.create_index(
        op.f("ix_study_link_study_record_id"), "study_link", ["study_record_id"], unique=False
    )
    # `record` is referenced by other tables: SQLite cannot rebuild it with foreign keys on, and
    # needs none to add a nullable column.
    if bind.dialect.name == "sqlite":
        op.execute("ALTER TABLE record ADD COLUMN reference_id INTEGER REFERENCES reference (id)")
    else:
        op.add_column("record", sa.Column("reference_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            op.f("fk_record_reference_id_reference"),
            "record",
            "reference",
            ["reference_id"],
            ["id"],
        )
    op.create_index(op.f("ix_record_reference_id"), "record", ["reference_id"], unique=False)

    rows = bind.execute(sa.text("SELECT id, duplicate_of FROM record")).all()
    smallest: dict[int, int] = {}
    for rid, target in rows:
        group = target if target is not None else rid
        smallest[group] = min(smallest.get(group, rid), rid)
    wanted = {rid: smallest[target if target is not None else rid] for rid, target in rows}
    if wanted:
        bind.execute(
            sa.text("INSERT INTO reference (id) VALUES (:id)"),
            [{"id": r} for r in sorted(set(wanted.values()))],
        )
        bind.execute(
            sa.text("UPDATE record SET reference_id = :ref WHERE id = :id"),
            [{"id": rid, "ref": ref} for rid, ref in wanted.items()],
        )

    for table in FOLLOWERS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("reference_id", sa.Integer(), nullable=True))
            if table == "screening_decision":
                batch_op.add_column(sa.Column("superseded_because", sa.String(), nullable=True))
            if table in ("screening_decision", "screening_resolution"):
                batch_op.add_column(sa.Column("report_id", sa.Integer(), nullable=True))
            if table == "fulltext_report":
                # Reports: several per reference now, with their kind and why not retrieved.
                batch_op.add_column(
                    sa.Column("kind", sa.String(), nullable=False, server_default="journal article")
                )
                batch_op.add_column(sa.Column("reason", sa.String(), nullable=True))
                batch_op.drop_index("ix_fulltext_report_record_id")
                batch_op.create_index(
                    batch_op.f("ix_fulltext_report_record_id"), ["record_id"], unique=False
                )
        found = bind.execute(sa.text(f"SELECT id, record_id FROM {table}")).all()
        if found:
            bind.execute(
                sa.text(f"UPDATE {table} SET reference_id = :ref WHERE id = :id"),
                [{"id": i, "ref": wanted[rec]} for i, rec in found],
            )

    # Full-text votes and resolutions name the report assessed: before 0007 a reference had at
    # most one, so it is that one (none: voted without a full text recorded).
    reports = dict(bind.execute(sa.text("SELECT reference_id, id FROM fulltext_report")).all())
    for table in ("screening_decision", "screening_resolution"):
        found = bind.execute(
            sa.text(f"SELECT id, reference_id FROM {table} WHERE stage = 'fulltext'")
        ).all()
        named = [{"id": i, "report": reports[ref]} for i, ref in found if ref in reports]
        if named:
            bind.execute(
                sa.text(f"UPDATE {table} SET report_id = :report WHERE id = :id"),
                named,
            )

    now = _now()
    votes = bind.execute(
        sa.text(
            "SELECT id, record_id, reference_id, stage, member_id, decision, reason "
            "FROM screening_decision WHERE superseded_at IS NULL ORDER BY id"
        )
    ).all()
    by_reviewer: dict[tuple[int, str, int], list[sa.Row]] = defaultdict(list)
    for v in votes:
        by_reviewer[(v.reference_id, v.stage, v.member_id)].append(v)
    for (ref, _stage, _member), mine in by_reviewer.items():
        if len(mine) < 2:
            continue
        seen = "; ".join(f"{_words(v.decision, v.reason)} on record {v.record_id}" for v in mine)
        if len({(v.decision, v.reason) for v in mine}) == 1:
            dropped = mine[1:]
            because = f"{MIGRATION_MARK}: records of reference {ref} joined: the same vote ({seen})"
        else:
            dropped = mine
            because = (
                f"needs a fresh look ({MIGRATION_MARK}): records of reference {ref} joined; "
                f"you voted {seen}"
            )
        bind.execute(
            sa.text(
                "UPDATE screening_decision SET superseded_at = :now, superseded_because = :why "
                "WHERE id = :id"
            ),
            [{"id": v.id, "now": now, "why": because} for v in dropped],
        )
    resolutions = bind.execute(
        sa.text(
            "SELECT id, reference_id, stage FROM screening_resolution WHERE reopened_at IS NULL"
        )
    ).all()
    landing: dict[tuple[int, str], list[int]] = defaultdict(list)
    for r in resolutions:
        landing[(r.reference_id, r.stage)].append(r.id)
    clashing = [i for ids in landing.values() if len(ids) > 1 for i in ids]
    if clashing:
        bind.execute(
            sa.text(
                "UPDATE screening_resolution SET reopened_at = :now, reopened_because = :why "
                "WHERE id = :id"
            ),
            [
                {
                    "id": i,
                    "now": now,
                    "why": f"{MIGRATION_MARK}: two resolutions on one reference; resolve again",
                }
                for i in clashing
            ],
        )

    with op.batch_alter_table("screening_decision", schema=None) as batch_op:
        batch_op.alter_column("reference_id", existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_screening_decision_reference_id_reference"),
            "reference",
            ["reference_id"],
            ["id"],
        )
        batch_op.create_index(
            batch_op.f("ix_screening_decision_reference_id"), ["reference_id"], unique=False
        )
        batch_op.drop_index("uq_screening_decision_current")
        batch_op.create_index(
            "uq_screening_decision_current",
            ["reference_id", "stage", "member_id"],
            unique=True,
            sqlite_where=sa.text("superseded_at IS NULL"),
            postgresql_where=sa.text("superseded_at IS NULL"),
        )
    with op.batch_alter_table("screening_resolution", schema=None) as batch_op:
        batch_op.alter_column("reference_id", existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_screening_resolution_reference_id_reference"),
            "reference",
            ["reference_id"],
            ["id"],
        )
        batch_op.create_index(
            batch_op.f("ix_screening_resolution_reference_id"), ["reference_id"], unique=False
        )
        batch_op.drop_index("uq_screening_resolution_current")
        batch_op.create_index(
            "uq_screening_resolution_current",
            ["reference_id", "stage"],
            unique=True,
            sqlite_where=sa.text("reopened_at IS NULL"),
            postgresql_where=sa.text("reopened_at IS NULL"),
        )
    for table in ("record_label", "fulltext_report"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column("reference_id", existing_type=sa.Integer(), nullable=False)
            batch_op.create_foreign_key(
                batch_op.f(f"fk_{table}_reference_id_reference"),
                "reference",
                ["reference_id"],
                ["id"],
            )
            batch_op.create_index(
                batch_op.f(f"ix_{table}_reference_id"), ["reference_id"], unique=False
            )
    # Last: SQLite rebuilds a table to add a key, and cannot drop fulltext_report once rows
    # point at it.
    for table in ("screening_decision", "screening_resolution"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_foreign_key(
                batch_op.f(f"fk_{table}_report_id_fulltext_report"),
                "fulltext_report",
                ["report_id"],
                ["id"],
            )


def downgrade() -> None:
    for table in ("screening_decision", "screening_resolution"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(
                batch_op.f(f"fk_{table}_report_id_fulltext_report"), type_="foreignkey"
            )
            batch_op.drop_column("report_id")
    with op.batch_alter_table("fulltext_report", schema=None) as batch_op:
        batch_op.drop_column("reason")
        batch_op.drop_column("kind")
        batch_op.drop_index(batch_op.f("ix_fulltext_report_record_id"))
        batch_op.create_index("ix_fulltext_report_record_id", ["record_id"], unique=True)
    for table in ("fulltext_report", "record_label", "screening_resolution", "screening_decision"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            if table in ("screening_decision", "screening_resolution"):
                batch_op.drop_index(f"uq_{table}_current")
                columns = ["record_id", "stage", "member_id"]
                if table == "screening_resolution":
                    columns = ["record_id", "stage"]
                where = (
                    "superseded_at IS NULL"
                    if table == "screening_decision"
                    else ("reopened_at IS NULL")
                )
                batch_op.create_index(
                    f"uq_{table}_current",
                    columns,
                    unique=True,
                    sqlite_where=sa.text(where),
                    postgresql_where=sa.text(where),
                )
            batch_op.drop_index(batch_op.f(f"ix_{table}_reference_id"))
            batch_op.drop_constraint(
                batch_op.f(f"fk_{table}_reference_id_reference"), type_="foreignkey"
            )
            batch_op.drop_column("reference_id")
            if table == "screening_decision":
                batch_op.drop_column("superseded_because")
    op.drop_index(op.f("ix_record_reference_id"), table_name="record")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE record DROP COLUMN reference_id")
    else:
        op.drop_constraint(op.f("fk_record_reference_id_reference"), "record", type_="foreignkey")
        op.drop_column("record", "reference_id")
    op.drop_index(op.f("ix_study_link_study_record_id"), table_name="study_link")
    op.drop_table("study_link")
    op.drop_table("reference")
