"""MAPPA management: levels, offender managers, meetings, risk assessments and the risk management plan."""

from __future__ import annotations

import uuid
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
    MeetingStatus,
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


class Referral(Model):
    """A referral for Level 2 or 3 management and its screening decision (MAPPA Guidance: the referring
    agency sets out why multi-agency management is needed; the MAPPA coordinator screens it)."""

    referred_on: Date
    referred_by: ShortText
    referrer_agency: Agency
    reason: Text
    level_sought: MappaLevel
    accepted: bool | None = Field(default=None, description="the screening decision; None: not yet screened")
    decided_on: Date | None = None
    decided_by: ShortText | None = None
    decision_reason: Text | None = None

    @model_validator(mode="after")
    def _level(self) -> Referral:
        if self.level_sought == MappaLevel.ORDINARY:
            raise InvalidValue("referral_level", "a referral seeks Level 2 or Level 3", "level_sought")
        if self.accepted is not None and self.decided_on is None:
            raise InvalidValue("decision_date", "a screening decision needs its date", "decided_on")
        if self.decided_on and self.decided_on < self.referred_on:
            raise InvalidValue("dates_in_order", "decided_on must not be before referred_on", "decided_on")
        return self


class Meeting(SectionItem):
    """A MAPPA meeting (or Level 1 annual review). Recorded before issue #22: a held meeting with free-text
    actions and no status. Since: referred, screened, scheduled with a chair and the agencies invited, then
    agreed through its minutes (`MeetingMinutes`), whose actions are `MeetingAction` items."""

    section = Section.MEETINGS
    kind: MeetingKind
    held_on: Date | None = None
    level: MappaLevel | None = None
    agencies_present: Annotated[list[ShortText], Field(max_length=30)] = []
    # Free-text action lines recorded before structured actions: read as they are, without owner or due date.
    actions: Annotated[list[Text], Field(max_length=100)] = []
    minutes_reference: ShortText | None = None
    status: MeetingStatus | None = None
    chair: ShortText | None = None
    chair_user_id: Annotated[str, Field(max_length=100)] | None = None
    agencies_invited: Annotated[list[ShortText], Field(max_length=30)] = []
    referral: Referral | None = None

    @model_validator(mode="after")
    def _dated(self) -> Meeting:
        if self.held_on is None and self.status not in (MeetingStatus.REFERRED, MeetingStatus.NOT_ACCEPTED):
            raise InvalidValue("meeting_date_required", "a meeting needs its date", "held_on")
        return self

    @property
    def held(self) -> bool:
        """A review that took place: agreed minutes, or a meeting recorded (as held) before issue #22."""
        return self.held_on is not None and self.status in (None, MeetingStatus.AGREED)

    def plain(self) -> Plain:
        # Only a held meeting has `starts_on`: the caseload's and workload's level review count from it.
        return Plain(
            kind=self.kind,
            status=self.status.value if self.status else None,
            starts_on=self.held_on if self.held else None,
            due_on=self.held_on if self.status == MeetingStatus.SCHEDULED else None,
            level=int(self.level) if self.level else None,
            ref=self.chair_user_id,
        )


ROSH_ORDER = [RoshLevel.LOW, RoshLevel.MEDIUM, RoshLevel.HIGH, RoshLevel.VERY_HIGH]


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
        return max(self.rosh.values(), key=ROSH_ORDER.index) if self.rosh else None

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
    meeting_id: uuid.UUID | None = Field(
        default=None, description="the MAPPA meeting that agreed this version"
    )

    @model_validator(mode="after")
    def _order(self) -> RiskPlan:
        if self.review_on < self.agreed_on:
            raise InvalidValue("dates_in_order", "review_on must not be before agreed_on", "review_on")
        return self

    def plain(self) -> Plain:
        return Plain(kind="plan", level=self.version, starts_on=self.agreed_on, due_on=self.review_on)
