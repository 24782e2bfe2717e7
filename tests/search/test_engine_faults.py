"""Losing nothing when an engine fails, against a real Elasticsearch node: a rebuild of the index while people
keep changing records (and an indexer keeps draining), and an Elasticsearch outage longer than the outbox's
backoff."""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from register.api.app import create_app
from register.config import Settings
from register.nominals import service
from register.search import indexer as idx
from register.search.indexer import SearchIndex
from register.store import models as m
from register.store.open import build_store
from register.store.store import Store
from tests.factories import OFFICER, create
from tests.search.test_indexer import make_index, visit

RECORDS = 150


@pytest.fixture
def live_index(es_node) -> Iterator[SearchIndex]:  # type: ignore[no-untyped-def]
    alias = f"t-{uuid.uuid4().hex[:12]}"
    index = make_index(es_node.url, alias)
    index.ensure()
    yield index
    index.client.indices.delete(index=f"{alias}-*", ignore_unavailable=True, allow_no_indices=True)
    index.client.close()


def database_versions(store: Store) -> dict[str, int]:
    with store.session_factory() as s:
        return {str(i): v for i, v in s.execute(select(m.Nominal.id, m.Nominal.version))}


def indexed_versions(index: SearchIndex) -> dict[str, int]:
    index.refresh()
    return dict(index.versions())


def wait_for(condition, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    """Poll until `condition()` holds; fail, naming `what`, if it has not after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    pytest.fail(f"not within {timeout:.0f}s: {what}")


@pytest.mark.postgres_only
def test_reindexes_under_a_stream_of_updates_leave_no_record_stale(
    store: Store, live_index: SearchIndex
) -> None:
    index = live_index
    with store.unit_of_work() as uow:
        ids = [create(uow) for _ in range(RECORDS)]
    idx.drain_all(store, index)
    versions = {nid: 1 for nid in ids}
    stop_updates, stop_indexer = threading.Event(), threading.Event()
    errors: list[BaseException] = []
    updates = [0]

    def updater() -> None:  # people editing records through the service layer
        rng = random.Random(20)
        try:
            while not stop_updates.is_set():
                nid = rng.choice(ids)
                with store.unit_of_work() as uow:
                    _, versions[nid] = service.append_chronology(
                        uow, OFFICER, nid, visit(updates[0]), expected_version=versions[nid]
                    )
                updates[0] += 1
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    def indexer() -> None:  # the running indexer, draining the outbox as changes commit
        try:
            while not stop_indexer.is_set():
                idx.drain_all(store, index, batch=20)
                time.sleep(0.02)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    threads = [threading.Thread(target=updater), threading.Thread(target=indexer)]
    for t in threads:
        t.start()
    try:
        for _ in range(3):
            idx.reindex(store, index, batch=10)
    finally:
        stop_updates.set()
        threads[0].join(60)
        # let the indexer drain what is left, then stop it
        wait_for(lambda: idx.outbox_status(store)["pending"] == 0, 60, "the outbox drains")
        stop_indexer.set()
        threads[1].join(60)
    assert not errors, errors
    assert updates[0] > 50  # the reindexes really ran under load
    drift = idx.check(store, index)
    database = database_versions(store)
    indexed = indexed_versions(index)
    stale = sorted(k for k, v in database.items() if indexed.get(k) != v)
    assert (drift.total, len(stale)) == (0, 0), (
        f"{len(stale)} of {len(database)} records stale after {updates[0]} updates: "
        f"missing {len(drift.missing)}, stale {len(drift.stale)}, extra {len(drift.extra)}"
    )
    assert len(database) == RECORDS


@pytest.mark.postgres_only
def test_an_outage_longer_than_the_backoff_parks_rows_and_they_resume_when_elasticsearch_returns(
    settings: Settings,
) -> None:
    import esnode
    from fastapi.testclient import TestClient

    from register.access.policy import Policy
    from register.bootstrap import build_verifier

    # The schedule shortened through the settings: two tries 0.1s apart, then parked.
    short = build_store(
        settings.model_copy(
            update={
                "indexer_max_attempts": 2,
                "indexer_retry_first_seconds": 0.1,
                "indexer_retry_max_seconds": 0.2,
            }
        )
    )
    node = esnode.ElasticsearchNode()
    node.start()
    index = make_index(node.url, "register-nominals")
    worker = idx.InProcessIndexer(short, index, poll_seconds=0.2)
    # The readiness check reports the search engine without leaving the load balancer over it: records can
    # still be read and changed while it is down, and the outbox keeps every change for it.
    app = create_app(
        short,
        Policy.load(settings.policy_file),
        build_verifier(settings),
        max_body_bytes=settings.max_body_bytes,
        search_index=index,
        index_in_process=False,
    )
    readiness = TestClient(app)
    try:
        index.ensure()
        assert readiness.get("/ready").json() == {
            "status": "ready",
            "checks": {"database": "ok", "search": "ok"},
        }
        with short.unit_of_work() as uow:
            ids = [create(uow) for _ in range(5)]
        worker.start()
        wait_for(
            lambda: idx.outbox_status(short) == {"pending": 0, "parked": 0}, 60, "the records are indexed"
        )
        node.pause()  # Elasticsearch goes down, for longer than the whole schedule
        for nid in ids:
            with short.unit_of_work() as uow:
                service.append_chronology(uow, OFFICER, nid, visit(1), expected_version=1)
        wait_for(lambda: idx.outbox_status(short)["parked"] == 5, 60, "the changes are parked")
        during = readiness.get("/ready")
        assert during.status_code == 200, during.text
        assert during.json() == {"status": "degraded", "checks": {"database": "ok", "search": "unavailable"}}
        with short.session_factory() as s:
            errors = set(s.scalars(select(m.Outbox.last_error).where(m.Outbox.parked.is_(True))))
        assert errors and all(e.startswith(idx.UNREACHABLE) for e in errors), errors
        node.start()  # back, same data: nobody repairs anything
        wait_for(
            lambda: idx.outbox_status(short) == {"pending": 0, "parked": 0},
            90,
            "the parked rows are resumed and indexed",
        )
        worker.stop()
        assert idx.check(short, index).total == 0
        assert set(indexed_versions(index).values()) == {2}
        assert readiness.get("/ready").json()["status"] == "ready"
    finally:
        worker.stop()
        short.dispose()
        node.stop()


def test_a_refused_document_stays_parked_for_someone_to_repair(store: Store, live_index: SearchIndex) -> None:
    """Only what an outage parked resumes by itself, not a row Elasticsearch refused."""
    with store.unit_of_work() as uow:
        nid = create(uow)
    with store.unit_of_work() as uow:
        uow.session.execute(
            m.Outbox.__table__.update().values(
                parked=True, attempts=8, last_error="ApiError(400, 'mapper_parsing')"
            )
        )
    assert idx.drain_all(store, live_index).resumed == 0
    assert idx.outbox_status(store) == {"pending": 0, "parked": 1} and nid
