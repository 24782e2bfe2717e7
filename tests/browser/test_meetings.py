"""MAPPA meetings in a real browser (issue #22): the Kent police offender manager schedules a Level 2 meeting
for Mark O'Sullivan, writes its minutes by the four pillars (an agreement without a plan is refused with the
error summary, and the draft kept), agrees them; the action reaches its owner's home page (the caseload),
overdue, and is completed with its evidence; the record's plan is the one the meeting agreed; the chair's list
shows the area's overdue actions. Each step's audit events are checked, and axe-core runs on every page."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Page

from register.store import models as m
from tests.browser.conftest import SCREENSHOTS, Accessibility, Server, details, screenshot, today_in_london
from tests.browser.pages import KENT_POLICE_OFFENDER_MANAGER, CaseloadPage, EditForm, Site, sign_in
from tests.browser.test_record import record_id

OM = KENT_POLICE_OFFENDER_MANAGER
ACTION = "Check the new partner's children are not left alone with him"


@pytest.fixture(scope="module")
def meetings_server(make_server: Callable[..., Server]) -> Iterator[Server]:
    """A register of its own: these journeys change Mark O'Sullivan's record."""
    yield make_server()


def _date(form: EditForm, name: str, day: dt.date) -> None:
    form.fill_date(name, str(day.day), str(day.month), str(day.year))


def _tags(server: Server, after: int, nominal_id: str) -> list[str]:
    return [e.tag for e in server.audit(after, nominal_id=uuid.UUID(nominal_id)) if e.outcome == "success"]


def test_a_level_2_meeting_is_scheduled_minuted_agreed_and_its_action_done(
    page: Page, axe: Accessibility, meetings_server: Server
) -> None:
    server = meetings_server
    site = Site(page, axe, server.url)
    sign_in(site)
    mark = record_id(server, "O'Sullivan", "Mark")
    head = server.audit_head()
    today = today_in_london()

    # The demo's agreed meeting is there, with the plan it agreed.
    site.goto(f"/records/{mark}/meetings")
    assert site.title.startswith("Meetings and actions – Mark O'Sullivan")
    assert page.locator('[data-qa="meeting"]', has_text="Minutes agreed").count() >= 1

    # Schedule a meeting.
    site.qa("schedule-meeting").click()
    site.arrived()
    form = EditForm(page, axe, server.url)
    _date(form, "held_on", today)
    form.choose("level", "2")
    form.fill("chair", "DI Helen Marsh")
    form.save()
    assert "Meeting scheduled" in form.confirmation.inner_text()
    # The other journeys of this module may have scheduled a meeting for him too (in either order): this one
    # is the one its chair holds.
    scheduled = page.locator(
        '[data-qa="meeting"]',
        has=page.locator('[data-qa="meeting-status"]', has_text="Scheduled"),
        has_text="DI Helen Marsh",
    )
    assert scheduled.count() == 1
    scheduled.locator('[data-qa="write-minutes"]').click()
    site.arrived()
    assert site.title.startswith("Minutes of the MAPPA meeting")

    # Agreeing minutes without a plan: refused beside the plan, the draft kept, nothing agreed.
    form.fill("risk_discussed", "OASys review: high risk of serious harm to children in the new household")
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "meeting-minutes")
    form.qa("agree").click()
    site.arrived()
    assert "agreed minutes set the plan" in form.error_summary.inner_text().lower()
    assert site.title.startswith("Error: ")
    assert not server.audit(head, tag="meeting:minutes:agree", outcome="success")

    # The four pillars, each with the agency responsible; a disclosure; an action for the offender manager.
    form.fill("supervision", "Weekly appointments at Canterbury probation office")
    form.select("supervision-owner", "probation")
    form.fill("monitoring_and_control", "Unannounced home visits every two weeks\nCurfew checks")
    form.select("monitoring_and_control-owner", "police")
    form.fill("interventions_and_treatment", "Horizon programme")
    form.select("interventions_and_treatment-owner", "probation")
    form.fill("victim_safety_planning", "Children's social care to visit the household")
    form.select("victim_safety_planning-owner", "police")
    form.select("disclosure_recipient", "partner")
    form.fill("disclosure_what", "His convictions for offences against children")
    form.fill("disclosure_why", "She lives with two children under ten")
    form.fill("disclosure_authorised_by", "DI Helen Marsh")
    form.fill("action-1", ACTION)
    form.select("action-1-owner", OM)
    _date(form, "action-1-due", today - dt.timedelta(days=1))
    form.qa("agree").click()
    site.arrived()
    assert "Minutes agreed" in form.confirmation.inner_text()
    agreed = _tags(server, head, mark)
    expected = ("meeting:meeting:schedule", "meeting:minutes:save", "meeting:minutes:agree")
    expected += ("nominal:risk_plans:add", "nominal:disclosures:add", "nominal:chronology:append")
    assert set(expected) <= set(agreed)
    [disclosed] = server.audit(head, tag="meeting:disclosure:decide")
    assert disclosed.action == "disclosure" and details(disclosed)["recipient"] == "partner"
    plan = site.qa("plan-version").first
    assert "(current)" in plan.inner_text() and "Curfew checks" in plan.inner_text()
    site.goto(f"/records/{mark}/meetings")
    page.screenshot(
        path=str(SCREENSHOTS / "meetings.png"), full_page=True
    )  # the whole tab: actions, meetings, plans

    # The action is on its owner's home page, overdue; completing it records the evidence and the chronology.
    caseload = CaseloadPage(page, axe, server.url).open()
    mine = page.locator('[data-qa="my-action"]', has_text=ACTION)
    assert mine.count() == 1 and mine.locator('[data-qa="my-action-overdue"]').count() == 1
    mine.locator('[data-qa="my-action-complete"]').click()
    caseload.arrived()
    form.fill("evidence", "Home visit on arrival of the new partner: children seen, safety plan explained")
    form.save()
    assert "Action completed" in form.confirmation.inner_text()
    done = page.locator('[data-qa="action"]', has_text=ACTION)
    assert "Completed" in done.inner_text() and "children seen" in done.inner_text()
    assert "meeting:action:complete" in _tags(server, head, mark)
    with server.store.session_factory() as session:
        kinds = [e.kind for e in session.query(m.ChronologyEntry).filter_by(nominal_id=uuid.UUID(mark))]
    assert kinds.count("meeting") >= 3  # the demo's meeting, this one, and the completed action
    CaseloadPage(page, axe, server.url).open()
    assert page.locator('[data-qa="my-action"]', has_text=ACTION).count() == 0

    # The record's plan (its own tab) is the one the meeting agreed.
    site.goto(f"/records/{mark}/plan")
    assert "Curfew checks" in page.content() and "Horizon programme" in page.content()

    # The chair's list: the demo's overdue action of the probation offender manager.
    site.goto("/meetings")
    assert site.title.startswith("MAPPA meetings")
    assert "Confirm his place on the Horizon programme" in site.qa("desk-actions").inner_text()
    assert server.audit(head, tag="meeting:desk:read", actor_user=OM)
    screenshot(page, "meetings-desk")


def test_minutes_restricted_to_the_agencies_present_are_absent_for_an_agency_not_there(
    page: Page, axe: Accessibility, meetings_server: Server
) -> None:
    server = meetings_server
    site = EditForm(page, axe, server.url)
    sign_in(site)
    mark = record_id(server, "O'Sullivan", "Mark")
    site.goto(f"/records/{mark}/meetings/schedule")
    _date(site, "held_on", today_in_london())
    site.choose("level", "2")
    site.fill("chair", "DI Priya Nair")  # not the chair of the journey above, which shares this register
    site.save()
    scheduled = page.locator(
        '[data-qa="meeting"]',
        has=page.locator('[data-qa="meeting-status"]', has_text="Scheduled"),
        has_text="DI Priya Nair",
    )
    scheduled.first.locator('[data-qa="write-minutes"]').click()
    site.arrived()
    secret = "Police intelligence on his new associates discussed"
    site.fill("agencies_present", "Police, Children's social care")
    page.locator('input[name="restricted"]').check()
    site.fill("risk_discussed", secret)
    site.qa("save-draft").click()
    site.arrived()
    assert "Minutes saved as a draft" in site.confirmation.inner_text()
    assert secret in page.content() and "only Police may read them" in page.content()

    # Probation was not present: the minutes are not in its page at all.
    site.sign_out()
    sign_in(site, as_="kent.offender_manager.probation")
    site.goto(f"/records/{mark}/meetings")
    html = page.content()
    assert secret not in html and "only Police may read them" not in html
    assert "Minutes agreed" in html  # the demo's unrestricted meeting is still there


def test_a_referral_is_screened_and_its_meeting_scheduled(
    page: Page, axe: Accessibility, meetings_server: Server
) -> None:
    server = meetings_server
    site = EditForm(page, axe, server.url)
    sign_in(site)
    hartley = record_id(server, "Hartley")
    head = server.audit_head()
    site.goto(f"/records/{hartley}/meetings")
    site.qa("refer").click()
    site.arrived()
    site.save()  # the level sought and the reason are missing
    assert "Select level sought" in site.error_summary.inner_text()
    site.choose("level_sought", "2")
    site.fill("reason", "New partner with two young children; risk to children assessed as high")
    site.save()
    assert "waits for the screening decision" in site.confirmation.inner_text()
    referred = page.locator(
        '[data-qa="meeting"]', has=page.locator('[data-qa="meeting-status"]', has_text="Referred")
    )
    assert "Level 2 sought by" in referred.locator('[data-qa="referral"]').inner_text()
    referred.locator('[data-qa="screening-reason"]').fill("Meets the Level 2 criteria")
    referred.locator('[data-qa="accept-referral"]').click()
    site.arrived()
    assert "Referral accepted" in site.confirmation.inner_text()
    referred.locator('[data-qa="schedule-referral"]').click()
    site.arrived()
    _date(site, "held_on", today_in_london() + dt.timedelta(days=14))
    site.choose("level", "2")
    site.fill("chair", "DI Helen Marsh")
    site.save()
    assert "Meeting scheduled" in site.confirmation.inner_text()
    card = site.qa("meeting").first
    assert "Scheduled" in card.inner_text() and "Screening: accepted" in card.inner_text()
    tags = _tags(server, head, hartley)
    assert {"meeting:referral:create", "meeting:referral:screen", "meeting:meeting:schedule"} <= set(tags)
