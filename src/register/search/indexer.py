"""Keeping Elasticsearch true to the database.

* `drain`: take pending outbox rows (PostgreSQL: `FOR UPDATE SKIP LOCKED`, so several workers compete safely),
  load the records they name in four queries, bulk-index whole documents with the record's version as an
  *external* version (so a stale document can never overwrite a newer one), mark the rows done. If
  Elasticsearch fails, the rows stay pending with an exponential backoff (`RetrySchedule`); after
  `max_attempts` they are parked and visible, never lost, and those parked because Elasticsearch could not be
  reached are resumed by themselves when it answers again (`resume_parked`).
* `reindex`: build a fresh index from the database, then swap the alias to it atomically; changes made while
  it ran (and whatever indexers wrote to the old index meanwhile) are written into the new index again, before
  and after the swap.
* `check`: compare every record's version in the database with the index; optionally repair the differences.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import logging
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from multiprocessing.pool import AsyncResult
from pathlib import Path
from typing import Any

import orjson
from elasticsearch import ApiError, BadRequestError, Elasticsearch, NotFoundError, TransportError
from elasticsearch.helpers import BulkIndexError, bulk
from sqlalchemy import func, select, update

from ..domain import clock
from ..store import models as m
from ..store.background import AfterCommitWorker
from ..store.exclusive import SEARCH_REBUILD, AlreadyRunning, exclusively
from ..store.records import NOT_ERASED, NominalRepository, count_records, id_batches
from ..store.store import Store
from .documents import INDEX_VERSION, INDEXED_SECTIONS, stored_document
from .documents import document as document  # what an indexed record looks like (tests read it from here)

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]


def _quiet(done: int, total: int) -> None:
    return None


@dataclass(frozen=True)
class IndexSpec:
    alias: str
    definition: dict[str, Any]

    @classmethod
    def load(
        cls, alias: str, path: Path, *, shards: int | None = None, replicas: int | None = None
    ) -> IndexSpec:
        """The definition in `path`; `shards` and `replicas`, when given, in place of its own (for a
        cluster: REGISTER_SEARCH_SHARDS, REGISTER_SEARCH_REPLICAS)."""
        doc = json.loads(path.read_text())
        settings = dict(doc["settings"])
        if shards is not None:
            settings["number_of_shards"] = shards
        if replicas is not None:
            settings["number_of_replicas"] = replicas
        return cls(alias, {"settings": settings, "mappings": doc["mappings"]})

    def new_name(self) -> str:
        return f"{self.alias}-v{INDEX_VERSION}-{clock.now():%Y%m%d%H%M%S%f}"

    def initial_name(self) -> str:
        """The first index, made by whichever process starts first (`SearchIndex.ensure`); rebuilds make
        `new_name`s."""
        return f"{self.alias}-v{INDEX_VERSION}-initial"


WRITE_CHUNK = 500  # documents per bulk request


def bulk_body(docs: list[dict[str, Any]], index: str) -> bytes:
    """A bulk request indexing these whole documents into `index`, each with its record's version as an
    external version, as the bytes Elasticsearch takes (newline-delimited JSON)."""
    lines = []
    for d in docs:
        meta = {"_index": index, "_id": d["nominal_id"], "version": d["version"], "version_type": "external"}
        lines.append(orjson.dumps({"index": meta}))
        lines.append(orjson.dumps(d))  # compact UTF-8, as Elasticsearch reads it
    lines.append(b"")
    return b"\n".join(lines)


class SearchIndex:
    """The Elasticsearch side: one alias pointing at the live index."""

    def __init__(self, client: Elasticsearch, spec: IndexSpec) -> None:
        self.client = client
        self.spec = spec

    def ensure(self) -> None:
        """Create the first index, with the alias on it, if the alias does not exist. Every API process and
        indexer does this as it starts, often all at once on a new cluster: the first index has one name for
        all of them (`initial_name`), so one creates it and the others find it, where each creating its own
        left the alias on all of them (no indexer could write through it)."""
        if self.client.indices.exists_alias(name=self.spec.alias):
            return
        try:
            self.client.indices.create(
                index=self.spec.initial_name(), **self.spec.definition, aliases={self.spec.alias: {}}
            )
        except BadRequestError as exc:
            if exc.error != "resource_already_exists_exception" or not self.client.indices.exists_alias(
                name=self.spec.alias
            ):
                raise

    def write(self, docs: list[dict[str, Any]], index: str | None = None) -> None:
        """Index whole documents with external versions. A version conflict means the index already holds a
        newer (or the same) version of that record: that is the point, not an error."""
        for start in range(0, len(docs), WRITE_CHUNK):
            self.write_body(
                bulk_body(docs[start : start + WRITE_CHUNK], index or self.spec.alias),
                through_alias=not index,
            )

    def write_body(self, body: bytes, *, through_alias: bool = False) -> None:
        """Send a request body made by `bulk_body` (a reindex's worker processes make them: this process only
        sends them). Raises `BulkIndexError` for any document refused other than by a version conflict.

        `through_alias`: the body names the alias, which must exist. Without it a write after the cluster
        lost its data made a plain index of the alias's name with guessed mappings, which searches read
        wrongly and which stopped `register reindex` from ever putting the alias back (decision 85)."""
        # The client sends bytes as they are (its ndjson serializer); its hint names only a list of actions.
        response = self.client.bulk(operations=body, refresh=False, require_alias=through_alias)  # type: ignore[arg-type]
        if response["errors"]:
            real = [
                item
                for item in response["items"]
                if (status := _outcome(item).get("status", 200)) >= 300 and status != 409
            ]
            if real:
                raise BulkIndexError(f"{len(real)} document(s) failed to index.", real)

    def delete(self, ids: list[str], index: str | None = None) -> None:
        """Delete these documents (an erased record's). One already absent is deleted; any other refusal
        raises `BulkIndexError`, so that the change is tried again: the refusals were dropped, and the outbox
        row marked done with the erased person still searchable (decision 86)."""
        actions = ({"_op_type": "delete", "_index": index or self.spec.alias, "_id": i} for i in ids)
        _, errors = bulk(self.client, actions, raise_on_error=False, refresh=False, require_alias=not index)
        refused = [e for e in errors if not _already_absent(e)] if isinstance(errors, list) else []
        if refused:
            raise BulkIndexError(f"{len(refused)} document(s) failed to delete.", refused)

    def versions(self) -> Iterator[tuple[str, int]]:
        """(nominal_id, version) of every document, in id order (search_after over a point in time)."""
        pit = self.client.open_point_in_time(index=self.spec.alias, keep_alive="1m")["id"]
        try:
            after: list[Any] | None = None
            while True:
                page = self.client.search(
                    pit={"id": pit, "keep_alive": "1m"},
                    size=5000,
                    sort=[{"nominal_id": "asc"}],
                    source=["version"],  # type: ignore[arg-type]  # a list of fields is valid; the hint omits it
                    search_after=after,
                    track_total_hits=False,
                )
                hits = page["hits"]["hits"]
                if not hits:
                    return
                for h in hits:
                    yield h["_id"], int(h["_source"]["version"])
                after = hits[-1]["sort"]
        finally:
            self.client.close_point_in_time(id=pit)

    def refresh(self) -> None:
        self.client.indices.refresh(index=self.spec.alias)

    def reachable(self) -> bool:
        """Whether the cluster answers and can take writes through the alias (its health is not red, and the
        alias exists: after the cluster lost its data, not until `register reindex` has put it back)."""
        try:
            return self.client.cluster.health(timeout="5s")["status"] in (
                "green",
                "yellow",
            ) and bool(self.client.indices.exists_alias(name=self.spec.alias))
        except (TransportError, ApiError):
            return False


def ensure_for(store: Store, index: SearchIndex) -> bool:
    """Make the first index (`SearchIndex.ensure`) only if the outbox will fill it: every record not erased
    still has a change waiting there (a new register, whose first records may be written before the first
    indexer starts). Otherwise the alias is missing because the cluster lost its data, or records came in
    without the outbox (`register generate`): an empty index made now would answer every search from only
    what changes from now on, so that an investigator's search found no one else. Rather, searches answer 503
    and the indexers' writes wait (decision 85) until `register reindex` builds the index from the database.
    Returns whether the alias exists."""
    if index.client.indices.exists_alias(name=index.spec.alias):
        return True
    waiting = (
        select(m.Outbox.id)
        .where(m.Outbox.nominal_id == m.Nominal.id, m.Outbox.processed_at.is_(None))
        .exists()
    )
    with store.session_factory() as s:
        # the pending rows hashed once (their index), then records until the first without one
        unfilled = s.execute(select(m.Nominal.id).where(NOT_ERASED, ~waiting).limit(1)).first()
    if unfilled is not None:
        log.error(
            "search index missing: the alias %s does not exist and the register holds records the outbox "
            "would not fill it with; searches answer 503 and changes wait until `register reindex`",
            index.spec.alias,
        )
        return False
    index.ensure()
    return True


def _documents(nominals: NominalRepository, ids: list[uuid.UUID]) -> list[dict[str, Any]]:
    """The documents of these records (erased ones have none), read straight from their stored payloads
    (`stored_document`: what `document(record)` gives, without building the records)."""
    return [
        stored_document(r.row, r.identity, r.items, r.entries)
        for r in nominals.load_opened(ids, INDEXED_SECTIONS)
    ]


def _load_documents(store: Store, ids: list[uuid.UUID]) -> list[dict[str, Any]]:
    with store.unit_of_work() as uow:
        return _documents(uow.nominals, ids)


@dataclass
class DrainResult:
    indexed: int = 0
    retried: int = 0
    parked: int = 0
    resumed: int = 0


@dataclass(frozen=True)
class RetrySchedule:
    """How long an outbox row waits after each failed attempt (doubling from `first_seconds` up to
    `max_seconds`), and after how many it is parked. The default: 2, 4, 8 ... 128 seconds, parked at the
    eighth failure, about four minutes after the first."""

    max_attempts: int = 8
    first_seconds: float = 2.0
    max_seconds: float = 300.0

    @classmethod
    def from_settings(cls, settings: Any) -> RetrySchedule:
        return cls(
            settings.indexer_max_attempts,
            settings.indexer_retry_first_seconds,
            settings.indexer_retry_max_seconds,
        )

    def delay(self, attempts: int) -> dt.timedelta:
        return dt.timedelta(seconds=min(self.max_seconds, self.first_seconds * 2 ** min(attempts - 1, 30)))


# `last_error` starts with this when Elasticsearch could not be reached or was too busy to answer (not when it
# refused a document): such rows, once parked, are resumed by themselves when it answers again
# (`resume_parked`); a refused document stays parked until someone repairs the cause.
UNREACHABLE = "unreachable: "
_BUSY = {429, 502, 503, 504}


def _unreachable(exc: Exception) -> bool:
    """Whether the write failed for want of a cluster that can take it (so its rows resume by themselves
    once it can: `resume_parked`), not because of the documents."""
    if isinstance(exc, ApiError):
        return exc.meta.status in _BUSY
    if isinstance(exc, BulkIndexError):
        statuses = {503 if _alias_missing(e) else _outcome(e).get("status") for e in exc.errors}
        return bool(statuses) and statuses <= _BUSY | {409}
    return isinstance(exc, TransportError)  # no answer at all: refused, timed out, reset


def _outcome(item: dict[str, Any]) -> dict[str, Any]:
    """A bulk response item's outcome, whatever its operation (`{"index": {...}}`, `{"delete": {...}}`)."""
    return next(iter(item.values()), None) or {}


def _alias_missing(item: dict[str, Any]) -> bool:
    """A bulk item refused because the alias it named does not exist (the cluster lost its data, or no
    rebuild has made it yet)."""
    error = _outcome(item).get("error") or {}
    return isinstance(error, dict) and error.get("type") == "index_not_found_exception"


def _already_absent(item: dict[str, Any]) -> bool:
    """A delete of a document the index does not hold: what the delete was for."""
    outcome = _outcome(item)
    return outcome.get("status") == 404 and outcome.get("result") == "not_found"


def drain(
    store: Store,
    index: SearchIndex,
    *,
    batch: int = 500,
    max_attempts: int | None = None,
    schedule: RetrySchedule = RetrySchedule(),
) -> DrainResult:
    """One pass over pending outbox rows. Safe to run in several processes at once on PostgreSQL."""
    if max_attempts is not None:
        schedule = RetrySchedule(max_attempts, schedule.first_seconds, schedule.max_seconds)
    result = DrainResult()
    with store.unit_of_work() as uow:
        now = clock.now()
        query = (
            select(m.Outbox.id, m.Outbox.nominal_id, m.Outbox.attempts)
            .where(m.Outbox.processed_at.is_(None), m.Outbox.parked.is_(False), m.Outbox.available_at <= now)
            .order_by(m.Outbox.id)
            .limit(batch)
        )
        if uow.session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        rows = uow.session.execute(query).all()
        if not rows:
            return result
        ids = list(dict.fromkeys(r.nominal_id for r in rows))
        try:
            docs = _documents(uow.nominals, ids)
            index.write(docs)
            gone = {str(i) for i in ids} - {
                d["nominal_id"] for d in docs
            }  # erased: nothing may stay searchable
            if gone:
                index.delete(sorted(gone))
        except (TransportError, ApiError, BulkIndexError) as exc:
            error = (UNREACHABLE if _unreachable(exc) else "") + f"{type(exc).__name__}: {str(exc)[:500]}"
            for r in rows:
                attempts = r.attempts + 1
                parked = attempts >= schedule.max_attempts
                uow.session.execute(
                    update(m.Outbox)
                    .where(m.Outbox.id == r.id)
                    .values(
                        attempts=attempts,
                        parked=parked,
                        available_at=now + schedule.delay(attempts),
                        last_error=error,
                    )
                )
                result.parked += parked
                result.retried += not parked
            return result
        uow.session.execute(
            update(m.Outbox)
            .where(m.Outbox.id.in_([r.id for r in rows]))
            .values(processed_at=clock.now(), last_error=None)
        )
        result.indexed = len(rows)
    return result


def resume_parked(store: Store, index: SearchIndex) -> int:
    """Rows parked because Elasticsearch could not be reached go back into the queue, with their attempts
    reset, as soon as it answers again (asked only while such rows exist). Returns the rows resumed."""
    waiting = (
        m.Outbox.processed_at.is_(None),
        m.Outbox.parked.is_(True),
        m.Outbox.last_error.like(UNREACHABLE + "%"),
    )
    with store.unit_of_work() as uow:
        if uow.session.execute(select(m.Outbox.id).where(*waiting).limit(1)).first() is None:
            return 0
        if not index.reachable():
            return 0
        resumed = uow.session.execute(
            update(m.Outbox).where(*waiting).values(parked=False, attempts=0, available_at=clock.now())
        )
        return int(getattr(resumed, "rowcount", 0) or 0)


def drain_all(
    store: Store,
    index: SearchIndex,
    *,
    batch: int = 500,
    schedule: RetrySchedule = RetrySchedule(),
    after_batch: Callable[[], None] = lambda: None,
) -> DrainResult:
    """Resume what an outage parked if Elasticsearch answers again, then drain until nothing pending is
    available now (or Elasticsearch fails). `after_batch` runs after each batch (the indexer's heartbeat)."""
    total = DrainResult(resumed=resume_parked(store, index))
    while True:
        step = drain(store, index, batch=batch, schedule=schedule)
        after_batch()
        total.indexed += step.indexed
        total.retried += step.retried
        total.parked += step.parked
        if step.indexed == 0:
            return total


def outbox_status(store: Store) -> dict[str, int]:
    with store.session_factory() as s:
        pending = s.execute(
            select(func.count())
            .select_from(m.Outbox)
            .where(m.Outbox.processed_at.is_(None), m.Outbox.parked.is_(False))
        ).scalar_one()
        parked = s.execute(
            select(func.count()).select_from(m.Outbox).where(m.Outbox.parked.is_(True))
        ).scalar_one()
    return {"pending": pending, "parked": parked}


_worker_store: Store | None = None


def settle_heap() -> None:
    """For a process that builds documents from here on (a reindex's builder, `register indexer`): what it
    holds after starting (modules, the store, the models: about 170,000 objects) taken out of the garbage
    collector's sight for good. A batch of documents makes and keeps tens of thousands of new containers,
    so the collector ran its passes over all of that every few hundred records: a third of a builder's
    CPU (0.71 against 0.43 ms a document, 100,000 people). What the batches make is still collected."""
    gc.collect()
    gc.freeze()


def _start_worker(settings: Any) -> None:
    global _worker_store
    from ..store.open import build_store

    _worker_store = build_store(settings)
    settle_heap()


def _prepare(store: Store, ids: list[uuid.UUID], index: str) -> tuple[int, bytes]:
    """A batch made ready to send: how many documents, and the bulk request indexing them into `index`."""
    docs = _load_documents(store, ids)
    return len(docs), bulk_body(docs, index)


def _worker_prepare(ids: list[uuid.UUID], index: str) -> tuple[int, bytes]:
    assert _worker_store is not None
    return _prepare(_worker_store, ids, index)


def _prepared_in_order(
    store: Store, batches: Iterator[list[uuid.UUID]], workers: int, index: str
) -> Iterator[tuple[int, bytes]]:
    """Each batch's documents as a bulk request for `index`, in order. Building documents (decrypting every
    item and assembling) and serialising them is the reindex's cost; with workers > 1 it runs in that many
    processes while this one only sends what they made. At most two batches per worker are in flight, so
    memory stays flat whatever the register's size and whichever side is slower."""
    if workers <= 1:
        for ids in batches:
            yield _prepare(store, ids, index)
        return
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(
        workers, initializer=_start_worker, initargs=(store.settings,)
    ) as pool:
        pending: deque[AsyncResult[tuple[int, bytes]]] = deque()
        for ids in batches:
            pending.append(pool.apply_async(_worker_prepare, (ids, index)))
            if len(pending) >= 2 * workers:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()


class AliasMoved(AlreadyRunning):
    """The alias moved while a rebuild ran, so the rebuild did not swap it (its own index is deleted)."""


class AliasTaken(AlreadyRunning):
    """An index holds the alias's name, so no rebuild can point the alias anywhere until it is deleted."""


# How far before a rebuild's start the catch-up looks at rows indexers processed: room for the clocks of the
# machines the indexers run on to differ from this one's.
CATCH_UP_CLOCK_MARGIN = dt.timedelta(minutes=5)


def _catch_up(store: Store, index: SearchIndex, name: str, mark: int, started: dt.datetime) -> int:
    """Write again into index `name` every record whose change may be missing from it: the changes committed
    since the rebuild began (outbox rows after `mark`, done or not) and the rows indexers processed while it
    ran (their writes may have gone to the old index, through the alias, and been deleted with it). External
    versions keep the newest document, so writing a record twice is harmless. Returns the records written.

    On PostgreSQL the rows are read `FOR SHARE`: this waits for any indexer still holding rows it took before
    the alias swapped (it may have written them to the old index and not yet marked them done)."""
    query = select(m.Outbox.nominal_id).where(
        (m.Outbox.id > mark)
        | m.Outbox.processed_at.is_(None)
        | (m.Outbox.processed_at >= started - CATCH_UP_CLOCK_MARGIN)
    )
    with store.session_factory() as s:
        if s.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(read=True)
        changed = list(dict.fromkeys(s.scalars(query)))
        s.commit()
    for start in range(0, len(changed), 500):
        ids = changed[start : start + 500]
        docs = _load_documents(store, ids)
        index.write(docs, index=name)
        gone = {str(i) for i in ids} - {d["nominal_id"] for d in docs}
        if gone:  # erased while the rebuild ran: nothing may stay searchable
            index.delete(sorted(gone), index=name)
    return len(changed)


def reindex(
    store: Store, index: SearchIndex, *, batch: int = 500, progress: Progress = _quiet, workers: int = 1
) -> tuple[str, int]:
    """Build a fresh index from the database and point the alias at it. Returns the new index and the
    count.

    Indexers keep draining the outbox meanwhile, through the alias, into the old index. So after the swap the
    rebuild catches up (`_catch_up`): every record changed since it began, or processed by an indexer while
    it ran, is written again into the new index; what indexers write after the swap lands there already.

    One rebuild at a time (`AlreadyRunning` for a second while one runs): two at once would each point the
    alias at their own index, leaving it on both, where every search counts each person twice and no indexer
    can write through it."""
    with exclusively(store.engine, SEARCH_REBUILD, "a rebuild of the search index"):
        return _rebuild(store, index, batch=batch, progress=progress, workers=workers)


def _aliased(client: Elasticsearch, alias: str) -> list[str]:
    """The indexes `alias` points at, in name order."""
    return sorted(client.indices.get_alias(name=alias)) if client.indices.exists_alias(name=alias) else []


def _rebuild(
    store: Store, index: SearchIndex, *, batch: int, progress: Progress, workers: int
) -> tuple[str, int]:
    client, spec = index.client, index.spec
    started = clock.now()
    total = count_records(store.session_factory)
    with store.session_factory() as s:
        outbox_mark = s.execute(select(func.coalesce(func.max(m.Outbox.id), 0))).scalar_one()
    # Where the alias points as the rebuild begins: it swaps only if it still points there at the end
    old = _aliased(client, spec.alias)
    if not old and client.indices.exists(index=spec.alias):
        # Said now, not after building for minutes: Elasticsearch refuses an alias an index's name holds
        raise AliasTaken(
            f"an index named {spec.alias} holds the alias's name (indexers made it by writing while the "
            f"alias was missing, before decision 85): delete it (DELETE /{spec.alias}: it holds only copies "
            "of records) and run the rebuild again"
        )
    name = spec.new_name()
    definition = json.loads(json.dumps(spec.definition))
    # Built with no refresh and no replicas (each document indexed once, on the primary), both restored
    # before the alias swaps to it.
    settings = definition["settings"]
    definition["settings"] = {**settings, "refresh_interval": "-1", "number_of_replicas": 0}
    client.indices.create(index=name, **definition)
    done = 0
    progress(0, total)
    for count, body in _prepared_in_order(store, id_batches(store.session_factory, batch), workers, name):
        if count:
            index.write_body(body)
        done += count
        progress(done, total)
    # Changes committed while the rebuild ran, before the swap (so the swap shows few stale documents)...
    _catch_up(store, index, name, outbox_mark, started)
    client.indices.put_settings(
        index=name,
        settings={
            "refresh_interval": settings.get("refresh_interval", "1s"),
            "number_of_replicas": settings.get("number_of_replicas", 1),
        },
    )
    client.indices.refresh(index=name)
    # Swapped only if the alias still points where it did when the rebuild began, the removals atomic with
    # the addition: if it moved meanwhile (by hand, or by a rebuild of another register sharing this
    # cluster), nothing changes, rather than the alias ending on two indexes or on one that missed changes.
    moved = AliasMoved(
        f"the alias {spec.alias} moved while the rebuild ran (it pointed at {', '.join(old) or 'nothing'}): "
        "nothing was swapped; run the rebuild again"
    )
    now = _aliased(client, spec.alias)
    if not old and now == [spec.initial_name()]:
        # The first index, made meanwhile by a process starting on a new register (`ensure_for`): not a move
        # but the alias's first place. Everything indexers wrote to it was processed after the rebuild began,
        # so the catch-up after the swap replays it; swapped from it and deleted like any old index.
        old = now
    elif now != old:
        client.indices.delete(index=name)
        raise moved
    try:
        client.indices.update_aliases(
            actions=[{"remove": {"index": o, "alias": spec.alias, "must_exist": True}} for o in old]
            + [{"add": {"index": name, "alias": spec.alias}}]
        )
    except NotFoundError:
        client.indices.delete(index=name)
        raise moved from None
    # ... and again after it: what indexers wrote to the old index between the first catch-up and the swap.
    _catch_up(store, index, name, outbox_mark, started)
    for o in old:
        client.indices.delete(index=o)
    return name, done


@dataclass
class Drift:
    missing: list[str] = field(default_factory=list)  # in the database, not in the index
    stale: list[str] = field(default_factory=list)  # the index holds an older version
    extra: list[str] = field(default_factory=list)  # in the index, not in the database

    @property
    def total(self) -> int:
        return len(self.missing) + len(self.stale) + len(self.extra)


def check(store: Store, index: SearchIndex, *, repair: bool = False) -> Drift:
    """Compare the database's (id, version) with the index's, in one ordered pass over each."""
    index.refresh()
    indexed = dict(index.versions())
    drift = Drift()
    seen: set[str] = set()
    for ids in id_batches(store.session_factory, 5000):
        with store.session_factory() as s:
            rows = s.execute(select(m.Nominal.id, m.Nominal.version).where(m.Nominal.id.in_(ids))).all()
        for nominal_id, version in rows:
            key = str(nominal_id)
            seen.add(key)
            have = indexed.get(key)
            if have is None:
                drift.missing.append(key)
            elif have < version:
                drift.stale.append(key)
    drift.extra = sorted(set(indexed) - seen)
    if repair and drift.total:
        todo = [uuid.UUID(i) for i in drift.missing + drift.stale]
        for start in range(0, len(todo), 500):
            index.write(_load_documents(store, todo[start : start + 500]))
        if drift.extra:
            index.delete(drift.extra)
        index.refresh()
    return drift


class InProcessIndexer(AfterCommitWorker):
    """The indexer inside the API process: woken after every commit, it drains the outbox in a background
    thread (so a slow or absent Elasticsearch never delays a response), and polls every second for retries."""

    def __init__(self, store: Store, index: SearchIndex, poll_seconds: float = 1.0) -> None:
        schedule = RetrySchedule.from_settings(store.settings)
        super().__init__(
            store,
            lambda: drain_all(store, index, batch=store.settings.indexer_batch, schedule=schedule),
            "register-indexer",
            poll_seconds,
        )
        self.index = index

    def ensure_index(self) -> bool:
        """The first index, for a register with no records yet (`ensure_for`)."""
        return ensure_for(self.store, self.index)
