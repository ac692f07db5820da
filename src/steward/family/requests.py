"""Consent requests: a partner with an executed data sharing agreement publishes one (purpose,
datasets, school year, its own description, the students of its program); the district approves
the wording (frozen then) or returns it; the families of the named students are told in the portal
and by e-mail, in their language."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from steward import i18n
from steward.domain.datasets import Dataset
from steward.domain.orgs import RegistrationStatus, Role
from steward.domain.principal import Principal
from steward.domain.time import SchoolYear
from steward.family.common import language_of, new_code, rights_holders
from steward.family.models import ConsentRequest, ConsentRequestStudent, ConsentSignature
from steward.family.wording import OWN_FIELDS, Reader, Wording, title_of
from steward.policy.facts import AgreementKind, AgreementStatus
from steward.store.base import now_utc
from steward.store.models import Organization, Student
from steward.workflow import history
from steward.workflow.agreements.rules import destroy_by
from steward.workflow.agreements.service import terms_of
from steward.workflow.common import (
    InvalidError,
    NotAllowedError,
    Problem,
    WorkflowError,
    is_officer,
    people_in_role,
    school_year_end,
    timezone_of,
)
from steward.workflow.models import Agreement
from steward.workflow.notifications.service import Message, notify
from steward.workflow.requests.service import match_students

MAX_STUDENTS = 5000
MAX_TEXT = 2000


class Status:
    SUBMITTED = "submitted"
    APPROVED = "approved"
    RETURNED = "returned"
    WITHDRAWN = "withdrawn"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class RequestInput:
    """What a partner fills in."""

    district_id: int
    title: str
    purpose: str
    description: str
    datasets: Sequence[str]
    student_refs: Sequence[str]
    #: The organization's own translations, ``{"es": {"title": ..., "purpose": ..., ...}}``.
    translations: Mapping[str, Mapping[str, str]] | None = None


def executed_dsa(db: Session, org_id: int, district_id: int, at: datetime) -> Agreement | None:
    """The organization's data sharing agreement with the district in force now for this school year."""
    year = SchoolYear.at(at, timezone_of(db, district_id)).end_year
    return db.scalar(
        select(Agreement)
        .where(
            Agreement.organization_id == org_id,
            Agreement.district_id == district_id,
            Agreement.kind == AgreementKind.DSA.value,
            Agreement.status == AgreementStatus.EXECUTED.value,
            Agreement.valid_at(at),
            (Agreement.school_year.is_(None)) | (Agreement.school_year == year),
        )
        .order_by(Agreement.id.desc())
        .limit(1)
    )


def _clean_translations(raw: Mapping[str, Mapping[str, str]] | None) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for lang, values in (raw or {}).items():
        code = i18n.normalise(lang)
        if code is None or code == i18n.DEFAULT:
            continue
        kept = {
            k: str(values.get(k, "")).strip()[:MAX_TEXT] for k in OWN_FIELDS if str(values.get(k, "")).strip()
        }
        if kept:
            out[code] = kept
    return out


def publish(db: Session, actor: Principal, form: RequestInput, at: datetime | None = None) -> ConsentRequest:
    """A partner's staff member publishes a consent request; it waits for the district's approval."""
    at = at or now_utc()
    if actor.role is not Role.PARTNER_STAFF:
        raise NotAllowedError("only a community partner's staff publishes consent requests")
    org = db.get(Organization, actor.organization_id)
    district = db.get(Organization, form.district_id)
    problems: list[Problem] = []
    if org is None or org.registration_status != RegistrationStatus.REGISTERED.value:
        problems.append(Problem("", "your organization is not registered with the district"))
    if district is None or district.kind != "district":
        raise InvalidError([Problem("district", "choose a district")])
    dsa = executed_dsa(db, actor.organization_id, district.id, at)
    if dsa is None:
        problems.append(
            Problem(
                "",
                f"no executed data sharing agreement between your organization and {district.name} "
                "is in force for this school year",
            )
        )
    for name in ("title", "purpose", "description"):
        value = str(getattr(form, name)).strip()
        if not value:
            problems.append(Problem(name, "required"))
        elif len(value) > (200 if name == "title" else MAX_TEXT):
            problems.append(Problem(name, "too long"))
    chosen: list[str] = []
    for d in dict.fromkeys(form.datasets):
        try:
            chosen.append(Dataset(d).value)
        except ValueError:
            problems.append(Problem("datasets", f"unknown dataset {d!r}"))
    if not chosen:
        problems.append(Problem("datasets", "choose the records you ask to see"))
    elif dsa is not None:
        outside = [d for d in chosen if d not in (dsa.datasets or [])]
        if outside:
            problems.append(
                Problem("datasets", f"not covered by data sharing agreement {dsa.code}: {', '.join(outside)}")
            )
    refs = list(dict.fromkeys(r.strip() for r in form.student_refs if r.strip()))
    if not refs:
        problems.append(Problem("student_refs", "list the district or state IDs of your program's students"))
    elif len(refs) > MAX_STUDENTS:
        problems.append(Problem("student_refs", f"at most {MAX_STUDENTS} students per request"))
    elif any(len(r) > 50 for r in refs):
        problems.append(Problem("student_refs", "an ID is longer than 50 characters"))
    if problems:
        raise InvalidError(problems)
    assert dsa is not None
    assert district is not None
    tz = timezone_of(db, district.id)
    row = ConsentRequest(
        code=new_code("CR"),
        organization_id=actor.organization_id,
        district_id=district.id,
        agreement_id=dsa.id,
        school_year=SchoolYear.at(at, tz).end_year,
        status=Status.SUBMITTED,
        title=form.title.strip(),
        purpose=form.purpose.strip(),
        description=form.description.strip(),
        datasets=sorted(chosen, key=lambda d: list(Dataset).index(Dataset(d))),
        translations=_clean_translations(form.translations),
        student_refs=refs,
        submitted_by_person_id=actor.person_id,
        submitted_at=at,
        review_note="",
    )
    db.add(row)
    db.flush()
    history.record(
        db,
        "consent_request",
        row.id,
        "submitted",
        district_id=district.id,
        actor=actor,
        to_status=row.status,
        changes={"datasets": [None, row.datasets], "students": [None, len(refs)]},
        at=at,
    )
    notify(
        db,
        people_in_role(db, Role.DISTRICT_DATA_OFFICER, district.id, at),
        Message(
            "family.consent_request.submitted",
            f"consent request {row.code} from {org.name if org else ''} to review",
            f"{org.name if org else 'A partner'} published a consent request ({row.title}). Check its "
            "wording and approve it, or return it with your changes.",
            f"/consent-requests/{row.code}",
        ),
        district_id=district.id,
    )
    return row


def may_see(principal: Principal, row: ConsentRequest) -> bool:
    """The publishing organization and the district's data officers."""
    return principal.organization_id == row.organization_id or is_officer(principal, row.district_id)


def find(db: Session, principal: Principal, code: str) -> ConsentRequest:
    row = db.scalar(select(ConsentRequest).where(ConsentRequest.code == code))
    if row is None or not may_see(principal, row):
        raise NotAllowedError("not found")
    return row


def listing(db: Session, principal: Principal, limit: int = 500) -> list[ConsentRequest]:
    query = select(ConsentRequest).order_by(ConsentRequest.submitted_at.desc(), ConsentRequest.id.desc())
    if principal.role is Role.DISTRICT_DATA_OFFICER:
        query = query.where(ConsentRequest.district_id == principal.organization_id)
    elif principal.role is Role.PARTNER_STAFF:
        query = query.where(ConsentRequest.organization_id == principal.organization_id)
    else:
        return []
    return list(db.scalars(query.limit(limit)))


def wording_for(db: Session, row: ConsentRequest) -> Wording:
    """The frozen wording once approved; before, the wording as it would be approved now."""
    if row.wording is not None:
        return Wording.from_json(row.wording)
    org = db.get(Organization, row.organization_id)
    district = db.get(Organization, row.district_id)
    dsa = db.get(Agreement, row.agreement_id)
    tz = timezone_of(db, row.district_id)
    return Wording(
        request=row.code,
        organization=org.name if org else "",
        district=district.name if district else "",
        agreement=dsa.code if dsa else "",
        title=row.title,
        purpose=row.purpose,
        description=row.description,
        datasets=tuple(row.datasets),
        school_year=row.school_year,
        last_day=SchoolYear(row.school_year).last_day,
        destroy_by=destroy_by(terms_of(db, dsa), tz) if dsa is not None else None,
        translations={k: dict(v) for k, v in (row.translations or {}).items()},
    )


def unknown_refs(db: Session, row: ConsentRequest) -> list[str]:
    """The partner's IDs that match no student of the district (shown to the district only)."""
    _, unknown = match_students(db, row.district_id, row.student_refs)
    return unknown


def approve(
    db: Session,
    actor: Principal,
    row: ConsentRequest,
    note: str = "",
    at: datetime | None = None,
    *,
    base_url: str = "",
) -> ConsentRequest:
    """The district approves the wording: it is frozen, and the families are told (``base_url``:
    where families reach the hub, for the link in the e-mail)."""
    at = at or now_utc()
    if not is_officer(actor, row.district_id):
        raise NotAllowedError("only a data officer of the district approves consent requests")
    if row.status != Status.SUBMITTED:
        raise WorkflowError(f"consent request {row.code} is {row.status}, not submitted")
    dsa = executed_dsa(db, row.organization_id, row.district_id, at)
    if dsa is None or dsa.id != row.agreement_id:
        raise WorkflowError("the organization's data sharing agreement is no longer in force")
    ids, _ = match_students(db, row.district_id, row.student_refs)
    if not ids:
        raise WorkflowError("none of the listed IDs is a student of the district")
    tz = timezone_of(db, row.district_id)
    wording = wording_for(db, row)
    row.wording = wording.to_json()
    row.wording_sha256 = wording.sha256()
    row.status = Status.APPROVED
    row.reviewed_by_person_id = actor.person_id
    row.reviewed_at = at
    row.review_note = note.strip()
    row.closes_at = school_year_end(row.school_year, tz)
    db.execute(insert(ConsentRequestStudent), [{"request_id": row.id, "student_id": s} for s in ids])
    history.record(
        db,
        "consent_request",
        row.id,
        "approved",
        district_id=row.district_id,
        actor=actor,
        from_status=Status.SUBMITTED,
        to_status=row.status,
        changes={"wording_sha256": [None, row.wording_sha256], "students": [None, len(ids)]},
        reason=row.review_note,
        at=at,
    )
    tell_families(db, row, ids, at, base_url)
    notify(
        db,
        [row.submitted_by_person_id],
        Message(
            "family.consent_request.approved",
            f"consent request {row.code} approved",
            f"{db.get_one(Organization, row.district_id).name} approved the wording of your consent request "
            f"({row.title}). The families of your program's students can answer it now; each student "
            "appears in your list the moment a family signs.",
            f"/consent-requests/{row.code}",
        ),
        district_id=row.district_id,
    )
    return row


def request_link(row: ConsentRequest, student_id: int, *, email: bool = False) -> str:
    return f"/family/requests/{row.code}?student={student_id}" + ("&via=email" if email else "")


def tell_families(
    db: Session, row: ConsentRequest, student_ids: Sequence[int], at: datetime, base_url: str = ""
) -> int:
    """One notification (and e-mail) per family member who answers for each student, in their
    language, with the link to read and answer. Returns how many were written."""
    wording = wording_for(db, row)
    base = base_url.rstrip("/")
    written = 0
    for student in db.scalars(select(Student).where(Student.id.in_(sorted(set(student_ids))))):
        adult_self = student.person_id is not None and student.person_id in rights_holders(db, student, at)
        for person_id in rights_holders(db, student, at):
            with i18n.use(language_of(db, person_id)):
                reader = Reader(student.display_name, student.local_id, "student" if adult_self else "parent")
                subject = title_of(wording, reader)
                body = "\n\n".join(
                    (
                        i18n.gettext(
                            "%(org)s asks for your permission to see some school records. %(district)s "
                            "approved the wording."
                        )
                        % {"org": wording.organization, "district": wording.district},
                        i18n.gettext(
                            "Read it in plain words and answer yes or no in the family portal (sign in "
                            "first). You can change your mind at any time."
                        ),
                        base + request_link(row, student.id, email=True),
                        i18n.gettext("Paper forms remain possible: ask the organization for one."),
                    )
                )
            written += len(
                notify(
                    db,
                    [person_id],
                    Message("family.consent_request", subject, body),
                    district_id=row.district_id,
                    dedupe_key=f"consent-request:{row.code}:{student.id}",
                )
            )
    return written


def return_for_changes(
    db: Session, actor: Principal, row: ConsentRequest, note: str, at: datetime | None = None
) -> ConsentRequest:
    at = at or now_utc()
    if not is_officer(actor, row.district_id):
        raise NotAllowedError("only a data officer of the district reviews consent requests")
    if row.status != Status.SUBMITTED:
        raise WorkflowError(f"consent request {row.code} is {row.status}, not submitted")
    if not note.strip():
        raise WorkflowError("say what should change")
    row.status = Status.RETURNED
    row.reviewed_by_person_id = actor.person_id
    row.reviewed_at = at
    row.review_note = note.strip()
    history.record(
        db,
        "consent_request",
        row.id,
        "returned",
        district_id=row.district_id,
        actor=actor,
        from_status=Status.SUBMITTED,
        to_status=row.status,
        reason=row.review_note,
        at=at,
    )
    notify(
        db,
        [row.submitted_by_person_id],
        Message(
            "family.consent_request.returned",
            f"consent request {row.code}: changes asked",
            f"The district asks for changes before families see your consent request: {row.review_note}",
            f"/consent-requests/{row.code}",
        ),
        district_id=row.district_id,
    )
    return row


def withdraw(
    db: Session, actor: Principal, row: ConsentRequest, at: datetime | None = None
) -> ConsentRequest:
    """The organization stops asking; consents already given stay (each family may revoke its own)."""
    at = at or now_utc()
    if actor.organization_id != row.organization_id and not is_officer(actor, row.district_id):
        raise NotAllowedError("not found")
    if row.status not in (Status.SUBMITTED, Status.APPROVED, Status.RETURNED):
        raise WorkflowError(f"consent request {row.code} is {row.status}")
    before = row.status
    row.status = Status.WITHDRAWN
    row.closed_at = at
    history.record(
        db,
        "consent_request",
        row.id,
        "withdrawn",
        district_id=row.district_id,
        actor=actor,
        from_status=before,
        to_status=row.status,
        at=at,
    )
    return row


def close_ended(db: Session, at: datetime | None = None) -> int:
    """Sweep: approved requests past their school year close (idempotent)."""
    at = at or now_utc()
    rows = list(
        db.scalars(
            select(ConsentRequest).where(
                ConsentRequest.status == Status.APPROVED, ConsentRequest.closes_at <= at
            )
        )
    )
    for row in rows:
        row.status = Status.CLOSED
        row.closed_at = at
        history.record(
            db,
            "consent_request",
            row.id,
            "closed",
            district_id=row.district_id,
            actor=None,
            from_status=Status.APPROVED,
            to_status=Status.CLOSED,
            at=at,
        )
    return len(rows)


def is_open(row: ConsentRequest, at: datetime) -> bool:
    return row.status == Status.APPROVED and (row.closes_at is None or row.closes_at > at)


def offers_for(db: Session, student_id: int, at: datetime) -> list[ConsentRequest]:
    """Approved, open requests that name the student."""
    return list(
        db.scalars(
            select(ConsentRequest)
            .join(ConsentRequestStudent, ConsentRequestStudent.request_id == ConsentRequest.id)
            .where(
                ConsentRequestStudent.student_id == student_id,
                ConsentRequest.status == Status.APPROVED,
                (ConsentRequest.closes_at.is_(None)) | (ConsentRequest.closes_at > at),
            )
            .order_by(ConsentRequest.reviewed_at.desc(), ConsentRequest.id.desc())
        )
    )


def names_student(db: Session, row: ConsentRequest, student_id: int) -> bool:
    return (
        db.scalar(
            select(ConsentRequestStudent.student_id).where(
                ConsentRequestStudent.request_id == row.id, ConsentRequestStudent.student_id == student_id
            )
        )
        is not None
    )


@dataclass(frozen=True, slots=True)
class Tally:
    """Answers so far (counts only: the partner sees its students in its list, not here)."""

    offered: int
    signed: int
    declined: int
    revoked: int


def tally(db: Session, row: ConsentRequest) -> Tally:
    offered = int(
        db.scalar(
            select(func.count())
            .select_from(ConsentRequestStudent)
            .where(ConsentRequestStudent.request_id == row.id)
        )
        or 0
    )
    counts = dict(
        db.execute(
            select(ConsentSignature.decision, func.count())
            .where(ConsentSignature.request_id == row.id, ConsentSignature.revoked_at.is_(None))
            .group_by(ConsentSignature.decision)
        ).all()
    )
    revoked = int(
        db.scalar(
            select(func.count())
            .select_from(ConsentSignature)
            .where(ConsentSignature.request_id == row.id, ConsentSignature.revoked_at.is_not(None))
        )
        or 0
    )
    return Tally(offered, int(counts.get("signed", 0)), int(counts.get("declined", 0)), revoked)
