"""Demo tickets with consistent timelines: messages, status events, tags and numbers.

A ticket's state follows its age (old ones are mostly closed, today's mostly new or open) and
its timestamps never contradict each other: created ≤ first response ≤ resolved ≤ closed ≤ now.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert
from sqlalchemy.orm import Session

from fuwu.auth.models import User
from fuwu.config import Settings
from fuwu.demo import catalogue as cat
from fuwu.demo import forms as demo_forms
from fuwu.tickets import numbering
from fuwu.tickets.models import Message, Ticket, TicketCounter, TicketEvent, TicketTag
from fuwu.tickets.statuses import OPEN_CATEGORIES, PRIORITIES

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


@dataclass
class Draft:
    """One ticket with its timeline, before ids are known."""

    row: dict[str, Any]
    messages: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)


# Ticket type → the custom fields of its demo form.
FORM_FIELDS: dict[str, frozenset[str]] = {
    key: frozenset(f["key"] for f in definition["fields"])
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
    """Insert `count` tickets created over the last `days` days; returns how many."""
    zone = ZoneInfo(settings.timezone)
    # Every PORTAL_EVERY-th ticket is the portal customer's, so customer1 always has some.
    drafts = [
        _draft(rng, world, _created_at(rng, now, days, zone), now, portal=i % PORTAL_EVERY == 7)
        for i in range(count)
    ]
    drafts.sort(key=lambda d: d.row["created_at"])
    counters = _number(drafts, settings.ticket_number_pattern, zone)
    for start in range(0, len(drafts), BATCH):
        _insert(session, drafts[start : start + BATCH])
    if counters:
        session.execute(
            insert(TicketCounter), [{"key": k, "value": v} for k, v in counters.items()]
        )
    return len(drafts)


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
    row: dict[str, Any] = {
        "subject": fault.subject if fault.product else f"{fault.subject}（{asset.product}）",
        "description": fault.description.format(**fill),
        "type_key": fault.type_key,
        "priority": priority,
        "priority_rank": PRIORITIES[priority],
        "channel": channel,
        "customer_id": contact.id,
        "organisation_id": contact.organisation_id,
        "created_by_id": desk_agent.id if channel in ("phone", "wecom", "chat") else None,
        "custom": custom,
        "form_version": 1,
        "tags": list(dict.fromkeys(tags)),
        "created_at": created,
        "version": 1,
        "team_id": None,
        "assignee_id": None,
        "first_response_at": None,
        "resolved_at": None,
        "closed_at": None,
    }
    draft = Draft(row=row)
    author = desk_agent if row["created_by_id"] else None
    _timeline(
        rng, draft, state, now, contact, handler, desk_agent, world.team_ids[team], fill, author
    )
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


def _message(
    draft: Draft,
    at: datetime,
    kind: str,
    body: str,
    *,
    user: Person | None = None,
    contact: DemoContact | None = None,
) -> None:
    draft.messages.append(
        {
            "kind": kind,
            "author_user_id": user.id if user else None,
            "author_contact_id": contact.id if contact else None,
            "author_name": user.name if user else (contact.name if contact else ""),
            "from_customer": contact is not None,
            "channel": draft.row["channel"] if contact else "web",
            "body": body,
            "created_at": at,
        }
    )


def _event(
    draft: Draft, at: datetime, kind: str, changes: dict[str, Any], actor: Person | None
) -> None:
    draft.events.append(
        {
            "actor_id": actor.id if actor else None,
            "actor_name": actor.name if actor else "system",
            "kind": kind,
            "changes": changes,
            "created_at": at,
        }
    )


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
    author: Person | None,
) -> None:
    row = draft.row
    created = row["created_at"]
    _event(draft, created, "created", {"channel": row["channel"], "status": "new"}, author)
    if state == "new":
        if rng.random() < 0.5:
            row["team_id"] = team_id
        if (now - created) > timedelta(hours=2) and rng.random() < 0.4:
            _message(
                draft,
                created + (now - created) / 2,
                "reply",
                rng.choice(cat.CUSTOMER_FOLLOWUPS),
                contact=contact,
            )
        _finish(draft, "new")
        return
    assign, reply, middle, fixed, resolved, closed = _steps(rng, created, now)
    row["team_id"], row["assignee_id"] = team_id, handler.id
    _event(
        draft,
        assign,
        "updated",
        {"team_id": [None, team_id], "assignee_id": [None, handler.id], "status": ["new", "open"]},
        agent,
    )
    kind = row["type_key"]
    templates = (
        cat.COMPLAINT_REPLIES
        if kind == "complaint"
        else cat.CONSULT_REPLIES
        if kind == "consult"
        else cat.ACK_REPLIES
    )
    _message(draft, reply, "reply", rng.choice(templates).format(**fill), user=agent)
    row["first_response_at"] = reply
    if kind in SITE_TYPES and rng.random() < 0.7:
        _message(
            draft,
            reply + (middle - reply) / 3,
            "note",
            rng.choice(cat.NOTES).format(**fill),
            user=agent,
        )
    if rng.random() < 0.45:
        _message(draft, middle, "reply", rng.choice(cat.CUSTOMER_FOLLOWUPS), contact=contact)
    if state == "pending":
        _message(
            draft,
            middle + (fixed - middle) / 4,
            "note",
            rng.choice(cat.PENDING_NOTES).format(**fill),
            user=handler,
        )
        _event(
            draft,
            middle + (fixed - middle) / 4,
            "updated",
            {"status": ["open", "pending"]},
            handler,
        )
    if state in ("new", "open", "pending"):
        _finish(draft, state)
        return
    if kind in SITE_TYPES:
        _message(draft, fixed, "note", rng.choice(cat.ENGINEER_NOTES).format(**fill), user=handler)
    _message(draft, resolved, "reply", rng.choice(cat.RESOLVE_REPLIES).format(**fill), user=agent)
    _event(
        draft,
        resolved,
        "updated",
        {"status": ["open", "resolved"]},
        handler if kind in SITE_TYPES else agent,
    )
    row["resolved_at"] = resolved
    if state == "closed":
        if rng.random() < 0.5:
            _message(
                draft,
                resolved + (closed - resolved) / 5,
                "reply",
                rng.choice(cat.CUSTOMER_THANKS),
                contact=contact,
            )
        _event(draft, closed, "updated", {"status": ["resolved", "closed"]}, None)
        row["closed_at"] = closed
    _finish(draft, state)


def _finish(draft: Draft, state: str) -> None:
    row = draft.row
    row["status"] = row["status_category"] = state
    row["is_open"] = state in OPEN_CATEGORIES
    times = [
        row["created_at"],
        *(m["created_at"] for m in draft.messages),
        *(e["created_at"] for e in draft.events),
    ]
    row["updated_at"] = max(times)


def _number(drafts: list[Draft], pattern: str, zone: ZoneInfo) -> dict[str, int]:
    """Number tickets in creation order, per date prefix; returns the counters to store."""
    counters: dict[str, int] = {}
    for draft in drafts:
        local = draft.row["created_at"].astimezone(zone)
        key = numbering.render(pattern, local, None)
        counters[key] = counters.get(key, 0) + 1
        number = numbering.render(pattern, local, counters[key])
        draft.row["number"] = number
        for message in draft.messages:
            message["body"] = message["body"].replace("{number}", number)
    return counters


def _insert(session: Session, drafts: list[Draft]) -> None:
    ids = session.scalars(
        insert(Ticket).returning(Ticket.id, sort_by_parameter_order=True), [d.row for d in drafts]
    ).all()
    messages: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    tags: list[dict[str, Any]] = []
    for ticket_id, draft in zip(ids, drafts, strict=True):
        messages.extend({**m, "ticket_id": ticket_id} for m in draft.messages)
        events.extend({**e, "ticket_id": ticket_id} for e in draft.events)
        tags.extend({"ticket_id": ticket_id, "tag": t} for t in draft.row["tags"])
    for model, rows in ((Message, messages), (TicketEvent, events), (TicketTag, tags)):
        if rows:
            session.execute(insert(model), rows)
