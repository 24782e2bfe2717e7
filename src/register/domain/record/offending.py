"""Offending and orders: offences with disposals and victim profiles, orders with conditions."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import (
    Field,
    model_validator,
)

from ..enums import (
    CUSTODIAL_DISPOSALS,
    ConditionKind,
    DisposalKind,
    Gender,
    OffenceFinding,
    OrderKind,
    OrderStatus,
    VictimAgeBand,
    VictimRelationship,
)
from ..errors import InvalidValue
from .base import Date, Model, Plain, Section, SectionItem, ShortText, Text, Token

# ---------------------------------------------------------------- offending and orders


DTO_MIN_MONTHS, DTO_MAX_MONTHS = 4, 24  # Sentencing Act 2020 s.236 (PCC(S)A 2000 s.101 before it)
# What a court may do after a finding of insanity or of disability (Criminal Procedure (Insanity) Act
# 1964 s.5): a hospital order (with or without restriction), a supervision order ("other"), an absolute
# discharge.
AFTER_A_FINDING = frozenset(
    {
        DisposalKind.HOSPITAL_ORDER,
        DisposalKind.HOSPITAL_ORDER_WITH_RESTRICTION,
        DisposalKind.ABSOLUTE_DISCHARGE,
        DisposalKind.OTHER,
    }
)


class Disposal(Model):
    kind: DisposalKind
    custody_months: Annotated[int, Field(ge=0, le=1200)] | None = Field(
        default=None,
        description="sentence length in months: imprisonment, a detention and training order, detention",
    )
    discharge_months: Annotated[int, Field(ge=1, le=36)] | None = Field(
        default=None, description="period of a conditional discharge"
    )

    @model_validator(mode="after")
    def _lengths(self) -> Disposal:
        if self.kind in CUSTODIAL_DISPOSALS and self.custody_months is None:
            raise InvalidValue(
                "custody_length_required",
                f"{self.kind.value.replace('_', ' ')} needs custody_months",
                "custody_months",
            )
        if self.kind == DisposalKind.DETENTION_AND_TRAINING_ORDER and not (
            DTO_MIN_MONTHS <= (self.custody_months or 0) <= DTO_MAX_MONTHS
        ):
            raise InvalidValue(
                "detention_and_training_order_term",
                f"a detention and training order is of {DTO_MIN_MONTHS} to {DTO_MAX_MONTHS} months",
                "custody_months",
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
    conviction_date: Date = Field(
        description="date of the conviction, caution or finding: the 'relevant date' (SOA 2003 s.82(6))"
    )
    finding: OffenceFinding = Field(
        default=OffenceFinding.CONVICTED,
        description="convicted, or a finding of not guilty by reason of insanity or of disability and having "
        "done the act (SOA 2003 s.80(1)(b), (c))",
    )
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
        if self.finding != OffenceFinding.CONVICTED and self.disposal.kind not in AFTER_A_FINDING:
            raise InvalidValue(
                "disposal_after_finding",
                "after a finding of insanity or disability the disposal is a hospital order, a supervision "
                "order (other) or an absolute discharge",
                "disposal.kind",
            )
        return self

    def plain(self) -> Plain:
        return Plain(
            kind=self.disposal.kind, status="sexual" if self.sexual else None, starts_on=self.conviction_date
        )

    def tokens(self) -> list[Token]:
        """What an offence criterion narrows by in the embedded search (decision 53): the words of the
        offence (as `matching.words` splits them), its code, the year it was committed and its victims'
        profiles. Blind like every token: a conviction and its victims are personal data."""
        out: list[Token] = [
            ("offence_word", w) for w in dict.fromkeys(re.findall(r"\w+", self.offence.lower()))
        ]
        if self.offence_code is not None:
            out.append(("offence_code", self.offence_code))
        if self.offence_date is not None:
            out.append(("offence_year", str(self.offence_date.year)))
        for v in self.victims:
            out += [
                ("victim_age_band", v.age_band.value),
                ("victim_gender", v.gender.value),
                ("victim_relationship", v.relationship.value),
            ]
        return out


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
