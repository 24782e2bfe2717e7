"""Retention: archiving schedules review and disposal per reason; `register retention run` erases on schedule
and never under a legal hold; erasing one item needs a supervisor and the item's id repeated; all of it
audited."""

from __future__ import annotations

import datetime as dt
import json
import uuid

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from register.domain.actors import SystemActor
from register.domain.enums import Role
from register.domain.notification import add_months
from register.retention import service as retention
from register.store import models as m
from register.store.store import Store
from tests.api.helpers import PERSON, Minter, add, auth, create

TODAY = dt.date.today()
RECENTLY = (
    TODAY - dt.timedelta(days=60)
).isoformat()  # a caution's two years of notification are still running


def archive(client: TestClient, sup: str, nid: str, etag: str, reason: str) -> str:
    r = client.post(
        f"/v1/nominals/{nid}/archive", json={"reason": reason}, headers=auth(sup, **{"If-Match": etag})
    )
    assert r.status_code == 200, r.text
    return r.headers["etag"]


def rows_of(store: Store, nid: str) -> dict[str, int]:
    key = uuid.UUID(nid)
    with store.session_factory() as s:
        return {
            table.__tablename__: s.execute(
                select(func.count()).select_from(table).where(table.nominal_id == key)
            ).scalar_one()
            for table in (m.Item, m.ChronologyEntry, m.BlindToken, m.Transfer)
        }


def test_disposal_runs_on_schedule_and_never_under_a_legal_hold(
    client: TestClient, token: Minter, store: Store
) -> None:
    om, sup = token(), token(Role.SUPERVISOR)
    kept, held = {}, {}
    for bucket, surname in ((kept, "Hartley"), (held, "Okonjo")):
        nid, etag = create(client, om, identity={**PERSON["identity"], "surname": surname})
        _, etag = add(client, om, nid, "vehicles", {"vrm": "GK19 XBW"}, etag)
        bucket.update(id=nid, etag=archive(client, sup, nid, etag, "died"))
    status = client.get(f"/v1/nominals/{kept['id']}/retention", headers=auth(sup)).json()
    # the schedule runs from the day of archiving (which, in a run that crosses midnight, is not the day it
    # started)
    archived_on = dt.date.fromisoformat(status["archived_on"])
    assert archived_on in (TODAY, TODAY + dt.timedelta(days=1))
    assert (
        status["review_on"] == add_months(archived_on, 24).isoformat()
        and status["dispose_on"] == add_months(archived_on, 84).isoformat()
    )
    r = client.post(
        f"/v1/nominals/{held['id']}/legal_hold",
        json={"reason": "Operation NIGHTJAR"},
        headers=auth(om, **{"If-Match": held["etag"]}),
    )
    assert r.status_code == 403  # supervisors only
    r = client.post(
        f"/v1/nominals/{held['id']}/legal_hold",
        json={"reason": "Operation NIGHTJAR"},
        headers=auth(sup, **{"If-Match": held["etag"]}),
    )
    assert r.status_code == 200, r.text
    held["etag"] = r.headers["etag"]
    assert client.get(f"/v1/nominals/{held['id']}/retention", headers=auth(sup)).json()["legal_hold"] is True

    day_before = retention.run(
        store, SystemActor("retention"), today=add_months(archived_on, 84) - dt.timedelta(days=1)
    )
    assert day_before.due == [] and day_before.erased == 0
    dry = retention.run(store, SystemActor("retention"), today=add_months(archived_on, 84), dry_run=True)
    assert [str(i) for i in dry.due] == [kept["id"]] and dry.erased == 0
    assert client.get(f"/v1/nominals/{kept['id']}", headers=auth(sup)).status_code == 200
    report = retention.run(store, SystemActor("retention"), today=add_months(archived_on, 84))
    assert [str(i) for i in report.due] == [kept["id"]] and report.erased == 1

    gone = client.get(f"/v1/nominals/{kept['id']}", headers=auth(sup))
    assert gone.status_code == 410 and gone.json()["rule"] == "record_erased"
    assert rows_of(store, kept["id"]) == {"item": 0, "chronology_entry": 0, "blind_token": 0, "transfer": 0}
    with store.session_factory() as s:
        tomb = s.get(m.Nominal, uuid.UUID(kept["id"]))
        assert (
            tomb.status == "erased"
            and tomb.identity_sealed == b""
            and tomb.area == "kent"
            and tomb.archived_reason == "died"
        )
    assert (
        client.get(f"/v1/nominals/{held['id']}", headers=auth(sup)).json()["status"] == "archived"
    )  # the hold stood
    search = client.post(
        "/v1/search",
        params={"purpose": "OP-1"},
        headers=auth(om),
        json={
            "query": {"type": "group", "criteria": [{"type": "vehicle", "vrm": "GK19XBW"}]},
            "include_archived": True,
        },
    ).json()
    assert [h["id"] for h in search["hits"]] == [held["id"]]

    r = client.post(
        f"/v1/nominals/{held['id']}/legal_hold/release",
        json={"reason": "proceedings concluded"},
        headers=auth(sup, **{"If-Match": held["etag"]}),
    )
    assert r.status_code == 200
    assert retention.run(store, SystemActor("retention"), today=add_months(archived_on, 84)).erased == 1
    auditor = token(Role.AUDITOR)
    for nid in (kept["id"], held["id"]):
        events = client.get("/v1/audit/events", params={"nominal_id": nid}, headers=auth(auditor)).json()[
            "events"
        ]
        assert [(e["action"], e["tag"]) for e in events if e["action"] == "erasure"] == [
            ("erasure", "nominal:record:erase")
        ]


def test_age_rule_keeps_only_the_year_plain_and_erases_on_the_birthday(
    client: TestClient, token: Minter, store: Store
) -> None:
    om, sup = token(), token(Role.SUPERVISOR)
    nid, etag = create(client, om)  # born 1984-03-17
    archive(client, sup, nid, etag, "eligibility_ended")
    assert client.get(f"/v1/nominals/{nid}/retention", headers=auth(sup)).json()["dispose_on"] == "2084-03-17"
    with store.session_factory() as s:
        assert s.get(m.Nominal, uuid.UUID(nid)).dispose_from == dt.date(
            2084, 1, 1
        )  # the date of birth stays sealed
    early = retention.run(store, SystemActor("retention"), today=dt.date(2084, 3, 16))
    assert early.candidates == 1 and early.due == []
    assert retention.run(store, SystemActor("retention"), today=dt.date(2084, 3, 17)).erased == 1


def test_erasing_a_survivor_erases_the_tombstones_merged_into_it(
    client: TestClient, token: Minter, store: Store
) -> None:
    om, sup = token(), token(Role.SUPERVISOR)
    a, ea = create(client, om)
    b, eb = create(client, om)
    r = client.post(
        f"/v1/nominals/{a}/merges",
        json={"merged_id": b, "merged_version": int(eb.strip('"'))},
        headers=auth(sup, **{"If-Match": ea}),
    )
    assert r.status_code == 201
    archive(client, sup, a, r.headers["etag"], "died")
    assert retention.run(store, SystemActor("retention"), today=add_months(TODAY, 85)).erased == 2
    assert client.get(f"/v1/nominals/{b}", headers=auth(sup)).status_code == 410
    with store.session_factory() as s:
        version = s.get(m.Nominal, uuid.UUID(a)).version
    undo = client.post(
        f"/v1/nominals/{a}/merges/{r.json()['id']}/unmerge",
        json={"reason": "too late"},
        headers=auth(sup, **{"If-Match": f'"{version}"'}),
    )
    assert undo.status_code == 409 and undo.json()["rule"] == "record_erased"  # nothing erased comes back


def test_erasing_one_item_needs_a_supervisor_and_its_id_repeated(
    client: TestClient, token: Minter, store: Store
) -> None:
    om, sup = token(), token(Role.SUPERVISOR)
    nid, etag = create(client, om)
    item, etag = add(client, om, nid, "vehicles", {"vrm": "GK19 XBW"}, etag)
    body = {"reason": "entered on the wrong person", "confirm": item}
    assert (
        client.post(
            f"/v1/nominals/{nid}/items/{item}/erase", json=body, headers=auth(om, **{"If-Match": etag})
        ).status_code
        == 403
    )
    wrong = client.post(
        f"/v1/nominals/{nid}/items/{item}/erase",
        json={**body, "confirm": str(uuid.uuid4())},
        headers=auth(sup, **{"If-Match": etag}),
    )
    assert wrong.status_code == 422 and wrong.json()["errors"][0] == {
        "field": "confirm",
        "rule": "erasure_confirmation",
        "message": "confirm must repeat the id of the item to erase: erasure cannot be undone",
    }
    assert (
        client.get(f"/v1/nominals/{nid}/vehicles", headers=auth(om)).json()["items"][0]["id"] == item
    )  # nothing lost
    r = client.post(
        f"/v1/nominals/{nid}/items/{item}/erase", json=body, headers=auth(sup, **{"If-Match": etag})
    )
    assert r.status_code == 200, r.text
    assert client.get(f"/v1/nominals/{nid}/vehicles", headers=auth(om)).json()["items"] == []
    with store.session_factory() as s:
        assert (
            s.execute(
                select(func.count()).select_from(m.BlindToken).where(m.BlindToken.item_id == uuid.UUID(item))
            ).scalar_one()
            == 0
        )
    events = client.get(
        "/v1/audit/events", params={"nominal_id": nid}, headers=auth(token(Role.AUDITOR))
    ).json()["events"]
    erasure = [e for e in events if e["tag"] == "nominal:vehicles:erase"]
    assert (
        len(erasure) == 1
        and erasure[0]["item_id"] == item
        and json.loads(erasure[0]["details"])["confirmed"] is True
    )
    assert (
        client.get(f"/v1/nominals/{nid}", headers=auth(om)).json()["chronology"][-1]["data"]["summary"]
        == "An item of vehicles was erased"
    )


def test_erasing_an_offence_recomputes_the_notification_dates(
    client: TestClient, token: Minter, store: Store
) -> None:
    om, sup = token(), token(Role.SUPERVISOR)
    nid, etag = create(client, om)
    offence, etag = add(
        client,
        om,
        nid,
        "offences",
        {"offence": "Exposure", "conviction_date": RECENTLY, "sexual": True, "disposal": {"kind": "caution"}},
        etag,
    )
    with store.session_factory() as s:
        assert s.get(m.Nominal, uuid.UUID(nid)).notification_subject is True
    r = client.post(
        f"/v1/nominals/{nid}/items/{offence}/erase",
        json={"reason": "entered on the wrong person", "confirm": offence},
        headers=auth(sup, **{"If-Match": etag}),
    )
    assert r.status_code == 200, r.text
    assert client.get(f"/v1/nominals/{nid}", headers=auth(om)).json()["notification"]["subject"] is False
    with store.session_factory() as s:  # the plain columns the checks and statistics read follow too
        assert s.get(m.Nominal, uuid.UUID(nid)).notification_subject is False
