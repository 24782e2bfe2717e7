"""No request talks to the database on the event loop (decision 73).

FastAPI runs a coroutine dependency on the event loop and a plain one in a worker thread. The API's
dependencies that do no I/O are coroutines (the stated purpose, `If-Match`, the policy, the request id);
those that touch the database stay plain functions (the unit of work, the token, whose refusal is audited,
and the guards). A statement on the event loop would stall every other request the process is serving while
it waits, and nothing else would show it. This walks the requests a day brings, answered and refused, and
fails on any statement, commit or rollback run while an event loop is running in the thread.

Tried and not kept (2026-12-04): the unit of work, a token already verified and the guards of actions not on
one record as coroutines, with their I/O (a rollback, a refusal's audit) handed to a thread only when
needed. Three fewer trips to a worker thread per read, but no difference beyond the noise in the API's time
or CPU per request (six rounds alternately at 100,000 people: 5.99 against 6.12 ms of CPU a request)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event

from register.domain.enums import Role
from register.store.store import Store
from tests.api.helpers import Minter, append, auth, create, visit

HARTLEY = {"query": {"type": "group", "criteria": [{"type": "name", "value": "Hartley"}]}}


def _on_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


@contextmanager
def database_io(store: Store) -> Iterator[dict[str, list[str]]]:
    """What reached the database while the block ran: `all` of it, and what ran `on_loop`."""
    seen: dict[str, list[str]] = {"all": [], "on_loop": []}

    def note(what: str) -> None:
        seen["all"].append(what)
        if _on_event_loop():
            seen["on_loop"].append(what)

    def statement(conn: Any, cursor: Any, sql: str, *args: Any) -> None:
        note(sql[:80])

    def commit(conn: Any) -> None:
        note("COMMIT")

    def rollback(conn: Any) -> None:
        note("ROLLBACK")

    hooks = [("before_cursor_execute", statement), ("commit", commit), ("rollback", rollback)]
    for name, hook in hooks:
        event.listen(store.engine, name, hook)
    try:
        yield seen
    finally:
        for name, hook in hooks:
            event.remove(store.engine, name, hook)


def test_no_request_talks_to_the_database_on_the_event_loop(
    client: TestClient, token: Minter, store: Store
) -> None:
    om, investigator, auditor = token(), token(Role.INVESTIGATOR), token(Role.AUDITOR)
    with database_io(store) as seen:
        nid, etag = create(client, om)  # a change: guard, use case, commit
        etag = append(client, om, nid, visit("2026-01-05T10:00:00Z", "home visit"), etag)
        assert client.get(f"/v1/nominals/{nid}", headers=auth(om)).status_code == 200  # a consultation
        assert client.get("/v1/nominals", headers=auth(om)).status_code == 200  # a list
        found = client.post(
            "/v1/search",
            json=HARTLEY,
            headers=auth(investigator, **{"X-Purpose": "OP-HERON-23"}),
        )
        assert found.status_code == 200 and found.json()["total"] == 1
        # Refusals, each audited in a transaction of its own and the request's own rolled back
        assert client.get(f"/v1/nominals/{nid}", headers=auth("not-a-token")).status_code == 401
        assert (
            client.post(
                "/v1/search", json=HARTLEY, headers=auth(auditor, **{"X-Purpose": "OP-HERON-23"})
            ).status_code
            == 403
        )
        assert (
            client.post("/v1/search", json=HARTLEY, headers=auth(investigator)).status_code == 400
        )  # no purpose
        assert client.get(f"/v1/nominals/{nid[:-4]}beef", headers=auth(om)).status_code == 404
        stale = client.post(
            f"/v1/nominals/{nid}/chronology",
            json=visit("2026-01-06T10:00:00Z", "again"),
            headers=auth(om, **{"If-Match": '"1"'}),
        )
        assert stale.status_code == 412  # raised inside the use case: its transaction rolled back
        invalid = client.post(
            f"/v1/nominals/{nid}/chronology",
            json={"kind": "home_visit"},
            headers=auth(om, **{"If-Match": etag}),
        )
        assert invalid.status_code == 422
    assert seen["all"], "the listener saw nothing: it would pass whatever ran where"
    assert any(s.startswith(("INSERT", "ROLLBACK")) for s in seen["all"])
    assert seen["on_loop"] == []
