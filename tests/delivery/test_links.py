"""Single-use, expiring, revocable download links."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from steward.audit.models import AuditEvent
from steward.delivery.links import claim, create_link, revoke_link
from steward.delivery.models import DownloadLink, Package
from steward.delivery.packages import DeliveryError, release, shred
from steward.store.base import now_utc
from steward.store.db import transaction
from tests.delivery.conftest import World


def _link(engine: Engine, world: World, ttl: timedelta = timedelta(hours=1)) -> tuple[int, str]:
    with transaction(engine) as db:
        package = release(db, world.data_dir, world.request())
    with transaction(engine) as db:
        row = db.get(Package, package.id)
        assert row is not None
        link, token = create_link(db, row, None, ttl)
        return link.id, token


def test_a_link_works_exactly_once_even_when_raced(engine: Engine, world: World) -> None:
    _, token = _link(engine, world)
    winners: list[int] = []

    def attempt() -> None:
        with transaction(engine) as db:
            if claim(db, token) is not None:
                winners.append(1)

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert winners == [1]
    with Session(engine) as db:
        assert db.scalar(select(Package.downloads)) == 1
        assert list(db.scalars(select(AuditEvent.action))).count("delivery.download") == 1


def test_expired_revoked_and_shredded_links_do_nothing(engine: Engine, world: World) -> None:
    link_id, token = _link(engine, world)
    with transaction(engine) as db:
        assert claim(db, token, now_utc() + timedelta(hours=2)) is None  # expired
        link = db.get(DownloadLink, link_id)
        assert link is not None
        revoke_link(db, link, None)
    with transaction(engine) as db:
        assert claim(db, token) is None
        assert claim(db, "not-a-token") is None
        package = db.scalar(select(Package))
        assert package is not None
        shred(db, world.data_dir, package, "test")
    with transaction(engine) as db:
        package = db.scalar(select(Package))
        assert package is not None
        with pytest.raises(DeliveryError, match="shredded"):
            create_link(db, package, None)
        package.status = "available"
        with pytest.raises(DeliveryError, match="between one minute"):
            create_link(db, package, None, timedelta(days=30))
        db.rollback()
