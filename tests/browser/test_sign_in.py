"""Signing in and out of the web pages in a real browser, and what a session allows: the development sign-in
page, the redirect to sign-in and back, sign-out, a forged form refused, and the idle timeout. Each journey
checks the audit events it must leave, and axe-core checks every page it reaches."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Browser, Page

from tests.browser.conftest import Accessibility, Server, details, screenshot
from tests.browser.pages import KENT_POLICE_OFFENDER_MANAGER, CaseloadPage, Header, SignInPage, Site, sign_in


def test_the_kent_police_offender_manager_signs_in_and_lands_on_their_caseload(
    page: Page, axe: Accessibility, server: Server
) -> None:
    head = server.audit_head()
    signin = SignInPage(page, axe, server.url).open()
    assert signin.title == "Sign in – The register"
    # every demo user is offered: each role in Kent and Essex, and the Kent probation offender manager
    assert signin.qa("demo-user-essex.auditor").count() == 1
    assert signin.qa("demo-user-kent.offender_manager.probation").count() == 1
    screenshot(page, "sign-in")
    sign_in(signin)
    caseload = CaseloadPage(page, axe, server.url)
    assert caseload.path == "/caseload" and caseload.title.startswith("My caseload")
    assert caseload.signed_in_name == "Demo Offender Manager Kent Police"
    assert caseload.signed_in_role == "Police, Kent, offender manager"
    signed_in = server.audit(head, tag="auth:web:sign-in", actor_user=KENT_POLICE_OFFENDER_MANAGER)
    assert len(signed_in) == 1 and signed_in[0].outcome == "success"
    assert details(signed_in[0]) == {"method": "development", "issuer": "register-dev"}


def test_a_signed_out_visit_goes_to_sign_in_and_back_to_the_page_asked_for(
    page: Page, axe: Accessibility, server: Server
) -> None:
    site = Site(page, axe, server.url)
    site.goto("/caseload?level=1&sort=name")
    assert site.path == "/sign-in?next=/caseload%3Flevel%3D1%26sort%3Dname"
    sign_in(site)
    assert site.path == "/caseload?level=1&sort=name"
    # `next` only ever leads to this site
    site.goto("/sign-in?next=//evil.example/steal")
    assert (
        site.path == "/caseload"
    )  # already signed in: `/`, which sends an offender manager to their caseload


def test_sign_out_ends_the_session_and_is_audited(page: Page, axe: Accessibility, server: Server) -> None:
    site = Site(page, axe, server.url)
    sign_in(site)
    head = server.audit_head()
    (cookie,) = [c for c in page.context.cookies() if c["name"] == "register_session"]
    Header(page, axe, server.url).sign_out()
    assert site.path == "/signed-out" and site.qa("signed-out").is_visible()
    assert site.qa("signed-in-user").count() == 0
    assert [e.actor_user for e in server.audit(head, tag="auth:web:sign-out")] == [
        KENT_POLICE_OFFENDER_MANAGER
    ]
    site.goto("/caseload")
    assert site.path.startswith("/sign-in")
    # the cookie is replaced (the sign-in page begins a new, anonymous session), and a copy of the old one
    # kept by someone else opens nothing: the session is gone on the server
    assert cookie["value"] not in [c["value"] for c in page.context.cookies()]
    page.context.add_cookies([cookie])  # type: ignore[list-item]
    site.goto("/caseload")
    assert site.path.startswith("/sign-in")


def test_a_form_posted_without_the_sessions_csrf_token_is_refused_and_audited(
    page: Page, axe: Accessibility, server: Server
) -> None:
    site = Site(page, axe, server.url)
    sign_in(site)
    head = server.audit_head()
    # a sign-out form with a wrong token (what a forged form from elsewhere would carry), posted from the page
    page.evaluate(
        """() => {
            const form = document.createElement("form");
            form.method = "post";
            form.action = "/sign-out";
            const token = document.createElement("input");
            token.name = "csrf_token";
            token.value = "forged";
            form.appendChild(token);
            document.body.appendChild(form);
            form.submit();
        }"""
    )
    page.wait_for_url(server.url + "/sign-out")
    site.arrived()
    assert site.qa("error-title").inner_text() == "This form has expired"
    refused = server.audit(head, tag="auth:web:csrf:refused")
    assert [(e.actor_user, e.outcome) for e in refused] == [(KENT_POLICE_OFFENDER_MANAGER, "denied")]
    assert details(refused[0]) == {"path": "/sign-out", "method": "POST"}
    assert server.audit(head, tag="auth:web:sign-out") == []  # nothing the form asked for was done
    site.goto("/caseload")
    assert site.path == "/caseload"  # still signed in
    # a POST without any token is refused too (the API's own POST routes take bearer tokens, not cookies)
    response = page.request.post(server.url + "/sign-out", form={})
    assert response.status == 403


def test_an_idle_session_ends_after_the_configured_minutes(
    browser: Browser, make_server: Callable[..., Server]
) -> None:
    short = make_server(session_idle_minutes=1)
    axe = Accessibility(short.url)
    context = browser.new_context(timezone_id="Europe/London", locale="en-GB")
    try:
        page = context.new_page()
        site = Site(page, axe, short.url)
        sign_in(site, next_path="/caseload")
        assert site.path == "/caseload"
        short.app.state.sessions.clock.advance(50)  # active again within the minute: still signed in
        site.goto("/caseload")
        assert site.path == "/caseload"
        head = short.audit_head()
        short.app.state.sessions.clock.advance(61)  # then a minute and a second without a request
        site.goto("/caseload")
        assert site.path == "/sign-in?next=/caseload&ended=idle"
        assert "done nothing for 1 minute." in site.qa("session-ended").inner_text()
        expired = short.audit(head, tag="auth:web:session:expired")
        assert [(e.actor_user, details(e)) for e in expired] == [
            (KENT_POLICE_OFFENDER_MANAGER, {"reason": "idle"})
        ]
        sign_in(site)
        assert site.path == "/caseload"
    finally:
        context.close()
    assert axe.violations == [], "\n\n".join(axe.violations)
