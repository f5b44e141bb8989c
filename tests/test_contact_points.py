"""Email normalisation: the fast path for plain addresses agrees with email-validator."""

from __future__ import annotations

import pytest
from email_validator import EmailNotValidError, validate_email

from fuwu.kit.contact_points import normalise_email

ADDRESSES = [
    "wang.fang@example.cn", "Li.Lei+repair@Service.Haier.COM", "a@b.co", "x_y-z@sub.domain.org",
    "o'brien@example.ie", "user@localhost", "user@printer.local", "user@host.test",
    "user@thing.onion", "user@10.in-addr.arpa", "two..dots@example.com", ".lead@example.com",
    "trail.@example.com", "no-at.example.com", "a@b", "a@-bad.com", "a@bad-.com", "a@b.c",
    "a@b.123", "王芳@例子.中国", "user@xn--fsqu00a.xn--fiqs8s", "a" * 65 + "@example.com",
    "user@exa_mple.com", "user@@example.com", "us er@example.com",
]  # fmt: skip


def _reference(value: str) -> str | None:
    try:
        return validate_email(value, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        return None


@pytest.mark.parametrize("address", ADDRESSES)
def test_fast_path_agrees_with_email_validator(address: str) -> None:
    assert normalise_email(address) == _reference(address)
