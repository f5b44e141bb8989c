"""Normalise email addresses and phone numbers (CN default) into comparable identities."""

from __future__ import annotations

import phonenumbers
from email_validator import EmailNotValidError, validate_email


def normalise_email(value: str) -> str | None:
    """Lower-cased address, or None when it is not one address (no CR/LF, no display name)."""
    value = value.strip()
    if not value or any(c in value for c in '\r\n<>,;"') or len(value) > 254:
        return None
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
