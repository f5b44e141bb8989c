"""the status catalogue of the process engine

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 22:00:00

Statuses were five fixed ones in the code. They become rows an administrator adds to (待受理,
已派工 …), each with a category that never changes; the five are seeded under their keys, so
every ticket keeps its status.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

SEEDED = (
    ("new", "new", "新建", "New", "#2563eb", 10),
    ("open", "open", "处理中", "Open", "#d97706", 20),
    ("pending", "pending", "挂起", "Pending", "#7c3aed", 30),
    ("resolved", "resolved", "已解决", "Resolved", "#059669", 40),
    ("closed", "closed", "已关闭", "Closed", "#6b7280", 50),
)


def upgrade() -> None:
    table = op.create_table(
        "ticket_status",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(40), nullable=False),
        sa.Column("category", sa.String(10), nullable=False),
        sa.Column("label_zh", sa.String(60), nullable=False),
        sa.Column("label_en", sa.String(60), nullable=False),
        sa.Column("colour", sa.String(7), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("key", name="uq_ticket_status_key"),
    )
    now = datetime.now(UTC)
    if op.get_bind().dialect.name == "sqlite":  # stored naive there, as UTCDateTime does
        now = now.replace(tzinfo=None)
    op.bulk_insert(
        table,
        [
            {"key": k, "category": c, "label_zh": zh, "label_en": en, "colour": colour,
             "position": position, "active": True, "created_at": now, "updated_at": now}
            for k, c, zh, en, colour, position in SEEDED
        ],
    )  # fmt: skip


def downgrade() -> None:
    op.drop_table("ticket_status")
