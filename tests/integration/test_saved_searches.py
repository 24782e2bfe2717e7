"""An operation's saved searches (saved_searches/service.py) and the export of a whole result list
(search.service.export_results): sealed at rest, scoped to the area and the operation, audited, refused to a
role without `record.search`; the export leaves out another area's restricted record and is one disclosure."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import func, select

from register.access.policy import Policy
from register.config import Settings
from register.domain.actors import Principal
from register.domain.enums import Agency, Area, Role
from register.domain.errors import NotFound
from register.saved_searches import service
from register.saved_searches.schemas import NewSavedSearch
from register.search import service as search_service
from register.search.query import SearchRequest
from register.search.sql import SqlBackend
from register.store import models as m
from register.store.store import Store
from register.usecase.guard import Refused
from tests.factories import create

KENT = Principal("kent.inv1", Agency.POLICE, Area.KENT, frozenset({Role.INVESTIGATOR}), "DC Kent")
KENT_2 = Principal("kent.inv2", Agency.POLICE, Area.KENT, frozenset({Role.INVESTIGATOR}), "DC Kent 2")
ESSEX = Principal("essex.inv1", Agency.POLICE, Area.ESSEX, frozenset({Role.INVESTIGATOR}), "DC Essex")
AUDITOR = Principal("kent.aud1", Agency.POLICE, Area.KENT, frozenset({Role.AUDITOR}), "Auditor")
OPERATION = "Op Quillfeather 2026/77"
SECRET = "Vollenquist"  # a name searched for: personal data that must not be in the database in clear


@pytest.fixture
def policy(settings: Settings) -> Policy:
    return Policy.load(settings.policy_file)


def _request(name: str = SECRET) -> SearchRequest:
    return SearchRequest.model_validate(
        {"query": {"type": "group", "op": "and", "criteria": [{"type": "name", "value": name}]}}
    )


def _save(store: Store, policy: Policy, who: Principal = KENT, operation: str = OPERATION) -> uuid.UUID:
    with store.unit_of_work(for_caller=True) as uow:
        return service.save(
            uow,
            who,
            policy,
            NewSavedSearch(name=f"{SECRET} by name", request=_request(), labels=["Name"]),
            operation=operation,
        )


def _events(store: Store, tag: str) -> list[m.AuditEvent]:
    with store.session_factory() as s:
        return list(s.scalars(select(m.AuditEvent).where(m.AuditEvent.tag == tag).order_by(m.AuditEvent.seq)))


def test_a_saved_search_is_sealed_and_listed_for_its_operation_in_its_area_only(
    store: Store, policy: Policy
) -> None:
    saved_id = _save(store, policy)
    with store.session_factory() as s:
        row = s.get(m.SavedSearch, saved_id)
        assert row is not None and SECRET.encode() not in row.search_sealed
        assert OPERATION.encode() not in row.search_sealed and OPERATION.encode() not in row.operation_token
        assert (
            s.scalar(select(func.count()).select_from(m.DataKey).where(m.DataKey.id == row.data_key_id)) == 1
        )

    with store.unit_of_work(for_caller=True) as uow:
        # The same operation however it is typed, by anyone of the area
        listed = service.for_operation(uow, KENT_2, policy, operation="  op QUILLFEATHER   2026/77 ")
    assert [(s.id, s.name, s.labels) for s in listed] == [(saved_id, f"{SECRET} by name", ["Name"])]
    assert listed[0].request.query == _request().query and listed[0].operation == OPERATION
    with store.unit_of_work(for_caller=True) as uow:
        assert service.for_operation(uow, KENT, policy, operation="Op Other") == []
        assert service.for_operation(uow, ESSEX, policy, operation=OPERATION) == []
    events = _events(store, "search:saved:create")
    assert len(events) == 1 and events[0].purpose == OPERATION and events[0].action == "collection"
    assert SECRET not in (events[0].details or "")
    listing = _events(store, "search:saved:list")
    assert json.loads(listing[0].details or "{}")["saved_search_ids"] == [str(saved_id)]


def test_another_area_cannot_run_or_delete_it_and_deleting_shreds_its_key(
    store: Store, policy: Policy
) -> None:
    saved_id = _save(store, policy)
    for use_case in (service.open_for_run, service.delete):
        with pytest.raises(NotFound), store.unit_of_work(for_caller=True) as uow:
            use_case(uow, ESSEX, policy, saved_id, operation=OPERATION)
    with store.unit_of_work(for_caller=True) as uow:
        found = service.open_for_run(uow, KENT, policy, saved_id, operation=OPERATION)
    assert found.name == f"{SECRET} by name"
    with store.session_factory() as s:
        key_id = s.scalar(select(m.SavedSearch.data_key_id).where(m.SavedSearch.id == saved_id))
    with store.unit_of_work(for_caller=True) as uow:
        assert service.delete(uow, KENT, policy, saved_id, operation=OPERATION) == f"{SECRET} by name"
    with store.session_factory() as s:
        assert s.get(m.SavedSearch, saved_id) is None
        assert s.scalar(select(func.count()).select_from(m.DataKey).where(m.DataKey.id == key_id)) == 0
    deleted = _events(store, "search:saved:delete")
    assert [(e.outcome, e.action) for e in deleted] == [("failed", "erasure"), ("success", "erasure")]


def test_a_role_without_search_is_refused_and_audited(store: Store, policy: Policy) -> None:
    with pytest.raises(Refused), store.unit_of_work(for_caller=True) as uow:
        service.for_operation(uow, AUDITOR, policy, operation=OPERATION)
    with pytest.raises(Refused), store.unit_of_work(for_caller=True) as uow:
        service.save(uow, KENT, policy, NewSavedSearch(name="x", request=_request()), operation=" ")
    denied = _events(store, "access:record.search:denied")
    assert [json.loads(e.details or "{}")["rule"] for e in denied] == [
        "role_not_permitted",
        "purpose_required",
    ]


def test_the_export_holds_every_result_beyond_a_page_and_is_one_disclosure(
    store: Store, policy: Policy
) -> None:
    with store.unit_of_work() as uow:
        mine = [create(uow, identity=_person(f"1980-01-{d:02d}")) for d in range(1, 31)]
        hidden = create(uow, identity=_person("1980-02-01"), restricted=True)
    request = _request("Thistlewood")
    with store.unit_of_work(for_caller=True) as uow:
        results = search_service.export_results(
            uow, ESSEX, policy, SqlBackend(store), "sql", request, purpose=OPERATION, request_id=None
        )
    ids = {h.id for h in results.hits}
    assert ids == set(mine) and hidden not in ids and results.total == 30  # past one API page (25)
    exports = _events(store, "search:results:export")
    assert len(exports) == 1 and exports[0].action == "disclosure" and exports[0].purpose == OPERATION
    assert set(json.loads(exports[0].details or "{}")["ids"]) == {str(i) for i in mine}


def _person(born: str) -> dict[str, str]:
    return {"forenames": "Ada", "surname": "Thistlewood", "date_of_birth": born, "gender": "female"}
