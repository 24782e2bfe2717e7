"""Archive and unarchive through the API (supervisors of the owning area)."""

from typing import Annotated, Any

from fastapi import Body, Depends, Response

from ..api.deps import Access, IfMatch, RecordGuard, UoW, etag
from ..api.problems import ERROR_RESPONSES
from ..api.routing import APIRouter
from . import service
from .schemas import ArchiveRequest, Unarchive

router = APIRouter(prefix="/v1/nominals", tags=["archive"], responses=ERROR_RESPONSES)
DONE: dict[int | str, dict[str, Any]] = {200: {"content": {"application/json": {"example": {"version": 26}}}}}


@router.post(
    "/{nominal_id}/archive",
    summary="Archive a record (read-only; out of caseloads and default searches)",
    responses=DONE,
)
def archive_record(
    access: Annotated[Access, Depends(RecordGuard("record.archive", "header"))],
    body: Annotated[
        ArchiveRequest,
        Body(
            openapi_examples={
                "died": {"value": {"reason": "died"}},
                "other": {"value": {"reason": "other", "text": "deported"}},
            }
        ),
    ],
    version: IfMatch,
    uow: UoW,
    response: Response,
) -> dict[str, int]:
    new_version = service.archive(uow, access.principal, access.nominal_id, body, expected_version=version)
    response.headers["ETag"] = etag(new_version)
    return {"version": new_version}


@router.post(
    "/{nominal_id}/unarchive", summary="Bring an archived record back into active management", responses=DONE
)
def unarchive_record(
    access: Annotated[Access, Depends(RecordGuard("record.archive", "header"))],
    body: Annotated[
        Unarchive, Body(openapi_examples={"returned": {"value": {"reason": "returned to the area"}}})
    ],
    version: IfMatch,
    uow: UoW,
    response: Response,
) -> dict[str, int]:
    new_version = service.unarchive(uow, access.principal, access.nominal_id, body, expected_version=version)
    response.headers["ETag"] = etag(new_version)
    return {"version": new_version}
