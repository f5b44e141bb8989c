"""Argon2id password hashing and the password policy."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from fuwu.errors import ValidationFailed

MIN_LENGTH = 10
_hasher = PasswordHasher()
# A valid hash to verify against when the user does not exist, so timing does not tell.
# Made on first use: hashing at import cost every process (even `fuwu --help`) 0.3 s.
_dummy_hash: str | None = None


def use_fast_hashing() -> None:
    """Cheaper parameters for the test suite only."""
    global _hasher, _dummy_hash
    _hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    _dummy_hash = None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when the password matches; constant work when there is no hash."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = _hasher.hash("not-a-real-password")
    try:
        return _hasher.verify(password_hash or _dummy_hash, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def check_policy(password: str, field: str = "password") -> None:
    """At least MIN_LENGTH characters, not only letters or only digits."""
    if len(password) < MIN_LENGTH or password.isalpha() or password.isdigit():
        raise ValidationFailed.single(field, "weak_password", min=MIN_LENGTH)
