"""extraction: form versions, extractors' values and consensus values

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 13:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "extraction_form",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("toml", sa.Text(), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("added_by", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("added_at", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_extraction_form")),
    )
    op.create_table(
        "extraction_consensus",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("arm", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("time_point", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("field", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("form_version", sa.Integer(), nullable=False),
        sa.Column("source_kind", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("how", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("decided_at", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("reopened_at", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("reopened_because", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["form_version"],
            ["extraction_form.version"],
            name=op.f("fk_extraction_consensus_form_version_extraction_form"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["member.id"], name=op.f("fk_extraction_consensus_member_id_member")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_extraction_consensus")),
        sa.UniqueConstraint(
            "study_id",
            "arm",
            "outcome",
            "time_point",
            "field",
            name=op.f("uq_extraction_consensus_study_id_arm_outcome_time_point_field"),
        ),
    )
    with op.batch_alter_table("extraction_consensus", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_extraction_consensus_study_id"), ["study_id"], unique=False
        )

    op.create_table(
        "extraction_value",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("arm", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("time_point", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("field", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("form_version", sa.Integer(), nullable=False),
        sa.Column("source_kind", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("entered_at", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.ForeignKeyConstraint(
            ["form_version"],
            ["extraction_form.version"],
            name=op.f("fk_extraction_value_form_version_extraction_form"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["member.id"], name=op.f("fk_extraction_value_member_id_member")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_extraction_value")),
        sa.UniqueConstraint(
            "study_id",
            "member_id",
            "arm",
            "outcome",
            "time_point",
            "field",
            name=op.f("uq_extraction_value_study_id_member_id_arm_outcome_time_point_field"),
        ),
    )
    with op.batch_alter_table("extraction_value", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_extraction_value_study_id"), ["study_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("extraction_value", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_extraction_value_study_id"))

    op.drop_table("extraction_value")
    with op.batch_alter_table("extraction_consensus", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_extraction_consensus_study_id"))

    op.drop_table("extraction_consensus")
    op.drop_table("extraction_form")
