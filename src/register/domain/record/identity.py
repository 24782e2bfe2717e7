"""Who the person is: identity, aliases, identifiers, descriptions, marks and photographs."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import (
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from .. import values
from ..enums import (
    BodyLocation,
    Build,
    Ethnicity,
    Gender,
    IdentifierKind,
    MarkKind,
    NameType,
)
from ..errors import InvalidValue
from .base import (
    MAX_AGE_YEARS,
    MIN_AGE_YEARS,
    Date,
    Model,
    Name,
    Plain,
    Section,
    SectionItem,
    ShortText,
    Text,
    Token,
    _trusted,
    dob_tokens,
    name_tokens,
    today,
)

# ---------------------------------------------------------------- identity


class Identity(Model):
    """The primary identity. Every field is personal data and is encrypted."""

    forenames: Name
    surname: Name
    date_of_birth: Date | None = None
    gender: Gender = Gender.UNKNOWN
    ethnicity: Ethnicity | None = None
    nationality: (
        Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 3166-1 alpha-3, e.g. GBR")] | None
    ) = None
    place_of_birth: ShortText | None = None

    @field_validator("forenames", "surname")
    @classmethod
    def _name(cls, v: str, info: ValidationInfo) -> str:
        if _trusted(info):
            return v  # stored names were checked when written
        return values.check_name(v, info.field_name or "name")

    @field_validator("date_of_birth")
    @classmethod
    def _plausible_age(cls, v: dt.date | None, info: ValidationInfo) -> dt.date | None:
        if v is None or (isinstance(info.context, dict) and info.context.get("trusted")):
            return v  # stored values were checked when written; ages move on
        now = today(info)
        age = now.year - v.year - ((now.month, now.day) < (v.month, v.day))
        if age < MIN_AGE_YEARS or age > MAX_AGE_YEARS:
            raise InvalidValue(
                "age_plausible",
                f"date of birth gives an age of {age}; it must be {MIN_AGE_YEARS} to {MAX_AGE_YEARS}",
            )
        return v

    def tokens(self) -> list[Token]:
        return name_tokens(self.forenames, self.surname) + dob_tokens(self.date_of_birth)


class Alias(SectionItem):
    section = Section.ALIASES
    forenames: Name
    surname: Name
    name_type: NameType = NameType.ALIAS
    date_of_birth: Date | None = None

    @field_validator("forenames", "surname")
    @classmethod
    def _name(cls, v: str, info: ValidationInfo) -> str:
        if _trusted(info):
            return v  # stored names were checked when written
        return values.check_name(v, info.field_name or "name")

    def plain(self) -> Plain:
        return Plain(kind=self.name_type)

    def tokens(self) -> list[Token]:
        return name_tokens(self.forenames, self.surname) + dob_tokens(self.date_of_birth)


IDENTIFIER_NORMALISERS = {
    IdentifierKind.PNC: values.normalise_pnc,
    IdentifierKind.CRO: values.normalise_cro,
    IdentifierKind.NI: values.normalise_ni,
    IdentifierKind.PASSPORT: values.normalise_passport,
    IdentifierKind.PRISON_NUMBER: values.normalise_prison_number,
    IdentifierKind.PROBATION_CASE: values.normalise_case_reference,
}


class Identifier(SectionItem):
    section = Section.IDENTIFIERS
    kind: IdentifierKind
    value: Annotated[str, Field(min_length=1, max_length=40)]
    issuing_country: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] | None = None

    @model_validator(mode="after")
    def _normalise(self) -> Identifier:
        try:
            normalised = IDENTIFIER_NORMALISERS[self.kind](self.value)
        except InvalidValue as exc:
            raise InvalidValue(exc.rule, exc.message, "value") from None
        if normalised != self.value:
            object.__setattr__(self, "value", normalised)
        return self

    def plain(self) -> Plain:
        return Plain(kind=self.kind)

    def tokens(self) -> list[Token]:
        return [(f"id_{self.kind}", self.value)]


# ---------------------------------------------------------------- description


class Description(SectionItem):
    section = Section.DESCRIPTIONS
    observed_on: Date
    height_cm: Annotated[int, Field(ge=100, le=250)] | None = None
    build: Build | None = None
    hair: ShortText | None = None
    eyes: ShortText | None = None
    notes: Text | None = None

    def plain(self) -> Plain:
        return Plain(starts_on=self.observed_on)


class Mark(SectionItem):
    section = Section.MARKS
    kind: MarkKind
    location: BodyLocation
    description: Text

    def plain(self) -> Plain:
        return Plain(kind=self.kind, status=self.location)


class Photograph(SectionItem):
    section = Section.PHOTOGRAPHS
    taken_on: Date
    reference: ShortText = Field(description="where the image is stored (object-store key)")
    description: ShortText | None = None

    def plain(self) -> Plain:
        return Plain(starts_on=self.taken_on)
