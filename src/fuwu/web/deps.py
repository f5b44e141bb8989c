"""Request-scoped dependencies shared by every domain's edge: settings and the DB session."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from fuwu.config import Settings
from fuwu.db import transaction

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def db_session(request: Request) -> Iterator[Session]:
    """One request = one transaction; writers take the write lock up front on SQLite."""
    state = request.app.state
    factory = state.reader if request.method in SAFE_METHODS else state.writer
    with transaction(factory) as session:
        yield session


# scope="function": commit before the response is sent, so a 201 always means "stored".
DbSession = Annotated[Session, Depends(db_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None
