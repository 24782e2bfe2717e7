"""Engines and sessions. Built by `bootstrap`, never at import time."""

from __future__ import annotations

import select
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
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
    engine = create_engine(url, connect_args=connect_args)
    if url.startswith("postgresql"):
        event.listen(engine, "checkout", _replace_if_closed)
    return engine


def server_closed(dbapi_conn: Any) -> bool:
    """Whether the server has closed this idle pooled connection (a restart, a failover, a backend
    terminated), found without a round trip (decision 59): between statements the server sends nothing, so a
    socket with something to read says it has gone (its last words and the end of the stream). Anything else
    that could arrive unasked (a setting the server reports changing) only costs a new connection."""
    import psycopg  # only PostgreSQL's engines listen (psycopg is the `postgres` extra)

    pgconn = dbapi_conn.pgconn
    if pgconn.status != psycopg.pq.ConnStatus.OK:
        return True
    try:
        poller = select.poll()  # not select(): no limit on the descriptor's number
        poller.register(pgconn.socket, select.POLLIN)  # `socket` raises once libpq has closed it
        return bool(poller.poll(0))  # readable, or hung up, or in error
    except (OSError, psycopg.OperationalError):
        return True


def _replace_if_closed(dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
    """On checkout from the pool: a connection the server closed is replaced by a new one before the
    request uses it (SQLAlchemy reconnects the pool's record on `DisconnectionError`), so the first request
    after a restart is answered. In place of `pool_pre_ping`, which asked the server (`SELECT 1`) on every
    checkout: a round trip on every request."""
    if server_closed(dbapi_conn):
        raise DisconnectionError("the server closed this pooled connection")


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
