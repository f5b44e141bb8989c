"""The inbox's filter builder on custom fields, custom-field sorts and saved views, as an
agent sees them; on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from urllib.parse import urlencode

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from fuwu.auth import service as auth_service
from fuwu.auth.principal import Principal
from fuwu.auth.schemas import TeamCreate, UserCreate
from fuwu.db import transaction
from fuwu.fields.registry import service as fields_service
from fuwu.fields.registry.schemas import FieldCreate
from fuwu.tickets import service as tickets_service
from fuwu.tickets.schemas import TicketCreate
from fuwu.tickets.types import service as ticket_types
from fuwu.tickets.types.schemas import TicketTypeCreate

from .conftest import PASSWORD, Browser, sign_in

TZ = "Asia/Shanghai"
CHOICES = [
    {"key": k, "label": {"zh_CN": zh, "en": en}}
    for k, zh, en in (("leak", "漏水", "Leak"), ("noise", "异响", "Noise"))
]


@pytest.fixture
def app(make_app: Callable[..., FastAPI]) -> FastAPI:
    """The app on SQLite and PostgreSQL (tests/ui's own app is SQLite only)."""
    return make_app()


@pytest.fixture
def people(app: FastAPI) -> dict[str, int]:
    """Agents (English and Chinese) and a supervisor in Support; a repair type with a
    filterable select `fault` and a filterable number `floor`; four tickets."""
    system = Principal.system()
    ids: dict[str, int] = {}
    with transaction(app.state.writer) as session:
        for username, role, locale in (
            ("agent1", "agent", "en"),
            ("agent_zh", "agent", "zh_CN"),
            ("lead", "supervisor", "en"),
        ):
            user = auth_service.create_user(
                session,
                actor=system,
                data=UserCreate(
                    username=username,
                    display_name=username.title(),
                    role=role,  # type: ignore[arg-type]
                    password=PASSWORD,
                    locale=locale,
                ),
            )  # type: ignore[arg-type]
            ids[username] = user.id
        team = auth_service.create_team(
            session, actor=system, data=TeamCreate(name="Support", member_ids=list(ids.values()))
        )
        ids["team"] = team.id
        for spec in (
            {
                "key": "fault",
                "type": "select",
                "label": {"zh_CN": "故障", "en": "Fault"},
                "filterable": True,
                "options": {"choices": CHOICES},
            },
            {
                "key": "floor",
                "type": "integer",
                "label": {"zh_CN": "楼层", "en": "Floor"},
                "filterable": True,
            },
        ):
            fields_service.create_field(session, actor=system, data=FieldCreate(**spec))
        ticket_types.create_type(
            session,
            actor=system,
            data=TicketTypeCreate(key="repair", name={"zh_CN": "报修", "en": "Repair"}),
        )
        definition = {
            "fields": [{"key": "fault"}, {"key": "floor"}],
            "layouts": {"agent_create": [{"fields": ["fault", "floor"]}]},
        }
        ticket_types.save_draft(
            session, actor=system, key="repair", definition=definition, timezone=TZ
        )
        ticket_types.publish(session, actor=system, key="repair", timezone=TZ)
        for subject, fault, floor in (
            ("Leak on 3", "leak", 3),
            ("Leak on 12", "leak", 12),
            ("Noise on 7", "noise", 7),
            ("Leak on 1", "leak", 1),
        ):
            tickets_service.create_ticket(
                session,
                actor=system,
                data=TicketCreate(
                    subject=subject,
                    type="repair",
                    team_id=team.id,
                    custom={"fault": fault, "floor": floor},
                ),
                number_pattern=app.state.settings.ticket_number_pattern,
                timezone=TZ,
                surface="agent_create",
            )
    return ids


@pytest.fixture
def browsers(app: FastAPI, people: dict[str, int]) -> Iterator[Callable[[str], Browser]]:
    clients: list[TestClient] = []

    def make(username: str) -> Browser:
        client = TestClient(app)
        clients.append(client)
        return sign_in(client, username)

    yield make
    for client in clients:
        client.close()


def subjects(html: str) -> list[str]:
    return re.findall(r'<td class="subject"><a href="/tickets/\d+">([^<]+)</a>', html)


def builder(*rows: tuple[str, str, str], match: str = "all", **extra: str) -> str:
    params = [("view", "all"), ("match", match)]
    for i, (field, op, value) in enumerate(rows):
        params += [(f"c-{i}-field", field), (f"c-{i}-op", op), (f"c-{i}-value", value)]
    return "/inbox?" + urlencode(params + list(extra.items()))


def test_filter_by_a_custom_field_and_sort_by_another(browsers):
    agent = browsers("agent1")
    page = agent.get(builder(("fault", "eq", "leak"), sort="-floor"))
    assert page.status_code == 200
    assert subjects(page.text) == ["Leak on 12", "Leak on 3", "Leak on 1"]
    assert '<option value="-floor" selected>Floor, descending</option>' in page.text
    both = agent.get(builder(("fault", "eq", "leak"), ("floor", "gte", "3"), sort="floor"))
    assert subjects(both.text) == ["Leak on 3", "Leak on 12"]
    either = agent.get(builder(("fault", "eq", "noise"), ("floor", "lt", "2"), match="any"))
    assert sorted(subjects(either.text)) == ["Leak on 1", "Noise on 7"]
    fragment = agent.get(builder(("floor", "between", "2, 8")), htmx=True)
    assert sorted(subjects(fragment.text)) == ["Leak on 3", "Noise on 7"]
    assert 'id="cond-builder" hx-swap-oob="true"' in fragment.text, "the builder follows along"


def test_a_wrong_row_is_named_next_to_the_builder_in_both_languages(browsers):
    page = browsers("agent1").get(builder(("fault", "eq", "leak"), ("fault", "eq", "flood")))
    assert page.status_code == 200
    assert "Condition 2: flood is not an option of field fault" in page.text
    assert subjects(page.text) == [], "a filter that is refused shows nothing, not everything"
    zh = browsers("agent_zh").get(builder(("floor", "gt", "high")))
    assert "条件 1" in zh.text
    assert "数字" in zh.text


def test_save_a_view_then_use_rename_and_delete_it(browsers, people):
    agent = browsers("agent1")
    saved = agent.post(
        "/inbox/views",
        {
            "name": "High leaks",
            "condition": '{"all": [{"field": "fault", "op": "eq", '
            '"value": "leak"}, {"field": "floor", "op": "gte", "value": 3}]}',
            "sort": "-floor",
        },
    )
    assert saved.status_code == 303
    url = saved.headers["location"]
    page = agent.get(url)
    assert subjects(page.text) == ["Leak on 12", "Leak on 3"]
    assert re.search(r'class="user-view active" aria-current="page">High leaks', page.text)
    assert 'name="c-1-field"' in page.text, "the builder shows the view's rows"
    assert 'value="3"' in page.text
    view_id = url.rsplit("=", 1)[1]
    assert agent.post(f"/inbox/views/{view_id}", {"name": "Upstairs leaks"}).status_code == 303
    assert "Upstairs leaks" in agent.get("/inbox").text
    others = browsers("agent_zh").get("/inbox")
    assert "Upstairs leaks" not in others.text, "a personal view stays personal"
    gone = browsers("agent_zh").get(url)
    assert "This saved view does not exist" not in gone.text  # zh reader
    assert "不存在" in gone.text
    assert agent.post(f"/inbox/views/{view_id}/delete", {}).status_code == 303
    assert "Upstairs leaks" not in agent.get("/inbox").text


def test_a_supervisor_shares_a_view_with_the_team(browsers, people):
    lead = browsers("lead")
    assert "Visible to" in lead.get("/inbox").text
    shared = lead.post(
        "/inbox/views",
        {
            "name": "Team leaks",
            "scope": "team",
            "team_id": str(people["team"]),
            "condition": '{"field": "fault", "op": "eq", "value": "leak"}',
        },
    )
    assert shared.status_code == 303
    agent_inbox = browsers("agent1").get("/inbox")
    assert "Team leaks" in agent_inbox.text
    assert "Visible to" not in agent_inbox.text, "agents save personal views only"
    refused = browsers("agent1").post("/inbox/views", {"name": "x", "scope": "all"})
    assert refused.status_code == 403
