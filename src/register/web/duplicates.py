"""Suspected duplicates for the supervisor: the pairs the cascade proposes in their area (and why), the two
records side by side, a merge preview (what moves where, what conflicts, which value stays), the merge itself
with a reason, the merges of the area, and unmerge with a reason. A pair that is two people is dismissed with
a reason and never proposed again.

Every page calls the API's use cases (`merges.service`: candidates, preview, merge, dismiss, unmerge,
merge_history, area_merges) after the policy's `record.merge` on the records concerned; both records are read
as the policy lets this user see them (`nominals.read_record`, audited). A record of another area is never
compared here: the list shows it as the candidates use case does (its area only, without a purpose).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, Response

from ..api.deps import request_id
from ..api.routing import APIRouter
from ..domain.actors import Principal
from ..domain.errors import ConcurrencyConflict, DomainError, NotFound
from ..domain.record import Address, Alias, Contact, Identifier, OffenderManager, Record, Section
from ..merges import service as merges
from ..merges.schemas import Dismissal, MergePreview, MergeSummary
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
from .editing import describe, read_visible
from .forms import Field, Form, posted_version, read
from .pages import label, long_date
from .transfer import area_name

router = APIRouter(include_in_schema=False, dependencies=[Depends(verify_csrf)])
Merge = Annotated[Principal, Depends(PageGuard("record.merge"))]
PAGE_SIZE = 20

RULES = {
    "identifier": "The same PNC ID, CRO number or National Insurance number",
    "dob_and_names": "The same date of birth and at least two names that sound alike",
    "dob_and_name": "The same date of birth and a name that sounds alike",
    "contact_and_name": "The same phone number, email or username and a name that sounds alike",
}
FIELDS = {
    "identity.date_of_birth": "Date of birth",
    "identity.gender": "Gender",
    "header.mappa_level": "MAPPA level",
    "header.mappa_category": "MAPPA category",
    "header.nominal_type": "Type of record",
    "header.managing_unit": "Managing unit",
    "header.lead_agency": "Lead agency",
    "addresses.current": "Current address",
    "offender_managers.current": "Current offender manager",
}
COMPARED = {
    Section.ALIASES,
    Section.IDENTIFIERS,
    Section.ADDRESSES,
    Section.CONTACTS,
    Section.OFFENDER_MANAGERS,
}


def _id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise PageProblem(
            404, "Page not found", "There is no such record, or it is not yours to see."
        ) from None


def _field(name: str) -> str:
    if name in FIELDS:
        return FIELDS[name]
    if name.startswith("identifiers."):
        kind = name.split(".", 1)[1].removeprefix("id_")
        return kind.upper() if len(kind) <= 3 else label(kind)
    return label(name.split(".")[-1])


# ------------------------------------------------------------------ the list


@router.get("/duplicates", response_class=HTMLResponse)
def duplicates_page(request: Request, principal: Merge, page: int = 1) -> HTMLResponse:
    page = max(1, min(page, 10_000))
    with work(request) as uow:
        found = merges.candidates(
            uow,
            principal,
            request.app.state.policy,
            page=page,
            limit=PAGE_SIZE,
            request_id=request_id(request),
        )
        done = merges.area_merges(uow, principal, limit=20, request_id=request_id(request))
    pagination = page_links(
        page,
        size=PAGE_SIZE,
        total=found.total,
        shown=len(found.items),
        href=lambda n: f"/duplicates?page={n}",
        noun="pairs",
        label="Pages of suspected duplicates",
    )
    return render(
        request,
        "pages/casework/duplicates.html",
        {
            "title": "Suspected duplicates",
            "found": found,
            "merges": done,
            "rules": RULES,
            "area": principal.area.value,
            "area_name": area_name,
            "pagination": pagination if found.total > PAGE_SIZE else None,
        },
    )


# ------------------------------------------------------------------ comparing two records, the preview


def _merge_form() -> Form:
    return Form(
        [
            Field(
                "reason",
                "Why are they the same person?",
                "textarea",
                hint="For example: the same PNC ID and date of birth; confirmed by fingerprints",
                required=True,
            )
        ]
    )


def _dismiss_form() -> Form:
    return Form(
        [
            Field(
                "dismiss_reason",
                "Why are they two people?",
                "textarea",
                hint="For example: different fathers named on the birth certificates",
                required=True,
                model=("reason",),
            )
        ]
    )


def _side(record: Record) -> dict[str, Any]:
    """What the comparison shows of one record: the identity and the current items of the compared sections,
    as lines (only what the policy let this user read was loaded)."""

    def current(section: Section) -> list[str]:
        out = []
        for item in record.items(section):
            if item.ended_at is not None:
                continue
            data = item.data
            if isinstance(data, Alias):
                out.append(" ".join(x for x in (data.forenames, data.surname) if x))
            elif isinstance(data, Identifier):
                kind = str(data.kind.value).removeprefix("id_")
                out.append(f"{kind.upper() if len(kind) <= 3 else label(kind)}: {data.value}")
            elif isinstance(data, OffenderManager):
                if data.date_to is None:
                    out.append(data.name + (f" ({data.unit})" if data.unit else ""))
            elif isinstance(data, Address | Contact):
                out.append(describe(data))
        return out

    i, h = record.identity, record.header
    return {
        "id": str(record.id),
        "version": record.version,
        "name": f"{i.surname.upper()}, {i.forenames}",
        "rows": [
            ("Name", [f"{i.forenames} {i.surname}"]),
            ("Date of birth", [long_date(i.date_of_birth) if i.date_of_birth else "Not known"]),
            ("Gender", [label(i.gender) if i.gender else "Not known"]),
            ("Status", [label(record.status)]),
            ("Managing unit", [h.managing_unit]),
            (
                "MAPPA",
                [f"Category {h.mappa_category}, level {h.mappa_level}" if h.mappa_category else "Not MAPPA"],
            ),
            ("Other names", current(Section.ALIASES)),
            ("Identifiers", current(Section.IDENTIFIERS)),
            ("Current addresses", current(Section.ADDRESSES)),
            ("Contact details", current(Section.CONTACTS)),
            ("Offender manager", current(Section.OFFENDER_MANAGERS)),
        ],
    }


def _compare_page(
    request: Request,
    principal: Principal,
    survivor_id: uuid.UUID,
    merged_id: uuid.UUID,
    *,
    merge_form: Form | None = None,
    dismiss_form: Form | None = None,
    problems: list[dict[str, str]] | None = None,
    status: int = 200,
) -> HTMLResponse:
    preview: MergePreview | None = None
    refused: str | None = None
    with work(request) as uow:
        s_access = record_access(request, uow, principal, "record.merge", survivor_id, "header")
        m_access = record_access(request, uow, principal, "record.merge", merged_id, "header")
        survivor = read_visible(uow, s_access, COMPARED)
        merged = read_visible(uow, m_access, COMPARED)
    try:
        with work(request) as uow:
            preview = merges.preview(
                uow,
                principal,
                survivor_id,
                merged_id,
                audience=s_access.audience,
                request_id=request_id(request),
            )
    except DomainError as exc:
        refused = str(exc.args[-1] if exc.args else exc)
    merge_form, dismiss_form = merge_form or _merge_form(), dismiss_form or _dismiss_form()
    errors = [*(problems or []), *merge_form.errors, *dismiss_form.errors]
    left, right = _side(survivor), _side(merged)
    return render(
        request,
        "pages/casework/compare.html",
        {
            "title": ("Error: " if errors else "") + f"Compare {left['name']} and {right['name']}",
            "survivor": left,
            "merged": right,
            "rows": [(a[0], a[1], b[1]) for a, b in zip(left["rows"], right["rows"], strict=True)],
            "preview": preview,
            "refused": refused,
            "conflicts": [(_field(c.field), c.survivor, c.merged) for c in preview.conflicts]
            if preview
            else [],
            "aliases": [
                " ".join(x for x in (a.get("forenames"), a.get("surname")) if x)
                for a in (preview.aliases_added if preview else [])
            ],
            "errors": errors,
            "merge_form": merge_form,
            "dismiss_form": dismiss_form,
            "breadcrumbs": [{"text": "Suspected duplicates", "href": "/duplicates"}],
        },
        status_code=status,
    )


@router.get("/duplicates/{survivor_id}/{merged_id}", response_class=HTMLResponse)
def compare_page(request: Request, survivor_id: str, merged_id: str, principal: Merge) -> HTMLResponse:
    return _compare_page(request, principal, _id(survivor_id), _id(merged_id))


@router.post("/duplicates/{survivor_id}/{merged_id}/merge")
async def merge(request: Request, survivor_id: str, merged_id: str, principal: Merge) -> Response:
    s_id, m_id = _id(survivor_id), _id(merged_id)
    values = await request.form()
    form = _merge_form().fill(values)
    answers = read(form, values)
    problems: list[dict[str, str]] = []
    if form.valid:
        try:
            with work(request) as uow:
                access = record_access(request, uow, principal, "record.merge", s_id, "header")
                record_access(request, uow, principal, "record.merge", m_id, "header")
                done = merges.merge(
                    uow,
                    principal,
                    s_id,
                    m_id,
                    expected_version=posted_version(values, "survivor_version"),
                    merged_version=posted_version(values, "merged_version"),
                    audience=access.audience,
                    request_id=request_id(request),
                    reason=answers["reason"],
                )
        except ConcurrencyConflict:
            problems.append(
                {
                    "text": "Someone changed one of the records since this preview: check the preview again "
                    "and merge",
                    "href": "#reason",
                }
            )
        except NotFound:
            raise PageProblem(404, "Page not found", "There is no such record.") from None
        except DomainError as exc:
            form.explain(exc)
        else:
            flash(
                request,
                f"Records merged: {done.items_moved} items and {done.entries_moved} chronology entries moved "
                "to this record. The other record now points here.",
            )
            return redirect(f"/records/{s_id}")
    return _compare_page(request, principal, s_id, m_id, merge_form=form, problems=problems, status=422)


@router.post("/duplicates/{survivor_id}/{merged_id}/dismiss")
async def dismiss(request: Request, survivor_id: str, merged_id: str, principal: Merge) -> Response:
    s_id, m_id = _id(survivor_id), _id(merged_id)
    values = await request.form()
    form = _dismiss_form().fill(values)
    answers = read(form, values)
    if form.valid:
        try:
            with work(request) as uow:
                record_access(request, uow, principal, "record.merge", s_id, "header")
                record_access(request, uow, principal, "record.merge", m_id, "header")
                merges.dismiss(
                    uow,
                    principal,
                    Dismissal(first_id=s_id, second_id=m_id, reason=answers["dismiss_reason"]),
                    request_id=request_id(request),
                )
        except DomainError as exc:
            form.explain(exc)
        else:
            flash(request, "Marked as two people: the pair will not be proposed again.")
            return redirect("/duplicates")
    return _compare_page(request, principal, s_id, m_id, dismiss_form=form, status=422)


# ------------------------------------------------------------------ a merge, and undoing it


def _unmerge_form() -> Form:
    return Form(
        [
            Field(
                "reason",
                "Why are they two people after all?",
                "textarea",
                hint="For example: fingerprints show two people",
                required=True,
            )
        ]
    )


def _merge_page(
    request: Request,
    principal: Principal,
    survivor_id: uuid.UUID,
    merge_id: uuid.UUID,
    *,
    form: Form | None = None,
    problems: list[dict[str, str]] | None = None,
    status: int = 200,
) -> HTMLResponse:
    with work(request) as uow:
        access = record_access(request, uow, principal, "record.merge", survivor_id, "header")
        record = read_visible(uow, access, set())
        history = merges.merge_history(
            uow, principal, survivor_id, purpose=access.purpose, request_id=request_id(request)
        )
    chosen: MergeSummary | None = next((h for h in history if h.id == merge_id), None)
    if chosen is None or chosen.survivor_id != survivor_id:
        raise PageProblem(404, "Page not found", "There is no such merge of this record.")
    form = form or _unmerge_form()
    errors = [*(problems or []), *form.errors]
    return render(
        request,
        "pages/casework/merge.html",
        {
            "title": ("Error: " if errors else "") + f"Merge into {chosen.survivor_name}",
            "merge": chosen,
            "history": history,
            "record_version": record.version,
            "form": form,
            "errors": errors,
            "rules": RULES,
            "breadcrumbs": [{"text": "Suspected duplicates", "href": "/duplicates"}],
        },
        status_code=status,
    )


@router.get("/duplicates/merges/{survivor_id}/{merge_id}", response_class=HTMLResponse)
def merge_page(request: Request, survivor_id: str, merge_id: str, principal: Merge) -> HTMLResponse:
    return _merge_page(request, principal, _id(survivor_id), _id(merge_id))


@router.post("/duplicates/merges/{survivor_id}/{merge_id}/unmerge")
async def unmerge(request: Request, survivor_id: str, merge_id: str, principal: Merge) -> Response:
    s_id, which = _id(survivor_id), _id(merge_id)
    values = await request.form()
    form = _unmerge_form().fill(values)
    answers = read(form, values)
    problems: list[dict[str, str]] = []
    if form.valid:
        try:
            with work(request) as uow:
                access = record_access(request, uow, principal, "record.merge", s_id, "header")
                done = merges.unmerge(
                    uow,
                    principal,
                    s_id,
                    which,
                    answers["reason"],
                    expected_version=posted_version(values, "version"),
                    audience=access.audience,
                    request_id=request_id(request),
                )
        except ConcurrencyConflict:
            problems.append(
                {"text": "Someone changed the record since this page was shown: try again", "href": "#reason"}
            )
        except NotFound:
            raise PageProblem(404, "Page not found", "There is no such merge of this record.") from None
        except DomainError as exc:
            form.explain(exc)
        else:
            since = len(done.added_since)
            flash(
                request,
                f"Merge undone: {done.items_returned} items and {done.entries_returned} chronology entries "
                "went back to the other record."
                + (
                    f" {since} things written here since the merge stay on this record: check them."
                    if since
                    else ""
                ),
            )
            return redirect(f"/duplicates/merges/{s_id}/{which}")
    return _merge_page(request, principal, s_id, which, form=form, problems=problems, status=422)
