"""The app behind a real uvicorn on a loopback port, with a company's worth of data."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI

from fuwu.db import transaction
from fuwu.demo import forms as demo_forms
from support_server import serving


@dataclass
class Live:
    url: str
    token: str
    ids: dict[str, int]


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
    with serving(app) as port:
        yield Live(f"http://127.0.0.1:{port}", factory.token(admin), ids)
