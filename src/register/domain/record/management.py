"""MAPPA management: levels, offender managers, meetings, risk assessments and the risk management plan."""

from __future__ import annotations

from typing import Annotated

from pydantic import (
    Field,
    model_validator,
)

from ..enums import (
    ActionStatus,
    Agency,
    MappaCategory,
    MappaLevel,
    MeetingKind,
    NominalType,
    Pillar,
    RiskTool,
    RoshGroup,
    RoshLevel,
)
from ..errors import InvalidValue
from .base import Date, Model, Period, Plain, Section, SectionItem, ShortText, Text

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
