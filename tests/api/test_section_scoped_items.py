"""An item is changed only through its own section's routes: the policy decides each section apart, so a
caller allowed one section may not correct or end, nor learn of, an item of another (decision 92)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from register.config import Settings
from register.store.store import Store
from tests.api.helpers import Minter, add, audit_tags, auth, create, section_for_police_only, version

CONTACT = {"kind": "phone", "value": "+44 7700 900123"}
INTELLIGENCE = {"received_on": "2025-08-01", "text": "seen near the school gates"}


@pytest.fixture
def police_only_intelligence(store: Store, settings: Settings) -> Iterator[TestClient]:
    """The app under a policy where only the police may read or write intelligence (as a force may choose)."""
    with section_for_police_only(store, settings, "intelligence") as c:
        yield c


def test_an_item_of_a_section_the_caller_may_not_touch_answers_as_missing_through_another_section(
    police_only_intelligence: TestClient, token: Minter, store: Store
) -> None:
    client = police_only_intelligence
    police, probation = token(), token(agency="probation")
    nid, etag = create(client, police)
    intel, etag = add(client, police, nid, "intelligence", INTELLIGENCE, etag)
    _, etag = add(client, police, nid, "contacts", CONTACT, etag)
    refused = client.post(
        f"/v1/nominals/{nid}/intelligence/{intel}/end",
        json={"reason": "probe"},
        headers=auth(probation, **{"If-Match": etag}),
    )
    assert refused.status_code == 403 and refused.json()["rule"] == "agency_not_permitted"
    for method, path, body in [
        ("POST", f"/v1/nominals/{nid}/contacts/{intel}/end", {"reason": "not current"}),
        ("PUT", f"/v1/nominals/{nid}/contacts/{intel}", CONTACT),
    ]:
        probe = client.request(method, path, json=body, headers=auth(probation, **{"If-Match": etag}))
        missing = client.request(
            method,
            path.replace(intel, str(uuid.uuid4())),
            json=body,
            headers=auth(probation, **{"If-Match": etag}),
        )
        assert probe.status_code == missing.status_code == 404, probe.text
        same = {k: v for k, v in probe.json().items() if k not in ("detail", "request_id")}
        assert same == {k: v for k, v in missing.json().items() if k not in ("detail", "request_id")}
        assert probe.json()["rule"] == "item_not_found" and "intelligence" not in probe.text
    after = client.get(f"/v1/nominals/{nid}", headers=auth(police))
    assert version(after.headers["etag"]) == version(etag)  # nothing was ended or corrected
    items = client.get(f"/v1/nominals/{nid}/intelligence", headers=auth(police)).json()["items"]
    assert [i["id"] for i in items if i.get("ended_at") is None] == [intel]
    tags = [tag for tag, _, _ in audit_tags(store, nid)]
    assert "nominal:intelligence:end" not in tags and "nominal:intelligence:correct" not in tags


def test_the_shipped_policy_also_changes_an_item_only_through_its_own_section(
    client: TestClient, token: Minter
) -> None:
    police = token()
    nid, etag = create(client, police)
    intel, etag = add(client, police, nid, "intelligence", INTELLIGENCE, etag)
    r = client.post(
        f"/v1/nominals/{nid}/contacts/{intel}/end",
        json={"reason": "x"},
        headers=auth(police, **{"If-Match": etag}),
    )
    assert r.status_code == 404 and r.json()["rule"] == "item_not_found"
    r = client.post(
        f"/v1/nominals/{nid}/intelligence/{intel}/end",
        json={"reason": "x"},
        headers=auth(police, **{"If-Match": etag}),
    )
    assert r.status_code == 200, r.text
