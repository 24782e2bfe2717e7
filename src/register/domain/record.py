"""The nominal's record: its header, identity and every section of domain.md.

Each section item is a pydantic model that validates itself (closed enumerations,
dates in order, identifiers checked and normalised, plausible heights and ages),
says which of its facts are operational metadata kept in plain columns
(`plain()`), and which normalised values are exact-match searchable (`tokens()`).
Everything else it holds is personal data or narrative and is stored encrypted.
Nothing here does I/O.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal

import jellyfish
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from . import values
from .enums import (
    ActionStatus,
    AddressKind,
    Agency,
    Area,
    AssociateRelationship,
    BodyLocation,
    BreachOf,
    Build,
    ChronologyKind,
    ConditionKind,
    ContactKind,
    DisclosureDecisionKind,
    DisclosureRecipient,
    DisposalKind,
    EmploymentKind,
    Ethnicity,
    EventOutcome,
    Gender,
    GradingScheme,
    IdentifierKind,
    LeadAgency,
    MappaCategory,
    MappaLevel,
    MarkKind,
    MeetingKind,
    NameType,
    NominalStatus,
    NominalType,
    OrderKind,
    OrderStatus,
    Pillar,
    RiskTool,
    RoshGroup,
    RoshLevel,
    VehicleRelationship,
    VictimAgeBand,
    VictimRelationship,
    VictimSafetyKind,
)
from .errors import InvalidValue

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


_IDENTIFIER_NORMALISERS = {
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
            normalised = _IDENTIFIER_NORMALISERS[self.kind](self.value)
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


_CONTACT_NORMALISERS = {
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
        normaliser = _CONTACT_NORMALISERS.get(self.kind)
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
        return [("vrm", self.vrm)] + [("vrm_3gram", g) for g in vrm_ngrams(self.vrm)]


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


# ---------------------------------------------------------------- offending and orders


class Disposal(Model):
    kind: DisposalKind
    custody_months: Annotated[int, Field(ge=0, le=1200)] | None = Field(
        default=None, description="sentence length, for imprisonment"
    )
    discharge_months: Annotated[int, Field(ge=1, le=36)] | None = Field(
        default=None, description="period of a conditional discharge"
    )

    @model_validator(mode="after")
    def _lengths(self) -> Disposal:
        if self.kind == DisposalKind.IMPRISONMENT and self.custody_months is None:
            raise InvalidValue(
                "custody_length_required", "imprisonment needs custody_months", "custody_months"
            )
        if self.kind == DisposalKind.CONDITIONAL_DISCHARGE and self.discharge_months is None:
            raise InvalidValue(
                "discharge_length_required",
                "a conditional discharge needs discharge_months",
                "discharge_months",
            )
        return self


class VictimProfile(Model):
    age_band: VictimAgeBand = VictimAgeBand.UNKNOWN
    gender: Gender = Gender.UNKNOWN
    relationship: VictimRelationship = VictimRelationship.UNKNOWN


class Offence(SectionItem):
    section = Section.OFFENCES
    offence: ShortText
    offence_code: Annotated[str, Field(max_length=20)] | None = None
    offence_date: Date | None = None
    conviction_date: Date = Field(description="date of conviction or caution: the 'relevant date'")
    location: ShortText | None = None
    court: ShortText | None = None
    disposal: Disposal
    sexual: bool = Field(default=False, description="a Schedule 3 offence: triggers notification")
    victims: Annotated[list[VictimProfile], Field(max_length=50)] = []
    modus_operandi: Text | None = None

    @model_validator(mode="after")
    def _order(self) -> Offence:
        if self.offence_date and self.offence_date > self.conviction_date:
            raise InvalidValue(
                "dates_in_order", "offence_date must not be after conviction_date", "offence_date"
            )
        return self

    def plain(self) -> Plain:
        return Plain(
            kind=self.disposal.kind, status="sexual" if self.sexual else None, starts_on=self.conviction_date
        )


class Condition(Model):
    kind: ConditionKind
    description: Text


class Order(SectionItem):
    section = Section.ORDERS
    kind: OrderKind
    made_on: Date
    starts_on: Date
    ends_on: Date | None = Field(default=None, description="none: indefinite or until further order")
    status: OrderStatus = OrderStatus.ACTIVE
    conditions: Annotated[list[Condition], Field(max_length=50)] = []
    foreign_travel_restriction: bool = False
    court: ShortText | None = None

    @model_validator(mode="after")
    def _order(self) -> Order:
        if self.starts_on < self.made_on:
            raise InvalidValue("dates_in_order", "starts_on must not be before made_on", "starts_on")
        if self.ends_on and self.ends_on < self.starts_on:
            raise InvalidValue("dates_in_order", "ends_on must not be before starts_on", "ends_on")
        return self

    def plain(self) -> Plain:
        return Plain(
            kind=self.kind,
            status=self.status,
            starts_on=self.starts_on,
            ends_on=self.ends_on,
            checked_on=self.made_on,
            ref="foreign_travel_restriction" if self.foreign_travel_restriction else None,
        )


# ---------------------------------------------------------------- MAPPA management

# Which MAPPA category each nominal type belongs to (PDPs are not MAPPA-eligible by category).
CATEGORY_FOR_TYPE: dict[NominalType, MappaCategory | None] = {
    NominalType.RSO: MappaCategory.SEXUAL,
    NominalType.VO: MappaCategory.VIOLENT,
    NominalType.OTHER_DANGEROUS: MappaCategory.OTHER_DANGEROUS,
    NominalType.TERRORISM: MappaCategory.TERRORISM,
    NominalType.PDP: None,
}


class LevelChange(SectionItem):
    """One entry of the level history: the level (and category) from a date, with the rationale."""

    section = Section.MAPPA_LEVELS
    category: MappaCategory
    level: MappaLevel
    effective_from: Date
    rationale: Text

    def plain(self) -> Plain:
        return Plain(starts_on=self.effective_from, level=int(self.level), category=int(self.category))


class OffenderManager(SectionItem, Period):
    section = Section.OFFENDER_MANAGERS
    agency: Agency
    name: ShortText
    user_id: Annotated[str, Field(max_length=100)] | None = Field(
        default=None, description="their register user id"
    )
    unit: ShortText | None = None

    def plain(self) -> Plain:
        return Plain(kind=self.agency, starts_on=self.date_from, ends_on=self.date_to, ref=self.user_id)


class Meeting(SectionItem):
    section = Section.MEETINGS
    kind: MeetingKind
    held_on: Date
    level: MappaLevel | None = None
    agencies_present: Annotated[list[ShortText], Field(max_length=30)] = []
    actions: Annotated[list[Text], Field(max_length=100)] = []
    minutes_reference: ShortText | None = None

    def plain(self) -> Plain:
        return Plain(kind=self.kind, starts_on=self.held_on, level=int(self.level) if self.level else None)


_ROSH_ORDER = [RoshLevel.LOW, RoshLevel.MEDIUM, RoshLevel.HIGH, RoshLevel.VERY_HIGH]


class RiskAssessment(SectionItem):
    section = Section.RISK_ASSESSMENTS
    tool: RiskTool
    assessed_on: Date
    assessor: ShortText
    scores: Annotated[
        dict[Annotated[str, Field(max_length=50)], Annotated[str, Field(max_length=50)]], Field(max_length=50)
    ] = {}
    outcome: Text | None = None
    rosh: dict[RoshGroup, RoshLevel] = Field(
        default_factory=dict, description="risk of serious harm per group at risk"
    )
    next_review_on: Date | None = None

    @model_validator(mode="after")
    def _order(self) -> RiskAssessment:
        if self.next_review_on and self.next_review_on < self.assessed_on:
            raise InvalidValue(
                "dates_in_order", "next_review_on must not be before assessed_on", "next_review_on"
            )
        return self

    @property
    def overall_rosh(self) -> RoshLevel | None:
        return max(self.rosh.values(), key=_ROSH_ORDER.index) if self.rosh else None

    def plain(self) -> Plain:
        overall = self.overall_rosh
        return Plain(
            kind=self.tool,
            status=overall.value if overall else None,
            starts_on=self.assessed_on,
            due_on=self.next_review_on,
        )


class PlanAction(Model):
    pillar: Pillar
    description: Text
    owner: Agency
    due_on: Date | None = None
    status: ActionStatus = ActionStatus.OPEN


class RiskPlan(SectionItem):
    """One version of the risk management plan (the four pillars). A new version supersedes the last."""

    section = Section.RISK_PLANS
    version: Annotated[int, Field(ge=1)] = 1
    agreed_on: Date
    review_on: Date
    summary: Text | None = None
    actions: Annotated[list[PlanAction], Field(max_length=200)] = []

    @model_validator(mode="after")
    def _order(self) -> RiskPlan:
        if self.review_on < self.agreed_on:
            raise InvalidValue("dates_in_order", "review_on must not be before agreed_on", "review_on")
        return self

    def plain(self) -> Plain:
        return Plain(kind="plan", level=self.version, starts_on=self.agreed_on, due_on=self.review_on)


# ---------------------------------------------------------------- intelligence, disclosure, victims


class Intelligence(SectionItem):
    """Graded intelligence: 3x5x2 (A-C, 1-5, P/C) or the older 5x5x5 (A-E, 1-5, 1-5).

    `audience` limits who may see the item (e.g. police only under handling code C).
    Ungraded intelligence is allowed and flagged by the quality checks.
    """

    section = Section.INTELLIGENCE
    received_on: Date
    text: Text
    scheme: GradingScheme | None = None
    source_evaluation: Literal["A", "B", "C", "D", "E"] | None = None
    intelligence_assessment: Annotated[int, Field(ge=1, le=5)] | None = None
    handling_code: Literal["P", "C", "1", "2", "3", "4", "5"] | None = None
    handling_conditions: Text | None = None
    audience: Annotated[list[Agency], Field(max_length=3)] | None = Field(
        default=None, description="agencies that may see it; none: all"
    )

    @model_validator(mode="after")
    def _grading(self) -> Intelligence:
        grades = (self.source_evaluation, self.intelligence_assessment, self.handling_code)
        if self.scheme is None:
            if any(g is not None for g in grades):
                raise InvalidValue(
                    "grading_scheme_required", "grades need a scheme (3x5x2 or 5x5x5)", "scheme"
                )
            return self
        if any(g is None for g in grades):
            raise InvalidValue(
                "grading_complete",
                "a graded item needs source_evaluation, intelligence_assessment and handling_code",
                "scheme",
            )
        if self.scheme == GradingScheme.G3X5X2:
            if self.source_evaluation not in ("A", "B", "C"):
                raise InvalidValue(
                    "grading_3x5x2_source", "3x5x2 source evaluation is A, B or C", "source_evaluation"
                )
            if self.handling_code not in ("P", "C"):
                raise InvalidValue("grading_3x5x2_handling", "3x5x2 handling code is P or C", "handling_code")
            if self.handling_code == "C" and not (self.handling_conditions or self.audience):
                raise InvalidValue(
                    "handling_conditions_required",
                    "handling code C needs conditions or an audience",
                    "handling_conditions",
                )
        elif self.handling_code not in ("1", "2", "3", "4", "5"):
            raise InvalidValue("grading_5x5x5_handling", "5x5x5 handling code is 1 to 5", "handling_code")
        if self.audience is not None and not self.audience:
            raise InvalidValue(
                "audience_empty", "an audience names at least one agency (omit it for everyone)", "audience"
            )
        return self

    def plain(self) -> Plain:
        audience = ",".join(sorted(set(self.audience))) if self.audience else None
        return Plain(
            kind=self.scheme or "ungraded",
            status=self.handling_code,
            starts_on=self.received_on,
            audience=audience,
        )


class Disclosure(SectionItem):
    section = Section.DISCLOSURES
    decided_on: Date
    recipient: DisclosureRecipient
    recipient_description: ShortText | None = None
    decision: DisclosureDecisionKind
    rationale: Text | None = Field(
        default=None, description="inspections found this poorly recorded: the quality checks flag it"
    )
    outcome: Text | None = None
    decided_by: ShortText | None = None

    def plain(self) -> Plain:
        return Plain(
            kind=self.decision,
            status="rationale" if self.rationale else "no_rationale",
            starts_on=self.decided_on,
        )


class VictimSafety(SectionItem, Period):
    """Exclusion zones and non-contact conditions. Visible only to the agencies managing victim safety."""

    section = Section.VICTIM_SAFETY
    kind: VictimSafetyKind
    victim: ShortText = Field(description="who is protected, as those managing victim safety need to know")
    details: Text
    zone: ShortText | None = None
    postcode: str | None = None
    managed_by: Annotated[list[Agency], Field(min_length=1, max_length=3)]

    @field_validator("postcode")
    @classmethod
    def _postcode(cls, v: str | None) -> str | None:
        return values.normalise_postcode(v) if v else None

    def plain(self) -> Plain:
        return Plain(
            kind=self.kind,
            starts_on=self.date_from,
            ends_on=self.date_to,
            audience=",".join(sorted(set(self.managed_by))),
        )


SECTION_MODELS: dict[Section, type[SectionItem]] = {
    cls.section: cls
    for cls in (
        Alias,
        Identifier,
        Description,
        Mark,
        Photograph,
        Address,
        Contact,
        Vehicle,
        Employment,
        Associate,
        Offence,
        Order,
        LevelChange,
        OffenderManager,
        Meeting,
        RiskAssessment,
        RiskPlan,
        Intelligence,
        Disclosure,
        VictimSafety,
    )
}
assert set(SECTION_MODELS) == set(Section), "every section has a model"

# The sections whose items may name an audience (`Plain.audience`): each item is seen only by the agencies it
# names.
AUDIENCE_SECTIONS = frozenset({Section.INTELLIGENCE, Section.VICTIM_SAFETY})


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
        if (self.kind == ChronologyKind.AMENDMENT) != (self.amends is not None):
            raise InvalidValue(
                "amendment_reference",
                "an amendment names the entry it amends (and only an amendment does)",
                "amends",
            )
        if self.kind in (ChronologyKind.BREACH, ChronologyKind.RECALL) and self.breach_of is None:
            raise InvalidValue(
                "breach_of_required", "a breach or recall event says what was breached", "breach_of"
            )
        if self.breach_of is not None and self.kind not in (ChronologyKind.BREACH, ChronologyKind.RECALL):
            raise InvalidValue(
                "breach_of_only_for_breaches",
                "only breach and recall events name what was breached",
                "breach_of",
            )
        return self


# ---------------------------------------------------------------- the nominal


class Header(Model):
    """Operational metadata of the record, kept plain: it drives caseloads, checks and statistics."""

    nominal_type: NominalType
    area: Area
    managing_unit: ShortText
    lead_agency: LeadAgency
    mappa_category: MappaCategory | None = None
    mappa_level: MappaLevel | None = None
    restricted: bool = Field(
        default=False, description="outside the owning area the record shows only as a stub"
    )

    @model_validator(mode="after")
    def _category_fits_type(self) -> Header:
        expected = CATEGORY_FOR_TYPE[self.nominal_type]
        if self.mappa_category is not None and self.mappa_category != expected:
            want = f"category {int(expected)}" if expected else "no MAPPA category"
            raise InvalidValue(
                "category_matches_type", f"a {self.nominal_type} nominal has {want}", "mappa_category"
            )
        if self.mappa_level is not None and self.mappa_category is None:
            raise InvalidValue("level_needs_category", "a MAPPA level needs a MAPPA category", "mappa_level")
        return self


class NewNominal(Header):
    identity: Identity


@dataclass
class StoredItem:
    """A section item as read back: the item plus who entered it, for which agency, and when."""

    id: uuid.UUID
    section: Section
    data: SectionItem
    recorded_by: str
    recorded_agency: str
    recorded_at: dt.datetime
    updated_at: dt.datetime
    ended_at: dt.datetime | None = None
    ended_reason: str | None = None
    merged_from: uuid.UUID | None = None  # the duplicate record it came from in a merge


@dataclass
class StoredEntry:
    id: uuid.UUID
    data: ChronologyEntry
    recorded_by: str
    recorded_agency: str
    recorded_at: dt.datetime
    merged_from: uuid.UUID | None = None


@dataclass
class Record:
    """A whole record as read back from the store."""

    id: uuid.UUID
    version: int
    status: NominalStatus
    header: Header
    identity: Identity
    created_at: dt.datetime
    updated_at: dt.datetime
    merged_into: uuid.UUID | None = None
    sections: dict[Section, list[StoredItem]] = field(default_factory=dict)
    chronology: list[StoredEntry] = field(default_factory=list)

    def items(self, section: Section) -> list[StoredItem]:
        return self.sections.get(section, [])

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "version": self.version,
            "status": self.status.value,
            "header": self.header.model_dump(mode="json"),
            "identity": self.identity.model_dump(mode="json"),
            "sections": {
                s.value: [
                    {
                        "id": str(i.id),
                        "recorded_by": i.recorded_by,
                        "recorded_agency": i.recorded_agency,
                        **i.data.model_dump(mode="json"),
                    }
                    for i in items
                ]
                for s, items in self.sections.items()
            },
            "chronology": [{"id": str(e.id), **e.data.model_dump(mode="json")} for e in self.chronology],
        }


def record_tokens(identity: Identity, aliases: list[Alias], contacts: list[Contact]) -> list[Token]:
    """Tokens of the whole record for the duplicate cascade: every date of birth, and every phone, email or
    online identity, each combined with the sound of every name word the record carries (aliases included).
    Two records sharing one of these share a date of birth (or contact) and a name that sounds alike, found
    with one index lookup instead of pairing everyone born on the same day first."""
    names: list[Identity | Alias] = [identity, *aliases]
    words = {jellyfish.metaphone(w) for a in names for w in values.name_tokens(a.forenames, a.surname)}
    dobs = {d for d in (identity.date_of_birth, *(a.date_of_birth for a in aliases)) if d is not None}
    out: list[Token] = [("dob_sound", f"{d.isoformat()}|{w}") for d in sorted(dobs) for w in sorted(words)]
    out += [
        ("contact_sound", f"{c.kind}:{values.fold(c.value)}|{w}") for c in contacts for w in sorted(words)
    ]
    return out
