"""What the API tests share: tokens in headers, a person to create, and small calls that create, add
and append through the API, and read the audit log back. Test modules import these from here, never from
each other."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import select

from register.access.policy import Policy
from register.api.app import build_app, create_app
from register.bootstrap import build_verifier
from register.config import PROJECT_ROOT, Settings
from register.domain.values import check_letter
from register.store import models as m
from register.store.store import Store
from tests.conftest import Minter

__all__ = [
    "PERSON",
    "PNC",
    "POLICE_ONLY",
    "SMYTH",
    "Minter",
    "add",
    "append",
    "audit_tags",
    "auth",
    "create",
    "refused",
    "running_api",
    "visit",
]


def auth(token: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **headers}


PERSON = {
    "nominal_type": "rso",
    "area": "kent",
    "managing_unit": "Maidstone MOSOVO",
    "lead_agency": "police",
    "mappa_category": 1,
    "mappa_level": 1,
    "identity": {
        "forenames": "Daniel",
        "surname": "Hartley",
        "date_of_birth": "1984-03-17",
        "gender": "male",
    },
}


POLICE_ONLY = {
    "received_on": "2025-07-22",
    "text": "frequents the Mote Park bandstand after dark",
    "scheme": "3x5x2",
    "source_evaluation": "B",
    "intelligence_assessment": 2,
    "handling_code": "C",
    "audience": ["police"],
}


def create(client: TestClient, token: str, **overrides) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    r = client.post("/v1/nominals", json={**PERSON, **overrides}, headers=auth(token))
    assert r.status_code == 201, r.text
    return r.json()["id"], r.headers["etag"]


def version(tag: str) -> int:
    """The record version an ETag names: `"3"` (a change's answer) or `"3.<digest>"` (a read's)."""
    match = re.fullmatch(r'"(\d+)(?:\.[0-9a-f]+)?"', tag)
    assert match, tag
    return int(match.group(1))


def add(client: TestClient, token: str, nid: str, section: str, body: dict, etag: str) -> tuple[str, str]:  # type: ignore[type-arg]
    r = client.post(f"/v1/nominals/{nid}/{section}", json=body, headers=auth(token, **{"If-Match": etag}))
    assert r.status_code == 201, r.text
    return r.json()["id"], r.headers["etag"]


def audit_tags(store: Store, nominal_id: str) -> list[tuple[str, str, str | None]]:
    with store.session_factory() as s:
        rows = s.execute(
            select(m.AuditEvent.tag, m.AuditEvent.outcome, m.AuditEvent.purpose)
            .where(m.AuditEvent.nominal_id == uuid.UUID(nominal_id))
            .order_by(m.AuditEvent.seq)
        ).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


PNC = {"kind": "pnc", "value": f"2001/0123456{check_letter('010123456')}"}


SMYTH = {
    **PERSON,
    "identity": {"forenames": "Danny", "surname": "Hartly", "date_of_birth": "1984-03-17", "gender": "male"},
}


def visit(when: str, summary: str) -> dict[str, str]:
    return {"occurred_at": when, "kind": "home_visit", "summary": summary}


def append(client: TestClient, token: str, nid: str, entry: dict[str, str], etag: str) -> str:
    r = client.post(f"/v1/nominals/{nid}/chronology", json=entry, headers=auth(token, **{"If-Match": etag}))
    assert r.status_code == 201, r.text
    return r.headers["etag"]


def refused(store: Store) -> list[tuple[str, str]]:
    with store.session_factory() as s:
        rows = s.execute(
            select(m.AuditEvent.outcome, m.AuditEvent.details).where(m.AuditEvent.tag == "auth:token:refused")
        ).all()
    return [(o, json.loads(d)["reason"]) for o, d in rows]


@contextmanager
def running_api(settings: Settings, store: Store) -> Iterator[str]:
    """The API served by a real uvicorn on a free loopback port, in a thread; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(build_app(settings, store), log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the API did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()


@contextmanager
def section_for_police_only(store: Store, settings: Settings, section: str) -> Iterator[TestClient]:
    """The app under the shipped policy changed so that only the police may read or write `section`, as a
    force may choose."""
    import copy

    import yaml

    doc = copy.deepcopy(yaml.safe_load((PROJECT_ROOT / "auth" / "policy.yaml").read_text()))
    doc["sections"][section] = {"read": ["police"], "write": ["police"]}
    app = create_app(store, Policy(doc), build_verifier(settings), max_body_bytes=settings.max_body_bytes)
    with TestClient(app) as c:
        yield c
