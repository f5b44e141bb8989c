"""The `fuwu` command, run as a real subprocess against the test database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, select

from fuwu.auth import passwords
from fuwu.auth.models import User
from fuwu.db import transaction

FUWU = str(Path(sys.executable).with_name("fuwu"))
sqlite_only = pytest.mark.parametrize("migrated_url", ["sqlite"], indirect=True)


@pytest.fixture
def fuwu(db_url, tmp_path):
    """Run `fuwu ARGS…` with FUWU_DATA_DIR and FUWU_DATABASE_URL pointing at the test database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FUWU_")}
    env |= {"FUWU_DATA_DIR": str(tmp_path / "cli"), "FUWU_DATABASE_URL": db_url, "COLUMNS": "200"}

    def run(*args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [FUWU, *args], env=env | extra_env, capture_output=True, text=True, timeout=120,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip

    return run


@sqlite_only
def test_help_lists_every_command(fuwu):
    result = fuwu("--help")
    assert result.returncode == 0, result.stderr
    for command in ("serve", "worker", "migrate", "demo", "createadmin", "token"):
        assert command in result.stdout, command


def test_createadmin_then_token_authenticates(app, client, fuwu):
    created = fuwu(
        "createadmin",
        "--username",
        "boss",
        "--email",
        "boss@example.com",
        "--password",
        "Str0ng-enough!",
    )
    assert created.returncode == 0, created.stderr
    assert "created admin boss" in created.stdout
    with transaction(app.state.reader) as session:
        user = session.scalar(select(User).where(User.username == "boss"))
    assert user is not None
    assert (user.role, user.email) == ("admin", "boss@example.com")
    assert passwords.verify_password(user.password_hash, "Str0ng-enough!")

    issued = fuwu("token", "create", "--user", "boss")
    assert issued.returncode == 0, issued.stderr
    token = issued.stdout.strip()
    assert token.startswith("fuwu_")
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200, me.text
    assert me.json()["username"] == "boss"


@sqlite_only
def test_token_scopes_and_unknown_user(app, client, factory, fuwu):
    factory.user("agent", username="li")
    issued = fuwu("token", "create", "--user", "li", "--scope", "tickets:read")
    assert issued.returncode == 0, issued.stderr
    headers = {"Authorization": f"Bearer {issued.stdout.strip()}"}
    assert client.get("/api/v1/tickets", headers=headers).status_code == 200
    assert client.post("/api/v1/tickets", json={"subject": "x"}, headers=headers).status_code == 403

    missing = fuwu("token", "create", "--user", "nobody")
    assert missing.returncode == 1
    assert "no user named 'nobody'" in missing.stderr
    assert "Traceback" not in missing.stderr


@sqlite_only
def test_createadmin_with_a_weak_password_fails_clearly(app, fuwu):
    result = fuwu(
        "createadmin", "--username", "weak", "--email", "weak@example.com", "--password", "password"
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout
    assert "password: Password must have at least 10 characters" in result.stderr, result.stderr
    with transaction(app.state.reader) as session:
        assert session.scalar(select(User).where(User.username == "weak")) is None


@sqlite_only
def test_createadmin_with_a_taken_username_fails_clearly(factory, fuwu):
    factory.user("admin", username="taken")
    taken = fuwu(
        "createadmin",
        "--username",
        "taken",
        "--email",
        "b@example.com",
        "--password",
        "Str0ng-enough!",
    )
    assert taken.returncode == 1
    assert "username: Username is already taken" in taken.stderr, taken.stderr
    assert "Traceback" not in taken.stderr


@sqlite_only
@pytest.mark.parametrize("env", ["production", "development"])
def test_a_published_secret_refuses_to_start(fuwu, env):
    result = fuwu("migrate", FUWU_ENV=env, FUWU_SECRET_KEY="dev-insecure-secret-change-me")
    assert result.returncode == 2
    assert "FUWU_SECRET_KEY" in result.stderr
    assert "Traceback" not in result.stderr


@sqlite_only
def test_migrate_builds_an_empty_database(fuwu, tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    result = fuwu("migrate", FUWU_DATABASE_URL=url)
    assert result.returncode == 0, result.stderr
    assert "database at head" in result.stdout
    engine = create_engine(url)
    try:
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert {"ticket", "user", "job", "audit_log", "alembic_version"} <= tables
