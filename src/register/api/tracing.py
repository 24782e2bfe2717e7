"""OpenTelemetry tracing of the API's requests: an option configured by the environment, off by default
(issue #21 point 2, docs/operations.md "Tracing").

On when the standard OpenTelemetry variable `OTEL_EXPORTER_OTLP_ENDPOINT` (or `..._TRACES_ENDPOINT`) is set
and `OTEL_SDK_DISABLED` is not `true`; the spans go by OTLP over HTTP to that collector, named by
`OTEL_SERVICE_NAME` (default `register`). The packages are the optional extra `tracing`; without the variable
nothing of OpenTelemetry is imported.

A span carries what the request log carries and no more: the route *template* (`GET
/v1/nominals/{nominal_id}`) and the status. The concrete path (a record's id) and the query string (a purpose,
search words) are replaced by the template before the span is exported, and `/health`, `/ready` and
`/metrics` are not traced. The ASGI middleware is added directly (outside every other): FastAPI's own
instrumentor expects Starlette's default middleware stack, which the register wraps in its hardening headers.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from starlette.routing import Match

from .. import __version__

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

UNTRACED = "health,ready,metrics"
# Attributes the ASGI instrumentation fills from the concrete request (old and stable semantic conventions)
_CONCRETE = ("http.target", "url.path", "http.url", "url.full", "url.query")


def configured(env: dict[str, str] | None = None) -> bool:
    env = dict(os.environ) if env is None else env
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    return bool(env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))


def _without_the_concrete_request(span: Any, scope: dict[str, Any]) -> None:
    """Replace what names the concrete request with the route template (or `unmatched`)."""
    if span is None or not span.is_recording():
        return
    attributes = getattr(span, "attributes", None) or {}
    template = attributes.get("http.route") or "unmatched"
    for key in _CONCRETE:
        if key in attributes:
            span.set_attribute(key, "" if key == "url.query" else template)


def _span_details(app: FastAPI, scope: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """A span's name and route: `GET /v1/nominals/{nominal_id}`, from the route of `app` that will answer."""
    method = str(scope.get("method", "HTTP"))
    for route in iter_route_contexts(app.routes):  # routers included are nested: their effective routes
        match, _ = route.matches(scope)
        path = getattr(route, "path", None)
        if match == Match.FULL and path:
            return f"{method} {path}", {"http.route": str(path)}
    return f"{method} unmatched", {"http.route": "unmatched"}


def install_tracing(app: FastAPI) -> TracerProvider | None:
    """Trace `app`'s requests if the environment asks for it; the provider (to flush or shut down), or
    None."""
    if not configured():
        return None
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    resource = Resource.create(
        {"service.name": os.environ.get("OTEL_SERVICE_NAME", "register"), "service.version": __version__}
    )
    provider = TracerProvider(resource=resource)  # this app's own, not the process-wide global
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    app.add_middleware(
        OpenTelemetryMiddleware,
        tracer_provider=provider,
        excluded_urls=UNTRACED,
        default_span_details=lambda scope: _span_details(app, scope),
        server_request_hook=_without_the_concrete_request,
        exclude_spans=["receive", "send"],
    )
    return provider
