"""A purpose may travel in the X-Purpose header instead of the URL (issue #17, F6): a header stays out of the
access logs of proxies and browsers, where an enquiry's reason does not belong. It is audited the same way."""

from __future__ import annotations

from fastapi.testclient import TestClient

from register.domain.enums import Role
from register.store.store import Store
from tests.api.helpers import Minter, audit_tags, auth, create


def test_the_purpose_in_the_header_opens_another_areas_record_and_is_audited(
    client: TestClient, token: Minter, store: Store
) -> None:
    nid, _ = create(client, token())
    essex = token(Role.READER, area="essex")
    r = client.get(f"/v1/nominals/{nid}", headers=auth(essex, **{"X-Purpose": "OP-HERON-23 witness lead"}))
    assert r.status_code == 200, r.text
    assert ("nominal:record:read", "success", "OP-HERON-23 witness lead") in audit_tags(store, nid)
    # a search states its purpose the same way
    search = client.post(
        "/v1/search",
        json={"query": {"type": "group", "criteria": [{"type": "vehicle", "vrm": "GK19*"}]}},
        headers=auth(essex, **{"X-Purpose": "OP-HERON-23"}),
    )
    assert search.status_code == 200, search.text


def test_two_different_purposes_are_refused_naming_the_rule_and_nothing_is_read(
    client: TestClient, token: Minter, store: Store
) -> None:
    nid, _ = create(client, token())
    essex = token(Role.READER, area="essex")
    before = audit_tags(store, nid)
    r = client.get(
        f"/v1/nominals/{nid}", params={"purpose": "OP-1"}, headers=auth(essex, **{"X-Purpose": "OP-2"})
    )
    assert r.status_code == 422 and r.json()["rule"] == "purpose_given_twice"
    assert r.json()["errors"][0]["field"] == "header.x-purpose"
    assert [t for t in audit_tags(store, nid) if t[0] == "nominal:record:read"] == [
        t for t in before if t[0] == "nominal:record:read"
    ]
    same = client.get(
        f"/v1/nominals/{nid}", params={"purpose": "OP-1"}, headers=auth(essex, **{"X-Purpose": "OP-1"})
    )
    assert same.status_code == 200


def test_an_over_long_purpose_header_is_refused_as_the_query_one_is(
    client: TestClient, token: Minter
) -> None:
    nid, _ = create(client, token())
    essex = token(Role.READER, area="essex")
    r = client.get(f"/v1/nominals/{nid}", headers=auth(essex, **{"X-Purpose": "x" * 501}))
    assert r.status_code == 422
