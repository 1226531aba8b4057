"""who-columns name members: every "made by" string becomes a foreign key to member

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 13:40:00

``review.created_by``, ``import_batch.imported_by``, ``dedup_run.run_by``, ``dedup_pair.decided_by``,
``fulltext_report.recorded_by``, ``study_link.linked_by`` and ``analysis_run.run_by`` held the
acting person's name as text; each becomes ``<column>_id``, the id of the member of that name
(``dedup_pair.decided_by_id`` stays empty for a pair nobody decided).

Every row reviewtool wrote names an active member (each service checks the person with
``access.require`` first, and the first owner is added with the review), so a name that is no
member was written by something else. The upgrade then refuses, naming table, row, column and name,
and changes nothing (one transaction; SQLite's backup copy is made before it): the tool does not
invent a person for a regulated record. The team decides, with the release that wrote the review:
correct the row, or add the person (``reviewtool member add NAME``, then ``member remove NAME``),
which the ledger records. Members are never deleted or renamed, so the mapping is exact.

Nothing is recorded in the ledger beyond the ``schema-upgraded`` event: the ledger names people,
and ``audit verify`` reads the names through ``member`` from now on, so every old chain verifies.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, its key column, the name column, whether a row may name nobody)
WHO_COLUMNS: tuple[tuple[str, str, str, bool], ...] = (
    ("review", "id", "created_by", False),
    ("import_batch", "id", "imported_by", False),
    ("dedup_run", "id", "run_by", False),
    ("dedup_pair", "id", "decided_by", True),
    # None: recorded by reviewtool itself (the sought placeholders a schema upgrade writes)
    ("fulltext_report", "id", "recorded_by", True),
    ("study_link", "record_id", "linked_by", False),
    ("analysis_run", "id", "run_by", False),
)
# How many unknown names the refusal spells out (it says how many more there are).
SHOWN = 5


def _unknown_names(bind: sa.Connection) -> list[str]:
    """'table row K: column NAME' for every who-column value that is not a member's name."""
    found: list[str] = []
    for table, key, column, _nullable in WHO_COLUMNS:
        rows = bind.execute(
            sa.text(
                f"SELECT t.{key}, t.{column} FROM {table} t "
                f"LEFT JOIN member m ON m.name = t.{column} "
                f"WHERE t.{column} IS NOT NULL AND m.id IS NULL ORDER BY t.{key}"
            )
        ).all()
        found += [f"{table} row {row_key}: {column} {name!r}" for row_key, name in rows]
    return found


def upgrade() -> None:
    bind = op.get_bind()
    unknown = _unknown_names(bind)
    if unknown:
        from reviewtool.errors import SchemaError

        more = f"; and {len(unknown) - SHOWN} more" if len(unknown) > SHOWN else ""
        raise SchemaError(
            "cannot upgrade to schema 0008 (who made each row becomes a member): "
            f"{'; '.join(unknown[:SHOWN])}{more}: not a member of this review, so written "
            "outside reviewtool. Nothing was changed. With the reviewtool release that wrote "
            "this review, correct the row or add the person (`reviewtool member add NAME`, "
            "then `member remove NAME`), then open it again"
        )
    for table, _key, column, _nullable in WHO_COLUMNS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column(f"{column}_id", sa.Integer(), nullable=True))
        bind.execute(
            sa.text(
                f"UPDATE {table} SET {column}_id = "
                f"(SELECT m.id FROM member m WHERE m.name = {table}.{column})"
            )
        )
    for table, _key, column, nullable in WHO_COLUMNS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(f"{column}_id", existing_type=sa.Integer(), nullable=nullable)
            batch_op.create_foreign_key(
                batch_op.f(f"fk_{table}_{column}_id_member"), "member", [f"{column}_id"], ["id"]
            )
            batch_op.drop_column(column)


def downgrade() -> None:
    bind = op.get_bind()
    for table, _key, column, _nullable in WHO_COLUMNS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column(column, sa.String(), nullable=True))
        bind.execute(
            sa.text(
                f"UPDATE {table} SET {column} = "
                f"(SELECT m.name FROM member m WHERE m.id = {table}.{column}_id)"
            )
        )
    for table, _key, column, nullable in WHO_COLUMNS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(column, existing_type=sa.String(), nullable=nullable)
            batch_op.drop_constraint(
                batch_op.f(f"fk_{table}_{column}_id_member"), type_="foreignkey"
            )
            batch_op.drop_column(f"{column}_id")
