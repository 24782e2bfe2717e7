"""The record: an identity bar, sub navigation by section groups, an overview with what needs attention, each
group's sections as GOV.UK summary cards, the chronology as an MoJ timeline, and the purpose asked before
another area's record opens.

Every page view is one consultation, audited by `nominals.service.read_record` (or `restricted_stub`) with
the purpose this session gave for the record. What the policy hides is never loaded: absent from the HTML.
The purpose lives in the server-side web session only: never in a URL, a log line or a cookie.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ..access.policy import Policy
from ..api.deps import request_id
from ..api.routing import APIRouter
from ..caseload import service as caseload_service
from ..domain import notification
from ..domain.actors import Principal
from ..domain.enums import Area, ChronologyKind
from ..domain.errors import NotFound
from ..domain.record import Record, Section, StoredEntry, StoredItem
from ..nominals import service as nominals
from ..nominals.service import NOTIFICATION_INPUTS
from ..photos import service as photos
from ..quality import service as quality
from ..transfers import service as transfers
from ..usecase import guard
from ..usecase.guard import Access, Refused
from . import sessions
from .caseload import today_in_london
from .common import PageGuard, PageProblem, SignedIn, page_count, page_links, render, verify_csrf, work
from .corrections import correct_path, corrected_by
from .editing import EDITORS, ENDABLE
from .pages import LONDON, label, long_date

router = APIRouter(include_in_schema=False, dependencies=[Depends(verify_csrf)])

PURPOSES = "register.record_purposes"  # session.data key: {record id: purpose}
PURPOSE_MAX = 500
PAGE_SIZE = 20


@dataclass(frozen=True)
class Group:
    slug: str
    title: str
    sections: tuple[Section, ...]


GROUPS = [
    Group("overview", "Overview", ()),
    Group(
        "personal-details",
        "Personal details",
        (Section.ALIASES, Section.IDENTIFIERS, Section.DESCRIPTIONS, Section.MARKS, Section.CONTACTS),
    ),
    Group(
        "addresses-and-vehicles",
        "Addresses and vehicles",
        (Section.ADDRESSES, Section.VEHICLES, Section.EMPLOYMENT, Section.ASSOCIATES),
    ),
    Group("offences-and-orders", "Offences and orders", (Section.OFFENCES, Section.ORDERS)),
    Group(
        "risk",
        "Risk",
        (Section.RISK_ASSESSMENTS, Section.MAPPA_LEVELS, Section.MEETINGS, Section.VICTIM_SAFETY),
    ),
    Group("plan", "Plan", (Section.RISK_PLANS, Section.OFFENDER_MANAGERS)),
    Group("chronology", "Chronology", ()),
    Group("intelligence", "Intelligence", (Section.INTELLIGENCE, Section.DISCLOSURES)),
    Group("associations", "Associations", ()),  # web/associations.py
    Group("meetings", "Meetings and actions", ()),  # web/meetings.py
    Group("history", "History", tuple(Section)),
]
BY_SLUG = {g.slug: g for g in GROUPS}
SECTION_TITLES = {
    Section.ALIASES: "Other names",
    Section.IDENTIFIERS: "Identifiers",
    Section.DESCRIPTIONS: "Descriptions",
    Section.MARKS: "Marks, scars and tattoos",
    Section.PHOTOGRAPHS: "Photographs",
    Section.ADDRESSES: "Addresses",
    Section.CONTACTS: "Contact details",
    Section.VEHICLES: "Vehicles",
    Section.EMPLOYMENT: "Employment",
    Section.ASSOCIATES: "Associates",
    Section.OFFENCES: "Offences",
    Section.ORDERS: "Orders",
    Section.MAPPA_LEVELS: "MAPPA levels",
    Section.OFFENDER_MANAGERS: "Offender managers",
    Section.MEETINGS: "MAPPA meetings",
    Section.MEETING_MINUTES: "Meeting minutes",
    Section.MEETING_ACTIONS: "Meeting actions",
    Section.RISK_ASSESSMENTS: "Risk assessments",
    Section.RISK_PLANS: "Risk management plans",
    Section.INTELLIGENCE: "Intelligence",
    Section.DISCLOSURES: "Disclosures",
    Section.VICTIM_SAFETY: "Victim safety",
}
# The sections read on every page, for the identity bar: the offender manager, and the items whose audience is
# limited (the "police only" marker says this user sees some).
ALWAYS = (Section.OFFENDER_MANAGERS, Section.INTELLIGENCE, Section.VICTIM_SAFETY)


def add_path(nominal_id: uuid.UUID, section: Section) -> str | None:
    """The editing page that adds to `section` (web/editing.py), or None where the web has no such form."""
    if section == Section.RISK_PLANS:
        return f"/records/{nominal_id}/plan/edit"
    return f"/records/{nominal_id}/{section.value}/new" if section.value in EDITORS else None


def end_path(nominal_id: uuid.UUID, item: StoredItem) -> str | None:
    """The page that ends `item`, for the sections whose items end (an address moved out of, a car sold)."""
    return (
        f"/records/{nominal_id}/{item.section.value}/{item.id}/end" if item.section.value in ENDABLE else None
    )


# ------------------------------------------------------------------ the purpose, kept in the session


def _purposes(request: Request) -> dict[str, str]:
    session = sessions.current(request)
    if session is None:
        return {}
    kept: dict[str, str] = session.data.setdefault(PURPOSES, {})
    return kept


def session_purpose(request: Request, nominal_id: uuid.UUID) -> str | None:
    """The purpose this session stated for a record (an enquiry reference or reason), if any."""
    return _purposes(request).get(str(nominal_id))


def keep_purpose(request: Request, nominal_id: uuid.UUID, purpose: str) -> None:
    """Open a record under a purpose stated elsewhere in this session (a search's enquiry, web/search.py)."""
    _purposes(request)[str(nominal_id)] = purpose


class PurposeNeeded(Exception):
    def __init__(self, nominal_id: uuid.UUID, next_path: str) -> None:
        super().__init__(str(nominal_id))
        self.nominal_id, self.next_path = nominal_id, next_path


def install(app: FastAPI) -> None:
    @app.exception_handler(PurposeNeeded)
    async def _purpose(request: Request, exc: PurposeNeeded) -> Response:
        query = urlencode({"next": exc.next_path})
        return RedirectResponse(f"/records/{exc.nominal_id}/purpose?{query}", status_code=303)


def _not_found() -> PageProblem:
    return PageProblem(404, "Page not found", "There is no such record, or it is not yours to see.")


class RecordPage(PageGuard):
    """A page about one record: the policy sees who owns it, whether it is restricted, and the purpose this
    session stated. Outside the area (or for a role that always states one), no purpose yet sends the user to
    the purpose form first, before anything is read or refused."""

    def __call__(  # type: ignore[override]  # a record's pages also take its id
        self, request: Request, nominal_id: uuid.UUID, principal: SignedIn
    ) -> Access:
        policy: Policy = request.app.state.policy
        purpose = session_purpose(request, nominal_id)
        try:
            with work(request) as uow:
                facts = guard.record_facts(uow, nominal_id)
                if purpose is None and policy.purpose_required(
                    principal, self.action, facts.area == principal.area
                ):
                    raise PurposeNeeded(nominal_id, request.url.path)
                return guard.authorize_record(
                    uow,
                    policy,
                    principal,
                    self.action,
                    nominal_id,
                    section=self.section,
                    purpose=purpose,
                    request_id=request_id(request),
                )
        except Refused as refused:
            raise PageProblem(
                refused.status, "You cannot see this record", refused.reason, rule=refused.rule
            ) from None
        except NotFound:
            raise _not_found() from None


ReadRecord = Annotated[Access, Depends(RecordPage("record.read", "header"))]
ReadChronology = Annotated[Access, Depends(RecordPage("record.read", "chronology"))]
StatePurpose = Annotated[Principal, Depends(PageGuard("record.read"))]


# ------------------------------------------------------------------ shaping what a page shows


def full_name(record: Record) -> str:
    return f"{record.identity.forenames} {record.identity.surname}"


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, str):
        try:
            if len(value) == 10:
                return long_date(dt.date.fromisoformat(value))
        except ValueError:
            pass
        return value
    if isinstance(value, dict):
        return "; ".join(f"{label(k)}: {_value(v)}" for k, v in value.items() if v not in (None, [], {}))
    if isinstance(value, list):
        return ", ".join(_value(v) for v in value)
    return str(value)


def _rows(data: dict[str, Any], qa: str = "") -> list[dict[str, Any]]:
    return [
        {
            "key": {"text": label(k)},
            "value": {"text": _value(v)},
            "attributes": {"data-qa": f"{qa}{k}"},
        }
        for k, v in data.items()
        if v not in (None, [], {}, "")
    ]


def _title(item: StoredItem) -> str:
    data = item.data.model_dump(mode="json", exclude_none=True)
    if item.section == Section.INTELLIGENCE:
        return f"Received {_value(data.get('received_on', ''))}"
    for key in ("offence", "kind", "tool", "name", "vrm", "employer", "surname", "value", "category"):
        if isinstance(data.get(key), str | int):
            return label(data[key]) if key == "kind" else str(data[key])
    return SECTION_TITLES[item.section]


def item_card(
    item: StoredItem, nominal_id: uuid.UUID, *, can_write: bool, today: dt.date | None = None
) -> dict[str, Any]:
    """One section item as a GOV.UK summary card: its facts, who recorded it, and whether it has ended."""
    data = item.data.model_dump(mode="json", exclude_none=True)
    rows = []
    if item.section == Section.INTELLIGENCE and data.get("scheme"):
        grade = f"{data['source_evaluation']}{data['intelligence_assessment']}{data['handling_code']}"
        rows.append(
            {
                "key": {"text": "Grading"},
                "value": {"text": f"{grade} ({data['scheme']})"},
                "attributes": {"data-qa": "grading"},
            }
        )
    rows += _rows(data)
    rows.append(
        {
            "key": {"text": "Recorded"},
            "value": {
                "text": f"{long_date(item.recorded_at.date())} by {item.recorded_by}"
                f" ({label(item.recorded_agency)})"
            },
        }
    )
    ended = item.ended_at is not None
    if ended and item.ended_at is not None:
        rows.append(
            {
                "key": {"text": "Ended"},
                "value": {
                    "text": long_date(item.ended_at.date())
                    + (f": {item.ended_reason}" if item.ended_reason else "")
                },
                "attributes": {"data-qa": "ended"},
            }
        )
    actions = []
    ending = end_path(nominal_id, item)
    if can_write and not ended and ending:
        actions.append(
            {
                "href": ending,
                "text": "End",
                "visuallyHiddenText": f"{SECTION_TITLES[item.section].lower()}: {_title(item)}",
            }
        )
    return {
        "card": {
            "title": {"text": _title(item) + (" (ended)" if ended else "")},
            "actions": {"items": actions},
            "attributes": {"data-qa": "item", "data-item-id": str(item.id), "data-ended": str(ended).lower()},
        },
        "rows": rows,
        "attributes": {"data-qa": f"item-{item.section.value}"},
    }


def _may(policy: Policy, access: Access, section: str) -> bool:
    return policy.decide(access.principal, "record.write", section=section, record=access.facts).allowed


def _limited(record: Record) -> bool:
    """Whether this user sees items whose audience is limited to some agencies (police only, for example)."""
    return any(
        getattr(item.data, "audience", None)
        for s in (Section.INTELLIGENCE, Section.VICTIM_SAFETY)
        for item in record.items(s)
    )


def _frame(request: Request, access: Access, record: Record, group: Group, policy: Policy) -> dict[str, Any]:
    """What every record page shows around its content: identity bar, sub navigation, breadcrumbs, title."""
    today = today_in_london()
    managers = [
        i
        for i in record.items(Section.OFFENDER_MANAGERS)
        if i.ended_at is None and getattr(i.data, "date_to", None) is None
    ]
    manager = managers[-1].data if managers else None
    with work(request) as uow:
        photo = photos.current_photo_ids(uow, [record.id], audience=access.audience).get(record.id)
    name = full_name(record)
    caseload = policy.decide(access.principal, "record.list").allowed
    return {
        "title": f"{group.title} – {name}",
        "record": record,
        "name": name,
        "group": group,
        "today": today,
        "header": record.header,
        "manager": manager,
        "photo": f"/records/{record.id}/photographs/current/thumbnail" if photo else None,
        "limited": _limited(record),
        "other_area": access.facts.area != access.principal.area,
        "breadcrumbs": [
            {"text": "My caseload", "href": "/caseload"} if caseload else {"text": "Home", "href": "/"},
            {"text": name, "href": f"/records/{record.id}"},
        ],
        "subnav": [
            {
                "text": g.title,
                "href": f"/records/{record.id}" + ("" if g.slug == "overview" else f"/{g.slug}"),
                "active": g.slug == group.slug,
                "attributes": {"data-qa": f"subnav-{g.slug}"},
            }
            for g in GROUPS
        ],
        "can_write_chronology": _may(policy, access, "chronology"),
        "can_transfer": policy.decide(access.principal, "transfer.start", record=access.facts).allowed,
        "can_photograph": _may(policy, access, Section.PHOTOGRAPHS.value),
        "can_audit": policy.decide(access.principal, "audit.read").allowed,  # who looked at it, and why
    }


def _read(request: Request, access: Access, sections: set[Section], *, chronology: bool = False) -> Record:
    policy: Policy = request.app.state.policy
    readable = {s for s in sections | set(ALWAYS) if policy.section_allows(access.principal, s.value, "read")}
    with work(request) as uow:
        return nominals.read_record(
            uow,
            access.principal,
            access.nominal_id,
            purpose=access.purpose,
            request_id=access.request_id,
            sections=readable,
            chronology=chronology,
            audience=access.audience,
        )


def _stub(request: Request, access: Access) -> HTMLResponse:
    with work(request) as uow:
        stub = nominals.restricted_stub(
            uow,
            access.principal,
            access.nominal_id,
            access.facts.area,
            purpose=access.purpose,
            request_id=access.request_id,
        )
    return render(
        request,
        "pages/record/stub.html",
        {"title": "Restricted record", "area": stub["owning_area"], "message": stub["message"]},
    )


# ------------------------------------------------------------------ the purpose


@router.get("/records/{nominal_id}/purpose", response_class=HTMLResponse)
def purpose_form(
    request: Request, nominal_id: uuid.UUID, principal: StatePurpose, next: str | None = None
) -> HTMLResponse:
    return _purpose_page(request, nominal_id, _next(nominal_id, next), "", None)


def _next(nominal_id: uuid.UUID, value: str | None) -> str:
    home = f"/records/{nominal_id}"
    if value and (value == home or value.startswith(home + "/")) and "//" not in value and "?" not in value:
        return value
    return home


def _purpose_page(
    request: Request, nominal_id: uuid.UUID, next_path: str, value: str, error: str | None
) -> HTMLResponse:
    return render(
        request,
        "pages/record/purpose.html",
        {
            "title": ("Error: " if error else "") + "Why are you opening this record?",
            "nominal_id": nominal_id,
            "next": next_path,
            "value": value,
            "error": error,
            "max": PURPOSE_MAX,
        },
        status_code=400 if error else 200,
    )


@router.post("/records/{nominal_id}/purpose", response_class=HTMLResponse)
async def state_purpose(request: Request, nominal_id: uuid.UUID, principal: StatePurpose) -> Response:
    form = await request.form()
    raw = form.get("purpose")
    value = raw.strip() if isinstance(raw, str) else ""
    next_raw = form.get("next")
    next_path = _next(nominal_id, next_raw if isinstance(next_raw, str) else None)
    if not value:
        return _purpose_page(
            request, nominal_id, next_path, "", "Enter the enquiry reference or the reason for opening it"
        )
    if len(value) > PURPOSE_MAX:
        return _purpose_page(
            request, nominal_id, next_path, value, f"The purpose must be {PURPOSE_MAX} characters or fewer"
        )
    _purposes(request)[str(nominal_id)] = value
    return RedirectResponse(next_path, status_code=303)


# ------------------------------------------------------------------ the overview and the groups


@router.get("/records/{nominal_id}", response_class=HTMLResponse)
def overview(request: Request, access: ReadRecord) -> HTMLResponse:
    if access.stub:
        return _stub(request, access)
    policy: Policy = request.app.state.policy
    # The notification dates come from the offences, orders, addresses and chronology: they are shown (and
    # those read, and audited as read) only to whoever may read all of them.
    explained = all(
        policy.section_allows(access.principal, s, "read") for s in (*NOTIFICATION_SOURCES, "chronology")
    )
    record = _read(request, access, set(NOTIFICATION_INPUTS) if explained else set(), chronology=explained)
    frame = _frame(request, access, record, BY_SLUG["overview"], policy)
    derived = notification.of_record(record, frame["today"]) if explained else None
    settings = request.app.state.store.settings
    with work(request) as uow:
        due = caseload_service.due_on_record(
            uow,
            record.id,
            agency=access.principal.agency,
            today=frame["today"],
            schedule=caseload_service.schedule(settings.caseload_schedule_file),
        )
        findings = quality.record_findings(uow, Area(access.facts.area), record.id, agency=access.audience)
        transfer = transfers.pending_for_record(uow, record.id)
    return render(
        request,
        "pages/record/overview.html",
        {
            **frame,
            "due": due,
            "findings": findings,
            "transfer": transfer,
            "notification": derived,
            "notification_rows": _notification_rows(derived) if derived is not None else [],
        },
    )


NOTIFICATION_SOURCES = tuple(s.value for s in NOTIFICATION_INPUTS)
NOTIFICATION_DATES = (
    ("relevant_date", "Relevant date"),
    ("ends_on", "Ends"),
    ("review_from", "Review may be sought from"),
    ("next_due", "Next notification due"),
)


def _notification_rows(derived: notification.Notification) -> list[dict[str, Any]]:
    """The notification card's rows: each computed date with its reason (rule, statute, facts)."""
    rows = []
    for key, title in NOTIFICATION_DATES:
        reason = derived.reasons.get(key)
        if reason is None:
            continue
        on: dt.date | None = getattr(derived, key)
        if on is not None:
            shown = long_date(on)
        elif key == "ends_on":
            shown = "Indefinite" if derived.indefinite else "Not set"
        else:
            shown = "None"
        rows.append({"key": key, "title": title, "on": on, "shown": shown, "reason": reason})
    return rows


@router.get("/records/{nominal_id}/chronology", response_class=HTMLResponse)
def chronology(request: Request, access: ReadChronology) -> HTMLResponse:
    if access.stub:
        return _stub(request, access)
    policy: Policy = request.app.state.policy
    query = ChronologyQuery.parse(request)
    record = _read(request, access, set(), chronology=True)
    frame = _frame(request, access, record, BY_SLUG["chronology"], policy)
    chosen = query.apply(record.chronology)
    page = min(query.page, page_count(len(chosen), PAGE_SIZE))
    shown = chosen[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    corrections = corrected_by(record)
    can_correct = bool(frame["can_write_chronology"])
    base = f"/records/{record.id}/chronology"
    pagination = page_links(
        page,
        size=PAGE_SIZE,
        total=len(chosen),
        shown=len(shown),
        href=lambda n: base + query.href(page=n),
        noun="entries",
        label="Chronology pages",
    )
    return render(
        request,
        "pages/record/chronology.html",
        {
            **frame,
            "title": ("Error: " if query.errors else "") + frame["title"],
            "query": query,
            "entries": [
                _entry(e, corrections.get(e.id), correct_path(record.id, e) if can_correct else None)
                for e in shown
            ],
            "total": len(record.chronology),
            "pagination": pagination,
            "kinds": [(k.value, label(k)) for k in ChronologyKind],
        },
    )


@router.get("/records/{nominal_id}/{group}", response_class=HTMLResponse)
def group_page(request: Request, group: str, access: ReadRecord) -> HTMLResponse:
    chosen = BY_SLUG.get(group)
    if chosen is None or chosen.slug in ("overview", "chronology", "associations", "meetings"):
        raise PageProblem(404, "Page not found", "There is no such page.")
    if access.stub:
        return _stub(request, access)
    policy: Policy = request.app.state.policy
    record = _read(request, access, set(chosen.sections))
    frame = _frame(request, access, record, chosen, policy)
    lists = []
    for section in chosen.sections:
        if not policy.section_allows(access.principal, section.value, "read"):
            continue
        items = record.items(section)
        if chosen.slug == "history":
            if section not in (Section.PHOTOGRAPHS, Section.MAPPA_LEVELS, Section.OFFENDER_MANAGERS):
                items = [i for i in items if i.ended_at is not None]
            if not items:
                continue
        can_write = chosen.slug != "history" and _may(policy, access, section.value)
        lists.append(
            {
                "section": section.value,
                "title": SECTION_TITLES[section],
                "add": add_path(record.id, section) if can_write else None,
                "cards": [item_card(i, record.id, can_write=can_write) for i in items],
            }
        )
    identity = _rows(record.identity.model_dump(mode="json", exclude_none=True), "identity-")
    return render(
        request,
        "pages/record/group.html",
        {**frame, "lists": lists, "identity": identity if chosen.slug == "personal-details" else None},
    )


# ------------------------------------------------------------------ the chronology's filters


def _entry(
    entry: StoredEntry, correction: StoredEntry | None = None, correct: str | None = None
) -> dict[str, Any]:
    """One entry on the timeline; `correction`: its latest withdrawal or amendment, if any; `correct`: where
    the reader may correct it."""
    data = entry.data
    status = None
    if correction is not None:
        withdrawn = correction.data.kind == ChronologyKind.WITHDRAWAL
        corrected_on = long_date(correction.data.occurred_at.astimezone(LONDON).date())
        status = {
            "text": "Withdrawn" if withdrawn else "Corrected",
            "reason": correction.data.summary if withdrawn else f"See the amendment dated {corrected_on}",
            "at": correction.recorded_at,
        }
    return {
        "status": status,
        "correct": correct,
        "id": str(entry.id),
        "kind": data.kind.value,
        "label": {"text": label(data.kind) + ": " + data.summary},
        "byline": {"text": f"{entry.recorded_by} ({label(entry.recorded_agency)})"},
        "datetime": {"timestamp": data.occurred_at.isoformat(), "type": "datetime"},
        "recorded_at": entry.recorded_at,
        "details": data.details,
        "outcome": label(data.outcome) if data.outcome else None,
        "breach_of": label(data.breach_of) if data.breach_of else None,
        "attributes": {"data-qa": "timeline-entry", "data-kind": data.kind.value},
    }


@dataclass
class DateField:
    name: str
    legend: str
    day: str = ""
    month: str = ""
    year: str = ""
    error: str | None = None
    value: dt.date | None = None

    @property
    def given(self) -> bool:
        return bool(self.day or self.month or self.year)


@dataclass
class ChronologyQuery:
    kind: str
    start: DateField
    end: DateField
    page: int
    errors: list[dict[str, str]]

    @classmethod
    def parse(cls, request: Request) -> ChronologyQuery:
        q = request.query_params
        kind = q.get("kind", "")
        if kind not in {k.value for k in ChronologyKind}:
            kind = ""
        errors: list[dict[str, str]] = []
        fields = []
        for name, legend in (("from", "From"), ("to", "To")):
            f = DateField(
                name,
                legend,
                q.get(f"{name}-day", "").strip()[:4],
                q.get(f"{name}-month", "").strip()[:4],
                q.get(f"{name}-year", "").strip()[:6],
            )
            if f.given:
                try:
                    if len(f.year) != 4:
                        raise ValueError
                    f.value = dt.date(int(f.year), int(f.month), int(f.day))
                except ValueError:
                    f.error = f"The ‘{legend.lower()}’ date must be a real date, for example 27 3 2025"
                    errors.append({"text": f.error, "href": f"#{name}-day"})
            fields.append(f)
        start, end = fields
        if start.value and end.value and end.value < start.value:
            end.error = "The ‘to’ date must be the same as or after the ‘from’ date"
            end.value = None
            errors.append({"text": end.error, "href": "#to-day"})
        try:
            page = max(1, min(10_000, int(q.get("page", "1"))))
        except ValueError:
            page = 1
        return cls(kind, start, end, page, errors)

    def apply(self, entries: list[StoredEntry]) -> list[StoredEntry]:
        """Newest first, of the kind and between the dates asked for (days in Europe/London)."""
        out = []
        for e in entries:
            day = e.data.occurred_at.astimezone(LONDON).date()
            if self.kind and e.data.kind.value != self.kind:
                continue
            if self.start.value and day < self.start.value:
                continue
            if self.end.value and day > self.end.value:
                continue
            out.append(e)
        out.sort(key=lambda e: (e.data.occurred_at, e.recorded_at), reverse=True)
        return out

    def href(self, **changes: object) -> str:
        pairs: list[tuple[str, str]] = []
        if self.kind:
            pairs.append(("kind", self.kind))
        for f in (self.start, self.end):
            if f.value:
                pairs += [(f"{f.name}-day", f.day), (f"{f.name}-month", f.month), (f"{f.name}-year", f.year)]
        page = changes.get("page", self.page)
        if page != 1:
            pairs.append(("page", str(page)))
        return f"?{urlencode(pairs)}" if pairs else ""
