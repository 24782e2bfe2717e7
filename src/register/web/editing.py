"""Editing a record on the web: a chronology entry, a home visit with its outcome, an item of the sections an
offender manager changes daily (addresses, vehicles, employment, contacts and online identifiers, associates,
risk assessments), ending an item with a reason, and a new version of the risk management plan.

Every form carries the record's version (and when that version was made); a change is made only against that
version. If someone changed the record meanwhile, the use case refuses it (ConcurrencyConflict, audited) and
the conflict page shows what was added, changed or ended since, with the user's answers kept, and a button to
apply them again against the record as it is now. After a change, a confirmation banner on the page the user
returns to. Pages call the use cases (nominals/service.py) and never commit or audit on their own.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from ..api.deps import request_id
from ..api.routing import APIRouter
from ..domain.actors import Principal
from ..domain.enums import (
    AddressKind,
    Agency,
    AssociateRelationship,
    ChronologyKind,
    ContactKind,
    EmploymentKind,
    Pillar,
    RiskTool,
    VehicleRelationship,
)
from ..domain.errors import ConcurrencyConflict, DomainError, NotFound
from ..domain.record import (
    Address,
    Associate,
    ChronologyEntry,
    Contact,
    Employment,
    Record,
    RiskAssessment,
    RiskPlan,
    Section,
    SectionItem,
    Vehicle,
)
from ..domain.record.management import OffenderManager, PlanAction
from ..nominals import service as nominals
from ..store.uow import UnitOfWork
from ..usecase.guard import Access
from .common import (
    PageGuard,
    SignedIn,
    flash,
    not_found,
    record_access,
    redirect,
    render,
    return_to,
    verify_csrf,
    work,
)
from .forms import Field, Form, choices, posted_version, read
from .pages import label, long_date

router = APIRouter(include_in_schema=False, dependencies=[Depends(verify_csrf)])
LONDON = ZoneInfo("Europe/London")
KEPT = ("csrf_token", "version", "since")  # the form's own fields, not the user's answers

SECTION_LABELS = {
    "chronology": "Chronology",
    "addresses": "Addresses",
    "vehicles": "Vehicles",
    "employment": "Employment",
    "contacts": "Contact details and online identifiers",
    "associates": "Associates",
    "risk_assessments": "Risk assessments",
    "risk_plans": "Risk management plan",
    "photographs": "Photographs",
}
# The record's page for each section (web/record.py): where the user returns after a change.
GROUP_OF = {
    "chronology": "chronology",
    "addresses": "addresses-and-vehicles",
    "vehicles": "addresses-and-vehicles",
    "employment": "addresses-and-vehicles",
    "associates": "addresses-and-vehicles",
    "contacts": "personal-details",
    "risk_assessments": "risk",
    "risk_plans": "plan",
}

VISIT_OUTCOMES = [
    ("seen_no_concerns", "Seen at home: no concerns"),
    ("seen_concerns", "Seen at home: concerns noted"),
    ("address_verified", "Address verified: person not seen"),
    ("not_at_home", "No one at home"),
    ("refused_entry", "Refused entry"),
]
ENTRY_KINDS = [
    ChronologyKind.CONTACT,
    ChronologyKind.HOME_VISIT,
    ChronologyKind.MEETING,
    ChronologyKind.NOTIFICATION,
    ChronologyKind.DISCLOSURE,
    ChronologyKind.ARREST,
    ChronologyKind.CHARGE,
    ChronologyKind.RELEASE,
    ChronologyKind.OTHER,
]


def today() -> dt.date:
    return dt.datetime.now(LONDON).date()


def _since(text: Any) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(str(text))
    except ValueError:
        return None


def occurred_at(answers: Mapping[str, Any]) -> dt.datetime | None:
    day = answers.get("occurred_on")
    if day is None:
        return None
    at = answers.get("occurred_time") or dt.time(12, 0)
    return dt.datetime.combine(day, at, tzinfo=LONDON)


# ------------------------------------------------------------------ the forms


@dataclass
class Editor:
    """One kind of change: its form, how answers become the domain's value, the words of its pages."""

    title: str
    section: str  # the policy's section (record.write on it)
    fields: Callable[[], list[Field]]
    build: Callable[[dict[str, Any], Principal], SectionItem | ChronologyEntry]
    done: str
    submit: str = "Save"


def when_fields(question: str, *, required: bool) -> list[Field]:
    """When a chronology entry happened: its date (`occurred_at`) and, optionally, the time (`_occurred`)."""
    return [
        Field(
            "occurred_on",
            question,
            "date",
            hint="For example, 27 3 2025",
            required=required,
            model=("occurred_at",),
        ),
        Field(
            "occurred_time",
            "Time (optional)",
            "time",
            hint="For example, 14:30",
            classes="govuk-input--width-5",
        ),
    ]


def _entry_fields() -> list[Field]:
    return [
        Field("kind", "What kind of entry is it?", "select", options=choices(ENTRY_KINDS), required=True),
        *when_fields("When did it happen?", required=True),
        Field("summary", "Summary", required=True, hint="One line: what happened"),
        Field("details", "Details (optional)", "textarea"),
    ]


def _entry(answers: dict[str, Any], _: Principal) -> ChronologyEntry:
    return ChronologyEntry(
        occurred_at=occurred_at(answers),
        kind=answers["kind"],
        summary=answers["summary"],
        details=answers["details"],
    )


def _visit_fields() -> list[Field]:
    return [
        *when_fields("Date of the visit", required=True),
        Field("outcome", "Outcome", "radios", options=VISIT_OUTCOMES, required=True, model=("summary",)),
        Field("details", "Notes (optional)", "textarea", hint="Who was present, what was seen, any concerns"),
    ]


def _visit(answers: dict[str, Any], _: Principal) -> ChronologyEntry:
    outcome = dict(VISIT_OUTCOMES).get(answers["outcome"] or "", "")
    return ChronologyEntry(
        occurred_at=occurred_at(answers),
        kind=ChronologyKind.HOME_VISIT,
        summary=f"Home visit. {outcome}",
        details=answers["details"],
    )


def _from() -> Field:
    return Field("date_from", "From", "date", hint="For example, 27 3 2025 (optional)")


ADDRESS_LABELS = {
    "approved_premises": "Approved premises",
    "no_fixed_abode": "No fixed abode",
    "outside_uk": "Outside the UK (a stay abroad: give the country and place)",
}


def _address_fields() -> list[Field]:
    return [
        Field(
            "kind", "Kind of address", "radios", options=choices(AddressKind, ADDRESS_LABELS), required=True
        ),
        Field(
            "lines", "Address", "textarea", hint="One line per line of the address, up to 5", model=("lines",)
        ),
        Field("town", "Town or city", classes="govuk-!-width-two-thirds"),
        Field("postcode", "Postcode", classes="govuk-input--width-10"),
        _from(),
        Field(
            "date_to",
            "To",
            "date",
            hint="The last day there, for example the day of return from abroad or of release (optional)",
        ),
    ]


def _address(a: dict[str, Any], _: Principal) -> Address:
    lines = [line.strip() for line in (a["lines"] or "").splitlines() if line.strip()]
    return Address(
        kind=a["kind"],
        lines=lines,
        town=a["town"],
        postcode=a["postcode"],
        date_from=a["date_from"],
        date_to=a["date_to"],
    )


def _vehicle_fields() -> list[Field]:
    return [
        Field("vrm", "Registration number", required=True, classes="govuk-input--width-10"),
        Field("make", "Make (optional)"),
        Field("model", "Model (optional)"),
        Field("colour", "Colour (optional)"),
        Field(
            "relationship",
            "How are they connected to it?",
            "radios",
            options=choices(VehicleRelationship),
            required=True,
        ),
        _from(),
    ]


def _vehicle(a: dict[str, Any], _: Principal) -> Vehicle:
    return Vehicle(
        vrm=a["vrm"] or "",
        make=a["make"],
        model=a["model"],
        colour=a["colour"],
        relationship=a["relationship"],
        date_from=a["date_from"],
    )


def _employment_fields() -> list[Field]:
    return [
        Field("kind", "Kind", "radios", options=choices(EmploymentKind), required=True),
        Field("organisation", "Organisation", required=True),
        Field("role", "Role (optional)"),
        Field("location", "Where (optional)"),
        Field("access_to_children", "Has access to children", "checkbox"),
        Field("access_to_vulnerable_adults", "Has access to vulnerable adults", "checkbox"),
        _from(),
    ]


def _employment(a: dict[str, Any], _: Principal) -> Employment:
    return Employment(
        kind=a["kind"],
        organisation=a["organisation"] or "",
        role=a["role"],
        location=a["location"],
        access_to_children=a["access_to_children"],
        access_to_vulnerable_adults=a["access_to_vulnerable_adults"],
        date_from=a["date_from"],
    )


CONTACT_LABELS = {"online_identity": "Online identifier (a username or profile)", "device": "Device"}


def _contact_fields() -> list[Field]:
    return [
        Field("kind", "Kind", "radios", options=choices(ContactKind, CONTACT_LABELS), required=True),
        Field("value", "Number, address or username", required=True),
        Field(
            "platform", "Service or device (optional)", hint="For an online identifier: the website or app"
        ),
        _from(),
    ]


def _contact(a: dict[str, Any], _: Principal) -> Contact:
    return Contact(kind=a["kind"], value=a["value"] or "", platform=a["platform"], date_from=a["date_from"])


def _associate_fields() -> list[Field]:
    return [
        Field(
            "relationship", "Relationship", "select", options=choices(AssociateRelationship), required=True
        ),
        Field("forenames", "First names", model=("person",)),
        Field("surname", "Last name", required=True),
        Field("date_of_birth", "Date of birth (optional)", "date", hint="For example, 27 3 2007"),
        Field("notes", "Notes (optional)", "textarea"),
        _from(),
    ]


def _associate(a: dict[str, Any], _: Principal) -> Associate:
    person = {"forenames": a["forenames"], "surname": a["surname"], "date_of_birth": a["date_of_birth"]}
    return Associate.model_validate(
        {
            "relationship": a["relationship"],
            "person": person,
            "notes": a["notes"],
            "date_from": a["date_from"],
        }
    )


def _assessment_fields() -> list[Field]:
    return [
        Field("tool", "Tool", "select", options=choices(RiskTool), required=True),
        Field("assessed_on", "Date of the assessment", "date", hint="For example, 27 3 2025", required=True),
        Field("assessor", "Assessor", required=True),
        Field("outcome", "Outcome (optional)", "textarea"),
        Field("next_review_on", "Next review (optional)", "date", hint="For example, 27 9 2025"),
    ]


def _assessment(a: dict[str, Any], _: Principal) -> RiskAssessment:
    return RiskAssessment.model_validate(
        {k: a[k] for k in ("tool", "assessed_on", "assessor", "outcome", "next_review_on")}
    )


PILLAR_HINTS = {
    Pillar.SUPERVISION: "Contact, home visits, reporting",
    Pillar.MONITORING_AND_CONTROL: "Licence conditions, orders, electronic monitoring, police checks",
    Pillar.INTERVENTIONS_AND_TREATMENT: "Programmes, treatment, support",
    Pillar.VICTIM_SAFETY_PLANNING: "What protects the victims and others at risk",
}


def _plan_fields() -> list[Field]:
    return [
        Field("agreed_on", "Date agreed", "date", hint="For example, 27 3 2025", required=True),
        Field("review_on", "Review by", "date", hint="For example, 27 9 2025", required=True),
        Field("summary", "Summary (optional)", "textarea"),
        *[Field(p.value, label(p), "textarea", hint=PILLAR_HINTS[p], model=()) for p in Pillar],
    ]


def _plan(a: dict[str, Any], principal: Principal) -> RiskPlan:
    actions = [
        PlanAction(pillar=p, description=a[p.value], owner=Agency(principal.agency))
        for p in Pillar
        if a.get(p.value)
    ]
    return RiskPlan.model_validate(
        {
            "agreed_on": a["agreed_on"],
            "review_on": a["review_on"],
            "summary": a["summary"],
            "actions": actions,
        }
    )


EDITORS: dict[str, Editor] = {
    "chronology": Editor(
        "Add a chronology entry", "chronology", _entry_fields, _entry, "Chronology entry added"
    ),
    "visits": Editor("Record a home visit", "chronology", _visit_fields, _visit, "Home visit recorded"),
    "addresses": Editor("Add an address", "addresses", _address_fields, _address, "Address added"),
    "vehicles": Editor("Add a vehicle", "vehicles", _vehicle_fields, _vehicle, "Vehicle added"),
    "employment": Editor("Add employment", "employment", _employment_fields, _employment, "Employment added"),
    "contacts": Editor(
        "Add contact details or an online identifier", "contacts", _contact_fields, _contact, "Contact added"
    ),
    "associates": Editor("Add an associate", "associates", _associate_fields, _associate, "Associate added"),
    "risk_assessments": Editor(
        "Add a risk assessment", "risk_assessments", _assessment_fields, _assessment, "Risk assessment added"
    ),
    "plan": Editor(
        "Update the risk management plan",
        "risk_plans",
        _plan_fields,
        _plan,
        "Risk management plan updated",
        submit="Save a new version of the plan",
    ),
}
ENDABLE = {"addresses", "vehicles", "employment", "contacts", "associates"}


# ------------------------------------------------------------------ shared steps


def person_name(record: Record) -> str:
    identity = record.identity
    return f"{identity.surname.upper()}, {identity.forenames}"


def read_visible(
    uow: UnitOfWork, access: Access, sections: set[Section] | None = None, chronology: bool = False
) -> Record:
    """The record as this user may see it (audited as a consultation, like every read)."""
    if access.stub:
        raise not_found()
    readable = {s for s in Section if access.visibility.sees_section(s.value)}
    return nominals.read_record(
        uow,
        access.principal,
        access.nominal_id,
        purpose=access.purpose,
        request_id=access.request_id,
        sections=readable if sections is None else sections & readable,
        chronology=chronology and access.visibility.sees_section("chronology"),
        audience=access.audience,
    )


def nominal_of(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise not_found() from None


@dataclass
class Change:
    what: str
    section: str
    by: str
    at: dt.datetime


def changes_since(record: Record, since: dt.datetime | None) -> list[Change]:
    """What was added, changed or ended on the record after `since` (the time of the version the form was
    made from), newest first: from the items' own timestamps, only what this user may see."""
    if since is None:
        return []
    # The register keeps user ids, not a directory of people; the record's own offender managers name theirs.
    names = {
        i.data.user_id: i.data.name
        for i in record.items(Section.OFFENDER_MANAGERS)
        if isinstance(i.data, OffenderManager) and i.data.user_id
    }

    def who(user_id: str) -> str:
        return f"{names[user_id]} ({user_id})" if user_id in names else user_id

    out: list[Change] = []
    for section, items in record.sections.items():
        for item in items:
            if item.recorded_at > since:
                out.append(Change("Added", section.value, who(item.recorded_by), item.recorded_at))
            elif item.ended_at is not None and item.ended_at > since:
                out.append(Change("Ended", section.value, who(item.recorded_by), item.ended_at))
            elif item.updated_at > since:
                out.append(Change("Changed", section.value, who(item.recorded_by), item.updated_at))
    for entry in record.chronology:
        if entry.recorded_at > since:
            happened = long_date(entry.data.occurred_at.astimezone(LONDON).date())
            what = f"Added: {label(entry.data.kind)} on {happened}"
            out.append(Change(what, "chronology", who(entry.recorded_by), entry.recorded_at))
    return sorted(out, key=lambda c: c.at, reverse=True)


def _answers_shown(form: Form, values: Mapping[str, Any]) -> list[tuple[str, str]]:
    rows = []
    for f in form.fields:
        if f.kind == "date":
            parts = [str(values.get(f"{f.name}-{p}", "")).strip() for p in ("day", "month", "year")]
            shown = "/".join(parts) if any(parts) else ""
        elif f.kind == "checkbox":
            shown = "Yes" if values.get(f.name) == "yes" else "No"
        else:
            raw = str(values.get(f.name, "") or "")
            shown = dict(f.options).get(raw, raw) if f.options else raw
        if shown:
            rows.append((f.label, shown))
    return rows


def shown_at(record: Record) -> str:
    """When the form was made from the record as read (its items' own timestamps are compared with this on a
    conflict). Not the record's `updated_at`: the items of the change that made this version are stamped a
    moment after the version itself."""
    return max(record.updated_at, dt.datetime.now(dt.UTC)).isoformat()


def form_page(
    request: Request,
    *,
    record: Record,
    title: str,
    form: Form,
    action: str,
    submit: str,
    status: int = 200,
    intro: list[str] | None = None,
    enctype: str | None = None,
    buttons: list[dict[str, str]] | None = None,
) -> HTMLResponse:
    """`buttons`: submit buttons with a name and value each (text, name, value, qa) instead of `submit`."""
    title_words = ("Error: " if form.errors else "") + f"{title} – {person_name(record)}"
    return render(
        request,
        "pages/editing/form.html",
        {
            "title": title_words,
            "heading": title,
            "person": person_name(record),
            "record_path": f"/records/{record.id}",
            "form": form,
            "action": action,
            "submit": submit,
            "version": record.version,
            "since": shown_at(record),
            "intro": intro or [],
            "enctype": enctype,
            "buttons": buttons or [],
            "breadcrumbs": [
                {"text": "My caseload", "href": "/caseload"},
                {"text": person_name(record), "href": f"/records/{record.id}"},
            ],
        },
        status_code=status,
    )


def conflict_page(
    request: Request,
    record: Record,
    *,
    title: str,
    form: Form,
    values: Mapping[str, Any],
    since: dt.datetime | None,
    action: str,
) -> HTMLResponse:
    """Someone changed the record after the form was opened: what changed, and the user's answers, kept, to
    apply again against the record as it is now."""
    pairs = values.multi_items() if isinstance(values, FormData) else list(values.items())
    kept = [(k, v) for k, v in pairs if k not in KEPT and isinstance(v, str)]
    changes = changes_since(record, since)
    return render(
        request,
        "pages/editing/conflict.html",
        {
            "title": f"Someone changed this record – {person_name(record)}",
            "heading": title,
            "person": person_name(record),
            "record_path": f"/records/{record.id}",
            "changes": changes,
            "section_labels": SECTION_LABELS,
            "london": LONDON,
            "answers": _answers_shown(form, values),
            "kept": kept,
            "action": action,
            "version": record.version,
            "since": shown_at(record),
        },
        status_code=409,
    )


def refused_page(
    request: Request,
    record: Record,
    *,
    conflict: bool,
    title: str,
    form: Form,
    values: FormData,
    submit: str,
    intro: list[str] | None = None,
) -> HTMLResponse:
    """Nothing was written: the conflict page if someone changed the record meanwhile, else the form again
    with its errors."""
    if conflict:
        return conflict_page(
            request,
            record,
            title=title,
            form=form,
            values=values,
            since=_since(values.get("since")),
            action=request.url.path,
        )
    return form_page(
        request,
        record=record,
        title=title,
        form=form,
        action=request.url.path,
        submit=submit,
        intro=intro,
        status=422,
    )


def _done(request: Request, nominal_id: uuid.UUID, section: str, message: str) -> Response:
    flash(request, message)
    return redirect(return_to(request, f"/records/{nominal_id}/{GROUP_OF.get(section, '')}".rstrip("/")))


# ------------------------------------------------------------------ routes


def change(
    request: Request,
    principal: Principal,
    nominal_id: uuid.UUID,
    section: str,
    value: SectionItem | ChronologyEntry,
    expected: int,
) -> None:
    """Make the change in one unit of work: the policy, then the use case. Any refusal leaves the block, so
    nothing of the attempt is committed (the use case audits it in a transaction of its own)."""
    try:
        with work(request) as uow:
            access = record_access(request, uow, principal, "record.write", nominal_id, section)
            if isinstance(value, ChronologyEntry):
                nominals.append_chronology(
                    uow,
                    principal,
                    nominal_id,
                    value,
                    expected_version=expected,
                    request_id=request_id(request),
                    audience=access.audience,
                )
            else:
                nominals.add_item(
                    uow,
                    principal,
                    nominal_id,
                    value,
                    expected_version=expected,
                    request_id=request_id(request),
                )
    except NotFound as exc:
        if exc.rule == "nominal_not_found":
            raise not_found() from None
        raise


def _editor(kind: str) -> Editor:
    editor = EDITORS.get(kind)
    if editor is None:
        raise not_found()
    return editor


def _show(request: Request, principal: Principal, nominal_id: uuid.UUID, kind: str) -> HTMLResponse:
    editor = _editor(kind)
    with work(request) as uow:
        access = record_access(request, uow, principal, "record.write", nominal_id, editor.section)
        current_plan = kind == "plan"
        record = read_visible(uow, access, {Section.RISK_PLANS} if current_plan else set())
    form = Form(editor.fields())
    if current_plan:
        _prefill_plan(form, record)
    return form_page(
        request, record=record, title=editor.title, form=form, action=request.url.path, submit=editor.submit
    )


def _prefill_plan(form: Form, record: Record) -> None:
    plans = [
        i for i in record.items(Section.RISK_PLANS) if i.ended_at is None and isinstance(i.data, RiskPlan)
    ]
    if not plans:
        return
    latest = max(plans, key=lambda i: i.data.version)  # type: ignore[attr-defined]  # a RiskPlan
    plan = latest.data
    assert isinstance(plan, RiskPlan)
    form.field("summary").value = plan.summary
    for pillar in Pillar:
        form.field(pillar.value).value = "\n".join(a.description for a in plan.actions if a.pillar == pillar)
    form.fill_dates(agreed_on=today(), review_on=plan.review_on if plan.review_on >= today() else None)


async def _submit(request: Request, principal: Principal, nominal_id: uuid.UUID, kind: str) -> Response:
    editor = _editor(kind)
    values = await request.form()
    form = Form(editor.fields()).fill(values)
    answers = read(form, values)
    value: SectionItem | ChronologyEntry | None = None
    if form.valid:
        try:
            value = editor.build(answers, principal)
        except ValidationError as exc:
            form.explain(exc)
        except DomainError as exc:
            form.explain(exc)
    expected = posted_version(values)
    conflict = False
    if value is not None:
        try:
            change(request, principal, nominal_id, editor.section, value, expected)
        except ConcurrencyConflict:
            conflict = True
        except DomainError as exc:
            form.explain(exc)
        else:
            return _done(request, nominal_id, editor.section, editor.done)
    # Nothing was written: the form again with its errors, or the conflict page.
    with work(request) as uow:
        access = record_access(request, uow, principal, "record.write", nominal_id, editor.section)
        record = read_visible(uow, access, None if conflict else set(), chronology=conflict)
    return refused_page(
        request, record, conflict=conflict, title=editor.title, form=form, values=values, submit=editor.submit
    )


def _routes_for(kind: str, path: str) -> None:
    """The form's two routes, each declaring its action and section for the policy (PageGuard; the record
    itself is checked again with its owner by `record_access`)."""
    guard = [Depends(PageGuard("record.write", EDITORS[kind].section))]

    def show(request: Request, nominal_id: str, principal: SignedIn) -> HTMLResponse:
        return _show(request, principal, nominal_of(nominal_id), kind)

    async def submit(request: Request, nominal_id: str, principal: SignedIn) -> Response:
        return await _submit(request, principal, nominal_of(nominal_id), kind)

    router.add_api_route(path, show, methods=["GET"], response_class=HTMLResponse, dependencies=guard)
    router.add_api_route(path, submit, methods=["POST"], dependencies=guard)


for _kind in EDITORS:
    _routes_for(
        _kind,
        "/records/{nominal_id}/plan/edit" if _kind == "plan" else f"/records/{{nominal_id}}/{_kind}/new",
    )


# ------------------------------------------------------------------ ending an item


def _reason_form() -> Form:
    return Form(
        [
            Field(
                "reason",
                "Why is it ending?",
                "textarea",
                hint="For example: moved out on 3 March 2025, confirmed at a home visit",
                required=True,
            )
        ]
    )


def describe(item: SectionItem) -> str:
    """One line naming an item, for the page that ends it."""
    if isinstance(item, Address):
        return ", ".join([*item.lines, *(x for x in (item.town, item.postcode) if x)]) or label(item.kind)
    if isinstance(item, Vehicle):
        return " ".join(x for x in (item.vrm, item.colour, item.make, item.model) if x)
    if isinstance(item, Employment):
        return f"{label(item.kind)}: {item.organisation}"
    if isinstance(item, Contact):
        return f"{label(item.kind)}: {item.value}"
    if isinstance(item, Associate):
        who = item.person
        name = " ".join(x for x in (who.forenames, who.surname) if x) if who else "a person on the register"
        return f"{label(item.relationship)}: {name}"
    return label(item.section)


def _item(record: Record, section: Section, item_id: uuid.UUID) -> SectionItem:
    for stored in record.items(section):
        if stored.id == item_id and stored.ended_at is None:
            return stored.data
    raise not_found()


def _end_target(section: str, item_id: str) -> tuple[Section, uuid.UUID]:
    if section not in ENDABLE:
        raise not_found()
    try:
        return Section(section), uuid.UUID(item_id)
    except ValueError:
        raise not_found() from None


def end_form(
    request: Request, nominal_id: str, section: str, item_id: str, principal: SignedIn
) -> HTMLResponse:
    which, item = _end_target(section, item_id)
    with work(request) as uow:
        access = record_access(request, uow, principal, "record.write", nominal_of(nominal_id), which.value)
        record = read_visible(uow, access, {which})
    title = (
        f"End this {label(which).lower().rstrip('s')}"
        if which != Section.EMPLOYMENT
        else "End this employment"
    )
    return form_page(
        request,
        record=record,
        title=title,
        form=_reason_form(),
        action=request.url.path,
        submit="End it",
        intro=[describe(_item(record, which, item)), "It stays in the record's history, marked as ended."],
    )


async def end_submit(
    request: Request, nominal_id: str, section: str, item_id: str, principal: SignedIn
) -> Response:
    which, item = _end_target(section, item_id)
    record_id = nominal_of(nominal_id)
    values = await request.form()
    form = _reason_form().fill(values)
    answers = read(form, values)
    conflict = False
    if form.valid:
        try:
            with work(request) as uow:
                access = record_access(request, uow, principal, "record.write", record_id, which.value)
                nominals.end_item(
                    uow,
                    principal,
                    record_id,
                    item,
                    answers["reason"][:200],
                    expected_version=posted_version(values),
                    request_id=request_id(request),
                    audience=access.audience,
                    section=which,
                )
        except ConcurrencyConflict:
            conflict = True
        except NotFound:
            raise not_found() from None
        except DomainError as exc:
            form.explain(exc)
        else:
            return _done(request, record_id, which.value, f"{label(which)}: item ended")
    with work(request) as uow:
        access = record_access(request, uow, principal, "record.write", record_id, which.value)
        record = read_visible(uow, access, None if conflict else {which}, chronology=conflict)
    return refused_page(
        request,
        record,
        conflict=conflict,
        title=f"End this {label(which).lower().rstrip('s')}",
        form=form,
        values=values,
        submit="End it",
        intro=None if conflict else [describe(_item(record, which, item))],
    )


def _end_routes_for(section: str) -> None:
    guard = [Depends(PageGuard("record.write", section))]
    path = f"/records/{{nominal_id}}/{section}/{{item_id}}/end"

    def show(request: Request, nominal_id: str, item_id: str, principal: SignedIn) -> HTMLResponse:
        return end_form(request, nominal_id, section, item_id, principal)

    async def submit(request: Request, nominal_id: str, item_id: str, principal: SignedIn) -> Response:
        return await end_submit(request, nominal_id, section, item_id, principal)

    router.add_api_route(path, show, methods=["GET"], response_class=HTMLResponse, dependencies=guard)
    router.add_api_route(path, submit, methods=["POST"], dependencies=guard)


for _section in sorted(ENDABLE):
    _end_routes_for(_section)
