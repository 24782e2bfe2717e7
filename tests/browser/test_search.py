"""The investigator's search in a real browser: the purpose asked first, a search by partial registration and
name, why each person matched, paging, a result opened under the enquiry's purpose, the CSV export (a
disclosure), a saved search run again and deleted; bad input answered with the error summary; another area's
restricted record taking no part (only its stub when opened by id); a role without `record.search` refused.
Each journey asserts the audit events it leaves, and that criteria never reach a URL."""

from __future__ import annotations

import csv
import io
import re
import uuid

from playwright.sync_api import Locator, Page

from tests.browser.conftest import Accessibility, Server, details, screenshot
from tests.browser.pages import Header, sign_in
from tests.browser.test_record import record_id

OPERATION = "OP KESTREL 2026/014"


class SearchPage(Header):
    def open(self) -> SearchPage:
        self.goto("/search")
        return self

    def fill(self, name: str, value: str) -> None:
        self.page.locator(f'[name="{name}"]').fill(value)

    def select(self, name: str, value: str) -> None:
        self.page.locator(f'select[name="{name}"]').select_option(value)

    def choose(self, name: str, value: str) -> None:
        self.page.locator(f'input[name="{name}"][value="{value}"]').check()

    def search(self) -> None:
        self.qa("search").click()
        self.arrived()

    @property
    def errors(self) -> list[str]:
        return self.page.locator('[data-qa="error-summary"] li').all_inner_texts()

    @property
    def results(self) -> Locator:
        return self.qa("result")

    def names(self) -> list[str]:
        return self.page.locator('[data-qa="result"] [data-qa="name"]').all_inner_texts()

    def why(self, row: Locator) -> list[str]:
        return row.locator('[data-qa="why-item"]').all_inner_texts()


def searches(server: Server, after: int, user: str) -> list:
    return server.audit(after, tag="search:query:run", actor_user=user)


def test_the_investigator_searches_reads_why_pages_opens_exports_and_saves(
    page: Page, axe: Accessibility, server: Server
) -> None:
    user = "kent.investigator"
    site = SearchPage(page, axe, server.url)
    sign_in(site, as_=user)
    page.get_by_role("link", name="Search", exact=True).click()
    site.arrived()
    assert site.path == "/search" and site.title == "Search the register – The register"
    screenshot(page, "search-form")

    # No purpose, no criterion: the error summary names both, nothing is searched
    head = server.audit_head()
    site.search()
    assert site.errors == [
        "Enter the operation reference: the purpose of this search",
        "Enter at least one thing to search for: a name, a date of birth, a vehicle...",
    ]
    assert site.title.startswith("Error: ") and searches(server, head, user) == []

    site.fill("purpose", OPERATION)
    site.fill("name", "Hartley")
    site.fill("vrm", "gk19*")
    site.search()
    # The criteria are in the session; the URL holds only an opaque id
    assert (
        site.path.startswith("/search/")
        and "gk19" not in page.url.lower()
        and "hartley" not in page.url.lower()
    )
    assert site.names() == ["HARTLEY, Daniel James"]
    row = site.results.first
    assert site.why(row) == [
        "Name: primary name daniel james hartley (exact hartley)",
        "Vehicle: vehicle GK19XBW (pattern)",
    ]
    assert row.locator('[data-qa="area"]').inner_text() == "Kent"
    assert row.locator('[data-qa="category"]').text_content().strip() == "Cat 1"
    run = searches(server, head, user)
    assert len(run) == 1 and run[0].purpose == OPERATION and run[0].action == "consultation"
    assert details(run[0])["ids"] == [row.get_attribute("data-nominal-id")]
    # Its photograph's thumbnail is shown (a view, audited under the enquiry)
    assert row.locator('[data-qa="photo"]').get_attribute("data-photo") == "current"
    assert row.locator('[data-qa="photo"]').evaluate("img => img.complete && img.naturalWidth > 0")
    screenshot(page, "search-results")

    # A result opens under the enquiry's purpose: no purpose page, the consultation carries it
    nominal_id = row.get_attribute("data-nominal-id") or ""
    head = server.audit_head()
    row.locator('[data-qa="result-link"]').click()
    site.arrived()
    assert site.path == f"/records/{nominal_id}"
    reads = server.audit(head, tag="nominal:record:read", actor_user=user, nominal_id=uuid.UUID(nominal_id))
    assert len(reads) == 1 and reads[0].purpose == OPERATION
    page.go_back()
    site.arrived()

    # The export: every result, formula-safe CSV, audited as a disclosure with the purpose
    head = server.audit_head()
    with page.expect_download() as download:
        site.qa("export").click()
    with open(download.value.path(), encoding="utf-8") as f:
        text = f.read()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["surname"], r["owning_area"]) for r in rows] == [("Hartley", "Kent")]
    assert rows[0]["why_matched"] == "Name: primary name daniel james hartley; Vehicle: vehicle GK19XBW"
    exported = server.audit(head, tag="search:results:export", actor_user=user)
    assert len(exported) == 1 and exported[0].action == "disclosure" and exported[0].purpose == OPERATION
    assert details(exported[0])["ids"] == [nominal_id]

    # Saved for the operation, listed beside the form, run again with one click, deleted
    site.qa("save-search").click()
    site.arrived()
    assert site.errors == ["Enter a name for the saved search"]
    site.fill("name", "Transit van, Hartley")
    site.qa("save-search").click()
    site.arrived()
    assert "Search saved as ‘Transit van, Hartley’" in site.qa("confirmation").inner_text()
    site.open()
    assert site.page.locator('[name="purpose"]').input_value() == OPERATION
    saved = site.qa("saved-search")
    assert (
        saved.count() == 1
        and saved.first.locator('[data-qa="saved-name"]').inner_text() == "Transit van, Hartley"
    )
    screenshot(page, "search-saved")
    head = server.audit_head()
    saved.first.locator('[data-qa="saved-run"]').click()
    site.arrived()
    assert site.names() == ["HARTLEY, Daniel James"]
    assert len(server.audit(head, tag="search:saved:run", actor_user=user)) == 1
    assert len(searches(server, head, user)) == 1
    site.open()
    site.qa("saved-search").first.locator('[data-qa="saved-delete"]').click()
    site.arrived()
    assert site.qa("saved-search").count() == 0
    assert len(server.audit(head, tag="search:saved:delete", actor_user=user)) == 1


def test_paging_through_every_result_keeps_the_criteria_out_of_the_url(
    page: Page, axe: Accessibility, server: Server
) -> None:
    site = SearchPage(page, axe, server.url)
    sign_in(site, as_="kent.investigator")
    site.open()
    site.fill("purpose", OPERATION)
    site.fill("age_min", "18")
    site.fill("age_max", "99")
    site.choose("sort", "surname")
    site.search()
    total = int(site.qa("result-count").locator("strong").inner_text())
    assert total > 20
    first = site.names()
    assert len(first) == 20 and first == sorted(first, key=lambda n: n.split(",")[0])
    seen = list(first)
    while (next_link := page.locator(".govuk-pagination__next a")).count():
        href = next_link.get_attribute("href") or ""
        assert re.fullmatch(r"/search/[\w-]+\?page=\d+", href), href  # an opaque id and a page number only
        next_link.click()
        site.arrived()
        seen += site.names()
    assert len(seen) == total and len(set(seen)) > 20
    assert "Showing" in page.locator(".moj-pagination__results").first.inner_text()
    # Not a page number, or a search id this session never made: a page, never a stack trace
    search_path = site.path.split("?")[0]
    page.goto(server.url + search_path + "?page=abc")
    site.arrived()
    assert site.names() == first
    missing = page.goto(server.url + "/search/not-a-search-of-mine?page=2")
    site.arrived()
    assert missing is not None and missing.status == 404 and site.title.startswith("This search has ended")


def test_bad_input_is_named_beside_its_field_and_never_searched(
    page: Page, axe: Accessibility, server: Server
) -> None:
    site = SearchPage(page, axe, server.url)
    sign_in(site, as_="kent.investigator")
    site.open()
    head = server.audit_head()
    site.fill("purpose", OPERATION)
    site.fill("dob-day", "31")
    site.fill("dob-month", "2")
    site.fill("dob-year", "1984")
    site.fill("age_min", "40")
    site.fill("age_max", "30")
    site.fill("radius", "5")
    site.search()
    assert site.errors == [
        "Date of birth must be a real date, for example 27 3 2025",
        "Age to must be the same as or more than age from",
        "Choose the place the radius is drawn around",
    ]
    assert (
        page.locator("#dob-error")
        .inner_text()
        .endswith("Date of birth must be a real date, for example 27 3 2025")
    )
    assert (
        page.locator("#age_max-error")
        .inner_text()
        .endswith("Age to must be the same as or more than age from")
    )
    # The answers are kept
    assert page.locator('[name="age_min"]').input_value() == "40"
    screenshot(page, "search-errors")
    assert searches(server, head, "kent.investigator") == []


def test_another_areas_restricted_record_takes_no_part_and_opens_only_as_its_stub(
    page: Page, axe: Accessibility, server: Server
) -> None:
    brannigan = record_id(server, "Brannigan")  # Kent, restricted, drives KX63 ABC
    site = SearchPage(page, axe, server.url)
    sign_in(site, as_="essex.investigator")
    site.open()
    site.fill("purpose", "ESX/2026/0042")
    site.fill("vrm", "KX63*")
    site.search()
    assert site.results.count() == 0 and site.qa("result-count").inner_text() == "0 people found"
    assert "Brannigan" not in page.content() and brannigan not in page.content()
    search_path = site.path
    # Reached by id under the enquiry, it is only the stub, audited with the purpose
    head = server.audit_head()
    site.goto(f"{search_path}/records/{brannigan}")
    assert site.qa("restricted-stub").is_visible() and "Brannigan" not in page.content()
    stubs = server.audit(head, tag="nominal:record:stub", actor_user="essex.investigator")
    assert len(stubs) == 1 and stubs[0].purpose == "ESX/2026/0042"

    # In its own area the same search finds it
    page.context.clear_cookies()
    sign_in(site, as_="kent.investigator", next_path="/search")
    site.open()
    site.fill("purpose", OPERATION)
    site.fill("vrm", "KX63*")
    site.search()
    assert site.names() == ["BRANNIGAN, Lee"]


def test_a_role_without_search_gets_the_refusal_page(page: Page, axe: Accessibility, server: Server) -> None:
    site = SearchPage(page, axe, server.url)
    sign_in(site, as_="kent.auditor")
    assert site.page.get_by_role("link", name="Search", exact=True).count() == 0
    head = server.audit_head()
    response = page.goto(server.url + "/search")
    site.arrived()
    assert response is not None and response.status == 403
    assert site.title.startswith("You cannot see this page")
    denied = server.audit(head, tag="access:record.search:denied", actor_user="kent.auditor")
    assert len(denied) == 1 and denied[0].outcome == "denied"


def test_a_search_by_keyboard_alone(page: Page, axe: Accessibility, server: Server) -> None:
    site = SearchPage(page, axe, server.url)
    sign_in(site, as_="kent.investigator")
    site.open()
    page.locator("#purpose").focus()
    page.keyboard.type(OPERATION)
    page.keyboard.press("Tab")  # the name
    page.keyboard.type("Danny Hartley")
    page.keyboard.press("Tab")  # how to match: the radios, one tab stop
    page.keyboard.press("ArrowDown")  # ... sounds like
    page.keyboard.press("ArrowDown")  # ... similar spelling
    page.keyboard.press("ArrowDown")  # ... nicknames
    with page.expect_navigation():
        page.keyboard.press("Enter")  # submits the form
    site.arrived()
    assert site.names() == ["HARTLEY, Daniel James"]
    assert site.why(site.results.first)[0].startswith("Name: ")
    link = site.results.first.locator('[data-qa="result-link"]')
    link.focus()
    with page.expect_navigation(url="**/records/*"):
        page.keyboard.press("Enter")
    site.arrived()
    assert site.path.startswith("/records/")


def test_words_recorded_about_them_find_only_what_the_searcher_may_read(
    page: Page, axe: Accessibility, server: Server
) -> None:
    """Hartley's intelligence ("seen loitering near Mote Park bandstand after dark") is police only: a police
    investigator's free text finds him by it; a probation officer's finds no one, exactly as if it were not
    written."""
    site = SearchPage(page, axe, server.url)
    sign_in(site, as_="kent.investigator")
    site.open()
    head = server.audit_head()
    site.fill("purpose", OPERATION)
    site.fill("text", "Mote Park bandstand")
    site.select("text_source", "intelligence")
    site.search()
    assert "bandstand" not in page.url.lower()
    assert site.names() == ["HARTLEY, Daniel James"]
    assert site.why(site.results.first) == ["Words recorded about them: words in intelligence (free text)"]
    assert len(searches(server, head, "kent.investigator")) == 1
    screenshot(page, "search-free-text")

    page.context.clear_cookies()
    sign_in(site, as_="kent.offender_manager.probation", next_path="/search")
    site.open()
    site.fill("purpose", "PROB/2026/0007")
    site.fill("text", "Mote Park bandstand")
    site.search()
    assert site.results.count() == 0 and site.qa("result-count").inner_text() == "0 people found"
    assert "Hartley" not in page.content()

    # Free text with no word in it is named beside its field, and nothing is searched
    site.open()
    site.fill("purpose", "PROB/2026/0007")
    site.fill("text", "-- ??")
    head = server.audit_head()
    site.search()
    assert site.errors == ["The words recorded about them must contain a letter or a digit"]
    assert (
        page.locator("#text-error")
        .inner_text()
        .endswith("The words recorded about them must contain a letter or a digit")
    )
    assert searches(server, head, "kent.offender_manager.probation") == []


def test_the_form_offers_the_query_models_options(page: Page, axe: Accessibility, server: Server) -> None:
    """A surname prefix, a year of birth a year either side, the end of a registration mark: what the query
    model offers (decision 41) is on the form too, and "why it matched" says how each matched."""
    site = SearchPage(page, axe, server.url)
    sign_in(site, as_="kent.investigator")
    site.open()
    site.fill("purpose", OPERATION)
    site.fill("name", "Hart*")
    site.choose("name_part", "surname")
    site.fill("dob_year", "1985")
    site.page.locator('input[name="dob_either_side"]').check()
    site.fill("vrm", "x bw")
    site.page.locator('input[name="vrm_partial"]').check()
    site.search()
    assert site.names() == ["HARTLEY, Daniel James"]
    assert site.why(site.results.first) == [
        "Name: primary name daniel james hartley (prefix hart* of hartley)",
        "Year of birth (year -1)",
        "Vehicle: vehicle GK19XBW (ends with XBW)",
    ]
    # A date and a year together are one question too many: named beside the year
    site.open()
    site.fill("purpose", OPERATION)
    site.fill("dob-day", "17")
    site.fill("dob-month", "3")
    site.fill("dob-year", "1984")
    site.fill("dob_year", "1984")
    site.select("identifier_kind", "pnc")
    site.search()
    assert site.errors == [
        "Enter a date of birth or a year of birth, not both",
        "Enter the identifier",
    ]
