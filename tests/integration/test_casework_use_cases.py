"""The use cases behind the supervisor's casework pages (web/transfers.py, duplicates.py, retention.py): what
each shows to whom (another area's restricted record only as its stub, another area's transfers and records
not at all), what it audits, and the reasons kept with a decision."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from sqlalchemy import select

from register.access.policy import Policy
from register.archive import service as archive
from register.archive.schemas import ArchiveRequest
from register.domain.actors import Principal
from register.domain.enums import Agency, ArchiveReason, Area, Role
from register.domain.errors import NotFound
from register.domain.record import OffenderManager
from register.merges import service as merges
from register.retention import service as retention
from register.store import models as m
from register.store.store import Store
from register.transfers import service as transfers
from register.transfers.schemas import Acceptance, TransferRequest
from tests.factories import SUPERVISOR, create

ESSEX_SUPERVISOR = Principal(
    "essex.sup1", Agency.POLICE, Area.ESSEX, frozenset({Role.SUPERVISOR}), "DS Essex"
)
LONDON_SUPERVISOR = Principal(
    "london.sup1", Agency.POLICE, Area.LONDON, frozenset({Role.SUPERVISOR}), "DS London"
)


@pytest.fixture
def policy(store: Store) -> Policy:
    return Policy.load(store.settings.policy_file)


def events(store: Store, tag: str) -> list[m.AuditEvent]:
    with store.session_factory() as s:
        return list(s.scalars(select(m.AuditEvent).where(m.AuditEvent.tag == tag).order_by(m.AuditEvent.seq)))


def ask(store: Store, nominal_id: uuid.UUID, reason: str) -> uuid.UUID:
    with store.unit_of_work() as uow:
        version = uow.nominals.header_row(nominal_id).version
        transfer_id, _ = transfers.start(
            uow,
            SUPERVISOR,
            nominal_id,
            TransferRequest(to_area=Area.ESSEX, reason=reason),
            expected_version=version,
        )
    return transfer_id


def test_the_receiving_desk_shows_names_and_reasons_but_a_restricted_record_only_as_its_stub(
    store: Store, policy: Policy
) -> None:
    with store.unit_of_work() as uow:
        open_id = create(uow, SUPERVISOR)
        secret_id = create(
            uow,
            SUPERVISOR,
            restricted=True,
            identity={"forenames": "Hidden", "surname": "Person", "date_of_birth": "1980-01-01"},
        )
    ask(store, open_id, "moved to Chelmsford")
    ask(store, secret_id, "moved to Harlow")
    with store.unit_of_work() as uow:
        incoming = transfers.desk(uow, ESSEX_SUPERVISOR, policy, "incoming")
        outgoing = transfers.desk(uow, SUPERVISOR, policy, "outgoing")
        elsewhere = transfers.desk(uow, LONDON_SUPERVISOR, policy, "incoming")
    shown = {t.nominal_id: t for t in incoming}
    assert shown[open_id].person.surname == "Zabrowski" and shown[open_id].reason == "moved to Chelmsford"
    stub = shown[secret_id]
    assert stub.person.stub and stub.person.surname is None and stub.reason is None
    assert {t.person.surname for t in outgoing} == {"Zabrowski", "Person"}  # the sending area's own
    assert elsewhere == []
    # one listing event each, and a consultation of the other area's record shown by name (not the stub)
    listed = events(store, "transfer:request:list")
    assert [e.nominal_id for e in listed if e.actor_user == "essex.sup1" and e.nominal_id] == [open_id]
    assert not [e for e in listed if e.actor_user == "kent.sup1" and e.nominal_id]


def test_a_transfer_is_seen_by_its_two_areas_only_and_acceptance_keeps_its_note(
    store: Store, policy: Policy
) -> None:
    with store.unit_of_work() as uow:
        nominal_id = create(uow, SUPERVISOR)
    transfer_id = ask(store, nominal_id, "moved to Chelmsford")
    with store.unit_of_work() as uow, pytest.raises(NotFound):
        transfers.view(uow, LONDON_SUPERVISOR, policy, transfer_id)
    manager = OffenderManager(agency=Agency.POLICE, name="DC Fenwick", date_from=dt.date(2026, 1, 1))
    with store.unit_of_work() as uow:
        transfers.accept(
            uow,
            ESSEX_SUPERVISOR,
            transfer_id,
            Acceptance(managing_unit="Chelmsford MOSOVO", offender_managers=[manager], reason="verified"),
        )
    with store.unit_of_work() as uow:
        seen = transfers.view(uow, SUPERVISOR, policy, transfer_id)  # the sending area, after acceptance
    t = seen.transfer
    assert (t.status, t.decision_reason, t.managing_unit) == ("accepted", "verified", "Chelmsford MOSOVO")
    assert (t.person.area, t.person.managing_unit, t.person.offender_managers) == (
        "essex",
        "Chelmsford MOSOVO",
        ["DC Fenwick"],
    )
    assert [h.id for h in seen.history] == [transfer_id]
    read = events(store, "transfer:request:read")[-1]
    assert read.nominal_id == nominal_id and json.loads(read.details or "{}")["transfer"] == str(transfer_id)


def test_the_retention_desk_counts_and_lists_only_the_areas_records(store: Store) -> None:
    today = dt.date(2026, 6, 1)
    with store.unit_of_work() as uow:
        due = create(uow, SUPERVISOR)
        held = create(uow, SUPERVISOR)
        create(uow, SUPERVISOR)  # active, no hold: in no view
        for nominal_id in (due, held):
            archive.archive(
                uow, SUPERVISOR, nominal_id, ArchiveRequest(reason=ArchiveReason.DIED), expected_version=1
            )
        retention.review(uow, SUPERVISOR, due, "kept", expected_version=2, today=dt.date(2024, 5, 1))
        retention.set_hold(uow, SUPERVISOR, held, "enquiry", hold=True, expected_version=2)
    with store.unit_of_work() as uow:
        desk = retention.desk(uow, SUPERVISOR, "review", today=today)
        essex = retention.desk(uow, ESSEX_SUPERVISOR, "archived", today=today)
        holds = retention.desk(uow, SUPERVISOR, "holds", today=today)
    assert desk.counts == {"review": 1, "disposal": 0, "holds": 1, "archived": 2}
    assert [r.id for r in desk.rows] == [due] and desk.rows[0].review_on == dt.date(2026, 5, 1)
    assert [r.id for r in holds.rows] == [held] and holds.rows[0].legal_hold
    assert essex.counts == {"review": 0, "disposal": 0, "holds": 0, "archived": 0} and essex.rows == []
    assert json.loads(events(store, "nominal:retention:read")[0].details or "{}")["ids"] == [str(due)]


def test_a_merge_keeps_its_reason_on_the_survivor_and_the_area_lists_its_merges(store: Store) -> None:
    with store.unit_of_work() as uow:
        survivor = create(uow, SUPERVISOR)
        merged = create(
            uow,
            SUPERVISOR,
            identity={"forenames": "Quentyn", "surname": "Zabrowski", "date_of_birth": "1971-02-03"},
        )
        merges.merge(
            uow,
            SUPERVISOR,
            survivor,
            merged,
            expected_version=1,
            merged_version=1,
            reason="same fingerprints",
        )
    with store.unit_of_work() as uow:
        record = uow.nominals.load(survivor)
        listed = merges.area_merges(uow, SUPERVISOR)
        essex = merges.area_merges(uow, ESSEX_SUPERVISOR)
        history = merges.merge_history(uow, SUPERVISOR, survivor, purpose=None)
    notes = [e.data for e in record.chronology if e.data.summary == "Duplicate record merged in"]
    assert [n.details for n in notes] == ["same fingerprints"]
    assert [(x.survivor_name, x.merged_name) for x in listed] == [
        ("ZABROWSKI, Quentin", "ZABROWSKI, Quentyn")
    ]
    assert essex == [] and [h.merged_id for h in history] == [merged]
    merge_events = events(store, "nominal:record:merge")
    assert all(json.loads(e.details or "{}")["reason_given"] for e in merge_events)
