"""The watched-searches API: an investigator watches a saved search of their operation until a date, reads its
new matches (record ids: names only where a consultation is audited, by the search or the record itself),
marks them as seen and ends the watch. Every route states the operation as its purpose (X-Purpose)."""

import datetime as dt
import logging
import uuid
from typing import Annotated

from fastapi import Body, Depends, Request
from pydantic import BaseModel, ConfigDict

from ..api.deps import (
    PolicyDep,
    PurposeAuthorize,
    UoW,
    request_id,
)
from ..api.problems import ERROR_RESPONSES, ApiProblem
from ..api.routing import APIRouter
from ..domain.actors import Principal
from ..search.backend import SearchUnavailable
from . import service

log = logging.getLogger(__name__)
router = APIRouter(prefix="/v1/watches", tags=["watched searches"], responses=ERROR_RESPONSES)


Guarded = Annotated[tuple[Principal, str], Depends(PurposeAuthorize("record.search"))]


class WatchStart(BaseModel):
    model_config = ConfigDict(extra="forbid")
    until: dt.date  # after today, at most 90 days ahead (service.WATCH_DAYS)


class WatchOut(BaseModel):
    saved_search_id: uuid.UUID
    name: str
    until: dt.date
    started_at: dt.datetime
    ended: bool
    expired: bool
    new_matches: int


class NewMatches(BaseModel):
    watch: WatchOut
    ids: list[uuid.UUID]


WATCH_EXAMPLE = {
    "saved_search_id": "0f4c8a2e-51b3-4c57-9a0e-3d2b7f1c6a90",
    "name": "Transit van, Hartley",
    "until": "2027-01-31",
    "started_at": "2026-11-30T14:05:00Z",
    "ended": False,
    "expired": False,
    "new_matches": 2,
}
MATCHES_EXAMPLE = {
    "watch": WATCH_EXAMPLE,
    "ids": ["7d5ced2b-6f3e-4f59-bb20-e015d5cdc869", "a41f0c6e-9b2d-4e7a-8c3f-5e1d2b6a7c80"],
}


def _example(value: object) -> dict[int | str, dict[str, object]]:
    return {200: {"content": {"application/json": {"example": value}}}}


StartBody = Annotated[WatchStart, Body(openapi_examples={"a month": {"value": {"until": "2027-01-31"}}})]


def _out(w: service.Watch) -> WatchOut:
    return WatchOut(
        saved_search_id=w.saved_search_id,
        name=w.name,
        until=w.until,
        started_at=w.started_at,
        ended=w.ended,
        expired=w.expired,
        new_matches=w.new,
    )


@router.get(
    "",
    summary="Your watched searches of this operation, with how many new matches each has",
    responses=_example([WATCH_EXAMPLE]),
)
def list_watches(request: Request, guarded: Guarded, uow: UoW, policy: PolicyDep) -> list[WatchOut]:
    principal, operation = guarded
    found = service.my_watches(uow, principal, policy, operation=operation, request_id=request_id(request))
    return [_out(w) for w in found]


@router.put(
    "/{saved_search_id}",
    summary="Watch a saved search you saved for this operation until a date (renew: the same again)",
    responses=_example(WATCH_EXAMPLE),
)
def start_watch(
    request: Request,
    saved_search_id: uuid.UUID,
    body: StartBody,
    guarded: Guarded,
    uow: UoW,
    policy: PolicyDep,
) -> WatchOut:
    principal, operation = guarded
    try:
        watch = service.start_watch(
            uow,
            principal,
            policy,
            request.app.state.search_backend,
            request.app.state.search_backend_name,
            saved_search_id,
            operation=operation,
            until=body.until,
            request_id=request_id(request),
        )
    except SearchUnavailable:
        log.exception("search engine unavailable")
        raise ApiProblem(
            503, "search_unavailable", "the search engine is not answering; try again shortly"
        ) from None
    return _out(watch)


@router.delete(
    "/{saved_search_id}", summary="End the watch of a saved search", responses=_example(WATCH_EXAMPLE)
)
def end_watch(
    request: Request, saved_search_id: uuid.UUID, guarded: Guarded, uow: UoW, policy: PolicyDep
) -> WatchOut:
    principal, operation = guarded
    return _out(
        service.end_watch(
            uow, principal, policy, saved_search_id, operation=operation, request_id=request_id(request)
        )
    )


@router.get(
    "/{saved_search_id}/matches",
    summary="A watch's new matches not yet seen: the ids of records you may see (audited)",
    responses=_example(MATCHES_EXAMPLE),
)
def new_matches(
    request: Request, saved_search_id: uuid.UUID, guarded: Guarded, uow: UoW, policy: PolicyDep
) -> NewMatches:
    principal, operation = guarded
    watch, _, ids = service.new_matches(
        uow, principal, policy, saved_search_id, operation=operation, request_id=request_id(request)
    )
    return NewMatches(watch=_out(watch), ids=ids)


@router.post(
    "/{saved_search_id}/seen",
    summary="Mark a watch's new matches as seen",
    responses=_example(WATCH_EXAMPLE),
)
def mark_seen(
    request: Request, saved_search_id: uuid.UUID, guarded: Guarded, uow: UoW, policy: PolicyDep
) -> WatchOut:
    principal, operation = guarded
    return _out(
        service.mark_seen(
            uow, principal, policy, saved_search_id, operation=operation, request_id=request_id(request)
        )
    )
