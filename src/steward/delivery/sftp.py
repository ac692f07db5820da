"""The embedded SFTP server (asyncssh): read-only, key-only, one chroot per recipient organization.

The SSH user name is the recipient organization's code; it logs in with one of the organization's
registered SSH keys (no passwords, no shell, no forwarding). Its root directory is its outbox, which
holds only its own finalized packages. Opening a package writes the download's audit event before
the first byte is served. Binds 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path
from typing import Any

import asyncssh
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from steward.audit import EventSpec, append
from steward.audit.encoding import EventActor
from steward.delivery.links import record_download
from steward.delivery.models import Package
from steward.delivery.packages import Layout, recover
from steward.delivery.recipients import login_keys
from steward.store.db import transaction
from steward.store.models import Organization

log = logging.getLogger("steward.sftp")

DEFAULT_PORT = 2222
_WRITE_FLAGS = asyncssh.FXF_WRITE | asyncssh.FXF_APPEND | asyncssh.FXF_CREAT | asyncssh.FXF_TRUNC


def host_key(data_dir: Path) -> asyncssh.SSHKey:
    """The server's Ed25519 host key, created once (0600) in the data directory."""
    path = Layout.of(data_dir).root / "ssh_host_ed25519_key"
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not path.exists():
        key = asyncssh.generate_private_key("ssh-ed25519")
        data = key.export_private_key()
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            return key
    return asyncssh.read_private_key(str(path))


def _denied(*_args: Any) -> None:
    raise asyncssh.SFTPPermissionDenied("this server is read-only")


class _Server(asyncssh.SSHServer):
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.peer = ""
        self.username = ""

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        peer = conn.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if peer else ""

    def begin_auth(self, username: str) -> bool:
        self.username = username
        return True

    def password_auth_supported(self) -> bool:
        return False

    def kbdint_auth_supported(self) -> bool:
        return False

    def host_based_auth_supported(self) -> bool:
        return False

    def public_key_auth_supported(self) -> bool:
        return True

    async def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        return await asyncio.to_thread(self._check_key, username, key)

    def _check_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        with Session(self.engine) as db:
            org = db.scalar(select(Organization).where(Organization.code == username))
            return org is not None and any(k.public_data == key.public_data for k in login_keys(db, org.id))

    async def auth_completed(self) -> None:
        await asyncio.to_thread(self._log_login)

    def _log_login(self) -> None:
        with transaction(self.engine) as db:
            org = db.scalar(select(Organization).where(Organization.code == self.username))
            if org is not None:
                append(
                    db,
                    EventSpec(
                        action="sftp.login", actor=EventActor(org_id=org.id), details={"peer": self.peer}
                    ),
                )


class _Sftp(asyncssh.SFTPServer):
    """Read-only view of one recipient's outbox; every open of a package is an audit event."""

    def __init__(self, chan: asyncssh.SSHServerChannel[bytes], engine: Engine, layout: Layout) -> None:
        self.engine = engine
        username = chan.get_extra_info("username")
        with Session(engine) as db:
            org = db.scalar(select(Organization).where(Organization.code == username))
        if org is None:  # cannot happen after authentication; refuse anyway
            raise asyncssh.SFTPPermissionDenied("unknown recipient")
        self.org_id = org.id
        root = layout.recipient_dir(org.code)
        root.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.root = os.path.realpath(root).encode()
        super().__init__(chan, chroot=self.root)

    async def open(self, path: bytes, pflags: int, attrs: asyncssh.SFTPAttrs) -> object:
        if pflags & _WRITE_FLAGS:
            raise asyncssh.SFTPPermissionDenied("this server is read-only")
        local = self.map_path(path)
        name = os.path.basename(local).decode(errors="replace")
        if os.path.dirname(local) != self.root or not os.path.isfile(local):
            raise asyncssh.SFTPNoSuchFile("no such package")
        if not await asyncio.to_thread(self._record, name):
            raise asyncssh.SFTPNoSuchFile("no such package")
        return open(local, "rb")  # asyncssh closes it

    def _record(self, file_name: str) -> bool:
        with transaction(self.engine) as db:
            package = db.scalar(
                select(Package).where(
                    Package.recipient_org_id == self.org_id,
                    Package.file_name == file_name,
                    Package.status == "available",
                )
            )
            if package is None:
                return False
            record_download(db, package, "sftp", EventActor(org_id=self.org_id))
            return True

    def open56(self, *_args: Any) -> object:
        raise asyncssh.SFTPOpUnsupported("SFTP version 3 only")

    write = setstat = fsetstat = lsetstat = remove = mkdir = rmdir = rename = posix_rename = _denied  # type: ignore[assignment]
    symlink = link = _denied  # type: ignore[assignment]


async def start(
    engine: Engine, data_dir: Path, host: str = "127.0.0.1", port: int = DEFAULT_PORT
) -> asyncssh.SSHAcceptor:
    """Start serving; returns the acceptor (``.close()`` to stop, ``.sockets`` for the bound port)."""
    recover(engine, data_dir)
    layout = Layout.of(data_dir)
    layout.ensure()
    return await asyncssh.create_server(
        lambda: _Server(engine),
        host,
        port,
        server_host_keys=[host_key(data_dir)],
        sftp_factory=lambda chan: _Sftp(chan, engine, layout),
        sftp_version=3,
        allow_scp=False,
        agent_forwarding=False,
        x11_forwarding=False,
        allow_pty=False,
        login_timeout=60,
    )
