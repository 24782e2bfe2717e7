"""The building blocks: dates, sections, plain columns, tokens and the base models."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, ClassVar

import jellyfish
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    model_validator,
)

from .. import values
from ..errors import InvalidValue

EARLIEST_DATE = dt.date(1900, 1, 1)
MIN_AGE_YEARS = 10  # the age of criminal responsibility in England and Wales
MAX_AGE_YEARS = 110


def today(info: ValidationInfo | None = None) -> dt.date:
    """The date validation measures against: `context={"today": ...}` pins it (tests, imports)."""
    if info is not None and isinstance(info.context, dict) and "today" in info.context:
        pinned: dt.date = info.context["today"]
        return pinned
    return dt.date.today()


def _trusted(info: ValidationInfo | None) -> bool:
    """Reading back what the store holds (`context={"trusted": True}`): it was validated when it was
    written."""
    return info is not None and isinstance(info.context, dict) and bool(info.context.get("trusted"))


def _plausible_date(value: dt.date | None) -> dt.date | None:
    if value is not None and not (EARLIEST_DATE <= value <= dt.date(2100, 12, 31)):
        raise InvalidValue("date_range", "a date must fall between 1900-01-01 and 2100-12-31")
    return value


Date = Annotated[dt.date, AfterValidator(_plausible_date)]
Text = Annotated[str, Field(min_length=1, max_length=4000)]
ShortText = Annotated[str, Field(min_length=1, max_length=200)]
Name = Annotated[str, Field(max_length=100)]


class Section(StrEnum):
    ALIASES = "aliases"
    IDENTIFIERS = "identifiers"
    DESCRIPTIONS = "descriptions"
    MARKS = "marks"
    PHOTOGRAPHS = "photographs"
    ADDRESSES = "addresses"
    CONTACTS = "contacts"
    VEHICLES = "vehicles"
    EMPLOYMENT = "employment"
    ASSOCIATES = "associates"
    OFFENCES = "offences"
    ORDERS = "orders"
    MAPPA_LEVELS = "mappa_levels"
    OFFENDER_MANAGERS = "offender_managers"
    MEETINGS = "meetings"
    MEETING_MINUTES = "meeting_minutes"
    MEETING_ACTIONS = "meeting_actions"
    RISK_ASSESSMENTS = "risk_assessments"
    RISK_PLANS = "risk_plans"
    INTELLIGENCE = "intelligence"
    DISCLOSURES = "disclosures"
    VICTIM_SAFETY = "victim_safety"


@dataclass(frozen=True)
class Plain:
    """Operational metadata of an item, kept in plain columns for set-based checks and statistics.

    Nothing here may identify a person: only codes, dates, levels and staff references.
    """

    kind: str | None = None
    status: str | None = None
    starts_on: dt.date | None = None
    ends_on: dt.date | None = None
    due_on: dt.date | None = None
    checked_on: dt.date | None = None
    level: int | None = None
    category: int | None = None
    audience: str | None = None  # comma-separated agencies that may see the item; None: everyone
    ref: str | None = None  # a staff user id or a linked nominal id


Token = tuple[str, str]  # (blind-index kind, normalised value)


def name_tokens(forenames: str, surname: str) -> list[Token]:
    """Exact and phonetic tokens for every word of a name."""
    out: list[Token] = []
    for word in values.name_tokens(forenames, surname):
        out.append(("name", word))
        out.append(("name_metaphone", jellyfish.metaphone(word)))
        out.append(("name_soundex", jellyfish.soundex(word)))
    surnames = values.name_tokens(surname)
    if surnames:
        out.append(("surname", " ".join(surnames)))
    return out


def dob_tokens(dob: dt.date | None) -> list[Token]:
    if dob is None:
        return []
    return [
        ("dob", dob.isoformat()),
        ("dob_year", str(dob.year)),
        ("dob_month_day", f"{dob.month:02d}-{dob.day:02d}"),
    ]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, validate_assignment=True)


class SectionItem(Model):
    """One dated item of a section. Who entered it, for which agency and when is kept by the store."""

    section: ClassVar[Section]

    def plain(self) -> Plain:
        return Plain()

    def tokens(self) -> list[Token]:
        return []


class Period(Model):
    """A from/to pair that must be in order."""

    date_from: Date | None = None
    date_to: Date | None = None

    @model_validator(mode="after")
    def _in_order(self) -> Period:
        if self.date_from and self.date_to and self.date_to < self.date_from:
            raise InvalidValue("dates_in_order", "date_to must not be before date_from", "date_to")
        return self
