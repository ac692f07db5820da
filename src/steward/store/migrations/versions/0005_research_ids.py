"""research-ID crosswalk for de-identified extracts

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 12:00:00

Written by hand: one table, ``research_ids`` (steward.products.extract.models).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import steward.store.base

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "research_ids",
        sa.Column("agreement_id", sa.Integer(), nullable=False),
        sa.Column("student_key", sa.String(length=64), nullable=False),
        sa.Column("rid", sa.String(length=32), nullable=False),
        sa.Column("created_at", steward.store.base.Instant(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["agreements.id"],
            name=op.f("fk_research_ids_agreement_id_agreements"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("agreement_id", "student_key", name=op.f("pk_research_ids")),
        sa.UniqueConstraint("rid", name=op.f("uq_research_ids_rid")),
    )


def downgrade() -> None:
    op.drop_table("research_ids")
