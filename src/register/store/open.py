"""Opening the store: connect, check that the schema is this register's and the keys are this database's,
or say precisely what to run (`register db upgrade`) instead."""

from __future__ import annotations

import os
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, make_url, select
from sqlalchemy.exc import OperationalError

from ..audit import chain
from ..audit.anchors import FileAnchors
from ..config import Settings
from ..crypto.envelope import BlindIndex
from ..crypto.keys import KeySet
from . import models as m
from .cipher import verify_keys
from .db import make_engine, make_session_factory
from .store import Store


class NotMigrated(Exception):
    pass


def alembic_config(settings: Settings, url: str | None = None) -> Config:
    cfg = Config(str(settings.migrations_dir.parent / "alembic.ini"))
    cfg.set_main_option("script_location", str(settings.migrations_dir))
    cfg.set_main_option("sqlalchemy.url", (url or settings.resolved_database_url).replace("%", "%%"))
    return cfg


def migrate(settings: Settings, revision: str = "head") -> None:
    url = settings.resolved_database_url
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        if not path.parent.exists():  # a folder it creates is the register's alone; an existing one is left
            path.parent.mkdir(parents=True, mode=0o700)
        # The database file is the register's alone: readable and writable by its owner only (its personal
        # data is sealed, but operational metadata and the audit log are not). SQLite keeps the mode it finds.
        if not path.exists():
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        os.chmod(path, 0o600)
    command.upgrade(alembic_config(settings), revision)


def has_plain_reasons(settings: Settings) -> bool:
    """Whether items' end reasons written before migration 0013 are still in clear: asked without the keys, so
    an upgrade of a database with nothing to seal never opens (or, in development, creates) them."""
    engine = make_engine(settings.resolved_database_url)
    try:
        with engine.connect() as conn:
            return (
                conn.execute(select(m.Item.id).where(m.Item.ended_reason.is_not(None)).limit(1)).first()
                is not None
            )
    finally:
        engine.dispose()


def tokens_stale(settings: Settings) -> bool:
    """Whether records' blind tokens follow older definitions than this version writes (`TOKENS_VERSION`):
    asked without the keys, like `has_plain_reasons`."""
    engine = make_engine(settings.resolved_database_url)
    try:
        with engine.connect() as conn:
            version = conn.execute(select(m.TokenVersion.version)).scalar()
            return version is not None and version < m.TOKENS_VERSION
    finally:
        engine.dispose()


def build_store(settings: Settings) -> Store:
    """Connect, load the keys (generating them on a development machine's first run) and check
    that they are the keys this database was written with."""
    url = settings.resolved_database_url
    shown = make_url(url).render_as_string(hide_password=True)
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        raise NotMigrated(
            f"no database at {shown}: it has no register schema: "
            "run `register db upgrade` (or `register demo`)"
        )
    engine = make_engine(url, statement_timeout_ms=settings.db_statement_timeout_ms)
    try:
        migrated = inspect(engine).has_table("key_check")
    except OperationalError as exc:
        engine.dispose()
        raise NotMigrated(f"cannot reach the database at {shown}: {exc.orig}") from None
    if not migrated:
        engine.dispose()
        raise NotMigrated(f"the database at {shown} has no register schema: run `register db upgrade`")
    with engine.connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    wanted = set(ScriptDirectory.from_config(alembic_config(settings)).get_heads())
    if current != wanted:
        engine.dispose()
        raise NotMigrated(
            f"the database at {shown} is at schema {', '.join(sorted(current)) or 'none'}, "
            f"this register needs {', '.join(sorted(wanted))}: run `register db upgrade`"
        )
    session_factory = make_session_factory(engine)
    try:
        keys = KeySet.load(settings.resolved_key_dir, generate=settings.generate_missing_keys)
        with session_factory() as session:
            verify_keys(session, keys)
            session.commit()
    except BaseException:
        engine.dispose()
        raise
    replica = None
    if settings.database_replica_url:
        replica = make_session_factory(
            make_engine(settings.database_replica_url, statement_timeout_ms=settings.db_statement_timeout_ms)
        )
    return Store(
        settings=settings,
        engine=engine,
        session_factory=session_factory,
        replica_factory=replica,
        keys=keys,
        blind=BlindIndex(keys.blind_root.material),
        audit_keys=chain.AuditKeys.derive(keys.audit_root.material),
        anchors=FileAnchors(settings.resolved_audit_anchor_file),
    )
