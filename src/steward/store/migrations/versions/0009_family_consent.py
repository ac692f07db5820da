"""families: consent requests, electronic signatures, online opt-outs, language preferences

Revision ID: 0009
Revises: 0008

Written by hand: the tables of ``steward.family.models`` only.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import steward.store.base

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Instant = steward.store.base.Instant


def upgrade() -> None:
    op.create_table(
        "language_preferences",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("updated_at", Instant(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_language_preferences_person_id_people")
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_language_preferences")),
    )
    op.create_table(
        "consent_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("agreement_id", sa.Integer(), nullable=False),
        sa.Column("school_year", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("datasets", sa.JSON(), nullable=False),
        sa.Column("translations", sa.JSON(), nullable=False),
        sa.Column("student_refs", sa.JSON(), nullable=False),
        sa.Column("submitted_by_person_id", sa.Integer(), nullable=False),
        sa.Column("submitted_at", Instant(), nullable=False),
        sa.Column("reviewed_by_person_id", sa.Integer(), nullable=True),
        sa.Column("reviewed_at", Instant(), nullable=True),
        sa.Column("review_note", sa.Text(), nullable=False),
        sa.Column("wording", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("wording_sha256", sa.String(length=64), nullable=True),
        sa.Column("closes_at", Instant(), nullable=True),
        sa.Column("closed_at", Instant(), nullable=True),
        sa.ForeignKeyConstraint(
            ["agreement_id"], ["agreements.id"], name=op.f("fk_consent_requests_agreement_id_agreements")
        ),
        sa.ForeignKeyConstraint(
            ["district_id"], ["organizations.id"], name=op.f("fk_consent_requests_district_id_organizations")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_consent_requests_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["reviewed_by_person_id"],
            ["people.id"],
            name=op.f("fk_consent_requests_reviewed_by_person_id_people"),
        ),
        sa.ForeignKeyConstraint(
            ["submitted_by_person_id"],
            ["people.id"],
            name=op.f("fk_consent_requests_submitted_by_person_id_people"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_requests")),
        sa.UniqueConstraint("code", name=op.f("uq_consent_requests_code")),
    )
    with op.batch_alter_table("consent_requests", schema=None) as batch_op:
        batch_op.create_index("ix_consent_requests_district_status", ["district_id", "status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_consent_requests_organization_id"), ["organization_id"], unique=False
        )
    op.create_table(
        "consent_request_students",
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["consent_requests.id"],
            name=op.f("fk_consent_request_students_request_id_consent_requests"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["student_id"], ["students.id"], name=op.f("fk_consent_request_students_student_id_students")
        ),
        sa.PrimaryKeyConstraint("request_id", "student_id", name=op.f("pk_consent_request_students")),
    )
    with op.batch_alter_table("consent_request_students", schema=None) as batch_op:
        batch_op.create_index("ix_consent_request_students_student", ["student_id"], unique=False)
    op.create_table(
        "consent_signatures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("capacity", sa.String(length=16), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("at", Instant(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("text_sha256", sa.String(length=64), nullable=False),
        sa.Column("typed_name", sa.String(length=200), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("auth_method", sa.String(length=16), nullable=False),
        sa.Column("second_factor", sa.Boolean(), nullable=False),
        sa.Column("web_session_id", sa.Integer(), nullable=True),
        sa.Column("client_address", sa.String(length=64), nullable=False),
        sa.Column("user_agent", sa.String(length=300), nullable=False),
        sa.Column("record_sha256", sa.String(length=64), nullable=False),
        sa.Column("consent_id", sa.Integer(), nullable=True),
        sa.Column("grant_id", sa.Integer(), nullable=True),
        sa.Column("revoked_at", Instant(), nullable=True),
        sa.Column("revoked_by_person_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["consent_id"], ["consents.id"], name=op.f("fk_consent_signatures_consent_id_consents")
        ),
        sa.ForeignKeyConstraint(
            ["grant_id"], ["grants.id"], name=op.f("fk_consent_signatures_grant_id_grants")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_consent_signatures_person_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["consent_requests.id"],
            name=op.f("fk_consent_signatures_request_id_consent_requests"),
        ),
        sa.ForeignKeyConstraint(
            ["revoked_by_person_id"],
            ["people.id"],
            name=op.f("fk_consent_signatures_revoked_by_person_id_people"),
        ),
        sa.ForeignKeyConstraint(
            ["student_id"], ["students.id"], name=op.f("fk_consent_signatures_student_id_students")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_signatures")),
        sa.UniqueConstraint("code", name=op.f("uq_consent_signatures_code")),
    )
    with op.batch_alter_table("consent_signatures", schema=None) as batch_op:
        batch_op.create_index(
            "ix_consent_signatures_request_student", ["request_id", "student_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_consent_signatures_student_id"), ["student_id"], unique=False)
    op.create_table(
        "opt_out_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("opt_out_id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=True),
        sa.Column("letter", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("at", Instant(), nullable=False),
        sa.Column("lifted_at", Instant(), nullable=True),
        sa.Column("acknowledged_by_person_id", sa.Integer(), nullable=True),
        sa.Column("acknowledged_at", Instant(), nullable=True),
        sa.ForeignKeyConstraint(
            ["acknowledged_by_person_id"],
            ["people.id"],
            name=op.f("fk_opt_out_requests_acknowledged_by_person_id_people"),
        ),
        sa.ForeignKeyConstraint(
            ["opt_out_id"], ["opt_outs.id"], name=op.f("fk_opt_out_requests_opt_out_id_opt_outs")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_opt_out_requests_person_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["organizations.id"], name=op.f("fk_opt_out_requests_school_id_organizations")
        ),
        sa.ForeignKeyConstraint(
            ["student_id"], ["students.id"], name=op.f("fk_opt_out_requests_student_id_students")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_opt_out_requests")),
        sa.UniqueConstraint("code", name=op.f("uq_opt_out_requests_code")),
    )
    with op.batch_alter_table("opt_out_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_opt_out_requests_school_id"), ["school_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_opt_out_requests_student_id"), ["student_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("opt_out_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_opt_out_requests_student_id"))
        batch_op.drop_index(batch_op.f("ix_opt_out_requests_school_id"))
    op.drop_table("opt_out_requests")
    with op.batch_alter_table("consent_signatures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consent_signatures_student_id"))
        batch_op.drop_index("ix_consent_signatures_request_student")
    op.drop_table("consent_signatures")
    with op.batch_alter_table("consent_request_students", schema=None) as batch_op:
        batch_op.drop_index("ix_consent_request_students_student")
    op.drop_table("consent_request_students")
    with op.batch_alter_table("consent_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consent_requests_organization_id"))
        batch_op.drop_index("ix_consent_requests_district_status")
    op.drop_table("consent_requests")
    op.drop_table("language_preferences")
