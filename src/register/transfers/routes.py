"""Transfers through the API. The policy judges a decision against the receiving area and a cancellation
against the sending area: the guard hands it the right area."""

import uuid
from typing import Annotated, Literal

from fastapi import Body, Depends, Request, Response

from ..access.policy import RecordFacts
from ..api.deps import (
    Access,
    Authorize,
    Cursor,
    IfMatch,
    Limit,
    RecordGuard,
    UoW,
    authenticate,
    etag,
    get_policy,
    problem,
    request_id,
)
from ..api.problems import ERROR_RESPONSES
from ..api.routing import APIRouter
from ..domain.actors import Principal
from ..domain.enums import Area
from ..usecase import guard
from ..usecase.guard import Refused
from . import service
from .schemas import Acceptance, Rejection, TransferPage, TransferRequest

router = APIRouter(tags=["transfers"], responses=ERROR_RESPONSES)
REQUEST_EXAMPLE = {
    "to_area": "essex",
    "reason": "moved to Chelmsford to live with his sister",
    "new_address": {"kind": "home", "lines": ["7 Moulsham Street"], "postcode": "CM2 0HX"},
    "handover_notes": "Level 1, compliant",
}
OUT_EXAMPLE = {
    "items": [
        {
            "id": "0b7e4c1e-6a55-4e0b-9d6c-2f3c1a9e8b77",
            "nominal_id": "7d5ced2b-6f3e-4f59-bb20-e015d5cdc869",
            "from_area": "kent",
            "to_area": "essex",
            "status": "pending",
            "requested_by": "kent.dc.okafor",
            "requested_at": "2026-01-05T10:00:00Z",
            "decided_by": None,
            "decided_at": None,
            "age_days": 3,
        }
    ],
    "total": 1,
    "next": None,
}


class TransferGuard(Authorize):
    """The role check first (403), then the transfer (404), then the area the policy judges against (403)."""

    def __init__(self, action: str, side: Literal["from", "to"]) -> None:
        super().__init__(action)
        self.side = side

    def __call__(  # type: ignore[override]  # a FastAPI dependency: its parameters are what it asks for
        self,
        request: Request,
        transfer_id: uuid.UUID,
        principal: Annotated[Principal, Depends(authenticate)],
        uow: UoW,
    ) -> Principal:
        policy = get_policy(request)
        try:
            guard.authorize(uow, policy, principal, self.action, request_id=request_id(request))
            row = service.get(uow, transfer_id)
            area = row.to_area if self.side == "to" else row.from_area
            guard.authorize(
                uow,
                policy,
                principal,
                self.action,
                record=RecordFacts(area=Area(area), restricted=False),
                request_id=request_id(request),
            )
        except Refused as refused:
            raise problem(refused) from None
        return principal


@router.post(
    "/v1/nominals/{nominal_id}/transfers",
    status_code=201,
    summary="Start moving a record your area owns to another area",
    responses={
        201: {
            "content": {
                "application/json": {"example": {"id": "0b7e4c1e-6a55-4e0b-9d6c-2f3c1a9e8b77", "version": 25}}
            }
        }
    },
)
def request_transfer(
    access: Annotated[Access, Depends(RecordGuard("transfer.start", "header"))],
    body: Annotated[TransferRequest, Body(openapi_examples={"moved": {"value": REQUEST_EXAMPLE}})],
    version: IfMatch,
    uow: UoW,
    response: Response,
) -> dict[str, object]:
    transfer_id, new_version = service.start(
        uow, access.principal, access.nominal_id, body, expected_version=version
    )
    response.headers["ETag"] = etag(new_version)
    return {"id": str(transfer_id), "version": new_version}


@router.get(
    "/v1/transfers",
    summary="Transfers coming to (incoming) or going from (outgoing) your area, with their age",
    responses={200: {"content": {"application/json": {"example": OUT_EXAMPLE}}}},
)
def list_transfers(
    principal: Annotated[Principal, Depends(Authorize("transfer.list"))],
    uow: UoW,
    request: Request,
    direction: Literal["incoming", "outgoing"] = "incoming",
    status: Literal["pending", "accepted", "rejected", "cancelled"] | None = "pending",
    limit: Limit = 100,
    cursor: Cursor = None,
) -> TransferPage:
    return service.listing(
        uow, principal, direction, status, limit=limit, cursor=cursor, request_id=request_id(request)
    )


@router.post(
    "/v1/transfers/{transfer_id}/accept",
    summary="Accept a transfer to your area: ownership moves, atomically",
    responses={200: {"content": {"application/json": {"example": {"version": 27}}}}},
)
def accept_transfer(
    principal: Annotated[Principal, Depends(TransferGuard("transfer.decide", "to"))],
    transfer_id: uuid.UUID,
    body: Annotated[
        Acceptance, Body(openapi_examples={"accept": {"value": {"managing_unit": "Chelmsford MOSOVO"}}})
    ],
    uow: UoW,
) -> dict[str, int]:
    version = service.accept(uow, principal, transfer_id, body)
    return {"version": version}


@router.post(
    "/v1/transfers/{transfer_id}/reject",
    summary="Reject a transfer to your area, with a reason",
    responses={200: {"content": {"application/json": {"example": {"status": "rejected"}}}}},
)
def reject_transfer(
    principal: Annotated[Principal, Depends(TransferGuard("transfer.decide", "to"))],
    transfer_id: uuid.UUID,
    body: Annotated[
        Rejection, Body(openapi_examples={"reject": {"value": {"reason": "no local connection confirmed"}}})
    ],
    uow: UoW,
) -> dict[str, str]:
    service.reject(uow, principal, transfer_id, body)
    return {"status": "rejected"}


@router.post(
    "/v1/transfers/{transfer_id}/cancel",
    summary="Cancel a pending transfer your area started",
    responses={200: {"content": {"application/json": {"example": {"status": "cancelled"}}}}},
)
def cancel_transfer(
    principal: Annotated[Principal, Depends(TransferGuard("transfer.start", "from"))],
    transfer_id: uuid.UUID,
    uow: UoW,
) -> dict[str, str]:
    service.cancel(uow, principal, transfer_id)
    return {"status": "cancelled"}
