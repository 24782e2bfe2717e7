"""Claim mappings (auth/issuers.yaml) and which issuers a configuration trusts, without an identity
provider."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from joserfc import jwk

from register.access.claims import ClaimMapping, ClaimProblem, IssuersFile
from register.access.development import DEMO_USERS
from register.access.tokens import AuthenticationFailed, mint
from register.bootstrap import ConfigurationError, build_verifier
from register.config import PROJECT_ROOT, Settings
from register.domain.enums import Agency, Area, Role

ISSUERS = IssuersFile.load(PROJECT_ROOT / "auth" / "issuers.yaml")


def test_the_keycloak_mapping_reads_realm_roles_and_ignores_keycloaks_own() -> None:
    claims = {
        "preferred_username": "kent.supervisor",
        "name": "Jo Bloggs",
        "agency": "police",
        "area": "kent",
        "realm_access": {
            "roles": ["offline_access", "register-supervisor", "register-auditor", "default-roles-register"]
        },
    }
    p = ISSUERS.mappings["keycloak"].principal(claims)
    assert (p.user_id, p.display_name, p.agency, p.area) == (
        "kent.supervisor",
        "Jo Bloggs",
        Agency.POLICE,
        Area.KENT,
    )
    assert p.roles == {Role.SUPERVISOR, Role.AUDITOR}


def test_the_entra_app_roles_example_maps_one_roles_claim_to_agency_area_and_roles() -> None:
    claims = {
        "oid": "8d7b0d5e-1111-2222-3333-444455556666",
        "name": "A. Officer",
        "roles": ["Agency.Police", "Area.Essex", "Register.OffenderManager", "Some.Other.App.Role"],
    }
    p = ISSUERS.mappings["entra-app-roles"].principal(claims)
    assert (p.user_id, p.agency, p.area, p.roles) == (
        claims["oid"],
        Agency.POLICE,
        Area.ESSEX,
        {Role.OFFENDER_MANAGER},
    )


def test_the_entra_groups_example_maps_group_ids() -> None:
    claims = {
        "oid": "u-1",
        "groups": [
            "0b6f0a4e-0000-4000-8000-000000000001",
            "0b6f0a4e-0000-4000-8000-000000000011",
            "0b6f0a4e-0000-4000-8000-000000000025",
            "ffffffff-unrelated",
        ],
    }
    p = ISSUERS.mappings["entra-groups"].principal(claims)
    assert (p.agency, p.area, p.roles, p.display_name) == (Agency.POLICE, Area.KENT, {Role.AUDITOR}, "")


@pytest.mark.parametrize(
    "mapping,claims,missing",
    [
        (
            "keycloak",
            {"preferred_username": "u", "agency": "police", "realm_access": {"roles": ["register-reader"]}},
            "area",
        ),
        ("keycloak", {"preferred_username": "u", "agency": "police", "area": "kent"}, "realm_access.roles"),
        (
            "keycloak",
            {"agency": "police", "area": "kent", "realm_access": {"roles": ["register-reader"]}},
            "preferred_username",
        ),
        ("entra-groups", {"oid": "u", "_claim_names": {"groups": "src1"}}, "groups"),  # Entra's group overage
    ],
)
def test_a_missing_mapped_claim_is_named(mapping: str, claims: dict, missing: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ClaimProblem) as caught:
        ISSUERS.mappings[mapping].principal(claims)
    assert caught.value.reason == "missing_claim" and caught.value.claim == missing


@pytest.mark.parametrize(
    "claims",
    [
        {
            "preferred_username": "u",
            "agency": "police",
            "area": "kent",
            "realm_access": {"roles": ["offline_access"]},
        },  # no register role
        {
            "preferred_username": "u",
            "agency": "army",
            "area": "kent",
            "realm_access": {"roles": ["register-reader"]},
        },
        {
            "preferred_username": "u",
            "agency": "police",
            "area": "atlantis",
            "realm_access": {"roles": ["register-reader"]},
        },
        {
            "preferred_username": "u",
            "agency": ["police", "prison"],
            "area": "kent",
            "realm_access": {"roles": ["register-reader"]},
        },
        {
            "preferred_username": 7,
            "agency": "police",
            "area": "kent",
            "realm_access": {"roles": ["register-reader"]},
        },
    ],
)
def test_values_outside_the_registers_vocabulary_are_invalid(claims: dict) -> None:  # type: ignore[type-arg]
    with pytest.raises(ClaimProblem) as caught:
        ISSUERS.mappings["keycloak"].principal(claims)
    assert caught.value.reason == "invalid_claims"


def test_a_mapping_that_maps_to_unknown_values_is_refused_when_loaded() -> None:
    with pytest.raises(ValueError):
        ClaimMapping.parse(
            "bad",
            {
                "user_id": "sub",
                "agency": "a",
                "area": "b",
                "roles": {"claim": "roles", "values": {"x": "superuser"}},
            },
        )
    with pytest.raises(ValueError):
        ClaimMapping.parse("bad", {"user_id": "sub", "agency": "a", "roles": "roles"})  # no area


def test_an_issuer_chooses_its_mapping_and_audience(tmp_path: Path) -> None:
    text = (
        (PROJECT_ROOT / "auth" / "issuers.yaml")
        .read_text()
        .replace("  # https://login.microsoftonline.com/", "  https://login.microsoftonline.com/")
    )
    path = tmp_path / "issuers.yaml"
    path.write_text(text)
    described = IssuersFile.load(path)
    mapping, audience = described.for_issuer(
        "https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000/v2.0"
    )
    assert mapping.name == "entra-app-roles" and audience == "11111111-1111-1111-1111-111111111111"
    assert described.for_issuer("https://sso.example/realms/register") == (
        described.mappings["keycloak"],
        None,
    )


def test_the_keycloak_test_realm_has_every_demo_user_with_agency_area_and_role() -> None:
    realm = json.loads((PROJECT_ROOT / "auth" / "keycloak" / "register-realm.json").read_text())
    users = {u["username"]: u for u in realm["users"]}
    roles = ISSUERS.mappings["keycloak"].rules["roles"].values or {}
    for area, role, agency in DEMO_USERS:
        user = users[f"{area.value}.{role.value}" + ("" if agency == Agency.POLICE else f".{agency.value}")]
        assert user["attributes"] == {"agency": [agency.value], "area": [area.value]}
        assert [roles[r] for r in user["realmRoles"]] == [role.value]
        assert user["credentials"][0]["value"] == "test-only-password"  # a test fixture, never a real secret
    assert all(
        "secret" not in c for c in realm["clients"]
    )  # the web client's secret is generated by Keycloak


# ------------------------------------------------------------------ which issuers a configuration trusts


def _dev_token(settings: Settings) -> str:
    build_verifier(
        settings.model_copy(update={"environment": "development"})
    )  # writes the dev key, as `register demo` would
    key = jwk.ECKey.import_key(json.loads((settings.resolved_key_dir / "dev-signing-key.json").read_text()))
    return mint(
        key,
        user="u",
        agency=Agency.POLICE,
        area=Area.KENT,
        roles=[Role.READER],
        issuer="register-dev",
        audience="register-api",
    )


def test_production_refuses_the_development_issuer(tmp_path: Path) -> None:
    production = Settings(environment="production", var_dir=tmp_path, key_dir=tmp_path / "keys")
    with pytest.raises(ConfigurationError, match="REGISTER_OIDC_ISSUERS"):
        build_verifier(production)  # nothing configured: production never falls back to the dev key
    token = _dev_token(production)
    with pytest.raises(ConfigurationError, match="development issuer"):
        build_verifier(
            production.model_copy(update={"jwks_file": production.resolved_key_dir / "dev-jwks.json"})
        )
    with pytest.raises(ConfigurationError, match="https"):
        build_verifier(production.model_copy(update={"oidc_issuers": "http://sso.example/realms/register"}))
    # an https provider that is not reachable yet: the register starts, and the dev key's tokens are not
    # trusted
    verifier = build_verifier(
        production.model_copy(update={"oidc_issuers": "https://127.0.0.1:9/realms/register"})
    )
    assert list(verifier.issuers) == ["https://127.0.0.1:9/realms/register"]
    with pytest.raises(AuthenticationFailed) as caught:
        verifier.verify(token)
    assert caught.value.reason == "wrong_issuer"


def test_development_trusts_its_own_issuer_beside_the_configured_providers(tmp_path: Path) -> None:
    settings = Settings(
        var_dir=tmp_path, key_dir=tmp_path / "keys", oidc_issuers="https://127.0.0.1:9/realms/register"
    )
    verifier = build_verifier(settings)
    assert set(verifier.issuers) == {"https://127.0.0.1:9/realms/register", "register-dev"}
    assert verifier.verify(_dev_token(settings)).user_id == "u"
    stranger = mint(
        jwk.ECKey.generate_key("P-256", auto_kid=True),
        user="u",
        agency=Agency.POLICE,
        area=Area.KENT,
        roles=[Role.READER],
        issuer="https://127.0.0.1:9/realms/register",
        audience="register-api",
        now=int(time.time()),
    )
    with pytest.raises(AuthenticationFailed) as caught:
        verifier.verify(stranger)  # the provider's keys could not be fetched: refused, and said so
    assert caught.value.reason == "keys_unavailable"
