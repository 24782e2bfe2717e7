"""The supervisor's transfers: the requests coming to and going from their area (names, areas, reasons,
how long each has waited), one transfer's page (the record's summary and every transfer of it this area took
part in), and the decisions: accept (the record moves to this area, with its managing unit and offender
manager) or reject with a reason, and cancel one this area asked for.

Pages call the same use cases as the API (`transfers.service`): `desk` and `view` read (audited, another
area's record under the transfer as its purpose, a restricted one only as its stub), `accept`, `reject` and
`cancel` decide. The policy judges a decision against the receiving area and a cancellation against the
sending area, as the API's TransferGuard does.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from ..access.policy import Policy, RecordFacts
from ..api.deps import request_id
from ..api.routing import APIRouter
from ..domain.actors import Principal
from ..domain.enums import Area
from ..domain.errors import DomainError, NotFound
from ..domain.record import OffenderManager
from ..transfers import service as transfers
from ..transfers.schemas import Acceptance, Rejection, TransferView
from ..usecase import guard
from ..usecase.guard import Refused
from .caseload import today_in_london
from .common import PageGuard, PageProblem, flash, redirect, render, verify_csrf, work
from .forms import Field, Form, read
from .transfer import area_name

router = APIRouter(include_in_schema=False, dependencies=[Depends(verify_csrf)])

List = Annotated[Principal, Depends(PageGuard("transfer.list"))]
Decide = Annotated[Principal, Depends(PageGuard("transfer.decide"))]
Start = Annotated[Principal, Depends(PageGuard("transfer.start"))]
STATUS_COLOURS = {
    "pending": "moj-badge--purple",
    "accepted": "moj-badge--green",
    "rejected": "moj-badge--red",
    "cancelled": "moj-badge--grey",
}


def _not_found() -> PageProblem:
    return PageProblem(404, "Page not found", "There is no such transfer, or it is not yours to see.")


def _transfer_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise _not_found() from None


def _may(policy: Policy, principal: Principal, action: str, area: str) -> bool:
    return policy.decide(principal, action, record=RecordFacts(area=Area(area), restricted=False)).allowed


def _authorize(
    request: Request, principal: Principal, action: str, transfer_id: uuid.UUID, side: str
) -> None:
    """The policy's answer for a decision (against the receiving area) or a cancellation (the sending area);
    a refusal audited and answered with the refusal page, a transfer that does not exist with not found."""
    try:
        with work(request) as uow:
            row = transfers.get(uow, transfer_id)
            area = row.to_area if side == "to" else row.from_area
            guard.authorize(
                uow,
                request.app.state.policy,
                principal,
                action,
                record=RecordFacts(area=Area(area), restricted=False),
                request_id=request_id(request),
            )
    except Refused as refused:
        raise PageProblem(refused.status, "You cannot do this", refused.reason, rule=refused.rule) from None
    except NotFound:
        raise _not_found() from None


# ------------------------------------------------------------------ the lists


@router.get("/transfers", response_class=HTMLResponse)
def transfers_page(request: Request, principal: List, show: str = "waiting") -> HTMLResponse:
    decided = show == "decided"
    policy: Policy = request.app.state.policy
    with work(request) as uow:
        incoming = transfers.desk(
            uow, principal, policy, "incoming", decided=decided, request_id=request_id(request)
        )
        outgoing = transfers.desk(
            uow, principal, policy, "outgoing", decided=decided, request_id=request_id(request)
        )
    return render(
        request,
        "pages/casework/transfers.html",
        {
            "title": "Transfers" + (": decided" if decided else ""),
            "decided": decided,
            "incoming": incoming,
            "outgoing": outgoing,
            "area": area_name(principal.area),
            "area_name": area_name,
            "colours": STATUS_COLOURS,
            "subnav": [
                {"text": "Waiting for a decision", "href": "/transfers", "active": not decided},
                {"text": "Decided", "href": "/transfers?show=decided", "active": decided},
            ],
        },
    )


# ------------------------------------------------------------------ one transfer


def _accept_form() -> Form:
    return Form(
        [
            Field(
                "managing_unit",
                "Managing unit",
                hint="The unit in your area that will manage them, for example Maidstone MOSOVO",
                required=True,
            ),
            Field(
                "manager_name",
                "Offender manager",
                hint="Who will manage them from today, for example DC Sarah Okafor",
                required=True,
                model=("offender_managers", "name"),
            ),
            Field("accept_note", "Note on the decision (optional)", "textarea", model=("reason",)),
        ]
    )


def _reject_form() -> Form:
    return Form(
        [
            Field(
                "reject_reason",
                "Why are you rejecting it?",
                "textarea",
                hint="For example: no local connection confirmed; the address is not approved",
                required=True,
                model=("reason",),
            )
        ]
    )


def _transfer_page(
    request: Request,
    principal: Principal,
    transfer_id: uuid.UUID,
    *,
    accept: Form | None = None,
    reject: Form | None = None,
    problems: list[dict[str, str]] | None = None,
    status: int = 200,
) -> HTMLResponse:
    policy: Policy = request.app.state.policy
    try:
        with work(request) as uow:
            shown: TransferView = transfers.view(
                uow, principal, policy, transfer_id, request_id=request_id(request)
            )
    except NotFound:
        raise _not_found() from None
    t = shown.transfer
    pending = t.status == "pending"
    incoming = t.to_area == principal.area.value
    accept, reject = accept or _accept_form(), reject or _reject_form()
    errors = [*accept.errors, *reject.errors, *(problems or [])]
    person = (
        "Restricted record" if t.person.stub else f"{(t.person.surname or '').upper()}, {t.person.forenames}"
    )
    return render(
        request,
        "pages/casework/transfer.html",
        {
            "title": ("Error: " if errors else "") + f"Transfer from {area_name(t.from_area)} – {person}",
            "t": t,
            "history": shown.history,
            "person": person,
            "errors": errors,
            "accept": accept,
            "reject": reject,
            "can_decide": pending and incoming and _may(policy, principal, "transfer.decide", t.to_area),
            "can_cancel": pending and not incoming and _may(policy, principal, "transfer.start", t.from_area),
            "record_visible": _may(policy, principal, "record.read", t.person.area) and not t.person.stub,
            "area_name": area_name,
            "colours": STATUS_COLOURS,
            "breadcrumbs": [{"text": "Transfers", "href": "/transfers"}],
        },
        status_code=status,
    )


@router.get("/transfers/{transfer_id}", response_class=HTMLResponse)
def transfer_page(request: Request, transfer_id: str, principal: List) -> HTMLResponse:
    return _transfer_page(request, principal, _transfer_id(transfer_id))


def _decided(request: Request, message: str, to: str) -> Response:
    flash(request, message)
    return redirect(to)


@router.post("/transfers/{transfer_id}/accept")
async def accept(request: Request, transfer_id: str, principal: Decide) -> Response:
    which = _transfer_id(transfer_id)
    _authorize(request, principal, "transfer.decide", which, "to")
    values = await request.form()
    form = _accept_form().fill(values)
    answers = read(form, values)
    acceptance: Acceptance | None = None
    if form.valid:
        try:
            manager = OffenderManager(
                agency=principal.agency,
                name=answers["manager_name"],
                unit=answers["managing_unit"],
                date_from=today_in_london(),
            )
            acceptance = Acceptance(
                managing_unit=answers["managing_unit"],
                offender_managers=[manager],
                reason=answers["accept_note"],
            )
        except (ValidationError, DomainError) as exc:
            form.explain(exc)
    if acceptance is not None:
        try:
            with work(request) as uow:
                row = transfers.get(uow, which)
                nominal_id = row.nominal_id
                transfers.accept(uow, principal, which, acceptance)
        except NotFound:
            raise _not_found() from None
        except DomainError as exc:
            form.explain(exc)
        else:
            return _decided(
                request,
                f"Transfer accepted. The record is now owned by {area_name(principal.area)} and managed by "
                f"{acceptance.managing_unit}.",
                f"/records/{nominal_id}",
            )
    return _transfer_page(request, principal, which, accept=form, status=422)


@router.post("/transfers/{transfer_id}/reject")
async def reject(request: Request, transfer_id: str, principal: Decide) -> Response:
    which = _transfer_id(transfer_id)
    _authorize(request, principal, "transfer.decide", which, "to")
    values = await request.form()
    form = _reject_form().fill(values)
    answers = read(form, values)
    if form.valid:
        try:
            rejection = Rejection(reason=answers["reject_reason"])
            with work(request) as uow:
                transfers.reject(uow, principal, which, rejection)
        except NotFound:
            raise _not_found() from None
        except (ValidationError, DomainError) as exc:
            form.explain(exc)
        else:
            return _decided(
                request, "Transfer rejected. The sending area keeps the record.", f"/transfers/{which}"
            )
    return _transfer_page(request, principal, which, reject=form, status=422)


@router.post("/transfers/{transfer_id}/cancel")
async def cancel(request: Request, transfer_id: str, principal: Start) -> Response:
    which = _transfer_id(transfer_id)
    _authorize(request, principal, "transfer.start", which, "from")
    try:
        with work(request) as uow:
            transfers.cancel(uow, principal, which)
    except NotFound:
        raise _not_found() from None
    except DomainError as exc:
        problem = Form([Field("cancel", "Cancel")]).explain(exc)
        return _transfer_page(request, principal, which, problems=problem.errors, status=422)
    return _decided(request, "Transfer cancelled. Your area keeps the record.", f"/transfers/{which}")
