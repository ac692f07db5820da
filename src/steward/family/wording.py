"""The plain-language text of a consent request, in the reader's language, and its hashes.

A family reads sections built here from the wording the district approved; the signature keeps the
exact text (``plain_text``) and its SHA-256, so what was signed can be shown word for word later.
Short sentences, everyday words, one idea per paragraph. Pure: no I/O, only the current language
(``steward.i18n.use``).
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from steward.domain.datasets import Dataset
from steward.domain.legal import LegalBasis
from steward.domain.orgs import Role
from steward.domain.time import SchoolYear
from steward.i18n import N_, current, format_date, gettext

#: Each dataset in a family's words: a short name and what it holds.
DATASET_WORDS: dict[Dataset, tuple[str, str]] = {
    Dataset.DIRECTORY: (
        N_("Directory information"),
        N_("name, age, grade level and dates of enrollment"),
    ),
    Dataset.DEMOGRAPHICS: (
        N_("Background"),
        N_("date of birth, gender, race and ethnicity, languages, ZIP code and student ID numbers"),
    ),
    Dataset.ENROLLMENT: (
        N_("Enrollment"),
        N_("school, grade, and the dates of starting or leaving a school"),
    ),
    Dataset.ATTENDANCE: (N_("Attendance"), N_("days present and absent, and whether absences were excused")),
    Dataset.DISCIPLINE: (
        N_("Discipline"),
        N_("incidents at school and the actions taken, such as suspensions"),
    ),
    Dataset.ASSESSMENT: (N_("Test results"), N_("scores and levels on state and district tests")),
    Dataset.GRADES: (N_("Grades"), N_("courses, final grades and credits")),
    Dataset.PROGRAMS: (
        N_("Programs"),
        N_("special education, Section 504 plans, English learner services and free or reduced-price meals"),
    ),
    Dataset.SCHEDULE: (N_("Class schedule"), N_("classes, terms and teachers")),
}

#: Why someone may see a child's records, in a family's words (the citation is shown beside it).
BASIS_WORDS: dict[LegalBasis, str] = {
    LegalBasis.CONSENT: N_("With written consent from a parent (or the student at 18)"),
    LegalBasis.PARENT_OR_ELIGIBLE_STUDENT: N_("A parent, or the student at 18 or older"),
    LegalBasis.SCHOOL_OFFICIAL: N_("School staff who need the records to do their job"),
    LegalBasis.TRANSFER: N_("A school where the student is enrolling"),
    LegalBasis.AUDIT_EVALUATION: N_("Checking or evaluating education programs"),
    LegalBasis.STUDIES: N_("A study for the district, under a written agreement"),
    LegalBasis.HEALTH_SAFETY_EMERGENCY: N_("A health or safety emergency"),
    LegalBasis.DIRECTORY_INFORMATION: N_("Directory information"),
    LegalBasis.DEIDENTIFIED: N_("Data with names and IDs removed"),
    LegalBasis.JUDICIAL_ORDER: N_("A court order or subpoena"),
    LegalBasis.FINANCIAL_AID: N_("Financial aid the student applied for"),
    LegalBasis.JUVENILE_JUSTICE: N_("Juvenile justice officials, as state law allows"),
    LegalBasis.ACCREDITATION: N_("An accrediting organization"),
    LegalBasis.DEPENDENT_STUDENT_PARENT: N_("A parent who claims the student as a tax dependent"),
    LegalBasis.POSTSECONDARY: N_("A college the student applied to or attends"),
}

#: Role names as the page header shows them (``Role.label``), for the catalog.
ROLE_LABELS: dict[Role, str] = {
    Role.TEACHER: N_("Teacher"),
    Role.PRINCIPAL: N_("Principal"),
    Role.COUNSELOR: N_("Counselor"),
    Role.REGISTRAR: N_("Registrar"),
    Role.DISTRICT_DATA_OFFICER: N_("District data officer"),
    Role.REVIEW_PANEL_MEMBER: N_("Review panel member"),
    Role.PARTNER_STAFF: N_("Partner staff"),
    Role.RESEARCHER: N_("Researcher"),
    Role.VENDOR_INTEGRATION: N_("Vendor integration"),
    Role.AGENCY_ANALYST: N_("Agency analyst"),
    Role.MEDIA: N_("Media"),
    Role.PARENT: N_("Parent"),
    Role.STUDENT: N_("Student"),
    Role.PUBLIC: N_("Public"),
}

#: The organization's own fields a family reads; each may come translated by the organization.
OWN_FIELDS = ("title", "purpose", "description")


def dataset_name(dataset: Dataset | str) -> str:
    return gettext(DATASET_WORDS[Dataset(dataset)][0])


def dataset_meaning(dataset: Dataset | str) -> str:
    return gettext(DATASET_WORDS[Dataset(dataset)][1])


def basis_name(basis: LegalBasis | str | None) -> str:
    if basis is None:
        return ""
    return gettext(BASIS_WORDS[LegalBasis(basis)])


def role_name(role: Role | str) -> str:
    return gettext(ROLE_LABELS[Role(role)])


@dataclass(frozen=True, slots=True)
class Wording:
    """Everything a family reads about one consent request, frozen when the district approves it."""

    request: str
    organization: str
    district: str
    agreement: str
    title: str
    purpose: str
    description: str
    datasets: tuple[str, ...]
    school_year: int
    #: The last day a consent given under the request counts (the school year's last day).
    last_day: date
    destroy_by: date | None = None
    #: The organization's translations: ``{"es": {"title": ..., "purpose": ..., "description": ...}}``.
    translations: dict[str, dict[str, str]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["datasets"] = list(self.datasets)
        data["last_day"] = self.last_day.isoformat()
        data["destroy_by"] = None if self.destroy_by is None else self.destroy_by.isoformat()
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Wording:
        return cls(
            request=str(data["request"]),
            organization=str(data["organization"]),
            district=str(data["district"]),
            agreement=str(data["agreement"]),
            title=str(data["title"]),
            purpose=str(data["purpose"]),
            description=str(data["description"]),
            datasets=tuple(str(d) for d in data["datasets"]),
            school_year=int(data["school_year"]),
            last_day=date.fromisoformat(str(data["last_day"])),
            destroy_by=None
            if data.get("destroy_by") is None
            else date.fromisoformat(str(data["destroy_by"])),
            translations={
                str(lang): {str(k): str(v) for k, v in values.items()}
                for lang, values in dict(data.get("translations") or {}).items()
            },
        )

    def sha256(self) -> str:
        """The approved wording's fingerprint (canonical JSON)."""
        canonical = json.dumps(self.to_json(), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def own(self, name: str) -> tuple[str, bool]:
        """The organization's ``title``/``purpose``/``description`` in the current language when it
        gave one, else its English text; and whether that is a translation by the organization."""
        translated = self.translations.get(current(), {}).get(name, "").strip()
        if translated:
            return translated, True
        return str(getattr(self, name)), current() == "en"


@dataclass(frozen=True, slots=True)
class Section:
    heading: str
    paragraphs: tuple[str, ...] = ()
    items: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Reader:
    """Who reads (and may sign): the child's name and ID, and whether the reader is the parent or
    the student (18 or older)."""

    student_name: str
    student_ref: str
    capacity: str  # "parent" or "student"


def title_of(w: Wording, reader: Reader) -> str:
    if reader.capacity == "student":
        return gettext("Permission to share your school records with %(org)s") % {"org": w.organization}
    return gettext("Permission to share %(child)s’s school records with %(org)s") % {
        "child": reader.student_name,
        "org": w.organization,
    }


def sections(w: Wording, reader: Reader) -> list[Section]:
    """The text a family reads, section by section, in the current language."""
    org, district = w.organization, w.district
    child = reader.student_name
    own_student = reader.capacity == "student"
    year = SchoolYear(w.school_year).label()
    title, _ = w.own("title")
    purpose, purpose_translated = w.own("purpose")
    description, description_translated = w.own("description")
    note = gettext("(written by %(org)s in English)") % {"org": org}
    asking = (
        gettext("%(org)s asks for your permission to see some of your school records.")
        if own_student
        else gettext("%(org)s asks for your permission to see some of %(child)s’s school records.")
    ) % {"org": org, "child": child}
    out = [
        Section(
            gettext("Who is asking"),
            (
                asking,
                gettext("%(district)s checked this request and approved these words.")
                % {"district": district},
                gettext("How %(org)s describes itself:") % {"org": org}
                + " "
                + description
                + ("" if description_translated else " " + note),
            ),
        ),
        Section(
            gettext("Why"),
            (
                title,
                purpose + ("" if purpose_translated else " " + note),
                gettext("%(org)s may use the records only for this purpose.") % {"org": org},
            ),
        ),
        Section(
            gettext("Which records"),
            (gettext("Only these records, and only while your permission lasts:"),),
            tuple(f"{dataset_name(d)}: {dataset_meaning(d)}" for d in w.datasets),
        ),
        Section(
            gettext("For how long"),
            (
                gettext(
                    "Your permission starts when you sign. It ends on %(day)s, the end of the "
                    "%(year)s school year, unless you take it back sooner."
                )
                % {"day": format_date(w.last_day), "year": year},
            ),
        ),
        Section(
            gettext("What %(org)s promises") % {"org": org},
            (
                gettext("%(org)s has a data sharing agreement with %(district)s (%(agreement)s).")
                % {"org": org, "district": district, "agreement": w.agreement},
                gettext(
                    "It may not sell the records, use them for advertising, or give them to anyone "
                    "else without your permission."
                ),
                *(
                    (gettext("It must destroy the records by %(day)s.") % {"day": format_date(w.destroy_by)},)
                    if w.destroy_by is not None
                    else ()
                ),
            ),
        ),
        Section(
            gettext("Your choices"),
            (
                gettext("Saying yes is your choice. If you say no, nothing changes at school.")
                if own_student
                else gettext(
                    "Saying yes is your choice. If you say no, nothing changes for %(child)s at school."
                )
                % {"child": child},
                gettext(
                    "You can take back your permission at any time in the family portal. %(org)s "
                    "stops seeing the records the moment you do."
                )
                % {"org": org},
                gettext(
                    "Records %(org)s already received stay under the agreement's rules and must be destroyed."
                )
                % {"org": org},
            ),
        ),
        Section(
            gettext("Your signature"),
            (
                (
                    gettext(
                        "By signing, I, %(child)s (student ID %(ref)s), give %(org)s permission to "
                        "see the records listed above for the purpose above, until %(day)s."
                    )
                    if own_student
                    else gettext(
                        "By signing, I, a parent or guardian of %(child)s (student ID %(ref)s), give "
                        "%(org)s permission to see the records listed above for the purpose above, "
                        "until %(day)s."
                    )
                )
                % {"child": child, "ref": reader.student_ref, "org": org, "day": format_date(w.last_day)},
            ),
        ),
    ]
    return out


def plain_text(w: Wording, reader: Reader) -> str:
    """The exact text shown (title, then each section: heading, paragraphs, ``- `` items), NFC,
    one line per paragraph: what a signature's hash covers."""
    lines = [title_of(w, reader), f"{w.request} · {w.organization} · {w.district}", ""]
    for section in sections(w, reader):
        lines.append(section.heading)
        lines.extend(section.paragraphs)
        lines.extend(f"- {item}" for item in section.items)
        lines.append("")
    text = "\n".join(" ".join(line.split()) for line in lines).strip() + "\n"
    return unicodedata.normalize("NFC", text)


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
