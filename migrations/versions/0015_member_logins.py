"""member logins: the PostgreSQL role each member is, in team mode

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-29 16:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "member_login",
        sa.Column("member_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("db_role", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["member.id"], name=op.f("fk_member_login_member_id_member")
        ),
        sa.PrimaryKeyConstraint("member_id", name=op.f("pk_member_login")),
        sa.UniqueConstraint("db_role", name=op.f("uq_member_login_db_role")),
    )


def downgrade() -> None:
    op.drop_table("member_login")
