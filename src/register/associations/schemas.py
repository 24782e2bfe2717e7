"""The association chart's shapes: people (nodes), links between them (edges), whether a level was capped."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel


class LinkKind(StrEnum):
    ADDRESS = "address"  # the same postcode on a current address (the register's blind index is the postcode)
    VEHICLE = "vehicle"
    PHONE = "phone"
    EMAIL = "email"
    ONLINE_IDENTITY = "online_identity"
    ASSOCIATE = "associate"  # named as an associate on either record
    CO_OFFENDER = "co_offender"  # named as a co-offender on either record


LINK_LABELS = {
    LinkKind.ADDRESS: "Same postcode",
    LinkKind.VEHICLE: "Same vehicle",
    LinkKind.PHONE: "Same phone number",
    LinkKind.EMAIL: "Same email address",
    LinkKind.ONLINE_IDENTITY: "Same online identity",
    LinkKind.ASSOCIATE: "Named associate",
    LinkKind.CO_OFFENDER: "Co-offender",
}

# How a person appears: `record` (name and date of birth: the policy lets this user read the record with the
# purpose in force), `stub` (a restricted record of another area: only who to contact), `withheld` (another
# area's record and no purpose yet: only its owning area).
ShownAs = Literal["record", "stub", "withheld"]


class PersonNode(BaseModel):
    id: uuid.UUID
    level: int  # 0: the record the chart is drawn around
    area: str
    shown_as: ShownAs
    forenames: str | None = None
    surname: str | None = None
    date_of_birth: dt.date | None = None
    message: str | None = None


class Link(BaseModel):
    source: uuid.UUID  # the person nearer the centre, whose item holds `value`
    target: uuid.UUID
    kind: LinkKind
    value: str  # the shared value (a postcode, a registration, a number...) or the relationship named


class AssociationGraph(BaseModel):
    centre: uuid.UUID
    level: int
    cap: int  # at most this many new people at each level
    capped_levels: list[int]  # the levels where more people are linked than are shown
    nodes: list[PersonNode]
    links: list[Link]
