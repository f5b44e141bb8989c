"""The customer and organisation pages with the admin's custom fields: the inputs are on the
forms, bad values are named under their inputs in the agent's language with everything typed
kept, and the values are shown on the detail pages."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI

from support_fields import add_field

from .conftest import Login, csrf_of

TIERS = {"choices": [{"key": "gold", "label": {"zh_CN": "金卡", "en": "Gold"}},
                     {"key": "silver", "label": {"zh_CN": "银卡", "en": "Silver"}}]}  # fmt: skip


def test_customer_form_takes_checks_and_shows_custom_fields(
    app: FastAPI, login: Login, make_user: Callable[..., int]
) -> None:
    add_field(app, "contact", "member_no", "text", "会员号", required=True)
    add_field(app, "contact", "tier", "select", "会员等级", options=TIERS)
    add_field(app, "contact", "visits", "integer", "到店次数")
    make_user("li", role="agent", locale="zh_CN")
    agent = login("li", locale="zh-CN")
    form = agent.get("/customers/new").text
    assert 'name="member_no"' in form
    assert "会员等级" in form
    csrf = csrf_of(agent)
    posted = {"csrf_token": csrf, "name": "张三", "tier": "gold", "visits": "很多"}
    bad = agent.post("/customers/new", data=posted)
    assert bad.status_code == 422, bad.text
    assert "会员号" in bad.text
    assert "张三" in bad.text  # what was typed stays
    assert "Field required" not in bad.text
    assert "到店次数的值无效" in bad.text
    assert 'value="很多"' in bad.text
    good = {**posted, "member_no": "M-100", "visits": "3"}
    created = agent.post("/customers/new", data=good, follow_redirects=False)
    assert created.status_code == 303, created.text
    detail = agent.get(created.headers["location"]).text
    assert "会员号" in detail
    assert "M-100" in detail
    assert "金卡" in detail  # the option's label, not its key


def test_organisation_form_takes_and_shows_custom_fields(
    app: FastAPI, login: Login, make_user: Callable[..., int]
) -> None:
    add_field(app, "organisation", "contract_no", "text", "合同编号")
    make_user("li", role="agent", locale="en")
    agent = login("li")
    csrf = csrf_of(agent)
    created = agent.post(
        "/organisations/new",
        data={"csrf_token": csrf, "name": "上海电力", "contract_no": "HT-9"},
        follow_redirects=False,
    )  # fmt: skip
    assert created.status_code == 303, created.text
    detail = agent.get(created.headers["location"]).text
    assert "Contract_No" in detail or "Contract No" in detail
    assert "HT-9" in detail
    edit = agent.get(created.headers["location"].split("?")[0] + "/edit").text
    assert 'value="HT-9"' in edit


def test_reference_fields_on_customer_pages_show_names_not_numbers(
    app: FastAPI, login: Login, make_user: Callable[..., int]
) -> None:
    add_field(app, "contact", "account_manager", "user", "客户经理")
    manager = make_user("wang", role="agent", display_name="王经理")
    make_user("li", role="agent", locale="zh_CN")
    agent = login("li", locale="zh-CN")
    csrf = csrf_of(agent)
    posted = {"csrf_token": csrf, "name": "张三", "account_manager": str(manager)}
    created = agent.post("/customers/new", data=posted, follow_redirects=False)
    assert created.status_code == 303, created.text
    detail = agent.get(created.headers["location"]).text
    assert "王经理" in detail
    url = created.headers["location"].split("?")[0]
    edit = agent.get(f"{url}/edit").text
    assert 'value="王经理"' in edit  # the picker's search box shows the name
    assert f'value="#{manager}"' not in edit


def test_the_field_editor_offers_file_types_only_for_tickets(
    app: FastAPI, login: Login, make_user: Callable[..., int]
) -> None:
    make_user("boss", role="admin")
    admin = login("boss")
    for entity in ("contact", "organisation", "asset"):
        page = admin.get(f"/admin/fields/new?entity={entity}").text
        assert 'value="signature"' not in page, entity
        assert 'value="text"' in page, entity
    assert 'value="signature"' in admin.get("/admin/fields/new?entity=ticket").text
