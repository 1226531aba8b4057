"""audit: a random salt per ledger event, hashed with it (issue 14, section 3, "hash oracle")

A reviewer who may read the hash of another reviewer's hidden vote event (on PostgreSQL, the
``prev_hash`` of the next event it may read, or ``audit_head``) could hash each candidate payload
(about 27 votes without a note) with the guessable times and find the vote. Every event written
from this revision on carries 128 random bits in ``salt``, hashed with it and hidden with the
event, so the candidates cannot be checked. Events already written keep NULL and their hash:
``audit.log.event_hash`` hashes an event without a salt exactly as before, so every existing
ledger keeps verifying.

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-29 19:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# A downgrade keeps the salts here (the events' hashes need them), and the next upgrade puts them
# back: a review taken down to an older schema and up again still verifies.
KEPT = "audit_event_salt_kept"


def upgrade() -> None:
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("salt", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    if KEPT in sa.inspect(op.get_bind()).get_table_names():
        op.execute(
            f"UPDATE audit_event SET salt = (SELECT k.salt FROM {KEPT} k "
            "WHERE k.seq = audit_event.seq)"
        )
        op.drop_table(KEPT)


def downgrade() -> None:
    op.create_table(
        KEPT,
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("salt", sa.String(), nullable=False),
    )
    op.execute(
        f"INSERT INTO {KEPT} (seq, salt) SELECT seq, salt FROM audit_event WHERE salt IS NOT NULL"
    )
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_column("salt")
