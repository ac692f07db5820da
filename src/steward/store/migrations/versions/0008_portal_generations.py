"""report package generations (partner and school views)

Revision ID: 0008
Revises: 0007

Written by hand: one table, ``portal_generations`` (steward.products.portal.models).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import steward.store.base

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "portal_generations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.String(length=32), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("role", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("format", sa.String(length=16), nullable=False),
        sa.Column("decided_at", steward.store.base.Instant(), nullable=False),
        sa.Column("created_at", steward.store.base.Instant(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("student_count", sa.Integer(), nullable=False),
        sa.Column("datasets", sa.JSON(), nullable=False),
        sa.Column("reports", sa.JSON(), nullable=False),
        sa.Column("packages", sa.JSON(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("nightly_key", sa.String(length=80), nullable=True),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_portal_generations_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_portal_generations_person_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_generations")),
        sa.UniqueConstraint("nightly_key", name=op.f("uq_portal_generations_nightly_key")),
        sa.UniqueConstraint("uuid", name=op.f("uq_portal_generations_uuid")),
    )
    with op.batch_alter_table("portal_generations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_portal_generations_organization_id"), ["organization_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("portal_generations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_portal_generations_organization_id"))
    op.drop_table("portal_generations")
