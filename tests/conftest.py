"""Test fixtures: every store test runs twice, on SQLite and on a real PostgreSQL server.

The PostgreSQL server is started once per run by `deploy/local/postgres.py`. If it
cannot start, every PostgreSQL test errors: nothing is skipped. Each test gets its
own database, cloned from a template built by the migrations (PostgreSQL:
CREATE DATABASE ... TEMPLATE; SQLite: a file copy), and its own freshly generated keys.
"""

from __future__ import annotations

import shutil
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, inspect, text

from register.access.tokens import ensure_dev_signing_key, mint
from register.api.app import build_app
from register.config import PROJECT_ROOT, Settings
from register.domain.enums import Agency, Area, Role
from register.store import case_facts
from register.store.open import build_store, migrate
from register.store.store import Store

sys.path.insert(0, str(PROJECT_ROOT / "deploy" / "local"))
from esnode import ElasticsearchNode
from keycloak import KeycloakError, KeycloakServer
from postgres import PostgresServer

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    server = PostgresServer()
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def es_node() -> Iterator[ElasticsearchNode]:
    """A real Elasticsearch node for the whole run, started on first use. If it cannot start, its tests
    error."""
    node = ElasticsearchNode()
    try:
        node.start()
        yield node
    finally:
        node.stop()


class _BackgroundKeycloak:
    """Keycloak takes a minute or more to start: it starts in a thread as soon as collection shows a test
    needs it, while the other tests run, and those tests run last. If it cannot start, each of them errors
    with the reason."""

    def __init__(self) -> None:
        self.server: KeycloakServer | None = None
        self.thread: threading.Thread | None = None
        self.error: BaseException | None = None

    def begin(self) -> None:
        if self.thread is None:
            self.thread = threading.Thread(target=self._start, name="keycloak-start", daemon=True)
            self.thread.start()

    def _start(self) -> None:
        try:
            self.server = KeycloakServer()
            self.server.start()
        except BaseException as exc:  # noqa: BLE001 - reported by the fixture, to every test that needs Keycloak
            self.error = exc

    def wait(self) -> KeycloakServer:
        self.begin()
        assert self.thread is not None
        self.thread.join()
        if self.error is not None or self.server is None:
            raise KeycloakError(f"Keycloak could not start: {self.error}") from self.error
        return self.server

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()


_KEYCLOAK = _BackgroundKeycloak()


@pytest.hookimpl(trylast=True)  # after pytest-randomly's shuffle: the tests that need Keycloak go last
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    needing = [item for item in items if "keycloak" in getattr(item, "fixturenames", ())]
    if needing and not config.option.collectonly:
        _KEYCLOAK.begin()
        items[:] = [item for item in items if "keycloak" not in getattr(item, "fixturenames", ())] + needing


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _KEYCLOAK.stop()


@pytest.fixture(scope="session")
def keycloak() -> KeycloakServer:
    """A real Keycloak with the realms in auth/keycloak/ (started in the background; stopped at the end of the
    run)."""
    return _KEYCLOAK.wait()


def _admin(server: PostgresServer):  # type: ignore[no-untyped-def]
    return create_engine(server.url, isolation_level="AUTOCOMMIT")


def _pg_url(server: PostgresServer, database: str) -> str:
    return server.url.rsplit("/", 1)[0] + "/" + database


@pytest.fixture(scope="session")
def pg_template(pg_server: PostgresServer, tmp_path_factory: pytest.TempPathFactory) -> str:
    admin = _admin(pg_server)
    with admin.connect() as conn:
        conn.execute(text("CREATE DATABASE register_template"))
    admin.dispose()
    migrate(
        Settings(
            database_url=_pg_url(pg_server, "register_template"), var_dir=tmp_path_factory.mktemp("pgvar")
        )
    )
    return "register_template"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    migrate(Settings(database_url=f"sqlite:///{path}", var_dir=path.parent))
    return path


@pytest.fixture
def fresh_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database of the parametrised backend; yields its URL."""
    backend = request.param if hasattr(request, "param") else "sqlite"
    if backend == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        target = tmp_path / "register.db"
        shutil.copy(template, target)
        yield f"sqlite:///{target}"
        return
    server: PostgresServer = request.getfixturevalue("pg_server")
    template_name: str = request.getfixturevalue("pg_template")
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = _admin(server)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template_name}"'))
    try:
        yield _pg_url(server, name)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def settings(fresh_database: str, tmp_path: Path) -> Settings:
    # No rate limits: tests (the fuzz run above all) call far faster than people;
    # tests/api/test_rate_limits.py sets its own.
    return Settings(
        database_url=fresh_database,
        var_dir=tmp_path / "var",
        key_dir=tmp_path / "keys",
        rate_limit_per_user="",
        rate_limit_per_address="",
    )


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    s = build_store(settings)
    yield s
    try:
        _kept_facts_are_current(s)
    finally:
        s.dispose()


def _kept_facts_are_current(store: Store) -> None:
    """After every test, whatever it wrote and through whichever path: each record's kept caseload facts
    equal those worked out from its items and entries now (decision 62). A record whose facts a write left
    stale shows the wrong work as due on its officer's caseload and the supervisor's workload."""
    if "case_facts" not in inspect(store.engine).get_table_names():
        return  # a test that took the schema down (migrations)
    with store.session_factory() as session:
        stale = case_facts.drift(session)
    assert not stale, f"caseload facts stale for {len(stale)} records after this test: {stale[:5]}"


def backend_of(store: Store) -> str:
    return store.engine.dialect.name


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every test that touches a database runs on both backends."""
    if "fresh_database" in metafunc.fixturenames:
        backends = BACKENDS
        if metafunc.definition.get_closest_marker("postgres_only"):
            backends = ["postgresql"]
        elif metafunc.definition.get_closest_marker("sqlite_only"):
            backends = ["sqlite"]
        metafunc.parametrize("fresh_database", backends, indirect=True)


# ------------------------------------------------------------------ the API, with tokens signed by the
# development key

Minter = Callable[..., str]


@pytest.fixture
def app(store: Store, settings: Settings):  # type: ignore[no-untyped-def]
    return build_app(settings, store)


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app) as c:
        yield c


@pytest.fixture
def token(settings: Settings) -> Minter:
    key = ensure_dev_signing_key(settings.resolved_key_dir)

    def make(
        role: Role | str = Role.OFFENDER_MANAGER,
        agency: Agency | str = Agency.POLICE,
        area: Area | str = Area.KENT,
        user: str | None = None,
        **overrides: Any,
    ) -> str:
        role, agency, area = Role(role), Agency(agency), Area(area)
        return mint(
            key,
            user=user or f"{area.value}.{role.value}.{agency.value}",
            agency=agency,
            area=area,
            roles=[role],
            issuer=settings.token_issuer,
            audience=settings.token_audience,
            **overrides,
        )

    return make
