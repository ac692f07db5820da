"""Web hardening shared by every router: security headers, rate limits, upload checks, safe file names.

The request size limit is FastAPI's ``max_body_size`` (set in ``create_app``; an upload route may
raise it for itself). Routers call ``check_upload``/``safe_filename`` for every file they accept.
"""

from __future__ import annotations

import asyncio
import math
import re
import threading
import time
import unicodedata
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import BinaryIO

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}
HSTS = "max-age=63072000; includeSubDomains"


class SecurityHeaders:
    """Adds the headers to every response (pure ASGI, so streaming responses stay streamed).

    HSTS is sent when cookies are marked secure (the deployment runs behind TLS) or the request came
    over https. Swagger UI (/api/docs) needs its inline bootstrap script, so it gets no CSP.
    """

    def __init__(self, app: ASGIApp, hsts: bool = False) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        https = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    if name not in headers:
                        headers[name] = value
                if path.startswith("/api/docs"):
                    del headers["Content-Security-Policy"]
                if not path.startswith("/static/") and "cache-control" not in headers:
                    headers["Cache-Control"] = "no-store"
                if self.hsts or https:
                    headers["Strict-Transport-Security"] = HSTS
            await send(message)

        await self.app(scope, receive, send_with_headers)


class ConcurrencyLimit:
    """At most ``limit`` requests of one process in flight; the rest wait at the door.

    A request holds a database connection from its first query to its response, also while it
    waits for a worker thread between its dependencies and its handler. Without a door, more
    requests than connections start under load and time out waiting for the pool (500s); with it,
    they queue in the event loop holding nothing.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = max(1, limit)
        self._semaphore: asyncio.Semaphore | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path", "").startswith("/static/"):
            await self.app(scope, receive, send)
            return
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(self.limit)
        async with self._semaphore:
            await self.app(scope, receive, send)


@dataclass(slots=True)
class _Bucket:
    tokens: float
    stamp: float


class Limiter:
    """In-process token buckets: ``capacity`` requests at once, refilled at ``rate`` per second.

    Keys are whatever identifies the client (address and username, token id). The oldest idle
    buckets are forgotten beyond ``max_keys``, so a flood of new keys cannot exhaust memory. One
    process only: several web workers each count on their own (document the effective limit).
    """

    def __init__(self, capacity: float, rate: float, max_keys: int = 100_000) -> None:
        self.capacity = float(capacity)
        self.rate = float(rate)
        self.max_keys = max_keys
        self._buckets: OrderedDict[tuple[str, ...], _Bucket] = OrderedDict()
        self._lock = threading.Lock()

    def hit(self, *key: str, cost: float = 1.0, now: float | None = None) -> float:
        """Take ``cost`` tokens; returns 0 when allowed, else the seconds to wait (nothing taken)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            bucket = self._buckets.pop(key, None)
            if bucket is None:
                bucket = _Bucket(self.capacity, now)
            else:
                bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.stamp) * self.rate)
                bucket.stamp = now
            self._buckets[key] = bucket
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
            if bucket.tokens >= cost:
                bucket.tokens -= cost
                return 0.0
            if self.rate <= 0:
                return math.inf
            return (cost - bucket.tokens) / self.rate


def retry_after(seconds: float) -> str:
    return str(max(1, math.ceil(min(seconds, 86_400))))


def client_address(request: Request) -> str:
    """The client's address as the server sees it (uvicorn's --proxy-headers sets it behind a proxy)."""
    return request.client.host if request.client is not None else "unknown"


# --- file names and uploads -------------------------------------------------------------------

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_WINDOWS_RESERVED = frozenset(
    {"con", "prn", "aux", "nul"} | {f"com{i}" for i in range(1, 10)} | {f"lpt{i}" for i in range(1, 10)}
)


def safe_filename(name: str, default: str = "file", max_length: int = 120) -> str:
    """A file name safe on every file system and in a Content-Disposition header.

    Drops any directory part (both separators), folds accents, keeps ``A-Z a-z 0-9 . _ -``, removes
    leading dots (no hidden files, no ``..``), avoids Windows device names and keeps the extension
    when shortening.
    """
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode()
    base = _UNSAFE.sub("_", base).strip("._-")
    base = re.sub(r"\.{2,}", ".", base)
    if not base:
        base = default
    stem, dot, ext = base.rpartition(".")
    if not dot:
        stem, ext = base, ""
    if stem.lower() in _WINDOWS_RESERVED or not stem:
        stem = f"{default}_{stem}" if stem else default
    ext = ext[:16]
    room = max_length - (len(ext) + 1 if ext else 0)
    stem = stem[: max(room, 1)]
    return f"{stem}.{ext}" if ext else stem


@dataclass(frozen=True, slots=True)
class FileKind:
    """An accepted upload type: extensions, content types a browser may send, a content check."""

    name: str
    extensions: tuple[str, ...]
    content_types: tuple[str, ...]
    magic: tuple[bytes, ...] = ()
    text: bool = False


PDF = FileKind("PDF", (".pdf",), ("application/pdf",), magic=(b"%PDF-",))
PNG = FileKind("PNG image", (".png",), ("image/png",), magic=(b"\x89PNG\r\n\x1a\n",))
JPEG = FileKind("JPEG image", (".jpg", ".jpeg"), ("image/jpeg",), magic=(b"\xff\xd8\xff",))
CSV = FileKind(
    "CSV", (".csv",), ("text/csv", "application/csv", "application/vnd.ms-excel", "text/plain"), text=True
)
TXT = FileKind("text", (".txt",), ("text/plain",), text=True)
XLSX = FileKind(
    "Excel workbook",
    (".xlsx",),
    ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "application/octet-stream"),
    magic=(b"PK\x03\x04",),
)
XML = FileKind("XML", (".xml",), ("application/xml", "text/xml"), text=True)
ZIP = FileKind(
    "ZIP archive", (".zip",), ("application/zip", "application/x-zip-compressed"), magic=(b"PK\x03\x04",)
)
#: Signed consent forms and similar paperwork.
DOCUMENTS = (PDF, PNG, JPEG)


class UploadRejectedError(ValueError):
    """An upload refused for its name, type, content or size; the message names the file."""


@dataclass(frozen=True, slots=True)
class CheckedUpload:
    filename: str
    kind: FileKind
    size: int


def check_upload(
    filename: str | None,
    content_type: str | None,
    head: bytes,
    size: int,
    kinds: Iterable[FileKind],
    max_bytes: int,
) -> CheckedUpload:
    """Accept an upload only if its extension, declared type and first bytes agree with one kind.

    ``head`` is the start of the content (at least 512 bytes when the file is that long); ``size`` is
    the full size. Refuses empty and oversized files, and text files holding NUL bytes or invalid
    UTF-8 in their first bytes.
    """
    shown = safe_filename(filename or "", default="upload")
    if size <= 0:
        raise UploadRejectedError(f"{shown}: the file is empty")
    if size > max_bytes:
        raise UploadRejectedError(f"{shown}: the file is larger than {max_bytes // (1024 * 1024)} MiB")
    extension = "." + shown.rsplit(".", 1)[-1].lower() if "." in shown else ""
    declared = (content_type or "").split(";", 1)[0].strip().lower()
    allowed = list(kinds)
    for kind in allowed:
        if extension not in kind.extensions:
            continue
        if declared and declared not in kind.content_types and declared != "application/octet-stream":
            raise UploadRejectedError(f"{shown}: declared as {declared}, expected {kind.name}")
        if kind.magic and not any(head.startswith(m) for m in kind.magic):
            raise UploadRejectedError(f"{shown}: the content is not a {kind.name}")
        if kind.text:
            sample = head[:4096]
            if b"\x00" in sample:
                raise UploadRejectedError(f"{shown}: a {kind.name} file must not contain NUL bytes")
            try:
                sample.decode("utf-8")
            except UnicodeDecodeError as exc:
                if exc.start < len(sample) - 4:  # a character cut at the end of the sample is fine
                    raise UploadRejectedError(f"{shown}: a {kind.name} file must be UTF-8 text") from exc
        return CheckedUpload(shown, kind, size)
    names = ", ".join(sorted({e for k in allowed for e in k.extensions}))
    raise UploadRejectedError(f"{shown}: only {names} files are accepted")


def check_stream(
    filename: str | None,
    content_type: str | None,
    stream: BinaryIO,
    kinds: Iterable[FileKind],
    max_bytes: int,
) -> CheckedUpload:
    """``check_upload`` for a seekable file (e.g. ``UploadFile.file``); leaves it at position 0."""
    stream.seek(0, 2)
    size = stream.tell()
    stream.seek(0)
    head = stream.read(4096)
    stream.seek(0)
    return check_upload(filename, content_type, head, size, kinds, max_bytes)


# --- integer parameters -------------------------------------------------------------------------

#: Ids are 32-bit on PostgreSQL; larger numbers in a path or query are refused before any query runs.
INT_MIN, INT_MAX = -(2**31), 2**31 - 1


def _int_params(request: Request) -> Iterable[tuple[str, str, str]]:
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    for location, params, values in (
        ("path", dependant.path_params, request.path_params),
        ("query", dependant.query_params, request.query_params),
    ):
        for param in params:
            if param.field_info.annotation in (int, int | None) and param.alias in values:
                yield location, param.alias, str(values[param.alias])


async def integer_bounds(request: Request) -> None:
    """App-wide dependency: an integer path or query parameter must fit the database's integers."""
    from fastapi.exceptions import RequestValidationError

    errors = []
    for location, name, raw in _int_params(request):
        try:
            value = int(raw)
        except ValueError:
            continue  # FastAPI's own validation reports it
        if not INT_MIN <= value <= INT_MAX:
            errors.append(
                {
                    "loc": (location, name),
                    "msg": f"must be between {INT_MIN} and {INT_MAX}",
                    "type": "less_than_equal" if value > INT_MAX else "greater_than_equal",
                }
            )
    if errors:
        raise RequestValidationError(errors)
