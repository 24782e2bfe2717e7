"""Keeping the index true, against a real Elasticsearch node: the outbox drains into it with external
versions, nothing is lost while it is down, a rebuild swaps in atomically, and drift is found and repaired."""

from __future__ import annotations

import datetime as dt
import json
import threading
import uuid
from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from elasticsearch import Elasticsearch
from sqlalchemy import func, select

from register.cli import main
from register.config import Settings
from register.domain.record import ChronologyEntry, Section
from register.nominals import service
from register.search import indexer as idx
from register.search.indexer import IndexSpec, SearchIndex
from register.store import models as m
from register.store.exclusive import AlreadyRunning
from register.store.store import Store
from tests.factories import OFFICER, add, create

DEFINITION = Settings().search_index_definition


def make_index(url: str, alias: str) -> SearchIndex:
    return SearchIndex(
        Elasticsearch(url, request_timeout=10, max_retries=0), IndexSpec.load(alias, DEFINITION)
    )


@pytest.fixture
def index(es_node) -> Iterator[SearchIndex]:  # type: ignore[no-untyped-def]
    alias = f"t-{uuid.uuid4().hex[:12]}"
    index = make_index(es_node.url, alias)
    index.ensure()
    yield index
    index.client.indices.delete(index=f"{alias}-*", ignore_unavailable=True, allow_no_indices=True)
    index.client.close()


def visit(n: int) -> ChronologyEntry:
    return ChronologyEntry(
        occurred_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC) + dt.timedelta(hours=n),
        kind="contact",
        summary=f"contact {n}",
    )


def seed(store: Store, count: int = 3) -> list[uuid.UUID]:
    ids = []
    with store.unit_of_work() as uow:
        for i in range(count):
            nid = create(
                uow,
                identity={
                    "forenames": "Daniel",
                    "surname": f"Hartley{chr(97 + i)}",
                    "date_of_birth": "1984-03-17",
                },
            )
            _, v = add(
                uow,
                nid,
                Section.ALIASES,
                {"forenames": "Danny", "surname": "Harley", "name_type": "nickname"},
                1,
            )
            _, v = add(uow, nid, Section.VEHICLES, {"vrm": "GK19 XBW", "colour": "Blue", "make": "Ford"}, v)
            add(
                uow,
                nid,
                Section.INTELLIGENCE,
                {
                    "received_on": "2025-01-01",
                    "text": "seen at the bandstand",
                    "scheme": "3x5x2",
                    "source_evaluation": "B",
                    "intelligence_assessment": 2,
                    "handling_code": "C",
                    "audience": ["police"],
                },
                v,
            )
            ids.append(nid)
    return ids


def source(index: SearchIndex, nominal_id: uuid.UUID) -> dict:  # type: ignore[type-arg]
    return index.client.get(index=index.spec.alias, id=str(nominal_id))["_source"]


def test_the_outbox_drains_into_the_index_as_whole_documents(store: Store, index: SearchIndex) -> None:
    ids = seed(store)
    result = idx.drain_all(store, index)
    assert result.indexed == 3 * 4 and idx.outbox_status(store) == {"pending": 0, "parked": 0}
    doc = source(index, ids[0])
    assert doc["version"] == 4 and doc["area"] == "kent" and doc["status"] == "active"
    assert {n["kind"] for n in doc["names"]} == {"primary", "nickname"}
    assert "danny" in doc["names"][1]["tokens"] and "HRL" in doc["names"][1]["metaphone"]
    assert (
        doc["vehicles"][0]["vrm"] == "GK19XBW"
        and "19X" in doc["vehicles"][0]["vrm_3grams"]
        and doc["vehicles"][0]["colour"] == "blue"
    )
    # Police-only intelligence is indexed only as a piece of narrative carrying its audience (which every free
    # text query filters on), nowhere else in the document
    [piece] = [p for p in doc["narrative"] if "bandstand" in p["words"]]
    assert (piece["source"], piece["section"], piece["audiences"]) == (
        "intelligence",
        "intelligence",
        ["police"],
    )
    assert "bandstand" not in json.dumps({k: v for k, v in doc.items() if k != "narrative"})


def test_a_stale_or_replayed_document_never_overwrites_a_newer_one(store: Store, index: SearchIndex) -> None:
    [nid] = seed(store, 1)
    with store.unit_of_work() as uow:
        old_doc = idx.document(uow.nominals.load(nid))
        service.append_chronology(uow, OFFICER, nid, visit(1), expected_version=4)
    idx.drain_all(store, index)
    assert source(index, nid)["version"] == 5
    index.write([old_doc])  # an out-of-order event carrying version 4
    index.write([{**old_doc, "version": 5, "status": "tampered"}])  # a replay of version 5
    index.refresh()
    assert source(index, nid)["version"] == 5 and source(index, nid)["status"] == "active"


def test_when_elasticsearch_is_unreachable_writes_succeed_and_the_outbox_waits(store: Store, es_node) -> None:  # type: ignore[no-untyped-def]
    ids = seed(store, 2)
    dead = make_index("http://127.0.0.1:9", "nowhere")
    result = idx.drain(store, dead)
    assert (result.indexed, result.retried) == (0, 8)
    with store.session_factory() as s:
        rows = s.execute(select(m.Outbox.attempts, m.Outbox.last_error, m.Outbox.available_at)).all()
    assert {r.attempts for r in rows} == {1} and all("ConnectionError" in r.last_error for r in rows)
    assert all(r.available_at > dt.datetime.now(dt.UTC) for r in rows)  # backing off
    assert idx.drain(store, dead).retried == 0  # nothing is due yet: no hammering
    # poison rows are parked, visible, after the configured attempts
    with store.unit_of_work() as uow:
        uow.session.execute(
            m.Outbox.__table__.update().values(available_at=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
        )
    assert idx.drain(store, dead, max_attempts=2).parked == 8
    assert idx.outbox_status(store) == {"pending": 0, "parked": 8}
    assert len(ids) == 2


def test_stop_elasticsearch_make_hundreds_of_changes_start_it_and_nothing_is_lost(store: Store) -> None:
    import esnode

    node = esnode.ElasticsearchNode()
    node.start()
    try:
        index = make_index(node.url, "register-nominals")
        index.ensure()
        ids = seed(store, 5)
        idx.drain_all(store, index)
        node.pause()  # Elasticsearch goes down
        versions = {nid: 4 for nid in ids}
        for n in range(300):
            nid = ids[n % len(ids)]
            with store.unit_of_work() as uow:
                _, versions[nid] = service.append_chronology(
                    uow, OFFICER, nid, visit(n), expected_version=versions[nid]
                )
        assert idx.drain(store, index).retried > 0 and idx.outbox_status(store)["pending"] == 300
        node.start()  # back, same data
        with store.unit_of_work() as uow:  # the backoff has passed
            uow.session.execute(
                m.Outbox.__table__.update().values(available_at=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
            )
        assert idx.drain_all(store, index).indexed == 300
        drift = idx.check(store, index)
        assert drift.total == 0
        assert {source(index, nid)["version"] for nid in ids} == {64}
    finally:
        node.stop()


def test_reindex_builds_a_fresh_index_swaps_the_alias_and_keeps_changes_made_meanwhile(
    store: Store, index: SearchIndex
) -> None:
    ids = seed(store, 5)
    idx.drain_all(store, index)
    before = set(index.client.indices.get_alias(name=index.spec.alias))
    changed: list[int] = []

    def change_during_rebuild(done: int, total: int) -> None:
        if done and not changed:  # a user edits a record already copied into the new index
            with store.unit_of_work() as uow:
                _, v = service.append_chronology(uow, OFFICER, ids[0], visit(99), expected_version=4)
            changed.append(v)

    name, count = idx.reindex(store, index, batch=2, progress=change_during_rebuild)
    assert count == 5 and set(index.client.indices.get_alias(name=index.spec.alias)) == {name}
    assert not (
        before & set(index.client.indices.get(index=f"{index.spec.alias}-*"))
    )  # the old index is gone
    assert source(index, ids[0])["version"] == changed[0] == 5
    assert idx.check(store, index).total == 0


def test_a_pruned_outbox_still_brings_the_index_every_change(store: Store, index: SearchIndex) -> None:
    """Decision 87: after an outage left several waiting rows for a record, a prune keeps only the newest of
    each, and the index still ends holding every record at its latest version, an erasure included."""
    from register.domain.actors import SystemActor
    from register.domain.notification import add_months
    from register.retention import service as retention
    from register.search import service as search_service

    ids = seed(store, 3)
    idx.drain_all(store, index)
    with store.unit_of_work() as uow:  # the cluster is away: these wait
        _, v = service.append_chronology(uow, OFFICER, ids[0], visit(1), expected_version=4)
        service.append_chronology(uow, OFFICER, ids[0], visit(2), expected_version=v)
        archive_as_died(uow, ids[2])
    assert retention.run(store, SystemActor("retention"), today=add_months(dt.date.today(), 84)).erased == 1
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=10)
    with store.unit_of_work() as uow:
        uow.session.execute(m.Outbox.__table__.update().values(created_at=long_ago))
        uow.session.execute(
            m.Outbox.__table__.update()
            .where(m.Outbox.processed_at.is_not(None))
            .values(processed_at=long_ago)
        )

    pruned = search_service.prune_outbox(store, SystemActor("test"), keep_days=7)

    with store.session_factory() as s:
        left = s.execute(select(m.Outbox.nominal_id, m.Outbox.processed_at)).all()
    assert (pruned.removed, pruned.superseded) == (12, 2)  # the indexed rows; all but the newest waiting
    assert sorted(str(n) for n, _ in left) == sorted([str(ids[0]), str(ids[2])])
    assert all(done is None for _, done in left)
    idx.drain_all(store, index)
    assert source(index, ids[0])["version"] == 6
    assert not index.client.exists(index=index.spec.alias, id=str(ids[2]))  # the erased person is gone
    assert idx.check(store, index).total == 0


def test_a_second_rebuild_while_one_runs_is_refused_and_the_alias_ends_on_one_index(
    store: Store, settings: Settings, index: SearchIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two rebuilds at once each pointed the alias at their own index, leaving it on both: every search
    counted each person twice and no indexer could write through it (found 2026-12-04, two `register
    reindex` at once on the benchmark's register)."""
    ids = seed(store, 4)
    idx.drain_all(store, index)
    monkeypatch.setattr(idx, "settle_heap", lambda: None)  # the CLI's; not for the test process
    env = {
        "REGISTER_DATABASE_URL": settings.resolved_database_url,
        "REGISTER_KEY_DIR": str(settings.resolved_key_dir),
        "REGISTER_ELASTICSEARCH_URL": index.client.transport.node_pool.get().base_url,
        "REGISTER_SEARCH_ALIAS": index.spec.alias,
    }
    second: list[object] = []

    def start_another(done: int, total: int) -> None:
        if done and not second:
            indexes = set(index.client.indices.get(index=f"{index.spec.alias}-*"))
            with pytest.raises(AlreadyRunning, match="already running"):
                idx.reindex(store, index, batch=2)
            r = CliRunner().invoke(main, ["reindex", "--workers", "1"], env=env)
            second.append(r)
            # refused before it made anything
            assert set(index.client.indices.get(index=f"{index.spec.alias}-*")) == indexes

    name, count = idx.reindex(store, index, batch=2, progress=start_another)
    r = second[0]
    assert r.exit_code == 1 and "a rebuild of the search index is already running" in r.output  # type: ignore[attr-defined]
    assert count == 4 and set(index.client.indices.get_alias(name=index.spec.alias)) == {name}
    # the indexers write through the alias again, and each person is found once
    with store.unit_of_work() as uow:
        service.append_chronology(uow, OFFICER, ids[0], visit(7), expected_version=4)
    drained = idx.drain_all(store, index)
    assert drained.indexed == 1 and drained.retried == drained.parked == 0
    index.refresh()
    assert source(index, ids[0])["version"] == 5
    assert index.client.count(index=index.spec.alias)["count"] == 4
    # and once it has finished, the next rebuild runs
    again, _ = idx.reindex(store, index, batch=2)
    assert set(index.client.indices.get_alias(name=index.spec.alias)) == {again}


def test_a_rebuild_says_at_once_when_an_index_holds_the_alias_name(store: Store, index: SearchIndex) -> None:
    """Before decision 85 a write through the missing alias made an index of its name, where no alias can go:
    the rebuild built everything and only then failed at the swap."""
    seed(store, 2)
    index.client.indices.delete(index=f"{index.spec.alias}-*")
    index.client.indices.create(index=index.spec.alias)  # what such a write made
    try:
        with pytest.raises(idx.AliasTaken, match=f"DELETE /{index.spec.alias}"):
            idx.reindex(store, index, batch=2)
        assert index.client.indices.get(index=f"{index.spec.alias}-*") == {}  # nothing built
        index.client.indices.delete(index=index.spec.alias)  # as the message says
        name, count = idx.reindex(store, index, batch=2)
        assert count == 2 and set(index.client.indices.get_alias(name=index.spec.alias)) == {name}
    finally:
        if not index.client.indices.exists_alias(name=index.spec.alias):
            index.client.indices.delete(index=index.spec.alias, ignore_unavailable=True)


@pytest.mark.parametrize("when", ["while it built", "between its last look and the swap"])
def test_a_rebuild_leaves_an_alias_that_moved_while_it_ran(
    store: Store, index: SearchIndex, monkeypatch: pytest.MonkeyPatch, when: str
) -> None:
    seed(store, 3)
    elsewhere = f"{index.spec.alias}-elsewhere"
    index.client.indices.create(index=elsewhere, **index.spec.definition)

    def move_the_alias() -> None:  # someone points the alias elsewhere before this rebuild swaps it
        current = list(index.client.indices.get_alias(name=index.spec.alias))
        index.client.indices.update_aliases(
            actions=[{"remove": {"index": o, "alias": index.spec.alias}} for o in current]
            + [{"add": {"index": elsewhere, "alias": index.spec.alias}}]
        )

    def at_the_end(done: int, total: int) -> None:
        if done == total and when == "while it built":
            move_the_alias()

    if when != "while it built":  # the last look still sees the old index: the swap itself must refuse
        looked = idx._aliased
        looks: list[list[str]] = []

        def look_then_move(client: Elasticsearch, alias: str) -> list[str]:
            looks.append(looked(client, alias))
            if len(looks) == 2:
                move_the_alias()
            return looks[-1]

        monkeypatch.setattr(idx, "_aliased", look_then_move)
    with pytest.raises(idx.AliasMoved, match="nothing was swapped"):
        idx.reindex(store, index, batch=2, progress=at_the_end)
    assert set(index.client.indices.get_alias(name=index.spec.alias)) == {elsewhere}
    # the rebuild's own index is gone; the one the alias left stays for whoever moved it
    assert len(index.client.indices.get(index=f"{index.spec.alias}-*")) == 2


def test_a_rebuild_on_a_new_register_takes_the_alias_from_the_first_index_made_while_it_ran(
    store: Store, es_node
) -> None:  # type: ignore[no-untyped-def]
    """A rebuild began before any index existed; meanwhile a process starting on the new register made the
    first index (`ensure_for`) and indexed a change into it. That is not someone moving the alias: the
    rebuild swaps from the first index and keeps the change."""
    index = make_index(es_node.url, f"t-{uuid.uuid4().hex[:12]}")
    try:
        ids = seed(store, 3)
        changed: list[int] = []

        def a_process_starts(done: int, total: int) -> None:
            if done and not changed:
                assert idx.ensure_for(store, index)  # every record's changes still wait: it makes the index
                with store.unit_of_work() as uow:
                    _, v = service.append_chronology(uow, OFFICER, ids[0], visit(7), expected_version=4)
                changed.append(v)
                idx.drain_all(store, index)  # into the first index, through the alias

        name, count = idx.reindex(store, index, batch=2, progress=a_process_starts)

        assert count == 3 and set(index.client.indices.get_alias(name=index.spec.alias)) == {name}
        assert not index.client.indices.exists(index=index.spec.initial_name())
        assert source(index, ids[0])["version"] == changed[0] == 5
        assert idx.check(store, index).total == 0
    finally:
        index.client.indices.delete(
            index=f"{index.spec.alias}-*", ignore_unavailable=True, allow_no_indices=True
        )
        index.client.close()


def test_processes_starting_at_once_on_a_new_cluster_make_one_index(es_node) -> None:  # type: ignore[no-untyped-def]
    """Every API process and indexer makes the first index if the alias is missing; started together (a new
    deployment), each made its own and the alias ended on all of them."""
    alias = f"t-{uuid.uuid4().hex[:12]}"
    indexes = [make_index(es_node.url, alias) for _ in range(4)]
    start = threading.Barrier(len(indexes))
    failures: list[BaseException] = []

    def starting(index: SearchIndex) -> None:
        start.wait()
        try:
            index.ensure()
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=starting, args=(i,)) for i in indexes]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert failures == []
        assert list(indexes[0].client.indices.get_alias(name=alias)) == [indexes[0].spec.initial_name()]
        indexes[0].write([{"nominal_id": "a", "version": 1}])  # and the alias takes writes
    finally:
        indexes[0].client.indices.delete(index=f"{alias}-*", ignore_unavailable=True, allow_no_indices=True)
        for i in indexes:
            i.client.close()


def test_after_the_cluster_loses_the_index_changes_wait_for_the_rebuild_and_nothing_guesses_mappings(
    store: Store, index: SearchIndex
) -> None:
    """Writes through the missing alias made a plain index of its name with guessed mappings (which searches
    read wrongly) and marked the changes done; `register reindex` could then never put the alias back."""
    ids = seed(store, 3)
    idx.drain_all(store, index)
    index.client.indices.delete(index=f"{index.spec.alias}-*")  # the cluster's data is lost
    with store.unit_of_work() as uow:
        service.append_chronology(uow, OFFICER, ids[0], visit(5), expected_version=4)
    drained = idx.drain_all(store, index, schedule=idx.RetrySchedule(1))
    assert (drained.indexed, drained.parked) == (0, 1)
    assert not index.client.indices.exists(index=index.spec.alias)  # no index made of the alias's name
    with store.session_factory() as s:
        (error,) = s.scalars(select(m.Outbox.last_error).where(m.Outbox.parked.is_(True))).all()
    assert error is not None and error.startswith(idx.UNREACHABLE)
    # the cluster answers, but the change waits for the alias rather than going anywhere else
    assert idx.resume_parked(store, index) == 0
    # and a process starting now makes no empty index for the searches to answer from
    assert idx.ensure_for(store, index) is False
    assert index.client.indices.get(index=f"{index.spec.alias}-*") == {}
    name, count = idx.reindex(store, index, batch=2)
    assert count == 3 and set(index.client.indices.get_alias(name=index.spec.alias)) == {name}
    assert source(index, ids[0])["version"] == 5  # the rebuild has it
    assert idx.drain_all(store, index).resumed == 1  # and the parked row resumes by itself
    assert idx.outbox_status(store) == {"pending": 0, "parked": 0}
    assert idx.check(store, index).total == 0


def test_index_check_finds_and_repairs_drift(store: Store, settings: Settings, index: SearchIndex) -> None:
    ids = seed(store, 4)
    idx.drain_all(store, index)
    with store.unit_of_work() as uow:  # stale: a change the indexer has not seen
        service.append_chronology(uow, OFFICER, ids[0], visit(1), expected_version=4)
    with store.unit_of_work() as uow:  # missing: a record whose outbox event was lost
        lost = create(uow)
        uow.session.execute(
            m.Outbox.__table__.update()
            .where(m.Outbox.nominal_id == lost)
            .values(processed_at=dt.datetime.now(dt.UTC))
        )
    stray = str(uuid.uuid4())
    index.write([{**source(index, ids[2]), "nominal_id": stray}])  # extra: a record the database never had
    env = {
        "REGISTER_DATABASE_URL": settings.resolved_database_url,
        "REGISTER_KEY_DIR": str(settings.resolved_key_dir),
        "REGISTER_ELASTICSEARCH_URL": index.client.transport.node_pool.get().base_url,
        "REGISTER_SEARCH_ALIAS": index.spec.alias,
    }
    r = CliRunner().invoke(main, ["index-check"], env=env)
    assert r.exit_code == 1 and "missing 1, stale 1, extra 1" in r.output
    # The nightly job (deploy/k8s/operations.yaml) repairs at once and still fails: an operator hears of it.
    r = CliRunner().invoke(main, ["index-check", "--repair", "--strict", "--json"], env=env)
    assert r.exit_code == 1 and json.loads(r.stdout) == {
        "missing": [str(lost)],
        "stale": [str(ids[0])],
        "extra": [stray],
        "after_repair": 0,
    }, r.output
    assert source(index, ids[0])["version"] == 5 and source(index, lost)["version"] == 1
    r = CliRunner().invoke(main, ["index-check", "--repair", "--strict"], env=env)
    assert r.exit_code == 0 and "missing 0, stale 0, extra 0; after repair: 0" in r.output, r.output
    r = CliRunner().invoke(main, ["index-check", "--json"], env=env)  # the same result, for a monitoring job
    assert r.exit_code == 0 and json.loads(r.stdout) == {
        "missing": [],
        "stale": [],
        "extra": [],
        "after_repair": None,
    }


@pytest.mark.postgres_only
def test_competing_indexers_take_each_outbox_row_once(store: Store, index: SearchIndex) -> None:
    seed(store, 10)
    results: list[idx.DrainResult] = []

    def worker() -> None:
        results.append(idx.drain_all(store, index, batch=3))

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sum(r.indexed for r in results) == 40  # every row once, none twice
    with store.session_factory() as s:
        assert (
            s.execute(
                select(func.count()).select_from(m.Outbox).where(m.Outbox.processed_at.is_(None))
            ).scalar_one()
            == 0
        )
    assert idx.check(store, index).total == 0


def archive_as_died(uow, nominal_id: uuid.UUID) -> None:  # type: ignore[no-untyped-def]
    """Archive a record as its subject having died: the retention sweep erases it years later."""
    from register.archive import service as archive
    from register.archive.schemas import ArchiveRequest
    from tests.factories import SUPERVISOR

    archive.archive(
        uow,
        SUPERVISOR,
        nominal_id,
        ArchiveRequest(reason="died"),
        expected_version=uow.nominals.header_row(nominal_id).version,
    )


def test_an_erasure_the_index_refuses_is_tried_again_until_the_person_is_gone(
    store: Store, index: SearchIndex
) -> None:
    """The delete of an erased record's document dropped Elasticsearch's refusals and marked the change done,
    leaving the erased person searchable until the nightly drift check (decision 86)."""
    from register.domain.actors import SystemActor
    from register.domain.notification import add_months
    from register.retention import service as retention

    (c,) = seed(store, 1)
    with store.unit_of_work() as uow:
        archive_as_died(uow, c)
    idx.drain_all(store, index)
    (live,) = index.client.indices.get_alias(name=index.spec.alias)
    index.client.indices.close(index=live)  # refuses every operation on its documents, as a failed shard does
    try:
        retention.run(store, SystemActor("retention"), today=add_months(dt.date.today(), 84))
        drained = idx.drain_all(store, index)
        assert (drained.indexed, drained.retried) == (0, 1)
        assert idx.outbox_status(store)["pending"] == 1  # the erasure is still to be done
    finally:
        index.client.indices.open(index=live, wait_for_active_shards="1")
    assert index.client.exists(index=index.spec.alias, id=str(c))
    with store.unit_of_work() as uow:  # its retry is due
        uow.session.execute(m.Outbox.__table__.update().values(available_at=dt.datetime.now(dt.UTC)))
    assert idx.drain_all(store, index).indexed == 1
    index.refresh()
    assert not index.client.exists(index=index.spec.alias, id=str(c))
    assert idx.check(store, index).total == 0


def test_merged_records_leave_results_and_erased_ones_leave_the_index(
    store: Store, index: SearchIndex
) -> None:
    from register.domain.actors import SystemActor
    from register.domain.notification import add_months
    from register.merges import service as merges
    from register.retention import service as retention
    from tests.factories import SUPERVISOR

    a, b, c = seed(store)
    with store.unit_of_work() as uow:
        version = uow.nominals.header_row(a).version
        done = merges.merge(
            uow, SUPERVISOR, a, b, expected_version=version, merged_version=uow.nominals.header_row(b).version
        )
        archive_as_died(uow, c)
    idx.drain_all(store, index)
    assert (
        source(index, b)["status"] == "merged" and len(source(index, a)["names"]) == 4
    )  # a gained b's two names
    retention.run(store, SystemActor("retention"), today=add_months(dt.date.today(), 84))
    idx.drain_all(store, index)
    index.refresh()
    assert not index.client.exists(index=index.spec.alias, id=str(c))
    assert idx.check(store, index).total == 0 and done.items_moved == 3


def test_reindex_with_worker_processes_builds_the_same_index(store: Store, index: SearchIndex) -> None:
    ids = seed(store, 7)
    name, count = idx.reindex(store, index, batch=2, workers=2)
    index.refresh()
    assert count == 7 and idx.check(store, index).total == 0
    assert source(index, ids[3])["vehicles"][0]["vrm"] == "GK19XBW"
