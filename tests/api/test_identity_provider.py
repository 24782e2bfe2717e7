"""The register as a resource server of a real identity provider: Keycloak (deploy/local/keycloak.py) with the
realms in auth/keycloak/, its tokens obtained with the password grant by the realm's test-only users.

Keycloak starts in the background when the run begins and these tests run last; if it cannot start, each of
them errors (nothing is skipped). They run once, on SQLite: the store is not what they test.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from joserfc import jwk, jwt
from keycloak import KeycloakServer  # deploy/local, on the path through tests/conftest.py

from register.access.development import DEMO_USERS
from register.api.app import build_app
from register.config import PROJECT_ROOT, Settings
from register.domain.enums import Agency, Role
from register.store.store import Store
from tests.api.helpers import Minter, auth, refused

pytestmark = pytest.mark.sqlite_only

TEST_PASSWORD = (
    "test-only-password"  # the test realm's users' password: a test fixture, in auth/keycloak/*.json
)
REALM_FILE = PROJECT_ROOT / "auth" / "keycloak" / "register-realm.json"


def username(area: Any, role: Role, agency: Agency) -> str:
    return f"{area.value}.{role.value}" + ("" if agency == Agency.POLICE else f".{agency.value}")


class Idp:
    """The test's handle on Keycloak: tokens by the password grant, and the admin REST API."""

    def __init__(self, server: KeycloakServer) -> None:
        self.server = server
        self.http = httpx.Client(base_url=server.url, timeout=60)

    def issuer(self, realm: str = "register") -> str:
        return self.server.issuer(realm)

    def token_response(
        self, user: str, *, client: str = "register-test-direct", realm: str = "register"
    ) -> httpx.Response:
        return self.http.post(
            f"/realms/{realm}/protocol/openid-connect/token",
            data={"grant_type": "password", "client_id": client, "username": user, "password": TEST_PASSWORD},
        )

    def token(self, user: str, **kwargs: str) -> str:
        r = self.token_response(user, **kwargs)
        assert r.status_code == 200, r.text
        return r.json()["access_token"]

    def admin(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        login = self.http.post(
            "/realms/master/protocol/openid-connect/token",
            data={
                "grant_type": "password",
                "client_id": "admin-cli",
                "username": self.server.admin_user,
                "password": self.server.admin_password,
            },
        )
        login.raise_for_status()
        r = self.http.request(
            method,
            f"/admin/realms{path}",
            headers={"Authorization": f"Bearer {login.json()['access_token']}"},
            **kwargs,
        )
        assert r.status_code < 300, (method, path, r.status_code, r.text)
        return r

    def jwks(self, realm: str = "register") -> list[dict[str, Any]]:
        return self.http.get(f"/realms/{realm}/protocol/openid-connect/certs").json()["keys"]


@pytest.fixture
def idp(keycloak: KeycloakServer) -> Iterator[Idp]:
    handle = Idp(keycloak)
    yield handle
    handle.http.close()


def register_client(settings: Settings, store: Store, **changes: Any) -> TestClient:
    return TestClient(build_app(settings.model_copy(update=changes), store))


@pytest.fixture
def kc_settings(settings: Settings, idp: Idp) -> Settings:
    """The register trusting the Keycloak realm `register` (besides, in development, its own dev issuer)."""
    return settings.model_copy(update={"oidc_issuers": idp.issuer(), "jwks_refresh_seconds": 1})


@pytest.fixture
def kc_client(kc_settings: Settings, store: Store) -> Iterator[TestClient]:
    with TestClient(build_app(kc_settings, store)) as c:
        yield c


def claims_of(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def header_of(token: str) -> dict[str, Any]:
    head = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))


def _b64(data: dict | bytes) -> str:  # type: ignore[type-arg]
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


# ------------------------------------------------------------------ every demo user, through Keycloak


def test_every_demo_user_signs_in_at_keycloak_and_is_the_mapped_principal(
    kc_client: TestClient, idp: Idp
) -> None:
    for area, role, agency in DEMO_USERS:
        user = username(area, role, agency)
        r = kc_client.get("/v1/me", headers=auth(idp.token(user)))
        assert r.status_code == 200, (user, r.text)
        assert r.json() == {
            "user_id": user,
            "display_name": (
                f"Demo {role.value.replace('_', ' ').title()} {area.value.title()} {agency.value.title()}"
            ),
            "agency": agency.value,
            "area": area.value,
            "roles": [role.value],
        }


# For each role: a call its grants allow, and one they refuse (auth/policy.yaml).
ROLE_CALLS = {
    Role.READER: (("GET", "/v1/nominals"), ("GET", "/v1/audit/events")),
    Role.OFFENDER_MANAGER: (("GET", "/v1/nominals"), ("GET", "/v1/admin/keys")),
    Role.SUPERVISOR: (("POST", "/v1/quality/runs"), ("GET", "/v1/audit/events")),
    Role.INVESTIGATOR: (("POST", "/v1/search?purpose=OP-HERON-23"), ("GET", "/v1/nominals")),
    Role.AUDITOR: (("GET", "/v1/audit/events"), ("GET", "/v1/nominals")),
    Role.ADMINISTRATOR: (("GET", "/v1/admin/keys"), ("GET", "/v1/nominals")),
}
SEARCH = {"query": {"type": "group", "criteria": [{"type": "vehicle", "vrm": "GK19*"}]}}


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_each_roles_keycloak_token_is_allowed_and_refused_per_policy(
    kc_client: TestClient, idp: Idp, role: Role
) -> None:
    token = idp.token(f"essex.{role.value}")
    (method, allowed), (refused_method, refused_path) = ROLE_CALLS[role]
    body = {"json": SEARCH} if "search" in allowed else {}
    r = kc_client.request(method, allowed, headers=auth(token), **body)
    assert r.status_code in (200, 201), (role, allowed, r.text)
    r = kc_client.request(refused_method, refused_path, headers=auth(token))
    assert r.status_code == 403 and r.headers["content-type"] == "application/problem+json", (
        role,
        refused_path,
        r.text,
    )


def test_keycloak_and_the_development_issuer_and_a_second_realm_are_trusted_at_once(
    settings: Settings, store: Store, idp: Idp, token: Minter
) -> None:
    both = f"{idp.issuer()}, {idp.issuer('register-elsewhere')}"
    with register_client(settings, store, oidc_issuers=both) as c:
        assert c.get("/v1/me", headers=auth(idp.token("kent.reader"))).json()["user_id"] == "kent.reader"
        elsewhere = c.get("/v1/me", headers=auth(idp.token("kent.supervisor", realm="register-elsewhere")))
        assert elsewhere.status_code == 200 and elsewhere.json()["display_name"] == "Other Realm Supervisor"
        assert c.get("/v1/me", headers=auth(token(Role.AUDITOR))).json()["roles"] == [
            "auditor"
        ]  # the dev issuer, in development


# ------------------------------------------------------------------ the token attacks, with Keycloak's tokens


def forged(idp: Idp, token: str) -> dict[str, str]:
    """Keycloak's genuine claims, re-signed or re-headed by someone who does not hold Keycloak's key."""
    claims, kid = claims_of(token), header_of(token)["kid"]
    stranger = jwk.RSAKey.generate_key(2048, parameters={"kid": kid})  # Keycloak's kid, another key
    unknown = jwk.RSAKey.generate_key(2048, auto_kid=True)
    public = next(k for k in idp.jwks() if k["kid"] == kid)
    public_pem = jwk.RSAKey.import_key(public).as_pem(private=False)
    signing_input = f"{_b64({'alg': 'HS256', 'typ': 'JWT', 'kid': kid})}.{_b64(claims)}"
    return {
        "unknown_key": jwt.encode({"alg": "RS256", "kid": unknown.kid}, claims, unknown),
        "bad_signature": jwt.encode({"alg": "RS256", "kid": kid}, claims, stranger),
        "algorithm_not_allowed": f"{_b64({'alg': 'none', 'typ': 'JWT', 'kid': kid})}.{_b64(claims)}.",
        "algorithm_not_allowed_hs256": (
            f"{signing_input}.{_b64(hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest())}"
        ),
        "wrong_audience_edited": token.split(".")[0]
        + "."
        + _b64({**claims, "aud": "register-api"})
        + "."
        + token.split(".")[2],
    }


def test_token_attacks_with_keycloak_tokens_are_refused_and_audited(
    kc_client: TestClient, kc_settings: Settings, store: Store, idp: Idp
) -> None:
    genuine = idp.token("kent.supervisor")
    assert kc_client.get("/v1/me", headers=auth(genuine)).status_code == 200
    cases = {
        "wrong_audience": idp.token(
            "kent.supervisor", client="register-test-other-app"
        ),  # a token for another application
        "wrong_issuer": idp.token(
            "kent.supervisor", realm="register-elsewhere"
        ),  # a token from another realm
        **forged(idp, genuine),
    }
    assert claims_of(cases["wrong_audience"])["aud"] == "another-app"
    expected = {
        "wrong_audience_edited": "bad_signature",
        "algorithm_not_allowed_hs256": "algorithm_not_allowed",
    }
    for name, bad in cases.items():
        r = kc_client.get("/v1/me", headers=auth(bad))
        assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json", (
            name,
            r.text,
        )
        assert r.json()["rule"] == f"token_{expected.get(name, name)}", (name, r.json())
    reasons = sorted(reason for _, reason in refused(store))
    assert reasons == sorted(expected.get(n, n) for n in cases)


def test_an_expired_keycloak_token_is_refused(settings: Settings, store: Store, idp: Idp) -> None:
    short = idp.token(
        "kent.reader", client="register-test-short-lived"
    )  # this client's tokens live 2 seconds
    assert claims_of(short)["exp"] - claims_of(short)["iat"] == 2
    time.sleep(max(0.0, claims_of(short)["exp"] + 1.5 - time.time()))
    with register_client(settings, store, oidc_issuers=idp.issuer(), token_leeway_seconds=0) as c:
        r = c.get("/v1/me", headers=auth(short))
    assert r.status_code == 401 and r.json()["rule"] == "token_expired"


def test_a_token_missing_a_mapped_claim_gets_a_401_naming_the_claim(
    kc_client: TestClient, idp: Idp, store: Store
) -> None:
    token = idp.token("kent.no-area")  # the user has no `area` attribute, so Keycloak sends no `area` claim
    assert "area" not in claims_of(token)
    r = kc_client.get("/v1/me", headers=auth(token))
    assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["rule"] == "token_missing_claim" and body["claim"] == "area" and "'area'" in body["detail"]
    assert body["errors"] == [
        {"field": "token.area", "rule": "token_missing_claim", "message": body["detail"]}
    ]
    assert refused(store) == [("failed", "missing_claim")]


# ------------------------------------------------------------------ life at the provider: key rotation,
# leavers


def test_a_key_rotation_at_keycloak_is_picked_up_without_restarting_the_register(
    settings: Settings, store: Store, idp: Idp
) -> None:
    # Its own realm: the shared one's keys stay as the other tests expect.
    realm = f"rotation-{uuid.uuid4().hex[:8]}"
    rep = json.loads(REALM_FILE.read_text())
    rep.update(
        realm=realm,
        users=[u for u in rep["users"] if u["username"] == "kent.supervisor"],
        clients=[c for c in rep["clients"] if c["clientId"] == "register-test-direct"],
    )
    idp.admin("POST", "", json=rep)
    try:
        with register_client(settings, store, oidc_issuers=idp.issuer(realm), jwks_refresh_seconds=1) as c:
            before = idp.token("kent.supervisor", realm=realm)
            assert c.get("/v1/me", headers=auth(before)).status_code == 200
            keys = c.app.state.verifier.issuers[idp.issuer(realm)].keys
            fetched = keys.fetches

            realm_id = idp.admin("GET", f"/{realm}").json()["id"]
            old = [
                k
                for k in idp.admin(
                    "GET", f"/{realm}/components", params={"type": "org.keycloak.keys.KeyProvider"}
                ).json()
                if k["providerId"] == "rsa-generated"
            ]
            idp.admin(
                "POST",
                f"/{realm}/components",
                json={
                    "name": "rotated-rsa",
                    "providerId": "rsa-generated",
                    "providerType": "org.keycloak.keys.KeyProvider",
                    "parentId": realm_id,
                    "config": {
                        "priority": ["200"],
                        "enabled": ["true"],
                        "active": ["true"],
                        "algorithm": ["RS256"],
                        "keySize": ["2048"],
                    },
                },
            )
            for component in old:
                component["config"]["enabled"] = ["false"]
                idp.admin("PUT", f"/{realm}/components/{component['id']}", json=component)

            after = idp.token("kent.supervisor", realm=realm)
            assert header_of(after)["kid"] != header_of(before)["kid"]
            time.sleep(
                1.1
            )  # REGISTER_JWKS_REFRESH_SECONDS=1 here: an unknown kid may refetch the keys once a second
            r = c.get("/v1/me", headers=auth(after))
            assert r.status_code == 200 and r.json()["user_id"] == "kent.supervisor", r.text
            assert keys.fetches == fetched + 1  # the unknown kid refetched discovery and keys, once
            # the old key is gone from Keycloak's JWKS, so from the register's: tokens it signed are refused
            r = c.get("/v1/me", headers=auth(before))
            assert r.status_code == 401 and r.json()["rule"] == "token_unknown_key"
    finally:
        idp.admin("DELETE", f"/{realm}")


def test_a_disabled_user_gets_no_new_token_and_an_issued_one_lasts_until_it_expires(
    kc_client: TestClient, idp: Idp
) -> None:
    name = f"kent.leaver-{uuid.uuid4().hex[:6]}"
    created = idp.admin(
        "POST",
        "/register/users",
        json={
            "username": name,
            "enabled": True,
            "firstName": "Test",
            "lastName": "Leaver",
            "email": f"{name}@register.test",
            "emailVerified": True,
            "attributes": {"agency": ["police"], "area": ["kent"]},
            "credentials": [{"type": "password", "value": TEST_PASSWORD, "temporary": False}],
        },
    )
    user_id = created.headers["location"].rsplit("/", 1)[1]
    try:
        role = idp.admin("GET", "/register/roles/register-reader").json()
        idp.admin("POST", f"/register/users/{user_id}/role-mappings/realm", json=[role])
        issued = idp.token(name)
        assert kc_client.get("/v1/me", headers=auth(issued)).json()["user_id"] == name

        rep = idp.admin("GET", f"/register/users/{user_id}").json()
        idp.admin("PUT", f"/register/users/{user_id}", json={**rep, "enabled": False})
        r = idp.token_response(name)
        assert r.status_code == 400 and r.json()["error"] == "invalid_grant", r.text
        # The register verifies tokens offline (no introspection): the issued token works until it expires,
        # which is why the realm keeps access tokens short (5 minutes). auth/README.md says so.
        assert kc_client.get("/v1/me", headers=auth(issued)).status_code == 200
        assert claims_of(issued)["exp"] - claims_of(issued)["iat"] == 300
    finally:
        idp.admin("DELETE", f"/register/users/{user_id}")


def test_the_test_realm_is_data_for_every_demo_user(idp: Idp) -> None:
    """The realm Keycloak imported is the file's: every demo user, with their agency, area and role."""
    users = {
        u["username"]: u
        for u in idp.admin(
            "GET", "/register/users", params={"max": 100, "briefRepresentation": "false"}
        ).json()
    }
    for area, role, agency in DEMO_USERS:
        user = users[username(area, role, agency)]
        assert user["attributes"]["agency"] == [agency.value] and user["attributes"]["area"] == [area.value]
    web = idp.admin("GET", "/register/clients", params={"clientId": "register-web"}).json()[0]
    assert not web["publicClient"] and web["standardFlowEnabled"] and not web["directAccessGrantsEnabled"]
    assert web["attributes"]["pkce.code.challenge.method"] == "S256"
    assert all(uri.startswith(("http://127.0.0.1:", "http://localhost:")) for uri in web["redirectUris"])


# ------------------------------------------------------------------ a client system: client credentials


def test_a_case_management_systems_client_credentials_token_reads_only_its_areas_events(
    kc_client: TestClient, idp: Idp, token: Minter
) -> None:
    """The realm's confidential client `probation-cms-kent` (a service account: agency probation, area kent,
    role register-reader) gets a token by the client-credentials grant; the register maps it to a principal
    like any user's, and the event feed shows it Kent's records only."""
    client = idp.admin("GET", "/register/clients", params={"clientId": "probation-cms-kent"}).json()[0]
    assert not client["publicClient"] and client["serviceAccountsEnabled"]
    assert not client["standardFlowEnabled"] and not client["directAccessGrantsEnabled"]
    secret = idp.admin("GET", f"/register/clients/{client['id']}/client-secret").json()["value"]
    r = idp.http.post(
        "/realms/register/protocol/openid-connect/token",
        data={"grant_type": "client_credentials", "client_id": "probation-cms-kent", "client_secret": secret},
    )
    assert r.status_code == 200, r.text
    cms = r.json()["access_token"]
    me = kc_client.get("/v1/me", headers=auth(cms)).json()
    assert (me["user_id"], me["agency"], me["area"], me["roles"]) == (
        "service-account-probation-cms-kent",
        "probation",
        "kent",
        ["reader"],
    )
    person = {
        "nominal_type": "rso",
        "managing_unit": "MOSOVO",
        "lead_agency": "police",
        "mappa_category": 1,
        "mappa_level": 1,
        "identity": {"forenames": "A", "surname": "B", "date_of_birth": "1980-01-01", "gender": "male"},
    }
    ids = {}
    for area in ("kent", "essex"):
        r = kc_client.post(
            "/v1/nominals",
            json={**person, "area": area},
            headers=auth(token(Role.OFFENDER_MANAGER, area=area)),
        )
        assert r.status_code == 201, r.text
        ids[area] = r.json()["id"]
    r = kc_client.get("/v1/events", headers=auth(cms))
    assert r.status_code == 200, r.text
    subjects = [e["subject"] for e in r.json()["events"]]
    assert ids["kent"] in subjects and ids["essex"] not in subjects
    # a token from the same realm for a role without events.read is refused
    assert kc_client.get("/v1/events", headers=auth(idp.token("kent.auditor"))).status_code == 403
