"""Who is acting: a plain snapshot of the user, their teams and the token's scopes."""

from __future__ import annotations

from dataclasses import dataclass, field

from fuwu.errors import PermissionDenied

ALL_SCOPES = (
    "tickets:read",
    "tickets:write",
    "customers:read",
    "customers:write",
    "users:read",
    "users:write",
    "audit:read",
    "config:read",
    "config:write",
)


@dataclass(frozen=True)
class Principal:
    """The actor every service call receives."""

    user_id: int | None
    name: str
    role: str
    team_ids: frozenset[int] = field(default_factory=frozenset)
    ticket_scope: str = "team"
    contact_id: int | None = None
    locale: str = "zh_CN"
    scopes: frozenset[str] | None = None  # None: a browser session, everything the role allows
    csrf_token: str | None = None
    token_id: int | None = None  # the API token this request came with
    token_touch_due: bool = False  # the token's last_used_at is due for an update
    session_id: int | None = None  # the browser session this request came with

    @property
    def by_token(self) -> bool:
        """True when acting through an API token (scoped), not a browser session."""
        return self.scopes is not None

    @classmethod
    def system(cls) -> Principal:
        """The actor for the CLI, the demo loader and jobs."""
        return cls(user_id=None, name="system", role="admin", ticket_scope="all")

    @property
    def is_staff(self) -> bool:
        return self.role != "customer"

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def sees_all_tickets(self) -> bool:
        return self.role == "admin" or (self.is_staff and self.ticket_scope == "all")

    def has_scope(self, scope: str) -> bool:
        return self.scopes is None or "*" in self.scopes or scope in self.scopes


def require_staff(actor: Principal) -> Principal:
    """The actor, if staff; PermissionDenied otherwise (services and API routes alike)."""
    if not actor.is_staff:
        raise PermissionDenied()
    return actor


def require_admin(actor: Principal) -> Principal:
    """The actor, if an administrator; PermissionDenied otherwise."""
    if not actor.is_admin:
        raise PermissionDenied()
    return actor
