"""Asking to transfer one of my people to another area (the receiving supervisor decides: part 2). The form
shows the person's name and the areas by name, never an identifier; the request is made by the same use case
as the API's (`transfers.service.start`), which seals the reason, notes it in the chronology and audits it on
both sides."""

from __future__ import annotations

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from ..api.routing import APIRouter
from ..domain.actors import Principal
from ..domain.enums import Area
from ..domain.errors import ConcurrencyConflict, DomainError, NotFound
from ..transfers import service as transfers
from ..transfers.schemas import TransferRequest
from .common import (
    PageGuard,
    SignedIn,
    flash,
    not_found,
    record_access,
    redirect,
    return_to,
    verify_csrf,
    work,
)
from .editing import conflict_page, form_page, nominal_of, read_visible
from .forms import Field, Form, read

router = APIRouter(include_in_schema=False, dependencies=[Depends(verify_csrf)])
SMALL_WORDS = {"and", "of", "the"}
TITLE = "Ask to transfer to another area"
START = PageGuard("transfer.start", "header")


def area_name(area: Area | str) -> str:
    """`avon-and-somerset` -> `Avon and Somerset`."""
    words = str(getattr(area, "value", area)).split("-")
    return " ".join(w if i and w in SMALL_WORDS else w.capitalize() for i, w in enumerate(words))


def _form(principal: Principal) -> Form:
    areas = sorted(
        ((a.value, area_name(a)) for a in Area if a.value != str(principal.area)), key=lambda pair: pair[1]
    )
    return Form(
        [
            Field("to_area", "Which area should take over?", "select", options=areas, required=True),
            Field(
                "reason",
                "Why?",
                "textarea",
                hint="For example: moved to Chelmsford to live with family",
                required=True,
            ),
            Field("handover_notes", "Notes for the receiving area (optional)", "textarea"),
        ]
    )


def _intro(principal: Principal) -> list[str]:
    owner = area_name(str(principal.area))
    return [
        f"The record is owned by {owner}. The supervisor of the area you choose accepts or rejects the "
        "request; until then nothing changes hands."
    ]


@router.get("/records/{nominal_id}/transfer/new", response_class=HTMLResponse, dependencies=[Depends(START)])
def transfer_form(request: Request, nominal_id: str, principal: SignedIn) -> HTMLResponse:
    record_id = nominal_of(nominal_id)
    with work(request) as uow:
        access = record_access(request, uow, principal, "transfer.start", record_id, "header")
        record = read_visible(uow, access, set())
    return form_page(
        request,
        record=record,
        title=TITLE,
        form=_form(principal),
        action=request.url.path,
        submit="Ask to transfer",
        intro=_intro(principal),
    )


@router.post("/records/{nominal_id}/transfer/new", dependencies=[Depends(START)])
async def transfer_submit(request: Request, nominal_id: str, principal: SignedIn) -> Response:
    record_id = nominal_of(nominal_id)
    values = await request.form()
    form = _form(principal).fill(values)
    answers = read(form, values)
    asked: TransferRequest | None = None
    if form.valid:
        try:
            asked = TransferRequest.model_validate(answers)
        except ValidationError as exc:
            form.explain(exc)
    try:
        version = int(str(values.get("version", "")))
    except ValueError:
        version = -1
    conflict = False
    if asked is not None:
        try:
            with work(request) as uow:
                record_access(request, uow, principal, "transfer.start", record_id, "header")
                transfers.start(uow, principal, record_id, asked, expected_version=version)
        except ConcurrencyConflict:
            conflict = True
        except NotFound:
            raise not_found() from None
        except DomainError as exc:
            form.explain(exc)
        else:
            to = area_name(asked.to_area)
            flash(request, f"Transfer to {to} requested. {to}'s supervisor will accept or reject it.")
            return redirect(return_to(request, f"/records/{record_id}"))
    with work(request) as uow:
        access = record_access(request, uow, principal, "transfer.start", record_id, "header")
        record = read_visible(uow, access, None if conflict else set(), chronology=conflict)
    if conflict:
        return conflict_page(
            request, record, title=TITLE, form=form, values=values, since=None, action=request.url.path
        )
    return form_page(
        request,
        record=record,
        title=TITLE,
        form=form,
        action=request.url.path,
        submit="Ask to transfer",
        intro=_intro(principal),
        status=422,
    )
