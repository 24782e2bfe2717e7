"""The use cases behind the auditor's and statistics pages: the log filtered by action and purpose and read
newest first, one event, verifying the chain (recorded in the log as its last verification), the tables
compared with the year before (audited once) and the names behind a figure (audited with the ids shown)."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from register.audit import service as audit
from register.audit.service import LogQuery
from register.domain.actors import Principal
from register.domain.enums import Agency, Area, Role
from register.domain.errors import NotFound
from register.nominals import service as nominals
from register.statistics import service as statistics
from register.store.store import Store
from tests.factories import OFFICER, SUPERVISOR, create

AUDITOR = Principal("kent.aud1", Agency.POLICE, Area.KENT, frozenset({Role.AUDITOR}), "Auditor")


def test_the_log_filters_by_action_and_purpose_newest_first_with_keyset_pages(store: Store) -> None:
    with store.unit_of_work() as uow:
        nid = create(uow)
    for purpose in ("OP-STAG-17 first look", "op-stag-17 second", "OP-HERON 100%_match"):
        with store.unit_of_work() as uow:
            nominals.read_record(uow, OFFICER, nid, purpose=purpose)
    with store.unit_of_work() as uow:
        found = audit.read_log(
            uow, AUDITOR, LogQuery(purpose="Op-Stag-17", action="consultation", newest_first=True, limit=1)
        )
        assert [e["purpose"] for e in found] == ["op-stag-17 second"]  # newest first, case ignored
        older = audit.read_log(
            uow,
            AUDITOR,
            LogQuery(purpose="op-stag-17", newest_first=True, before_seq=found[0]["seq"], limit=5),
        )
        assert [e["purpose"] for e in older] == ["OP-STAG-17 first look"]
        assert audit.read_log(uow, AUDITOR, LogQuery(purpose="0%_", limit=5)) != []  # % and _ are literal
        assert audit.read_log(uow, AUDITOR, LogQuery(purpose="0%x", limit=5)) == []
        assert audit.read_log(uow, AUDITOR, LogQuery(purpose="OP-STAG", action="collection", limit=5)) == []


def test_one_event_is_read_and_audited_and_a_missing_one_is_not_found(store: Store) -> None:
    with store.unit_of_work() as uow:
        nid = create(uow)
    with store.unit_of_work() as uow:
        seq = audit.read_log(uow, AUDITOR, LogQuery(nominal_id=nid, limit=1))[0]["seq"]
    with store.unit_of_work() as uow:
        assert audit.read_event(uow, AUDITOR, seq)["nominal_id"] == nid
        with pytest.raises(NotFound):
            audit.read_event(uow, AUDITOR, 10**12)
    with store.unit_of_work() as uow:
        mine = audit.read_log(uow, AUDITOR, LogQuery(user="kent.aud1", limit=10))
        assert json.loads(mine[1]["details"]) == {"seq": seq, "returned": 1}


def test_verifying_the_chain_is_recorded_and_is_the_last_verification(store: Store) -> None:
    with store.unit_of_work() as uow:
        create(uow)
    store.seal()
    with store.unit_of_work() as uow:
        assert audit.last_verification(uow) is None
        found = audit.verify_chain(uow, AUDITOR)
    assert found["ok"] is True and found["sealed"] > 0 and found["first_broken"] is None
    with store.unit_of_work() as uow:
        last = audit.last_verification(uow)
    assert last is not None and last["by"] == "kent.aud1" and last["ok"] is True
    assert last["sealed"] == found["sealed"]


def test_the_tables_compared_with_last_year_are_audited_once(store: Store) -> None:
    with store.unit_of_work() as uow:
        create(uow)
    with store.unit_of_work() as uow:
        this, last = statistics.read_tables_compared(uow, SUPERVISOR, "kent", 2026)
    assert this["year"] == "2025/26" and last["year"] == "2024/25"
    with store.unit_of_work() as uow:
        reads = audit.read_log(uow, AUDITOR, LogQuery(user=SUPERVISOR.user_id, limit=10))
    assert [json.loads(e["details"]) for e in reads if e["tag"] == "statistics:tables:read"] == [
        {"area": "kent", "year": 2026, "compared_with": 2025}
    ]


def test_the_names_behind_a_figure_are_audited_with_the_ids_shown(store: Store) -> None:
    with store.unit_of_work() as uow:
        for surname in ("Young", "Abbott", "Miller"):
            create(
                uow,
                identity={
                    "forenames": "Sam",
                    "surname": surname,
                    "date_of_birth": "1980-01-01",
                    "gender": "male",
                },
            )
    # the reporting year running today (provisional): people registered today never appear in a year that
    # ended before they were registered (docs/statistics.md)
    today = dt.date.today()
    year = today.year + (1 if today.month >= 4 else 0)
    with store.unit_of_work() as uow:
        page = statistics.read_cell_people(
            uow, SUPERVISOR, "kent", year, "eligible_on_31_march", "1", "1", offset=0, limit=2
        )
    assert page.total >= 3 and len(page.people) == 2
    names = [(p.surname.casefold(), p.forenames.casefold()) for p in page.people]
    assert names == [("abbott", "sam"), ("miller", "sam")]  # by name, the first page
    with store.unit_of_work() as uow:
        events = audit.read_log(uow, AUDITOR, LogQuery(user=SUPERVISOR.user_id, limit=10))
    cell = [json.loads(e["details"]) for e in events if e["tag"] == "statistics:cell:people"]
    assert len(cell) == 1 and cell[0]["ids"] == [str(p.id) for p in page.people] and cell[0]["names"] is True


def test_a_figure_too_large_to_order_by_name_is_paged_in_the_order_of_its_records(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above NAME_ORDER_UP_TO people a figure's names are not all opened: its pages follow the records' ids,
    the same ids `statistics.people` (the API's list behind a figure) gives, page after page with none lost or
    repeated, and the total stays the figure's even on a page past the end."""
    with store.unit_of_work() as uow:
        for surname in ("Young", "Abbott", "Miller", "Hughes", "Patel"):
            create(uow, identity={"forenames": "Sam", "surname": surname, "date_of_birth": "1980-01-01"})
    today = dt.date.today()
    year = today.year + (1 if today.month >= 4 else 0)
    cell = ("kent", year, "eligible_on_31_march", "1", "1")
    with store.session_factory() as s:
        everyone = statistics.people(s, *cell)
    assert len(everyone) >= 5 and everyone == sorted(everyone, key=str)
    monkeypatch.setattr(statistics, "NAME_ORDER_UP_TO", 2)
    pages = []
    for offset in range(0, len(everyone) + 2, 2):
        with store.unit_of_work() as uow:
            page = statistics.read_cell_people(uow, SUPERVISOR, *cell, offset=offset, limit=2)
        assert page.total == len(everyone)
        pages.append([p.id for p in page.people])
    assert [i for page in pages for i in page] == everyone  # in order, none lost or repeated
    assert pages[-1] == []  # past the end: no one, and the total above still the figure's
    with store.unit_of_work() as uow:
        events = audit.read_log(uow, AUDITOR, LogQuery(user=SUPERVISOR.user_id, limit=50))
    shown = [json.loads(e["details"]) for e in events if e["tag"] == "statistics:cell:people"]
    assert sorted(i for d in shown for i in d["ids"]) == sorted(str(i) for i in everyone)
    assert {d["total"] for d in shown} == {len(everyone)}
