"""Second factor: TOTP (RFC 6238, pyotp) with encrypted seeds and single-use recovery codes.

A TOTP code is accepted one step either side of now, and never twice (``last_step``). Recovery codes
carry 80 random bits, so a keyed SHA-256 is enough to store them.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

import pyotp
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from steward.accounts.crypto import code_hash, decrypt_field, encrypt_field
from steward.accounts.models import RecoveryCode, TotpCredential
from steward.config import Settings
from steward.store.base import now_utc
from steward.store.models import Account

RECOVERY_CODES = 10
_CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


@dataclass(frozen=True, slots=True)
class Enrolment:
    """What the enrolment page shows: the seed as text and the otpauth URI for authenticator apps."""

    secret: str
    uri: str

    @property
    def grouped_secret(self) -> str:
        return " ".join(self.secret[i : i + 4] for i in range(0, len(self.secret), 4))


def has_confirmed_totp(db: Session, account_id: int) -> bool:
    credential = db.get(TotpCredential, account_id)
    return credential is not None and credential.confirmed_at is not None


def start_enrolment(db: Session, account: Account, settings: Settings) -> Enrolment:
    """The pending (unconfirmed) seed of the account, created if missing. A confirmed seed is kept."""
    credential = db.get(TotpCredential, account.id)
    if credential is None:
        secret = pyotp.random_base32()
        credential = TotpCredential(
            account_id=account.id, secret_encrypted=encrypt_field(settings, secret), last_step=0
        )
        db.add(credential)
        db.flush()
    else:
        secret = decrypt_field(settings, credential.secret_encrypted)
    uri = pyotp.TOTP(secret).provisioning_uri(name=account.username, issuer_name=settings.totp_issuer)
    return Enrolment(secret, uri)


def _matching_step(secret: str, code: str, at: datetime) -> int | None:
    code = code.replace(" ", "").strip()
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    now_step = totp.timecode(at)
    found = None
    for step in (now_step - 1, now_step, now_step + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            found = step
    return found


def verify_totp(
    db: Session, account: Account, settings: Settings, code: str, at: datetime | None = None
) -> bool:
    """True for a fresh code of the account's seed (also confirms a pending enrolment)."""
    credential = db.get(TotpCredential, account.id)
    if credential is None:
        return False
    at = at or now_utc()
    step = _matching_step(decrypt_field(settings, credential.secret_encrypted), code, at)
    if step is None or step <= credential.last_step:
        return False
    credential.last_step = step
    if credential.confirmed_at is None:
        credential.confirmed_at = at
    return True


def remove_totp(db: Session, account_id: int) -> None:
    db.execute(delete(TotpCredential).where(TotpCredential.account_id == account_id))
    db.execute(delete(RecoveryCode).where(RecoveryCode.account_id == account_id))


def _new_code() -> str:
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(16))
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def _normalise_code(code: str) -> str:
    raw = "".join(ch for ch in code.lower() if ch.isalnum())
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def new_recovery_codes(db: Session, account: Account, settings: Settings) -> list[str]:
    """Replace the account's recovery codes; the plain codes are returned once, only hashes are kept."""
    db.execute(delete(RecoveryCode).where(RecoveryCode.account_id == account.id))
    codes = [_new_code() for _ in range(RECOVERY_CODES)]
    db.add_all(RecoveryCode(account_id=account.id, code_hash=code_hash(settings, c)) for c in codes)
    db.flush()
    return codes


def use_recovery_code(db: Session, account: Account, settings: Settings, code: str) -> bool:
    """Spend one unused recovery code; True when it matched."""
    digest = code_hash(settings, _normalise_code(code))
    row = db.scalar(
        select(RecoveryCode).where(
            RecoveryCode.account_id == account.id,
            RecoveryCode.code_hash == digest,
            RecoveryCode.used_at.is_(None),
        )
    )
    if row is None:
        return False
    row.used_at = now_utc()
    return True


def unused_recovery_codes(db: Session, account_id: int) -> int:
    return len(
        db.scalars(
            select(RecoveryCode.id).where(
                RecoveryCode.account_id == account_id, RecoveryCode.used_at.is_(None)
            )
        ).all()
    )
