"""Legal bases for a disclosure under FERPA (34 CFR Part 99), each with its citation."""

from __future__ import annotations

from enum import StrEnum


class LegalBasis(StrEnum):
    """Why a disclosure is lawful; ``citation`` gives the regulation."""

    CONSENT = "consent"
    PARENT_OR_ELIGIBLE_STUDENT = "parent_or_eligible_student"
    SCHOOL_OFFICIAL = "school_official"
    TRANSFER = "transfer"
    AUDIT_EVALUATION = "audit_evaluation"
    STUDIES = "studies"
    HEALTH_SAFETY_EMERGENCY = "health_safety_emergency"
    DIRECTORY_INFORMATION = "directory_information"
    DEIDENTIFIED = "deidentified"
    JUDICIAL_ORDER = "judicial_order"
    FINANCIAL_AID = "financial_aid"
    JUVENILE_JUSTICE = "juvenile_justice"
    ACCREDITATION = "accreditation"
    DEPENDENT_STUDENT_PARENT = "dependent_student_parent"
    POSTSECONDARY = "postsecondary"

    @property
    def citation(self) -> str:
        return _CITATIONS[self]

    @property
    def needs_disclosure_record(self) -> bool:
        """Whether 34 CFR 99.32(d) requires an entry in the student's record of disclosures."""
        return self not in _NO_9932_RECORD

    def display(self) -> str:
        """Human form: ``transfer (34 CFR 99.31(a)(2))``."""
        return f"{self.value} ({self.citation})"


_CITATIONS: dict[LegalBasis, str] = {
    LegalBasis.CONSENT: "34 CFR 99.30",
    LegalBasis.PARENT_OR_ELIGIBLE_STUDENT: "34 CFR 99.10, 99.31(a)(12)",
    LegalBasis.SCHOOL_OFFICIAL: "34 CFR 99.31(a)(1)",
    LegalBasis.TRANSFER: "34 CFR 99.31(a)(2), 99.34",
    LegalBasis.AUDIT_EVALUATION: "34 CFR 99.31(a)(3), 99.35",
    LegalBasis.STUDIES: "34 CFR 99.31(a)(6)",
    LegalBasis.HEALTH_SAFETY_EMERGENCY: "34 CFR 99.31(a)(10), 99.36",
    LegalBasis.DIRECTORY_INFORMATION: "34 CFR 99.31(a)(11), 99.37",
    LegalBasis.DEIDENTIFIED: "34 CFR 99.31(b)",
    LegalBasis.JUDICIAL_ORDER: "34 CFR 99.31(a)(9)",
    LegalBasis.FINANCIAL_AID: "34 CFR 99.31(a)(4)",
    LegalBasis.JUVENILE_JUSTICE: "34 CFR 99.31(a)(5), 99.38",
    LegalBasis.ACCREDITATION: "34 CFR 99.31(a)(7)",
    LegalBasis.DEPENDENT_STUDENT_PARENT: "34 CFR 99.31(a)(8)",
    LegalBasis.POSTSECONDARY: "34 CFR 99.31(a)(15)",
}

# 99.32(d): no record is required for disclosures to the parent or eligible student, to school
# officials, with written consent, of directory information, and for certain subpoenas.
_NO_9932_RECORD = frozenset(
    {
        LegalBasis.PARENT_OR_ELIGIBLE_STUDENT,
        LegalBasis.SCHOOL_OFFICIAL,
        LegalBasis.CONSENT,
        LegalBasis.DIRECTORY_INFORMATION,
        LegalBasis.DEIDENTIFIED,
    }
)
