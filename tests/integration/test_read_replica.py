"""Reads that may lag the primary (the annual statistics) go to a PostgreSQL hot standby when one is
configured (`REGISTER_DATABASE_REPLICA_URL`), against a real streaming replica of this test's own primary:
the figures come from the standby (shown by pausing its replay: they lag, then catch up), the consultation is
audited on the primary (the standby refuses every write), and a standby that cannot be reached leaves the
reads on the primary instead of failing them."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from postgres import PostgresServer  # deploy/local, on the path from tests/conftest.py
from sqlalchemy import create_engine, func, select, text

from register.config import Settings
from register.domain import clock
from register.domain.actors import SystemActor
from register.statistics import service as statistics
from register.store import models as m
from register.store.open import build_store, migrate
from tests.factories import create

YEAR = 2023  # 1 April 2022 to 31 March 2023; the people are registered in 2021, on a clock the test sets


def _database(server: PostgresServer) -> str:
    return server.url.rsplit("/", 1)[0] + "/register"


@pytest.fixture
def primary_and_standby() -> Iterator[tuple[PostgresServer, PostgresServer]]:
    primary, standby = PostgresServer(), PostgresServer()
    try:
        primary.start()
        engine = create_engine(primary.url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("CREATE DATABASE register"))
        engine.dispose()
        standby.start_standby_of(primary)
        yield primary, standby
    finally:
        standby.stop()
        primary.stop()


def _caught_up(primary: PostgresServer, standby: PostgresServer, timeout: float = 60) -> None:
    p, s = create_engine(_database(primary)), create_engine(_database(standby))
    try:
        with p.connect() as conn:
            # The insert position, not pg_current_wal_lsn(): the test servers run with synchronous_commit off,
            # so a commit returns before its record is written, and the write position can still be before it.
            target = conn.execute(text("SELECT pg_current_wal_insert_lsn()")).scalar_one()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with s.connect() as conn:
                if conn.execute(
                    text("SELECT pg_last_wal_replay_lsn() >= CAST(:t AS pg_lsn)"), {"t": target}
                ).scalar():
                    return
            time.sleep(0.2)
        pytest.fail("the standby did not replay the primary's changes within a minute")
    finally:
        p.dispose()
        s.dispose()


def _replay(standby: PostgresServer, paused: bool) -> None:
    engine = create_engine(_database(standby), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f"SELECT pg_wal_replay_{'pause' if paused else 'resume'}()"))
    engine.dispose()


def _register(store, people: int) -> None:  # type: ignore[no-untyped-def]
    for _ in range(people):
        with store.unit_of_work() as uow:
            create(uow)


def _tables(store, area: str) -> dict:  # type: ignore[no-untyped-def,type-arg]
    with store.unit_of_work() as uow:
        return statistics.read_tables(uow, SystemActor("statistics-test"), area, YEAR)["tables"]


def _audited(store) -> int:  # type: ignore[no-untyped-def]
    with store.session_factory() as s:
        return s.execute(
            select(func.count()).select_from(m.AuditEvent).where(m.AuditEvent.tag == "statistics:tables:read")
        ).scalar_one()


def test_statistics_read_from_the_standby_lag_it_and_fall_back_to_the_primary(
    primary_and_standby: tuple[PostgresServer, PostgresServer],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    when = [dt.datetime(2021, 6, 1, 12, tzinfo=dt.UTC)]  # the people are registered then
    monkeypatch.setattr(clock, "now", lambda: when[0])
    primary, standby = primary_and_standby
    settings = Settings(
        database_url=_database(primary),
        database_replica_url=_database(standby),
        var_dir=tmp_path / "var",
        key_dir=tmp_path / "keys",
    )
    migrate(settings)
    store = build_store(settings)
    try:
        _register(store, 3)
        area = "kent"
        when[0] = dt.datetime(2024, 6, 1, 12, tzinfo=dt.UTC)  # the year's figures are read after it ended
        _caught_up(primary, standby)
        before = _audited(store)
        first = _tables(store, area)
        with store.session_factory() as s:
            assert (
                first == statistics.compute(s, area, YEAR)["tables"]
            )  # the standby caught up: the same figures
        assert _audited(store) == before + 1  # audited on the primary, though read from the standby

        _replay(standby, paused=True)
        when[0] = dt.datetime(2021, 6, 1, 12, tzinfo=dt.UTC)
        _register(store, 2)  # two more people, the standby not replaying them
        when[0] = dt.datetime(2024, 6, 1, 12, tzinfo=dt.UTC)
        with store.session_factory() as s:
            now = statistics.compute(s, area, YEAR)["tables"]
        assert first and now != first
        assert _tables(store, area) == first  # read from the standby: as it was, within its delay
        _replay(standby, paused=False)
        _caught_up(primary, standby)
        assert _tables(store, area) == now

        standby.pause()  # the standby is lost: the figures come from the primary, with a warning
        seen: list[str] = []
        handler = logging.Handler(logging.WARNING)
        handler.emit = lambda record: seen.append(record.getMessage())  # type: ignore[method-assign]
        logger = logging.getLogger("register.store.uow")
        logger.addHandler(handler)
        try:
            assert _tables(store, area) == now
        finally:
            logger.removeHandler(handler)
        assert any("read replica cannot be reached" in message for message in seen)
        assert _audited(store) == before + 4
    finally:
        store.dispose()
