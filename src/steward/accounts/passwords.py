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


#: Hashes of a fixed password per cost setting, checked when the username is unknown.
_DUMMY: dict[tuple[int, int], str] = {}


def _dummy_hash() -> str:
    settings = get_settings()
    key = (settings.argon2_time_cost, settings.argon2_memory_kib)
    if key not in _DUMMY:
        _DUMMY[key] = hash_password("not-a-real-password")
    return _DUMMY[key]


def warm_up() -> None:
    """Compute the dummy hash now, so the first unknown-user sign-in is not slower than the others."""
    _dummy_hash()


def dummy_verify(password: str) -> None:
    """Spend the same time as a real verification (no user enumeration by timing)."""
    verify_password(_dummy_hash(), password)
