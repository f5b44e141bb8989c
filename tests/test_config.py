"""Settings: validated once, safe defaults, and the SQLite connection pragmas."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from fuwu.config import DEV_SECRET, Settings
from fuwu.db import transaction

sqlite_only = pytest.mark.parametrize("migrated_url", ["sqlite"], indirect=True)


def settings(**values) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.mark.parametrize("secret", [DEV_SECRET, "short-but-set", None])
def test_production_refuses_an_insecure_secret(secret):
    values = {"env": "production"} | ({"secret_key": secret} if secret else {})
    with pytest.raises(ValidationError, match="FUWU_SECRET_KEY"):
        settings(**values)


def test_production_starts_with_a_real_secret():
    assert settings(env="production", secret_key="x" * 40).env == "production"


def test_development_and_test_accept_the_default_secret():
    assert settings(env="development").secret_key == DEV_SECRET
    assert settings(env="test").secret_key == DEV_SECRET


def test_database_defaults_to_a_sqlite_file_in_the_data_dir(tmp_path):
    assert settings(data_dir=tmp_path).db_url == f"sqlite:///{tmp_path.resolve()}/fuwu.sqlite3"
    default = settings()
    assert default.data_dir == Path("var")
    assert default.db_url == f"sqlite:///{Path('var').resolve()}/fuwu.sqlite3"
    assert default.is_sqlite
    given = settings(database_url="postgresql+psycopg://u@db/fuwu")
    assert (given.db_url, given.is_sqlite) == ("postgresql+psycopg://u@db/fuwu", False)


def test_environment_variables_are_read(monkeypatch, tmp_path):
    monkeypatch.setenv("FUWU_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("FUWU_ENV", "production")
    monkeypatch.setenv("FUWU_SECRET_KEY", "s" * 32)
    monkeypatch.setenv("FUWU_ATTACHMENT_MAX_BYTES", "4096")
    read = settings()
    assert (read.env, read.data_dir, read.attachment_max_bytes) == ("production", tmp_path, 4096)
    monkeypatch.setenv("FUWU_ATTACHMENT_MAX_BYTES", "10")
    with pytest.raises(ValidationError, match="attachment_max_bytes"):
        settings()


@sqlite_only
def test_sqlite_connections_use_wal_foreign_keys_and_a_busy_timeout(app):
    with app.state.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 30000


@sqlite_only
def test_sqlite_enforces_foreign_keys(app):
    with pytest.raises(IntegrityError), transaction(app.state.writer) as session:
        session.execute(text("INSERT INTO ticket_tag (ticket_id, tag) VALUES (999999, 'orphan')"))
