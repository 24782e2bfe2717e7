"""One holder at a time of a named job that runs for minutes across every process using the database (a
rebuild of the search index).

PostgreSQL: a session-level advisory lock taken on a connection of the job's own, which is closed when the
job ends; a process that dies closes its connections, so a crashed job never leaves the lock held. SQLite: an
exclusive lock on a file beside the database, which the operating system releases with the process.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

# Advisory lock ids of PostgreSQL, each named by its letters (the audit sealer's and the key fence's are
# beside their code).
SEARCH_REBUILD = 0x5352_4258  # "SRBX": one search index rebuild at a time


class AlreadyRunning(Exception):
    """Another process (or thread) holds the lock: the job is running elsewhere."""


@contextmanager
def exclusively(engine: Engine, lock_id: int, what: str) -> Iterator[None]:
    """Hold lock `lock_id` for the block, or raise `AlreadyRunning` at once if it is held (`what` names the
    job in the message)."""
    busy = AlreadyRunning(
        f"{what} is already running against this database: wait for it to finish (one at a time)"
    )
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            if not conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": lock_id}).scalar():
                conn.rollback()
                raise busy
            conn.commit()  # the lock is the session's, not the transaction's: no transaction stays open
            try:
                yield
            finally:
                # Unlocked at once, then closed rather than pooled. Closing alone left the lock held until the
                # server noticed the closed socket, so a rebuild started straight after was refused now and
                # then; if the connection broke meanwhile, the lock went with its session anyway.
                try:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": lock_id})
                    conn.commit()
                except SQLAlchemyError:
                    pass  # the session is gone, and its lock with it
                conn.invalidate()
        return
    path = Path(f"{engine.url.database}.{lock_id:x}.lock")
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise busy from None
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
