"""The demo company's custom fields and ticket types (报修, 投诉, 咨询, 备件申请 …).

Created through the field registry and form services, so the demo exercises the same
validation an admin's designer does.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from fuwu.auth.principal import Principal
from fuwu.fields.registry import service as fields_service
from fuwu.fields.registry.schemas import FieldCreate
from fuwu.tickets.types import service as ticket_types
from fuwu.tickets.types.schemas import TicketTypeCreate


def _choices(*pairs: tuple[str, str, str]) -> list[dict[str, Any]]:
    return [{"key": k, "label": {"zh_CN": zh, "en": en}} for k, zh, en in pairs]


def _l(zh: str, en: str) -> dict[str, str]:
    return {"zh_CN": zh, "en": en}


FIELDS: list[dict[str, Any]] = [
    {
        "key": "affected_system",
        "type": "select",
        "label": _l("受影响系统", "Affected system"),
        "filterable": True,
        "options": {
            "choices": _choices(
                ("ticketing", "工单系统", "Ticketing"),
                ("call_center", "呼叫中心", "Call centre"),
                ("network", "网络", "Network"),
                ("desktop", "电脑与打印机", "PCs and printers"),
                ("other", "其他", "Other"),
            )
        },
    },
    {
        "key": "impact",
        "type": "select",
        "label": _l("影响范围", "Impact"),
        "options": {
            "choices": _choices(
                ("one", "个人", "One person"),
                ("team", "部门", "A team"),
                ("company", "全公司", "Everyone"),
            )
        },
    },
    {"key": "product", "type": "text", "label": _l("产品", "Product"), "filterable": True},
    {"key": "model", "type": "text", "label": _l("型号", "Model"), "filterable": True},
    {
        "key": "serial_number",
        "type": "text",
        "label": _l("序列号", "Serial number"),
        "filterable": True,
        "options": {"max_length": 40},
    },
    {"key": "asset_id", "type": "asset", "label": _l("设备档案", "Asset")},
    {"key": "in_warranty", "type": "boolean", "label": _l("是否在保", "In warranty")},
    {"key": "district", "type": "text", "label": _l("区域", "District"), "filterable": True},
    {
        "key": "fault_type",
        "type": "select",
        "label": _l("故障类型", "Fault type"),
        "filterable": True,
        "options": {
            "choices": _choices(
                ("no_power", "不通电", "No power"),
                ("noise", "异响", "Noise"),
                ("leak", "漏水", "Leak"),
                ("error_code", "显示故障代码", "Shows an error code"),
                ("other", "其他", "Other"),
            )
        },
    },
    {
        "key": "error_code",
        "type": "text",
        "label": _l("故障代码", "Error code"),
        "options": {"max_length": 10, "pattern": "^[A-Za-z][0-9]{1,3}$"},
        "help": _l("机器屏幕上显示的代码，如 E4", "The code on the display, e.g. E4"),
    },
    {
        "key": "region",
        "type": "cascade",
        "label": _l("所在地区", "Region"),
        "options": {"source": "cn_region"},
    },
    {
        "key": "site_address",
        "type": "textarea",
        "label": _l("详细地址", "Street address"),
        "options": {"max_length": 300},
    },
    {"key": "contact_phone", "type": "phone", "label": _l("现场联系电话", "On-site phone")},
    {"key": "visit_date", "type": "date", "label": _l("期望上门日期", "Preferred visit date")},
    {
        "key": "photos",
        "type": "image",
        "label": _l("现场照片", "Photos"),
        "options": {"max_files": 6},
    },
    {
        "key": "customer_signature",
        "type": "signature",
        "label": _l("客户签名", "Customer signature"),
        "help": _l("安装完成后请客户签字确认", "The customer signs when the installation is done"),
    },
    {
        "key": "complaint_category",
        "type": "select",
        "label": _l("投诉类别", "Complaint category"),
        "filterable": True,
        "options": {
            "choices": _choices(
                ("attitude", "服务态度", "Service attitude"),
                ("delay", "处理超时", "Delay"),
                ("quality", "维修质量", "Repair quality"),
                ("billing", "收费争议", "Billing"),
                ("other", "其他", "Other"),
            )
        },
    },
    {
        "key": "claim_amount",
        "type": "money",
        "label": _l("诉求金额", "Amount claimed"),
        "options": {"min": 0, "max": 100000, "currency": "CNY"},
    },
    {
        "key": "part_no",
        "type": "text",
        "label": _l("备件编码", "Part number"),
        "options": {"max_length": 30},
    },
    {
        "key": "part_qty",
        "type": "integer",
        "label": _l("数量", "Quantity"),
        "options": {"min": 1, "max": 999},
    },
    {
        "key": "unit_price",
        "type": "money",
        "label": _l("单价", "Unit price"),
        "options": {"min": 0},
    },
    {
        "key": "parts_total",
        "type": "computed",
        "label": _l("金额合计", "Total"),
        "options": {"formula": "ROUND(part_qty * unit_price, 2)"},
    },
    {
        "key": "request_no",
        "type": "auto_number",
        "label": _l("申请单号", "Request number"),
        "options": {"pattern": "BJ{yyyy}{mm}-{seq:04}"},
    },
    {
        "key": "extra_parts",
        "type": "table",
        "label": _l("其他备件", "Other parts"),
        "options": {
            "max_rows": 20,
            "columns": [
                {
                    "key": "part_no",
                    "type": "text",
                    "label": _l("编码", "Part number"),
                    "required": True,
                },
                {"key": "qty", "type": "integer", "label": _l("数量", "Qty"), "required": True},
                {"key": "note", "type": "text", "label": _l("备注", "Note")},
            ],
        },
    },
]

BASIC = ["subject", "customer", "priority", "description"]


def _form(
    fields: list[str],
    *,
    required: tuple[str, ...] = (),
    logic: list[dict[str, Any]] | None = None,
    portal: list[str] | None = None,
) -> dict[str, Any]:
    public = portal if portal is not None else fields
    return {
        "fields": [{"key": k, "required": k in required} for k in fields],
        "layouts": {
            "agent_create": [
                {"fields": BASIC},
                {"title": _l("详情", "Details"), "fields": fields, "columns": 2},
            ],
            "agent_edit": [{"title": _l("详情", "Details"), "fields": fields, "columns": 2}],
            "portal": [{"fields": ["subject", "description"]}, {"fields": public}],
            "web_form": [{"fields": ["subject", "customer", "description"]}, {"fields": public}],
        },
        "logic": logic or [],
    }


REPAIR = [
    "product",
    "model",
    "serial_number",
    "fault_type",
    "error_code",
    "in_warranty",
    "region",
    "site_address",
    "contact_phone",
    "visit_date",
    "photos",
    "district",
    "asset_id",
    "part_no",  # asked when the engineer orders a part (the workflow's 申请备件)
    "part_qty",
]
TYPES: list[tuple[str, str, str, bool, dict[str, Any]]] = [
    (
        "repair",
        "报修",
        "Repair",
        True,
        _form(
            REPAIR,
            required=("product", "fault_type"),
            portal=[
                "product",
                "model",
                "fault_type",
                "error_code",
                "region",
                "site_address",
                "contact_phone",
                "visit_date",
                "photos",
            ],
            logic=[
                {
                    "name": "故障代码",
                    "when": {"field": "fault_type", "op": "eq", "value": "error_code"},
                    "then": [
                        {"action": "show", "fields": ["error_code"]},
                        {"action": "require", "fields": ["error_code"]},
                    ],
                }
            ],
        ),
    ),
    (
        "install",
        "安装",
        "Installation",
        True,
        _form(
            [
                "product",
                "model",
                "region",
                "site_address",
                "contact_phone",
                "visit_date",
                "customer_signature",
            ],
            required=("product",),
            portal=["product", "model", "region", "site_address", "contact_phone", "visit_date"],
        ),
    ),
    (
        "maintenance",
        "保养",
        "Maintenance",
        False,
        _form(["product", "model", "serial_number", "asset_id", "visit_date", "district"]),
    ),
    (
        "complaint",
        "投诉",
        "Complaint",
        True,
        _form(
            ["complaint_category", "claim_amount", "product", "district"],
            required=("complaint_category",),
            logic=[
                {
                    "name": "收费争议需填金额",
                    "when": {"field": "complaint_category", "op": "eq", "value": "billing"},
                    "then": [{"action": "require", "fields": ["claim_amount"]}],
                },
                {
                    "name": "紧急投诉",
                    "when": {"field": "priority", "op": "eq", "value": "urgent"},
                    "then": [
                        {
                            "action": "restrict_options",
                            "fields": ["complaint_category"],
                            "options": ["attitude", "quality", "billing"],
                        }
                    ],
                },
            ],
        ),
    ),
    ("consult", "咨询", "Inquiry", True, _form(["product", "model"])),
    (
        "it_incident",
        "IT 故障",
        "IT incident",
        False,
        _form(["affected_system", "impact"], required=("affected_system", "impact")),
    ),
    (
        "spare_parts",
        "备件申请",
        "Spare parts request",
        False,
        _form(
            [
                "request_no",
                "product",
                "model",
                "part_no",
                "part_qty",
                "unit_price",
                "parts_total",
                "extra_parts",
            ],
            required=("part_no", "part_qty"),
        ),
    ),
]


# Fields of customers, organisations and assets (their forms have every field of the entity).
CONTACT_TIMES = _choices(
    ("morning", "上午", "Mornings"),
    ("afternoon", "下午", "Afternoons"),
    ("evening", "晚上", "Evenings"),
    ("any", "任何时间", "Any time"),
)
PURCHASE_CHANNELS = _choices(
    ("jd", "京东", "JD.com"),
    ("tmall", "天猫", "Tmall"),
    ("store", "线下门店", "Store"),
    ("project", "工程渠道", "Project sale"),
)
RECORD_FIELDS: list[dict[str, Any]] = [
    {"entity": "contact", "key": "contact_time", "type": "select",
     "label": _l("方便联系时间", "Best time to call"), "filterable": True,
     "options": {"choices": CONTACT_TIMES}},
    {"entity": "organisation", "key": "contract_no", "type": "text",
     "label": _l("服务合同编号", "Service contract no."), "unique": True,
     "options": {"max_length": 30}},
    {"entity": "organisation", "key": "contract_until", "type": "date",
     "label": _l("合同到期", "Contract ends")},
    {"entity": "asset", "key": "bought_via", "type": "select",
     "label": _l("购买渠道", "Bought via"), "filterable": True,
     "options": {"choices": PURCHASE_CHANNELS}},
]  # fmt: skip


def load(session: Session, *, timezone: str) -> None:
    """Create the demo fields and publish one form per ticket type."""
    actor = Principal.system()
    for spec in (*FIELDS, *RECORD_FIELDS):
        fields_service.create_field(session, actor=actor, data=FieldCreate(**spec))
    for key, zh, en, public, definition in TYPES:
        ticket_types.create_type(
            session, actor=actor,
            data=TicketTypeCreate(key=key, name=_l(zh, en), public=public),
        )  # fmt: skip
        ticket_types.save_draft(
            session, actor=actor, key=key, definition=definition, timezone=timezone
        )
        ticket_types.publish(
            session, actor=actor, key=key, timezone=timezone, note="初始版本（演示数据）"
        )
