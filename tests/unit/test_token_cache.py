"""A verified token is kept until it expires, and only while its issuer still holds the key that verified it:
the cache saves the signature check of every request after a client's first, and must never accept a token
the full check would refuse (expired, or signed by a key rotated out)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from joserfc import jwk

from register.access.tokens import AuthenticationFailed, JwksSource, TokenSettings, TokenVerifier, mint
from register.domain.enums import Agency, Area, Role

ISSUER, AUDIENCE = "register-dev", "register"


def _key() -> jwk.ECKey:
    return jwk.ECKey.generate_key("P-256", parameters={"use": "sig", "alg": "ES256"}, auto_kid=True)


def _publish(path: Path, *keys: jwk.ECKey) -> None:
    path.write_text(json.dumps({"keys": [k.as_dict(private=False) for k in keys]}))


def _token(key: jwk.ECKey, now: int, ttl: int = 600, role: Role = Role.OFFENDER_MANAGER) -> str:
    return mint(
        key,
        user="kent.om",
        agency=Agency.POLICE,
        area=Area.KENT,
        roles=[role],
        issuer=ISSUER,
        audience=AUDIENCE,
        ttl_seconds=ttl,
        now=now,
    )


def _verifier(path: Path, clock: list[float], now: list[int]) -> TokenVerifier:
    source = JwksSource(file=path, min_refresh_seconds=60, clock=lambda: clock[0])
    return TokenVerifier(source, TokenSettings(ISSUER, AUDIENCE, frozenset({"ES256"})), now=lambda: now[0])


def test_a_kept_token_answers_as_the_full_check_did(tmp_path: Path) -> None:
    key = _key()
    _publish(tmp_path / "jwks.json", key)
    now = [1_800_000_000]
    verifier = _verifier(tmp_path / "jwks.json", [0.0], now)
    om, sup = _token(key, now[0]), _token(key, now[0], role=Role.SUPERVISOR)
    first = verifier.verify(om)
    assert verifier.verify(om) == first and first.roles == frozenset({Role.OFFENDER_MANAGER})
    assert verifier.verify(sup).roles == frozenset({Role.SUPERVISOR})  # another token, its own claims
    tampered = om[:-4] + ("AAAA" if not om.endswith("AAAA") else "BBBB")
    with pytest.raises(AuthenticationFailed) as refused:
        verifier.verify(tampered)
    assert refused.value.reason in ("bad_signature", "malformed")


def test_a_kept_token_is_refused_once_it_expires(tmp_path: Path) -> None:
    key = _key()
    _publish(tmp_path / "jwks.json", key)
    now = [1_800_000_000]
    verifier = _verifier(tmp_path / "jwks.json", [0.0], now)
    token = _token(key, now[0], ttl=60)
    verifier.verify(token)
    now[0] += 60 + 31  # past exp and the 30 s leeway
    with pytest.raises(AuthenticationFailed) as refused:
        verifier.verify(token)
    assert refused.value.reason == "expired"


def test_a_kept_token_is_refused_once_its_key_leaves_the_jwks(tmp_path: Path) -> None:
    old, new = _key(), _key()
    path = tmp_path / "jwks.json"
    _publish(path, old)
    clock, now = [0.0], [1_800_000_000]
    verifier = _verifier(path, clock, now)
    token = _token(old, now[0])
    verifier.verify(token)
    _publish(path, new)  # the identity provider rotates its key out
    clock[0] += 61
    assert verifier.verify(_token(new, now[0])).user_id == "kent.om"  # an unknown kid refreshes the keys
    with pytest.raises(AuthenticationFailed) as refused:
        verifier.verify(token)
    assert refused.value.reason == "unknown_key"
