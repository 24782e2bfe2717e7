"""Engines and sessions. Built by `bootstrap`, never at import time."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker


def make_engine(url: str, *, statement_timeout_ms: int = 30_000) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:  # the DBAPI's own objects
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    connect_args = {}
    if url.startswith("postgresql"):
        # jit=off (decision 54): the register's statements are many small index lookups (a correlated
        # subquery per person and dimension, a window per area), which PostgreSQL's JIT compiled for longer
        # than they then ran (at 100,000 people: the people behind a figure, the workload, the sweeps).
        connect_args = {
            "options": f"-c statement_timeout={statement_timeout_ms} -c lock_timeout=10000 -c jit=off"
        }
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    # expire_on_commit=False: values read in a unit of work stay usable after it commits.
    return sessionmaker(engine, expire_on_commit=False, autoflush=False)


# What a database outage (a restart, a failover, the network, a full pool) raises: the API answers it with
# 503, the indexer waits and retries (api/problems.py, cli/search.py).
DATABASE_ERRORS: tuple[type[Exception], ...] = (DBAPIError, PoolTimeout)


def database_unreachable(exc: BaseException) -> bool:
    """Whether `exc` says the database cannot be reached or cannot answer now, as opposed to a fault in the
    register (a constraint violated, a bad statement)."""
    if isinstance(exc, (OperationalError, InterfaceError, PoolTimeout)):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated
