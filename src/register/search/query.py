"""The one query model both search backends implement: typed criteria composed with AND / OR / NOT groups.

A criterion about one address, vehicle, mark, identifier, contact or offence must be met by that same item
(nested), never by pieces of different ones.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..domain import values
from ..domain.enums import (
    AddressKind,
    Area,
    BodyLocation,
    Build,
    ContactKind,
    Ethnicity,
    Gender,
    IdentifierKind,
    MappaCategory,
    MappaLevel,
    MarkKind,
    NominalType,
    RoshLevel,
    VictimAgeBand,
    VictimRelationship,
)
from ..domain.errors import InvalidValue

Text = Annotated[str, Field(min_length=1, max_length=200)]


class Criterion(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Window(Criterion):
    """A time window an item's own from/to period must overlap ("lived there at any time since 2020")."""

    since: dt.date | None = None
    until: dt.date | None = None


class Name(Criterion):
    type: Literal["name"] = "name"
    value: Text
    mode: Literal["exact", "fuzzy", "phonetic", "nickname"] = "exact"

    @field_validator("value")
    @classmethod
    def _letters(cls, v: str) -> str:
        if not values.name_tokens(v):
            raise InvalidValue("name_letters", "a name must contain letters")
        return v


class DateOfBirth(Criterion):
    type: Literal["date_of_birth"] = "date_of_birth"
    exact: dt.date | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    year: Annotated[int, Field(ge=1900, le=2100)] | None = None
    transposed: bool = Field(default=False, description="also match the date with day and month swapped")

    @model_validator(mode="after")
    def _one(self) -> DateOfBirth:
        if sum(x is not None for x in (self.exact, self.year)) + (self.date_from is not None or self.date_to is not None) != 1:
            raise InvalidValue("dob_one_form", "give exactly one of: exact, a range (date_from/date_to), or year", "exact")
        return self


class Age(Criterion):
    type: Literal["age"] = "age"
    min: Annotated[int, Field(ge=0, le=120)] = 0
    max: Annotated[int, Field(ge=0, le=120)] = 120
    at: dt.date | None = Field(default=None, description="the date the age is measured at (default: today); 1900-01-01 to 2100-12-31")

    @field_validator("at")
    @classmethod
    def _plausible(cls, v: dt.date | None) -> dt.date | None:
        # The register's dates lie in 1900..2100 (record.Date); an older `at` also made "at minus 121 years" fall before year 1.
        if v is not None and not (dt.date(1900, 1, 1) <= v <= dt.date(2100, 12, 31)):
            raise InvalidValue("age_at_range", "the date an age is measured at must fall between 1900-01-01 and 2100-12-31")
        return v

    @model_validator(mode="after")
    def _order(self) -> Age:
        if self.max < self.min:
            raise InvalidValue("range_in_order", "max must not be below min", "max")
        return self

    def dob_range(self, today: dt.date) -> tuple[dt.date, dt.date]:
        """Born in (at - (max+1) years, at - min years]."""
        at = self.at or today
        latest = _years_before(at, self.min)
        earliest = _years_before(at, self.max + 1) + dt.timedelta(days=1)
        return earliest, latest


def _years_before(d: dt.date, years: int) -> dt.date:
    try:
        return d.replace(year=d.year - years)
    except ValueError:  # 29 February
        return d.replace(year=d.year - years, day=28)


class Person(Criterion):
    type: Literal["person"] = "person"
    gender: Gender | None = None
    ethnicity: Ethnicity | None = None
    nationality: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] | None = None
    height_min: Annotated[int, Field(ge=100, le=250)] | None = None
    height_max: Annotated[int, Field(ge=100, le=250)] | None = None
    build: Build | None = None
    hair: Text | None = None
    eyes: Text | None = None


class Mark(Criterion):
    type: Literal["mark"] = "mark"
    text: Text | None = None
    location: BodyLocation | None = None
    kind: MarkKind | None = None


class Identifier(Criterion):
    type: Literal["identifier"] = "identifier"
    kind: IdentifierKind
    value: Annotated[str, Field(min_length=1, max_length=40)]

    @model_validator(mode="after")
    def _normalise(self) -> Identifier:
        from ..domain.record import _IDENTIFIER_NORMALISERS

        try:
            object.__setattr__(self, "value", _IDENTIFIER_NORMALISERS[self.kind](self.value))
        except InvalidValue as exc:
            raise InvalidValue(exc.rule, exc.message, "value") from None
        return self


class Near(Criterion):
    latitude: Annotated[float, Field(ge=49.8, le=60.9)]
    longitude: Annotated[float, Field(ge=-8.7, le=1.8)]
    radius_km: Annotated[float, Field(gt=0, le=100)]


class Address(Window):
    type: Literal["address"] = "address"
    near: Near | None = None
    postcode: str | None = Field(default=None, description="a full postcode, a sector (ME16 8) or a district (ME16)")
    kind: AddressKind | None = None

    @field_validator("postcode")
    @classmethod
    def _postcode(cls, v: str | None) -> str | None:
        if v is None:
            return None
        text = v.upper().strip()
        if sector := re.fullmatch(r"([A-Z]{1,2}\d[A-Z\d]?)\s+(\d)", text):
            return f"{sector.group(1)} {sector.group(2)}"  # a sector needs its space: "CT28" would read as a district
        if re.fullmatch(r"[A-Z]{1,2}\d[A-Z\d]?", text):
            return text  # district
        return values.normalise_postcode(v)

    @property
    def postcode_level(self) -> str | None:
        if self.postcode is None:
            return None
        return "district" if " " not in self.postcode else ("sector" if len(self.postcode.split(" ")[1]) == 1 else "postcode")


class Vehicle(Window):
    type: Literal["vehicle"] = "vehicle"
    vrm: Annotated[str, Field(min_length=1, max_length=20, description="letters and digits, ? for one unknown, * for any run")] | None = None
    make: Text | None = None
    model: Text | None = None
    colour: Text | None = None

    @field_validator("vrm")
    @classmethod
    def _pattern(cls, v: str | None) -> str | None:
        if v is None:
            return None
        pattern = re.sub(r"[^A-Za-z0-9?*]", "", v).upper()
        if not re.search(r"[A-Z0-9]", pattern):
            raise InvalidValue("vrm_pattern", "a registration pattern needs at least one letter or digit")
        return pattern

    def vrm_regex(self) -> str:
        return "".join("." if c == "?" else ".*" if c == "*" else c for c in self.vrm or "")


class Contact(Criterion):
    type: Literal["contact"] = "contact"
    kind: ContactKind | None = None
    value: Annotated[str, Field(min_length=3, max_length=254)]
    partial: bool = False

    @property
    def folded(self) -> str:
        if not self.partial and self.kind == ContactKind.PHONE:
            return values.normalise_phone(self.value)
        return values.fold(self.value.strip().lstrip("@") if self.kind == ContactKind.ONLINE_IDENTITY else self.value.strip())


class Offence(Criterion):
    type: Literal["offence"] = "offence"
    text: Text | None = None
    code: Annotated[str, Field(max_length=20)] | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    sexual: bool | None = None
    victim_age_band: VictimAgeBand | None = None
    victim_gender: Gender | None = None
    victim_relationship: VictimRelationship | None = None
    modus_operandi: Text | None = None


class Employment(Criterion):
    type: Literal["employment"] = "employment"
    text: Text


class Management(Criterion):
    type: Literal["management"] = "management"
    mappa_category: MappaCategory | None = None
    mappa_level: MappaLevel | None = None
    risk_level: RoshLevel | None = None
    nominal_type: NominalType | None = None
    area: Area | None = None


Leaf = Annotated[
    Union[Name, DateOfBirth, Age, Person, Mark, Identifier, Address, Vehicle, Contact, Offence, Employment, Management],
    Field(discriminator="type"),
]


class Group(Criterion):
    type: Literal["group"] = "group"
    op: Literal["and", "or", "not"] = "and"
    # One union discriminated by `type` (a group is `"type": "group"`), so a bad criterion's error names just its path
    # (body.query.criteria.0.age.at) rather than every member of the union it failed to be.
    criteria: Annotated[list[Annotated[Union[Name, DateOfBirth, Age, Person, Mark, Identifier, Address, Vehicle, Contact, Offence, Employment,
                                             Management, "Group"], Field(discriminator="type")]], Field(min_length=1, max_length=50)]

    @model_validator(mode="after")
    def _not_one(self) -> Group:
        if self.op == "not" and len(self.criteria) != 1:
            raise InvalidValue("not_one_criterion", "a NOT group holds exactly one criterion (or one group)", "criteria")
        return self


Group.model_rebuild()


class SearchRequest(Criterion):
    query: Group
    include_archived: bool = Field(default=False, description="archived records are left out unless asked for")
    page: Annotated[int, Field(ge=1, le=1000)] = 1
    page_size: Annotated[int, Field(ge=1, le=100)] = 25
    sort: Literal["relevance", "surname"] = "relevance"


def leaves(group: Group) -> list[tuple[str, Leaf]]:
    """Every leaf criterion with a stable name (its path), used to say why a record matched."""
    out: list[tuple[str, Leaf]] = []

    def walk(g: Group, prefix: str) -> None:
        for i, c in enumerate(g.criteria):
            path = f"{prefix}{i}"
            if isinstance(c, Group):
                walk(c, f"{path}.")
            else:
                out.append((f"{path}:{c.type}", c))

    walk(group, "")
    return out
