"""OpenID Connect single sign-on, configured per district: authorization code flow with PKCE (S256),
state and nonce, an ID token checked against the provider's published keys (authlib + joserfc).

The provider's identity (``sub``) is linked to one local account. The first sign-in links by a
verified e-mail address only when exactly one account with that address holds a role in the
provider's district; otherwise the district officer links it. Steward's own roles, lockout and
second-factor rules still apply after the provider says who the person is.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
from authlib.oauth2.client import OAuth2Client
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from steward.accounts.crypto import decrypt_field, encrypt_field
from steward.accounts.models import OidcIdentity, OidcProvider
from steward.accounts.service import audit_account
from steward.config import Settings
from steward.store.base import now_utc
from steward.store.models import Account, Person

ALGORITHMS = ("RS256", "PS256", "ES256")
#: ``amr`` values (RFC 8176) that say the provider checked a second factor.
MFA_AMR = frozenset({"mfa", "otp", "hwk", "swk", "sc", "fpt", "face", "iris", "retina", "vbm"})
CACHE_SECONDS = 3600


class SsoError(RuntimeError):
    """The provider could not be reached or its answer did not check out (details go to the log)."""


@dataclass(frozen=True, slots=True)
class ProviderMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str


@dataclass(frozen=True, slots=True)
class PendingLogin:
    """What the browser carries (signed) between the redirect to the provider and the callback."""

    provider: str
    state: str
    nonce: str
    verifier: str
    next_path: str

    def as_dict(self) -> dict[str, str]:
        return {"p": self.provider, "s": self.state, "n": self.nonce, "v": self.verifier, "x": self.next_path}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PendingLogin:
        return cls(str(data["p"]), str(data["s"]), str(data["n"]), str(data["v"]), str(data["x"]))


def _check_url(url: str) -> str:
    parts = urlsplit(url)
    local = parts.hostname in ("127.0.0.1", "localhost", "::1")
    if parts.scheme != "https" and not (parts.scheme == "http" and local):
        raise SsoError(f"identity provider URLs must use https: {url}")
    return url


class OidcClient:
    """Fetches and caches provider metadata and keys; one per app."""

    def __init__(self, http: httpx.Client | None = None) -> None:
        self.http = http or httpx.Client(timeout=10.0, follow_redirects=False)
        self._lock = threading.Lock()
        self._metadata: dict[str, tuple[float, ProviderMetadata]] = {}
        self._keys: dict[str, tuple[float, KeySet]] = {}

    def _get_json(self, url: str) -> dict[str, Any]:
        try:
            response = self.http.get(_check_url(url))
            response.raise_for_status()
            data = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise SsoError(f"could not read {url}: {exc}") from exc
        if not isinstance(data, dict):
            raise SsoError(f"{url} did not answer a JSON object")
        return data

    def metadata(self, provider: OidcProvider) -> ProviderMetadata:
        with self._lock:
            cached = self._metadata.get(provider.discovery_url)
        if cached is not None and time.monotonic() - cached[0] < CACHE_SECONDS:
            return cached[1]
        data = self._get_json(provider.discovery_url)
        try:
            meta = ProviderMetadata(
                issuer=str(data["issuer"]),
                authorization_endpoint=_check_url(str(data["authorization_endpoint"])),
                token_endpoint=_check_url(str(data["token_endpoint"])),
                jwks_uri=_check_url(str(data["jwks_uri"])),
            )
        except KeyError as exc:
            raise SsoError(f"discovery document lacks {exc}") from exc
        with self._lock:
            self._metadata[provider.discovery_url] = (time.monotonic(), meta)
        return meta

    def keys(self, meta: ProviderMetadata, refresh: bool = False) -> KeySet:
        with self._lock:
            cached = self._keys.get(meta.jwks_uri)
        if not refresh and cached is not None and time.monotonic() - cached[0] < CACHE_SECONDS:
            return cached[1]
        try:
            keyset = KeySet.import_key_set(self._get_json(meta.jwks_uri))  # type: ignore[arg-type]
        except (JoseError, ValueError, TypeError) as exc:
            raise SsoError(f"unusable key set at {meta.jwks_uri}: {exc}") from exc
        with self._lock:
            self._keys[meta.jwks_uri] = (time.monotonic(), keyset)
        return keyset

    def begin(self, provider: OidcProvider, redirect_uri: str, next_path: str) -> tuple[str, PendingLogin]:
        """The provider's authorization URL and what to remember until the callback."""
        meta = self.metadata(provider)
        pending = PendingLogin(
            provider=provider.slug,
            state=secrets.token_urlsafe(24),
            nonce=secrets.token_urlsafe(24),
            verifier=secrets.token_urlsafe(48),
            next_path=next_path,
        )
        client = OAuth2Client(
            None,
            client_id=provider.client_id,
            scope=provider.scopes,
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
        )
        url, _ = client.create_authorization_url(
            meta.authorization_endpoint,
            state=pending.state,
            code_verifier=pending.verifier,
            nonce=pending.nonce,
        )
        return str(url), pending

    def finish(
        self, provider: OidcProvider, settings: Settings, redirect_uri: str, code: str, pending: PendingLogin
    ) -> dict[str, Any]:
        """Exchange the code and return the checked ID token claims."""
        meta = self.metadata(provider)
        secret = (
            decrypt_field(settings, provider.client_secret_encrypted)
            if provider.client_secret_encrypted
            else ""
        )
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": pending.verifier,
        }
        auth: tuple[str, str] | None = (provider.client_id, secret) if secret else None
        if auth is None:
            form["client_id"] = provider.client_id
        try:
            response = self.http.post(meta.token_endpoint, data=form, auth=auth)  # type: ignore[arg-type]
            response.raise_for_status()
            body = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise SsoError(f"token exchange failed: {exc}") from exc
        id_token = body.get("id_token") if isinstance(body, dict) else None
        if not isinstance(id_token, str):
            raise SsoError("the token response has no id_token")
        return self.check_id_token(provider, meta, id_token, pending.nonce)

    def check_id_token(
        self, provider: OidcProvider, meta: ProviderMetadata, id_token: str, nonce: str
    ) -> dict[str, Any]:
        try:
            try:
                token = jwt.decode(id_token, self.keys(meta), algorithms=list(ALGORITHMS))
            except JoseError:
                token = jwt.decode(id_token, self.keys(meta, refresh=True), algorithms=list(ALGORITHMS))
            claims = CodeIDToken(
                token.claims,
                token.header,
                options={
                    "iss": {"essential": True, "value": meta.issuer},
                    "aud": {"essential": True, "value": provider.client_id},
                    "sub": {"essential": True},
                    "nonce": {"essential": True, "value": nonce},
                },
                params={"nonce": nonce, "client_id": provider.client_id},
            )
            claims.validate(leeway=60)
        except (JoseError, ValueError) as exc:
            raise SsoError(f"ID token refused: {exc}") from exc
        azp = claims.get("azp")
        if azp is not None and azp != provider.client_id:
            raise SsoError("ID token issued to another client (azp)")
        return dict(claims)


def provider_mfa(provider: OidcProvider, claims: dict[str, Any]) -> bool:
    """The provider says it checked a second factor, and the district trusts it to."""
    amr = claims.get("amr")
    return provider.trust_provider_mfa and isinstance(amr, list) and bool(MFA_AMR & {str(a) for a in amr})


def account_for(db: Session, provider: OidcProvider, claims: dict[str, Any]) -> Account | None:
    """The linked account, linking by verified e-mail on first use when exactly one account fits."""
    from steward.accounts.lifecycle import roles_in_scope

    subject = str(claims.get("sub", ""))
    identity = db.scalar(
        select(OidcIdentity).where(OidcIdentity.provider_id == provider.id, OidcIdentity.subject == subject)
    )
    if identity is not None:
        identity.last_login_at = now_utc()
        return db.get(Account, identity.account_id)
    email = claims.get("email")
    if claims.get("email_verified") is not True or not isinstance(email, str) or "@" not in email:
        return None
    candidates = [
        account
        for account in db.scalars(
            select(Account)
            .join(Person, Person.id == Account.person_id)
            .where(func.lower(Person.email) == email.strip().lower())
        )
        if roles_in_scope(db, provider.district_id, account.person_id)
    ]
    if len(candidates) != 1:
        return None
    account = candidates[0]
    db.add(
        OidcIdentity(provider_id=provider.id, subject=subject, account_id=account.id, last_login_at=now_utc())
    )
    db.flush()
    audit_account(db, "sso.link", account, district_id=provider.district_id, provider=provider.slug)
    return account


def add_provider(
    db: Session,
    settings: Settings,
    *,
    slug: str,
    district_id: int,
    display_name: str,
    discovery_url: str,
    client_id: str,
    client_secret: str = "",
    scopes: str = "openid email profile",
    trust_provider_mfa: bool = False,
) -> OidcProvider:
    """Register a district's identity provider (the client secret is stored encrypted)."""
    _check_url(discovery_url)
    provider = OidcProvider(
        slug=slug,
        district_id=district_id,
        display_name=display_name,
        discovery_url=discovery_url,
        client_id=client_id,
        client_secret_encrypted=encrypt_field(settings, client_secret) if client_secret else "",
        scopes=scopes,
        trust_provider_mfa=trust_provider_mfa,
        active=True,
    )
    db.add(provider)
    db.flush()
    audit_account(db, "sso.provider_add", None, district_id=district_id, provider=slug)
    return provider
