"""The embedded SFTP server: key-only, read-only, one chroot per recipient, downloads audited."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncssh
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from steward.audit.models import AuditEvent
from steward.audit.verify import verify
from steward.delivery import sftp
from steward.delivery.models import Package
from steward.delivery.packages import release
from steward.delivery.recipients import register_key
from steward.store.db import transaction
from tests import factories as f
from tests.delivery.conftest import World


@pytest.fixture
def engine(sqlite_engine: Engine) -> Engine:
    """The SFTP server's behaviour does not depend on the database (SQLite only)."""
    return sqlite_engine


async def _with_server(engine: Engine, world: World, client_work: object) -> object:
    server = await sftp.start(engine, world.data_dir, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        return await client_work(port)  # type: ignore[operator]
    finally:
        server.close()
        await server.wait_closed()


def test_recipient_downloads_its_package_and_nothing_else(
    engine: Engine, world: World, tmp_path: Path
) -> None:
    with transaction(engine) as db:
        release(db, world.data_dir, world.request())
        other = f.org(db, "other", "partner")
        other_key = asyncssh.generate_private_key("ssh-ed25519")
        register_key(db, other.id, other_key.export_public_key().decode())
    with transaction(engine) as db:
        release(db, world.data_dir, world.request(recipient_org_id=other.id, agreement_id=None))

    async def work(port: int) -> tuple[list[str], list[str], bytes]:
        async with (
            asyncssh.connect(
                "127.0.0.1", port, username="tutors", client_keys=[world.ssh_key], known_hosts=None
            ) as conn,
            conn.start_sftp_client() as client,
        ):
            names = sorted(n for n in await client.listdir(".") if n.endswith(".age"))
            root = sorted(n for n in await client.listdir("/../..") if n.endswith(".age"))
            await client.get(names[0], str(tmp_path / "got.age"))
            with pytest.raises(asyncssh.SFTPError):
                await client.put(str(world.files["students.csv"]), "upload.csv")
            with pytest.raises(asyncssh.SFTPError):
                await client.remove(names[0])
            return names, root, (tmp_path / "got.age").read_bytes()

    names, root, data = asyncio.run(_with_server(engine, world, work))
    with Session(engine) as db:
        mine = db.scalar(select(Package).where(Package.recipient_org_id == world.partner))
        assert mine is not None
        assert names == [mine.file_name]
        assert root == names  # the chroot holds
        assert len(data) == mine.size
        assert mine.downloads == 1
        actions = list(db.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
        assert actions.count("delivery.download") == 1
        assert actions.count("sftp.login") == 1
    assert verify(engine).ok


def test_unregistered_keys_and_passwords_are_refused(engine: Engine, world: World) -> None:
    stranger = asyncssh.generate_private_key("ssh-ed25519")

    async def work(port: int) -> int:
        refused = 0
        for options in (
            {"username": "tutors", "client_keys": [stranger]},
            {"username": "tutors", "client_keys": None, "password": "guess"},
            {"username": "nobody", "client_keys": [world.ssh_key]},
        ):
            with pytest.raises(asyncssh.PermissionDenied):
                await asyncssh.connect("127.0.0.1", port, known_hosts=None, agent_path=None, **options)
            refused += 1
        return refused

    assert asyncio.run(_with_server(engine, world, work)) == 3
