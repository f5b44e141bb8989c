"""A real server (uvicorn in a thread) on SQLite and, if asked, PostgreSQL; headless Chromium."""

from __future__ import annotations

import os
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from playwright.sync_api import Browser, Page, sync_playwright
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from fuwu import migrate
from fuwu.app import create_app
from fuwu.auth import passwords
from fuwu.auth import service as auth_service
from fuwu.auth.principal import Principal
from fuwu.auth.schemas import TeamCreate, UserCreate
from fuwu.config import Settings
from fuwu.db import transaction

passwords.use_fast_hashing()

PASSWORD = "e2e-test-pass-2026"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"


@dataclass
class LiveServer:
    """A running fuwu: its base URL and the app (for seeding through the services)."""

    url: str
    app: FastAPI
    ids: dict[str, int]


def seed(app: FastAPI) -> dict[str, int]:
    """An admin and an agent in a team, both reading English."""
    system = Principal.system()
    ids: dict[str, int] = {}
    with transaction(app.state.writer) as session:
        for username, name, role in (
            ("admin", "Ada Admin", "admin"),
            ("agent1", "Wang Fang", "agent"),
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
            session, actor=system, data=TeamCreate(name="Support", member_ids=[ids["agent1"]])
        )
        ids["team"] = team.id
    return ids


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """Run the app on a free loopback port until the block ends."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, log_level="warning", lifespan="on", ws="none", timeout_graceful_shutdown=2
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


@contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh, uniquely named database, dropped afterwards (only that one)."""
    mode = os.environ.get("FUWU_TEST_POSTGRES", "").strip().lower()
    if mode not in ("required", "auto"):
        pytest.skip("PostgreSQL run not requested (FUWU_TEST_POSTGRES=auto or required)")
    admin = create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    try:
        conn = admin.connect()
    except OperationalError as exc:
        admin.dispose()
        if mode == "required":
            pytest.fail(f"FUWU_TEST_POSTGRES=required but PostgreSQL is unreachable: {exc}")
        pytest.skip("PostgreSQL is not reachable")
    name = f"fuwu_e2e_{secrets.token_hex(6)}"
    conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{PG_SERVER}/{name}"
    finally:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.close()
        admin.dispose()


@contextmanager
def database(backend: str, data_dir: Path) -> Iterator[str]:
    if backend == "postgresql":
        with postgres_database() as url:
            yield url
    else:
        yield f"sqlite:///{data_dir / 'e2e.sqlite3'}"


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def live_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    data_dir = tmp_path_factory.mktemp(f"e2e-{request.param}")
    with database(request.param, data_dir) as url:
        migrate.upgrade(url)
        settings = Settings(
            env="test",
            data_dir=data_dir,
            database_url=url,
            embedded_worker=False,
            default_locale="en",
        )
        app = create_app(settings)
        ids = seed(app)
        with serve(app) as base_url:
            yield LiveServer(url=base_url, app=app, ids=ids)
        app.state.engine.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    tab = context.new_page()
    yield tab
    context.close()


def log_in(page: Page, server: LiveServer, username: str = "agent1") -> None:
    page.goto(f"{server.url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server.url}/inbox**")
