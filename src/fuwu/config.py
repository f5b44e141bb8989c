"""Settings: one validated object, read once at start and passed into create_app()."""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Secrets that were ever shipped or documented as examples: refused in every environment, since
# a public secret lets anyone forge what it signs (ADR 0010).
KNOWN_SECRETS = frozenset(
    {
        "dev-insecure-secret-change-me",
        "change-me",
        "changeme",
        "secret",
        "fuwu",
    }
)
SECRET_FILE = "secret_key"  # noqa: S105 - a file name, not a secret
MIN_SECRET_LENGTH = 32


class Settings(BaseSettings):
    """Every FUWU_* environment variable; documented in docs/configuration.md."""

    model_config = SettingsConfigDict(env_prefix="FUWU_", env_file=".env", extra="ignore")

    env: Literal["development", "production", "test"] = "development"
    data_dir: Path = Path("var")
    database_url: str = ""
    secret_key: str = ""  # empty: generated into <data_dir>/secret_key on first start
    base_url: str = "http://127.0.0.1:8000"
    secure_cookies: bool | None = None
    session_hours: int = Field(default=12, ge=1, le=24 * 30)
    default_locale: Literal["zh_CN", "en"] = "zh_CN"
    timezone: str = "Asia/Shanghai"
    ticket_number_pattern: str = "SR{yyyy}{mm}{dd}-{seq:05}"
    attachment_max_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)
    attachment_blocked_extensions: list[str] = Field(
        default_factory=lambda: [
            ".exe",
            ".bat",
            ".cmd",
            ".com",
            ".js",
            ".msi",
            ".ps1",
            ".scr",
            ".vbs",
        ]
    )
    max_json_bytes: int = Field(default=1024 * 1024, ge=1024)
    max_upload_bytes: int | None = Field(default=None, ge=1024)
    embedded_worker: bool = True
    worker_poll_seconds: float = Field(default=1.0, gt=0)
    job_lease_seconds: int = Field(default=300, ge=5)
    db_pool_size: int = Field(default=10, ge=1)
    login_max_failures: int = Field(default=10, ge=1)
    webform_rate_limit: int = Field(default=5, ge=1)
    webform_frame_ancestors: str = "*"

    @field_validator("webform_frame_ancestors")
    @classmethod
    def _one_header_value(cls, value: str) -> str:
        if any(c in value for c in ";,\r\n") or not value.strip():
            raise ValueError(
                "webform_frame_ancestors is a space-separated list of sources, e.g. "
                "\"'self' https://www.example.com\" (no ; , or line breaks)"
            )
        return value.strip()

    @field_validator("ticket_number_pattern")
    @classmethod
    def _pattern_has_sequence(cls, value: str) -> str:
        if "{seq" not in value:
            raise ValueError("ticket_number_pattern must contain {seq} or {seq:0N}")
        return value

    @field_validator("secret_key")
    @classmethod
    def _refuse_weak_secret(cls, value: str) -> str:
        if value and (value in KNOWN_SECRETS or len(value) < MIN_SECRET_LENGTH):
            raise ValueError(
                f"FUWU_SECRET_KEY must be {MIN_SECRET_LENGTH}+ random characters and not a "
                "published example; leave it unset to have one generated into the data directory"
            )
        return value

    def with_secret(self) -> Settings:
        """These settings with a secret key: the configured one, else the data directory's
        (generated with 0600 permissions on first start)."""
        if self.secret_key:
            return self
        return self.model_copy(update={"secret_key": _data_dir_secret(self.data_dir / SECRET_FILE)})

    @property
    def db_url(self) -> str:
        """The database URL; a SQLite file in the data directory unless one is given."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'fuwu.sqlite3').resolve()}"

    @property
    def upload_request_limit(self) -> int:
        """The largest multipart request: as set, else five files at the attachment limit
        plus 2 MiB for the other fields (the web form takes up to five files and answers a
        body over 1 MiB of slack itself, with its own page, before this backstop)."""
        if self.max_upload_bytes is not None:
            return self.max_upload_bytes
        return 5 * self.attachment_max_bytes + 2 * 1024 * 1024

    @property
    def attachments_dir(self) -> Path:
        return self.data_dir / "attachments"

    @property
    def is_sqlite(self) -> bool:
        return self.db_url.startswith("sqlite")

    def cookies_secure(self) -> bool:
        """Secure cookies when asked, otherwise whenever the public URL is HTTPS."""
        if self.secure_cookies is not None:
            return self.secure_cookies
        return self.base_url.startswith("https://")


def _data_dir_secret(path: Path) -> str:
    """The secret stored at `path`, created once; safe when several processes start at once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):  # another process may be writing it this very moment
            value = path.read_text(encoding="ascii").strip()
            if value:
                break
            time.sleep(0.02)
        if value in KNOWN_SECRETS or len(value) < MIN_SECRET_LENGTH:
            raise RuntimeError(
                f"{path} must hold {MIN_SECRET_LENGTH}+ random characters; delete it to have a "
                "new one generated (open status links and forms being filled in stop working)"
            ) from None
        return value
    value = secrets.token_urlsafe(48)
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(value + "\n")
    return value
