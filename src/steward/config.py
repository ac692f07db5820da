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
