"""Run Alembic migrations programmatically (used by the CLI and the tests)."""

from __future__ import annotations

import importlib
from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
MODEL_MODULES = (
    "fuwu.auth.models",
    "fuwu.audit.models",
    "fuwu.jobs.models",
    "fuwu.configs.models",
    "fuwu.fields.registry.models",
    "fuwu.customers.models",
    "fuwu.tickets.models",
    "fuwu.tickets.types.models",
    "fuwu.workflows.models",
)


def load_models() -> None:
    """Import every models module so the metadata is complete."""
    for name in MODEL_MODULES:
        importlib.import_module(name)


def alembic_config(url: str) -> Config:
    """An Alembic config pointing at our migrations and the given database."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("file_template", "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s")
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["url"] = url
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database up to a revision."""
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    """Migrate the database down to a revision ("base" empties it)."""
    command.downgrade(alembic_config(url), revision)


def check(url: str) -> None:
    """Raise if the models and the migrations disagree."""
    command.check(alembic_config(url))
