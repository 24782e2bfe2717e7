"""MAPPA meetings inside the record (issue #22, docs/meetings.md): referral and screening, scheduling,
minutes in structure (draft, agreed and locked, corrected as a new version), the actions they set, and the
lists that bring due work to the people who must do it.

Each use case runs in the caller's unit of work and audits itself. Agreeing minutes goes through the record's
own paths for what it changes: the risk management plan and the MAPPA level are added with
`nominals.service.add_item` (so the plan's versions and the level history see them, audited as such), the
meeting is noted in the chronology with `append_chronology`, and each disclosure decision is a disclosure item
and a `disclosure` event in the audit log.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from ..access.policy import Visibility
from ..audit.events import Action, AuditEntry
from ..audit.tags import Tag
from ..domain import caseload as schedules
from ..domain import clock, rules
from ..domain.actors import Principal
from ..domain.enums import (
    ActionStatus,
    Agency,
    ChronologyKind,
    DisclosureDecisionKind,
    MappaLevel,
    MeetingKind,
    MeetingStatus,
    MinutesStatus,
    NominalStatus,
)
from ..domain.errors import NotFound, RuleViolation
from ..domain.record import (
    ChronologyEntry,
    Disclosure,
    LevelChange,
    Meeting,
    MeetingAction,
    MeetingMinutes,
    Record,
    Referral,
    RiskPlan,
    Section,
    StoredItem,
)
from ..nominals import service as nominals
from ..store.uow import UnitOfWork
from ..usecase.core import use_case
from . import repository

LONDON = ZoneInfo("Europe/London")
MEETING_SECTIONS = {Section.MEETINGS, Section.MEETING_MINUTES, Section.MEETING_ACTIONS, Section.RISK_PLANS}
KIND_FOR_LEVEL = {MappaLevel.MULTI_AGENCY: MeetingKind.LEVEL_2, MappaLevel.CRITICAL_FEW: MeetingKind.LEVEL_3}
REVIEWS_AHEAD_DAYS = 28  # the chair's list shows reviews due within four weeks, and every overdue one


# ------------------------------------------------------------------ reading


@dataclass
class MeetingView:
    item: StoredItem
    meeting: Meeting
    minutes: list[tuple[StoredItem, MeetingMinutes]] = field(default_factory=list)  # oldest version first
    actions: list[tuple[StoredItem, MeetingAction]] = field(default_factory=list)

    @property
    def draft(self) -> tuple[StoredItem, MeetingMinutes] | None:
        return next(((i, m) for i, m in self.minutes if m.status == MinutesStatus.DRAFT), None)

    @property
    def agreed(self) -> tuple[StoredItem, MeetingMinutes] | None:
        """The latest agreed version: a correction supersedes the version it corrects."""
        done = [(i, m) for i, m in self.minutes if m.status == MinutesStatus.AGREED]
        return max(done, key=lambda p: p[1].version) if done else None


@dataclass
class RecordMeetings:
    record: Record
    meetings: list[MeetingView]
    plans: list[tuple[StoredItem, RiskPlan]]  # newest version first

    def meeting(self, meeting_id: uuid.UUID) -> MeetingView:
        for view in self.meetings:
            if view.item.id == meeting_id:
                return view
        raise NotFound("meeting_not_found", f"no meeting {meeting_id} on this record", "meeting_id")

    def action(self, action_id: uuid.UUID) -> tuple[StoredItem, MeetingAction]:
        for view in self.meetings:
            for pair in view.actions:
                if pair[0].id == action_id:
                    return pair
        raise NotFound("action_not_found", f"no action {action_id} on this record", "action_id")


def _gather(record: Record) -> RecordMeetings:
    views: dict[uuid.UUID, MeetingView] = {}
    for item in record.items(Section.MEETINGS):
        if item.ended_at is None and isinstance(item.data, Meeting):
            views[item.id] = MeetingView(item, item.data)
    for item in record.items(Section.MEETING_MINUTES):
        if item.ended_at is None and isinstance(item.data, MeetingMinutes) and item.data.meeting_id in views:
            views[item.data.meeting_id].minutes.append((item, item.data))
    for item in record.items(Section.MEETING_ACTIONS):
        if item.ended_at is None and isinstance(item.data, MeetingAction) and item.data.meeting_id in views:
            views[item.data.meeting_id].actions.append((item, item.data))
    for view in views.values():
        view.minutes.sort(key=lambda p: p[1].version)
        view.actions.sort(key=lambda p: (p[1].due_on, p[0].recorded_at))

    def when(view: MeetingView) -> dt.date:
        m = view.meeting
        return m.held_on or (m.referral.referred_on if m.referral else view.item.recorded_at.date())

    plans = [(i, i.data) for i in record.items(Section.RISK_PLANS) if isinstance(i.data, RiskPlan)]
    plans.sort(key=lambda p: p[1].version, reverse=True)
    return RecordMeetings(record, sorted(views.values(), key=when, reverse=True), plans)


def _load(
    uow: UnitOfWork,
    nominal_id: uuid.UUID,
    visibility: Visibility | None,
    extra: frozenset[Section] = frozenset(),
) -> Record:
    sections = MEETING_SECTIONS | extra
    if visibility is not None:
        sections = {s for s in sections if visibility.sees_section(s.value)}
    return uow.nominals.load(
        nominal_id, sections=sections, chronology=False, audience=visibility.audience if visibility else None
    )


@use_case(Tag.MEETING_RECORD_READ, Action.CONSULTATION)
def read_meetings(
    uow: UnitOfWork,
    principal: Principal,
    nominal_id: uuid.UUID,
    visibility: Visibility,
    *,
    purpose: str | None,
    request_id: str | None = None,
    also: frozenset[Section] = frozenset(),
) -> RecordMeetings:
    """A person's meetings, the minutes this caller's agency may see, the actions and the plan's versions
    (`also`: further sections a page shows with them, read in the same consultation)."""
    found = _gather(_load(uow, nominal_id, visibility, also))
    uow.audit.record(
        AuditEntry(
            Action.CONSULTATION,
            Tag.MEETING_RECORD_READ,
            principal,
            nominal_id=nominal_id,
            section=Section.MEETINGS.value,
            purpose=purpose,
            request_id=request_id,
            details={"sections": sorted(s.value for s in MEETING_SECTIONS | set(also))},
        )
    )
    return found


# ------------------------------------------------------------------ changing


def _begin(
    uow: UnitOfWork, principal: Principal, nominal_id: uuid.UUID, expected_version: int
) -> tuple[Any, int]:
    row = uow.nominals.header_row(nominal_id)
    rules.ensure_editable(NominalStatus(row.status))
    version = uow.nominals.claim_version(nominal_id, expected_version, principal, clock.now())
    return row, version


def _audit(
    uow: UnitOfWork,
    action: Action,
    tag: Tag,
    principal: Principal,
    nominal_id: uuid.UUID,
    item_id: uuid.UUID,
    request_id: str | None,
    section: Section = Section.MEETINGS,
    **details: object,
) -> None:
    uow.audit.record(
        AuditEntry(
            action,
            tag,
            principal,
            nominal_id=nominal_id,
            section=section.value,
            item_id=item_id,
            request_id=request_id,
            details=dict(details),
        )
    )


@use_case(Tag.MEETING_REFERRAL_CREATE, Action.COLLECTION)
def refer(
    uow: UnitOfWork,
    principal: Principal,
    nominal_id: uuid.UUID,
    referral: Referral,
    *,
    expected_version: int,
    request_id: str | None = None,
) -> tuple[uuid.UUID, int]:
    """Refer a person for Level 2 or 3 management: a meeting waiting for its screening decision."""
    row, version = _begin(uow, principal, nominal_id, expected_version)
    meeting = Meeting(
        kind=KIND_FOR_LEVEL[referral.level_sought],
        level=referral.level_sought,
        status=MeetingStatus.REFERRED,
        referral=referral.model_copy(update={"accepted": None, "decided_on": None, "decided_by": None}),
    )
    item_id = uuid.uuid4()
    uow.nominals.add_item(nominal_id, row.data_key_id, item_id, meeting, principal, clock.now())
    _audit(
        uow,
        Action.COLLECTION,
        Tag.MEETING_REFERRAL_CREATE,
        principal,
        nominal_id,
        item_id,
        request_id,
        level_sought=int(referral.level_sought),
    )
    return item_id, version


@use_case(Tag.MEETING_REFERRAL_SCREEN, Action.ALTERATION)
def screen(
    uow: UnitOfWork,
    principal: Principal,
    nominal_id: uuid.UUID,
    meeting_id: uuid.UUID,
    visibility: Visibility,
    *,
    accepted: bool,
    decided_on: dt.date,
    reason: str | None,
    expected_version: int,
    request_id: str | None = None,
) -> int:
    """The screening decision on a referral: accepted (the meeting is then scheduled) or not accepted."""
    row, version = _begin(uow, principal, nominal_id, expected_version)
    view = _gather(_load(uow, nominal_id, visibility)).meeting(meeting_id)
    referral = view.meeting.referral
    if view.meeting.status != MeetingStatus.REFERRED or referral is None or referral.accepted is not None:
        raise RuleViolation("referral_not_waiting", "only a referral waiting for screening can be screened")
    decided = Referral.model_validate(
        {
            **referral.model_dump(),
            "accepted": accepted,
            "decided_on": decided_on,
            "decided_by": principal.display_name or principal.user_id,
            "decision_reason": reason,
        }
    )
    status = MeetingStatus.REFERRED if accepted else MeetingStatus.NOT_ACCEPTED
    meeting = view.meeting.model_copy(update={"referral": decided, "status": status})
    uow.nominals.replace_item(nominal_id, row.data_key_id, meeting_id, meeting, principal, clock.now())
    _audit(
        uow,
        Action.ALTERATION,
        Tag.MEETING_REFERRAL_SCREEN,
        principal,
        nominal_id,
        meeting_id,
        request_id,
        accepted=accepted,
    )
    return version


@dataclass(frozen=True)
class Schedule:
    held_on: dt.date
    level: MappaLevel
    chair: str
    chair_user_id: str | None
    agencies_invited: list[str]


@use_case(Tag.MEETING_SCHEDULE, Action.COLLECTION)
def schedule(
    uow: UnitOfWork,
    principal: Principal,
    nominal_id: uuid.UUID,
    plan: Schedule,
    visibility: Visibility,
    *,
    meeting_id: uuid.UUID | None = None,
    expected_version: int,
    request_id: str | None = None,
) -> tuple[uuid.UUID, int]:
    """Schedule a meeting: a review, or (`meeting_id`) the first meeting of an accepted referral."""
    if plan.level not in KIND_FOR_LEVEL:
        raise RuleViolation(
            "meeting_level", "a MAPPA meeting manages a person at Level 2 or Level 3", "level"
        )
    row, version = _begin(uow, principal, nominal_id, expected_version)
    fields = {
        "kind": KIND_FOR_LEVEL[plan.level],
        "level": plan.level,
        "held_on": plan.held_on,
        "status": MeetingStatus.SCHEDULED,
        "chair": plan.chair,
        "chair_user_id": plan.chair_user_id,
        "agencies_invited": plan.agencies_invited,
    }
    if meeting_id is not None:
        view = _gather(_load(uow, nominal_id, visibility)).meeting(meeting_id)
        referral = view.meeting.referral
        if view.meeting.status != MeetingStatus.REFERRED or referral is None or not referral.accepted:
            raise RuleViolation(
                "referral_not_accepted", "only an accepted referral can be scheduled", "meeting_id"
            )
        meeting = Meeting.model_validate({**view.meeting.model_dump(), **fields})
        uow.nominals.replace_item(nominal_id, row.data_key_id, meeting_id, meeting, principal, clock.now())
        item_id = meeting_id
    else:
        meeting = Meeting.model_validate(fields)
        item_id = uuid.uuid4()
        uow.nominals.add_item(nominal_id, row.data_key_id, item_id, meeting, principal, clock.now())
    _audit(
        uow,
        Action.COLLECTION,
        Tag.MEETING_SCHEDULE,
        principal,
        nominal_id,
        item_id,
        request_id,
        held_on=plan.held_on.isoformat(),
        level=int(plan.level),
    )
    return item_id, version


def _restriction(principal: Principal, minutes: MeetingMinutes, restricted: bool) -> MeetingMinutes:
    """Minutes restricted to the agencies present have the register's agencies among them as audience."""
    if not restricted:
        return minutes.model_copy(update={"restricted_to": []})
    present = {a.strip().lower() for a in minutes.agencies_present}
    audience = [a for a in Agency if a.value in present]
    if principal.agency not in audience:
        raise RuleViolation(
            "restricted_to_present",
            "to restrict the minutes to the agencies present, your agency must be among them",
            "agencies_present",
        )
    return minutes.model_copy(update={"restricted_to": audience})


@use_case(Tag.MEETING_MINUTES_SAVE, Action.COLLECTION)
def save_minutes(
    uow: UnitOfWork,
    principal: Principal,
    nominal_id: uuid.UUID,
    meeting_id: uuid.UUID,
    minutes: MeetingMinutes,
    visibility: Visibility,
    *,
    restricted: bool,
    expected_version: int,
    request_id: str | None = None,
) -> tuple[uuid.UUID, int]:
    """Save the meeting's draft minutes (again). Agreed minutes are locked: a correction is a new draft."""
    row, version = _begin(uow, principal, nominal_id, expected_version)
    view = _gather(_load(uow, nominal_id, visibility)).meeting(meeting_id)
    if view.meeting.status not in (MeetingStatus.SCHEDULED, MeetingStatus.AGREED):
        raise RuleViolation("meeting_not_scheduled", "minutes are written for a scheduled meeting")
    draft = view.draft
    if draft is None and view.meeting.status == MeetingStatus.AGREED:
        raise RuleViolation("minutes_locked", "the minutes are agreed and locked: start a correction instead")
    latest = view.agreed
    fixed = {
        "meeting_id": meeting_id,
        "status": MinutesStatus.DRAFT,
        "version": draft[1].version if draft else (latest[1].version + 1 if latest else 1),
        "corrects": draft[1].corrects if draft else (latest[0].id if latest else None),
    }
    minutes = _restriction(
        principal, MeetingMinutes.model_validate({**minutes.model_dump(), **fixed}), restricted
    )
    now = clock.now()
    if draft is not None:
        item_id = draft[0].id
        uow.nominals.replace_item(nominal_id, row.data_key_id, item_id, minutes, principal, now)
    else:
        item_id = uuid.uuid4()
        uow.nominals.add_item(nominal_id, row.data_key_id, item_id, minutes, principal, now)
    _audit(
        uow,
        Action.COLLECTION,
        Tag.MEETING_MINUTES_SAVE,
        principal,
        nominal_id,
        item_id,
        request_id,
        Section.MEETING_MINUTES,
        meeting_id=str(meeting_id),
        version=minutes.version,
        restricted_to=[a.value for a in minutes.restricted_to],
    )
    return item_id, version


@use_case(Tag.MEETING_MINUTES_CORRECT, Action.COLLECTION)
def correct_minutes(
    uow: UnitOfWork,
    principal: Principal,
    nominal_id: uuid.UUID,
    meeting_id: uuid.UUID,
    visibility: Visibility,
    *,
    expected_version: int,
    request_id: str | None = None,
) -> tuple[uuid.UUID, int]:
    """Start a correction of agreed minutes: a new draft version, a copy of the agreed one to change."""
    row, version = _begin(uow, principal, nominal_id, expected_version)
    view = _gather(_load(uow, nominal_id, visibility)).meeting(meeting_id)
    latest = view.agreed
    if latest is None or view.draft is not None:
        raise RuleViolation(
            "nothing_to_correct", "only agreed minutes without a draft correction can be corrected"
        )
    draft = latest[1].model_copy(
        update={"status": MinutesStatus.DRAFT, "version": latest[1].version + 1, "corrects": latest[0].id}
    )
    item_id = uuid.uuid4()
    uow.nominals.add_item(nominal_id, row.data_key_id, item_id, draft, principal, clock.now())
    _audit(
        uow,
        Action.COLLECTION,
        Tag.MEETING_MINUTES_CORRECT,
        principal,
        nominal_id,
        item_id,
        request_id,
        Section.MEETING_MINUTES,
        meeting_id=str(meeting_id),
        corrects=str(latest[0].id),
        version=draft.version,
    )
    return item_id, version


def _noon(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12), LONDON).astimezone(dt.UTC)


@use_case(Tag.MEETING_MINUTES_AGREE, Action.ALTERATION)
def agree_minutes(
    uow: UnitOfWork,
    principal: Principal,
    nominal_id: uuid.UUID,
    meeting_id: uuid.UUID,
    visibility: Visibility,
    work: schedules.Schedule,
    *,
    expected_version: int,
    request_id: str | None = None,
) -> int:
    """Agree the draft minutes and lock them. The record follows what the meeting agreed: a new version of the
    risk management plan (naming the meeting), the agreed level through the level history, each disclosure
    decision as a disclosure (and a `disclosure` audit event), each action as an item its owner sees on their
    home page, and the meeting in the chronology."""
    row, version = _begin(uow, principal, nominal_id, expected_version)
    found = _gather(_load(uow, nominal_id, visibility))
    view = found.meeting(meeting_id)
    if view.draft is None:
        raise RuleViolation("no_draft_minutes", "save the minutes as a draft before agreeing them")
    draft_item, minutes = view.draft
    if minutes.agreed_level is None:
        raise RuleViolation("agreed_level_required", "agreed minutes say the level agreed", "agreed_level")
    if not minutes.plan:
        raise RuleViolation("plan_required", "agreed minutes set the plan under at least one pillar", "plan")
    header = found.record.header
    now = clock.now()
    agreed = minutes.model_copy(update={"status": MinutesStatus.AGREED})
    uow.nominals.replace_item(nominal_id, row.data_key_id, draft_item.id, agreed, principal, now)
    meeting = view.meeting.model_copy(
        update={
            "status": MeetingStatus.AGREED,
            "held_on": minutes.held_on,
            "level": minutes.agreed_level,
            "agencies_present": minutes.agencies_present,
        }
    )
    uow.nominals.replace_item(nominal_id, row.data_key_id, meeting_id, meeting, principal, now)

    interval = work.level_review.interval(int(minutes.agreed_level))
    review_on = minutes.review_on or (interval.after(minutes.held_on) if interval else minutes.held_on)
    plan = RiskPlan(
        agreed_on=minutes.held_on,
        review_on=review_on,
        summary=minutes.plan_summary or f"Agreed at the MAPPA meeting on {minutes.held_on:%-d %B %Y}",
        actions=minutes.plan,
        meeting_id=meeting_id,
    )
    plan_id, version = nominals.add_item(
        uow, principal, nominal_id, plan, expected_version=version, request_id=request_id
    )
    level_changed = minutes.agreed_level != header.mappa_level and header.mappa_category is not None
    if level_changed and header.mappa_category is not None:
        change = LevelChange(
            category=header.mappa_category,
            level=minutes.agreed_level,
            effective_from=minutes.held_on,
            rationale=f"Agreed at the MAPPA meeting on {minutes.held_on:%-d %B %Y}",
        )
        _, version = nominals.add_item(
            uow, principal, nominal_id, change, expected_version=version, request_id=request_id
        )
    for decision in minutes.disclosures if view.agreed is None else []:
        disclosure = Disclosure(
            decided_on=minutes.held_on,
            recipient=decision.recipient,
            recipient_description=decision.recipient_description,
            decision=DisclosureDecisionKind.DISCLOSE,
            rationale=decision.why,
            outcome=decision.what,
            decided_by=decision.authorised_by,
        )
        disclosure_id, version = nominals.add_item(
            uow, principal, nominal_id, disclosure, expected_version=version, request_id=request_id
        )
        uow.audit.record(
            AuditEntry(
                Action.DISCLOSURE,
                Tag.MEETING_DISCLOSURE,
                principal,
                nominal_id=nominal_id,
                section=Section.DISCLOSURES.value,
                item_id=disclosure_id,
                request_id=request_id,
                details={"meeting_id": str(meeting_id), "recipient": decision.recipient.value},
                sensitive={
                    "what": decision.what,
                    "why": decision.why,
                    "authorised_by": decision.authorised_by,
                },
            )
        )
    # A correction adds the actions it adds; those set by an earlier version stay as they are.
    known = {(a.description, a.owner_name, a.due_on) for _, a in view.actions}
    added = []
    for planned in minutes.actions:
        if (planned.description, planned.owner_name, planned.due_on) in known:
            continue
        action = MeetingAction(meeting_id=meeting_id, **planned.model_dump())
        action_id = uuid.uuid4()
        uow.nominals.add_item(nominal_id, row.data_key_id, action_id, action, principal, now)
        added.append(str(action_id))
    level_words = f"Level {int(minutes.agreed_level)}"
    _, version = nominals.append_chronology(
        uow,
        principal,
        nominal_id,
        ChronologyEntry(
            occurred_at=_noon(minutes.held_on),
            kind=ChronologyKind.MEETING,
            summary=f"MAPPA meeting: minutes agreed (version {minutes.version}); managed at {level_words}",
        ),
        expected_version=version,
        request_id=request_id,
    )
    _audit(
        uow,
        Action.ALTERATION,
        Tag.MEETING_MINUTES_AGREE,
        principal,
        nominal_id,
        draft_item.id,
        request_id,
        Section.MEETING_MINUTES,
        meeting_id=str(meeting_id),
        version=minutes.version,
        plan_id=str(plan_id),
        level=int(minutes.agreed_level),
        level_changed=level_changed,
        actions=added,
        disclosures=len(minutes.disclosures),
    )
    return version


@use_case(Tag.MEETING_ACTION_COMPLETE, Action.ALTERATION)
def complete_action(
    uow: UnitOfWork,
    principal: Principal,
    nominal_id: uuid.UUID,
    action_id: uuid.UUID,
    visibility: Visibility,
    *,
    evidence: str,
    completed_on: dt.date,
    expected_version: int,
    request_id: str | None = None,
) -> int:
    """Complete an action with its evidence; the chronology notes it."""
    row, version = _begin(uow, principal, nominal_id, expected_version)
    item, action = _gather(_load(uow, nominal_id, visibility)).action(action_id)
    if action.status not in (ActionStatus.OPEN, ActionStatus.IN_PROGRESS):
        raise RuleViolation(
            "action_not_open", f"the action is already {action.status.value.replace('_', ' ')}"
        )
    done = MeetingAction.model_validate(
        {
            **action.model_dump(),
            "status": ActionStatus.COMPLETED,
            "evidence": evidence,
            "completed_on": completed_on,
            "completed_by": principal.display_name or principal.user_id,
        }
    )
    uow.nominals.replace_item(nominal_id, row.data_key_id, item.id, done, principal, clock.now())
    _, version = nominals.append_chronology(
        uow,
        principal,
        nominal_id,
        ChronologyEntry(
            occurred_at=_noon(completed_on),
            kind=ChronologyKind.MEETING,
            summary=f"MAPPA action completed: {action.description}"[:4000],
            details=evidence,
        ),
        expected_version=version,
        request_id=request_id,
    )
    _audit(
        uow,
        Action.ALTERATION,
        Tag.MEETING_ACTION_COMPLETE,
        principal,
        nominal_id,
        item.id,
        request_id,
        Section.MEETING_ACTIONS,
        meeting_id=str(action.meeting_id),
    )
    return version


# ------------------------------------------------------------------ lists across records


@dataclass(frozen=True)
class ActionRow:
    nominal_id: uuid.UUID
    action_id: uuid.UUID
    name: str
    action: MeetingAction
    overdue: bool


def _rows(found: list[repository.Found], today: dt.date) -> list[ActionRow]:
    return [
        ActionRow(f.nominal_id, f.item_id, f.name, f.data, f.data.due_on < today)
        for f in found
        if isinstance(f.data, MeetingAction)
    ]


@use_case(Tag.MEETING_ACTIONS_MINE, Action.CONSULTATION)
def my_actions(
    uow: UnitOfWork,
    principal: Principal,
    visibility: Visibility,
    *,
    today: dt.date,
    request_id: str | None = None,
) -> list[ActionRow]:
    """The open MAPPA actions the caller owns on their area's records, overdue first (by due date)."""
    if not visibility.sees_section(Section.MEETING_ACTIONS.value):
        return []
    found = repository.open_actions_of(uow.session, uow.cipher, principal.user_id, principal.area)
    rows = _rows(found, today)
    uow.audit.record(
        AuditEntry(
            Action.CONSULTATION,
            Tag.MEETING_ACTIONS_MINE,
            principal,
            request_id=request_id,
            details={"ids": sorted({str(r.nominal_id) for r in rows}), "actions": len(rows)},
        )
    )
    return rows


@dataclass(frozen=True)
class ReviewRow:
    nominal_id: uuid.UUID
    name: str
    level: int
    last_held: dt.date | None
    due_on: dt.date
    overdue: bool
    scheduled_on: dt.date | None


@dataclass(frozen=True)
class MeetingRow:
    nominal_id: uuid.UUID
    meeting_id: uuid.UUID
    name: str
    meeting: Meeting


@dataclass(frozen=True)
class Desk:
    meetings: list[MeetingRow]
    reviews: list[ReviewRow]
    overdue_actions: list[ActionRow]


@use_case(Tag.MEETING_DESK_READ, Action.CONSULTATION)
def desk(
    uow: UnitOfWork,
    principal: Principal,
    visibility: Visibility,
    work: schedules.Schedule,
    *,
    today: dt.date,
    request_id: str | None = None,
) -> Desk:
    """The chair's and coordinator's list for the caller's area: meetings scheduled (soonest first), reviews
    due within four weeks or overdue (intervals from the caseload schedule), and overdue actions."""
    meetings: list[MeetingRow] = []
    if visibility.sees_section(Section.MEETINGS.value):
        meetings = [
            MeetingRow(f.nominal_id, f.item_id, f.name, f.data)
            for f in repository.scheduled_meetings(uow.session, uow.cipher, principal.area)
            if isinstance(f.data, Meeting)
        ]
    next_meeting: dict[uuid.UUID, dt.date] = {}
    for row in meetings:
        if row.meeting.held_on is not None:
            next_meeting.setdefault(row.nominal_id, row.meeting.held_on)
    reviews = []
    levels = [lv for lv in (1, 2, 3) if work.level_review.interval(lv) is not None and lv > 1]
    for f in repository.review_facts(uow.session, uow.cipher, principal.area, levels):
        interval = work.level_review.interval(f.level)
        if interval is None:
            continue
        due = interval.after(f.last_held or f.level_since or f.created_on)
        if due <= today + dt.timedelta(days=REVIEWS_AHEAD_DAYS):
            reviews.append(
                ReviewRow(
                    f.nominal_id,
                    f.name,
                    f.level,
                    f.last_held,
                    due,
                    due < today,
                    next_meeting.get(f.nominal_id),
                )
            )
    reviews.sort(key=lambda r: (r.due_on, r.name))
    actions = (
        _rows(repository.overdue_actions(uow.session, uow.cipher, principal.area, today), today)
        if visibility.sees_section(Section.MEETING_ACTIONS.value)
        else []
    )
    ids = {r.nominal_id for r in meetings} | {r.nominal_id for r in reviews} | {r.nominal_id for r in actions}
    uow.audit.record(
        AuditEntry(
            Action.CONSULTATION,
            Tag.MEETING_DESK_READ,
            principal,
            request_id=request_id,
            details={"area": principal.area.value, "ids": sorted(str(i) for i in ids)},
        )
    )
    return Desk(meetings, reviews, actions)
