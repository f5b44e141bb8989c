"""approval states of the process engine

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08 00:00:00

A ticket that enters an approval state of its workflow opens a `ticket_approval` round, with
one `approval_vote` per approver; the inbox reads votes by user and state.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ticket_approval",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("ticket_id", sa.Integer(),
                  sa.ForeignKey("ticket.id", ondelete="CASCADE"), nullable=False),
        sa.Column("workflow_key", sa.String(40), nullable=False),
        sa.Column("workflow_version", sa.Integer(), nullable=False),
        sa.Column("status_key", sa.String(40), nullable=False),
        sa.Column("previous_status", sa.String(40), nullable=True),
        sa.Column("mode", sa.String(12), nullable=False),
        sa.Column("ratio", sa.Integer(), nullable=False),
        sa.Column("initiator_id", sa.Integer(),
                  sa.ForeignKey("user.id", ondelete="SET NULL"), nullable=True),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
    )  # fmt: skip
    op.create_index("ix_ticket_approval_ticket", "ticket_approval", ["ticket_id", "state"])
    op.create_table(
        "approval_vote",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("approval_id", sa.Integer(),
                  sa.ForeignKey("ticket_approval.id", ondelete="CASCADE"), nullable=False),
        sa.Column("user_id", sa.Integer(),
                  sa.ForeignKey("user.id", ondelete="CASCADE"), nullable=False),
        sa.Column("slot", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("origin", sa.String(12), nullable=False),
        sa.Column("added_by_id", sa.Integer(),
                  sa.ForeignKey("user.id", ondelete="SET NULL"), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
    )  # fmt: skip
    op.create_index("ix_approval_vote_approval_id", "approval_vote", ["approval_id"])
    op.create_index("ix_approval_vote_user", "approval_vote", ["user_id", "state"])


def downgrade() -> None:
    op.drop_table("approval_vote")
    op.drop_table("ticket_approval")
