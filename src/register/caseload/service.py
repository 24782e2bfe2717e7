"""The caseload use case: an offender manager's people, what is due on each, sorted, filtered and paged.

Runs inside the caller's unit of work and flushes; the caller commits. Showing the page is audited exactly as
the API's list of records is (`nominal:record:list`, a consultation naming each record shown).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from ..audit.events import Action, AuditEntry
from ..audit.tags import Tag
from ..domain import caseload as domain
from ..domain.actors import Principal
from ..domain.enums import Agency, MappaCategory, MappaLevel
from ..nominals import service as nominals
from ..store import case_facts
from ..store.listing import ListFilters
from ..store.uow import UnitOfWork
from ..usecase.core import use_case
from .repository import CaseloadRepository, WorkloadCounts, WorkloadRepository
from .schemas import CaseloadPage, CaseloadQuery, CaseloadRow


@lru_cache(maxsize=4)
def schedule(path: Path) -> domain.Schedule:
    return domain.Schedule.parse(yaml.safe_load(path.read_text()))


def _matches(row: CaseloadRow, query: CaseloadQuery, today: dt.date) -> bool:
    if query.levels and row.mappa_level not in query.levels:
        return False
    if query.categories and row.mappa_category not in query.categories:
        return False
    if query.due == "overdue":
        return bool(row.overdue)
    if query.due in ("week", "month"):
        horizon = today + dt.timedelta(days=7 if query.due == "week" else 30)
        return any(today <= d.on < horizon for d in row.due)
    return True


def _sort_key(sort: str) -> object:
    def name(row: CaseloadRow) -> tuple[str, str, str]:
        return (row.surname.casefold(), row.forenames.casefold(), str(row.id))

    keys = {
        "name": name,
        "date_of_birth": lambda r: (r.date_of_birth or dt.date.max, *name(r)),
        "category": lambda r: (r.mappa_category or 9, *name(r)),
        "level": lambda r: (r.mappa_level or 9, *name(r)),
        "due": lambda r: (r.next_due.on if r.next_due else dt.date.max, *name(r)),
    }
    return keys[sort]


@use_case(Tag.NOMINAL_RECORD_LIST, Action.CONSULTATION)
def caseload(
    uow: UnitOfWork,
    principal: Principal,
    query: CaseloadQuery,
    *,
    today: dt.date,
    schedule: domain.Schedule,
    request_id: str | None = None,
) -> CaseloadPage:
    cases = CaseloadRepository(uow.session).cases(
        area=principal.area, user_id=principal.user_id, agency=principal.agency, today=today
    )
    summaries = uow.nominals.summaries([c.id for c in cases])
    everyone = [
        CaseloadRow(
            id=c.id,
            forenames=summaries[c.id].forenames,
            surname=summaries[c.id].surname,
            date_of_birth=summaries[c.id].date_of_birth,
            mappa_category=c.mappa_category,
            mappa_level=c.mappa_level,
            restricted=c.restricted,
            due=domain.due_work(c.facts, schedule, today),
        )
        for c in cases
    ]
    chosen = [r for r in everyone if _matches(r, query, today)]
    chosen.sort(key=_sort_key(query.sort), reverse=query.order == "descending")  # type: ignore[arg-type]
    pages = max(1, -(-len(chosen) // query.page_size))
    if query.page > pages:
        query = CaseloadQuery(**{**query.__dict__, "page": pages})
    start = (query.page - 1) * query.page_size
    shown = chosen[start : start + query.page_size]
    filters = ListFilters(
        area=principal.area,
        today=today,
        caseload_user=principal.user_id,
        level=MappaLevel(next(iter(query.levels))) if len(query.levels) == 1 else None,
        category=MappaCategory(next(iter(query.categories))) if len(query.categories) == 1 else None,
    )
    nominals.record_listing(
        uow,
        principal,
        filters,
        page=query.page,
        total=len(chosen),
        ids=[r.id for r in shown],
        request_id=request_id,
    )
    return CaseloadPage(
        rows=shown,
        total=len(chosen),
        caseload=len(everyone),
        counts=domain.counts([r.due for r in everyone]),
        query=query,
        today=today,
    )


def due_on_record(
    uow: UnitOfWork, nominal_id: uuid.UUID, *, agency: Agency, today: dt.date, schedule: domain.Schedule
) -> list[domain.Due]:
    """What is due on one record (the same computation as the caseload's), under whoever manages it now; none
    when no one does or the record is not active. Plain metadata only, for a page that has just read the
    record (that read is the audited consultation)."""
    cases = CaseloadRepository(uow.session).cases(
        area=None, user_id=None, agency=agency, today=today, nominal_id=nominal_id
    )
    return domain.due_work(cases[0].facts, schedule, today) if cases else []


# ------------------------------------------------------------ the area's workload (the supervisor's view)


@dataclass(frozen=True)
class Workload:
    units: list[WorkloadCounts]  # one row per managing unit
    officers: list[WorkloadCounts]  # one row per officer within a unit
    today: dt.date
    soon_days: int


@use_case(Tag.QUALITY_WORKLOAD_READ, Action.CONSULTATION)
def workload(
    uow: UnitOfWork,
    principal: Principal,
    *,
    today: dt.date,
    schedule: domain.Schedule,
    request_id: str | None = None,
) -> Workload:
    """Due and overdue home visits and reviews across the caller's area, per unit and per officer: the
    caseload's facts and schedule, counted by the database (one grouped statement, whatever the area's
    size). Counts only, no one named; audited as a consultation of the area's workload. A home visit the
    caller's agency may not see counts as not made, exactly as on the officer's own caseload."""
    units, officers = WorkloadRepository(uow.session).counts(
        area=principal.area, agency=principal.agency, today=today, schedule=schedule
    )
    uow.audit.record(
        AuditEntry(
            Action.CONSULTATION,
            Tag.QUALITY_WORKLOAD_READ,
            principal,
            request_id=request_id,
            details={"area": principal.area.value, "units": len(units), "officers": len(officers)},
        )
    )
    return Workload(
        units=sorted(units, key=lambda u: u.unit.casefold()),
        officers=sorted(officers, key=lambda o: (-o.visits_overdue, -o.people_overdue, o.officer or "")),
        today=today,
        soon_days=schedule.soon_days,
    )


@use_case(Tag.NOMINAL_RECORD_LIST, Action.CONSULTATION)
def officer_overdue(
    uow: UnitOfWork,
    principal: Principal,
    officer: str,
    *,
    today: dt.date,
    schedule: domain.Schedule,
    request_id: str | None = None,
) -> list[CaseloadRow]:
    """The people on one officer's caseload in the caller's area with work overdue, the most overdue first:
    the officer's own caseload (the same queries and schedule), seen by the caller's agency. Audited as a
    listing of records, naming each."""
    cases = CaseloadRepository(uow.session).cases(
        area=principal.area, user_id=officer, agency=principal.agency, today=today
    )
    dues = [(c, domain.due_work(c.facts, schedule, today)) for c in cases]
    late = [(c, due) for c, due in dues if any(d.overdue for d in due)]
    summaries = uow.nominals.summaries([c.id for c, _ in late])
    rows = [
        CaseloadRow(
            id=c.id,
            forenames=summaries[c.id].forenames,
            surname=summaries[c.id].surname,
            date_of_birth=summaries[c.id].date_of_birth,
            mappa_category=c.mappa_category,
            mappa_level=c.mappa_level,
            restricted=c.restricted,
            due=due,
        )
        for c, due in late
    ]
    rows.sort(key=lambda r: (r.overdue[0].on, r.surname.casefold(), r.forenames.casefold(), str(r.id)))
    nominals.record_listing(
        uow,
        principal,
        ListFilters(area=principal.area, today=today, caseload_user=officer),
        page=1,
        total=len(rows),
        ids=[r.id for r in rows],
        request_id=request_id,
    )
    return rows


# ------------------------------------------------------------ the kept facts (operations)


@dataclass(frozen=True)
class FactsCheck:
    stale: list[uuid.UUID]  # records whose kept facts differed from their items and entries
    after_repair: int | None  # how many still differ after a repair (None: none asked)


def check_facts(uow: UnitOfWork, *, repair: bool = False) -> FactsCheck:
    """Compare every record's kept caseload facts with its items and entries now (`register facts-check`);
    with `repair`, work the differing ones out again in this unit of work. Plain dates of plain columns,
    compared in the database: nothing personal is read, so nothing is consulted to audit."""
    stale = case_facts.drift(uow.session)
    if not repair:
        return FactsCheck(stale, None)
    case_facts.refresh(uow.session, stale)
    return FactsCheck(stale, len(case_facts.drift(uow.session)))
