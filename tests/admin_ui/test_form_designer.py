"""The form engine's admin pages: fields (impact list, dry-run retype) and the form designer
(drag-and-drop order, publish, live preview, logic errors, version diff), on both databases."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text, update

from fuwu.auth.principal import Principal
from fuwu.configs import service as configs
from fuwu.db import transaction
from fuwu.demo import forms as demo_forms
from fuwu.fields.registry import service as fields_service
from fuwu.fields.registry.models import FieldDef
from fuwu.fields.registry.schemas import FieldCreate
from fuwu.tickets.models import Ticket
from fuwu.tickets.types import service as ticket_types

from .conftest import Login, csrf_of

HTMX = {"HX-Request": "true"}
# fields.service checks for a filterable field's expression index by reflection, which makes
# SQLAlchemy warn that it skips expression indexes; that is the service's business, not ours.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Skipped unsupported reflection of expression-based index"
)


@pytest.fixture
def app(make_app: Callable[..., FastAPI]) -> FastAPI:
    """The app on SQLite and PostgreSQL."""
    return make_app()


@pytest.fixture(autouse=True)
def _drop_custom_field_indexes(app: FastAPI) -> Iterator[None]:
    """Filterable demo fields get expression indexes; drop them after each test on SQLite.

    The shared clean-up (tests/conftest.py) drops them while still reading sqlite_master,
    which SQLite refuses ("database table is locked"); reading the names first avoids that.
    """
    yield
    engine = app.state.engine
    if engine.dialect.name != "sqlite":
        return
    with engine.begin() as conn:
        names = conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'index'")).scalars()
        for name in [n for n in names.all() if "_cf_" in n]:
            conn.execute(text(f'DROP INDEX IF EXISTS "{name}"'))


@pytest.fixture
def demo(app: FastAPI) -> None:
    """The demo company's fields and published ticket types (报修, 投诉 …)."""
    with transaction(app.state.writer) as session:
        demo_forms.load(session, timezone=app.state.settings.timezone)


@pytest.fixture
def admin(login: Login, make_user: Callable[..., int]) -> TestClient:
    make_user("root", role="admin")
    return login("root")


def field_id(app: FastAPI, key: str) -> int:
    with transaction(app.state.reader) as session:
        found = next(
            f for f in fields_service.list_fields(session, "ticket", archived=True) if f.key == key
        )
        return found.id


def draft_of(app: FastAPI, key: str) -> dict[str, Any] | None:
    with transaction(app.state.reader) as session:
        row = configs.draft(session, ticket_types.FORM, key)
        return dict(row.definition) if row else None


def versions(app: FastAPI, key: str) -> tuple[int | None, bool]:
    with transaction(app.state.reader) as session:
        return ticket_types.versions_of(session, key)


def field_errors(html: str) -> dict[str, str]:
    return dict(re.findall(r'class="field-error" id="e-([\w.]+)" role="alert">([^<]*)<', html))


# ------------------------------------------------------------------------------ fields


def test_admin_creates_a_choice_field_and_cannot_drop_a_saved_option(
    app: FastAPI, admin: TestClient
) -> None:
    csrf = csrf_of(admin)
    form = {
        "csrf_token": csrf,
        "entity": "ticket",
        "key": "urgency_reason",
        "type": "select",
        "label_zh": "加急原因",
        "label_en": "Reason for urgency",
        "filterable": "on",
        "choices-0-key": "vip",
        "choices-0-zh": "大客户",
        "choices-0-en": "VIP",
        "choices-0-active": "on",
        "choices-1-key": "outage",
        "choices-1-zh": "停产",
        "choices-1-en": "Outage",
        "choices-1-active": "on",
        "choices-2-key": "",
        "choices-2-zh": "",
        "choices-2-en": "",
        "choices-2-active": "on",
    }

    created = admin.post("/admin/fields/new", data=form, follow_redirects=False)

    assert created.status_code == 303, created.text
    page = admin.get(created.headers["location"])
    assert 'name="choices-0-key" value="vip"' in page.text
    assert re.search(r'name="choices-0-key" value="vip"[^>]*readonly', page.text)
    listing = admin.get("/admin/fields?entity=ticket").text
    assert "加急原因" in listing
    assert "urgency_reason" in listing
    with transaction(app.state.reader) as session:
        row = session.get(FieldDef, field_id(app, "urgency_reason"))
        assert row is not None
        assert [c["key"] for c in row.options["choices"]] == ["vip", "outage"]
        assert row.filterable is True
        version = row.version
    dropped = admin.post(
        created.headers["location"].split("?")[0],
        data={
            "csrf_token": csrf,
            "version": str(version),
            "label_zh": "加急原因",
            "choices-0-key": "vip",
            "choices-0-zh": "大客户",
            "choices-0-active": "on",
        },
    )
    assert dropped.status_code == 422
    assert "outage" in field_errors(dropped.text)["choices"]


def test_a_bad_formula_is_shown_next_to_the_formula(admin: TestClient) -> None:
    form = {
        "csrf_token": csrf_of(admin),
        "entity": "ticket",
        "key": "total",
        "type": "computed",
        "label_zh": "合计",
        "opt_formula": "ROUND(nothing_here * 2, 2)",
    }

    page = admin.post("/admin/fields/new", data=form)

    assert page.status_code == 422
    assert "opt_formula" in field_errors(page.text)
    assert 'value="total"' in page.text  # what was typed stays


def test_the_impact_list_blocks_archiving_a_field_of_a_published_form(
    app: FastAPI, demo: None, admin: TestClient
) -> None:
    fault_type = field_id(app, "fault_type")

    confirm = admin.get(f"/admin/fields/{fault_type}/archive")

    assert confirm.status_code == 200
    assert 'href="/admin/forms/repair"' in confirm.text
    assert "In use" in confirm.text
    assert re.search(r'<button type="submit" class="primary"\s+disabled', confirm.text)
    refused = admin.post(f"/admin/fields/{fault_type}/archive", data={"csrf_token": csrf_of(admin)})
    assert refused.status_code == 409
    alert = re.search(r'class="alert alert-error" role="alert">([^<]*)<', refused.text)
    assert alert is not None
    assert "in use" in alert.group(1)
    assert "repair v1" in alert.group(1)
    with transaction(app.state.reader) as session:
        assert fields_service.get_field(session, fault_type).status == "active"


def test_retype_dry_run_lists_the_records_that_would_not_convert(
    app: FastAPI, admin: TestClient, factory: Any
) -> None:
    with transaction(app.state.writer) as session:
        data = FieldCreate(key="room", type="text", label={"zh_CN": "房间号"})
        fields_service.create_field(session, actor=Principal.system(), data=data)
    good, bad = factory.ticket("room 12"), factory.ticket("room B2")
    with transaction(app.state.writer) as session:
        for ticket, value in ((good, "12"), (bad, "B2")):
            session.execute(
                update(Ticket).where(Ticket.id == ticket.id).values(custom={"room": value})
            )
    room = field_id(app, "room")
    form = {"csrf_token": csrf_of(admin), "version": "1", "type": "integer", "confirm": "0"}

    dry = admin.post(f"/admin/fields/{room}/retype", data=form)

    assert dry.status_code == 200
    assert "1 records convert" in dry.text
    assert "1 records would not convert" in dry.text
    assert f'href="/tickets/{bad.id}">{bad.number}</a>' in dry.text  # its number, not #id
    assert f'href="/tickets/{good.id}"' not in dry.text
    assert "&#34;B2&#34;" in dry.text or '"B2"' in dry.text
    assert 'name="confirm" value="1"' not in dry.text  # nothing to confirm while records fail
    refused = admin.post(f"/admin/fields/{room}/retype", data={**form, "confirm": "1"})
    assert refused.status_code == 409
    with transaction(app.state.reader) as session:
        assert fields_service.get_field(session, room).type == "text"


def test_retype_dry_run_shows_option_labels_and_pages_its_failures(
    app: FastAPI, admin: TestClient, factory: Any
) -> None:
    """A select turned into a number: each failing record by its ticket number, its value as
    the option's label, fifty to a page with a way to the next."""
    choices = [{"key": "big", "label": {"zh_CN": "大号", "en": "Big"}}]
    with transaction(app.state.writer) as session:
        data = FieldCreate(key="size", type="select", label={"zh_CN": "尺寸"},
                           options={"choices": choices})  # fmt: skip
        fields_service.create_field(session, actor=Principal.system(), data=data)
    tickets = [factory.ticket(f"size {i}") for i in range(55)]
    with transaction(app.state.writer) as session:
        session.execute(
            update(Ticket)
            .where(Ticket.id.in_([t.id for t in tickets]))
            .values(custom={"size": "big"})
        )
    size = field_id(app, "size")
    form = {"csrf_token": csrf_of(admin), "version": "1", "type": "integer", "confirm": "0"}
    first = admin.post(f"/admin/fields/{size}/retype", data=form)
    assert first.status_code == 200
    assert "55 records would not convert" in first.text
    assert first.text.count('<td data-label="Value">Big</td>') == 50
    assert "Page 1 of 2" in first.text
    assert 'name="page" value="2"' in first.text
    second = admin.post(f"/admin/fields/{size}/retype", data={**form, "page": "2"})
    assert second.text.count('<td data-label="Value">Big</td>') == 5
    assert "Page 2 of 2" in second.text
    numbers = {t.number for t in tickets}
    shown = set(re.findall(r'href="/tickets/\d+">([^<]+)</a>', first.text + second.text))
    assert shown == numbers


# ----------------------------------------------------------------------------- designer


def test_posting_a_new_order_saves_the_draft_and_leaves_the_published_form(
    app: FastAPI, demo: None, admin: TestClient
) -> None:
    published_before, _ = versions(app, "install")
    keys = ["visit_date", "product", "model", "region", "site_address", "contact_phone"]
    form = {"csrf_token": csrf_of(admin), "surface": "agent_edit", "order": ",".join(keys)}

    saved = admin.post("/admin/forms/install/layout/order", data=form, headers=HTMX)

    assert saved.status_code == 200, saved.text
    assert 'id="workspace"' in saved.text
    assert "Draft saved." in saved.text
    draft = draft_of(app, "install")
    assert draft is not None
    assert draft["layouts"]["agent_edit"][0]["fields"] == keys
    assert versions(app, "install") == (published_before, True)
    layout = saved.text[saved.text.index('id="layout"') :]
    items = re.findall(r'<li class="item [^"]*" data-key="(\w+)"', layout)
    assert items[: len(keys)] == keys


def test_up_and_down_buttons_work_without_javascript(
    app: FastAPI, demo: None, admin: TestClient
) -> None:
    form = {"csrf_token": csrf_of(admin), "surface": "agent_edit", "field": "model", "op": "up"}

    moved = admin.post("/admin/forms/install/layout/item", data=form, follow_redirects=False)

    assert moved.status_code == 303
    assert moved.headers["location"].startswith("/admin/forms/install?surface=agent_edit")
    draft = draft_of(app, "install")
    assert draft is not None
    assert draft["layouts"]["agent_edit"][0]["fields"][:2] == ["model", "product"]


def test_publishing_the_draft_makes_a_new_version(
    app: FastAPI, demo: None, admin: TestClient
) -> None:
    csrf = csrf_of(admin)
    admin.post(
        "/admin/forms/consult/layout/item",
        data={"csrf_token": csrf, "surface": "agent_edit", "field": "model", "op": "required"},
    )
    assert versions(app, "consult") == (1, True)

    unnoted = admin.post("/admin/forms/consult/publish", data={"csrf_token": csrf}, headers=HTMX)
    assert unnoted.status_code == 422  # publishing asks what changed
    assert versions(app, "consult") == (1, True)
    published = admin.post(
        "/admin/forms/consult/publish",
        data={"csrf_token": csrf, "note": "型号改为必填，便于备件核对"},
        headers=HTMX,
    )

    assert published.status_code == 200
    assert "Published version 2." in published.text
    assert versions(app, "consult") == (2, False)
    history = admin.get("/admin/forms/consult/history?from=1&to=2")
    assert history.status_code == 200
    assert "型号改为必填，便于备件核对" in history.text  # the note, with who published it
    assert re.search(r"<strong>[^<]+</strong> — Now required", history.text)
    assert "fields.model.required" in history.text  # the raw detail stays, folded away
    assert "badge ch-changed" in history.text
    assert '<del class="json">false</del>' in history.text
    assert '<ins class="json">true</ins>' in history.text


def test_publish_shows_why_a_draft_does_not_compile(
    app: FastAPI, demo: None, admin: TestClient
) -> None:
    csrf = csrf_of(admin)
    with transaction(app.state.writer) as session:
        data = FieldCreate(key="temporary", type="text", label={"zh_CN": "临时"})
        fields_service.create_field(session, actor=Principal.system(), data=data)
    admin.post(
        "/admin/forms/consult/layout/add",
        data={"csrf_token": csrf, "surface": "portal", "field": "temporary"},
    )
    temporary = field_id(app, "temporary")
    archived = admin.post(
        f"/admin/fields/{temporary}/archive", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert archived.status_code == 303  # only a draft uses it: nothing live depends on it

    refused = admin.post(
        "/admin/forms/consult/publish", data={"csrf_token": csrf, "note": "x"}, headers=HTMX
    )

    assert refused.status_code == 422
    assert "The draft has problems" in refused.text
    assert "Customer portal, section 2" in refused.text
    assert versions(app, "consult") == (1, True)


def test_the_preview_hides_and_shows_fields_by_the_draft_logic(
    demo: None, admin: TestClient
) -> None:
    base = {"csrf_token": csrf_of(admin), "surface": "agent_create", "product": "空调"}

    noise = admin.post(
        "/admin/forms/repair/preview", data={**base, "fault_type": "noise"}, headers=HTMX
    )
    code = admin.post(
        "/admin/forms/repair/preview", data={**base, "fault_type": "error_code"}, headers=HTMX
    )

    assert noise.status_code == code.status_code == 200
    assert 'data-key="fault_type"' in noise.text
    assert 'data-key="error_code"' not in noise.text
    assert re.search(r'class="pv-field required[^"]*" data-key="error_code"', code.text)
    assert 'value="空调"' in code.text


def test_the_preview_limits_options_when_a_rule_restricts_them(
    demo: None, admin: TestClient
) -> None:
    base = {"csrf_token": csrf_of(admin), "surface": "agent_create"}

    normal = admin.post(
        "/admin/forms/complaint/preview", data={**base, "priority": "normal"}, headers=HTMX
    )
    urgent = admin.post(
        "/admin/forms/complaint/preview", data={**base, "priority": "urgent"}, headers=HTMX
    )

    assert '<option value="delay"' in normal.text
    assert '<option value="delay"' not in urgent.text
    assert '<option value="billing"' in urgent.text


def test_a_rule_from_the_builder_is_saved_and_drives_the_preview(
    app: FastAPI, demo: None, admin: TestClient
) -> None:
    csrf = csrf_of(admin)
    rule = {
        "csrf_token": csrf,
        "surface": "agent_create",
        "name": "漏水要照片",
        "match": "all",
        "c-0-field": "fault_type",
        "c-0-op": "eq",
        "c-0-value": "leak",
        "a-0-action": "require",
        "a-0-fields": "photos",
    }

    saved = admin.post("/admin/forms/repair/logic", data=rule, headers=HTMX)

    assert saved.status_code == 200, saved.text
    draft = draft_of(app, "repair")
    assert draft is not None
    assert draft["logic"][-1]["when"] == {
        "all": [{"field": "fault_type", "op": "eq", "value": "leak"}]
    }
    preview = admin.post(
        "/admin/forms/repair/preview",
        data={"csrf_token": csrf, "surface": "portal", "fault_type": "leak"},
        headers=HTMX,
    )
    assert re.search(r'class="pv-field required[^"]*" data-key="photos"', preview.text)


def test_rule_errors_from_the_server_are_shown_next_to_the_row(
    app: FastAPI, demo: None, admin: TestClient
) -> None:
    rule = {
        "csrf_token": csrf_of(admin),
        "surface": "agent_create",
        "match": "all",
        "c-0-field": "fault_type",
        "c-0-op": "eq",
        "c-0-value": "no_power",
        "c-1-field": "fault_type",
        "c-1-op": "gt",
        "c-1-value": "5",
        "a-0-action": "show",
        "a-0-fields": "error_code",
    }

    page = admin.post("/admin/forms/repair/logic", data=rule, headers=HTMX)

    assert page.status_code == 422
    row_errors = re.findall(r'<div class="cond-row( invalid-row)?"', page.text)
    assert row_errors[:2] == ["", " invalid-row"]
    assert "Condition 2" in page.text
    assert "gt" in page.text
    assert 'value="5"' in page.text  # the builder keeps what was typed
    assert draft_of(app, "repair") is None  # nothing saved


def test_admin_creates_a_ticket_type_with_a_draft(app: FastAPI, admin: TestClient) -> None:
    form = {"csrf_token": csrf_of(admin), "key": "recall", "name_zh": "召回", "name_en": "Recall"}

    created = admin.post("/admin/forms", data=form, follow_redirects=False)

    assert created.status_code == 303
    assert created.headers["location"] == "/admin/forms/recall"
    listing = admin.get("/admin/forms").text
    assert "召回" in listing or "Recall" in listing
    assert versions(app, "recall") == (None, True)
    designer = admin.get("/admin/forms/recall")
    assert designer.status_code == 200
    assert "data-section-list" in designer.text
    assert "sortablejs-1.15.7.min.js" in designer.text


def test_posts_need_the_csrf_token(demo: None, admin: TestClient) -> None:
    form = {"surface": "agent_edit", "order": "product,model"}

    refused = admin.post("/admin/forms/install/layout/order", data=form)

    assert refused.status_code == 403


@pytest.mark.parametrize("role", ["agent", "supervisor", "customer"])
@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/admin/forms"),
        ("get", "/admin/fields"),
        ("get", "/admin/forms/repair"),
        ("get", "/admin/forms/repair/history"),
        ("post", "/admin/forms/repair/layout/order"),
        ("post", "/admin/forms/repair/preview"),
        ("post", "/admin/fields/new"),
    ],
)
def test_only_admins_reach_the_form_engine_pages(
    demo: None,
    login: Login,
    make_user: Callable[..., int],
    role: str,
    method: str,
    url: str,
) -> None:
    make_user("someone", role=role)
    client = login("someone")
    data = {"csrf_token": csrf_of(client), "surface": "agent_create"}

    response = client.get(url) if method == "get" else client.post(url, data=data)

    assert response.status_code == 403
