"""tickets pinned to the workflow version they run on

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08 00:10:00

A ticket records the workflow (key and version) that moves it (ADR 0016). Tickets of types a
published workflow governs are pinned to that version now; others stay unpinned until a
workflow claims their type.
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ticket") as batch:
        batch.add_column(sa.Column("workflow_key", sa.String(40), nullable=True))
        batch.add_column(sa.Column("workflow_version", sa.Integer(), nullable=True))
    bind = op.get_bind()
    published = bind.execute(sa.text(
        "SELECT key, version, definition FROM config_version "
        "WHERE kind = 'workflow' AND status = 'published' ORDER BY key"
    )).all()  # fmt: skip
    pinned: set[str] = set()
    for key, version, definition in published:
        types = (json.loads(definition) if isinstance(definition, str) else definition)["types"]
        for type_key in types:
            if type_key in pinned:  # a type follows the first workflow that names it
                continue
            pinned.add(type_key)
            bind.execute(
                sa.text("UPDATE ticket SET workflow_key = :key, workflow_version = :version "
                        "WHERE type_key = :type"),
                {"key": key, "version": version, "type": type_key},
            )  # fmt: skip


def downgrade() -> None:
    with op.batch_alter_table("ticket") as batch:
        batch.drop_column("workflow_version")
        batch.drop_column("workflow_key")
