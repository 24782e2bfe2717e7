"""The embedded default's database file, the folder it creates for it, and the audit anchor file are private
to the register's user (issue #17, F6)."""

from __future__ import annotations

import stat
from pathlib import Path

from register.config import Settings
from register.store.open import build_store, migrate
from tests.factories import create


def test_the_sqlite_database_file_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path / "var")
    migrate(settings)
    database = Path(settings.resolved_database_url.removeprefix("sqlite:///"))
    assert stat.S_IMODE(database.stat().st_mode) == 0o600
    database.chmod(0o644)  # a file left readable by an older version is made private on the next upgrade
    migrate(settings)
    assert stat.S_IMODE(database.stat().st_mode) == 0o600


def test_the_folder_made_for_the_database_and_the_anchor_file_are_private(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path / "var")
    migrate(settings)
    database = Path(settings.resolved_database_url.removeprefix("sqlite:///"))
    assert stat.S_IMODE(database.parent.stat().st_mode) == 0o700
    store = build_store(settings)
    try:
        with store.unit_of_work() as uow:
            create(uow)  # an audited change, so there is a head to anchor
        store.seal(force_anchor=True)
    finally:
        store.dispose()
    anchors = settings.resolved_audit_anchor_file
    assert stat.S_IMODE(anchors.stat().st_mode) == 0o600
    assert stat.S_IMODE(anchors.parent.stat().st_mode) == 0o700
