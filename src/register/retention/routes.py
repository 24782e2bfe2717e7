"""Retention through the API: a record's schedule, legal holds and reviews (supervisors), erasure of one item
(supervisors, with the item's id repeated as confirmation)."""

import uuid
from typing import Annotated, Any

from fastapi import Body, Depends, Response

from ..api.deps import Access, IfMatch, RecordGuard, UoW, etag, restricted_stub
from ..api.problems import ERROR_RESPONSES
from ..api.routing import APIRouter
from ..usecase.views import RestrictedStub
from . import service
from .schemas import HoldRequest, ItemErasure, RetentionOut, ReviewRequest

router = APIRouter(prefix="/v1/nominals", tags=["retention"], responses=ERROR_RESPONSES)
DONE: dict[int | str, dict[str, Any]] = {200: {"content": {"application/json": {"example": {"version": 27}}}}}
HOLD = {"enquiry": {"value": {"reason": "Operation NIGHTJAR: disclosure in pending proceedings"}}}


def _done(response: Response, version: int) -> dict[str, int]:
    response.headers["ETag"] = etag(version)
    return {"version": version}


@router.get(
    "/{nominal_id}/retention",
    summary="When the record is next reviewed and disposed of, and any legal hold",
    responses={
        200: {
            "content": {
                "application/json": {
                    "example": {
                        "status": "archived",
                        "archived_reason": "eligibility_ended",
                        "archived_on": "2026-01-10",
                        "legal_hold": False,
                        "review_on": "2036-01-10",
                        "dispose_on": "2084-03-17",
                    }
                }
            }
        }
    },
)
def read_retention(
    access: Annotated[Access, Depends(RecordGuard("record.read", "header"))], uow: UoW
) -> RetentionOut | RestrictedStub:
    if access.stub:
        return restricted_stub(uow, access)
    return service.read_status(
        uow, access.principal, access.nominal_id, purpose=access.purpose, request_id=access.request_id
    )


@router.post(
    "/{nominal_id}/legal_hold",
    summary="Set a legal hold: the record is never disposed of while it stands",
    responses=DONE,
)
def place_legal_hold(
    access: Annotated[Access, Depends(RecordGuard("record.retention", "header"))],
    body: Annotated[HoldRequest, Body(openapi_examples=HOLD)],
    version: IfMatch,
    uow: UoW,
    response: Response,
) -> dict[str, int]:
    new_version = service.set_hold(
        uow, access.principal, access.nominal_id, body.reason, hold=True, expected_version=version
    )
    return _done(response, new_version)


@router.post("/{nominal_id}/legal_hold/release", summary="Release the legal hold", responses=DONE)
def release_legal_hold(
    access: Annotated[Access, Depends(RecordGuard("record.retention", "header"))],
    body: Annotated[
        HoldRequest, Body(openapi_examples={"ended": {"value": {"reason": "proceedings concluded"}}})
    ],
    version: IfMatch,
    uow: UoW,
    response: Response,
) -> dict[str, int]:
    new_version = service.set_hold(
        uow, access.principal, access.nominal_id, body.reason, hold=False, expected_version=version
    )
    return _done(response, new_version)


@router.post(
    "/{nominal_id}/retention_review",
    summary="Record a retention review of an archived record: kept, next review set",
    responses=DONE,
)
def review_retention(
    access: Annotated[Access, Depends(RecordGuard("record.retention", "header"))],
    body: Annotated[
        ReviewRequest,
        Body(openapi_examples={"kept": {"value": {"reason": "still of policing purpose: linked enquiry"}}}),
    ],
    version: IfMatch,
    uow: UoW,
    response: Response,
) -> dict[str, int]:
    new_version = service.review(
        uow, access.principal, access.nominal_id, body.reason, expected_version=version
    )
    return _done(response, new_version)


@router.post(
    "/{nominal_id}/items/{item_id}/erase",
    summary="Erase one item or chronology entry for good (confirm with its id)",
    responses=DONE,
)
def erase_item(
    access: Annotated[Access, Depends(RecordGuard("record.erase", "header"))],
    item_id: uuid.UUID,
    body: Annotated[
        ItemErasure,
        Body(
            openapi_examples={
                "wrong person": {
                    "value": {
                        "reason": "entered on the wrong person's record",
                        "confirm": "9f1c2b7a-4d3e-4a5b-8c6d-7e8f9a0b1c2d",
                    }
                }
            }
        ),
    ],
    version: IfMatch,
    uow: UoW,
    response: Response,
) -> dict[str, int]:
    new_version = service.erase_item(
        uow,
        access.principal,
        access.nominal_id,
        item_id,
        body,
        expected_version=version,
        visibility=access.visibility,
        request_id=access.request_id,
    )
    return _done(response, new_version)
