"""Account security state: server-side web sessions, sign-in throttles, second factors, API tokens,
invitations, single sign-on providers and the terms that end a role assignment.

Every secret is stored as a hash (session, token, invitation and recovery codes) or encrypted with a
key derived from the application secret (TOTP seeds, OIDC client secrets).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from steward.store.base import Base, Instant, now_utc


class WebSession(Base):
    """The cookie carries a random token, the database only its hash.

    ``stage`` is ``complete`` once every factor is checked; ``mfa`` (a second factor is due) and
    ``enrol`` (a second factor must be set up first) sessions act as nobody.
    """

    __tablename__ = "web_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    role_assignment_id: Mapped[int | None] = mapped_column(ForeignKey("role_assignments.id"), nullable=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(Instant(), default=now_utc)
    last_seen_at: Mapped[datetime] = mapped_column(Instant(), default=now_utc)
    expires_at: Mapped[datetime] = mapped_column(Instant())
    revoked_at: Mapped[datetime | None] = mapped_column(Instant(), nullable=True)
    stage: Mapped[str] = mapped_column(String(16), default="complete", server_default="complete")
    auth_method: Mapped[str] = mapped_column(String(16), default="password", server_default="password")


class AccountSecurity(Base):
    """Lifecycle status and failed sign-in counter of an account (no row: active, no failures)."""

    __tablename__ = "account_security"
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    #: ``invited``, ``active``, ``suspended`` or ``removed``.
    status: Mapped[str] = mapped_column(String(16), default="active")
    status_changed_at: Mapped[datetime | None] = mapped_column(Instant(), nullable=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    last_failed_at: Mapped[datetime | None] = mapped_column(Instant(), nullable=True)
    locked_until: Mapped[datetime | None] = mapped_column(Instant(), nullable=True)
    password_changed_at: Mapped[datetime | None] = mapped_column(Instant(), nullable=True)


class TotpCredential(Base):
    """A TOTP seed (encrypted); ``confirmed_at`` NULL until the first code is entered.

    ``last_step`` is the last accepted 30-second step: a code is never accepted twice.
    """

    __tablename__ = "totp_credentials"
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    secret_encrypted: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(Instant(), default=now_utc)
    confirmed_at: Mapped[datetime | None] = mapped_column(Instant(), nullable=True)
    last_step: Mapped[int] = mapped_column(Integer, default=0)


class RecoveryCode(Base):
    """A single-use recovery code (keyed SHA-256 of 80 random bits), for a lost authenticator."""

    __tablename__ = "recovery_codes"
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(Instant(), default=now_utc)
    used_at: Mapped[datetime | None] = mapped_column(Instant(), nullable=True)


class ApiToken(Base):
    """A bearer token for integrations and the CLI: acts as one role assignment, within scopes.

    The token text is ``stw_<key>_<secret>``; ``key`` finds the row, the SHA-256 of the secret
    (256 random bits, so a fast hash suffices) proves it.
    """

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(24), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(100))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    role_assignment_id: Mapped[int] = mapped_column(ForeignKey("role_assignments.id"))
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(Instant(), default=now_utc)
    expires_at: Mapped[datetime] = mapped_column(Instant())
    revoked_at: Mapped[datetime | None] = mapped_column(Instant(), nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(Instant(), nullable=True)
    created_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), nullable=True)


class Invitation(Base):
    """A one-time link that lets an invited person set their password (hash of the link token)."""

    __tablename__ = "invitations"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    invited_by_person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[datetime] = mapped_column(Instant(), default=now_utc)
    expires_at: Mapped[datetime] = mapped_column(Instant())
    accepted_at: Mapped[datetime | None] = mapped_column(Instant(), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(Instant(), nullable=True)


class RoleAssignmentTerms(Base):
    """Why a role assignment exists and what ends it: an agreement (the role ends with it) and who
    granted it. Employment ends through the assignment's own ``valid_to``."""

    __tablename__ = "role_assignment_terms"
    role_assignment_id: Mapped[int] = mapped_column(ForeignKey("role_assignments.id"), primary_key=True)
    agreement_id: Mapped[int | None] = mapped_column(ForeignKey("agreements.id"), nullable=True, index=True)
    granted_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), nullable=True)
    granted_at: Mapped[datetime] = mapped_column(Instant(), default=now_utc)
    note: Mapped[str] = mapped_column(String(200), default="")


class OidcProvider(Base):
    """A district's single sign-on identity provider (OpenID Connect, authorization code + PKCE)."""

    __tablename__ = "oidc_providers"
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    display_name: Mapped[str] = mapped_column(String(100))
    discovery_url: Mapped[str] = mapped_column(String(500))
    client_id: Mapped[str] = mapped_column(String(200))
    client_secret_encrypted: Mapped[str] = mapped_column(Text, default="")
    scopes: Mapped[str] = mapped_column(String(200), default="openid email profile")
    #: The provider checks a second factor itself (its ``amr`` claim is then trusted).
    trust_provider_mfa: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(Instant(), default=now_utc)


class OidcIdentity(Base):
    """An identity at a provider (its ``sub``) linked to one local account."""

    __tablename__ = "oidc_identities"
    __table_args__ = (UniqueConstraint("provider_id", "subject"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("oidc_providers.id"))
    subject: Mapped[str] = mapped_column(String(255))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    linked_at: Mapped[datetime] = mapped_column(Instant(), default=now_utc)
    last_login_at: Mapped[datetime | None] = mapped_column(Instant(), nullable=True)
