"""The record in a real browser: the identity bar, the overview with what needs attention, the section groups,
the chronology as a timeline with its filters, intelligence only where the policy lets the user see it, the
purpose asked before another area's record opens, and a restricted record's stub. Each journey asserts the
audit events it leaves."""

from __future__ import annotations

import uuid

from playwright.sync_api import Page
from sqlalchemy import select

from register.store import models as m
from tests.browser.conftest import Accessibility, Server, screenshot
from tests.browser.pages import (
    KENT_POLICE_OFFENDER_MANAGER,
    CaseloadPage,
    PurposePage,
    RecordPage,
    Site,
    sign_in,
)

POLICE_ONLY = "seen loitering near Mote Park bandstand after dark"  # the demo's police-only intelligence


def record_id(server: Server, surname: str, forenames: str | None = None) -> str:
    """The id of the demo's record with this surname (and forenames, where two share it: the demo has a Marc
    O'Sullivan, a suspected duplicate of Mark); names are sealed: read through the repository."""
    with server.store.unit_of_work() as uow:
        ids = list(uow.session.scalars(select(m.Nominal.id)))
        found = [
            i
            for i, s in uow.nominals.summaries(ids).items()
            if s.surname == surname and (forenames is None or s.forenames == forenames)
        ]
    assert len(found) == 1, surname
    return str(found[0])


def reads(server: Server, after: int, user: str, nominal_id: str) -> list[m.AuditEvent]:
    return server.audit(after, tag="nominal:record:read", actor_user=user, nominal_id=uuid.UUID(nominal_id))


def test_the_offender_manager_opens_a_record_from_the_caseload_and_walks_its_groups(
    page: Page, axe: Accessibility, server: Server
) -> None:
    site = Site(page, axe, server.url)
    sign_in(site)
    caseload = CaseloadPage(page, axe, server.url).open()
    row = caseload.rows.first
    nominal_id = row.get_attribute("data-nominal-id") or ""
    name = row.locator('[data-qa="name"]').inner_text()
    head = server.audit_head()
    record = RecordPage(page, axe, server.url).open_from_caseload(row)
    assert record.path == f"/records/{nominal_id}"
    surname, forenames = name.split(", ")
    assert record.title == f"Overview – {forenames} {surname.title()} – The register"
    identity = record.identity
    assert name in identity and "age " in identity and "Owned by Kent" in identity
    assert "Offender manager: DC Sarah Okafor (Police)" in identity
    assert record.qa("identity-level").count() == 1 and record.qa("identity-category").count() == 1
    assert record.qa("breadcrumbs").inner_text().split("\n")[:1] == ["My caseload"]
    # the caseload's first person has overdue work: the overview says so
    assert record.qa("card-due").locator('[data-qa="overdue"]').count() >= 1
    assert record.qa("card-quality").count() == 1 and record.qa("card-transfer").count() == 1
    screenshot(page, "record-overview")
    opened = reads(server, head, KENT_POLICE_OFFENDER_MANAGER, nominal_id)
    assert len(opened) == 1 and opened[0].action == "consultation" and opened[0].purpose is None

    for group, heading in (
        ("personal-details", "Personal details"),
        ("addresses-and-vehicles", "Addresses and vehicles"),
        ("offences-and-orders", "Offences and orders"),
        ("risk", "Risk"),
        ("plan", "Plan"),
        ("intelligence", "Intelligence"),
        ("history", "History"),
    ):
        record.navigate(group)
        assert record.path == f"/records/{nominal_id}/{group}" and record.heading == heading
        assert record.title == f"{heading} – {forenames} {surname.title()} – The register"
        assert page.locator(f'[data-qa="subnav-{group}"]').get_attribute("aria-current") == "page"
    record.navigate("addresses-and-vehicles")
    assert record.qa("item-addresses").count() >= 1 and record.qa("add-addresses").count() == 1
    assert len(reads(server, head, KENT_POLICE_OFFENDER_MANAGER, nominal_id)) == 9  # one per page view
    # each "Add" and "End" on a group page leads to its form (sections without a web form offer neither)
    record.qa("add-addresses").click()
    assert page.title().startswith("Add an address") and page.locator("form").count() >= 1
    page.go_back()
    end = record.qa("item-addresses").first.get_by_role("link", name="End")
    if end.count():
        end.first.click()
        assert "/end" in page.url and page.locator("textarea[name=reason]").count() == 1
        page.go_back()
    record.navigate("personal-details")
    assert record.qa("add-identifiers").count() == 0  # identifiers have no web form yet: no dead link


def test_the_timeline_is_newest_first_filters_by_kind_and_date_and_refuses_a_bad_date(
    page: Page, axe: Accessibility, server: Server
) -> None:
    site = Site(page, axe, server.url)
    sign_in(site)
    nominal_id = record_id(server, "Hartley")
    head = server.audit_head()
    record = RecordPage(page, axe, server.url).open(nominal_id, "chronology")
    entries = record.timeline_entries
    assert entries.count() >= 2
    stamps = [e.locator("time").first.get_attribute("datetime") or "" for e in entries.all()]
    assert stamps == sorted(stamps, reverse=True)
    first = entries.first.inner_text()
    assert "by " in first and "Recorded " in first
    assert record.qa("add-chronology").count() == 1
    screenshot(page, "record-timeline")

    record.filter_timeline(kind="home_visit")
    assert record.timeline_entries.count() >= 1
    assert {e.get_attribute("data-kind") for e in record.timeline_entries.all()} == {"home_visit"}
    assert "kind=home_visit" in record.path

    record.filter_timeline(kind="", start=("31", "2", "2024"))
    assert record.qa("error-summary").is_visible()
    assert "must be a real date" in record.qa("error-summary").inner_text()
    assert record.title.startswith("Error: ")

    record.filter_timeline(kind="", start=("1", "1", "2100"))
    assert record.qa("timeline-empty").inner_text() == "No entries match these filters."
    opened = reads(server, head, KENT_POLICE_OFFENDER_MANAGER, nominal_id)
    assert len(opened) == 4 and all(e.action == "consultation" for e in opened)


def test_police_only_intelligence_is_absent_from_the_probation_offender_managers_page(
    page: Page, axe: Accessibility, server: Server
) -> None:
    nominal_id = record_id(server, "Hartley")
    site = Site(page, axe, server.url)
    sign_in(site)
    police = RecordPage(page, axe, server.url).open(nominal_id, "intelligence")
    assert POLICE_ONLY in page.content()
    grading = police.qa("item-intelligence").filter(has_text=POLICE_ONLY).inner_text()
    assert "Grading\tB2C (3x5x2)" in grading and "Handling code\tC" in grading
    assert police.qa("identity-limited").count() == 1
    police.sign_out()

    sign_in(site, as_="kent.offender_manager.probation")
    head = server.audit_head()
    probation = RecordPage(page, axe, server.url).open(nominal_id, "intelligence")
    assert probation.heading == "Intelligence"
    html = page.content()
    assert POLICE_ONLY not in html and "Mote Park" not in html
    assert probation.qa("identity-limited").count() == 0
    probation.navigate("chronology")
    assert POLICE_ONLY not in page.content()
    assert len(reads(server, head, "kent.offender_manager.probation", nominal_id)) == 2


def test_an_essex_investigator_states_a_purpose_before_a_kent_record_opens(
    page: Page, axe: Accessibility, server: Server
) -> None:
    nominal_id = record_id(server, "Hartley")
    site = Site(page, axe, server.url)
    sign_in(site, as_="essex.investigator")
    head = server.audit_head()
    record = RecordPage(page, axe, server.url).open(nominal_id, "risk")
    assert record.path.startswith(f"/records/{nominal_id}/purpose")
    assert reads(server, head, "essex.investigator", nominal_id) == []  # nothing read before the purpose
    purpose = PurposePage(page, axe, server.url)
    purpose.qa("purpose-continue").click()
    purpose.arrived()
    assert purpose.qa("error-summary").is_visible() and purpose.title.startswith("Error: ")
    screenshot(page, "record-purpose")
    purpose.state("ESX/2025/0417 missing person enquiry")
    assert record.path == f"/records/{nominal_id}/risk" and record.heading == "Risk"
    assert "ESX/2025/0417" not in page.url
    assert record.qa("identity-other-area").count() == 1
    record.navigate("chronology")
    opened = reads(server, head, "essex.investigator", nominal_id)
    assert [e.purpose for e in opened] == ["ESX/2025/0417 missing person enquiry"] * 2


def test_a_restricted_kent_record_opened_from_essex_shows_only_its_stub(
    page: Page, axe: Accessibility, server: Server
) -> None:
    nominal_id = record_id(server, "Brannigan")
    site = Site(page, axe, server.url)
    sign_in(site, as_="essex.offender_manager")
    head = server.audit_head()
    record = RecordPage(page, axe, server.url).open(nominal_id)
    PurposePage(page, axe, server.url).state("ESX/2025/0999 address check")
    assert record.path == f"/records/{nominal_id}"
    assert record.qa("restricted-stub").is_visible() and "Kent" in record.qa("stub-contact").inner_text()
    html = page.content()
    assert "Brannigan" not in html and "BRANNIGAN" not in html and record.qa("identity-bar").count() == 0
    stubs = server.audit(head, tag="nominal:record:stub", actor_user="essex.offender_manager")
    assert len(stubs) == 1 and stubs[0].purpose == "ESX/2025/0999 address check"
    assert reads(server, head, "essex.offender_manager", nominal_id) == []


def test_the_overview_says_why_each_notification_date_is_what_it_is(
    page: Page, axe: Accessibility, server: Server
) -> None:
    """Issue #18 point 13: the demo's Daniel Hartley (36 months' imprisonment for a sexual offence in 2012)
    is subject indefinitely; each date on the card names its rule, its statute and the facts it used."""
    nominal_id = record_id(server, "Hartley")
    sign_in(Site(page, axe, server.url))
    record = RecordPage(page, axe, server.url).open(nominal_id)
    card = record.qa("card-notification")
    assert card.locator('[data-qa="notification-status"]').inner_text() == (
        "Subject to notification requirements indefinitely."
    )
    relevant = card.locator('[data-qa="notification-relevant_date"]')
    assert relevant.locator('[data-qa="date"]').inner_text() == "20 January 2012"
    assert relevant.locator('[data-qa="statute"]').inner_text() == "Law: SOA 2003 s.82(6)"
    ends = card.locator('[data-qa="notification-ends_on"]')
    assert ends.locator('[data-qa="date"]').inner_text() == "Indefinite"
    assert ends.locator('[data-qa="rule"]').inner_text() == "Imprisonment of 36 months: indefinite."
    assert ends.locator('[data-qa="statute"]').inner_text() == "Law: SOA 2003 s.82(1) table"
    facts = ends.locator('[data-qa="facts"]').inner_text()
    assert "Offence: Sexual assault on a female, convicted on 2012-01-20" in facts
    assert "Disposal: imprisonment, 36 months" in facts and "Family Law Reform Act 1969 s.9" in facts
    review = card.locator('[data-qa="notification-review_from"]')
    assert "s.91B" in review.locator('[data-qa="statute"]').inner_text()
    due = card.locator('[data-qa="notification-next_due"]')
    assert "s.85(1)" in due.locator('[data-qa="statute"]').inner_text()
    card.scroll_into_view_if_needed()
    screenshot(page, "record-notification")
