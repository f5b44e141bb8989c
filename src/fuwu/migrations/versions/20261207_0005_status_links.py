"""status links

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 11:00:00

Status links become random secrets stored hashed and bound to the ticket's customer, instead of
an HMAC of the ticket id (ADR 0010). Links sent before this revision stop working.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "status_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["ticket.id"],
            name=op.f("fk_status_link_ticket_id_ticket"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["contact.id"],
            name=op.f("fk_status_link_customer_id_contact"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_link")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_status_link_token_hash")),
    )
    with op.batch_alter_table("status_link", schema=None) as batch_op:
        batch_op.create_index("ix_status_link_ticket", ["ticket_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("status_link", schema=None) as batch_op:
        batch_op.drop_index("ix_status_link_ticket")
    op.drop_table("status_link")
