"""Recipients' registered public keys: age X25519 keys, or SSH keys (age-encryption and SFTP login)."""

from __future__ import annotations

import hashlib
from typing import Any

import asyncssh
from pyrage import RecipientError, ssh, x25519
from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.delivery.models import RecipientKey
from steward.store.base import now_utc
from steward.store.models import Organization

SSH_TYPES = ("ssh-ed25519", "ssh-rsa")


class RecipientKeyError(ValueError):
    """A public key Steward cannot use (unknown type, malformed), or a recipient without keys."""


def normalize(text: str) -> tuple[str, str]:
    """(kind, canonical key text without comment) of an ``age1...`` or ``ssh-... AAAA...`` key."""
    parts = text.strip().split()
    if len(parts) == 1 and parts[0].startswith("age1"):
        try:
            x25519.Recipient.from_str(parts[0])
        except RecipientError as exc:
            raise RecipientKeyError(f"not a valid age public key: {exc}") from exc
        return "age", parts[0]
    if len(parts) >= 2 and parts[0] in SSH_TYPES:
        canonical = f"{parts[0]} {parts[1]}"
        try:
            ssh.Recipient.from_str(canonical)
            asyncssh.import_public_key(canonical)
        except (RecipientError, asyncssh.KeyImportError) as exc:
            raise RecipientKeyError(f"not a valid {parts[0]} public key: {exc}") from exc
        return "ssh", canonical
    raise RecipientKeyError("expected an age public key (age1...) or an ssh-ed25519 / ssh-rsa public key")


def register_key(db: Session, organization_id: int, text: str, label: str = "") -> RecipientKey:
    """Register a recipient's key (idempotent for the same key)."""
    if db.get(Organization, organization_id) is None:
        raise RecipientKeyError(f"no organization with id {organization_id}")
    kind, canonical = normalize(text)
    fingerprint = hashlib.sha256(canonical.encode()).hexdigest()
    existing = db.scalar(
        select(RecipientKey).where(
            RecipientKey.organization_id == organization_id, RecipientKey.fingerprint == fingerprint
        )
    )
    if existing is not None:
        existing.revoked_at = None
        return existing
    key = RecipientKey(
        organization_id=organization_id, kind=kind, public_key=canonical, fingerprint=fingerprint, label=label
    )
    db.add(key)
    db.flush()
    return key


def revoke_key(db: Session, key_id: int) -> None:
    key = db.get(RecipientKey, key_id)
    if key is not None and key.revoked_at is None:
        key.revoked_at = now_utc()


def active_keys(db: Session, organization_id: int, kind: str | None = None) -> list[RecipientKey]:
    query = select(RecipientKey).where(
        RecipientKey.organization_id == organization_id, RecipientKey.revoked_at.is_(None)
    )
    if kind is not None:
        query = query.where(RecipientKey.kind == kind)
    return list(db.scalars(query.order_by(RecipientKey.id)))


def age_recipients(db: Session, organization_id: int) -> list[Any]:
    """pyrage recipients for every active key of the organization; refuses an organization with none."""
    keys = active_keys(db, organization_id)
    if not keys:
        org = db.get(Organization, organization_id)
        name = org.code if org is not None else str(organization_id)
        raise RecipientKeyError(f"recipient {name} has no registered age or SSH public key")
    return [
        x25519.Recipient.from_str(k.public_key) if k.kind == "age" else ssh.Recipient.from_str(k.public_key)
        for k in keys
    ]


def login_keys(db: Session, organization_id: int) -> list[asyncssh.SSHKey]:
    return [asyncssh.import_public_key(k.public_key) for k in active_keys(db, organization_id, "ssh")]
