"""ASGI middleware: a request id on every request, a hard limit on request body size, hardening headers, and
conditional reads (If-None-Match)."""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Sequence

from asgi_correlation_id import CorrelationIdMiddleware, correlation_id
from starlette.datastructures import MutableHeaders
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._\-]{1,100}$")
REQUEST_ID_HEADER = "X-Request-ID"


def valid_request_id(value: str) -> bool:
    """A caller's X-Request-ID is kept only if it is 1 to 100 of `A-Za-z0-9._-` (it goes into the audit log
    and the logs); otherwise the register makes one."""
    return _REQUEST_ID.match(value) is not None


def request_ids(app: ASGIApp) -> CorrelationIdMiddleware:
    """The request id on every request (asgi-correlation-id, a maintained middleware): a well-formed
    X-Request-ID from the caller or a new UUID, sent back on the response and read by everything below through
    `current_request_id` (a context variable of the request's task)."""
    return CorrelationIdMiddleware(
        app, header_name=REQUEST_ID_HEADER, generator=lambda: str(uuid.uuid4()), validator=valid_request_id
    )


def current_request_id() -> str | None:
    return correlation_id.get()


class BodyLimit:
    """Refuses bodies over `max_bytes` with 413, whether announced by Content-Length or streamed.

    `allowances`: (method, path pattern, limit) for the few routes that take more, e.g. a photograph upload.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, allowances: Sequence[tuple[str, str, int]] = ()) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.allowances = [(method, re.compile(path), limit) for method, path, limit in allowances]

    def _limit(self, scope: Scope) -> int:
        for method, path, limit in self.allowances:
            if scope["method"] == method and path.match(scope["path"]):
                return limit
        return self.max_bytes

    async def _refuse(self, send: Send, limit: int) -> None:
        body = json.dumps(
            {
                "type": "/problems/body_too_large",
                "title": "Request too large",
                "status": 413,
                "rule": "body_too_large",
                "detail": f"request bodies are limited to {limit} bytes",
                "errors": [],
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/problem+json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            try:
                too_big = int(declared) > limit
            except ValueError:
                too_big = True
            if too_big:
                await self._refuse(send, limit)
                return
        seen = 0
        started = False
        exceeded = False

        class TooLarge(Exception):
            pass

        async def limited_receive() -> Message:
            nonlocal seen, exceeded
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    exceeded = True
                    raise TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if exceeded:
                # The app may catch the error reading the body and answer for itself (FastAPI: 400 "error
                # parsing the body"): whatever it answers, the answer is our 413.
                if message["type"] == "http.response.start" and not started:
                    started = True
                    await self._refuse(send, limit)
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except TooLarge:
            if not started:
                await self._refuse(send, limit)


class SecurityHeaders:
    """Hardening headers on every response, set once here rather than per route (issue #17, F8):

    * `X-Content-Type-Options: nosniff` and `Referrer-Policy: no-referrer` everywhere;
    * `Cache-Control: no-store` on every /v1 response (they carry personal data, errors included);
    * a Content-Security-Policy on HTML unless the route set a stricter one of its own (no inline script
      either way);
    * `Strict-Transport-Security` in production;
    * OPTIONS answered 204 with `Allow` (the methods of every route on the path), 404 for no such path.

    It wraps the whole application, Starlette's error middleware included, so a 500 carries the headers too.
    """

    def __init__(self, app: ASGIApp, routes: Sequence[BaseRoute], *, hsts: bool) -> None:
        self.app = app
        self.routes = routes
        self.fixed: list[tuple[bytes, bytes]] = [
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"),
        ]
        if hsts:
            self.fixed.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))

    def _allowed(self, scope: Scope) -> set[str]:
        """The methods some route takes on this path, asked of the routes themselves (FastAPI nests included
        routers)."""
        return {
            method
            for method in _METHODS
            if any(route.matches({**scope, "method": method})[0] == Match.FULL for route in self.routes)
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        personal = scope["path"].startswith("/v1")

        async def send_hardened(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.fixed:
                    headers[name.decode()] = value.decode()
                if personal:
                    headers["cache-control"] = "no-store"
                if (
                    headers.get("content-type", "").startswith("text/html")
                    and "content-security-policy" not in headers
                ):
                    headers["content-security-policy"] = HTML_POLICY
            await send(message)

        if scope["method"] == "OPTIONS":
            allowed = self._allowed(scope)
            if allowed:
                allow = ", ".join(sorted(allowed | {"OPTIONS"}))
                await send_hardened(
                    {"type": "http.response.start", "status": 204, "headers": [(b"allow", allow.encode())]}
                )
                await send_hardened({"type": "http.response.body", "body": b""})
                return
        await self.app(scope, receive, send_hardened)


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")

# HTML the register serves has no inline script and is never framed; a route with inline style sends its own
# policy with the style's hash (statistics) or the documentation's CDN (/docs).
HTML_POLICY = (
    "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"
)


_VERSION_TAG = re.compile(r'^"(\d{1,18})"$')


class ConditionalReads:
    """A record read's ETag names the representation, so that `If-None-Match` can answer 304.

    A read route sets `ETag: "<version>"` (what `If-Match` needs to write). The body also depends on who reads
    (their sections and audience) and on today (dates worked out from it), so the version alone does not
    identify it: here the tag of a successful GET becomes `"<version>.<digest>"`, the digest a SHA-256 of the
    exact bytes sent, and a request whose `If-None-Match` names it (weak comparison, RFC 9110 13.1.2; `*`
    matches) gets 304 with the tag and no body. The read still ran and is audited as the consultation it is.
    `If-Match` compares the version part (api/deps.py `expected_version`)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        wanted = dict(scope["headers"]).get(b"if-none-match", b"").decode("latin-1")
        held: Message | None = None
        chunks: list[bytes] = []

        async def conditional_send(message: Message) -> None:
            nonlocal held
            if message["type"] == "http.response.start":
                tag = MutableHeaders(scope=message).get("etag")
                if message["status"] == 200 and tag is not None and _VERSION_TAG.match(tag):
                    held = message  # hold the start until the body's digest is known
                    return
            elif message["type"] == "http.response.body" and held is not None:
                chunks.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                body = b"".join(chunks)
                headers = MutableHeaders(scope=held)
                version = headers["etag"].strip('"')
                tag = f'"{version}.{hashlib.sha256(body).hexdigest()[:20]}"'
                headers["etag"] = tag
                if _names(wanted, tag):
                    held["status"] = 304
                    for name in ("content-length", "content-type"):
                        if name in headers:
                            del headers[name]
                    body = b""
                await send(held)
                await send({"type": "http.response.body", "body": body})
                return
            await send(message)

        await self.app(scope, receive, conditional_send)


def _names(if_none_match: str, tag: str) -> bool:
    """Whether an If-None-Match header names this tag (weak comparison: a W/ prefix is ignored)."""
    if not if_none_match.strip():
        return False
    candidates = [c.strip() for c in if_none_match.split(",")]
    return "*" in candidates or any(c.removeprefix("W/") == tag for c in candidates)
