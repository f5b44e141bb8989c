"""Alembic environment. Migrations themselves never import fuwu; this file only reads metadata."""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import create_engine, pool

from fuwu.db import Base, JSONType, UTCDateTime
from fuwu.migrate import load_models

load_models()
config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    url = str(config.attributes.get("url") or config.get_main_option("sqlalchemy.url"))
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Render our column types as plain SQLAlchemy so migrations never import fuwu."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and obj is JSONType:
        return "sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')"
    return False


def _include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """Custom-field indexes (ix_<table>_cf_<key>) are made at run time by the field registry."""
    return not (type_ == "index" and reflected and name is not None and "_cf_" in name)


def _run(connection: object) -> None:
    context.configure(
        include_object=_include_object,
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
