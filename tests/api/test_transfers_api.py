"""Transfers between areas: a round trip with each side's rights checked before and after, cancellation,
rejection, and two acceptances racing."""

from __future__ import annotations

import json
import threading

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from register.domain.enums import Role
from register.store import models as m
from register.store.store import Store
from tests.api.helpers import Minter, auth, create

MARK = {"kind": "scar", "location": "face", "description": "x"}


def start(client: TestClient, token: str, nid: str, etag: str) -> tuple[str, str]:
    r = client.post(
        f"/v1/nominals/{nid}/transfers",
        json={
            "to_area": "essex",
            "reason": "moved to Chelmsford",
            "new_address": {"kind": "home", "lines": ["7 Moulsham Street"], "postcode": "CM2 0HX"},
        },
        headers=auth(token, **{"If-Match": etag}),
    )
    assert r.status_code == 201, r.text
    return r.json()["id"], r.headers["etag"]


def can_edit(client: TestClient, token: str, nid: str) -> int:
    etag = client.get(f"/v1/nominals/{nid}", params={"purpose": "transfer"}, headers=auth(token)).headers.get(
        "etag", '"0"'
    )
    return client.post(
        f"/v1/nominals/{nid}/marks", json=MARK, headers=auth(token, **{"If-Match": etag})
    ).status_code


def test_a_transfer_round_trip_moves_ownership_and_rights(
    client: TestClient, token: Minter, store: Store
) -> None:
    kent_om, essex_om = token(), token(area="essex")
    essex_sup = token(Role.SUPERVISOR, area="essex")
    nid, etag = create(client, kent_om)
    transfer_id, etag = start(client, kent_om, nid, etag)
    page = client.get("/v1/transfers", headers=auth(essex_sup)).json()
    assert page["total"] == 1 and page["next"] is None
    incoming = page["items"]
    assert [(t["id"], t["status"], t["from_area"], t["age_days"]) for t in incoming] == [
        (transfer_id, "pending", "kent", 0)
    ]
    outgoing = client.get(
        "/v1/transfers", params={"direction": "outgoing"}, headers=auth(token(Role.SUPERVISOR))
    ).json()["items"]
    assert [t["id"] for t in outgoing] == [transfer_id]
    # pending: the sending area is still responsible and edits; the receiving area reads (with a purpose) but
    # cannot edit
    assert can_edit(client, kent_om, nid) == 201 and can_edit(client, essex_om, nid) == 403
    assert (
        client.get(
            f"/v1/nominals/{nid}", params={"purpose": f"transfer {transfer_id}"}, headers=auth(essex_sup)
        ).status_code
        == 200
    )
    assert (
        client.post(
            f"/v1/transfers/{transfer_id}/accept",
            json={"managing_unit": "x"},
            headers=auth(token(Role.SUPERVISOR)),
        ).status_code
        == 403
    )
    r = client.post(
        f"/v1/transfers/{transfer_id}/accept",
        headers=auth(essex_sup),
        json={
            "managing_unit": "Chelmsford MOSOVO",
            "offender_managers": [
                {"agency": "police", "name": "DC Essex", "user_id": "essex.dc1", "date_from": "2026-01-01"}
            ],
        },
    )
    assert r.status_code == 200, r.text
    record = client.get(f"/v1/nominals/{nid}", headers=auth(essex_om)).json()
    assert record["header"]["area"] == "essex" and record["header"]["managing_unit"] == "Chelmsford MOSOVO"
    assert record["sections"]["offender_managers"][0]["data"]["user_id"] == "essex.dc1"
    assert [e["data"]["summary"] for e in record["chronology"]] == [
        "Transfer to essex requested",
        "Ownership moved from kent to essex (Chelmsford MOSOVO)",
    ]
    assert can_edit(client, essex_om, nid) == 201 and can_edit(client, kent_om, nid) == 403
    with store.session_factory() as s:
        events = s.execute(
            select(m.AuditEvent.tag, m.AuditEvent.details)
            .where(m.AuditEvent.tag.like("transfer:%"), m.AuditEvent.tag != "transfer:request:list")
            .order_by(m.AuditEvent.seq)
        ).all()
    sides = [(tag, json.loads(d)["side"]) for tag, d in events]
    assert sides == [
        ("transfer:request:create", "sending"),
        ("transfer:request:create", "receiving"),
        ("transfer:request:accept", "sending"),
        ("transfer:request:accept", "receiving"),
    ]
    with store.session_factory() as s:  # the new address and reasons are sealed like everything personal
        sealed = s.execute(select(m.Transfer.details_sealed)).scalar_one()
    assert b"Moulsham" not in sealed and b"Chelmsford" not in sealed


def test_cancel_and_reject_and_nothing_is_decided_twice(client: TestClient, token: Minter) -> None:
    kent_om, essex_sup = token(), token(Role.SUPERVISOR, area="essex")
    nid, etag = create(client, kent_om)
    first, etag = start(client, kent_om, nid, etag)
    r = client.post(
        f"/v1/nominals/{nid}/transfers",
        json={"to_area": "essex", "reason": "again"},
        headers=auth(kent_om, **{"If-Match": etag}),
    )
    assert r.status_code == 409 and r.json()["rule"] == "transfer_already_pending"
    assert (
        client.post(f"/v1/transfers/{first}/cancel", headers=auth(essex_sup)).status_code == 403
    )  # only the sender cancels
    assert client.post(f"/v1/transfers/{first}/cancel", headers=auth(kent_om)).status_code == 200
    late = client.post(f"/v1/transfers/{first}/accept", json={"managing_unit": "x"}, headers=auth(essex_sup))
    assert late.status_code == 409 and late.json()["rule"] == "transfer_not_pending"
    etag = client.get(f"/v1/nominals/{nid}", headers=auth(kent_om)).headers["etag"]
    second, _ = start(client, kent_om, nid, etag)
    assert (
        client.post(
            f"/v1/transfers/{second}/reject", json={"reason": "no local connection"}, headers=auth(essex_sup)
        ).status_code
        == 200
    )
    assert client.get(f"/v1/nominals/{nid}", headers=auth(kent_om)).json()["header"]["area"] == "kent"
    same = client.post(
        f"/v1/nominals/{nid}/transfers",
        json={"to_area": "kent", "reason": "x"},
        headers=auth(
            kent_om, **{"If-Match": client.get(f"/v1/nominals/{nid}", headers=auth(kent_om)).headers["etag"]}
        ),
    )
    assert same.status_code == 409 and same.json()["rule"] == "transfer_same_area"


@pytest.mark.postgres_only
def test_two_supervisors_accepting_at_once_cannot_both_succeed(app, token: Minter, store: Store) -> None:  # type: ignore[no-untyped-def]
    kent_om = token()
    with TestClient(app) as c:
        nid, etag = create(c, kent_om)
        transfer_id, _ = start(c, kent_om, nid, etag)
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def accept(user: str) -> None:
        with TestClient(app) as c:
            barrier.wait()
            statuses.append(
                c.post(
                    f"/v1/transfers/{transfer_id}/accept",
                    json={"managing_unit": user},
                    headers=auth(token(Role.SUPERVISOR, area="essex", user=user)),
                ).status_code
            )

    threads = [threading.Thread(target=accept, args=(u,)) for u in ("essex.sup1", "essex.sup2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(statuses) in (
        [200, 409],
        [200, 412],
    )  # the loser sees the transfer decided, or the record already moved
    with store.session_factory() as s:
        assert s.execute(select(m.Transfer.status)).scalar_one() == "accepted"
        assert s.execute(select(m.Nominal.area)).scalar_one() == "essex"


def test_the_transfer_list_pages_by_limit_and_cursor_with_its_filters(
    client: TestClient, token: Minter, store: Store
) -> None:
    kent_om, essex_sup = token(), token(Role.SUPERVISOR, area="essex")
    started = []
    for _ in range(3):
        nid, etag = create(client, kent_om)
        started.append(start(client, kent_om, nid, etag)[0])
    walked, cursor = [], None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = client.get("/v1/transfers", params=params, headers=auth(essex_sup)).json()
        assert page["total"] == 3 and len(page["items"]) <= 2
        walked += [t["id"] for t in page["items"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert sorted(walked) == sorted(started) and len(set(walked)) == 3  # each once
    # each page is a consultation naming the transfers it listed (as the web's desk is)
    with store.session_factory() as s:
        rows = s.execute(
            select(m.AuditEvent.action, m.AuditEvent.actor_area, m.AuditEvent.details)
            .where(m.AuditEvent.tag == "transfer:request:list")
            .order_by(m.AuditEvent.seq)
        ).all()
    assert [(action, area) for action, area, _ in rows] == [("consultation", "essex")] * 2
    assert sorted(t for _, _, d in rows for t in json.loads(d)["transfers"]) == sorted(started)
    first = client.get("/v1/transfers", params={"limit": 1}, headers=auth(essex_sup)).json()
    r = client.get(
        "/v1/transfers", params={"cursor": first["next"], "status": "accepted"}, headers=auth(essex_sup)
    )
    assert r.status_code == 422 and r.json()["errors"][0]["rule"] == "cursor_mismatch"
