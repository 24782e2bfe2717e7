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
    reason: Annotated[str, Field(max_length=1000)] | None = Field(
        default=None, description="a note on the decision, sealed with the transfer"
    )


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


class TransferPage(BaseModel):
    items: list[TransferOut]
    total: int
    next: str | None = Field(description="send it as `cursor` for the page after; null: this is the last")


class TransferPerson(BaseModel):
    """The record a transfer moves, as the policy lets the caller see it: a restricted record of another
    area is only its stub (`restricted` and no name); None values were not disclosed."""

    id: uuid.UUID
    area: str
    stub: bool = False
    forenames: str | None = None
    surname: str | None = None
    date_of_birth: dt.date | None = None
    mappa_category: int | None = None
    mappa_level: int | None = None
    managing_unit: str | None = None
    status: str | None = None
    offender_managers: list[str] = []


class TransferDesk(TransferOut):
    """A transfer on the supervisor's desk: the person (as the policy lets the caller see them) and the words
    given (the reason, the handover notes, the decision's reason), sealed at rest."""

    person: TransferPerson
    reason: str | None = None
    handover_notes: str | None = None
    decision_reason: str | None = None
    managing_unit: str | None = None


class TransferView(BaseModel):
    transfer: TransferDesk
    history: list[TransferDesk] = Field(description="every transfer of the record, oldest first")
