"""Editing a record in a real browser: a home visit added and stored, two users changing the same record (the
second gets the conflict page and applies their change again), a bad date refused with the error summary and
nothing written, a keyboard-only chronology entry, the other sections' forms, each journey's audit events."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, Page
from sqlalchemy import func, select

from register.store import models as m
from tests.browser.conftest import Accessibility, Server, details, screenshot, today_in_london
from tests.browser.pages import KENT_POLICE_OFFENDER_MANAGER, EditForm, Site, my_first_person, sign_in

OM = KENT_POLICE_OFFENDER_MANAGER


@pytest.fixture(scope="module")
def editing(make_server: Callable[..., Server]) -> Iterator[Server]:
    """A register of its own: these journeys change records the caseload tests count."""
    yield make_server()


def entries(server: Server, nominal_id: str, kind: str | None = None) -> list[m.ChronologyEntry]:
    with server.store.session_factory() as session:
        q = select(m.ChronologyEntry).where(m.ChronologyEntry.nominal_id == uuid.UUID(nominal_id))
        if kind:
            q = q.where(m.ChronologyEntry.kind == kind)
        return list(session.scalars(q))


def version(server: Server, nominal_id: str) -> int:
    with server.store.session_factory() as session:
        return int(
            session.scalar(select(m.Nominal.version).where(m.Nominal.id == uuid.UUID(nominal_id))) or 0
        )


def items(server: Server, nominal_id: str, section: str) -> int:
    with server.store.session_factory() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(m.Item)
                .where(m.Item.nominal_id == uuid.UUID(nominal_id), m.Item.section == section)
            )
            or 0
        )


def visit(form: EditForm, day: str = "", note: str = "Partner present; bedroom checked") -> None:
    today = today_in_london()
    form.fill_date("occurred_on", day or str(today.day), str(today.month), str(today.year))
    form.fill("occurred_time", "10:15")
    form.choose("outcome", "seen_no_concerns")
    form.fill("details", note)


def test_a_home_visit_is_added_stored_confirmed_and_audited(
    page: Page, axe: Accessibility, editing: Server
) -> None:
    site = Site(page, axe, editing.url)
    sign_in(site)
    nominal_id = my_first_person(site)
    before = len(entries(editing, nominal_id, "home_visit"))
    form = EditForm(page, axe, editing.url).open(nominal_id, "visits/new")
    assert form.title.startswith("Record a home visit – ")
    visit(form)
    screenshot(page, "add-visit")
    head = editing.audit_head()
    form.save()
    assert "Home visit recorded" in form.confirmation.inner_text()
    stored = entries(editing, nominal_id, "home_visit")
    assert len(stored) == before + 1
    new = max(stored, key=lambda e: e.recorded_at)
    assert new.recorded_by == OM and new.occurred_at.date() == today_in_london()
    appended = editing.audit(head, tag="nominal:chronology:append", actor_user=OM)
    assert len(appended) == 1 and appended[0].outcome == "success" and appended[0].action == "collection"
    assert appended[0].nominal_id == uuid.UUID(nominal_id) and appended[0].item_id == new.id
    assert details(appended[0]) == {"kind": "home_visit"}


def test_a_bad_date_shows_the_error_summary_and_writes_nothing(
    page: Page, axe: Accessibility, editing: Server
) -> None:
    site = Site(page, axe, editing.url)
    sign_in(site)
    nominal_id = my_first_person(site)
    before, was = len(entries(editing, nominal_id)), version(editing, nominal_id)
    form = EditForm(page, axe, editing.url).open(nominal_id, "visits/new")
    visit(form, day="31")
    form.fill("occurred_on-month", "2")  # 31 February
    head = editing.audit_head()
    form.save()
    assert form.error_summary.is_visible()
    assert "Date of the visit must be a real date" in form.error_summary.inner_text()
    assert (
        page.locator("#occurred_on-error")
        .inner_text()
        .strip()
        .endswith("must be a real date, for example 27 3 2025")
    )
    assert form.title.startswith("Error: ")
    # the answers are kept
    assert page.locator('[name="details"]').input_value() == "Partner present; bedroom checked"
    assert len(entries(editing, nominal_id)) == before and version(editing, nominal_id) == was
    assert editing.audit(head, tag="nominal:chronology:append") == []


def test_the_second_of_two_changes_gets_the_conflict_page_and_applies_again(
    browser: Browser, page: Page, axe: Accessibility, editing: Server
) -> None:
    first = Site(page, axe, editing.url)
    sign_in(first)
    nominal_id = my_first_person(first)
    other_context = browser.new_context(timezone_id="Europe/London", locale="en-GB")
    try:
        second = Site(other_context.new_page(), axe, editing.url)
        sign_in(second)
        theirs = EditForm(second.page, axe, editing.url).open(nominal_id, "chronology/new")
        mine = EditForm(page, axe, editing.url).open(nominal_id, "visits/new")
        was = version(editing, nominal_id)
        visit(mine)
        mine.save()
        assert mine.confirmation.is_visible()

        today = today_in_london()
        theirs.select("kind", "contact")
        theirs.fill_date("occurred_on", str(today.day), str(today.month), str(today.year))
        theirs.fill("summary", "Phone call: reported change of work pattern")
        head = editing.audit_head()
        theirs.save()
        assert theirs.conflict.is_visible()
        changes = theirs.qa("change").all_inner_texts()
        assert len(changes) == 1 and "Home visit" in changes[0] and OM in changes[0], changes
        assert "DC Sarah Okafor" in changes[0]  # named as the record names its offender manager
        assert "Phone call: reported change of work pattern" in theirs.qa("your-change").inner_text()
        screenshot(second.page, "conflict")
        refused = editing.audit(head, tag="nominal:chronology:append")
        assert len(refused) == 1 and refused[0].outcome == "failed"
        assert details(refused[0]) == {"rule": "version_stale"}
        assert version(editing, nominal_id) == was + 1  # nothing of the refused attempt was written

        theirs.apply_again()
        assert "Chronology entry added" in theirs.confirmation.inner_text()
        assert version(editing, nominal_id) == was + 2
        saved = editing.audit(head, tag="nominal:chronology:append", outcome="success")
        assert len(saved) == 1 and details(saved[0]) == {"kind": "contact"}
        assert [e for e in entries(editing, nominal_id, "contact") if e.id == saved[0].item_id]
    finally:
        other_context.close()


def test_a_chronology_entry_added_with_the_keyboard_only(
    page: Page, axe: Accessibility, editing: Server
) -> None:
    site = Site(page, axe, editing.url)
    sign_in(site)
    nominal_id = my_first_person(site)
    form = EditForm(page, axe, editing.url).open(nominal_id, "chronology/new")
    today = today_in_london()
    keys = page.keyboard
    # from the top of the page: the skip link, then on through the header to the form's first field
    for _ in range(40):
        keys.press("Tab")
        if page.evaluate("document.activeElement.name") == "kind":
            break
    assert page.evaluate("document.activeElement.name") == "kind"
    keys.type("Contact")  # a select picks the option its typed letters begin
    assert page.locator('select[name="kind"]').input_value() == "contact"
    keys.press("Tab")
    keys.type(str(today.day))
    keys.press("Tab")
    keys.type(str(today.month))
    keys.press("Tab")
    keys.type(str(today.year))
    keys.press("Tab")
    keys.type("09:30")
    keys.press("Tab")
    keys.type("Called at the office without an appointment")
    keys.press("Tab")
    keys.type("Wanted to discuss housing")
    keys.press("Tab")
    assert page.evaluate("document.activeElement.dataset.qa") == "save"
    head = editing.audit_head()
    with page.expect_navigation():
        keys.press("Enter")
    form.arrived()
    assert "Chronology entry added" in form.confirmation.inner_text()
    appended = editing.audit(head, tag="nominal:chronology:append", actor_user=OM, outcome="success")
    assert len(appended) == 1 and details(appended[0]) == {"kind": "contact"}


def test_the_other_sections_forms_add_and_end_items(page: Page, axe: Accessibility, editing: Server) -> None:
    site = Site(page, axe, editing.url)
    sign_in(site)
    nominal_id = my_first_person(site)
    form = EditForm(page, axe, editing.url)
    head = editing.audit_head()

    form.open(nominal_id, "addresses/new")
    form.choose("kind", "home")
    form.fill("lines", "12 Example Street\nFlat 2")
    form.fill("postcode", "ct1 2ab")
    form.save()
    assert "Address added" in form.confirmation.inner_text()

    # a stay outside the UK (SOA 2003 s.83(6)) names its place and its dates, and has no UK postcode
    form.open(nominal_id, "addresses/new")
    assert form.page.get_by_text("Outside the UK (a stay abroad: give the country and place)").count() == 1
    form.choose("kind", "outside_uk")
    form.fill("lines", "Valletta\nMalta")
    form.save()
    assert "Enter the day the stay outside the UK began" in form.error_summary.inner_text()
    form.fill_date("date_from", "1", "8", "2025")
    form.fill_date("date_to", "14", "8", "2025")
    form.save()
    assert "Address added" in form.confirmation.inner_text()

    form.open(nominal_id, "vehicles/new")
    form.fill("vrm", "ab12 cde")
    form.choose("relationship", "keeper")
    form.save()
    assert "Vehicle added" in form.confirmation.inner_text()

    form.open(nominal_id, "contacts/new")
    form.choose("kind", "online_identity")
    form.fill("value", "quiet_fox_77")
    form.fill("platform", "Snapchat")
    form.save()
    assert "Contact added" in form.confirmation.inner_text()

    form.open(nominal_id, "employment/new")
    form.choose("kind", "employment")
    form.fill("organisation", "Harbour Café")
    form.page.locator('input[name="access_to_children"]').check()
    form.save()
    assert "Employment added" in form.confirmation.inner_text()

    form.open(nominal_id, "associates/new")
    form.select("relationship", "partner")
    form.fill("forenames", "Jo")
    form.fill("surname", "Example")
    form.save()
    assert "Associate added" in form.confirmation.inner_text()

    form.open(nominal_id, "risk_assessments/new")
    form.select("tool", "oasys")
    today = today_in_london()
    form.fill_date("assessed_on", str(today.day), str(today.month), str(today.year))
    form.fill("assessor", "A. Assessor")
    form.fill_date("next_review_on", "1", "1", str(today.year - 1))  # before the assessment: a rule
    form.save()
    assert "Next review (optional) must be on or after" in form.error_summary.inner_text()
    form.fill_date("next_review_on", "1", "1", str(today.year + 1))
    form.save()
    assert "Risk assessment added" in form.confirmation.inner_text()

    form.open(nominal_id, "plan/edit")
    form.fill_date("agreed_on", str(today.day), str(today.month), str(today.year))
    form.fill_date("review_on", str(today.day), str(today.month), str(today.year + 1))
    form.fill("supervision", "Weekly reporting; monthly home visits")
    form.fill("victim_safety_planning", "Exclusion zone around the victim's address")
    form.save()
    assert "Risk management plan updated" in form.confirmation.inner_text()

    added = {e.tag for e in editing.audit(head, actor_user=OM, outcome="success", action="collection")}
    assert {
        "nominal:addresses:add",
        "nominal:vehicles:add",
        "nominal:contacts:add",
        "nominal:employment:add",
        "nominal:associates:add",
        "nominal:risk_assessments:add",
        "nominal:risk_plans:add",
    } <= added

    # end the address just added, with a reason
    address = editing.audit(head, tag="nominal:addresses:add")[0].item_id
    form.open(nominal_id, f"addresses/{address}/end")
    assert "12 Example Street" in form.qa("intro").first.inner_text()
    form.save()  # no reason: refused
    assert "Enter why is it ending?" in form.error_summary.inner_text()
    form.fill("reason", "Moved out; confirmed by the landlord")
    form.save()
    assert "item ended" in form.confirmation.inner_text()
    ended = editing.audit(head, tag="nominal:addresses:end", outcome="success")
    # the reason is the officer's own words: sealed in the log, opened for an auditor
    assert len(ended) == 1 and "landlord" not in (ended[0].details or "")
    with editing.store.unit_of_work() as uow:
        opened = uow.audit.opened({"event_id": ended[0].event_id, "details": ended[0].details})
    assert json.loads(opened["details"]) == {"reason": "Moved out; confirmed by the landlord"}
    assert items(editing, nominal_id, "addresses") >= 1


def test_asking_to_transfer_shows_names_and_areas_confirms_and_the_transfer_exists(
    page: Page, axe: Accessibility, editing: Server
) -> None:
    site = Site(page, axe, editing.url)
    sign_in(site)
    nominal_id = my_first_person(site)
    form = EditForm(page, axe, editing.url).open(nominal_id, "transfer/new")
    html = page.content()
    assert "Essex" in html and "Avon and Somerset" in html and "The record is owned by Kent" in html
    # areas by name, never an identifier on the page (the record's own id is only in links)
    shown = page.locator('select[name="to_area"] option').all_inner_texts()
    assert "Essex" in shown and "Kent" not in shown and not any("-" in text for text in shown)
    form.save()  # nothing chosen
    assert "Select which area should take over?" in form.error_summary.inner_text()
    form.select("to_area", "essex")
    form.fill("reason", "Moved to Chelmsford to live with family")
    head = editing.audit_head()
    form.save()
    assert "Transfer to Essex requested" in form.confirmation.inner_text()
    with editing.store.session_factory() as session:
        rows = list(session.scalars(select(m.Transfer).where(m.Transfer.nominal_id == uuid.UUID(nominal_id))))
    assert len(rows) == 1 and rows[0].to_area == "essex" and rows[0].status == "pending"
    assert rows[0].requested_by == OM
    created = editing.audit(head, tag="transfer:request:create", outcome="success")
    assert len(created) >= 1 and all(e.nominal_id == uuid.UUID(nominal_id) for e in created)
    assert len(editing.audit(head, tag="nominal:chronology:append", outcome="success")) == 1


def test_a_chronology_entry_on_postgresql(page: Page, axe: Accessibility, pg_browser_server: Server) -> None:
    server = pg_browser_server
    assert server.store.engine.dialect.name == "postgresql"
    site = Site(page, axe, server.url)
    sign_in(site)
    nominal_id = my_first_person(site)
    before = len(entries(server, nominal_id, "contact"))
    form = EditForm(page, axe, server.url).open(nominal_id, "chronology/new")
    today = today_in_london()
    form.select("kind", "contact")
    form.fill_date("occurred_on", str(today.day), str(today.month), str(today.year))
    form.fill("summary", "Reported to the station as required")
    head = server.audit_head()
    form.save()
    assert "Chronology entry added" in form.confirmation.inner_text()
    assert len(entries(server, nominal_id, "contact")) == before + 1
    appended = server.audit(head, tag="nominal:chronology:append", actor_user=OM, outcome="success")
    assert len(appended) == 1 and details(appended[0]) == {"kind": "contact"}
