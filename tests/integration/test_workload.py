"""The area's workload (caseload/service.workload) counts in SQL exactly what each officer's caseload
computes in Python from the same facts and schedule, on any day; what the caller's agency may not see does not
count."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import pytest
from sqlalchemy import select, update

from register import demo
from register.archive import service as archive
from register.archive.schemas import ArchiveRequest
from register.caseload import service as caseload
from register.caseload.repository import (
    CaseloadRepository,
    WorkloadCounts,
    WorkloadRepository,
    first_start,
)
from register.config import PROJECT_ROOT
from register.domain import caseload as domain
from register.domain.actors import Principal, SystemActor
from register.domain.caseload import DueKind, Interval
from register.domain.enums import Agency, Area, Role
from register.domain.record import ChronologyEntry
from register.nominals import service as nominals
from register.store import case_facts
from register.store import models as m
from register.store.store import Store
from register.transfers import service as transfers
from register.transfers.schemas import Acceptance, TransferRequest

SCHEDULE = caseload.schedule(PROJECT_ROOT / "src" / "register" / "caseload" / "schedule.yaml")
REVIEWS = {DueKind.RISK_ASSESSMENT_REVIEW, DueKind.RISK_PLAN_REVIEW, DueKind.LEVEL_REVIEW}


def expected(
    store: Store, area: Area, agency: Agency, today: dt.date
) -> dict[tuple[str, str], tuple[int, ...]]:
    """Per (unit, officer), from each officer's caseload computed one person at a time in Python."""
    with store.session_factory() as s:
        officers = s.execute(
            select(m.Item.ref)
            .where(m.Item.section == "offender_managers", m.Item.ref.is_not(None))
            .distinct()
        ).scalars()
        units = dict(s.execute(select(m.Nominal.id, m.Nominal.managing_unit)).all())
        out: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0] * 6)
        for officer in officers:
            for case in CaseloadRepository(s).cases(area=area, user_id=officer, agency=agency, today=today):
                dues = domain.due_work(case.facts, SCHEDULE, today)
                row = out[(units[case.id], officer)]
                row[0] += 1
                row[1] += any(d.overdue for d in dues)
                row[2] += sum(d.overdue for d in dues if d.kind == DueKind.HOME_VISIT)
                row[3] += sum(d.urgency == "soon" for d in dues if d.kind == DueKind.HOME_VISIT)
                row[4] += sum(d.overdue for d in dues if d.kind in REVIEWS)
                row[5] += sum(d.urgency == "soon" for d in dues if d.kind in REVIEWS)
    return {k: tuple(v) for k, v in out.items()}


def counted(
    store: Store, area: Area, agency: Agency, today: dt.date
) -> dict[tuple[str, str], tuple[int, ...]]:
    with store.session_factory() as s:
        units, rows = WorkloadRepository(s).counts(area=area, agency=agency, today=today, schedule=SCHEDULE)
    # the demo has no record managed by two officers at once: each unit's row is its officers' rows summed
    for unit in units:
        mine = [r for r in rows if r.unit == unit.unit]
        assert unit.people == sum(r.people for r in mine) > 0
        assert unit.visits_overdue == sum(r.visits_overdue for r in mine)
        assert unit.reviews_soon == sum(r.reviews_soon for r in mine)
    return {
        (r.unit, r.officer or ""): (
            r.people,
            r.people_overdue,
            r.visits_overdue,
            r.visits_soon,
            r.reviews_overdue,
            r.reviews_soon,
        )
        for r in rows
    }


@pytest.fixture
def demo_store(store: Store) -> Store:
    with store.unit_of_work() as uow:
        demo.load(uow, SystemActor("demo-loader"))
    return store


def test_first_start_is_the_exact_cut_off_for_every_interval_and_day() -> None:
    for interval in (Interval(months=6), Interval(months=1), Interval(weeks=16), Interval(days=28)):
        for offset in range(0, 800, 7):
            target = dt.date(2025, 1, 1) + dt.timedelta(days=offset)
            y = first_start(interval, target)
            assert interval.after(y) >= target and interval.after(y - dt.timedelta(days=1)) < target


@pytest.mark.parametrize("days_ahead", [0, 9, 45, 120, 400])
def test_the_workload_counts_what_each_caseload_computes(demo_store: Store, days_ahead: int) -> None:
    today = dt.date.today() + dt.timedelta(days=days_ahead)
    for area, agency in (
        (Area.KENT, Agency.POLICE),
        (Area.KENT, Agency.PROBATION),
        (Area.ESSEX, Agency.POLICE),
    ):
        want = expected(demo_store, area, agency, today)
        assert want, "the demo has caseloads"
        assert counted(demo_store, area, agency, today) == want
    if days_ahead == 45:  # something is overdue and something due soon, so the comparison means something
        assert any(v[2] for v in want.values()) and any(v[4] for v in want.values())


def test_a_visit_the_callers_agency_may_not_see_does_not_count_for_them(demo_store: Store) -> None:
    today = dt.date.today()
    police = Principal("kent.supervisor", Agency.POLICE, Area.KENT, frozenset({Role.SUPERVISOR}), "S")
    probation = Principal("kent.supervisor.p", Agency.PROBATION, Area.KENT, frozenset({Role.SUPERVISOR}), "P")
    with demo_store.unit_of_work() as uow:
        before = caseload.workload(uow, probation, today=today, schedule=SCHEDULE)
    officer = max(before.officers, key=lambda o: o.visits_overdue)
    assert officer.visits_overdue > 0
    with demo_store.session_factory() as s:
        late = [
            c.id
            for c in CaseloadRepository(s).cases(
                area=Area.KENT, user_id=officer.officer, agency=Agency.PROBATION, today=today
            )
            if any(
                d.overdue and d.kind == DueKind.HOME_VISIT for d in domain.due_work(c.facts, SCHEDULE, today)
            )
        ]
        version = s.scalar(select(m.Nominal.version).where(m.Nominal.id == late[0]))
    with demo_store.unit_of_work() as uow:  # a visit yesterday on one of them, in a police-only entry
        entry_id, _ = nominals.append_chronology(
            uow,
            SystemActor("test"),
            late[0],
            ChronologyEntry(
                occurred_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=1),
                kind="home_visit",
                summary="Home visit. Seen at home: no concerns",
            ),
            expected_version=version,
        )
    with demo_store.session_factory() as s, s.begin():
        s.execute(update(m.ChronologyEntry).where(m.ChronologyEntry.id == entry_id).values(audience="police"))
        case_facts.refresh(s, [late[0]])  # as a writer that claims no version must (store/case_facts.py)
    with demo_store.unit_of_work() as uow:
        after_probation = caseload.workload(uow, probation, today=today, schedule=SCHEDULE)
        after_police = caseload.workload(uow, police, today=today, schedule=SCHEDULE)
        hidden = caseload.officer_overdue(
            uow, probation, officer.officer or "", today=today, schedule=SCHEDULE
        )
        seen = caseload.officer_overdue(uow, police, officer.officer or "", today=today, schedule=SCHEDULE)
    assert after_probation.officers == before.officers and after_probation.units == before.units

    def visits_overdue(rows: list[WorkloadCounts]) -> int:  # the officer's, over all their units
        return sum(o.visits_overdue for o in rows if o.officer == officer.officer)

    assert visits_overdue(after_police.officers) == visits_overdue(before.officers) - 1  # counts for police
    probation_late = next(r for r in hidden if r.id == late[0])  # and not for probation: still overdue
    assert any(d.kind == DueKind.HOME_VISIT and d.overdue for d in probation_late.due)
    assert all(
        not (d.kind == DueKind.HOME_VISIT and d.overdue) for r in seen if r.id == late[0] for d in r.due
    )


def test_a_transfer_and_an_archiving_move_the_record_between_workloads_at_once(demo_store: Store) -> None:
    """The workload reads each record's kept rows (`case_officer`, decision 72), which carry its area and
    status: a transfer accepted moves the record from the sending area's counts to the receiving area's in the
    same transaction, and an archiving takes it out, as each officer's caseload (read from the records
    themselves) says at once."""
    today = dt.date.today() + dt.timedelta(days=45)
    with demo_store.session_factory() as s:
        nid, version = s.execute(
            select(m.Nominal.id, m.Nominal.version)
            .join(m.Item, m.Item.nominal_id == m.Nominal.id)
            .where(
                m.Nominal.area == Area.KENT.value,
                m.Nominal.status == "active",
                m.Item.section == "offender_managers",
                m.Item.ended_at.is_(None),
                m.Nominal.id.not_in(select(m.Transfer.nominal_id)),
            )
            .order_by(m.Nominal.id)
            .limit(1)
        ).one()
    before = {area: counted(demo_store, area, Agency.POLICE, today) for area in (Area.KENT, Area.ESSEX)}
    kent_om = Principal("kent.om1", Agency.POLICE, Area.KENT, frozenset({Role.OFFENDER_MANAGER}), "DC Test")
    essex_sup = Principal("essex.sup1", Agency.POLICE, Area.ESSEX, frozenset({Role.SUPERVISOR}), "DS Essex")
    with demo_store.unit_of_work() as uow:
        transfer_id, _ = transfers.start(
            uow, kent_om, nid, TransferRequest(to_area=Area.ESSEX, reason="moved"), expected_version=version
        )
    with demo_store.unit_of_work() as uow:
        transfers.accept(uow, essex_sup, transfer_id, Acceptance(managing_unit="Chelmsford MOSOVO"))
    after = {}
    for area in (Area.KENT, Area.ESSEX):
        after[area] = counted(demo_store, area, Agency.POLICE, today)
        assert after[area] == expected(demo_store, area, Agency.POLICE, today)
    people = {area: sum(v[0] for v in after[area].values()) for area in after}
    assert people[Area.KENT] == sum(v[0] for v in before[Area.KENT].values()) - 1
    assert people[Area.ESSEX] == sum(v[0] for v in before[Area.ESSEX].values()) + 1
    assert any(unit == "Chelmsford MOSOVO" for unit, _ in after[Area.ESSEX])
    with demo_store.session_factory() as s:
        version = s.scalar(select(m.Nominal.version).where(m.Nominal.id == nid))
    with demo_store.unit_of_work() as uow:
        archive.archive(
            uow,
            essex_sup,
            nid,
            ArchiveRequest(reason="died", died_on=dt.date.today()),  # type: ignore[arg-type]
            expected_version=version,
        )
    essex = counted(demo_store, Area.ESSEX, Agency.POLICE, today)
    assert essex == expected(demo_store, Area.ESSEX, Agency.POLICE, today) == before[Area.ESSEX]
    with demo_store.session_factory() as s:
        assert case_facts.drift(s) == []
