"""The annual statistics through the API: the tables (JSON, CSV or HTML), and the people behind any cell
(audited)."""

import uuid
from typing import Annotated, Any, Literal

from fastapi import Depends, Query
from fastapi.responses import HTMLResponse, Response

from ..api.deps import Authorize, RequestId, UoW
from ..api.problems import ERROR_RESPONSES, ApiProblem
from ..api.routing import APIRouter
from ..domain.actors import Principal
from ..domain.errors import InvalidValue
from . import render, service

router = APIRouter(prefix="/v1/statistics", tags=["statistics"], responses=ERROR_RESPONSES)
Supervisor = Annotated[Principal, Depends(Authorize("statistics.read"))]
Year = Annotated[
    int,
    Query(
        ge=2001,
        le=2100,
        description="the year the reporting year ends in: 2023 is 1 April 2022 to 31 March 2023",
    ),
]
EXAMPLE = {
    "area": "kent",
    "year": "2022/23",
    "period": {"from": "2022-04-01", "to": "2023-03-31"},
    "snapshot": "2023-03-31",
    "provisional": None,
    "as_known_at": "2023-04-01T23:00:00+00:00",
    "definitions": {"eligible_on_31_march": "In the community (not in prison, not detained in hospital)..."},
    "revisions": [
        {"table": "eligible_on_31_march", "row": "1", "column": "1", "published": 1604, "revised": 1603}
    ],
    "register_data_from": "2005-04-01",
    "tables": {"eligible_on_31_march": {"1": {"1": 1604, "2": 9}, "2": {"1": 793, "2": 10, "3": 1}}},
    "unpublished": {},
    "notification_rate_per_100k": 101.2,
}


def _problem(exc: InvalidValue) -> ApiProblem:
    """A refused year or cell as problem+json naming the query parameter and the rule."""
    return ApiProblem(
        422,
        "validation",
        exc.message,
        errors=[{"field": f"query.{exc.field}", "rule": exc.rule, "message": exc.message}],
    )


@router.get(
    "",
    summary="Your area's MAPPA annual statistics tables, as JSON, CSV or an HTML page",
    description=(
        "Figures as published (the register at the end of 1 April after the year), with any revision since "
        "shown beside them; a year still running is provisional (to the end of today, dated); a year not "
        "yet begun is refused (422, field query.year, rule year_not_begun). Definitions: docs/statistics.md."
    ),
    responses={
        200: {
            "content": {
                "application/json": {"example": EXAMPLE},
                "text/csv": {"example": "area,year,table,row,column,count"},
                "text/html": {"example": "<!doctype html>..."},
            }
        }
    },
)
def annual_statistics(
    principal: Supervisor,
    uow: UoW,
    year: Year,
    population_10_plus: Annotated[
        int | None, Query(ge=1, le=100_000_000, description="the area's population aged 10 and over")
    ] = None,
    format: Literal["json", "csv", "html"] = "json",
) -> Any:
    try:
        figures = service.read_tables(uow, principal, principal.area.value, year, population_10_plus)
    except InvalidValue as exc:
        raise _problem(exc) from None
    if format == "csv":
        return Response(render.to_csv(figures), media_type="text/csv")
    if format == "html":
        return HTMLResponse(
            render.to_html(figures), headers={"Content-Security-Policy": render.CONTENT_SECURITY_POLICY}
        )
    return figures


@router.get(
    "/cell",
    summary="The records behind one figure (an audited consultation of each)",
    responses={
        200: {
            "content": {
                "application/json": {
                    "example": {
                        "table": "eligible_on_31_march",
                        "row": "1",
                        "column": "2",
                        "nominal_ids": ["7d5ced2b-6f3e-4f59-bb20-e015d5cdc869"],
                    }
                }
            }
        }
    },
)
def statistics_cell_people(
    principal: Supervisor,
    uow: UoW,
    request: RequestId,
    year: Year,
    table: Annotated[str, Query(max_length=60)],
    row: Annotated[str, Query(max_length=200)],
    column: Annotated[str, Query(max_length=60)],
    revised: Annotated[
        bool, Query(description="the people behind the figure as revised since publication, not as published")
    ] = False,
) -> dict[str, Any]:
    if table not in service.TABLES:
        raise ApiProblem(
            422,
            "validation",
            f"unknown table {table!r}",
            errors=[{"field": "query.table", "rule": "enum", "message": f"one of {sorted(service.TABLES)}"}],
        )
    try:
        ids: list[uuid.UUID] = service.read_cell(
            uow,
            principal,
            principal.area.value,
            year,
            table,
            row,
            column,
            request_id=request,
            revised=revised,
        )
    except InvalidValue as exc:
        raise _problem(exc) from None
    return {
        "table": table,
        "row": row,
        "column": column,
        "revised": revised,
        "nominal_ids": [str(i) for i in ids],
    }
