"""The public web form (网页表单): anonymous customers open a ticket of a public type.

Spam is held off by a rate limit per address (rows in `login_attempt` keyed `webform:<ip>`),
a honeypot input and a signed form token; the customer follows the ticket through a signed
status link, without an account. Only the fields laid out on the type's `web_form` surface
are accepted (the form engine ignores the rest, so a crafted agent-only field is dropped).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from fuwu.auth.models import LoginAttempt
from fuwu.auth.principal import Principal
from fuwu.errors import FieldError, NotFound, RateLimited, ValidationFailed
from fuwu.fields.forms.compile import Form
from fuwu.kit.contact_points import normalise_email, normalise_phone
from fuwu.kit.storage import LocalStore
from fuwu.kit.time import utcnow
from fuwu.tickets import custom as custom_fields
from fuwu.tickets import messages as messages_service
from fuwu.tickets import service as tickets_service
from fuwu.tickets import status_links
from fuwu.tickets.models import Message, Ticket
from fuwu.tickets.schemas import TicketCreate
from fuwu.tickets.types import service as ticket_types
from fuwu.tickets.types.models import TicketType
from fuwu.tickets.uploads import FileRules, Upload, image_keys, stage, upload_errors
from fuwu.web.errors import from_pydantic

log = logging.getLogger("fuwu.webform")

SURFACE = "web_form"
HONEYPOTS = ("website", "homepage")  # the first that is not one of the form's own keys
# Until FUWU_WEBFORM_RATE_LIMIT exists: accepted submissions per address and window.
RATE_LIMIT = 5
RATE_WINDOW = timedelta(minutes=10)
MAX_FILES = 5
FORM_TOKEN_MAX_AGE = timedelta(hours=12)
# System fields a customer may fill when the type's web_form layout has them.
SYSTEM_INPUTS = ("subject", "description", "customer", "priority")


@dataclass(frozen=True)
class Submission:
    """What an anonymous customer posted, already split into system and custom values."""

    subject: str = ""
    description: str = ""
    priority: str = ""
    name: str = ""
    email: str = ""
    phone: str = ""
    custom: Mapping[str, Any] = field(default_factory=dict)
    uploads: Sequence[Upload] = ()
    honeypot: str = ""


@dataclass(frozen=True)
class Policy:
    """The limits a submission must keep (from settings, until they all have one)."""

    number_pattern: str
    timezone: str
    max_bytes: int
    blocked_extensions: Sequence[str]
    max_files: int = MAX_FILES
    rate_limit: int = RATE_LIMIT
    rate_window: timedelta = RATE_WINDOW

    @property
    def files(self) -> FileRules:
        return FileRules(self.max_bytes, self.blocked_extensions, self.max_files)


@dataclass(frozen=True)
class StatusView:
    """What the status link shows: the ticket and its public replies, never internal notes."""

    ticket: Ticket
    replies: list[Message]


# ---------------------------------------------------------------- types and forms


def public_type(session: Session, key: str) -> TicketType:
    """An active type with a public form; NotFound for anything else (no hint why)."""
    try:
        found = ticket_types.get_type(session, key)
    except NotFound:
        raise NotFound("This form does not exist.") from None
    if not found.active or not found.public:
        raise NotFound("This form does not exist.")
    return found


def public_form(session: Session, key: str, timezone: str) -> tuple[TicketType, Form]:
    """The type and its published form; NotFound until a form has been published."""
    found = public_type(session, key)
    compiled = ticket_types.form(session, key, timezone)
    if compiled is None:
        raise NotFound("This form does not exist.")
    return found, compiled


def type_name(found: TicketType, locale: str) -> str:
    """The type's name in the reader's language."""
    names = found.name or {}
    return names.get(locale) or names.get("zh_CN") or names.get("en") or found.key


# ---------------------------------------------------------------- rate limit


def _rate_key(ip: str | None) -> str:
    return f"webform:{ip or 'unknown'}"


def check_rate(session: Session, *, ip: str | None, limit: int, window: timedelta) -> None:
    """RateLimited once `limit` submissions came from this address within `window`."""
    since = utcnow() - window
    sent = session.scalar(
        select(func.count())
        .select_from(LoginAttempt)
        .where(LoginAttempt.key == _rate_key(ip), LoginAttempt.at > since)
    )
    if (sent or 0) >= limit:
        minutes = max(1, int(window.total_seconds() // 60))
        raise RateLimited(
            "Too many forms were sent from your network. Please try again in %(minutes)s minutes.",
            minutes=minutes,
        )


def _count_submission(session: Session, *, ip: str | None, window: timedelta) -> None:
    """Remember one submission; the address's rows older than the window go at the same time."""
    key = _rate_key(ip)
    now = utcnow()
    session.execute(
        delete(LoginAttempt).where(LoginAttempt.key == key, LoginAttempt.at <= now - window)
    )
    session.add(LoginAttempt(key=key, at=now))


# ---------------------------------------------------------------- signed tokens


def _mac(secret: str, purpose: str, message: str) -> str:
    """A URL-safe HMAC-SHA256 (144 bits) under a key derived for one purpose."""
    key = hashlib.sha256(f"fuwu:{purpose}:{secret}".encode()).digest()
    digest = hmac.new(key, message.encode(), hashlib.sha256).digest()[:18]
    return base64.urlsafe_b64encode(digest).decode()


def _same(expected: str, sent: str) -> bool:
    """Constant-time comparison that also takes what a URL may carry (any Unicode)."""
    return hmac.compare_digest(expected.encode(), sent.encode("utf-8", "replace"))


def form_token(secret: str, key: str, now: datetime | None = None) -> str:
    """A signed 'this form was served by us at …', posted back with the form.

    Used instead of the anonymous CSRF cookie: in a cross-site iframe the SameSite=Lax cookie
    is not sent with the POST (and browsers block third-party cookies), so the embedded form
    could never be submitted.
    """
    issued = int((now or utcnow()).timestamp())
    return f"{issued}.{_mac(secret, 'webform-form', f'{key}:{issued}')}"


def form_token_ok(secret: str, key: str, token: str, now: datetime | None = None) -> bool:
    """True for a token served with this type's form within FORM_TOKEN_MAX_AGE."""
    issued, _, mac = token.partition(".")
    if not issued.isascii() or not issued.isdigit() or len(issued) > 12:
        return False
    if not _same(_mac(secret, "webform-form", f"{key}:{issued}"), mac):
        return False
    age = (now or utcnow()).timestamp() - int(issued)
    return -60 <= age <= FORM_TOKEN_MAX_AGE.total_seconds()


# ---------------------------------------------------------------- submit


def honeypot_name(form: Form) -> str:
    """The name of the trap input: one a person never sees, and no field of this form has."""
    return next(n for n in HONEYPOTS if n not in form.specs)


def file_fields(form: Form) -> list[str]:
    """The form's file fields on the web form (their uploads become ticket attachments)."""
    return [k for k in form.custom_keys(SURFACE) if form.specs[k].type in ("attachment", "image")]


def _ticket_data(
    form: Form, found: TicketType, data: Submission, locale: str
) -> tuple[dict[str, Any], list[FieldError]]:
    """The TicketCreate payload from the fields this form lays out, and the errors so far."""
    laid_out = set(form.keys(SURFACE))
    errors: list[FieldError] = []
    payload: dict[str, Any] = {
        "type": found.key,
        "channel": "web",
        "subject": data.subject.strip() if "subject" in laid_out else type_name(found, locale),
        "custom": dict(data.custom),
    }
    if "description" in laid_out:
        payload["description"] = data.description.strip()
    if "priority" in laid_out and data.priority:
        payload["priority"] = data.priority
    if "customer" in laid_out:
        payload["customer"] = {"name": data.name.strip() or None, "email": data.email.strip()
                               or None, "phone": data.phone.strip() or None}  # fmt: skip
        errors += _reach_errors(data.email.strip(), data.phone.strip())
    return payload, errors


def _reach_errors(email: str, phone: str) -> list[FieldError]:
    """An email address or a phone number is needed to answer; each must be a real one."""
    if not (email or phone):
        return [{"field": "customer", "code": "need_reach", "params": {}}]
    errors: list[FieldError] = []
    if email and normalise_email(email) is None:
        errors.append({"field": "customer.email", "code": "invalid_email", "params": {}})
    if phone and normalise_phone(phone) is None:
        errors.append({"field": "customer.phone", "code": "invalid_phone", "params": {}})
    return errors


def _checked(
    session: Session,
    form: Form,
    payload: dict[str, Any],
    errors: list[FieldError],
    data: Submission,
    timezone: str,
) -> TicketCreate:
    """TicketCreate, or ValidationFailed with every problem of the page at once.

    When something else is wrong the custom fields are validated here as well (create_ticket
    does it again, with the database checks), so the customer can fix everything in one go.
    """
    parsed: TicketCreate | None = None
    try:
        parsed = TicketCreate.model_validate(payload)
    except ValidationError as exc:
        errors = errors + [from_pydantic(dict(e)) for e in exc.errors()]
    if not errors and parsed is not None:
        return parsed
    system = {k: payload.get(k) for k in ("subject", "description", "type", "channel")}
    system["priority"] = payload.get("priority", "normal")
    errors = errors + custom_fields.form_errors(
        session, type_key=form.type_key, surface=SURFACE, submitted=data.custom, system=system,
        timezone=timezone, actor_id=None,
    )  # fmt: skip
    raise ValidationFailed(errors)


def submit(
    session: Session,
    *,
    ticket_type: TicketType,
    form: Form,
    data: Submission,
    ip: str | None,
    policy: Policy,
    store: LocalStore,
    locale: str,
) -> str:
    """Open a ticket from the public form (see `public_form`) and return its status link token.

    When the honeypot caught a bot, nothing is created and the token is a decoy that opens
    nothing; the bot is counted against its address like a real submission.

    Raises RateLimited past the address's limit and ValidationFailed naming each field (and
    each file) that is wrong; the caller rolls back, so nothing at all is kept then.
    """
    check_rate(session, ip=ip, limit=policy.rate_limit, window=policy.rate_window)
    if data.honeypot.strip():
        log.warning("web form %s: trap field filled from %s; nothing created", form.type_key, ip)
        _count_submission(session, ip=ip, window=policy.rate_window)
        return status_links.decoy()
    payload, errors = _ticket_data(form, ticket_type, data, locale)
    kinds = {k: form.specs[k].type for k in file_fields(form)}
    staged: list[int] = []
    problems = upload_errors(data.uploads, policy.files, image_keys(kinds))
    if problems:
        errors += problems
    else:  # stored before the ticket, so that its file fields hold them when validated
        by_field, staged = stage(
            session, actor=Principal.system(), store=store, uploads=data.uploads,
            rules=policy.files, kinds=kinds,
        )  # fmt: skip
        payload["custom"] = {**payload["custom"], **by_field}
    ticket = tickets_service.create_ticket(
        session,
        actor=Principal.system(),
        data=_checked(session, form, payload, errors, data, policy.timezone),
        number_pattern=policy.number_pattern,
        timezone=policy.timezone,
        default_channel="web",
        surface=SURFACE,
        attachments=staged,
    )
    _count_submission(session, ip=ip, window=policy.rate_window)
    log.info("web form %s: ticket %s opened from %s", form.type_key, ticket.number, ip)
    return status_links.issue(session, ticket_id=ticket.id, customer_id=ticket.customer_id)


# ---------------------------------------------------------------- status link


def status_view(session: Session, *, token: str) -> StatusView:
    """The ticket behind a status link with its public replies; NotFound for any other token."""
    ticket_id = status_links.ticket_id_for(session, token)
    if ticket_id is None:
        raise NotFound("This link is not valid. Check that it was copied completely.")
    system = Principal.system()
    try:
        ticket = tickets_service.get_ticket(session, actor=system, ticket_id=ticket_id)
    except NotFound as exc:
        raise NotFound("This link is not valid. Check that it was copied completely.") from exc
    messages = messages_service.list_messages(session, actor=system, ticket_id=ticket_id)
    return StatusView(ticket=ticket, replies=[m for m in messages if m.kind == "reply"])


def confirmed(session: Session, *, token: str) -> Ticket | None:
    """The ticket a confirmation page is about; None for a token that is not one (the
    honeypot's decoy), which then shows a thanks without a number."""
    ticket_id = status_links.ticket_id_for(session, token)
    if ticket_id is None:
        return None
    try:
        return tickets_service.get_ticket(session, actor=Principal.system(), ticket_id=ticket_id)
    except NotFound:
        return None
