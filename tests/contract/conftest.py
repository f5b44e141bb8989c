"""The app behind a real uvicorn on a loopback port, with a company's worth of data."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI

from fuwu.db import transaction
from fuwu.demo import forms as demo_forms


@dataclass
class Live:
    url: str
    token: str
    ids: dict[str, int]


def serve(app: FastAPI) -> tuple[uvicorn.Server, threading.Thread, int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    sock.close()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(250):
        if server.started:
            break
        time.sleep(0.02)
    return server, thread, port


@pytest.fixture
def live(app: FastAPI, factory: Any) -> Iterator[Live]:
    """Demo forms, people and tickets, an admin token, and the server's base URL."""
    with transaction(app.state.writer) as session:
        demo_forms.load(session, timezone=app.state.settings.timezone)
    admin = factory.user("admin", username="root")
    team = factory.team(members=[admin])
    contact = factory.contact("陈静", email="chen@example.com")
    ticket = factory.ticket("洗衣机异响", customer=contact, team=team)
    ids = {"admin": admin.id, "team": team.id, "contact": contact.id, "ticket": ticket.id}
    server, thread, port = serve(app)
    yield Live(f"http://127.0.0.1:{port}", factory.token(admin), ids)
    server.should_exit = True
    thread.join(timeout=10)
