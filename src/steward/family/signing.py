"""Electronic consent (34 CFR 99.30(d)): an authenticated parent or eligible student reads the
approved wording in their language and signs or declines. A signature records who, when, the exact
text (and its SHA-256) and how; it becomes an ordinary verified consent at once (no manual review:
the signer is authenticated and the signer rule is checked here and again by the engine) plus the
district's grant for that student, as the district approved when it approved the wording.

Revocation ends the consent (and that grant) at the instant of revoking, so the decision engine
denies from then on while past decisions replay unchanged.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from steward import i18n
from steward.domain.principal import Principal
from steward.domain.time import local_date
from steward.family import requests
from steward.family.common import Capacity, language_of, new_code, require_rights
from steward.family.models import ConsentRequest, ConsentSignature
from steward.family.wording import Reader, Wording, plain_text, text_sha256, title_of
from steward.policy.facts import ConsentStatus
from steward.store.base import now_utc
from steward.store.models import Organization, Student
from steward.workflow import history
from steward.workflow.common import NotAllowedError, WorkflowError, timezone_of
from steward.workflow.consents import service as consents
from steward.workflow.models import Consent, Grant, GrantDataset, GrantStudent
from steward.workflow.notifications.service import Message, notify


@dataclass(frozen=True, slots=True)
class How:
    """How the signer reached the form and proved who they are."""

    channel: str = "portal"  # or "email_link"
    auth_method: str = "password"
    second_factor: bool = False
    web_session_id: int | None = None
    client_address: str = ""
    user_agent: str = ""


@dataclass(frozen=True, slots=True)
class Shown:
    """The text a family member is shown for one request and one student, in one language."""

    request: ConsentRequest
    student: Student
    capacity: Capacity
    language: str
    wording: Wording
    reader: Reader
    title: str
    text: str
    sha256: str


def reader_for(student: Student, capacity: Capacity) -> Reader:
    return Reader(
        student.display_name, student.local_id, "student" if capacity is Capacity.STUDENT else "parent"
    )


def shown(
    db: Session, principal: Principal, code: str, student_id: int, language: str, at: datetime | None = None
) -> Shown:
    """What the principal reads before answering: only the rights holder of a student the approved
    request names (404 otherwise)."""
    at = at or now_utc()
    standing = require_rights(db, principal, student_id, at)
    row = db.scalar(select(ConsentRequest).where(ConsentRequest.code == code))
    if row is None or row.wording is None or not requests.names_student(db, row, student_id):
        raise NotAllowedError("not found")
    wording = Wording.from_json(row.wording)
    reader = reader_for(standing.student, standing.capacity)
    with i18n.use(language) as lang:
        text = plain_text(wording, reader)
        title = title_of(wording, reader)
    return Shown(
        row, standing.student, standing.capacity, lang, wording, reader, title, text, text_sha256(text)
    )


def answers(db: Session, request_id: int, student_id: int) -> list[ConsentSignature]:
    """Every answer for the student to the request, newest first."""
    return list(
        db.scalars(
            select(ConsentSignature)
            .where(ConsentSignature.request_id == request_id, ConsentSignature.student_id == student_id)
            .order_by(ConsentSignature.at.desc(), ConsentSignature.id.desc())
        )
    )


def standing_signature(db: Session, request_id: int, student_id: int) -> ConsentSignature | None:
    """The signature in force (signed, not revoked), if any."""
    for answer in answers(db, request_id, student_id):
        if answer.decision == "signed" and answer.revoked_at is None:
            return answer
    return None


def _record_hash(sig: ConsentSignature, wording_sha256: str) -> str:
    body = {
        "signature": sig.code,
        "request": sig.request_id,
        "wording_sha256": wording_sha256,
        "student": sig.student_id,
        "person": sig.person_id,
        "capacity": sig.capacity,
        "decision": sig.decision,
        "at": sig.at.isoformat(),
        "language": sig.language,
        "text_sha256": sig.text_sha256,
        "typed_name": sig.typed_name,
        "channel": sig.channel,
        "auth_method": sig.auth_method,
        "second_factor": sig.second_factor,
        "web_session": sig.web_session_id,
        "client_address": sig.client_address,
        "user_agent": sig.user_agent,
    }
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def answer(
    db: Session,
    principal: Principal,
    code: str,
    student_id: int,
    *,
    decision: str,
    language: str,
    shown_sha256: str,
    typed_name: str = "",
    how: How | None = None,
    at: datetime | None = None,
) -> ConsentSignature:
    """Sign (``decision="signed"``) or decline the request for the student, exactly as shown.

    Refused when the text shown is not the text this request and language render now (the
    wording or the reader changed), when the request is closed, or when a signature already
    stands."""
    at = at or now_utc()
    how = how or How()
    if decision not in ("signed", "declined"):
        raise WorkflowError("answer yes or no")
    seen = shown(db, principal, code, student_id, language, at)
    row = seen.request
    if not requests.is_open(row, at):
        raise WorkflowError(i18n.gettext("This request is closed: it can no longer be answered."))
    if shown_sha256 != seen.sha256:
        raise WorkflowError(
            i18n.gettext("The text changed since you opened it. Please read it again before answering.")
        )
    name = " ".join(typed_name.split())[:200]
    if decision == "signed":
        if not name:
            raise WorkflowError(i18n.gettext("Type your full name to sign."))
        if standing_signature(db, row.id, student_id) is not None:
            raise WorkflowError(i18n.gettext("You already gave this permission."))
    sig = ConsentSignature(
        code=new_code("ES"),
        request_id=row.id,
        student_id=student_id,
        person_id=principal.person_id,
        capacity=seen.capacity.value,
        decision=decision,
        at=at,
        language=seen.language,
        text=seen.text,
        text_sha256=seen.sha256,
        typed_name=name,
        channel=how.channel if how.channel in ("portal", "email_link") else "portal",
        auth_method=how.auth_method[:16],
        second_factor=how.second_factor,
        web_session_id=how.web_session_id,
        client_address=how.client_address[:64],
        user_agent=how.user_agent[:300],
        record_sha256="",
    )
    sig.record_sha256 = _record_hash(sig, row.wording_sha256 or "")
    db.add(sig)
    db.flush()
    district_id = seen.student.district_id
    if decision == "signed":
        consent = _consent(db, principal, row, seen, sig, at)
        sig.consent_id = consent.id
        sig.grant_id = _grant(db, row, student_id, seen.wording, at).id
    history.record(
        db,
        "consent_signature",
        sig.id,
        decision,
        district_id=district_id,
        actor=principal,
        to_status=decision,
        changes={"text_sha256": [None, sig.text_sha256], "language": [None, sig.language]},
        subjects=[student_id],
        request_ref=row.code,
        at=at,
    )
    _confirm(db, principal, seen, sig)
    return sig


def _consent(
    db: Session, principal: Principal, row: ConsentRequest, seen: Shown, sig: ConsentSignature, at: datetime
) -> Consent:
    """The ordinary consent row the engine reads: recorded through the consents service, then
    verified by the signature itself and counted from the instant of signing."""
    tz = timezone_of(db, seen.student.district_id)
    consent = consents.record(
        db,
        principal,
        student_id=seen.student.id,
        organization_id=row.organization_id,
        signed_by_person_id=principal.person_id,
        guardian_name=sig.typed_name,
        signed_on=local_date(at, tz),
        school_year=row.school_year,
        datasets=list(seen.wording.datasets),
        purpose=seen.wording.purpose,
    )
    consent.code = f"E-{sig.code.split('-', 1)[1]}"
    consent.signed_at = at
    consent.valid_from = at
    consent.evidence_sha256 = sig.record_sha256
    if not consents.signer_is_guardian(db, consent):
        raise NotAllowedError("not found")
    consent.status = ConsentStatus.VERIFIED.value
    consent.reviewed_at = at
    history.record(
        db,
        "consent",
        consent.id,
        "verified",
        district_id=seen.student.district_id,
        actor=None,
        from_status=ConsentStatus.PENDING.value,
        to_status=consent.status,
        reason=f"electronic signature {sig.code} (34 CFR 99.30(d)): signer authenticated, no manual review",
        at=at,
    )
    return consent


def _grant(db: Session, row: ConsentRequest, student_id: int, wording: Wording, at: datetime) -> Grant:
    """The district's right-to-view for this student: given when it approved the request, for the
    students whose families sign (granted by the approving officer; written by the system)."""
    assert row.closes_at is not None
    grant = Grant(
        code=f"G-{new_code('E').split('-', 1)[1]}",
        district_id=row.district_id,
        organization_id=row.organization_id,
        school_id=None,
        granted_by_person_id=row.reviewed_by_person_id,
        valid_from=at,
        valid_to=row.closes_at,
        status="active",
        reason=f"consent request {row.code}: the family signed electronically",
        school_year=row.school_year,
        created_at=at,
    )
    db.add(grant)
    db.flush()
    db.execute(insert(GrantStudent), [{"grant_id": grant.id, "student_id": student_id}])
    db.execute(insert(GrantDataset), [{"grant_id": grant.id, "dataset": d} for d in wording.datasets])
    history.record(
        db,
        "grant",
        grant.id,
        "granted",
        district_id=row.district_id,
        actor=None,
        to_status="active",
        changes={"students": [None, 1], "datasets": [None, list(wording.datasets)]},
        reason=grant.reason,
        request_ref=row.code,
        at=at,
    )
    return grant


def _confirm(db: Session, principal: Principal, seen: Shown, sig: ConsentSignature) -> None:
    """A copy of the answer for the family, in the language they answered in."""
    with i18n.use(sig.language):
        if sig.decision == "signed":
            subject = i18n.gettext("You gave %(org)s permission") % {"org": seen.wording.organization}
            lines = [
                i18n.gettext("You signed: %(title)s") % {"title": seen.title},
                i18n.gettext(
                    "Signature %(code)s. You can take your permission back at any time in the family portal."
                )
                % {"code": sig.code},
            ]
        else:
            subject = i18n.gettext("You said no to %(org)s") % {"org": seen.wording.organization}
            lines = [i18n.gettext("You declined: %(title)s") % {"title": seen.title}]
        lines.append(i18n.gettext("The text you read:"))
        lines.append(sig.text)
    notify(
        db,
        [principal.person_id],
        Message(f"family.consent.{sig.decision}", subject, "\n\n".join(lines)),
        district_id=seen.student.district_id,
    )


def revoke(db: Session, principal: Principal, consent_id: int, at: datetime | None = None) -> Consent:
    """The family takes back a consent (electronic or paper) now: it stops counting at this instant;
    an electronic one also ends the grant it brought."""
    at = at or now_utc()
    consent = db.get(Consent, consent_id)
    if consent is None:
        raise NotAllowedError("not found")
    standing = require_rights(db, principal, consent.student_id, at)
    if consent.status not in (ConsentStatus.VERIFIED.value, ConsentStatus.PENDING.value):
        raise WorkflowError(i18n.gettext("This permission is no longer in force."))
    if consent.valid_to is not None and consent.valid_to <= at:
        raise WorkflowError(i18n.gettext("This permission is no longer in force."))
    reason = "taken back by the family in the family portal"
    if standing.capacity is Capacity.PARENT:
        consents.revoke(db, principal, consent, reason, at=at)
    else:
        _revoke_as_student(db, principal, consent, reason, at)
    sig = db.scalar(select(ConsentSignature).where(ConsentSignature.consent_id == consent.id))
    if sig is not None:
        sig.revoked_at = at
        sig.revoked_by_person_id = principal.person_id
        grant = db.get(Grant, sig.grant_id) if sig.grant_id is not None else None
        if grant is not None and grant.status == "active":
            changes: dict[str, list[object]] = {}
            if grant.valid_to is None or grant.valid_to > at:
                changes["valid_to"] = [grant.valid_to, at]
                grant.valid_to = max(at, grant.valid_from)
            grant.status = "revoked"
            grant.revoked_at = at
            history.record(
                db,
                "grant",
                grant.id,
                "revoked",
                district_id=grant.district_id,
                actor=principal,
                from_status="active",
                to_status="revoked",
                changes=changes,
                reason=f"the family took back consent {consent.code}",
                at=at,
            )
    org = db.get(Organization, consent.organization_id)
    with i18n.use(language_of(db, principal.person_id)):
        subject = i18n.gettext("You took back your permission for %(org)s") % {"org": org.name if org else ""}
        body = i18n.gettext(
            "%(org)s can no longer see these records from now on. Records it already received stay "
            "under its agreement and must be destroyed."
        ) % {"org": org.name if org else ""}
    notify(
        db,
        [principal.person_id],
        Message("family.consent.revoked", subject, body),
        district_id=standing.student.district_id,
    )
    return consent


def _revoke_as_student(
    db: Session, principal: Principal, consent: Consent, reason: str, at: datetime
) -> None:
    """The consents service lets guardians and officers revoke; an eligible student revokes their
    own the same way (validity ends now, status revoked, history and audit event)."""
    student = db.get(Student, consent.student_id)
    assert student is not None
    assert student.person_id == principal.person_id
    before = consent.status
    changes: dict[str, list[object]] = {}
    if consent.valid_to is None or consent.valid_to > at:
        changes["valid_to"] = [consent.valid_to, at]
        consent.valid_to = max(at, consent.valid_from)
    consent.status = ConsentStatus.REVOKED.value
    consent.reason = reason
    history.record(
        db,
        "consent",
        consent.id,
        "revoked",
        district_id=student.district_id,
        actor=principal,
        from_status=before,
        to_status=consent.status,
        changes=changes,
        reason=reason,
        at=at,
    )
