"""Request-scoped dependencies shared by every domain's edge: settings and the DB session."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import anyio.to_thread
from anyio import CancelScope, CapacityLimiter
from fastapi import Depends, Request
from sqlalchemy.orm import Session

from fuwu.config import Settings

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _finish(session: Session, failed: bool) -> None:
    """Commit (or roll back after an error) and close: `db.transaction` without the `with`."""
    try:
        if failed:
            session.rollback()
        else:
            session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


async def db_session(request: Request) -> AsyncIterator[Session]:
    """One request = one transaction; writers take the write lock up front on SQLite.

    Async because opening a session does no I/O (the connection is taken by the first
    statement, in the endpoint's worker thread): a sync generator cost two extra hops to the
    thread pool per request (docs/benchmarks.md). Commit and rollback do I/O and run in a
    worker thread, with a limiter of their own so that they never wait for pool threads held
    by requests that wait for a database connection (FastAPI does the same for sync
    generators), and shielded so that a cancelled request still ends its transaction.
    """
    state = request.app.state
    factory = state.reader if request.method in SAFE_METHODS else state.writer
    session = factory()
    try:
        yield session
    except BaseException:
        with CancelScope(shield=True):
            await anyio.to_thread.run_sync(_finish, session, True, limiter=CapacityLimiter(1))
        raise
    if _settled(session):  # the endpoint committed already: nothing to do in a thread
        session.close()
        return
    with CancelScope(shield=True):
        await anyio.to_thread.run_sync(_finish, session, False, limiter=CapacityLimiter(1))


def _settled(session: Session) -> bool:
    """No transaction open and no unflushed change: closing does no I/O."""
    return not (session.in_transaction() or session.new or session.dirty or session.deleted)


# scope="function": commit before the response is sent, so a 201 always means "stored".
DbSession = Annotated[Session, Depends(db_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None
