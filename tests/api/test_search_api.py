"""Searching through the API: a purpose always, restricted records of other areas out of every search, nothing
hidden matchable, and every search and export in the audit log with its criteria and the ids it returned."""

from __future__ import annotations

import base64
import datetime as dt
import json
import time
import uuid
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from register.api.app import build_app
from register.config import Settings
from register.domain.enums import Role
from register.search import indexer as idx
from register.store import models as m
from register.store.store import Store
from tests.api.helpers import POLICE_ONLY, Minter, add, auth, create

VAN = {"query": {"type": "group", "criteria": [{"type": "vehicle", "vrm": "GK19*"}]}}


def search(
    client: TestClient, token: str, body: dict, purpose: str | None = "OP-HERON-23", path: str = "/v1/search"
):  # type: ignore[no-untyped-def,type-arg]
    return client.post(path, json=body, params={"purpose": purpose} if purpose else {}, headers=auth(token))


def events(store: Store, tag: str) -> list[dict]:  # type: ignore[type-arg]
    with store.session_factory() as s:
        rows = s.execute(
            select(m.AuditEvent.purpose, m.AuditEvent.action, m.AuditEvent.details, m.AuditEvent.actor_user)
            .where(m.AuditEvent.tag == tag)
            .order_by(m.AuditEvent.seq)
        ).all()
    return [
        {"purpose": r.purpose, "action": r.action, "actor": r.actor_user, **json.loads(r.details)}
        for r in rows
    ]


def test_search_needs_a_purpose_and_is_audited_with_criteria_and_ids(
    client: TestClient, token: Minter, store: Store
) -> None:
    om = token()
    nid, etag = create(client, om)
    add(client, om, nid, "vehicles", {"vrm": "GK19 XBW", "colour": "blue"}, etag)
    investigator = token(Role.INVESTIGATOR, area="essex")
    r = search(client, investigator, VAN, purpose=None)
    assert r.status_code == 400 and r.json()["rule"] == "purpose_required"
    r = search(client, investigator, VAN)
    assert r.status_code == 200
    body = r.json()
    assert body["backend"] == "sql" and body["total"] == 1
    assert body["hits"][0]["surname"] == "Hartley" and body["hits"][0]["matched"] == [
        "0:vehicle (vehicle GK19XBW)"
    ]
    assert body["hits"][0]["how"] == {"0:vehicle": "pattern"}  # how it matched: a pattern, not the whole mark
    [event] = events(store, "search:query:run")
    assert event["purpose"] == "OP-HERON-23" and event["action"] == "consultation" and event["ids"] == [nid]
    # The criteria are sealed in the database (no "GK19" in clear) and opened for an auditor by the API.
    assert "criteria" not in event and "GK19" not in json.dumps(event) and event["sealed"]
    auditor = token(Role.AUDITOR, area="essex")
    log = client.get("/v1/audit/events", params={"user": event["actor"]}, headers=auth(auditor)).json()
    [read] = [json.loads(e["details"]) for e in log["events"] if e["tag"] == "search:query:run"]
    assert read["criteria"]["query"]["criteria"][0]["vrm"] == "GK19*" and "sealed" not in read
    assert search(client, token(Role.AUDITOR), VAN).status_code == 403


def test_restricted_records_of_other_areas_take_no_part_in_their_searches(
    client: TestClient, token: Minter, store: Store
) -> None:
    """A stub in the results would itself answer "does a restricted record have a GK19 van?": outside its
    owning area a restricted record is found only by reading it by id (the audited stub), never by a
    search."""
    om = token()
    nid, etag = create(client, om, restricted=True)
    add(client, om, nid, "vehicles", {"vrm": "GK19 XBW"}, etag)
    [own] = search(client, token(Role.INVESTIGATOR), VAN).json()["hits"]
    assert own["surname"] == "Hartley" and own["restricted"] is False
    essex = token(Role.INVESTIGATOR, area="essex")
    other = search(client, essex, VAN).json()
    assert (other["total"], other["hits"], other["facets"]) == (
        0,
        [],
        {"area": {}, "mappa_category": {}, "mappa_level": {}},
    )
    assert (
        events(store, "search:query:run")[-1]["ids"] == events(store, "search:query:run")[-1]["stubs"] == []
    )
    stub = client.get(f"/v1/nominals/{nid}", params={"purpose": "OP-HERON-23"}, headers=auth(essex)).json()
    assert stub == {
        "id": nid,
        "restricted": True,
        "owning_area": "kent",
        "message": "restricted record: contact the owning area",
    }


def test_words_in_police_only_intelligence_match_nothing_for_anyone(
    client: TestClient, token: Minter
) -> None:
    police = token()
    nid, etag = create(client, police)
    add(
        client, police, nid, "intelligence", POLICE_ONLY, etag
    )  # "frequents the Mote Park bandstand after dark"
    probes = [
        {"type": "mark", "text": "bandstand"},
        {"type": "offence", "modus_operandi": "bandstand"},
        {"type": "offence", "text": "bandstand"},
        {"type": "employment", "text": "bandstand"},
    ]
    for probe in probes:
        for who in (police, token(agency="probation")):
            body = search(client, who, {"query": {"type": "group", "criteria": [probe]}}).json()
            assert body["total"] == 0 and body["hits"] == []
    everyone = {"query": {"type": "group", "criteria": [{"type": "management", "area": "kent"}]}}
    assert (
        search(client, police, everyone).json()["total"]
        == search(client, token(agency="probation"), everyone).json()["total"]
        == 1
    )


def test_export_is_a_disclosure_in_the_audit_log(client: TestClient, token: Minter, store: Store) -> None:
    om = token()
    nid, etag = create(client, om)
    add(client, om, nid, "vehicles", {"vrm": "GK19 XBW"}, etag)
    r = search(client, token(Role.INVESTIGATOR), VAN, path="/v1/search/export")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    lines = r.text.strip().splitlines()
    assert lines[0] == "id,surname,forenames,date_of_birth,owning_area,restricted,matched" and lines[
        1
    ].startswith(f"{nid},Hartley,Daniel")
    [event] = events(store, "search:results:export")
    assert event["action"] == "disclosure" and event["ids"] == [nid]


def test_archived_records_only_when_asked(client: TestClient, token: Minter, store: Store) -> None:
    om = token()
    nid, etag = create(client, om)
    add(client, om, nid, "vehicles", {"vrm": "GK19 XBW"}, etag)
    with store.unit_of_work() as uow:
        uow.session.execute(
            m.Nominal.__table__.update().where(m.Nominal.id == uuid.UUID(nid)).values(status="archived")
        )
    assert search(client, om, VAN).json()["total"] == 0
    assert search(client, om, {**VAN, "include_archived": True}).json()["hits"][0]["status"] == "archived"


def test_through_elasticsearch_with_the_in_process_indexer(
    store: Store, settings: Settings, token: Minter, es_node
) -> None:  # type: ignore[no-untyped-def]
    alias = f"t-{uuid.uuid4().hex[:12]}"
    app = build_app(
        settings.model_copy(update={"elasticsearch_url": es_node.url, "search_alias": alias}), store
    )
    try:
        with TestClient(app) as client:
            om = token()
            nid, etag = create(client, om)
            add(client, om, nid, "vehicles", {"vrm": "GK19 XBW", "colour": "blue"}, etag)
            deadline = time.monotonic() + 20
            while True:  # the in-process indexer drains after the commit, in the background
                app.state.search_backend.index.refresh()
                body = search(client, token(Role.INVESTIGATOR), VAN).json()
                if body["total"] or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            assert body["backend"] == "elasticsearch" and [h["id"] for h in body["hits"]] == [nid]
    finally:
        app.state.search_backend.index.client.indices.delete(
            index=f"{alias}-*", ignore_unavailable=True, allow_no_indices=True
        )


def test_a_register_whose_index_is_gone_answers_searches_503_rather_than_no_one(
    store: Store, settings: Settings, token: Minter, es_node
) -> None:  # type: ignore[no-untyped-def]
    """An API starting against a cluster that lost its data made a new, empty index: every search answered
    200 with only what changed since, so an investigator was told no one matched (decision 85)."""
    alias = f"t-{uuid.uuid4().hex[:12]}"
    with TestClient(build_app(settings, store)) as client:  # the register holds records already
        om = token()
        nid, etag = create(client, om)
        add(client, om, nid, "vehicles", {"vrm": "GK19 XBW", "colour": "blue"}, etag)
    with store.unit_of_work() as uow:  # indexed, into an index the cluster has since lost
        uow.session.execute(m.Outbox.__table__.update().values(processed_at=dt.datetime.now(dt.UTC)))
    app = build_app(
        settings.model_copy(update={"elasticsearch_url": es_node.url, "search_alias": alias}), store
    )
    es = app.state.search_backend.index.client
    try:
        with TestClient(app) as client:
            r = search(client, token(Role.INVESTIGATOR), VAN)
            assert r.status_code == 503 and r.json()["rule"] == "search_unavailable", r.text
            assert not es.indices.exists(index=f"{alias}*", allow_no_indices=False, ignore_unavailable=True)
            assert client.get("/ready").json()["checks"]["search"] == "unavailable"
            # the rebuild the log asks for brings it back, with the record
            idx.reindex(store, app.state.search_backend.index, batch=10)
            app.state.search_backend.index.refresh()
            assert [h["id"] for h in search(client, token(Role.INVESTIGATOR), VAN).json()["hits"]] == [nid]
    finally:
        es.indices.delete(index=f"{alias}-*", ignore_unavailable=True, allow_no_indices=True)


def test_a_new_register_gets_its_first_index_even_after_its_first_records(
    store: Store, settings: Settings, token: Minter, es_node
) -> None:  # type: ignore[no-untyped-def]
    """Records written before the first indexer starts are all still in the outbox, which fills the index."""
    alias = f"t-{uuid.uuid4().hex[:12]}"
    with TestClient(build_app(settings, store)) as client:
        om = token()
        nid, etag = create(client, om)
        add(client, om, nid, "vehicles", {"vrm": "GK19 XBW", "colour": "blue"}, etag)
    app = build_app(
        settings.model_copy(update={"elasticsearch_url": es_node.url, "search_alias": alias}), store
    )
    index = app.state.search_backend.index
    try:
        with TestClient(app) as client:
            assert index.client.indices.exists_alias(name=alias)
            deadline = time.monotonic() + 20
            while True:  # the in-process indexer drains after it starts, in the background
                index.refresh()
                body = search(client, token(Role.INVESTIGATOR), VAN).json()
                if body["total"] or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            assert [h["id"] for h in body["hits"]] == [nid]
    finally:
        index.client.indices.delete(index=f"{alias}-*", ignore_unavailable=True, allow_no_indices=True)


# ------------------------------------------------------------------ F1: a restricted record elsewhere is not
# probeable


@pytest.fixture(params=["sql", "elasticsearch"])
def either_backend(
    request: pytest.FixtureRequest, store: Store, settings: Settings
) -> Iterator[tuple[TestClient, Callable[[], None]]]:
    """An API client on the embedded backend or on Elasticsearch (the real node), and a `settle()` that makes
    the index catch up with every committed change (a no-op for the embedded backend)."""
    if request.param == "sql":
        with TestClient(build_app(settings, store)) as c:
            yield c, lambda: None
        return
    es_node = request.getfixturevalue("es_node")
    alias = f"t-{uuid.uuid4().hex[:12]}"
    app = build_app(
        settings.model_copy(update={"elasticsearch_url": es_node.url, "search_alias": alias}), store
    )
    try:
        with TestClient(app) as c:
            index = app.state.search_backend.index

            def settle() -> None:
                # The app's own indexer drains the outbox too: on PostgreSQL it holds the rows it is writing
                # (FOR UPDATE SKIP LOCKED), so this drain may skip them. Settled means no row is left pending.
                deadline = time.monotonic() + 30
                while True:
                    idx.drain_all(store, index)
                    if idx.outbox_status(store)["pending"] == 0:
                        break
                    assert time.monotonic() < deadline, "the outbox did not drain"
                    time.sleep(0.05)
                index.refresh()

            yield c, settle
    finally:
        app.state.search_backend.index.client.indices.delete(
            index=f"{alias}-*", ignore_unavailable=True, allow_no_indices=True
        )


def _group(*criteria: dict, op: str = "and") -> dict:  # type: ignore[type-arg]
    return {"type": "group", "op": op, "criteria": list(criteria)}


PROBES = [
    _group({"type": "mark", "text": "rose"}),  # only the restricted record's tattoo says "rose"
    _group({"type": "mark", "kind": "tattoo"}),
    _group({"type": "mark", "text": "rose"}, {"type": "name", "value": "Hartley"}, op="or"),
    _group(_group({"type": "mark", "text": "rose"}, op="not"), {"type": "person", "gender": "male"}),
    _group({"type": "name", "value": "Abbott"}),  # the restricted record's surname
    _group({"type": "vehicle", "vrm": "KX63*"}),
    _group({"type": "management", "area": "kent"}),
    _group({"type": "person", "gender": "male"}),
    _group({"type": "age", "min": 18, "max": 99, "at": "2026-01-01"}),
]


def test_a_restricted_record_elsewhere_changes_nothing_another_area_observes(
    either_backend, token: Minter
) -> None:  # type: ignore[no-untyped-def]
    """Hits, totals, facets, order and "why matched" seen from outside the owning area are the same whether
    the restricted record exists or not, and whatever its hidden fields hold: no yes/no oracle, no count, no
    sort position."""
    client, settle = either_backend
    om, essex_om = token(), token(area="essex")
    open_id, etag = create(client, om)  # Daniel Hartley, kent, open
    add(
        client,
        om,
        open_id,
        "marks",
        {"kind": "tattoo", "location": "left_forearm", "description": "anchor"},
        etag,
    )
    create(
        client,
        essex_om,
        area="essex",
        identity={"forenames": "Paul", "surname": "Zeller", "date_of_birth": "1970-02-02", "gender": "male"},
    )
    essex, kent = token(Role.INVESTIGATOR, area="essex"), token(Role.INVESTIGATOR)

    def observe(who: str) -> list[dict]:  # type: ignore[type-arg]
        settle()
        out = []
        for probe in PROBES:
            for sort in ("relevance", "surname"):
                r = search(client, who, {"query": probe, "sort": sort, "limit": 100})
                assert r.status_code == 200, r.text
                out.append(r.json())
        return out

    without = observe(essex)
    hidden_id, etag = create(
        client,
        om,
        restricted=True,
        mappa_level=3,
        identity={"forenames": "Aaron", "surname": "Abbott", "date_of_birth": "1990-05-29", "gender": "male"},
    )
    bare = observe(essex)
    for section, item in (
        ("marks", {"kind": "tattoo", "location": "right_forearm", "description": "rose with dagger"}),
        ("vehicles", {"vrm": "KX63 ABC", "colour": "silver"}),
    ):
        _, etag = add(client, om, hidden_id, section, item, etag)
    full = observe(essex)
    assert without == bare == full
    assert hidden_id not in json.dumps(full)
    # not vacuous: in its own area the same probes find the restricted record, and change the answers
    own = observe(kent)
    assert sum(hidden_id in [h["id"] for h in body["hits"]] for body in own) >= 10
    assert search(client, kent, {"query": PROBES[0]}).json()["total"] == 1


# ------------------------------------------------------------------ F11: every page reachable, no input gives
# a 5xx


def test_the_api_pages_by_limit_and_cursor_alone_and_names_the_field_it_does_not_know(
    either_backend, token: Minter
) -> None:  # type: ignore[no-untyped-def]
    client, settle = either_backend
    create(client, token())
    settle()
    investigator = token(Role.INVESTIGATOR)
    everyone = {"query": _group({"type": "management", "area": "kent"})}
    # page numbers are the web pages' (in the result window); the API has one convention: limit, cursor, next
    for old in ({"page": 2}, {"page_size": 10}, {"page": 101, "page_size": 100}):
        r = search(client, investigator, {**everyone, **old})
        assert r.status_code == 422, (old, r.status_code, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert {(e["field"], e["rule"]) for e in r.json()["errors"]} == {
            (f"body.{name}", "extra_forbidden") for name in old
        }, r.text
    for limit in (0, 101):
        r = search(client, investigator, {**everyone, "limit": limit})
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.limit", r.text
    one = search(client, investigator, {**everyone, "limit": 1}).json()
    assert len(one["hits"]) == 1 and one["total"] >= 1
    assert set(one) == {"total", "backend", "hits", "facets", "next"}


def test_a_cursor_reaches_every_page_in_order(either_backend, token: Minter) -> None:  # type: ignore[no-untyped-def]
    client, settle = either_backend
    om = token()
    surnames = ["Hartley", "Abbott", "Zeller", "Moss", "Hartley", "Baker", "Moss"]
    for i, surname in enumerate(surnames):
        nid, etag = create(
            client,
            om,
            identity={
                "forenames": "Sam",
                "surname": surname,
                "date_of_birth": f"198{i}-01-01",
                "gender": "male",
            },
        )
        if i % 2:
            add(
                client,
                om,
                nid,
                "marks",
                {"kind": "tattoo", "location": "left_forearm", "description": "anchor"},
                etag,
            )
    settle()
    investigator = token(Role.INVESTIGATOR)
    query = _group({"type": "management", "area": "kent"}, {"type": "mark", "kind": "tattoo"}, op="or")
    for sort in ("relevance", "surname"):
        whole = search(client, investigator, {"query": query, "sort": sort, "limit": 100}).json()
        assert whole["total"] == len(surnames) and whole["next"] is None
        walked, cursor, pages = [], None, 0
        while True:
            body = {"query": query, "sort": sort, "limit": 2} | ({"cursor": cursor} if cursor else {})
            r = search(client, investigator, body)
            assert r.status_code == 200, r.text
            page = r.json()
            assert page["total"] == len(surnames) and page["facets"] == whole["facets"]
            walked += page["hits"]
            pages += 1
            cursor = page["next"]
            if cursor is None:
                break
            # opaque: no surname, no id, not even base64-decoded (the cursor is sealed)
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).lower()
            assert not any(n.lower().encode() in raw for n in surnames)
            assert not any(h["id"].encode() in raw for h in page["hits"])
        assert pages == 4 and walked == whole["hits"]
    if True:  # a cursor is for the query and sort it came from, and is not an input to forge
        first = search(client, investigator, {"query": query, "sort": "surname", "limit": 2}).json()
        for bad in (
            {"cursor": "not-a-cursor"},
            {"cursor": first["next"], "sort": "relevance"},
            {"cursor": first["next"], "include_archived": True},
            {"cursor": first["next"][:-4] + "AAAA"},
        ):
            r = search(client, investigator, {"query": query, "sort": "surname", "limit": 2} | bad)
            assert r.status_code == 422, (bad, r.text)
            error = r.json()["errors"][0]
            assert (error["field"], error["rule"]) in (
                ("body.cursor", "pattern_mismatch"),  # not even base64url
                ("body.cursor", "cursor_mismatch"),
                ("body.cursor", "cursor_invalid"),
            ), r.text


def test_a_malformed_query_names_each_criterion_by_its_position_and_type_as_sent(
    client: TestClient, token: Minter
) -> None:
    """Not the tagged union's internals (`query.criteria.3.vehicle.vrm`): the position and the type as sent,
    the field within it, the rule, and a message a person can read."""
    investigator = token(Role.INVESTIGATOR)
    body = {
        "query": _group(
            {"type": "name", "value": "Hartley"},
            {"type": "age", "min": 30, "max": 20},
            {"type": "group", "op": "or", "criteria": [{"type": "name", "value": "Smith", "mode": "sounds"}]},
            {"type": "vehicle", "vrm": "!!"},
            {"type": "vehicel", "vrm": "GK19"},
            {"vrm": "GK19"},
            "GK19",
            {"type": "date_of_birth"},
            {"type": "text", "text": " -- "},
            {"type": "text", "text": "school gate", "sources": ["diary"]},
        )
    }
    r = search(client, investigator, body)
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    errors = [(e["field"], e["rule"], e["message"]) for e in r.json()["errors"]]
    kinds = (
        "name, date_of_birth, age, person, mark, identifier, address, vehicle, contact, offence, employment, "
        "text, "
    )
    assert errors == [
        ("body.query.criteria.1.max", "range_in_order", "criteria[1] (age): max: max must not be below min"),
        (
            "body.query.criteria.2.criteria.0.mode",
            "literal_error",
            "criteria[2] (group) > criteria[0] (name): mode: "
            "Input should be 'exact', 'fuzzy', 'phonetic' or 'nickname'",
        ),
        (
            "body.query.criteria.3.vrm",
            "vrm_pattern",
            "criteria[3] (vehicle): vrm: a registration pattern needs at least one letter or digit",
        ),
        (
            "body.query.criteria.4.type",
            "criterion_type",
            f"criteria[4] (vehicel): type: no criterion has this type; it is one of {kinds}"
            "management or group",
        ),
        (
            "body.query.criteria.5.type",
            "criterion_type",
            f"criteria[5]: type: every criterion has a type: one of {kinds}management or group",
        ),
        (
            "body.query.criteria.6",
            "model_attributes_type",
            "criteria[6]: a criterion is an object with a `type`",
        ),
        (
            "body.query.criteria.7.exact",
            "dob_one_form",
            "criteria[7] (date_of_birth): exact: "
            "give exactly one of: exact, a range (date_from/date_to), or year",
        ),
        (
            "body.query.criteria.8.text",
            "text_words",
            "criteria[8] (text): text: free text must contain a letter or a digit",
        ),
        (
            "body.query.criteria.9.sources.0",
            "literal_error",
            "criteria[9] (text): sources.0: Input should be 'chronology', 'intelligence', 'risk', 'plans', "
            "'modus_operandi', 'marks' or 'employment'",
        ),
    ], r.text
    assert "vehicle.vrm" not in r.text and "group.criteria" not in r.text
    # problems outside the criteria are named as before
    r = search(client, investigator, {"query": {"type": "group", "criteria": []}, "limit": 0})
    assert {(e["field"], e["rule"]) for e in r.json()["errors"]} == {
        ("body.query.criteria", "too_short"),
        ("body.limit", "greater_than_equal"),
    }, r.text


WEIRD = [
    {
        "query": _group(
            *[
                _group(*[{"type": "name", "value": f"n{i}x{j}", "mode": "fuzzy"} for j in range(50)])
                for i in range(50)
            ]
        )
    },
    {
        "query": {
            "type": "group",
            "criteria": [{"type": "name", "value": " ".join(["abcdefgh"] * 22), "mode": "fuzzy"}],
        }
    },
    {
        "query": {
            "type": "group",
            "criteria": [{"type": "name", "value": " ".join(["bob"] * 60), "mode": "nickname"}],
        }
    },
    {"query": {"type": "group", "criteria": [{"type": "vehicle", "vrm": "?*" * 10}]}},
    {"query": {"type": "group", "criteria": [{"type": "contact", "value": "*?\\" * 30, "partial": True}]}},
    {"query": {"type": "group", "criteria": [{"type": "employment", "text": '\\/"*~^:!(){}[]'}]}},
    {"query": {"type": "group", "criteria": [{"type": "age", "min": 0, "max": 120, "at": "0001-01-01"}]}},
    {"query": {"type": "group", "criteria": [{"type": "age", "min": 120, "max": 120, "at": "9999-12-31"}]}},
    {
        "query": {
            "type": "group",
            "criteria": [{"type": "date_of_birth", "exact": "9999-12-31", "transposed": True}],
        }
    },
    {
        "query": {
            "type": "group",
            "criteria": [{"type": "offence", "date_from": "9999-12-31", "date_to": "0001-01-01"}],
        }
    },
    {
        "query": {
            "type": "group",
            "criteria": [{"type": "address", "since": "9999-12-31", "until": "0001-01-01"}],
        }
    },
    {
        "query": _group(
            *[
                _group(*[{"type": "name", "value": " ".join(["bob"] * 60), "mode": mode}] * 50)
                for mode in ("nickname", "fuzzy")
            ]
        )
    },
    {
        "query": _group(
            *[
                {"type": "name", "value": " ".join(f"w{i}x{j}" for j in range(40)), "mode": "fuzzy"}
                for i in range(100)
            ],
            op="or",
        )
    },
    {"query": _group({"type": "person"}), "limit": 100, "sort": "surname"},
]


def _deep(depth: int) -> dict:  # type: ignore[type-arg]
    q: dict = {"type": "person", "gender": "male"}  # type: ignore[type-arg]
    for _ in range(depth):
        q = {"type": "group", "op": "not", "criteria": [q]}
    return {"query": q if q["type"] == "group" else _group(q)}


def test_no_input_to_search_gives_a_server_error(either_backend, token: Minter) -> None:  # type: ignore[no-untyped-def]
    client, settle = either_backend
    create(client, token())
    settle()
    investigator = token(Role.INVESTIGATOR)
    for body in WEIRD + [_deep(n) for n in (3, 30, 40, 200)]:
        r = search(client, investigator, body)
        assert r.status_code < 500, (json.dumps(body)[:200], r.status_code, r.text[:300])
        if r.status_code != 200:
            assert r.headers["content-type"].startswith("application/problem+json") and r.json()["errors"], (
                r.text
            )


def test_a_lagging_index_shows_no_stub_and_no_cursor_after_one(
    app, client: TestClient, token: Minter
) -> None:  # type: ignore[no-untyped-def]
    """An index that has not caught up with a record becoming restricted may still return it: the service
    leaves it out, and the cursor resumes after the last hit shown, so not even its sort key (its surname)
    reaches the searcher."""
    import base64

    from register.search.backend import Hit, Results
    from register.search.cursor import Cursors
    from register.search.query import SearchRequest

    om = token()
    open_id, _ = create(client, om)
    secret_id, _ = create(
        client,
        om,
        restricted=True,
        identity={"forenames": "Aaron", "surname": "Abbott", "date_of_birth": "1990-05-29", "gender": "male"},
    )

    class Lagging:
        def search(self, request, today, viewer):  # type: ignore[no-untyped-def]
            return Results(
                total=2,
                more=True,
                facets={"area": {"kent": 2}},
                hits=[
                    Hit(uuid.UUID(open_id), 1.0, [], ["hartley", open_id]),
                    Hit(uuid.UUID(secret_id), 1.0, [], ["abbott", secret_id]),
                ],
            )

    app.state.search_backend = Lagging()
    body = search(client, token(Role.INVESTIGATOR, area="essex"), {**VAN, "sort": "surname"}).json()
    assert [h["id"] for h in body["hits"]] == [open_id]
    cursor = body["next"]
    assert secret_id not in json.dumps(body)
    # the cursor is sealed: opened with the register's key it resumes after the last hit shown
    opened = Cursors(app.state.store.keys.blind_root.material).open(
        SearchRequest.model_validate({**VAN, "sort": "surname", "cursor": cursor})
    )
    assert opened.after() == ["hartley", open_id]
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    assert b"hartley" not in raw.lower() and open_id.encode() not in raw


def test_what_elasticsearch_refuses_is_a_422_and_an_unreachable_engine_a_503(
    app, client: TestClient, token: Minter
) -> None:  # type: ignore[no-untyped-def]
    from elastic_transport import ApiResponseMeta, ConnectionError, HttpHeaders, NodeConfig
    from elasticsearch import BadRequestError

    from register.search.elastic import ElasticBackend

    meta = ApiResponseMeta(
        status=400,
        http_version="1.1",
        headers=HttpHeaders(),
        duration=0.0,
        node=NodeConfig("http", "localhost", 9200),
    )
    failures = iter(
        [
            BadRequestError(
                "search_phase_execution_exception",
                meta,
                {"error": {"root_cause": [{"reason": "too many clauses"}]}},
            ),
            ConnectionError("refused"),
        ]
    )

    class Client:
        def search(self, **kwargs):  # type: ignore[no-untyped-def]
            raise next(failures)

    class Index:
        client, spec = Client(), type("Spec", (), {"alias": "nominals"})()

    app.state.search_backend = ElasticBackend(Index())  # type: ignore[arg-type]
    investigator = token(Role.INVESTIGATOR)
    refused = search(client, investigator, VAN)
    assert refused.status_code == 422 and refused.json()["rule"] == "query_too_costly"
    assert (
        refused.json()["errors"][0]["field"] == "body.query"
        and "too many clauses" in refused.json()["detail"]
    )
    down = search(client, investigator, VAN)
    assert down.status_code == 503 and down.json()["rule"] == "search_unavailable"
