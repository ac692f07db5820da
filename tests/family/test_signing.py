"""Electronic consent: a signature is a verified consent and the district's grant from the instant of
signing, for the partner's point and set checks alike; a revocation ends both at its instant (the
engine denies from then on and replays the past unchanged); what was signed is kept exactly."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import Engine, select

from steward import i18n
from steward.domain.datasets import Dataset
from steward.domain.orgs import Role
from steward.family import signing
from steward.family.models import ConsentSignature
from steward.family.wording import text_sha256
from steward.policy.facts import ConsentStatus
from steward.store.access import check
from steward.store.base import now_utc
from steward.store.db import transaction
from steward.store.models import Person, Student
from steward.store.visibility import visible_among
from steward.workflow.common import NotAllowedError, WorkflowError
from steward.workflow.models import Consent, DependencyRecord, Grant
from steward.workflow.notifications.models import Notification
from tests import factories as f
from tests.family.conftest import Family, approved, family_principal

TICK = timedelta(microseconds=1)


def _sees(db: object, fam: Family, student: int, at: object) -> tuple[bool, bool]:
    """(point evaluator allows attendance, set evaluator lists the student) for the partner."""
    partner = fam.partner.person_id
    point = check(db, partner, student, Dataset.ATTENDANCE, at, role=Role.PARTNER_STAFF)  # type: ignore[arg-type]
    listed = visible_among(
        db,  # type: ignore[arg-type]
        partner,
        at,  # type: ignore[arg-type]
        [student],
        role=Role.PARTNER_STAFF,
        datasets=[Dataset.ATTENDANCE],
        directory_information=False,
    )
    return point.allowed, student in listed


def test_a_signature_counts_from_its_instant_and_a_revocation_ends_it_at_once(
    engine: Engine, family: Family
) -> None:
    fam = family
    student = fam.world.students[0]
    parent = fam.parent_of(student)
    with transaction(engine) as db:
        row = approved(db, fam, [student])
        code = row.code
    signed_at = now_utc()
    with transaction(engine) as db:
        assert _sees(db, fam, student, signed_at) == (False, False)
        shown = signing.shown(db, parent, code, student, "es")
        sig = signing.answer(
            db,
            parent,
            code,
            student,
            decision="signed",
            language="es",
            shown_sha256=shown.sha256,
            typed_name="  Pat0   Family0 ",
            how=signing.How("email_link", "password", False, 7, "127.0.0.1", "Chromium"),
            at=signed_at,
        )
        sig_id = sig.id
    with transaction(engine) as db:
        sig = db.get_one(ConsentSignature, sig_id)
        consent = db.get_one(Consent, sig.consent_id)
        grant = db.get_one(Grant, sig.grant_id)
        assert consent.status == ConsentStatus.VERIFIED.value
        assert consent.valid_from == signed_at
        assert consent.signed_at == signed_at
        assert consent.code.startswith("E-")
        assert consent.evidence_sha256 == sig.record_sha256
        assert consent.guardian_name == "Pat0 Family0"
        assert consent.reviewed_by_person_id is None
        assert grant.valid_from == signed_at
        assert grant.granted_by_person_id == fam.officer.person_id
        assert sig.text == shown.text
        assert sig.text_sha256 == text_sha256(shown.text)
        assert sig.language == "es"
        assert (sig.channel, sig.web_session_id, sig.client_address, sig.user_agent) == (
            "email_link",
            7,
            "127.0.0.1",
            "Chromium",
        )
        assert (
            signing._record_hash(sig, db.get_one(type(row), sig.request_id).wording_sha256 or "")
            == sig.record_sha256
        )
        assert _sees(db, fam, student, signed_at - TICK) == (False, False)
        assert _sees(db, fam, student, signed_at) == (True, True)
        assert _sees(db, fam, student, now_utc()) == (True, True)
        # Only what the request named: the consent does not reach grades.
        grades = check(db, fam.partner.person_id, student, Dataset.GRADES, now_utc(), role=Role.PARTNER_STAFF)
        assert not grades.allowed
    revoked_at = now_utc()
    with transaction(engine) as db:
        signing.revoke(db, parent, consent.id, at=revoked_at)
    with transaction(engine) as db:
        assert _sees(db, fam, student, revoked_at - TICK) == (True, True)
        assert _sees(db, fam, student, revoked_at) == (False, False)
        assert _sees(db, fam, student, now_utc()) == (False, False)
        consent = db.get_one(Consent, consent.id)
        assert consent.status == ConsentStatus.REVOKED.value
        assert consent.valid_to == revoked_at
        grant = db.get_one(Grant, grant.id)
        assert (grant.status, grant.valid_to) == ("revoked", revoked_at)
        assert db.get_one(ConsentSignature, sig_id).revoked_at == revoked_at
        subjects = set(
            db.scalars(select(Notification.subject).where(Notification.person_id == parent.person_id))
        )
        assert "Usted dio permiso a Tutoring Partners" in subjects
        assert "You took back your permission for Tutoring Partners" in subjects
        with pytest.raises(WorkflowError):
            signing.revoke(db, parent, consent.id)


def test_the_answer_must_match_the_text_shown_and_the_request_must_be_open(
    sqlite_engine: Engine, sqlite_family: Family
) -> None:
    fam = sqlite_family
    student = fam.world.students[1]
    parent = fam.parent_of(student)
    with transaction(sqlite_engine) as db:
        row = approved(db, fam, [student])
        english = signing.shown(db, parent, row.code, student, "en")
        with pytest.raises(WorkflowError, match="text changed"):
            signing.answer(
                db,
                parent,
                row.code,
                student,
                decision="signed",
                language="es",
                shown_sha256=english.sha256,
                typed_name="P",
            )
        with pytest.raises(WorkflowError, match="full name"):
            signing.answer(
                db, parent, row.code, student, decision="signed", language="en", shown_sha256=english.sha256
            )
        declined = signing.answer(
            db, parent, row.code, student, decision="declined", language="en", shown_sha256=english.sha256
        )
        assert declined.consent_id is None
        assert db.scalar(select(Consent.id).where(Consent.student_id == student)) is None
        signing.answer(
            db,
            parent,
            row.code,
            student,
            decision="signed",
            language="en",
            shown_sha256=english.sha256,
            typed_name="Pat",
        )
        with pytest.raises(WorkflowError, match="already gave"):
            signing.answer(
                db,
                parent,
                row.code,
                student,
                decision="signed",
                language="en",
                shown_sha256=english.sha256,
                typed_name="Pat",
            )
        row.status = "withdrawn"
        with pytest.raises(WorkflowError, match="closed"):
            signing.answer(
                db, parent, row.code, student, decision="declined", language="en", shown_sha256=english.sha256
            )


def test_only_the_rights_holder_of_a_named_student_answers(
    sqlite_engine: Engine, sqlite_family: Family
) -> None:
    fam = sqlite_family
    named, other = fam.world.students[2], fam.world.students[3]
    with transaction(sqlite_engine) as db:
        row = approved(db, fam, [named])
        for who, student in (
            (fam.parent_of(other), named),
            (fam.parent_of(other), other),
            (fam.partner, named),
        ):
            with pytest.raises(NotAllowedError):
                signing.shown(db, who, row.code, student, "en")
        with pytest.raises(NotAllowedError):
            signing.shown(db, fam.parent_of(named), "CR-NOPE", named, "en")


def test_at_18_the_student_answers_and_revokes_and_the_parent_may_not(
    sqlite_engine: Engine, sqlite_family: Family
) -> None:
    fam = sqlite_family
    student_id = fam.world.students[4]
    parent = fam.parent_of(student_id)
    with transaction(sqlite_engine) as db:
        student = db.get_one(Student, student_id)
        student.birth_date = date(now_utc().year - 19, 1, 15)
        person = Person(code="stu4", given_name="Stu4", family_name="Family4", email="stu4@example.org")
        db.add(person)
        db.flush()
        student.person_id = person.id
        db.flush()
        myself = family_principal(db, person.id, fam.world.district, Role.STUDENT)
        row = approved(db, fam, [student_id])
        told = set(
            db.scalars(select(Notification.person_id).where(Notification.kind == "family.consent_request"))
        )
        assert person.id in told
        assert parent.person_id not in told
        with pytest.raises(NotAllowedError):
            signing.shown(db, parent, row.code, student_id, "en")
        shown = signing.shown(db, myself, row.code, student_id, "en")
        assert "By signing, I, Stu4 Family4 (student ID 104)" in shown.text
        sig = signing.answer(
            db,
            myself,
            row.code,
            student_id,
            decision="signed",
            language="en",
            shown_sha256=shown.sha256,
            typed_name="Stu4",
        )
        assert sig.capacity == "student"
        assert check(
            db, fam.partner.person_id, student_id, Dataset.ATTENDANCE, now_utc(), role=Role.PARTNER_STAFF
        ).allowed
        # A parent with a dependency record may see, but the rights stay the student's.
        db.add(DependencyRecord(parent_person_id=parent.person_id, student_id=student_id, valid_from=f.EPOCH))
        db.flush()
        assert sig.consent_id is not None
        with pytest.raises(NotAllowedError):
            signing.revoke(db, parent, sig.consent_id)
        signing.revoke(db, myself, sig.consent_id)
        assert not check(
            db, fam.partner.person_id, student_id, Dataset.ATTENDANCE, now_utc(), role=Role.PARTNER_STAFF
        ).allowed


def test_a_paper_consent_can_be_revoked_from_the_portal_too(
    sqlite_engine: Engine, sqlite_family: Family
) -> None:
    from tests.workflow.helpers import partner_paperwork

    fam = sqlite_family
    student = fam.world.students[5]
    with transaction(sqlite_engine) as db:
        partner_paperwork(db, fam.world, [student])
        consent = db.scalar(select(Consent).where(Consent.student_id == student))
        assert consent is not None
        assert check(
            db, fam.partner.person_id, student, Dataset.ATTENDANCE, now_utc(), role=Role.PARTNER_STAFF
        ).allowed
        with i18n.use("es"):
            signing.revoke(db, fam.parent_of(student), consent.id)
        assert not check(
            db, fam.partner.person_id, student, Dataset.ATTENDANCE, now_utc(), role=Role.PARTNER_STAFF
        ).allowed
