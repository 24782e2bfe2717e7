"""Migrations run up and down on SQLite and PostgreSQL, and the models never drift from them."""

from __future__ import annotations

from alembic import command
from sqlalchemy import create_engine, inspect

from register.bootstrap import alembic_config
from register.config import Settings
from register.store.models import Base


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
