"""The worker's sweeps: idempotent state changes a clock triggers. Each is a plain function of the
database and an instant (tests call them directly with the instant they want); running one twice
changes nothing the second time.

- agreements, consents, grants and training whose ``valid_to`` has passed are marked expired
  (agreements: status ``expired``; the engine already stops counting them at ``valid_to``);
- an ended data agreement opens the recipients' destruction tasks (``steward.delivery``); overdue
  tasks are escalated weekly and the recipients told;
- requests at risk or overdue remind the data office, once per state and due date;
- before June 1, annual agreements without a renewal remind both parties (SPS: agreements and
  consents for the next school year are due by June 1).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from steward.config import Settings
from steward.delivery import destruction as delivery_destruction
from steward.delivery.models import DestructionTask
from steward.domain.orgs import OrgKind, Role
from steward.domain.time import SchoolYear, local_date
from steward.policy.facts import AgreementStatus, ConsentStatus
from steward.store.base import now_utc
from steward.store.db import transaction
from steward.store.models import Organization, Student
from steward.workflow import history
from steward.workflow.agreements import service as agreements
from steward.workflow.common import org_people, people_in_role, timezone_of
from steward.workflow.models import Agreement, Consent, Grant, Training
from steward.workflow.notifications import mailer
from steward.workflow.notifications.service import Message, notify
from steward.workflow.requests import service as requests
from steward.workflow.requests.machine import OPEN, Status
from steward.workflow.requests.models import DataRequest
from steward.workflow.settings import config_for
from steward.workflow.sla import service as sla
from steward.workflow.sla.clock import SlaState

RENEWAL_DUE = (6, 1)


@dataclass
class SweepResult:
    name: str
    changed: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.changed)


def expire_agreements(db: Session, now: datetime, data_dir: Path) -> SweepResult:
    """Agreements in force whose term ended: expired, Steward's copies shredded, destruction opened."""
    result = SweepResult("expire_agreements")
    due = db.scalars(
        select(Agreement)
        .where(
            Agreement.status.in_([AgreementStatus.EXECUTED.value, AgreementStatus.APPROVED.value]),
            Agreement.valid_to.is_not(None),
            Agreement.valid_to <= now,
        )
        .order_by(Agreement.id)
    ).all()
    for agreement in due:
        tasks = agreements.expire(db, agreement, data_dir, now)
        result.changed.append(agreement.code)
        people = org_people(db, agreement.organization_id) + people_in_role(
            db, Role.DISTRICT_DATA_OFFICER, agreement.district_id
        )
        end = local_date(agreement.valid_to or now, timezone_of(db, agreement.district_id))
        text = f"Agreement {agreement.code} ({agreement.title or agreement.kind}) ended on {end}."
        if tasks:
            text += " The data received under it must now be destroyed and a signed certificate uploaded."
        notify(
            db,
            people,
            Message("agreement.expired", f"agreement {agreement.code} expired", text, "/office/agreements"),
            district_id=agreement.district_id,
            dedupe_key=f"agreement-expired:{agreement.id}",
        )
    return result


def _mark_expired(
    db: Session,
    rows: list[Consent] | list[Grant] | list[Training],
    entity: str,
    now: datetime,
    district: Callable[[object], int | None],
) -> list[str]:
    changed = []
    for row in rows:
        row.expired_at = now
        if isinstance(row, Grant):
            row.status = "expired"
        history.record(
            db,
            entity,
            row.id,
            "expired",
            district_id=district(row),
            actor=None,
            to_status="expired",
            reason="reached the end of its validity",
            at=row.valid_to or now,
        )
        changed.append(getattr(row, "code", None) or f"{entity}:{row.id}")
    return changed


def expire_consents(db: Session, now: datetime) -> SweepResult:
    """Verified consents past their end (the school year's end, usually) are marked expired."""
    rows = list(
        db.scalars(
            select(Consent).where(
                Consent.status == ConsentStatus.VERIFIED.value,
                Consent.expired_at.is_(None),
                Consent.valid_to.is_not(None),
                Consent.valid_to <= now,
            )
        )
    )

    def district(row: object) -> int | None:
        student = db.get(Student, row.student_id)  # type: ignore[attr-defined]
        return None if student is None else student.district_id

    return SweepResult("expire_consents", _mark_expired(db, rows, "consent", now, district))


def expire_grants(db: Session, now: datetime) -> SweepResult:
    rows = list(
        db.scalars(
            select(Grant).where(Grant.status == "active", Grant.valid_to.is_not(None), Grant.valid_to <= now)
        )
    )
    return SweepResult("expire_grants", _mark_expired(db, rows, "grant", now, lambda r: r.district_id))  # type: ignore[attr-defined]


def expire_training(db: Session, now: datetime) -> SweepResult:
    rows = list(
        db.scalars(
            select(Training).where(
                Training.expired_at.is_(None), Training.valid_to.is_not(None), Training.valid_to <= now
            )
        )
    )

    def district(row: object) -> int | None:
        return None

    return SweepResult("expire_training", _mark_expired(db, rows, "training", now, district))


def destruction(db: Session, now: datetime) -> SweepResult:
    """Escalate overdue destruction tasks (weekly) and tell the recipients; requests whose task was
    certified elsewhere (the delivery API) are closed as destroyed."""
    result = SweepResult("destruction")
    for escalation in delivery_destruction.sweep(db, now):
        task = db.get(DestructionTask, escalation.task_id)
        assert task is not None
        result.changed.append(f"task:{task.id}:level{escalation.level}")
        notify(
            db,
            org_people(db, task.recipient_org_id)
            + people_in_role(db, Role.DISTRICT_DATA_OFFICER, task.district_id),
            Message(
                "destruction.overdue",
                f"destruction overdue by {escalation.days_overdue} days",
                f"The data received under agreement {task.agreement_id} were due to be destroyed by "
                f"{local_date(task.due_at, timezone_of(db, task.district_id))}. Destroy them and upload "
                "the signed certificate of destruction now.",
                "/requests",
            ),
            district_id=task.district_id,
            dedupe_key=f"destruction-overdue:{task.id}:{escalation.level}",
        )
    waiting = db.scalars(
        select(DataRequest).where(
            DataRequest.status == Status.DESTRUCTION_DUE.value, DataRequest.destruction_task_id.is_not(None)
        )
    ).all()
    for req in waiting:
        task = db.get(DestructionTask, req.destruction_task_id)
        if task is not None and task.status == "certified":
            requests.destroyed_elsewhere(db, req, now)
            result.changed.append(req.code)
    return result


def sla_reminders(db: Session, now: datetime) -> SweepResult:
    """Remind the data office of requests at risk or overdue (once per state and due date)."""
    result = SweepResult("sla_reminders")
    open_requests = db.scalars(
        select(DataRequest).where(DataRequest.status.in_([s.value for s in OPEN])).order_by(DataRequest.id)
    ).all()
    configs: dict[int, object] = {}
    for req in open_requests:
        config = configs.get(req.district_id) or config_for(db, req.district_id)
        configs[req.district_id] = config
        clocks = sla.clocks(db, req, config, now)  # type: ignore[arg-type]
        for label, clock in (("first response", clocks.first_response), ("fulfilment", clocks.fulfilment)):
            if clock is None or clock.state not in sla.ATTENTION:
                continue
            key = f"sla:{req.id}:{label}:{clock.state.value}:{clock.due.isoformat()}"
            word = "overdue" if clock.state is SlaState.OVERDUE else "at risk"
            created = notify(
                db,
                requests.office_people(db, req),
                Message(
                    "sla.reminder",
                    f"{req.code}: {label} {word}",
                    f"The {label} of request {req.code} ({req.title}) is {word}: due {clock.due}, "
                    f"{clock.remaining} business day(s) left.",
                    f"/requests/{req.code}",
                ),
                district_id=req.district_id,
                dedupe_key=key,
            )
            if created:
                result.changed.append(f"{req.code}:{label}:{word}")
    return result


def _renewal_window(today: date, days: int) -> bool:
    june = date(today.year, *RENEWAL_DUE)
    return june - timedelta(days=days) <= today < june


def renewal_reminders(db: Session, now: datetime) -> SweepResult:
    """Before June 1: annual agreements of this school year without a renewal draft remind the
    partner and the office; partners holding this year's consents are told next year's are due."""
    result = SweepResult("renewal_reminders")
    districts = db.scalars(select(Organization).where(Organization.kind == OrgKind.DISTRICT.value)).all()
    for district in districts:
        config = config_for(db, district.id)
        today = local_date(now, config.timezone)
        if not _renewal_window(today, config.renewal_reminder_days):
            continue
        year = SchoolYear.of(today).end_year
        june = date(today.year, *RENEWAL_DUE)
        annual = db.scalars(
            select(Agreement).where(
                Agreement.district_id == district.id,
                Agreement.annual.is_(True),
                Agreement.school_year == year,
                Agreement.status == AgreementStatus.EXECUTED.value,
            )
        ).all()
        officers = people_in_role(db, Role.DISTRICT_DATA_OFFICER, district.id)
        for agreement in annual:
            renewed = db.scalar(
                select(Agreement.id).where(Agreement.renewed_from_id == agreement.id).limit(1)
            )
            if renewed is not None:
                continue
            created = notify(
                db,
                org_people(db, agreement.organization_id) + officers,
                Message(
                    "agreement.renewal",
                    f"renew {agreement.code} by {june}",
                    f"Agreement {agreement.code} ends with the {SchoolYear(year).label()} school year. The "
                    f"agreement for {SchoolYear(year + 1).label()} and next year's consent forms are due by "
                    f"{june}.",
                    "/office/agreements",
                ),
                district_id=district.id,
                dedupe_key=f"renewal:{agreement.id}:{year}",
            )
            if created:
                result.changed.append(agreement.code)
    return result


def send_mail(engine: Engine, settings: Settings) -> SweepResult:
    sent = mailer.send_pending(engine, settings)
    return SweepResult(
        "send_mail",
        [f"sent:{sent.sent}", f"failed:{sent.failed}", f"skipped:{sent.skipped}"]
        if (sent.sent or sent.failed or sent.skipped)
        else [],
    )


def close_consent_requests(db: Session, now: datetime) -> SweepResult:
    """Families' consent requests past their school year close (the family portal's sweep)."""
    from steward.family.requests import close_ended

    closed = close_ended(db, now)
    return SweepResult("close_consent_requests", [f"closed:{closed}"] if closed else [])


def engine_sweeps(engine: Engine, settings: Settings, when: datetime) -> list[SweepResult]:
    """Sweeps that run their own transactions: tonight's partner report packages (idempotent, nothing
    before 02:00) and a signed checkpoint at the head of every audit chain that grew."""
    from steward.audit.checkpoints import checkpoint_all
    from steward.products.portal.nightly import run_nightly

    results = [run_nightly(engine, settings.data_dir, when)]
    signed = checkpoint_all(engine, settings.data_dir)
    results.append(SweepResult("audit_checkpoint", [f"{s.chain}@{s.seq}" for s in signed]))
    return results


DB_SWEEPS: tuple[str, ...] = (
    "expire_agreements",
    "expire_consents",
    "expire_grants",
    "expire_training",
    "destruction",
    "sla_reminders",
    "renewal_reminders",
    "close_consent_requests",
)
ENGINE_SWEEPS: tuple[str, ...] = ("portal_nightly", "audit_checkpoint")


def run(
    engine: Engine,
    settings: Settings,
    now: datetime | None = None,
    names: tuple[str, ...] = DB_SWEEPS,
    *,
    with_engine_sweeps: bool = True,
) -> list[SweepResult]:
    """Run the named sweeps, each in its own transaction, then the engine-level ones, then send the
    e-mails they queued."""
    when = now or now_utc()
    results: list[SweepResult] = []
    for name in names:
        with transaction(engine) as db:
            if name == "expire_agreements":
                results.append(expire_agreements(db, when, settings.data_dir))
            else:
                results.append(SWEEPS[name](db, when))
    if with_engine_sweeps:
        results.extend(engine_sweeps(engine, settings, when))
    results.append(send_mail(engine, settings))
    return results


SWEEPS: dict[str, Callable[[Session, datetime], SweepResult]] = {
    "expire_consents": expire_consents,
    "expire_grants": expire_grants,
    "expire_training": expire_training,
    "destruction": destruction,
    "sla_reminders": sla_reminders,
    "renewal_reminders": renewal_reminders,
    "close_consent_requests": close_consent_requests,
}
