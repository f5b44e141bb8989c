"""child tickets

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08 00:20:00

A workflow step may open tickets under the ticket (a spare-parts request under a repair); the
child points at its parent.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ticket") as batch:
        batch.add_column(sa.Column("parent_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_ticket_parent_id_ticket", "ticket", ["parent_id"], ["id"], ondelete="SET NULL"
        )
        batch.create_index("ix_ticket_parent_id", ["parent_id"])


def downgrade() -> None:
    with op.batch_alter_table("ticket") as batch:
        batch.drop_index("ix_ticket_parent_id")
        batch.drop_constraint("fk_ticket_parent_id_ticket", type_="foreignkey")
        batch.drop_column("parent_id")
