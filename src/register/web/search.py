"""The investigator's search: a form for every criterion of the query model (search/query.py), the results
with why each person matched, paging, opening a result under the enquiry, a CSV export, and the operation's
saved searches.

Criteria are personal data: the form POSTs them; the page keeps them in the server-side session under an
opaque search id, so a results link carries only that id and a page number. The purpose (the operation's
reference) is asked on the form before the first search and kept for the session's enquiry; it goes with every
search, export, saved search and every record opened from the results. Every search and export is the search
API's use case (`search.service`), audited there; saved searches are `saved_searches.service`.
"""

from __future__ import annotations

import datetime as dt
import html
import math
import re
import secrets
import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from ..access.policy import Policy
from ..api.deps import request_id
from ..api.routing import APIRouter
from ..domain.actors import Principal
from ..domain.enums import BodyLocation, IdentifierKind, MarkKind
from ..domain.errors import DomainError, NotFound, field_errors
from ..exports import to_csv
from ..photos import service as photo_service
from ..saved_searches import service as saved
from ..saved_searches.schemas import NAME_MAX, OPERATION_MAX, NewSavedSearch
from ..search import query as q
from ..search import service as search_service
from ..search.backend import SearchUnavailable
from ..search.schemas import SearchResults
from ..usecase.guard import Refused, authorize
from . import sessions
from .caseload import today_in_london
from .common import (
    PageGuard,
    PageProblem,
    SignedIn,
    flash,
    local_path,
    page_count,
    page_links,
    redirect,
    render,
    verify_csrf,
    work,
)
from .forms import Field, Form, choices
from .forms import read as read_form
from .pages import label, long_date
from .record import keep_purpose, session_purpose

router = APIRouter(include_in_schema=False, dependencies=[Depends(verify_csrf)])

ENQUIRY = "register.search.enquiry"  # session.data key: the enquiry's purpose (the operation's reference)
SEARCHES = "register.searches"  # session.data key: {opaque search id: the search, kept server-side}
KEEP = 20  # searches a session keeps (the oldest is forgotten)
PAGE_SIZE = 20
ACTION = "record.search"

# Places a radius can be drawn around: town centres (WGS84). The register holds no gazetteer; a force adds
# its own places here.
PLACES: dict[str, tuple[str, float, float]] = {
    "ashford": ("Ashford, Kent", 51.1465, 0.8750),
    "basildon": ("Basildon", 51.5761, 0.4886),
    "canterbury": ("Canterbury", 51.2802, 1.0789),
    "chatham": ("Chatham", 51.3781, 0.5263),
    "chelmsford": ("Chelmsford", 51.7356, 0.4685),
    "colchester": ("Colchester", 51.8959, 0.8919),
    "dartford": ("Dartford", 51.4462, 0.2169),
    "dover": ("Dover", 51.1279, 1.3134),
    "folkestone": ("Folkestone", 51.0814, 1.1695),
    "gillingham": ("Gillingham, Kent", 51.3890, 0.5486),
    "gravesend": ("Gravesend", 51.4416, 0.3707),
    "harlow": ("Harlow", 51.7727, 0.1023),
    "maidstone": ("Maidstone", 51.2720, 0.5292),
    "margate": ("Margate", 51.3813, 1.3862),
    "southend": ("Southend-on-Sea", 51.5459, 0.7077),
    "tunbridge-wells": ("Tunbridge Wells", 51.1324, 0.2637),
}

NAME_PARTS = [
    ("any", "Any part of a name"),
    ("surname", "Surname only"),
    ("forenames", "Forenames only"),
]
IDENTIFIER_LABELS = {
    "pnc": "PNC number",
    "cro": "CRO number",
    "ni": "National Insurance number",
    "passport": "Passport number",
    "prison_number": "Prison number",
    "probation_case": "Probation case reference",
}
TEXT_SOURCES = [
    ("chronology", "Chronology entries"),
    ("intelligence", "Intelligence"),
    ("risk", "Risk assessments"),
    ("plans", "Risk management plans"),
    ("modus_operandi", "Modus operandi"),
    ("marks", "Descriptions of marks"),
    ("employment", "Employment"),
]

NAME_MODES = [
    ("exact", "Exact spelling"),
    ("phonetic", "Sounds like (phonetic)"),
    ("fuzzy", "Similar spelling (one or two letters different)"),
    ("nickname", "Nicknames and formal forms (Danny finds Daniel)"),
]


def _fields() -> list[Field]:
    marks = choices(MarkKind)
    locations = choices(BodyLocation)
    return [
        Field(
            "purpose",
            "Operation reference",
            hint="The purpose of these searches: the operation or enquiry reference. It is kept for this "
            "session's enquiry and recorded in the audit log with every search, export and record you open.",
        ),
        Field(
            "name",
            "Name",
            hint="Forenames, surname or both, in any order. An initial (J. Smith) finds a forename "
            "beginning with it; a star ends a beginning (Smi*). Other names on the record (aliases, "
            "nicknames, birth and married names) are always searched too.",
        ),
        Field("name_mode", "How to match the name", kind="radios", options=NAME_MODES),
        Field("name_part", "Which part of the name", kind="radios", options=NAME_PARTS),
        Field("dob", "Date of birth", kind="date", hint="For example, 17 3 1984"),
        Field("dob_transposed", "Also match the date with the day and month swapped", kind="checkbox"),
        Field(
            "dob_year",
            "Year of birth",
            hint="Instead of a whole date, for example 1984",
            classes="govuk-input--width-4",
        ),
        Field("dob_either_side", "Also a year before or after", kind="checkbox"),
        Field("age_min", "Age from", classes="govuk-input--width-3"),
        Field("age_max", "Age to", classes="govuk-input--width-3"),
        Field("mark_kind", "Kind of mark", kind="select", options=marks),
        Field("mark_location", "Where on the body", kind="select", options=locations),
        Field("mark_text", "Description of the mark contains", hint="For example, rose or dragon"),
        Field(
            "vrm",
            "Registration mark (or part of it)",
            hint="Use ? for one unknown character and * for any run of them, for example GK19* or G?19XBW",
            classes="govuk-input--width-10",
        ),
        Field(
            "vrm_partial",
            "The characters begin or end the mark (a part seen from either end)",
            kind="checkbox",
        ),
        Field("vehicle_make", "Make", classes="govuk-input--width-10"),
        Field("vehicle_colour", "Colour", classes="govuk-input--width-10"),
        Field(
            "postcode",
            "Postcode",
            hint="A full postcode, a sector (ME16 8) or a district (ME16)",
            classes="govuk-input--width-10",
        ),
        Field(
            "place",
            "Around a place",
            kind="select",
            options=[(k, v[0]) for k, v in PLACES.items()],
        ),
        Field("radius", "Radius in kilometres", hint="Up to 100", classes="govuk-input--width-4"),
        Field(
            "online", "Online identifier", hint="A username or handle, or part of one (at least 3 characters)"
        ),
        Field(
            "phone",
            "Telephone number",
            hint="With or without spaces, +44 or the leading 0",
            classes="govuk-input--width-20",
        ),
        Field("phone_partial", "Match part of the number", kind="checkbox"),
        Field(
            "identifier_kind",
            "Kind of identifier",
            kind="select",
            options=choices(IdentifierKind, IDENTIFIER_LABELS),
        ),
        Field(
            "identifier",
            "Identifier",
            hint="For example a PNC number 2003/0412876X or a passport number",
            classes="govuk-input--width-20",
        ),
        Field("offence", "Offence contains", hint="Words of the offence, for example wounding"),
        Field(
            "text",
            "Words recorded about them",
            hint="Every word must be in one entry: a chronology entry, intelligence, a risk assessment or "
            "plan, a modus operandi, a mark's description or employment. Whole words in any order; only what "
            "you may read is searched.",
        ),
        Field("text_source", "Where the words are recorded", kind="select", options=TEXT_SOURCES),
        Field(
            "category",
            "MAPPA category",
            kind="select",
            options=[("1", "Category 1"), ("2", "Category 2"), ("3", "Category 3")],
        ),
        Field(
            "level",
            "MAPPA level",
            kind="select",
            options=[("1", "Level 1"), ("2", "Level 2"), ("3", "Level 3")],
        ),
        Field(
            "combine",
            "Find people who match",
            kind="radios",
            options=[("all", "All of these"), ("any", "Any of these")],
        ),
        Field(
            "sort",
            "Order the results by",
            kind="radios",
            options=[("relevance", "How many criteria they meet, and how well"), ("surname", "Surname")],
        ),
        Field("include_archived", "Include archived and deceased people's records", kind="checkbox"),
    ]


# Which fieldset each field is shown in, in order.
FIELDSETS: list[tuple[str, str, list[str]]] = [
    ("names", "Name and other names", ["name", "name_mode", "name_part"]),
    (
        "birth",
        "Date of birth or age",
        ["dob", "dob_transposed", "dob_year", "dob_either_side", "age_min", "age_max"],
    ),
    ("identifiers", "Identifiers", ["identifier_kind", "identifier"]),
    ("marks", "Marks, scars and tattoos", ["mark_kind", "mark_location", "mark_text"]),
    ("vehicles", "Vehicles", ["vrm", "vrm_partial", "vehicle_make", "vehicle_colour"]),
    ("addresses", "Addresses", ["postcode", "place", "radius"]),
    ("contacts", "Online identifiers and telephone numbers", ["online", "phone", "phone_partial"]),
    ("offences", "Offences", ["offence"]),
    ("text", "Words recorded about them", ["text", "text_source"]),
    ("mappa", "MAPPA category and level", ["category", "level"]),
]
DEFAULTS = {"name_mode": "exact", "name_part": "any", "combine": "all", "sort": "relevance"}
CHECKBOXES = ("dob_transposed", "dob_either_side", "vrm_partial", "phone_partial", "include_archived")


# ------------------------------------------------------------------ the session's enquiry and searches


def _data(request: Request) -> dict[str, Any]:
    session = sessions.current(request)
    return session.data if session is not None else {}


def enquiry(request: Request) -> str | None:
    """The purpose this session stated for its searches (the operation's reference), if any."""
    value = _data(request).get(ENQUIRY)
    return value if isinstance(value, str) else None


def _searches(request: Request) -> dict[str, dict[str, Any]]:
    kept: dict[str, dict[str, Any]] = _data(request).setdefault(SEARCHES, {})
    return kept


def _keep(request: Request, search: dict[str, Any]) -> str:
    """Keep a search in the session under a new opaque id (the oldest beyond KEEP forgotten)."""
    kept = _searches(request)
    while len(kept) >= KEEP:
        kept.pop(next(iter(kept)))
    search_id = secrets.token_urlsafe(12)
    kept[search_id] = search
    return search_id


def _kept(request: Request, search_id: str) -> dict[str, Any]:
    found = _searches(request).get(search_id)
    if found is None:
        raise PageProblem(
            404,
            "This search has ended",
            "Searches are kept only for the session they were made in. Start a new search.",
        )
    return found


class SearchPage(PageGuard):
    """The policy's `record.search`. Searching always states a purpose: a role that may search but has not
    yet given one for this session is shown the form, which asks for it; a role that may not search gets the
    refusal page (audited)."""

    def __call__(self, request: Request, principal: SignedIn) -> Principal:  # type: ignore[override]
        policy: Policy = request.app.state.policy
        purpose = enquiry(request)
        decision = policy.decide(principal, self.action, purpose=purpose)
        if decision.allowed or decision.rule == "purpose_required":
            return principal  # (without a purpose yet: allowed once one is given, and the form asks for it)
        try:  # refused: the guard audits the refusal, as the API's does
            with work(request) as uow:
                authorize(
                    uow, policy, principal, self.action, purpose=purpose, request_id=request_id(request)
                )
        except Refused as refused:
            raise PageProblem(
                refused.status, "You cannot see this page", refused.reason, rule=refused.rule
            ) from None
        return principal


Searcher = Annotated[Principal, Depends(SearchPage(ACTION))]


class _ToForm(Exception):
    """No enquiry purpose in this session (yet, or any more): back to the form, which asks for it."""


# ------------------------------------------------------------------ reading the form into a query


@dataclass
class Built:
    request: q.SearchRequest | None
    labels: list[str]
    purpose: str | None


def _number(form: Form, name: str, answers: dict[str, Any], low: float, high: float, whole: bool) -> Any:
    raw = answers.get(name)
    if raw is None:
        return None
    f = form.field(name)
    try:
        value: float = int(raw) if whole else float(raw)
        if not math.isfinite(value):
            raise ValueError(raw)
    except ValueError:
        form.add_error(name, f"{f.label} must be a {'whole ' if whole else ''}number, for example 30")
        return None
    if not low <= value <= high:
        form.add_error(name, f"{f.label} must be between {low:g} and {high:g}")
        return None
    return value


# The words for the query model's own rules, by rule; otherwise the model's message.
WORDS = {
    "name_letters": "The name must contain letters",
    "vrm_pattern": "The registration mark needs at least one letter or digit",
    "postcode_format": "Enter a full postcode, a sector (ME16 8) or a district (ME16)",
    "string_too_short": "{label} must be at least {min} characters",
    "string_too_long": "{label} is too long",
    "text_words": "The words recorded about them must contain a letter or a digit",
    "text_too_many_words": "Enter at most 20 words recorded about them",
}


def _criterion(form: Form, model: Any, data: dict[str, Any], fields: dict[str, str], first: str) -> Any:
    """One criterion from the answers, or None with its problems beside their fields (the model's field names
    mapped to the form's by `fields`; otherwise beside `first`)."""
    try:
        return model.model_validate(data)
    except (ValidationError, DomainError) as exc:
        for problem in field_errors(exc):
            target = first
            for part in reversed(problem["field"].split(".")):
                if part in fields:
                    target = fields[part]
                    break
            f = form.field(target)
            template = WORDS.get(problem["rule"])
            message = (
                template.format(label=f.label, min=3)
                if template
                else problem["message"][:1].upper() + problem["message"][1:]
            )
            form.add_error(target, message)
        return None


def build(form: Form, values: dict[str, Any]) -> Built:
    """The form's answers as a search request, a label for each criterion (for "why it matched"), and the
    purpose; problems go on the form, each beside its field, naming the rule."""
    answers = read_form(form, values)
    purpose = answers.get("purpose")
    if not purpose:
        form.add_error("purpose", "Enter the operation reference: the purpose of this search")
    elif len(purpose) > OPERATION_MAX:
        form.add_error("purpose", f"The operation reference must be {OPERATION_MAX} characters or fewer")
    criteria: list[tuple[str, Any]] = []

    def add(label_: str, model: Any, data: dict[str, Any], fields: dict[str, str], first: str) -> None:
        made = _criterion(form, model, data, fields, first)
        if made is not None:
            criteria.append((label_, made))

    if answers.get("name"):
        add(
            "Name",
            q.Name,
            {
                "value": answers["name"],
                "mode": answers.get("name_mode") or "exact",
                "part": answers.get("name_part") or "any",
            },
            {"value": "name", "mode": "name_mode", "part": "name_part"},
            "name",
        )
    year = _number(form, "dob_year", answers, 1900, 2100, True)
    if answers.get("dob") and year is not None:
        form.add_error("dob_year", "Enter a date of birth or a year of birth, not both")
    elif answers.get("dob") or year is not None:
        add(
            "Date of birth" if answers.get("dob") else "Year of birth",
            q.DateOfBirth,
            {
                **({"exact": answers["dob"]} if answers.get("dob") else {"year": year}),
                "transposed": answers.get("dob_transposed", False),
                "year_either_side": answers.get("dob_either_side", False),
            },
            {"exact": "dob", "year": "dob_year"},
            "dob" if answers.get("dob") else "dob_year",
        )
    if (answers.get("dob_transposed") and not answers.get("dob")) or (
        answers.get("dob_either_side") and not answers.get("dob") and year is None
    ):
        form.add_error(
            "dob_transposed"
            if answers.get("dob_transposed") and not answers.get("dob")
            else "dob_either_side",
            "Enter the date of birth (or, for a year either side, the year of birth) this applies to",
        )
    if answers.get("identifier") or answers.get("identifier_kind"):
        if not answers.get("identifier_kind"):
            form.add_error("identifier_kind", "Choose the kind of identifier")
        elif not answers.get("identifier"):
            form.add_error("identifier", "Enter the identifier")
        else:
            add(
                "Identifier",
                q.Identifier,
                {"kind": answers["identifier_kind"], "value": answers["identifier"]},
                {"value": "identifier", "kind": "identifier_kind"},
                "identifier",
            )
    age_min = _number(form, "age_min", answers, 0, 120, True)
    age_max = _number(form, "age_max", answers, 0, 120, True)
    if age_min is not None or age_max is not None:
        if age_min is not None and age_max is not None and age_max < age_min:
            form.add_error("age_max", "Age to must be the same as or more than age from")
        else:
            add(
                "Age",
                q.Age,
                {
                    "min": age_min if age_min is not None else 0,
                    "max": age_max if age_max is not None else 120,
                },
                {"min": "age_min", "max": "age_max"},
                "age_min",
            )
    if answers.get("mark_kind") or answers.get("mark_location") or answers.get("mark_text"):
        add(
            "Mark",
            q.Mark,
            {
                "kind": answers.get("mark_kind"),
                "location": answers.get("mark_location"),
                "text": answers.get("mark_text"),
            },
            {"kind": "mark_kind", "location": "mark_location", "text": "mark_text"},
            "mark_text",
        )
    if answers.get("vrm") or answers.get("vehicle_make") or answers.get("vehicle_colour"):
        add(
            "Vehicle",
            q.Vehicle,
            {
                "vrm": answers.get("vrm"),
                "partial": answers.get("vrm_partial", False),
                "make": answers.get("vehicle_make"),
                "colour": answers.get("vehicle_colour"),
            },
            {"vrm": "vrm", "make": "vehicle_make", "colour": "vehicle_colour"},
            "vrm",
        )
    radius = _number(form, "radius", answers, 0.1, 100, False)
    place = answers.get("place")
    if radius is not None and not place:
        form.add_error("place", "Choose the place the radius is drawn around")
    if place and answers.get("radius") is None:
        form.add_error("radius", "Enter the radius in kilometres around the place")
    if answers.get("postcode") or (place and radius is not None):
        near = None
        if place and radius is not None:
            _, lat, lon = PLACES[place]
            near = {"latitude": lat, "longitude": lon, "radius_km": radius}
        add(
            "Address",
            q.Address,
            {"postcode": answers.get("postcode"), "near": near},
            {"postcode": "postcode", "near": "radius"},
            "postcode" if answers.get("postcode") else "place",
        )
    if answers.get("online"):
        add(
            "Online identifier",
            q.Contact,
            {"kind": "online_identity", "value": answers["online"], "partial": True},
            {"value": "online"},
            "online",
        )
    if answers.get("phone"):
        add(
            "Telephone",
            q.Contact,
            {"kind": "phone", "value": answers["phone"], "partial": answers.get("phone_partial", False)},
            {"value": "phone"},
            "phone",
        )
    if answers.get("offence"):
        add("Offence", q.Offence, {"text": answers["offence"]}, {"text": "offence"}, "offence")
    if answers.get("text"):
        add(
            "Words recorded about them",
            q.FreeText,
            {
                "text": answers["text"],
                **({"sources": [answers["text_source"]]} if answers.get("text_source") else {}),
            },
            {"text": "text", "sources": "text_source"},
            "text",
        )
    elif answers.get("text_source"):
        form.add_error("text", "Enter the words to look for where they are recorded")
    if answers.get("category") or answers.get("level"):
        add(
            "MAPPA",
            q.Management,
            {
                "mappa_category": int(answers["category"]) if answers.get("category") else None,
                "mappa_level": int(answers["level"]) if answers.get("level") else None,
            },
            {"mappa_category": "category", "mappa_level": "level"},
            "category",
        )
    if not criteria and len(form.errors) == (1 if form.field("purpose").error else 0):
        form.add_error(
            "name", "Enter at least one thing to search for: a name, a date of birth, a vehicle..."
        )
    if not form.valid:
        return Built(None, [], purpose)
    request = q.SearchRequest(
        query=q.Group(
            op="or" if answers.get("combine") == "any" else "and",
            criteria=[c for _, c in criteria],
        ),
        include_archived=answers.get("include_archived", False),
        sort="surname" if answers.get("sort") == "surname" else "relevance",
    )
    return Built(request, [lbl for lbl, _ in criteria], purpose)


def _form_values(values: Any) -> dict[str, Any]:
    """The answers to keep (to show the form again): strings only, the CSRF token left out."""
    return {
        k: v[:2000] for k, v in values.items() if isinstance(v, str) and k != "csrf_token" and len(k) <= 40
    }


# ------------------------------------------------------------------ the form


def _form_page(
    request: Request,
    principal: Principal,
    form: Form,
    *,
    status_code: int = 200,
    watch_error: dict[str, Any] | None = None,
) -> HTMLResponse:
    purpose = enquiry(request)
    saved_list = []
    watches: dict[uuid.UUID, saved.Watch] = {}
    if purpose:
        with work(request) as uow:
            saved_list = saved.for_operation(
                uow, principal, request.app.state.policy, operation=purpose, request_id=request_id(request)
            )
            if any(s.created_by == principal.user_id for s in saved_list):
                watches = {
                    w.saved_search_id: w
                    for w in saved.my_watches(
                        uow,
                        principal,
                        request.app.state.policy,
                        operation=purpose,
                        request_id=request_id(request),
                    )
                }
    return render(
        request,
        "pages/search/form.html",
        {
            "title": ("Error: " if form.errors else "") + "Search the register",
            "form": form,
            "by_name": {f.name: f for f in form.fields},
            "fieldsets": FIELDSETS,
            "enquiry": purpose,
            "saved": saved_list,
            "watches": watches,
            "watch_error": watch_error,
            "watch_days": saved.WATCH_DAYS,
            "user_id": principal.user_id,
            "purpose_max": OPERATION_MAX,
        },
        status_code=status_code,
    )


@router.get("/search", response_class=HTMLResponse)
def search_form(request: Request, principal: Searcher, search: str | None = None) -> HTMLResponse:
    """The search form: empty (the enquiry's purpose filled in), or a kept search's answers to change."""
    values: dict[str, Any] = dict(DEFAULTS)
    if search is not None:
        kept = _searches(request).get(search)
        if kept is not None:
            values = {**values, **kept.get("form", {})}
    values["purpose"] = values.get("purpose") or enquiry(request) or ""
    return _form_page(request, principal, Form(_fields()).fill(values))


@router.post("/search", response_class=HTMLResponse)
async def run_search(request: Request, principal: Searcher) -> Response:
    raw = await request.form()
    values = _form_values(raw)
    form = Form(_fields()).fill({**DEFAULTS, **values})
    built = build(form, values)
    if built.request is None or built.purpose is None:
        return _form_page(request, principal, form, status_code=422)
    _data(request)[ENQUIRY] = built.purpose
    search_id = _keep(
        request,
        {
            "request": built.request.model_dump(mode="json", include={"query", "include_archived", "sort"}),
            "labels": built.labels,
            "form": {k: v for k, v in values.items() if k != "purpose"},
            "cursors": {},
        },
    )
    return redirect(f"/search/{search_id}")


# ------------------------------------------------------------------ the results


def _request(kept: dict[str, Any], page: int) -> q.SearchRequest:
    """The kept search for one page: by number within the result window, by the cursor its previous page
    gave beyond it."""
    base = {**kept["request"], "page_size": PAGE_SIZE}
    if page * PAGE_SIZE <= q.RESULT_WINDOW:
        built = q.SearchRequest.model_validate({**base, "page": page})
    else:
        cursor = kept.get("cursors", {}).get(str(page))
        if cursor is None:
            raise PageProblem(404, "Page not found", "Go through the pages in order to reach this one.")
        built = q.SearchRequest.model_validate({**base, "cursor": cursor})
    only = kept.get("only")  # a watched search's new matches: the search among those records only
    return built if only is None else built.restricted_to(uuid.UUID(i) for i in only)


_MATCH = re.compile(r"^(\d+):(\w+)(?: \((.*)\))?$")


_MARKED = re.compile(r"<mark>(.*?)</mark>", re.S)


def marked(fragment: str) -> list[tuple[str, bool]]:
    """A highlight as the API gives it (HTML-escaped text, the words found in <mark>) as plain pieces, each
    with whether it is a word found: the page escapes them again and marks them itself, so nothing of the
    text is ever rendered as markup."""
    out: list[tuple[str, bool]] = []
    for i, part in enumerate(_MARKED.split(fragment)):
        if part:
            out.append((html.unescape(part), i % 2 == 1))
    return out


def why(
    matched: list[str],
    labels: list[str],
    how: dict[str, str] | None = None,
    highlight: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    """The API's "why it matched" (`0:vehicle (vehicle GK19XBW)`), criterion by criterion, in the form's
    words, with how each matched (`how`: "pattern", "exact hartley", "stephen sounds like stevens (soundex)")
    and, for free text, the words where they were found (Elasticsearch's highlight, when there is one).
    """
    out: list[dict[str, Any]] = []
    for m in matched:
        found = _MATCH.match(m)
        if found is None:
            out.append({"criterion": m, "item": "", "how": "", "highlight": []})
            continue
        index, kind, item = int(found.group(1)), found.group(2), found.group(3) or ""
        name = labels[index] if index < len(labels) else label(kind)
        key = f"{index}:{kind}"
        out.append(
            {
                "criterion": name,
                "item": item,
                "how": (how or {}).get(key, ""),
                "highlight": marked((highlight or {}).get(key, "")),
            }
        )
    return out


def _run(request: Request, principal: Principal, kept: dict[str, Any], page: int, purpose: str) -> Any:
    search_request = _request(kept, page)
    try:
        with work(request) as uow:
            results = search_service.search(
                uow,
                principal,
                request.app.state.policy,
                request.app.state.search_backend,
                request.app.state.search_backend_name,
                search_request,
                purpose=purpose,
                request_id=request_id(request),
            )
            policy: Policy = request.app.state.policy
            photographs = (
                photo_service.current_photo_ids(
                    uow, [h.id for h in results.hits], audience=policy.visibility(principal).audience
                )
                if policy.section_allows(principal, "photographs", "read")
                else {}
            )
    except SearchUnavailable:
        raise PageProblem(
            503, "Search is not working", "The search engine is not answering. Try again shortly."
        ) from None
    except DomainError as exc:  # the engine refused the query as too costly
        raise PageProblem(400, "This search cannot be run", exc.message, rule=exc.rule) from None
    if results.next_cursor is not None:
        kept.setdefault("cursors", {})[str(page + 1)] = results.next_cursor
    return results, photographs


def _results_page(
    request: Request,
    principal: Principal,
    search_id: str,
    page: int,
    *,
    save_error: str | None = None,
    save_value: str = "",
) -> HTMLResponse:
    kept = _kept(request, search_id)
    purpose = enquiry(request)
    if not purpose:
        raise _ToForm()
    results, photographs = _run(request, principal, kept, page, purpose)
    total: int = results.total
    pages = page_count(total, PAGE_SIZE)
    pagination = page_links(
        page,
        size=PAGE_SIZE,
        total=total,
        shown=len(results.hits),
        href=lambda n: f"/search/{search_id}?page={n}",
        noun="people",
        label="Search results pages",
    )
    labels = kept.get("labels", [])
    for h in results.hits:
        # The thumbnails are views of the records (audited by the image route with the record's purpose in
        # this session): shown here, they are viewed under the enquiry unless a purpose was stated for them.
        if h.id in photographs and session_purpose(request, h.id) is None:
            keep_purpose(request, h.id, purpose)
    rows = [
        {
            "hit": h,
            "why": why(h.matched, labels, h.how, h.highlight),
            "photo": h.id in photographs,
            "area": label(h.owning_area),
        }
        for h in results.hits
    ]
    return render(
        request,
        "pages/search/results.html",
        {
            "title": ("Error: " if save_error else "")
            + "Search results"
            + (f" (page {page} of {pages})" if pages > 1 else ""),
            "search_id": search_id,
            "results": results,
            "rows": rows,
            "pagination": pagination,
            "criteria": _summary(kept),
            "enquiry": purpose,
            "today": today_in_london(),
            "save_error": save_error,
            "save_value": save_value,
            "name_max": NAME_MAX,
            "page": page,
            "watched": kept.get("watched"),
        },
        status_code=422 if save_error else 200,
    )


def _summary(kept: dict[str, Any]) -> list[dict[str, str]]:
    """What was searched for, criterion by criterion, as the form's answers (shown above the results)."""
    answers = kept.get("form", {})
    rows = []
    for f in _fields():
        if f.name in ("purpose", "name_mode", "name_part", "combine", "sort", *CHECKBOXES):
            continue
        if f.kind == "date":
            parts = [answers.get(f"{f.name}-{p}", "") for p in ("day", "month", "year")]
            value = " ".join(p for p in parts if p)
        else:
            value = answers.get(f.name, "")
            if value and f.options:
                value = dict(f.options).get(value, value)
        if value:
            if f.name == "name":
                value += f" ({dict(NAME_MODES).get(answers.get('name_mode', 'exact'), '').lower()})"
                if answers.get("name_part") in ("surname", "forenames"):
                    value += f", {dict(NAME_PARTS)[answers['name_part']].lower()}"
            if f.name in ("dob", "dob_year") and answers.get("dob_either_side"):
                value += ", or a year either side"
            if f.name == "dob" and answers.get("dob_transposed"):
                value += ", or with day and month swapped"
            if f.name == "vrm" and answers.get("vrm_partial"):
                value += " (the beginning or end of the mark)"
            rows.append({"key": f.label, "value": value})
    rows.append(
        {
            "key": "Find people who match",
            "value": "Any of these" if answers.get("combine") == "any" else "All of these",
        }
    )
    return rows


@router.get("/search/{search_id}", response_class=HTMLResponse)
def results_page(request: Request, search_id: str, principal: Searcher, page: str = "1") -> Response:
    number = int(page) if page.isdigit() and len(page) <= 6 else 1  # not a page number: the first page
    try:
        return _results_page(request, principal, search_id, max(1, number))
    except _ToForm:
        return redirect("/search")


@router.get("/search/{search_id}/records/{nominal_id}")
def open_result(request: Request, search_id: str, nominal_id: uuid.UUID, principal: Searcher) -> Response:
    """Open a result under the enquiry's purpose: the record's pages do not ask for it again."""
    _kept(request, search_id)
    purpose = enquiry(request)
    if not purpose:
        return redirect("/search")
    keep_purpose(request, nominal_id, purpose)
    return redirect(f"/records/{nominal_id}")


@router.post("/search/{search_id}/export")
def export(request: Request, search_id: str, principal: Searcher) -> Response:
    """The whole result list as CSV: a disclosure, audited by the search's use case with the purpose."""
    kept = _kept(request, search_id)
    purpose = enquiry(request)
    if not purpose:
        return redirect("/search")
    try:
        with work(request) as uow:
            results: SearchResults = search_service.export_results(
                uow,
                principal,
                request.app.state.policy,
                request.app.state.search_backend,
                request.app.state.search_backend_name,
                q.SearchRequest.model_validate(kept["request"]),
                purpose=purpose,
                request_id=request_id(request),
            )
    except SearchUnavailable:
        raise PageProblem(
            503, "Search is not working", "The search engine is not answering. Try again shortly."
        ) from None
    labels = kept.get("labels", [])
    columns = [
        "id",
        "surname",
        "forenames",
        "date_of_birth",
        "owning_area",
        "mappa_category",
        "mappa_level",
        "status",
        "why_matched",
    ]
    rows = [
        {
            **hit.model_dump(mode="json"),
            "owning_area": label(hit.owning_area),
            "why_matched": "; ".join(
                w["criterion"] + (f": {w['item']}" if w["item"] else "") for w in why(hit.matched, labels)
            ),
        }
        for hit in results.hits
    ]
    return Response(
        to_csv(columns, rows),
        media_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="search-results.csv"'},
    )


# ------------------------------------------------------------------ saved searches


@router.post("/search/{search_id}/save", response_class=HTMLResponse)
async def save_search(request: Request, search_id: str, principal: Searcher) -> Response:
    kept = _kept(request, search_id)
    purpose = enquiry(request)
    if not purpose:
        return redirect("/search")
    raw = (await request.form()).get("name")
    name = raw.strip() if isinstance(raw, str) else ""
    error = None
    if not name:
        error = "Enter a name for the saved search"
    elif len(name) > NAME_MAX:
        error = f"The name must be {NAME_MAX} characters or fewer"
    if error:
        return _results_page(request, principal, search_id, 1, save_error=error, save_value=name)
    with work(request) as uow:
        saved.save(
            uow,
            principal,
            request.app.state.policy,
            NewSavedSearch(
                name=name,
                request=q.SearchRequest.model_validate(kept["request"]),
                labels=kept.get("labels", []),
                form=kept.get("form", {}),
            ),
            operation=purpose,
            request_id=request_id(request),
        )
    flash(request, f"Search saved as ‘{name}’ for {purpose}")
    return redirect(f"/search/{search_id}")


@router.post("/search/saved/{saved_id}/run")
def run_saved(request: Request, saved_id: uuid.UUID, principal: Searcher) -> Response:
    """Run a saved search again: its criteria become a new search of this session."""
    purpose = enquiry(request)
    if not purpose:
        return redirect("/search")
    try:
        with work(request) as uow:
            found = saved.open_for_run(
                uow,
                principal,
                request.app.state.policy,
                saved_id,
                operation=purpose,
                request_id=request_id(request),
            )
    except NotFound:
        raise PageProblem(
            404, "Page not found", "There is no such saved search for this operation."
        ) from None
    search_id = _keep(
        request,
        {
            "request": found.request.model_dump(mode="json", include={"query", "include_archived", "sort"}),
            "labels": found.labels,
            "form": found.form,
            "cursors": {},
            "saved": found.name,
        },
    )
    return redirect(f"/search/{search_id}")


@router.post("/search/saved/{saved_id}/delete")
def delete_saved(request: Request, saved_id: uuid.UUID, principal: Searcher) -> Response:
    purpose = enquiry(request)
    if not purpose:
        return redirect("/search")
    try:
        with work(request) as uow:
            name = saved.delete(
                uow,
                principal,
                request.app.state.policy,
                saved_id,
                operation=purpose,
                request_id=request_id(request),
            )
    except NotFound:
        raise PageProblem(
            404, "Page not found", "There is no such saved search for this operation."
        ) from None
    flash(request, f"Saved search ‘{name}’ deleted")
    return redirect("/search")


# ------------------------------------------------------------------ watched searches


def _until(values: dict[str, str]) -> tuple[dt.date | None, str | None]:
    """The "watch until" date from its three boxes, or the problem with it."""
    day, month, year = (values.get(k, "").strip() for k in ("day", "month", "year"))
    if not (day or month or year):
        return None, "Enter the date to watch this search until"
    if not (day.isdigit() and month.isdigit() and year.isdigit() and len(year) == 4):
        return None, "The date to watch until must be a real date, like 27 3 2027"
    try:
        until = dt.date(int(year), int(month), int(day))
    except ValueError:
        return None, "The date to watch until must be a real date, like 27 3 2027"
    today = today_in_london()
    if not today < until <= today + dt.timedelta(days=saved.WATCH_DAYS):
        return None, f"The date to watch until must be after today and at most {saved.WATCH_DAYS} days ahead"
    return until, None


@router.post("/search/saved/{saved_id}/watch", response_class=HTMLResponse)
async def watch_saved(request: Request, saved_id: uuid.UUID, principal: Searcher) -> Response:
    """Watch a saved search (or renew its watch) until a date: new matches are told on the home page."""
    purpose = enquiry(request)
    if not purpose:
        return redirect("/search")
    raw = await request.form()
    values = {k: str(raw.get(f"until-{k}") or "") for k in ("day", "month", "year")}
    until, error = _until(values)
    if until is None:
        form = Form(_fields()).fill({**DEFAULTS, "purpose": purpose})
        return _form_page(
            request,
            principal,
            form,
            status_code=422,
            watch_error={"id": saved_id, "text": error, "values": values},
        )
    try:
        with work(request) as uow:
            watch = saved.start_watch(
                uow,
                principal,
                request.app.state.policy,
                request.app.state.search_backend,
                request.app.state.search_backend_name,
                saved_id,
                operation=purpose,
                until=until,
                today=today_in_london(),
                request_id=request_id(request),
            )
    except NotFound:
        raise PageProblem(
            404, "Page not found", "There is no such saved search of yours for this operation."
        ) from None
    except SearchUnavailable:
        raise PageProblem(
            503, "Search is not working", "The search engine is not answering. Try again shortly."
        ) from None
    except DomainError as exc:  # too broad to watch
        raise PageProblem(400, "This search cannot be watched", exc.message, rule=exc.rule) from None
    flash(request, f"Watching ‘{watch.name}’ until {long_date(watch.until)}")
    return redirect("/search")


@router.post("/search/saved/{saved_id}/unwatch")
async def unwatch_saved(request: Request, saved_id: uuid.UUID, principal: Searcher) -> Response:
    """Stop watching a saved search (from the search page or the home page)."""
    raw = await request.form()
    back = local_path(str(raw.get("next") or "/search"))
    try:
        with work(request) as uow:
            watch = saved.end_watch(
                uow, principal, request.app.state.policy, saved_id, request_id=request_id(request)
            )
    except NotFound:
        raise PageProblem(404, "Page not found", "There is no such watched search of yours.") from None
    flash(request, f"Stopped watching ‘{watch.name}’")
    return redirect(back)


@router.post("/search/watches/{saved_id}/open")
def open_new_matches(request: Request, saved_id: uuid.UUID, principal: Searcher) -> Response:
    """A watched search's new matches as a search of this session, under the operation's purpose: the results
    page lists them (a search audited with the purpose) and opens each as results opened from a search do."""
    try:
        with work(request) as uow:
            watch, found, ids = saved.new_matches(
                uow, principal, request.app.state.policy, saved_id, request_id=request_id(request)
            )
    except NotFound:
        raise PageProblem(404, "Page not found", "There is no such watched search of yours.") from None
    _data(request)[ENQUIRY] = found.operation
    search_id = _keep(
        request,
        {
            "request": found.request.model_dump(mode="json", include={"query", "include_archived", "sort"}),
            "labels": found.labels,
            "form": found.form,
            "cursors": {},
            "saved": found.name,
            "watched": watch.name,
            "only": [str(i) for i in ids],
        },
    )
    return redirect(f"/search/{search_id}")


@router.post("/search/watches/{saved_id}/seen")
def seen_new_matches(request: Request, saved_id: uuid.UUID, principal: Searcher) -> Response:
    try:
        with work(request) as uow:
            watch = saved.mark_seen(
                uow, principal, request.app.state.policy, saved_id, request_id=request_id(request)
            )
    except NotFound:
        raise PageProblem(404, "Page not found", "There is no such watched search of yours.") from None
    flash(request, f"New matches for ‘{watch.name}’ marked as seen")
    return redirect("/")
