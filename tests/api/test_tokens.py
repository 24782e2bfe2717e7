"""Bearer tokens: everything but a valid token from a trusted key is refused with 401, and audited."""

from __future__ import annotations

import base64
import json
import time

import pytest
from fastapi.testclient import TestClient
from joserfc import jwk, jwt

from register.access.tokens import JwksSource
from register.config import Settings
from register.domain.enums import Role
from register.store.store import Store
from tests.api.helpers import Minter, auth, refused


def _b64(data: dict | bytes) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _claims(settings: Settings, **extra) -> dict:  # type: ignore[no-untyped-def]
    now = int(time.time())
    return {
        "iss": settings.token_issuer,
        "aud": settings.token_audience,
        "sub": "mallory",
        "agency": "police",
        "area": "kent",
        "roles": ["supervisor"],
        "iat": now,
        "exp": now + 600,
        **extra,
    }


def test_a_valid_token_becomes_the_principal(client: TestClient, token: Minter) -> None:
    r = client.get(
        "/v1/me",
        headers=auth(token(Role.SUPERVISOR, "probation", "essex", user="essex.sup", name="Jo Bloggs")),
    )
    assert r.status_code == 200
    assert r.json() == {
        "user_id": "essex.sup",
        "display_name": "Jo Bloggs",
        "agency": "probation",
        "area": "essex",
        "roles": ["supervisor"],
    }


def bad_tokens(settings: Settings, token: Minter) -> dict[str, str]:
    dev_key = jwk.ECKey.import_key(
        json.loads((settings.resolved_key_dir / "dev-signing-key.json").read_text())
    )
    now = int(time.time())
    stranger = jwk.ECKey.generate_key("P-256", parameters={"kid": dev_key.kid})  # same kid, different key
    unknown = jwk.ECKey.generate_key("P-256", auto_kid=True)
    public_pem = dev_key.as_pem(private=False)
    return {
        "expired": token(ttl_seconds=60, now=now - 3600),
        "not_yet_valid": jwt.encode(
            {"alg": "ES256", "kid": dev_key.kid}, _claims(settings, nbf=now + 3600, iat=now), dev_key
        ),
        "wrong_audience": jwt.encode(
            {"alg": "ES256", "kid": dev_key.kid}, _claims(settings, aud="another-api"), dev_key
        ),
        "wrong_issuer": jwt.encode(
            {"alg": "ES256", "kid": dev_key.kid}, _claims(settings, iss="https://evil.example"), dev_key
        ),
        "unknown_key": jwt.encode({"alg": "ES256", "kid": unknown.kid}, _claims(settings), unknown),
        "bad_signature": jwt.encode({"alg": "ES256", "kid": dev_key.kid}, _claims(settings), stranger),
        "algorithm_not_allowed": (
            f"{_b64({'alg': 'none', 'typ': 'JWT', 'kid': dev_key.kid})}.{_b64(_claims(settings))}."
        ),
        "algorithm_not_allowed_hs256": _hmac_with_public_key(settings, dev_key.kid, public_pem),
        "invalid_claims": jwt.encode(
            {"alg": "ES256", "kid": dev_key.kid}, _claims(settings, roles=["superuser"]), dev_key
        ),
        "malformed": "not-a-jwt",
        "missing_exp": jwt.encode(
            {"alg": "ES256", "kid": dev_key.kid},
            {k: v for k, v in _claims(settings).items() if k != "exp"},
            dev_key,
        ),
    }


def _hmac_with_public_key(settings: Settings, kid: str, public_pem: bytes) -> str:
    """The classic attack: sign with HS256 using the server's public key as the HMAC secret."""
    import hashlib
    import hmac

    signing_input = f"{_b64({'alg': 'HS256', 'typ': 'JWT', 'kid': kid})}.{_b64(_claims(settings))}"
    signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def test_every_kind_of_bad_token_is_refused_and_audited(
    client: TestClient, token: Minter, settings: Settings, store: Store
) -> None:
    cases = bad_tokens(settings, token)
    for name, bad in cases.items():
        r = client.get("/v1/me", headers=auth(bad))
        assert r.status_code == 401, (name, r.text)
        assert r.headers["content-type"] == "application/problem+json" and r.headers[
            "www-authenticate"
        ].startswith("Bearer")
        expected = name.removesuffix("_hs256")
        assert r.json()["rule"] == f"token_{expected}", (name, r.json())
    r = client.get("/v1/me")
    assert r.status_code == 401 and r.json()["rule"] == "token_missing"
    reasons = refused(store)
    assert all(outcome == "failed" for outcome, _ in reasons)
    assert sorted(reason for _, reason in reasons) == sorted(
        [n.removesuffix("_hs256") for n in cases] + ["missing"]
    )


def test_a_token_within_the_leeway_is_accepted(client: TestClient, token: Minter) -> None:
    assert (
        client.get("/v1/me", headers=auth(token(ttl_seconds=10, now=int(time.time()) - 20))).status_code
        == 200
    )


def test_jwks_refreshes_on_an_unknown_kid_at_most_once_per_interval(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "jwks.json"
    first, second, third = (jwk.ECKey.generate_key("P-256", auto_kid=True) for _ in range(3))
    path.write_text(json.dumps({"keys": [first.as_dict(private=False)]}))
    clock = [1000.0]
    source = JwksSource(file=path, min_refresh_seconds=60, clock=lambda: clock[0])
    assert source.get(first.kid) is not None
    path.write_text(json.dumps({"keys": [first.as_dict(private=False), second.as_dict(private=False)]}))
    clock[0] += 61
    assert source.get(second.kid) is not None  # unknown kid: refreshed, found
    path.write_text(json.dumps({"keys": [k.as_dict(private=False) for k in (first, second, third)]}))
    clock[0] += 1
    assert (
        source.get(third.kid) is None
    )  # too soon to refresh again: a flood of bogus kids cannot hammer the provider
    clock[0] += 60
    assert source.get(third.kid) is not None


def test_symmetric_algorithms_cannot_be_configured() -> None:
    from register.access.tokens import TokenSettings

    for algorithms in ({"HS256"}, {"ES256", "none"}, set()):
        with pytest.raises(ValueError):
            TokenSettings("iss", "aud", frozenset(algorithms))
