"""Settings: validated once, safe defaults, and the SQLite connection pragmas."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from fuwu.app import create_app
from fuwu.config import KNOWN_SECRETS, SECRET_FILE, Settings
from fuwu.db import transaction

sqlite_only = pytest.mark.parametrize("migrated_url", ["sqlite"], indirect=True)


def settings(**values) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.mark.parametrize("env", ["development", "test", "production"])
@pytest.mark.parametrize("secret", [*sorted(KNOWN_SECRETS), "short-but-set"])
def test_every_environment_refuses_a_published_or_short_secret(env, secret):
    with pytest.raises(ValidationError, match="FUWU_SECRET_KEY"):
        settings(env=env, secret_key=secret)


def test_a_real_secret_is_used_as_given(tmp_path):
    given = settings(env="production", secret_key="x" * 40, data_dir=tmp_path)
    assert given.with_secret().secret_key == "x" * 40
    assert not (tmp_path / SECRET_FILE).exists()


def test_without_a_secret_one_is_generated_into_the_data_dir_once(tmp_path):
    first = settings(env="production", data_dir=tmp_path).with_secret().secret_key
    stored = tmp_path / SECRET_FILE
    assert len(first) >= 32
    assert first not in KNOWN_SECRETS
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert settings(data_dir=tmp_path).with_secret().secret_key == first  # kept across restarts
    elsewhere = settings(data_dir=tmp_path / "other").with_secret().secret_key
    assert elsewhere != first


@pytest.mark.parametrize("content", ["", "dev-insecure-secret-change-me", "short"])
def test_a_weak_secret_file_refuses_to_start(tmp_path, content):
    (tmp_path / SECRET_FILE).write_text(content)
    with pytest.raises(RuntimeError, match="secret_key"):
        settings(data_dir=tmp_path).with_secret()


def test_the_app_refuses_to_start_on_a_weak_secret_file(tmp_path, db_url):
    (tmp_path / SECRET_FILE).write_text("changeme\n")
    with pytest.raises(RuntimeError, match="random characters"):
        create_app(settings(data_dir=tmp_path, database_url=db_url, embedded_worker=False))


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
