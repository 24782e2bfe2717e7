"""The embedded default's database file is private to the register's user (issue #17, F6)."""

from __future__ import annotations

import stat
from pathlib import Path

from register.config import Settings
from register.store.open import migrate


def test_the_sqlite_database_file_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path / "var")
    migrate(settings)
    database = Path(settings.resolved_database_url.removeprefix("sqlite:///"))
    assert stat.S_IMODE(database.stat().st_mode) == 0o600
    database.chmod(0o644)  # a file left readable by an older version is made private on the next upgrade
    migrate(settings)
    assert stat.S_IMODE(database.stat().st_mode) == 0o600
