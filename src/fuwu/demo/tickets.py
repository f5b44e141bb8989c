"""Demo tickets with consistent timelines: messages, status changes, tags and numbers.

A ticket's state follows its age (old ones are mostly closed, today's mostly new or open) and
its timestamps never contradict each other: created ≤ first response ≤ resolved ≤ closed ≤ now.
Every ticket is opened and changed through the change pipeline, as of the time each step
happened, by the person who would take it: the demo passes its own forms and leaves the same
history, events and audit rows as real work.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from fuwu.auth.models import User
from fuwu.auth.principal import Principal
from fuwu.config import Settings
from fuwu.demo import catalogue as cat
from fuwu.demo import forms as demo_forms
from fuwu.demo import workflows as demo_workflows
from fuwu.tickets import approvals as ticket_approvals
from fuwu.tickets import messages, pipeline
from fuwu.tickets.models import Ticket
from fuwu.tickets.service import get_ticket
from fuwu.tickets.state import TicketState, state_of
from fuwu.workflows import approvals as workflow_approvals

if TYPE_CHECKING:
    from fuwu.demo.loader import DemoAsset, DemoContact

PORTAL_EVERY = 100
BATCH = 1000
SITE_TYPES = frozenset({"repair", "install", "maintenance"})
# (age limit in hours, weights of new/open/pending/resolved/closed)
STATE_BY_AGE = (
    (4, (55, 35, 4, 6, 0)),
    (24, (30, 35, 13, 22, 0)),
    (72, (10, 26, 16, 36, 12)),
    (240, (1, 9, 9, 31, 50)),
    (10**9, (0, 2, 2, 6, 90)),
)
STATES = ("new", "open", "pending", "resolved", "closed")


@dataclass(frozen=True)
class Person:
    id: int
    name: str
    district: str | None


@dataclass
class World:
    """What tickets are made of: customers with assets, staff by team, team ids."""

    contacts: list[DemoContact]
    staff: list[User]
    team_ids: dict[str, int]
    customer_contact_id: int
    members: dict[str, list[Person]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        by_name = {u.username: u for u in self.staff}
        for username, _name, _role, team_names, district, _phone in cat.STAFF:
            user = by_name[username]
            for team in team_names:
                self.members.setdefault(team, []).append(
                    Person(user.id, user.display_name, district)
                )

    @property
    def supervisor(self) -> Person:
        """Who approves what needs a supervisor's approval (complaints closed)."""
        user = next(u for u in self.staff if u.role == "supervisor")
        return Person(user.id, user.display_name, user.district)


@dataclass(frozen=True)
class Step:
    """One thing that happens to a ticket after it is opened: a change of its fields or a
    message, by a person (staff or the customer) or the system (None)."""

    at: datetime
    actor: Person | DemoContact | None
    values: dict[str, Any] | None = None
    message: tuple[str, str] | None = None  # (reply or note, body)
    intent: str = ""  # the workflow step taken, when the type has a workflow
    decision: tuple[str, str] | None = None  # (approve or reject, comment) on its approval
    on_child: bool = False  # about the ticket's newest child (its spare-parts request)


@dataclass
class Draft:
    """One ticket: what it is opened with, by whom and when, and what happens to it then."""

    values: dict[str, Any]
    created: datetime
    opener: Person | DemoContact | None
    triage: dict[str, Any] = field(default_factory=dict)  # set by the agent who takes it
    steps: list[Step] = field(default_factory=list)


# Ticket type → the custom fields of its demo form.
FORM_FIELDS: dict[str, frozenset[str]] = {
    key: frozenset(f["key"] for f in definition["fields"])
    for key, _zh, _en, _public, definition in demo_forms.TYPES
}
PUBLIC_TYPES = frozenset(key for key, _zh, _en, public, _form in demo_forms.TYPES if public)
# … and those its portal layout offers a customer.
PORTAL_FIELDS: dict[str, frozenset[str]] = {
    key: frozenset(k for section in definition["layouts"]["portal"] for k in section["fields"])
    for key, _zh, _en, _public, definition in demo_forms.TYPES
}
FAULT_TYPES = {"漏水": "leak", "噪音": "noise", "故障码": "error_code"}
COMPLAINTS = {"超时": "delay", "二次上门": "quality", "收费": "billing"}
URGENT_COMPLAINTS = ("attitude", "quality", "billing")  # the form's logic for urgent ones


def _classified(fault: cat.Fault, priority: str) -> dict[str, Any]:
    """The select fields a person would pick for this fault: 故障类型, 投诉类别 (+ amount)."""
    found: dict[str, Any] = {}
    if fault.type_key == "repair":
        found["fault_type"] = next(
            (FAULT_TYPES[t] for t in fault.tags if t in FAULT_TYPES), "other"
        )
    if fault.type_key == "complaint":
        category = next((COMPLAINTS[t] for t in fault.tags if t in COMPLAINTS), "attitude")
        if priority == "urgent" and category not in URGENT_COMPLAINTS:
            category = "attitude"
        found["complaint_category"] = category
        if category == "billing":
            found["claim_amount"] = "200.00"
    return found


def create(
    session: Session,
    rng: random.Random,
    world: World,
    *,
    settings: Settings,
    count: int,
    days: int,
    now: datetime,
) -> int:
    """Open `count` tickets over the last `days` days and play out their timelines, all
    through the change pipeline as the people of the demo would; returns how many."""
    zone = ZoneInfo(settings.timezone)
    # Every PORTAL_EVERY-th ticket is the portal customer's, so customer1 always has some.
    drafts = [
        _draft(rng, world, _created_at(rng, now, days, zone), now, portal=i % PORTAL_EVERY == 7)
        for i in range(count)
    ]
    drafts.sort(key=lambda d: d.created)  # numbers follow the order tickets were opened in
    actors = _Actors(world)
    for draft in drafts:
        _replay(session, draft, actors, settings)
    return len(drafts)


class _Actors:
    """The principal each person of the demo acts as."""

    def __init__(self, world: World) -> None:
        self.customer_user = {u.contact_id: u for u in world.staff if u.contact_id is not None}
        self.system = Principal.system()

    def of(self, who: Person | DemoContact | None) -> Principal:
        if who is None:
            return self.system
        if isinstance(who, Person):  # staff act on the tickets of every team they serve
            return Principal(user_id=who.id, name=who.name, role="agent", ticket_scope="all")
        user = self.customer_user.get(who.id)  # a portal account, or a contact by phone/email
        return Principal(
            user_id=user.id if user else None, name=who.name, role="customer", contact_id=who.id
        )


def _replay(session: Session, draft: Draft, actors: _Actors, settings: Settings) -> None:
    """Open the ticket and take its steps, each as of its own time."""
    where = pipeline.Where(
        timezone=settings.timezone, number_pattern=settings.ticket_number_pattern
    )
    opened = pipeline.apply_change(
        session, actor=actors.of(draft.opener), before=None,
        change=pipeline.Change(draft.values, cause="created"),
        where=replace(where, at=draft.created),
    )  # fmt: skip
    assert opened.row is not None
    state, number = opened.state, opened.row.number
    for step in sorted(draft.steps, key=lambda s: s.at):
        actor = actors.of(step.actor)
        if step.on_child:  # the child's change moves the parent too (备件到货): read it again
            _child_step(session, actor, opened.row.id, step, replace(where, at=step.at))
            state = state_of(get_ticket(session, actor=Principal.system(),
                                        ticket_id=opened.row.id))  # fmt: skip
            continue
        if step.message:
            kind, body = step.message
            channel = draft.values["channel"] if not actor.is_staff else "web"
            messages.add_message(
                session, actor=actor, ticket_id=opened.row.id, kind=kind, channel=channel,
                body=body.replace("{number}", number), timezone=settings.timezone, at=step.at,
            )  # fmt: skip
        if step.values:
            state = pipeline.apply_change(
                session, actor=actor, before=state,
                change=pipeline.Change(step.values, intent=step.intent),
                where=replace(where, at=step.at),
            ).state  # fmt: skip
        if step.decision:
            state = _decide(session, actor, opened.row.id, step.decision,
                            replace(where, at=step.at))  # fmt: skip


def _child_step(
    session: Session, actor: Principal, parent_id: int, step: Step, where: pipeline.Where
) -> None:
    """A step or decision on the newest ticket opened under `parent_id`."""
    child_id = session.scalar(
        select(Ticket.id).where(Ticket.parent_id == parent_id).order_by(Ticket.id.desc())
    )  # fmt: skip
    assert child_id is not None, "a child step follows the step that opened the child"
    if step.decision:
        _decide(session, actor, child_id, step.decision, where)
        return
    child = get_ticket(session, actor=Principal.system(), ticket_id=child_id)
    change = pipeline.Change(step.values or {}, intent=step.intent)
    pipeline.apply_change(session, actor=actor, before=state_of(child), where=where, change=change)


def _decide(
    session: Session,
    actor: Principal,
    ticket_id: int,
    decision: tuple[str, str],
    where: pipeline.Where,
) -> TicketState:
    """The approver's decision on the ticket's open approval; the ticket as it is after."""
    round_ = workflow_approvals.open_round(session, ticket_id)
    assert round_ is not None, "a demo decision follows a step into an approval state"
    outcome, comment = decision
    ticket_approvals.decide(session, actor=actor, approval_id=round_.id,
                            approve=outcome == "approve", comment=comment, where=where)  # fmt: skip
    return state_of(get_ticket(session, actor=Principal.system(), ticket_id=ticket_id))


def _created_at(rng: random.Random, now: datetime, days: int, zone: ZoneInfo) -> datetime:
    """Mostly business hours, fewer at weekends, never in the future."""
    local_now = now.astimezone(zone)
    while True:
        day = local_now.date() - timedelta(days=rng.randrange(max(days, 1)))
        if day.weekday() >= 5 and rng.random() < 0.4:
            continue
        hour = rng.choices(range(7, 23), weights=(2, 6, 9, 10, 9, 7, 8, 9, 9, 8, 7, 5, 4, 3, 2, 1))[
            0
        ]
        local = datetime(
            day.year, day.month, day.day, hour, rng.randrange(60), rng.randrange(60), tzinfo=zone
        )
        if local < local_now - timedelta(minutes=3):
            return local.astimezone(now.tzinfo)


def _state(rng: random.Random, age: timedelta) -> str:
    hours = age.total_seconds() / 3600
    weights = next(w for limit, w in STATE_BY_AGE if hours < limit)
    return rng.choices(STATES, weights=weights)[0]


def _pick(
    rng: random.Random, world: World, portal: bool
) -> tuple[DemoContact, DemoAsset, cat.Fault]:
    if portal:
        contact = next(c for c in world.contacts if c.id == world.customer_contact_id)
    elif rng.random() < 0.25:  # organisations call more often than households
        contact = rng.choice([c for c in world.contacts if c.organisation_id])
    else:
        contact = rng.choice(world.contacts)
    asset = rng.choice(contact.assets)
    faults = [f for f in cat.FAULTS if f.product in (None, asset.product)]
    if portal:  # a customer can open only the types the portal offers
        faults = [f for f in faults if f.type_key in PUBLIC_TYPES]
    fault = rng.choices(faults, weights=[f.weight for f in faults])[0]
    return contact, asset, fault


def _draft(
    rng: random.Random, world: World, created: datetime, now: datetime, *, portal: bool
) -> Draft:
    contact, asset, fault = _pick(rng, world, portal)
    state = _state(rng, now - created)
    district = contact.district
    site = fault.type_key in SITE_TYPES
    team = district.station if site else district.desk
    crew = world.members[team]
    local = [p for p in crew if p.district == district.name]
    handler = rng.choice(local if local and rng.random() < 0.7 else crew)
    desk_agent = rng.choice([p for p in world.members[district.desk] if p.district is None])
    channel = rng.choices([c for c, _ in cat.CHANNEL_WEIGHTS], [w for _, w in cat.CHANNEL_WEIGHTS])[
        0
    ]
    if channel == "iot" and fault.type_key != "repair":
        channel = "phone"
    if contact.id == world.customer_contact_id:
        channel = "portal"
    elif channel == "portal":  # only customer1 has a portal account
        channel = "web"
    in_warranty = asset.warranty_until >= created.date()
    priority = fault.priority
    if contact.vip_level >= 2 and priority in ("low", "normal"):
        priority = "high"
    fill = {
        "product": asset.product,
        "model": asset.model,
        "serial": asset.serial,
        "address": contact.address,
        "warranty": asset.warranty_until.isoformat(),
        "team": team,
        "engineer": handler.name,
        "diagnosis": fault.diagnosis or "已核实处理",
        "coverage": "保内，免费维修" if in_warranty else "已过保，需收取上门费和配件费",
        "part": rng.choice(next(p.parts for p in cat.PRODUCTS if p.name == asset.product)),
        "when": rng.choice(("明天上午", "今天下午", "后天上午", "周六上午")),
        "number": "{number}",  # known only once all tickets are sorted; see _number
    }
    tags = [*fault.tags, asset.product, "保内" if in_warranty else "保外"]
    if contact.vip_level >= 2:
        tags.append("VIP")
    known: dict[str, Any] = {
        "product": asset.product,
        "model": asset.model,
        "serial_number": asset.serial,
        "asset_id": asset.id,
        "in_warranty": in_warranty,
        "district": district.name,
        **_classified(fault, priority),
    }
    codes = [t for t in fault.tags if t[:1] in "EH" and t[1:].isdigit()]
    if codes:
        known["error_code"] = codes[0]
    # Only what the type's published form has: the demo must pass its own forms.
    custom = {k: v for k, v in known.items() if k in FORM_FIELDS.get(fault.type_key, ())}
    values: dict[str, Any] = {
        "subject": fault.subject if fault.product else f"{fault.subject}（{asset.product}）",
        "description": fault.description.format(**fill),
        "type": fault.type_key,
        "priority": priority,
        "channel": channel,
        "customer": contact.id,
        "tags": list(dict.fromkeys(tags)),
        **custom,
    }
    triage: dict[str, Any] = {}  # what the agent who takes the ticket adds
    if contact.id == world.customer_contact_id:  # on the portal: only what it offers
        opener: Person | DemoContact | None = contact
        offered = PORTAL_FIELDS.get(fault.type_key, frozenset())
        triage = {k: v for k, v in custom.items() if k not in offered}
        triage["tags"] = values.pop("tags")
        values = {k: v for k, v in values.items() if k not in triage}
    else:
        opener = desk_agent if channel in ("phone", "wecom", "chat") else None  # the channel
    draft = Draft(values=values, created=created, opener=opener, triage=triage)
    _timeline(rng, draft, state, now, contact, handler, desk_agent, world.team_ids[team], fill,
              world.supervisor)  # fmt: skip
    return draft


def _steps(rng: random.Random, created: datetime, now: datetime) -> list[datetime]:
    """Six increasing instants between creation and now (assign … close), scaled to fit."""
    nominal = [
        rng.uniform(2, 90),  # routed and assigned
        rng.uniform(1, 120),  # first reply
        rng.uniform(10, 600),  # a note or the customer writes back
        rng.uniform(240, 4320),  # on site / fixed
        rng.uniform(10, 90),  # resolved
        rng.uniform(1440, 7200),  # closed after the customer confirmed or nobody objected
    ]
    room = (now - created).total_seconds() / 60 - 1
    scale = min(1.0, room / sum(nominal))
    at, out = created, []
    for minutes in nominal:
        at += timedelta(minutes=minutes * scale)
        out.append(at)
    return out


def _timeline(
    rng: random.Random,
    draft: Draft,
    state: str,
    now: datetime,
    contact: DemoContact,
    handler: Person,
    agent: Person,
    team_id: int,
    fill: dict[str, str],
    supervisor: Person,
) -> None:
    """What happens to the ticket until it reaches `state`: routed and assigned, answered,
    followed up, fixed on site, resolved, closed, each by the one who would do it."""
    created, steps = draft.created, draft.steps
    if state == "new":
        if rng.random() < 0.5:  # routed, nobody has taken it yet
            steps.append(Step(created + timedelta(minutes=1), agent, {"team": team_id}))
        if (now - created) > timedelta(hours=2) and rng.random() < 0.4:
            followup = rng.choice(cat.CUSTOMER_FOLLOWUPS)
            steps.append(Step(created + (now - created) / 2, contact, message=("reply", followup)))
        return
    assign, reply, middle, fixed, resolved, closed = _steps(rng, created, now)
    steps.append(Step(assign, agent, {"team": team_id, "assignee": handler.id, **draft.triage}))
    kind = draft.values["type"]
    templates = (
        cat.COMPLAINT_REPLIES
        if kind == "complaint"
        else cat.CONSULT_REPLIES
        if kind == "consult"
        else cat.ACK_REPLIES
    )
    steps.append(Step(reply, agent, message=("reply", rng.choice(templates).format(**fill))))
    if kind in SITE_TYPES and rng.random() < 0.7:
        note = rng.choice(cat.NOTES).format(**fill)
        steps.append(Step(reply + (middle - reply) / 3, agent, message=("note", note)))
    if rng.random() < 0.45:
        steps.append(Step(middle, contact, message=("reply", rng.choice(cat.CUSTOMER_FOLLOWUPS))))
    if kind == "complaint":
        _complaint_steps(rng, draft, state, handler, agent, supervisor, fill,
                         (middle, fixed, resolved, closed))  # fmt: skip
        return
    if kind in demo_workflows.WORKFLOWS:
        _workflow_steps(rng, draft, state, handler, agent, contact, fill,
                        (middle, fixed, resolved, closed), supervisor)  # fmt: skip
        return
    if state == "pending":
        waiting = middle + (fixed - middle) / 4
        note = rng.choice(cat.PENDING_NOTES).format(**fill)
        steps.append(Step(waiting, handler, {"status": "pending"}, ("note", note)))
    if state in ("open", "pending"):
        return
    if kind in SITE_TYPES:
        note = rng.choice(cat.ENGINEER_NOTES).format(**fill)
        steps.append(Step(fixed, handler, message=("note", note)))
    if state == "closed" and rng.random() < 0.5:  # the customer confirms before it is resolved
        thanks = rng.choice(cat.CUSTOMER_THANKS)
        steps.append(Step(fixed + (resolved - fixed) / 2, contact, message=("reply", thanks)))
    answer = rng.choice(cat.RESOLVE_REPLIES).format(**fill)
    resolver = handler if kind in SITE_TYPES else agent
    steps.append(Step(resolved, agent, message=("reply", answer)))
    steps.append(Step(resolved + timedelta(seconds=1), resolver, {"status": "resolved"}))
    if state == "closed":  # after the customer confirmed, or nobody objected
        steps.append(Step(closed, None, {"status": "closed"}))


# How far along the repair loop (demo_workflows.REPAIR_PATH) a ticket in each demo state is.
_REPAIR_STEPS = {"open": (0, 2), "pending": (3, 3), "resolved": (4, 4), "closed": (5, 5)}


_REJECTIONS = ("请补充与客户的通话记录后再申请结案。", "赔偿方案客户是否确认？请先确认再结案。",
               "请核实师傅的上门时间记录。")  # fmt: skip
_APPROVALS = ("同意结案。", "处理合理，同意。", "")


def _complaint_steps(
    rng: random.Random,
    draft: Draft,
    state: str,
    handler: Person,
    agent: Person,
    supervisor: Person,
    fill: dict[str, str],
    times: tuple[datetime, datetime, datetime, datetime],
) -> None:
    """A complaint after it is taken on: the handler asks to close it, the supervisor
    approves (sometimes only the second time, after sending it back), the desk closes it after
    the call-back. Waiting ones sit in 待审批 in the supervisor's approvals."""
    middle, fixed, resolved, closed = times
    # The supervisor's own request would approve itself ("skip"): someone else asks.
    asker = next((p for p in (handler, agent) if p.id != supervisor.id), None)
    if state == "open" or asker is None:
        return
    propose = Step(fixed, asker, {"status": "review"}, intent="propose_close")
    if state == "pending":
        draft.steps.append(propose)
        return
    if rng.random() < 0.3:  # sent back once, then asked again
        draft.steps.append(Step(middle + (fixed - middle) / 3, asker, {"status": "review"},
                                intent="propose_close"))  # fmt: skip
        draft.steps.append(Step(middle + (fixed - middle) / 2, supervisor,
                                decision=("reject", rng.choice(_REJECTIONS))))  # fmt: skip
    draft.steps.append(propose)
    answer = rng.choice(cat.RESOLVE_REPLIES).format(**fill)
    draft.steps.append(Step(resolved, agent, message=("reply", answer)))
    draft.steps.append(Step(resolved + timedelta(seconds=1), supervisor,
                            decision=("approve", rng.choice(_APPROVALS))))  # fmt: skip
    if state == "closed":
        draft.steps.append(Step(closed, agent, {"status": "done"}, intent="close"))


def _workflow_steps(
    rng: random.Random,
    draft: Draft,
    state: str,
    handler: Person,
    agent: Person,
    contact: DemoContact,
    fill: dict[str, str],
    times: tuple[datetime, datetime, datetime, datetime],
    supervisor: Person,
) -> None:
    """A repair after dispatch: the engineer sets off, starts and finishes on site (some order
    a part on the way: `_parts_steps`), the customer (or the desk after a call) accepts, the
    desk closes after the call-back; each step taken by the one its workflow names, as far as
    the ticket's demo state goes."""
    middle, fixed, resolved, closed = times
    low, high = _REPAIR_STEPS[state]
    taken = demo_workflows.REPAIR_PATH[: rng.randint(low, high)]
    waits_for_part = state == "pending" and handler.id != supervisor.id and rng.random() < 0.5
    if waits_for_part:  # 等备件 (pending too): on site, a part ordered, not yet approved
        taken = demo_workflows.REPAIR_PATH[:2]
    at = {"depart": middle + (fixed - middle) / 5, "start": middle + (fixed - middle) / 2,
          "finish": fixed, "accept": resolved + timedelta(seconds=1), "close": closed}  # fmt: skip
    for key, to in taken:
        who: Person | DemoContact = handler
        if key == "finish":
            note = rng.choice(cat.ENGINEER_NOTES).format(**fill)
            draft.steps.append(Step(fixed - timedelta(seconds=1), handler, message=("note", note)))
        elif key == "accept":
            answer = rng.choice(cat.RESOLVE_REPLIES).format(**fill)
            draft.steps.append(Step(resolved, agent, message=("reply", answer)))
            who = contact if rng.random() < 0.5 else agent
        elif key == "close":
            who = agent
        draft.steps.append(Step(at[key], who, {"status": to}, intent=key))
    keys = [key for key, _ in taken]
    finished = "finish" in keys
    # Most repairs stuck on site wait for a part (the manager's approvals fill up); some
    # finished ones needed a part on the way.
    if waits_for_part or (
        "start" in keys
        and handler.id != supervisor.id
        and rng.random() < (0.3 if finished else 0.7)
    ):
        _parts_steps(rng, draft, handler, agent, supervisor, at["start"], fixed, finished)


_PARTS = (("YS-1001", "压缩机启动电容"), ("BX-2031", "温控器"), ("XY-3310", "排水泵"),
          ("RS-0412", "点火针"), ("KT-5520", "四通阀"))  # fmt: skip


def _parts_steps(
    rng: random.Random,
    draft: Draft,
    handler: Person,
    agent: Person,
    supervisor: Person,
    start: datetime,
    fixed: datetime,
    done: bool,
) -> None:
    """The engineer orders a part (a 备件申请 opens under the repair); the branch manager
    approves it, the desk ships it, the engineer signs for it and the repair goes on. Not
    `done`: it still waits for the manager's approval."""
    span = fixed - start
    part_no, _name = rng.choice(_PARTS)
    draft.steps.append(Step(start + span * 0.1, handler, {
        "status": "waiting_parts", "part_no": part_no, "part_qty": rng.randint(1, 2)},
        intent="order_parts"))  # fmt: skip
    if not done:
        return
    draft.steps.append(Step(start + span * 0.3, supervisor, decision=("approve", "同意领用。"),
                            on_child=True))  # fmt: skip
    draft.steps.append(Step(start + span * 0.5, agent, {"status": "parts_shipped"},
                            intent="ship", on_child=True))  # fmt: skip
    draft.steps.append(Step(start + span * 0.7, handler, {"status": "parts_received"},
                            intent="receive", on_child=True))  # fmt: skip
