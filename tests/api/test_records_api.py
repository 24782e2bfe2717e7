"""Records through the API: what offender managers, investigators and other agencies see and change."""

from __future__ import annotations

import datetime as dt
import json
import threading
import uuid

import pytest
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator
from sqlalchemy import select

from register.domain.enums import Agency, Role
from register.store import models as m
from register.store.store import Store
from tests.api.helpers import (
    PERSON,
    POLICE_ONLY,
    Minter,
    add,
    append,
    audit_tags,
    auth,
    create,
    version,
    visit,
)


def test_an_offender_manager_builds_and_reads_a_record(
    client: TestClient, token: Minter, store: Store
) -> None:
    om = token(Role.OFFENDER_MANAGER)
    nid, etag = create(client, om)
    _, etag = add(
        client,
        om,
        nid,
        "addresses",
        {"kind": "home", "lines": ["14 Tonbridge Road"], "postcode": "me16 8rp"},
        etag,
    )
    _, etag = add(
        client,
        om,
        nid,
        "mappa_levels",
        {"category": 1, "level": 2, "effective_from": "2025-01-01", "rationale": "new partner with children"},
        etag,
    )
    r = client.get(f"/v1/nominals/{nid}", headers=auth(om))
    assert r.status_code == 200 and version(r.headers["etag"]) == version(etag) == 3
    record = r.json()
    assert record["identity"]["surname"] == "Hartley" and record["header"]["mappa_level"] == 2
    assert record["sections"]["addresses"][0]["data"]["postcode"] == "ME16 8RP"
    assert record["sections"]["addresses"][0]["recorded_by"] == "kent.offender_manager.police"
    assert [t for t, _, _ in audit_tags(store, nid)] == [
        "nominal:record:create",
        "nominal:addresses:add",
        "nominal:mappa_levels:add",
        "nominal:record:read",
    ]


def test_chronology_amendments_through_the_api(client: TestClient, token: Minter) -> None:
    om = token()
    nid, etag = create(client, om)
    r = client.post(
        f"/v1/nominals/{nid}/chronology",
        json={"occurred_at": "2025-09-12T14:30:00Z", "kind": "home_visit", "summary": "visit"},
        headers=auth(om, **{"If-Match": etag}),
    )
    first, etag = r.json()["id"], r.headers["etag"]
    r = client.post(
        f"/v1/nominals/{nid}/chronology",
        json={
            "occurred_at": "2025-09-12T14:30:00Z",
            "kind": "amendment",
            "summary": "visit was at 15:30",
            "amends": first,
        },
        headers=auth(om, **{"If-Match": etag}),
    )
    assert r.status_code == 201
    entries = client.get(f"/v1/nominals/{nid}/chronology", headers=auth(om)).json()["entries"]
    assert [e["data"]["summary"] for e in entries] == ["visit", "visit was at 15:30"] and entries[1]["data"][
        "amends"
    ] == first


def test_changes_need_the_current_etag(client: TestClient, token: Minter, store: Store) -> None:
    om = token()
    nid, etag = create(client, om)
    mark = {"kind": "scar", "location": "face", "description": "over left eye"}
    r = client.post(f"/v1/nominals/{nid}/marks", json=mark, headers=auth(om))
    assert r.status_code == 428 and r.json()["rule"] == "if_match_required"
    for bad in ('"7"', "7", "*", 'W/"x"'):
        r = client.post(f"/v1/nominals/{nid}/marks", json=mark, headers=auth(om, **{"If-Match": bad}))
        assert r.status_code == 412, bad
    # a weak tag never matches (RFC 9110: If-Match compares strongly), even with the current version in it
    r = client.post(f"/v1/nominals/{nid}/marks", json=mark, headers=auth(om, **{"If-Match": f"W/{etag}"}))
    assert r.status_code == 412 and r.json()["rule"] == "if_match_weak"
    _, etag = add(client, om, nid, "marks", mark, etag)
    with store.session_factory() as s:
        assert s.execute(select(m.Item.id).where(m.Item.nominal_id == uuid.UUID(nid))).all().__len__() == 1


def test_two_concurrent_updates_with_the_same_etag_exactly_one_succeeds(
    app, token: Minter, store: Store
) -> None:  # type: ignore[no-untyped-def]
    om = token()
    with TestClient(app) as setup:
        nid, etag = create(setup, om)
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def writer(text: str) -> None:
        with TestClient(app) as c:
            barrier.wait()
            r = c.post(
                f"/v1/nominals/{nid}/marks",
                json={"kind": "mark", "location": "neck", "description": text},
                headers=auth(om, **{"If-Match": etag}),
            )
            statuses.append(r.status_code)

    threads = [threading.Thread(target=writer, args=(t,)) for t in ("first", "second")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(statuses) == [201, 412]
    with TestClient(app) as c:
        r = c.get(f"/v1/nominals/{nid}/marks", headers=auth(om))
    assert version(r.headers["etag"]) == 2 and len(r.json()["items"]) == 1


def test_probation_learns_nothing_from_police_only_intelligence(
    client: TestClient, token: Minter, store: Store
) -> None:
    police, probation = token(), token(agency="probation")
    nid, etag = create(client, police)
    secret_id, etag = add(client, police, nid, "intelligence", POLICE_ONLY, etag)
    _, etag = add(
        client,
        police,
        nid,
        "intelligence",
        {"received_on": "2025-08-01", "text": "shared with all agencies"},
        etag,
    )
    as_police = client.get(f"/v1/nominals/{nid}/intelligence", headers=auth(police)).json()
    as_probation = client.get(f"/v1/nominals/{nid}/intelligence", headers=auth(probation)).json()
    assert len(as_police["items"]) == 2
    assert [i["data"]["text"] for i in as_probation["items"]] == ["shared with all agencies"]
    whole = client.get(f"/v1/nominals/{nid}", headers=auth(probation)).text
    assert "bandstand" not in whole and secret_id not in whole
    # nor can its existence be probed by correcting or ending it: it answers exactly as a missing item
    for method, path, body in [
        ("PUT", f"/v1/nominals/{nid}/intelligence/{secret_id}", POLICE_ONLY),
        ("POST", f"/v1/nominals/{nid}/intelligence/{secret_id}/end", {"reason": "probe"}),
    ]:
        probe = client.request(method, path, json=body, headers=auth(probation, **{"If-Match": etag}))
        missing = client.request(
            method,
            path.replace(secret_id, str(uuid.uuid4())),
            json=body,
            headers=auth(probation, **{"If-Match": etag}),
        )
        assert probe.status_code == missing.status_code == 404
        assert probe.json()["rule"] == missing.json()["rule"] == "item_not_found"
    assert version(client.get(f"/v1/nominals/{nid}", headers=auth(police)).headers["etag"]) == version(
        etag
    )  # the probes changed nothing


def test_victim_safety_is_only_for_the_agencies_managing_it(client: TestClient, token: Minter) -> None:
    police, prison = token(), token(agency="prison")
    nid, etag = create(client, police)
    add(
        client,
        police,
        nid,
        "victim_safety",
        {
            "kind": "non_contact",
            "victim": "Ms A (former partner)",
            "details": "no contact",
            "managed_by": ["probation", "police"],
        },
        etag,
    )
    assert len(client.get(f"/v1/nominals/{nid}/victim_safety", headers=auth(police)).json()["items"]) == 1
    assert client.get(f"/v1/nominals/{nid}/victim_safety", headers=auth(prison)).json()["items"] == []
    assert "former partner" not in client.get(f"/v1/nominals/{nid}", headers=auth(prison)).text


def test_reading_outside_your_area_needs_a_purpose_and_records_it(
    client: TestClient, token: Minter, store: Store
) -> None:
    nid, _ = create(client, token())
    essex = token(Role.READER, area="essex")
    r = client.get(f"/v1/nominals/{nid}", headers=auth(essex))
    assert r.status_code == 400 and r.json()["errors"][0] == {
        "field": "query.purpose",
        "rule": "purpose_required",
        "message": r.json()["detail"],
    }
    assert (
        client.get(f"/v1/nominals/{nid}", params={"purpose": "OP-HERON-23"}, headers=auth(essex)).status_code
        == 200
    )
    investigator = token(Role.INVESTIGATOR)  # investigators state a purpose even at home
    assert client.get(f"/v1/nominals/{nid}", headers=auth(investigator)).status_code == 400
    assert (
        client.get(
            f"/v1/nominals/{nid}", params={"purpose": "OP-HERON-23"}, headers=auth(investigator)
        ).status_code
        == 200
    )
    events = audit_tags(store, nid)
    assert ("access:record.read:denied", "denied", None) in events
    assert events.count(("nominal:record:read", "success", "OP-HERON-23")) == 2


def test_every_record_read_answers_what_the_api_document_promises(client: TestClient, token: Minter) -> None:
    """The read routes serialise their answer themselves (decision 73), no longer through FastAPI's check
    against the declared model: each answer must still be exactly one of the documented shapes (every required
    field, none undocumented), inside the area and as the stub outside it."""
    om = token()
    nid, etag = create(client, om, restricted=True)
    _, etag = add(
        client,
        om,
        nid,
        "addresses",
        {"kind": "home", "lines": ["14 Tonbridge Road"], "postcode": "ME16 8RP"},
        etag,
    )
    append(client, om, nid, visit("2025-09-12T14:30:00Z", "home visit"), etag)
    doc = client.app.openapi()  # type: ignore[attr-defined]
    schemas = doc["components"]["schemas"]
    outsider = token(Role.INVESTIGATOR, area="essex")
    for route in ("", "/identity", "/chronology", "/addresses"):
        declared = doc["paths"]["/v1/nominals/{nominal_id}" + route]["get"]["responses"]["200"]["content"]
        schema = declared["application/json"]["schema"]
        for reader, shown in ((om, "full"), (outsider, "stub")):
            r = client.get(
                f"/v1/nominals/{nid}{route}", params={"purpose": "OP-HERON-23"}, headers=auth(reader)
            )
            assert r.status_code == 200 and r.headers["content-type"] == "application/json", (route, r.text)
            body = r.json()
            Draft202012Validator({**schema, "components": doc["components"]}).validate(body)
            shapes = [
                name
                for name in (ref["$ref"].rsplit("/", 1)[1] for ref in schema["anyOf"])
                if set(schemas[name].get("required", [])) <= body.keys() <= schemas[name]["properties"].keys()
            ]
            assert shapes == (
                ["RestrictedStub"] if shown == "stub" else [n for n in shapes if n != "RestrictedStub"]
            )
            assert len(shapes) == 1, (route, shown, shapes)
            if shown == "full":
                assert (body.get("id") or body["nominal_id"]) == nid and "etag" in r.headers
    # a search's answer too (the same way of answering, decision 73), with the record among its hits
    declared = doc["paths"]["/v1/search"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    r = client.post(
        "/v1/search",
        json={
            "query": {"type": "group", "criteria": [{"type": "name", "value": "Hartley", "mode": "exact"}]}
        },
        params={"purpose": "OP-1"},
        headers=auth(om),
    )
    assert r.status_code == 200 and r.headers["content-type"] == "application/json", r.text
    Draft202012Validator({**declared, "components": doc["components"]}).validate(r.json())
    name = declared["$ref"].rsplit("/", 1)[1]
    assert r.json().keys() == schemas[name]["properties"].keys() and nid in [
        h["id"] for h in r.json()["hits"]
    ]


def test_every_record_change_answers_what_the_api_document_promises(
    client: TestClient, token: Minter
) -> None:
    """The record's changes answer like its reads (decision 73): serialised by the route, not checked by
    FastAPI. Each answer must have the documented status, the record's new version as its ETag, and a body of
    exactly the documented shape naming what changed."""
    om = token()
    doc = client.app.openapi()  # type: ignore[attr-defined]

    def answered(r, path: str, method: str, status: int, item: str | None, expected: int) -> None:  # type: ignore[no-untyped-def]
        assert r.status_code == status and r.headers["content-type"] == "application/json", (path, r.text)
        declared = doc["paths"][path][method]["responses"][str(status)]["content"]["application/json"]
        schema = {**declared["schema"], "components": doc["components"]}
        Draft202012Validator(schema).validate(r.json())
        name = declared["schema"]["$ref"].rsplit("/", 1)[1]
        assert r.json().keys() == doc["components"]["schemas"][name]["properties"].keys()
        assert r.json() == {"id": item, "version": expected} and version(r.headers["etag"]) == expected

    r = client.post("/v1/nominals", json=PERSON, headers=auth(om))
    nid = r.json()["id"]
    answered(r, "/v1/nominals", "post", 201, nid, 1)
    assert r.headers["location"] == f"/v1/nominals/{nid}"
    base = "/v1/nominals/{nominal_id}"
    r = client.post(
        f"/v1/nominals/{nid}/chronology",
        json=visit("2025-09-12T14:30:00Z", "home visit"),
        headers=auth(om, **{"If-Match": r.headers["etag"]}),
    )
    answered(r, base + "/chronology", "post", 201, r.json()["id"], 2)
    address = {"kind": "home", "lines": ["14 Tonbridge Road"], "postcode": "ME16 8RP"}
    r = client.post(
        f"/v1/nominals/{nid}/addresses", json=address, headers=auth(om, **{"If-Match": r.headers["etag"]})
    )
    item = r.json()["id"]
    answered(r, base + "/addresses", "post", 201, item, 3)
    r = client.put(
        f"/v1/nominals/{nid}/addresses/{item}",
        json={**address, "postcode": "ME16 8RQ"},
        headers=auth(om, **{"If-Match": r.headers["etag"]}),
    )
    answered(r, base + "/addresses/{item_id}", "put", 200, item, 4)
    r = client.post(
        f"/v1/nominals/{nid}/addresses/{item}/end",
        json={"reason": "moved"},
        headers=auth(om, **{"If-Match": r.headers["etag"]}),
    )
    answered(r, base + "/addresses/{item_id}/end", "post", 200, item, 5)
    r = client.put(
        f"/v1/nominals/{nid}/identity",
        json={**PERSON["identity"], "forenames": "Dan"},  # type: ignore[dict-item]
        headers=auth(om, **{"If-Match": r.headers["etag"]}),
    )
    answered(r, base + "/identity", "put", 200, None, 6)
    assert (
        client.get(f"/v1/nominals/{nid}/identity", headers=auth(om)).json()["identity"]["forenames"] == "Dan"
    )


def test_restricted_records_are_audited_stubs_outside_their_area(
    client: TestClient, token: Minter, store: Store
) -> None:
    om = token()
    nid, etag = create(client, om, restricted=True)
    add(
        client,
        om,
        nid,
        "addresses",
        {"kind": "home", "lines": ["1 Secret Row"], "postcode": "ME16 8RP"},
        etag,
    )
    outsider = token(Role.INVESTIGATOR, area="essex")
    for path in (
        f"/v1/nominals/{nid}",
        f"/v1/nominals/{nid}/addresses",
        f"/v1/nominals/{nid}/identity",
        f"/v1/nominals/{nid}/chronology",
    ):
        r = client.get(path, params={"purpose": "OP-HERON-23"}, headers=auth(outsider))
        assert r.status_code == 200 and r.json() == {
            "id": nid,
            "restricted": True,
            "owning_area": "kent",
            "message": "restricted record: contact the owning area",
        }
        assert "etag" not in r.headers and "Secret" not in r.text and "Hartley" not in r.text
    assert client.get(f"/v1/nominals/{nid}", headers=auth(om)).json()["identity"]["surname"] == "Hartley"
    assert [t for t, _, _ in audit_tags(store, nid)].count("nominal:record:stub") == 4


def test_only_the_owning_area_changes_a_record(client: TestClient, token: Minter) -> None:
    nid, etag = create(client, token())
    essex_om = token(area="essex")
    r = client.post(
        f"/v1/nominals/{nid}/marks",
        json={"kind": "scar", "location": "face", "description": "x"},
        headers=auth(essex_om, **{"If-Match": etag}),
    )
    assert r.status_code == 403 and r.json()["rule"] == "owning_area_only"
    r = client.post("/v1/nominals", json={**PERSON, "area": "kent"}, headers=auth(essex_om))
    assert r.status_code == 403 and r.json()["rule"] == "owning_area_only"


def test_caseload_and_area_lists(client: TestClient, token: Minter) -> None:
    om = token(user="kent.dc.okafor")
    mine, etag = create(client, om)
    add(
        client,
        om,
        mine,
        "offender_managers",
        {"agency": "police", "name": "DC Okafor", "user_id": "kent.dc.okafor", "date_from": "2024-01-01"},
        etag,
    )
    other, _ = create(client, om, mappa_level=2)
    create(client, token(area="essex"), area="essex")
    area = client.get("/v1/nominals", headers=auth(om)).json()
    assert {i["id"] for i in area["items"]} == {mine, other} and area["total"] == 2
    caseload = client.get("/v1/nominals", params={"scope": "caseload"}, headers=auth(om)).json()
    assert [i["id"] for i in caseload["items"]] == [mine]
    level2 = client.get("/v1/nominals", params={"level": 2}, headers=auth(om)).json()
    assert [i["id"] for i in level2["items"]] == [other]
    # one pagination convention: `limit`, then the page's `next` as `cursor` until `next` is null
    first = client.get("/v1/nominals", params={"limit": 1}, headers=auth(om)).json()
    assert len(first["items"]) == 1 and first["total"] == 2 and first["next"]
    second = client.get("/v1/nominals", params={"limit": 1, "cursor": first["next"]}, headers=auth(om)).json()
    assert len(second["items"]) == 1 and second["total"] == 2 and second["next"] is None
    assert {first["items"][0]["id"], second["items"][0]["id"]} == {mine, other}
    # a cursor is for the filters it came from, and not an input to forge
    for params, rule in (
        ({"limit": 1, "cursor": first["next"], "level": 2}, "cursor_mismatch"),
        ({"limit": 1, "cursor": first["next"][:-4] + "AAAA"}, "cursor_invalid"),
        ({"limit": 1, "cursor": "not a cursor"}, "string_pattern_mismatch"),
    ):
        r = client.get("/v1/nominals", params=params, headers=auth(om))
        assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
        assert {"field": "query.cursor", "rule": rule}.items() <= r.json()["errors"][0].items(), r.text


def test_the_auditor_sees_the_log_and_no_record_content(client: TestClient, token: Minter) -> None:
    om = token(user="kent.dc.okafor")
    nid, _ = create(client, om)
    client.get(f"/v1/nominals/{nid}", headers=auth(om))
    auditor = token(Role.AUDITOR)
    assert client.get(f"/v1/nominals/{nid}", headers=auth(auditor)).status_code == 403
    by_record = client.get("/v1/audit/events", params={"nominal_id": nid}, headers=auth(auditor)).json()[
        "events"
    ]
    assert [(e["tag"], e["actor_user"]) for e in by_record] == [
        ("nominal:record:create", "kent.dc.okafor"),
        ("nominal:record:read", "kent.dc.okafor"),
        ("access:record.read:denied", "kent.auditor.police"),
    ]
    by_user = client.get("/v1/audit/events", params={"user": "kent.dc.okafor"}, headers=auth(auditor)).json()[
        "events"
    ]
    assert len(by_user) == 2
    export = client.get("/v1/audit/events/export", params={"nominal_id": nid}, headers=auth(auditor))
    assert (
        export.headers["content-type"].startswith("text/csv") and export.text.count("\n") == 1 + 4
    )  # header + events incl. the first read of the log
    assert "Hartley" not in export.text
    # the log pages like every list: `limit`, then `next` as `cursor`, with the same filters
    walked, cursor = [], None
    while True:
        params = {"nominal_id": nid, "limit": 2} | ({"cursor": cursor} if cursor else {})
        page = client.get("/v1/audit/events", params=params, headers=auth(auditor)).json()
        assert len(page["events"]) <= 2
        walked += [e["seq"] for e in page["events"]]
        cursor = page["next"]
        if cursor is None:
            break
    whole = client.get("/v1/audit/events", params={"nominal_id": nid}, headers=auth(auditor)).json()
    assert walked == [e["seq"] for e in whole["events"]][: len(walked)] and len(walked) >= 5
    assert walked == sorted(walked)
    first = client.get("/v1/audit/events", params={"nominal_id": nid, "limit": 1}, headers=auth(auditor))
    other = client.get(
        "/v1/audit/events",
        params={"user": "kent.dc.okafor", "cursor": first.json()["next"]},
        headers=auth(auditor),
    )
    assert other.status_code == 422 and other.json()["errors"][0]["rule"] == "cursor_mismatch", other.text
    part = client.get(
        "/v1/audit/events/export", params={"nominal_id": nid, "limit": 1}, headers=auth(auditor)
    )
    assert part.text.count("\n") == 2 and 'rel="next"' in part.headers["link"]
    following = client.get(part.headers["link"].split(">")[0].lstrip("<"), headers=auth(auditor))
    assert following.status_code == 200 and following.text.count("\n") == 2
    assert following.text.splitlines()[1] != part.text.splitlines()[1]


@pytest.mark.parametrize(
    "body,rule",
    [
        (
            {"kind": "home", "postcode": "ME16 8RP", "date_from": "2024-01-01", "date_to": "2023-01-01"},
            ("body.date_to", "dates_in_order"),
        ),
        ({"kind": "palace", "postcode": "ME16 8RP"}, ("body.kind", "enum")),
        ({"kind": "home", "postcode": "ME16 8RP", "latitude": "north"}, ("body.latitude", "float_parsing")),
        ({"kind": "home", "postcode": "ME16 8RP", "landlord": "x"}, ("body.landlord", "extra_forbidden")),
    ],
)
def test_bad_input_names_the_field_and_rule_and_writes_nothing(
    client: TestClient, token: Minter, store: Store, body, rule
) -> None:  # type: ignore[no-untyped-def]
    om = token()
    nid, etag = create(client, om)
    r = client.post(f"/v1/nominals/{nid}/addresses", json=body, headers=auth(om, **{"If-Match": etag}))
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert rule in [(e["field"], e["rule"]) for e in r.json()["errors"]]
    assert version(client.get(f"/v1/nominals/{nid}", headers=auth(om)).headers["etag"]) == version(etag)


def test_malformed_requests_never_produce_a_server_error(client: TestClient, token: Minter) -> None:
    om = token()
    nid, etag = create(client, om)
    h = auth(om, **{"If-Match": etag, "Content-Type": "application/json"})
    cases = [
        client.post(f"/v1/nominals/{nid}/marks", content=b"{not json", headers=h),
        client.post(f"/v1/nominals/{nid}/marks", content=b"\xff\xfe\x00", headers=h),
        client.post(f"/v1/nominals/{nid}/marks", content=b"[]", headers=h),
        client.post("/v1/nominals/not-a-uuid/marks", json={}, headers=h),
        client.get("/v1/nominals", params={"limit": 10_000}, headers=h),
        client.get("/v1/nominals", params={"level": 9}, headers=h),
        client.post(f"/v1/nominals/{nid}/marks", content=b"x" * 2_000_000, headers=h),
        client.get("/v1/nowhere", headers=h),
        client.delete(f"/v1/nominals/{nid}", headers=h),
    ]
    statuses = [r.status_code for r in cases]
    assert statuses == [422, 400, 422, 422, 422, 422, 413, 404, 405]
    assert cases[1].json()["rule"] == "body_unreadable"
    assert all(r.headers["content-type"] == "application/problem+json" for r in cases)


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    # the embedded search lives in the database the readiness check has just read
    assert client.get("/ready").json() == {
        "status": "ready",
        "checks": {"database": "ok", "search": "embedded"},
    }


def test_administrators_see_key_status_and_no_records(client: TestClient, token: Minter) -> None:
    admin = token(Role.ADMINISTRATOR)
    nid, _ = create(client, token())
    keys = client.get("/v1/admin/keys", headers=auth(admin)).json()
    assert keys == [{"version": "1", "state": "active", "data_keys": 1}]
    assert client.get(f"/v1/nominals/{nid}", headers=auth(admin)).status_code == 403
    assert json.dumps(keys).count("key") == 1  # the field name "data_keys": no material


def test_a_records_notification_says_why_each_date_is_what_it_is(client: TestClient, token: Minter) -> None:
    """Issue #18 point 13 through the records API: each computed date has its rule, statute and facts; a stay
    abroad that began before the initial 3 days ran out stops them running (s.83(6))."""
    om = token()
    nid, etag = create(client, om, identity={**PERSON["identity"], "date_of_birth": "2008-02-29"})  # type: ignore[dict-item]
    _, etag = add(
        client,
        om,
        nid,
        "offences",
        {
            "offence": "Sexual assault",
            "conviction_date": "2025-03-10",
            "sexual": True,
            "disposal": {"kind": "detention_and_training_order", "custody_months": 4},
        },
        etag,
    )
    r = client.post(
        f"/v1/nominals/{nid}/offences",
        json={"offence": "x", "conviction_date": "2025-03-10", "disposal": {"kind": "detention"}},
        headers=auth(om, **{"If-Match": etag}),
    )
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert ("body.disposal.custody_months", "custody_length_required") in [
        (e["field"], e["rule"]) for e in r.json()["errors"]
    ]
    derived = client.get(f"/v1/nominals/{nid}", headers=auth(om)).json()["notification"]
    assert derived["subject"] and derived["ends_on"] == "2028-09-10"  # 7 years halved: 3 years 6 months
    ends = derived["reasons"]["ends_on"]
    assert ends["statute"] == "SOA 2003 s.82(1) table; s.131 (treated as imprisonment); s.82(2)"
    assert "disposal: detention and training order, 4 months" in ends["facts"]
    assert "date of birth 2008-02-29: aged 17 on 2025-03-10 (Family Law Reform Act 1969 s.9)" in ends["facts"]
    assert derived["reasons"]["relevant_date"]["statute"] == "SOA 2003 s.82(6)"
    assert (
        derived["next_due"] == "2025-03-12"
        and derived["reasons"]["next_due"]["statute"] == "SOA 2003 s.83(1)"
    )
    abroad, etag = add(
        client,
        om,
        nid,
        "addresses",
        {"kind": "outside_uk", "lines": ["Valletta", "Malta"], "date_from": "2025-03-11"},
        etag,
    )
    derived = client.get(f"/v1/nominals/{nid}", headers=auth(om)).json()["notification"]
    assert derived["subject"] and derived["next_due"] is None
    due = derived["reasons"]["next_due"]
    assert due["statute"] == "SOA 2003 s.83(1), s.83(6)" and "not running" in due["rule"]
    assert "outside the United Kingdom from 2025-03-11 and still there" in due["facts"]
    # Ending the stay (the web has no correction form) still counts it: it ends on the day it was ended.
    r = client.post(
        f"/v1/nominals/{nid}/addresses/{abroad}/end",
        json={"reason": "came back to the UK"},
        headers=auth(om, **{"If-Match": etag}),
    )
    assert r.status_code == 200, r.text
    record = client.get(f"/v1/nominals/{nid}", headers=auth(om)).json()
    ended_on = dt.datetime.fromisoformat(record["sections"]["addresses"][0]["ended_at"]).date()
    # the 10th counted before leaving on the 11th; the other two are the day of return and the next
    assert record["notification"]["next_due"] == (ended_on + dt.timedelta(days=1)).isoformat()
    assert (
        f"outside the United Kingdom from 2025-03-11 to {ended_on.isoformat()}"
        in (record["notification"]["reasons"]["next_due"]["facts"])
    )


MARK = {"kind": "scar", "location": "face", "description": "over left eye"}


def test_a_read_answers_304_to_the_tag_it_gave_until_the_record_or_the_readers_view_changes(
    client: TestClient, token: Minter, store: Store
) -> None:
    om, probation = token(), token(Role.OFFENDER_MANAGER, Agency.PROBATION)
    nid, etag = create(client, om)
    _, etag = add(client, om, nid, "intelligence", POLICE_ONLY, etag)
    first = client.get(f"/v1/nominals/{nid}", headers=auth(om))
    tag = first.headers["etag"]
    assert version(tag) == version(etag) == 2 and tag != etag  # the version, and a digest of this body
    again = client.get(f"/v1/nominals/{nid}", headers=auth(om, **{"If-None-Match": tag}))
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == tag
    for header in (f"W/{tag}", f'"0.abc", {tag}', "*"):  # weak comparison, a list, any
        assert (
            client.get(f"/v1/nominals/{nid}", headers=auth(om, **{"If-None-Match": header})).status_code
            == 304
        )
    # the 304 is still a consultation of the record, audited like any read
    reads = [
        t for t, outcome, _ in audit_tags(store, nid) if t == "nominal:record:read" and outcome == "success"
    ]
    assert len(reads) == 5
    # another reader sees another body of the same version: another tag, so the police one gets them a 200
    other = client.get(f"/v1/nominals/{nid}", headers=auth(probation, **{"If-None-Match": tag}))
    assert other.status_code == 200 and version(other.headers["etag"]) == 2 and other.headers["etag"] != tag
    # the read's tag is what a change sends as If-Match; after it the old tag no longer matches
    r = client.post(f"/v1/nominals/{nid}/marks", json=MARK, headers=auth(om, **{"If-Match": tag}))
    assert r.status_code == 201 and r.headers["etag"] == '"3"'
    after = client.get(f"/v1/nominals/{nid}", headers=auth(om, **{"If-None-Match": tag}))
    assert after.status_code == 200 and version(after.headers["etag"]) == 3
    stale = client.post(f"/v1/nominals/{nid}/marks", json=MARK, headers=auth(om, **{"If-Match": tag}))
    assert stale.status_code == 412 and stale.json()["rule"] == "version_stale"
    # a section read and the chronology too
    section = client.get(f"/v1/nominals/{nid}/marks", headers=auth(om))
    assert (
        client.get(
            f"/v1/nominals/{nid}/marks", headers=auth(om, **{"If-None-Match": section.headers["etag"]})
        ).status_code
        == 304
    )
