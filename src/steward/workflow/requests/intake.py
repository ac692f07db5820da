"""What a data request must say before it is accepted (pure): the intake fields of ODA-03 and
OSPI's request form, with a justification for every sensitive element and student IDs whenever the
request names specific students (ODA-03: requests without ID numbers are not filled)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from steward.domain.datasets import ELEMENTS, Dataset, Sensitivity
from steward.domain.orgs import OrgKind
from steward.workflow.common import Problem

LEVELS: dict[str, str] = {
    "aggregate": "Aggregate counts (small groups suppressed)",
    "deidentified": "De-identified student-level data",
    "identifiable": "Identifiable student roster data",
}
STUDENT_LEVEL = frozenset({"deidentified", "identifiable"})
MAX_TEXT = 20_000
MAX_STUDENTS = 50_000

#: What kind of requester an organization makes (the triage path starts from it).
KIND_OF_ORG: dict[str, str] = {
    OrgKind.PARTNER.value: "partner",
    OrgKind.RESEARCH_ORG.value: "research",
    OrgKind.AGENCY.value: "agency",
    OrgKind.STATE_AGENCY.value: "agency",
    OrgKind.MEDIA.value: "media",
    OrgKind.VENDOR.value: "vendor",
}
NEVER_DISCLOSED = frozenset({"demographics.ssn"})


@dataclass
class RequestInput:
    """The intake form, as typed values (the web form and the JSON API both fill one)."""

    district_id: int
    title: str = ""
    purpose: str = ""
    audience: str = ""
    summary: str = ""
    level: str = "aggregate"
    datasets: list[str] = field(default_factory=list)
    elements: list[str] = field(default_factory=list)
    justifications: dict[str, str] = field(default_factory=dict)
    school_years: list[int] = field(default_factory=list)
    population: str = ""
    names_students: bool = False
    student_refs: list[str] = field(default_factory=list)
    timeline: str = ""
    needed_by: date | None = None
    security_plan: str = ""
    access_list: list[str] = field(default_factory=list)
    destruction_method: str = ""
    #: The requester says this is a public records request (it goes to the city's process).
    public_records: bool = False


def element_sensitivity(name: str) -> Sensitivity | None:
    """Sensitivity of ``dataset.element`` (None: not an element Steward knows)."""
    dataset, _, element = name.partition(".")
    try:
        ds = Dataset(dataset)
    except ValueError:
        return None
    for e in ELEMENTS[ds]:
        if e.name == element:
            return e.sensitivity
    return None


def sensitive_elements(elements: list[str]) -> list[str]:
    """The listed elements that need a justification (sensitive status: programs, discipline
    actions, homelessness, foster care)."""
    return [e for e in elements if element_sensitivity(e) is Sensitivity.SENSITIVE]


def base_elements(datasets: list[str]) -> list[str]:
    """The standard file when no element is listed: every standard and quasi-identifying element of
    the datasets (identifiers and sensitive elements must be asked for by name)."""
    out: list[str] = []
    for name in datasets:
        try:
            ds = Dataset(name)
        except ValueError:
            continue
        out.extend(
            f"{ds.value}.{e.name}"
            for e in ELEMENTS[ds]
            if e.sensitivity in (Sensitivity.STANDARD, Sensitivity.QUASI_IDENTIFIER)
        )
    return out


def _label(year: int) -> str:
    return f"{year - 1}-{year % 100:02d}"


def _blank(text: str) -> bool:
    return not text.strip()


def check(form: RequestInput, *, today: date, floor_year: int, current_year: int) -> list[Problem]:
    """Every problem with the form (empty: it may be submitted). ``current_year`` is the school
    year in progress (ending year); data are shared from ``floor_year`` on."""
    problems: list[Problem] = []

    def need(name: str, value: str, what: str) -> None:
        if _blank(value):
            problems.append(Problem(name, f"{what} is required"))
        elif len(value) > MAX_TEXT:
            problems.append(Problem(name, f"{what} is longer than {MAX_TEXT} characters"))

    need("title", form.title, "a short title")
    need("purpose", form.purpose, "the purpose (how the data will be used)")
    need("audience", form.audience, "the intended audience")
    need("summary", form.summary, "a summary of the data requested")
    need("population", form.population, "the student population")
    if form.level not in LEVELS:
        problems.append(Problem("level", f"choose one of {', '.join(LEVELS)}"))
    known = {d.value for d in Dataset}
    unknown = [d for d in form.datasets if d not in known]
    if unknown:
        problems.append(Problem("datasets", f"unknown datasets {', '.join(unknown)}"))
    if not form.datasets:
        problems.append(Problem("datasets", "name at least one dataset"))
    for name in form.elements:
        dataset = name.partition(".")[0]
        sensitivity = element_sensitivity(name)
        if sensitivity is None:
            problems.append(Problem("elements", f"{name} is not a known element (write dataset.element)"))
        elif dataset not in form.datasets:
            problems.append(
                Problem("elements", f"{name} belongs to {dataset}, which the request does not name")
            )
        elif name in NEVER_DISCLOSED:
            problems.append(Problem("elements", f"{name} is never disclosed"))
        elif sensitivity is Sensitivity.IDENTIFIER and form.level != "identifiable":
            problems.append(
                Problem(
                    "elements", f"{name} is a direct identifier: only identifiable requests may include it"
                )
            )
    for name in sensitive_elements(form.elements):
        if _blank(form.justifications.get(name, "")):
            problems.append(
                Problem(
                    f"justification:{name}",
                    f"{name} is sensitive: explain how it relates to the scope of the request",
                )
            )
    if not form.school_years:
        problems.append(Problem("school_years", "name at least one school year"))
    for year in form.school_years:
        if year < floor_year:
            problems.append(
                Problem(
                    "school_years",
                    f"{_label(year)} is before {_label(floor_year)}, the earliest year shared",
                )
            )
        elif year > current_year:
            problems.append(Problem("school_years", f"{_label(year)} has not started"))
    if form.names_students and not [r for r in form.student_refs if r.strip()]:
        problems.append(
            Problem(
                "student_ids",
                "the request names specific students, so their district or state student ID numbers "
                "are required: requests without ID numbers are not filled",
            )
        )
    if len(form.student_refs) > MAX_STUDENTS:
        problems.append(Problem("student_ids", f"at most {MAX_STUDENTS} student IDs per request"))
    if form.needed_by is not None and form.needed_by < today:
        problems.append(Problem("needed_by", "the date you need the data by has passed"))
    if form.level in STUDENT_LEVEL:
        need("security_plan", form.security_plan, "a data security plan (storage, encryption, access)")
        need("destruction_method", form.destruction_method, "the destruction method")
        if not [a for a in form.access_list if a.strip()]:
            problems.append(Problem("access_list", "list everyone who will have access to the data"))
    return problems
