"""Liveness, readiness, and who the register takes you to be."""

from typing import Annotated

from fastapi import Depends, Request
from pydantic import BaseModel
from sqlalchemy import text

from ..domain.actors import Principal
from ..store.store import Store
from .deps import Authorize, get_store
from .problems import ERROR_RESPONSES, RETRY_AFTER_SECONDS, ApiProblem, Problem
from .routing import APIRouter

router = APIRouter(tags=["system"])


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    """`ready` when every engine answers; `degraded` when the search engine does not (records can still be
    read and changed, the outbox keeps every change for the index, searches answer 503): the process stays in
    the load balancer. Only an unreachable database takes it out (503)."""

    status: str
    checks: dict[str, str]


SEARCH_PING_SECONDS = 2.0


def search_engine(request: Request) -> str:
    """`ok` or `unavailable` for Elasticsearch (does the search alias answer, within SEARCH_PING_SECONDS: a
    node that is up without the register's index cannot answer a search either), `embedded` for the SQL
    backend, which lives in the database checked beside it."""
    index = getattr(request.app.state, "search_index", None)
    if index is None:
        return "embedded"
    try:
        client = index.client.options(request_timeout=SEARCH_PING_SECONDS)
        return "ok" if client.indices.exists_alias(name=index.spec.alias) else "unavailable"
    except Exception:  # noqa: BLE001 - any failure to answer is "unavailable"
        return "unavailable"


@router.get(
    "/health",
    summary="The process is up",
    responses={200: {"content": {"application/json": {"example": {"status": "ok"}}}}},
)
def health() -> Health:
    return Health(status="ok")


@router.get(
    "/ready",
    summary="The engines answer: the database (required) and the search engine (reported)",
    responses={
        200: {
            "content": {
                "application/json": {
                    "example": {"status": "ready", "checks": {"database": "ok", "search": "ok"}}
                }
            }
        },
        503: {
            "model": Problem,
            "content": {"application/problem+json": {}},
            "description": "database unreachable",
        },
    },
)
def ready(request: Request, store: Annotated[Store, Depends(get_store)]) -> Readiness:
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
    search = search_engine(request)
    return Readiness(
        status="ready" if search != "unavailable" else "degraded", checks={"database": "ok", "search": search}
    )


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
def who_am_i(principal: Annotated[Principal, Depends(Authorize("self.read"))]) -> Me:
    return Me(
        user_id=principal.user_id,
        display_name=principal.display_name,
        agency=principal.agency.value,
        area=principal.area.value,
        roles=sorted(r.value for r in principal.roles),
    )
