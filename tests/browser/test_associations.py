"""The association chart in a real browser: the chart drawn by cytoscape (no CSP violation) and the list
beside it, following a link to an associate's record, the list and the level chooser without JavaScript, a bad
level, an edge from a police-only item absent for probation, and what an Essex user may see of Kent's people.
Each journey asserts the audit events it leaves."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page
from sqlalchemy import update

from register.domain.record import Section
from register.store import models as m
from tests.browser.conftest import Accessibility, Server, screenshot
from tests.browser.pages import KENT_POLICE_OFFENDER_MANAGER, PurposePage, RecordPage, Site, sign_in
from tests.browser.test_record import record_id

PROBATION = "kent.offender_manager.probation"


class AssociationsPage(RecordPage):
    def open_associations(self, nominal_id: str, level: int | str | None = None) -> AssociationsPage:
        self.goto(f"/records/{nominal_id}/associations" + (f"?level={level}" if level else ""))
        return self

    def row(self, nominal_id: str) -> str:
        return " ".join(
            self.page.locator(f'[data-qa="associate"][data-id="{nominal_id}"]').inner_text().split()
        )

    def ids(self, level: int | None = None) -> set[str]:
        rows = self.page.locator(
            '[data-qa="associate"]' + (f'[data-level="{level}"]' if level is not None else "")
        )
        return {rows.nth(i).get_attribute("data-id") or "" for i in range(rows.count())}

    def choose_level(self, level: int) -> None:
        self.qa(f"level-{level}").check()
        self.qa("show-level").click()
        self.arrived()


@pytest.fixture
def console(page: Page) -> Iterator[list[str]]:
    """The browser console's errors and warnings (a refused script or style says so there)."""
    seen: list[str] = []

    def note(message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            seen.append(message.text)

    page.on("console", note)
    page.on("pageerror", lambda exc: seen.append(str(exc)))
    yield seen


def consultations(server: Server, after: int, user: str) -> dict[uuid.UUID, m.AuditEvent]:
    return {e.nominal_id: e for e in server.audit(after, tag="nominal:associations:read", actor_user=user)}  # type: ignore[misc]


def test_the_offender_manager_sees_the_chart_and_the_list_and_follows_a_link(
    page: Page, axe: Accessibility, server: Server, console: list[str]
) -> None:
    hartley, osullivan = record_id(server, "Hartley"), record_id(server, "O'Sullivan", "Mark")
    brannigan, doyle = record_id(server, "Brannigan"), record_id(server, "Doyle")
    site = Site(page, axe, server.url)
    sign_in(site)
    chart = AssociationsPage(page, axe, server.url).open(hartley)
    head = server.audit_head()
    chart.navigate("associations")
    assert chart.path == f"/records/{hartley}/associations" and chart.heading == "Associations"
    assert chart.title == "Associations – Daniel James Hartley – The register"
    # the chart is drawn (cytoscape's canvases inside the container) from the same people as the list
    graph = chart.qa("association-graph")
    page.wait_for_selector('[data-qa="association-graph"][data-rendered="true"]')
    assert graph.locator("canvas").count() >= 1 and graph.is_visible()
    assert chart.ids(1) >= {osullivan, brannigan, doyle}
    links = chart.row(osullivan)
    assert "Mark O'Sullivan" in links and "Co-offender" in links and "Same vehicle: GK19XBW" in links
    assert "Same postcode: ME16 8RP" in chart.row(brannigan)  # restricted, but Kent's own: in full
    # Kieran Doyle is Essex's: without a purpose only his owning area, never his name
    assert "A record of Essex" in chart.row(doyle) and "Same phone number: 07700900123" in chart.row(doyle)
    assert "Doyle" not in page.content() and "Kieran" not in page.content()
    page.evaluate(
        "window.scrollTo(0, document.querySelector('h1').getBoundingClientRect().top + window.scrollY - 10)"
    )
    screenshot(page, "associations")
    shown = consultations(server, head, KENT_POLICE_OFFENDER_MANAGER)
    assert {uuid.UUID(i) for i in (hartley, osullivan, brannigan, doyle)} <= set(shown)
    assert shown[uuid.UUID(doyle)].details and '"withheld"' in shown[uuid.UUID(doyle)].details
    assert all(e.action == "consultation" for e in shown.values())

    # two levels: the people linked to those people (Mark shares a phone with one of Kent's caseload)
    chart.choose_level(2)
    assert chart.path == f"/records/{hartley}/associations?level=2"
    page.wait_for_selector('[data-qa="association-graph"][data-rendered="true"]')
    second = chart.ids(2)
    assert len(second) >= 1 and all("Same phone number" in chart.row(i) for i in second)
    page.evaluate(
        "window.scrollTo(0, document.querySelector('h1').getBoundingClientRect().top + window.scrollY - 10)"
    )
    screenshot(page, "associations-level-2")

    # the list's links open the associate's record
    page.locator(f'[data-qa="associate"][data-id="{osullivan}"] [data-qa="associate-link"]').click()
    chart.arrived()
    assert chart.path == f"/records/{osullivan}" and "O'SULLIVAN" in chart.identity
    assert console == [], console  # no refused script or style, no error


def test_without_javascript_the_list_is_the_page_and_a_bad_level_is_an_error_page(
    browser: Browser, server: Server
) -> None:
    context = browser.new_context(java_script_enabled=False, timezone_id="Europe/London", locale="en-GB")
    context.set_default_timeout(15_000)
    # axe-core is JavaScript: it cannot run here (the same pages are checked with JavaScript on above)
    axe = Accessibility("no-javascript:")
    try:
        page = context.new_page()
        hartley, osullivan = record_id(server, "Hartley"), record_id(server, "O'Sullivan", "Mark")
        site = Site(page, axe, server.url)
        sign_in(site)
        chart = AssociationsPage(page, axe, server.url).open_associations(hartley)
        assert not chart.qa("association-graph").is_visible()  # nothing to draw it: the list says it all
        assert osullivan in chart.ids(1) and chart.ids(2) == set()
        chart.choose_level(2)
        assert chart.path == f"/records/{hartley}/associations?level=2" and chart.ids(2)
        page.locator('[data-qa="associations"]').scroll_into_view_if_needed()
        screenshot(page, "associations-no-javascript")
        for bad in ("3", "0", "two"):
            response = page.goto(f"{server.url}/records/{hartley}/associations?level={bad}")
            chart.arrived()
            assert response is not None and response.status == 400
            assert "The level must be 1 or 2" in page.content()
        response = page.goto(f"{server.url}/records/{uuid.uuid4()}/associations")
        chart.arrived()
        assert response is not None and response.status == 404
    finally:
        context.close()


def test_an_edge_from_a_police_only_item_is_absent_for_probation(
    page: Page, axe: Accessibility, server: Server
) -> None:
    hartley, osullivan = record_id(server, "Hartley"), record_id(server, "O'Sullivan", "Mark")
    police_only = (
        update(m.Item)
        .where(
            m.Item.nominal_id == uuid.UUID(hartley),
            m.Item.section == Section.ASSOCIATES.value,
            m.Item.kind == "co_offender",
        )
        .values(audience="police")
    )
    with server.store.unit_of_work() as uow:  # the co-offender link becomes police-only information
        uow.session.execute(police_only)
    try:
        site = Site(page, axe, server.url)
        sign_in(site, as_=PROBATION)
        chart = AssociationsPage(page, axe, server.url).open_associations(hartley)
        # Mark is still linked by the van they share, but the co-offending is not on the page at all
        assert "Same vehicle: GK19XBW" in chart.row(osullivan)
        assert "Co-offender" not in page.content() and "co_offender" not in page.content()
    finally:
        with server.store.unit_of_work() as uow:
            uow.session.execute(police_only.values(audience=None))


def test_an_essex_investigator_states_a_purpose_and_sees_kents_restricted_record_only_as_its_stub(
    page: Page, axe: Accessibility, server: Server
) -> None:
    hartley, brannigan, doyle = (record_id(server, s) for s in ("Hartley", "Brannigan", "Doyle"))
    ashworth = record_id(server, "Ashworth")
    site = Site(page, axe, server.url)
    sign_in(site, as_="essex.investigator")
    head = server.audit_head()
    PurposePage(page, axe, server.url).goto(f"/records/{hartley}/associations")
    assert site.path.startswith(f"/records/{hartley}/purpose")
    assert consultations(server, head, "essex.investigator") == {}  # nothing read before the purpose
    PurposePage(page, axe, server.url).state("Op Kestrel 26/1193")
    chart = AssociationsPage(page, axe, server.url)
    chart.arrived()
    assert chart.path == f"/records/{hartley}/associations" and chart.qa("purpose-in-force").count() == 1
    # Kieran Doyle is the investigator's own area's: in full, under the purpose given for this record
    assert "Kieran Doyle" in chart.row(doyle)
    # Lee Brannigan is restricted to Kent: only the stub, no name, date of birth or link back to his details
    assert "Restricted record of Kent" in chart.row(brannigan) and "Contact the owning area" in chart.row(
        brannigan
    )
    assert "Brannigan" not in page.content() and "Lee " not in chart.row(brannigan)
    chart.choose_level(2)
    assert ashworth in chart.ids(2)  # named as a friend on Kieran Doyle's record
    shown = consultations(server, head, "essex.investigator")
    assert shown[uuid.UUID(brannigan)].purpose == "Op Kestrel 26/1193"
    assert '"stub"' in (shown[uuid.UUID(brannigan)].details or "")
