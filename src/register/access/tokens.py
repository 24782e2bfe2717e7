"""Bearer tokens: JWTs verified against a JWKS (joserfc, Authlib's JOSE successor), turned into a Principal.

Checked: the algorithm against an asymmetric-only allow-list (so `none` and HMAC
signed with the public key are refused), the issuer against the trusted ones (each
with its own keys, audience and claim mapping), the key by `kid` (an unknown kid
refreshes that issuer's JWKS at most once per interval), the signature, issuer,
audience, expiry and not-before with a small leeway, and the mapped claims
(agency, area, roles) against the domain's closed vocabularies.

An identity provider's keys are found by OpenID Connect discovery
(`ISSUER/.well-known/openid-configuration` names the `jwks_uri`), read with httpx.
Authlib's resource-server validators sit on its older `authlib.jose`; this module
keeps the one JOSE library (joserfc) and needs nothing else from Authlib.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from joserfc import jwk, jws, jwt
from joserfc.errors import (
    BadSignatureError,
    ExpiredTokenError,
    InvalidClaimError,
    JoseError,
    MissingClaimError,
)
from joserfc.jwt import ClaimsOption, JWTClaimsRegistry

from ..crypto.keys import write_private
from ..domain.actors import Principal
from ..domain.enums import Agency, Area, Role
from .claims import REGISTER_CLAIMS, ClaimMapping, ClaimProblem

log = logging.getLogger(__name__)

ASYMMETRIC = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
DEV_ISSUER = "register-dev"


class AuthenticationFailed(Exception):
    """A token was refused. `reason` is a stable code for the audit log; the message is for the caller."""

    def __init__(self, reason: str, message: str, claim: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.claim = claim  # the missing claim, for `missing_claim`


@dataclass(frozen=True)
class TokenSettings:
    issuer: str
    audience: str
    algorithms: frozenset[str]
    leeway_seconds: int = 30

    def __post_init__(self) -> None:
        unsafe = set(self.algorithms) - ASYMMETRIC
        if unsafe or not self.algorithms:
            raise ValueError(
                f"token algorithms must be asymmetric (allowed: {sorted(ASYMMETRIC)}); refused: "
                f"{sorted(unsafe)}"
            )


class JwksSource:
    """An issuer's public keys, from a file, a JWKS URL or OpenID Connect discovery, refreshed when a token
    names an unknown key (at most once per `min_refresh_seconds`, so a flood of bogus kids cannot hammer the
    provider).

    With `discovery` (the issuer's URL) the keys are found through `ISSUER/.well-known/openid-configuration`,
    whose `issuer` must be that URL. A provider that cannot be reached at start-up is not fatal there
    (`lazy`): its keys are fetched on the first token, and tokens are refused (`keys_unavailable`) until it
    answers."""

    def __init__(
        self,
        *,
        file: Path | None = None,
        url: str | None = None,
        discovery: str | None = None,
        min_refresh_seconds: float = 60,
        clock: Callable[[], float] = time.monotonic,
        lazy: bool = False,
        timeout: float = 5.0,
    ) -> None:
        if sum(x is not None for x in (file, url, discovery)) != 1:
            raise ValueError("configure exactly one JWKS source: a file, a URL or an issuer to discover")
        self.file, self.url, self.discovery = file, url, discovery
        self.min_refresh_seconds = min_refresh_seconds
        self.clock = clock
        self.timeout = timeout
        self._lock = threading.Lock()
        self._last_fetch = float("-inf")
        self._keys: dict[str, Any] = {}
        self.fetches = 0
        try:
            self.refresh(force=True)
        except (OSError, ValueError, KeyError, httpx.HTTPError, JoseError) as exc:
            if not lazy:
                raise
            log.warning(
                "the keys of %s could not be fetched yet (%s); retrying on the first token",
                discovery or url,
                exc,
            )

    def _get_json(self, url: str) -> dict[str, Any]:
        response = httpx.get(url, timeout=self.timeout, follow_redirects=False)
        response.raise_for_status()
        document: dict[str, Any] = response.json()
        return document

    def _fetch(self) -> dict[str, Any]:
        if self.file is not None:
            jwks: dict[str, Any] = json.loads(self.file.read_text())
            return jwks
        if self.discovery is not None:
            metadata = self._get_json(self.discovery.rstrip("/") + "/.well-known/openid-configuration")
            if metadata.get("issuer") != self.discovery:
                raise ValueError(
                    f"the discovery document of {self.discovery} names another issuer: "
                    f"{metadata.get('issuer')!r}"
                )
            return self._get_json(metadata["jwks_uri"])
        assert self.url is not None  # the constructor takes exactly one of file, url and discovery
        return self._get_json(self.url)

    def refresh(self, *, force: bool = False) -> bool:
        with self._lock:
            now = self.clock()
            if not force and now - self._last_fetch < self.min_refresh_seconds:
                return False
            self._last_fetch = now
            try:
                self.fetches += 1
                keys = {}
                for k in self._fetch()["keys"]:
                    if "kid" not in k or k.get("use", "sig") != "sig":
                        continue  # encryption keys (Keycloak publishes one) never verify a token
                    try:
                        keys[k["kid"]] = jwk.import_key(k)
                    except (JoseError, ValueError, KeyError, TypeError):
                        log.warning(
                            "ignoring a key the register cannot read: kid %s, kty %s",
                            k.get("kid"),
                            k.get("kty"),
                        )
            except (OSError, ValueError, KeyError, TypeError, httpx.HTTPError, JoseError):
                if force and not self._keys:
                    raise
                log.warning(
                    "refreshing the keys of %s failed", self.discovery or self.url or self.file, exc_info=True
                )
                return False
            self._keys = keys
            return True

    @property
    def empty(self) -> bool:
        return not self._keys

    def holds(self, kid: str, key: Any) -> bool:
        """Whether `key` is still this source's key `kid` (a refresh that dropped or replaced it says no)."""
        return self._keys.get(kid) is key

    def get(self, kid: str) -> Any | None:
        key = self._keys.get(kid)
        if key is None and self.refresh():
            key = self._keys.get(kid)
        return key


@dataclass(frozen=True)
class TrustedIssuer:
    """One identity provider the register trusts: its `iss`, the audience its tokens must name, its keys and
    how its claims become a principal."""

    issuer: str
    audience: str
    keys: JwksSource
    mapping: ClaimMapping = REGISTER_CLAIMS
    require_sub: bool = True


def _unverified_claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    if not isinstance(claims, dict):
        raise ValueError("the payload is not a JSON object")
    return claims


@dataclass(frozen=True)
class _Verified:
    principal: Principal
    expires: int  # the token's `exp`
    issuer: str
    kid: str
    key: Any  # the key object that verified it


class TokenVerifier:
    """Verifies tokens from any of several trusted issuers. The unverified `iss` only chooses whose keys,
    audience and mapping apply; the token is then verified against exactly that issuer.

    A client sends the same token with every request until it expires, and the signature check is most of the
    cost of one (about 0.7 ms of ES256 and claim checks). A verified token is kept, by the SHA-256 of its
    text, with the principal it gave, until its `exp` (not the leeway: past `exp` it is verified afresh and
    refused as expired), and used only while the issuer still holds the very key that verified it (a key
    rotated out of the JWKS makes every token it signed verify again, and fail). The principal is what the
    token's signed claims say, so keeping it changes no decision: a role changed at the identity provider
    reaches the register in the next token, as without the cache; the policy still decides every request."""

    CACHE_SIZE = 10_000

    def __init__(
        self,
        issuers: Sequence[TrustedIssuer] | JwksSource,
        settings: TokenSettings,
        now: Callable[[], int] | None = None,
    ) -> None:
        # One issuer with the register's own claims, as configured in `settings`
        if isinstance(issuers, JwksSource):
            issuers = [TrustedIssuer(settings.issuer, settings.audience, issuers)]
        if not issuers:
            raise ValueError("trust at least one issuer")
        self.settings = settings
        self.issuers = {i.issuer: i for i in issuers}
        sub: dict[str, ClaimsOption] = {"sub": {"essential": True}}
        self._claims = {
            i.issuer: JWTClaimsRegistry(
                now=now,
                leeway=settings.leeway_seconds,
                iss={"essential": True, "value": i.issuer},
                aud={"essential": True, "value": i.audience},
                exp={"essential": True},
                **(sub if i.require_sub else {}),
            )
            for i in issuers
        }
        self._now: Callable[[], int] = now or (lambda: int(time.time()))
        self._verified: OrderedDict[bytes, _Verified] = OrderedDict()
        self._verified_lock = threading.Lock()

    @property
    def jwks(self) -> JwksSource:
        """The first issuer's keys (there is one issuer unless identity providers are configured)."""
        return next(iter(self.issuers.values())).keys

    def verify(self, token: str) -> Principal:
        digest = hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()
        with self._verified_lock:
            kept = self._verified.get(digest)
            if kept is not None:
                self._verified.move_to_end(digest)
        if kept is not None:
            if self._now() < kept.expires and self.issuers[kept.issuer].keys.holds(kept.kid, kept.key):
                return kept.principal
            with self._verified_lock:
                self._verified.pop(digest, None)
        principal, kept = self._verify(token)
        with self._verified_lock:
            self._verified[digest] = kept
            while len(self._verified) > self.CACHE_SIZE:
                self._verified.popitem(last=False)
        return principal

    def _verify(self, token: str) -> tuple[Principal, _Verified]:
        try:
            header = jws.extract_compact(token.encode()).protected
            unverified = _unverified_claims(token)
        except (JoseError, ValueError, UnicodeError, IndexError):
            raise AuthenticationFailed("malformed", "the bearer token is not a well-formed JWT") from None
        alg = header.get("alg")
        if alg not in self.settings.algorithms:
            raise AuthenticationFailed(
                "algorithm_not_allowed", f"tokens signed with {alg!r} are not accepted"
            )
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise AuthenticationFailed("missing_key_id", "the token names no signing key (kid)")
        iss = unverified.get("iss")
        if iss is None:
            raise AuthenticationFailed("missing_iss", "the token names no issuer ('iss')")
        issuer = self.issuers.get(iss) if isinstance(iss, str) else None
        if issuer is None:
            raise AuthenticationFailed(
                "wrong_issuer", "the token's 'iss' claim is not an issuer the register trusts"
            )
        key = issuer.keys.get(kid)
        if key is None:
            if issuer.keys.empty:
                raise AuthenticationFailed(
                    "keys_unavailable",
                    "the register cannot reach the identity provider's keys; try again shortly",
                )
            raise AuthenticationFailed(
                "unknown_key", "the token is signed with a key the register does not trust"
            )
        try:
            decoded = jwt.decode(token, key, algorithms=sorted(self.settings.algorithms))
        except BadSignatureError:
            raise AuthenticationFailed("bad_signature", "the token's signature does not verify") from None
        except (JoseError, ValueError):
            raise AuthenticationFailed("malformed", "the token could not be decoded") from None
        try:
            self._claims[issuer.issuer].validate(decoded.claims)
        except ExpiredTokenError:
            raise AuthenticationFailed("expired", "the token has expired") from None
        except (InvalidClaimError, MissingClaimError) as exc:
            claim = getattr(exc, "claim", "?")
            reason = {"nbf": "not_yet_valid", "iss": "wrong_issuer", "aud": "wrong_audience"}.get(
                claim, f"invalid_{claim}"
            )
            if isinstance(exc, MissingClaimError):
                reason = f"missing_{claim}"
            raise AuthenticationFailed(reason, f"the token's {claim!r} claim is not acceptable") from None
        try:
            principal = issuer.mapping.principal(decoded.claims)
        except ClaimProblem as exc:
            if exc.reason == "missing_claim":
                raise AuthenticationFailed("missing_claim", exc.message, claim=exc.claim) from None
            raise AuthenticationFailed(
                "invalid_claims",
                f"{exc.message}: the token must carry agency, area and roles the register knows",
            ) from None
        return principal, _Verified(principal, int(decoded.claims["exp"]), issuer.issuer, kid, key)


def principal_from_claims(claims: dict[str, Any]) -> Principal:
    """The register's own claims (`sub`, `name`, `agency`, `area`, `roles`) as a principal."""
    try:
        return REGISTER_CLAIMS.principal(claims)
    except ClaimProblem:
        raise AuthenticationFailed(
            "invalid_claims", "the token must carry agency, area and roles the register knows"
        ) from None


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


def mint(
    key: jwk.ECKey,
    *,
    user: str,
    agency: Agency,
    area: Area,
    roles: list[Role],
    issuer: str,
    audience: str,
    name: str = "",
    ttl_seconds: int = 8 * 3600,
    now: int | None = None,
) -> str:
    issued = int(time.time()) if now is None else now
    claims = {
        "iss": issuer,
        "aud": audience,
        "sub": user,
        "name": name or user,
        "agency": agency.value,
        "area": area.value,
        "roles": [r.value for r in roles],
        "iat": issued,
        "nbf": issued,
        "exp": issued + ttl_seconds,
    }
    return jwt.encode({"alg": "ES256", "kid": key.kid, "typ": "JWT"}, claims, key)
