"""Bearer tokens: JWTs verified against a JWKS (joserfc, Authlib's JOSE successor), turned into a Principal.

Checked: the algorithm against an asymmetric-only allow-list (so `none` and HMAC
signed with the public key are refused), the key by `kid` (an unknown kid
refreshes the JWKS at most once per interval), the signature, issuer, audience,
expiry and not-before with a small leeway, and the register's own claims
(agency, area, roles) against the domain's closed vocabularies.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from joserfc import jwk, jws, jwt
from joserfc.errors import BadSignatureError, ExpiredTokenError, InvalidClaimError, JoseError, MissingClaimError
from joserfc.jwt import JWTClaimsRegistry
from pydantic import ValidationError

from ..crypto.keys import write_private
from ..domain.actors import Principal
from ..domain.enums import Agency, Area, Role

ASYMMETRIC = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"})


class AuthenticationFailed(Exception):
    """A token was refused. `reason` is a stable code for the audit log; the message is for the caller."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class TokenSettings:
    issuer: str
    audience: str
    algorithms: frozenset[str]
    leeway_seconds: int = 30

    def __post_init__(self) -> None:
        unsafe = set(self.algorithms) - ASYMMETRIC
        if unsafe or not self.algorithms:
            raise ValueError(f"token algorithms must be asymmetric (allowed: {sorted(ASYMMETRIC)}); refused: {sorted(unsafe)}")


class JwksSource:
    """The identity provider's public keys, from a file or a URL, refreshed when a token names an unknown key
    (at most once per `min_refresh_seconds`, so a flood of bogus kids cannot hammer the provider)."""

    def __init__(self, *, file: Path | None = None, url: str | None = None, min_refresh_seconds: float = 60,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if (file is None) == (url is None):
            raise ValueError("configure exactly one JWKS source: a file or a URL")
        self.file, self.url = file, url
        self.min_refresh_seconds = min_refresh_seconds
        self.clock = clock
        self._lock = threading.Lock()
        self._last_fetch = float("-inf")
        self._keys: dict[str, Any] = {}
        self.refresh(force=True)

    def _fetch(self) -> dict[str, Any]:
        if self.file is not None:
            return json.loads(self.file.read_text())
        response = httpx.get(self.url, timeout=5.0)  # type: ignore[arg-type]
        response.raise_for_status()
        return response.json()

    def refresh(self, *, force: bool = False) -> bool:
        with self._lock:
            now = self.clock()
            if not force and now - self._last_fetch < self.min_refresh_seconds:
                return False
            self._last_fetch = now
            try:
                doc = self._fetch()
                keys = {k["kid"]: jwk.import_key(k) for k in doc["keys"] if "kid" in k}
            except (OSError, ValueError, KeyError, httpx.HTTPError, JoseError):
                if force and not self._keys:
                    raise
                return False
            self._keys = keys
            return True

    def get(self, kid: str) -> Any | None:
        key = self._keys.get(kid)
        if key is None and self.refresh():
            key = self._keys.get(kid)
        return key


class TokenVerifier:
    def __init__(self, jwks: JwksSource, settings: TokenSettings, now: Callable[[], int] | None = None) -> None:
        self.jwks = jwks
        self.settings = settings
        self._claims = JWTClaimsRegistry(
            now=now,
            leeway=settings.leeway_seconds,
            iss={"essential": True, "value": settings.issuer},
            aud={"essential": True, "value": settings.audience},
            exp={"essential": True},
            sub={"essential": True},
        )

    def verify(self, token: str) -> Principal:
        try:
            header = jws.extract_compact(token.encode()).protected
        except (JoseError, ValueError, UnicodeError):
            raise AuthenticationFailed("malformed", "the bearer token is not a well-formed JWT") from None
        alg = header.get("alg")
        if alg not in self.settings.algorithms:
            raise AuthenticationFailed("algorithm_not_allowed", f"tokens signed with {alg!r} are not accepted")
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise AuthenticationFailed("missing_key_id", "the token names no signing key (kid)")
        key = self.jwks.get(kid)
        if key is None:
            raise AuthenticationFailed("unknown_key", "the token is signed with a key the register does not trust")
        try:
            decoded = jwt.decode(token, key, algorithms=sorted(self.settings.algorithms))
        except BadSignatureError:
            raise AuthenticationFailed("bad_signature", "the token's signature does not verify") from None
        except (JoseError, ValueError):
            raise AuthenticationFailed("malformed", "the token could not be decoded") from None
        try:
            self._claims.validate(decoded.claims)
        except ExpiredTokenError:
            raise AuthenticationFailed("expired", "the token has expired") from None
        except (InvalidClaimError, MissingClaimError) as exc:
            claim = getattr(exc, "claim", "?")
            reason = {"nbf": "not_yet_valid", "iss": "wrong_issuer", "aud": "wrong_audience"}.get(claim, f"invalid_{claim}")
            if isinstance(exc, MissingClaimError):
                reason = f"missing_{claim}"
            raise AuthenticationFailed(reason, f"the token's {claim!r} claim is not acceptable") from None
        return principal_from_claims(decoded.claims)


def principal_from_claims(claims: dict[str, Any]) -> Principal:
    try:
        roles = claims.get("roles", [])
        if not isinstance(roles, list) or not roles:
            raise ValueError("roles must be a non-empty list")
        return Principal(
            user_id=str(claims["sub"]),
            display_name=str(claims.get("name", "")),
            agency=Agency(claims["agency"]),
            area=Area(claims["area"]),
            roles=frozenset(Role(r) for r in roles),
        )
    except (KeyError, ValueError, TypeError, ValidationError):
        raise AuthenticationFailed("invalid_claims", "the token must carry agency, area and roles the register knows") from None


# ------------------------------------------------------------------ development keys


DEV_KEY_FILE = "dev-signing-key.json"
DEV_JWKS_FILE = "dev-jwks.json"


def ensure_dev_signing_key(key_dir: Path) -> jwk.ECKey:
    """The development signing key (ES256), generated on first use. Its public half is the dev JWKS."""
    private_path, public_path = key_dir / DEV_KEY_FILE, key_dir / DEV_JWKS_FILE
    if private_path.exists():
        key = jwk.ECKey.import_key(json.loads(private_path.read_text()))
    else:
        key = jwk.ECKey.generate_key("P-256", parameters={"use": "sig", "alg": "ES256"}, auto_kid=True)
        write_private(private_path, json.dumps(key.as_dict(private=True)))  # 0600 in a 0700 directory
    public_path.write_text(json.dumps({"keys": [key.as_dict(private=False)]}))
    return key


def mint(key: jwk.ECKey, *, user: str, agency: Agency, area: Area, roles: list[Role], issuer: str, audience: str,
         name: str = "", ttl_seconds: int = 8 * 3600, now: int | None = None) -> str:
    issued = int(time.time()) if now is None else now
    claims = {
        "iss": issuer, "aud": audience, "sub": user, "name": name or user, "agency": agency.value, "area": area.value,
        "roles": [r.value for r in roles], "iat": issued, "nbf": issued, "exp": issued + ttl_seconds,
    }
    return jwt.encode({"alg": "ES256", "kid": key.kid, "typ": "JWT"}, claims, key)
