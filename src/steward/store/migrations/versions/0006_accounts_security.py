"""accounts security: throttles, second factors, API tokens, invitations, SSO, role terms

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 09:00:00

Written by hand with only the tables and columns of steward.accounts.models.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import steward.store.base

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Instant = steward.store.base.Instant


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"))


def _index(table: str, column: str) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.create_index(batch_op.f(f"ix_{table}_{column}"), [column], unique=False)


def upgrade() -> None:
    op.create_table(
        "account_security",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_changed_at", Instant(), nullable=True),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("last_failed_at", Instant(), nullable=True),
        sa.Column("locked_until", Instant(), nullable=True),
        sa.Column("password_changed_at", Instant(), nullable=True),
        _fk("account_security", "account_id", "accounts"),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_account_security")),
    )
    op.create_table(
        "totp_credentials",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("secret_encrypted", sa.Text(), nullable=False),
        sa.Column("created_at", Instant(), nullable=False),
        sa.Column("confirmed_at", Instant(), nullable=True),
        sa.Column("last_step", sa.Integer(), nullable=False),
        _fk("totp_credentials", "account_id", "accounts"),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_totp_credentials")),
    )
    op.create_table(
        "recovery_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=200), nullable=False),
        sa.Column("created_at", Instant(), nullable=False),
        sa.Column("used_at", Instant(), nullable=True),
        _fk("recovery_codes", "account_id", "accounts"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_codes")),
    )
    _index("recovery_codes", "account_id")
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=24), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("role_assignment_id", sa.Integer(), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("created_at", Instant(), nullable=False),
        sa.Column("expires_at", Instant(), nullable=False),
        sa.Column("revoked_at", Instant(), nullable=True),
        sa.Column("last_used_at", Instant(), nullable=True),
        sa.Column("created_by_person_id", sa.Integer(), nullable=True),
        _fk("api_tokens", "account_id", "accounts"),
        _fk("api_tokens", "created_by_person_id", "people"),
        _fk("api_tokens", "role_assignment_id", "role_assignments"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("key", name=op.f("uq_api_tokens_key")),
    )
    _index("api_tokens", "account_id")
    op.create_table(
        "invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("invited_by_person_id", sa.Integer(), nullable=False),
        sa.Column("created_at", Instant(), nullable=False),
        sa.Column("expires_at", Instant(), nullable=False),
        sa.Column("accepted_at", Instant(), nullable=True),
        sa.Column("revoked_at", Instant(), nullable=True),
        _fk("invitations", "account_id", "accounts"),
        _fk("invitations", "district_id", "organizations"),
        _fk("invitations", "invited_by_person_id", "people"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitations")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_invitations_token_hash")),
    )
    _index("invitations", "account_id")
    op.create_table(
        "role_assignment_terms",
        sa.Column("role_assignment_id", sa.Integer(), nullable=False),
        sa.Column("agreement_id", sa.Integer(), nullable=True),
        sa.Column("granted_by_person_id", sa.Integer(), nullable=True),
        sa.Column("granted_at", Instant(), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        _fk("role_assignment_terms", "agreement_id", "agreements"),
        _fk("role_assignment_terms", "granted_by_person_id", "people"),
        _fk("role_assignment_terms", "role_assignment_id", "role_assignments"),
        sa.PrimaryKeyConstraint("role_assignment_id", name=op.f("pk_role_assignment_terms")),
    )
    _index("role_assignment_terms", "agreement_id")
    op.create_table(
        "oidc_providers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=40), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("display_name", sa.String(length=100), nullable=False),
        sa.Column("discovery_url", sa.String(length=500), nullable=False),
        sa.Column("client_id", sa.String(length=200), nullable=False),
        sa.Column("client_secret_encrypted", sa.Text(), nullable=False),
        sa.Column("scopes", sa.String(length=200), nullable=False),
        sa.Column("trust_provider_mfa", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", Instant(), nullable=False),
        _fk("oidc_providers", "district_id", "organizations"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oidc_providers")),
        sa.UniqueConstraint("slug", name=op.f("uq_oidc_providers_slug")),
    )
    _index("oidc_providers", "district_id")
    op.create_table(
        "oidc_identities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("linked_at", Instant(), nullable=False),
        sa.Column("last_login_at", Instant(), nullable=True),
        _fk("oidc_identities", "account_id", "accounts"),
        _fk("oidc_identities", "provider_id", "oidc_providers"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oidc_identities")),
        sa.UniqueConstraint("provider_id", "subject", name=op.f("uq_oidc_identities_provider_id_subject")),
    )
    _index("oidc_identities", "account_id")
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("stage", sa.String(length=16), server_default="complete", nullable=False)
        )
        batch_op.add_column(
            sa.Column("auth_method", sa.String(length=16), server_default="password", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.drop_column("auth_method")
        batch_op.drop_column("stage")
    for table in (
        "oidc_identities",
        "oidc_providers",
        "role_assignment_terms",
        "invitations",
        "api_tokens",
        "recovery_codes",
        "totp_credentials",
        "account_security",
    ):
        op.drop_table(table)
