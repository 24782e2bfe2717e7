"""The supervisor's desk through the API: runs, the dashboard with trends, worklists as JSON and CSV."""

from __future__ import annotations

from fastapi.testclient import TestClient

from register.domain.enums import Role
from tests.api.helpers import Minter, add, auth, create


def test_supervisor_runs_the_rules_and_offender_managers_get_their_worklists(
    client: TestClient, token: Minter
) -> None:
    om = token(user="kent.dc.okafor")
    nid, etag = create(client, om)
    add(
        client,
        om,
        nid,
        "offender_managers",
        {"agency": "police", "name": "DC Okafor", "user_id": "kent.dc.okafor", "date_from": "2024-01-01"},
        etag,
    )
    create(client, token(area="essex"), area="essex")
    supervisor = token(Role.SUPERVISOR)
    assert (
        client.post("/v1/quality/runs", headers=auth(om)).status_code == 403
    )  # offender managers read, supervisors run
    first = client.post("/v1/quality/runs", headers=auth(supervisor))
    assert first.status_code == 201
    photo = next(r for r in first.json()["rules"] if r["rule"] == "MISSING-PHOTO")
    assert (
        photo["count"] == 1 and photo["change"] is None
    )  # kent only: the essex record is not kent's to check
    create(client, om)
    second = client.post("/v1/quality/runs", headers=auth(supervisor)).json()
    assert next(r for r in second["rules"] if r["rule"] == "MISSING-PHOTO")["change"] == 1
    assert client.get("/v1/quality/dashboard", headers=auth(om)).json()["run"]["id"] == second["run"]["id"]
    mine = client.get("/v1/quality/worklist", headers=auth(om)).json()["items"]
    assert (
        mine
        and {w["nominal_id"] for w in mine} == {nid}
        and all(w["owner"] == "kent.dc.okafor" for w in mine)
    )
    # the JSON pages (limit, cursor, next); each finding once, most severe first
    whole = client.get("/v1/quality/worklist", params={"unit": "Maidstone MOSOVO"}, headers=auth(supervisor))
    everything = whole.json()
    walked, cursor = [], None
    while True:
        params = {"unit": "Maidstone MOSOVO", "limit": 1} | ({"cursor": cursor} if cursor else {})
        page = client.get("/v1/quality/worklist", params=params, headers=auth(supervisor)).json()
        assert len(page["items"]) <= 1 and page["total"] == everything["total"]
        walked += page["items"]
        cursor = page["next"]
        if cursor is None:
            break
    assert walked == everything["items"] and len(walked) == everything["total"] >= 2
    ranks = ["high", "medium", "low"]
    assert [ranks.index(w["severity"]) for w in walked] == sorted(ranks.index(w["severity"]) for w in walked)
    csv_text = client.get(
        "/v1/quality/worklist", params={"rule": "MISSING-PHOTO", "format": "csv"}, headers=auth(supervisor)
    ).text
    assert (
        csv_text.splitlines()[0] == "rule,severity,who,nominal_id,record,managing_unit,owner"
        and len(csv_text.splitlines()) == 3
    )
    assert client.get("/v1/quality/dashboard", headers=auth(token(Role.INVESTIGATOR))).status_code == 403
