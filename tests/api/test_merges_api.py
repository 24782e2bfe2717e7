"""Duplicates, merge and unmerge: the cascade proposes, the supervisor previews and merges; unmerge gives both
records back exactly as they were, reporting what was added since; the audit log tells the story from both
sides."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from register.domain.enums import Role
from register.merges import service as merges
from register.store import models as m
from register.store.store import Store
from tests.api.helpers import PERSON, PNC, POLICE_ONLY, SMYTH, Minter, add, append, auth, create, visit


def content(record: dict[str, Any]) -> dict[str, Any]:
    """A record without what every change moves on (version, update time): what a person reads."""
    return {k: v for k, v in record.items() if k not in ("version", "updated_at")}


def pair(client: TestClient, om: str) -> tuple[str, str, str, str]:
    """Two records of one person, created independently: same PNC ID, different spellings and addresses."""
    a, ea = create(client, om)
    _, ea = add(client, om, a, "identifiers", PNC, ea)
    _, ea = add(
        client,
        om,
        a,
        "addresses",
        {"kind": "home", "lines": ["14 Tonbridge Road"], "postcode": "ME16 8RA", "date_from": "2023-01-01"},
        ea,
    )
    ea = append(client, om, a, visit("2024-02-01T10:00:00Z", "visit A1"), ea)
    ea = append(client, om, a, visit("2024-06-01T10:00:00Z", "visit A2"), ea)
    b, eb = create(client, om, **{k: v for k, v in SMYTH.items() if k != "area"})
    _, eb = add(client, om, b, "identifiers", PNC, eb)
    _, eb = add(
        client,
        om,
        b,
        "addresses",
        {"kind": "home", "lines": ["3 Week Street"], "postcode": "ME14 1QX", "date_from": "2024-01-01"},
        eb,
    )
    _, eb = add(client, om, b, "aliases", {"forenames": "Dan", "surname": "Hart"}, eb)
    _, eb = add(client, om, b, "intelligence", POLICE_ONLY, eb)
    eb = append(client, om, b, visit("2024-04-01T10:00:00Z", "visit B1"), eb)
    return a, ea, b, eb


def test_merge_then_unmerge_returns_both_records_to_their_state_plus_reported_additions(
    client: TestClient, token: Minter
) -> None:
    om, sup = token(), token(Role.SUPERVISOR)
    a, ea, b, eb = pair(client, om)
    page = client.get("/v1/duplicates", headers=auth(sup)).json()
    assert page["total"] == 1 and page["items"][0]["rule"] == "identifier"
    assert {page["items"][0]["first"]["id"], page["items"][0]["second"]["id"]} == {a, b}
    assert client.get("/v1/duplicates", headers=auth(om)).status_code == 403
    before_a, before_b = (content(client.get(f"/v1/nominals/{n}", headers=auth(sup)).json()) for n in (a, b))

    preview = client.get(f"/v1/nominals/{a}/merge_preview", params={"merged_id": b}, headers=auth(sup)).json()
    assert {c["field"] for c in preview["conflicts"]} == {"addresses.current"}
    assert (
        preview["aliases_added"][0]["surname"] == "Hartly"
        and preview["aliases_added"][0]["name_type"] == "merged"
    )
    assert [e["data"]["summary"] for e in preview["combined"]["chronology"]] == [
        "visit A1",
        "visit B1",
        "visit A2",
    ]
    assert preview["items_moved"] == 4 and preview["entries_moved"] == 1 and preview["rule"] == "identifier"

    def merge(merged_version: int):
        return client.post(
            f"/v1/nominals/{a}/merges",
            json={"merged_id": b, "merged_version": merged_version},
            headers=auth(sup, **{"If-Match": ea}),
        )

    assert merge(int(eb.strip('"')) - 1).status_code == 412  # the duplicate changed since the preview
    r = merge(int(eb.strip('"')))
    assert r.status_code == 201, r.text
    merge_id, ea = r.json()["id"], r.headers["etag"]
    survivor = client.get(f"/v1/nominals/{a}", headers=auth(sup)).json()
    assert [e["data"]["summary"] for e in survivor["chronology"]] == ["visit A1", "visit B1", "visit A2"]
    assert [e["merged_from"] for e in survivor["chronology"]] == [None, b, None]
    names = {(x["data"]["surname"], x["data"]["name_type"]) for x in survivor["sections"]["aliases"]}
    assert names == {("Hart", "alias"), ("Hartly", "merged")}
    assert (
        len(survivor["sections"]["intelligence"]) == 1
        and survivor["sections"]["intelligence"][0]["merged_from"] == b
    )
    tomb = client.get(f"/v1/nominals/{b}", headers=auth(sup)).json()
    assert (
        tomb["status"] == "merged"
        and tomb["merged_into"] == a
        and tomb["sections"] == {}
        and tomb["chronology"] == []
    )
    blocked = client.post(
        f"/v1/nominals/{b}/marks",
        json={"kind": "scar", "location": "face", "description": "x"},
        headers=auth(om, **{"If-Match": f'"{tomb["version"]}"'}),
    )
    assert blocked.status_code == 409 and blocked.json()["rule"] == "record_read_only"
    search = client.post(
        "/v1/search",
        params={"purpose": "OP-1"},
        headers=auth(om),
        json={"query": {"type": "group", "criteria": [{"type": "name", "value": "Danny Hartly"}]}},
    ).json()
    assert [h["id"] for h in search["hits"]] == [a]  # the survivor gained the name; the tombstone is gone
    assert client.get("/v1/duplicates", headers=auth(sup)).json()["total"] == 0

    added_id, ea = add(
        client, om, a, "marks", {"kind": "tattoo", "location": "left_forearm", "description": "anchor"}, ea
    )
    r = client.post(
        f"/v1/nominals/{a}/merges/{merge_id}/unmerge",
        json={"reason": "DNA shows two brothers"},
        headers=auth(sup, **{"If-Match": ea}),
    )
    assert r.status_code == 200, r.text
    report = r.json()
    assert [x["id"] for x in report["added_since"]] == [added_id] and report["changed_since"] == []
    assert report["items_returned"] == 4 and report["entries_returned"] == 1
    after_a, after_b = (content(client.get(f"/v1/nominals/{n}", headers=auth(sup)).json()) for n in (a, b))
    marks = after_a["sections"].pop("marks")
    assert [mk["id"] for mk in marks] == [added_id]
    assert after_a == before_a and after_b == before_b
    again = client.post(
        f"/v1/nominals/{a}/merges/{merge_id}/unmerge",
        json={"reason": "twice"},
        headers=auth(sup, **{"If-Match": r.headers["etag"]}),
    )
    assert again.status_code == 409 and again.json()["rule"] == "merge_already_undone"
    assert (
        client.get("/v1/duplicates", headers=auth(sup)).json()["total"] == 0
    )  # an unmerged pair is never proposed again

    auditor = token(Role.AUDITOR)
    for nid, side in ((a, "survivor"), (b, "merged")):
        events = client.get("/v1/audit/events", params={"nominal_id": nid}, headers=auth(auditor)).json()[
            "events"
        ]
        story = [
            (e["tag"], json.loads(e["details"])["side"])
            for e in events
            if e["action"] == "combination" and e["outcome"] == "success"
        ]
        assert story == [("nominal:record:merge", side), ("nominal:record:unmerge", side)]
        # and the refused attempts: the second unmerge, the change to the tombstone
        refused = [(e["tag"], e["outcome"]) for e in events if e["outcome"] != "success"]
        assert refused == (
            [("nominal:record:unmerge", "denied")]
            if side == "survivor"
            else [("nominal:marks:add", "denied")]
        )
    history = client.get(f"/v1/nominals/{b}/merges", headers=auth(sup)).json()
    assert [(x["status"], x["unmerge_reason"]) for x in history] == [("unmerged", "DNA shows two brothers")]


def test_weaker_rules_and_dismissal(client: TestClient, token: Minter, store: Store) -> None:
    om, sup = token(), token(Role.SUPERVISOR)
    a, _ = create(client, om)
    b, _ = create(
        client, om, identity={**PERSON["identity"], "forenames": "Danial", "surname": "Hartly"}
    )  # same dob, names sound alike
    c, _ = create(
        client, om, identity={**PERSON["identity"], "forenames": "Pieter", "surname": "Hartley"}
    )  # one name alike
    create(
        client, om, identity={**PERSON["identity"], "forenames": "Olu", "surname": "Adeyemi"}
    )  # same dob only: not proposed
    rules = {
        frozenset((p["first"]["id"], p["second"]["id"])): p["rule"]
        for p in client.get("/v1/duplicates", headers=auth(sup)).json()["items"]
    }
    assert rules == {
        frozenset((a, b)): "dob_and_names",
        frozenset((a, c)): "dob_and_name",
        frozenset((b, c)): "dob_and_name",
    }
    r = client.post(
        "/v1/duplicates/dismissals",
        json={"first_id": c, "second_id": a, "reason": "different fathers"},
        headers=auth(sup),
    )
    assert r.status_code == 201 and r.json()["new"] is True
    with store.session_factory() as s:  # the supervisor's words are kept, sealed
        sealed = s.execute(select(m.DuplicateDismissal.reason_sealed)).scalar_one()
    assert sealed and b"fathers" not in sealed
    remaining = {
        frozenset((p["first"]["id"], p["second"]["id"]))
        for p in client.get("/v1/duplicates", headers=auth(sup)).json()["items"]
    }
    assert remaining == {frozenset((a, b)), frozenset((b, c))}
    essex = token(Role.SUPERVISOR, area="essex")
    assert (
        client.post(
            "/v1/duplicates/dismissals",
            json={"first_id": b, "second_id": c, "reason": "x"},
            headers=auth(essex),
        ).status_code
        == 403
    )


def test_merges_that_would_lose_track_of_a_person_are_refused(client: TestClient, token: Minter) -> None:
    om, sup = token(), token(Role.SUPERVISOR)
    a, ea = create(client, om)
    b, eb = create(client, om)
    c, ec = create(client, om)
    essex_om = token(area="essex")
    x, _ = create(client, essex_om, area="essex")

    def merge(survivor: str, etag: str, merged: str, **purpose: str) -> Any:
        version = client.get(f"/v1/nominals/{merged}", headers=auth(sup), params={"purpose": "merge"}).json()[
            "version"
        ]
        return client.post(
            f"/v1/nominals/{survivor}/merges",
            json={"merged_id": merged, "merged_version": version},
            headers=auth(sup, **{"If-Match": etag}, **purpose),
        )

    assert merge(a, ea, a).json()["rule"] == "merge_self"
    # Another area's record: without a purpose exactly like a missing one (neither its area nor its status
    # shows); with one, the rule that stands in the way.
    missing = client.post(
        f"/v1/nominals/{a}/merges",
        json={"merged_id": str(uuid.uuid4()), "merged_version": 1},
        headers=auth(sup, **{"If-Match": ea}),
    )
    elsewhere = merge(a, ea, x)
    assert (elsewhere.status_code, elsewhere.json()["rule"]) == (missing.status_code, missing.json()["rule"])
    assert "essex" not in elsewhere.text.lower() and elsewhere.status_code == 404
    assert merge(a, ea, x, **{"X-Purpose": "duplicate check"}).json()["rule"] == "merge_across_areas"
    r = merge(a, ea, b)
    assert r.status_code == 201
    ea = r.headers["etag"]
    assert (
        merge(c, ec, a).json()["rule"] == "merge_chained"
    )  # a has absorbed b: merging a elsewhere would chain
    assert merge(c, ec, b).json()["rule"] == "merge_status"  # b is a tombstone
    assert (
        merge(b, f'"{client.get(f"/v1/nominals/{b}", headers=auth(sup)).json()["version"]}"', c).json()[
            "rule"
        ]
        == "merge_status"
    )


@pytest.mark.parametrize("stage", ["after_moving_rows", "after_the_tombstone"])
def test_a_failure_half_way_through_a_merge_leaves_both_records_untouched(
    client: TestClient, token: Minter, store: Store, monkeypatch: pytest.MonkeyPatch, stage: str
) -> None:
    om, sup = token(), token(Role.SUPERVISOR)
    a, ea, b, eb = pair(client, om)
    before = [client.get(f"/v1/nominals/{n}", headers=auth(sup)).json() for n in (a, b)]

    def boom(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("injected failure")

    if stage == "after_moving_rows":
        original = merges.repository.move_rows
        monkeypatch.setattr(merges.repository, "move_rows", lambda *a, **k: (original(*a, **k), boom())[0])
    else:
        monkeypatch.setattr(merges, "_refresh", boom)
    failing = TestClient(client.app, raise_server_exceptions=False)
    r = failing.post(
        f"/v1/nominals/{a}/merges",
        json={"merged_id": b, "merged_version": int(eb.strip('"'))},
        headers=auth(sup, **{"If-Match": ea}),
    )
    assert r.status_code == 500
    after = [client.get(f"/v1/nominals/{n}", headers=auth(sup)).json() for n in (a, b)]
    assert after == before
    assert client.get(f"/v1/nominals/{a}/merges", headers=auth(sup)).json() == []


def test_a_pair_across_areas_is_listed_for_both_areas_with_the_rule(
    client: TestClient, token: Minter
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
    for area, own in (("kent", a), ("essex", b)):
        page = client.get("/v1/duplicates", headers=auth(token(Role.SUPERVISOR, area=area))).json()
        assert page["total"] == 1 and page["items"][0]["rule"] == "identifier"
        sides = {s["id"]: s["area"] for s in (page["items"][0]["first"], page["items"][0]["second"])}
        assert sides == {a: "kent", b: "essex"} and own in sides
    assert (
        client.get("/v1/duplicates", headers=auth(token(Role.SUPERVISOR, area="surrey"))).json()["total"] == 0
    )


def test_the_duplicates_list_pages_by_limit_and_cursor(client: TestClient, token: Minter) -> None:
    om, sup = token(), token(Role.SUPERVISOR)
    pair(client, om)
    pair(client, om)  # the same identifier on four records: six pairs
    whole = client.get("/v1/duplicates", headers=auth(sup)).json()
    assert whole["total"] >= 3 and whole["next"] is None
    walked, cursor = [], None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = client.get("/v1/duplicates", params=params, headers=auth(sup)).json()
        assert len(page["items"]) <= 2 and page["total"] == whole["total"]
        walked += page["items"]
        cursor = page["next"]
        if cursor is None:
            break
    assert walked == whole["items"]
    # a cursor of another listing is refused: the records list's is not the duplicates'
    other = client.get("/v1/nominals", params={"limit": 1}, headers=auth(om)).json()["next"]
    r = client.get("/v1/duplicates", params={"cursor": other}, headers=auth(sup))
    assert r.status_code == 422 and r.json()["errors"][0] | {"message": ""} == {
        "field": "query.cursor",
        "rule": "cursor_invalid",
        "message": "",
    }


def test_contacts_and_aliases_added_later_feed_the_cascade(client: TestClient, token: Minter) -> None:
    om, sup = token(), token(Role.SUPERVISOR)
    a, ea = create(client, om)
    add(client, om, a, "contacts", {"kind": "phone", "value": "+44 7700 900123"}, ea)
    b, eb = create(
        client, om, identity={**PERSON["identity"], "forenames": "Pieter", "date_of_birth": "1979-05-05"}
    )
    c, ec = create(
        client,
        om,
        identity={"forenames": "Olu", "surname": "Adeyemi", "date_of_birth": "1990-01-01", "gender": "male"},
    )

    def pairs() -> dict[frozenset[str], str]:
        return {
            frozenset((p["first"]["id"], p["second"]["id"])): p["rule"]
            for p in client.get("/v1/duplicates", headers=auth(sup)).json()["items"]
        }

    assert pairs() == {}
    _, eb = add(
        client, om, b, "contacts", {"kind": "phone", "value": "+44 7700 900 123"}, eb
    )  # same number, one name alike
    assert pairs() == {frozenset((a, b)): "contact_and_name"}
    add(
        client,
        om,
        c,
        "aliases",
        {"forenames": "Danny", "surname": "Hartley", "date_of_birth": "1984-03-17"},
        ec,
    )
    assert pairs() == {frozenset((a, b)): "contact_and_name", frozenset((a, c)): "dob_and_name"}


def test_a_corrected_identity_takes_its_pairs_off_the_desk_and_a_new_one_puts_them_on(
    client: TestClient, token: Minter
) -> None:
    """The desk lists the pairs the register keeps as records change: a correction that makes two records
    no longer alike removes their pair at once, one that makes them alike adds it."""
    om, sup = token(), token(Role.SUPERVISOR)
    a, _ = create(client, om)
    b, eb = create(client, om, identity={**PERSON["identity"], "forenames": "Danial", "surname": "Hartly"})

    def listed() -> set[frozenset[str]]:
        page = client.get("/v1/duplicates", headers=auth(sup)).json()
        return {frozenset((p["first"]["id"], p["second"]["id"])) for p in page["items"]}

    assert listed() == {frozenset((a, b))}
    other = {**PERSON["identity"], "forenames": "Olu", "surname": "Adeyemi", "date_of_birth": "1990-01-01"}
    r = client.put(f"/v1/nominals/{b}/identity", json=other, headers=auth(om, **{"If-Match": eb}))
    assert r.status_code == 200, r.text
    assert listed() == set()
    c, _ = create(client, om, identity={**other, "forenames": "Olumide"})  # same date of birth and surname
    assert listed() == {frozenset((b, c))}


def test_the_desk_follows_identifiers_added_and_ended_and_a_timeline_entry_leaves_the_pairs_alone(
    client: TestClient, token: Minter, store: Store
) -> None:
    """Pairs are worked out again only in a transaction that wrote tokens: a shared PNC ID puts two
    otherwise unlike records on the desk, correcting it takes them off, and a chronology entry (no token)
    does not touch the kept pairs at all."""
    from sqlalchemy import event

    from register.domain.values import check_letter

    om, sup = token(), token(Role.SUPERVISOR)
    a, ea = create(client, om)
    b, eb = create(
        client,
        om,
        identity={
            **PERSON["identity"],
            "forenames": "Olu",
            "surname": "Adeyemi",
            "date_of_birth": "1990-01-01",
        },
    )

    def listed() -> set[frozenset[str]]:
        page = client.get("/v1/duplicates", headers=auth(sup)).json()
        return {frozenset((p["first"]["id"], p["second"]["id"])) for p in page["items"]}

    assert listed() == set()
    _, ea = add(client, om, a, "identifiers", PNC, ea)
    item, eb = add(client, om, b, "identifiers", PNC, eb)
    assert listed() == {frozenset((a, b))}
    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(store.engine, "before_cursor_execute", seen)
    try:
        eb = append(client, om, b, visit("2026-01-05T10:00:00Z", "Home visit"), eb)
    finally:
        event.remove(store.engine, "before_cursor_execute", seen)
    assert any("chronology_entry" in s for s in statements)
    assert not [s for s in statements if "duplicate_pair" in s]
    other = {"kind": "pnc", "value": f"2001/0123457{check_letter('010123457')}"}
    r = client.put(f"/v1/nominals/{b}/identifiers/{item}", json=other, headers=auth(om, **{"If-Match": eb}))
    assert r.status_code == 200, r.text
    assert listed() == set()
