"""/v1/nominals/{id}/meetings/...: a person's MAPPA meetings, minutes and actions; /v1/meetings: the chair's
list and one's own actions. The same use cases as the pages (web/meetings.py)."""

import datetime as dt
import uuid
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import Body, Depends, Request, Response

from ..api.deps import (
    Access,
    Authorize,
    IfMatch,
    PolicyDep,
    RecordGuard,
    UoW,
    changed_response,
    etag,
    restricted_stub,
)
from ..api.problems import ERROR_RESPONSES, ok, read
from ..api.routing import APIRouter
from ..caseload import service as caseload_service
from ..config import Settings
from ..domain.actors import Principal
from ..domain.record import Referral
from ..usecase.views import Changed, RestrictedStub
from . import service
from .schemas import (
    EXAMPLES,
    ActionRowOut,
    CompleteIn,
    DeskOut,
    MeetingsOut,
    MinutesIn,
    ReferralIn,
    ScheduleIn,
    ScreeningIn,
)

router = APIRouter(tags=["meetings"], responses=ERROR_RESPONSES)
LONDON = ZoneInfo("Europe/London")
BASE = "/v1/nominals/{nominal_id}/meetings"
CHANGED = {"id": "3d2b1f0e-9c8a-4b7d-8e6f-5a4b3c2d1e0f", "version": 8}


def _today() -> dt.date:
    return dt.datetime.now(LONDON).date()


def _work(request: Request) -> Any:
    settings: Settings = request.app.state.store.settings
    return caseload_service.schedule(settings.caseload_schedule_file)


def _body(name: str) -> Any:
    return Body(openapi_examples={name: {"value": EXAMPLES[name]}})


@router.get(
    f"{BASE}/overview",
    summary="A person's MAPPA meetings with the minutes you may see, their actions and the plan's versions",
    responses=read({"nominal_id": CHANGED["id"], "version": 8, "meetings": [], "plans": []}),
)
def read_meetings_overview(
    access: Annotated[Access, Depends(RecordGuard("record.read", "meetings"))], uow: UoW, response: Response
) -> MeetingsOut | RestrictedStub:
    if access.stub:
        return restricted_stub(uow, access)
    found = service.read_meetings(
        uow,
        access.principal,
        access.nominal_id,
        access.visibility,
        purpose=access.purpose,
        request_id=access.request_id,
    )
    response.headers["ETag"] = etag(found.record.version)
    return MeetingsOut.of(found)


@router.post(
    f"{BASE}/referrals",
    status_code=201,
    summary="Refer a person for Level 2 or 3 management",
    responses=ok(CHANGED, 201),
    response_model=Changed,
)
def refer_to_mappa(
    access: Annotated[Access, Depends(RecordGuard("record.write", "meetings"))],
    body: Annotated[ReferralIn, _body("referrals")],
    version: IfMatch,
    uow: UoW,
    response: Response,
) -> Response:
    item_id, new_version = service.refer(
        uow,
        access.principal,
        access.nominal_id,
        Referral.model_validate(body.model_dump()),
        expected_version=version,
        request_id=access.request_id,
    )
    return changed_response(response, new_version, item_id, 201)


@router.post(
    f"{BASE}/{{item_id}}/screening",
    summary="Record the screening decision on a referral",
    responses=ok(CHANGED),
    response_model=Changed,
)
def screen_referral(
    access: Annotated[Access, Depends(RecordGuard("record.write", "meetings"))],
    item_id: uuid.UUID,
    body: Annotated[ScreeningIn, _body("screening")],
    version: IfMatch,
    uow: UoW,
    response: Response,
) -> Response:
    new_version = service.screen(
        uow,
        access.principal,
        access.nominal_id,
        item_id,
        access.visibility,
        accepted=body.accepted,
        decided_on=body.decided_on,
        reason=body.reason,
        expected_version=version,
        request_id=access.request_id,
    )
    return changed_response(response, new_version, item_id)


@router.post(
    f"{BASE}/scheduled",
    status_code=201,
    summary="Schedule a MAPPA meeting (a review, or a referral's)",
    responses=ok(CHANGED, 201),
    response_model=Changed,
)
def schedule_meeting(
    access: Annotated[Access, Depends(RecordGuard("record.write", "meetings"))],
    body: Annotated[ScheduleIn, _body("scheduled")],
    version: IfMatch,
    uow: UoW,
    response: Response,
) -> Response:
    item_id, new_version = service.schedule(
        uow,
        access.principal,
        access.nominal_id,
        service.Schedule(body.held_on, body.level, body.chair, body.chair_user_id, body.agencies_invited),
        access.visibility,
        meeting_id=body.referral_id,
        expected_version=version,
        request_id=access.request_id,
    )
    return changed_response(response, new_version, item_id, 201)


@router.put(
    f"{BASE}/{{item_id}}/minutes",
    summary="Save a meeting's minutes as a draft (again)",
    responses=ok(CHANGED),
    response_model=Changed,
)
def save_minutes(
    access: Annotated[Access, Depends(RecordGuard("record.write", "meeting_minutes"))],
    item_id: uuid.UUID,
    body: Annotated[MinutesIn, _body("minutes")],
    version: IfMatch,
    uow: UoW,
    response: Response,
) -> Response:
    minutes_id, new_version = service.save_minutes(
        uow,
        access.principal,
        access.nominal_id,
        item_id,
        body.minutes(item_id),
        access.visibility,
        restricted=body.restricted,
        expected_version=version,
        request_id=access.request_id,
    )
    return changed_response(response, new_version, minutes_id)


@router.post(
    f"{BASE}/{{item_id}}/minutes/agree",
    summary="Agree the draft minutes and lock them; the record's plan and level follow them",
    responses=ok(CHANGED),
    response_model=Changed,
)
def agree_minutes(
    request: Request,
    access: Annotated[Access, Depends(RecordGuard("record.write", "meeting_minutes"))],
    item_id: uuid.UUID,
    version: IfMatch,
    uow: UoW,
    response: Response,
) -> Response:
    new_version = service.agree_minutes(
        uow,
        access.principal,
        access.nominal_id,
        item_id,
        access.visibility,
        _work(request),
        expected_version=version,
        request_id=access.request_id,
    )
    return changed_response(response, new_version, item_id)


@router.post(
    f"{BASE}/{{item_id}}/minutes/corrections",
    status_code=201,
    summary="Correct agreed minutes: a new draft version",
    responses=ok(CHANGED, 201),
    response_model=Changed,
)
def correct_minutes(
    access: Annotated[Access, Depends(RecordGuard("record.write", "meeting_minutes"))],
    item_id: uuid.UUID,
    version: IfMatch,
    uow: UoW,
    response: Response,
) -> Response:
    minutes_id, new_version = service.correct_minutes(
        uow,
        access.principal,
        access.nominal_id,
        item_id,
        access.visibility,
        expected_version=version,
        request_id=access.request_id,
    )
    return changed_response(response, new_version, minutes_id, 201)


@router.post(
    f"{BASE}/actions/{{item_id}}/complete",
    summary="Complete an action with its evidence",
    responses=ok(CHANGED),
    response_model=Changed,
)
def complete_action(
    access: Annotated[Access, Depends(RecordGuard("record.write", "meeting_actions"))],
    item_id: uuid.UUID,
    body: Annotated[CompleteIn, _body("complete")],
    version: IfMatch,
    uow: UoW,
    response: Response,
) -> Response:
    new_version = service.complete_action(
        uow,
        access.principal,
        access.nominal_id,
        item_id,
        access.visibility,
        evidence=body.evidence,
        completed_on=body.completed_on,
        expected_version=version,
        request_id=access.request_id,
    )
    return changed_response(response, new_version, item_id)


@router.get(
    "/v1/meetings",
    summary="The chair's list: the area's meetings, reviews due and overdue actions",
    responses=ok({"meetings": [], "reviews": [], "overdue_actions": []}),
)
def list_meetings(
    request: Request,
    principal: Annotated[Principal, Depends(Authorize("meeting.list", "meetings"))],
    uow: UoW,
    policy: PolicyDep,
) -> DeskOut:
    return DeskOut.of(
        service.desk(uow, principal, policy.visibility(principal), _work(request), today=_today())
    )


@router.get("/v1/meetings/actions/mine", summary="Your open MAPPA actions, overdue first", responses=ok([]))
def my_meeting_actions(
    principal: Annotated[Principal, Depends(Authorize("record.list", "meeting_actions"))],
    uow: UoW,
    policy: PolicyDep,
) -> list[ActionRowOut]:
    return [
        ActionRowOut.of(r)
        for r in service.my_actions(uow, principal, policy.visibility(principal), today=_today())
    ]
