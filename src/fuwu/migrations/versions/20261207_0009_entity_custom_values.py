"""custom values on contacts, organisations and assets

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 17:00:00

The field registry already takes fields for contacts, organisations and assets; their values
live, as a ticket's do, in a `custom` JSON object on the row (JSONB on PostgreSQL).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TABLES = ("contact", "organisation", "asset")


def upgrade() -> None:
    for name in TABLES:
        with op.batch_alter_table(name) as batch:
            batch.add_column(
                sa.Column(
                    "custom",
                    sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
                    nullable=False,
                    server_default=sa.text("'{}'"),
                )
            )


def downgrade() -> None:
    for name in TABLES:
        with op.batch_alter_table(name) as batch:
            batch.drop_column("custom")
