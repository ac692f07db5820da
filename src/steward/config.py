"""Runtime configuration from ``STEWARD_`` environment variables (pydantic-settings)."""

from __future__ import annotations

import os
import secrets
import stat
from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every setting can be given as ``STEWARD_<NAME>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix="STEWARD_", extra="ignore")

    database_url: str = "sqlite:///var/steward.db"
    data_dir: Path = Path("var")
    host: str = "127.0.0.1"
    port: int = 8000
    secret_key: str | None = None
    secret_key_file: Path | None = None
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    session_idle_minutes: int = 30
    session_absolute_hours: int = 12
    cookie_secure: bool = False
    #: Database connections per web process; with the overflow at least the 40 worker threads.
    db_pool_size: int = 20
    db_max_overflow: int = 30
    #: The address people reach the hub at (e.g. https://steward.district.org), for SSO callbacks.
    public_url: str | None = None

    # Sign-in hardening (issue 9).
    #: Failed sign-ins (password or second factor) before an account is paused.
    login_max_failures: int = 5
    #: First pause after ``login_max_failures``; doubles with each further failure, up to the cap.
    lockout_base_seconds: int = 60
    lockout_max_seconds: int = 3600
    #: Every failed sign-in answers after at least this long, so timing does not tell why it failed.
    login_failure_floor_ms: int = 250
    #: Roles that must use a second factor: district staff and whoever can export identifiable data
    #: (teachers download the partner/school package; researchers receive records under a studies
    #: agreement).
    mfa_required_roles: list[str] = [
        "district_data_officer",
        "review_panel_member",
        "principal",
        "counselor",
        "registrar",
        "teacher",
        "partner_staff",
        "vendor_integration",
        "researcher",
    ]
    totp_issuer: str = "Steward"
    #: Minutes a half-signed-in session (password checked, second factor pending) stays usable.
    mfa_pending_minutes: int = 10
    invitation_days: int = 7
    api_token_max_days: int = 365
    #: Token buckets: sign-in attempts per client address and username; API calls per token/session.
    rate_login_burst: int = 10
    rate_login_per_minute: float = 10.0
    rate_api_burst: int = 200
    rate_api_per_second: float = 100.0
    #: Requests with a larger body are refused with 413 (an upload route may allow more itself).
    max_request_bytes: int = 10 * 1024 * 1024
    #: Largest accepted upload (one file) in bytes.
    max_upload_bytes: int = 10 * 1024 * 1024

    # Workflow e-mail (issue 4): notifications go out over SMTP; without a host they stay in the app.
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_from: str = "steward@localhost"
    smtp_starttls: bool = False
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_timeout: float = 10.0

    def session_secret(self) -> str:
        """The signing key for session cookies: from the environment, or a 0600 file (created once)."""
        if self.secret_key:
            return self.secret_key
        path = self.secret_key_file or self.data_dir / "secret.key"
        if path.exists():
            mode = stat.S_IMODE(path.stat().st_mode)
            if mode & 0o077:
                raise PermissionError(f"{path} must not be readable by group or others (chmod 600)")
            return path.read_text().strip()
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(key)
        return key


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
