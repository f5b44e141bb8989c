"""Custom fields in the ticket UI: the type picker and live logic of the new-ticket form,
errors under their fields, the details panel and its edit form (with the 409), the customer
portal's own layout, and the shared renderer (`fuwu.fields.forms.render`); on both databases."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from starlette.datastructures import FormData

from fuwu.auth import service as auth_service
from fuwu.auth.principal import Principal
from fuwu.auth.schemas import UserCreate
from fuwu.customers import service as customers_service
from fuwu.customers.schemas import ContactCreate
from fuwu.db import transaction
from fuwu.fields.forms import render
from fuwu.fields.forms.compile import Form, compile_form
from fuwu.fields.registry import entities
from fuwu.fields.registry import service as fields_service
from fuwu.fields.registry.schemas import FieldCreate
from fuwu.fields.registry.types import FieldSpec
from fuwu.tickets import service as tickets_service
from fuwu.tickets.models import Ticket, TicketEvent
from fuwu.tickets.schemas import TicketCreate, TicketUpdate
from fuwu.tickets.types import service as ticket_types
from fuwu.tickets.types.schemas import TicketTypeCreate

from .conftest import PASSWORD, Browser, sign_in

TZ = "Asia/Shanghai"
SHENZHEN_NANSHAN = ["440000", "440300", "440305"]


def _l(zh: str, en: str) -> dict[str, str]:
    return {"zh_CN": zh, "en": en}


FIELDS: list[dict[str, Any]] = [
    {"key": "product", "type": "text", "label": _l("产品", "Product")},
    {"key": "fault_type", "type": "select", "label": _l("故障类型", "Fault type"),
     "options": {"choices": [
         {"key": "noise", "label": _l("异响", "Noise")},
         {"key": "error_code", "label": _l("显示故障代码", "Shows an error code")}]}},
    {"key": "error_code", "type": "text", "label": _l("故障代码", "Error code"),
     "options": {"max_length": 10}},
    {"key": "region", "type": "cascade", "label": _l("所在地区", "Region"),
     "options": {"source": "cn_region"}},
    {"key": "in_warranty", "type": "boolean", "label": _l("是否在保", "In warranty")},
    {"key": "fee", "type": "money", "label": _l("费用", "Fee"), "options": {"min": 0}},
    {"key": "internal_note", "type": "text", "label": _l("内部备注", "Internal note")},
]  # fmt: skip
REPAIR = ["product", "fault_type", "error_code", "region", "in_warranty", "fee"]
DEFINITION: dict[str, Any] = {
    "fields": [{"key": k, "required": k == "product"} for k in [*REPAIR, "internal_note"]],
    "layouts": {
        "agent_create": [
            {"fields": ["subject", "customer", "priority", "description"]},
            {"title": _l("详情", "Details"), "columns": 2, "fields": [*REPAIR, "internal_note"]},
        ],
        "agent_edit": [{"title": _l("详情", "Details"), "fields": [*REPAIR, "internal_note"]}],
        "portal": [{"fields": ["subject", "description"]},
                   {"fields": ["product", "fault_type", "error_code"]}],
        "web_form": [{"fields": ["subject", "description", "product"]}],
    },
    "logic": [{"name": "故障代码",
               "when": {"field": "fault_type", "op": "eq", "value": "error_code"},
               "then": [{"action": "show", "fields": ["error_code"]},
                        {"action": "require", "fields": ["error_code"]}]}],
}  # fmt: skip


@pytest.fixture
def app(make_app: Callable[..., FastAPI]) -> FastAPI:
    """The app on SQLite and PostgreSQL (tests/ui's own app is SQLite only)."""
    return make_app()


@pytest.fixture
def people(app: FastAPI) -> dict[str, int]:
    """An agent reading Chinese, an agent reading English, a portal customer; the repair
    type (published, public) and an agents-only type."""
    system = Principal.system()
    ids: dict[str, int] = {}
    with transaction(app.state.writer) as session:
        contact = customers_service.create_contact(
            session, actor=system, data=ContactCreate(name="王丽", email="wangli@example.com")
        )
        ids["contact"] = contact.id
        for username, role, locale, contact_id in (
            ("agent1", "agent", "zh_CN", None),
            ("agent2", "agent", "en", None),
            ("customer1", "customer", "zh_CN", contact.id),
        ):
            user = auth_service.create_user(
                session,
                actor=system,
                data=UserCreate(
                    username=username, display_name=username.title(), role=role,  # type: ignore[arg-type]
                    password=PASSWORD, locale=locale, contact_id=contact_id,  # type: ignore[arg-type]
                ),
            )  # fmt: skip
            ids[username] = user.id
        for spec in FIELDS:
            fields_service.create_field(session, actor=system, data=FieldCreate(**spec))
        for key, name, public in (("repair", _l("报修", "Repair"), True),
                                  ("parts", _l("备件申请", "Spare parts"), False)):  # fmt: skip
            ticket_types.create_type(
                session, actor=system, data=TicketTypeCreate(key=key, name=name, public=public)
            )
            ticket_types.save_draft(
                session, actor=system, key=key, definition=DEFINITION, timezone=TZ
            )
            ticket_types.publish(session, actor=system, key=key, timezone=TZ)
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


def keys_drawn(html: str) -> list[str]:
    return re.findall(r'class="pv-field[^"]*" data-key="([\w]+)"', html)


def error_under(html: str, key: str) -> str:
    found = re.search(rf'id="cf-{key}-error" role="alert">([^<]*)<', html)
    return found.group(1) if found else ""


def create_repair(app: FastAPI, people: dict[str, int], **custom: Any) -> int:
    """A repair ticket opened by agent1 through the service (agent_create surface)."""
    with transaction(app.state.writer) as session:
        actor = auth_service.principal_for(
            session, auth_service.get_user(session, people["agent1"])
        )
        ticket = tickets_service.create_ticket(
            session, actor=actor,
            data=TicketCreate(subject="空调异响", type="repair", customer_id=people["contact"],
                              custom={"product": "空调", "fault_type": "noise", **custom}),
            number_pattern=app.state.settings.ticket_number_pattern, timezone=TZ,
            surface="agent_create",
        )  # fmt: skip
        return int(ticket.id)


def stored(app: FastAPI, ticket_id: int) -> Ticket:
    with transaction(app.state.reader) as session:
        found = session.get(Ticket, ticket_id)
        assert found is not None
        session.expunge(found)
        return found


# ------------------------------------------------------------------------- new ticket


def test_picking_a_type_shows_its_fields(browsers: Callable[[str], Browser]) -> None:
    agent = browsers("agent1")

    page = agent.get("/tickets/new")
    picked = agent.post("/tickets/new/fields", {"type": "repair"}, htmx=True)
    linked = agent.get("/tickets/new?type=repair")

    assert page.status_code == picked.status_code == linked.status_code == 200
    assert '<option value="repair"' in page.text
    assert "报修" in page.text
    assert keys_drawn(page.text) == []  # "general" has no form
    assert keys_drawn(picked.text) == [
        "product", "fault_type", "region", "in_warranty", "fee", "internal_note"
    ]  # fmt: skip
    assert picked.text.lstrip().startswith('<div id="cf-fields"')
    assert "subject" not in keys_drawn(picked.text)  # the page draws its own system inputs
    assert keys_drawn(linked.text) == keys_drawn(picked.text)
    assert re.search(r'class="pv-field required[^"]*" data-key="product"', picked.text)


def test_the_logic_endpoint_shows_error_code_only_when_the_fault_asks_for_it(
    browsers: Callable[[str], Browser],
) -> None:
    agent = browsers("agent1")
    base = {"type": "repair", "subject": "空调", "product": "空调"}

    noise = agent.post("/tickets/new/fields", {**base, "fault_type": "noise"}, htmx=True)
    code = agent.post("/tickets/new/fields", {**base, "fault_type": "error_code"}, htmx=True)

    assert "error_code" not in keys_drawn(noise.text)
    assert re.search(r'class="pv-field required[^"]*" data-key="error_code"', code.text)
    assert 'value="空调"' in code.text  # what was typed stays
    # the select that logic reads re-posts the form; a plain text input does not
    assert re.search(r'<select id="cf-fault_type" name="fault_type"[^>]*hx-post=', code.text)
    assert not re.search(r'<input id="cf-product"[^>]*hx-post=', code.text)


def test_a_cascade_level_brings_the_next_level(browsers: Callable[[str], Browser]) -> None:
    agent = browsers("agent1")

    first = agent.post("/tickets/new/fields", {"type": "repair"}, htmx=True)
    second = agent.post("/tickets/new/fields", {"type": "repair", "region": "440000"}, htmx=True)

    assert first.text.count('name="region"') == 1
    assert second.text.count('name="region"') == 2
    assert '<option value="440300" >深圳市</option>' in second.text


def test_a_missing_required_field_comes_back_in_chinese_under_it_with_the_values_kept(
    app: FastAPI, browsers: Callable[[str], Browser]
) -> None:
    agent = browsers("agent1")  # reads Chinese
    form = {"type": "repair", "subject": "空调显示 E4", "product": "格力空调",
            "fault_type": "error_code", "error_code": "", "fee": "12.5"}  # fmt: skip

    response = agent.post("/tickets/new", form)
    fragment = agent.post("/tickets/new", form, htmx=True)

    assert response.status_code == fragment.status_code == 422
    assert error_under(response.text, "error_code") == "故障代码为必填项"
    assert 'aria-describedby="cf-error_code-error"' in response.text
    assert 'value="格力空调"' in response.text
    assert 'value="空调显示 E4"' in response.text
    assert '<option value="error_code" selected>' in response.text
    assert 'value="12.5"' in response.text
    assert fragment.text.lstrip().startswith("<form")
    assert "<html" not in fragment.text
    with transaction(app.state.reader) as session:
        assert session.query(Ticket).count() == 0


def test_every_error_of_the_page_comes_back_in_one_round(
    app: FastAPI, browsers: Callable[[str], Browser]
) -> None:
    """An empty subject, a bad customer email and a missing custom field: all three are named
    in the first answer (issue 16: there used to be one round per part of the form)."""
    agent = browsers("agent1")  # reads Chinese
    form = {"type": "repair", "subject": "", "customer_email": "not-an-email",
            "fault_type": "noise"}  # fmt: skip
    response = agent.post("/tickets/new", form)
    assert response.status_code == 422
    assert 'id="err-subject"' in response.text
    assert error_under(response.text, "product") == "产品为必填项"

    form["subject"] = "空调不制冷"  # the system input is fine now: the service's checks
    response = agent.post("/tickets/new", form)
    assert response.status_code == 422
    assert 'id="err-customer_email"' in response.text
    assert error_under(response.text, "product") == "产品为必填项"
    with transaction(app.state.reader) as session:
        assert session.query(Ticket).count() == 0


def test_an_invalid_value_names_the_field_and_a_type_error_no_500(
    browsers: Callable[[str], Browser],
) -> None:
    agent = browsers("agent2")  # reads English
    bad = agent.post(
        "/tickets/new",
        {"type": "repair", "subject": "x", "product": "p", "fault_type": "nope", "fee": "abc"},
    )
    assert bad.status_code == 422
    assert error_under(bad.text, "fault_type").startswith("Fault type must be one of")
    assert error_under(bad.text, "fee") == "Fee is not valid"
    assert 'value="abc"' in bad.text


def test_a_created_ticket_shows_labels_and_display_values(
    app: FastAPI, browsers: Callable[[str], Browser]
) -> None:
    agent = browsers("agent1")
    response = agent.post(
        "/tickets/new",
        {"type": "repair", "subject": "空调显示 E4", "product": "格力空调",
         "fault_type": "error_code", "error_code": "E4", "region": SHENZHEN_NANSHAN[0],
         "in_warranty": "true", "fee": "1234.5", "internal_note": ""},
    )  # fmt: skip
    assert response.status_code == 422  # the region stops at the province: not a leaf
    assert error_under(response.text, "region") == "所在地区需要逐级选到最后一级"

    form: list[tuple[str, str]] = [
        ("type", "repair"), ("subject", "空调显示 E4"), ("product", "格力空调"),
        ("fault_type", "error_code"), ("error_code", "E4"), ("in_warranty", "true"),
        ("fee", "1234.5"), ("internal_note", ""), ("csrf_token", agent.token),
        *[("region", code) for code in SHENZHEN_NANSHAN],
    ]  # fmt: skip
    created = agent.client.post(
        "/tickets/new", content=urlencode(form), headers=_FORM, follow_redirects=False
    )
    assert created.status_code == 303, created.text
    page = agent.get(created.headers["location"])

    ticket = stored(app, int(created.headers["location"].rsplit("/", 1)[1]))
    assert ticket.type_key == "repair"
    assert ticket.form_version == 1
    assert ticket.custom == {"product": "格力空调", "fault_type": "error_code",
                             "error_code": "E4", "region": SHENZHEN_NANSHAN,
                             "in_warranty": True, "fee": 1234.5}  # fmt: skip
    details = dict(re.findall(r"<dt>([^<]+)</dt><dd class=\"cf-value\">([^<]*)</dd>", page.text))
    assert details == {"产品": "格力空调", "故障类型": "显示故障代码", "故障代码": "E4",
                       "所在地区": "广东省 / 深圳市 / 南山区", "是否在保": "是",
                       "费用": "¥1,234.50"}  # fmt: skip
    assert "编辑详情" in page.text


_FORM = {"Content-Type": "application/x-www-form-urlencoded"}


# ------------------------------------------------------------------------- ticket details


def test_a_value_the_form_will_clear_is_announced_and_history_names_the_rule(
    app: FastAPI, people: dict[str, int], browsers: Callable[[str], Browser]
) -> None:
    """Issue 16: no value is lost silently. The fault is no longer an error code, so the form
    hides the code field: the edit form says E4 will be cleared before saving, and history
    records the old value and the rule."""
    ticket_id = create_repair(app, people, fault_type="error_code", error_code="E4")
    agent = browsers("agent1")  # reads Chinese
    version = stored(app, ticket_id).version

    unchanged = agent.post(f"/tickets/{ticket_id}/details/fields", {}, htmx=True)
    live = agent.post(f"/tickets/{ticket_id}/details/fields", {"fault_type": "noise"}, htmx=True)
    assert "保存后将清除" not in unchanged.text
    assert "保存后将清除" in live.text
    assert re.search(r"<strong>故障代码</strong>: E4", live.text)

    saved = agent.post(
        f"/tickets/{ticket_id}/details",
        {"version": str(version), "product": "空调", "fault_type": "noise"},
        htmx=True,
    )
    assert saved.status_code == 200, saved.text
    assert "error_code" not in stored(app, ticket_id).custom
    with transaction(app.state.reader) as session:
        last = session.scalars(
            select(TicketEvent).where(TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.id)
        ).all()[-1]
    assert last.changes["custom"][0]["error_code"] == "E4"
    assert last.reasons == {"custom.error_code": "form:故障代码"}
    page = agent.get(f"/tickets/{ticket_id}")
    assert "被表单规则“故障代码”清除" in page.text


def test_editing_details_saves_and_a_stale_version_gets_the_conflict_message(
    app: FastAPI, people: dict[str, int], browsers: Callable[[str], Browser]
) -> None:
    ticket_id = create_repair(app, people)
    agent = browsers("agent2")
    version = stored(app, ticket_id).version

    edit = agent.get(f"/tickets/{ticket_id}/details/edit", htmx=True)
    live = agent.post(
        f"/tickets/{ticket_id}/details/fields", {"fault_type": "error_code"}, htmx=True
    )
    saved = agent.post(
        f"/tickets/{ticket_id}/details",
        {"version": str(version), "product": "冰箱", "fault_type": "noise", "fee": "",
         "region": "", "in_warranty": "false", "internal_note": "带备件"},
        htmx=True,
    )  # fmt: skip
    stale = agent.post(
        f"/tickets/{ticket_id}/details",
        {"version": str(version), "product": "洗衣机", "fault_type": "noise"},
        htmx=True,
    )

    assert edit.status_code == 200
    assert 'id="ticket-custom"' in edit.text
    assert 'hx-include="#ticket-version"' in edit.text
    assert 'value="空调"' in edit.text
    assert re.search(r'class="pv-field required[^"]*" data-key="error_code"', live.text)
    assert saved.status_code == 200, saved.text
    assert "Changes saved." in saved.text
    assert "冰箱" in saved.text
    assert stored(app, ticket_id).custom == {
        "product": "冰箱", "fault_type": "noise", "in_warranty": False, "internal_note": "带备件"
    }  # fmt: skip
    assert stale.status_code == 409
    assert stale.headers["HX-Retarget"] == "#flash"
    assert "Someone else changed this ticket while you were editing" in stale.text
    assert stored(app, ticket_id).custom["product"] == "冰箱"


def test_invalid_details_come_back_under_their_fields(
    app: FastAPI, people: dict[str, int], browsers: Callable[[str], Browser]
) -> None:
    ticket_id = create_repair(app, people)
    agent = browsers("agent1")
    version = stored(app, ticket_id).version

    response = agent.post(
        f"/tickets/{ticket_id}/details",
        {"version": str(version), "product": "", "fault_type": "error_code", "error_code": ""},
        htmx=True,
    )
    page = agent.post(
        f"/tickets/{ticket_id}/details",
        {"version": str(version), "product": "", "fault_type": "noise"},
    )

    assert response.status_code == 422
    assert response.headers["HX-Retarget"] == "#ticket-custom"
    assert error_under(response.text, "error_code") == "故障代码为必填项"
    assert error_under(response.text, "product") == "产品为必填项"
    assert '<option value="error_code" selected>' in response.text
    assert page.status_code == 422
    assert "<html" in page.text
    assert error_under(page.text, "product") == "产品为必填项"
    assert stored(app, ticket_id).custom["product"] == "空调"


def test_customers_cannot_edit_details_and_general_tickets_have_no_panel(
    app: FastAPI, people: dict[str, int], browsers: Callable[[str], Browser]
) -> None:
    ticket_id = create_repair(app, people)
    customer = browsers("customer1")
    agent = browsers("agent1")
    plain = agent.post("/tickets/new", {"subject": "普通问题"})

    refused = customer.post(f"/tickets/{ticket_id}/details", {"product": "x"}, htmx=True)
    general = agent.get(plain.headers["location"])

    assert refused.status_code == 403
    assert stored(app, ticket_id).custom["product"] == "空调"
    assert 'id="ticket-custom"' not in general.text


# ------------------------------------------------------------------------- customer portal


def test_the_portal_shows_only_portal_fields(
    app: FastAPI, people: dict[str, int], browsers: Callable[[str], Browser]
) -> None:
    customer = browsers("customer1")
    agent = browsers("agent1")

    page = customer.get("/tickets/new?type=repair")
    created = customer.post(
        "/tickets/new",
        {"type": "repair", "subject": "冰箱异响", "product": "冰箱", "fault_type": "noise",
         "internal_note": "posted by a crafted form"},
    )  # fmt: skip
    assert created.status_code == 303, created.text
    ticket_id = int(created.headers["location"].rsplit("/", 1)[1])
    assert stored(app, ticket_id).custom == {"product": "冰箱", "fault_type": "noise"}
    with transaction(app.state.writer) as session:
        actor = auth_service.principal_for(
            session, auth_service.get_user(session, people["agent1"])
        )
        tickets_service.update_ticket(
            session, actor=actor, ticket_id=ticket_id, timezone=TZ,
            data=TicketUpdate(custom={"internal_note": "客户情绪激动", "fee": 80}),
        )  # fmt: skip
    mine = customer.get(f"/tickets/{ticket_id}")
    theirs = agent.get(f"/tickets/{ticket_id}")

    assert keys_drawn(page.text) == ["product", "fault_type"]
    assert '<option value="parts"' not in page.text  # agents-only type
    assert "冰箱" in mine.text
    assert "异响" in mine.text
    assert "内部备注" not in mine.text
    assert "客户情绪激动" not in mine.text
    assert "费用" not in mine.text
    assert "编辑详情" not in mine.text
    assert "内部备注" in theirs.text
    assert "客户情绪激动" in theirs.text
    assert "¥80.00" in theirs.text


def test_a_customer_cannot_open_an_agents_only_type(browsers: Callable[[str], Browser]) -> None:
    customer = browsers("customer1")
    response = customer.post("/tickets/new", {"type": "parts", "subject": "备件"})
    assert response.status_code == 422
    assert 'id="err-type"' in response.text


# ------------------------------------------------------------------------- the renderer


def _form(specs: list[FieldSpec], definition: dict[str, Any]) -> Form:
    entity = entities.get("ticket")
    assert entity is not None
    return compile_form(
        type_key="t", version=1, definition=definition, specs={s.key: s for s in specs},
        entity=entity, timezone=TZ,
    )  # fmt: skip


SPECS = [
    FieldSpec("parts", "table", _l("备件", "Parts"), options={"columns": [
        {"key": "no", "type": "text", "label": _l("编码", "No.")},
        {"key": "qty", "type": "integer", "label": _l("数量", "Qty")},
        {"key": "ok", "type": "boolean", "label": _l("合格", "OK")}]}),
    FieldSpec("site", "location", _l("位置", "Site")),
    FieldSpec("tags2", "multi_select", _l("标记", "Marks"), options={"choices": [
        {"key": "a", "label": _l("甲", "A")}, {"key": "b", "label": _l("乙", "B")}]}),
    FieldSpec("seen", "datetime", _l("发现时间", "Seen at")),
    FieldSpec("count", "integer", _l("次数", "Count")),
    FieldSpec("locked", "text", _l("锁定", "Locked"), read_only=True, default="L1"),
]  # fmt: skip
ALL = [s.key for s in SPECS]
RENDER_FORM = {"fields": [{"key": k} for k in ALL],
               "layouts": {"agent_create": [{"fields": ALL}]}}  # fmt: skip


def test_parse_posted_reads_tables_locations_checkboxes_and_blanks() -> None:
    form = _form(SPECS, RENDER_FORM)
    posted = FormData([
        ("parts.0.no", "A1"), ("parts.0.qty", "2"), ("parts.0.ok", "true"),
        ("parts.1.no", ""), ("parts.1.qty", ""), ("parts.1.ok", ""),
        ("site.address", "南山区科技园"), ("site.lat", "22.54"), ("site.lon", "113.95"),
        ("tags2", ""), ("tags2", "b"), ("seen", "2026-11-22T09:30"), ("count", ""),
        ("locked", "changed"),
    ])  # fmt: skip

    values = render.parse_posted(form, "agent_create", posted)
    nothing = render.parse_posted(form, "agent_create", FormData([("tags2", "")]))

    assert values == {
        "parts": [{"no": "A1", "qty": 2, "ok": True}],
        "site": {"address": "南山区科技园", "lat": 22.54, "lon": 113.95},
        "tags2": ["b"], "seen": "2026-11-22T09:30", "count": None,
    }  # fmt: skip
    assert nothing == {"tags2": None}  # none ticked clears; fields not posted are left out


def test_display_shows_labels_local_times_and_table_rows() -> None:
    form = _form(SPECS, RENDER_FORM)
    stored_values = {"parts": [{"no": "A1", "qty": 2, "ok": True}], "tags2": ["a", "b"],
                     "seen": "2026-11-22T01:30:00.000000Z", "count": 3,
                     "site": {"lat": 22.5, "lon": 113.9, "address": "科技园"}}  # fmt: skip

    rows = dict(render.display(form, stored_values, locale="zh_CN", timezone=TZ))
    english = dict(render.display(form, stored_values, locale="en", timezone=TZ))

    assert rows == {"备件": "编码: A1 · 数量: 2 · 合格: 是", "位置": "科技园 (22.5, 113.9)",
                    "标记": "甲、乙", "发现时间": "2026-11-22 09:30", "次数": "3"}  # fmt: skip
    assert english["Marks"] == "A, B"
    assert english["Parts"] == "No.: A1 · Qty: 2 · OK: Yes"


def test_render_shows_stored_values_in_their_inputs_with_a_blank_table_row() -> None:
    form = _form(SPECS, RENDER_FORM)
    [section] = render.render(
        form, "agent_create",
        {"parts": [{"no": "A1", "qty": 2}], "seen": "2026-11-22T01:30:00.000000Z"},
        locale="en", system={}, variables={"current_user": 1}, errors={"count": "Bad"},
    )  # fmt: skip
    inputs = {i.key: i for i in section.inputs}

    assert inputs["parts"].rows == [{"no": "A1", "qty": "2"}, {}]
    assert inputs["seen"].value == "2026-11-22T09:30"  # UTC shown in the user's zone
    assert inputs["count"].error == "Bad"
    assert inputs["locked"].read_only
    assert inputs["locked"].value == ""
    assert render.defaults(form, "agent_create") == {"locked": "L1"}


def test_history_shows_each_custom_field_change_with_its_label(
    app: FastAPI, people: dict[str, int], browsers: Callable[[str], Browser]
) -> None:
    ticket_id = create_repair(app, people)
    agent = browsers("agent2")
    saved = agent.post(
        f"/tickets/{ticket_id}/details",
        {"version": str(stored(app, ticket_id).version), "product": "冰箱",
         "fault_type": "error_code", "error_code": "E4", "in_warranty": "true"},
        htmx=True,
    )  # fmt: skip
    assert saved.status_code == 200, saved.text
    page = agent.get(f"/tickets/{ticket_id}").text
    changes = [re.sub(r"\s+", " ", c).strip() for c in re.findall(r'class="change">([^<]*)<', page)]
    assert "Product: 空调 → 冰箱" in changes
    assert "Fault type: Noise → Shows an error code" in changes  # option labels, not keys
    assert "Error code: — → E4" in changes
    assert "In warranty: — → Yes" in changes
    assert not any(c.startswith("Custom fields") for c in changes)
