"""A job that must run alone (a rebuild of the search index) holds a lock every process using the database
sees, and a holder that dies lets it go: the next run is never shut out by a crash."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import text

from register.store.exclusive import AlreadyRunning, exclusively
from register.store.store import Store

LOCK = 0x7465_7374  # "test"

HOLDER = """
import sys, time
from sqlalchemy import create_engine
from register.store.exclusive import exclusively
with exclusively(create_engine(sys.argv[1]), int(sys.argv[2]), "the test job"):
    print("held", flush=True)
    time.sleep(600)
"""


def test_a_second_holder_is_refused_until_the_first_lets_go(store: Store) -> None:
    with exclusively(store.engine, LOCK, "the test job"):
        with pytest.raises(AlreadyRunning, match="the test job is already running"):
            with exclusively(store.engine, LOCK, "the test job"):
                pass  # pragma: no cover - refused
        with exclusively(store.engine, LOCK + 1, "another job"):
            pass  # another lock is another job's
    with exclusively(store.engine, LOCK, "the test job"):
        pass


def test_a_holder_that_finishes_lets_the_lock_go_at_once(store: Store) -> None:
    """Three rebuilds one after the other: each must find the lock free as soon as the last has returned.
    (Released only by closing its connection, the lock outlived the block until the server noticed, and a
    rebuild started straight after was refused, now and then.)"""
    if store.engine.dialect.name != "postgresql":
        for _ in range(200):
            with exclusively(store.engine, LOCK, "the test job"):
                pass
        return
    with store.engine.connect() as watcher:
        held = text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted")
        for _ in range(200):
            with exclusively(store.engine, LOCK, "the test job"):
                assert watcher.execute(held).scalar() == 1
            assert watcher.execute(held).scalar() == 0  # not left to the server to notice a closed socket
            watcher.rollback()


def test_a_holder_that_dies_lets_the_lock_go(store: Store) -> None:
    url = store.engine.url.render_as_string(hide_password=False)
    with subprocess.Popen(
        [sys.executable, "-c", HOLDER, url, str(LOCK)], stdout=subprocess.PIPE, text=True
    ) as holder:
        try:
            assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
            with pytest.raises(AlreadyRunning):
                with exclusively(store.engine, LOCK, "the test job"):
                    pass  # pragma: no cover - refused
            holder.send_signal(signal.SIGKILL)
            holder.wait(timeout=30)
            # PostgreSQL ends the dead process's session when it notices the closed socket: at once on
            # loopback
            deadline = time.monotonic() + 30
            while True:
                try:
                    with exclusively(store.engine, LOCK, "the test job"):
                        break
                except AlreadyRunning:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
        finally:
            holder.kill()
