"""Response hardening (issue #17, F8): headers on every response, no caching of personal data, a strict CSP on
HTML, HSTS in production, and OPTIONS answered."""

from __future__ import annotations

import base64
import hashlib

import pytest
from fastapi.testclient import TestClient

from register.api.app import build_app
from register.config import Settings
from register.domain.enums import Role
from register.statistics import render
from register.store.store import Store
from tests.api.helpers import Minter, auth, create

pytestmark = pytest.mark.sqlite_only  # headers do not depend on the database


def _every_kind_of_response(client: TestClient, token: Minter) -> dict[str, object]:
    om = token()
    nid, _ = create(client, om)
    return {
        "health": client.get("/health"),
        "openapi": client.get("/openapi.json"),
        "no such route": client.get("/nope"),
        "me": client.get("/v1/me", headers=auth(om)),
        "record": client.get(f"/v1/nominals/{nid}", headers=auth(om)),
        "unauthenticated": client.get(f"/v1/nominals/{nid}"),
        "forbidden": client.get("/v1/statistics", params={"year": 2024}, headers=auth(om)),
        "invalid": client.get("/v1/nominals/not-a-uuid", headers=auth(om)),
        "too large": client.post(
            "/v1/nominals", content=b"x" * 1_000_001, headers=auth(om, **{"Content-Type": "application/json"})
        ),
        "csv": client.post(
            "/v1/search/export",
            json={"query": {"type": "group", "criteria": [{"type": "name", "value": "Hartley"}]}},
            params={"purpose": "OP-1"},
            headers=auth(token(Role.INVESTIGATOR)),
        ),
        "html": client.get(
            "/v1/statistics", params={"year": 2024, "format": "html"}, headers=auth(token(Role.SUPERVISOR))
        ),
        "docs": client.get("/docs"),
        "redoc": client.get("/redoc"),
        "front door": client.get("/"),
    }


def test_every_response_says_nosniff_and_v1_responses_are_never_stored(
    client: TestClient, token: Minter
) -> None:
    for name, r in _every_kind_of_response(client, token).items():
        assert r.headers.get("x-content-type-options") == "nosniff", name  # type: ignore[attr-defined]
        if r.request.url.path.startswith("/v1"):  # type: ignore[attr-defined]
            assert r.headers.get("cache-control") == "no-store", name  # type: ignore[attr-defined]
        assert "strict-transport-security" not in r.headers, name  # type: ignore[attr-defined]


def test_an_unhandled_error_still_carries_the_headers(app, token: Minter) -> None:  # type: ignore[no-untyped-def]
    from fastapi import Depends

    from register.api.deps import Authorize

    def boom() -> None:
        raise RuntimeError("boom")

    app.add_api_route("/v1/boom", boom, methods=["GET"], dependencies=[Depends(Authorize("self.read"))])
    with TestClient(app, raise_server_exceptions=False) as client:
        r = client.get("/v1/boom", headers=auth(token()))
    assert (
        r.status_code == 500
        and r.headers["x-content-type-options"] == "nosniff"
        and r.headers["cache-control"] == "no-store"
    )


def test_html_responses_carry_a_content_security_policy_without_inline_script(
    client: TestClient, token: Minter
) -> None:
    responses = _every_kind_of_response(client, token)
    for name in ("html", "docs", "redoc", "front door"):
        r = responses[name]
        assert r.headers["content-type"].startswith("text/html"), name  # type: ignore[attr-defined]
        policy = dict(
            (d.strip().split(" ", 1) + [""])[:2] for d in r.headers["content-security-policy"].split(";")
        )  # type: ignore[attr-defined]
        assert policy["default-src"] == "'self'" or policy["default-src"] == "'none'", name
        assert policy["frame-ancestors"] == "'none'", name
        assert "unsafe-inline" not in policy.get("script-src", "") and "unsafe-eval" not in policy.get(
            "script-src", ""
        ), name
    statistics_policy = responses["html"].headers["content-security-policy"]  # type: ignore[attr-defined]
    digest = base64.b64encode(hashlib.sha256(render.STYLE.encode()).digest()).decode()
    assert (
        f"'sha256-{digest}'" in statistics_policy
        and f"<style>{render.STYLE}</style>" in responses["html"].text
    )  # type: ignore[attr-defined]
    assert "content-security-policy" not in responses["me"].headers  # type: ignore[attr-defined]


def test_production_adds_strict_transport_security(settings: Settings, store: Store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from register.access.tokens import ensure_dev_signing_key
    from register.bootstrap import DEV_JWKS_FILE

    ensure_dev_signing_key(settings.resolved_key_dir)
    # a production configuration: the force's issuer (whose keys, here, are the test's own), never the
    # development one
    production = settings.model_copy(
        update={
            "environment": "production",
            "jwks_file": settings.resolved_key_dir / DEV_JWKS_FILE,
            "token_issuer": "https://idp.kent.example/realms/register",
        }
    )
    with TestClient(build_app(production, store)) as client:
        for path in ("/health", "/v1/me", "/nope"):
            r = client.get(path)
            assert r.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains", path


def test_options_answers_with_the_allowed_methods(client: TestClient, token: Minter) -> None:
    nid, _ = create(client, token())
    r = client.options("/v1/nominals")
    assert r.status_code == 204 and set(r.headers["allow"].split(", ")) == {"GET", "POST", "OPTIONS"}, (
        r.headers
    )
    assert r.headers["x-content-type-options"] == "nosniff" and r.headers["cache-control"] == "no-store"
    r = client.options(f"/v1/nominals/{nid}")
    assert (
        r.status_code == 204 and "GET" in r.headers["allow"].split(", ") and "OPTIONS" in r.headers["allow"]
    ), r.headers
    r = client.options("/nope")
    assert r.status_code == 404 and r.json()["rule"] == "route_not_found"
    r = client.delete("/v1/me", headers=auth(token()))
    assert r.status_code == 405 and set(r.headers["allow"].split(", ")) >= {"GET"}
