"""The demo company's statuses and processes (流程), published like an administrator would.

The repair loop of an after-sales network (seeds: 报修 → 派工 → 上门 → 维修 → 验收 → 回访 →
完结): assigning an engineer dispatches the ticket by itself, the engineer reports leaving,
starting and finishing on site, the customer (or the desk, after a call) accepts the work or
sends it back, and the desk closes it after the call-back. A complaint needs a supervisor's
approval before it goes to the call-back.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from fuwu.auth.principal import Principal
from fuwu.workflows import service as workflows
from fuwu.workflows import statuses

# (key, category, 中文, English, colour)
STATUSES = (
    ("received", "new", "待受理", "Received", "#2563eb"),
    ("dispatched", "open", "已派工", "Dispatched", "#0891b2"),
    ("onsite", "open", "上门中", "On the way", "#d97706"),
    ("processing", "open", "处理中", "Processing", "#ea580c"),
    ("checking", "pending", "待验收", "Awaiting acceptance", "#7c3aed"),
    ("callback", "resolved", "待回访", "Awaiting call-back", "#059669"),
    ("done", "closed", "已完结", "Done", "#6b7280"),
    ("review", "pending", "待审批", "Awaiting approval", "#be185d"),
    ("waiting_parts", "pending", "等备件", "Waiting for parts", "#a16207"),
    ("parts_review", "pending", "备件待审批", "Parts awaiting approval", "#be185d"),
    ("parts_approved", "open", "待发货", "To ship", "#0891b2"),
    ("parts_shipped", "pending", "已发货", "Shipped", "#7c3aed"),
    ("parts_received", "closed", "已签收", "Received", "#6b7280"),
    ("parts_rejected", "closed", "已驳回", "Rejected", "#991b1b"),
    ("inc_triage", "new", "待分派", "To triage", "#2563eb"),
    ("inc_investigating", "open", "排查中", "Investigating", "#ea580c"),
    ("inc_vendor", "pending", "等待厂商", "Waiting for the vendor", "#7c3aed"),
    ("inc_restored", "resolved", "已恢复", "Restored", "#059669"),
    ("inc_closed", "closed", "已关闭", "Closed", "#6b7280"),
)
DESK = ["agent", "supervisor", "admin"]


def _step(key: str, src: list[str], to: str, zh: str, en: str, **extra: Any) -> dict[str, Any]:
    return {"key": key, "from": src, "to": to, "label": {"zh_CN": zh, "en": en}, **extra}


REPAIR: dict[str, Any] = {
    "name": {"zh_CN": "报修流程", "en": "Repair"},
    "types": ["repair"],
    "statuses": ["received", "dispatched", "onsite", "processing", "waiting_parts", "checking",
                 "callback", "done"],
    "initial": "received",
    "reopen": "processing",
    "transitions": [
        _step("auto_dispatch", ["received"], "dispatched", "自动派工", "Dispatch on assignment",
              automatic=True, guard={"field": "assignee", "op": "not_empty"}),
        _step("dispatch", ["received"], "dispatched", "派工", "Dispatch",
              who={"roles": DESK}, require=["assignee"]),
        _step("depart", ["dispatched"], "onsite", "出发上门", "Set off",
              who={"assignee": True, "roles": ["supervisor"]}),
        _step("start", ["onsite"], "processing", "开始维修", "Start the repair",
              who={"assignee": True, "roles": ["supervisor"]}),
        _step("finish", ["processing"], "checking", "完工待验收", "Finished",
              who={"assignee": True, "roles": ["supervisor"]}),
        # A part is needed: a spare-parts request opens under the repair, which waits for it
        # and goes back to 处理中 by itself once the part is signed for.
        _step("order_parts", ["processing"], "waiting_parts", "申请备件", "Order a part",
              who={"assignee": True, "roles": ["supervisor"]}, require=["part_no", "part_qty"],
              children=[{"type": "spare_parts", "subject": "备件申请：{subject}（{number}）",
                         "copy": ["customer", "priority", "product", "model", "part_no",
                                  "part_qty"]}]),
        _step("parts_arrived", ["waiting_parts"], "processing", "备件到货", "Part arrived",
              automatic=True, guard={"field": "open_children", "op": "eq", "value": 0}),
        _step("accept", ["checking"], "callback", "验收通过", "Accept the work",
              who={"customer": True, "roles": DESK}),
        _step("rework", ["checking"], "processing", "验收不通过", "Send back",
              who={"customer": True, "roles": DESK}),
        _step("close", ["callback"], "done", "回访完成", "Call-back done", who={"roles": DESK}),
        _step("cancel", ["received", "dispatched"], "done", "取消", "Cancel",
              who={"roles": ["supervisor", "admin"]}),
    ],
}  # fmt: skip

# A complaint is closed only with a supervisor's approval (投诉结案审批): the desk handles it
# and proposes to close; a supervisor approves (on to the call-back) or sends it back.
COMPLAINT: dict[str, Any] = {
    "name": {"zh_CN": "投诉处理流程", "en": "Complaint"},
    "types": ["complaint"],
    "statuses": ["received", "processing", "review", "callback", "done"],
    "initial": "received",
    "reopen": "processing",
    "transitions": [
        _step("auto_accept", ["received"], "processing", "受理", "Take on assignment",
              automatic=True, guard={"field": "assignee", "op": "not_empty"}),
        _step("accept", ["received"], "processing", "受理", "Take it on",
              who={"roles": DESK}, require=["assignee"]),
        _step("propose_close", ["processing"], "review", "申请结案", "Ask to close",
              who={"assignee": True, "roles": DESK}),
        _step("approve_close", ["review"], "callback", "同意结案", "Close approved"),
        _step("reject_close", ["review"], "processing", "驳回", "Back to handling"),
        _step("close", ["callback"], "done", "回访完成", "Call-back done", who={"roles": DESK}),
    ],
    "approvals": {
        "review": {"approvers": [{"role": "supervisor"}], "mode": "any",
                   "approve": "approve_close", "reject": "reject_close", "empty": "admins"},
    },
}  # fmt: skip

# A spare-parts request (备件申请) needs the branch manager's approval (the supervisor), then
# the warehouse desk ships it and the engineer signs for it; reminded after a day waiting.
SPARE_PARTS: dict[str, Any] = {
    "name": {"zh_CN": "备件申请流程", "en": "Spare parts"},
    "types": ["spare_parts"],
    "statuses": ["parts_review", "parts_approved", "parts_shipped", "parts_received",
                 "parts_rejected"],
    "initial": "parts_review",
    "transitions": [
        _step("approve_parts", ["parts_review"], "parts_approved", "同意", "Approve"),
        _step("reject_parts", ["parts_review"], "parts_rejected", "驳回", "Reject"),
        _step("ship", ["parts_approved"], "parts_shipped", "发货", "Ship", who={"roles": DESK}),
        _step("receive", ["parts_shipped"], "parts_received", "签收", "Sign for it",
              who={"roles": ["engineer", *DESK]}),
    ],
    "approvals": {
        "parts_review": {"approvers": [{"role": "supervisor"}], "mode": "single",
                         "approve": "approve_parts", "reject": "reject_parts"},
    },
    "timers": {"parts_review": [{"after_hours": 24, "action": "remind"}]},
}  # fmt: skip

# The company's own IT desk (IT 故障): taken on when assigned, chased after four hours under
# investigation, closed by itself three days after service is restored unless reopened.
IT_INCIDENT: dict[str, Any] = {
    "name": {"zh_CN": "IT 故障处理流程", "en": "IT incident"},
    "types": ["it_incident"],
    "statuses": ["inc_triage", "inc_investigating", "inc_vendor", "inc_restored", "inc_closed"],
    "initial": "inc_triage",
    "reopen": "inc_investigating",
    "transitions": [
        _step("take_on", ["inc_triage"], "inc_investigating", "受理", "Take on", automatic=True,
              guard={"field": "assignee", "op": "not_empty"}),
        _step("escalate", ["inc_investigating"], "inc_vendor", "转厂商", "Escalate to vendor",
              who={"assignee": True, "roles": ["supervisor", "admin"]}),
        _step("vendor_back", ["inc_vendor"], "inc_investigating", "厂商已回复", "Vendor replied",
              who={"assignee": True, "roles": ["supervisor", "admin"]}),
        _step("restore", ["inc_investigating", "inc_vendor"], "inc_restored", "已恢复服务",
              "Service restored", who={"assignee": True, "roles": ["supervisor", "admin"]},
              set={"priority": "normal"}),
        _step("close", ["inc_restored"], "inc_closed", "关闭", "Close", who={"roles": DESK}),
    ],
    "timers": {
        "inc_investigating": [{"after_hours": 4, "action": "remind"}],
        "inc_restored": [{"after_hours": 72, "action": "step", "step": "close"}],
    },
}  # fmt: skip
WORKFLOWS = {"repair": REPAIR, "complaint": COMPLAINT, "spare_parts": SPARE_PARTS,
             "it_incident": IT_INCIDENT}  # fmt: skip

# The steps a repair takes after it is dispatched, in order, and the status each leads to.
REPAIR_PATH = (("depart", "onsite"), ("start", "processing"), ("finish", "checking"),
               ("accept", "callback"), ("close", "done"))  # fmt: skip


def load(session: Session) -> None:
    """Add the demo statuses and publish its workflows."""
    actor = Principal.system()
    for key, category, zh, en, colour in STATUSES:
        statuses.create_status(
            session, actor=actor,
            data={"key": key, "category": category, "label_zh": zh, "label_en": en,
                  "colour": colour},
        )  # fmt: skip
    for key, definition in WORKFLOWS.items():
        workflows.save_draft(session, actor=actor, key=key, raw=definition)
        workflows.publish(session, actor=actor, key=key, note="初始版本（演示数据）")
