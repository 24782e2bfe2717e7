"""Merges: what is asked, previewed and reported."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..usecase.views import RecordOut


class MergeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    merged_id: uuid.UUID = Field(description="the duplicate that becomes a tombstone pointing at this record")
    merged_version: int = Field(ge=0, description="the version of the duplicate as you previewed it")
    reason: Annotated[str, Field(min_length=1, max_length=1000)] | None = Field(
        default=None, description="why they are one person: kept, sealed, in the survivor's chronology"
    )


class UnmergeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    reason: Annotated[str, Field(min_length=1, max_length=1000)]


class Dismissal(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    first_id: uuid.UUID
    second_id: uuid.UUID
    reason: Annotated[str, Field(min_length=1, max_length=1000)] = Field(
        description="why these are two people"
    )


class ConflictOut(BaseModel):
    field: str
    survivor: str | None
    merged: str | None


class MergePreview(BaseModel):
    survivor_id: uuid.UUID
    survivor_version: int
    merged_id: uuid.UUID
    merged_version: int
    rule: str | None = Field(description="the duplicate rule that matches the pair, if any")
    conflicts: list[ConflictOut]
    aliases_added: list[dict[str, Any]]
    items_moved: int
    entries_moved: int
    combined: RecordOut = Field(description="the survivor as it would read after the merge")


class MergeOut(BaseModel):
    id: uuid.UUID
    survivor_id: uuid.UUID
    merged_id: uuid.UUID
    status: Literal["merged", "unmerged"]
    rule: str | None
    merged_by: str
    merged_at: dt.datetime
    unmerged_by: str | None
    unmerged_at: dt.datetime | None
    unmerge_reason: str | None = None


class MergeSummary(MergeOut):
    survivor_name: str
    merged_name: str


class Merged(BaseModel):
    id: uuid.UUID
    version: int = Field(description="the survivor's new version (its ETag)")
    items_moved: int
    entries_moved: int
    conflicts: list[ConflictOut]


class Unmerged(BaseModel):
    version: int = Field(description="the survivor's new version (its ETag)")
    merged_version: int
    items_returned: int
    entries_returned: int
    added_since: list[dict[str, Any]] = Field(
        description="written on the survivor after the merge: it stays there; check it belongs"
    )
    changed_since: list[dict[str, Any]] = Field(
        description="items returned to the other record that were changed after the merge"
    )


class Side(BaseModel):
    id: uuid.UUID
    area: str
    forenames: str | None = None
    surname: str | None = None
    date_of_birth: dt.date | None = None
    restricted: bool | None = Field(
        default=False, description="None: not disclosed (another area's record listed without a purpose)"
    )
    message: str | None = Field(default=None, description="why details are not shown")


class CandidateOut(BaseModel):
    rule: str
    first: Side
    second: Side


class CandidatePage(BaseModel):
    items: list[CandidateOut]
    total: int
    next: str | None = Field(description="send it as `cursor` for the page after; null: this is the last")
