"""Load the demo company (家电售后, Beijing and Shanghai) into an empty database.

Users and teams go through the auth services (hashing, audit); contacts and assets are
inserted in batches; tickets and their timelines go through the change pipeline
(`demo.tickets`), so the demo is held to its own forms.
Everything is drawn from one seeded random generator, so two loads give the same data.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from fuwu.auth import passwords
from fuwu.auth import service as auth_service
from fuwu.auth.models import Team, User
from fuwu.auth.principal import Principal
from fuwu.auth.schemas import TeamCreate, UserCreate
from fuwu.config import Settings
from fuwu.customers.models import Asset, Contact, ContactIdentity, Organisation
from fuwu.demo import catalogue as cat
from fuwu.demo import forms as demo_forms
from fuwu.demo import tickets as demo_tickets
from fuwu.demo import workflows as demo_workflows
from fuwu.kit.contact_points import normalise_phone
from fuwu.kit.time import utcnow
from fuwu.tickets.models import Ticket

SEED = 2026
CONTACT_TIMES = [c["key"] for c in demo_forms.CONTACT_TIMES]
BOUGHT_VIA = [c["key"] for c in demo_forms.PURCHASE_CHANNELS]
DEFAULT_CONTACTS = 300


@dataclass
class DemoAsset:
    id: int
    product: str
    model: str
    serial: str
    warranty_until: date


@dataclass
class DemoContact:
    id: int
    name: str
    district: cat.District
    address: str
    organisation_id: int | None
    vip_level: int
    assets: list[DemoAsset] = field(default_factory=list)


def is_empty(session: Session) -> bool:
    """True when there are no users, teams, contacts or tickets yet."""
    return all(
        session.scalar(select(model.id).limit(1)) is None for model in (User, Team, Contact, Ticket)
    )


def load(
    session: Session,
    *,
    settings: Settings,
    tickets: int = 2000,
    days: int = 90,
    now: datetime | None = None,
) -> str:
    """Create the demo company with `tickets` tickets over `days` days; return how to sign in."""
    rng = random.Random(SEED)
    now = now or utcnow()
    since = now - timedelta(days=days + 30)
    actor = Principal.system()
    demo_forms.load(session, timezone=settings.timezone)
    demo_workflows.load(session)
    teams = _create_teams(session, actor)
    orgs = _create_organisations(session, since)
    contacts = _create_contacts(session, rng, orgs, since, DEFAULT_CONTACTS)
    _create_assets(session, rng, contacts, now)
    staff = _create_staff(session, actor, teams, contacts[0], since)
    world = demo_tickets.World(
        contacts=contacts,
        staff=staff,
        team_ids={name: team.id for name, team in teams.items()},
        customer_contact_id=contacts[0].id,
    )
    count = demo_tickets.create(
        session, rng, world, settings=settings, count=tickets, days=days, now=now
    )
    return _summary(settings, len(orgs), len(contacts), count, contacts[0].name)


def _create_teams(session: Session, actor: Principal) -> dict[str, Team]:
    teams: dict[str, Team] = {}
    for name in (*cat.DESKS, *cat.STATIONS):
        data = TeamCreate(name=name, description=cat.TEAM_DESCRIPTIONS[name])
        teams[name] = auth_service.create_team(session, actor=actor, data=data)
    return teams


def _create_organisations(session: Session, since: datetime) -> list[tuple[int, int, int]]:
    """(id, district index, vip level) of each organisation."""
    rows = []
    for i, (name, kind, district_ix, vip) in enumerate(cat.ORGANISATIONS):
        district = cat.DISTRICTS[district_ix]
        rows.append(
            {
                "name": name,
                "vip_level": vip,
                "phone": f"0{10 if district.city == '北京市' else 21}-{6500_0000 + i * 1373}",
                "address": f"{district.city}{district.name}{district.streets[0]}{100 + i * 7}号",
                "notes": f"{kind}客户，设备集中，多台空调与热水器",
                "tags": [kind],
                "custom": {
                    "contract_no": f"FW-{since.year}-{i + 1:03d}",
                    "contract_until": date(since.year + 1 + i % 2, 1 + i % 12, 1).isoformat(),
                },
                "created_at": since,
                "updated_at": since,
            }
        )
    ids = session.scalars(
        insert(Organisation).returning(Organisation.id, sort_by_parameter_order=True), rows
    ).all()
    return [(oid, spec[2], spec[3]) for oid, spec in zip(ids, cat.ORGANISATIONS, strict=True)]


def _person_name(rng: random.Random) -> str:
    return rng.choice(cat.SURNAMES) + rng.choice(cat.GIVEN_NAMES)


def _mobile(rng: random.Random, taken: set[str]) -> str:
    while True:
        number = rng.choice(cat.MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"
        e164 = normalise_phone(number)
        if e164 is not None and e164 not in taken:
            taken.add(e164)
            return e164


def _address(rng: random.Random, district: cat.District) -> str:
    street = rng.choice(district.streets)
    community = rng.choice(cat.COMMUNITIES)
    building, unit, room = (
        rng.randint(1, 30),
        rng.randint(1, 6),
        rng.randint(1, 28) * 100 + rng.randint(1, 4),
    )
    return f"{district.city}{district.name}{street}{community}{building}号楼{unit}单元{room}室"


def _create_contacts(
    session: Session,
    rng: random.Random,
    orgs: list[tuple[int, int, int]],
    since: datetime,
    count: int,
) -> list[DemoContact]:
    """Households and people at organisations, each with a phone and most with an email."""
    taken: set[str] = set()
    specs: list[DemoContact] = []
    rows = []
    for i in range(count):
        org = orgs[i % len(orgs)] if i % 5 == 4 else None  # every fifth works at an organisation
        district = cat.DISTRICTS[org[1]] if org else rng.choice(cat.DISTRICTS)
        name = "王丽" if i == 0 else _person_name(rng)
        vip = org[2] if org else rng.choices((0, 1, 2), weights=(85, 12, 3))[0]
        phone = _mobile(rng, taken)
        email = f"customer{i + 1}@example.com" if i == 0 or rng.random() < 0.6 else None
        if email is None and rng.random() < 0.5:
            email = f"user{i + 1:04d}@example.net"
        address = _address(rng, district)
        specs.append(DemoContact(0, name, district, address, org[0] if org else None, vip))
        rows.append(
            {
                "name": name,
                "email": email,
                "phone": phone,
                "organisation_id": org[0] if org else None,
                "vip_level": vip,
                "province": district.province,
                "city": district.city,
                "district": district.name,
                "address": address,
                "notes": "",
                "tags": ["VIP"] if vip >= 2 else [],
                "custom": {"contact_time": rng.choice(CONTACT_TIMES)} if i % 3 else {},
                "created_at": since + timedelta(minutes=i),
                "updated_at": since + timedelta(minutes=i),
            }
        )
    ids = session.scalars(
        insert(Contact).returning(Contact.id, sort_by_parameter_order=True), rows
    ).all()
    identities = []
    for contact_id, spec, row in zip(ids, specs, rows, strict=True):
        spec.id = contact_id
        identities.append({"contact_id": contact_id, "kind": "phone", "value": row["phone"]})
        if row["email"]:
            identities.append({"contact_id": contact_id, "kind": "email", "value": row["email"]})
    session.execute(insert(ContactIdentity), identities)
    return specs


def _create_assets(
    session: Session, rng: random.Random, contacts: list[DemoContact], now: datetime
) -> None:
    """One to three appliances per household, more at organisations."""
    rows = []
    specs: list[tuple[DemoContact, DemoAsset]] = []
    serial_no = 0
    for contact in contacts:
        count = (
            rng.randint(3, 6) if contact.organisation_id else rng.choices((1, 2, 3), (5, 3, 2))[0]
        )
        for _ in range(count):
            product = rng.choices(cat.PRODUCTS, weights=(6, 2, 2, 2))[0]
            installed = (now - timedelta(days=rng.randint(20, 8 * 365))).date()
            warranty = installed.replace(
                year=installed.year + product.warranty_years, day=min(installed.day, 28)
            )
            serial_no += 1
            serial = f"{product.code}{installed:%y%m}{rng.randrange(10**6):06d}{serial_no:04d}"
            asset = DemoAsset(0, product.name, rng.choice(product.models), serial, warranty)
            specs.append((contact, asset))
            rows.append(
                {
                    "serial_number": serial,
                    "product": product.name,
                    "model": asset.model,
                    "contact_id": contact.id,
                    "organisation_id": contact.organisation_id,
                    "install_date": installed,
                    "warranty_until": warranty,
                    "address": contact.address,
                    "custom": {"bought_via": BOUGHT_VIA[serial_no % len(BOUGHT_VIA)]},
                    "created_at": now - timedelta(days=120),
                }
            )
    ids = session.scalars(
        insert(Asset).returning(Asset.id, sort_by_parameter_order=True), rows
    ).all()
    for asset_id, (contact, asset) in zip(ids, specs, strict=True):
        asset.id = asset_id
        contact.assets.append(asset)


def _create_staff(
    session: Session,
    actor: Principal,
    teams: dict[str, Team],
    customer: DemoContact,
    since: datetime,
) -> list[User]:
    """admin, the staff of the catalogue and the portal customer, all with the demo password."""
    shared_hash = passwords.hash_password(
        cat.DEMO_PASSWORD
    )  # hashed once: argon2 is slow on purpose
    specs: list[UserCreate] = [
        UserCreate(
            username="admin",
            display_name="系统管理员",
            email="admin@fuwu-demo.example.com",
            role="admin",
            locale="zh_CN",
        )
    ]
    for username, name, role, team_names, district, phone in cat.STAFF:
        specs.append(
            UserCreate(
                username=username,
                display_name=name,
                email=f"{username}@fuwu-demo.example.com",
                role=role,
                phone=normalise_phone(phone),
                district=district,
                locale="zh_CN",
                team_ids=[teams[t].id for t in team_names],
            )
        )
    specs.append(
        UserCreate(
            username="customer1",
            display_name=customer.name,
            email="customer1@example.com",
            role="customer",
            contact_id=customer.id,
            locale="zh_CN",
        )
    )
    users = []
    for data in specs:
        user = auth_service.create_user(session, actor=actor, data=data)
        user.password_hash = shared_hash
        user.created_at = since
        users.append(user)
    session.flush()
    return users


def _summary(settings: Settings, orgs: int, contacts: int, tickets: int, customer: str) -> str:
    staff = ", ".join(s[0] for s in cat.STAFF)
    return "\n".join(
        (
            f"demo company loaded: {cat.COMPANY}",
            f"  {len(cat.DESKS) + len(cat.STATIONS)} teams, {len(cat.STAFF) + 1} staff, "
            f"{orgs} organisations, {contacts} contacts, {tickets} tickets",
            "",
            f"sign in at {settings.base_url.rstrip('/')}/login "
            f"with the password {cat.DEMO_PASSWORD}:",
            "  admin        系统管理员 (administrator)",
            "  supervisor1  主管 (sees every ticket)",
            "  agent1 … agent6       客服 (客服一组 Beijing, 客服二组 Shanghai)",
            "  engineer1 … engineer8 工程师 (朝阳/海淀/浦东/徐汇服务站)",
            f"  customer1    portal customer ({customer})",
            f"  (all staff: {staff})",
        )
    )
