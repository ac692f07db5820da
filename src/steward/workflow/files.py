"""Evidence files the workflow keeps (signed agreements, scanned consent forms): content-addressed
under ``<data dir>/workflow/<kind>/``, mode 0600, checked before they are stored."""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from steward.workflow.common import WorkflowError

MAX_EVIDENCE_BYTES = 20 * 1024 * 1024
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")
#: Magic numbers of the formats accepted as scanned or signed documents.
SIGNATURES: dict[str, tuple[bytes, ...]] = {
    ".pdf": (b"%PDF-",),
    ".png": (b"\x89PNG\r\n\x1a\n",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
    ".tif": (b"II*\x00", b"MM\x00*"),
    ".tiff": (b"II*\x00", b"MM\x00*"),
}


@dataclass(frozen=True, slots=True)
class Stored:
    name: str
    sha256: str
    stored: str
    size: int


def safe_name(name: str) -> str:
    base = Path(name.replace("\\", "/")).name
    return _SAFE.sub("_", base)[-120:] or "file"


def check_document(content: bytes, filename: str, allowed: tuple[str, ...] = tuple(SIGNATURES)) -> str:
    """The file's lower-case extension when it is an allowed, non-empty document of sane size."""
    suffix = Path(filename).suffix.lower()
    if suffix not in allowed:
        raise WorkflowError(f"{filename}: upload a {' / '.join(s.lstrip('.').upper() for s in allowed)} file")
    if not content:
        raise WorkflowError(f"{filename}: the file is empty")
    if len(content) > MAX_EVIDENCE_BYTES:
        raise WorkflowError(f"{filename}: the file is larger than {MAX_EVIDENCE_BYTES // (1024 * 1024)} MB")
    if not content.startswith(SIGNATURES[suffix]):
        raise WorkflowError(f"{filename}: the content is not a {suffix.lstrip('.').upper()} file")
    return suffix


def store(
    data_dir: Path, kind: str, content: bytes, filename: str, allowed: tuple[str, ...] = tuple(SIGNATURES)
) -> Stored:
    """Check and keep a document; the same content is kept once."""
    suffix = check_document(content, filename, allowed)
    digest = hashlib.sha256(content).hexdigest()
    folder = data_dir / "workflow" / kind
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    target = folder / f"{digest}{suffix}"
    if not target.exists():
        partial = folder / f".{digest}{suffix}.part"
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, target)
    return Stored(safe_name(filename), digest, f"{kind}/{target.name}", len(content))


def path_of(data_dir: Path, stored: str) -> Path:
    """The file behind a stored reference (refuses anything outside the workflow folder)."""
    root = (data_dir / "workflow").resolve()
    path = (root / stored).resolve()
    if root not in path.parents:
        raise WorkflowError("no such file")
    return path
