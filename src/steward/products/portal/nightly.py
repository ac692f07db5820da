"""The nightly package: once a night, for each registered partner organization, the package is made
for its data steward and placed, encrypted, in its SFTP directory.

The data steward is the organization's staff member whose partner role and stewardship training
are in force (SPS: one member of each organization is trained every year; the latest completion
wins). Each organization runs in its own transaction and at most once per local night
(``portal_generations.nightly_key``), so the sweep is idempotent and may run every few minutes:
before ``NIGHTLY_HOUR`` nothing happens. An organization with nobody to include, nobody trained or no
registered key gets a generation row saying so instead of a delivery.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from steward.domain.orgs import OrgKind, RegistrationStatus, Role
from steward.domain.principal import Principal
from steward.domain.time import DEFAULT_TIMEZONE, utc
from steward.products.portal import service
from steward.products.portal.models import PortalGeneration
from steward.store.base import now_utc
from steward.store.db import transaction
from steward.store.models import Organization, Person, RoleAssignment
from steward.workflow.models import Training
from steward.workflow.worker.sweeps import SweepResult

log = logging.getLogger("steward.portal")

#: Local hour from which the night's package is made.
NIGHTLY_HOUR = 2


def data_steward(db: Session, organization_id: int, at: datetime) -> Principal | None:
    """The partner's staff member in force at ``at`` with the latest stewardship training in
    force (else the longest-serving staff member, whose package will then be empty)."""
    rows = db.execute(
        select(Person, RoleAssignment)
        .join(RoleAssignment, RoleAssignment.person_id == Person.id)
        .where(
            RoleAssignment.organization_id == organization_id,
            RoleAssignment.role == Role.PARTNER_STAFF.value,
            RoleAssignment.valid_at(at),
        )
        .order_by(RoleAssignment.valid_from, Person.id)
    ).all()
    if not rows:
        return None
    org = db.get_one(Organization, organization_id)
    trained: dict[int, datetime] = {}
    for person_id, valid_from in db.execute(
        select(Training.person_id, Training.valid_from).where(
            Training.person_id.in_([p.id for p, _ in rows]), Training.valid_at(at)
        )
    ):
        trained[person_id] = max(valid_from, trained.get(person_id, valid_from))
    candidates = [p for p, _ in rows]
    ready = [p for p in candidates if p.id in trained]
    person = max(ready, key=lambda p: (trained[p.id], -p.id)) if ready else candidates[0]
    return Principal(
        person.id,
        person.code,
        Role.PARTNER_STAFF,
        org.id,
        org.code,
        OrgKind(org.kind),
        person.display_name,
    )


def nightly_key(organization_id: int, local_day: str) -> str:
    return f"{organization_id}:{local_day}"


def run_nightly(
    engine: Engine, data_dir: Path, now: datetime | None = None, *, timezone: str = DEFAULT_TIMEZONE
) -> SweepResult:
    """Make tonight's package for every registered partner not yet served tonight."""
    when = utc(now or now_utc())
    result = SweepResult("portal_nightly")
    local = when.astimezone(ZoneInfo(timezone))
    if local.hour < NIGHTLY_HOUR:
        return result
    day = local.date().isoformat()
    with transaction(engine) as db:
        partners = list(
            db.scalars(
                select(Organization.id)
                .where(
                    Organization.kind == OrgKind.PARTNER.value,
                    Organization.registration_status == RegistrationStatus.REGISTERED.value,
                )
                .order_by(Organization.id)
            )
        )
    for org_id in partners:
        key = nightly_key(org_id, day)
        with transaction(engine) as db:
            if db.scalar(select(PortalGeneration.id).where(PortalGeneration.nightly_key == key)):
                continue
            steward = data_steward(db, org_id, when)
            code = db.get_one(Organization, org_id).code
        if steward is None:
            continue
        try:
            with transaction(engine) as db:
                generation = service.deliver(db, data_dir, steward, kind="nightly", at=when, nightly_key=key)
                result.changed.append(f"{code}: {generation.status} ({generation.student_count} students)")
        except Exception as exc:  # one organization's failure must not stop the others
            log.exception("nightly package for %s failed", code)
            with transaction(engine) as db:
                service.failed(db, steward, when, f"{type(exc).__name__}: {exc}", nightly_key=key)
            result.changed.append(f"{code}: failed ({exc})")
    return result
