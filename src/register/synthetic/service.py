"""`register generate`: write a synthetic register in bulk, through the domain models and the same encryption
as real writes (per-record data keys wrapped by the active key-encryption key, AES-GCM bound to table, column
and row, blind tokens, plain metadata, derived notification dates, retention schedule for archived records).

Rows go in with COPY on PostgreSQL (multi-row INSERTs on SQLite), one transaction per batch of people, in one
process or several (`workers`), so 100,000 people (about two million chronology entries) take minutes, not
hours. Each batch is audited as one "collection" event naming the range of people it wrote. Nothing goes to
the search outbox: run `register reindex` afterwards.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table

from ..audit.events import Action, AuditEntry
from ..audit.tags import Tag
from ..crypto.envelope import associated_data, new_data_key, seal
from ..domain import history, notification, retention
from ..domain.actors import Actor, SystemActor
from ..domain.enums import NominalStatus
from ..domain.record import (
    Address,
    Alias,
    Contact,
    Offence,
    Order,
    Section,
    entry_pieces,
    item_pieces,
    record_tokens,
)
from ..retention import service as retention_service
from ..store import case_facts
from ..store import models as m
from ..store.bulk import write_rows
from ..store.duplicates import rebuild_pairs, refresh_pairs
from ..store.records import NominalRepository, text_token_rows
from ..store.sweep import sweep
from ..store.uow import UnitOfWork
from .people import BENCH_CASELOAD, Caseload, Person, PersonFactory

ACTOR = SystemActor("synthetic-generator")


@dataclass
class Generated:
    people: int = 0
    items: int = 0
    entries: int = 0
    tokens: int = 0
    duplicates: int = 0
    archived: int = 0


def _rows(
    store: Any,
    people: list[Person],
    today: dt.date,
    now: dt.datetime,
    rules: dict,
    actor: Actor = ACTOR,
    agency: str = "police",
) -> dict[str, list[dict[str, Any]]]:
    keyring, blind = store.keys.keyring, store.blind
    out: dict[str, list[dict[str, Any]]] = {
        "keys": [],
        "nominals": [],
        "items": [],
        "entries": [],
        "tokens": [],
        "text_tokens": [],
        "history": [],
    }
    for p in people:
        key_id = uuid.uuid4()
        key = new_data_key()
        version, wrapped = keyring.wrap(key, key_id.bytes)
        out["keys"].append(
            {"id": key_id, "nominal_id": p.id, "kek_version": version, "wrapped": wrapped, "created_at": now}
        )
        identity = p.new.identity
        derived = notification.compute(
            identity,
            [i for i in p.items if i.section == Section.OFFENCES and isinstance(i, Offence)],
            [i for i in p.items if i.section == Section.ORDERS and isinstance(i, Order)],
            [i for i in p.items if i.section == Section.ADDRESSES and isinstance(i, Address)],
            p.chronology,
            today,
        )
        row = {
            "id": p.id,
            "version": 1 + len(p.items) + len(p.chronology),
            "status": NominalStatus.ACTIVE.value,
            "data_key_id": key_id,
            "identity_sealed": seal(
                key, identity.model_dump_json().encode(), associated_data("nominal", "identity_sealed", p.id)
            ),
            "created_at": now,
            "created_by": actor.user_id,
            "updated_at": now,
            "updated_by": actor.user_id,
            "merged_into_id": None,
            "legal_hold": False,
            "erased_on": None,
            "notification_subject": derived.subject,
            "notification_indefinite": derived.indefinite if derived.subject else None,
            "notification_ends_on": derived.ends_on,
            "notification_review_from": derived.review_from,
            "notification_due_on": derived.next_due,
            "archived_reason": None,
            "archived_on": None,
            "retention_review_on": None,
            "dispose_from": None,
            **NominalRepository._header_columns(p.new),
        }
        if p.archived is not None and p.archived_on is not None:
            rule = rules[p.archived]
            row.update(
                status=NominalStatus.ARCHIVED.value,
                archived_reason=p.archived.value,
                archived_on=p.archived_on,
                retention_review_on=retention.next_review(rule, p.archived_on),
                dispose_from=retention.dispose_from(rule, p.archived_on, identity.date_of_birth),
            )
        out["nominals"].append(row)
        out["history"] += _history(p, row, now, actor, derived.ends_on)
        out["tokens"] += [
            {"nominal_id": p.id, "item_id": None, "kind": k, "token": blind.token(k, v)}
            for k, v in dict.fromkeys(identity.tokens())
        ]
        combined = record_tokens(
            identity,
            [i for i in p.items if isinstance(i, Alias)],
            [i for i in p.items if isinstance(i, Contact)],
        )
        out["tokens"] += [
            {"nominal_id": p.id, "item_id": p.id, "kind": k, "token": blind.token(k, v)}
            for k, v in dict.fromkeys(combined)
        ]
        area = p.new.area.value
        for item_id, item in zip(p.item_ids, p.items, strict=True):
            out["items"].append(
                {
                    "id": item_id,
                    "nominal_id": p.id,
                    "section": item.section.value,
                    "data_key_id": key_id,
                    "payload_sealed": seal(
                        key,
                        item.model_dump_json().encode(),
                        associated_data("item", "payload_sealed", item_id),
                    ),
                    "recorded_by": actor.user_id,
                    "recorded_agency": agency,
                    "recorded_area": area,
                    "recorded_at": now,
                    "updated_by": actor.user_id,
                    "updated_at": now,
                    "ended_at": None,
                    "ended_by": None,
                    "ended_reason": None,
                    "merged_from_id": None,
                    **NominalRepository._plain_columns(item),
                }
            )
            out["tokens"] += [
                {"nominal_id": p.id, "item_id": item_id, "kind": k, "token": blind.token(k, v)}
                for k, v in dict.fromkeys(item.tokens())
            ]
            out["text_tokens"] += text_token_rows(blind, item_pieces(item), item_id=item_id)
        for entry_id, entry in zip(p.entry_ids, p.chronology, strict=True):
            out["entries"].append(
                {
                    "id": entry_id,
                    "nominal_id": p.id,
                    "occurred_at": entry.occurred_at,
                    "kind": entry.kind.value,
                    "amends_id": None,
                    "breach_of": None,
                    "outcome": None,
                    "data_key_id": key_id,
                    "payload_sealed": seal(
                        key,
                        entry.model_dump_json().encode(),
                        associated_data("chronology_entry", "payload_sealed", entry_id),
                    ),
                    "recorded_by": actor.user_id,
                    "recorded_agency": agency,
                    "recorded_area": area,
                    "recorded_at": now,
                    "merged_from_id": None,
                }
            )
            out["text_tokens"] += text_token_rows(blind, entry_pieces(entry), entry_id=entry_id)
    return out


def _history(
    p: Person, row: dict[str, Any], now: dt.datetime, actor: Actor, notification_ends_on: dt.date | None
) -> list[dict[str, Any]]:
    """The statistics' history of a generated person, as the use cases would have written it: the initial
    values at creation, what the items in force say, and the archiving."""
    changes = [
        history.Change(
            now,
            row["area"],
            row["managing_unit"],
            row["mappa_category"],
            row["mappa_level"],
            history.ACTIVE,
            history.COMMUNITY,
        )
    ]
    sources: list[tuple[str, uuid.UUID | None]] = [("initial", None)]
    for item_id, item in zip(p.item_ids, p.items, strict=True):
        plain = item.plain()
        found = history.from_item(
            item.section.value,
            None if plain.kind is None else str(plain.kind),
            None if plain.status is None else str(plain.status),
            plain.starts_on,
            plain.ends_on,
            plain.category,
            plain.level,
        )
        changes += found
        sources += [(item.section.value, item_id)] * len(found)
    if notification_ends_on is not None:  # as store.history.notification_end writes it
        changes.append(
            history.Change(history.start_of_day(notification_ends_on), status=history.NOTIFICATION_ENDED)
        )
        sources.append(("notification", None))
    if row["status"] == NominalStatus.ARCHIVED.value and row["archived_on"] is not None:
        changes.append(history.Change(history.start_of_day(row["archived_on"]), status=history.ARCHIVED))
        sources.append(("archive", None))
    return [
        {
            "nominal_id": p.id,
            "source": source,
            "source_id": source_id,
            "effective_at": c.effective_at,
            "area": c.area,
            "managing_unit": c.managing_unit,
            "category": c.category,
            "level": c.level,
            "status": c.status,
            "custody": c.custody,
            "recorded_at": now,
            "recorded_by": actor.user_id,
            "superseded_at": None,
        }
        for c, (source, source_id) in zip(changes, sources, strict=True)
    ]


def insert_people(
    uow: UnitOfWork,
    people: list[Person],
    today: dt.date,
    *,
    now: dt.datetime | None = None,
    actor: Actor = ACTOR,
    agency: str = "police",
    pairs: bool = True,
) -> dict[str, list[dict[str, Any]]]:
    """Write these people in the unit of work, table by table (COPY on PostgreSQL, multi-row INSERTs on
    SQLite; the caller audits and commits); returns the rows written. Each item and entry is recorded by
    `actor` for `agency`. `pairs=False`: their suspected duplicates are left to the caller (a parallel
    generator works out the whole register's at the end)."""
    now = now or dt.datetime.now(dt.UTC)
    rows = _rows(uow.store, people, today, now, retention_service.policy(uow), actor, agency)
    connection = uow.session.connection()  # no ORM bookkeeping per row
    for model, name in (
        (m.DataKey, "keys"),
        (m.Nominal, "nominals"),
        (m.Item, "items"),
        (m.ChronologyEntry, "entries"),
        (m.BlindToken, "tokens"),
        (m.TextToken, "text_tokens"),
        (m.NominalHistory, "history"),
    ):
        write_rows(connection, cast(Table, model.__table__), rows[name])
    ids = [row["id"] for row in rows["nominals"]]
    # written without claiming versions: their caseload facts (and suspected duplicates) are worked out here
    case_facts.refresh(uow.session, ids)
    if pairs:
        refresh_pairs(uow.session, ids)
    return rows


def caseload_takers(factory: PersonFactory, nominals: int, caseload: Caseload | None) -> frozenset[int]:
    """The indexes of the people `caseload`'s user manages: the first `caseload.size` it takes, in index
    order (worked out before writing, so batches may be written in any order or in parallel)."""
    taken: list[int] = []
    index = 0
    while caseload is not None and len(taken) < caseload.size and index < nominals:
        if caseload.takes(factory.person(index)):
            taken.append(index)
        index += 1
    return frozenset(taken)


@dataclass(frozen=True)
class _Plan:
    """What every batch of one run shares (sent once to each worker process)."""

    nominals: int
    seed: int
    today: dt.date
    batch: int
    caseload: Caseload | None
    takers: frozenset[int]
    pairs: bool  # each batch works out its people's duplicate pairs (False: the run does, once, at the end)


def _write_batch(uow: UnitOfWork, plan: _Plan, factory: PersonFactory, start: int) -> Generated:
    """Write the people of the batch beginning at `start` in this unit of work, audited as one collection."""
    people = [factory.person(i) for i in range(start, min(plan.nominals, start + plan.batch))]
    if plan.caseload is not None:
        people = [
            plan.caseload.assign(person) if start + n in plan.takers else person
            for n, person in enumerate(people)
        ]
    rows = insert_people(uow, people, plan.today, now=dt.datetime.now(dt.UTC), pairs=plan.pairs)
    uow.audit.record(
        AuditEntry(
            Action.COLLECTION,
            Tag.SYNTHETIC_GENERATE,
            ACTOR,
            details={"seed": plan.seed, "from": start, "to": start + len(people) - 1, "records": len(people)},
        )
    )
    return Generated(
        people=len(people),
        items=len(rows["items"]),
        entries=len(rows["entries"]),
        tokens=len(rows["tokens"]),
        duplicates=sum(p.duplicate_of is not None for p in people),
        archived=sum(p.archived is not None for p in people),
    )


def _add(total: Generated, done: Generated) -> None:
    for field in dataclasses.fields(Generated):
        setattr(total, field.name, getattr(total, field.name) + getattr(done, field.name))


_worker: tuple[Any, _Plan, PersonFactory] | None = None


def _start_worker(settings: Any, plan: _Plan) -> None:
    global _worker
    import multiprocessing.util

    from ..store.open import build_store

    store = build_store(settings)
    # A pool's worker ends without running atexit hooks, but with its finalizers: close its connections
    # rather than leave the server to find them dropped.
    multiprocessing.util.Finalize(store, store.dispose, exitpriority=10)
    _worker = (store, plan, PersonFactory(plan.seed, plan.today))


def _worker_batch(start: int) -> Generated:
    assert _worker is not None
    store, plan, factory = _worker
    with store.unit_of_work() as uow:
        return _write_batch(uow, plan, factory, start)


def generate(
    store: Any,
    nominals: int,
    seed: int,
    *,
    today: dt.date | None = None,
    batch: int = 500,
    progress: Callable[[int, int], None] = lambda done, total: None,
    caseload: Caseload | None = BENCH_CASELOAD,
    workers: int = 1,
) -> Generated:
    """Write `nominals` synthetic people for `seed`. The same seed gives the same people (ids, names, dates,
    items); ciphertexts differ, as they must (fresh keys and nonces). With `caseload` (by default the
    benchmark's offender manager), its user manages the first `caseload.size` people it `takes`.

    Each batch of people is its own unit of work (an interrupted run keeps the batches it finished). With
    `workers` > 1 the batches are written by that many processes at once (building people and sealing them
    is most of the cost); batches written at the same time cannot see each other's tokens, so the
    suspected-duplicate pairs are then worked out once, for the whole register, at the end, instead of by
    each batch."""
    if workers > 1 and store.engine.dialect.name == "sqlite":
        raise ValueError("SQLite takes one writer at a time: generate with workers=1")
    today = today or dt.date.today()
    factory = PersonFactory(seed, today)
    takers = caseload_takers(factory, nominals, caseload)
    plan = _Plan(nominals, seed, today, batch, caseload, takers, pairs=workers <= 1)
    result = Generated()

    def step(uow: UnitOfWork, start: int) -> int:
        done = _write_batch(uow, plan, factory, start)
        _add(result, done)
        return done.people

    starts = range(0, nominals, batch)
    if workers <= 1:
        sweep(store, starts, step, total=nominals, progress=progress)
        return result
    import multiprocessing

    progress(0, nominals)
    with multiprocessing.get_context("spawn").Pool(
        workers, initializer=_start_worker, initargs=(store.settings, plan)
    ) as pool:
        for done in pool.imap_unordered(_worker_batch, starts):
            _add(result, done)
            progress(result.people, nominals)
        pool.close()  # the workers finish and dispose of their stores (leaving the block would kill them)
        pool.join()
    with store.unit_of_work() as uow:
        rebuild_pairs(uow.session)
    return result
