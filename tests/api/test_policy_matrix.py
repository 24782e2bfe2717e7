"""The authorisation matrix, derived from auth/policy.yaml and checked against the API, route by route.

The expectation below reads the policy file itself (grants, sections, area rules) rather than asking the
engine, so a route wired to the wrong action or section, or an engine that misreads the file, fails here.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
import yaml
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from PIL import Image

from register.api.deps import Authorize, CreateGuard, RecordGuard
from register.config import PROJECT_ROOT
from register.domain.enums import Agency, Area, Role
from register.domain.record import Section
from register.meetings.schemas import EXAMPLES as MEETING_EXAMPLES
from register.nominals.examples import NEW_NOMINAL, section_examples
from register.store.store import Store
from register.web.common import PageGuard
from tests.api.helpers import Minter, auth
from tests.factories import create

POLICY = yaml.safe_load((PROJECT_ROOT / "auth" / "policy.yaml").read_text())
OWNER = Area.KENT


@dataclass(frozen=True)
class Declared:
    method: str
    path: str
    guard: Authorize | None


def _guards(dependant) -> list[Authorize]:  # type: ignore[no-untyped-def]
    found = [d.call for d in dependant.dependencies if isinstance(d.call, Authorize)]
    for d in dependant.dependencies:
        found += _guards(d)
    return found


def _walk(routes):  # type: ignore[no-untyped-def]
    """Every route, looking inside included routers (FastAPI keeps them as nodes holding
    `original_router`)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from _walk(inner.routes)
        else:
            yield route


def declared_routes(app: FastAPI) -> list[Declared]:
    out = []
    for route in _walk(app.routes):
        for method in sorted(getattr(route, "methods", None) or []):
            if method == "HEAD":
                continue
            guards = _guards(route.dependant) if isinstance(route, APIRoute) else []
            assert len(guards) <= 1, f"{method} {route.path} declares more than one action"
            out.append(Declared(method, route.path, guards[0] if guards else None))
    # The walk must see every operation the OpenAPI document publishes, or this test proves nothing.
    walked = {(d.method, d.path) for d in out}
    published = {(m.upper(), p) for p, ops in app.openapi()["paths"].items() for m in ops}
    assert published <= walked, f"operations the walk missed: {sorted(published - walked)}"
    return out


def undeclared(app: FastAPI) -> list[str]:
    public = set(POLICY["public_routes"])
    return [
        f"{d.method} {d.path}"
        for d in declared_routes(app)
        if d.guard is None and f"{d.method} {d.path}" not in public
    ]


def test_every_route_declares_an_action_the_policy_knows(app: FastAPI) -> None:
    assert len(declared_routes(app)) > 90
    assert undeclared(app) == []
    for d in declared_routes(app):
        if d.guard is not None:
            assert d.guard.action in POLICY["actions"], d
            assert d.guard.section is None or d.guard.section in POLICY["sections"], d
    # every section of the record has its routes and its policy entry
    assert {s.value for s in Section} | {"header", "identity", "chronology"} == set(POLICY["sections"])


def test_every_action_has_an_audit_category() -> None:
    from register.api.deps import ACTION_CATEGORY

    assert set(ACTION_CATEGORY) == set(POLICY["actions"])


def test_a_route_without_a_policy_entry_is_caught(app: FastAPI) -> None:
    @app.get("/v1/forgotten")
    def forgotten() -> dict[str, str]:
        return {"oops": "no policy"}

    assert undeclared(app) == ["GET /v1/forgotten"]
    assert "GET /health" not in undeclared(app)  # public by the policy


def expected(role: Role, agency: Agency, area: Area, restricted: bool, d: Declared) -> str:
    """'deny', 'stub' or 'allow', read from the policy file."""
    assert d.guard is not None
    action, section = d.guard.action, d.guard.section
    scope = (POLICY["grants"][role.value] or {}).get(action)
    if scope is None:
        return "deny"
    if section is not None:
        mode = "write" if action in ("record.write", "record.create") else "read"
        if agency.value not in POLICY["sections"][section][mode]:
            return "deny"
    if "{transfer_id}" in d.path or "{subscription_id}" in d.path:
        return "allow"  # the role check; the transfer's own area is tested with real transfers
    if d.path == "/v1/duplicates/dismissals" and scope == "own_area" and area != OWNER:
        return "deny"  # judged against the areas of the pair's records
    if isinstance(d.guard, (RecordGuard, CreateGuard)):
        own = area == OWNER
        if scope == "own_area" and not own:
            return "deny"
        if (
            action == "record.read"
            and not own
            and restricted
            and POLICY["area_rules"]["restricted_outside_own_area"] == "stub"
        ):
            return "stub"
    return "allow"


BODIES: dict[str, Any] = {s.value: payload for s, payload in section_examples().items()}


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), (10, 20, 30)).save(out, "PNG")
    return out.getvalue()


PNG_BYTES = _png()


def request_for(d: Declared, nominal_id: uuid.UUID, restricted: bool, other: uuid.UUID) -> dict[str, Any]:
    path = d.path.replace("{nominal_id}", str(nominal_id))
    unknown = (
        uuid.uuid4()
    )  # an item, transfer or merge that does not exist (the same id where a body repeats it)
    for name in (
        "{item_id}",
        "{photo_id}",
        "{transfer_id}",
        "{merge_id}",
        "{subscription_id}",
        "{delivery_id}",
        "{saved_search_id}",
    ):
        path = path.replace(name, str(unknown))
    path = path.replace("{seq}", "1")  # the audit log's first event
    params = {
        "purpose": "OP-MATRIX-1",
        "year": 2023,
        "table": "eligible_on_31_march",
        "row": "1",
        "column": "1",
        "merged_id": str(other),
    }  # routes ignore the rest
    kwargs: dict[str, Any] = {
        "params": params,
        "headers": {"If-Match": '"0"'},
    }  # stale on purpose: no change lands
    if d.method in ("POST", "PUT"):
        if d.path.endswith("/end"):
            kwargs["json"] = {"reason": "matrix"}
        elif d.path == "/v1/nominals":
            kwargs["json"] = {**NEW_NOMINAL, "area": OWNER.value, "restricted": restricted}
        elif d.path.endswith("/identity"):
            kwargs["json"] = NEW_NOMINAL["identity"]
        elif d.path.endswith("/transfers"):
            kwargs["json"] = {"to_area": "essex", "reason": "matrix"}
        elif d.path.endswith("/archive"):
            kwargs["json"] = {"reason": "died"}
        elif d.path.endswith(("/legal_hold", "/release", "/retention_review")):
            kwargs["json"] = {"reason": "matrix"}
        elif d.path.endswith("/erase"):
            kwargs["json"] = {"reason": "matrix", "confirm": str(unknown)}
        elif d.path.endswith("/merges"):
            kwargs["json"] = {"merged_id": str(other), "merged_version": 1}
        elif d.path == "/v1/duplicates/dismissals":
            kwargs["json"] = {"first_id": str(nominal_id), "second_id": str(other), "reason": "matrix"}
        elif d.path.endswith("/unarchive") or d.path.endswith("/unmerge"):
            kwargs["json"] = {"reason": "matrix"}
        elif d.path.endswith("/accept"):
            kwargs["json"] = {"managing_unit": "matrix"}
        elif d.path.endswith("/reject"):
            kwargs["json"] = {"reason": "matrix"}
        elif d.path == "/v1/webhooks/subscriptions":
            kwargs["json"] = {
                "url": "https://cms.example/hook",
                "client_id": "cms",
                "agency": "probation",
                "area": "kent",
            }
        elif d.path.endswith("/replay"):
            kwargs["json"] = {"cursor": None}
        elif d.path.startswith("/v1/watches"):
            kwargs["json"] = {"until": (dt.date.today() + dt.timedelta(days=30)).isoformat()}
        elif d.path.startswith("/v1/search"):
            kwargs["json"] = {"query": {"type": "group", "criteria": [{"type": "name", "value": "Hartley"}]}}
        elif d.path.endswith("/photographs"):
            # multipart: a real (tiny) image, so the upload reaches the version check
            kwargs["files"] = {"file": ("matrix.png", PNG_BYTES, "image/png")}
        elif d.path.endswith("/chronology"):
            kwargs["json"] = {"occurred_at": "2025-01-01T10:00:00Z", "kind": "contact", "summary": "matrix"}
        elif d.path.split("/")[-1] in MEETING_EXAMPLES:  # the meetings' own routes
            kwargs["json"] = MEETING_EXAMPLES[d.path.split("/")[-1]]
        elif d.path.startswith("/v1/nominals/{nominal_id}/"):
            kwargs["json"] = BODIES[d.path.split("/")[4]]
    return {"method": d.method, "url": path, **kwargs}


@pytest.mark.sqlite_only  # the policy does not depend on the engine; the store tests cover both
def test_the_api_enforces_the_policy_for_every_route_role_agency_area_and_restriction(
    client: TestClient, app: FastAPI, store: Store, token: Minter
) -> None:
    with store.unit_of_work() as uow:
        records = {False: create(uow, area=OWNER.value), True: create(uow, area=OWNER.value, restricted=True)}
    # Pages (PageGuard) are signed in by a session, not a token: tests/browser checks them in a browser.
    routes = [d for d in declared_routes(app) if d.guard is not None and not isinstance(d.guard, PageGuard)]
    assert len(routes) > 80
    tokens = {
        (r, a, ar): token(r, a, ar) for r, a, ar in itertools.product(Role, Agency, (Area.KENT, Area.ESSEX))
    }
    failures = []
    checked = 0
    for d, role, agency, area, restricted in itertools.product(
        routes, Role, Agency, (Area.KENT, Area.ESSEX), (False, True)
    ):
        want = expected(role, agency, area, restricted, d)
        spec = request_for(d, records[restricted], restricted, records[not restricted])
        spec["headers"] = {**spec["headers"], **auth(tokens[(role, agency, area)])}
        r = client.request(**spec)
        body = r.json() if r.headers.get("content-type", "").endswith("json") else {}
        # A decision on a transfer names an unknown transfer here: passing the role check shows as 404
        # transfer_not_found. The area half of those rules (receiving / sending area) is checked in
        # tests/api/test_transfers_api.py.
        passed_to_lookup = (
            r.status_code == 404
            and isinstance(body, dict)
            and body.get("rule")
            in (
                "transfer_not_found",
                "merge_not_found",
                "photo_not_found",
                "subscription_not_found",
                "saved_search_not_found",
            )
        )
        got = (
            "stub"
            if r.status_code == 200 and isinstance(body, dict) and body.get("restricted") is True
            else "allow"
            if passed_to_lookup
            else "deny"
            if r.status_code == 403
            else "allow"
            if r.status_code in (200, 201, 409, 412)  # 409: the policy allowed it, the record's state refused
            else f"unexpected {r.status_code}: {r.text[:200]}"
        )
        checked += 1
        if got != want:
            failures.append(
                f"{d.method} {d.path} as {role.value}/{agency.value}/{area.value} restricted={restricted}: "
                f"want {want}, got {got}"
            )
    assert not failures, f"{len(failures)} of {checked} combinations disagree with the policy:\n" + "\n".join(
        failures[:40]
    )
    assert checked == len(routes) * len(Role) * len(Agency) * 2 * 2


def test_every_operation_is_documented_with_an_example(app: FastAPI) -> None:
    missing = []
    for path, operations in app.openapi()["paths"].items():
        for method, op in operations.items():
            ok = next((r for code, r in op["responses"].items() if code.startswith("2")), {})
            has_response_example = any(
                "example" in c or "examples" in c for c in ok.get("content", {}).values()
            )
            content = op.get("requestBody", {}).get("content", {})
            body = content.get("application/json") or content.get("multipart/form-data") or {}
            has_body_example = not op.get("requestBody") or "example" in body or "examples" in body
            if not (has_response_example and has_body_example) or not op.get("summary"):
                missing.append(f"{method.upper()} {path}")
    assert missing == []
