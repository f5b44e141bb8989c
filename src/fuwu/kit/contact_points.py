"""Normalise email addresses and phone numbers (CN default) into comparable identities."""

from __future__ import annotations

import re

import phonenumbers
from email_validator import EmailNotValidError, validate_email

# Plain ASCII dot-atom addresses, the overwhelming majority, skip email-validator's full
# (IDNA-aware, ~20 µs) parse; anything else still goes through it. Special-use domains are
# refused by both paths, as email-validator does.
_PLAIN = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)
_SPECIAL_USE = ("arpa", "invalid", "local", "localhost", "onion", "test")


def _plain_address(value: str) -> str | None:
    if not _PLAIN.fullmatch(value) or len(value.partition("@")[0]) > 64:
        return None
    domain = value.rpartition("@")[2].lower()
    if any(domain == s or domain.endswith("." + s) for s in _SPECIAL_USE):
        return None
    return value.lower()


def normalise_email(value: str) -> str | None:
    """Lower-cased address, or None when it is not one address (no CR/LF, no display name)."""
    value = value.strip()
    if not value or any(c in value for c in '\r\n<>,;"') or len(value) > 254:
        return None
    plain = _plain_address(value)
    if plain is not None:
        return plain
    try:
        result = validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        return None
    return result.normalized.lower()


def normalise_phone(value: str, region: str = "CN") -> str | None:
    """E.164 form (+8613800138000), or None when it is not a possible number."""
    value = value.strip()
    if not value or len(value) > 32:
        return None
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
