"""Archiving a record: the reason (and text for 'other')."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..domain.enums import ArchiveReason
from ..domain.errors import InvalidValue


class ArchiveRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    reason: ArchiveReason
    text: Annotated[str, Field(min_length=1, max_length=1000)] | None = None
    died_on: dt.date | None = Field(
        default=None, description="with reason 'died': the date of death (the day of archiving if not given)"
    )

    @model_validator(mode="after")
    def _other_needs_text(self) -> ArchiveRequest:
        if self.reason == ArchiveReason.OTHER and not self.text:
            raise InvalidValue("archive_text_required", "an 'other' reason needs text", "text")
        if self.died_on is not None and self.reason != ArchiveReason.DIED:
            raise InvalidValue(
                "died_on_only_for_died", "a date of death goes with the reason 'died'", "died_on"
            )
        return self


class Unarchive(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    reason: Annotated[str, Field(min_length=1, max_length=1000)]
