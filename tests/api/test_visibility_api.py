"""Issue #17: what a user may not see must not change anything they can observe. A hidden item answers exactly like a
missing one, counts and worklists count only what the caller may see, and reading another area's record (on any
route that shows it) needs a stated purpose before anything else is decided."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient

from register.bootstrap import Store
from register.domain.enums import Role
from tests.api.conftest import Minter, auth
from tests.api.test_merges_api import PNC, SMYTH, append, visit
from tests.api.test_records_api import PERSON, POLICE_ONLY, add, audit_tags, create

UNGRADED_POLICE_ONLY = {"received_on": "2025-07-23", "text": "seen near the school gates", "audience": ["police"]}


def problem(response: Any, *ids: str) -> dict[str, Any]:
    """A problem body as the caller sees it, with the ids they sent and the request id taken out."""
    text = response.text
    for i, value in enumerate(ids):
        text = text.replace(value, f"<id{i}>")
    body = __import__("json").loads(text)
    body.pop("request_id", None)
    return body


def etag_of(client: TestClient, token: str, nid: str) -> str:
    return client.get(f"/v1/nominals/{nid}", headers=auth(token)).headers["etag"]


# ------------------------------------------------------------------ one rule for restricted records without a purpose


def test_a_restricted_record_elsewhere_needs_a_purpose_on_every_route_before_its_stub(client: TestClient, token: Minter) -> None:
    om = token()
    plain, _ = create(client, om)
    restricted, _ = create(client, om, restricted=True)
    investigator = token(Role.INVESTIGATOR, area="essex")
    for route in ("", "/identity", "/chronology", "/addresses", "/intelligence", "/retention", "/merges"):
        answers = []
        for nid in (plain, restricted):
            r = client.get(f"/v1/nominals/{nid}{route}", headers=auth(investigator))
            answers.append((r.status_code, problem(r, nid)))
        assert answers[0] == answers[1] and answers[0][0] == 400, (route, answers)
        assert answers[0][1]["rule"] == "purpose_required"
        stub = client.get(f"/v1/nominals/{restricted}{route}", params={"purpose": "OP-HERON-23"}, headers=auth(investigator))
        assert stub.status_code == 200 and stub.json()["restricted"] is True and stub.json()["owning_area"] == "kent"
