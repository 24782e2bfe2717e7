"""Migrations run up and down on SQLite and PostgreSQL, and the models never drift from them."""

from __future__ import annotations

from alembic import command
from sqlalchemy import create_engine, inspect

from register.config import Settings
from register.store.models import Base
from register.store.open import alembic_config


def tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade_and_no_drift(settings: Settings) -> None:
    cfg = alembic_config(settings)
    cfg.attributes["configure_logger"] = False
    url = settings.resolved_database_url
    assert set(Base.metadata.tables) <= tables(url)  # the template was built by the migrations
    command.check(cfg)  # raises if the models and the migrations differ
    command.downgrade(cfg, "base")
    assert tables(url) <= {"alembic_version"}
    command.upgrade(cfg, "head")
    assert set(Base.metadata.tables) <= tables(url)
    command.check(cfg)


def test_the_audit_mac_migration_keeps_the_audit_log_append_only_both_ways(settings: Settings) -> None:
    """0009 adds and drops audit_event.mac in place: a batch copy of the table would drop SQLite's
    triggers."""
    import pytest
    from sqlalchemy import text
    from sqlalchemy.exc import DatabaseError

    cfg = alembic_config(settings)
    cfg.attributes["configure_logger"] = False
    engine = create_engine(settings.resolved_database_url)
    try:
        with engine.begin() as conn:  # SQLite's triggers are per row: there must be one
            conn.execute(
                text(
                    "INSERT INTO audit_event (event_id, occurred_at, action, tag, outcome, actor_user) "
                    "VALUES (:id, :at, 'administration', 'test:row', 'success', 'test')"
                ),
                {
                    "id": "0" * 31 + "1"
                    if engine.dialect.name == "sqlite"
                    else "00000000-0000-0000-0000-000000000001",
                    "at": "2026-11-30 00:00:00",
                },
            )
        for revision in ("0008", "0009"):
            command.downgrade(cfg, revision) if revision == "0008" else command.upgrade(cfg, revision)
            columns = {c["name"] for c in inspect(engine).get_columns("audit_event")}
            assert ("mac" in columns) == (revision == "0009")
            with pytest.raises(DatabaseError, match="append-only"):
                with engine.begin() as conn:
                    conn.execute(text("DELETE FROM audit_event"))
    finally:
        engine.dispose()
