"""Searching through the API: a purpose always, stubs for restricted records elsewhere, nothing hidden matchable,
and every search and export in the audit log with its criteria and the ids it returned."""

from __future__ import annotations

import json
import time
import uuid

from fastapi.testclient import TestClient
from sqlalchemy import select

from register.api.app import build_app
from register.bootstrap import Store
from register.config import Settings
from register.domain.enums import Role
from register.store import models as m
from tests.api.conftest import Minter, auth
from tests.api.test_records_api import POLICE_ONLY, add, create

VAN = {"query": {"type": "group", "criteria": [{"type": "vehicle", "vrm": "GK19*"}]}}


def search(client: TestClient, token: str, body: dict, purpose: str | None = "OP-HERON-23", path: str = "/v1/search"):  # type: ignore[no-untyped-def,type-arg]
    return client.post(path, json=body, params={"purpose": purpose} if purpose else {}, headers=auth(token))


def events(store: Store, tag: str) -> list[dict]:  # type: ignore[type-arg]
    with store.session_factory() as s:
        rows = s.execute(select(m.AuditEvent.purpose, m.AuditEvent.action, m.AuditEvent.details, m.AuditEvent.actor_user)
                         .where(m.AuditEvent.tag == tag).order_by(m.AuditEvent.seq)).all()
    return [{"purpose": r.purpose, "action": r.action, "actor": r.actor_user, **json.loads(r.details)} for r in rows]


def test_search_needs_a_purpose_and_is_audited_with_criteria_and_ids(client: TestClient, token: Minter, store: Store) -> None:
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
    assert body["hits"][0]["surname"] == "Hartley" and body["hits"][0]["matched"] == ["0:vehicle (vehicle GK19XBW)"]
    [event] = events(store, "search:query:run")
    assert event["purpose"] == "OP-HERON-23" and event["action"] == "consultation" and event["ids"] == [nid]
    assert event["criteria"]["query"]["criteria"][0]["vrm"] == "GK19*"
    assert search(client, token(Role.AUDITOR), VAN).status_code == 403


def test_restricted_records_are_stubs_in_other_areas_results(client: TestClient, token: Minter, store: Store) -> None:
    om = token()
    nid, etag = create(client, om, restricted=True)
    add(client, om, nid, "vehicles", {"vrm": "GK19 XBW"}, etag)
    [own] = search(client, token(Role.INVESTIGATOR), VAN).json()["hits"]
    assert own["surname"] == "Hartley" and own["restricted"] is False
    [other] = search(client, token(Role.INVESTIGATOR, area="essex"), VAN).json()["hits"]
    assert other == {"id": nid, "score": 1.0, "restricted": True, "owning_area": "kent", "matched": [],
                     "message": "restricted record: contact the owning area", "forenames": None, "surname": None, "date_of_birth": None,
                     "status": None, "nominal_type": None, "mappa_category": None, "mappa_level": None}
    assert events(store, "search:query:run")[-1]["stubs"] == [nid]


def test_words_in_police_only_intelligence_match_nothing_for_anyone(client: TestClient, token: Minter) -> None:
    police = token()
    nid, etag = create(client, police)
    add(client, police, nid, "intelligence", POLICE_ONLY, etag)  # "frequents the Mote Park bandstand after dark"
    probes = [{"type": "mark", "text": "bandstand"}, {"type": "offence", "modus_operandi": "bandstand"},
              {"type": "offence", "text": "bandstand"}, {"type": "employment", "text": "bandstand"}]
    for probe in probes:
        for who in (police, token(agency="probation")):
            body = search(client, who, {"query": {"type": "group", "criteria": [probe]}}).json()
            assert body["total"] == 0 and body["hits"] == []
    everyone = {"query": {"type": "group", "criteria": [{"type": "management", "area": "kent"}]}}
    assert search(client, police, everyone).json()["total"] == search(client, token(agency="probation"), everyone).json()["total"] == 1


def test_export_is_a_disclosure_in_the_audit_log(client: TestClient, token: Minter, store: Store) -> None:
    om = token()
    nid, etag = create(client, om)
    add(client, om, nid, "vehicles", {"vrm": "GK19 XBW"}, etag)
    r = search(client, token(Role.INVESTIGATOR), VAN, path="/v1/search/export")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    lines = r.text.strip().splitlines()
    assert lines[0] == "id,surname,forenames,date_of_birth,owning_area,restricted,matched" and lines[1].startswith(f"{nid},Hartley,Daniel")
    [event] = events(store, "search:results:export")
    assert event["action"] == "disclosure" and event["ids"] == [nid]


def test_archived_records_only_when_asked(client: TestClient, token: Minter, store: Store) -> None:
    om = token()
    nid, etag = create(client, om)
    add(client, om, nid, "vehicles", {"vrm": "GK19 XBW"}, etag)
    with store.unit_of_work() as uow:
        uow.session.execute(m.Nominal.__table__.update().where(m.Nominal.id == uuid.UUID(nid)).values(status="archived"))
        uow.commit()
    assert search(client, om, VAN).json()["total"] == 0
    assert search(client, om, {**VAN, "include_archived": True}).json()["hits"][0]["status"] == "archived"


def test_through_elasticsearch_with_the_in_process_indexer(store: Store, settings: Settings, token: Minter, es_node) -> None:  # type: ignore[no-untyped-def]
    alias = f"t-{uuid.uuid4().hex[:12]}"
    app = build_app(settings.model_copy(update={"elasticsearch_url": es_node.url, "search_alias": alias}), store)
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
        app.state.search_backend.index.client.indices.delete(index=f"{alias}-*", ignore_unavailable=True, allow_no_indices=True)
