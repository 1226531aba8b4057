"""extraction: drop the study_id indexes the unique constraints already lead with

The unique constraints of ``extraction_value`` (study_id, member_id, arm, outcome, time_point,
field) and ``extraction_consensus`` (study_id, arm, outcome, time_point, field) begin with
``study_id``, so every lookup by study uses them; the separate study_id indexes only cost a write
per row (about a sixth of a bulk import's inserts, ``benchmarks/bench_extraction.py``).

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-29 17:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("extraction_value", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_extraction_value_study_id"))
    with op.batch_alter_table("extraction_consensus", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_extraction_consensus_study_id"))


def downgrade() -> None:
    with op.batch_alter_table("extraction_consensus", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_extraction_consensus_study_id"), ["study_id"], unique=False
        )
    with op.batch_alter_table("extraction_value", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_extraction_value_study_id"), ["study_id"], unique=False
        )
