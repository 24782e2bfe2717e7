"""The caseload and the record overview read in a fixed number of SQL statements, whatever the size of the
caseload or the record (`make bench` times both pages: docs/benchmarks.md), on SQLite and on PostgreSQL. The
generator gives a known offender manager a caseload of a known size, which the benchmark signs in as."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, select
from starlette.testclient import TestClient

from register.caseload import service as caseload_service
from register.caseload.repository import CaseloadRepository
from register.caseload.schemas import CaseloadQuery
from register.config import Settings
from register.domain.actors import Principal
from register.domain.enums import Agency, Area, Role
from register.domain.record import Section
from register.store import models as m
from register.store.store import Store
from register.synthetic import service as synthetic
from register.synthetic.people import Caseload
from register.web.sessions import COOKIE
from tests.conftest import Minter
from tests.factories import OFFICER, add, create

TODAY = dt.date(2026, 11, 30)
SMALL = Caseload("test.om.small", Agency.POLICE, Area.KENT, "DC Small", 3)
LARGE = Caseload("test.om.large", Agency.POLICE, Area.KENT, "DC Large", 12)


@contextmanager
def statements(store: Store) -> Iterator[list[str]]:
    """The SQL the calling code runs (not the background audit sealer's)."""
    seen: list[str] = []

    def listener(*args: Any) -> None:
        if threading.current_thread().name != "register-audit-sealer":
            seen.append(args[2])

    event.listen(store.engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        event.remove(store.engine, "before_cursor_execute", listener)


def principal(caseload: Caseload) -> Principal:
    return Principal(caseload.user_id, caseload.agency, caseload.area, frozenset({Role.OFFENDER_MANAGER}))


def test_the_generator_gives_its_offender_manager_a_caseload_and_it_is_read_in_three_statements(
    store: Store, settings: Settings
) -> None:
    synthetic.generate(store, 160, 1, today=TODAY, caseload=SMALL)
    synthetic.generate(store, 160, 2, today=TODAY, caseload=LARGE)
    schedule = caseload_service.schedule(settings.caseload_schedule_file)
    counted = {}
    for caseload in (SMALL, LARGE):
        with store.session_factory() as s:
            cases = CaseloadRepository(s).cases(
                area=caseload.area, user_id=caseload.user_id, agency=caseload.agency, today=TODAY
            )
        assert len(cases) == caseload.size
        with store.unit_of_work() as uow, statements(store) as seen:  # the page's work, not the commit's
            page = caseload_service.caseload(
                uow, principal(caseload), CaseloadQuery.from_params({}), today=TODAY, schedule=schedule
            )
        assert page.caseload == caseload.size
        counted[caseload.size] = seen
    small, large = counted[SMALL.size], counted[LARGE.size]
    # the managed records with their kept facts (store/case_facts.py), their names (the records with their
    # data keys, one query), the audit event: the same three at 3 people and at 12, never one per person
    assert len(small) == len(large) == 3, large
    assert not any(s.lstrip().startswith("SELECT data_key") for s in large), large
    # the user's offender manager items are searched once (by the index on section and ref)
    assert sum("item.ref" in s for s in large) == 1, large


def overview_statements(client: TestClient, store: Store, nominal_id: uuid.UUID) -> list[str]:
    with statements(store) as seen:
        r = client.get(f"/records/{nominal_id}", follow_redirects=False)
    assert r.status_code == 200, r.text[:500]
    return seen


MANAGER = {"agency": "police", "name": "DC Test", "user_id": OFFICER.user_id, "date_from": "2025-01-01"}


def test_a_record_overview_is_read_in_a_fixed_number_of_statements(store: Store, client: TestClient) -> None:
    with store.unit_of_work() as uow:
        small, large = create(uow), create(uow)
        add(uow, small, Section.OFFENDER_MANAGERS, MANAGER, 1)
        _, v = add(uow, large, Section.OFFENDER_MANAGERS, MANAGER, 1)
        for i in range(12):
            _, v = add(uow, large, Section.CONTACTS, {"kind": "phone", "value": f"0770090{i:04d}"}, v)
    session = client.app.state.sessions.create()  # type: ignore[attr-defined]
    session.principal, session.issuer = OFFICER, "development"
    client.cookies.set(COOKIE, session.id)
    overview_statements(client, store, small)  # warm: the first request loads what every later one reuses
    few, many = overview_statements(client, store, small), overview_statements(client, store, large)
    # the page's guard (its header, read once for the purpose check and the policy), the record (header with
    # its data key, shown sections and the notification's sources, the chronology), the audit event, the
    # photograph, what is due (the record with its kept facts), the latest quality run, the pending transfer
    assert len(few) == len(many) == 9, many
    assert sum(s.startswith("SELECT nominal.id, nominal.version") for s in many) == 2, many


def test_a_whole_record_read_and_an_append_read_the_header_once(
    store: Store, client: TestClient, token: Minter
) -> None:
    """The guard reads the record's header for the policy; the use case that follows in the same transaction
    takes that row, not a second SELECT. A change still checks the version the database holds (the claim is
    an UPDATE conditional on it): a stale If-Match is refused."""
    with store.unit_of_work() as uow:
        nid = create(uow)
        _, v = add(uow, nid, Section.OFFENDER_MANAGERS, MANAGER, 1)
    auth = {"Authorization": f"Bearer {token(user=OFFICER.user_id)}"}
    client.get(f"/v1/nominals/{nid}", headers=auth)  # warm
    with statements(store) as read:
        r = client.get(f"/v1/nominals/{nid}", headers=auth)
    assert r.status_code == 200 and r.json()["version"] == v, r.text
    etag = r.headers["etag"]
    headers = [s for s in read if s.startswith("SELECT nominal.id, nominal.version")]
    # the header (with its data key), the items, the chronology, the audit event
    assert len(headers) == 1 and len(read) == 4, read
    assert not any(s.startswith("SELECT data_key.id") for s in read), read
    entry = {"occurred_at": "2026-11-01T10:00:00Z", "kind": "home_visit", "summary": "a home visit"}
    with statements(store) as append:
        r = client.post(f"/v1/nominals/{nid}/chronology", json=entry, headers={**auth, "If-Match": etag})
    assert r.status_code == 201, r.text
    assert sum(s.startswith("SELECT nominal.id, nominal.version") for s in append) == 1, append
    # the header (with its data key), the version claim, the entry, its words, the audit event, the outbox
    # row, the agencies' event's facts (the record's area and version, the entry's audience: one read), the
    # event, and (a home visit) the record's caseload facts and its workload rows (those kept deleted, then
    # worked out again: decision 72); a new entry supersedes no history (only a correction can: decision 80)
    assert len(append) == 11, append
    assert not any(s.startswith("UPDATE nominal_history") for s in append), append
    assert sum(s.startswith("INSERT INTO case_facts") for s in append) == 1, append
    assert sum(s.startswith(("DELETE FROM case_officer", "INSERT INTO case_officer")) for s in append) == 2
    stale = client.post(f"/v1/nominals/{nid}/chronology", json=entry, headers={**auth, "If-Match": etag})
    assert stale.status_code in (409, 412) and stale.json()["rule"] == "version_stale", stale.text
    after = client.get(f"/v1/nominals/{nid}", headers=auth)
    assert after.json()["version"] == v + 1 and len(after.json()["chronology"]) == 1, after.text


def test_many_records_names_are_opened_from_one_query_whatever_their_keys(store: Store) -> None:
    """A search's hits, a caseload or a worklist show names: the records and their data keys (one each) come
    from one query, and every name opens under its own key."""
    surnames = ["Abara", "Bellweather", "Castellano"]
    with store.unit_of_work() as uow:
        ids = [
            create(
                uow,
                identity={
                    "forenames": "Test",
                    "surname": surname,
                    "date_of_birth": "1980-05-06",
                    "gender": "female",
                },
            )
            for surname in surnames
        ]
    with store.unit_of_work() as uow, statements(store) as seen:
        found = uow.nominals.summaries(ids)
    assert len(seen) == 1, seen
    assert "data_key" in seen[0]
    assert [found[i].surname for i in ids] == surnames
    assert len({r.data_key_id for r in _records(store, ids)}) == 3  # three keys, not one shared


def _records(store: Store, ids: list[uuid.UUID]) -> list[m.Nominal]:
    with store.session_factory() as s:
        return list(s.scalars(select(m.Nominal).where(m.Nominal.id.in_(ids))))
