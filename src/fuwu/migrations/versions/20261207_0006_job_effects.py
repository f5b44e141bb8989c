"""job effects

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 11:30:00

Side effects of jobs (emails, webhooks, IM messages) are recorded by idempotency key in their own
transaction, so a retry after a failed commit does not repeat them (docs/operator-guide.md).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_effect",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=250), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"], ["job.id"], name=op.f("fk_job_effect_job_id_job"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_effect")),
        sa.UniqueConstraint("key", name=op.f("uq_job_effect_key")),
    )


def downgrade() -> None:
    op.drop_table("job_effect")
