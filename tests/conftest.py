"""Shared fixtures: real databases (SQLite and PostgreSQL), the app, a client and factories.

Every test that asks for `db_url` (or anything built on it: settings, app, client, factory,
api_as) runs once per database. The schema is built by the migrations once per database and
xdist worker; each test starts from empty tables.

FUWU_TEST_POSTGRES: "auto" (default) skips the PostgreSQL runs when the server does not answer,
"required" fails them loudly instead (CI), "off" runs SQLite only.
FUWU_TEST_POSTGRES_URL: the server, default postgresql+psycopg://postgres@127.0.0.1:5432.
"""

from __future__ import annotations

import itertools
import os
import secrets
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, Table, create_engine, pool, text
from sqlalchemy.engine import make_url

import fuwu.app
import fuwu.wiring
from fuwu import migrate
from fuwu.auth import access, passwords
from fuwu.auth import service as auth_service
from fuwu.auth.models import Team, User
from fuwu.auth.principal import Principal
from fuwu.auth.schemas import TeamCreate, UserCreate
from fuwu.config import Settings
from fuwu.customers import service as customers_service
from fuwu.customers.models import Contact
from fuwu.customers.schemas import ContactCreate
from fuwu.db import Base, make_engine, transaction
from fuwu.tickets import service as tickets_service
from fuwu.tickets.models import Ticket
from fuwu.tickets.schemas import TicketCreate, TicketUpdate
from fuwu.workflows import statuses

# Starlette 1.x prefers httpx2 and warns once, at import, when it finds httpx 0.28 (our pinned
# dev dependency). Silence only that import-time notice; every other warning stays an error.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

# Indexes the field registry makes at run time for filterable fields (ix_<entity>_cf_<key>).
INDEX_NAMES = {
    "postgresql": "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()",
    "sqlite": "SELECT name FROM sqlite_master WHERE type = 'index'",
}
COUNTER_SEQUENCES = (
    "SELECT sequencename FROM pg_sequences WHERE schemaname = current_schema()"
    " AND sequencename ~ '^(ticket|field)_counter_[0-9a-f]{32}$'"
)
PG_MODE = os.environ.get("FUWU_TEST_POSTGRES", "auto").strip().lower()
PG_SERVER = os.environ.get("FUWU_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432")
PASSWORD = "correct-horse-42"
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")

if PG_MODE not in ("auto", "required", "off"):
    raise pytest.UsageError(f"FUWU_TEST_POSTGRES must be auto, required or off, not {PG_MODE!r}")

DB_KINDS = ["sqlite"] if PG_MODE == "off" else ["sqlite", "postgresql"]

# Tests must not depend on the developer's FUWU_* variables (the Makefile exports some).
for _name in [n for n in os.environ if n.startswith("FUWU_") and not n.startswith("FUWU_TEST_")]:
    del os.environ[_name]

passwords.use_fast_hashing()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "postgresql: runs against PostgreSQL")
    # Tests that use the services without an app need the entities, as create_app has them.
    fuwu.wiring.register()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and "postgresql" in callspec.params.values():
            item.add_marker(pytest.mark.postgresql)


class TestDatabases:
    """The databases of this test session and xdist worker; drops only the ones it created."""

    __test__ = False

    def __init__(self, root: Path) -> None:
        self.root = root
        self.created: list[str] = []
        self.engines: dict[str, Engine] = {}
        self.seeds: dict[str, list[tuple[Table, list[dict[str, Any]]]]] = {}
        self._pg_error: str | None = None
        self._pg_checked = False

    def _admin(self) -> Engine:
        url = make_url(PG_SERVER).set(database="postgres")
        return create_engine(url, poolclass=pool.NullPool, isolation_level="AUTOCOMMIT")

    def require_postgres(self) -> None:
        """Skip, or fail in "required" mode, when PostgreSQL does not answer."""
        if PG_MODE == "off":
            pytest.skip("FUWU_TEST_POSTGRES=off")
        if not self._pg_checked:
            self._pg_checked = True
            try:
                engine = self._admin()
                with engine.connect() as conn:
                    conn.execute(text("SELECT 1"))
                engine.dispose()
            except Exception as exc:  # any connection failure means "unreachable"
                self._pg_error = f"{type(exc).__name__}: {exc}".splitlines()[0]
        if self._pg_error is None:
            return
        message = f"PostgreSQL at {PG_SERVER} is unreachable ({self._pg_error})"
        if PG_MODE == "required":
            pytest.fail(f"{message}; FUWU_TEST_POSTGRES=required", pytrace=False)
        pytest.skip(message)

    def new(self, kind: str) -> str:
        """The URL of a new, empty database of this kind."""
        name = f"fuwu_test_{WORKER}_{secrets.token_hex(4)}"
        if kind == "sqlite":
            return f"sqlite:///{self.root / name}.sqlite3"
        self.require_postgres()
        engine = self._admin()
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        self.created.append(name)
        return make_url(PG_SERVER).set(database=name).render_as_string(hide_password=False)

    def engine(self, url: str, pool_size: int = 10) -> Engine:
        """One engine per database for the whole session.

        SQLAlchemy caches compiled SQL per engine; a new engine per test would compile every
        statement again in every test (a third of the suite's time).
        """
        if url not in self.engines:
            self.engines[url] = make_engine(url, pool_size=pool_size)
        return self.engines[url]

    def remember_seeds(self, url: str) -> None:
        """Keep the rows the migrations wrote (the seeded statuses): `clean` puts them back,
        so every test starts from what a fresh install has."""
        with self.engine(url).connect() as conn:
            self.seeds[url] = [
                (table, [dict(r._mapping) for r in conn.execute(table.select())])
                for table in Base.metadata.sorted_tables
            ]
        self.seeds[url] = [(t, rows) for t, rows in self.seeds[url] if rows]

    def clean(self, url: str) -> None:
        """Empty every application table but for the migrations' seeds (the schema and
        alembic_version stay).

        DELETE in reverse dependency order: on these tiny tables it takes ~3 ms where
        TRUNCATE ... RESTART IDENTITY takes ~100 ms on PostgreSQL. Ids are therefore not reset
        on PostgreSQL, so tests never rely on particular ids.
        """
        with self.engine(url).begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SET LOCAL lock_timeout = '10s'"))  # a leak fails, not hangs
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(table.delete())
            for name in conn.execute(text(INDEX_NAMES[conn.dialect.name])).scalars().all():
                if "_cf_" in name:
                    conn.execute(text(f'DROP INDEX IF EXISTS "{name}"'))
            if conn.dialect.name == "postgresql":  # counters' sequences (migration 0003)
                for name in conn.execute(text(COUNTER_SEQUENCES)).scalars().all():
                    conn.execute(text(f'DROP SEQUENCE IF EXISTS "{name}"'))
            for table, rows in self.seeds.get(url, []):
                conn.execute(table.insert(), rows)
        statuses.forget_cached()  # a status key deleted here may come back another category

    def close(self) -> None:
        for engine in self.engines.values():
            engine.dispose()
        if not self.created:
            return
        engine = self._admin()
        with engine.connect() as conn:
            for name in self.created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


@pytest.fixture(scope="session")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestDatabases]:
    migrate.load_models()
    dbs = TestDatabases(tmp_path_factory.mktemp("databases"))
    yield dbs
    dbs.close()


@pytest.fixture(scope="session", params=DB_KINDS)
def migrated_url(request: pytest.FixtureRequest, databases: TestDatabases) -> str:
    """One database per kind and worker, built by the migrations."""
    url = databases.new(request.param)
    migrate.upgrade(url)
    databases.remember_seeds(url)
    return url


@pytest.fixture
def db_url(migrated_url: str, databases: TestDatabases) -> str:
    """The URL of a migrated database with empty tables (each test starts clean)."""
    databases.clean(migrated_url)
    return migrated_url


@pytest.fixture
def db_kind(db_url: str) -> str:
    return "sqlite" if db_url.startswith("sqlite") else "postgresql"


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        env="test",
        data_dir=tmp_path,
        database_url=db_url,
        embedded_worker=False,
    )


@pytest.fixture
def make_app(
    settings: Settings, databases: TestDatabases, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., FastAPI]]:
    """Build an app on the test database, with settings overridden as given."""
    monkeypatch.setattr(fuwu.app, "make_engine", databases.engine)
    apps: list[FastAPI] = []

    def build(*, deciders: tuple[Any, ...] | None = None, **overrides: Any) -> FastAPI:
        application = fuwu.app.create_app(settings.model_copy(update=overrides), deciders=deciders)
        apps.append(application)
        return application

    yield build
    for application in apps:
        application.state.engine.dispose()  # closes pooled connections; the engine lives on


@pytest.fixture
def app(make_app: Callable[..., FastAPI]) -> FastAPI:
    return make_app()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


class Factory:
    """Creates users, teams, contacts, tickets and tokens through the services."""

    def __init__(self, app: FastAPI) -> None:
        self.writer = app.state.writer
        self.settings: Settings = app.state.settings
        self._seq = itertools.count(1)

    def _n(self) -> int:
        return next(self._seq)

    def principal(self, user: User) -> Principal:
        """The Principal the API would build for this user."""
        with transaction(self.writer) as session:
            found = auth_service.get_user(session, user.id)
            return auth_service.principal_for(session, found)

    def team(self, name: str | None = None, *, members: Sequence[User] = ()) -> Team:
        data = TeamCreate(name=name or f"Team {self._n()}", member_ids=[m.id for m in members])
        with transaction(self.writer) as session:
            team = auth_service.create_team(session, actor=Principal.system(), data=data)
            return auth_service.get_team(session, team.id)

    def user(
        self,
        role: str = "agent",
        *,
        username: str | None = None,
        teams: Sequence[Team] = (),
        contact: Contact | None = None,
        password: str | None = PASSWORD,
        **extra: Any,
    ) -> User:
        n = self._n()
        username = username or f"{role}{n}"
        data = UserCreate(
            username=username,
            display_name=extra.pop("display_name", f"{role.title()} {n}"),
            role=role,  # type: ignore[arg-type]
            password=password,
            team_ids=[t.id for t in teams],
            contact_id=contact.id if contact else None,
            **extra,
        )
        with transaction(self.writer) as session:
            user = auth_service.create_user(session, actor=Principal.system(), data=data)
            return auth_service.get_user(session, user.id)

    def contact(
        self,
        name: str | None = None,
        *,
        email: str | None = None,
        phone: str | None = None,
        **extra: Any,
    ) -> Contact:
        n = self._n()
        data = ContactCreate(name=name or f"Customer {n}", email=email, phone=phone, **extra)
        with transaction(self.writer) as session:
            return customers_service.create_contact(session, actor=Principal.system(), data=data)

    def customer_user(self, contact: Contact | None = None, **extra: Any) -> User:
        """A portal user linked to a contact (a new one unless given)."""
        return self.user("customer", contact=contact or self.contact(), **extra)

    def ticket(
        self,
        subject: str | None = None,
        *,
        actor: User | None = None,
        customer: Contact | None = None,
        team: Team | None = None,
        assignee: User | None = None,
        status: str | None = None,
        **fields: Any,
    ) -> Ticket:
        data = TicketCreate(
            subject=subject or f"Ticket {self._n()}",
            customer_id=customer.id if customer else None,
            team_id=team.id if team else None,
            assignee_id=assignee.id if assignee else None,
            **fields,
        )
        who = self.principal(actor) if actor else Principal.system()
        with transaction(self.writer) as session:
            ticket = tickets_service.create_ticket(
                session,
                actor=who,
                data=data,
                number_pattern=self.settings.ticket_number_pattern,
                timezone=self.settings.timezone,
            )
            if status is not None and status != ticket.status:
                tickets_service.update_ticket(
                    session, actor=who, ticket_id=ticket.id, data=TicketUpdate(status=status)
                )
            return tickets_service.get_ticket(
                session, actor=Principal.system(), ticket_id=ticket.id
            )

    def token(self, user: User, scopes: Sequence[str] = ("*",)) -> str:
        with transaction(self.writer) as session:
            plain, _ = access.create_token(
                session, actor=Principal.system(), user_id=user.id, name="test", scopes=list(scopes)
            )
        return plain


@pytest.fixture
def factory(app: FastAPI) -> Factory:
    return Factory(app)


ApiAs = Callable[..., dict[str, str]]


@pytest.fixture
def api_as(factory: Factory) -> ApiAs:
    """Headers for calling the API as `user` with a fresh token (lang sets Accept-Language)."""

    def headers(
        user: User, *, scopes: Sequence[str] = ("*",), lang: str | None = "en"
    ) -> dict[str, str]:
        result = {"Authorization": f"Bearer {factory.token(user, scopes)}"}
        if lang:
            result["Accept-Language"] = lang
        return result

    return headers
