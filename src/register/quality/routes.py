"""The supervisor's desk: run the quality rules over your area, the dashboard with trends, and worklists."""

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import Depends, Query
from fastapi.responses import Response

from ..api.deps import Authorize, Cursor, Limit, PolicyDep, RequestId, UoW
from ..api.problems import ERROR_RESPONSES
from ..api.routing import APIRouter
from ..domain.actors import Principal
from ..exports import to_csv
from . import service
from .schemas import EXPORT_COLUMNS, Dashboard, Finding, WorklistPage

router = APIRouter(prefix="/v1/quality", tags=["quality"], responses=ERROR_RESPONSES)
DASHBOARD_EXAMPLE = {
    "area": "kent",
    "run": {"id": "3f0c7f0e-52b4-4d0b-9c53-5f1f7b0c2a11", "run_on": "2026-01-05"},
    "previous_run": "1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed",
    "rules": [
        {
            "rule": "VISIT-OVERDUE",
            "description": "Home visit overdue for the risk level",
            "severity": "high",
            "who": "offender_manager",
            "count": 41,
            "change": -6,
        }
    ],
    "by_severity": {"high": 97, "medium": 140, "low": 12},
}
FINDING_EXAMPLE = {
    "items": [
        {
            "rule": "VISIT-OVERDUE",
            "severity": "high",
            "who": "offender_manager",
            "nominal_id": "7d5ced2b-6f3e-4f59-bb20-e015d5cdc869",
            "record": "/v1/nominals/7d5ced2b-6f3e-4f59-bb20-e015d5cdc869",
            "managing_unit": "Maidstone MOSOVO",
            "owner": "kent.dc.okafor",
        }
    ],
    "total": 1,
    "next": None,
}


@router.post(
    "/runs",
    status_code=201,
    summary="Run every quality rule over your area's active records",
    responses={201: {"content": {"application/json": {"example": DASHBOARD_EXAMPLE}}}},
)
def run_quality(
    principal: Annotated[Principal, Depends(Authorize("quality.run"))], uow: UoW, policy: PolicyDep
) -> Dashboard:
    service.run(uow, principal, principal.area, dt.date.today())
    board = service.dashboard(uow, principal.area, agency=policy.audience_agency(principal))
    return Dashboard.model_validate(board)


@router.get(
    "/dashboard",
    summary="Counts per rule and severity in your area's latest run, with the change since the run before",
    responses={200: {"content": {"application/json": {"example": DASHBOARD_EXAMPLE}}}},
)
def quality_dashboard(
    principal: Annotated[Principal, Depends(Authorize("quality.read"))], uow: UoW, policy: PolicyDep
) -> Dashboard:
    board = service.read_dashboard(uow, principal, agency=policy.audience_agency(principal))
    return Dashboard.model_validate(board)


@router.get(
    "/worklist",
    summary="Findings of the latest run for an offender manager, a unit or a rule (drill-down): JSON a page "
    "at a time, CSV the whole list",
    response_model=WorklistPage,
    responses={
        200: {
            "content": {
                "application/json": {"example": FINDING_EXAMPLE},
                "text/csv": {"example": ",".join(EXPORT_COLUMNS)},
            }
        }
    },
)
def quality_worklist(
    principal: Annotated[Principal, Depends(Authorize("quality.read"))],
    uow: UoW,
    policy: PolicyDep,
    request: RequestId,
    owner: Annotated[
        str | None,
        Query(
            max_length=100,
            description="an offender manager's user id (default: yours, unless unit or rule is given)",
        ),
    ] = None,
    unit: Annotated[str | None, Query(max_length=200)] = None,
    rule: Annotated[str | None, Query(max_length=40)] = None,
    format: Literal["json", "csv"] = "json",
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Any:
    if format == "csv":  # a disclosure: the findings leave the register (audited as such by the use case)
        chosen = service.WorklistFilter(
            rule=rule, unit=unit, owner=owner if owner or unit or rule else principal.user_id
        )
        exported = service.export_worklist(
            uow, principal, chosen, agency=policy.audience_agency(principal), request_id=request
        )
        return Response(
            to_csv(EXPORT_COLUMNS, exported),
            media_type="text/csv",
            headers={"Content-Disposition": 'attachment; filename="worklist.csv"'},
        )
    rows, total, after = service.read_worklist(
        uow,
        principal,
        owner=owner,
        unit=unit,
        rule=rule,
        agency=policy.audience_agency(principal),
        limit=limit,
        cursor=cursor,
        request_id=request,
    )
    return WorklistPage(items=[Finding.model_validate(r) for r in rows], total=total, next=after)
