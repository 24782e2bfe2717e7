"""Correcting a chronology entry in a real browser (web/corrections.py): an offender manager withdraws a home
visit recorded in error, and it stops counting as a visit on their caseload; corrects another entry's date;
a withdrawal without a reason is refused with the error summary and nothing written; an entry that is not on
the record, or is itself a correction, is not found."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Locator, Page
from sqlalchemy import select

from register.store import models as m
from tests.browser.conftest import Accessibility, Server, details, screenshot, today_in_london
from tests.browser.pages import KENT_POLICE_OFFENDER_MANAGER, EditForm, Site, my_first_person, sign_in

OM = KENT_POLICE_OFFENDER_MANAGER


@pytest.fixture(scope="module")
def corrections(make_server: Callable[..., Server]) -> Iterator[Server]:
    """A register of its own: these journeys change records the caseload tests count."""
    yield make_server()


def stored(server: Server, nominal_id: str) -> list[m.ChronologyEntry]:
    with server.store.session_factory() as session:
        return list(
            session.scalars(
                select(m.ChronologyEntry).where(m.ChronologyEntry.nominal_id == uuid.UUID(nominal_id))
            )
        )


def last_visit(server: Server, nominal_id: str) -> dt.datetime | None:
    with server.store.session_factory() as session:
        return session.scalar(
            select(m.CaseFactsRow.last_visit_police).where(m.CaseFactsRow.nominal_id == uuid.UUID(nominal_id))
        )


def newest_visit(server: Server, nominal_id: str) -> m.ChronologyEntry:
    """The home visit the signed-in officer recorded last (the entries' text is encrypted in the table)."""
    mine = [e for e in stored(server, nominal_id) if e.kind == "home_visit" and e.recorded_by == OM]
    return max(mine, key=lambda e: e.recorded_at)


def entry_on_timeline(site: Site, nominal_id: str, text: str) -> Locator:
    """The home visit with this text on the record's chronology (a correction restating it is an entry of its
    own kind)."""
    site.goto(f"/records/{nominal_id}/chronology")
    entry = site.page.locator('[data-qa="timeline-entry"][data-kind="home_visit"]', has_text=text)
    assert entry.count() == 1
    return entry


def record_visit(form: EditForm, nominal_id: str, note: str) -> None:
    today = today_in_london()
    form.open(nominal_id, "visits/new")
    form.fill_date("occurred_on", str(today.day), str(today.month), str(today.year))
    form.fill("occurred_time", "09:05")
    form.choose("outcome", "seen_no_concerns")
    form.fill("details", note)
    form.save()


def test_a_visit_recorded_in_error_is_withdrawn_and_stops_counting(
    page: Page, axe: Accessibility, corrections: Server
) -> None:
    site = Site(page, axe, corrections.url)
    sign_in(site)
    nominal_id = my_first_person(site)
    form = EditForm(page, axe, corrections.url)
    before = last_visit(corrections, nominal_id)
    note = "Visited the wrong address: recorded on this record in error"
    record_visit(form, nominal_id, note)
    visit = newest_visit(corrections, nominal_id)
    assert last_visit(corrections, nominal_id) == visit.occurred_at  # it counts as the last visit

    entry_on_timeline(site, nominal_id, note).locator('[data-qa="correct-entry"]').click()
    form.arrived()
    assert form.title.startswith("Correct a chronology entry – ")
    # withdrawing needs a reason: refused, nothing written
    form.choose("how", "withdraw")
    count, head = len(stored(corrections, nominal_id)), corrections.audit_head()
    form.qa("save").click()
    form.arrived()
    assert form.error_summary.is_visible()
    assert "Enter why the entry is being withdrawn" in form.error_summary.inner_text()
    assert form.title.startswith("Error: ")
    assert len(stored(corrections, nominal_id)) == count
    assert corrections.audit(head, tag="nominal:chronology:append") == []

    form.goto(form.path)  # the form afresh, for its screenshot
    form.choose("how", "withdraw")
    form.fill("reason", "Recorded on the wrong person's record")
    screenshot(page, "withdraw-entry")
    form.save()
    assert "Entry withdrawn" in form.confirmation.inner_text()
    withdrawal = next(e for e in stored(corrections, nominal_id) if e.kind == "withdrawal")
    assert withdrawal.original_id == visit.id and withdrawal.recorded_by == OM
    appended = corrections.audit(head, tag="nominal:chronology:append", actor_user=OM)
    assert [details(a) for a in appended] == [{"kind": "withdrawal", "amends": str(visit.id)}]
    # the visit stays on the timeline, marked withdrawn, and no longer counts as a visit
    status = entry_on_timeline(site, nominal_id, note).locator('[data-qa="entry-status"]')
    assert "Withdrawn" in status.inner_text() and "wrong person" in status.inner_text()
    status.scroll_into_view_if_needed()
    screenshot(page, "chronology-withdrawn")
    assert last_visit(corrections, nominal_id) == before
    # a correction is not corrected itself (the entry it corrects is)
    response = page.goto(f"{corrections.url}/records/{nominal_id}/chronology/{withdrawal.id}/correct")
    assert response is not None and response.status == 404


def test_an_entry_s_date_is_corrected(page: Page, axe: Accessibility, corrections: Server) -> None:
    site = Site(page, axe, corrections.url)
    sign_in(site)
    nominal_id = my_first_person(site)
    form = EditForm(page, axe, corrections.url)
    note = "Partner present; garden checked (date to correct)"
    record_visit(form, nominal_id, note)
    visit = newest_visit(corrections, nominal_id)
    entry_on_timeline(site, nominal_id, note).locator('[data-qa="correct-entry"]').click()
    form.arrived()
    # the form starts from the entry as it stands
    assert page.locator('[name="occurred_time"]').input_value() == "09:05"
    yesterday = today_in_london() - dt.timedelta(days=1)
    form.choose("how", "amend")
    form.fill_date("occurred_on", str(yesterday.day), str(yesterday.month), str(yesterday.year))
    form.save()
    assert "Correction recorded" in form.confirmation.inner_text()
    amendment = next(e for e in stored(corrections, nominal_id) if e.kind == "amendment")
    assert amendment.original_id == visit.id
    assert amendment.occurred_at.astimezone(dt.UTC).date() == yesterday
    status = entry_on_timeline(site, nominal_id, note).locator('[data-qa="entry-status"]')
    assert "Corrected" in status.inner_text()
    restated = page.locator('[data-qa="timeline-entry"][data-kind="amendment"]', has_text=note)
    assert restated.count() == 1 and restated.locator('[data-qa="correct-entry"]').count() == 0
    status.scroll_into_view_if_needed()
    screenshot(page, "chronology-corrected")


def test_an_entry_not_on_the_record_or_a_correction_is_not_found(
    page: Page, axe: Accessibility, corrections: Server
) -> None:
    site = Site(page, axe, corrections.url)
    sign_in(site)
    nominal_id = my_first_person(site)
    response = page.goto(f"{corrections.url}/records/{nominal_id}/chronology/{uuid.uuid4()}/correct")
    assert response is not None and response.status == 404
    response = page.goto(f"{corrections.url}/records/{nominal_id}/chronology/not-an-id/correct")
    assert response is not None and response.status == 404
