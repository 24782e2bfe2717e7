"""Which route answers a request (`api/routing.py`, `api/app.py`): the routers decline at once a path none of
their routes can match, and the API's routers are tried before the pages'. Neither may change which route
answers: every operation of the API and every page must still be reached by its own path and method."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from register.api.routing import APIRouter, literal_head
from register.nominals.routes import router as nominals_router
from register.search.routes import router as search_router
from register.web import (
    associations,
    audit,
    caseload,
    duplicates,
    editing,
    meetings,
    photographs,
    quality,
    record,
    retention,
    search,
    signin,
    statistics,
    transfer,
    transfers,
    workload,
)
from register.web.routes import router as web_router

pytestmark = pytest.mark.sqlite_only

PAGES = [
    web_router,
    signin.router,
    caseload.router,
    associations.router,
    meetings.router,
    record.router,
    photographs.router,
    transfer.router,
    audit.router,
    statistics.router,
    transfers.router,
    duplicates.router,
    retention.router,
    search.router,
    editing.router,
    quality.router,
    workload.router,
]


def example(path: str) -> str:
    """A path the route's pattern matches: each parameter a value of its kind."""

    def value(m: re.Match[str]) -> str:
        name = m.group(1).split(":")[0]
        return str(uuid.uuid4()) if name.endswith("_id") else ("1" if name in ("seq", "index") else "x")

    return re.sub(r"\{([^}]+)\}", value, path)


def every_route(client: TestClient) -> Iterator[tuple[str, str, str]]:
    """(method, path, what) for every operation in the OpenAPI document and every page route."""
    doc = client.app.openapi()  # type: ignore[attr-defined]
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            yield method.upper(), path, operation["operationId"]
    for router in PAGES:
        for route in router.routes:
            if isinstance(route, APIRoute):
                for method in sorted(route.methods - {"HEAD"}):
                    yield method, route.path, route.name


def test_every_operation_and_page_is_reached_by_its_own_path(client: TestClient, monkeypatch: Any) -> None:
    """Signed out, so nothing is done: each answer is the route's own refusal (401, a redirect to sign in, a
    form's 403), never "no such path" (the router's default) and never 405 (another route's pattern)."""
    unmatched: list[str] = []
    default = client.app.router.default  # type: ignore[attr-defined]

    async def spy(scope: Any, receive: Any, send: Any) -> None:
        unmatched.append(f"{scope['method']} {scope['path']}")
        await default(scope, receive, send)

    monkeypatch.setattr(client.app.router, "default", spy)  # type: ignore[attr-defined]
    routes = list(every_route(client))
    assert len(routes) > 150  # the API's operations and the pages, not an empty walk
    wrong = []
    for method, path, name in routes:
        response = client.request(method, example(path), follow_redirects=False)
        if response.status_code == 405:
            wrong.append((method, path, name))
    assert unmatched == [] and wrong == []


def test_a_router_declines_paths_outside_the_head_its_routes_share() -> None:
    assert literal_head("/v1/nominals/{nominal_id}/chronology") == "/v1/nominals/"
    assert search_router.common_head() == "/v1/search"
    assert nominals_router.common_head() == "/v1/nominals"
    assert record.router.common_head() == "/records/"
    assert web_router.common_head() == "/"  # nothing shared: every path tried

    things = APIRouter(prefix="/v1/things")
    things.add_api_route("/{thing_id}", lambda thing_id: {"thing": thing_id}, methods=["GET"])
    other = APIRouter()
    other.add_api_route("/v1/other/{n}", lambda n: {"other": n}, methods=["GET"])
    app = FastAPI()
    app.include_router(things)
    app.include_router(other)
    with TestClient(app) as c:
        assert c.get("/v1/things/7").json() == {"thing": "7"}
        assert c.get("/v1/other/8").json() == {"other": "8"}
        assert c.get("/v1/thing/7").status_code == 404
        assert c.post("/v1/things/7").status_code == 405  # the path is theirs: the method refused, not lost
    with TestClient(app, root_path="/register") as c:  # behind a proxy's path: still found
        assert c.get("/v1/things/9").json() == {"thing": "9"}
    things.add_api_route("", lambda: {"things": []}, methods=["GET"], name="all")
    assert things.common_head() == "/v1/things"  # worked out again when a route is added
    with TestClient(app) as c:
        assert c.get("/v1/things").json() == {"things": []}
