"""The auditor's pages: search the audit log, one event in plain words, who looked at a record and why, the
hash chain's last verification (and verifying it now), and the CSV export.

Every page calls the audit API's own use cases (`audit.service.read_log`, `read_event`, `verify_chain`), so
each reading is audited exactly as the API's is, and the auditor sees what the API returns to an auditor:
the events, never a record's content. The filter holds a purpose and free text, so it is posted and kept in
the server-side session (never in a URL); only the page's position (an event's sequence number) is in the
query string.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import asdict, dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, Response

from ..api.deps import request_id
from ..api.routing import APIRouter
from ..audit import service
from ..audit.events import Action
from ..audit.schemas import EXPORT_COLUMNS, AuditEventOut
from ..audit.service import LogQuery
from ..domain.actors import Principal
from ..domain.errors import NotFound
from ..exports import to_csv
from . import sessions
from .common import PageGuard, PageProblem, flash, redirect, render, verify_csrf, work
from .pages import LONDON, label

router = APIRouter(include_in_schema=False, dependencies=[Depends(verify_csrf)])
Auditor = Annotated[Principal, Depends(PageGuard("audit.read"))]

FILTER_KEY = "register.audit_filter"  # session.data: the auditor's current search
PAGE_SIZE = 25
EXPORT_LIMIT = 10_000
ACTIONS = [a.value for a in Action]

# The tags auditors meet most, in words; any other tag is shown as its parts ("Nominal: addresses: add").
TAG_WORDS = {
    "nominal:record:read": "Opened the record",
    "nominal:record:stub": "Opened a restricted record's stub",
    "nominal:record:list": "Listed records",
    "nominal:record:create": "Created a record",
    "nominal:chronology:append": "Added to the chronology",
    "nominal:photographs:view": "Viewed a photograph",
    "search:query:run": "Searched the register",
    "search:results:export": "Exported search results",
    "statistics:tables:read": "Read the annual statistics",
    "statistics:cell:people": "Listed the people behind a figure",
    "audit:log:read": "Read the audit log",
    "audit:log:export": "Exported the audit log",
    "audit:chain:verify": "Verified the audit chain",
    "auth:web:sign-in": "Signed in",
    "auth:web:sign-out": "Signed out",
    "auth:web:session:expired": "Session timed out",
    "auth:web:csrf:refused": "A forged or expired form was refused",
    "transfer:request:create": "Asked to transfer a record",
}
DETAIL_WORDS = {
    "ids": "Records",
    "returned": "Events returned",
    "rule": "Rule",
    "seq": "Event number",
    "nominal_id": "Record",
    "user": "User",
    "since": "From",
    "until": "Until",
    "purpose": "Purpose containing",
    "newest_first": "Newest first",
    "before_seq": "Before event",
    "after_seq": "After event",
}


SECTION_VERBS = {"add": "Added to", "correct": "Corrected", "end": "Ended an item of", "erase": "Erased from"}


def tag_words(tag: str) -> str:
    if tag in TAG_WORDS:
        return TAG_WORDS[tag]
    parts = tag.split(":")
    if len(parts) == 3 and parts[0] == "nominal" and parts[2] in SECTION_VERBS:
        return f"{SECTION_VERBS[parts[2]]} {label(parts[1]).lower()}"
    return ": ".join(label(part) for part in tag.split(":"))


def when(at: dt.datetime, *, short: bool = False) -> str:
    """A moment as people in England read it: "3 March 2026 at 14:05:09"."""
    local = (at if at.tzinfo else at.replace(tzinfo=dt.UTC)).astimezone(LONDON)
    if short:
        return f"{local.day} {local:%b %Y %H:%M:%S}"
    return f"{local.day} {local:%B %Y} at {local:%H:%M:%S}"


# ------------------------------------------------------------------ the filter, kept in the session


@dataclass
class AuditFilter:
    user: str = ""
    record: str = ""
    action: str = ""
    purpose: str = ""
    since: str = ""  # ISO dates (London days); the form shows them as day, month and year
    until: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def active(self) -> bool:
        return any((self.user, self.record, self.action, self.purpose, self.since, self.until))

    def query(self, *, before: int | None, limit: int) -> LogQuery:
        since = _london_start(self.since) if self.since else None
        until = _london_start(self.until, days=1) if self.until else None
        return LogQuery(
            nominal_id=uuid.UUID(self.record) if self.record else None,
            user=self.user or None,
            since=since,
            until=until,
            limit=limit,
            action=self.action or None,
            purpose=self.purpose or None,
            before_seq=before,
            newest_first=True,
        )

    def date_parts(self, name: str) -> dict[str, str]:
        value = getattr(self, name)
        if not value:
            return {"day": "", "month": "", "year": ""}
        day = dt.date.fromisoformat(value)
        return {"day": str(day.day), "month": str(day.month), "year": str(day.year)}


def _london_start(iso: str, days: int = 0) -> dt.datetime:
    day = dt.date.fromisoformat(iso) + dt.timedelta(days=days)
    return dt.datetime.combine(day, dt.time(), tzinfo=LONDON).astimezone(dt.UTC)


def _kept(request: Request) -> AuditFilter:
    session = sessions.current(request)
    kept = session.data.get(FILTER_KEY) if session is not None else None
    return AuditFilter(**kept) if isinstance(kept, dict) else AuditFilter()


def _keep(request: Request, chosen: AuditFilter) -> None:
    session = sessions.current(request)
    if session is not None:
        session.data[FILTER_KEY] = {k: v for k, v in asdict(chosen).items() if k != "errors"}


def _date(form: Any, name: str, legend: str, errors: dict[str, str]) -> tuple[str, dict[str, str]]:
    parts = {p: str(form.get(f"{name}-{p}") or "").strip()[:6] for p in ("day", "month", "year")}
    if not any(parts.values()):
        return "", parts
    try:
        if len(parts["year"]) != 4:
            raise ValueError
        return dt.date(int(parts["year"]), int(parts["month"]), int(parts["day"])).isoformat(), parts
    except ValueError:
        errors[name] = f"The ‘{legend.lower()}’ date must be a real date, for example 27 3 2026"
        return "", parts


def _read_form(form: Any) -> tuple[AuditFilter, dict[str, dict[str, str]]]:
    errors: dict[str, str] = {}

    def text(name: str, limit: int) -> str:
        value = str(form.get(name) or "").strip()
        if len(value) > limit:
            errors[name] = f"This must be {limit} characters or fewer"
        return value[:limit]

    chosen = AuditFilter(user=text("user", 100), record=text("record", 36), purpose=text("purpose", 500))
    if chosen.record:
        try:
            chosen.record = str(uuid.UUID(chosen.record))
        except ValueError:
            errors["record"] = (
                "Enter the record’s identifier as it appears on its pages, for example "
                "7d5ced2b-6f3e-4f59-bb20-e015d5cdc869"
            )
    action = str(form.get("action") or "")
    chosen.action = action if action in ACTIONS else ""
    chosen.since, since_parts = _date(form, "since", "From", errors)
    chosen.until, until_parts = _date(form, "until", "To", errors)
    if chosen.since and chosen.until and chosen.until < chosen.since:
        errors["until"] = "The ‘to’ date must be the same as or after the ‘from’ date"
    chosen.errors = errors
    return chosen, {"since": since_parts, "until": until_parts}


# ------------------------------------------------------------------ shaping events for a page


def _row(event: Any) -> dict[str, Any]:
    return {
        "seq": event["seq"],
        "when": when(event["occurred_at"]),
        "short_when": when(event["occurred_at"], short=True),
        "occurred_at": event["occurred_at"],
        "user": event["actor_user"],
        "agency": label(event["actor_agency"]) if event["actor_agency"] else "",
        "area": label(event["actor_area"]) if event["actor_area"] else "",
        "action": label(event["action"]),
        "what": tag_words(event["tag"]),
        "tag": event["tag"],
        "outcome": event["outcome"],
        "nominal_id": event["nominal_id"],
        "purpose": event["purpose"],
    }


def _detail_value(value: Any) -> str:
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        return ", ".join(_detail_value(v) for v in value) if value else "None"
    if isinstance(value, dict):
        return "; ".join(f"{label(k)}: {_detail_value(v)}" for k, v in value.items())
    return "" if value is None else str(value)


def detail_rows(details: str | None) -> list[dict[str, Any]]:
    """An event's details (stored as JSON) as labelled rows: one per field, lists and nested values in
    words."""
    if not details:
        return []
    try:
        parsed = json.loads(details)
    except ValueError:
        return [{"key": {"text": "Details"}, "value": {"text": details}}]
    if not isinstance(parsed, dict):
        return [{"key": {"text": "Details"}, "value": {"text": _detail_value(parsed)}}]
    return [
        {
            "key": {"text": DETAIL_WORDS.get(k, label(k))},
            "value": {"text": _detail_value(v)},
            "attributes": {"data-qa": f"detail-{k}"},
        }
        for k, v in parsed.items()
    ]


def _pagination(base: str, rows: list[dict[str, Any]], limit: int, before: int | None) -> dict[str, Any]:
    pagination: dict[str, Any] = {"landmarkLabel": "Audit events pages"}
    if before is not None:
        pagination["previous"] = {"href": base, "labelText": "Newest"}
    if len(rows) == limit:
        pagination["next"] = {"href": f"{base}?before={rows[-1]['seq']}", "labelText": "Older events"}
    return pagination


def _before(request: Request) -> int | None:
    raw = request.query_params.get("before", "")
    return int(raw) if raw.isdigit() and 0 < len(raw) < 19 else None


# ------------------------------------------------------------------ the search


def _search_page(
    request: Request,
    auditor: Principal,
    chosen: AuditFilter,
    parts: dict[str, dict[str, str]] | None = None,
    *,
    status_code: int = 200,
) -> HTMLResponse:
    before = _before(request)
    rows: list[dict[str, Any]] = []
    with work(request) as uow:
        if not chosen.errors:
            rows = [
                _row(e)
                for e in service.read_log(
                    uow, auditor, chosen.query(before=before, limit=PAGE_SIZE), request_id=request_id(request)
                )
            ]
        verification = service.last_verification(uow)
    errors = [
        {"text": message, "href": f"#{name}" + ("-day" if name in ("since", "until") else "")}
        for name, message in chosen.errors.items()
    ]
    return render(
        request,
        "pages/audit/search.html",
        {
            "title": ("Error: " if errors else "") + "Audit log",
            "filter": chosen,
            "dates": parts or {"since": chosen.date_parts("since"), "until": chosen.date_parts("until")},
            "errors": errors,
            "rows": rows,
            "actions": ACTIONS,
            "pagination": _pagination("/audit", rows, PAGE_SIZE, before),
            "verification": verification,
            "verification_when": when(verification["at"]) if verification else None,
        },
        status_code=status_code,
    )


@router.get("/audit", response_class=HTMLResponse)
def search(request: Request, auditor: Auditor) -> HTMLResponse:
    return _search_page(request, auditor, _kept(request))


@router.post("/audit", response_class=HTMLResponse)
async def search_post(request: Request, auditor: Auditor) -> Response:
    form = await request.form()
    if form.get("clear"):
        _keep(request, AuditFilter())
        return redirect("/audit")
    chosen, parts = _read_form(form)
    if chosen.errors:
        return _search_page(request, auditor, chosen, parts, status_code=422)
    _keep(request, chosen)
    return redirect("/audit")


@router.get("/audit/export")
def export(request: Request, auditor: Auditor) -> Response:
    """The events the kept filter finds (newest first, up to EXPORT_LIMIT) as CSV, every cell defused against
    spreadsheet formulas; the export is audited as `audit:log:export`, as the API's is."""
    chosen = _kept(request)
    with work(request) as uow:
        events = service.read_log(
            uow,
            auditor,
            chosen.query(before=None, limit=EXPORT_LIMIT),
            export=True,
            request_id=request_id(request),
        )
    rows = (AuditEventOut.model_validate(dict(e)).model_dump(mode="json") for e in events)
    return Response(
        to_csv(EXPORT_COLUMNS, rows),
        media_type="text/csv",
        headers={
            "Content-Disposition": 'attachment; filename="audit-events.csv"',
            "Cache-Control": "no-store",
        },
    )


@router.post("/audit/verify")
def verify(request: Request, auditor: Auditor) -> Response:
    with work(request) as uow:
        found = service.verify_chain(uow, auditor, request_id=request_id(request))
    if found["ok"]:
        flash(request, f"The audit chain is intact: {found['sealed']:,} events checked.")
    else:
        flash(request, f"The audit chain is broken: {found['findings']} findings. See the details below.")
    return redirect("/audit")


# ------------------------------------------------------------------ one event, and one record's consultations


@router.get("/audit/events/{seq}", response_class=HTMLResponse)
def event_page(request: Request, seq: int, auditor: Auditor) -> HTMLResponse:
    if not 0 < seq < 2**62:
        raise PageProblem(404, "Page not found", "There is no such audit event.")
    try:
        with work(request) as uow:
            event = service.read_event(uow, auditor, seq, request_id=request_id(request))
    except NotFound:
        raise PageProblem(404, "Page not found", "There is no such audit event.") from None
    row = _row(event)

    def item(key: str, text: str, qa: str) -> dict[str, Any]:
        return {"key": {"text": key}, "value": {"text": text}, "attributes": {"data-qa": qa}}

    fields = [
        item("When", row["when"], "when"),
        item("What", f"{row['what']} ({event['tag']})", "what"),
        item("Category (s.62)", row["action"], "action"),
        item("Outcome", label(event["outcome"]), "outcome"),
        item("User", event["actor_user"], "user"),
        item("Agency", row["agency"] or "None (a process of the register)", "agency"),
        item("Area", row["area"] or "None", "area"),
        item(
            "Roles",
            ", ".join(label(r) for r in (event["actor_roles"] or "").split(",") if r) or "None",
            "roles",
        ),
        item("Record", str(event["nominal_id"]) if event["nominal_id"] else "Not about one record", "record"),
        item("Section", label(event["section"]) if event["section"] else "Not about one section", "section"),
        item("Item", str(event["item_id"]) if event["item_id"] else "Not about one item", "item"),
        item("Purpose", event["purpose"] or "None given", "purpose"),
        item("Request", event["request_id"] or "None", "request"),
        item("Event identifier", str(event["event_id"]), "event-id"),
        item("Event number", str(event["seq"]), "seq"),
    ]
    return render(
        request,
        "pages/audit/event.html",
        {
            "title": f"Audit event {seq}",
            "event": row,
            "fields": fields,
            "details": detail_rows(event["details"]),
            "breadcrumbs": [{"text": "Audit log", "href": "/audit"}],
        },
    )


@router.get("/audit/records/{nominal_id}", response_class=HTMLResponse)
def record_consultations(request: Request, nominal_id: uuid.UUID, auditor: Auditor) -> HTMLResponse:
    """Who looked at this record and why: its consultations, newest first, with user, time and purpose. Only
    the audit log is read (never the record), so the page names the record by its identifier."""
    before = _before(request)
    query = LogQuery(
        nominal_id=nominal_id,
        limit=PAGE_SIZE,
        action=Action.CONSULTATION.value,
        before_seq=before,
        newest_first=True,
    )
    with work(request) as uow:
        rows = [_row(e) for e in service.read_log(uow, auditor, query, request_id=request_id(request))]
    base = f"/audit/records/{nominal_id}"
    return render(
        request,
        "pages/audit/record.html",
        {
            "title": "Who looked at this record",
            "nominal_id": nominal_id,
            "rows": rows,
            "pagination": _pagination(base, rows, PAGE_SIZE, before),
            "breadcrumbs": [{"text": "Audit log", "href": "/audit"}],
        },
    )
