"""Signing in to the web pages through a real identity provider: Keycloak's own login page
(deploy/local/keycloak.py, the test realm in auth/keycloak/), the authorization code flow with PKCE, the
claims mapped by auth/issuers.yaml, and sign-out ending Keycloak's session too (RP-initiated logout). Every
role of the demo signs in and lands where that role is sent; a user disabled at Keycloak cannot sign in again.

One Keycloak (the run's) and one register (this module's) serve every journey here; each journey has its own
browser context and signs out of both at its end. Runs last, with the other Keycloak tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from keycloak import KeycloakServer  # deploy/local, on the path through tests/conftest.py
from playwright.sync_api import Browser, BrowserContext

from tests.api.test_identity_provider import TEST_PASSWORD, Idp
from tests.browser.conftest import Accessibility, Server, details
from tests.browser.pages import KENT_POLICE_OFFENDER_MANAGER, CaseloadPage, Header, Site


@pytest.fixture(scope="module")
def idp(keycloak: KeycloakServer) -> Iterator[Idp]:
    handle = Idp(keycloak)
    yield handle
    handle.http.close()


def web_client(idp: Idp) -> dict[str, Any]:
    (client,) = idp.admin("GET", "/register/clients", params={"clientId": "register-web"}).json()
    value: dict[str, Any] = client
    return value


def client_secret(idp: Idp) -> str:
    """The realm's web client's secret: Keycloak made it when it imported the realm (none is in the
    repository)."""
    secret: str = idp.admin("GET", f"/register/clients/{web_client(idp)['id']}/client-secret").json()["value"]
    return secret


def allow_redirects_to(idp: Idp, base: str) -> None:
    """The realm's web client lists loopback port 8000; this run's register listens on another port."""
    client = web_client(idp)
    client["redirectUris"] = [*client["redirectUris"], f"{base}/*"]
    attributes = client.setdefault("attributes", {})
    attributes["post.logout.redirect.uris"] = attributes.get("post.logout.redirect.uris", "") + f"##{base}/*"
    idp.admin("PUT", f"/register/clients/{client['id']}", json=client)


@pytest.fixture(scope="module")
def server(idp: Idp, make_server: Callable[..., Server]) -> Server:
    """A register trusting the realm, signing people in through its web client: one for this module's
    journeys (each reads the audit log after its own head)."""
    running = make_server(oidc_issuers=idp.issuer(), oidc_client_secret=client_secret(idp))
    allow_redirects_to(idp, running.url)
    return running


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    ctx = browser.new_context(timezone_id="Europe/London", locale="en-GB")
    ctx.set_default_timeout(15_000)
    yield ctx
    ctx.close()


@pytest.fixture
def axe(server: Server) -> Iterator[Accessibility]:
    """axe-core on the register's pages the journey reaches (not Keycloak's); any violation fails it."""
    checker = Accessibility(server.url)
    yield checker
    assert checker.checked, "no page of the register was checked"
    assert checker.violations == [], "\n\n".join(checker.violations)


def at_keycloaks_login_page(site: Site, idp: Idp, next_path: str | None = None) -> None:
    """From the register's sign-in page to Keycloak's own login form."""
    site.goto("/sign-in" + (f"?next={next_path}" if next_path else ""))
    site.qa("sign-in-provider-0").click()
    site.page.wait_for_url(idp.issuer() + "/**")


def log_in_at_keycloak(site: Site, user: str) -> None:
    site.page.fill("#username", user)
    site.page.fill("#password", TEST_PASSWORD)
    site.page.click("#kc-login")


def sign_out_of_both(header: Header, idp: Idp, server: Server) -> None:
    """The header's sign-out: the register's session ends, then Keycloak's (which asks its user to confirm, as
    no id_token_hint goes into the URL), and back to the register's signed-out page."""
    page = header.page
    header.qa("sign-out").click()
    page.wait_for_url(lambda url: url.startswith((idp.issuer(), server.url + "/signed-out")))
    if page.url.startswith(idp.issuer()):
        page.click("#kc-logout")
        page.wait_for_url(server.url + "/signed-out")
    header.arrived()
    assert header.qa("signed-out").is_visible() and header.qa("signed-in-user").count() == 0


def test_the_offender_manager_signs_in_at_keycloaks_login_page_and_out_of_both(
    idp: Idp, server: Server, context: BrowserContext, axe: Accessibility
) -> None:
    page = context.new_page()
    site = Site(page, axe, server.url)
    site.goto("/caseload")
    assert site.path == "/sign-in?next=/caseload"
    head = server.audit_head()
    site.qa("sign-in-provider-0").click()
    page.wait_for_url(idp.issuer() + "/**")  # Keycloak's own login form
    log_in_at_keycloak(site, KENT_POLICE_OFFENDER_MANAGER)
    page.wait_for_url(server.url + "/caseload")
    caseload = CaseloadPage(page, axe, server.url)
    caseload.arrived()
    assert caseload.signed_in_name == "Demo Offender Manager Kent Police"
    assert caseload.signed_in_role == "Police, Kent, offender manager"
    assert caseload.results.endswith("of 49 total people")  # the same caseload as the demo's sign-in gives
    signed_in = server.audit(head, tag="auth:web:sign-in")
    assert [(e.actor_user, e.outcome, details(e)) for e in signed_in] == [
        (KENT_POLICE_OFFENDER_MANAGER, "success", {"method": "oidc", "issuer": idp.issuer()})
    ]

    sign_out_of_both(caseload, idp, server)
    assert [e.actor_user for e in server.audit(head, tag="auth:web:sign-out")] == [
        KENT_POLICE_OFFENDER_MANAGER
    ]

    # Keycloak's session ended too: signing in again asks for the password again
    at_keycloaks_login_page(site, idp)
    assert page.locator("#password").is_visible()


# Every role of the demo (auth/policy.yaml), as the test realm's users (auth/keycloak/register-realm.json):
# the header that names them, and where they land. Those the policy lets list records (record.list) go to
# their caseload; the others to the front door. Essex for each role (Kent's offender manager is the journey
# above), and the Kent probation offender manager for another agency.
ROLES = [
    ("essex.reader", "Demo Reader Essex Police", "Police, Essex, reader", "/caseload"),
    (
        "essex.offender_manager",
        "Demo Offender Manager Essex Police",
        "Police, Essex, offender manager",
        "/caseload",
    ),
    ("essex.supervisor", "Demo Supervisor Essex Police", "Police, Essex, supervisor", "/caseload"),
    ("essex.investigator", "Demo Investigator Essex Police", "Police, Essex, investigator", "/"),
    ("essex.auditor", "Demo Auditor Essex Police", "Police, Essex, auditor", "/"),
    ("essex.administrator", "Demo Administrator Essex Police", "Police, Essex, administrator", "/"),
    (
        "kent.offender_manager.probation",
        "Demo Offender Manager Kent Probation",
        "Probation, Kent, offender manager",
        "/caseload",
    ),
]


@pytest.mark.parametrize(("user", "name", "role", "landing"), ROLES, ids=[r[0] for r in ROLES])
def test_each_role_signs_in_at_keycloak_and_lands_where_its_role_is_sent(
    idp: Idp,
    server: Server,
    context: BrowserContext,
    axe: Accessibility,
    user: str,
    name: str,
    role: str,
    landing: str,
) -> None:
    page = context.new_page()
    site = Header(page, axe, server.url)
    at_keycloaks_login_page(site, idp)
    head = server.audit_head()
    log_in_at_keycloak(site, user)
    page.wait_for_url(server.url + landing)
    site.arrived()
    assert (site.signed_in_name, site.signed_in_role) == (name, role)
    if landing == "/caseload":
        assert site.title == "My caseload – The register"
    else:  # the front door, signed in: no sign-in button
        assert site.qa("start-sign-in").count() == 0
    signed_in = server.audit(head, tag="auth:web:sign-in")
    agency, area = role.split(", ")[:2]
    assert [(e.actor_user, e.actor_agency, e.actor_area, e.outcome, details(e)) for e in signed_in] == [
        (user, agency.lower(), area.lower(), "success", {"method": "oidc", "issuer": idp.issuer()})
    ]

    sign_out_of_both(site, idp, server)
    assert [e.actor_user for e in server.audit(head, tag="auth:web:sign-out")] == [user]


def test_a_user_disabled_at_keycloak_cannot_sign_in_again(
    idp: Idp, server: Server, context: BrowserContext, axe: Accessibility
) -> None:
    user = "kent.reader"
    (account,) = idp.admin("GET", "/register/users", params={"username": user, "exact": "true"}).json()

    def enabled(value: bool) -> None:
        rep = idp.admin("GET", f"/register/users/{account['id']}").json()
        idp.admin("PUT", f"/register/users/{account['id']}", json={**rep, "enabled": value})

    page = context.new_page()
    site = Header(page, axe, server.url)
    try:
        at_keycloaks_login_page(site, idp)
        log_in_at_keycloak(site, user)
        page.wait_for_url(server.url + "/caseload")
        site.arrived()
        sign_out_of_both(site, idp, server)

        enabled(False)  # the leaver, disabled at the provider
        head = server.audit_head()
        at_keycloaks_login_page(site, idp)
        log_in_at_keycloak(site, user)
        # Keycloak refuses on its own login page, saying why; the register is never handed a code
        page.get_by_text("Account is disabled").wait_for()
        assert page.url.startswith(idp.issuer()), page.url
        assert server.audit(head, tag="auth:web:sign-in", outcome="success") == []
        assert server.audit(head, tag="auth:web:sign-in") == []

        enabled(True)  # the refusal was the disablement: enabled again, the same user signs in
        at_keycloaks_login_page(site, idp)
        log_in_at_keycloak(site, user)
        page.wait_for_url(server.url + "/caseload")
        site.arrived()
        assert site.signed_in_name == "Demo Reader Kent Police"
        assert [e.outcome for e in server.audit(head, tag="auth:web:sign-in", actor_user=user)] == ["success"]
        sign_out_of_both(site, idp, server)
    finally:
        enabled(True)


def test_a_keycloak_user_without_an_area_is_refused_with_the_missing_claim_named(
    idp: Idp, server: Server, context: BrowserContext, axe: Accessibility
) -> None:
    page = context.new_page()
    site = Site(page, axe, server.url)
    at_keycloaks_login_page(site, idp)
    head = server.audit_head()
    log_in_at_keycloak(site, "kent.no-area")
    page.wait_for_url(server.url + "/sign-in/oidc/0/callback**")
    site.arrived()
    assert site.qa("error-title").inner_text() == "You could not be signed in"
    assert "area" in site.qa("error-message").inner_text()
    refused = server.audit(head, tag="auth:web:sign-in")
    assert [(e.outcome, details(e)) for e in refused] == [
        ("failed", {"reason": "missing_claim", "claim": "area", "issuer": idp.issuer()})
    ]
    assert site.qa("signed-in-user").count() == 0
