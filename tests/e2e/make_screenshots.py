"""Screenshots of the ticket UI for the README: `python -m tests.e2e.make_screenshots [OUT_DIR]`.

Seeds a throw-away SQLite database with a few realistic tickets, serves it on loopback and
photographs the inbox, a ticket and the create form at 1280 px and 375 px, in zh_CN and English.
"""

from __future__ import annotations

import sys
import tempfile
from datetime import timedelta
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from fuwu import migrate
from fuwu.app import create_app
from fuwu.auth import service as auth_service
from fuwu.auth.principal import Principal
from fuwu.auth.schemas import TeamCreate, UserCreate
from fuwu.config import Settings
from fuwu.db import transaction
from fuwu.demo import forms as demo_forms
from fuwu.tickets import messages
from fuwu.tickets import service as tickets_service
from fuwu.tickets.models import Ticket
from fuwu.tickets.schemas import CustomerIn, TicketCreate, TicketUpdate

from .conftest import CHROMIUM, CHROMIUM_ARGS, PASSWORD, serve

TICKETS = [
    ("打印机卡纸，无法打印合同", "high", "陈静", "chen.jing@example.com", "open", ["打印机"]),
    (
        "电梯停在 3 楼不动，有人被困",
        "urgent",
        "刘洋",
        "liu.yang@example.com",
        "open",
        ["电梯", "紧急"],
    ),
    (
        "Invoice for October is missing the VAT line",
        "normal",
        "Emma Brown",
        "emma@example.com",
        "pending",
        ["billing"],
    ),
    ("空调外机噪音很大，请安排上门检查", "normal", "赵敏", "zhao.min@example.com", "new", []),
    ("VPN 登录后频繁断线", "high", "孙磊", "sun.lei@example.com", "pending", ["网络"]),
    ("Password reset e-mail never arrives", "low", "Noah Smith", "noah@example.com", "new", []),
    ("门禁卡失效，需要重新授权", "normal", "周婷", "zhou.ting@example.com", "resolved", ["门禁"]),
]


def seed(app: object) -> int:
    """People, teams and tickets with a short history; returns the id of the showcase ticket."""
    state = app.state  # type: ignore[attr-defined]
    system = Principal.system()
    with transaction(state.writer) as session:
        ids = {}
        for username, name, role, locale in (
            ("admin", "管理员", "admin", "zh_CN"),
            ("agent1", "王芳", "agent", "zh_CN"),
            ("agent2", "张伟", "agent", "zh_CN"),
        ):
            user = auth_service.create_user(
                session,
                actor=system,
                data=UserCreate(
                    username=username,
                    display_name=name,
                    role=role,
                    password=PASSWORD,
                    locale=locale,
                ),
            )
            ids[username] = user.id
        support = auth_service.create_team(
            session,
            actor=system,
            data=TeamCreate(name="一线支持", member_ids=[ids["agent1"], ids["agent2"]]),
        )
        auth_service.create_team(session, actor=system, data=TeamCreate(name="现场服务"))
        agent = auth_service.principal_for(session, auth_service.get_user(session, ids["agent1"]))
        settings = state.settings
        first = 0
        for index, (subject, priority, name, email, status, tags) in enumerate(TICKETS):
            ticket = tickets_service.create_ticket(
                session,
                actor=agent,
                data=TicketCreate(
                    subject=subject,
                    priority=priority,
                    tags=tags,
                    team_id=support.id,
                    assignee_id=ids["agent1"] if index % 3 != 2 else None,
                    description="客户来电反映：一楼大厅打印机连续卡纸，已尝试重启无效。\n需要今天内处理。",
                    customer=CustomerIn(name=name, email=email),
                ),
                number_pattern=settings.ticket_number_pattern,
                timezone=settings.timezone,
                default_channel="phone" if index % 2 else "email",
            )
            first = first or ticket.id
            if status != ticket.status:
                tickets_service.update_ticket(
                    session, actor=agent, ticket_id=ticket.id, data=TicketUpdate(status=status)
                )
            session.get(Ticket, ticket.id).updated_at -= timedelta(minutes=37 * index)  # type: ignore[union-attr]
        messages.add_message(
            session,
            actor=agent,
            ticket_id=first,
            kind="reply",
            body="您好，我们已收到您的问题，工程师将在 30 分钟内到场处理。",
        )
        messages.add_message(
            session,
            actor=agent,
            ticket_id=first,
            kind="note",
            body="型号 HP M479，上次更换定影器是 3 个月前，带一个备用搓纸轮。",
        )
        tickets_service.update_ticket(
            session,
            actor=agent,
            ticket_id=first,
            data=TicketUpdate(priority="urgent", tags=["打印机", "上门"]),
        )
        return first


def seed_repair(app: object) -> int:
    """The demo's ticket types and forms, and a 报修 ticket with its custom fields filled in."""
    state = app.state  # type: ignore[attr-defined]
    settings = state.settings
    with transaction(state.writer) as session:
        demo_forms.load(session, timezone=settings.timezone)
        user = auth_service.get_user_by_username(session, "agent1")
        assert user is not None
        agent = auth_service.principal_for(session, user)
        ticket = tickets_service.create_ticket(
            session,
            actor=agent,
            data=TicketCreate(
                subject="空调不制冷，屏幕显示 E4",
                type="repair",
                priority="high",
                description="客户反映空调开机 10 分钟后停止制冷，室外机不转。",
                customer=CustomerIn(name="赵敏", email="zhao.min@example.com"),
                custom={
                    "product": "格力空调",
                    "model": "KFR-35GW/NhGc1B",
                    "serial_number": "GL2023110457",
                    "fault_type": "error_code",
                    "error_code": "E4",
                    "in_warranty": True,
                    "region": ["440000", "440300", "440305"],
                    "site_address": "科技园南区 8 栋 1203 室",
                    "contact_phone": "13800138000",
                    "visit_date": "2026-12-01",
                },
            ),
            number_pattern=settings.ticket_number_pattern,
            timezone=settings.timezone,
            default_channel="phone",
            surface="agent_create",
        )
        return ticket.id


def custom_field_shots(page: Page, base: str, out: Path, repair_id: int) -> None:
    """The new-ticket form with 报修 chosen and its logic at work, and a ticket's fields."""
    page.goto(f"{base}/tickets/new?type=repair")
    page.wait_for_load_state("networkidle")
    page.fill("input[name=customer_name]", "陈静")
    page.fill("input[name=customer_phone]", "13912345678")
    page.fill("input[name=subject]", "洗衣机显示故障代码，无法脱水")
    page.fill("input[name=product]", "滚筒洗衣机")
    page.select_option("select[name=fault_type]", "error_code")
    page.locator("input[name=error_code]").wait_for()
    for level, code in enumerate(("310000", "310100", "310104")):  # 上海 / 上海市 / 徐汇区
        page.wait_for_timeout(100)  # htmx settles the new fields before they take events
        page.select_option(f"select[name=region] >> nth={level}", code)
        if level < 2:
            page.locator("select[name=region]").nth(level + 1).wait_for()
    page.wait_for_load_state("networkidle")
    page.select_option("select[name=in_warranty]", "true")
    page.click("button.primary[type=submit]")  # 故障代码 is required by the logic, and empty
    page.locator(".cf-field .field-error").first.wait_for()
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(out / "new-ticket-form.png"), full_page=True)
    page.goto(f"{base}/tickets/{repair_id}")
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(out / "ticket-custom-fields.png"), full_page=True)


def inbox_filter_shots(page: Page, base: str, out: Path, *, mobile: bool = False) -> None:
    """The inbox filtered on a custom field (故障类型 = 显示故障代码), sorted by a custom field,
    with a saved view in the tabs and the save panel open."""
    if not mobile:
        page.goto(f"{base}/inbox?view=all")
        page.wait_for_load_state("networkidle")
        page.locator(".save-view summary").wait_for()
        query = "match=all&c-0-field=fault_type&c-0-op=eq&c-0-value=error_code&sort=-model"
        condition = '{"all": [{"field": "fault_type", "op": "eq", "value": "error_code"}]}'
        page.evaluate(
            """([condition]) => fetch('/inbox/views', {method: 'POST', body: new URLSearchParams({
                name: 'Error-code repairs', condition, sort: '-model',
                csrf_token: document.querySelector('meta[name=csrf-token]').content})})""",
            [condition],
        )
        page.goto(f"{base}/inbox?view=all&{query}")
    else:
        page.goto(f"{base}/inbox?view=all")
        page.wait_for_load_state("networkidle")
        page.locator("nav.tabs a.user-view").first.click()
        page.wait_for_load_state("networkidle")
    page.wait_for_load_state("networkidle")
    page.locator(".save-view summary").click()
    page.evaluate("window.scrollTo(0, 0)")  # a sticky top bar would land mid-page otherwise
    name = "inbox-custom-filter" + ("-mobile" if mobile else "")
    page.screenshot(path=str(out / f"{name}.png"), full_page=True)


def sign_in(page: Page, base: str, locale: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=username]", "agent1")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/inbox**")
    label = "中" if locale == "zh_CN" else "EN"
    page.locator(".lang-form button", has_text=label).click()
    page.wait_for_load_state("networkidle")


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'shots.sqlite3'}"
        migrate.upgrade(url)
        app = create_app(
            Settings(env="test", data_dir=Path(tmp), database_url=url, embedded_worker=False)
        )
        ticket_id = seed(app)
        repair_id = seed_repair(app)
        with serve(app) as base, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for locale in ("zh_CN", "en"):
                for width, kind in ((1280, "desktop"), (375, "mobile")):
                    context = browser.new_context(
                        viewport={"width": width, "height": 800},
                        device_scale_factor=1 if width > 400 else 2,
                        locale="zh-CN" if locale == "zh_CN" else "en-US",
                    )
                    page = context.new_page()
                    sign_in(page, base, locale)
                    tag = f"{kind}-{'zh' if locale == 'zh_CN' else 'en'}"
                    for name, path in (
                        ("inbox", "/inbox?view=all"),
                        ("ticket", f"/tickets/{ticket_id}"),
                        ("new-ticket", "/tickets/new"),
                        ("new-ticket-repair", "/tickets/new?type=repair"),
                        ("ticket-custom", f"/tickets/{repair_id}"),
                    ):
                        page.goto(f"{base}{path}")
                        page.wait_for_load_state("networkidle")
                        page.screenshot(path=str(out / f"{name}-{tag}.png"), full_page=True)
                    if tag == "desktop-zh":
                        custom_field_shots(page, base, out, repair_id)
                    if locale == "en":
                        inbox_filter_shots(page, base, out, mobile=kind == "mobile")
                    context.close()
            browser.close()
        app.state.engine.dispose()


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/screenshots"))
