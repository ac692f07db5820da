"""audit log, disclosure ledger and delivery

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 11:00:00

Written by hand: the generated columns of ``audit_events`` differ per dialect, and the append-only
triggers (plus REVOKE on PostgreSQL) are not something autogenerate knows about.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import steward.store.base

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
APPEND_ONLY = ("audit_events", "audit_checkpoints", "audit_signing_keys", "disclosure_ledger")
#: A role the application may run as; if it exists, it loses UPDATE/DELETE on append-only tables.
APP_ROLE = "steward_app"


def _body_field(dialect: str, key: str, pg_cast: str | None = None) -> sa.Computed:
    if dialect == "sqlite":
        text = f"json_extract(body, '$.{key}')"
    else:
        text = f"(body::json ->> '{key}')"
        if pg_cast:
            text = f"{text}::{pg_cast}"
    return sa.Computed(sa.text(text), persisted=True)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table(
        "audit_chains",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=True),
        sa.Column("head_seq", sa.BigInteger(), nullable=False),
        sa.Column("head_hash", sa.String(length=64), nullable=False),
        sa.Column("updated_at", steward.store.base.Instant(), nullable=False),
        sa.ForeignKeyConstraint(
            ["district_id"], ["organizations.id"], name=op.f("fk_audit_chains_district_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chains")),
        sa.UniqueConstraint("key", name=op.f("uq_audit_chains_key")),
    )
    op.create_table(
        "audit_events",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("chain_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.BigInteger(), _body_field(dialect, "seq", "bigint"), nullable=False),
        sa.Column("occurred_at", sa.String(length=27), _body_field(dialect, "at"), nullable=False),
        sa.Column("action", sa.String(length=64), _body_field(dialect, "action"), nullable=False),
        sa.Column(
            "actor_person_id", sa.Integer(), _body_field(dialect, "actor_person", "integer"), nullable=True
        ),
        sa.Column("actor_org_id", sa.Integer(), _body_field(dialect, "actor_org", "integer"), nullable=True),
        sa.Column("outcome", sa.String(length=64), _body_field(dialect, "outcome"), nullable=False),
        sa.ForeignKeyConstraint(
            ["chain_id"], ["audit_chains.id"], name=op.f("fk_audit_events_chain_id_audit_chains")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
        sa.UniqueConstraint("chain_id", "seq", name=op.f("uq_audit_events_chain_id_seq")),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index("ix_audit_events_occurred_at", ["occurred_at"], unique=False)
        batch_op.create_index("ix_audit_events_action", ["action"], unique=False)
        batch_op.create_index("ix_audit_events_actor_person_id", ["actor_person_id"], unique=False)

    op.create_table(
        "audit_signing_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=True),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("public_key_pem", sa.Text(), nullable=False),
        sa.Column("created_at", steward.store.base.Instant(), nullable=False),
        sa.ForeignKeyConstraint(
            ["district_id"],
            ["organizations.id"],
            name=op.f("fk_audit_signing_keys_district_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_signing_keys")),
        sa.UniqueConstraint("fingerprint", name=op.f("uq_audit_signing_keys_fingerprint")),
    )
    with op.batch_alter_table("audit_signing_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_signing_keys_district_id"), ["district_id"], unique=False)

    op.create_table(
        "audit_checkpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chain_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("event_hash", sa.String(length=64), nullable=False),
        sa.Column("signed_at", sa.String(length=27), nullable=False),
        sa.Column("key_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["chain_id"], ["audit_chains.id"], name=op.f("fk_audit_checkpoints_chain_id_audit_chains")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_checkpoints")),
        sa.UniqueConstraint("chain_id", "seq", name=op.f("uq_audit_checkpoints_chain_id_seq")),
    )

    op.create_table(
        "disclosure_ledger",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("event_id", BIG_ID, nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("disclosed_at", steward.store.base.Instant(), nullable=False),
        sa.Column("recipient_org_id", sa.Integer(), nullable=True),
        sa.Column("recipient_person_id", sa.Integer(), nullable=True),
        sa.Column("recipient_name", sa.String(length=250), nullable=False),
        sa.Column("recipient_org_name", sa.String(length=250), nullable=False),
        sa.Column("recipient_role", sa.String(length=40), nullable=False),
        sa.Column("basis", sa.String(length=40), nullable=False),
        sa.Column("citation", sa.String(length=80), nullable=False),
        sa.Column("purpose", sa.String(length=500), nullable=False),
        sa.Column("datasets", sa.JSON(), nullable=False),
        sa.Column("request_ref", sa.String(length=64), nullable=True),
        sa.Column("agreement_id", sa.Integer(), nullable=True),
        sa.Column("delivery_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("record_required", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["district_id"], ["organizations.id"], name=op.f("fk_disclosure_ledger_district_id_organizations")
        ),
        sa.ForeignKeyConstraint(
            ["event_id"], ["audit_events.id"], name=op.f("fk_disclosure_ledger_event_id_audit_events")
        ),
        sa.ForeignKeyConstraint(
            ["recipient_org_id"],
            ["organizations.id"],
            name=op.f("fk_disclosure_ledger_recipient_org_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["recipient_person_id"],
            ["people.id"],
            name=op.f("fk_disclosure_ledger_recipient_person_id_people"),
        ),
        sa.ForeignKeyConstraint(
            ["student_id"], ["students.id"], name=op.f("fk_disclosure_ledger_student_id_students")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disclosure_ledger")),
    )
    with op.batch_alter_table("disclosure_ledger", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_disclosure_ledger_event_id"), ["event_id"], unique=False)
        batch_op.create_index("ix_disclosure_ledger_student", ["student_id", "disclosed_at"], unique=False)
        batch_op.create_index(
            "ix_disclosure_ledger_recipient", ["recipient_org_id", "disclosed_at"], unique=False
        )
        batch_op.create_index("ix_disclosure_ledger_agreement", ["agreement_id"], unique=False)
        batch_op.create_index("ix_disclosure_ledger_district", ["district_id", "disclosed_at"], unique=False)

    _append_only(dialect)


def _append_only(dialect: str) -> None:
    """Refuse UPDATE and DELETE (and TRUNCATE) on the append-only tables, in the database itself."""
    if dialect == "sqlite":
        for table in APPEND_ONLY:
            for verb in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
                )
        return
    op.execute(
        """
        CREATE FUNCTION steward_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '% is append-only (% refused)', TG_TABLE_NAME, TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END
        $$
        """
    )
    for table in APPEND_ONLY:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION steward_refuse_change()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION steward_refuse_change()"
        )
        op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM PUBLIC")
        op.execute(
            f"DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN "
            f"REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM {APP_ROLE}; END IF; END $$"
        )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in APPEND_ONLY:
        if dialect == "sqlite":
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
    if dialect != "sqlite":
        op.execute("DROP FUNCTION IF EXISTS steward_refuse_change()")
    op.drop_table("disclosure_ledger")
    op.drop_table("audit_checkpoints")
    op.drop_table("audit_signing_keys")
    op.drop_table("audit_events")
    op.drop_table("audit_chains")
