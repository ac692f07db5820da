"""Secrets come from the environment or a file only its owner can read."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from steward.config import Settings


def test_secret_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STEWARD_SECRET_KEY", "from-the-environment")
    assert Settings().session_secret() == "from-the-environment"


def test_secret_file_is_created_0600_and_reused(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    first = settings.session_secret()
    path = tmp_path / "secret.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) >= 48
    assert Settings(data_dir=tmp_path).session_secret() == first


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_secret_file_readable_by_others_is_refused(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "secret.key"
    path.write_text("leaky")
    os.chmod(path, mode)
    with pytest.raises(PermissionError, match="chmod 600"):
        Settings(secret_key_file=path).session_secret()


def test_readme_names_every_setting() -> None:
    """The README's configuration table lists each setting under its environment variable."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    missing = [name for name in Settings.model_fields if f"`STEWARD_{name.upper()}`" not in readme]
    assert missing == []
