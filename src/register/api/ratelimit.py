"""Rate limits per source address (every call but /health and /ready) and per user (every authenticated call),
with the `limits` library: a moving window in memory by default (one process), or shared storage (e.g.
`redis://...`) where several API processes serve the same users. Over a limit: 429 with Retry-After, as
problem+json."""

from __future__ import annotations

import json
import math
import time

from limits import RateLimitItem, parse_many
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from starlette.types import ASGIApp, Receive, Scope, Send

from .middleware import current_request_id

EXEMPT = frozenset({"/health", "/ready"})  # load balancers poll these


def parse(spec: str) -> list[RateLimitItem]:
    """ "300/minute;20/second" as limits; blank for none. Raises ValueError on anything else."""
    return parse_many(spec) if spec.strip() else []


class RateLimits:
    def __init__(self, per_user: str, per_address: str, storage_uri: str = "memory://") -> None:
        self.per_user, self.per_address = parse(per_user), parse(per_address)
        self.limiter = (
            MovingWindowRateLimiter(storage_from_string(storage_uri))
            if self.per_user or self.per_address
            else None
        )

    def _hit(self, items: list[RateLimitItem], kind: str, key: str) -> int | None:
        """Counts one call; the seconds to wait if it is over a limit, else None."""
        for item in items:
            if not self.limiter.hit(item, kind, key):  # type: ignore[union-attr]  # set whenever a limit is
                reset = self.limiter.get_window_stats(item, kind, key).reset_time  # type: ignore[union-attr]  # as above
                return max(1, math.ceil(reset - time.time()))
        return None

    def user(self, user_id: str) -> int | None:
        return self._hit(self.per_user, "user", user_id) if self.per_user else None

    def address(self, host: str) -> int | None:
        return self._hit(self.per_address, "address", host) if self.per_address else None


def too_many(
    retry_after: int, rule: str, detail: str, request_id: str | None = None
) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    body = json.dumps(
        {
            "type": f"/problems/{rule}",
            "title": "Too many requests",
            "status": 429,
            "detail": detail,
            "rule": rule,
            "errors": [],
            "request_id": request_id,
        }
    ).encode()
    return body, [
        (b"content-type", b"application/problem+json"),
        (b"content-length", str(len(body)).encode()),
        (b"retry-after", str(retry_after).encode()),
    ]


class AddressRateLimit:
    """Per source address, before anything else is done for the call. Behind a reverse proxy the address is
    the proxy's unless the server trusts its X-Forwarded-For (uvicorn --proxy-headers
    --forwarded-allow-ips)."""

    def __init__(self, app: ASGIApp, limits: RateLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] not in EXEMPT:
            host = (scope.get("client") or ("unknown", 0))[0]
            wait = self.limits.address(host)
            if wait is not None:
                body, headers = too_many(
                    wait,
                    "rate_limited_address",
                    f"too many calls from your address: try again in {wait} s",
                    current_request_id(),
                )
                await send({"type": "http.response.start", "status": 429, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)
