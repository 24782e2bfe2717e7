"""How a record and its parts are shown: the shapes the use cases of every capability return (the nominals
API, merge previews, photographs, restricted stubs, pages). Request bodies are the domain models
themselves."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, Field

from ..domain import notification
from ..domain.enums import NominalStatus
from ..domain.record import ChronologyEntry, Header, Identity, Record, StoredEntry, StoredItem
from ..store.listing import Summary

T = TypeVar("T")


class ItemOut(BaseModel, Generic[T]):
    id: uuid.UUID
    recorded_by: str
    recorded_agency: str
    recorded_at: dt.datetime
    updated_at: dt.datetime
    ended_at: dt.datetime | None = None
    ended_reason: str | None = None
    merged_from: uuid.UUID | None = Field(
        default=None, description="the duplicate record this item came from in a merge"
    )
    data: T

    @classmethod
    def of(cls, item: StoredItem, data: Any = None) -> ItemOut[Any]:
        return cls(
            id=item.id,
            recorded_by=item.recorded_by,
            recorded_agency=item.recorded_agency,
            recorded_at=item.recorded_at,
            updated_at=item.updated_at,
            ended_at=item.ended_at,
            ended_reason=item.ended_reason,
            merged_from=item.merged_from,
            data=item.data if data is None else data,
        )


class EntryOut(BaseModel):
    id: uuid.UUID
    recorded_by: str
    recorded_agency: str
    recorded_at: dt.datetime
    merged_from: uuid.UUID | None = Field(
        default=None, description="the duplicate record this entry came from in a merge"
    )
    data: ChronologyEntry

    @classmethod
    def of(cls, entry: StoredEntry) -> EntryOut:
        return cls(
            id=entry.id,
            recorded_by=entry.recorded_by,
            recorded_agency=entry.recorded_agency,
            recorded_at=entry.recorded_at,
            merged_from=entry.merged_from,
            data=entry.data,
        )


class ReasonOut(BaseModel):
    """Why one computed date is what it is (docs/notification.md)."""

    rule: str = Field(description="the rule in words")
    statute: str = Field(description='where the rule comes from, e.g. "SOA 2003 s.82(1) table; s.82(2)"')
    facts: list[str] = Field(description="the facts of the record the rule used")


class NotificationOut(BaseModel):
    """The notification requirement as the law computes it from the record (SOA 2003 Part 2), explained."""

    subject: bool
    indefinite: bool
    relevant_date: dt.date | None
    ends_on: dt.date | None
    review_from: dt.date | None
    next_due: dt.date | None = Field(
        description="the next notification; null when not subject, or while the period is not running "
        "(s.83(6), s.85(3)-(4): in custody, in hospital or outside the UK)"
    )
    explanation: str = Field(description="all the reasons in one sentence (kept for compatibility)")
    reasons: dict[str, ReasonOut] = Field(
        default_factory=dict,
        description="each computed date's reason, keyed by its name: relevant_date, ends_on, review_from, "
        "next_due (only those the law gives a reason for)",
    )

    @classmethod
    def of(cls, derived: notification.Notification) -> NotificationOut:
        return cls(
            subject=derived.subject,
            indefinite=derived.indefinite,
            relevant_date=derived.relevant_date,
            ends_on=derived.ends_on,
            review_from=derived.review_from,
            next_due=derived.next_due,
            explanation=derived.explanation,
            reasons={
                name: ReasonOut(rule=r.rule, statute=r.statute, facts=list(r.facts))
                for name, r in derived.reasons.items()
            },
        )


class RecordOut(BaseModel):
    """A whole record: every section the caller may see, the chronology, and its derived notification
    dates."""

    id: uuid.UUID
    version: int
    status: NominalStatus
    header: Header
    identity: Identity
    merged_into: uuid.UUID | None = None
    created_at: dt.datetime
    updated_at: dt.datetime
    sections: dict[str, list[ItemOut[dict[str, Any]]]]
    chronology: list[EntryOut]
    notification: NotificationOut | None = Field(
        description="null when the caller may not read all of the offences, orders, addresses and chronology "
        "the notification requirement is computed from"
    )

    @classmethod
    def of(cls, record: Record, *, explained: bool = True) -> RecordOut:
        """`explained`: whether the caller may read every section the notification dates come from."""
        derived = notification.of_record(record, dt.date.today()) if explained else None
        return cls(
            id=record.id,
            version=record.version,
            status=record.status,
            header=record.header,
            identity=record.identity,
            merged_into=record.merged_into,
            created_at=record.created_at,
            updated_at=record.updated_at,
            sections={
                s.value: [ItemOut[dict[str, Any]].of(i, i.data.model_dump(mode="json")) for i in items]
                for s, items in record.sections.items()
            },
            chronology=[EntryOut.of(e) for e in record.chronology],
            notification=NotificationOut.of(derived) if derived is not None else None,
        )


class SectionOut(BaseModel, Generic[T]):
    nominal_id: uuid.UUID
    version: int
    section: str
    items: list[ItemOut[T]]


class ChronologyOut(BaseModel):
    nominal_id: uuid.UUID
    version: int
    entries: list[EntryOut]


class IdentityOut(BaseModel):
    nominal_id: uuid.UUID
    version: int
    identity: Identity


class RestrictedStub(BaseModel):
    """All that a restricted record shows outside its owning area."""

    id: uuid.UUID
    restricted: Literal[True] = True
    owning_area: str
    message: str = "restricted record: contact the owning area"


class Changed(BaseModel):
    """The result of a change: the item (or record) id and the record's new version (also its new ETag)."""

    id: uuid.UUID | None = None
    version: int


class EndItem(BaseModel):
    reason: str = Field(min_length=1, max_length=200, examples=["vehicle sold"])


class NominalPage(BaseModel):
    items: list[Summary]
    total: int
    next: str | None = Field(description="send it as `cursor` for the page after; null: this is the last")
