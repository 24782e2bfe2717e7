"""A PostgreSQL restart, against a real server of this test's own (the shared one is left alone): while it is
down the API answers 503 problem+json with Retry-After (the pages a 503 page), logged once; `register indexer`
waits instead of exiting; once it is back the API answers again and the indexer indexes the next change."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch
from fastapi.testclient import TestClient
from postgres import PostgresServer  # deploy/local, on the path from tests/conftest.py
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from register.access.tokens import ensure_dev_signing_key, mint
from register.api.app import build_app
from register.config import Settings
from register.domain.enums import Agency, Area, Role
from register.store.db import make_engine
from register.store.open import build_store, migrate
from register.web.sessions import COOKIE
from tests.api.helpers import PERSON, auth, visit
from tests.factories import OFFICER


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll until `condition()` holds; fail, naming `what`, if it has not after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.25)
    pytest.fail(f"not within {timeout:.0f}s: {what}")


class Recorded(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def own_postgres() -> Iterator[PostgresServer]:
    server = PostgresServer()
    try:
        server.start()
        engine = create_engine(server.url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("CREATE DATABASE register"))
        engine.dispose()
        yield server
    finally:
        server.stop()


def indexed_version(es: Elasticsearch, alias: str, nominal_id: str) -> int | None:
    try:
        return int(es.get(index=alias, id=nominal_id)["_source"]["version"])
    except Exception:  # noqa: BLE001 - not there (yet), or the alias not made yet
        return None


def test_a_postgresql_restart_answers_503_then_recovers_and_the_indexer_carries_on(
    own_postgres: PostgresServer,
    es_node,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,  # type: ignore[no-untyped-def]
) -> None:
    url = own_postgres.url.rsplit("/", 1)[0] + "/register"
    settings = Settings(
        database_url=url,
        var_dir=tmp_path / "var",
        key_dir=tmp_path / "keys",
        rate_limit_per_user="",
        rate_limit_per_address="",
    )
    migrate(settings)
    store = build_store(settings)
    key = ensure_dev_signing_key(settings.resolved_key_dir)
    token = mint(
        key,
        user=OFFICER.user_id,
        agency=Agency.POLICE,
        area=Area.KENT,
        roles=[Role.OFFENDER_MANAGER],
        issuer=settings.token_issuer,
        audience=settings.token_audience,
    )
    alias = f"t-{uuid.uuid4().hex[:12]}"
    es = Elasticsearch(es_node.url, request_timeout=10)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(sys.path),
        "REGISTER_DATABASE_URL": url,
        "REGISTER_KEY_DIR": str(settings.resolved_key_dir),
        "REGISTER_VAR_DIR": str(settings.var_dir),
        "REGISTER_ELASTICSEARCH_URL": es_node.url,
        "REGISTER_SEARCH_ALIAS": alias,
        "REGISTER_INDEXER_DATABASE_RETRY_MAX_SECONDS": "1",
    }
    indexer_log = (tmp_path / "indexer.log").open("w")
    heartbeat = tmp_path / "indexer-alive"
    indexer = subprocess.Popen(
        [sys.executable, "-m", "register.cli", "indexer", "--interval", "0.2", "--heartbeat", str(heartbeat)],
        env=env,
        stdout=indexer_log,
        stderr=subprocess.STDOUT,
    )
    try:
        with TestClient(build_app(settings, store)) as client:
            created = client.post("/v1/nominals", json=PERSON, headers=auth(token))
            assert created.status_code == 201, created.text
            nid, etag = created.json()["id"], created.headers["etag"]
            wait_for(lambda: indexed_version(es, alias, nid) == 1, 60, "the indexer indexes the new record")
            session = client.app.state.sessions.create()  # type: ignore[attr-defined]
            session.principal, session.issuer = OFFICER, "development"
            client.cookies.set(COOKIE, session.id)
            assert client.get(f"/records/{nid}").status_code == 200

            own_postgres.pause()  # PostgreSQL goes down, every connection cut
            try:
                logged = Recorded()  # the migrations' logging setup replaced pytest's handlers: our own
                problems_log = logging.getLogger("register.api.problems")
                problems_log.addHandler(logged)
                try:
                    answers = [
                        client.get(f"/v1/nominals/{nid}", headers=auth(token)),
                        client.post(
                            f"/v1/nominals/{nid}/chronology",
                            json=visit("2025-07-01T10:00:00Z", "a home visit"),
                            headers=auth(token, **{"If-Match": etag}),
                        ),
                        client.get(f"/v1/nominals/{nid}"),  # no token: a refusal that cannot be audited now
                        client.get("/ready"),
                    ]
                    page = client.get(f"/records/{nid}")
                finally:
                    problems_log.removeHandler(logged)
                for r in answers:
                    assert r.status_code == 503, (r.request.url, r.status_code, r.text)
                    assert r.headers["content-type"] == "application/problem+json"
                    assert r.headers["retry-after"].isdigit() and r.json()["rule"] == "database_unreachable"
                    assert "Traceback" not in r.text and "psycopg" not in r.text and "SELECT" not in r.text
                assert page.status_code == 503 and page.headers["retry-after"].isdigit()
                assert page.headers["content-type"].startswith("text/html") and "Traceback" not in page.text
                assert "not answering" in page.text
                outage_lines = [rec for rec in logged.records if "database unreachable" in rec.getMessage()]
                assert len(outage_lines) == 1 and not outage_lines[0].exc_info  # logged once, no stack trace
                time.sleep(3)  # several of the indexer's polls (and retries) while the database is down
                assert indexer.poll() is None, "the indexer exited while the database was down"
                assert time.time() - heartbeat.stat().st_mtime < 2.5  # waiting, alive: no liveness restart
            finally:
                if not own_postgres.started:  # back, same data, same port (also when an assertion failed)
                    own_postgres.start()
            wait_for(
                lambda: client.get(f"/v1/nominals/{nid}", headers=auth(token)).status_code == 200,
                30,
                "the API answers again",
            )
            assert client.get("/ready").status_code == 200
            assert client.get(f"/records/{nid}").status_code == 200
            changed = client.post(
                f"/v1/nominals/{nid}/chronology",
                json=visit("2025-07-01T10:00:00Z", "a home visit"),
                headers=auth(token, **{"If-Match": etag}),
            )
            assert changed.status_code == 201, changed.text
            wait_for(
                lambda: indexed_version(es, alias, nid) == 2, 60, "the indexer indexes the change made after"
            )
            wait_for(  # the document can be in the index a moment before the indexer's line is written
                lambda: "the database answers again" in (tmp_path / "indexer.log").read_text(),
                30,
                "the indexer says the database answers again",
            )
            assert indexer.poll() is None
    finally:
        indexer.terminate()
        indexer.wait(30)
        indexer_log.close()
        store.dispose()
        es.indices.delete(index=f"{alias}-*", ignore_unavailable=True, allow_no_indices=True)
        es.close()
    printed = (tmp_path / "indexer.log").read_text()
    assert printed.count("the database is unreachable") == 1, printed  # said once per outage
    assert "the database answers again" in printed and "Traceback" not in printed, printed


@pytest.mark.postgres_only
def test_a_pooled_connection_the_server_closed_is_replaced_before_a_request_uses_it(
    settings: Settings,
) -> None:
    """The server ends a connection idle in the pool (as a restart or a failover does to all of them): the
    next checkout finds it closed without asking the server and hands out a new one, so the request after
    it is answered rather than failing on the dead one."""
    engine = make_engine(settings.database_url)
    other = create_engine(settings.database_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            first = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with engine.connect() as conn:  # the same pooled connection, still open: not replaced
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() == first
        with other.connect() as admin:
            assert admin.execute(text("SELECT pg_terminate_backend(:p)"), {"p": first}).scalar_one()

        def ended() -> bool:
            with other.connect() as admin:
                return not admin.execute(
                    text("SELECT count(*) FROM pg_stat_activity WHERE pid = :p"), {"p": first}
                ).scalar_one()

        wait_for(ended, 10, "the server ends the connection")
        with engine.connect() as conn:  # no error: the closed connection is never used
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() != first
    finally:
        engine.dispose()
        other.dispose()
