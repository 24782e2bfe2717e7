"""Key status for administrators: versions and usage, never key material or record content."""

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from ..api.deps import Authorize, UoW, get_store, request_id
from ..api.problems import ERROR_RESPONSES
from ..audit.events import Action, AuditEntry
from ..audit.tags import Tag
from ..domain.actors import Principal
from ..store.store import Store
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
    store: Annotated[Store, Depends(get_store)],
    uow: UoW,
    request: Annotated[str | None, Depends(request_id)],
) -> list[KeyVersion]:
    ring = store.keys.keyring
    usage = service.key_usage(store)
    uow.audit.record(AuditEntry(Action.ADMINISTRATION, Tag.KEYS_STATUS_READ, admin, request_id=request))
    uow.commit()
    return [KeyVersion(version=v, state=ring.state(v), data_keys=usage.get(v, 0)) for v in ring.versions()]
