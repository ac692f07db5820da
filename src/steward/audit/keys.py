"""Ed25519 signing keys of districts (and of the hub, for the global chain).

Choice: the private key is a PEM file in ``STEWARD_DATA_DIR/keys`` (directory 0700, file 0600,
refused when readable by others); the database holds only public keys. A copy or dump of the
database alone therefore cannot forge checkpoints or manifests, and an auditor verifies offline with
the exported public key (``steward audit export-key``).
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.audit.models import AuditSigningKey
from steward.store.models import Organization

HUB = "hub"
_SAFE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class SigningKeyError(Exception):
    """A signing key that cannot be used (unsafe permissions, unknown owner, bad file)."""


def fingerprint(public_key: Ed25519PublicKey) -> str:
    """SHA-256 of the raw 32-byte public key, hex."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def public_pem(public_key: Ed25519PublicKey) -> str:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def load_public_pem(text: str | bytes) -> Ed25519PublicKey:
    data = text.encode() if isinstance(text, str) else text
    key = serialization.load_pem_public_key(data)
    if not isinstance(key, Ed25519PublicKey):
        raise SigningKeyError("the public key is not an Ed25519 key")
    return key


def verify_signature(public_key: Ed25519PublicKey, signature_b64: str, message: bytes) -> bool:
    try:
        public_key.verify(base64.b64decode(signature_b64, validate=True), message)
    except (InvalidSignature, ValueError):
        return False
    return True


def key_file(data_dir: Path, owner: str) -> Path:
    """``<data_dir>/keys/<owner>.ed25519.pem``; ``owner`` is a district code or ``hub``."""
    if not _SAFE.match(owner):
        raise SigningKeyError(f"organization code {owner!r} cannot name a key file")
    return data_dir / "keys" / f"{owner}.ed25519.pem"


def load_or_create_private_key(path: Path) -> Ed25519PrivateKey:
    """Load the key at ``path``; create it (0600, exclusively) when absent."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not path.exists():
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process created it first: use theirs
        else:
            with os.fdopen(fd, "wb") as handle:
                handle.write(pem)
                handle.flush()
                os.fsync(handle.fileno())
            return key
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise SigningKeyError(f"{path} must not be readable by group or others (chmod 600)")
    loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(loaded, Ed25519PrivateKey):
        raise SigningKeyError(f"{path} does not hold an Ed25519 private key")
    return loaded


@dataclass(frozen=True, slots=True)
class Signer:
    """A loaded private key with its owner and fingerprint."""

    district_id: int | None
    owner: str
    private_key: Ed25519PrivateKey
    fingerprint: str

    def sign(self, message: bytes) -> str:
        """Base64 Ed25519 signature of ``message``."""
        return base64.b64encode(self.private_key.sign(message)).decode()

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()


def owner_of(db: Session, district_id: int | None) -> str:
    if district_id is None:
        return HUB
    org = db.get(Organization, district_id)
    if org is None:
        raise SigningKeyError(f"no organization with id {district_id}")
    return org.code


def signer_for(db: Session, data_dir: Path, district_id: int | None) -> Signer:
    """The district's signer (the hub's for None), registering its public key in ``db`` once."""
    owner = owner_of(db, district_id)
    private_key = load_or_create_private_key(key_file(data_dir, owner))
    public_key = private_key.public_key()
    fp = fingerprint(public_key)
    if db.scalar(select(AuditSigningKey.id).where(AuditSigningKey.fingerprint == fp)) is None:
        db.add(
            AuditSigningKey(district_id=district_id, fingerprint=fp, public_key_pem=public_pem(public_key))
        )
        db.flush()
    return Signer(district_id, owner, private_key, fp)


def public_keys(db: Session) -> dict[str, Ed25519PublicKey]:
    """Every registered public key by fingerprint."""
    return {
        row.fingerprint: load_public_pem(row.public_key_pem) for row in db.scalars(select(AuditSigningKey))
    }


def export_public_key(db: Session, data_dir: Path, district_id: int | None) -> str:
    """PEM of the district's public key with a fingerprint comment line, for auditors and recipients."""
    signer = signer_for(db, data_dir, district_id)
    return (
        f"# steward {signer.owner} Ed25519 fingerprint {signer.fingerprint}\n{public_pem(signer.public_key)}"
    )


def load_exported_keys(text: str) -> dict[str, Ed25519PublicKey]:
    """Public keys from one or more exported PEM blocks (comment lines ignored)."""
    keys: dict[str, Ed25519PublicKey] = {}
    for block in re.findall(r"-----BEGIN PUBLIC KEY-----.*?-----END PUBLIC KEY-----", text, re.S):
        key = load_public_pem(block)
        keys[fingerprint(key)] = key
    if not keys:
        raise SigningKeyError("no PEM public key found")
    return keys
