"""The end of an agreement: crypto-shred Steward's copies, open the recipient's destruction task
(default deadline 45 days, OSPI), accept the signed certificate, escalate overdue tasks."""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.audit import EventSpec, append
from steward.audit.ledger import actor_of
from steward.delivery.models import DestructionTask, Package
from steward.delivery.packages import DEFAULT_DESTRUCTION_DAYS, DeliveryError, Layout, shred
from steward.domain.principal import Principal
from steward.domain.time import local_midnight
from steward.store.base import now_utc
from steward.store.models import TenantSettings
from steward.workflow.models import Agreement

ESCALATE_EVERY = timedelta(days=7)
MAX_CERTIFICATE_BYTES = 10 * 1024 * 1024
_EXTENSION = re.compile(r"\.(pdf|png|jpe?g|txt|sig|asc)$", re.I)


def end_agreement(
    db: Session,
    data_dir: Path,
    agreement_id: int,
    ended_at: datetime | None = None,
    actor: Principal | None = None,
    deadline_days: int = DEFAULT_DESTRUCTION_DAYS,
) -> list[DestructionTask]:
    """Shred every package of the agreement and open one destruction task per recipient.

    The deadline is the agreement's own ``destroy_by`` when it has one, else ``deadline_days`` after
    the end. Idempotent: a second call shreds nothing new and opens no second task.
    """
    agreement = db.get(Agreement, agreement_id)
    if agreement is None:
        raise DeliveryError(f"no agreement with id {agreement_id}")
    now = now_utc()
    if ended_at is None:  # ended by hand before its term: now; found ended by the sweep: its end
        ended_at = min(agreement.valid_to, now) if agreement.valid_to is not None else now
    packages = list(db.scalars(select(Package).where(Package.agreement_id == agreement.id)))
    for package in packages:
        shred(db, data_dir, package, f"agreement {agreement.code} ended", actor)
    if agreement.destroy_by is not None:
        settings = db.get(TenantSettings, agreement.district_id)
        due = local_midnight(
            agreement.destroy_by + timedelta(days=1), settings.timezone if settings else "UTC"
        )
    else:
        due = ended_at + timedelta(days=deadline_days)
    recipients = {agreement.organization_id} | {p.recipient_org_id for p in packages}
    tasks = []
    for org_id in sorted(recipients):
        task = db.scalar(
            select(DestructionTask).where(
                DestructionTask.agreement_id == agreement.id, DestructionTask.recipient_org_id == org_id
            )
        )
        if task is None:
            task = DestructionTask(
                district_id=agreement.district_id,
                agreement_id=agreement.id,
                recipient_org_id=org_id,
                opened_at=now_utc(),
                due_at=due,
            )
            db.add(task)
            db.flush()
            append(
                db,
                EventSpec(
                    action="destruction.opened",
                    district_id=agreement.district_id,
                    actor=actor_of(actor),
                    subject_type="destruction_task",
                    subjects=[task.id],
                    details={"agreement": agreement.id, "recipient_org": org_id, "due_at": due},
                ),
            )
        tasks.append(task)
    return tasks


def submit_certificate(
    db: Session,
    data_dir: Path,
    task: DestructionTask,
    content: bytes,
    filename: str,
    signer_name: str,
    signer_title: str,
    destroyed_on: date,
    actor: Principal | None,
) -> DestructionTask:
    """Store the recipient's signed certificate of destruction and close the task."""
    if task.status == "certified":
        raise DeliveryError(f"destruction task {task.id} is already certified")
    if not content:
        raise DeliveryError(f"{filename}: the certificate file is empty")
    if len(content) > MAX_CERTIFICATE_BYTES:
        raise DeliveryError(f"{filename}: the certificate is larger than 10 MB")
    match = _EXTENSION.search(filename)
    if match is None:
        raise DeliveryError(
            f"{filename}: upload the signed certificate as PDF, PNG, JPEG, TXT or a signature file"
        )
    if not signer_name.strip():
        raise DeliveryError("name the person who signed the certificate")
    if destroyed_on > now_utc().date() + timedelta(days=1):
        raise DeliveryError(f"the destruction date {destroyed_on} lies in the future")
    digest = hashlib.sha256(content).hexdigest()
    layout = Layout.of(data_dir)
    layout.ensure()
    stored = layout.certificates / f"task-{task.id}-{digest[:16]}{match.group(0).lower()}"
    fd = os.open(stored, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    now = now_utc()
    task.status = "certified"
    task.certified_at = now
    task.certificate_sha256 = digest
    task.certificate_file = stored.name
    task.certificate_name = filename[-200:]
    task.signer_name = signer_name.strip()[:200]
    task.signer_title = signer_title.strip()[:200]
    task.destroyed_on = destroyed_on
    task.certified_by_person_id = actor.person_id if actor else None
    append(
        db,
        EventSpec(
            action="destruction.certified",
            district_id=task.district_id,
            actor=actor_of(actor),
            subject_type="destruction_task",
            subjects=[task.id],
            evidence=[f"certificate:{digest}"],
            details={
                "agreement": task.agreement_id,
                "recipient_org": task.recipient_org_id,
                "signer": task.signer_name,
                "destroyed_on": destroyed_on,
                "late": now > task.due_at,
            },
        ),
    )
    return task


def end_expired_agreements(db: Session, data_dir: Path, now: datetime | None = None) -> list[DestructionTask]:
    """Run ``end_agreement`` for every agreement that has ended and still has an unshredded package.

    A scheduled sweep (``steward delivery sweep``), so that an agreement's end shreds Steward's
    copies and opens the recipient's task even when nobody ends it by hand.
    """
    now = now or now_utc()
    ended = db.execute(
        select(Agreement.id, Agreement.valid_to)
        .join(Package, Package.agreement_id == Agreement.id)
        .where(Agreement.valid_to.is_not(None), Agreement.valid_to <= now, Package.status == "available")
        .distinct()
    ).all()
    tasks: list[DestructionTask] = []
    for agreement_id, valid_to in ended:
        tasks.extend(end_agreement(db, data_dir, agreement_id, ended_at=valid_to))
    return tasks


@dataclass(frozen=True, slots=True)
class Escalation:
    task_id: int
    level: int
    days_overdue: int


def sweep(db: Session, now: datetime | None = None) -> list[Escalation]:
    """Mark overdue tasks and raise their escalation level once per week overdue (idempotent)."""
    now = now or now_utc()
    raised = []
    for task in db.scalars(
        select(DestructionTask).where(DestructionTask.status != "certified", DestructionTask.due_at <= now)
    ):
        overdue = now - task.due_at
        level = 1 + overdue // ESCALATE_EVERY
        if level <= task.escalation_level:
            continue
        task.status = "overdue"
        task.escalation_level = level
        task.last_escalated_at = now
        append(
            db,
            EventSpec(
                action="destruction.overdue" if level == 1 else "destruction.escalated",
                district_id=task.district_id,
                subject_type="destruction_task",
                subjects=[task.id],
                outcome="overdue",
                details={
                    "agreement": task.agreement_id,
                    "recipient_org": task.recipient_org_id,
                    "level": level,
                    "days_overdue": overdue.days,
                },
            ),
        )
        raised.append(Escalation(task.id, level, overdue.days))
    return raised
