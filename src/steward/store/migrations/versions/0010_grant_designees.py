"""grant designees: staff a principal names to grant for the school's Institutional Service partners

Revision ID: 0010
Revises: 0009

Written by hand: the table of ``steward.workflow.grants.models`` only.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import steward.store.base

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Instant = steward.store.base.Instant


def upgrade() -> None:
    op.create_table(
        "grant_designees",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("designated_by_person_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", Instant(), nullable=False),
        sa.Column("ended_at", Instant(), nullable=True),
        sa.Column("ended_by_person_id", sa.Integer(), nullable=True),
        sa.Column("valid_from", Instant(), nullable=False),
        sa.Column("valid_to", Instant(), nullable=True),
        sa.ForeignKeyConstraint(
            ["designated_by_person_id"],
            ["people.id"],
            name=op.f("fk_grant_designees_designated_by_person_id_people"),
        ),
        sa.ForeignKeyConstraint(
            ["ended_by_person_id"], ["people.id"], name=op.f("fk_grant_designees_ended_by_person_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_grant_designees_person_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["organizations.id"], name=op.f("fk_grant_designees_school_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grant_designees")),
        sa.UniqueConstraint("code", name=op.f("uq_grant_designees_code")),
    )
    with op.batch_alter_table("grant_designees", schema=None) as batch_op:
        batch_op.create_index("ix_grant_designees_school_person", ["school_id", "person_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("grant_designees", schema=None) as batch_op:
        batch_op.drop_index("ix_grant_designees_school_person")
    op.drop_table("grant_designees")
