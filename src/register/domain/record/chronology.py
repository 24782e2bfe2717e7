"""The chronology: what happened, when, and who recorded it."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from ..enums import (
    BreachOf,
    ChronologyKind,
    EventOutcome,
)
from ..errors import InvalidValue
from .base import EARLIEST_DATE, Model, Text

# ---------------------------------------------------------------- chronology


class ChronologyEntry(Model):
    """An event on the timeline. Append-only: a correction is a new AMENDMENT entry naming the one it
    amends."""

    occurred_at: dt.datetime
    kind: ChronologyKind
    summary: Text
    details: Annotated[str, Field(max_length=20000)] | None = None
    amends: uuid.UUID | None = None
    breach_of: BreachOf | None = Field(
        default=None, description="for breach and recall events: what was breached"
    )
    outcome: EventOutcome | None = Field(
        default=None, description="for breach and recall events: caution, conviction, recall..."
    )

    @field_validator("occurred_at")
    @classmethod
    def _aware(cls, v: dt.datetime) -> dt.datetime:
        if v.tzinfo is None:
            raise InvalidValue(
                "timezone_required", "occurred_at needs a timezone (e.g. 2024-05-01T10:00:00Z)"
            )
        if not (EARLIEST_DATE <= v.date() <= dt.date(2100, 12, 31)):
            raise InvalidValue("date_range", "a date must fall between 1900-01-01 and 2100-12-31")
        return v.astimezone(dt.UTC)

    @model_validator(mode="after")
    def _amendment(self) -> ChronologyEntry:
        corrects = self.kind in (ChronologyKind.AMENDMENT, ChronologyKind.WITHDRAWAL)
        if corrects != (self.amends is not None):
            raise InvalidValue(
                "amendment_reference",
                "an amendment or a withdrawal names the entry it amends (and only they do)",
                "amends",
            )
        if self.kind in (ChronologyKind.BREACH, ChronologyKind.RECALL) and self.breach_of is None:
            raise InvalidValue(
                "breach_of_required", "a breach or recall event says what was breached", "breach_of"
            )
        if self.breach_of is not None and self.kind not in (
            ChronologyKind.BREACH,
            ChronologyKind.RECALL,
            ChronologyKind.AMENDMENT,  # the corrected version of a breach or recall restates it
        ):
            raise InvalidValue(
                "breach_of_only_for_breaches",
                "only breach and recall events (and amendments of them) name what was breached",
                "breach_of",
            )
        return self
