"""Duplicates, merge and unmerge through the API (supervisors of the owning area)."""

import uuid
from typing import Annotated

from fastapi import Body, Depends, Query, Request, Response

from ..access.policy import RecordFacts
from ..api.deps import (
    Access,
    Authorize,
    Cursor,
    IfMatch,
    Limit,
    Purpose,
    RecordGuard,
    UoW,
    etag,
    get_policy,
    problem,
    request_id,
    restricted_stub,
)
from ..api.problems import ERROR_RESPONSES, ok
from ..api.routing import APIRouter
from ..domain.actors import Principal
from ..usecase import guard
from ..usecase.views import RestrictedStub
from . import service
from .schemas import (
    CandidatePage,
    Dismissal,
    Merged,
    MergeOut,
    MergePreview,
    MergeRequest,
    Unmerged,
    UnmergeRequest,
)

router = APIRouter(tags=["merges"], responses=ERROR_RESPONSES)
A, B, MERGE = (
    "7d5ced2b-6f3e-4f59-bb20-e015d5cdc869",
    "0b7e4c1e-6a55-4e0b-9d6c-2f3c1a9e8b77",
    "5b0f3a8e-2d4c-4f0e-9a51-3c2e7d9b1a64",
)
CONFLICT = {
    "field": "addresses.current",
    "survivor": "14 Tonbridge Road, ME16 8RA",
    "merged": "3 Week Street, ME14 1QX",
}
PAGE = {
    "items": [
        {
            "rule": "identifier",
            "first": {
                "id": A,
                "area": "kent",
                "forenames": "Daniel",
                "surname": "Hartley",
                "date_of_birth": "1984-03-17",
                "restricted": False,
            },
            "second": {
                "id": B,
                "area": "kent",
                "forenames": "Danny",
                "surname": "Hartly",
                "date_of_birth": "1984-03-17",
                "restricted": False,
            },
        }
    ],
    "total": 1,
    "next": None,
}
PREVIEW = {
    "survivor_id": A,
    "survivor_version": 12,
    "merged_id": B,
    "merged_version": 4,
    "rule": "identifier",
    "conflicts": [CONFLICT],
    "aliases_added": [
        {"forenames": "Danny", "surname": "Hartly", "name_type": "merged", "date_of_birth": "1984-03-17"}
    ],
    "items_moved": 4,
    "entries_moved": 1,
    "combined": {"id": A, "version": 12, "status": "active", "...": "the whole record"},
}
MERGED = {"id": MERGE, "version": 13, "items_moved": 4, "entries_moved": 1, "conflicts": [CONFLICT]}
HISTORY = [
    {
        "id": MERGE,
        "survivor_id": A,
        "merged_id": B,
        "status": "merged",
        "rule": "identifier",
        "merged_by": "kent.sup",
        "merged_at": "2026-03-01T10:00:00Z",
        "unmerged_by": None,
        "unmerged_at": None,
        "unmerge_reason": None,
    }
]
UNMERGED = {
    "version": 15,
    "merged_version": 6,
    "items_returned": 4,
    "entries_returned": 1,
    "added_since": [
        {
            "kind": "item",
            "id": "9f1c2b7a-4d3e-4a5b-8c6d-7e8f9a0b1c2d",
            "section": "marks",
            "recorded_at": "2026-03-02T09:00:00Z",
            "recorded_by": "kent.om",
        }
    ],
    "changed_since": [],
}


@router.get(
    "/v1/duplicates",
    summary="Suspected duplicate records touching your area, strongest match first",
    responses=ok(PAGE),
)
def list_duplicates(
    principal: Annotated[Principal, Depends(Authorize("record.merge"))],
    uow: UoW,
    request: Request,
    limit: Limit = 25,
    cursor: Cursor = None,
    purpose: Purpose = None,
) -> CandidatePage:
    out = service.candidates(
        uow,
        principal,
        get_policy(request),
        limit=limit,
        cursor=cursor,
        purpose=purpose,
        request_id=request_id(request),
    )
    return out


@router.post(
    "/v1/duplicates/dismissals",
    status_code=201,
    summary="Say two records are two people: never proposed again",
    responses=ok({"dismissed": True, "new": True}, 201),
)
def dismiss_duplicate(
    principal: Annotated[Principal, Depends(Authorize("record.merge"))],
    body: Annotated[
        Dismissal,
        Body(
            openapi_examples={
                "two people": {
                    "value": {
                        "first_id": A,
                        "second_id": B,
                        "reason": "different fathers named on birth certificates",
                    }
                }
            }
        ),
    ],
    uow: UoW,
    request: Request,
) -> dict[str, bool]:
    # The policy judges the pair by the area of each record: a supervisor may dismiss a pair one of whose
    # records is theirs.
    policy = get_policy(request)
    decisions = [
        policy.decide(principal, "record.merge", record=RecordFacts(area=row.area, restricted=row.restricted))  # type: ignore[arg-type]  # stored area: a StrEnum value
        for row in (uow.nominals.header_row(body.first_id), uow.nominals.header_row(body.second_id))
    ]
    if not any(d.allowed for d in decisions):
        raise problem(
            guard.refuse(
                uow,
                principal,
                "record.merge",
                decisions[0],
                nominal_id=body.first_id,
                request_id=request_id(request),
            )
        )
    created = service.dismiss(uow, principal, body, request_id=request_id(request))
    return {"dismissed": True, "new": created}


@router.get(
    "/v1/nominals/{nominal_id}/merge_preview",
    summary="Preview merging a duplicate into this record: the combined record and conflicts",
    responses=ok(PREVIEW),
)
def preview_merge(
    access: Annotated[Access, Depends(RecordGuard("record.merge", "header"))],
    uow: UoW,
    merged_id: Annotated[uuid.UUID, Query(description="the duplicate that would become a tombstone")],
) -> MergePreview:
    out = service.preview(
        uow,
        access.principal,
        access.nominal_id,
        merged_id,
        audience=access.audience,
        purpose=access.purpose,
        request_id=access.request_id,
    )
    return out


@router.post(
    "/v1/nominals/{nominal_id}/merges",
    status_code=201,
    summary="Merge a duplicate into this record (If-Match: this record's ETag)",
    responses=ok(MERGED, 201),
)
def merge_records(
    access: Annotated[Access, Depends(RecordGuard("record.merge", "header"))],
    body: Annotated[
        MergeRequest, Body(openapi_examples={"merge": {"value": {"merged_id": B, "merged_version": 4}}})
    ],
    version: IfMatch,
    uow: UoW,
    response: Response,
) -> Merged:
    out = service.merge(
        uow,
        access.principal,
        access.nominal_id,
        body.merged_id,
        expected_version=version,
        merged_version=body.merged_version,
        audience=access.audience,
        purpose=access.purpose,
        request_id=access.request_id,
        reason=body.reason,
    )
    response.headers["ETag"] = etag(out.version)
    return out


@router.get(
    "/v1/nominals/{nominal_id}/merges",
    summary="The merges this record took part in, either side",
    responses=ok(HISTORY),
)
def list_merges(
    access: Annotated[Access, Depends(RecordGuard("record.read", "header"))], uow: UoW
) -> list[MergeOut] | RestrictedStub:
    if access.stub:
        return restricted_stub(uow, access)
    out = service.merges_of(
        uow, access.principal, access.nominal_id, purpose=access.purpose, request_id=access.request_id
    )
    return out


@router.post(
    "/v1/nominals/{nominal_id}/merges/{merge_id}/unmerge",
    summary=(
        "Undo a merge: both records as they were, additions since reported, the pair never proposed again"
    ),
    responses=ok(UNMERGED),
)
def unmerge_records(
    access: Annotated[Access, Depends(RecordGuard("record.merge", "header"))],
    merge_id: uuid.UUID,
    body: Annotated[
        UnmergeRequest, Body(openapi_examples={"two people": {"value": {"reason": "DNA shows two people"}}})
    ],
    version: IfMatch,
    uow: UoW,
    response: Response,
) -> Unmerged:
    out = service.unmerge(
        uow,
        access.principal,
        access.nominal_id,
        merge_id,
        body.reason,
        expected_version=version,
        audience=access.audience,
        request_id=access.request_id,
    )
    response.headers["ETag"] = etag(out.version)
    return out
