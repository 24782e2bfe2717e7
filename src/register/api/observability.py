"""Logs and metrics for operators (docs/operations.md, "Logs" and "Metrics").

* `configure_logging`: every log line is structured (structlog): JSON lines where a machine reads them
  (stderr is not a terminal), ConsoleRenderer for a person at a terminal; `REGISTER_LOG_FORMAT` overrides.
  The standard library's loggers (the register's own, uvicorn's) go through the same formatter.
* `RequestLog`: one line per request with the request id, the principal's user id, the route *template*,
  the method, the status and the duration. Never the concrete path, the query string, a header value or a
  body: those carry names, dates of birth and purposes.
* `Metrics`: a Prometheus registry per application, served at `/metrics` (`install_metrics`): request
  durations, sign-ins and refusals counted in the process; the outbox, the audit sealer, quality runs and key
  versions read from the database at scrape time (one set-based query each, store/gauges.py).
"""

from __future__ import annotations

import datetime as dt
import hmac
import logging
import sys
import time
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING, Any

import structlog
from fastapi import FastAPI, Request
from fastapi.responses import Response
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..audit.anchors import latest
from ..store import gauges
from .middleware import current_request_id
from .problems import problem

if TYPE_CHECKING:
    from ..config import Settings
    from ..store.store import Store

REQUEST_LOGGER = "register.request"
# The only fields a request line carries (ExtraAdder drops anything else handed to the logger).
REQUEST_FIELDS = ("request_id", "user_id", "route", "method", "status", "duration_ms")
QUIET_LOGGERS = ("httpx", "httpx2", "httpcore", "elastic_transport", "uvicorn.access")
UNMATCHED = "unmatched"  # no route: the concrete path (any text a caller sends) is never a label or logged

log = logging.getLogger(REQUEST_LOGGER)


# ------------------------------------------------------------------------------------------------ logs


class _ServerDuplicate(logging.Filter):
    """The register's 500 handler (api/problems.py) logs an unhandled error with its stack; Starlette then
    re-raises it to the server, which would log the same stack again. Dropped here: once is enough."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.name == "uvicorn.error" and str(record.msg).startswith("Exception in ASGI"))


def wants_console(fmt: str, stream: IO[str]) -> bool:
    if fmt in ("json", "console"):
        return fmt == "console"
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def configure_logging(
    fmt: str = "auto", stream: IO[str] | None = None, *, level: int = logging.INFO
) -> logging.Handler:
    """Route every log record (structlog's and the standard library's) to one handler on the root logger,
    rendered as JSON lines or for a terminal. Returns the handler (a test removes it again).

    HTTP clients' own request lines (httpx: the identity provider, Elasticsearch) are kept to warnings: they
    name whole URLs."""
    stream = stream or sys.stderr
    console = wants_console(fmt, stream)
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(allow=REQUEST_FIELDS),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: list[Any] = (
        [structlog.dev.ConsoleRenderer(colors=False)]
        if console
        else [structlog.processors.format_exc_info, structlog.processors.JSONRenderer()]
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *renderer],
        )
    )
    handler.addFilter(_ServerDuplicate())
    handler.set_name("register")
    root = logging.getLogger()
    # Ours from an earlier call, and plain console handlers someone else configured (alembic.ini's, installed
    # when `register demo` migrates in the same process): each line would be written twice, once unformatted.
    for old in [h for h in root.handlers if h.get_name() == "register" or type(h) is logging.StreamHandler]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in QUIET_LOGGERS:
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
    return handler


def route_template(scope: Scope) -> str:
    """The template of the route that answered (`/v1/nominals/{nominal_id}`), never the concrete path."""
    route = scope.get("route")
    if isinstance(route, Mount):
        return f"{route.path}/{{path}}"
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED


def _user_id(scope: Scope) -> str | None:
    state = scope.get("state") or {}
    principal = state.get("principal")
    if principal is None and state.get("web_session") is not None:
        principal = getattr(state["web_session"], "principal", None)
    user = getattr(principal, "user_id", None)
    return user if isinstance(user, str) else None


class RequestLog:
    """One log line and one histogram observation per HTTP request (and a refusal counted for 401 and 403)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # unless a response starts: an exception escaping means Starlette answers 500
        request_id = current_request_id()  # the request-id middleware (outside this) chose it
        # Every line logged while this request runs carries its id, the 500 handler's stack included (it runs
        # outside this middleware, in the same task: the binding is the task's own, left for it to end with).
        structlog.contextvars.bind_contextvars(request_id=request_id)

        async def watching_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, watching_send)
        finally:
            seconds = time.perf_counter() - started
            route, method = route_template(scope), scope["method"]
            self.metrics.observe(route, method, status, seconds)
            log.info(
                "request",
                extra={
                    "request_id": request_id,
                    "user_id": _user_id(scope),
                    "route": route,
                    "method": method,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 1),
                },
            )


# --------------------------------------------------------------------------------------------- metrics


class Metrics:
    """The application's own registry (never the global one: two apps in one process, as in the tests, each
    count their own)."""

    def __init__(self, store: Store) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Histogram(
            "register_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template, method and status",
            ["route", "method", "status"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self.sign_ins = Counter(
            "register_sign_ins",
            "Web sign-ins, by method (development or oidc) and outcome (success or refused)",
            ["method", "outcome"],
            registry=self.registry,
        )
        self.refusals = Counter(
            "register_refusals",
            "Requests refused: 401 (no or bad credentials) and 403 (the access policy said no)",
            ["status"],
            registry=self.registry,
        )
        self.registry.register(DatabaseGauges(store))
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        self.requests.labels(route, method, str(status)).observe(seconds)
        if status in (401, 403):
            self.refusals.labels(str(status)).inc()

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class DatabaseGauges(Collector):
    """Gauges read when Prometheus scrapes: four queries (store/gauges.py) and the anchor file's tail."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def describe(self) -> list[Metric]:
        return []  # collected only at scrape time, not when the registry is built

    def collect(self) -> Iterator[Metric]:
        now = dt.datetime.now(dt.UTC)
        up = GaugeMetricFamily("register_database_up", "1 if the scrape could read the database, else 0")
        try:
            with self.store.session_factory() as session:
                figures = gauges.read(session, now)
        except SQLAlchemyError:
            logging.getLogger(__name__).warning("metrics: the database could not be read", exc_info=True)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up

        def age(when: dt.datetime | None) -> float:
            return max(0.0, (now - when).total_seconds()) if when is not None else 0.0

        yield _gauge(
            "register_outbox_pending", "Outbox rows not yet in the search index", figures.outbox_pending
        )
        yield _gauge(
            "register_outbox_oldest_pending_age_seconds",
            "Age of the oldest outbox row not yet indexed (0: none), retry waits included",
            age(figures.outbox_oldest_pending),
        )
        yield _gauge(
            "register_outbox_parked", "Outbox rows parked after too many failures", figures.outbox_parked
        )
        yield _gauge(
            "register_indexer_lag_seconds",
            "How long the oldest outbox row due now has waited for the indexer (0: caught up)",
            age(figures.outbox_oldest_due),
        )
        yield _gauge(
            "register_watches_lag_seconds",
            "Age of the oldest change the active watched searches have not been evaluated against (0: none)",
            age(figures.watches_oldest_unevaluated),
        )
        yield _gauge(
            "register_audit_unsealed_events", "Committed audit events not yet sealed", figures.audit_unsealed
        )
        yield _gauge(
            "register_audit_sealer_lag_seconds",
            "Age of the oldest committed audit event not yet sealed (0: none)",
            age(figures.audit_oldest_unsealed),
        )
        anchored = GaugeMetricFamily(
            "register_audit_last_anchor_timestamp_seconds",
            "When the audit chain's head was last anchored (Unix time; absent: never)",
        )
        try:
            last = latest(self.store.anchors.recent(), self.store.audit_keys.anchor)
        except OSError:
            last = None
        if last is not None:
            anchored.add_metric([], last.made_at.timestamp())
        yield anchored
        quality = GaugeMetricFamily(
            "register_quality_last_run_age_seconds",
            "Time since the data-quality rules last finished a run over the area",
            labels=["area"],
        )
        for area, when in sorted(figures.quality_last_run.items()):
            quality.add_metric([area], age(when))
        yield quality
        keys = GaugeMetricFamily(
            "register_data_keys",
            "Data keys wrapped under each key-encryption key version, with the version's state",
            labels=["kek_version", "state"],
        )
        ring = self.store.keys.keyring
        known = set(ring.versions())
        for version in sorted(known | set(figures.data_keys_by_version), key=_version_order):
            state = ring.state(version) if version in known else "missing"
            keys.add_metric([version, state], figures.data_keys_by_version.get(version, 0))
        yield keys


def _version_order(version: str) -> tuple[int, str]:
    return (int(version), "") if version.isdigit() else (0, version)


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def install_metrics(app: FastAPI, store: Store, settings: Settings, *, production: bool) -> Metrics:
    """`/metrics` and the request log on `app`.

    Protection: with `REGISTER_METRICS_TOKEN` set, a scrape must send `Authorization: Bearer <token>`
    (compared in constant time); in production without a token `/metrics` does not exist (404). In
    development without a token it is open: the demo serves on localhost."""
    metrics = Metrics(store)
    app.state.metrics = metrics
    token = settings.metrics_token.encode()
    enabled = bool(token) or not production

    def scrape(request: Request) -> Response:
        if not enabled:
            return problem(request, 404, "not_found", "no such resource")
        if token:
            scheme, _, value = request.headers.get("authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(value.strip().encode(), token):
                return problem(
                    request,
                    401,
                    "metrics_token_required",
                    "scraping the metrics needs the bearer token set in REGISTER_METRICS_TOKEN",
                    headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
                )
        return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    app.add_api_route("/metrics", scrape, methods=["GET"], include_in_schema=False)
    app.add_middleware(RequestLog, metrics=metrics)
    return metrics


def count_sign_in(request: Request, method: str, outcome: str) -> None:
    """A web sign-in (`method`: development or oidc; `outcome`: success or refused) for
    `register_sign_ins_total`."""
    metrics: Metrics | None = getattr(request.app.state, "metrics", None)
    if metrics is not None:
        metrics.sign_ins.labels(method, outcome).inc()
