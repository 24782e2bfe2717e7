"""The FastAPI application: one router per capability, one policy, problem+json errors."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from fastapi import Depends, FastAPI
from fastapi.routing import APIRoute
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp

from .. import __version__
from ..access.policy import Policy
from ..access.tokens import TokenVerifier
from ..archive.routes import router as archive_router
from ..associations.routes import router as associations_router
from ..audit.floods import RefusalFloods
from ..audit.routes import router as audit_router
from ..bootstrap import build_search_index, build_verifier
from ..config import Settings
from ..events.routes import router as events_router
from ..keys.routes import router as keys_router
from ..meetings.routes import router as meetings_router
from ..merges.routes import router as merges_router
from ..nominals.routes import router as nominals_router
from ..photos import routes as photos
from ..quality.routes import router as quality_router
from ..retention.routes import router as retention_router
from ..saved_searches.routes import router as watches_router
from ..search.backend import SearchBackend
from ..search.routes import router as search_router
from ..search.sql import SqlBackend
from ..statistics.routes import router as statistics_router
from ..store.background import AfterCommitWorker
from ..store.store import Store
from ..transfers.routes import router as transfers_router
from ..usecase import guard
from ..web import associations as web_associations
from ..web import audit as web_audit
from ..web import common as web_common
from ..web import duplicates as web_duplicates
from ..web import meetings as web_meetings
from ..web import photographs as web_photographs
from ..web import record as web_record
from ..web import retention as web_retention
from ..web import search as web_search
from ..web import statistics as web_statistics
from ..web import transfer as web_transfer
from ..web import transfers as web_transfers
from ..web.assets import Assets
from ..web.caseload import router as caseload_router
from ..web.corrections import router as corrections_router
from ..web.editing import router as editing_router
from ..web.pages import Pages
from ..web.quality import router as web_quality_router  # with the workload pages
from ..web.routes import router as web_router
from ..web.sessions import SessionStore, WebSessions
from ..web.signin import SignIn
from ..web.signin import router as signin_router
from . import openapi, problems
from .inputs import reject_nul_characters, require_media_type
from .middleware import BodyLimit, ConditionalReads, SecurityHeaders, request_ids
from .observability import install_metrics
from .ratelimit import AddressRateLimit, RateLimits
from .system import router as system_router
from .tracing import install_tracing

# The Elasticsearch client is an extra: imported only when the configuration names a cluster
if TYPE_CHECKING:
    from ..search.indexer import SearchIndex

# Under load the sealer seals at most four times a second, each pass all the events committed meanwhile (about
# 4 ms of the API's CPU per pass at 100,000 people: one pass per request took a fifth of a busy API's CPU). An
# event is sealed within about a quarter of a second of its commit (decision 29).
SEAL_GATHER_SECONDS = 0.25

DESCRIPTION = """
The register's API for police, probation and prisons.

* Every call but `/health` and `/ready` needs a bearer token; `register dev-token` mints one in development.
* Reading a record outside your area needs `?purpose=` (an enquiry reference); every read is audited with it.
* Reads return an `ETag`; every change must send it back as `If-Match` (428 without, 412 if someone \
changed the record first).
* Errors are `application/problem+json` naming the rule, and for bad input each field and rule.
"""


def operation_id(route: APIRoute) -> str:
    """An operation's id is its function's name (`read_nominal`, `append_chronology`, `accept_transfer`):
    what a generated client calls it. `tests/api/test_api_conventions.py` checks they are unique."""
    return route.name


class RegisterApp(FastAPI):
    """FastAPI with the hardening headers outside everything, Starlette's 500 handler included, and an OpenAPI
    document a generated client can use (`openapi.tidy`)."""

    hsts = False

    def openapi(self) -> dict[str, Any]:
        if self.openapi_schema is None:
            self.openapi_schema = openapi.tidy(super().openapi())
        return self.openapi_schema

    def build_middleware_stack(self) -> ASGIApp:
        return SecurityHeaders(super().build_middleware_stack(), self.router.routes, hsts=self.hsts)


def create_app(
    store: Store,
    policy: Policy,
    verifier: TokenVerifier,
    *,
    max_body_bytes: int,
    search_index: SearchIndex | None = None,
    index_in_process: bool = True,
    production: bool = False,
    rate_limits: RateLimits | None = None,
    assets: Assets | None = None,
    settings: Settings | None = None,
) -> FastAPI:
    # Where `register indexer` workers drain the outbox (production), the API leaves it to them: indexing in
    # the API process would take CPU from the requests themselves.
    backend: SearchBackend
    indexer = None
    if search_index is None:
        backend = SqlBackend(store)
    else:
        from ..search.elastic import ElasticBackend
        from ..search.indexer import InProcessIndexer

        backend = ElasticBackend(search_index)
        indexer = InProcessIndexer(store, search_index) if index_in_process else None
    # The audit chain is sealed by one background sealer, not inside each request: the events themselves are
    # committed with the change, so nothing is lost if sealing lags; `register audit seal` catches up.
    sealer = AfterCommitWorker(
        store, store.seal_audit, "register-audit-sealer", gather_seconds=SEAL_GATHER_SECONDS
    )

    # One app may be served by several lifespans at once (test clients, servers sharing it): the first to
    # start starts the workers, the last to stop stops them and seals, so that no worker outlives every
    # lifespan holding a database connection and no two seal at once.
    spans = {"running": 0, "sealing_before": True}
    spans_lock = threading.Lock()

    @asynccontextmanager
    async def lifespan(running: FastAPI) -> AsyncIterator[None]:
        with spans_lock:
            spans["running"] += 1
            if spans["running"] == 1:
                if indexer is not None:
                    indexer.ensure_index()
                    indexer.start()
                spans["sealing_before"], store.seal_after_commit = store.seal_after_commit, False
                sealer.start()
        yield
        with spans_lock:
            spans["running"] -= 1
            if spans["running"] > 0:
                return
            with store.unit_of_work() as uow:  # the refusal floods' counts still open
                guard.write_flood_summaries(uow, running.state.refusal_floods)
            sealer.stop()
            store.seal_after_commit = bool(spans["sealing_before"])
            store.seal(force_anchor=True)  # what the last requests wrote, and anchor the head it ends on
            if running.state.tracing is not None:
                running.state.tracing.shutdown()  # the spans still batched go to the collector
            if indexer is not None:
                indexer.stop()

    assets = assets or Assets.load()
    # /docs and /redoc are the register's own pages (web/routes.py), served from its own copy of Swagger UI
    # and ReDoc.
    app = RegisterApp(
        title="The register",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        dependencies=[Depends(require_media_type), Depends(reject_nul_characters)],
        generate_unique_id_function=operation_id,
        separate_input_output_schemas=False,  # one schema per model: what is sent is what is read
        docs_url=None,
        redoc_url=None,
    )
    # Production is served over TLS only (behind the proxy): browsers are told never to try plain HTTP.
    app.hsts = production
    settings = settings or store.settings
    # The web pages' sign-in and sessions (web/signin.py, web/sessions.py): server-side sessions in this
    # process.
    app.state.sign_in = SignIn(settings, verifier)
    app.state.sessions = SessionStore(
        idle_seconds=settings.session_idle_minutes * 60, max_age_seconds=settings.session_max_hours * 3600
    )
    app.state.pages = Pages(assets, form_targets=app.state.sign_in.form_targets)
    app.state.search_backend = backend
    app.state.search_index = search_index  # None on the embedded backend; /ready pings it
    app.state.search_backend_name = "elasticsearch" if search_index is not None else "sql"
    app.state.store = store
    app.state.policy = policy
    app.state.verifier = verifier
    app.state.rate_limits = rate_limits or RateLimits("", "")
    app.state.refusal_floods = (
        RefusalFloods(settings.audit_refusals_interval_seconds, settings.audit_refusals_individually)
        if settings is not None
        else RefusalFloods()
    )
    problems.install(app)
    problems.install_database_outages(app, page=web_common.unavailable_page)
    web_common.install(app)
    web_record.install(app)
    app.mount(assets.prefix, ImmutableFiles(directory=assets.directory), name="static")
    app.mount("/assets", StaticFiles(directory=assets.directory / "assets"), name="design-system-assets")
    # The API's routers first, then the pages': no path of one is a path of the other (the API's begin /v1,
    # or are /health and /ready), so the order between the two changes no answer, and a call to the API does
    # not try the pages' patterns first. Within each, the order is the order of precedence.
    for router in (
        system_router,
        associations_router,  # before the nominals' /v1/nominals/{id}/{section}
        meetings_router,  # likewise (/v1/nominals/{id}/meetings/...)
        nominals_router,
        photos.router,
        search_router,
        watches_router,
        quality_router,
        statistics_router,
        transfers_router,
        merges_router,
        archive_router,
        retention_router,
        audit_router,
        keys_router,
        events_router,
        web_router,
        signin_router,
        caseload_router,
        web_associations.router,  # before the record's /records/{id}/{group}
        web_meetings.router,  # likewise
        web_record.router,
        web_photographs.router,
        web_transfer.router,
        web_audit.router,
        web_statistics.router,
        web_transfers.router,
        web_duplicates.router,
        web_retention.router,
        web_search.router,
        editing_router,
        corrections_router,
        web_quality_router,
    ):
        app.include_router(router)
    app.add_middleware(ConditionalReads)  # innermost: the request log and metrics see its 304s
    app.add_middleware(WebSessions, store=app.state.sessions, secure=production)
    # A photograph upload may carry more than other bodies: its own limit; nothing larger reaches the parser.
    photo_body = max(max_body_bytes, store.settings.photo_max_bytes + photos.MULTIPART_ALLOWANCE)
    app.add_middleware(
        BodyLimit,
        max_bytes=max_body_bytes,
        allowances=[
            ("POST", photos.UPLOAD_PATH, photo_body),
            ("POST", web_photographs.UPLOAD_PATH, photo_body),
        ],
    )
    app.add_middleware(AddressRateLimit, limits=app.state.rate_limits)
    install_metrics(app, store, settings, production=production)  # /metrics, and the request log
    app.add_middleware(request_ids)
    app.state.tracing = install_tracing(
        app
    )  # OpenTelemetry, when the environment configures it (off by default)
    return app


class ImmutableFiles(StaticFiles):
    """The built assets: every name carries a hash of its content, so a browser may keep each for a year."""

    def file_response(self, *args, **kwargs):
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return response


def build_app(settings: Settings, store: Store) -> FastAPI:
    return create_app(
        store,
        Policy.load(settings.policy_file),
        build_verifier(settings),
        max_body_bytes=settings.max_body_bytes,
        production=settings.environment == "production",
        rate_limits=RateLimits(
            settings.rate_limit_per_user, settings.rate_limit_per_address, settings.rate_limit_storage
        ),
        search_index=build_search_index(settings),
        index_in_process=settings.indexer_in_api,
        settings=settings,
    )
