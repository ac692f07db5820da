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

    _delivery_tables()
    _append_only(dialect)


def _delivery_tables() -> None:
    op.create_table(
        "delivery_recipient_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("public_key", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("created_at", steward.store.base.Instant(), nullable=False),
        sa.Column("revoked_at", steward.store.base.Instant(), nullable=True),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_delivery_recipient_keys_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_recipient_keys")),
        sa.UniqueConstraint(
            "organization_id",
            "fingerprint",
            name=op.f("uq_delivery_recipient_keys_organization_id_fingerprint"),
        ),
    )
    with op.batch_alter_table("delivery_recipient_keys", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_delivery_recipient_keys_organization_id"), ["organization_id"], unique=False
        )

    op.create_table(
        "delivery_destruction_tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("agreement_id", sa.Integer(), nullable=False),
        sa.Column("recipient_org_id", sa.Integer(), nullable=False),
        sa.Column("opened_at", steward.store.base.Instant(), nullable=False),
        sa.Column("due_at", steward.store.base.Instant(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("escalation_level", sa.Integer(), nullable=False),
        sa.Column("last_escalated_at", steward.store.base.Instant(), nullable=True),
        sa.Column("certified_at", steward.store.base.Instant(), nullable=True),
        sa.Column("certificate_sha256", sa.String(length=64), nullable=True),
        sa.Column("certificate_file", sa.String(length=300), nullable=True),
        sa.Column("certificate_name", sa.String(length=200), nullable=True),
        sa.Column("signer_name", sa.String(length=200), nullable=True),
        sa.Column("signer_title", sa.String(length=200), nullable=True),
        sa.Column("destroyed_on", sa.Date(), nullable=True),
        sa.Column("certified_by_person_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["agreements.id"],
            name=op.f("fk_delivery_destruction_tasks_agreement_id_agreements"),
        ),
        sa.ForeignKeyConstraint(
            ["certified_by_person_id"],
            ["people.id"],
            name=op.f("fk_delivery_destruction_tasks_certified_by_person_id_people"),
        ),
        sa.ForeignKeyConstraint(
            ["district_id"],
            ["organizations.id"],
            name=op.f("fk_delivery_destruction_tasks_district_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["recipient_org_id"],
            ["organizations.id"],
            name=op.f("fk_delivery_destruction_tasks_recipient_org_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_destruction_tasks")),
        sa.UniqueConstraint(
            "agreement_id",
            "recipient_org_id",
            name=op.f("uq_delivery_destruction_tasks_agreement_id_recipient_org_id"),
        ),
    )
    with op.batch_alter_table("delivery_destruction_tasks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_delivery_destruction_tasks_district_id"), ["district_id"], unique=False
        )

    op.create_table(
        "delivery_packages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("recipient_org_id", sa.Integer(), nullable=False),
        sa.Column("agreement_id", sa.Integer(), nullable=True),
        sa.Column("request_ref", sa.String(length=64), nullable=True),
        sa.Column("basis", sa.String(length=40), nullable=False),
        sa.Column("purpose", sa.String(length=500), nullable=False),
        sa.Column("datasets", sa.JSON(), nullable=False),
        sa.Column("file_name", sa.String(length=220), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("manifest_sha256", sa.String(length=64), nullable=False),
        sa.Column("student_count", sa.Integer(), nullable=False),
        sa.Column("row_count", sa.BigInteger(), nullable=False),
        sa.Column("destroy_by", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", steward.store.base.Instant(), nullable=False),
        sa.Column("created_by_person_id", sa.Integer(), nullable=True),
        sa.Column("shredded_at", steward.store.base.Instant(), nullable=True),
        sa.Column("downloads", sa.Integer(), nullable=False),
        sa.Column("last_downloaded_at", steward.store.base.Instant(), nullable=True),
        sa.ForeignKeyConstraint(
            ["agreement_id"], ["agreements.id"], name=op.f("fk_delivery_packages_agreement_id_agreements")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_person_id"],
            ["people.id"],
            name=op.f("fk_delivery_packages_created_by_person_id_people"),
        ),
        sa.ForeignKeyConstraint(
            ["district_id"], ["organizations.id"], name=op.f("fk_delivery_packages_district_id_organizations")
        ),
        sa.ForeignKeyConstraint(
            ["recipient_org_id"],
            ["organizations.id"],
            name=op.f("fk_delivery_packages_recipient_org_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_packages")),
        sa.UniqueConstraint("uuid", name=op.f("uq_delivery_packages_uuid")),
    )
    with op.batch_alter_table("delivery_packages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_delivery_packages_agreement_id"), ["agreement_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_delivery_packages_district_id"), ["district_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_delivery_packages_recipient_org_id"), ["recipient_org_id"], unique=False
        )

    op.create_table(
        "delivery_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("package_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", steward.store.base.Instant(), nullable=False),
        sa.Column("expires_at", steward.store.base.Instant(), nullable=False),
        sa.Column("used_at", steward.store.base.Instant(), nullable=True),
        sa.Column("revoked_at", steward.store.base.Instant(), nullable=True),
        sa.Column("created_by_person_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_person_id"],
            ["people.id"],
            name=op.f("fk_delivery_links_created_by_person_id_people"),
        ),
        sa.ForeignKeyConstraint(
            ["package_id"],
            ["delivery_packages.id"],
            name=op.f("fk_delivery_links_package_id_delivery_packages"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_delivery_links_token_hash")),
    )
    with op.batch_alter_table("delivery_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_delivery_links_package_id"), ["package_id"], unique=False)

    op.create_table(
        "delivery_package_keys",
        sa.Column("package_id", sa.Integer(), nullable=False),
        sa.Column("identity", sa.Text(), nullable=False),
        sa.Column("created_at", steward.store.base.Instant(), nullable=False),
        sa.ForeignKeyConstraint(
            ["package_id"],
            ["delivery_packages.id"],
            name=op.f("fk_delivery_package_keys_package_id_delivery_packages"),
        ),
        sa.PrimaryKeyConstraint("package_id", name=op.f("pk_delivery_package_keys")),
    )


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
    for table in (
        "delivery_package_keys",
        "delivery_links",
        "delivery_packages",
        "delivery_destruction_tasks",
        "delivery_recipient_keys",
    ):
        op.drop_table(table)
    op.drop_table("disclosure_ledger")
    op.drop_table("audit_checkpoints")
    op.drop_table("audit_signing_keys")
    op.drop_table("audit_events")
    op.drop_table("audit_chains")
