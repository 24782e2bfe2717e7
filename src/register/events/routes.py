"""The event feed (`GET /v1/events`, for client systems and area staff) and the webhook subscriptions
(administrators). docs/events.md says what an event holds, how the cursor works and how to verify a
delivery."""

import uuid
from typing import Annotated

from fastapi import Body, Depends, Query, Request

from ..api.deps import Authorize, RequestId, UoW, get_policy
from ..api.problems import ERROR_RESPONSES
from ..api.routing import APIRouter
from ..domain.actors import Principal
from . import service
from .schemas import (
    EXAMPLE_EVENT,
    CreatedSubscription,
    DeadLetter,
    Deleted,
    FeedPage,
    NewSubscription,
    Redelivered,
    Replay,
    Replayed,
    Subscription,
)

router = APIRouter(tags=["events"], responses=ERROR_RESPONSES)

SUBSCRIPTION_EXAMPLE = {
    "id": "3d0a4f6e-1c2b-4a5d-9e8f-7a6b5c4d3e2f",
    "url": "https://cms.probation.example/register-events",
    "client_id": "service-account-probation-cms-kent",
    "agency": "probation",
    "area": "kent",
    "roles": ["reader"],
    "created_by": "kent.administrator",
    "created_at": "2026-11-30T14:00:00Z",
    "pending": 0,
    "delivered": 12,
    "dead": 1,
}
NEW_SUBSCRIPTION_EXAMPLE = {
    "url": "https://cms.probation.example/register-events",
    "client_id": "service-account-probation-cms-kent",
    "agency": "probation",
    "area": "kent",
    "roles": ["reader"],
}
CURSOR_EXAMPLE = "n3Yc2c0V0mGQ0xk7n3b2s9o1M2Jx6aQx0f8kZ4tZl3c"


def _example(body: object) -> dict[int | str, dict[str, object]]:
    return {200: {"content": {"application/json": {"example": body}}}}


@router.get(
    "/v1/events",
    summary="The events about records you may see, oldest first, after a cursor",
    responses=_example({"events": [EXAMPLE_EVENT], "next": CURSOR_EXAMPLE}),
)
def read_events(
    caller: Annotated[Principal, Depends(Authorize("events.read"))],
    uow: UoW,
    request: Request,
    rid: RequestId,
    cursor: Annotated[
        str | None, Query(max_length=400, description="a page's `next`; none: the start")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=service.MAX_LIMIT)] = 100,
) -> FeedPage:
    page = service.read_feed(uow, caller, get_policy(request), cursor=cursor, limit=limit, request_id=rid)
    return FeedPage(events=page.events, next=page.next)


@router.post(
    "/v1/webhooks/subscriptions",
    status_code=201,
    summary="Subscribe a client system to the events its principal may see (the secret is shown once)",
    responses={
        201: {
            "content": {
                "application/json": {
                    "example": SUBSCRIPTION_EXAMPLE | {"secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}
                }
            }
        }
    },
)
def create_subscription(
    admin: Annotated[Principal, Depends(Authorize("events.admin"))],
    uow: UoW,
    request: Request,
    rid: RequestId,
    body: Annotated[
        NewSubscription, Body(openapi_examples={"probation": {"value": NEW_SUBSCRIPTION_EXAMPLE}})
    ],
) -> CreatedSubscription:
    return service.create_subscription(uow, admin, get_policy(request), body, request_id=rid)


@router.get(
    "/v1/webhooks/subscriptions",
    summary="The client systems' subscriptions, with their deliveries pending, delivered and dead",
    responses=_example([SUBSCRIPTION_EXAMPLE]),
)
def list_subscriptions(
    admin: Annotated[Principal, Depends(Authorize("events.admin"))],
    uow: UoW,
    rid: RequestId,
) -> list[Subscription]:
    return service.list_subscriptions(uow, admin, request_id=rid)


@router.delete(
    "/v1/webhooks/subscriptions/{subscription_id}",
    summary="Unsubscribe a client system (its deliveries and its secret go with it)",
    responses=_example({"subscription_id": SUBSCRIPTION_EXAMPLE["id"], "deleted": True}),
)
def delete_subscription(
    admin: Annotated[Principal, Depends(Authorize("events.admin"))],
    uow: UoW,
    subscription_id: uuid.UUID,
    rid: RequestId,
) -> Deleted:
    service.delete_subscription(uow, admin, subscription_id, request_id=rid)
    return Deleted(subscription_id=subscription_id)


@router.post(
    "/v1/webhooks/subscriptions/{subscription_id}/replay",
    summary="Deliver again the events after a cursor (none: from the first)",
    responses=_example({"subscription_id": SUBSCRIPTION_EXAMPLE["id"]}),
)
def replay_subscription(
    admin: Annotated[Principal, Depends(Authorize("events.admin"))],
    uow: UoW,
    subscription_id: uuid.UUID,
    rid: RequestId,
    body: Annotated[Replay, Body(openapi_examples={"from a cursor": {"value": {"cursor": CURSOR_EXAMPLE}}})],
) -> Replayed:
    service.replay(uow, admin, subscription_id, body.cursor, request_id=rid)
    return Replayed(subscription_id=subscription_id)


@router.get(
    "/v1/webhooks/subscriptions/{subscription_id}/dead_letters",
    summary="Deliveries that failed their last attempt (event id and type, never its content)",
    responses=_example(
        [
            {
                "delivery_id": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
                "event_id": EXAMPLE_EVENT["id"],
                "type": EXAMPLE_EVENT["type"],
                "attempts": 8,
                "last_attempt_at": "2026-11-30T16:00:00Z",
                "last_error": "HTTP 503",
            }
        ]
    ),
)
def list_dead_letters(
    admin: Annotated[Principal, Depends(Authorize("events.admin"))],
    uow: UoW,
    subscription_id: uuid.UUID,
    rid: RequestId,
) -> list[DeadLetter]:
    return service.dead_letters(uow, admin, subscription_id, request_id=rid)


@router.post(
    "/v1/webhooks/subscriptions/{subscription_id}/dead_letters/{delivery_id}/redeliver",
    summary="Put a dead letter back in the queue, due now",
    responses=_example({"delivery_id": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d", "status": "pending"}),
)
def redeliver_dead_letter(
    admin: Annotated[Principal, Depends(Authorize("events.admin"))],
    uow: UoW,
    subscription_id: uuid.UUID,
    delivery_id: uuid.UUID,
    rid: RequestId,
) -> Redelivered:
    service.redeliver(uow, admin, subscription_id, delivery_id, request_id=rid)
    return Redelivered(delivery_id=delivery_id)
