"""prioritised screening: a vote's queue order and model version, stops, calibration rounds

Revision ID: 0017
Revises: 0015
Create Date: 2026-11-29 16:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0017"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("screening_decision", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("queue_order", sqlmodel.sql.sqltypes.AutoString(), nullable=True)
        )
        batch_op.add_column(
            sa.Column("model_version", sqlmodel.sql.sqltypes.AutoString(), nullable=True)
        )
    op.create_table(
        "screening_stop",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stage", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("rule", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("references", sa.Text(), nullable=False),
        sa.Column("methods", sa.Text(), nullable=False),
        sa.Column("stopped_at", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("stopped_by_id", sa.Integer(), nullable=False),
        sa.Column("resumed_at", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("resumed_by_id", sa.Integer(), nullable=True),
        sa.Column("resume_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["resumed_by_id"], ["member.id"], name=op.f("fk_screening_stop_resumed_by_id_member")
        ),
        sa.ForeignKeyConstraint(
            ["stopped_by_id"], ["member.id"], name=op.f("fk_screening_stop_stopped_by_id_member")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_screening_stop")),
    )
    op.create_table(
        "screening_calibration",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stage", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sample", sa.Text(), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("started_at", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("started_by_id", sa.Integer(), nullable=False),
        sa.Column("closed_at", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("kappa", sa.Float(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["closed_by_id"],
            ["member.id"],
            name=op.f("fk_screening_calibration_closed_by_id_member"),
        ),
        sa.ForeignKeyConstraint(
            ["started_by_id"],
            ["member.id"],
            name=op.f("fk_screening_calibration_started_by_id_member"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_screening_calibration")),
    )


def downgrade() -> None:
    op.drop_table("screening_calibration")
    op.drop_table("screening_stop")
    with op.batch_alter_table("screening_decision", schema=None) as batch_op:
        batch_op.drop_column("model_version")
        batch_op.drop_column("queue_order")
