"""Rate limits per source address (every call but /health and /ready) and per user (every authenticated call):
a moving window in this process's memory by default (`InProcessWindows`), or the `limits` library's on shared
storage (e.g. `redis://...`) where several API processes serve the same users. The limits are written in the
`limits` library's notation either way. Over a limit: 429 with Retry-After, as problem+json."""

from __future__ import annotations

import json
import math
import threading
import time
from collections import deque
from collections.abc import Callable

from limits import RateLimitItem, parse_many
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from starlette.types import ASGIApp, Receive, Scope, Send

from .middleware import current_request_id

EXEMPT = frozenset({"/health", "/ready"})  # load balancers poll these


def parse(spec: str) -> list[RateLimitItem]:
    """ "300/minute;20/second" as limits; blank for none. Raises ValueError on anything else."""
    return parse_many(spec) if spec.strip() else []


class InProcessWindows:
    """Moving windows kept in this process's memory: for each limit and key, the times of the calls counted in
    the last window, the oldest dropped as each call is counted. A call is counted if fewer than the limit's
    amount were in its window (the `limits` library's moving window, the same rule).

    In place of that library's memory storage (decision 82), which starts a thread on a call when the one it
    started before has ended, 10 ms later: on an API whose calls come more than 10 ms apart, a thread started
    and a sweep of every key on every call, about 1 ms of the API's CPU a request, measured. Here a key whose
    window has emptied is dropped by a sweep every `SWEEP_EVERY` counted calls, in the caller's thread."""

    SWEEP_EVERY = 1024

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._calls: dict[str, tuple[float, deque[float]]] = {}  # key: (the window in seconds, the times)
        self._lock = threading.Lock()
        self._counted = 0

    def hit(self, item: RateLimitItem, *identifiers: str) -> float | None:
        """Count one call against `item`: None if counted, else the seconds until the window has room."""
        key = item.key_for(*identifiers)
        window = float(item.get_expiry())
        now = self._clock()
        with self._lock:
            kept = self._calls.get(key)
            if kept is None:
                kept = self._calls[key] = (window, deque())
            calls = kept[1]
            while calls and calls[0] <= now - window:
                calls.popleft()
            if len(calls) >= item.amount:
                return calls[0] + window - now
            calls.append(now)
            self._counted += 1
            if self._counted % self.SWEEP_EVERY == 0:
                self._sweep(now)
        return None

    def _sweep(self, now: float) -> None:
        for key in [
            k for k, (window, calls) in self._calls.items() if not calls or calls[-1] <= now - window
        ]:
            del self._calls[key]

    def __len__(self) -> int:
        """How many keys are kept."""
        return len(self._calls)


class RateLimits:
    def __init__(self, per_user: str, per_address: str, storage_uri: str = "memory://") -> None:
        self.per_user, self.per_address = parse(per_user), parse(per_address)
        self.windows: InProcessWindows | None = None
        self.limiter: MovingWindowRateLimiter | None = None
        if self.per_user or self.per_address:
            if storage_uri.startswith("memory://"):
                self.windows = InProcessWindows()
            else:
                self.limiter = MovingWindowRateLimiter(storage_from_string(storage_uri))

    def _hit(self, items: list[RateLimitItem], kind: str, key: str) -> int | None:
        """Counts one call; the seconds to wait if it is over a limit, else None."""
        for item in items:
            if self.windows is not None:
                wait = self.windows.hit(item, kind, key)
                if wait is not None:
                    return max(1, math.ceil(wait))
            elif self.limiter is not None and not self.limiter.hit(item, kind, key):
                reset = self.limiter.get_window_stats(item, kind, key).reset_time
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
