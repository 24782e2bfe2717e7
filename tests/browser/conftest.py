"""Browser tests: the register served by uvicorn on a free port (in a thread of this process, SQLite, demo
data), driven by Playwright through Debian's Chromium (`apt-get install chromium`; Playwright's own browser
download does not work here), headless, in Europe/London.

Every page a test visits is checked with axe-core (WCAG 2.0, 2.1 and 2.2, A and AA) and must have no
violations. A test reaches the server's objects directly (its session store's clock, its store for the audit
log), since the server runs in this process.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from axe_playwright_python.sync_playwright import Axe
from fastapi import FastAPI
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright
from sqlalchemy import select

from register import demo as demo_data
from register.api.app import build_app
from register.config import PROJECT_ROOT, Settings
from register.domain.actors import SystemActor
from register.store import models as m
from register.store.open import build_store, migrate
from register.store.store import Store

pytestmark = pytest.mark.sqlite_only

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = PROJECT_ROOT / "docs" / "screenshots"
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """One running register: its URL, the app (its session store) and its store (the audit log)."""

    url: str
    app: FastAPI
    store: Store
    settings: Settings
    _server: uvicorn.Server = field(repr=False)
    _thread: threading.Thread = field(repr=False)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=30)

    def audit(self, after: int = 0, **where: Any) -> list[m.AuditEvent]:
        """Audit events after sequence number `after` with these column values (e.g. tag=...,
        actor_user=...)."""
        with self.store.session_factory() as session:
            q = (
                select(m.AuditEvent)
                .where(m.AuditEvent.seq > after)
                .filter_by(**where)
                .order_by(m.AuditEvent.seq)
            )
            return list(session.scalars(q))

    def audit_head(self) -> int:
        with self.store.session_factory() as session:
            return int(
                session.scalar(select(m.AuditEvent.seq).order_by(m.AuditEvent.seq.desc()).limit(1)) or 0
            )


def details(event: m.AuditEvent) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(event.details) if event.details else {}
    return value


def serve(settings: Settings, store: Store) -> Server:
    port = free_port()
    app = build_app(settings, store)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, name=f"register-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the register did not start for the browser tests")
        time.sleep(0.05)
    return Server(f"http://127.0.0.1:{port}", app, store, settings, server, thread)


@pytest.fixture(scope="session")
def pristine_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The demo register as loaded, before any journey changes it: the source of every copy."""
    var = tmp_path_factory.mktemp("browser-var-pristine")
    settings = Settings(var_dir=var, rate_limit_per_user="", rate_limit_per_address="")
    migrate(settings)
    store = build_store(settings)
    with store.unit_of_work() as uow:
        demo_data.load(uow, SystemActor("demo-loader"))
    store.dispose()
    yield var
    shutil.rmtree(var, ignore_errors=True)


def copy_of(pristine: Path, tmp_path_factory: pytest.TempPathFactory, name: str) -> Path:
    var = tmp_path_factory.mktemp(name)
    shutil.copytree(pristine, var, dirs_exist_ok=True)
    return var


@pytest.fixture(scope="session")
def demo_settings(pristine_demo: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """The shared demo register on SQLite (a copy of the load); most browser tests' server reads it."""
    var = copy_of(pristine_demo, tmp_path_factory, "browser-var")
    yield Settings(var_dir=var, rate_limit_per_user="", rate_limit_per_address="")
    shutil.rmtree(var, ignore_errors=True)


@pytest.fixture(scope="session")
def demo_store(demo_settings: Settings) -> Iterator[Store]:
    store = build_store(demo_settings)
    yield store
    store.dispose()


@pytest.fixture(scope="session")
def server(demo_settings: Settings, demo_store: Store) -> Iterator[Server]:
    running = serve(demo_settings, demo_store)
    yield running
    running.stop()


@pytest.fixture(scope="session")
def make_server(
    demo_settings: Settings, pristine_demo: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[..., Server]]:
    """Another register with settings changed (e.g. a one-minute idle timeout), on its own copy of the demo
    data as loaded (two registers sealing one audit log would race each other; a copy of the shared register
    would carry whatever the journeys before it changed, and a SQLite file copied mid-write)."""
    started: list[Server] = []

    def make(**changes: Any) -> Server:
        var = copy_of(pristine_demo, tmp_path_factory, "browser-var-copy")
        settings = demo_settings.model_copy(update={"var_dir": var, **changes})
        running = serve(settings, build_store(settings))
        started.append(running)
        return running

    yield make
    for running in started:
        running.stop()
        running.store.dispose()


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            "Debian's chromium is needed for the browser tests: apt-get install chromium (scripts/test.sh)"
        )
    browser = playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox", "--disable-dev-shm-usage"]
    )
    yield browser
    browser.close()


class Accessibility:
    """axe-core on every page the test's browser loads (after each navigation), WCAG 2.0/2.1/2.2 A and AA."""

    def __init__(self, only_under: str) -> None:
        self.axe = Axe()
        self.only_under = only_under
        self.checked: list[str] = []
        self.violations: list[str] = []

    def check(self, page: Page) -> None:
        if not page.url.startswith(self.only_under):
            return  # another site's pages (the identity provider's login form) are not ours to judge
        results = self.axe.run(page, options={"runOnly": {"type": "tag", "values": WCAG}})
        self.checked.append(page.url)
        if results.violations_count:
            self.violations.append(f"{page.url}:\n{results.generate_report()}")


@pytest.fixture
def context(browser: Browser, server: Server) -> Iterator[BrowserContext]:
    ctx = browser.new_context(
        timezone_id="Europe/London", locale="en-GB", viewport={"width": 1280, "height": 900}
    )
    ctx.set_default_timeout(15_000)
    yield ctx
    ctx.close()


@pytest.fixture
def axe(server: Server) -> Iterator[Accessibility]:
    checker = Accessibility("http://127.0.0.1:")
    yield checker
    assert checker.violations == [], "\n\n".join(checker.violations)


@pytest.fixture
def page(context: BrowserContext) -> Page:
    """The test's browser tab. Page objects (tests/browser/pages.py) run axe-core after every page they
    reach."""
    return context.new_page()


def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))  # what the first screen shows


def today_in_london() -> dt.date:
    from zoneinfo import ZoneInfo

    return dt.datetime.now(ZoneInfo("Europe/London")).date()


@pytest.fixture(scope="module")
def pg_browser_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """A register on the real PostgreSQL server (tests/conftest.py starts it), with the demo data: for the
    journeys that run on both engines."""
    from sqlalchemy import create_engine, text

    pg = request.getfixturevalue("pg_server")
    template: str = request.getfixturevalue("pg_template")
    name = f"browser_{uuid.uuid4().hex[:10]}"
    admin = create_engine(pg.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    var = tmp_path_factory.mktemp("browser-pg-var")
    settings = Settings(
        database_url=pg.url.rsplit("/", 1)[0] + "/" + name,
        var_dir=var,
        rate_limit_per_user="",
        rate_limit_per_address="",
    )
    store = build_store(settings)
    with store.unit_of_work() as uow:
        demo_data.load(uow, SystemActor("demo-loader"))
    running = serve(settings, store)
    try:
        yield running
    finally:
        running.stop()
        store.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
