"""MAPPA meetings on the web (issue #22, docs/meetings.md): a person's meetings and actions (a tab of the
record), scheduling a meeting, the minutes form (saved as a draft, then agreed and locked; a correction is a
new version), completing an action with its evidence, and the chair's list of the area's meetings, reviews due
and overdue actions. Every page calls the API's use cases (`meetings.service`) inside `work(request)`, after
the policy (`RecordPage`, `PageGuard`, `record_access`). Everything works without JavaScript: forms post,
buttons carry their decision."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from ..access.policy import Policy
from ..api.deps import request_id
from ..api.routing import APIRouter
from ..caseload import service as caseload_service
from ..domain.actors import Principal
from ..domain.enums import Agency, DisclosureRecipient, MappaLevel, Pillar
from ..domain.errors import ConcurrencyConflict, DomainError, NotFound
from ..domain.record import MeetingAction, MeetingMinutes, OffenderManager, Record, Referral, Section
from ..meetings import service
from ..meetings.schemas import MinutesIn
from ..usecase.guard import Access
from . import record as record_pages
from .caseload import today_in_london
from .common import PageGuard, SignedIn, flash, not_found, record_access, redirect, render, verify_csrf, work
from .editing import PILLAR_HINTS, form_page, nominal_of
from .forms import Field, Form, choices, posted_version, read
from .pages import label, long_date

router = APIRouter(include_in_schema=False, dependencies=[Depends(verify_csrf)])
ReadMeetings = Annotated[Access, Depends(record_pages.RecordPage("record.read", "meetings"))]
WriteMeetings = [Depends(PageGuard("record.write", "meetings"))]
WriteMinutes = [Depends(PageGuard("record.write", "meeting_minutes"))]
WriteActions = [Depends(PageGuard("record.write", "meeting_actions"))]
ACTION_ROWS = 3
STALE = "Someone changed this record since you opened the form: check your answers and save again"


def _schedule_file(request: Request) -> Any:
    return caseload_service.schedule(request.app.state.store.settings.caseload_schedule_file)


def _id(value: str) -> uuid.UUID:
    return nominal_of(value)


def _when(view: service.MeetingView) -> str:
    m = view.meeting
    if m.held_on:
        return long_date(m.held_on)
    return f"referred {long_date(m.referral.referred_on)}" if m.referral else ""


STATUS_TAGS = {
    "referred": ("Referred", "govuk-tag--yellow"),
    "not_accepted": ("Not accepted", "govuk-tag--grey"),
    "scheduled": ("Scheduled", "govuk-tag--blue"),
    "agreed": ("Minutes agreed", "govuk-tag--green"),
    None: ("Held", "govuk-tag--green"),
}


def _plan_by_pillar(actions: list[Any]) -> list[dict[str, Any]]:
    return [
        {
            "pillar": label(p),
            "items": [{"text": a.description, "agency": label(a.owner)} for a in actions if a.pillar == p],
        }
        for p in Pillar
    ]


def _meeting(
    view: service.MeetingView, nominal_id: uuid.UUID, today: dt.date, can: dict[str, bool]
) -> dict[str, Any]:
    m = view.meeting
    status = m.status.value if m.status else None
    agreed, draft = view.agreed, view.draft
    minutes = draft or agreed
    shown: MeetingMinutes | None = minutes[1] if minutes else None
    waiting = m.referral is not None and m.referral.accepted is None
    return {
        "id": str(view.item.id),
        "title": f"{label(m.kind)} meeting, {_when(view)}",
        "status": STATUS_TAGS[status],
        "chair": m.chair,
        "invited": ", ".join(m.agencies_invited),
        "present": ", ".join(m.agencies_present),
        "referral": m.referral,
        "legacy_actions": m.actions,
        "minutes": shown,
        "minutes_status": (
            f"{'Draft' if draft else 'Agreed'}, version {shown.version}" if shown is not None else None
        ),
        "restricted": bool(shown and shown.restricted_to),
        "restricted_to": ", ".join(label(a) for a in shown.restricted_to) if shown else "",
        "plan": _plan_by_pillar(shown.plan) if shown else [],
        "versions": [(mm.version, mm.status.value) for _, mm in view.minutes],
        "can_minute": can["minutes"] and status == "scheduled",
        "can_screen": can["meetings"] and status == "referred" and waiting,
        "can_schedule": can["meetings"] and status == "referred" and bool(m.referral and m.referral.accepted),
        "schedule_href": f"/records/{nominal_id}/meetings/{view.item.id}/schedule",
        "screening_href": f"/records/{nominal_id}/meetings/{view.item.id}/screening",
        "can_correct": can["minutes"] and status == "agreed" and draft is None and agreed is not None,
        "continue_correction": can["minutes"] and status == "agreed" and draft is not None,
        "minutes_href": f"/records/{nominal_id}/meetings/{view.item.id}/minutes",
    }


def _action(
    nominal_id: uuid.UUID,
    item_id: uuid.UUID,
    action: MeetingAction,
    today: dt.date,
    can: bool,
    name: str = "",
) -> dict[str, Any]:
    open_ = action.status.value in ("open", "in_progress")
    return {
        "id": str(item_id),
        "name": name,
        "record_href": f"/records/{nominal_id}/meetings",
        "description": action.description,
        "owner": f"{action.owner_name} ({label(action.owner_agency)})",
        "due": long_date(action.due_on),
        "overdue": open_ and action.due_on < today,
        "status": label(action.status),
        "evidence": action.evidence,
        "completed": long_date(action.completed_on) if action.completed_on else "",
        "complete_href": f"/records/{nominal_id}/meetings/actions/{item_id}/complete"
        if open_ and can
        else None,
    }


def _may(policy: Policy, access: Access, section: Section) -> bool:
    return policy.decide(access.principal, "record.write", section=section.value, record=access.facts).allowed


@router.get("/records/{nominal_id}/meetings", response_class=HTMLResponse)
def meetings_page(request: Request, access: ReadMeetings) -> HTMLResponse:
    if access.stub:
        return record_pages._stub(request, access)
    policy: Policy = request.app.state.policy
    also = frozenset(s for s in record_pages.ALWAYS if access.visibility.sees_section(s.value))
    with work(request) as uow:
        found = service.read_meetings(
            uow,
            access.principal,
            access.nominal_id,
            access.visibility,
            purpose=access.purpose,
            request_id=access.request_id,
            also=also,
        )
    frame = record_pages._frame(request, access, found.record, record_pages.BY_SLUG["meetings"], policy)
    today = frame["today"]
    can = {
        "meetings": _may(policy, access, Section.MEETINGS),
        "minutes": _may(policy, access, Section.MEETING_MINUTES),
        "actions": _may(policy, access, Section.MEETING_ACTIONS),
    }
    meetings = [_meeting(v, found.record.id, today, can) for v in found.meetings]
    actions = [
        _action(found.record.id, i.id, a, today, can["actions"]) for v in found.meetings for i, a in v.actions
    ]
    actions.sort(key=lambda a: (not a["overdue"], a["complete_href"] is None))
    plans = [
        {
            "version": p.version,
            "agreed_on": long_date(p.agreed_on),
            "review_on": long_date(p.review_on),
            "summary": p.summary,
            "meeting": str(p.meeting_id) if p.meeting_id else None,
            "plan": _plan_by_pillar(p.actions),
        }
        for _, p in found.plans
    ]
    return render(
        request,
        "pages/record/meetings.html",
        {
            **frame,
            "meetings": meetings,
            "actions": actions,
            "plans": plans,
            "can": can,
            "schedule_href": f"/records/{found.record.id}/meetings/schedule",
            "refer_href": f"/records/{found.record.id}/meetings/refer",
        },
    )


# ------------------------------------------------------------------ scheduling


def _schedule_fields() -> list[Field]:
    return [
        Field("held_on", "Date of the meeting", "date", hint="For example, 27 3 2026", required=True),
        Field("level", "Level", "radios", options=[("2", "Level 2"), ("3", "Level 3")], required=True),
        Field("chair", "Chair", required=True, hint="Who chairs the meeting"),
        Field("agencies_invited", "Agencies invited", hint="Separate them with commas"),
    ]


def _read_record(request: Request, principal: Principal, nominal_id: uuid.UUID, section: Section) -> Record:
    with work(request) as uow:
        access = record_access(request, uow, principal, "record.write", nominal_id, section.value)
        return service.read_meetings(
            uow,
            principal,
            nominal_id,
            access.visibility,
            purpose=access.purpose,
            request_id=access.request_id,
            also=frozenset({Section.OFFENDER_MANAGERS}),
        ).record


def _split(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def _schedule_show(
    request: Request, principal: Principal, nid: uuid.UUID, form: Form | None, status: int = 200
) -> HTMLResponse:
    record = _read_record(request, principal, nid, Section.MEETINGS)
    if form is None:
        form = Form(_schedule_fields())
        form.field("agencies_invited").value = "Police, Probation, Prison"
        if record.header.mappa_level in (MappaLevel.MULTI_AGENCY, MappaLevel.CRITICAL_FEW):
            form.field("level").value = str(int(record.header.mappa_level))
    return form_page(
        request,
        record=record,
        title="Schedule a MAPPA meeting",
        form=form,
        action=request.url.path,
        submit="Schedule the meeting",
        status=status,
    )


async def _schedule_post(
    request: Request, principal: Principal, nid: uuid.UUID, referral: uuid.UUID | None
) -> Response:
    values = await request.form()
    form = Form(_schedule_fields()).fill(values)
    answers = read(form, values)
    if form.valid:
        try:
            with work(request) as uow:
                access = record_access(request, uow, principal, "record.write", nid, Section.MEETINGS.value)
                plan = service.Schedule(
                    answers["held_on"],
                    MappaLevel(int(answers["level"])),
                    answers["chair"],
                    None,
                    _split(answers["agencies_invited"]),
                )
                service.schedule(
                    uow,
                    principal,
                    nid,
                    plan,
                    access.visibility,
                    meeting_id=referral,
                    expected_version=posted_version(values),
                    request_id=request_id(request),
                )
        except ConcurrencyConflict:
            form.add_error("held_on", STALE)
        except NotFound:
            raise not_found() from None
        except (DomainError, ValidationError) as exc:
            form.explain(exc)
        else:
            flash(request, "Meeting scheduled")
            return redirect(f"/records/{nid}/meetings")
    return _schedule_show(request, principal, nid, form, 422)


@router.get(
    "/records/{nominal_id}/meetings/schedule", response_class=HTMLResponse, dependencies=WriteMeetings
)
def schedule_form(request: Request, nominal_id: str, principal: SignedIn) -> HTMLResponse:
    return _schedule_show(request, principal, _id(nominal_id), None)


@router.post("/records/{nominal_id}/meetings/schedule", dependencies=WriteMeetings)
async def schedule_submit(request: Request, nominal_id: str, principal: SignedIn) -> Response:
    return await _schedule_post(request, principal, _id(nominal_id), None)


@router.get(
    "/records/{nominal_id}/meetings/{meeting_id}/schedule",
    response_class=HTMLResponse,
    dependencies=WriteMeetings,
)
def schedule_referral_form(
    request: Request, nominal_id: str, meeting_id: str, principal: SignedIn
) -> HTMLResponse:
    """The first meeting of an accepted referral."""
    _id(meeting_id)
    return _schedule_show(request, principal, _id(nominal_id), None)


@router.post("/records/{nominal_id}/meetings/{meeting_id}/schedule", dependencies=WriteMeetings)
async def schedule_referral_submit(
    request: Request, nominal_id: str, meeting_id: str, principal: SignedIn
) -> Response:
    return await _schedule_post(request, principal, _id(nominal_id), _id(meeting_id))


# ------------------------------------------------------------------ referral and screening


def _refer_fields() -> list[Field]:
    return [
        Field("referred_on", "Date referred", "date", required=True),
        Field("referred_by", "Referred by", required=True),
        Field("referrer_agency", "Referring agency", "select", options=choices(Agency), required=True),
        Field(
            "level_sought",
            "Level sought",
            "radios",
            options=[("2", "Level 2"), ("3", "Level 3")],
            required=True,
        ),
        Field("reason", "Why multi-agency management is needed", "textarea", required=True),
    ]


def _refer_show(
    request: Request, principal: Principal, nid: uuid.UUID, form: Form, status: int
) -> HTMLResponse:
    record = _read_record(request, principal, nid, Section.MEETINGS)
    return form_page(
        request,
        record=record,
        title="Refer for Level 2 or 3 management",
        form=form,
        action=request.url.path,
        submit="Refer",
        status=status,
    )


@router.get("/records/{nominal_id}/meetings/refer", response_class=HTMLResponse, dependencies=WriteMeetings)
def refer_form(request: Request, nominal_id: str, principal: SignedIn) -> HTMLResponse:
    form = Form(_refer_fields()).fill_dates(referred_on=today_in_london())
    form.field("referred_by").value = principal.display_name or principal.user_id
    form.field("referrer_agency").value = principal.agency.value
    return _refer_show(request, principal, _id(nominal_id), form, 200)


@router.post("/records/{nominal_id}/meetings/refer", dependencies=WriteMeetings)
async def refer_submit(request: Request, nominal_id: str, principal: SignedIn) -> Response:
    nid = _id(nominal_id)
    values = await request.form()
    form = Form(_refer_fields()).fill(values)
    answers = read(form, values)
    if form.valid:
        try:
            with work(request) as uow:
                record_access(request, uow, principal, "record.write", nid, Section.MEETINGS.value)
                referral = Referral.model_validate(
                    {k: answers[k] for k in ("referred_on", "referred_by", "referrer_agency", "reason")}
                    | {"level_sought": int(answers["level_sought"])}
                )
                service.refer(
                    uow,
                    principal,
                    nid,
                    referral,
                    expected_version=posted_version(values),
                    request_id=request_id(request),
                )
        except ConcurrencyConflict:
            form.add_error("referred_on", STALE)
        except (DomainError, ValidationError) as exc:
            form.explain(exc)
        else:
            flash(request, "Referral recorded: it waits for the screening decision")
            return redirect(f"/records/{nid}/meetings")
    return _refer_show(request, principal, nid, form, 422)


@router.post("/records/{nominal_id}/meetings/{meeting_id}/screening", dependencies=WriteMeetings)
async def screening_submit(
    request: Request, nominal_id: str, meeting_id: str, principal: SignedIn
) -> Response:
    nid, mid = _id(nominal_id), _id(meeting_id)
    values = await request.form()
    accepted = values.get("decision") == "accept"
    reason = str(values.get("reason") or "").strip() or None
    try:
        with work(request) as uow:
            access = record_access(request, uow, principal, "record.write", nid, Section.MEETINGS.value)
            service.screen(
                uow,
                principal,
                nid,
                mid,
                access.visibility,
                accepted=accepted,
                decided_on=today_in_london(),
                reason=reason,
                expected_version=posted_version(values),
                request_id=request_id(request),
            )
    except NotFound:
        raise not_found() from None
    except DomainError as exc:
        flash(request, f"The screening decision was not recorded: {exc.message}")
        return redirect(f"/records/{nid}/meetings")
    flash(request, "Referral accepted: schedule its meeting" if accepted else "Referral not accepted")
    return redirect(f"/records/{nid}/meetings")


# ------------------------------------------------------------------ minutes


def _owners(record: Record, principal: Principal) -> dict[str, tuple[str, Agency]]:
    """Who may own an action: the record's current offender managers with a register user id, and you."""
    out: dict[str, tuple[str, Agency]] = {}
    for item in record.items(Section.OFFENDER_MANAGERS):
        om = item.data
        if item.ended_at is None and isinstance(om, OffenderManager) and om.user_id and om.date_to is None:
            out[om.user_id] = (om.name, om.agency)
    out.setdefault(principal.user_id, (principal.display_name or principal.user_id, principal.agency))
    return out


def _minutes_fields(owners: dict[str, tuple[str, Agency]]) -> list[Field]:
    agencies = choices(Agency)
    people = [(uid, f"{name} ({label(agency)})") for uid, (name, agency) in owners.items()]
    fields = [
        Field("held_on", "Date held", "date", required=True),
        Field("agencies_present", "Agencies present", required=True, hint="Separate them with commas"),
        Field(
            "restricted",
            "Only the agencies present may read these minutes",
            "checkbox",
            model=("restricted_to",),
        ),
        Field("risk_discussed", "Risk assessment discussed", "textarea"),
        Field(
            "agreed_level",
            "Level agreed",
            "radios",
            options=[("1", "Level 1"), ("2", "Level 2"), ("3", "Level 3")],
        ),
        Field("review_on", "Next review by (optional)", "date", hint="Blank: the level's review interval"),
        Field("plan_summary", "Summary of the plan (optional)", "textarea"),
    ]
    for i, p in enumerate(Pillar):
        fields.append(
            Field(
                p.value,
                label(p),
                "textarea",
                hint=f"{PILLAR_HINTS[p]}. One item a line.",
                model=("plan",) if i == 0 else (),
            )
        )
        fields.append(
            Field(
                f"{p.value}-owner", f"Agency responsible for {label(p).lower()}", "select", options=agencies
            )
        )
    fields += [
        Field(
            "disclosure_recipient",
            "Disclosure decided: to whom (optional)",
            "select",
            options=choices(DisclosureRecipient),
            model=("disclosures", "recipient"),
        ),
        Field("disclosure_what", "What is disclosed", "textarea", model=("what",)),
        Field("disclosure_why", "Why", "textarea", model=("why",)),
        Field("disclosure_authorised_by", "Authorised by", model=("authorised_by",)),
    ]
    for n in range(1, ACTION_ROWS + 1):
        fields += [
            Field(f"action-{n}", f"Action {n}", "textarea", model=("actions",) if n == 1 else ()),
            Field(f"action-{n}-owner", f"Action {n}: owner", "select", options=people),
            Field(f"action-{n}-due", f"Action {n}: due by", "date", model=("due_on",) if n == 1 else ()),
        ]
    return fields


def _minutes_body(
    a: Mapping[str, Any], owners: dict[str, tuple[str, Agency]], principal: Principal
) -> MinutesIn:
    plan = [
        {
            "pillar": p.value,
            "description": line.strip(),
            "owner": a.get(f"{p.value}-owner") or principal.agency.value,
        }
        for p in Pillar
        for line in (a.get(p.value) or "").splitlines()
        if line.strip()
    ]
    disclosures = []
    if a.get("disclosure_recipient") or a.get("disclosure_what"):
        disclosures.append(
            {
                "recipient": a.get("disclosure_recipient"),
                "what": a.get("disclosure_what"),
                "why": a.get("disclosure_why"),
                "authorised_by": a.get("disclosure_authorised_by"),
            }
        )
    actions = []
    for n in range(1, ACTION_ROWS + 1):
        if not a.get(f"action-{n}"):
            continue
        uid = a.get(f"action-{n}-owner") or principal.user_id
        name, agency = owners.get(uid, (uid, principal.agency))
        actions.append(
            {
                "description": a[f"action-{n}"],
                "owner_name": name,
                "owner_user_id": uid,
                "owner_agency": agency.value,
                "due_on": a.get(f"action-{n}-due"),
            }
        )
    return MinutesIn.model_validate(
        {
            "held_on": a.get("held_on"),
            "agencies_present": _split(a.get("agencies_present")),
            "restricted": bool(a.get("restricted")),
            "risk_discussed": a.get("risk_discussed"),
            "agreed_level": int(a["agreed_level"]) if a.get("agreed_level") else None,
            "review_on": a.get("review_on"),
            "plan_summary": a.get("plan_summary"),
            "plan": plan,
            "disclosures": disclosures,
            "actions": actions,
        }
    )


def _prefill(form: Form, view: service.MeetingView) -> None:
    pair = view.draft or view.agreed
    m = view.meeting
    if pair is None:
        form.fill_dates(held_on=m.held_on)
        form.field("agencies_present").value = ", ".join(m.agencies_invited)
        form.field("agreed_level").value = str(int(m.level)) if m.level else None
        return
    mm = pair[1]
    form.fill_dates(held_on=mm.held_on, review_on=mm.review_on)
    form.field("agencies_present").value = ", ".join(mm.agencies_present)
    form.field("restricted").value = "yes" if mm.restricted_to else None
    form.field("risk_discussed").value = mm.risk_discussed
    form.field("agreed_level").value = str(int(mm.agreed_level)) if mm.agreed_level else None
    form.field("plan_summary").value = mm.plan_summary
    for p in Pillar:
        items = [x for x in mm.plan if x.pillar == p]
        form.field(p.value).value = "\n".join(x.description for x in items)
        form.field(f"{p.value}-owner").value = items[0].owner.value if items else None
    if mm.disclosures:
        d = mm.disclosures[0]
        form.field("disclosure_recipient").value = d.recipient.value
        form.field("disclosure_what").value = d.what
        form.field("disclosure_why").value = d.why
        form.field("disclosure_authorised_by").value = d.authorised_by
    for n, act in enumerate(mm.actions[:ACTION_ROWS], start=1):
        form.field(f"action-{n}").value = act.description
        form.field(f"action-{n}-owner").value = act.owner_user_id
        form.fill_dates(**{f"action-{n}-due": act.due_on})


MINUTES_BUTTONS = [
    {
        "text": "Save as a draft",
        "name": "decision",
        "value": "draft",
        "qa": "save-draft",
        "classes": "govuk-button--secondary",
    },
    {"text": "Agree and lock the minutes", "name": "decision", "value": "agree", "qa": "agree"},
]


def _minutes_page(
    request: Request,
    principal: Principal,
    nid: uuid.UUID,
    meeting_id: uuid.UUID,
    form: Form | None,
    status: int,
) -> HTMLResponse:
    with work(request) as uow:
        access = record_access(request, uow, principal, "record.write", nid, Section.MEETING_MINUTES.value)
        found = service.read_meetings(
            uow,
            principal,
            nid,
            access.visibility,
            purpose=access.purpose,
            request_id=access.request_id,
            also=frozenset({Section.OFFENDER_MANAGERS}),
        )
    try:
        view = found.meeting(meeting_id)
    except NotFound:
        raise not_found() from None
    if form is None:
        form = Form(_minutes_fields(_owners(found.record, principal)))
        _prefill(form, view)
    intro = [f"{label(view.meeting.kind)} meeting chaired by {view.meeting.chair or 'the chair'}."]
    intro.append(
        "Save as a draft as often as you need. Once agreed, the minutes are locked: the record's risk "
        "management plan and level follow them, and each action goes to its owner."
    )
    return form_page(
        request,
        record=found.record,
        title="Minutes of the MAPPA meeting",
        form=form,
        action=f"/records/{nid}/meetings/{meeting_id}/minutes",
        submit="Save",
        status=status,
        intro=intro,
        buttons=MINUTES_BUTTONS,
    )


@router.get(
    "/records/{nominal_id}/meetings/{meeting_id}/minutes",
    response_class=HTMLResponse,
    dependencies=WriteMinutes,
)
def minutes_form(request: Request, nominal_id: str, meeting_id: str, principal: SignedIn) -> HTMLResponse:
    return _minutes_page(request, principal, _id(nominal_id), _id(meeting_id), None, 200)


@router.post("/records/{nominal_id}/meetings/{meeting_id}/minutes", dependencies=WriteMinutes)
async def minutes_submit(request: Request, nominal_id: str, meeting_id: str, principal: SignedIn) -> Response:
    nid, mid = _id(nominal_id), _id(meeting_id)
    values = await request.form()
    with work(request) as uow:
        access = record_access(request, uow, principal, "record.write", nid, Section.MEETING_MINUTES.value)
        record = service.read_meetings(
            uow,
            principal,
            nid,
            access.visibility,
            purpose=access.purpose,
            also=frozenset({Section.OFFENDER_MANAGERS}),
        ).record
    owners = _owners(record, principal)
    form = Form(_minutes_fields(owners)).fill(values)
    answers = read(form, values)
    agree = values.get("decision") == "agree"
    if form.valid:
        saved = False
        try:
            with work(request) as uow:
                body = _minutes_body(answers, owners, principal)
                _, version = service.save_minutes(
                    uow,
                    principal,
                    nid,
                    mid,
                    body.minutes(mid),
                    access.visibility,
                    restricted=body.restricted,
                    expected_version=posted_version(values),
                    request_id=request_id(request),
                )
                saved = True
                if agree:
                    service.agree_minutes(
                        uow,
                        principal,
                        nid,
                        mid,
                        access.visibility,
                        _schedule_file(request),
                        expected_version=version,
                        request_id=request_id(request),
                    )
        except ConcurrencyConflict:
            form.add_error("held_on", STALE)
        except NotFound as exc:
            if exc.rule == "meeting_not_found":
                raise not_found() from None
            form.explain(exc)
        except (DomainError, ValidationError) as exc:
            form.explain(exc)
        else:
            flash(
                request,
                "Minutes agreed: the plan and actions are on the record"
                if agree
                else "Minutes saved as a draft",
            )
            return redirect(f"/records/{nid}/meetings")
        if saved:
            form.errors.insert(
                0, {"text": "The minutes were saved as a draft but not agreed", "href": "#held_on-day"}
            )
    return _minutes_page(request, principal, nid, mid, form, 422)


@router.post("/records/{nominal_id}/meetings/{meeting_id}/minutes/correct", dependencies=WriteMinutes)
async def minutes_correct(
    request: Request, nominal_id: str, meeting_id: str, principal: SignedIn
) -> Response:
    nid, mid = _id(nominal_id), _id(meeting_id)
    values = await request.form()
    try:
        with work(request) as uow:
            access = record_access(
                request, uow, principal, "record.write", nid, Section.MEETING_MINUTES.value
            )
            service.correct_minutes(
                uow,
                principal,
                nid,
                mid,
                access.visibility,
                expected_version=posted_version(values),
                request_id=request_id(request),
            )
    except ConcurrencyConflict:
        flash(
            request, "Someone changed this record meanwhile: look at the minutes again before correcting them"
        )
        return redirect(f"/records/{nid}/meetings")
    except NotFound:
        raise not_found() from None
    return redirect(f"/records/{nid}/meetings/{mid}/minutes")


# ------------------------------------------------------------------ completing an action


def _complete_fields() -> list[Field]:
    return [
        Field(
            "evidence",
            "Evidence that it is done",
            "textarea",
            required=True,
            hint="What was done, when, and where it is recorded",
        ),
        Field("completed_on", "Date completed", "date", hint="For example, 27 3 2026", required=True),
    ]


def _action_record(
    request: Request, principal: Principal, nid: uuid.UUID, action_id: uuid.UUID
) -> tuple[Record, MeetingAction]:
    with work(request) as uow:
        access = record_access(request, uow, principal, "record.write", nid, Section.MEETING_ACTIONS.value)
        found = service.read_meetings(
            uow, principal, nid, access.visibility, purpose=access.purpose, request_id=access.request_id
        )
    try:
        return found.record, found.action(action_id)[1]
    except NotFound:
        raise not_found() from None


@router.get(
    "/records/{nominal_id}/meetings/actions/{action_id}/complete",
    response_class=HTMLResponse,
    dependencies=WriteActions,
)
def complete_form(request: Request, nominal_id: str, action_id: str, principal: SignedIn) -> HTMLResponse:
    nid, aid = _id(nominal_id), _id(action_id)
    record, action = _action_record(request, principal, nid, aid)
    form = Form(_complete_fields()).fill_dates(completed_on=today_in_london())
    return form_page(
        request,
        record=record,
        title="Complete an action",
        form=form,
        action=request.url.path,
        submit="Complete the action",
        intro=[action.description, f"Due by {long_date(action.due_on)}"],
    )


@router.post("/records/{nominal_id}/meetings/actions/{action_id}/complete", dependencies=WriteActions)
async def complete_submit(request: Request, nominal_id: str, action_id: str, principal: SignedIn) -> Response:
    nid, aid = _id(nominal_id), _id(action_id)
    values = await request.form()
    form = Form(_complete_fields()).fill(values)
    answers = read(form, values)
    if form.valid:
        try:
            with work(request) as uow:
                access = record_access(
                    request, uow, principal, "record.write", nid, Section.MEETING_ACTIONS.value
                )
                service.complete_action(
                    uow,
                    principal,
                    nid,
                    aid,
                    access.visibility,
                    evidence=answers["evidence"],
                    completed_on=answers["completed_on"],
                    expected_version=posted_version(values),
                    request_id=request_id(request),
                )
        except ConcurrencyConflict:
            form.add_error("evidence", STALE)
        except NotFound:
            raise not_found() from None
        except (DomainError, ValidationError) as exc:
            form.explain(exc)
        else:
            flash(request, "Action completed")
            return redirect(f"/records/{nid}/meetings")
    record, action = _action_record(request, principal, nid, aid)
    return form_page(
        request,
        record=record,
        title="Complete an action",
        form=form,
        action=request.url.path,
        submit="Complete the action",
        status=422,
        intro=[action.description],
    )


# ------------------------------------------------------------------ the chair's list


@router.get("/meetings", response_class=HTMLResponse)
def desk_page(
    request: Request, principal: Annotated[Principal, Depends(PageGuard("meeting.list", "meetings"))]
) -> HTMLResponse:
    policy: Policy = request.app.state.policy
    today = today_in_london()
    with work(request) as uow:
        desk = service.desk(
            uow,
            principal,
            policy.visibility(principal),
            _schedule_file(request),
            today=today,
            request_id=request_id(request),
        )
    return render(
        request,
        "pages/meetings/desk.html",
        {
            "title": "MAPPA meetings",
            "today": today,
            "meetings": [
                {
                    "name": r.name,
                    "href": f"/records/{r.nominal_id}/meetings",
                    "held_on": long_date(r.meeting.held_on),
                    "past": bool(r.meeting.held_on and r.meeting.held_on < today),
                    "level": int(r.meeting.level or 0),
                    "chair": r.meeting.chair or "",
                }
                for r in desk.meetings
            ],
            "reviews": [
                {
                    "name": r.name,
                    "href": f"/records/{r.nominal_id}/meetings",
                    "level": r.level,
                    "last": long_date(r.last_held) if r.last_held else "None recorded",
                    "due": long_date(r.due_on),
                    "overdue": r.overdue,
                    "scheduled": long_date(r.scheduled_on) if r.scheduled_on else "",
                }
                for r in desk.reviews
            ],
            "actions": [
                _action(r.nominal_id, r.action_id, r.action, today, False, r.name)
                for r in desk.overdue_actions
            ],
        },
    )
