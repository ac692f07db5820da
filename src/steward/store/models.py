"""Governance state and the roster index: who the people and organizations are, and the thin
student relationships (enrollments, sections, guardianships) the decision engine needs.

Every relationship row carries ``valid_from``/``valid_to`` (half-open, UTC; ``valid_to`` NULL means
open-ended) so that any decision can be replayed at a past instant.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    and_,
    or_,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from steward.domain.datasets import DEFAULT_DIRECTORY_ELEMENTS
from steward.domain.time import DEFAULT_TIMEZONE
from steward.store.base import Base, Instant, now_utc


class ValidityMixin:
    valid_from: Mapped[datetime] = mapped_column(Instant(), nullable=False)
    valid_to: Mapped[datetime | None] = mapped_column(Instant(), nullable=True)

    @classmethod
    def valid_at(cls, at: datetime) -> ColumnElement[bool]:
        """SQL predicate: the row's half-open interval ``[valid_from, valid_to)`` contains ``at``."""
        return and_(cls.valid_from <= at, or_(cls.valid_to.is_(None), cls.valid_to > at))


class Region(Base):
    """Several districts sharing one hub (the Road Map region has seven)."""

    __tablename__ = "regions"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(2))


class Organization(Base):
    """Any party that can hold a role: state agency, district, school, partner, researcher, vendor."""

    __tablename__ = "organizations"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    name: Mapped[str] = mapped_column(String(250))
    state: Mapped[str] = mapped_column(String(2), default="WA")
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"), nullable=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), nullable=True, index=True)
    registration_status: Mapped[str] = mapped_column(String(32), default="unregistered")
    flags: Mapped[list[str]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(Instant(), default=now_utc)

    parent: Mapped[Organization | None] = relationship(remote_side=[id])


class TenantSettings(Base):
    """A district's own rules: time zone, floor year, directory elements, thresholds."""

    __tablename__ = "tenant_settings"
    district_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), primary_key=True)
    timezone: Mapped[str] = mapped_column(String(64), default=DEFAULT_TIMEZONE)
    floor_year: Mapped[int] = mapped_column(Integer, default=2010)
    directory_elements: Mapped[list[str]] = mapped_column(default=lambda: list(DEFAULT_DIRECTORY_ELEMENTS))
    suppression_threshold: Mapped[int] = mapped_column(Integer, default=10)
    k_anonymity: Mapped[int] = mapped_column(Integer, default=10)
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Person(Base):
    __tablename__ = "people"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(100), unique=True)
    given_name: Mapped[str] = mapped_column(String(100), default="")
    family_name: Mapped[str] = mapped_column(String(100), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    created_at: Mapped[datetime] = mapped_column(Instant(), default=now_utc)

    @property
    def display_name(self) -> str:
        return f"{self.given_name} {self.family_name}".strip() or self.code


class Account(Base):
    """A login for a person; passwords are argon2id hashes."""

    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), unique=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(Instant(), default=now_utc)
    last_login_at: Mapped[datetime | None] = mapped_column(Instant(), nullable=True)

    person: Mapped[Person] = relationship()


class RoleAssignment(ValidityMixin, Base):
    """Person P may act as ROLE at organization O during the interval."""

    __tablename__ = "role_assignments"
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    role: Mapped[str] = mapped_column(String(40))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)

    person: Mapped[Person] = relationship()
    organization: Mapped[Organization] = relationship()


class Student(Base):
    """A student as known to one district (a student who moves has a row in each district)."""

    __tablename__ = "students"
    __table_args__ = (UniqueConstraint("district_id", "local_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    local_id: Mapped[str] = mapped_column(String(50))
    state_id: Mapped[str | None] = mapped_column(String(20), nullable=True, index=True)
    first_name: Mapped[str] = mapped_column(String(60), default="")
    middle_name: Mapped[str] = mapped_column(String(60), default="")
    last_name: Mapped[str] = mapped_column(String(60), default="")
    birth_date: Mapped[date] = mapped_column(Date)
    legal_restriction: Mapped[bool] = mapped_column(Boolean, default=False)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), nullable=True, index=True)

    district: Mapped[Organization] = relationship()

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class SchoolEnrollment(ValidityMixin, Base):
    __tablename__ = "school_enrollments"
    __table_args__ = (
        UniqueConstraint("student_id", "school_id", "valid_from"),
        Index("ix_school_enrollments_school_period", "school_id", "valid_from", "valid_to"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id"), index=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    grade: Mapped[str] = mapped_column(String(4))
    school_year: Mapped[int] = mapped_column(Integer)
    exit_code: Mapped[str] = mapped_column(String(10), default="")


class Section(Base):
    """A course section taught at a school in one school year."""

    __tablename__ = "sections"
    __table_args__ = (UniqueConstraint("school_id", "school_year", "local_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    school_year: Mapped[int] = mapped_column(Integer)
    local_id: Mapped[str] = mapped_column(String(50))
    course_id: Mapped[str] = mapped_column(String(50), default="")
    title: Mapped[str] = mapped_column(String(200), default="")
    term: Mapped[str] = mapped_column(String(10), default="")


class SectionEnrollment(ValidityMixin, Base):
    __tablename__ = "section_enrollments"
    __table_args__ = (
        UniqueConstraint("section_id", "student_id", "valid_from"),
        Index("ix_section_enrollments_student", "student_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("sections.id"))
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id"))


class StaffAssignment(ValidityMixin, Base):
    """A staff member assigned to a school (``section_id`` NULL) or to one section."""

    __tablename__ = "staff_assignments"
    __table_args__ = (
        UniqueConstraint(
            "person_id",
            "organization_id",
            "section_key",
            "role",
            "valid_from",
            name="uq_staff_assignments_key",
        ),
        Index("ix_staff_assignments_section", "section_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    section_id: Mapped[int | None] = mapped_column(ForeignKey("sections.id"), nullable=True)
    #: ``section_id`` or 0: NULLs are distinct in unique constraints, so re-imports need a key.
    section_key: Mapped[int] = mapped_column(Integer, default=0)
    role: Mapped[str] = mapped_column(String(40))


class Guardianship(ValidityMixin, Base):
    """A parent or guardian of a student; ``restricted`` marks a legal restriction on this person."""

    __tablename__ = "guardianships"
    __table_args__ = (UniqueConstraint("person_id", "student_id", "valid_from"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id"), index=True)
    relationship_code: Mapped[str] = mapped_column(String(40), default="parent")
    restricted: Mapped[bool] = mapped_column(Boolean, default=False)
    dependency_claimed: Mapped[bool] = mapped_column(Boolean, default=False)


class ImportBatch(Base):
    """One accepted file drop: what it held and when it was loaded (re-imports are recognised)."""

    __tablename__ = "import_batches"
    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    source: Mapped[str] = mapped_column(String(40))
    fingerprint: Mapped[str] = mapped_column(String(64), index=True)
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    imported_at: Mapped[datetime] = mapped_column(Instant(), default=now_utc)
