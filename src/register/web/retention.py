"""Archive and retention for the supervisor: their area's records due for a retention review, due for
disposal, under a legal hold, or archived (counts of each, one page of the view chosen), and one record's
retention page: its schedule, a legal hold set or released with a reason, a retention review recorded, and
archive or restore with a reason.

Pages call the API's use cases (`retention.service`: desk, read_status, set_hold, review;
`archive.service`: archive, unarchive) after the policy's `record.retention` (or `record.archive`) on the
record. Every change carries the record's version: a stale one changes nothing and says so.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from ..api.deps import request_id
from ..api.routing import APIRouter
from ..archive import service as archive
from ..archive.schemas import ArchiveRequest, Unarchive
from ..domain.actors import Principal
from ..domain.enums import ArchiveReason
from ..domain.errors import ConcurrencyConflict, DomainError, NotFound
from ..retention import service as retention
from ..retention.schemas import RetentionView
from ..store.uow import UnitOfWork
from .caseload import today_in_london
from .common import (
    PageGuard,
    PageProblem,
    flash,
    page_links,
    record_access,
    redirect,
    render,
    verify_csrf,
    work,
)
from .editing import person_name, read_visible
from .forms import Field, Form, choices, posted_version, read

router = APIRouter(include_in_schema=False, dependencies=[Depends(verify_csrf)])
Retention = Annotated[Principal, Depends(PageGuard("record.retention"))]
Archive = Annotated[Principal, Depends(PageGuard("record.archive"))]
PAGE_SIZE = 20
VIEWS: dict[str, str] = {
    "review": "Due for review",
    "disposal": "Due for disposal",
    "holds": "Legal holds",
    "archived": "All archived",
}
REASONS = {
    "died": "Died",
    "eligibility_ended": "Notification and MAPPA eligibility ended",
    "left_jurisdiction": "Left the jurisdiction",
    "other": "Another reason",
}


def _id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise PageProblem(
            404, "Page not found", "There is no such record, or it is not yours to see."
        ) from None


# ------------------------------------------------------------------ the desk


@router.get("/retention", response_class=HTMLResponse)
def retention_page(
    request: Request, principal: Retention, view: str = "review", page: int = 1
) -> HTMLResponse:
    chosen: RetentionView = view if view in VIEWS else "review"  # type: ignore[assignment]  # checked
    page = max(1, min(page, 10_000))
    with work(request) as uow:
        desk = retention.desk(
            uow,
            principal,
            chosen,
            today=today_in_london(),
            page=page,
            page_size=PAGE_SIZE,
            request_id=request_id(request),
        )
    base = f"/retention?view={chosen}"
    pagination = page_links(
        page,
        size=PAGE_SIZE,
        total=desk.total,
        shown=len(desk.rows),
        href=lambda n: f"{base}&page={n}",
        noun="records",
        label="Pages of records",
    )
    return render(
        request,
        "pages/casework/retention.html",
        {
            "title": f"Archive and retention: {VIEWS[chosen].lower()}",
            "desk": desk,
            "views": VIEWS,
            "reasons": REASONS,
            "subnav": [
                {
                    "text": f"{text} ({desk.counts[key]})",
                    "href": f"/retention?view={key}",
                    "active": key == chosen,
                    "attributes": {"data-qa": f"view-{key}"},
                }
                for key, text in VIEWS.items()
            ],
            "pagination": pagination if desk.total > PAGE_SIZE else None,
        },
    )


# ------------------------------------------------------------------ one record


def _reason(name: str, question: str, hint: str) -> Field:
    return Field(name, question, "textarea", hint=hint, required=True, model=("reason",))


def _forms() -> dict[str, Form]:
    return {
        "hold": Form(
            [
                _reason(
                    "hold_reason",
                    "Why must it be kept?",
                    "For example: Operation NIGHTJAR, disclosure pending",
                )
            ]
        ),
        "release": Form(
            [_reason("release_reason", "Why can the hold be released?", "For example: proceedings concluded")]
        ),
        "review": Form(
            [
                _reason(
                    "review_reason",
                    "Why is the record still kept?",
                    "For example: still of policing purpose, linked to a current enquiry",
                )
            ]
        ),
        "archive": Form(
            [
                Field(
                    "archive_reason",
                    "Why is the record being archived?",
                    "radios",
                    options=choices(ArchiveReason, REASONS),
                    required=True,
                    model=("reason",),
                ),
                Field(
                    "archive_text",
                    "Details",
                    "textarea",
                    hint="Needed for another reason; for example: deported to Romania on 3 March 2025",
                    model=("text",),
                ),
            ]
        ),
        "unarchive": Form(
            [
                _reason(
                    "unarchive_reason", "Why is it coming back?", "For example: returned to live in the area"
                )
            ]
        ),
    }


def _record_page(
    request: Request,
    principal: Principal,
    nominal_id: uuid.UUID,
    *,
    forms: dict[str, Form] | None = None,
    problems: list[dict[str, str]] | None = None,
    status: int = 200,
) -> HTMLResponse:
    policy = request.app.state.policy
    with work(request) as uow:
        access = record_access(request, uow, principal, "record.retention", nominal_id, "header")
        record = read_visible(uow, access, set())
        schedule = retention.read_status(
            uow, principal, nominal_id, purpose=access.purpose, request_id=request_id(request)
        )
    shown = _forms()
    shown.update(forms or {})
    errors = [*(problems or []), *(e for f in shown.values() for e in f.errors)]
    can_archive = policy.decide(principal, "record.archive", record=access.facts).allowed
    return render(
        request,
        "pages/casework/retention-record.html",
        {
            "title": ("Error: " if errors else "") + f"Archive and retention – {person_name(record)}",
            "person": person_name(record),
            "record": record,
            "schedule": schedule,
            "reasons": REASONS,
            "forms": shown,
            "errors": errors,
            "record_version": record.version,
            "can_archive": can_archive,
            "today": today_in_london(),
            "breadcrumbs": [
                {"text": "Archive and retention", "href": "/retention"},
                {"text": person_name(record), "href": f"/records/{record.id}"},
            ],
        },
        status_code=status,
    )


@router.get("/retention/records/{nominal_id}", response_class=HTMLResponse)
def record_page(request: Request, nominal_id: str, principal: Retention) -> HTMLResponse:
    return _record_page(request, principal, _id(nominal_id))


Change = Callable[[UnitOfWork, dict[str, Any], int], object]


async def _change(
    request: Request,
    principal: Principal,
    nominal_id: str,
    kind: str,
    action: str,
    make: Change,
    done: str,
) -> Response:
    """Read the form `kind`, then (if it is complete) make the change after the policy's `action` on the
    record; errors beside their fields, a stale version in the summary, nothing written."""
    record_id = _id(nominal_id)
    values = await request.form()
    form = _forms()[kind].fill(values)
    answers = read(form, values)
    problems: list[dict[str, str]] = []
    if form.valid:
        try:
            with work(request) as uow:
                record_access(request, uow, principal, action, record_id, "header")
                make(uow, answers, posted_version(values))
        except ConcurrencyConflict:
            problems.append(
                {
                    "text": "Someone changed this record since the page was shown: nothing was changed. "
                    "Check it and try again",
                    "href": f"#{form.fields[0].name}",
                }
            )
        except NotFound:
            raise PageProblem(404, "Page not found", "There is no such record.") from None
        except (ValidationError, DomainError) as exc:
            form.explain(exc)
        else:
            flash(request, done)
            return redirect(f"/retention/records/{record_id}")
    return _record_page(request, principal, record_id, forms={kind: form}, problems=problems, status=422)


@router.post("/retention/records/{nominal_id}/hold")
async def hold(request: Request, nominal_id: str, principal: Retention) -> Response:
    def make(uow: UnitOfWork, a: dict[str, Any], version: int) -> object:
        return retention.set_hold(
            uow, principal, _id(nominal_id), a["hold_reason"], hold=True, expected_version=version
        )

    return await _change(
        request,
        principal,
        nominal_id,
        "hold",
        "record.retention",
        make,
        "Legal hold set: the record will not be disposed of while it stands.",
    )


@router.post("/retention/records/{nominal_id}/release")
async def release(request: Request, nominal_id: str, principal: Retention) -> Response:
    def make(uow: UnitOfWork, a: dict[str, Any], version: int) -> object:
        return retention.set_hold(
            uow, principal, _id(nominal_id), a["release_reason"], hold=False, expected_version=version
        )

    return await _change(
        request, principal, nominal_id, "release", "record.retention", make, "Legal hold released."
    )


@router.post("/retention/records/{nominal_id}/review")
async def review(request: Request, nominal_id: str, principal: Retention) -> Response:
    def make(uow: UnitOfWork, a: dict[str, Any], version: int) -> object:
        return retention.review(
            uow,
            principal,
            _id(nominal_id),
            a["review_reason"],
            expected_version=version,
            today=today_in_london(),
        )

    return await _change(
        request,
        principal,
        nominal_id,
        "review",
        "record.retention",
        make,
        "Retention review recorded: the record is kept and its next review is set.",
    )


@router.post("/retention/records/{nominal_id}/archive")
async def archive_record(request: Request, nominal_id: str, principal: Archive) -> Response:
    def make(uow: UnitOfWork, a: dict[str, Any], version: int) -> object:
        asked = ArchiveRequest(reason=a["archive_reason"], text=a["archive_text"])
        return archive.archive(uow, principal, _id(nominal_id), asked, expected_version=version)

    return await _change(
        request,
        principal,
        nominal_id,
        "archive",
        "record.archive",
        make,
        "Record archived: it is read-only and out of caseloads and default searches.",
    )


@router.post("/retention/records/{nominal_id}/unarchive")
async def unarchive_record(request: Request, nominal_id: str, principal: Archive) -> Response:
    def make(uow: UnitOfWork, a: dict[str, Any], version: int) -> object:
        asked = Unarchive(reason=a["unarchive_reason"])
        return archive.unarchive(uow, principal, _id(nominal_id), asked, expected_version=version)

    return await _change(
        request,
        principal,
        nominal_id,
        "unarchive",
        "record.archive",
        make,
        "Record restored: it is active again.",
    )
