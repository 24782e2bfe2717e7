"""OpenTelemetry tracing (issue #21 point 2): off by default; with OTEL_EXPORTER_OTLP_ENDPOINT set, each API
request is a span sent by OTLP/HTTP to a collector (here a small receiving server started by the test,
decoding the protobuf the exporter sends), named by its route template and carrying no record id, purpose or
query."""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fastapi.testclient import TestClient

from register.api.app import build_app
from register.config import Settings
from register.store.store import Store
from tests.api.helpers import PERSON, Minter, auth, create

PURPOSE = "OP-HERON-12 seen near the school"


class Collector:
    """An OTLP/HTTP trace receiver: every ExportTraceServiceRequest posted to /v1/traces, decoded."""

    def __init__(self) -> None:
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

        received: list[ExportTraceServiceRequest] = []
        self.received = received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                request = ExportTraceServiceRequest()
                request.ParseFromString(body)
                if self.path == "/v1/traces":
                    received.append(request)
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def spans(self) -> list[dict[str, object]]:
        found = []
        for request in self.received:
            for resource_spans in request.resource_spans:
                service = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
                for scope_spans in resource_spans.scope_spans:
                    for span in scope_spans.spans:
                        values = {a.key: (a.value.string_value or a.value.int_value) for a in span.attributes}
                        found.append({"name": span.name, "service": service["service.name"], **values})
        return found


@pytest.fixture
def collector() -> Iterator[Collector]:
    c = Collector()
    yield c
    c.server.shutdown()
    c.server.server_close()


@pytest.mark.sqlite_only
def test_without_the_environment_nothing_is_traced(store: Store, settings: Settings) -> None:
    app = build_app(settings, store)
    assert app.state.tracing is None


@pytest.mark.sqlite_only
def test_with_an_endpoint_each_request_is_a_span_named_by_its_route_with_nothing_concrete(
    store: Store, settings: Settings, token: Minter, collector: Collector, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.url)
    monkeypatch.setenv("OTEL_SERVICE_NAME", "register-test")
    app = build_app(settings, store)
    assert app.state.tracing is not None
    with TestClient(app) as client:
        om = token()
        nid, _ = create(client, om)
        essex = token(area="essex")
        read = client.get(f"/v1/nominals/{nid}", params={"purpose": PURPOSE}, headers=auth(essex))
        assert read.status_code == 200
        assert client.get("/health").status_code == 200 and client.get("/ready").status_code == 200
        app.state.tracing.force_flush()
    spans = collector.spans()
    names = [s["name"] for s in spans]
    assert "POST /v1/nominals" in names and "GET /v1/nominals/{nominal_id}" in names
    assert not [n for n in names if "health" in str(n) or "ready" in str(n)]  # probes are not traced
    [get] = [s for s in spans if s["name"] == "GET /v1/nominals/{nominal_id}"]
    assert get["service"] == "register-test" and get["http.route"] == "/v1/nominals/{nominal_id}"
    assert 200 in (get.get("http.status_code"), get.get("http.response.status_code"))
    everything = repr(spans)
    # no record id, no purpose, no name, no query string anywhere in what left for the collector
    for secret in (nid, "OP-HERON", "school", PERSON["identity"]["surname"], "purpose="):
        assert secret not in everything, secret
