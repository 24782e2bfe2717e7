"""The supervisor's casework in a real browser: a transfer accepted (the record changes hands, the sending
side sees the decision), a duplicate previewed, merged and unmerged (the records come back), a legal hold set
and a record archived and restored, each with a reason; a missing reason shows the GOV.UK error summary and
changes nothing; and what the policy keeps from a user stays off these pages. Each journey asserts its audit
events."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Page
from sqlalchemy import func, select

from register.domain.actors import Principal
from register.domain.enums import Agency, Area, Role
from register.store import models as m
from register.transfers import service as transfers
from register.transfers.schemas import TransferRequest
from tests.browser.conftest import Accessibility, Server, details, screenshot
from tests.browser.pages import EditForm, Header, RecordPage, Site, sign_in

KENT = "kent.supervisor"
ESSEX = "essex.supervisor"


@pytest.fixture(scope="module")
def casework(make_server: Callable[..., Server]) -> Iterator[Server]:
    """A register of its own: these journeys move, merge and archive the demo's records."""
    yield make_server()


def record_id(server: Server, surname: str, forenames: str | None = None) -> str:
    with server.store.unit_of_work() as uow:
        ids = list(uow.session.scalars(select(m.Nominal.id)))
        found = [
            i
            for i, s in uow.nominals.summaries(ids).items()
            if s.surname == surname and (forenames is None or s.forenames == forenames)
        ]
    assert len(found) == 1, surname
    return str(found[0])


def nominal(server: Server, nominal_id: str) -> m.Nominal:
    with server.store.session_factory() as session:
        row = session.get(m.Nominal, uuid.UUID(nominal_id))
        assert row is not None
        session.expunge(row)
        return row


def transfers_of(server: Server, nominal_id: str) -> list[m.Transfer]:
    with server.store.session_factory() as session:
        return list(session.scalars(select(m.Transfer).where(m.Transfer.nominal_id == uuid.UUID(nominal_id))))


def items_on(server: Server, nominal_id: str) -> int:
    with server.store.session_factory() as session:
        return int(
            session.scalar(
                select(func.count()).select_from(m.Item).where(m.Item.nominal_id == uuid.UUID(nominal_id))
            )
            or 0
        )


def navigation(site: Site) -> list[str]:
    return site.page.locator(".moj-primary-navigation__link").all_inner_texts()


def press(site: Site, qa: str) -> None:
    site.qa(qa).click()
    site.arrived()


def switch_user(site: Site, user: str) -> None:
    Header(site.page, site.axe, site.base).sign_out()
    sign_in(site, as_=user)


def test_the_supervisor_accepts_a_transfer_and_the_record_changes_hands(
    page: Page, axe: Accessibility, casework: Server
) -> None:
    site = EditForm(page, axe, casework.url)
    sign_in(site, as_=KENT)
    assert navigation(site) == [
        "My caseload",
        "Search",
        "Data quality",
        "Workload",
        "MAPPA meetings",
        "Transfers",
        "Duplicates",
        "Archive and retention",
        "Statistics",
    ]
    ashworth = record_id(casework, "Ashworth")
    head = casework.audit_head()
    site.goto("/transfers")
    row = site.page.locator('[data-qa="incoming"] [data-qa="transfer-row"]')
    assert row.count() == 1
    assert row.locator('[data-qa="name"]').inner_text() == "ASHWORTH, Stephen"
    assert row.locator('[data-qa="other-area"]').inner_text() == "Essex"
    assert "Moved to Maidstone" in row.locator('[data-qa="reason"]').inner_text()
    assert (row.locator('[data-qa="age"]').text_content() or "").strip() == "0 days"
    listed = casework.audit(head, tag="transfer:request:list", actor_user=KENT)
    assert {details(e)["direction"] for e in listed if e.nominal_id is None} == {"incoming", "outgoing"}
    # another area's record shown by name: a consultation of that record, under the transfer
    assert [e.nominal_id for e in listed if e.nominal_id is not None] == [uuid.UUID(ashworth)]
    screenshot(page, "transfers")

    row.locator('[data-qa="transfer-link"]').click()
    site.arrived()
    assert site.qa("owning-area").inner_text().endswith("Essex")
    assert site.qa("transfer-status").text_content() == "Pending"
    screenshot(page, "transfer")
    # bad input: no reason to reject, no unit or manager to accept; nothing changes
    press(site, "reject")
    assert site.title.startswith("Error: ")
    assert site.error_summary.inner_text().endswith("Enter why are you rejecting it?")
    press(site, "accept")
    summary = site.error_summary.inner_text()
    assert "Enter managing unit" in summary and "Enter offender manager" in summary
    assert [t.status for t in transfers_of(casework, ashworth)] == ["pending"]
    assert nominal(casework, ashworth).area == "essex"

    site.fill("managing_unit", "Maidstone MOSOVO")
    site.fill("manager_name", "DC Sarah Okafor")
    site.fill("accept_note", "Home address verified by Maidstone neighbourhood team")
    head = casework.audit_head()
    press(site, "accept")
    # the record page, now Kent's, managed by the unit and officer given
    record = RecordPage(page, axe, casework.url)
    assert record.path == f"/records/{ashworth}"
    assert "Transfer accepted" in site.confirmation.inner_text()
    identity = record.identity
    assert "Owned by Kent, Maidstone MOSOVO" in identity and "Offender manager: DC Sarah Okafor" in identity
    row_after = nominal(casework, ashworth)
    assert (row_after.area, row_after.managing_unit) == ("kent", "Maidstone MOSOVO")
    accepted = casework.audit(head, tag="transfer:request:accept", actor_user=KENT)
    assert sorted(details(e)["side"] for e in accepted) == ["receiving", "sending"]

    # the sending side sees the decision in its history
    switch_user(site, ESSEX)
    site.goto("/transfers?show=decided")
    done = site.page.locator('[data-qa="outgoing"] [data-qa="transfer-row"][data-status="accepted"]')
    assert done.count() == 1 and done.locator('[data-qa="name"]').inner_text() == "ASHWORTH, Stephen"
    done.locator('[data-qa="transfer-link"]').click()
    site.arrived()
    history = site.qa("history").inner_text()
    assert "Accepted: Essex to Kent" in history and "Home address verified" in history
    assert site.qa("accept-form").count() == 0 and site.qa("cancel-form").count() == 0
    screenshot(page, "transfer-accepted")


def test_a_restricted_record_transferred_in_shows_only_its_stub(
    page: Page, axe: Accessibility, casework: Server
) -> None:
    brannigan = record_id(casework, "Brannigan")
    kent = Principal("kent.supervisor", Agency.POLICE, Area.KENT, frozenset({Role.SUPERVISOR}), "Kent")
    with casework.store.unit_of_work() as uow:
        transfers.start(
            uow,
            kent,
            uuid.UUID(brannigan),
            TransferRequest(to_area=Area.ESSEX, reason="Moved to Colchester"),
            expected_version=uow.nominals.header_row(uuid.UUID(brannigan)).version,
        )
    site = EditForm(page, axe, casework.url)
    sign_in(site, as_=ESSEX)
    site.goto("/transfers")
    row = site.page.locator('[data-qa="incoming"] [data-qa="transfer-row"]')
    assert row.count() == 1 and row.inner_text().startswith("Restricted record")
    assert "Brannigan" not in page.content() and "BRANNIGAN" not in page.content()
    assert "Colchester" not in page.content()  # the reason is withheld with the rest
    row.locator('[data-qa="transfer-link"]').click()
    site.arrived()
    assert site.qa("stub").count() == 1 and "Brannigan" not in page.content()
    # the sending area (Kent) sees its own record and cancels the request
    switch_user(site, KENT)
    site.goto("/transfers")
    out = site.page.locator('[data-qa="outgoing"] [data-qa="transfer-row"]')
    assert out.locator('[data-qa="name"]').inner_text() == "BRANNIGAN, Lee"
    out.locator('[data-qa="transfer-link"]').click()
    site.arrived()
    press(site, "cancel-transfer")
    assert "Transfer cancelled" in site.confirmation.inner_text()
    assert [t.status for t in transfers_of(casework, brannigan)] == ["cancelled"]


def test_the_supervisor_previews_merges_and_unmerges_a_duplicate(
    page: Page, axe: Accessibility, casework: Server
) -> None:
    mark = record_id(casework, "O'Sullivan", "Mark")
    marc = record_id(casework, "O'Sullivan", "Marc")
    items_mark, items_marc = items_on(casework, mark), items_on(casework, marc)
    site = EditForm(page, axe, casework.url)
    sign_in(site, as_=KENT)
    site.goto("/duplicates")
    pair = site.page.locator('[data-qa="pair"]')
    assert pair.count() == 1 and pair.get_attribute("data-rule") == "dob_and_names"
    assert "The same date of birth and at least two names that sound alike" in pair.inner_text()
    screenshot(page, "duplicates")
    pair.locator('[data-qa="compare"]').click()
    site.arrived()
    # keep the fuller record (Mark's): the page compares the other way round on request
    if site.qa("survivor-name").inner_text().startswith("O'SULLIVAN, Marc"):
        site.qa("swap").click()
        site.arrived()
    assert site.path == f"/duplicates/{mark}/{marc}"
    comparison = site.qa("comparison").inner_text()
    assert "41 Wincheap" in comparison and "PNC: " in comparison
    assert "Marc O'Sullivan becomes another name" in site.qa("preview").inner_text()
    assert "Current address" in site.qa("conflicts").inner_text()
    screenshot(page, "duplicates-compare")

    head = casework.audit_head()
    press(site, "merge")  # no reason
    assert "Enter why are they the same person?" in site.error_summary.inner_text()
    assert nominal(casework, marc).status == "active"
    assert casework.audit(head, tag="nominal:record:merge") == []

    site.fill("reason", "Same PNC fingerprints; forename mistyped on the second record")
    press(site, "merge")
    assert site.path == f"/records/{mark}" and "Records merged" in site.confirmation.inner_text()
    assert nominal(casework, marc).status == "merged" and items_on(casework, marc) == 0
    merged = casework.audit(head, tag="nominal:record:merge", actor_user=KENT)
    assert sorted(details(e)["side"] for e in merged) == ["merged", "survivor"]
    assert all(details(e)["reason_given"] for e in merged)

    site.goto("/duplicates")
    assert site.qa("no-pairs").count() == 1
    site.qa("merge-link").first.click()
    site.arrived()
    assert site.qa("merge-status").get_attribute("data-status") == "merged"
    screenshot(page, "duplicates-merge")
    press(site, "unmerge")  # no reason
    assert "Enter why are they two people after all?" in site.error_summary.inner_text()
    assert nominal(casework, marc).status == "merged"
    site.fill("reason", "Fingerprints show two people: Marc is Mark's cousin")
    head = casework.audit_head()
    press(site, "unmerge")
    assert "Merge undone" in site.confirmation.inner_text()
    assert site.qa("merge-status").get_attribute("data-status") == "unmerged"
    assert nominal(casework, marc).status == "active"
    # the records come back: what came from Marc goes back; Mark keeps its own and the merge's note
    assert items_on(casework, marc) == items_marc
    assert items_on(casework, mark) == items_mark
    assert len(casework.audit(head, tag="nominal:record:unmerge", actor_user=KENT)) == 2


def test_a_legal_hold_is_set_and_a_record_archived_and_restored_with_reasons(
    page: Page, axe: Accessibility, casework: Server
) -> None:
    site = EditForm(page, axe, casework.url)
    sign_in(site, as_=KENT)
    head = casework.audit_head()
    site.goto("/retention")
    due = site.page.locator('[data-qa="retention-row"] [data-qa="name"]').all_inner_texts()
    assert sorted(due) == ["KEELE, Royston", "PETTIFER, Graham"]
    assert site.qa("view-review").inner_text() == "Due for review (2)"
    assert site.qa("view-holds").inner_text() == "Legal holds (1)"
    assert len(casework.audit(head, tag="nominal:retention:read", actor_user=KENT)) == 1
    screenshot(page, "retention")

    brandrick = record_id(casework, "Brandrick")
    site.goto(f"/retention/records/{brandrick}")
    assert site.qa("legal-hold").get_attribute("data-hold") == "false"
    version = nominal(casework, brandrick).version
    press(site, "hold")  # no reason
    assert "Enter why must it be kept?" in site.error_summary.inner_text()
    assert (nominal(casework, brandrick).legal_hold, nominal(casework, brandrick).version) == (False, version)
    site.fill("hold_reason", "Operation KESTREL: linked enquiry")
    head = casework.audit_head()
    press(site, "hold")
    assert "Legal hold set" in site.confirmation.inner_text()
    assert nominal(casework, brandrick).legal_hold is True
    assert len(casework.audit(head, tag="nominal:retention:hold", actor_user=KENT)) == 1
    screenshot(page, "retention-record")

    # restore, then archive again, each with a reason
    press(site, "unarchive")
    assert "Enter why is it coming back?" in site.error_summary.inner_text()
    assert nominal(casework, brandrick).status == "archived"
    site.fill("unarchive_reason", "Returned to live in Ashford; notification requirement renewed")
    press(site, "unarchive")
    assert "Record restored" in site.confirmation.inner_text()
    assert nominal(casework, brandrick).status == "active"
    assert site.qa("status").get_attribute("data-status") == "active"
    press(site, "archive")  # no reason chosen
    assert "Select why is the record being archived?" in site.error_summary.inner_text()
    site.choose("archive_reason", "other")
    press(site, "archive")  # "other" needs details
    assert "Enter the details of the other reason" in site.error_summary.inner_text()
    assert nominal(casework, brandrick).status == "active"
    site.choose("archive_reason", "other")
    site.fill("archive_text", "Deported on 3 March 2026")
    head = casework.audit_head()
    press(site, "archive")
    assert "Record archived" in site.confirmation.inner_text()
    assert nominal(casework, brandrick).status == "archived"
    assert [e.tag for e in casework.audit(head, actor_user=KENT) if e.tag.startswith("nominal:record:")] == [
        "nominal:record:archive",
        "nominal:record:read",
    ]


def test_users_without_the_actions_or_in_another_area_see_nothing_of_it(
    page: Page, axe: Accessibility, casework: Server
) -> None:
    site = EditForm(page, axe, casework.url)
    sign_in(site, as_="kent.offender_manager")
    # no casework
    assert navigation(site) == ["My caseload", "Search", "Data quality", "Workload", "MAPPA meetings"]
    for path, action in (
        ("/transfers", "transfer.list"),
        ("/duplicates", "record.merge"),
        ("/retention", "record.retention"),
    ):
        head = casework.audit_head()
        site.goto(path)
        assert site.qa("error-title").inner_text() == "You cannot see this page"
        assert "ASHWORTH" not in page.content() and "PETTIFER" not in page.content()
        refused = casework.audit(head, tag=f"access:{action}:denied", actor_user="kent.offender_manager")
        assert len(refused) == 1

    # Essex's supervisor: Kent's duplicates and archived records are not on their pages, not even counted
    switch_user(site, ESSEX)
    site.goto("/duplicates")
    assert "O'SULLIVAN" not in page.content() and site.qa("pair").count() == 0
    site.goto("/retention?view=archived")
    assert site.qa("view-archived").inner_text() == "All archived (0)"
    assert "PETTIFER" not in page.content()
    pettifer = record_id(casework, "Pettifer")
    head = casework.audit_head()
    site.goto(f"/retention/records/{pettifer}")
    assert site.qa("error-title").inner_text() == "You cannot do this"
    assert "Pettifer" not in page.content() and "PETTIFER" not in page.content()
    assert len(casework.audit(head, tag="access:record.retention:denied", actor_user=ESSEX)) == 1
