"""The reindex's documents, read straight from the stored payloads (`stored_document`), are exactly what
`document(record)` makes of the same records read through the domain models: on the demo's people, a synthetic
register, and records with ended items, a merge, an archived record and an erased one. Runs on both
backends."""

from __future__ import annotations

import datetime as dt
import uuid

from register.archive import service as archive
from register.archive.schemas import ArchiveRequest
from register.demo import load_once
from register.domain.actors import SystemActor
from register.domain.notification import add_months
from register.domain.record import Section
from register.merges import service as merges
from register.nominals import service
from register.retention import service as retention
from register.search import indexer as idx
from register.search.documents import document
from register.store import models as m
from register.store.records import id_batches
from register.store.store import Store
from register.synthetic import service as synthetic
from tests.factories import OFFICER, SUPERVISOR, add, create
from tests.search.test_indexer import seed


def _items(store: Store, nominal_id: uuid.UUID, section: Section) -> list[uuid.UUID]:
    with store.session_factory() as s:
        return list(
            s.scalars(
                m.Item.__table__.select()
                .with_only_columns(m.Item.id)
                .where(m.Item.nominal_id == nominal_id, m.Item.section == section.value)
                .order_by(m.Item.recorded_at, m.Item.id)
            )
        )


def _version(store: Store, nominal_id: uuid.UUID) -> int:
    with store.unit_of_work() as uow:
        return uow.nominals.header_row(nominal_id).version


def _end(store: Store, nominal_id: uuid.UUID, section: Section) -> None:
    with store.unit_of_work() as uow:
        item = _items(store, nominal_id, section)[0]
        service.end_item(
            uow, OFFICER, nominal_id, item, "no longer current", expected_version=_version(store, nominal_id)
        )


def test_stored_documents_are_the_documents_of_the_records(store: Store) -> None:
    load_once(store, SystemActor("demo"))
    synthetic.generate(store, 120, 7, caseload=None)
    a, b, c = seed(store)
    # Ended items leave the document (an alias, a vehicle, intelligence with an audience).
    _end(store, a, Section.ALIASES)
    _end(store, a, Section.INTELLIGENCE)
    with store.unit_of_work() as uow:
        d = create(uow, identity={"forenames": "Ann  Marie", "surname": "O'Neil-Smith"})
        _, v = add(uow, d, Section.VEHICLES, {"vrm": "ab12cde", "relationship": "owner"}, 1)
        _, v = add(uow, d, Section.CONTACTS, {"kind": "phone", "value": "+44 7700 900123"}, v)
        _, v = add(
            uow, d, Section.ADDRESSES, {"kind": "home", "postcode": "me14 1xx", "town": "Maidstone"}, v
        )
    _end(store, d, Section.VEHICLES)
    # A merge (b into a), an archived record (c) and an erased one.
    with store.unit_of_work() as uow:
        merges.merge(
            uow,
            SUPERVISOR,
            a,
            b,
            expected_version=_version(store, a),
            merged_version=_version(store, b),
        )
        archive.archive(
            uow, SUPERVISOR, c, ArchiveRequest(reason="died"), expected_version=_version(store, c)
        )
    retention.run(store, SystemActor("retention"), today=add_months(dt.date.today(), 84))

    compared = 0
    for ids in id_batches(store.session_factory, 97):
        with store.unit_of_work() as uow:
            expected = sorted(
                (document(r) for r in uow.nominals.load_many(ids, chronology=True)),
                key=lambda doc: doc["nominal_id"],
            )
        got = idx._load_documents(store, ids)
        assert [doc["nominal_id"] for doc in got] == [doc["nominal_id"] for doc in expected]
        for mine, theirs in zip(got, expected, strict=True):
            assert mine == theirs, mine["nominal_id"]
            compared += 1
    assert compared > 150
    # What the comparison covered: merged, archived, restricted, narrative for some agencies only, aliases.
    docs = idx._load_documents(store, [i for batch in id_batches(store.session_factory, 1000) for i in batch])
    assert {"merged", "archived", "active"} <= {doc["status"] for doc in docs}
    assert any(doc["restricted"] for doc in docs)
    assert any(p["audiences"] != ["all"] for doc in docs for p in doc["narrative"])
    assert any(len(doc["names"]) > 2 for doc in docs)
    assert str(c) not in {doc["nominal_id"] for doc in docs}  # erased by the retention run
