"""Fixtures for the admin, customer and profile pages: a migrated SQLite file, signed-in clients."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI

from fuwu import migrate
from fuwu.app import create_app
from fuwu.auth import passwords
from fuwu.auth import service as auth_service
from fuwu.auth.principal import Principal
from fuwu.auth.schemas import UserCreate
from fuwu.config import Settings
from fuwu.db import transaction

with warnings.catch_warnings():
    # starlette warns once, at import, that it prefers httpx2 over httpx.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

PASSWORD = "correct-horse-9"

Login = Callable[..., TestClient]


@pytest.fixture
def app(tmp_path: Path) -> FastAPI:
    settings = Settings(env="test", data_dir=tmp_path, embedded_worker=False)
    migrate.upgrade(settings.db_url)
    passwords.use_fast_hashing()
    return create_app(settings)


@pytest.fixture
def make_user(app: FastAPI) -> Callable[..., int]:
    """Create a user through the service (as the system) and return their id."""

    def make(username: str, role: str = "agent", **extra: object) -> int:
        data = UserCreate.model_validate(
            {
                "username": username,
                "display_name": username.title(),
                "role": role,
                "password": PASSWORD,
                **extra,
            }
        )
        with transaction(app.state.writer) as session:
            return auth_service.create_user(session, actor=Principal.system(), data=data).id

    return make


def csrf_of(client: TestClient) -> str:
    """The CSRF token a signed-in page renders into its forms."""
    page = client.get("/profile")
    marker = 'name="csrf-token" content="'
    start = page.text.index(marker) + len(marker)
    return page.text[start : page.text.index('"', start)]


@pytest.fixture
def login(app: FastAPI) -> Iterator[Login]:
    """login("name") → a TestClient signed in as that user (GET /login, then POST /login)."""
    clients: list[TestClient] = []

    def sign_in(username: str, password: str = PASSWORD, locale: str = "en") -> TestClient:
        client = TestClient(app, headers={"Accept-Language": locale})
        client.__enter__()
        clients.append(client)
        client.get("/login")
        token = client.cookies.get("fuwu_csrf")
        response = client.post(
            "/login",
            data={"username": username, "password": password, "csrf_token": token},
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text
        return client

    yield sign_in
    for client in clients:
        client.__exit__(None, None, None)
