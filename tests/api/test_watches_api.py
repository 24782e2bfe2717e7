"""The watched-searches API (saved_searches/routes.py): watch a saved search of the operation until a date,
read the new matches (ids, audited), mark them seen, end the watch; bad input named;
another's watch: 404."""

from __future__ import annotations

import datetime as dt
import json
import uuid

from fastapi.testclient import TestClient
from sqlalchemy import select

from register.access.policy import Policy
from register.domain.actors import Principal
from register.domain.enums import Agency, Area, Role
from register.saved_searches import service
from register.saved_searches.schemas import NewSavedSearch
from register.search.query import SearchRequest
from register.search.sql import SqlBackend
from register.store import models as m
from register.store.store import Store
from tests.api.helpers import Minter, auth, create

OPERATION = "OP-KESTREL-4"
WATCHER = Principal("kent.inv9", Agency.POLICE, Area.KENT, frozenset({Role.INVESTIGATOR}), "DC Nine")


def _save(store: Store) -> uuid.UUID:
    request = SearchRequest.model_validate(
        {"query": {"type": "group", "criteria": [{"type": "name", "value": "Hartley"}]}}
    )
    with store.unit_of_work(for_caller=True) as uow:
        return service.save(
            uow,
            WATCHER,
            Policy.load(store.settings.policy_file),
            NewSavedSearch(name="Hartleys", request=request),
            operation=OPERATION,
        )


def test_watch_read_new_matches_mark_seen_and_end_through_the_api(
    client: TestClient, token: Minter, store: Store
) -> None:
    saved = _save(store)
    mine = auth(token(Role.INVESTIGATOR, user=WATCHER.user_id), **{"X-Purpose": OPERATION})
    until = (dt.date.today() + dt.timedelta(days=30)).isoformat()

    too_far = (dt.date.today() + dt.timedelta(days=91)).isoformat()
    r = client.put(f"/v1/watches/{saved}", json={"until": too_far}, headers=mine)
    assert r.status_code == 422 and r.json()["rule"] == "watch_until", r.text
    r = client.put(f"/v1/watches/{saved}", json={"until": "not a date"}, headers=mine)
    assert r.status_code == 422 and "until" in r.text
    r = client.put(f"/v1/watches/{saved}", json={"until": until})
    assert r.status_code == 401
    other = auth(token(Role.INVESTIGATOR, user="kent.inv8"), **{"X-Purpose": OPERATION})
    r = client.put(f"/v1/watches/{saved}", json={"until": until}, headers=other)
    assert r.status_code == 404 and r.json()["rule"] == "saved_search_not_found"
    r = client.put(f"/v1/watches/{saved}", json={"until": until}, headers=auth(token(Role.INVESTIGATOR)))
    assert r.status_code == 400 and r.json()["rule"] == "purpose_required"

    r = client.put(f"/v1/watches/{saved}", json={"until": until}, headers=mine)
    assert r.status_code == 200, r.text
    assert r.json()["until"] == until and r.json()["new_matches"] == 0 and not r.json()["ended"]

    om = token()
    nid, _ = create(client, om)  # Daniel Hartley, Kent
    service.run_watches(
        store, Policy.load(store.settings.policy_file), SqlBackend(store), "sql", indexed_only=False
    )

    r = client.get("/v1/watches", headers=mine)
    assert r.status_code == 200 and [(w["name"], w["new_matches"]) for w in r.json()] == [("Hartleys", 1)]
    assert client.get("/v1/watches", headers=other).json() == []
    r = client.get(f"/v1/watches/{saved}/matches", headers=mine)
    assert r.status_code == 200 and r.json()["ids"] == [nid]
    with store.session_factory() as s:
        details = s.scalars(
            select(m.AuditEvent.details).where(m.AuditEvent.tag == "search:watch:matches")
        ).all()
    assert [json.loads(d or "{}")["ids"] for d in details] == [[nid]]

    r = client.post(f"/v1/watches/{saved}/seen", headers=mine)
    assert r.status_code == 200 and r.json()["new_matches"] == 0
    assert client.get(f"/v1/watches/{saved}/matches", headers=mine).json()["ids"] == []

    r = client.delete(f"/v1/watches/{saved}", headers=other)
    assert r.status_code == 404
    r = client.delete(f"/v1/watches/{saved}", headers=mine)
    assert r.status_code == 200 and r.json()["ended"] and not r.json()["expired"]
