"""Password hashing: argon2id with its own random salt per hash.

Parameters are the OWASP minimum for argon2id (19 MiB, 2 passes, 1 lane); hashes made with
other parameters still verify and `needs_rehash` says when to upgrade them at next login.
"""

from __future__ import annotations

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from stockline.errors import ValidationFailed

TIME_COST = 2
MEMORY_COST_KIB = 19_456
PARALLELISM = 1
MIN_LENGTH = 8
MAX_LENGTH = 256

_hasher = PasswordHasher(time_cost=TIME_COST, memory_cost=MEMORY_COST_KIB, parallelism=PARALLELISM,
                         hash_len=32, salt_len=16, type=Type.ID)
# verified against when a username is unknown, so that costs what a wrong password costs
_DUMMY_HASH = _hasher.hash("stockline-dummy-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def verify_against_dummy(password: str) -> bool:
    """Burn the time of one real verification; always False."""
    verify_password(_DUMMY_HASH, password)
    return False


def needs_rehash(password_hash: str) -> bool:
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


def validate_new_password(password: str) -> None:
    if not password or not password.strip():
        raise ValidationFailed("The password must not be empty")
    if len(password) < MIN_LENGTH:
        raise ValidationFailed(f"The password must have at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise ValidationFailed(f"The password must have at most {MAX_LENGTH} characters")
