"""Engine, sessions and the few column types and statements that differ between dialects."""

from __future__ import annotations

import fcntl
import functools
import operator
import os
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import (
    JSON,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    create_engine,
    event,
    func,
    insert,
    literal,
    select,
    text,
    union_all,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

JSONType = JSON().with_variant(postgresql.JSONB(), "postgresql")


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both dialects (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use fuwu.kit.time.utcnow()")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def make_engine(url: str, *, pool_size: int = 10) -> Engine:
    """An engine with the SQLite pragmas (WAL, foreign keys, busy timeout) or a PostgreSQL pool."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        _configure_sqlite(engine)
        return engine
    engine = create_engine(url, pool_size=pool_size, max_overflow=pool_size)
    _ping_idle_connections(engine)
    return engine


# A pooled connection unused for longer than this is pinged before use (pool_pre_ping pinged
# every checkout: a round trip per request). One used moments ago is trusted: if the server
# went away since, the request fails like any in flight and the pool is renewed.
PING_AFTER_IDLE_SECONDS = 5.0


def _ping_idle_connections(engine: Engine) -> None:
    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_conn: Any, record: Any) -> None:
        record.info["fuwu_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("fuwu_idle_since")  # None: connected just now
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except engine.dialect.loaded_dbapi.Error as exc:
            # The pool discards this connection and checks out a fresh one.
            raise DisconnectionError("stale pooled connection") from exc


class WriteQueue:
    """SQLite writers queue here before BEGIN IMMEDIATE: first within the process (a thread
    lock), then across processes (flock on a file beside the database).

    A waiter goes as soon as the writer before it is done, where SQLite's busy handler sleeps
    with a growing back-off (up to 100 ms a try) and lets whoever just wrote win again: with
    8 concurrent creates, p99 went from 1.6 s to 0.28 s in one process (docs/benchmarks.md).
    After `timeout` seconds a writer goes on without the queue and meets SQLite's own lock.
    """

    def __init__(self, database: str | None) -> None:
        self.lock = threading.Lock()
        self.fd = (
            os.open(f"{database}.writelock", os.O_RDWR | os.O_CREAT, 0o600) if database else None
        )

    def acquire(self, timeout: float = 30.0) -> bool:
        deadline = time.monotonic() + timeout
        if not self.lock.acquire(timeout=timeout):
            return False
        if self.fd is None:
            return True
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() > deadline:
                    self.lock.release()
                    return False
                time.sleep(0.0005)

    def release(self) -> None:
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
        self.lock.release()


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, decide when a transaction begins (see _on_begin).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    database = engine.url.database
    write_queue = WriteQueue(database if database and database != ":memory:" else None)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Writers take the lock up front: a deferred transaction that later writes can fail
        # at once with "database is locked" instead of waiting for the busy timeout.
        mode = conn.get_execution_options().get("fuwu_begin", "DEFERRED")
        if mode == "IMMEDIATE" and write_queue.acquire(timeout=30):
            conn.info["fuwu_write_queue"] = True
        conn.exec_driver_sql(f"BEGIN {mode}")

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_conn: Any, record: Any) -> None:
        # Back in the pool: the transaction has committed or rolled back (or the begin failed).
        if record.info.pop("fuwu_write_queue", False):
            write_queue.release()


def make_sessionmakers(
    engine: Engine, *, info: dict[str, Any] | None = None
) -> tuple[sessionmaker[Session], sessionmaker[Session]]:
    """(reader, writer) session factories; on SQLite the writer begins IMMEDIATE. `info` is
    given to every session (the app's installed deciders, `fuwu.fields.deciders`)."""
    reader = sessionmaker(engine, expire_on_commit=False, info=info)
    writer_engine = engine.execution_options(fuwu_begin="IMMEDIATE")
    writer = sessionmaker(writer_engine, expire_on_commit=False, info=info)
    return reader, writer


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


_COUNTER_STATEMENTS: dict[tuple[str, str], Any] = {}


def increment_counter(session: Session, table: Any, key: str) -> int:
    """The next value of a named counter (both dialects).

    SQLite bumps the key's row, so values are gapless and a rollback takes its value back
    (SQLite has one writer at a time anyway). PostgreSQL takes it from the key's own sequence
    (`fuwu_counter_next`, migration 0003): no row lock is held until commit, so concurrent
    inserts do not queue on it, and a rolled-back value is skipped (docs/adr/0009).
    """
    dialect = session.get_bind().dialect.name
    stmt = _COUNTER_STATEMENTS.get((dialect, table.name))
    if stmt is None:  # built once: its cache key is then computed once, not per ticket
        if dialect == "postgresql":
            stmt = select(_counter_next(table, bindparam("key", type_=String)))
        else:
            stmt = (
                sqlite.insert(table)
                .values(key=bindparam("key"), value=1)
                .on_conflict_do_update(
                    index_elements=[table.c.key], set_={"value": table.c.value + 1}
                )
                .returning(table.c.value)
            )
        _COUNTER_STATEMENTS[(dialect, table.name)] = stmt
    return int(session.execute(stmt, {"key": key}).scalar_one())


def _counter_next(table: Any, key: Any) -> Any:
    return func.fuwu_counter_next(literal(table.name, String), key, type_=Integer)


def ping(session: Session) -> None:
    """Raise if the database does not answer."""
    session.execute(text("SELECT 1"))


def insert_ignoring_conflicts(
    session: Session, table: Any, rows: list[dict[str, Any]], *, conflict: list[str]
) -> int:
    """INSERT … ON CONFLICT DO NOTHING (both dialects); returns how many rows went in.

    Cheaper than a savepoint per row, and safe when a concurrent transaction inserts the
    same key: the loser simply inserts nothing.
    """
    dialect = session.get_bind().dialect.name
    ins: Any = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    stmt = ins.on_conflict_do_nothing(index_elements=[table.c[c] for c in conflict])
    inserted = 0
    for row in rows:
        result: Any = session.execute(stmt.values(**row))
        inserted += int(result.rowcount or 0)
    return inserted


def table(model: type[Base]) -> Table:
    """The Core table of a mapped class: INSERTs on it skip the ORM's bulk machinery
    (≈ 0.25 ms instead of ≈ 0.7 ms per statement on the benchmark machine)."""
    return cast(Table, model.__table__)


@dataclass(frozen=True)
class New:
    """In a child row given to `insert_with_children`: the new parent row's value of `column`
    (its id by default, converted to the child column's type). Also allowed as a top-level
    value of a JSON dict (JSONB on PostgreSQL, as `JSONType` makes it)."""

    column: str = "id"


@dataclass(frozen=True)
class Children:
    """Rows of `table` to insert with a parent row; their values may refer to it with `New`."""

    table: Table
    rows: Sequence[dict[str, Any]]


@dataclass(frozen=True)
class Numbered:
    """A text column value made by the INSERT that stores it from the next value of a counter
    (`increment_counter` of `key` in `counter`), zero-padded into literal parts:
    ("SR20261122-", 5) makes SR20261122-00042. On PostgreSQL the value is taken inside that
    statement, so the number costs no round trip of its own."""

    counter: Table
    key: str
    parts: tuple[str | int, ...]  # literal text, or the least width of the number

    def render(self, value: int) -> str:
        return "".join(p if isinstance(p, str) else str(value).zfill(p) for p in self.parts)


def insert_with_children(
    session: Session, parent: Table, values: dict[str, Any], children: Sequence[Children]
) -> dict[str, Any]:
    """INSERT one row and rows that refer to it; returns the parent's id and the values of
    the columns the children refer to (`New`) or that a `Numbered` value made.

    On PostgreSQL this is a single statement (the counter and the children are data-modifying
    CTEs around the parent's INSERT … RETURNING): one round trip, parse and execute instead
    of one per table (ticket intake, docs/benchmarks.md). On SQLite, in process, it is one
    statement per table. Meant for a few fixed shapes (which columns, how many child rows):
    each is built and compiled once.
    """
    values = _with_defaults(parent, values)
    children = [Children(c.table, [_with_defaults(c.table, r) for r in c.rows]) for c in children]
    children = [c for c in children if c.rows]
    if session.get_bind().dialect.name != "postgresql":
        return _insert_one_by_one(session, parent, values, children)
    shape = (
        parent,
        tuple((k, _kind(v)) for k, v in values.items()),
        tuple((c.table, tuple(tuple((k, _kind(v)) for k, v in r.items()) for r in c.rows))
              for c in children),
    )  # fmt: skip
    stmt = _TREE_INSERTS.get(shape)
    if stmt is None:  # built once per shape: compiled once, its cache key computed once
        stmt = _TREE_INSERTS[shape] = _tree_insert(parent, values, children)
    params: dict[str, Any] = {}
    for k, v in values.items():
        if isinstance(v, Numbered):
            params.update({f"n_{i}": p for i, p in enumerate(v.parts) if isinstance(p, str)})
            params["n_key"] = v.key
        else:
            params[f"p_{k}"] = v
    for i, child in enumerate(children):
        for j, row in enumerate(child.rows):
            bound = {k: _plain(v) for k, v in row.items() if not isinstance(v, New)}
            params.update({f"c{i}_{j}_{k}": v for k, v in bound.items()})
    return dict(session.execute(stmt, params).mappings().one())


_TREE_INSERTS: dict[tuple[Any, ...], Any] = {}


_PLAIN_TYPES = frozenset({str, int, float, bool, type(None), datetime, list, tuple})


def _kind(value: Any) -> Any:
    """What shapes the SQL: a reference to the parent, a counter, or a plain value ("")."""
    if type(value) in _PLAIN_TYPES:  # most values: one lookup instead of three isinstance
        return ""
    if isinstance(value, New):
        return value
    if isinstance(value, Numbered):
        return (value.counter, tuple(p if isinstance(p, int) else "" for p in value.parts))
    if isinstance(value, dict) and any(isinstance(v, New) for v in value.values()):
        return tuple((k, v) for k, v in value.items() if isinstance(v, New))
    return ""


def _plain(value: Any) -> Any:
    """The bound part of a child value: a JSON dict without its `New` entries."""
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if not isinstance(v, New)}
    return value


def _returned(parent: Table, values: dict[str, Any], children: Sequence[Children]) -> list[str]:
    """The parent columns to return: its id, the computed ones and those children use."""
    names = [c.name for c in parent.primary_key.columns]
    names += [k for k, v in values.items() if isinstance(v, Numbered)]
    for child in children:
        for value in child.rows[0].values():
            refs = value.values() if isinstance(value, dict) else [value]
            names += [r.column for r in refs if isinstance(r, New)]
    return list(dict.fromkeys(names))


def _tree_insert(parent: Table, values: dict[str, Any], children: Sequence[Children]) -> Any:
    """WITH p AS (INSERT … RETURNING …),
    c0 AS (INSERT … SELECT …, p.id FROM p), … SELECT p.id, … FROM p."""
    if sum(isinstance(v, Numbered) for v in values.values()) > 1:
        raise ValueError("one Numbered value per INSERT")
    row: dict[str, Any] = {}
    for k, v in values.items():
        row[k] = (
            _numbered_sql(v)
            if isinstance(v, Numbered)
            else bindparam(f"p_{k}", type_=parent.c[k].type)
        )
    returned = _returned(parent, values, children)
    head = insert(parent).values(row).returning(*(parent.c[k] for k in returned)).cte("p")
    ctes = [_child_insert(i, child, head) for i, child in enumerate(children)]
    return select(*(head.c[k] for k in returned)).add_cte(*ctes)


def _numbered_sql(value: Numbered) -> Any:
    # Taken once in a subquery: the digits are used twice below, and PostgreSQL does not pull
    # a volatile call up into the outer query (which would take two numbers).
    taken = select(
        sql_cast(_counter_next(value.counter, bindparam("n_key", type_=String)), String).label("d")
    ).subquery("n")
    digits = taken.c.d
    pieces = [
        bindparam(f"n_{i}", type_=String)
        if isinstance(p, str)
        else func.lpad(digits, func.greatest(p, func.length(digits)), "0")  # zfill
        for i, p in enumerate(value.parts)
    ]
    return select(functools.reduce(operator.add, pieces)).scalar_subquery()


def _with_defaults(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    """The row with the Python-side defaults of the columns it leaves out, as a plain INSERT
    applies them (an INSERT inside a CTE or an INSERT … SELECT applies none)."""
    missing = [c for c in _defaulted(table) if c.key not in row]
    if not missing:
        return row
    filled = dict(row)
    for column in missing:
        default: Any = column.default
        filled[column.key] = default.arg(None) if default.is_callable else default.arg
    return filled


@functools.cache
def _defaulted(table: Table) -> tuple[Any, ...]:
    columns = tuple(c for c in table.c if c.default is not None)
    for column in columns:
        default: Any = column.default
        if not (default.is_scalar or default.is_callable):
            raise ValueError(f"{table.name}.{column.key}: only Python-side defaults are filled")
    return columns


def _child_insert(i: int, child: Children, head: Any) -> Any:
    selects = []
    for j, row in enumerate(child.rows):
        columns = []
        for k, v in row.items():
            column_type = child.table.c[k].type
            if isinstance(v, New):
                ref = head.c[v.column]
                same = column_type.python_type is ref.type.python_type
                columns.append(ref if same else sql_cast(ref, column_type))
            elif _kind(v):  # a JSON dict with entries from the parent
                merged = func.jsonb_build_object(
                    *(x for key, r in _kind(v) for x in (literal(key), head.c[r.column]))
                )
                bound = sql_cast(bindparam(f"c{i}_{j}_{k}", type_=column_type), JSONB)
                columns.append(bound.op("||")(merged))
            else:
                columns.append(bindparam(f"c{i}_{j}_{k}", type_=column_type))
        selects.append(select(*columns).select_from(head))
    source = selects[0] if len(selects) == 1 else union_all(*selects)
    into = insert(child.table).from_select(list(child.rows[0]), source, include_defaults=False)
    return into.cte(f"c{i}")


def _insert_one_by_one(
    session: Session, parent: Table, values: dict[str, Any], children: Sequence[Children]
) -> dict[str, Any]:
    row = dict(values)
    for k, v in values.items():
        if isinstance(v, Numbered):
            row[k] = v.render(increment_counter(session, v.counter, v.key))
    stmt = _insert(parent, tuple(_returned(parent, values, children)))
    new = dict(session.execute(stmt, row).mappings().one())
    for child in children:
        rows = [
            {k: _resolve(child.table.c[k].type, v, new) for k, v in r.items()} for r in child.rows
        ]
        session.execute(_insert(child.table), rows[0] if len(rows) == 1 else rows)
    return new


def _resolve(column_type: Any, value: Any, new: dict[str, Any]) -> Any:
    if isinstance(value, New):
        return column_type.python_type(new[value.column])  # e.g. an id into a text column
    if isinstance(value, dict):
        return {k: new[v.column] if isinstance(v, New) else v for k, v in value.items()}
    return value


@functools.cache
def _insert(table: Table, returning: tuple[str, ...] = ()) -> Any:
    stmt = insert(table)
    return stmt.returning(*(table.c[k] for k in returning)) if returning else stmt
