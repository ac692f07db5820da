"""argon2id password hashing with parameters from settings (cheap ones only in tests)."""

from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from steward.config import get_settings


@lru_cache(maxsize=4)
def _hasher(time_cost: int, memory_kib: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=1)


def hasher() -> PasswordHasher:
    settings = get_settings()
    return _hasher(settings.argon2_time_cost, settings.argon2_memory_kib)


def hash_password(password: str) -> str:
    return hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when ``password`` matches; malformed hashes count as a mismatch."""
    try:
        return hasher().verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


#: A hash of a random password, checked when the username is unknown so timing does not tell.
_DUMMY: dict[str, str] = {}


def dummy_verify(password: str) -> None:
    """Spend the same time as a real verification (no user enumeration by timing)."""
    if "hash" not in _DUMMY:
        _DUMMY["hash"] = hash_password("not-a-real-password")
    verify_password(_DUMMY["hash"], password)
