"""The association chart's use case on SQLite and PostgreSQL: who is linked and by what, what the policy lets
each user see of them (another area's record without a purpose, a restricted record elsewhere, an item whose
audience excludes the user's agency), one audit event per person shown, and a fixed number of statements
whatever the number of people."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from sqlalchemy import select, update

from register.access.policy import Policy
from register.associations import service
from register.associations.schemas import AssociationGraph, LinkKind
from register.config import Settings
from register.domain.actors import Principal
from register.domain.enums import Agency, Area, Role
from register.domain.errors import InvalidValue
from register.domain.record import Section
from register.store import models as m
from register.store.store import Store
from tests.factories import OFFICER, add, create
from tests.integration.test_page_queries import statements

TODAY = dt.date(2026, 11, 30)
PROBATION = Principal("kent.pom1", Agency.PROBATION, Area.KENT, frozenset({Role.OFFENDER_MANAGER}), "PO Test")
ESSEX = Principal("essex.om1", Agency.POLICE, Area.ESSEX, frozenset({Role.OFFENDER_MANAGER}), "DC Essex")


@pytest.fixture
def policy(settings: Settings) -> Policy:
    return Policy.load(settings.policy_file)


def person(store: Store, surname: str, *items: tuple[Section, dict[str, Any]], **header: Any) -> uuid.UUID:
    with store.unit_of_work() as uow:
        nominal_id = create(
            uow,
            identity={
                "forenames": "Test",
                "surname": surname,
                "date_of_birth": "1980-01-01",
                "gender": "male",
            },
            **header,
        )
        version = 1
        for section, payload in items:
            _, version = add(uow, nominal_id, section, payload, version)
    return nominal_id


def phone(number: str) -> tuple[Section, dict[str, Any]]:
    return (Section.CONTACTS, {"kind": "phone", "value": number})


def chart(
    store: Store, policy: Policy, who: Principal, centre: uuid.UUID, level: int, **kw: Any
) -> AssociationGraph:
    with store.unit_of_work() as uow:
        return service.associations(uow, who, policy, centre, level=level, today=TODAY, request_id="t", **kw)


def links(graph: AssociationGraph) -> set[tuple[uuid.UUID, uuid.UUID, LinkKind, str]]:
    return {(link.source, link.target, link.kind, link.value) for link in graph.links}


def test_people_are_linked_by_shared_values_and_named_associates_two_levels_deep(
    store: Store, policy: Policy
) -> None:
    centre = person(
        store,
        "Centre",
        phone("07700 900001"),
        (Section.VEHICLES, {"vrm": "gk19 xbw"}),
        (Section.ADDRESSES, {"kind": "home", "lines": ["1 High St"], "postcode": "me16 8rp"}),
        (Section.CONTACTS, {"kind": "online_identity", "value": "@someone", "platform": "Snapchat"}),
    )
    by_phone = person(store, "Phone", phone("+44 7700 900001"), phone("07700 900777"))
    by_vehicle = person(store, "Vehicle", (Section.VEHICLES, {"vrm": "GK19XBW"}))
    by_postcode = person(store, "Postcode", (Section.ADDRESSES, {"kind": "home", "postcode": "ME16 8RP"}))
    in_prison = person(store, "Prisoner", (Section.ADDRESSES, {"kind": "prison", "postcode": "ME16 8RP"}))
    online = person(store, "Online", (Section.CONTACTS, {"kind": "online_identity", "value": "someone"}))
    with store.unit_of_work() as uow:
        version = uow.nominals.header_row(centre).version
    co = person(store, "Cooffender")
    with store.unit_of_work() as uow:
        add(
            uow,
            centre,
            Section.ASSOCIATES,
            {"relationship": "co_offender", "linked_nominal_id": str(co)},
            version,
        )
    names_centre = person(
        store, "Partner", (Section.ASSOCIATES, {"relationship": "partner", "linked_nominal_id": str(centre)})
    )
    second = person(store, "Second", phone("07700 900777"))
    ended = person(store, "Ended", (Section.VEHICLES, {"vrm": "GK19XBW", "date_to": "2025-01-01"}))

    one = chart(store, policy, OFFICER, centre, 1)
    assert one.nodes[0].id == centre and one.nodes[0].level == 0
    level_one = {n.id for n in one.nodes if n.level == 1}
    assert level_one == {by_phone, by_vehicle, by_postcode, online, co, names_centre}
    assert in_prison not in level_one and ended not in level_one and second not in level_one
    assert {
        (centre, by_phone, LinkKind.PHONE, "07700900001"),
        (centre, by_vehicle, LinkKind.VEHICLE, "GK19XBW"),
        (centre, by_postcode, LinkKind.ADDRESS, "ME16 8RP"),
        (centre, online, LinkKind.ONLINE_IDENTITY, "someone (Snapchat)"),
        (centre, co, LinkKind.CO_OFFENDER, "Co-offender"),
        (centre, names_centre, LinkKind.ASSOCIATE, "Partner"),
    } <= links(one)
    assert all(n.shown_as == "record" and n.surname for n in one.nodes)

    two = chart(store, policy, OFFICER, centre, 2)
    assert {(n.id, n.level) for n in two.nodes if n.level == 2} == {(second, 2)}
    assert (by_phone, second, LinkKind.PHONE, "07700900777") in links(two)

    with pytest.raises(InvalidValue):
        chart(store, policy, OFFICER, centre, 3)


def test_what_the_policy_hides_makes_no_node_and_no_edge(store: Store, policy: Policy) -> None:
    centre = person(store, "Centre", phone("07700 900001"), (Section.VEHICLES, {"vrm": "AB12CDE"}))
    elsewhere = person(store, "Elsewhere", phone("07700 900001"), area="essex")
    restricted = person(
        store, "Restricted", (Section.VEHICLES, {"vrm": "AB12CDE"}), area="essex", restricted=True
    )
    police_only = person(store, "Policeonly", phone("07700 900001"))

    # another area's records without a purpose: only their owning area, restricted or not (a stub would tell)
    without = chart(store, policy, OFFICER, centre, 2)
    shown = {n.id: n for n in without.nodes}
    assert shown[elsewhere].shown_as == shown[restricted].shown_as == "withheld"
    assert shown[elsewhere].surname is None and shown[restricted].surname is None
    assert shown[restricted].message == shown[elsewhere].message == service.WITHHELD
    # with the purpose stated for the centre (the same enquiry): the restricted record is only its stub
    purposed = chart(store, policy, OFFICER, centre, 1, purpose="op kestrel")
    shown = {n.id: n for n in purposed.nodes}
    assert shown[elsewhere].shown_as == "record" and shown[elsewhere].surname == "Elsewhere"
    assert shown[restricted].shown_as == "stub" and shown[restricted].surname is None
    # or the purpose stated for that record alone
    own = chart(store, policy, OFFICER, centre, 1, purposes={elsewhere: "op owl"})
    assert {n.id: n.shown_as for n in own.nodes}[elsewhere] == "record"

    # an item whose audience excludes the agency makes no edge (and so no node) for that agency
    with store.unit_of_work() as uow:
        uow.session.execute(
            update(m.Item)
            .where(m.Item.nominal_id == police_only, m.Item.section == Section.CONTACTS.value)
            .values(audience="police")
        )
    assert police_only in {n.id for n in chart(store, policy, OFFICER, centre, 1).nodes}
    for_probation = chart(store, policy, PROBATION, centre, 1)
    assert police_only not in {n.id for n in for_probation.nodes}
    assert all(police_only not in (link.source, link.target) for link in for_probation.links)


def test_every_person_shown_is_audited_once_with_the_purpose_in_force(store: Store, policy: Policy) -> None:
    centre = person(store, "Centre", phone("07700 900001"))
    near = person(store, "Near", phone("07700 900001"))
    elsewhere = person(store, "Elsewhere", phone("07700 900001"), area="essex")
    with store.unit_of_work() as uow:
        before = uow.session.scalar(select(m.AuditEvent.seq).order_by(m.AuditEvent.seq.desc()).limit(1))
    chart(store, policy, OFFICER, centre, 1, purposes={elsewhere: "op owl"})
    with store.unit_of_work() as uow:
        events = uow.session.scalars(select(m.AuditEvent).where(m.AuditEvent.seq > before)).all()
    assert {e.tag for e in events} == {"nominal:associations:read"}
    assert {e.action for e in events} == {"consultation"}
    by_record = {e.nominal_id: e for e in events}
    assert len(events) == len(by_record) == 3 and set(by_record) == {centre, near, elsewhere}
    assert by_record[elsewhere].purpose == "op owl" and by_record[near].purpose is None


def test_the_chart_is_read_in_a_fixed_number_of_statements_and_capped(store: Store, policy: Policy) -> None:
    counted = {}
    for size in (2, 12):
        centre = person(store, f"Centre{size}", phone(f"07700 9{size:05d}"))
        for n in range(size):
            first = person(
                store, f"Near{size}x{n}", phone(f"07700 9{size:05d}"), phone(f"07800 9{size:03d}{n:02d}")
            )
            person(store, f"Far{size}x{n}", phone(f"07800 9{size:03d}{n:02d}"))
            assert first
        with store.unit_of_work() as uow, statements(store) as seen:
            graph = service.associations(uow, OFFICER, policy, centre, level=2, today=TODAY)
        assert len([n for n in graph.nodes if n.level == 1]) == size
        assert len([n for n in graph.nodes if n.level == 2]) == size
        counted[size] = seen
    assert len(counted[2]) == len(counted[12]), counted[12]
    assert len(counted[12]) <= 12, counted[12]

    capped = chart(store, policy, OFFICER, centre, 2, cap=5)
    assert [n.level for n in capped.nodes].count(1) == 5 and capped.capped_levels == [1, 2]
