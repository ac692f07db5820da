"""The package manifest: what is inside (names, row counts, SHA-256), why (agreement, legal basis),
the 99.33 redisclosure notice and the destruction deadline; signed with the district's Ed25519 key.

The signature (``manifest.json.sig``) is the raw 64-byte Ed25519 signature over the exact bytes of
``manifest.json``; a recipient checks it with the district's exported public key, e.g.
``openssl pkeyutl -verify -pubin -inkey district.pem -rawin -in manifest.json -sigfile manifest.json.sig``.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from steward.audit.encoding import format_instant
from steward.audit.keys import Signer, verify_signature
from steward.domain.legal import LegalBasis

FORMAT = "steward-package/1"
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,119}$")


class ManifestError(ValueError):
    """A file that cannot go into a package (unsafe name, unreadable CSV)."""


@dataclass(frozen=True, slots=True)
class FileEntry:
    path: str
    rows: int | None
    bytes: int
    sha256: str


def check_name(name: str) -> str:
    """A package member name: one plain file name, no directories, no leading dot."""
    if not _SAFE_NAME.match(name) or ".." in name:
        raise ManifestError(f"package file name {name!r} must be a plain file name (letters, digits, _ . -)")
    return name


def describe_file(name: str, path: Path) -> FileEntry:
    """Size, SHA-256 and, for CSV files, the number of data rows (header excluded)."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    rows: int | None = None
    if name.lower().endswith(".csv"):
        try:
            with path.open(newline="", encoding="utf-8") as handle:
                rows = max(sum(1 for _ in csv.reader(handle)) - 1, 0)
        except (UnicodeDecodeError, csv.Error) as exc:
            raise ManifestError(f"{path}: not a readable UTF-8 CSV file: {exc}") from exc
    return FileEntry(f"data/{name}", rows, size, digest.hexdigest())


def redisclosure_notice(basis: LegalBasis, district_name: str) -> str:
    """The 34 CFR 99.33 notice that travels with every package."""
    if basis is LegalBasis.DEIDENTIFIED:
        return (
            f"This package holds de-identified data from education records of {district_name}, released "
            "under 34 CFR 99.31(b). You may not attempt to re-identify any student, link these records with "
            "other data to do so, or disclose them beyond the terms of your agreement."
        )
    return (
        f"This package holds personally identifiable information from education records of {district_name}, "
        f"disclosed under {basis.citation}. Under 34 CFR 99.33(a) you may use it only for the purposes for "
        "which it was disclosed, and you may not disclose it to any other party without the prior written "
        "consent of the parent or eligible student, except as 34 CFR 99.33(b) allows. A redisclosure in "
        "breach of this condition may bar you from receiving education records for at least five years "
        "(34 CFR 99.67(c))."
    )


def build_manifest(
    *,
    package_id: str,
    name: str,
    created_at: datetime,
    district: tuple[str, str],
    recipient: tuple[str, str],
    basis: LegalBasis,
    purpose: str,
    agreement: tuple[int, str] | None,
    request_ref: str | None,
    datasets: list[str],
    student_count: int,
    files: list[FileEntry],
    destroy_by: date | None,
    signer: Signer,
) -> dict[str, Any]:
    deadline = destroy_by.isoformat() if destroy_by else None
    return {
        "format": FORMAT,
        "package": {"id": package_id, "name": name, "created_at": format_instant(created_at)},
        "district": {"code": district[0], "name": district[1]},
        "recipient": {"code": recipient[0], "name": recipient[1]},
        "legal_basis": {"code": basis.value, "citation": basis.citation},
        "purpose": purpose,
        "agreement": None if agreement is None else {"id": agreement[0], "code": agreement[1]},
        "request": request_ref,
        "datasets": datasets,
        "students": student_count,
        "files": [{"path": f.path, "rows": f.rows, "bytes": f.bytes, "sha256": f.sha256} for f in files],
        "redisclosure_notice": redisclosure_notice(basis, district[1]),
        "destruction": {
            "deadline": deadline,
            "instructions": (
                f"Destroy every copy of these records, including backups, by {deadline}, then upload a "
                "signed certificate of destruction to Steward."
                if deadline
                else "No destruction deadline is set for this disclosure."
            ),
        },
        "signature": {
            "algorithm": "Ed25519",
            "key_fingerprint": signer.fingerprint,
            "file": "manifest.json.sig",
        },
    }


def manifest_bytes(manifest: dict[str, Any]) -> bytes:
    """Readable, deterministic JSON (the signature covers exactly these bytes)."""
    return (json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def sign_manifest(data: bytes, signer: Signer) -> bytes:
    """The raw 64-byte Ed25519 signature of the manifest bytes."""
    return base64.b64decode(signer.sign(data))


def verify_manifest(data: bytes, signature: bytes, public_key: Ed25519PublicKey) -> bool:
    return verify_signature(public_key, base64.b64encode(signature).decode(), data)


def readme(manifest: dict[str, Any]) -> str:
    """README.txt of the package: the notice, the deadline and how to check the signature."""
    return (
        f"Steward data package {manifest['package']['name']}\n"
        f"From {manifest['district']['name']} to {manifest['recipient']['name']}\n"
        f"Legal basis: {manifest['legal_basis']['code']} ({manifest['legal_basis']['citation']})\n\n"
        f"REDISCLOSURE NOTICE (34 CFR 99.33)\n{manifest['redisclosure_notice']}\n\n"
        f"DESTRUCTION\n{manifest['destruction']['instructions']}\n\n"
        "CHECKING THE MANIFEST\n"
        "manifest.json lists every file with its SHA-256 and row count. Its signature\n"
        "is manifest.json.sig (raw Ed25519). With the district's public key (district.pem):\n"
        "  openssl pkeyutl -verify -pubin -inkey district.pem -rawin -in manifest.json "
        "-sigfile manifest.json.sig\n"
    )
