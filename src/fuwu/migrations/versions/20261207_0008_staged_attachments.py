"""staged attachments

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 14:10:00

A file posted with a new ticket is stored before the ticket exists, so that file fields hold
its id when the form validates them; the ticket's INSERT then claims it, in the same
transaction. Until then the attachment has no ticket.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("attachment") as batch:
        batch.alter_column("ticket_id", existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM attachment WHERE ticket_id IS NULL")
    with op.batch_alter_table("attachment") as batch:
        batch.alter_column("ticket_id", existing_type=sa.Integer(), nullable=False)
