"""Where the person lives and goes, how to reach them, vehicles, work and associates."""

from __future__ import annotations

import math
import uuid
from typing import Annotated

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from .. import values
from ..enums import (
    AddressKind,
    AssociateRelationship,
    ContactKind,
    EmploymentKind,
    VehicleRelationship,
)
from ..errors import InvalidValue
from .base import Date, Model, Name, Period, Plain, Section, SectionItem, ShortText, Text, Token

# ---------------------------------------------------------------- places, contact, vehicles, work


class Address(SectionItem, Period):
    section = Section.ADDRESSES
    kind: AddressKind
    lines: Annotated[list[Annotated[str, Field(min_length=1, max_length=120)]], Field(max_length=5)] = []
    town: ShortText | None = None
    postcode: str | None = None
    latitude: Annotated[float, Field(ge=49.8, le=60.9)] | None = None
    longitude: Annotated[float, Field(ge=-8.7, le=1.8)] | None = None
    last_verified_on: Date | None = Field(
        default=None, description="date of the last home visit that verified it"
    )

    @field_validator("postcode")
    @classmethod
    def _postcode(cls, v: str | None) -> str | None:
        return values.normalise_postcode(v) if v else None

    @model_validator(mode="after")
    def _complete(self) -> Address:
        if self.kind == AddressKind.OUTSIDE_UK:
            if not self.lines:
                raise InvalidValue(
                    "place_required", "a stay outside the UK needs lines: the country and the place", "lines"
                )
            if self.date_from is None:
                raise InvalidValue(
                    "stay_dates_required",
                    "a stay outside the UK needs date_from, the day of leaving",
                    "date_from",
                )
            if self.postcode is not None or self.latitude is not None:
                # A UK postcode and the register's coordinates (bounded to the UK) describe no place abroad.
                raise InvalidValue(
                    "not_in_the_uk",
                    "a stay outside the UK has no UK postcode or coordinates",
                    "postcode" if self.postcode is not None else "latitude",
                )
        if self.kind != AddressKind.NO_FIXED_ABODE and not (self.lines or self.postcode):
            raise InvalidValue(
                "address_required",
                "an address needs lines or a postcode unless it is no fixed abode",
                "lines",
            )
        if (self.latitude is None) != (self.longitude is None):
            raise InvalidValue("coordinates_pair", "latitude and longitude go together", "longitude")
        return self

    def plain(self) -> Plain:
        return Plain(
            kind=self.kind, starts_on=self.date_from, ends_on=self.date_to, checked_on=self.last_verified_on
        )

    def tokens(self) -> list[Token]:
        out: list[Token] = []
        if self.postcode:
            pc = self.postcode
            out += [
                ("postcode", pc),
                ("postcode_sector", values.postcode_sector(pc)),
                ("postcode_district", values.postcode_district(pc)),
            ]
        if self.latitude is not None and self.longitude is not None:
            out += [
                (f"geo_cell_{size}", geo_cell(self.latitude, self.longitude, size)) for size in GEO_CELL_SIZES
            ]
        return out


# Coarse geographic cells (degrees) for radius searches without decrypting every address: the embedded backend
# narrows to the cells a circle touches, then measures exact distances on the decrypted candidates.
GEO_CELL_SIZES = ("0.05", "0.5")


def geo_cell(latitude: float, longitude: float, size: str) -> str:
    step = float(size)
    return f"{math.floor(latitude / step)}:{math.floor(longitude / step)}"


CONTACT_NORMALISERS = {
    ContactKind.PHONE: values.normalise_phone,
    ContactKind.EMAIL: values.normalise_email,
    ContactKind.ONLINE_IDENTITY: values.normalise_username,
}


class Contact(SectionItem, Period):
    section = Section.CONTACTS
    kind: ContactKind
    value: Annotated[str, Field(min_length=1, max_length=254)]
    platform: ShortText | None = Field(
        default=None, description="service for an online identity, make/model for a device"
    )

    @model_validator(mode="after")
    def _normalise(self) -> Contact:
        normaliser = CONTACT_NORMALISERS.get(self.kind)
        if normaliser:
            try:
                normalised = normaliser(self.value)
            except InvalidValue as exc:
                raise InvalidValue(exc.rule, exc.message, "value") from None
            if normalised != self.value:
                object.__setattr__(self, "value", normalised)
        return self

    def plain(self) -> Plain:
        return Plain(kind=self.kind, starts_on=self.date_from, ends_on=self.date_to)

    def tokens(self) -> list[Token]:
        return [(f"contact_{self.kind}", values.fold(self.value))]


def vrm_ngrams(vrm: str, n: int = 3) -> list[str]:
    return sorted({vrm[i : i + n] for i in range(len(vrm) - n + 1)})


def vrm_positions(vrm: str) -> list[Token]:
    """Each character of a mark with its position from the start (`vrm_at`) and from the end (`vrm_at_end`):
    what the embedded search narrows a pattern by when its known characters are too short for a 3-gram
    (`AB?CD*`: A first, B second, C fourth, D fifth)."""
    return [("vrm_at", f"{i}:{c}") for i, c in enumerate(vrm)] + [
        ("vrm_at_end", f"{i}:{c}") for i, c in enumerate(reversed(vrm))
    ]


class Vehicle(SectionItem, Period):
    section = Section.VEHICLES
    vrm: str
    make: ShortText | None = None
    model: ShortText | None = None
    colour: ShortText | None = None
    relationship: VehicleRelationship = VehicleRelationship.USER

    @field_validator("vrm")
    @classmethod
    def _vrm(cls, v: str) -> str:
        return values.normalise_vrm(v)

    def plain(self) -> Plain:
        return Plain(kind=self.relationship, starts_on=self.date_from, ends_on=self.date_to)

    def tokens(self) -> list[Token]:
        out: list[Token] = [("vrm", self.vrm)] + [("vrm_3gram", g) for g in vrm_ngrams(self.vrm)]
        out += vrm_positions(self.vrm)
        # Folded as the search document folds them (a vehicle criterion compares them whole)
        for kind, value in (
            ("vehicle_make", self.make),
            ("vehicle_model", self.model),
            ("vehicle_colour", self.colour),
        ):
            if value:
                out.append((kind, values.fold(value)))
        return out


class Employment(SectionItem, Period):
    section = Section.EMPLOYMENT
    kind: EmploymentKind
    organisation: ShortText
    role: ShortText | None = None
    location: ShortText | None = None
    access_to_children: bool = False
    access_to_vulnerable_adults: bool = False

    def plain(self) -> Plain:
        access = (
            "children"
            if self.access_to_children
            else ("vulnerable_adults" if self.access_to_vulnerable_adults else None)
        )
        return Plain(kind=self.kind, status=access, starts_on=self.date_from, ends_on=self.date_to)


class AssociatePerson(Model):
    """Someone who is not on the register (a partner, a child in the household)."""

    forenames: Name | None = None
    surname: Name | None = None
    date_of_birth: Date | None = None
    notes: Text | None = None


class Associate(SectionItem, Period):
    section = Section.ASSOCIATES
    relationship: AssociateRelationship
    linked_nominal_id: uuid.UUID | None = None
    person: AssociatePerson | None = None
    notes: Text | None = None

    @model_validator(mode="after")
    def _one_party(self) -> Associate:
        if (self.linked_nominal_id is None) == (self.person is None):
            raise InvalidValue(
                "associate_party", "give either linked_nominal_id or person, not both", "person"
            )
        return self

    def plain(self) -> Plain:
        return Plain(
            kind=self.relationship,
            starts_on=self.date_from,
            ends_on=self.date_to,
            ref=str(self.linked_nominal_id) if self.linked_nominal_id else None,
        )
