"""Web sessions: kept on the server, in memory, keyed by a random id; the browser holds only that id.

The cookie (`register_session`, `__Host-register_session` in production) is HttpOnly, SameSite=Lax, Secure in
production, scoped to `/`, and carries nothing but 256 random bits. The store keeps a session under the
SHA-256 of its id, so a copy of the process's memory gives no usable cookie. A session ends after `idle`
without a request and `max_age` after it began, whichever comes first; signing in replaces the session (and
its id, and its CSRF token), so an id planted before sign-in is worthless after it.

Nothing personal is kept beyond the principal (ids, agency, area, roles, display name) and, for RP-initiated
logout, the identity provider's ID token. See docs/web-sessions.md for why in memory, and what that costs.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..domain.actors import Principal

COOKIE = "register_session"
SECURE_COOKIE = "__Host-register_session"  # the prefix makes browsers insist on Secure, Path=/ and no Domain

Ended = Literal["idle", "absolute"]


class Clock:
    """Seconds since the epoch; tests move it forward (`advance`) instead of waiting."""

    def __init__(self, now: Callable[[], float] = time.time) -> None:
        self._now = now
        self.offset = 0.0

    def __call__(self) -> float:
        return self._now() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@dataclass
class WebSession:
    id: str
    created_at: float
    last_seen: float
    csrf_token: str
    principal: Principal | None = None
    issuer: str | None = None  # "development" or the identity provider's issuer URL
    id_token: str | None = None  # for RP-initiated logout (id_token_hint)
    data: dict[str, Any] = field(default_factory=dict)  # the sign-in flow's state (Authlib keeps it here)


@dataclass(frozen=True)
class EndedSession:
    """A session found expired on this request: who it was and why it ended (for the audit log and the
    message)."""

    principal: Principal | None
    reason: Ended


def _key(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class SessionStore:
    """Sessions in this process's memory. Thread-safe; expired sessions are dropped when met and swept
    periodically."""

    def __init__(
        self, *, idle_seconds: float, max_age_seconds: float, clock: Clock | None = None, limit: int = 100_000
    ) -> None:
        self.idle_seconds = idle_seconds
        self.max_age_seconds = max_age_seconds
        self.clock = clock or Clock()
        self.limit = limit
        self._sessions: dict[str, WebSession] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._sessions)

    def _expiry(self, session: WebSession, now: float) -> Ended | None:
        if now - session.created_at >= self.max_age_seconds:
            return "absolute"
        if now - session.last_seen >= self.idle_seconds:
            return "idle"
        return None

    def create(self, *, data: dict[str, Any] | None = None) -> WebSession:
        now = self.clock()
        session = WebSession(
            id=secrets.token_urlsafe(32),
            created_at=now,
            last_seen=now,
            csrf_token=secrets.token_urlsafe(32),
            data=data if data is not None else {},
        )
        with self._lock:
            if len(self._sessions) >= self.limit:
                self._sweep(now)
            if len(self._sessions) >= self.limit:  # still full of live sessions: drop the longest idle
                oldest = min(self._sessions, key=lambda k: self._sessions[k].last_seen)
                del self._sessions[oldest]
            self._sessions[_key(session.id)] = session
        return session

    def get(self, session_id: str) -> tuple[WebSession | None, EndedSession | None]:
        """The live session with this id (touched), or None and, if it had just expired, what ended."""
        now = self.clock()
        with self._lock:
            session = self._sessions.get(_key(session_id))
            if session is None:
                return None, None
            reason = self._expiry(session, now)
            if reason is not None:
                del self._sessions[_key(session_id)]
                return None, EndedSession(session.principal, reason)
            session.last_seen = now
            return session, None

    def delete(self, session_id: str) -> None:
        with self._lock:
            self._sessions.pop(_key(session_id), None)

    def _sweep(self, now: float) -> None:
        for key in [k for k, s in self._sessions.items() if self._expiry(s, now) is not None]:
            del self._sessions[key]


# Paths that never carry a session: the API (bearer tokens) and the static files.
_SESSIONLESS = ("/v1/", "/static/", "/assets/", "/openapi.json", "/health", "/ready")


class WebSessions:
    """ASGI middleware: finds the request's session (`request.state.web_session`), exposes its flow data as
    `request.session` (for Authlib), and writes or clears the cookie when a route began or ended a session."""

    def __init__(self, app: ASGIApp, store: SessionStore, *, secure: bool) -> None:
        self.app = app
        self.store = store
        self.secure = secure
        self.cookie = SECURE_COOKIE if secure else COOKIE

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(_SESSIONLESS):
            await self.app(scope, receive, send)
            return
        connection = HTTPConnection(scope)
        cookie = connection.cookies.get(self.cookie)
        session, ended = self.store.get(cookie) if cookie else (None, None)
        state = scope.setdefault("state", {})
        state["web_session"] = session
        state["web_session_ended"] = ended
        state["web_sessions"] = self
        scope["session"] = session.data if session is not None else {}

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                now = state.get("web_session")
                headers = MutableHeaders(scope=message)
                if now is not None and (session is None or now.id != session.id):
                    headers.append("set-cookie", self._cookie(now.id))
                elif now is None and cookie:
                    headers.append("set-cookie", self._cookie("", clear=True))
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    def _cookie(self, value: str, *, clear: bool = False) -> str:
        parts = [f"{self.cookie}={value}", "Path=/", "HttpOnly", "SameSite=Lax"]
        if self.secure:
            parts.append("Secure")
        if clear:
            parts += ["Max-Age=0", "Expires=Thu, 01 Jan 1970 00:00:00 GMT"]
        return "; ".join(parts)


def current(connection: HTTPConnection) -> WebSession | None:
    session: WebSession | None = getattr(connection.state, "web_session", None)
    return session


def ensure(connection: HTTPConnection) -> WebSession:
    """The request's session, begun now (anonymous, with a CSRF token) if it has none."""
    session = current(connection)
    if session is None:
        store: SessionStore = connection.app.state.sessions
        session = store.create(data=connection.scope.get("session"))
        connection.state.web_session = session
        connection.scope["session"] = session.data
    return session


def begin_signed_in(
    connection: HTTPConnection, principal: Principal, *, issuer: str, id_token: str | None = None
) -> WebSession:
    """Replace the request's session with a new one for `principal`: new id, new CSRF token, new clock."""
    store: SessionStore = connection.app.state.sessions
    old = current(connection)
    if old is not None:
        store.delete(old.id)
    session = store.create()
    session.principal, session.issuer, session.id_token = principal, issuer, id_token
    connection.state.web_session = session
    connection.scope["session"] = session.data
    return session


def end(connection: HTTPConnection) -> WebSession | None:
    """End the request's session (sign-out); the response clears the cookie."""
    session = current(connection)
    if session is not None:
        store: SessionStore = connection.app.state.sessions
        store.delete(session.id)
    connection.state.web_session = None
    connection.scope["session"] = {}
    return session


def ended(connection: HTTPConnection) -> EndedSession | None:
    value: EndedSession | None = getattr(connection.state, "web_session_ended", None)
    return value
