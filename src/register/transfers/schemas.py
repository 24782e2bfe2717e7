"""Transfers between areas: what is asked, decided and listed."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..domain.enums import Area
from ..domain.record import Address, OffenderManager


class TransferRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    to_area: Area
    reason: Annotated[str, Field(min_length=1, max_length=1000)]
    new_address: Address | None = None
    handover_notes: Annotated[str, Field(max_length=10_000)] | None = None


class Acceptance(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    managing_unit: Annotated[str, Field(min_length=1, max_length=200)]
    offender_managers: Annotated[list[OffenderManager], Field(max_length=5)] = []


class Rejection(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    reason: Annotated[str, Field(min_length=1, max_length=1000)]


class TransferOut(BaseModel):
    id: uuid.UUID
    nominal_id: uuid.UUID
    from_area: str
    to_area: str
    status: Literal["pending", "accepted", "rejected", "cancelled"]
    requested_by: str
    requested_at: dt.datetime
    decided_by: str | None
    decided_at: dt.datetime | None
    age_days: int
