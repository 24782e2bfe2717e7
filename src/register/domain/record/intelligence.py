"""Intelligence with its grading, disclosures and victim safety."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from .. import values
from ..enums import (
    Agency,
    DisclosureDecisionKind,
    DisclosureRecipient,
    GradingScheme,
    VictimSafetyKind,
)
from ..errors import InvalidValue
from .base import Date, Period, Plain, Section, SectionItem, ShortText, Text

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
