"""MAPPA meeting minutes in structure, and the actions they set (issue #22, docs/meetings.md)."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import Field, model_validator

from ..enums import ActionStatus, Agency, DisclosureRecipient, MappaLevel, MinutesStatus
from ..errors import InvalidValue
from .base import Date, Model, Plain, Section, SectionItem, ShortText, Text
from .management import PlanAction

UserRef = Annotated[str, Field(max_length=100)]


class MeetingDisclosure(Model):
    """A decision the meeting took to disclose: to whom, what, why, and who authorised it."""

    recipient: DisclosureRecipient
    recipient_description: ShortText | None = None
    what: Text
    why: Text
    authorised_by: ShortText


class PlannedAction(Model):
    """An action as the minutes set it: what, who owns it (a person and their agency) and when it is due."""

    description: Text
    owner_name: ShortText
    owner_user_id: UserRef | None = None
    owner_agency: Agency
    due_on: Date


class MeetingMinutes(SectionItem):
    """One version of a meeting's minutes. A draft can be saved again; agreed minutes are locked, and a
    correction is a new version. `restricted_to` (the register agencies present) is the item's audience: the
    policy's item-audience rule hides the minutes from every other agency."""

    section = Section.MEETING_MINUTES
    meeting_id: uuid.UUID
    version: Annotated[int, Field(ge=1)] = 1
    status: MinutesStatus = MinutesStatus.DRAFT
    held_on: Date
    agencies_present: Annotated[list[ShortText], Field(max_length=30)] = []
    restricted_to: Annotated[list[Agency], Field(max_length=3)] = []
    risk_discussed: Text | None = None
    agreed_level: MappaLevel | None = None
    plan_summary: Text | None = None
    review_on: Date | None = None
    plan: Annotated[list[PlanAction], Field(max_length=200)] = []
    disclosures: Annotated[list[MeetingDisclosure], Field(max_length=30)] = []
    actions: Annotated[list[PlannedAction], Field(max_length=100)] = []
    corrects: uuid.UUID | None = Field(default=None, description="the agreed version this one corrects")

    @model_validator(mode="after")
    def _order(self) -> MeetingMinutes:
        if self.review_on and self.review_on < self.held_on:
            raise InvalidValue("dates_in_order", "review_on must not be before held_on", "review_on")
        return self

    def plain(self) -> Plain:
        return Plain(
            kind=self.status,
            starts_on=self.held_on,
            due_on=self.review_on,
            level=self.version,
            category=int(self.agreed_level) if self.agreed_level else None,
            audience=",".join(sorted(a.value for a in self.restricted_to)) or None,
            ref=str(self.meeting_id),
        )


class MeetingAction(SectionItem):
    """An action a meeting set, owned by a person of an agency, with a due date and a status. Completing it
    records the evidence (and a chronology entry)."""

    section = Section.MEETING_ACTIONS
    meeting_id: uuid.UUID
    description: Text
    owner_name: ShortText
    owner_user_id: UserRef | None = None
    owner_agency: Agency
    due_on: Date
    status: ActionStatus = ActionStatus.OPEN
    evidence: Text | None = None
    completed_on: Date | None = None
    completed_by: ShortText | None = None

    @model_validator(mode="after")
    def _evidence(self) -> MeetingAction:
        if self.status == ActionStatus.COMPLETED and not (self.evidence and self.completed_on):
            raise InvalidValue("evidence_required", "a completed action records its evidence", "evidence")
        return self

    def plain(self) -> Plain:
        return Plain(
            kind=self.owner_agency,
            status=self.status,
            starts_on=self.completed_on,
            due_on=self.due_on,
            ref=self.owner_user_id,
        )
