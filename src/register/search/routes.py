"""The search API: cross-parameter search for enquiries, and export of a result list (a disclosure)."""

import logging
from typing import Annotated

from fastapi import Body, Depends, Request
from fastapi.responses import Response

from ..access.policy import Policy
from ..api.deps import (
    PolicyDep,
    PurposeAuthorize,
    UoW,
    json_response,
    request_id,
)
from ..api.problems import ERROR_RESPONSES, ApiProblem
from ..api.routing import APIRouter
from ..domain.actors import Principal
from ..exports import to_csv
from ..store.uow import UnitOfWork
from . import service
from .backend import SearchUnavailable
from .schemas import SearchBody, SearchPage, SearchResults

log = logging.getLogger(__name__)
router = APIRouter(prefix="/v1/search", tags=["search"], responses=ERROR_RESPONSES)

EXAMPLE = {
    "query": {
        "type": "group",
        "op": "and",
        "criteria": [
            {"type": "age", "min": 30, "max": 39},
            {"type": "mark", "kind": "tattoo", "location": "left_forearm"},
            {"type": "vehicle", "vrm": "GK19*", "colour": "blue"},
            {
                "type": "address",
                "near": {"latitude": 51.27, "longitude": 0.52, "radius_km": 5},
                "since": "2020-01-01",
            },
        ],
    },
    "limit": 25,
}
RESULT_EXAMPLE = {
    "total": 1,
    "backend": "elasticsearch",
    "facets": {"area": {"kent": 1}},
    "hits": [
        {
            "id": "7d5ced2b-6f3e-4f59-bb20-e015d5cdc869",
            "score": 4.0,
            "restricted": False,
            "owning_area": "kent",
            "matched": ["0:age", "1:mark", "2:vehicle", "3:address"],
            "forenames": "Daniel James",
            "surname": "Hartley",
            "date_of_birth": "1984-03-17",
            "status": "active",
            "nominal_type": "rso",
            "mappa_category": 1,
            "mappa_level": 1,
        }
    ],
    "next": None,
}
Body_ = Annotated[SearchBody, Body(openapi_examples={"major enquiry": {"value": EXAMPLE}})]


Guarded = Annotated[tuple[Principal, str], Depends(PurposeAuthorize("record.search"))]


def _run(
    request: Request,
    guarded: tuple[Principal, str],
    body: SearchBody,
    uow: UnitOfWork,
    policy: Policy,
    export: bool,
) -> SearchResults:
    principal, purpose = guarded
    backend, name = request.app.state.search_backend, request.app.state.search_backend_name
    try:
        results = service.search(
            uow,
            principal,
            policy,
            backend,
            name,
            body.request(),
            purpose=purpose,
            request_id=request_id(request),
            export=export,
        )
    except SearchUnavailable:
        log.exception("search engine unavailable")
        raise ApiProblem(
            503, "search_unavailable", "the search engine is not answering; try again shortly"
        ) from None
    return results


@router.post(
    "",
    summary="Search across records (state the purpose; audited with the criteria and the ids returned)",
    responses={200: {"content": {"application/json": {"example": RESULT_EXAMPLE}}}},
    response_model=SearchPage,
)
def search_records(
    request: Request,
    guarded: Guarded,
    body: Body_,
    uow: UoW,
    policy: PolicyDep,
) -> Response:
    return json_response(SearchPage.of(_run(request, guarded, body, uow, policy, export=False)))


@router.post(
    "/export",
    summary="Export a result list as CSV (a disclosure, audited as one)",
    response_class=Response,
    responses={
        200: {
            "content": {
                "text/csv": {"example": "id,surname,forenames,date_of_birth,owning_area,restricted,matched"}
            }
        }
    },
)
def export_search_results(
    request: Request,
    guarded: Guarded,
    body: Body_,
    uow: UoW,
    policy: PolicyDep,
) -> Response:
    results = _run(request, guarded, body, uow, policy, export=True)
    columns = ["id", "surname", "forenames", "date_of_birth", "owning_area", "restricted", "matched"]
    rows = [{**hit.model_dump(mode="json"), "matched": " ".join(hit.matched)} for hit in results.hits]
    return Response(
        to_csv(columns, rows),
        media_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="search-results.csv"'},
    )
