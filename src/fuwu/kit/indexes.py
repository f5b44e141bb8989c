"""Index names of a table, on both dialects, including expression indexes.

SQLAlchemy's inspector skips expression indexes (with a warning), and those are exactly the
ones the field registry makes for filterable custom fields.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

_NAMES = {
    "postgresql": "SELECT indexname FROM pg_indexes "
    "WHERE tablename = :table AND schemaname = current_schema()",
    "sqlite": "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = :table",
}


def index_names(conn: Connection, table: str) -> set[str]:
    """Every index on `table`."""
    return set(conn.execute(text(_NAMES[conn.dialect.name]), {"table": table}).scalars())
