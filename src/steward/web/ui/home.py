"""Each persona's home page: who they are acting as, a glance at their world, what to do next."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.responses import Response

from steward.domain.orgs import Role
from steward.domain.principal import Principal
from steward.domain.time import SchoolYear
from steward.store.base import now_utc
from steward.store.models import (
    Guardianship,
    Organization,
    SchoolEnrollment,
    Section,
    StaffAssignment,
    Student,
)
from steward.web.deps import Db, PagePrincipal
from steward.web.templating import render

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True, slots=True)
class NextStep:
    title: str
    text: str
    href: str | None = None


SUMMARIES: dict[Role, str] = {
    Role.TEACHER: "You see the students in your sections this school year.",
    Role.PRINCIPAL: "You see the students enrolled in your school this school year.",
    Role.COUNSELOR: "You see the students enrolled in your school this school year.",
    Role.REGISTRAR: "You may receive the records of students who seek to enroll in your district.",
    Role.DISTRICT_DATA_OFFICER: (
        "You run your district's data sharing: requests, agreements, consents and grants."
    ),
    Role.REVIEW_PANEL_MEMBER: "You review data requests in the district's panel cycles.",
    Role.PARTNER_STAFF: "You see consented students your district granted to your organization.",
    Role.RESEARCHER: "You receive de-identified data under an approved research agreement.",
    Role.VENDOR_INTEGRATION: "You receive roster data for provisioning under your school-official contract.",
    Role.AGENCY_ANALYST: "You receive aggregate data with small groups suppressed.",
    Role.PARENT: "You see your own children's records and who else has seen them.",
    Role.STUDENT: "You see your own records and who else has seen them.",
    Role.MEDIA: "Media requests go to the district's communications office; no student data is shared.",
    Role.PUBLIC: "Directory information only, for students who have not opted out.",
}

STEPS: dict[Role, list[NextStep]] = {
    Role.TEACHER: [
        NextStep(
            "See your students",
            "The roster of each of your sections, with what you may see and why.",
            "/portal/students",
        )
    ],
    Role.PRINCIPAL: [
        NextStep(
            "See your school's students", "Everyone enrolled in your school this year.", "/portal/students"
        )
    ],
    Role.COUNSELOR: [
        NextStep(
            "See your school's students", "Everyone enrolled in your school this year.", "/portal/students"
        )
    ],
    Role.REGISTRAR: [
        NextStep(
            "Request an incoming student's records",
            "By state ID, name and birth date; the sending district is asked.",
            "/transfers",
        )
    ],
    Role.DISTRICT_DATA_OFFICER: [
        NextStep(
            "Import a CEDARS file drop",
            "Run `steward import cedars DIR --district CODE` to refresh the roster index.",
        ),
        NextStep(
            "Check who can see a student",
            "Every person and organization, per dataset, with basis and evidence, at any instant.",
            "/access",
        ),
        NextStep(
            "Disclosure ledger", "By student, recipient or agreement; CSV export for audits.", "/ledger"
        ),
        NextStep(
            "Record transfers",
            "The log of records sent to other districts and the identity-match review queue.",
            "/transfers/log",
        ),
        NextStep("SLA dashboard", "Requests due, at risk and overdue in business days.", "/office/sla"),
        NextStep(
            "Health or safety emergency",
            "Record a threat to open a student's records for a time-boxed window (34 CFR 99.36).",
            "/emergencies",
        ),
        NextStep(
            "District settings",
            "Directory elements, floor year, thresholds, emergency window (never looser than FERPA).",
            "/settings/policy",
        ),
        NextStep(
            "Triage data requests", "New requests wait here for their path and checklist.", "/office/triage"
        ),
        NextStep(
            "People and accounts",
            "Invite staff and partners, grant roles that end with employment or agreements, suspend.",
            "/admin/accounts",
        ),
    ],
    Role.REVIEW_PANEL_MEMBER: [
        NextStep("Open the next cycle's agenda", "Vote and comment on each request.", "/panel")
    ],
    Role.PARTNER_STAFF: [
        NextStep(
            "Upload consents",
            "A student list (CSV or XLSX) with the signed consent forms.",
            "/partner/consents",
        ),
        NextStep(
            "See your students",
            "Consented students your district granted to your organization.",
            "/portal/students",
        ),
        NextStep(
            "Report package", "The 12 reports for your students, as CSV or one workbook.", "/portal/reports"
        ),
        NextStep(
            "Ask families for consent electronically",
            "Publish a consent request under your executed agreement; the district approves its wording.",
            "/consent-requests",
        ),
    ],
    Role.RESEARCHER: [
        NextStep(
            "Submit a research proposal",
            "The review panel meets in March, July and November.",
            "/requests/new",
        )
    ],
    Role.VENDOR_INTEGRATION: [
        NextStep("Provisioning feeds", "OneRoster packages for your contract's schools.")
    ],
    Role.AGENCY_ANALYST: [
        NextStep("Aggregate reports", "Enrollment, attendance, discipline and assessment, suppressed.")
    ],
    Role.PARENT: [
        NextStep(
            "See your children", "Their records, who can see them, and every disclosure.", "/portal/students"
        ),
        NextStep(
            "Family portal: consents and opt-outs",
            "Give, decline or revoke consent; opt out of directory information; who can see what and why.",
            "/family",
        ),
    ],
}


def glance(db: Session, principal: Principal) -> tuple[list[tuple[str, str]], str | None]:
    """Counts about the principal's own relationships (no student is named here)."""
    now = now_utc()
    year = SchoolYear.at(now)
    facts: list[tuple[str, str]] = [("School year", year.label())]
    empty: str | None = None
    if principal.role is Role.TEACHER:
        sections = db.scalars(
            select(Section)
            .join(StaffAssignment, StaffAssignment.section_id == Section.id)
            .where(
                StaffAssignment.person_id == principal.person_id,
                Section.school_year == year.end_year,
                StaffAssignment.valid_at(now),
            )
            .order_by(Section.title)
        ).all()
        facts.append(("Your sections this year", str(len(sections))))
        if sections:
            facts.append(("Sections", ", ".join(f"{s.title} ({s.local_id})" for s in sections[:8])))
        else:
            empty = "You have no sections this school year, so there are no students to show yet."
    elif principal.role in (Role.PRINCIPAL, Role.COUNSELOR):
        count = db.scalar(
            select(func.count(func.distinct(SchoolEnrollment.student_id))).where(
                SchoolEnrollment.school_id == principal.organization_id,
                SchoolEnrollment.valid_at(now),
            )
        )
        facts.append(("Students enrolled now", str(count or 0)))
        if not count:
            empty = "No students are enrolled in your school right now."
    elif principal.role is Role.PARENT:
        count = db.scalar(
            select(func.count())
            .select_from(Guardianship)
            .where(
                Guardianship.person_id == principal.person_id,
                Guardianship.valid_at(now),
            )
        )
        facts.append(("Children linked to your account", str(count or 0)))
        if not count:
            empty = "No child is linked to your account yet; the district links guardians from its records."
    elif principal.role is Role.DISTRICT_DATA_OFFICER:
        schools = db.scalar(
            select(func.count())
            .select_from(Organization)
            .where(Organization.parent_id == principal.organization_id)
        )
        students = db.scalar(
            select(func.count()).select_from(Student).where(Student.district_id == principal.organization_id)
        )
        facts += [("Schools", str(schools or 0)), ("Students in the roster index", str(students or 0))]
        if not students:
            empty = "The roster index is empty: import your district's CEDARS file drop first."
    return facts, empty


@router.get("/")
def home(request: Request, db: Db, principal: PagePrincipal) -> Response:
    org = db.get(Organization, principal.organization_id)
    facts, empty = glance(db, principal)
    return render(
        request,
        "home.html",
        {
            "principal": principal,
            "org_name": org.name if org else principal.organization_code,
            "role_summary": SUMMARIES.get(principal.role, ""),
            "facts": facts,
            "empty_state": empty,
            "steps": STEPS.get(principal.role, []),
        },
        db=db,
    )
