"""Retention: holds, reviews, item erasure and the disposal run's report."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Reason = Annotated[str, Field(min_length=1, max_length=1000)]


class HoldRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    reason: Reason = Field(
        description="why (e.g. the enquiry or proceedings); kept sealed in the record's chronology"
    )


class ReviewRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    reason: Reason = Field(description="why the archived record is still kept")


class ItemErasure(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    reason: Reason = Field(
        description="why it must be erased rather than ended (e.g. entered on the wrong person)"
    )
    confirm: uuid.UUID = Field(
        description="the item's (or chronology entry's) id again: erasure cannot be undone"
    )


class RetentionOut(BaseModel):
    status: str
    archived_reason: str | None
    archived_on: dt.date | None
    legal_hold: bool
    review_on: dt.date | None
    dispose_on: dt.date | None = Field(
        description="when the personal content is due to be erased; none: not automatically"
    )


class RunReport(BaseModel):
    today: dt.date
    candidates: int = Field(description="archived records whose disposal year has come, without a legal hold")
    due: list[uuid.UUID] = Field(description="those whose exact disposal date has come")
    erased: int = Field(
        description="records erased (0 on a dry run), including tombstones of duplicates merged into them"
    )
    dry_run: bool


RetentionView = Literal["review", "disposal", "holds", "archived"]


class RetentionRow(BaseModel):
    id: uuid.UUID
    forenames: str
    surname: str
    date_of_birth: dt.date | None
    restricted: bool
    status: str
    archived_reason: str | None
    archived_on: dt.date | None
    legal_hold: bool
    review_on: dt.date | None
    dispose_from: dt.date | None = Field(
        description="when disposal may start (the first of January of its year under an age rule)"
    )


class RetentionDesk(BaseModel):
    view: RetentionView
    today: dt.date
    counts: dict[str, int] = Field(description="how many records each view holds")
    rows: list[RetentionRow]
    page: int
    page_size: int
    total: int
