"""Settings: one validated object, read once at start and passed into create_app()."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET = "dev-insecure-secret-change-me"  # noqa: S105 - refused outside development


class Settings(BaseSettings):
    """Every FUWU_* environment variable; documented in docs/configuration.md."""

    model_config = SettingsConfigDict(env_prefix="FUWU_", env_file=".env", extra="ignore")

    env: Literal["development", "production", "test"] = "development"
    data_dir: Path = Path("var")
    database_url: str = ""
    secret_key: str = DEV_SECRET
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

    @model_validator(mode="after")
    def _refuse_insecure_production(self) -> Settings:
        if self.env == "production" and (
            self.secret_key == DEV_SECRET or len(self.secret_key) < 32
        ):
            raise ValueError("FUWU_SECRET_KEY must be set to 32+ random characters in production")
        return self

    @property
    def db_url(self) -> str:
        """The database URL; a SQLite file in the data directory unless one is given."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'fuwu.sqlite3').resolve()}"

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
