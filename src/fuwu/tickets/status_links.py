"""Status links: a random secret per link, bound to one ticket and the customer it was for.

A link is never derived from the ticket id, so knowing ids (or the server's secret key) opens
nothing; only the SHA-256 of the token is stored, so a database dump opens nothing either
(ADR 0010).
"""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from fuwu.tickets.models import StatusLink, Ticket

TOKEN_BYTES = 24  # 192 bits, 32 URL-safe characters
_MAX_TOKEN = 64


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def issue(session: Session, *, ticket_id: int, customer_id: int | None) -> str:
    """A new link token for the ticket and its current customer; shown once, stored hashed."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    session.add(StatusLink(token_hash=_digest(token), ticket_id=ticket_id, customer_id=customer_id))
    session.flush()
    return token


def decoy() -> str:
    """A token shaped like a real one that opens nothing (the honeypot's answer)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def ticket_id_for(session: Session, token: str) -> int | None:
    """The ticket a token opens, or None: unknown, revoked, or the ticket has since moved to
    another customer (the link was that customer's, not the new one's)."""
    if not token or len(token) > _MAX_TOKEN:
        return None
    row = session.execute(
        select(
            StatusLink.ticket_id, StatusLink.customer_id, StatusLink.revoked_at, Ticket.customer_id
        )
        .join(Ticket, Ticket.id == StatusLink.ticket_id)
        .where(StatusLink.token_hash == _digest(token))
    ).first()
    if row is None:
        return None
    ticket_id, link_customer, revoked_at, ticket_customer = row
    if revoked_at is not None or link_customer != ticket_customer:
        return None
    return int(ticket_id)
