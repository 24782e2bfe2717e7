"""Correcting a chronology entry on the web. The chronology is append-only (docs/domain.md): a correction is
a new entry naming the one it corrects, never an overwrite. Two kinds:

* **withdraw** an entry recorded in error (on the wrong record, or about something that did not happen): a
  `withdrawal` entry giving the reason. The entry stays on the timeline, marked withdrawn, and counts for
  nothing (a withdrawn home visit is no visit on the caseload, the workload and the quality checks: decisions
  62 and 63);
* **correct** it: an `amendment` entry, the corrected version (when it happened, its summary and details). A
  correction of a breach or recall keeps what was breached and the outcome.

The use case (`nominals.append_chronology`) finds the entry among those the user's agency may see on this
record (an entry hidden from them, or on another record, answers "not found"), gives the correction the
audience of the entry it corrects, and audits it. The form carries the record's version, like every other
change."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from ..api.deps import request_id
from ..api.routing import APIRouter
from ..domain.actors import Principal
from ..domain.enums import ChronologyKind
from ..domain.errors import ConcurrencyConflict, DomainError, NotFound
from ..domain.record import ChronologyEntry, Record, StoredEntry
from ..nominals import service as nominals
from .common import PageGuard, SignedIn, flash, not_found, record_access, redirect, verify_csrf, work
from .editing import (
    LONDON,
    form_page,
    nominal_of,
    occurred_at,
    read_visible,
    refused_page,
    when_fields,
)
from .forms import Field, Form, posted_version, read
from .pages import label, long_date

router = APIRouter(include_in_schema=False, dependencies=[Depends(verify_csrf)])
PATH = "/records/{nominal_id}/chronology/{entry_id}/correct"
TITLE = "Correct a chronology entry"
CORRECTIONS = (ChronologyKind.AMENDMENT, ChronologyKind.WITHDRAWAL)
HOW = [
    ("withdraw", "It was recorded in error: withdraw it"),
    ("amend", "Some of it is wrong: record the corrected version"),
]


def correct_path(nominal_id: uuid.UUID, entry: StoredEntry) -> str | None:
    """Where to correct this entry; None for a correction itself (correct the entry it corrects instead)."""
    if entry.data.kind in CORRECTIONS:
        return None
    return f"/records/{nominal_id}/chronology/{entry.id}/correct"


def corrected_by(record: Record) -> dict[uuid.UUID, StoredEntry]:
    """Each corrected entry's latest correction (the latest recorded), by the corrected entry's id."""
    out: dict[uuid.UUID, StoredEntry] = {}
    for entry in sorted(record.chronology, key=lambda e: e.recorded_at):
        if entry.data.amends is not None:
            out[entry.data.amends] = entry
    return out


def _fields() -> list[Field]:
    return [
        Field("how", "What is wrong with this entry?", "radios", options=HOW, required=True),
        Field(
            "reason",
            "If you are withdrawing it: why?",
            "textarea",
            hint="For example: recorded on the wrong person's record",
        ),
        *when_fields("If you are correcting it: when did it happen?", required=False),
        Field("new_summary", "Corrected summary", hint="One line: what happened", model=("summary",)),
        Field("details", "Corrected details (optional)", "textarea"),
    ]


def _form(entry: StoredEntry | None = None) -> Form:
    form = Form(_fields())
    if entry is not None:
        at = entry.data.occurred_at.astimezone(LONDON)
        form.fill_dates(occurred_on=at.date())
        form.field("occurred_time").value = at.strftime("%H:%M")
        form.field("new_summary").value = entry.data.summary
        form.field("details").value = entry.data.details or ""
    return form


def _build(form: Form, answers: dict[str, Any], entry: StoredEntry) -> ChronologyEntry | None:
    """The correction the answers describe, or None with the missing answers marked on the form."""
    if answers["how"] == "withdraw":
        if not answers["reason"]:
            form.add_error("reason", "Enter why the entry is being withdrawn")
            return None
        return ChronologyEntry(
            occurred_at=entry.data.occurred_at,
            kind=ChronologyKind.WITHDRAWAL,
            summary=answers["reason"][:4000],
            amends=entry.id,
        )
    if answers["occurred_on"] is None:
        form.add_error("occurred_on", "Enter when it happened")
    if not answers["new_summary"]:
        form.add_error("new_summary", "Enter the corrected summary")
    if not form.valid:
        return None
    return ChronologyEntry(
        occurred_at=occurred_at(answers),
        kind=ChronologyKind.AMENDMENT,
        summary=answers["new_summary"],
        details=answers["details"],
        amends=entry.id,
    )


def _target(record: Record, entry_id: str) -> StoredEntry:
    """The entry on this record the user may see, and not itself a correction; else not found."""
    try:
        wanted = uuid.UUID(entry_id)
    except ValueError:
        raise not_found() from None
    for entry in record.chronology:
        if entry.id == wanted and entry.data.kind not in CORRECTIONS:
            return entry
    raise not_found()


def _intro(entry: StoredEntry) -> list[str]:
    when = long_date(entry.data.occurred_at.astimezone(LONDON).date())
    return [
        f"{label(entry.data.kind)} on {when}: {entry.data.summary}",
        "The entry stays on the chronology. A withdrawal marks it withdrawn, and it counts for nothing; a "
        "correction records the corrected version beside it.",
    ]


def _load(request: Request, principal: Principal, nominal_id: uuid.UUID, entry_id: str) -> tuple[Record, Any]:
    with work(request) as uow:
        access = record_access(request, uow, principal, "record.write", nominal_id, "chronology")
        record = read_visible(uow, access, set(), chronology=True)
    return record, _target(record, entry_id)


def show(request: Request, nominal_id: str, entry_id: str, principal: SignedIn) -> HTMLResponse:
    record, entry = _load(request, principal, nominal_of(nominal_id), entry_id)
    return form_page(
        request,
        record=record,
        title=TITLE,
        form=_form(entry),
        action=request.url.path,
        submit="Save the correction",
        intro=_intro(entry),
    )


async def submit(request: Request, nominal_id: str, entry_id: str, principal: SignedIn) -> Response:
    record_id = nominal_of(nominal_id)
    record, entry = _load(request, principal, record_id, entry_id)
    values = await request.form()
    form = _form().fill(values)
    answers = read(form, values)
    correction: ChronologyEntry | None = None
    if form.valid:
        try:
            correction = _build(form, answers, entry)
        except (ValidationError, DomainError) as exc:
            form.explain(exc)
    conflict = False
    if correction is not None:
        try:
            with work(request) as uow:
                access = record_access(request, uow, principal, "record.write", record_id, "chronology")
                nominals.append_chronology(
                    uow,
                    principal,
                    record_id,
                    correction,
                    expected_version=posted_version(values),
                    request_id=request_id(request),
                    audience=access.audience,
                )
        except ConcurrencyConflict:
            conflict = True
        except NotFound:
            raise not_found() from None
        except DomainError as exc:
            form.explain(exc)
        else:
            done = (
                "Entry withdrawn" if correction.kind == ChronologyKind.WITHDRAWAL else "Correction recorded"
            )
            flash(request, done)
            return redirect(f"/records/{record_id}/chronology")
    if conflict:
        with work(request) as uow:
            access = record_access(request, uow, principal, "record.write", record_id, "chronology")
            record = read_visible(uow, access, None, chronology=True)
    return refused_page(
        request,
        record,
        conflict=conflict,
        title=TITLE,
        form=form,
        values=values,
        submit="Save the correction",
        intro=None if conflict else _intro(entry),
    )


_guard = [Depends(PageGuard("record.write", "chronology"))]
router.add_api_route(PATH, show, methods=["GET"], response_class=HTMLResponse, dependencies=_guard)
router.add_api_route(PATH, submit, methods=["POST"], dependencies=_guard)
