"""risk of bias: judgements per assessor and consensus

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29 13:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rob_judgement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tool", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("result", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("domain", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("outcome_group", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("assessor_id", sa.Integer(), nullable=False),
        sa.Column("judgement", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("algorithm", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("justification", sa.Text(), nullable=True),
        sa.Column("support", sa.Text(), nullable=False),
        sa.Column("direction", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("answers", sa.Text(), nullable=False),
        sa.Column("changed_by", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("changed_at", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assessor_id"], ["member.id"], name=op.f("fk_rob_judgement_assessor_id_member")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rob_judgement")),
        sa.UniqueConstraint(
            "tool",
            "study_id",
            "result",
            "domain",
            "outcome_group",
            "assessor_id",
            name=op.f("uq_rob_judgement_tool_study_id_result_domain_outcome_group_assessor_id"),
        ),
    )
    with op.batch_alter_table("rob_judgement", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rob_judgement_assessor_id"), ["assessor_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_rob_judgement_study_id"), ["study_id"], unique=False)
    op.create_table(
        "rob_consensus",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tool", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("result", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("domain", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("outcome_group", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("judgement", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("support", sa.Text(), nullable=False),
        sa.Column("how", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("reopened_because", sa.Text(), nullable=True),
        sa.Column("decided_by", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("decided_at", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rob_consensus")),
        sa.UniqueConstraint(
            "tool",
            "study_id",
            "result",
            "domain",
            "outcome_group",
            name=op.f("uq_rob_consensus_tool_study_id_result_domain_outcome_group"),
        ),
    )
    with op.batch_alter_table("rob_consensus", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rob_consensus_study_id"), ["study_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("rob_consensus", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rob_consensus_study_id"))
    op.drop_table("rob_consensus")
    with op.batch_alter_table("rob_judgement", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rob_judgement_study_id"))
        batch_op.drop_index(batch_op.f("ix_rob_judgement_assessor_id"))
    op.drop_table("rob_judgement")
