"""GET /v1/nominals/{id}/associations: the association chart's data, from the same use case as the page."""

import datetime as dt
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Depends, Query

from ..api.deps import Access, PolicyDep, RecordGuard, UoW, restricted_stub
from ..api.problems import ERROR_RESPONSES, ok
from ..api.routing import APIRouter
from ..usecase.views import RestrictedStub
from . import service
from .schemas import AssociationGraph

router = APIRouter(prefix="/v1/nominals", tags=["associations"], responses=ERROR_RESPONSES)
LONDON = ZoneInfo("Europe/London")

A, B, C = (
    "0b6f3c52-3f0e-4f47-9d43-2f4d7f1c9a10",
    "5a1d2c3b-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
    "7c8d9e0f-1a2b-4c3d-8e4f-5a6b7c8d9e0f",
)
EXAMPLE = {
    "centre": A,
    "level": 1,
    "cap": service.CAP,
    "capped_levels": [],
    "nodes": [
        {"id": A, "level": 0, "area": "kent", "shown_as": "record", "forenames": "Daniel James",
         "surname": "Hartley", "date_of_birth": "1984-03-02", "message": None},
        {"id": B, "level": 1, "area": "kent", "shown_as": "record", "forenames": "Leah", "surname": "Morgan",
         "date_of_birth": "1990-07-19", "message": None},
        {"id": C, "level": 1, "area": "essex", "shown_as": "withheld", "forenames": None, "surname": None,
         "date_of_birth": None, "message": service.WITHHELD},
    ],
    "links": [
        {"source": A, "target": B, "kind": "associate", "value": "Partner"},
        {"source": A, "target": C, "kind": "vehicle", "value": "AB12CDE"},
    ],
}  # fmt: skip


@router.get(
    "/{nominal_id}/associations",
    summary="The people linked to a record by shared addresses, vehicles, numbers and named associates",
    responses=ok(EXAMPLE),
)
def read_associations(
    access: Annotated[Access, Depends(RecordGuard("record.read", "associates"))],
    uow: UoW,
    policy: PolicyDep,
    level: Annotated[
        int, Query(ge=1, le=2, description="1: people linked to the record; 2: and to them")
    ] = 1,
) -> AssociationGraph | RestrictedStub:
    if access.stub:
        return restricted_stub(uow, access)
    return service.associations(
        uow,
        access.principal,
        policy,
        access.nominal_id,
        level=level,
        today=dt.datetime.now(LONDON).date(),
        purpose=access.purpose,
        request_id=access.request_id,
    )
