"""A refused attempt leaves a trace: a use case that fails on a missing item (404), a rule (409), a stale
version (412) or a bad value (422) is audited in its own transaction, under the tag of what was attempted,
although the change itself is rolled back."""

from __future__ import annotations

import json
import uuid

from fastapi.testclient import TestClient
from sqlalchemy import select

from register.api.app import build_app
from register.config import Settings
from register.domain.enums import Role
from register.store import models as m
from register.store.store import Store
from tests.api.helpers import Minter, add, auth, create

MARK = {"kind": "scar", "location": "face", "description": "over left eye"}


def refusals(store: Store, tag: str) -> list[tuple[str, str, str | None, dict[str, object]]]:
    """(outcome, actor, nominal id, details) of every event with this tag that did not succeed."""
    with store.session_factory() as s:
        rows = s.execute(
            select(
                m.AuditEvent.outcome, m.AuditEvent.actor_user, m.AuditEvent.nominal_id, m.AuditEvent.details
            )
            .where(m.AuditEvent.tag == tag, m.AuditEvent.outcome != "success")
            .order_by(m.AuditEvent.seq)
        ).all()
    return [(o, u, str(n) if n else None, json.loads(d) if d else {}) for o, u, n, d in rows]


def test_a_missing_item_is_a_404_and_a_failed_event(client: TestClient, token: Minter, store: Store) -> None:
    om = token(Role.OFFENDER_MANAGER, user="kent.om")
    nid, etag = create(client, om)
    r = client.put(
        f"/v1/nominals/{nid}/marks/{uuid.uuid4()}", json=MARK, headers=auth(om, **{"If-Match": etag})
    )
    assert r.status_code == 404
    assert refusals(store, "nominal:marks:correct") == [
        ("failed", "kent.om", nid, {"rule": "item_not_found"})
    ]


def test_a_rule_violation_is_a_409_and_a_denied_event(
    client: TestClient, token: Minter, store: Store
) -> None:
    om = token(Role.OFFENDER_MANAGER, user="kent.om")
    nid, etag = create(client, om)
    item, etag = add(client, om, nid, "marks", MARK, etag)
    r = client.post(
        f"/v1/nominals/{nid}/marks/{item}/end",
        json={"reason": "healed"},
        headers=auth(om, **{"If-Match": etag}),
    )
    assert r.status_code == 200
    again = client.post(
        f"/v1/nominals/{nid}/marks/{item}/end",
        json={"reason": "healed"},
        headers=auth(om, **{"If-Match": r.headers["etag"]}),
    )
    assert again.status_code == 409
    assert refusals(store, "nominal:marks:end") == [
        ("denied", "kent.om", nid, {"rule": "item_already_ended"})
    ]


def test_a_stale_version_is_a_412_and_a_failed_event_with_nothing_written(
    client: TestClient, token: Minter, store: Store
) -> None:
    om = token(Role.OFFENDER_MANAGER, user="kent.om")
    nid, first = create(client, om)
    add(client, om, nid, "marks", MARK, first)
    r = client.post(f"/v1/nominals/{nid}/marks", json=MARK, headers=auth(om, **{"If-Match": first}))
    assert r.status_code == 412
    assert refusals(store, "nominal:marks:add") == [("failed", "kent.om", nid, {"rule": "version_stale"})]
    with store.session_factory() as s:
        assert len(s.execute(select(m.Item.id).where(m.Item.nominal_id == uuid.UUID(nid))).all()) == 1


def test_a_bad_value_is_a_422_and_a_failed_event(client: TestClient, token: Minter, store: Store) -> None:
    supervisor = token(Role.SUPERVISOR, user="kent.supervisor")
    r = client.get(
        "/v1/statistics/cell",
        params={"year": 2025, "table": "eligible_on_31_march", "row": "not-a-category", "column": "2"},
        headers=auth(supervisor),
    )
    assert r.status_code == 422
    [(outcome, actor, nominal, details)] = refusals(store, "statistics:cell:people")
    assert (outcome, actor, nominal) == ("failed", "kent.supervisor", None) and "rule" in details


def test_asking_for_a_record_that_does_not_exist_is_a_404_and_a_failed_event(
    client: TestClient, token: Minter, store: Store
) -> None:
    om = token(Role.OFFENDER_MANAGER, user="kent.prober")
    missing = uuid.uuid4()
    assert client.get(f"/v1/nominals/{missing}", headers=auth(om)).status_code == 404
    assert client.get(f"/v1/nominals/{missing}/addresses", headers=auth(om)).status_code == 404
    events = refusals(store, "access:record.read:denied")
    assert [(o, u, n, d["rule"]) for o, u, n, d in events] == [
        ("failed", "kent.prober", str(missing), "nominal_not_found")
    ] * 2


def test_a_change_without_if_match_is_a_428_and_a_denied_event(
    client: TestClient, token: Minter, store: Store
) -> None:
    """Refused before any use case ran: audited against the user, with the route (not the path)."""
    om = token(Role.OFFENDER_MANAGER, user="kent.om")
    nid, _ = create(client, om)
    r = client.post(f"/v1/nominals/{nid}/marks", json=MARK, headers=auth(om))
    assert r.status_code == 428
    assert refusals(store, "api:request:refused") == [
        (
            "denied",
            "kent.om",
            nid,
            {
                "status": 428,
                "rule": "if_match_required",
                "route": "/v1/nominals/{nominal_id}/marks",
                "method": "POST",
            },
        )
    ]


def test_a_body_the_operation_does_not_take_is_a_422_and_a_failed_event(
    client: TestClient, token: Minter, store: Store
) -> None:
    om = token(Role.OFFENDER_MANAGER, user="kent.om")
    nid, etag = create(client, om)
    r = client.post(
        f"/v1/nominals/{nid}/chronology",
        content=b"{not json",
        headers=auth(om, **{"If-Match": etag, "Content-Type": "application/json"}),
    )
    assert r.status_code == 422
    [(outcome, actor, _, details)] = refusals(store, "api:request:refused")
    assert (outcome, details["rule"], details["status"]) == ("failed", "validation", 422)
    # nobody signed in (the body is read before the token is looked at) or the caller: never lost
    assert actor in ("kent.om", "system:unauthenticated")


def test_a_flood_of_junk_tokens_is_counted_not_written_row_by_row(settings: Settings, store: Store) -> None:
    """From one source, the first few refusals of an interval are audited one by one and the rest counted
    into one summary event (written when the interval ends, here when the register stops): 40 junk tokens
    leave 3 events and a summary counting 37, not 40 rows."""
    app = build_app(
        settings.model_copy(
            update={"audit_refusals_individually": 3, "audit_refusals_interval_seconds": 3600}
        ),
        store,
    )
    with TestClient(app) as client:
        for _ in range(40):
            assert client.get("/v1/me", headers=auth("junk")).status_code == 401
    individual = refusals(store, "auth:token:refused")
    assert len(individual) == 3 and {d["source"] for *_, d in individual} == {"testclient"}
    [(outcome, actor, _, summary)] = refusals(store, "auth:refusals:summary")
    assert (outcome, actor) == ("failed", "system:unauthenticated")
    assert summary["counted"] == 37 and summary["audited_individually"] == 3
    assert summary["source"] == "testclient" and summary["refused"] == "auth:token:refused"
