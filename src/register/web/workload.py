"""Due and overdue work across the area: per unit and per officer, how many home visits and reviews are
overdue or due this week, so a supervisor spots an officer whose visits are slipping; each officer's row opens
the people on their caseload with work overdue (names, what is due, since when).

The policy's `quality.read` decides both pages (a supervisor's, and an offender manager's, view of their
area: docs/supervisor-quality.md). The counts come from `caseload.service.workload` (the caseload's own facts
and schedule, counted by the database); the officer's list from `caseload.service.officer_overdue` (the
officer's caseload, exactly as they see it, audited as a listing of records).
"""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse

from ..api.deps import request_id
from ..api.routing import APIRouter
from ..caseload import service as caseload_service
from ..domain.actors import Principal
from .caseload import today_in_london
from .common import PageGuard, not_found, render, verify_csrf, work

router = APIRouter(include_in_schema=False, dependencies=[Depends(verify_csrf)])

_OFFICER = re.compile(r"^[\w.@-]{1,100}$")
SORTS = {
    "visits_overdue": "Overdue home visits",
    "reviews_overdue": "Overdue reviews",
    "people_overdue": "People with work overdue",
    "officer": "Officer",
}


@router.get("/workload", response_class=HTMLResponse)
def workload_page(
    request: Request, principal: Annotated[Principal, Depends(PageGuard("quality.read"))]
) -> HTMLResponse:
    settings = request.app.state.store.settings
    unit = request.query_params.get("unit") or None
    sort = request.query_params.get("sort", "visits_overdue")
    sort = sort if sort in SORTS else "visits_overdue"
    with work(request) as uow:
        load = caseload_service.workload(
            uow,
            principal,
            today=today_in_london(),
            schedule=caseload_service.schedule(settings.caseload_schedule_file),
            request_id=request_id(request),
        )
    units = [u.unit for u in load.units]
    unit = unit if unit in units else None
    officers = [o for o in load.officers if unit is None or o.unit == unit]
    if sort == "officer":
        officers.sort(key=lambda o: ((o.officer or "").casefold(), o.unit.casefold()))
    else:
        officers.sort(key=lambda o: (-getattr(o, sort), -o.people_overdue, o.officer or ""))
    headers = [
        {
            "text": text,
            "href": "/workload?" + urlencode([*([("unit", unit)] if unit else []), ("sort", key)]),
            "sort": ("descending" if key != "officer" else "ascending") if key == sort else "none",
            "key": key,
        }
        for key, text in SORTS.items()
    ]
    return render(
        request,
        "pages/workload/index.html",
        {
            "title": "Workload" + (f": {unit}" if unit else ""),
            "load": load,
            "units": units,
            "unit": unit,
            "unit_rows": [u for u in load.units if unit is None or u.unit == unit],
            "officers": officers,
            "sort": sort,
            "headers": {h["key"]: h for h in headers},
            "breadcrumbs": [{"text": "Home", "href": "/"}, {"text": "Data quality", "href": "/quality"}],
        },
    )


@router.get("/workload/officers/{officer}", response_class=HTMLResponse)
def officer_page(
    request: Request, officer: str, principal: Annotated[Principal, Depends(PageGuard("quality.read"))]
) -> HTMLResponse:
    if not _OFFICER.match(officer):
        raise not_found()
    settings = request.app.state.store.settings
    today = today_in_london()
    with work(request) as uow:
        rows = caseload_service.officer_overdue(
            uow,
            principal,
            officer,
            today=today,
            schedule=caseload_service.schedule(settings.caseload_schedule_file),
            request_id=request_id(request),
        )
    return render(
        request,
        "pages/workload/officer.html",
        {
            "title": f"Overdue work: {officer}",
            "officer": officer,
            "rows": rows,
            "today": today,
            "breadcrumbs": [
                {"text": "Home", "href": "/"},
                {"text": "Data quality", "href": "/quality"},
                {"text": "Workload", "href": "/workload"},
            ],
        },
    )
