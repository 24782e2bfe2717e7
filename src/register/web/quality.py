"""The supervisor's data-quality desk: the dashboard (every rule, its count, what it checks, the trend over
the last runs as a chart with its table), "Run the checks now", and the worklist of findings (filtered by
rule, unit and offender manager with a GET form of non-personal values, paged, exported as CSV), each finding
linked to the page that fixes it.

The pages call the quality capability's use cases (src/register/quality/service.py), exactly as the API does;
counts and findings are those the user's agency may see (a rule over items with an audience is evaluated per
agency), so police-only intelligence never shows or counts for probation.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ..access.policy import Policy
from ..api.deps import request_id
from ..api.routing import APIRouter
from ..domain.actors import Principal
from ..exports import to_csv
from ..quality import service as quality
from . import charts
from .caseload import LONDON, today_in_london
from .common import PageGuard, flash, page_links, redirect, render, verify_csrf, work
from .workload import router as workload_router

router = APIRouter(include_in_schema=False, dependencies=[Depends(verify_csrf)])
router.include_router(workload_router)  # /workload: one router for the supervisor's desk (api/app.py)

SEVERITY_BADGES = {"high": "moj-badge--red", "medium": "moj-badge--orange", "low": "moj-badge--grey"}
WHO = {"offender_manager": "Offender manager", "supervisor": "Supervisor"}
# Where a finding is put right: an editing form when the web has one for it (web/editing.py), else the
# record's page that shows what the rule looks at (web/record.py). (path under /records/{id}, link text)
FIXES: dict[str, tuple[str, str]] = {
    "MISSING-PHOTO": ("/photographs/new", "Add a photograph"),
    "MISSING-ADDRESS": ("/addresses/new", "Add an address"),
    "MISSING-DOB": ("/personal-details", "Check personal details"),
    "MISSING-PNC-CAT1": ("/personal-details", "Check identifiers"),
    "MISSING-CATEGORY-LEVEL": ("/risk", "Check MAPPA levels"),
    "MISSING-OFFENDER-MANAGER": ("/plan", "Check offender managers"),
    "RA-OVERDUE": ("/risk_assessments/new", "Add a risk assessment"),
    "L1-NO-ANNUAL-REVIEW": ("/risk", "Check MAPPA meetings"),
    "L23-NO-PLAN": ("/plan/edit", "Update the risk management plan"),
    "VISIT-OVERDUE": ("/visits/new", "Record a home visit"),
    "NOTIFICATION-OVERDUE": ("/chronology/new", "Add a chronology entry"),
    "NOTIFICATION-ENDED-ACTIVE": ("/offences-and-orders", "Check offences and orders"),
    "INDEFINITE-REVIEW-DUE": ("/offences-and-orders", "Check offences and orders"),
    "LICENCE-ENDED-CAT2": ("/offences-and-orders", "Check offences and orders"),
    "ADDRESS-UNVERIFIED": ("/visits/new", "Record a home visit"),
    "RECORD-STALE": ("", "Review the record"),
    "INTEL-UNGRADED": ("/intelligence", "Check intelligence"),
    "DISCLOSURE-NO-RATIONALE": ("/intelligence", "Check disclosures"),
    "TRANSFER-PENDING": ("", "Check the transfer"),
    "DUPLICATE-SUSPECTED": ("", "Check the record"),
    "RETENTION-REVIEW-DUE": ("", "Check the record"),
}
EXPORT_COLUMNS = [
    "surname",
    "forenames",
    "record",
    "rule",
    "description",
    "severity",
    "who",
    "since",
    "managing_unit",
    "owner",
]
_FILTER_VALUE = re.compile(r"^[^\x00-\x1f\x7f]{1,200}$")  # printable; compared as a bound value


def fix_path(rule: str, nominal_id: str) -> tuple[str, str]:
    suffix, text = FIXES.get(rule, ("", "Open the record"))
    return f"/records/{nominal_id}{suffix}", text


def _filter_from(request: Request, rules: set[str]) -> tuple[quality.WorklistFilter, int]:
    """The worklist's filters from the query string, forgiving: an unknown rule or a malformed value is
    ignored (never an error page)."""
    params = request.query_params
    rule = params.get("rule")
    unit, owner, page = params.get("unit"), params.get("owner"), params.get("page", "1")
    chosen = quality.WorklistFilter(
        rule=rule if rule in rules else None,
        unit=unit if unit and _FILTER_VALUE.match(unit) else None,
        owner=owner if owner and _FILTER_VALUE.match(owner) else None,
    )
    return chosen, int(page) if page.isdigit() and 0 < int(page) < 1_000_000 else 1


def _href(chosen: quality.WorklistFilter, page: int = 1, path: str = "/quality/findings") -> str:
    pairs = [(k, v) for k, v in (("rule", chosen.rule), ("unit", chosen.unit), ("owner", chosen.owner)) if v]
    if page > 1:
        pairs.append(("page", str(page)))
    return path + (f"?{urlencode(pairs)}" if pairs else "")


@router.get("/quality", response_class=HTMLResponse)
def dashboard_page(
    request: Request, principal: Annotated[Principal, Depends(PageGuard("quality.read"))]
) -> HTMLResponse:
    policy: Policy = request.app.state.policy
    rules = quality.load_rules()
    chosen = request.query_params.get("trend")
    trend_rule = next((r for r in rules if r.id == chosen), None)
    with work(request) as uow:
        board = quality.read_dashboard(
            uow, principal, agency=policy.audience_agency(principal), request_id=request_id(request)
        )
    # (when the run started, in London, and the count charted), oldest first
    trend_rows = [
        (
            dt.datetime.fromisoformat(point["started_at"]).astimezone(LONDON),
            point["counts"].get(trend_rule.id, 0) if trend_rule else point["total"],
        )
        for point in board["trend"]
    ]
    what = f"{trend_rule.id}: {trend_rule.description}" if trend_rule else "All findings"
    title = f"{what}, over the last {len(trend_rows)} runs"
    chart = (
        charts.line(title, [(f"{when.day} {when:%b %H:%M}", n) for when, n in trend_rows])
        if trend_rows
        else None
    )
    return render(
        request,
        "pages/quality/dashboard.html",
        {
            "title": "Data quality",
            "board": board,
            "run_on": dt.date.fromisoformat(board["run"]["run_on"]) if board["run"] else None,
            "total": sum(board["by_severity"].values()),
            "chart": chart,
            "trend_rows": trend_rows,
            "trend_rule": trend_rule,
            "trend_what": what,
            "can_run": policy.decide(principal, "quality.run").allowed,
            "severity_badges": SEVERITY_BADGES,
            "who": WHO,
            "breadcrumbs": [{"text": "Home", "href": "/"}],
        },
    )


@router.post("/quality/runs")
def run_checks(
    request: Request, principal: Annotated[Principal, Depends(PageGuard("quality.run"))]
) -> RedirectResponse:
    """Run every rule over the area's records now, as the API's POST /v1/quality/runs does, then back to
    the dashboard with a confirmation."""
    policy: Policy = request.app.state.policy
    with work(request) as uow:
        quality.run(uow, principal, principal.area, today_in_london())
        board = quality.dashboard(uow, principal.area, agency=policy.audience_agency(principal))
    found = sum(board["by_severity"].values())
    flash(request, f"The checks have run: {found} finding{'s' if found != 1 else ''} in the latest run.")
    return redirect("/quality")


@router.get("/quality/findings", response_class=HTMLResponse)
def findings_page(
    request: Request, principal: Annotated[Principal, Depends(PageGuard("quality.read"))]
) -> HTMLResponse:
    policy: Policy = request.app.state.policy
    rules = quality.load_rules()
    chosen, page = _filter_from(request, {r.id for r in rules})
    with work(request) as uow:
        found = quality.worklist_page(
            uow,
            principal,
            chosen,
            page=page,
            agency=policy.audience_agency(principal),
            request_id=request_id(request),
        )
    words = {r.id: r.description for r in rules}
    rows = [{**row, "fix": fix_path(row["rule"], row["nominal_id"])} for row in found["rows"]]
    pagination = page_links(
        found["page"],
        size=quality.WORKLIST_PAGE_SIZE,
        total=found["total"],
        shown=len(rows),
        href=lambda n: _href(chosen, n),
        noun="findings",
        label="Worklist pages",
    )
    categories = [
        {"heading": {"text": heading}, "items": [{"text": text, "href": _href(without)}]}
        for heading, value, text, without in (
            ("Rule", chosen.rule, f"{chosen.rule}", quality.WorklistFilter(None, chosen.unit, chosen.owner)),
            ("Unit", chosen.unit, chosen.unit, quality.WorklistFilter(chosen.rule, None, chosen.owner)),
            (
                "Offender manager",
                chosen.owner,
                chosen.owner,
                quality.WorklistFilter(chosen.rule, chosen.unit, None),
            ),
        )
        if value
    ]
    heading = f"{chosen.rule}: {words[chosen.rule]}" if chosen.rule else "Quality findings"
    return render(
        request,
        "pages/quality/findings.html",
        {
            "title": heading + (f" (page {found['page']} of {found['pages']})" if found["pages"] > 1 else ""),
            "heading": heading,
            "found": found,
            "run_on": dt.date.fromisoformat(found["run"]["run_on"]) if found["run"] else None,
            "rows": rows,
            "chosen": chosen,
            "rules": rules,
            "words": words,
            "pagination": pagination,
            "selected": {
                "heading": {"text": "Selected filters"},
                "clearLink": {"text": "Clear filters", "href": "/quality/findings"},
                "categories": categories,
            }
            if categories
            else None,
            "csv_href": _href(chosen, path="/quality/findings.csv"),
            "severity_badges": SEVERITY_BADGES,
            "who": WHO,
            "breadcrumbs": [{"text": "Home", "href": "/"}, {"text": "Data quality", "href": "/quality"}],
        },
    )


@router.get("/quality/findings.csv")
def findings_csv(
    request: Request, principal: Annotated[Principal, Depends(PageGuard("quality.read"))]
) -> Response:
    """The filtered worklist as a CSV file: every cell defused against spreadsheet formulas
    (register.exports); the use case audits it as a disclosure naming each record."""
    policy: Policy = request.app.state.policy
    chosen, _ = _filter_from(request, {r.id for r in quality.load_rules()})
    with work(request) as uow:
        rows = quality.export_worklist(
            uow, principal, chosen, agency=policy.audience_agency(principal), request_id=request_id(request)
        )
    for row in rows:
        row["record"] = str(request.base_url).rstrip("/") + f"/records/{row['nominal_id']}"
        row["since"] = row["since"].isoformat() if row["since"] else ""
        row["who"] = WHO.get(row["who"], row["who"])
    return Response(
        to_csv(EXPORT_COLUMNS, rows),
        media_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="quality-findings.csv"'},
    )
