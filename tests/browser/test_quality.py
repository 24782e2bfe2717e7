"""The supervisor's data-quality desk and the area's workload in a real browser: run the checks, open a
finding, follow its link, put the record right with the existing form, run again and see it leave the list;
filters, paging and the CSV export (defused, audited as a disclosure); due and overdue work per unit and
officer with each officer's overdue people; what a probation supervisor must never see (police-only
intelligence, even as a count); refusals for roles without the policy's action."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page
from sqlalchemy import select

from register.domain.actors import Principal, SystemActor
from register.domain.enums import Agency, Area, Role
from register.domain.record import NewNominal, Section
from register.domain.rules import parse_item
from register.nominals import service as nominals
from register.quality import service as quality
from register.store import models as m
from register.web.sessions import COOKIE
from tests.browser.conftest import Accessibility, Server, details, screenshot, today_in_london
from tests.browser.pages import EditForm, Site, sign_in

SUPERVISOR = "kent.supervisor"


@pytest.fixture
def desk(make_server: Callable[..., Server]) -> Server:
    """A register of its own (a copy of the demo data): these journeys run the checks and change records."""
    return make_server()


class QualityDesk(Site):
    def open(self, query: str = "") -> QualityDesk:
        self.goto("/quality" + (f"?{query}" if query else ""))
        return self

    def run_checks(self) -> None:
        self.qa("run-checks").click()
        self.arrived()

    def count(self, rule: str) -> int:
        return int(
            self.page.locator(f'[data-qa="rule-row"][data-rule="{rule}"] [data-qa="count"]').inner_text()
        )

    def counts(self) -> dict[str, int]:
        return {
            row.get_attribute("data-rule") or "": int(row.locator('[data-qa="count"]').inner_text())
            for row in self.qa("rule-row").all()
        }


class Findings(Site):
    def open(self, query: str = "") -> Findings:
        self.goto("/quality/findings" + (f"?{query}" if query else ""))
        return self

    @property
    def rows(self) -> list[dict[str, str]]:
        return [
            {
                "rule": row.get_attribute("data-rule") or "",
                "id": row.get_attribute("data-nominal-id") or "",
                "text": row.inner_text(),
            }
            for row in self.qa("finding").all()
        ]

    @property
    def results(self) -> str:
        return self.page.locator(".moj-pagination__results").first.inner_text()


def signed_in_as(context: BrowserContext, server: Server, principal: Principal) -> None:
    """A session for a user the development sign-in page does not list (a probation supervisor), made as
    web/signin.py makes one."""
    session = server.app.state.sessions.create()
    session.principal = principal
    session.issuer = "development"
    context.add_cookies([{"name": COOKIE, "value": session.id, "url": server.url}])


def test_the_supervisor_runs_the_checks_fixes_a_finding_and_sees_it_leave_the_list(
    page: Page, axe: Accessibility, desk: Server
) -> None:
    # Every demo person in Kent has an address: Lee Brannigan's is ended (through the use case, with a reason)
    # so that the rule has exactly one person to find.
    with desk.store.unit_of_work() as uow:
        ids = list(uow.session.scalars(select(m.Nominal.id)))
        [brannigan] = [i for i, s in uow.nominals.summaries(ids).items() if s.surname == "Brannigan"]
        record = uow.nominals.load(brannigan, audience=None)
        version = record.version
        for item in record.items(Section.ADDRESSES):
            if item.ended_at is None:
                version = nominals.end_item(
                    uow, SystemActor("test"), brannigan, item.id, "moved out", expected_version=version
                )
    site = Site(page, axe, desk.url)
    sign_in(site, as_=SUPERVISOR, next_path="/quality")
    board = QualityDesk(page, axe, desk.url)
    board.arrived()
    assert board.title == "Data quality – The register"
    assert board.qa("no-run").count() == 1
    nav = page.locator(".moj-primary-navigation__link, .govuk-service-navigation__link").all_inner_texts()
    assert "Data quality" in nav and "Workload" in nav

    head = desk.audit_head()
    board.run_checks()
    assert "The checks have run" in board.qa("confirmation").inner_text()
    ran = desk.audit(head, tag="quality:run:execute", actor_user=SUPERVISOR)
    assert len(ran) == 1 and ran[0].action == "consultation" and details(ran[0])["area"] == "kent"
    # every rule with what it checks; the trend's chart with its table beside it
    assert len(board.qa("rule-row").all()) == len(quality.load_rules())
    assert "No current address" in board.qa("rules").inner_text()
    assert board.qa("chart").count() == 1 and len(board.qa("trend-row").all()) == 1
    missing_address = board.count("MISSING-ADDRESS")
    assert missing_address == 1
    screenshot(page, "quality-dashboard")

    # the rule's worklist: the person, what is wrong, since when, who owns the record, the link that fixes it
    page.locator('[data-rule="MISSING-ADDRESS"] [data-qa="rule-link"]').click()
    findings = Findings(page, axe, desk.url)
    findings.arrived()
    assert findings.path == "/quality/findings?rule=MISSING-ADDRESS"
    [finding] = findings.rows
    row = findings.qa("finding").first
    assert "No current address" in row.locator('[data-qa="what"]').inner_text()
    assert row.locator('[data-qa="since"]').inner_text() == f"{today_in_london():%-d %b %Y}"
    assert row.locator('[data-qa="name"]').inner_text().strip()
    listed = desk.audit(head, tag="quality:worklist:read", actor_user=SUPERVISOR)
    assert details(listed[-1])["ids"] == [finding["id"]] and details(listed[-1])["rule"] == "MISSING-ADDRESS"
    screenshot(page, "quality-findings-rule")

    fix = row.locator('[data-qa="fix-link"]')
    assert fix.get_attribute("href") == f"/records/{finding['id']}/addresses/new"
    fix.click()
    form = EditForm(page, axe, desk.url)
    form.arrived()
    form.choose("kind", "home")
    form.fill("lines", "4 Quarry Lane")
    form.fill("postcode", "ME14 1AA")
    form.save()
    assert "Address added" in form.confirmation.inner_text()

    board.open()
    board.run_checks()
    assert board.count("MISSING-ADDRESS") == 0
    change = page.locator('[data-rule="MISSING-ADDRESS"] [data-qa="change"]').inner_text()
    assert change.strip() == "1 fewer"
    assert len(board.qa("trend-row").all()) == 2  # the trend now has both runs
    findings.open("rule=MISSING-ADDRESS")
    assert findings.rows == [] and findings.qa("findings-empty").count() == 1


def test_the_worklist_filters_pages_and_exports_a_defused_csv_audited_as_a_disclosure(
    page: Page, axe: Accessibility, desk: Server
) -> None:
    with desk.store.unit_of_work() as uow:  # a record whose unit is a spreadsheet formula, with no address
        formula = '=HYPERLINK("http://evil.example/","x")'
        new = NewNominal.model_validate(
            {
                "nominal_type": "rso",
                "area": "kent",
                "managing_unit": formula,
                "lead_agency": "police",
                "identity": {"forenames": "Formula", "surname": "Tester", "date_of_birth": "1980-01-01"},
            }
        )
        formula_id = nominals.create_nominal(uow, SystemActor("test"), new)
        quality.run(uow, SystemActor("test"), Area.KENT, today_in_london())
    site = Site(page, axe, desk.url)
    sign_in(site, as_=SUPERVISOR)
    findings = Findings(page, axe, desk.url).open()
    total = int(findings.results.split(" of ")[1].split()[0])
    assert total > 25 and len(findings.rows) == 25
    assert findings.title.startswith("Quality findings (page 1 of ")
    screenshot(page, "quality-findings")
    page.locator('a[rel="next"]').first.click()
    findings.arrived()
    assert "page=2" in findings.path and findings.results.startswith("Showing 26 to ")

    findings.page.locator('select[name="rule"]').select_option("VISIT-OVERDUE")
    findings.page.locator('select[name="unit"]').select_option("Mid Kent MOSOVO")
    findings.qa("apply-filters").click()
    findings.arrived()
    assert "rule=VISIT-OVERDUE" in findings.path and "unit=Mid+Kent+MOSOVO" in findings.path
    rows = findings.rows
    assert rows and all(r["rule"] == "VISIT-OVERDUE" and "Mid Kent MOSOVO" in r["text"] for r in rows)
    owner = findings.qa("owner").first.inner_text()
    assert owner == "kent.offender_manager"

    head = desk.audit_head()
    with page.expect_download() as download:
        findings.qa("export-csv").click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    table = list(csv.DictReader(io.StringIO(text)))
    assert {r["rule"] for r in table} == {"VISIT-OVERDUE"} and len(table) == len(rows)
    assert all(r["surname"] and r["record"].endswith(r["record"].rsplit("/", 1)[1]) for r in table)
    exported = desk.audit(head, tag="quality:worklist:export", actor_user=SUPERVISOR)
    assert len(exported) == 1 and exported[0].action == "disclosure"
    assert sorted(details(exported[0])["ids"]) == sorted(r["id"] for r in rows)

    # the formula is a cell of text, never run by a spreadsheet
    findings.open("rule=MISSING-ADDRESS")
    assert str(formula_id) in {r["id"] for r in findings.rows}
    response = page.request.get(desk.url + "/quality/findings.csv?rule=MISSING-ADDRESS")
    cells = [r for r in csv.reader(io.StringIO(response.text()))]
    units = [row[8] for row in cells[1:]]
    assert "'" + formula in units and formula not in units


def test_a_probation_supervisor_never_sees_police_only_intelligence_on_these_pages(
    context: BrowserContext, page: Page, axe: Accessibility, desk: Server
) -> None:
    probation = Principal(
        "kent.supervisor.probation",
        Agency.PROBATION,
        Area.KENT,
        frozenset({Role.SUPERVISOR}),
        "Demo Supervisor Kent Probation",
    )
    signed_in_as(context, desk, probation)
    board = QualityDesk(page, axe, desk.url)
    with desk.store.unit_of_work() as uow:
        quality.run(uow, SystemActor("test"), Area.KENT, today_in_london())
    before = board.open().counts()
    workload_before = Site(page, axe, desk.url)
    workload_before.goto("/workload")
    officers_before = workload_before.qa("officers").inner_text()

    # police-only intelligence, ungraded, on a Kent record; the checks run again
    with desk.store.session_factory() as s:
        from sqlalchemy import select

        from register.store import models as m

        target, version = s.execute(
            select(m.Nominal.id, m.Nominal.version).where(m.Nominal.area == "kent").limit(1)
        ).one()
    with desk.store.unit_of_work() as uow:
        item = parse_item(
            "intelligence",
            {"received_on": "2026-01-05", "text": "Seen with a known associate", "audience": ["police"]},
        )
        nominals.add_item(uow, SystemActor("test"), target, item, expected_version=version)
        quality.run(uow, SystemActor("test"), Area.KENT, today_in_london())
    with desk.store.unit_of_work() as uow:
        police = quality.dashboard(uow, Area.KENT, agency=Agency.POLICE)
    assert next(r for r in police["rules"] if r["rule"] == "INTEL-UNGRADED")["count"] == 1  # police see it

    after = board.open().counts()
    assert after == before and after["INTEL-UNGRADED"] == 0  # nothing counts differently for probation
    assert "INTEL-UNGRADED" not in {r.get_attribute("data-rule") for r in board.qa("rule-link").all()}
    board.open("trend=INTEL-UNGRADED")
    assert [r.inner_text().split("\t")[-1] for r in board.qa("trend-row").all()] == ["0", "0"]

    findings = Findings(page, axe, desk.url).open("rule=INTEL-UNGRADED")
    assert findings.rows == [] and findings.qa("findings-empty").count() == 1
    findings.open()
    assert page.locator('select[name="rule"] option[value="INTEL-UNGRADED"]').count() == 0  # not a choice
    assert all(r["rule"] != "INTEL-UNGRADED" for r in findings.rows)
    csv_text = page.request.get(desk.url + "/quality/findings.csv?rule=INTEL-UNGRADED").text()
    assert csv_text.strip().splitlines() == [csv_text.strip().splitlines()[0]]  # the header only
    assert "Seen with a known associate" not in page.content()

    # the workload: unchanged for probation
    workload_before.goto("/workload")
    assert workload_before.qa("officers").inner_text() == officers_before


def test_the_workload_shows_each_officers_due_and_overdue_work_and_their_overdue_people(
    page: Page, axe: Accessibility, server: Server
) -> None:
    site = Site(page, axe, server.url)
    sign_in(site, as_=SUPERVISOR)
    head = server.audit_head()
    page.get_by_role("link", name="Workload").first.click()
    site.arrived()
    assert site.path == "/workload" and site.title == "Workload – The register"
    units = {r.get_attribute("data-unit") for r in site.qa("unit-row").all()}
    assert {"Mid Kent MOSOVO", "Canterbury Probation"} <= units
    officers = site.qa("officer-row").all()
    overdue_visits = [int(r.locator('[data-qa="visits-overdue"]').inner_text()) for r in officers]
    assert overdue_visits == sorted(overdue_visits, reverse=True)  # the slipping officer first
    assert page.locator('[data-qa="sort-visits_overdue"]').get_attribute("aria-sort") == "descending"
    read = server.audit(head, tag="quality:workload:read", actor_user=SUPERVISOR)
    assert len(read) == 1 and read[0].action == "consultation"
    screenshot(page, "workload")

    officer = "kent.offender_manager"
    people_overdue = sum(
        int(r.locator('[data-qa="people-overdue"]').inner_text())
        for r in officers
        if r.get_attribute("data-officer") == officer
    )
    site.qa("officer-row").and_(page.locator(f'[data-officer="{officer}"]')).first.locator(
        '[data-qa="officer-link"]'
    ).click()
    site.arrived()
    assert site.path == f"/workload/officers/{officer}"
    rows = site.qa("overdue-row").all()
    assert len(rows) == people_overdue > 0
    for row in rows:
        assert row.locator('[data-qa="name"]').inner_text().strip()
        assert row.locator("time").count() >= 1 and "since" in row.inner_text()
    listed = server.audit(head, tag="nominal:record:list", actor_user=SUPERVISOR)
    assert details(listed[-1])["ids"] == [r.get_attribute("data-nominal-id") for r in rows]
    screenshot(page, "workload-officer")

    # filter by unit, sort by officer: GET forms and links
    site.goto("/workload")
    page.locator('select[name="unit"]').select_option("Mid Kent MOSOVO")
    site.qa("apply-unit").click()
    site.arrived()
    assert "unit=Mid+Kent+MOSOVO" in site.path
    assert {r.get_attribute("data-unit") for r in site.qa("unit-row").all()} == {"Mid Kent MOSOVO"}


def test_roles_without_the_policys_action_are_refused_and_offender_managers_cannot_run_the_checks(
    page: Page, axe: Accessibility, server: Server
) -> None:
    site = Site(page, axe, server.url)
    sign_in(site, as_="kent.reader")
    head = server.audit_head()
    for path in ("/quality", "/quality/findings", "/workload", "/workload/officers/kent.offender_manager"):
        response = page.goto(server.url + path)
        site.arrived()
        assert response is not None and response.status == 403, path
        assert "You cannot see this page" in page.content()
    assert page.request.get(server.url + "/quality/findings.csv").status == 403
    nav = page.locator("nav").all_inner_texts()
    assert not any("Data quality" in n or "Workload" in n for n in nav)
    denied = server.audit(head, tag="access:quality.read:denied", actor_user="kent.reader")
    assert len(denied) == 5

    page.context.clear_cookies()
    sign_in(site, as_="kent.offender_manager", next_path="/quality")
    site.arrived()
    assert site.path == "/quality" and site.qa("run-checks").count() == 0  # reads; only supervisors run
    token = page.locator('input[name="csrf_token"]').first.get_attribute("value")
    refused = page.request.post(server.url + "/quality/runs", form={"csrf_token": token or ""})
    assert refused.status == 403
    assert server.audit(head, tag="access:quality.run:denied", actor_user="kent.offender_manager")
    # a path that is not an officer id at all is not found, never an error
    assert page.request.get(server.url + f"/workload/officers/{uuid.uuid4()}%20x").status == 404
