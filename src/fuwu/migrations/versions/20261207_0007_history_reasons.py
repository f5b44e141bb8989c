"""history reasons

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 13:30:00

A history row says why each value changed when something other than the actor decided it: the
engine that set it (workflow, SLA, rules, dispatch) or the form rule that cleared it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ticket_event") as batch:
        batch.add_column(
            sa.Column(
                "reasons", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=True
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("ticket_event") as batch:
        batch.drop_column("reasons")
