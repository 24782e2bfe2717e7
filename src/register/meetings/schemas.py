"""What the meetings' routes take and answer (the domain's own models where they fit)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from pydantic import BaseModel, Field

from ..domain.enums import Agency, MappaLevel
from ..domain.record import (
    Date,
    Meeting,
    MeetingAction,
    MeetingDisclosure,
    MeetingMinutes,
    PlanAction,
    PlannedAction,
    RiskPlan,
    ShortText,
    Text,
)
from ..domain.record.base import Model
from ..usecase.views import ItemOut
from .service import ActionRow, Desk, MeetingView, RecordMeetings


class ReferralIn(Model):
    referred_on: Date
    referred_by: ShortText
    referrer_agency: Agency
    reason: Text
    level_sought: MappaLevel


class ScreeningIn(Model):
    accepted: bool
    decided_on: Date
    reason: Text | None = None


class ScheduleIn(Model):
    held_on: Date
    level: MappaLevel
    chair: ShortText
    chair_user_id: Annotated[str, Field(max_length=100)] | None = None
    agencies_invited: Annotated[list[ShortText], Field(max_length=30)] = []
    referral_id: uuid.UUID | None = Field(
        default=None, description="the accepted referral this meeting is for"
    )


class MinutesIn(Model):
    held_on: Date
    agencies_present: Annotated[list[ShortText], Field(min_length=1, max_length=30)]
    restricted: bool = Field(default=False, description="only the agencies present may read the minutes")
    risk_discussed: Text | None = None
    agreed_level: MappaLevel | None = None
    plan_summary: Text | None = None
    review_on: Date | None = Field(default=None, description="the next review; default: the level's interval")
    plan: Annotated[list[PlanAction], Field(max_length=200)] = []
    disclosures: Annotated[list[MeetingDisclosure], Field(max_length=30)] = []
    actions: Annotated[list[PlannedAction], Field(max_length=100)] = []

    def minutes(self, meeting_id: uuid.UUID) -> MeetingMinutes:
        return MeetingMinutes.model_validate(
            {**self.model_dump(exclude={"restricted"}), "meeting_id": meeting_id}
        )


class CompleteIn(Model):
    evidence: Text
    completed_on: Date


class MeetingOut(BaseModel):
    id: uuid.UUID
    meeting: Meeting
    minutes: list[ItemOut[MeetingMinutes]]
    actions: list[ItemOut[MeetingAction]]

    @classmethod
    def of(cls, view: MeetingView) -> MeetingOut:
        return cls(
            id=view.item.id,
            meeting=view.meeting,
            minutes=[ItemOut[MeetingMinutes].of(i) for i, _ in view.minutes],
            actions=[ItemOut[MeetingAction].of(i) for i, _ in view.actions],
        )


class MeetingsOut(BaseModel):
    nominal_id: uuid.UUID
    version: int
    meetings: list[MeetingOut]
    plans: list[ItemOut[RiskPlan]] = Field(description="the risk management plan's versions, newest first")

    @classmethod
    def of(cls, found: RecordMeetings) -> MeetingsOut:
        return cls(
            nominal_id=found.record.id,
            version=found.record.version,
            meetings=[MeetingOut.of(v) for v in found.meetings],
            plans=[ItemOut[RiskPlan].of(i) for i, _ in found.plans],
        )


class ActionRowOut(BaseModel):
    nominal_id: uuid.UUID
    action_id: uuid.UUID
    name: str
    overdue: bool
    action: MeetingAction

    @classmethod
    def of(cls, row: ActionRow) -> ActionRowOut:
        return cls(
            nominal_id=row.nominal_id,
            action_id=row.action_id,
            name=row.name,
            overdue=row.overdue,
            action=row.action,
        )


class MeetingRowOut(BaseModel):
    nominal_id: uuid.UUID
    meeting_id: uuid.UUID
    name: str
    meeting: Meeting


class ReviewRowOut(BaseModel):
    nominal_id: uuid.UUID
    name: str
    level: int
    last_held: dt.date | None
    due_on: dt.date
    overdue: bool
    scheduled_on: dt.date | None


class DeskOut(BaseModel):
    meetings: list[MeetingRowOut]
    reviews: list[ReviewRowOut]
    overdue_actions: list[ActionRowOut]

    @classmethod
    def of(cls, desk: Desk) -> DeskOut:
        return cls(
            meetings=[MeetingRowOut(**vars(r)) for r in desk.meetings],
            reviews=[ReviewRowOut(**vars(r)) for r in desk.reviews],
            overdue_actions=[ActionRowOut.of(r) for r in desk.overdue_actions],
        )


M = "3d2b1f0e-9c8a-4b7d-8e6f-5a4b3c2d1e0f"
EXAMPLES: dict[str, dict[str, Any]] = {
    "referrals": {
        "referred_on": "2025-09-01",
        "referred_by": "Sam Reed",
        "referrer_agency": "police",
        "reason": "New partner with two children; risk to children assessed as high",
        "level_sought": 2,
    },
    "screening": {"accepted": True, "decided_on": "2025-09-03", "reason": "meets the Level 2 criteria"},
    "scheduled": {
        "held_on": "2025-09-10",
        "level": 2,
        "chair": "DI Ruth Okafor",
        "chair_user_id": "kent.supervisor",
        "agencies_invited": ["police", "probation", "children's social care"],
    },
    "minutes": {
        "held_on": "2025-09-10",
        "agencies_present": ["police", "probation", "children's social care"],
        "restricted": False,
        "risk_discussed": "OASys 2025-08-20: high risk of serious harm to children",
        "agreed_level": 2,
        "plan": [
            {"pillar": "supervision", "description": "weekly probation appointments", "owner": "probation"},
            {"pillar": "monitoring_and_control", "description": "unannounced home visits", "owner": "police"},
            {
                "pillar": "interventions_and_treatment",
                "description": "Horizon programme",
                "owner": "probation",
            },
            {"pillar": "victim_safety_planning", "description": "exclusion zone checks", "owner": "police"},
        ],
        "disclosures": [
            {
                "recipient": "partner",
                "what": "convictions for offences against children",
                "why": "she has two children under 10 living with her",
                "authorised_by": "DI Ruth Okafor",
            }
        ],
        "actions": [
            {
                "description": "Home visit to verify the address",
                "owner_name": "Sam Reed",
                "owner_user_id": "kent.offender_manager",
                "owner_agency": "police",
                "due_on": "2025-09-24",
            }
        ],
    },
    "complete": {
        "evidence": "Visited 2025-09-20: address verified, seen at home",
        "completed_on": "2025-09-20",
    },
    "agree": {},
    "corrections": {},
}
EXAMPLES["scheduled_out"] = {"id": M, "version": 8}
