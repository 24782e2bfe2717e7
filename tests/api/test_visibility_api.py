"""Issue #17: what a user may not see must not change anything they can observe. A hidden item answers exactly
like a missing one, counts and worklists count only what the caller may see, and reading another area's record
(on any route that shows it) needs a stated purpose before anything else is decided."""

from __future__ import annotations

import json
import uuid
from typing import Any

from fastapi.testclient import TestClient

from register.domain.enums import Role
from register.store.store import Store
from tests.api.helpers import (
    PERSON,
    PNC,
    POLICE_ONLY,
    SMYTH,
    Minter,
    add,
    append,
    audit_tags,
    auth,
    create,
    version,
    visit,
)

UNGRADED_POLICE_ONLY = {
    "received_on": "2025-07-23",
    "text": "seen near the school gates",
    "audience": ["police"],
}


def problem(response: Any, *ids: str) -> dict[str, Any]:
    """A problem body as the caller sees it, with the ids they sent and the request id taken out."""
    text = response.text
    for i, value in enumerate(ids):
        text = text.replace(value, f"<id{i}>")
    body = json.loads(text)
    body.pop("request_id", None)
    return body


def etag_of(client: TestClient, token: str, nid: str) -> str:
    return client.get(f"/v1/nominals/{nid}", headers=auth(token)).headers["etag"]


# ------------------------------------------------------------------ F2: erasure obeys the item's visibility


def test_a_probation_supervisor_cannot_erase_or_detect_police_only_intelligence(
    client: TestClient, token: Minter
) -> None:
    police = token()
    nid, etag = create(client, police)
    secret, etag = add(client, police, nid, "intelligence", POLICE_ONLY, etag)
    probation_sup = token(Role.SUPERVISOR, agency="probation")
    missing = str(uuid.uuid4())
    hidden = client.post(
        f"/v1/nominals/{nid}/items/{secret}/erase",
        json={"reason": "probe", "confirm": secret},
        headers=auth(probation_sup, **{"If-Match": etag}),
    )
    absent = client.post(
        f"/v1/nominals/{nid}/items/{missing}/erase",
        json={"reason": "probe", "confirm": missing},
        headers=auth(probation_sup, **{"If-Match": etag}),
    )
    assert hidden.status_code == absent.status_code == 404
    assert problem(hidden, secret) == problem(absent, missing)
    intel = client.get(f"/v1/nominals/{nid}/intelligence", headers=auth(police)).json()["items"]
    assert [i["id"] for i in intel] == [secret]  # nothing erased
    assert version(etag_of(client, police, nid)) == version(etag)  # nothing changed at all


# ------------------------------------------------------------------ F10: the erasure's chronology note has
# the item's audience


def test_the_erasure_of_police_only_intelligence_leaves_no_trace_for_probation(
    client: TestClient, token: Minter
) -> None:
    police, police_sup, probation = token(), token(Role.SUPERVISOR), token(agency="probation")
    nid, etag = create(client, police)
    secret, etag = add(client, police, nid, "intelligence", POLICE_ONLY, etag)
    r = client.post(
        f"/v1/nominals/{nid}/items/{secret}/erase",
        json={"reason": "wrong person: Mote Park informant", "confirm": secret},
        headers=auth(police_sup, **{"If-Match": etag}),
    )
    assert r.status_code == 200, r.text
    as_police = client.get(f"/v1/nominals/{nid}/chronology", headers=auth(police)).json()["entries"]
    assert [e["data"]["details"] for e in as_police] == ["wrong person: Mote Park informant"]
    note = as_police[0]["id"]
    assert client.get(f"/v1/nominals/{nid}/chronology", headers=auth(probation)).json()["entries"] == []
    whole = client.get(f"/v1/nominals/{nid}", headers=auth(probation))
    assert (
        "Mote Park" not in whole.text
        and "intelligence was erased" not in whole.text
        and note not in whole.text
    )

    # nor can the note be probed by amending it: it answers like an entry that does not exist
    def amend(target: str):
        return client.post(
            f"/v1/nominals/{nid}/chronology",
            headers=auth(probation, **{"If-Match": whole.headers["etag"]}),
            json={
                "occurred_at": "2026-01-01T10:00:00Z",
                "kind": "amendment",
                "summary": "probe",
                "amends": target,
            },
        )

    missing = str(uuid.uuid4())
    hidden, absent = amend(note), amend(missing)
    assert hidden.status_code == absent.status_code == 404 and problem(hidden, note) == problem(
        absent, missing
    )


# ------------------------------------------------------------------ F3: unmerge reports only what the caller
# may see


def test_unmerge_and_merge_report_only_what_the_caller_may_see(client: TestClient, token: Minter) -> None:
    police, probation_sup = token(), token(Role.SUPERVISOR, agency="probation")
    a, ea = create(client, police)
    _, ea = add(client, police, a, "identifiers", PNC, ea)
    b, eb = create(client, police, **{k: v for k, v in SMYTH.items() if k != "area"})
    _, eb = add(client, police, b, "identifiers", PNC, eb)
    hidden_b, eb = add(client, police, b, "intelligence", POLICE_ONLY, eb)
    _, eb = add(client, police, b, "aliases", {"forenames": "Dan", "surname": "Hart"}, eb)
    eb = append(client, police, b, visit("2024-04-01T10:00:00Z", "visit B1"), eb)

    preview = client.get(
        f"/v1/nominals/{a}/merge_preview", params={"merged_id": b}, headers=auth(probation_sup)
    ).json()
    r = client.post(
        f"/v1/nominals/{a}/merges",
        json={"merged_id": b, "merged_version": int(eb.strip('"'))},
        headers=auth(probation_sup, **{"If-Match": ea}),
    )
    assert r.status_code == 201, r.text
    merged = r.json()
    assert (
        (merged["items_moved"], merged["entries_moved"])
        == (preview["items_moved"], preview["entries_moved"])
        == (2, 1)
    )
    merge_id = merged["id"]

    # after the merge: police add police-only intelligence to the survivor and end the hidden item that came
    # from b
    ea = etag_of(client, police, a)
    hidden_a, ea = add(client, police, a, "intelligence", POLICE_ONLY, ea)
    r = client.post(
        f"/v1/nominals/{a}/intelligence/{hidden_b}/end",
        json={"reason": "superseded"},
        headers=auth(police, **{"If-Match": ea}),
    )
    assert r.status_code == 200, r.text
    seen, ea = add(
        client,
        police,
        a,
        "marks",
        {"kind": "tattoo", "location": "left_forearm", "description": "anchor"},
        r.headers["etag"],
    )

    r = client.post(
        f"/v1/nominals/{a}/merges/{merge_id}/unmerge",
        json={"reason": "two brothers"},
        headers=auth(probation_sup, **{"If-Match": ea}),
    )
    assert r.status_code == 200, r.text
    report = r.json()
    assert hidden_a not in r.text and hidden_b not in r.text
    assert [x["id"] for x in report["added_since"]] == [seen] and report["changed_since"] == []
    assert (report["items_returned"], report["entries_returned"]) == (
        2,
        1,
    )  # the identifier and the alias; the visit


# ------------------------------------------------------------------ F4: quality counts only what the caller
# may see


def test_quality_counts_and_worklists_leave_out_intelligence_the_caller_may_not_see(
    client: TestClient, token: Minter
) -> None:
    police = token()
    nid, etag = create(client, police)
    add(client, police, nid, "intelligence", UNGRADED_POLICE_ONLY, etag)

    def ungraded(board: dict[str, Any]) -> int:
        return next(r["count"] for r in board["rules"] if r["rule"] == "INTEL-UNGRADED")

    police_sup, probation_sup = token(Role.SUPERVISOR), token(Role.SUPERVISOR, agency="probation")
    probation_om = token(agency="probation")
    for runner in (police_sup, probation_sup):  # whoever ran the rules, each reader sees their own view
        run = client.post("/v1/quality/runs", headers=auth(runner))
        assert run.status_code == 201
        assert ungraded(run.json()) == (1 if runner == police_sup else 0)
        assert ungraded(client.get("/v1/quality/dashboard", headers=auth(police_sup)).json()) == 1
        for reader in (probation_sup, probation_om):
            board = client.get("/v1/quality/dashboard", headers=auth(reader)).json()
            assert ungraded(board) == 0
            assert board["by_severity"]["medium"] == sum(
                r["count"] for r in board["rules"] if r["severity"] == "medium"
            )
            assert client.get(
                "/v1/quality/worklist", params={"rule": "INTEL-UNGRADED"}, headers=auth(reader)
            ).json() == {"items": [], "total": 0, "next": None}
        found = client.get(
            "/v1/quality/worklist", params={"rule": "INTEL-UNGRADED"}, headers=auth(police_sup)
        ).json()
        assert [f["nominal_id"] for f in found["items"]] == [nid] and found["total"] == 1


# ------------------------------------------------------------------ F9: the duplicates listing and the
# purpose rule


def test_the_duplicates_listing_shows_another_areas_record_only_with_a_purpose(
    client: TestClient, token: Minter, store: Store
) -> None:
    kent_om, essex_om = token(), token(area="essex")
    a, ea = create(client, kent_om)
    add(client, kent_om, a, "identifiers", PNC, ea)
    b, eb = create(
        client,
        essex_om,
        area="essex",
        identity={
            **PERSON["identity"],
            "forenames": "Olu",
            "surname": "Adeyemi",
            "date_of_birth": "1990-01-01",
        },
    )
    add(client, essex_om, b, "identifiers", PNC, eb)
    sup = token(Role.SUPERVISOR)

    def sides(**params: str) -> dict[str, dict[str, Any]]:
        r = client.get("/v1/duplicates", params=params, headers=auth(sup))
        assert r.status_code == 200, r.text
        item = r.json()["items"][0]
        return {s["id"]: s for s in (item["first"], item["second"])}

    bare = sides()
    assert bare[a]["surname"] == "Hartley"  # your own area's record: no purpose needed
    assert "Adeyemi" not in str(bare) and "1990" not in str(bare)
    assert bare[b]["area"] == "essex" and bare[b]["forenames"] is None and bare[b]["date_of_birth"] is None
    assert bare[b]["restricted"] is None  # not even whether it is restricted
    stated = sides(purpose="DUP-REVIEW-7")
    assert stated[b]["surname"] == "Adeyemi" and stated[b]["restricted"] is False
    # the listing that showed essex's record is a consultation of it, with the purpose
    assert ("nominal:duplicates:list", "success", "DUP-REVIEW-7") in audit_tags(store, b)


# ------------------------------------------------------------------ one rule for restricted records without a
# purpose


def test_a_restricted_record_elsewhere_needs_a_purpose_on_every_route_before_its_stub(
    client: TestClient, token: Minter
) -> None:
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
        stub = client.get(
            f"/v1/nominals/{restricted}{route}", params={"purpose": "OP-HERON-23"}, headers=auth(investigator)
        )
        assert (
            stub.status_code == 200
            and stub.json()["restricted"] is True
            and stub.json()["owning_area"] == "kent"
        )
