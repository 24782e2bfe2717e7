"""The shapes of the event feed and the webhook subscriptions (API and CLI alike)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..domain.enums import Agency, Area, Role

EXAMPLE_EVENT: dict[str, Any] = {
    "specversion": "1.0",
    "id": "0b9c2f0e-6b1e-4f51-9b8a-3c1f7e0d2a11",
    "source": "/register",
    "type": "uk.gov.mappa.register.record.changed",
    "subject": "5f0c6d1e-2a3b-4c5d-8e9f-0a1b2c3d4e5f",
    "time": "2026-11-30T14:05:00.123456Z",
    "datacontenttype": "application/json",
    "data": {
        "record_id": "5f0c6d1e-2a3b-4c5d-8e9f-0a1b2c3d4e5f",
        "section": "addresses",
        "version": 7,
        "owning_area": "kent",
    },
}


class FeedPage(BaseModel):
    events: list[dict[str, Any]] = Field(description="CloudEvents 1.0 (structured mode), oldest first")
    next: str = Field(
        description="opaque cursor: send it as `cursor` for the events after these (the same one back when "
        "there is nothing new yet)"
    )


class NewSubscription(BaseModel):
    """A client system's subscription: where its events go and which principal it is (the policy decides,
    per event and at delivery time, what that principal may see)."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=500, description="https:// (http:// only to a loopback address)")
    client_id: str = Field(min_length=1, max_length=100, description="the client system's id at the provider")
    agency: Agency
    area: Area
    roles: list[Role] = Field(default_factory=lambda: [Role.READER], min_length=1)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        from urllib.parse import urlsplit

        parts = urlsplit(value)
        loopback = parts.hostname in ("127.0.0.1", "localhost", "::1")
        if not parts.hostname or not (parts.scheme == "https" or (parts.scheme == "http" and loopback)):
            raise ValueError("must be an https:// URL (http:// only to a loopback address)")
        if parts.username or parts.password:
            raise ValueError("must not carry a user name or password")
        return value


class Subscription(BaseModel):
    id: uuid.UUID
    url: str
    client_id: str
    agency: Agency
    area: Area
    roles: list[Role]
    created_by: str
    created_at: dt.datetime
    pending: int = 0
    delivered: int = 0
    dead: int = 0


class CreatedSubscription(Subscription):
    secret: str = Field(description="the Standard Webhooks signing secret (whsec_...): shown this once only")


class Replay(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cursor: str | None = Field(
        default=None,
        max_length=400,
        description="a feed cursor (a page's `next`, or a delivery's `register-event-cursor` header): the "
        "events after it are delivered again; none: from the first event",
    )


class Replayed(BaseModel):
    subscription_id: uuid.UUID


class DeadLetter(BaseModel):
    delivery_id: uuid.UUID
    event_id: uuid.UUID
    type: str
    attempts: int
    last_attempt_at: dt.datetime | None
    last_error: str | None


class Redelivered(BaseModel):
    delivery_id: uuid.UUID
    status: str = "pending"


class Deleted(BaseModel):
    subscription_id: uuid.UUID
    deleted: bool = True
