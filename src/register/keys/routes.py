"""Key status for administrators: versions and usage, never key material or record content."""

from typing import Annotated

from fastapi import Depends
from pydantic import BaseModel

from ..api.deps import Authorize, RequestId, UoW
from ..api.problems import ERROR_RESPONSES
from ..api.routing import APIRouter
from ..domain.actors import Principal
from . import service

router = APIRouter(prefix="/v1/admin", tags=["administration"], responses=ERROR_RESPONSES)


class KeyVersion(BaseModel):
    version: str
    state: str
    data_keys: int


@router.get(
    "/keys",
    summary="Key-encryption key versions and how many data keys each wraps",
    responses={
        200: {
            "content": {
                "application/json": {
                    "example": [
                        {"version": "1", "state": "retired", "data_keys": 0},
                        {"version": "2", "state": "active", "data_keys": 5},
                    ]
                }
            }
        }
    },
)
def key_status(
    admin: Annotated[Principal, Depends(Authorize("admin.keys"))],
    uow: UoW,
    request: RequestId,
) -> list[KeyVersion]:
    return [
        KeyVersion(version=v.version, state=v.state, data_keys=v.data_keys)
        for v in service.status(uow, admin, request_id=request)
    ]
