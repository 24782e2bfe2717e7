"""The offender manager's caseload in a real browser: what is due (overdue first and marked), counts, sorting,
filters and paging, the photograph's slot, the audit of the listing, and a refusal for a role without
caseloads."""

from __future__ import annotations

from playwright.sync_api import Page

from tests.browser.conftest import Accessibility, Server, details, screenshot
from tests.browser.pages import KENT_POLICE_OFFENDER_MANAGER, CaseloadPage, Site, sign_in


def test_the_caseload_shows_each_persons_work_due_overdue_first_and_is_audited(
    page: Page, axe: Accessibility, server: Server
) -> None:
    site = Site(page, axe, server.url)
    sign_in(site)
    head = server.audit_head()
    caseload = CaseloadPage(page, axe, server.url).open()
    assert caseload.title == "My caseload (page 1 of 3) – The register"
    counts = caseload.counts
    overdue = int(counts.split(" overdue")[0])
    assert overdue > 0 and " due this week" in counts
    assert caseload.results == "Showing 1 to 20 of 49 total people"
    first = caseload.rows.first
    # sorted by what is due first: the first row has an overdue item, marked, and its first item is the
    # overdue one
    assert first.locator('[data-qa="overdue"]').count() >= 1
    assert first.locator("[data-urgency]").first.get_attribute("data-urgency") == "overdue"
    for row in caseload.rows.all():
        urgencies = [u.get_attribute("data-urgency") for u in row.locator("[data-urgency]").all()]
        assert urgencies == sorted(urgencies, key=lambda u: u != "overdue")  # overdue ones first in every row
        assert row.locator('[data-qa="photo"]').count() == 1  # the photograph's slot
        assert (
            row.locator('[data-qa="level"]').count() == 1 and row.locator('[data-qa="category"]').count() == 1
        )
    screenshot(page, "caseload")

    listed = server.audit(head, tag="nominal:record:list", actor_user=KENT_POLICE_OFFENDER_MANAGER)
    assert len(listed) == 1 and listed[0].action == "consultation"
    shown = [r.get_attribute("data-nominal-id") for r in caseload.rows.all()]
    assert details(listed[0]) == {"area": "kent", "caseload": True, "page": 1, "total": 49, "ids": shown}


def test_the_caseload_sorts_filters_and_pages_on_the_server(
    page: Page, axe: Accessibility, server: Server
) -> None:
    site = Site(page, axe, server.url)
    sign_in(site)
    caseload = CaseloadPage(page, axe, server.url).open()
    caseload.sort_by("name")
    names = caseload.names()
    assert names == sorted(names, key=str.casefold) and caseload.path == "/caseload?sort=name"
    assert page.locator('[data-qa="sort-name"]').get_attribute("aria-sort") == "ascending"
    caseload.sort_by("name")
    assert page.locator('[data-qa="sort-name"]').get_attribute("aria-sort") == "descending"
    page.locator('a[rel="next"]').first.click()
    caseload.arrived()
    assert caseload.results == "Showing 21 to 40 of 49 total people"

    caseload.filter(due="overdue")
    assert "due=overdue" in caseload.path and "sort=name" in caseload.path  # the sort is kept
    total = int(caseload.results.split(" of ")[1].split()[0])
    assert total == int(caseload.counts.split(" overdue")[0])
    for row in caseload.rows.all():
        assert row.locator('[data-qa="overdue"]').count() >= 1
    caseload.filter(levels=(2,))
    for level in page.locator('[data-qa="caseload-row"] [data-qa="level"]').all_text_contents():
        assert level.strip() == "Level 2"
    page.get_by_role("link", name="Clear filters").click()
    caseload.arrived()
    assert caseload.results.endswith("of 49 total people")


def test_a_role_without_caseloads_is_refused_the_page_and_the_refusal_is_audited(
    page: Page, axe: Accessibility, server: Server
) -> None:
    site = Site(page, axe, server.url)
    sign_in(site, as_="kent.auditor")
    assert site.path == "/"  # the front door, not a caseload
    head = server.audit_head()
    site.goto("/caseload")
    assert site.qa("error-title").inner_text() == "You cannot see this page"
    refused = server.audit(head, tag="access:record.list:denied", actor_user="kent.auditor")
    assert len(refused) == 1 and refused[0].outcome == "denied"
    assert details(refused[0]) == {"rule": "role_not_permitted"}
    assert "HARTLEY" not in page.content()


def test_the_probation_offender_manager_sees_only_their_own_caseload(
    page: Page, axe: Accessibility, server: Server
) -> None:
    sign_in(Site(page, axe, server.url), as_="kent.offender_manager.probation")
    caseload = CaseloadPage(page, axe, server.url)
    assert caseload.path == "/caseload"
    assert caseload.results == "Showing 1 to 15 of 15 total people"
    assert "HARTLEY, Daniel James" not in caseload.names()  # the police offender manager's, not theirs
    assert "O'SULLIVAN, Mark" in caseload.names()
