"""Expiring, revocable, single-use download links, and the audit event of every download."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from steward.audit import EventSpec, append
from steward.audit.encoding import EventActor
from steward.audit.ledger import actor_of
from steward.delivery.models import DownloadLink, Package
from steward.delivery.packages import DeliveryError
from steward.domain.principal import Principal
from steward.store.base import now_utc

DEFAULT_TTL = timedelta(hours=72)
MAX_TTL = timedelta(days=14)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_link(
    db: Session, package: Package, actor: Principal | None, ttl: timedelta = DEFAULT_TTL
) -> tuple[DownloadLink, str]:
    """A new link; the token is returned once and only its hash is stored."""
    if package.status != "available":
        raise DeliveryError(f"package {package.id} is {package.status}: no link can be made")
    if not timedelta(minutes=1) <= ttl <= MAX_TTL:
        raise DeliveryError(f"a link lives between one minute and {MAX_TTL.days} days, not {ttl}")
    token = secrets.token_urlsafe(32)
    now = now_utc()
    link = DownloadLink(
        package_id=package.id,
        token_hash=token_hash(token),
        created_at=now,
        expires_at=now + ttl,
        created_by_person_id=actor.person_id if actor else None,
    )
    db.add(link)
    db.flush()
    append(
        db,
        EventSpec(
            action="delivery.link_created",
            district_id=package.district_id,
            actor=actor_of(actor),
            subject_type="package",
            subjects=[package.id],
            details={"link": link.id, "expires_at": link.expires_at},
        ),
    )
    return link, token


def revoke_link(db: Session, link: DownloadLink, actor: Principal | None) -> None:
    if link.revoked_at is not None or link.used_at is not None:
        return
    link.revoked_at = now_utc()
    package = db.get(Package, link.package_id)
    assert package is not None
    append(
        db,
        EventSpec(
            action="delivery.link_revoked",
            district_id=package.district_id,
            actor=actor_of(actor),
            subject_type="package",
            subjects=[package.id],
            details={"link": link.id},
        ),
    )


def claim(db: Session, token: str, now: datetime | None = None) -> Package | None:
    """Use a link once: an atomic UPDATE wins for exactly one caller; None if not usable."""
    now = now or now_utc()
    link_id = db.execute(
        update(DownloadLink)
        .where(
            DownloadLink.token_hash == token_hash(token),
            DownloadLink.used_at.is_(None),
            DownloadLink.revoked_at.is_(None),
            DownloadLink.expires_at > now,
        )
        .values(used_at=now)
        .returning(DownloadLink.id, DownloadLink.package_id)
        .execution_options(synchronize_session=False)
    ).one_or_none()
    if link_id is None:
        return None
    package = db.get(Package, link_id[1])
    if package is None or package.status != "available":
        return None
    record_download(db, package, "link", EventActor(org_id=package.recipient_org_id), {"link": link_id[0]})
    return package


def record_download(
    db: Session, package: Package, channel: str, actor: EventActor, details: dict[str, object] | None = None
) -> None:
    """The audit event of one download, written before the first byte leaves."""
    package.downloads += 1
    package.last_downloaded_at = now_utc()
    append(
        db,
        EventSpec(
            action="delivery.download",
            district_id=package.district_id,
            actor=actor,
            subject_type="package",
            subjects=[package.id],
            basis=package.basis,
            details={
                "package": package.uuid,
                "channel": channel,
                "sha256": package.sha256,
                **(details or {}),
            },
        ),
    )
