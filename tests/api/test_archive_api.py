"""Archive: read-only, out of caseloads and default searches, found when asked for; supervisors unarchive."""

from __future__ import annotations

from fastapi.testclient import TestClient

from register.domain.enums import Role
from tests.api.helpers import Minter, add, auth, create

VAN = {"query": {"type": "group", "criteria": [{"type": "vehicle", "vrm": "GK19*"}]}}


def test_archive_and_unarchive(client: TestClient, token: Minter) -> None:
    om, supervisor = token(), token(Role.SUPERVISOR)
    nid, etag = create(client, om)
    _, etag = add(client, om, nid, "vehicles", {"vrm": "GK19 XBW"}, etag)
    assert (
        client.post(
            f"/v1/nominals/{nid}/archive", json={"reason": "died"}, headers=auth(om, **{"If-Match": etag})
        ).status_code
        == 403
    )
    bad = client.post(
        f"/v1/nominals/{nid}/archive",
        json={"reason": "other"},
        headers=auth(supervisor, **{"If-Match": etag}),
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["rule"] == "archive_text_required"
    r = client.post(
        f"/v1/nominals/{nid}/archive",
        json={"reason": "left_jurisdiction"},
        headers=auth(supervisor, **{"If-Match": etag}),
    )
    assert r.status_code == 200
    etag = r.headers["etag"]
    record = client.get(f"/v1/nominals/{nid}", headers=auth(om)).json()
    assert (
        record["status"] == "archived"
        and record["chronology"][-1]["data"]["summary"] == "Archived: left jurisdiction"
    )
    blocked = client.post(
        f"/v1/nominals/{nid}/marks",
        json={"kind": "scar", "location": "face", "description": "x"},
        headers=auth(om, **{"If-Match": etag}),
    )
    assert blocked.status_code == 409 and blocked.json()["rule"] == "record_read_only"
    assert client.get("/v1/nominals", headers=auth(om)).json()["total"] == 0

    def search(body: dict) -> int:
        return client.post("/v1/search", json=body, params={"purpose": "OP-1"}, headers=auth(om)).json()[
            "total"
        ]

    assert search(VAN) == 0 and search({**VAN, "include_archived": True}) == 1
    again = client.post(
        f"/v1/nominals/{nid}/archive", json={"reason": "died"}, headers=auth(supervisor, **{"If-Match": etag})
    )
    assert again.status_code == 409 and again.json()["rule"] == "record_not_active"
    r = client.post(
        f"/v1/nominals/{nid}/unarchive",
        json={"reason": "returned to Kent"},
        headers=auth(supervisor, **{"If-Match": etag}),
    )
    assert (
        r.status_code == 200
        and client.get(f"/v1/nominals/{nid}", headers=auth(om)).json()["status"] == "active"
    )
    assert search(VAN) == 1
    tags = [
        e["tag"]
        for e in client.get(
            "/v1/audit/events", params={"nominal_id": nid}, headers=auth(token(Role.AUDITOR))
        ).json()["events"]
    ]
    assert "nominal:record:archive" in tags and "nominal:record:unarchive" in tags
