"""The embedded backend's word tokens follow their item or chronology entry: written with it, replaced when it
is corrected, gone when it is (a foreign key, on SQLite and PostgreSQL alike)."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import delete, func, select

from register.domain.record import ChronologyEntry, NewNominal, Section
from register.domain.rules import parse_item
from register.nominals import service
from register.search.backend import Viewer
from register.search.query import SearchRequest
from register.search.sql import SqlBackend
from register.store import models as m
from register.store.store import Store
from tests.factories import OFFICER
from tests.search.conformance import TODAY

POLICE = Viewer("kent", agency="police")


def found(store: Store, text: str) -> int:
    request = SearchRequest.model_validate(
        {"query": {"type": "group", "criteria": [{"type": "text", "text": text}]}}
    )
    return SqlBackend(store).search(request, TODAY, POLICE).total


def tokens(store: Store, **owner: uuid.UUID) -> int:
    ((column, value),) = owner.items()
    with store.session_factory() as s:
        return int(
            s.execute(
                select(func.count()).select_from(m.TextToken).where(getattr(m.TextToken, column) == value)
            ).scalar_one()
        )


def test_word_tokens_are_written_replaced_and_deleted_with_their_owner(store: Store) -> None:
    with store.unit_of_work() as uow:
        nid = service.create_nominal(
            uow,
            OFFICER,
            NewNominal.model_validate(
                {
                    "nominal_type": "rso",
                    "area": "kent",
                    "managing_unit": "Unit",
                    "lead_agency": "police",
                    "mappa_category": 1,
                    "mappa_level": 1,
                    "identity": {
                        "forenames": "Test",
                        "surname": "Person",
                        "date_of_birth": "1980-01-01",
                        "gender": "male",
                    },
                },
                context={"today": TODAY},
            ),
        )
        item, version = service.add_item(
            uow,
            OFFICER,
            nid,
            parse_item(
                Section.MARKS, {"kind": "tattoo", "location": "neck", "description": "swallow"}, TODAY
            ),
            expected_version=1,
        )
        entry, version = service.append_chronology(
            uow,
            OFFICER,
            nid,
            ChronologyEntry(
                occurred_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
                kind="contact",
                summary="Met at the ferry terminal",
            ),
            expected_version=version,
        )
    assert tokens(store, item_id=item) == 1 and tokens(store, entry_id=entry) == 5
    assert found(store, "swallow") == 1 and found(store, "ferry terminal") == 1

    with store.unit_of_work() as uow:
        service.correct_item(
            uow,
            OFFICER,
            nid,
            item,
            parse_item(Section.MARKS, {"kind": "tattoo", "location": "neck", "description": "anchor"}, TODAY),
            expected_version=version,
        )
    assert tokens(store, item_id=item) == 1
    assert found(store, "swallow") == 0 and found(store, "anchor") == 1

    with store.unit_of_work() as uow:  # as an erasure deletes them
        uow.session.execute(delete(m.Item).where(m.Item.id == item))
        uow.session.execute(delete(m.ChronologyEntry).where(m.ChronologyEntry.id == entry))
    assert tokens(store, item_id=item) == 0 and tokens(store, entry_id=entry) == 0
