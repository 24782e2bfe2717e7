"""Signing in to the web pages through a real identity provider: Keycloak's own login page
(deploy/local/keycloak.py, the test realm in auth/keycloak/), the authorization code flow with PKCE, the
claims mapped by auth/issuers.yaml, and sign-out ending Keycloak's session too (RP-initiated logout). Runs
last, with the other Keycloak tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from keycloak import KeycloakServer  # deploy/local, on the path through tests/conftest.py
from playwright.sync_api import Browser

from tests.api.test_identity_provider import TEST_PASSWORD, Idp
from tests.browser.conftest import Accessibility, Server, details
from tests.browser.pages import KENT_POLICE_OFFENDER_MANAGER, CaseloadPage, Site


@pytest.fixture
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


def register_at(idp: Idp, make_server: Callable[..., Server]) -> Server:
    """A register trusting the realm, signing people in through its web client."""
    server = make_server(oidc_issuers=idp.issuer(), oidc_client_secret=client_secret(idp))
    allow_redirects_to(idp, server.url)
    return server


def test_the_offender_manager_signs_in_at_keycloaks_login_page_and_out_of_both(
    idp: Idp, browser: Browser, make_server: Callable[..., Server]
) -> None:
    server = register_at(idp, make_server)
    axe = Accessibility(server.url)
    context = browser.new_context(timezone_id="Europe/London", locale="en-GB")
    try:
        page = context.new_page()
        site = Site(page, axe, server.url)
        site.goto("/caseload")
        assert site.path == "/sign-in?next=/caseload"
        head = server.audit_head()
        site.qa("sign-in-provider-0").click()
        page.wait_for_url(idp.issuer() + "/**")  # Keycloak's own login form
        page.fill("#username", KENT_POLICE_OFFENDER_MANAGER)
        page.fill("#password", TEST_PASSWORD)
        page.click("#kc-login")
        page.wait_for_url(server.url + "/caseload")
        caseload = CaseloadPage(page, axe, server.url)
        caseload.arrived()
        assert caseload.signed_in_name == "Demo Offender Manager Kent Police"
        assert caseload.signed_in_role == "Police, Kent, offender manager"
        assert caseload.results.endswith(
            "of 49 total people"
        )  # the same caseload as the demo's sign-in gives
        signed_in = server.audit(head, tag="auth:web:sign-in")
        assert [(e.actor_user, e.outcome, details(e)) for e in signed_in] == [
            (KENT_POLICE_OFFENDER_MANAGER, "success", {"method": "oidc", "issuer": idp.issuer()})
        ]

        caseload.qa("sign-out").click()
        page.wait_for_load_state("load")
        if page.url.startswith(
            idp.issuer()
        ):  # Keycloak asks its user to confirm (no id_token_hint in the URL)
            page.click("#kc-logout")
        page.wait_for_url(server.url + "/signed-out")
        site.arrived()
        assert [e.actor_user for e in server.audit(head, tag="auth:web:sign-out")] == [
            KENT_POLICE_OFFENDER_MANAGER
        ]

        # Keycloak's session ended too: signing in again asks for the password again
        site.goto("/sign-in")
        site.qa("sign-in-provider-0").click()
        page.wait_for_url(idp.issuer() + "/**")
        assert page.locator("#password").is_visible()
    finally:
        context.close()
    assert axe.checked and axe.violations == [], "\n\n".join(axe.violations)


def test_a_keycloak_user_without_an_area_is_refused_with_the_missing_claim_named(
    idp: Idp, browser: Browser, make_server: Callable[..., Server]
) -> None:
    server = register_at(idp, make_server)
    axe = Accessibility(server.url)
    context = browser.new_context(timezone_id="Europe/London", locale="en-GB")
    try:
        page = context.new_page()
        site = Site(page, axe, server.url)
        site.goto("/sign-in")
        head = server.audit_head()
        site.qa("sign-in-provider-0").click()
        page.wait_for_url(idp.issuer() + "/**")
        page.fill("#username", "kent.no-area")
        page.fill("#password", TEST_PASSWORD)
        page.click("#kc-login")
        page.wait_for_url(server.url + "/sign-in/oidc/0/callback**")
        site.arrived()
        assert site.qa("error-title").inner_text() == "You could not be signed in"
        assert "area" in site.qa("error-message").inner_text()
        refused = server.audit(head, tag="auth:web:sign-in")
        assert [(e.outcome, details(e)) for e in refused] == [
            ("failed", {"reason": "missing_claim", "claim": "area", "issuer": idp.issuer()})
        ]
        assert site.qa("signed-in-user").count() == 0
    finally:
        context.close()
    assert axe.violations == [], "\n\n".join(axe.violations)
