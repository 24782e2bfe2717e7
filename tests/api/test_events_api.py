"""The agencies' event feed and webhooks (docs/events.md): events written with the change (and only with it),
the pull feed under the one policy, and deliveries to a real HTTP receiver started here, signed by the
Standard Webhooks scheme, retried, dead-lettered, redelivered and replayed."""

from __future__ import annotations

import datetime as dt
import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from standardwebhooks.webhooks import Webhook

from register.access.policy import Policy
from register.cli import main
from register.config import Settings
from register.domain.actors import Principal, SystemActor
from register.domain.enums import Agency, Area, Role
from register.events import service
from register.nominals.examples import section_examples
from register.store import models as m
from register.store.store import Store
from tests.api.helpers import POLICE_ONLY, Minter, add, auth, create
from tests.factories import create as create_in

ADDRESS = {s.value: p for s, p in section_examples().items()}["addresses"]
TYPE = "uk.gov.mappa.register."


def feed(client: TestClient, token: str, cursor: str | None = None, limit: int = 100) -> dict[str, Any]:
    params: dict[str, Any] = {"limit": limit} | ({"cursor": cursor} if cursor else {})
    r = client.get("/v1/events", params=params, headers=auth(token))
    assert r.status_code == 200, r.text
    return r.json()


def all_events(client: TestClient, token: str) -> list[dict[str, Any]]:
    return feed(client, token)["events"]


def event_count(store: Store) -> int:
    with store.session_factory() as s:
        return s.execute(select(func.count()).select_from(m.RegisterEvent)).scalar_one()


# ------------------------------------------------------------------ events are written with the change


def test_a_change_writes_its_cloudevent_without_personal_data(
    client: TestClient, token: Minter, store: Store
) -> None:
    om, reader = token(), token(Role.READER, Agency.PROBATION)
    nid, etag = create(client, om)
    _, etag = add(client, om, nid, "addresses", ADDRESS, etag)
    created, changed = all_events(client, reader)
    assert created["specversion"] == "1.0" and created["type"] == TYPE + "record.created"
    assert created["source"] == "/register" and created["subject"] == nid
    assert created["data"] == {"record_id": nid, "version": 1, "owning_area": "kent"}
    assert changed["type"] == TYPE + "record.changed"
    assert changed["data"] == {"record_id": nid, "section": "addresses", "version": 2, "owning_area": "kent"}
    uuid.UUID(changed["id"])
    assert dt.datetime.fromisoformat(changed["time"]) <= dt.datetime.now(dt.UTC)
    text = json.dumps([created, changed])
    for personal in ("Hartley", "Daniel", "1984", "Tonbridge", "ME16"):
        assert personal.lower() not in text.lower()


def test_a_refused_stale_or_failed_change_emits_no_event(
    client: TestClient, token: Minter, store: Store
) -> None:
    om = token()
    nid, etag = create(client, om)
    before = event_count(store)
    # refused by the policy (another area's officer), stale (an old If-Match), broken rule (bad body)
    assert (
        client.post(
            f"/v1/nominals/{nid}/addresses",
            json=ADDRESS,
            headers=auth(token(area="essex"), **{"If-Match": etag}),
        ).status_code
        == 403
    )
    _, _ = add(client, om, nid, "addresses", ADDRESS, etag)
    after_one = event_count(store)
    assert after_one == before + 1
    assert (
        client.post(
            f"/v1/nominals/{nid}/addresses", json=ADDRESS, headers=auth(om, **{"If-Match": etag})
        ).status_code
        == 412
    )
    bad = {**ADDRESS, "postcode": "not a postcode"}
    assert (
        client.post(
            f"/v1/nominals/{nid}/addresses", json=bad, headers=auth(om, **{"If-Match": '"2"'})
        ).status_code
        == 422
    )
    assert event_count(store) == after_one
    # a use case that succeeded but whose transaction then failed: its event goes with it
    with pytest.raises(RuntimeError), store.unit_of_work() as uow:
        create_in(uow)
        raise RuntimeError("the transaction fails after the change")
    assert event_count(store) == after_one


# ------------------------------------------------------------------ the pull feed under the one policy


def test_the_feed_shows_only_what_the_caller_may_see_and_the_cursor_walks_it(
    client: TestClient, token: Minter, store: Store
) -> None:
    kent_om, essex_om = token(), token(area="essex")
    kent_probation = token(Role.READER, Agency.PROBATION, Area.KENT)
    kent_police = token(Role.READER, Agency.POLICE, Area.KENT)
    essex_reader = token(Role.READER, Agency.PROBATION, Area.ESSEX)
    kent_id, etag = create(client, kent_om)
    essex_id, _ = create(client, essex_om, area="essex")
    # a police-only intelligence item: an event the probation reader must not see
    _, etag = add(client, kent_om, kent_id, "intelligence", POLICE_ONLY, etag)
    _, etag = add(client, kent_om, kent_id, "addresses", ADDRESS, etag)

    def seen(token_: str) -> list[tuple[str, str, str | None]]:
        return [(e["subject"], e["type"], e["data"].get("section")) for e in all_events(client, token_)]

    created, changed = TYPE + "record.created", TYPE + "record.changed"
    assert seen(kent_police) == [
        (kent_id, created, None),
        (kent_id, changed, "intelligence"),
        (kent_id, changed, "addresses"),
    ]
    assert seen(kent_probation) == [(kent_id, created, None), (kent_id, changed, "addresses")]
    assert seen(essex_reader) == [(essex_id, created, None)]

    # the cursor walks one visible event at a time and ends where the caller is up to date
    first = feed(client, kent_probation, limit=1)
    second = feed(client, kent_probation, first["next"], limit=1)
    end = feed(client, kent_probation, second["next"], limit=1)
    assert [e["data"].get("section") for e in first["events"] + second["events"]] == [None, "addresses"]
    assert end["events"] == []
    # nothing new: the same position back (sealed afresh), and a later event appears after it
    _, etag = add(
        client,
        kent_om,
        kent_id,
        "vehicles",
        {s.value: p for s, p in section_examples().items()}["vehicles"],
        etag,
    )
    assert [e["data"]["section"] for e in feed(client, kent_probation, end["next"])["events"]] == ["vehicles"]

    # a cursor is opaque and sealed: one altered is refused naming the field
    r = client.get("/v1/events", params={"cursor": first["next"][:-2] + "AA"}, headers=auth(kent_probation))
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert "cursor" in r.text
    r = client.get("/v1/events", params={"limit": 0}, headers=auth(kent_probation))
    assert r.status_code == 422 and "limit" in r.text
    # roles without events.read are refused, and the refusal audited
    assert client.get("/v1/events", headers=auth(token(Role.AUDITOR))).status_code == 403

    # each page that discloses events is one audit event listing them
    with store.session_factory() as s:
        rows = s.execute(
            select(m.AuditEvent.actor_user, m.AuditEvent.action, m.AuditEvent.details)
            .where(m.AuditEvent.tag == "events:feed:read")
            .order_by(m.AuditEvent.seq)
        ).all()
    probation = [json.loads(d) for user, action, d in rows if user == "kent.reader.probation"]
    assert all(action == "disclosure" for _, action, _ in rows)
    assert probation[0]["count"] == 2 and probation[0]["records"] == [kent_id]
    assert len(probation[0]["events"]) == 2


def test_a_restricted_record_or_a_hidden_event_changes_nothing_another_caller_observes(
    client: TestClient, token: Minter, store: Store
) -> None:
    """Two registers alike but for events the caller may not see: the caller's pages are the same."""
    kent_om = token()
    essex_reader = token(Role.READER, Agency.PROBATION, Area.ESSEX)
    essex_id, _ = create(client, token(area="essex"), area="essex")
    before = [e["id"] for e in all_events(client, essex_reader)]
    secret_id, etag = create(client, kent_om, restricted=True)
    add(client, kent_om, secret_id, "addresses", ADDRESS, etag)
    assert [e["id"] for e in all_events(client, essex_reader)] == before
    page = feed(client, essex_reader, limit=1)
    assert feed(client, essex_reader, page["next"])["events"] == []
    assert essex_id in {e["subject"] for e in all_events(client, essex_reader)}


def test_a_transfer_concerns_both_areas(client: TestClient, token: Minter, store: Store) -> None:
    kent_om = token()
    essex_reader = token(Role.READER, Agency.PROBATION, Area.ESSEX)
    nid, etag = create(client, kent_om)
    r = client.post(
        f"/v1/nominals/{nid}/transfers",
        json={"to_area": "essex", "reason": "moved to Chelmsford"},
        headers=auth(kent_om, **{"If-Match": etag}),
    )
    assert r.status_code == 201, r.text
    transfer_id = r.json()["id"]
    r = client.post(
        f"/v1/transfers/{transfer_id}/accept",
        json={"managing_unit": "Chelmsford MOSOVO"},
        headers=auth(token(Role.SUPERVISOR, area="essex")),
    )
    assert r.status_code == 200, r.text
    transfers = [e for e in all_events(client, essex_reader) if ".transfer." in e["type"]]
    assert [(e["type"], e["data"]["transfer"], e["data"]["from"], e["data"]["to"]) for e in transfers] == [
        (TYPE + "transfer.requested", transfer_id, "kent", "essex"),
        (TYPE + "transfer.accepted", transfer_id, "kent", "essex"),
    ]
    assert transfers[1]["data"]["owning_area"] == "essex"


# ------------------------------------------------------------------ webhooks, to a real receiver


class Receiver:
    """An HTTP server on a free loopback port that records what it is sent, failing the first `fail` calls."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.fail = 0
        self.calls = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # the standard library names it
                body = self.rfile.read(int(self.headers["content-length"]))
                receiver.calls += 1
                if receiver.fail > 0:
                    receiver.fail -= 1
                    self.send_response(503)
                else:
                    receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, body in self.received]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def subscribe(
    client: TestClient, token: Minter, url: str, area: str, agency: str = "probation"
) -> dict[str, Any]:
    r = client.post(
        "/v1/webhooks/subscriptions",
        json={"url": url, "client_id": f"probation-cms-{area}", "agency": agency, "area": area},
        headers=auth(token(Role.ADMINISTRATOR)),
    )
    assert r.status_code == 201, r.text
    return r.json()


def test_a_subscriber_receives_signed_cloudevents_with_retries_dead_letters_and_replay(
    client: TestClient, token: Minter, store: Store, settings: Settings, receiver: Receiver
) -> None:
    policy = Policy.load(settings.policy_file)
    admin = token(Role.ADMINISTRATOR)
    other = Receiver()
    try:
        sub = subscribe(client, token, receiver.url, "kent")
        essex_sub = subscribe(client, token, other.url, "essex")
        assert sub["secret"].startswith("whsec_") and sub["roles"] == ["reader"]
        listed = client.get("/v1/webhooks/subscriptions", headers=auth(admin)).json()
        assert {s["id"] for s in listed} == {sub["id"], essex_sub["id"]}
        assert all("secret" not in s for s in listed)  # shown once only
        with store.session_factory() as s:
            sealed = s.execute(select(m.WebhookSubscription.secret_sealed)).scalars().all()
        assert all(sub["secret"].encode() not in blob for blob in sealed)

        om = token()
        nid, etag = create(client, om)
        _, etag = add(client, om, nid, "addresses", ADDRESS, etag)
        run = service.deliver(store, policy)
        assert (run.queued, run.delivered) == (2, 2)
        headers, body = receiver.received[0]
        event = json.loads(body)
        assert event["type"] == TYPE + "record.created" and event["subject"] == nid
        assert headers["content-type"] == "application/cloudevents+json"
        assert headers["webhook-id"] == event["id"]
        # the receiver verifies the signature with the secret it was given (Standard Webhooks)
        assert Webhook(sub["secret"]).verify(body, headers) == event
        forged = dict(headers, **{"webhook-signature": "v1,AAAA" + headers["webhook-signature"][7:]})
        with pytest.raises(Exception, match="signature"):
            Webhook(sub["secret"]).verify(body, forged)
        # the subscriber of another area receives nothing about a record it may not see
        assert other.received == []

        # deliveries are audited as disclosures to the subscriber
        with store.session_factory() as s:
            rows = s.execute(
                select(m.AuditEvent.actor_user, m.AuditEvent.details).where(
                    m.AuditEvent.tag == "events:webhook:deliver"
                )
            ).all()
        assert [(u, json.loads(d)["count"]) for u, d in rows] == [("probation-cms-kent", 2)]

        # the receiver fails: retries with backoff (base 30 s doubling), then a dead letter
        receiver.fail = 10
        _, etag = add(
            client, om, nid, "vehicles", {s.value: p for s, p in section_examples().items()}["vehicles"], etag
        )
        backoff = service.Backoff(base=dt.timedelta(seconds=30), max_attempts=3)
        now = dt.datetime.now(dt.UTC)
        waits = []
        for _ in range(3):
            run = service.deliver(store, policy, backoff=backoff, now=now)
            with store.session_factory() as s:
                row = (
                    s.execute(
                        select(m.WebhookDelivery)
                        .where(m.WebhookDelivery.subscription_id == uuid.UUID(sub["id"]))
                        .order_by(m.WebhookDelivery.created_at.desc(), m.WebhookDelivery.attempts)
                    )
                    .scalars()
                    .all()
                )
            pending = [d for d in row if d.status in ("pending", "dead") and d.attempts > 0]
            assert len(pending) == 1
            waits.append((pending[0].status, pending[0].attempts, pending[0].available_at - now))
            now = pending[0].available_at  # the next pass runs when the retry is due
        assert waits[0] == ("pending", 1, dt.timedelta(seconds=30))
        assert waits[1] == ("pending", 2, dt.timedelta(seconds=60))  # after the first wait: doubled
        assert waits[2][:2] == ("dead", 3)
        assert receiver.calls == 2 + 3
        dead = client.get(f"/v1/webhooks/subscriptions/{sub['id']}/dead_letters", headers=auth(admin)).json()
        assert [(d["type"], d["attempts"], d["last_error"]) for d in dead] == [
            (TYPE + "record.changed", 3, "HTTP 503")
        ]
        assert "data" not in dead[0]
        # redelivered once the receiver is back
        receiver.fail = 0
        r = client.post(
            f"/v1/webhooks/subscriptions/{sub['id']}/dead_letters/{dead[0]['delivery_id']}/redeliver",
            headers=auth(admin),
        )
        assert r.status_code == 200, r.text
        run = service.deliver(store, policy, backoff=backoff)
        assert run.delivered == 1
        assert receiver.events()[-1]["id"] == dead[0]["event_id"]
        assert (
            client.get(f"/v1/webhooks/subscriptions/{sub['id']}/dead_letters", headers=auth(admin)).json()
            == []
        )

        # replay from a cursor: the events after the first delivery come again, with the same ids
        cursor = receiver.received[0][0]["register-event-cursor"]
        r = client.post(
            f"/v1/webhooks/subscriptions/{sub['id']}/replay", json={"cursor": cursor}, headers=auth(admin)
        )
        assert r.status_code == 200, r.text
        before = len(receiver.received)
        run = service.deliver(store, policy)
        again = [e["id"] for e in receiver.events()[before:]]
        assert again == [e["id"] for e in receiver.events()[1:3]]
        assert other.received == []

        # unsubscribing: nothing more is queued for it, and its secret's data key is gone
        r = client.delete(f"/v1/webhooks/subscriptions/{sub['id']}", headers=auth(admin))
        assert r.status_code == 200
        assert (
            client.get("/v1/webhooks/subscriptions", headers=auth(admin)).json()[0]["id"] == essex_sub["id"]
        )
    finally:
        other.close()


def test_subscriptions_are_for_administrators_and_for_principals_that_may_read_the_feed(
    client: TestClient, token: Minter
) -> None:
    body = {"url": "https://cms.example/hook", "client_id": "cms", "agency": "probation", "area": "kent"}
    assert (
        client.post("/v1/webhooks/subscriptions", json=body, headers=auth(token(Role.SUPERVISOR))).status_code
        == 403
    )
    admin = token(Role.ADMINISTRATOR)
    r = client.post("/v1/webhooks/subscriptions", json={**body, "roles": ["auditor"]}, headers=auth(admin))
    assert r.status_code == 422 and "roles" in r.text
    r = client.post(
        "/v1/webhooks/subscriptions", json={**body, "url": "http://cms.example/hook"}, headers=auth(admin)
    )
    assert r.status_code == 422 and "url" in r.text
    r = client.get(f"/v1/webhooks/subscriptions/{uuid.uuid4()}/dead_letters", headers=auth(admin))
    assert r.status_code == 404 and "subscription_not_found" in r.text


def test_delivery_is_decided_for_the_subscriber_at_delivery_time(
    client: TestClient, token: Minter, store: Store, settings: Settings, receiver: Receiver
) -> None:
    """Queued while visible, withheld when the record became restricted... here: a police-only item's event
    never reaches a probation subscriber, and a police subscriber of the same area gets it."""
    policy = Policy.load(settings.policy_file)
    police = Receiver()
    try:
        subscribe(client, token, receiver.url, "kent")
        subscribe(client, token, police.url, "kent", agency="police")
        om = token()
        nid, etag = create(client, om)
        add(client, om, nid, "intelligence", POLICE_ONLY, etag)
        service.deliver(store, policy)
        sections = [e["data"].get("section") for e in receiver.events()]
        assert sections == [None]
        assert [e["data"].get("section") for e in police.events()] == [None, "intelligence"]
    finally:
        police.close()


def test_the_subscriber_principal_is_the_policys_not_the_administrators() -> None:
    sight = service.sight(
        Policy.load(Settings().policy_file),
        Principal("cms", Agency.PROBATION, Area.KENT, frozenset({Role.READER})),
    )
    assert sight is not None and sight.area == "kent" and not sight.national and sight.agency == "probation"
    assert (
        service.sight(
            Policy.load(Settings().policy_file),
            Principal("x", Agency.POLICE, Area.KENT, frozenset({Role.AUDITOR})),
        )
        is None
    )


def test_a_queued_delivery_is_withheld_when_the_policy_no_longer_lets_the_subscriber_see_it(
    client: TestClient, token: Minter, store: Store, settings: Settings, receiver: Receiver
) -> None:
    policy = Policy.load(settings.policy_file)
    subscribe(client, token, receiver.url, "kent")
    create(client, token())
    receiver.fail = 1
    now = dt.datetime.now(dt.UTC)
    run = service.deliver(store, policy, backoff=service.Backoff(base=dt.timedelta(0)), now=now)
    assert (run.queued, run.failed, receiver.calls) == (1, 1, 1)
    # the grant is withdrawn before the retry: the delivery is withheld, not sent
    doc = yaml.safe_load(settings.policy_file.read_text())
    del doc["grants"]["reader"]["events.read"]
    run = service.deliver(store, Policy(doc), now=now + dt.timedelta(seconds=1))
    assert (run.withheld, run.delivered, receiver.calls) == (1, 0, 1)
    assert receiver.received == []


def test_merge_unmerge_archive_and_erasure_have_their_events(client: TestClient, token: Minter) -> None:
    om, sup = token(), token(Role.SUPERVISOR)
    police, probation = token(Role.READER), token(Role.READER, Agency.PROBATION)
    a, ea = create(client, om)
    b, eb = create(client, om)
    # erasing a police-only item: its erasure event keeps the item's audience
    item, ea = add(client, om, a, "intelligence", POLICE_ONLY, ea)
    r = client.post(
        f"/v1/nominals/{a}/items/{item}/erase",
        json={"reason": "entered on the wrong record", "confirm": item},
        headers=auth(sup, **{"If-Match": ea}),
    )
    assert r.status_code == 200, r.text
    ea = r.headers["etag"]
    r = client.post(
        f"/v1/nominals/{a}/merges",
        json={"merged_id": b, "merged_version": 1},
        headers=auth(sup, **{"If-Match": ea}),
    )
    assert r.status_code == 201, r.text
    merge_id, ea = r.json()["id"], r.headers["etag"]
    r = client.post(
        f"/v1/nominals/{a}/merges/{merge_id}/unmerge",
        json={"reason": "two brothers"},
        headers=auth(sup, **{"If-Match": ea}),
    )
    assert r.status_code == 200, r.text
    ea = r.headers["etag"]
    r = client.post(
        f"/v1/nominals/{a}/archive", json={"reason": "died"}, headers=auth(sup, **{"If-Match": ea})
    )
    assert r.status_code == 200, r.text

    def kinds(token_: str) -> list[tuple[str, str, dict[str, Any]]]:
        return [
            (
                e["subject"],
                e["type"].removeprefix(TYPE),
                {k: v for k, v in e["data"].items() if k != "version"},
            )
            for e in all_events(client, token_)
            if e["type"] not in (TYPE + "record.created",) and e["data"].get("section") != "chronology"
        ]

    erased = (a, "record.erased", {"record_id": a, "section": "intelligence", "owning_area": "kent"})
    merged = [
        (a, "record.merged", {"record_id": a, "owning_area": "kent", "side": "survivor"}),
        (b, "record.merged", {"record_id": b, "owning_area": "kent", "side": "merged"}),
        (a, "record.unmerged", {"record_id": a, "owning_area": "kent", "side": "survivor"}),
        (b, "record.unmerged", {"record_id": b, "owning_area": "kent", "side": "merged"}),
        (a, "record.archived", {"record_id": a, "owning_area": "kent", "reason": "died"}),
    ]
    added = (a, "record.changed", {"record_id": a, "section": "intelligence", "owning_area": "kent"})
    got = kinds(police)
    for event in [e for e in got if "merge" in e[2]]:
        assert event[2].pop("merge") == merge_id
    assert got == [added, erased, *merged]
    got = kinds(probation)
    for event in [e for e in got if "merge" in e[2]]:
        event[2].pop("merge")
    assert got == merged  # neither the police-only item's addition nor its erasure


def test_old_events_are_pruned_unless_a_subscriber_still_needs_them(
    client: TestClient, token: Minter, store: Store, settings: Settings
) -> None:
    om = token()
    nid, etag = create(client, om)
    for _ in range(3):
        _, etag = add(client, om, nid, "addresses", ADDRESS, etag)
    with store.session_factory() as s:
        seqs = list(s.scalars(select(m.RegisterEvent.seq).order_by(m.RegisterEvent.seq)))
    assert len(seqs) == 4
    # the first three are old; a subscriber has had the first two queued, and one of them is a dead letter
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=200)
    sub = subscribe(client, token, "http://127.0.0.1:9/never", "kent")
    with store.session_factory() as s, s.begin():
        s.execute(
            m.RegisterEvent.__table__.update()
            .where(m.RegisterEvent.seq.in_(seqs[:3]))
            .values(occurred_at=long_ago)
        )
        s.execute(
            m.WebhookSubscription.__table__.update()
            .where(m.WebhookSubscription.id == uuid.UUID(sub["id"]))
            .values(position=seqs[1])
        )
        for seq, status in ((seqs[0], "delivered"), (seqs[1], "dead")):
            s.execute(
                m.WebhookDelivery.__table__.insert().values(
                    id=uuid.uuid4(),
                    subscription_id=uuid.UUID(sub["id"]),
                    event_seq=seq,
                    status=status,
                    attempts=1,
                    available_at=long_ago,
                    created_at=long_ago,
                )
            )
    with store.unit_of_work(for_caller=True) as uow:
        removed = service.prune(uow, SystemActor("test"), keep_days=90)
    # only the first goes: the second is a dead letter, the third not yet queued for the subscriber, the
    # fourth recent
    with store.session_factory() as s:
        left = list(s.scalars(select(m.RegisterEvent.seq).order_by(m.RegisterEvent.seq)))
        deliveries = list(s.scalars(select(m.WebhookDelivery.event_seq)))
        audited = s.execute(
            select(m.AuditEvent.action, m.AuditEvent.details).where(m.AuditEvent.tag == "events:feed:prune")
        ).all()
    assert removed == 1 and left == seqs[1:] and deliveries == [seqs[1]]
    assert [(a, json.loads(d)["removed"]) for a, d in audited] == [("administration", 1)]
    # the feed reads on from what is left; once nobody needs them the old ones go too (the CLI, as a CronJob)
    reader = token(Role.READER, Agency.PROBATION)
    assert len(all_events(client, reader)) == 3
    client.delete(f"/v1/webhooks/subscriptions/{sub['id']}", headers=auth(token(Role.ADMINISTRATOR)))
    env = {"REGISTER_DATABASE_URL": settings.database_url, "REGISTER_VAR_DIR": str(settings.var_dir)}
    env |= {"REGISTER_KEY_DIR": str(settings.key_dir)}
    result = CliRunner().invoke(main, ["events", "prune", "--keep-days", "90", "--json"], env=env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"removed": 2, "keep_days": 90}
    assert event_count(store) == 1
    bad = CliRunner().invoke(main, ["events", "prune", "--keep-days", "0"], env=env)
    assert bad.exit_code == 2 and "keep-days" in bad.output
