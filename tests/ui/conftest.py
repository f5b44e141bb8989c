"""Fixtures for the HTML routes: a migrated SQLite database per test, seeded people, a client."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response

from fuwu import migrate
from fuwu.app import create_app
from fuwu.auth import passwords
from fuwu.auth import service as auth_service
from fuwu.auth.principal import Principal
from fuwu.auth.schemas import TeamCreate, UserCreate
from fuwu.config import Settings
from fuwu.customers import service as customers_service
from fuwu.customers.schemas import ContactCreate
from fuwu.db import make_engine, make_sessionmakers, transaction

passwords.use_fast_hashing()

PASSWORD = "ui-test-pass-2026"
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]*)">')


@dataclass
class People:
    """Ids of the seeded users, team and contact."""

    ids: dict[str, int] = field(default_factory=dict)


def seed(url: str) -> dict[str, int]:
    """A team, two agents in it, an agent outside it, an admin and a customer with a contact."""
    engine = make_engine(url)
    _, writer = make_sessionmakers(engine)
    system = Principal.system()
    ids: dict[str, int] = {}
    with transaction(writer) as session:
        for username, name, role in (
            ("admin", "Ada Admin", "admin"),
            ("agent1", "Wang Fang", "agent"),
            ("agent2", "Zhang Wei", "agent"),
            ("outsider", "Olga Other", "agent"),
        ):
            user = auth_service.create_user(
                session,
                actor=system,
                data=UserCreate(
                    username=username, display_name=name, role=role, password=PASSWORD, locale="en"
                ),
            )
            ids[username] = user.id
        team = auth_service.create_team(
            session,
            actor=system,
            data=TeamCreate(name="Support", member_ids=[ids["agent1"], ids["agent2"]]),
        )
        ids["team"] = team.id
        other = auth_service.create_team(
            session, actor=system, data=TeamCreate(name="Billing", member_ids=[ids["outsider"]])
        )
        ids["other_team"] = other.id
        contact = customers_service.create_contact(
            session, actor=system, data=ContactCreate(name="Li Lei", email="lilei@example.com")
        )
        ids["contact"] = contact.id
        customer = auth_service.create_user(
            session,
            actor=system,
            data=UserCreate(
                username="customer1",
                display_name="Li Lei",
                role="customer",
                password=PASSWORD,
                locale="en",
                contact_id=contact.id,
            ),
        )
        ids["customer1"] = customer.id
    engine.dispose()
    return ids


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    """Migrated and seeded once; each test gets a copy of the file."""
    path = tmp_path_factory.mktemp("ui-template") / "template.sqlite3"
    url = f"sqlite:///{path}"
    migrate.upgrade(url)
    return path, seed(url)


@pytest.fixture
def people(template_db: tuple[Path, dict[str, int]]) -> dict[str, int]:
    return dict(template_db[1])


@pytest.fixture
def app(tmp_path: Path, template_db: tuple[Path, dict[str, int]]) -> Iterator[FastAPI]:
    db = tmp_path / "fuwu.sqlite3"
    shutil.copyfile(template_db[0], db)
    settings = Settings(
        env="test",
        data_dir=tmp_path,
        database_url=f"sqlite:///{db}",
        embedded_worker=False,
        default_locale="en",
    )
    application = create_app(settings)
    yield application
    application.state.engine.dispose()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


def csrf_of(response: Response) -> str:
    """The CSRF token a page carries in its <meta> tag."""
    found = CSRF_META.search(response.text)
    assert found, "page has no csrf-token meta tag"
    return found.group(1)


class Browser:
    """A signed-in TestClient user: knows its CSRF token, speaks form and htmx."""

    def __init__(self, client: TestClient, token: str) -> None:
        self.client = client
        self.token = token

    def get(self, url: str, *, htmx: bool = False) -> Response:
        headers = {"HX-Request": "true"} if htmx else {}
        return self.client.get(url, headers=headers, follow_redirects=False)

    def post(
        self,
        url: str,
        data: dict[str, str],
        *,
        htmx: bool = False,
        with_token: bool = True,
        files: dict[str, tuple[str, bytes, str]] | None = None,
    ) -> Response:
        body = {**data, "csrf_token": self.token} if with_token else dict(data)
        headers = {"HX-Request": "true", "X-CSRF-Token": self.token} if htmx and with_token else {}
        if htmx and not with_token:
            headers = {"HX-Request": "true"}
        return self.client.post(
            url, data=body, files=files, headers=headers, follow_redirects=False
        )


def sign_in(client: TestClient, username: str) -> Browser:
    page = client.get("/login")
    response = client.post(
        "/login",
        data={
            "username": username,
            "password": PASSWORD,
            "csrf_token": csrf_of(page),
            "next": "/inbox",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return Browser(client, csrf_of(client.get("/inbox")))


@pytest.fixture
def agent(client: TestClient) -> Browser:
    return sign_in(client, "agent1")


@pytest.fixture
def sign_in_as(app: FastAPI) -> Iterator[object]:
    """A factory: a fresh browser (own cookie jar) signed in as the given user."""
    clients: list[TestClient] = []

    def make(username: str) -> Browser:
        test_client = TestClient(app)
        clients.append(test_client)
        return sign_in(test_client, username)

    yield make
    for test_client in clients:
        test_client.close()
