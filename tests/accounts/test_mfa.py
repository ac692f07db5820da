"""TOTP seeds encrypted at rest, codes accepted once within the window, recovery codes spent once."""

from __future__ import annotations

import time

import pyotp
from sqlalchemy import Engine, select, text

from steward.accounts.crypto import SecretUnreadableError, decrypt_field
from steward.accounts.mfa import (
    has_confirmed_totp,
    new_recovery_codes,
    start_enrolment,
    unused_recovery_codes,
    use_recovery_code,
    verify_totp,
)
from steward.accounts.models import RecoveryCode, TotpCredential
from steward.config import Settings
from steward.store.db import transaction
from steward.store.models import Account
from tests.accounts.world import build

SETTINGS = Settings(secret_key="mfa-test-secret")


def _tina(db: object) -> Account:
    account = db.scalar(select(Account).where(Account.username == "tina"))  # type: ignore[attr-defined]
    assert account is not None
    return account  # type: ignore[no-any-return]


def test_seed_is_encrypted_and_codes_are_single_use(sqlite_engine: Engine) -> None:
    with transaction(sqlite_engine) as db:
        build(db)
        enrolment = start_enrolment(db, _tina(db), SETTINGS)
        assert enrolment.uri.startswith("otpauth://totp/Steward:tina?secret=")
        assert start_enrolment(db, _tina(db), SETTINGS).secret == enrolment.secret  # stable until confirmed
    with sqlite_engine.connect() as conn:
        stored = conn.execute(text("SELECT secret_encrypted FROM totp_credentials")).scalar_one()
    assert enrolment.secret not in stored
    assert decrypt_field(SETTINGS, stored) == enrolment.secret
    other = Settings(secret_key="another-secret")
    try:
        decrypt_field(other, stored)
        raise AssertionError("a different secret key must not open the seed")
    except SecretUnreadableError:
        pass
    totp = pyotp.TOTP(enrolment.secret)
    now = time.time()
    with transaction(sqlite_engine) as db:
        tina = _tina(db)
        assert not has_confirmed_totp(db, tina.id)
        assert not verify_totp(db, tina, SETTINGS, "000000" if totp.at(now) != "000000" else "111111")
        assert verify_totp(db, tina, SETTINGS, totp.at(now))
        assert has_confirmed_totp(db, tina.id)
        assert not verify_totp(db, tina, SETTINGS, totp.at(now))  # replay of the same code
        assert not verify_totp(db, tina, SETTINGS, totp.at(now - 30))  # an older step after a newer one
        assert verify_totp(db, tina, SETTINGS, totp.at(now + 30))  # the next step, once
        assert not verify_totp(db, tina, SETTINGS, totp.at(now + 300))  # far outside the window
        assert not verify_totp(db, tina, SETTINGS, "abc")


def test_recovery_codes_are_hashed_and_spent_once(sqlite_engine: Engine) -> None:
    with transaction(sqlite_engine) as db:
        build(db)
        tina = _tina(db)
        codes = new_recovery_codes(db, tina, SETTINGS)
        assert len(codes) == len(set(codes)) == 10
        stored = {r.code_hash for r in db.scalars(select(RecoveryCode))}
        assert not stored & set(codes)
        assert use_recovery_code(db, tina, SETTINGS, codes[0].upper().replace("-", " "))
        assert not use_recovery_code(db, tina, SETTINGS, codes[0])
        assert not use_recovery_code(db, tina, SETTINGS, "aaaa-bbbb-cccc-dddd")
        assert unused_recovery_codes(db, tina.id) == 9
        fresh = new_recovery_codes(db, tina, SETTINGS)
        assert not use_recovery_code(db, tina, SETTINGS, codes[1])  # old set replaced
        assert use_recovery_code(db, tina, SETTINGS, fresh[1])
        assert db.get(TotpCredential, tina.id) is None
