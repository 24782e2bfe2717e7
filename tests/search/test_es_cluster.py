"""Losing a node of a real three-node Elasticsearch cluster (deploy/local/escluster.py) while the indexer
drains a stream of changes: nothing is lost, searches keep answering in full from the replicas, and when the
node returns the index matches the database exactly.

The index is created as the register creates it (`build_search_index`) with three shards and one replica
(REGISTER_SEARCH_SHARDS, REGISTER_SEARCH_REPLICAS) and the client given every node's URL. If the cluster
cannot start, the test errors with the nodes' logs: it is never skipped."""

from __future__ import annotations

import datetime as dt
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any, cast

import pytest
from escluster import ElasticsearchCluster
from sqlalchemy import select

from register.bootstrap import build_search_index
from register.config import Settings
from register.nominals import service
from register.search import indexer as idx
from register.search.backend import Viewer
from register.search.elastic import ElasticBackend
from register.search.indexer import RetrySchedule, SearchIndex
from register.search.query import SearchRequest
from register.store import models as m
from register.store.open import build_store
from register.store.store import Store
from tests.factories import OFFICER, create
from tests.search.test_indexer import visit

RECORDS = 200
SHARDS = 3
# Each phase waits for this many changes (or indexed outbox rows) before the next begins.
STREAM = 100
# Retries close together: the test waits seconds, not the production schedule's minutes, for a row a failed
# bulk request left pending (nothing is parked before the node returns).
SCHEDULE = RetrySchedule(max_attempts=1000, first_seconds=0.1, max_seconds=0.5)


@pytest.fixture(scope="module")
def cluster() -> Iterator[ElasticsearchCluster]:
    """Three nodes for this module, every one of them stopped and its files removed at the end."""
    nodes = ElasticsearchCluster(3)
    try:
        nodes.start()
        yield nodes
    finally:
        nodes.stop()


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll until `condition()` holds; fail, naming `what`, if it has not after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    pytest.fail(f"not within {timeout:.0f}s: {what}")


def database_versions(store: Store) -> dict[str, int]:
    with store.session_factory() as s:
        return {str(i): v for i, v in s.execute(select(m.Nominal.id, m.Nominal.version))}


def primaries_by_node(index: SearchIndex) -> dict[str, int]:
    shards = cast(list[dict[str, Any]], index.client.cat.shards(index=index.spec.alias, format="json").body)
    counts: dict[str, int] = {}
    for s in shards:
        if s["prirep"] == "p" and s["state"] == "STARTED":
            counts[s["node"]] = counts.get(s["node"], 0) + 1
    return counts


def search_everyone(index: SearchIndex) -> tuple[int, int, int]:
    """(documents counted, the register's search total, shards failed) on the live alias: a search through the
    register's Elasticsearch backend for the surname every test record has, and a count of every document."""
    counted = index.client.count(index=index.spec.alias)
    request = SearchRequest.model_validate(
        {"query": {"type": "group", "op": "and", "criteria": [{"type": "name", "value": "Zabrowski"}]}}
    )
    results = ElasticBackend(index).search(request, dt.date(2026, 1, 1), Viewer("kent"))
    return int(counted["count"]), results.total, int(counted["_shards"]["failed"])


@pytest.mark.postgres_only
def test_a_node_killed_while_the_indexer_drains_loses_nothing_and_searches_answer_from_replicas(
    settings: Settings, cluster: ElasticsearchCluster
) -> None:
    on_cluster = settings.model_copy(
        update={
            "elasticsearch_url": cluster.url,
            "search_alias": f"t-{uuid.uuid4().hex[:12]}",
            "search_shards": SHARDS,
            "search_replicas": 1,
        }
    )
    store = build_store(on_cluster)
    index = build_search_index(on_cluster)
    assert index is not None
    stop_updates, stop_indexer = threading.Event(), threading.Event()
    threads: list[threading.Thread] = []
    try:
        index.ensure()
        created = index.client.indices.get_settings(index=index.spec.alias)
        (definition,) = created.values()
        assert (
            definition["settings"]["index"]["number_of_shards"],
            definition["settings"]["index"]["number_of_replicas"],
        ) == (
            str(SHARDS),
            "1",
        )
        cluster.wait_for("green", 3, 60)  # every shard has its replica on another node

        with store.unit_of_work() as uow:
            ids = [create(uow) for _ in range(RECORDS)]
        idx.drain_all(store, index)
        index.refresh()
        assert search_everyone(index)[:2] == (RECORDS, RECORDS)

        versions = {nid: 1 for nid in ids}  # what each caller was told its change committed as
        errors: list[BaseException] = []
        updates, indexed = [0], [0]

        def updater() -> None:  # people editing records through the service layer, without pause
            rng = random.Random(6)
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
                    indexed[0] += idx.drain_all(store, index, batch=20, schedule=SCHEDULE).indexed
                    time.sleep(0.02)
            except BaseException as exc:  # noqa: BLE001 - reported by the test
                errors.append(exc)

        threads = [threading.Thread(target=updater), threading.Thread(target=indexer)]
        for t in threads:
            t.start()
        wait_for(
            lambda: updates[0] >= STREAM and indexed[0] >= STREAM, 120, f"{STREAM} changes made and indexed"
        )

        # Kill (SIGKILL: no shutdown) the node holding the most primary shards, mid-stream.
        primaries = primaries_by_node(index)
        victim_name = max(sorted(primaries), key=primaries.__getitem__)
        victim = int(victim_name.removeprefix("node-"))
        cluster.kill(victim)
        updates_at_kill, indexed_at_kill = updates[0], indexed[0]
        health = cluster.wait_for("yellow", 2, 90)
        # The killed node's shard copies are missing (yellow; green only if the two left had copied them
        # again, which Elasticsearch delays by a minute), but every shard still has an active primary: the
        # replicas on the other nodes were promoted.
        assert health["status"] in ("yellow", "green") and health["active_primary_shards"] >= SHARDS, health

        # While it is down: changes keep coming and being indexed, and every search answers in full.
        answers: list[tuple[int, int, int]] = []
        refused: list[str] = []

        def outage_long_enough() -> bool:
            try:
                answers.append(search_everyone(index))
            except Exception as exc:  # noqa: BLE001 - a search that fails is the finding, reported below
                refused.append(f"{type(exc).__name__}: {exc}")
            return (
                updates[0] - updates_at_kill >= STREAM
                and indexed[0] - indexed_at_kill >= STREAM
                and len(answers) + len(refused) >= 5
            )

        wait_for(outage_long_enough, 120, f"{STREAM} more changes made and indexed with node-{victim} down")
        assert cluster.alive() == sorted(set(range(3)) - {victim})  # it really was down throughout
        assert not refused, refused
        assert set(answers) == {(RECORDS, RECORDS, 0)}, answers

        stop_updates.set()
        threads[0].join(60)
        assert not threads[0].is_alive(), "the updater did not stop"

        # The node comes back on its own data and ports, rejoins, and its copies recover: green again.
        cluster.restart(victim)
        cluster.wait_for("green", 3, 180)
        wait_for(
            lambda: idx.outbox_status(store) == {"pending": 0, "parked": 0},
            90,
            "the outbox drains and nothing is parked",
        )
        stop_indexer.set()
        threads[1].join(60)
        assert not errors, errors

        # Nothing lost: every committed change is in the database and in the index, at the version its caller
        # was told; `register index-check`'s comparison finds no difference.
        drift = idx.check(store, index)
        assert (drift.missing, drift.stale, drift.extra) == ([], [], [])
        database = database_versions(store)
        index.refresh()
        in_index = dict(index.versions())
        assert database == {str(k): v for k, v in versions.items()}
        lost = sorted(k for k, v in database.items() if in_index.get(k) != v)
        assert (len(in_index), lost) == (RECORDS, []), f"{len(lost)} of {updates[0]} changes not indexed"
        assert sum(database.values()) - RECORDS == updates[0]
        assert search_everyone(index) == (RECORDS, RECORDS, 0)
    finally:
        stop_updates.set()
        stop_indexer.set()
        for t in threads:
            t.join(60)
        index.client.indices.delete(
            index=f"{index.spec.alias}-*", ignore_unavailable=True, allow_no_indices=True
        )
        index.client.close()
        store.dispose()
