"""My caseload: the offender manager's home page. The people they manage, what is due on each (overdue first),
counts at the top, sorted on the server (MoJ sortable table headers are links), filtered with a GET form (MoJ
filter layout), paged ("Showing x to y of z"). Listing is audited as a consultation, exactly as the API's list
is."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import parse_qs, urlencode
from zoneinfo import ZoneInfo

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse

from ..api.deps import request_id
from ..api.routing import APIRouter
from ..caseload import service as caseload_service
from ..caseload.schemas import DUE_FILTERS, CaseloadPage, CaseloadQuery
from ..domain.actors import Principal
from ..meetings import service as meetings_service
from ..photos import service as photo_service
from .common import PageGuard, page_links, render, verify_csrf, work
from .pages import label, long_date

router = APIRouter(include_in_schema=False, dependencies=[Depends(verify_csrf)])

LONDON = ZoneInfo("Europe/London")
COLUMNS = [("name", "Name"), ("date_of_birth", "Date of birth"), ("level", "MAPPA"), ("due", "Next due")]
CATEGORY_LABELS = {1: "Category 1", 2: "Category 2", 3: "Category 3", 4: "Category 4"}


def today_in_london() -> dt.date:
    return dt.datetime.now(LONDON).date()


def _href(query: CaseloadQuery, **changes: object) -> str:
    pairs = query.params(**changes)
    return "/caseload" + (f"?{urlencode(pairs)}" if pairs else "")


def _view(page: CaseloadPage) -> dict[str, Any]:
    q = page.query
    headers = []
    for key, text in COLUMNS:
        sort: str
        if q.sort == key:
            sort = q.order
            href = _href(q, order="descending" if q.order == "ascending" else "ascending", page=1)
        else:
            sort = "none"
            href = _href(q, sort=key, order="ascending", page=1)
        headers.append({"text": text, "href": href, "sort": sort, "attributes": {"data-qa": f"sort-{key}"}})
    categories = []
    if q.levels:
        categories.append(
            {
                "heading": {"text": "MAPPA level"},
                "items": [
                    {"text": f"Level {v}", "href": _href(q, levels=q.levels - {v}, page=1)}
                    for v in sorted(q.levels)
                ],
            }
        )
    if q.categories:
        categories.append(
            {
                "heading": {"text": "MAPPA category"},
                "items": [
                    {"text": CATEGORY_LABELS[v], "href": _href(q, categories=q.categories - {v}, page=1)}
                    for v in sorted(q.categories)
                ],
            }
        )
    if q.due:
        categories.append(
            {
                "heading": {"text": "Due"},
                "items": [{"text": DUE_FILTERS[q.due], "href": _href(q, due=None, page=1)}],
            }
        )
    selected = (
        {
            "heading": {"text": "Selected filters"},
            "clearLink": {
                "text": "Clear filters",
                "href": _href(q, levels=frozenset(), categories=frozenset(), due=None, page=1),
            },
            "categories": categories,
        }
        if categories
        else None
    )
    pagination = page_links(
        q.page,
        size=q.page_size,
        total=page.total,
        shown=len(page.rows),
        href=lambda n: _href(q, page=n),
        noun="people",
        label="Caseload pages",
    )
    return {
        "headers": headers,
        "selected": selected,
        "pagination": pagination,
        "hidden": [(k, v) for k, v in q.params() if k in ("sort", "order")],
        "due_filters": DUE_FILTERS,
        "category_labels": CATEGORY_LABELS,
    }


@router.get("/caseload", response_class=HTMLResponse)
def caseload_page(
    request: Request, principal: Annotated[Principal, Depends(PageGuard("record.list"))]
) -> HTMLResponse:
    query = CaseloadQuery.from_params(parse_qs(request.url.query))
    settings = request.app.state.store.settings
    with work(request) as uow:
        page = caseload_service.caseload(
            uow,
            principal,
            query,
            today=today_in_london(),
            schedule=caseload_service.schedule(settings.caseload_schedule_file),
            request_id=request_id(request),
        )
        # Which people have a photograph, in one query for the page (ids only); each thumbnail the browser
        # then fetches is a view, audited by the photograph's page (web/photographs.py).
        policy = request.app.state.policy
        photographs = (
            photo_service.current_photo_ids(
                uow, [row.id for row in page.rows], audience=policy.visibility(principal).audience
            )
            if policy.section_allows(principal, "photographs", "read")
            else {}
        )
        # The MAPPA actions this user owns (issue #22): a fixed number of statements, audited by the use case.
        actions = meetings_service.my_actions(
            uow,
            principal,
            policy.visibility(principal),
            today=today_in_london(),
            request_id=request_id(request),
        )
    return render(
        request,
        "pages/caseload.html",
        {
            "title": "My caseload" + (f" (page {page.query.page} of {page.pages})" if page.pages > 1 else ""),
            "page": page,
            "photographs": photographs,
            "actions": [
                {
                    "name": r.name,
                    "href": f"/records/{r.nominal_id}/meetings",
                    "complete_href": f"/records/{r.nominal_id}/meetings/actions/{r.action_id}/complete",
                    "description": r.action.description,
                    "agency": label(r.action.owner_agency),
                    "due": long_date(r.action.due_on),
                    "overdue": r.overdue,
                }
                for r in actions
            ],
            **_view(page),
        },
    )
