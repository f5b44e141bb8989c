"""Tickets as an entity of the field registry: their table, `custom` column and system fields.

Registered explicitly (`register`), by `create_app` and the CLI, never as a side effect of an
import."""

from __future__ import annotations

from typing import Any, cast, get_args

from sqlalchemy import Column, Table

from fuwu.conditions.schema import Kind
from fuwu.fields.registry import entities
from fuwu.fields.registry import service as fields_service
from fuwu.fields.registry.entities import Entity, SystemField
from fuwu.tickets import repository, saved_views
from fuwu.tickets.custom import GENERAL
from fuwu.tickets.models import Ticket
from fuwu.tickets.schemas import Channel, Priority
from fuwu.tickets.statuses import CATEGORIES
from fuwu.tickets.types import service as ticket_types
from fuwu.workflows import service as workflows

T = Ticket.__table__.c


def _f(key: str, kind: Kind, zh: str, en: str, column: object = None, **kw: object) -> SystemField:
    return SystemField(key=key, kind=kind, label={"zh_CN": zh, "en": en}, column=column, **kw)  # type: ignore[arg-type]


SYSTEM = [
    _f("number", Kind.TEXT, "工单号", "Number", T.number, writable=False),
    _f("subject", Kind.TEXT, "主题", "Subject", T.subject),
    _f("description", Kind.TEXT, "描述", "Description", T.description),
    _f("type", Kind.CHOICE, "类型", "Type", T.type_key),
    _f("status", Kind.CHOICE, "状态", "Status", T.status),
    _f(
        "status_category",
        Kind.CHOICE,
        "状态类别",
        "Status category",
        T.status_category,
        options=frozenset(CATEGORIES),
        writable=False,
    ),
    _f("is_open", Kind.BOOL, "未关闭", "Open", T.is_open, writable=False),
    _f(
        "priority",
        Kind.CHOICE,
        "优先级",
        "Priority",
        T.priority,
        options=frozenset(get_args(Priority)),
    ),
    _f("channel", Kind.CHOICE, "渠道", "Channel", T.channel, options=frozenset(get_args(Channel))),
    _f("customer", Kind.REF, "客户", "Customer", T.customer_id),
    _f("organisation", Kind.REF, "组织", "Organisation", T.organisation_id),
    _f("assignee", Kind.REF, "处理人", "Assignee", T.assignee_id),
    _f("team", Kind.REF, "团队", "Team", T.team_id),
    _f("tags", Kind.MULTI, "标签", "Tags"),
    _f("created_at", Kind.DATETIME, "创建时间", "Created", T.created_at, writable=False),
    _f("updated_at", Kind.DATETIME, "更新时间", "Updated", T.updated_at, writable=False),
]

# The agent pages' and the API's own inputs (the new-ticket form, the sidebar, bulk changes):
# a custom field of that name would clash with them on the page.
PAGE_INPUTS = frozenset(
    {"customer_name", "customer_email", "customer_phone", "attachments", "data", "ids", "back",
     "add_tags", "remove_tags"}
)  # fmt: skip

ENTITY = Entity(
    name="ticket",
    table=cast(Table, Ticket.__table__),
    custom=cast("Column[Any]", T.custom),
    system={f.key: f for f in SYSTEM},
    title="number",
    url="/tickets/{id}",
    reserved=frozenset(T.keys()) | PAGE_INPUTS,
)


def register() -> None:
    """Make tickets an entity of the field registry, and tell the registry where ticket forms
    and saved views use a field (`create_app` and the CLI call this)."""
    entities.register(ENTITY)
    fields_service.register_usages(ticket_types.form_usages)
    fields_service.register_usages(saved_views.view_usages)
    fields_service.register_usages(workflows.field_usages)
    workflows.register_tickets(workflows.TicketFacts(
        open_by_status=repository.open_by_status,
        type_keys=lambda session: [
            GENERAL, *(t.key for t in ticket_types.list_types(session, inactive=True))
        ],
        open_children=repository.open_children,
    ))  # fmt: skip
