"""Index names of a table, on both dialects, including expression indexes.

SQLAlchemy's inspector skips expression indexes (with a warning), and those are exactly the
ones the field registry makes for filterable custom fields.
"""

from __future__ import annotations

import re

from sqlalchemy import Connection, text

_NAMES = {
    "postgresql": "SELECT indexname FROM pg_indexes "
    "WHERE tablename = :table AND schemaname = current_schema()",
    "sqlite": "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = :table",
}


def index_names(conn: Connection, table: str) -> set[str]:
    """Every index on `table`."""
    return set(conn.execute(text(_NAMES[conn.dialect.name]), {"table": table}).scalars())


def custom_field_index(entity: str, key: str) -> str:
    """The name of the expression index of a custom field (`ix_ticket_cf_serial_number`)."""
    return f"ix_{entity}_cf_{key}"


_CUSTOM_INDEX = re.compile(r"\bix_([a-z]+)_cf_([a-z][a-z0-9_]*)")


def custom_field_of(error_text: str) -> tuple[str, str] | None:
    """(entity, key) of the custom-field index a database error names, e.g. a unique violation
    ('duplicate key … "ix_ticket_cf_serial"' on PostgreSQL, 'UNIQUE constraint failed: index
    'ix_ticket_cf_serial'' on SQLite); None when it names none."""
    found = _CUSTOM_INDEX.search(error_text)
    return (found.group(1), found.group(2)) if found else None
