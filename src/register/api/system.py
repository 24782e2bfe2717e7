"""Liveness, readiness, and who the register takes you to be."""

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel
from sqlalchemy import text

from ..domain.actors import Principal
from ..store.store import Store
from .deps import Authorize, get_store
from .problems import ERROR_RESPONSES, RETRY_AFTER_SECONDS, ApiProblem, Problem

router = APIRouter(tags=["system"])


class Health(BaseModel):
    status: str


@router.get(
    "/health",
    summary="The process is up",
    responses={200: {"content": {"application/json": {"example": {"status": "ok"}}}}},
)
def health() -> Health:
    return Health(status="ok")


@router.get(
    "/ready",
    summary="The database is reachable",
    responses={
        200: {"content": {"application/json": {"example": {"status": "ready"}}}},
        503: {
            "model": Problem,
            "content": {"application/problem+json": {}},
            "description": "database unreachable",
        },
    },
)
def ready(store: Annotated[Store, Depends(get_store)]) -> Health:
    try:
        with store.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any failure means not ready
        raise ApiProblem(
            503,
            "database_unreachable",
            "the database cannot be reached",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        ) from None
    return Health(status="ready")


class Me(BaseModel):
    user_id: str
    display_name: str
    agency: str
    area: str
    roles: list[str]


@router.get(
    "/v1/me",
    summary="Who the register takes you to be",
    responses={
        **ERROR_RESPONSES,
        200: {
            "content": {
                "application/json": {
                    "example": {
                        "user_id": "kent.dc.okafor",
                        "display_name": "DC Sarah Okafor",
                        "agency": "police",
                        "area": "kent",
                        "roles": ["offender_manager"],
                    }
                }
            }
        },
    },
)
def me(principal: Annotated[Principal, Depends(Authorize("self.read"))]) -> Me:
    return Me(
        user_id=principal.user_id,
        display_name=principal.display_name,
        agency=principal.agency.value,
        area=principal.area.value,
        roles=sorted(r.value for r in principal.roles),
    )
