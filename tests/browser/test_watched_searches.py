"""Watched searches in a real browser (issue #19 point 8): the investigator watches a saved search of their
operation until a date (a missing date named in the error summary), a record created since is told on their
home page ("New matches for your watched searches": the search's name, the operation, how many) while another
area's restricted record that would match is not counted; the new matches open as a search under the
operation's purpose (names only there, audited), are marked as seen, and the watch is ended (audited)."""

from __future__ import annotations

import datetime as dt
import uuid

from playwright.sync_api import Page

from register.domain.actors import Principal
from register.domain.enums import Agency, Area, Role
from register.saved_searches import service
from tests.browser.conftest import Accessibility, Server, details, screenshot, today_in_london
from tests.browser.pages import sign_in
from tests.browser.test_search import SearchPage
from tests.factories import create

USER = "kent.investigator"
ESSEX_OM = Principal("essex.om.watch", Agency.POLICE, Area.ESSEX, frozenset({Role.OFFENDER_MANAGER}), "E")


def _evaluate(server: Server) -> service.WatchRun:
    """What `register watches run` (or the indexer) does after records change."""
    return service.run_watches(
        server.store,
        server.app.state.policy,
        server.app.state.search_backend,
        server.app.state.search_backend_name,
        indexed_only=False,
    )


def test_the_investigator_watches_a_saved_search_and_is_told_of_new_matches(
    page: Page, axe: Accessibility, server: Server
) -> None:
    tag = uuid.uuid4().hex[:6]
    operation = f"OP WATCHTOWER {tag}"
    surname = "Wexcombe"
    site = SearchPage(page, axe, server.url)
    sign_in(site, as_=USER)
    site.open()
    site.fill("purpose", operation)
    site.fill("name", surname)
    site.search()
    site.fill("name", f"Wexcombe sightings {tag}")
    site.qa("save-search").click()
    site.arrived()
    site.open()
    saved = site.qa("saved-search").first
    saved_id = saved.get_attribute("data-saved-id") or ""

    # No date: named in the error summary and beside the field; nothing watched
    head = server.audit_head()
    saved.locator('[data-qa="saved-watch"]').click()
    site.arrived()
    assert site.errors == ["Enter the date to watch this search until"]
    assert server.audit(head, tag="search:watch:start", actor_user=USER, outcome="success") == []
    until = today_in_london() + dt.timedelta(days=30)
    prefix = f"until-{saved_id}"
    page.locator(f"#{prefix}-day").fill(str(until.day))
    page.locator(f"#{prefix}-month").fill(str(until.month))
    page.locator(f"#{prefix}-year").fill(str(until.year))
    site.qa("saved-search").first.locator('[data-qa="saved-watch"]').click()
    site.arrived()
    assert "Watching" in site.qa("confirmation").inner_text()
    assert site.qa("watching").count() == 1
    started = server.audit(head, tag="search:watch:start", actor_user=USER)
    assert len(started) == 1 and started[0].purpose == operation

    # A Kent record that matches, and an Essex restricted one that would: only the first is told
    with server.store.unit_of_work() as uow:
        told = create(
            uow,
            identity={
                "forenames": "Nora",
                "surname": surname,
                "date_of_birth": "1979-05-06",
                "gender": "female",
            },
        )
        create(
            uow,
            ESSEX_OM,
            area="essex",
            restricted=True,
            identity={
                "forenames": "Olive",
                "surname": surname,
                "date_of_birth": "1981-07-08",
                "gender": "female",
            },
        )
    head = server.audit_head()
    assert _evaluate(server).new >= 1
    evaluated = [
        e
        for e in server.audit(head, tag="search:query:run", actor_user=USER)
        if "watch_evaluation" in details(e)
    ]
    assert len(evaluated) == 1 and evaluated[0].purpose == operation
    assert details(evaluated[0])["ids"] == [str(told)]

    site.goto("/")
    panel = site.qa("watched-panel")
    assert panel.count() == 1
    mine = panel.locator(f'[data-saved-id="{saved_id}"]')
    assert mine.locator('[data-qa="watched-name"]').inner_text() == f"Wexcombe sightings {tag}"
    assert mine.locator('[data-qa="watched-count"]').inner_text() == "1"
    assert operation in mine.inner_text() and "Nora" not in page.content()  # no names on the home page
    screenshot(page, "search-watched")

    # The new matches open as a search under the operation's purpose; a result opens under it too
    head = server.audit_head()
    mine.locator('[data-qa="watched-open"]').click()
    site.arrived()
    assert site.names() == [f"{surname.upper()}, Nora"]
    runs = server.audit(head, tag="search:query:run", actor_user=USER)
    assert len(runs) == 1 and runs[0].purpose == operation and details(runs[0])["ids"] == [str(told)]
    read = server.audit(head, tag="search:watch:matches", actor_user=USER)
    assert len(read) == 1 and details(read[0])["ids"] == [str(told)]
    site.results.first.locator('[data-qa="result-link"]').click()
    site.arrived()
    reads = server.audit(head, tag="nominal:record:read", actor_user=USER, nominal_id=told)
    assert len(reads) == 1 and reads[0].purpose == operation

    # Marked as seen: no longer told; then the watch is ended from the home page
    site.goto("/")
    site.qa("watched-panel").locator(f'[data-saved-id="{saved_id}"] [data-qa="watched-seen"]').click()
    site.arrived()
    assert (
        site.path == "/"
        and page.locator(f'[data-qa="watched-search"][data-saved-id="{saved_id}"]').count() == 0
    )
    row = site.qa("watch").and_(page.locator(f'[data-saved-id="{saved_id}"]'))
    assert "Watching" in row.locator('[data-qa="watch-status"]').inner_text()
    head = server.audit_head()
    row.locator('[data-qa="watch-stop"]').click()
    site.arrived()
    assert "Stopped watching" in site.qa("confirmation").inner_text()
    row = site.qa("watch").and_(page.locator(f'[data-saved-id="{saved_id}"]'))
    assert row.locator('[data-qa="watch-status"]').inner_text().strip() == "Ended"
    assert len(server.audit(head, tag="search:watch:end", actor_user=USER, outcome="success")) == 1

    # Cleaned up: the saved search (and its watch) deleted, so other journeys on this register see neither
    site.open()
    site.page.locator(f'[data-saved-id="{saved_id}"] [data-qa="saved-delete"]').click()
    site.arrived()
