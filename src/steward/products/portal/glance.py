"""Student-at-a-Glance: one student's page for one viewer at one instant.

The set evaluator says whether the viewer may see the student at all (else None: the route answers
404) and which datasets; the point evaluator explains each dataset (basis, evidence, obligations)
or lists what is missing. Only the visible datasets' files are read from the district's source, at
the moment of asking; sections of the others say they are not shared, and why.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from markupsafe import Markup
from sqlalchemy.orm import Session

from steward.domain import records as r
from steward.domain.datasets import Dataset
from steward.domain.legal import LegalBasis
from steward.domain.orgs import OrgKind, Role
from steward.domain.principal import Principal
from steward.domain.time import DEFAULT_TIMEZONE, SchoolYear, local_date, utc
from steward.formats.cedars import Drop
from steward.policy import Actor, Decision
from steward.products.portal import catalog as c
from steward.products.portal import lines
from steward.products.portal.charts import Series, line_chart
from steward.products.portal.rows import (
    CHRONIC_SHARE,
    Bundle,
    Context,
    YearAttendance,
    attendance_years,
    bundles,
    demographics,
    discipline_incidents,
    enrolled_days,
    enrollment,
    is_state_test,
    marks,
    programs,
    roster,
    schedule,
)
from steward.store.access import Question, decide_batch
from steward.store.fact_loader import load_tenants
from steward.store.models import Organization, Student
from steward.store.visibility import visible_among
from steward.workflow.transfers.settings import source_directory

#: Roles the portal's student pages are for.
PORTAL_ROLES = frozenset({Role.PARTNER_STAFF, Role.TEACHER, Role.PRINCIPAL, Role.COUNSELOR, Role.PARENT})

#: Smarter Balanced scale score thresholds of level 3 ("met standard") by subject and grade tested.
PROFICIENCY_CUTS: dict[str, dict[str, int]] = {
    "ELA": {"3": 2432, "4": 2473, "5": 2502, "6": 2531, "7": 2552, "8": 2567, "10": 2583, "11": 2583},
    "MATH": {"3": 2436, "4": 2485, "5": 2528, "6": 2552, "7": 2567, "8": 2586, "10": 2628, "11": 2628},
}
SUBJECT_NAMES = {"ELA": "English language arts", "MATH": "Mathematics", "SCI": "Science"}


@dataclass(frozen=True, slots=True)
class SectionSpec:
    key: str
    title: str
    datasets: tuple[Dataset, ...]


HEADER = SectionSpec("directory", "Name and school", (Dataset.DIRECTORY,))
SECTIONS: tuple[SectionSpec, ...] = (
    SectionSpec("attendance", "Attendance", (Dataset.ATTENDANCE,)),
    SectionSpec("discipline", "Discipline", (Dataset.DISCIPLINE,)),
    SectionSpec("assessment", "Assessments", (Dataset.ASSESSMENT,)),
    SectionSpec("courses", "Courses and marks", (Dataset.SCHEDULE, Dataset.GRADES)),
    SectionSpec("programs", "Programs", (Dataset.PROGRAMS,)),
    SectionSpec("enrollment", "Enrollment history", (Dataset.ENROLLMENT,)),
    SectionSpec("demographics", "Demographics", (Dataset.DEMOGRAPHICS,)),
)


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why a dataset is (or is not) shown."""

    dataset: Dataset
    allowed: bool
    basis: LegalBasis | None
    evidence: tuple[str, ...]
    obligations: tuple[str, ...]
    missing: tuple[str, ...]

    @property
    def basis_text(self) -> str:
        return "" if self.basis is None else self.basis.display()


@dataclass(frozen=True, slots=True)
class Month:
    label: str
    days_enrolled: int
    days_absent: Decimal
    rate: float | None


@dataclass
class AttendanceView:
    year_label: str
    months: list[Month]
    years: list[YearAttendance]
    chart: Markup | None


@dataclass(frozen=True, slots=True)
class TestPoint:
    label: str
    assessment: str
    grade: str
    score: int
    level: int
    cut: int | None


@dataclass
class SubjectView:
    subject: str
    name: str
    points: list[TestPoint]
    chart: Markup | None


@dataclass
class Glance:
    student_id: int
    code: str
    local_id: str
    district_name: str
    viewer_role: Role
    at: datetime
    shown: frozenset[Dataset]
    explanations: list[Explanation]
    header: dict[str, Any] | None = None
    attendance: AttendanceView | None = None
    discipline: list[tuple[Any, ...]] | None = None
    assessments: list[SubjectView] | None = None
    schedule: list[tuple[Any, ...]] | None = None
    marks: list[tuple[Any, ...]] | None = None
    programs: list[tuple[Any, ...]] | None = None
    enrollment: list[tuple[Any, ...]] | None = None
    demographics: dict[str, Any] | None = None
    sections: list[dict[str, Any]] = field(default_factory=list)
    header_section: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str | None:
        return None if self.header is None else self.header["name"]

    @property
    def bases(self) -> list[LegalBasis]:
        return sorted({e.basis for e in self.explanations if e.allowed and e.basis is not None}, key=str)

    def explanation(self, dataset: Dataset) -> Explanation | None:
        return next((e for e in self.explanations if e.dataset is dataset), None)

    def reasons(self) -> list[tuple[list[Dataset], Explanation]]:
        """Allowed datasets grouped by identical basis, evidence and duties (one entry each)."""
        groups: dict[tuple[Any, ...], list[Explanation]] = {}
        for e in self.explanations:
            if e.allowed:
                groups.setdefault((e.basis, e.evidence, e.obligations), []).append(e)
        return [([e.dataset for e in found], found[0]) for found in groups.values()]


def _explanations(decisions: dict[Dataset, Decision], shown: frozenset[Dataset]) -> list[Explanation]:
    out = []
    for dataset in Dataset:
        d = decisions.get(dataset)
        if d is None:
            continue
        allowed = dataset in shown
        out.append(
            Explanation(
                dataset,
                allowed,
                d.basis if allowed else None,
                d.evidence if allowed else (),
                tuple(o.text for o in d.obligations) if allowed else (),
                () if allowed else (d.missing or ("no legal basis lets you see it",)),
            )
        )
    out.sort(key=lambda e: (not e.allowed, list(Dataset).index(e.dataset)))
    return out


def _month_label(key: int) -> str:
    return date(key // 100, key % 100, 1).strftime("%b %Y")


def _attendance(bundle: Bundle, ctx: Context) -> AttendanceView:
    years = attendance_years(bundle, ctx)
    if not years:
        return AttendanceView("", [], [], None)
    latest = years[-1].school_year
    enrolled = enrolled_days(bundle, ctx, latest, months=True)
    absent: dict[int, Decimal] = defaultdict(Decimal)
    for a in bundle.of(r.Absence):
        if a.school_year == latest:
            absent[a.absence_date.year * 100 + a.absence_date.month] += a.amount
    months = []
    for key in sorted(set(enrolled) | set(absent)):
        days = enrolled.get(key, 0)
        gone = absent.get(key, Decimal(0))
        rate = None if days <= 0 else round(max(0.0, 100 * (1 - float(gone) / days)), 1)
        months.append(Month(_month_label(key), days, gone, rate))
    label = SchoolYear(latest).label()
    chart = None
    rated = [m for m in months if m.rate is not None]
    if rated:
        line = round(100 * (1 - CHRONIC_SHARE), 1)
        low = min(min(m.rate for m in rated if m.rate is not None), line)
        chart = line_chart(
            "attendance-chart",
            f"Attendance by month, {label}",
            f"Share of enrolled school days attended each month of {label}, against the chronic absence "
            f"line at {line:g}% (absent 10% or more of school days). The table below gives the numbers.",
            [m.label for m in rated],
            [
                Series("Days attended (%)", [m.rate for m in rated]),
                Series(f"Chronic absence line ({line:g}%)", [line] * len(rated), reference=True),
            ],
            y_range=(max(0.0, (int(low) // 10) * 10 - 10), 100.0),
        )
    return AttendanceView(label, months, years, chart)


def _assessments(bundle: Bundle) -> list[SubjectView]:
    by_subject: dict[str, list[TestPoint]] = defaultdict(list)
    results: list[r.AssessmentResult] = sorted(bundle.of(r.AssessmentResult), key=lambda x: x.test_date)
    for x in results:
        cut = PROFICIENCY_CUTS.get(x.subject, {}).get(x.grade_tested) if is_state_test(x.assessment) else None
        by_subject[x.subject].append(
            TestPoint(
                f"{x.test_date:%b %Y}", x.assessment, x.grade_tested, x.scale_score, x.performance_level, cut
            )
        )
    out = []
    for subject in sorted(by_subject):
        points = by_subject[subject]
        name = SUBJECT_NAMES.get(subject, subject)
        chart = None
        if points:
            series = [Series("Scale score", [p.score for p in points])]
            if any(p.cut is not None for p in points):
                series.append(Series("Proficiency cut (level 3)", [p.cut for p in points], reference=True))
            values = [p.score for p in points] + [p.cut for p in points if p.cut is not None]
            chart = line_chart(
                f"assessment-{subject.lower()}-chart",
                f"{name}: scale scores over time",
                f"Scale score of each {name} test, against the score that meets standard (level 3) for the "
                "grade tested. The table below gives the numbers.",
                [p.label for p in points],
                series,
                y_range=(min(values) - 50, max(values) + 50),
            )
        out.append(SubjectView(subject, name, points, chart))
    return out


def _demographics(bundle: Bundle, ctx: Context) -> dict[str, Any] | None:
    rows = list(demographics(bundle, ctx))
    if not rows:
        return None
    names = [col.name for col in c.DEMOGRAPHICS.columns]
    return dict(zip(names, rows[0], strict=True))


def _header(bundle: Bundle, ctx: Context) -> dict[str, Any] | None:
    rows = list(roster(bundle, ctx))
    if not rows:
        return None
    values = dict(zip([col.name for col in c.ROSTER.columns], rows[0], strict=True))
    name = " ".join(v for v in (values["first_name"], values["middle_name"], values["last_name"]) if v)
    return {**values, "name": name}


def build_glance(
    db: Session, data_dir: Path, principal: Principal, student_id: int, at: datetime | None = None
) -> Glance | None:
    """The page's contents, or None when the viewer may see nothing of the student (404)."""
    if principal.role not in PORTAL_ROLES:
        return None
    when = utc(at or datetime.now().astimezone())
    actor = Actor.of(principal)
    seen = visible_among(
        db, principal.person_id, when, [student_id], actor=actor, directory_information=False
    ).get(student_id)
    if not seen:
        return None
    student = db.get(Student, student_id)
    district = db.get(Organization, student.district_id) if student is not None else None
    if student is None or district is None:
        return None
    decisions = {
        d.dataset: d for d in decide_batch(db, actor, [Question(student_id, ds) for ds in Dataset], when)
    }
    # Shown: what both evaluators allow (they are kept equal by property tests).
    shown = frozenset(ds for ds in seen if decisions[ds].allowed)
    if not shown:
        return None
    glance = Glance(
        student_id=student.id,
        code=f"{district.code}:{student.local_id}",
        local_id=student.local_id,
        district_name=district.name,
        viewer_role=principal.role,
        at=when,
        shown=shown,
        explanations=_explanations(decisions, shown),
    )
    tenants = load_tenants(db, [district.id])
    tz = tenants[str(district.id)].timezone if str(district.id) in tenants else DEFAULT_TIMEZONE
    today = local_date(when, tz)
    directory = source_directory(db, data_dir, district.id)
    references = ("A", "D", "F", "G") if Dataset.SCHEDULE in shown else ("A",)
    found = lines.read_students(
        directory, district.code, [student.local_id], c.prefixes_for(shown), references=()
    )
    as_of = min(today, Drop.open(directory).as_of or today)
    ctx = Context(lines.reference_table(directory, district.code, references), today, as_of)
    bundle = bundles(district.code, found.records).get(student.local_id) or Bundle(
        district.code, student.local_id
    )
    if Dataset.DIRECTORY in shown:
        glance.header = _header(bundle, ctx)
    if Dataset.ATTENDANCE in shown:
        glance.attendance = _attendance(bundle, ctx)
    if Dataset.DISCIPLINE in shown:
        glance.discipline = list(discipline_incidents(bundle, ctx))
    if Dataset.ASSESSMENT in shown:
        glance.assessments = _assessments(bundle)
    if Dataset.SCHEDULE in shown:
        latest = max((x.school_year for x in bundle.of(r.ScheduleEntry)), default=None)
        glance.schedule = [row for row in schedule(bundle, ctx) if row[2] == latest]
    if Dataset.GRADES in shown:
        glance.marks = list(marks(bundle, ctx))
    if Dataset.PROGRAMS in shown:
        glance.programs = list(programs(bundle, ctx))
    if Dataset.ENROLLMENT in shown:
        glance.enrollment = list(enrollment(bundle, ctx))
    if Dataset.DEMOGRAPHICS in shown:
        glance.demographics = _demographics(bundle, ctx)
    glance.sections = [_section(spec, glance, principal) for spec in SECTIONS]
    glance.header_section = _section(HEADER, glance, principal)
    return glance


def _section(spec: SectionSpec, glance: Glance, principal: Principal) -> dict[str, Any]:
    """A section's state: shown datasets, and for the others what would be needed."""
    hidden = [d for d in spec.datasets if d not in glance.shown]
    needs: list[str] = []
    if principal.organization_kind is OrgKind.PARTNER:
        for d in hidden:
            explanation = glance.explanation(d)
            if explanation is not None:
                needs.extend(explanation.missing)
    return {
        "key": spec.key,
        "title": spec.title,
        "datasets": spec.datasets,
        "shown": [d for d in spec.datasets if d in glance.shown],
        "hidden": hidden,
        "needs": list(dict.fromkeys(needs)),
    }


def evidence_label(ref: str) -> str:
    """``consent:C-1A2B`` as words a viewer can read."""
    kind, _, value = ref.partition(":")
    words = {
        "role": "your role assignment",
        "enrollment": "enrollment record",
        "section": "section",
        "section_enrollment": "section roster entry",
        "staff_assignment": "your teaching assignment",
        "guardianship": "guardianship on record",
        "dependency": "tax dependency record",
        "agreement": "agreement",
        "consent": "signed consent",
        "grant": "district grant",
        "training": "stewardship training",
        "request": "enrollment request",
        "emergency": "emergency record",
    }
    return f"{words.get(kind, kind)} {value}".strip()
