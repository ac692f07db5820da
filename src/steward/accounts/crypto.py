"""Keys derived from the application secret: field encryption (TOTP seeds, OIDC client secrets) and
keyed hashes of high-entropy one-time codes. Changing the secret makes both unreadable."""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from steward.config import Settings


class SecretUnreadableError(RuntimeError):
    """An encrypted field does not open with the current application secret."""


@lru_cache(maxsize=8)
def _derive(secret: str, purpose: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode()).derive(
        secret.encode()
    )


def _fernet(settings: Settings) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(_derive(settings.session_secret(), "steward/field-encryption/v1")))


def encrypt_field(settings: Settings, plaintext: str) -> str:
    return _fernet(settings).encrypt(plaintext.encode()).decode()


def decrypt_field(settings: Settings, ciphertext: str) -> str:
    try:
        return _fernet(settings).decrypt(ciphertext.encode()).decode()
    except InvalidToken as exc:
        raise SecretUnreadableError("an encrypted field does not open with the current secret key") from exc


def code_hash(settings: Settings, code: str) -> str:
    """HMAC-SHA256 of a random one-time code under a key derived from the application secret."""
    key = _derive(settings.session_secret(), "steward/code-hash/v1")
    return hmac.new(key, code.encode(), hashlib.sha256).hexdigest()


def token_hash(token: str) -> str:
    """SHA-256 of a 256-bit random token (sessions, API tokens, invitation links)."""
    return hashlib.sha256(token.encode()).hexdigest()
