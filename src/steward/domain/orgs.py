"""Organization kinds and the roles a person acts in."""

from __future__ import annotations

from enum import StrEnum


class OrgKind(StrEnum):
    STATE_AGENCY = "state_agency"
    DISTRICT = "district"
    SCHOOL = "school"
    PARTNER = "partner"
    RESEARCH_ORG = "research_org"
    VENDOR = "vendor"
    AGENCY = "agency"
    MEDIA = "media"


class Role(StrEnum):
    """A role a principal acts in at one organization."""

    TEACHER = "teacher"
    PRINCIPAL = "principal"
    COUNSELOR = "counselor"
    REGISTRAR = "registrar"
    DISTRICT_DATA_OFFICER = "district_data_officer"
    REVIEW_PANEL_MEMBER = "review_panel_member"
    PARTNER_STAFF = "partner_staff"
    RESEARCHER = "researcher"
    VENDOR_INTEGRATION = "vendor_integration"
    AGENCY_ANALYST = "agency_analyst"
    MEDIA = "media"
    PARENT = "parent"
    STUDENT = "student"
    PUBLIC = "public"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class RegistrationStatus(StrEnum):
    """Where an outside organization stands in the district's registration process."""

    UNREGISTERED = "unregistered"
    PENDING = "pending"
    REGISTERED = "registered"
    SUSPENDED = "suspended"
