"""prescreen_removal: references removed before screening for other reasons (PRISMA 2020)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 13:40:00

One row per reference removed before title/abstract screening by ``reviewtool screen remove``
(animal studies, meeting abstracts ...), keyed by the reference's first record.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "prescreen_removal",
        sa.Column("record_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("removed_by", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("removed_at", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"], ["record.id"], name=op.f("fk_prescreen_removal_record_id_record")
        ),
        sa.PrimaryKeyConstraint("record_id", name=op.f("pk_prescreen_removal")),
    )


def downgrade() -> None:
    op.drop_table("prescreen_removal")
