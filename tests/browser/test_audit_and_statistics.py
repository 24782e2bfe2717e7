"""The auditor's pages and the statistics pages in a real browser: an auditor finds an investigator's
consultation with its purpose, opens the event, sees who looked at the record, verifies the chain and exports;
a supervisor reads the annual tables (chart and table, year-on-year), downloads a table and opens the people
behind a figure; roles without the action get the refusal page. Each journey asserts the audit events it
leaves."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid

from playwright.sync_api import BrowserContext, Page

from register.domain.actors import Principal
from register.domain.enums import Agency, Area, Role
from register.web.sessions import COOKIE
from tests.browser.conftest import Accessibility, Server, details, screenshot
from tests.browser.pages import PurposePage, RecordPage, Site, sign_in
from tests.browser.test_record import record_id

# a purpose that is also a spreadsheet formula: the export must defuse it
# Its own reference, so that other tests' consultations (the server is shared) never match its filter.
PURPOSE = '=HYPERLINK("http://example.invalid","ESX/2026/0042") sighting enquiry AUD-7741'


def summary_list(site: Site, qa: str) -> dict[str, str]:
    """A GOV.UK summary list (a definition list) as {label: value}."""
    rows = site.qa(qa).locator(".govuk-summary-list__row").all()
    return {r.locator("dt").inner_text().strip(): r.locator("dd").first.inner_text().strip() for r in rows}


def _auditor_filter(site: Site, **fields: str) -> None:
    for name, value in fields.items():
        if name == "action":
            site.page.locator("#action").select_option(value)
        else:
            site.page.locator(f"#{name}").fill(value)
    site.qa("apply-filters").click()
    site.arrived()


def test_the_auditor_finds_an_investigators_consultation_and_who_looked_at_the_record(
    page: Page, context: BrowserContext, axe: Accessibility, server: Server
) -> None:
    nominal_id = record_id(server, "Hartley")
    site = Site(page, axe, server.url)
    # an Essex investigator opens a Kent record, giving a purpose
    sign_in(site, as_="essex.investigator")
    RecordPage(page, axe, server.url).open(nominal_id)
    PurposePage(page, axe, server.url).state(PURPOSE)
    assert site.path == f"/records/{nominal_id}"
    context.clear_cookies()

    sign_in(site, as_="kent.auditor")
    site.qa("primary-navigation").get_by_role("link", name="Audit").click()
    site.arrived()
    assert site.path == "/audit" and site.title == "Audit log – The register"
    head = server.audit_head()
    _auditor_filter(site, user="essex.investigator", purpose="enquiry aud-7741", action="consultation")
    assert site.path == "/audit"  # the filter (a purpose) is posted and kept in the session, not in the URL
    rows = site.qa("audit-row")
    assert rows.count() >= 1
    assert "nominal:record:read" in [row.get_attribute("data-tag") for row in rows.all()]
    for row in rows.all():  # opening the record, and viewing its photograph: each under the purpose
        assert row.locator('[data-qa="purpose"]').inner_text() == PURPOSE
        assert "essex.investigator" in row.locator('[data-qa="user"]').inner_text()
    screenshot(page, "audit-search")
    searched = server.audit(head, tag="audit:log:read", actor_user="kent.auditor")
    assert details(searched[-1])["purpose"] == "enquiry aud-7741"  # the auditor's own search is audited

    # the event in plain words: labelled fields, the purpose, never the record's content
    site.page.locator(
        '[data-qa="audit-row"][data-tag="nominal:record:read"] [data-qa="event-link"]'
    ).first.click()
    site.arrived()
    assert site.path.startswith("/audit/events/")
    fields = summary_list(site, "event-fields")
    assert fields["Purpose"] == PURPOSE and fields["User"] == "essex.investigator"
    assert fields["Record"] == nominal_id and fields["What"] == "Opened the record (nominal:record:read)"
    assert "{" not in site.qa("event-details").inner_text()  # the details as fields, not JSON
    html = page.content()
    assert "Hartley" not in html and "HARTLEY" not in html  # the auditor never sees the record's content
    screenshot(page, "audit-event")

    # who looked at this record and why
    site.qa("record-consultations").click()
    site.arrived()
    assert site.path == f"/audit/records/{nominal_id}"
    looked = [
        (c.get_attribute("data-user"), c.locator('[data-qa="purpose"]').inner_text())
        for c in site.qa("consultation").all()
    ]
    assert ("essex.investigator", PURPOSE) in looked
    assert "Hartley" not in page.content()
    screenshot(page, "audit-record")

    # export what the filter finds: formula-escaped, and the export audited
    site.goto("/audit")
    head = server.audit_head()
    with page.expect_download() as download:
        site.qa("export").click()
    content = download.value.path().read_text()
    exported = list(csv.DictReader(io.StringIO(content)))
    assert exported and {r["actor_user"] for r in exported} == {"essex.investigator"}
    assert {r["purpose"] for r in exported} == {"'" + PURPOSE}  # defused: no formula runs
    exports = server.audit(head, tag="audit:log:export", actor_user="kent.auditor")
    assert len(exports) == 1 and details(exports[0])["returned"] == len(exported)

    # verify the chain now: the result is shown and recorded
    site.qa("verify-chain").click()
    site.arrived()
    assert "The audit chain is intact" in site.qa("confirmation").inner_text()
    assert site.qa("chain-ok").count() == 1 and "by kent.auditor" in site.qa("chain-last").inner_text()
    verified = server.audit(head, tag="audit:chain:verify", actor_user="kent.auditor")
    assert len(verified) == 1 and details(verified[0])["ok"] is True


def test_a_bad_date_in_the_audit_filter_shows_the_error_summary(
    page: Page, axe: Accessibility, server: Server
) -> None:
    site = Site(page, axe, server.url)
    sign_in(site, as_="kent.auditor")
    site.goto("/audit")
    site.page.locator("#since-day").fill("31")
    site.page.locator("#since-month").fill("2")
    site.page.locator("#since-year").fill("2026")
    _auditor_filter(site, record="not-a-record")
    assert site.title.startswith("Error: ")
    summary = site.qa("error-summary").inner_text()
    assert "‘from’ date must be a real date" in summary and "record’s identifier" in summary
    assert site.qa("audit-row").count() == 0


def test_who_looked_is_linked_from_the_record_page_only_for_roles_that_may_read_the_audit_log(
    page: Page, context: BrowserContext, axe: Accessibility, server: Server
) -> None:
    nominal_id = record_id(server, "Hartley")
    site = Site(page, axe, server.url)
    sign_in(site, as_="kent.supervisor")
    RecordPage(page, axe, server.url).open(nominal_id)
    assert site.qa("who-looked").count() == 0
    context.clear_cookies()
    # a Kent supervisor who is also an auditor (an identity provider may give both roles)
    session = server.app.state.sessions.create()
    session.principal = Principal(
        "kent.supervisor-auditor",
        Agency.POLICE,
        Area.KENT,
        frozenset({Role.SUPERVISOR, Role.AUDITOR}),
        "Demo Supervisor and Auditor",
    )
    session.issuer = "development"
    context.add_cookies([{"name": COOKIE, "value": session.id, "url": server.url}])
    RecordPage(page, axe, server.url).open(nominal_id)
    site.qa("who-looked").click()
    site.arrived()
    assert site.path == f"/audit/records/{nominal_id}" and site.qa("consultation").count() >= 1


def test_the_supervisor_reads_the_annual_tables_downloads_one_and_opens_the_people_behind_a_figure(
    page: Page, axe: Accessibility, server: Server
) -> None:
    site = Site(page, axe, server.url)
    sign_in(site, as_="kent.supervisor")
    head = server.audit_head()
    site.qa("primary-navigation").get_by_role("link", name="Statistics").click()
    site.arrived()
    # The year running today (provisional): the demo's people are registered when the server starts, and
    # people registered after a year ended never appear in it (docs/statistics.md).
    today = dt.date.today()
    year = today.year + (1 if today.month >= 4 else 0)
    site.page.locator("#year").select_option(str(year))
    site.qa("show-year").click()
    site.arrived()
    assert site.path == f"/statistics?year={year}"
    assert site.title == f"MAPPA annual statistics {year - 1}/{str(year)[2:]} – The register"
    assert site.qa("provisional").is_visible()
    tables = site.qa("statistics-table")
    assert tables.count() == 9
    for table in tables.all():  # each table: the report's table, a chart and its figures beside it
        assert table.locator('[data-qa="report-table"]').count() == 1
        assert table.locator('[data-qa="chart"] svg.register-chart__svg').count() == 1
        assert table.locator('[data-qa="change-table"] th').first.is_visible()
    eligible = site.page.locator('[data-table="eligible_on_31_march"]')
    lines = eligible.locator('[data-qa="report-line"]')
    assert [line.locator("th").inner_text() for line in lines.all()] == [
        "Level 1",
        "Level 2",
        "Level 3",
        "Total",
    ]
    # year-on-year: last year, this year and the difference
    for change in eligible.locator('[data-qa="change-line"]').all():
        last = int(change.locator('[data-qa="last"]').inner_text().replace(",", ""))
        this = int(change.locator('[data-qa="this"]').inner_text().replace(",", ""))
        text = change.locator('[data-qa="change"]').inner_text()
        assert text == ("No change" if this == last else f"{'+' if this > last else '−'}{abs(this - last)}")
    read = server.audit(head, tag="statistics:tables:read", actor_user="kent.supervisor")
    assert details(read[-1]) == {"area": "kent", "year": year, "compared_with": year - 1}
    assert eligible.locator('[data-qa="definition"]').count() == 1  # each table says how it is counted
    screenshot(page, "statistics")
    page.mouse.wheel(0, 840)
    page.wait_for_timeout(200)
    screenshot(page, "statistics-table")

    with page.expect_download() as download:
        eligible.locator('[data-qa="csv"]').click()
    rows = list(csv.DictReader(io.StringIO(download.value.path().read_text())))
    assert rows and {r["table"] for r in rows} == {"eligible_on_31_march"}
    level2_category1 = next(r for r in rows if (r["row"], r["column"]) == ("1", "2"))

    head = server.audit_head()
    figure = lines.nth(1).locator('[data-qa="figure-link"]').first  # Level 2, Category 1
    assert figure.inner_text().split(":")[0].strip() == level2_category1["count"]
    figure.click()
    site.arrived()
    people = site.qa("person")
    assert people.count() == int(level2_category1["count"])
    assert "Category 1, Level 2" in site.qa("people-heading").inner_text()
    screenshot(page, "statistics-people")
    listed = server.audit(head, tag="statistics:cell:people", actor_user="kent.supervisor")
    assert len(listed) == 1 and listed[0].action == "consultation"
    assert sorted(details(listed[0])["ids"]) == sorted(
        p.get_attribute("data-nominal-id") for p in people.all()
    )


def test_roles_without_the_action_get_the_refusal_page(
    page: Page, axe: Accessibility, server: Server
) -> None:
    site = Site(page, axe, server.url)
    sign_in(site, as_="kent.offender_manager.probation")
    head = server.audit_head()
    # the probation offender manager may not read statistics: no figure of any kind, police-only or not
    for path in ("/statistics", "/statistics/people?year=2026&table=eligible_on_31_march&row=1&column=2"):
        response = page.goto(server.url + path)
        site.arrived()
        assert response is not None and response.status == 403
        assert site.qa("person").count() == 0 and site.qa("statistics-table").count() == 0
    assert site.page.get_by_role("link", name="Statistics").count() == 0
    refused = server.audit(head, actor_user="kent.offender_manager.probation", outcome="denied")
    assert len(refused) == 2
    screenshot(page, "statistics-refused")

    site.page.context.clear_cookies()
    sign_in(site, as_="kent.supervisor")  # statistics yes, the audit log no
    for path in ("/audit", f"/audit/records/{uuid.uuid4()}", "/audit/events/1", "/audit/export"):
        response = page.goto(server.url + path)
        assert response is not None and response.status == 403
    assert site.page.get_by_role("link", name="Audit").count() == 0
