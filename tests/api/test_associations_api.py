"""GET /v1/nominals/{id}/associations: the same use case as the page (tests/integration/test_associations.py
covers what it finds); here what the API adds: the level's bounds, another area's person without and with a
purpose, a restricted record elsewhere answered with its stub, and the audit events."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from register.domain.enums import Area
from register.store.store import Store
from tests.api.helpers import Minter, add, audit_tags, auth, create

pytestmark = pytest.mark.sqlite_only  # the route adds nothing engine-specific


def test_the_api_answers_with_the_people_linked_and_what_the_caller_may_see_of_them(
    client: TestClient, token: Minter, store: Store
) -> None:
    kent = token()
    essex = token(area=Area.ESSEX)
    centre, etag = create(client, kent)
    add(client, kent, centre, "contacts", {"kind": "phone", "value": "07700 900001"}, etag)
    elsewhere, etag = create(client, essex, area="essex")
    add(client, essex, elsewhere, "contacts", {"kind": "phone", "value": "+44 7700 900001"}, etag)

    r = client.get(f"/v1/nominals/{centre}/associations", headers=auth(kent))
    assert r.status_code == 200, r.text
    body = r.json()
    people = {n["id"]: n for n in body["nodes"]}
    assert people[elsewhere]["shown_as"] == "withheld" and people[elsewhere]["surname"] is None
    assert body["links"] == [{"source": centre, "target": elsewhere, "kind": "phone", "value": "07700900001"}]
    assert ("nominal:associations:read", "success", None) in audit_tags(store, elsewhere)

    r = client.get(
        f"/v1/nominals/{centre}/associations?level=2", headers=auth(kent, **{"X-Purpose": "op owl"})
    )
    assert {n["id"]: n["shown_as"] for n in r.json()["nodes"]}[elsewhere] == "record"
    assert ("nominal:associations:read", "success", "op owl") in audit_tags(store, elsewhere)

    for bad in ("0", "3", "two"):
        assert (
            client.get(f"/v1/nominals/{centre}/associations?level={bad}", headers=auth(kent)).status_code
            == 422
        )


def test_a_restricted_record_elsewhere_answers_with_its_stub_only(
    client: TestClient, token: Minter, store: Store
) -> None:
    kent = token()
    essex = token(area=Area.ESSEX)
    restricted, _ = create(client, kent, restricted=True)
    r = client.get(f"/v1/nominals/{restricted}/associations", headers=auth(essex, **{"X-Purpose": "op owl"}))
    assert r.status_code == 200 and r.json()["restricted"] is True and "nodes" not in r.json()
