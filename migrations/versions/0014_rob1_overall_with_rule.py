"""RoB 1 overall ratings stored with the rule that made them

Revision ID: 0014
Revises: 0012
Create Date: 2026-11-29 16:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0014"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rob1_overall",
        sa.Column("study_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("rating", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("risk", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("rule", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("rated_at", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.PrimaryKeyConstraint("study_id", name=op.f("pk_rob1_overall")),
    )


def downgrade() -> None:
    op.drop_table("rob1_overall")
