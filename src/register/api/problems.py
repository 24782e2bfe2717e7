"""Every error is `application/problem+json` (RFC 9457) naming the rule, and for bad input each field and
rule.

{"type": "/problems/dates_in_order", "title": "Invalid request", "status": 422, "rule": "validation",
 "detail": "...", "errors": [{"field": "body.date_to", "rule": "dates_in_order", "message": "..."}]}
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..access.tokens import AuthenticationFailed
from ..crypto.envelope import TamperedCiphertext
from ..crypto.keys import KeyProblem
from ..domain.errors import ConcurrencyConflict, DomainError, Gone, NotFound, RuleViolation, field_errors
from ..search.query import readable_error
from ..store.db import DATABASE_ERRORS, database_unreachable
from ..usecase import guard
from .middleware import current_request_id

log = logging.getLogger(__name__)
MEDIA_TYPE = "application/problem+json"


class FieldError(BaseModel):
    field: str
    rule: str
    message: str


class Problem(BaseModel):
    """The body of every error response."""

    type: str
    title: str
    status: int
    detail: str
    rule: str
    errors: list[FieldError] = []
    request_id: str | None = None


class ApiProblem(Exception):
    def __init__(
        self,
        status: int,
        rule: str,
        detail: str,
        *,
        title: str | None = None,
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
        audited: bool = False,
    ) -> None:
        """`audited`: the refusal is in the audit log already (the guard wrote it); otherwise the handler
        audits it (`audit_refusal`)."""
        super().__init__(detail)
        self.status, self.rule, self.detail, self.audited = status, rule, detail, audited
        self.title = title or TITLES.get(status, "Error")
        self.errors = errors or []
        self.headers = headers or {}


TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict with the record's state",
    412: "The record changed since you read it",
    413: "Request too large",
    415: "Unsupported media type",
    422: "Invalid request",
    428: "If-Match required",
    429: "Too many requests",
    500: "Internal error",
    503: "Unavailable",
}


def problem(
    request: Request | None,
    status: int,
    rule: str,
    detail: str,
    *,
    title: str | None = None,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"/problems/{rule}",
        "title": title or TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "rule": rule,
        "errors": errors or [],
        "request_id": current_request_id(),
        **(extra or {}),
    }
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def _request_errors(exc: RequestValidationError) -> list[dict[str, str]]:
    out = []
    for e in exc.errors():
        cause = (e.get("ctx") or {}).get("error")
        loc = ".".join(str(p) for p in e.get("loc", ()))
        inner = getattr(cause, "field", None)
        rule = getattr(cause, "rule", e.get("type", "invalid"))
        message = getattr(cause, "message", e.get("msg", "invalid"))
        field = f"{loc}.{inner}" if inner else loc
        # a search query's criteria are named by position and type as sent, not by the tagged union's parts
        readable = readable_error(
            tuple(e.get("loc", ())), e.get("type", ""), inner, rule, message, e.get("ctx") or {}
        )
        if readable is not None:
            field, rule, message = readable
        out.append({"field": field, "rule": rule, "message": message})
    return out


def _write_refusal(request: Request, status: int, rule: str) -> None:
    route = request.scope.get("route")
    nominal = request.path_params.get("nominal_id")
    try:
        nominal_id = uuid.UUID(str(nominal)) if nominal is not None else None
    except ValueError:
        nominal_id = None
    with request.app.state.store.unit_of_work() as uow:
        guard.request_refused(
            uow,
            getattr(request.state, "principal", None),
            status=status,
            rule=rule,
            route=getattr(route, "path", "unmatched"),
            method=request.method,
            source=request.client.host if request.client else "unknown",
            floods=request.app.state.refusal_floods,
            nominal_id=nominal_id,
            request_id=current_request_id(),
            summarise=status == 429,
        )


async def audit_refusal(request: Request, status: int, rule: str) -> None:
    """Every refusal of an API call leaves an audit event, also those made before any use case runs (a use
    case's refusals and the policy's are written where they happen): against the signed-in user, or with
    nobody signed in (or over their rate limit) counted per source (audit/floods.py)."""
    if status < 500 and request.url.path.startswith(API_PREFIX):
        await run_in_threadpool(_write_refusal, request, status, rule)


API_PREFIX = "/v1/"


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiProblem)
    async def _api_problem(request: Request, exc: ApiProblem) -> Response:
        if (
            not exc.audited
            and (down := await _audit_or_unavailable(request, exc.status, exc.rule)) is not None
        ):
            return down
        return problem(
            request, exc.status, exc.rule, exc.detail, title=exc.title, errors=exc.errors, headers=exc.headers
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(request: Request, exc: RequestValidationError) -> Response:
        errors = _request_errors(exc)
        if (down := await _audit_or_unavailable(request, 422, "validation")) is not None:
            return down
        return problem(
            request,
            422,
            "validation",
            f"{len(errors)} problem(s) with the request: see errors",
            errors=errors,
        )

    @app.exception_handler(ValidationError)
    async def _invalid_domain(request: Request, exc: ValidationError) -> JSONResponse:
        errors = field_errors(exc)
        return problem(
            request,
            422,
            "validation",
            f"{len(errors)} problem(s) with the request: see errors",
            errors=errors,
        )

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        status = 422
        if isinstance(exc, NotFound):
            status = 404
        elif isinstance(exc, ConcurrencyConflict):
            status = 412
        elif isinstance(exc, RuleViolation):
            status = 409
        elif isinstance(exc, Gone):
            status = 410
        errors = field_errors(exc) if exc.field else []
        return problem(request, status, exc.rule, exc.message, errors=errors)

    @app.exception_handler(AuthenticationFailed)
    async def _unauthenticated(request: Request, exc: AuthenticationFailed) -> JSONResponse:
        claim = (
            {"claim": exc.claim} if exc.claim else None
        )  # a missing mapped claim is named for the provider's administrator
        errors = (
            [{"field": f"token.{exc.claim}", "rule": "token_missing_claim", "message": exc.message}]
            if exc.claim
            else None
        )
        return problem(
            request,
            401,
            f"token_{exc.reason}",
            exc.message,
            errors=errors,
            extra=claim,
            headers={"WWW-Authenticate": f'Bearer error="invalid_token", error_description="{exc.reason}"'},
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        rule = {400: "body_unreadable", 404: "route_not_found", 405: "method_not_allowed"}.get(
            exc.status_code, f"http_{exc.status_code}"
        )
        if (down := await _audit_or_unavailable(request, exc.status_code, rule)) is not None:
            return down
        return problem(request, exc.status_code, rule, str(exc.detail), headers=getattr(exc, "headers", None))

    @app.exception_handler(TamperedCiphertext)
    async def _tampered(request: Request, exc: TamperedCiphertext) -> JSONResponse:
        log.error("integrity failure: %s", exc)
        return problem(
            request,
            500,
            "integrity_failure",
            "a stored value failed its integrity check; the incident is logged",
        )

    @app.exception_handler(KeyProblem)
    async def _keys(request: Request, exc: KeyProblem) -> JSONResponse:
        log.error("key problem: %s", exc)
        return problem(request, 503, "keys_unavailable", "the register cannot reach its keys")

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return problem(request, 500, "internal_error", "an unexpected error; the incident is logged")


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "content": {MEDIA_TYPE: {}}, "description": TITLES[status]}
    for status in (400, 401, 403, 404, 409, 412, 413, 422, 428, 429)
}


def ok(example: object, status: int = 200) -> dict[int | str, dict[str, Any]]:
    """An OpenAPI `responses` entry carrying an example body (for a route's success response)."""
    return {status: {"content": {"application/json": {"example": example}}}}


ETAG_HEADER = {
    "description": 'the version and a digest of the body: "<version>.<digest>"',
    "schema": {"type": "string"},
}


def read(example: object) -> dict[int | str, dict[str, Any]]:
    """A record read's responses: 200 with its tag, and 304 when `If-None-Match` names the tag (the body the
    reader would get is unchanged: api/middleware.py ConditionalReads)."""
    return {
        200: {"content": {"application/json": {"example": example}}, "headers": {"ETag": ETAG_HEADER}},
        304: {
            "description": "Not Modified: If-None-Match names this read's current tag",
            "headers": {"ETag": ETAG_HEADER},
        },
    }


# ------------------------------------------------------------------ the database unreachable (a restart, a
# failover, a full pool): 503 with Retry-After, never a 500 with a stack trace; the pool replaces a connection
# the server closed before handing it out (`server_closed`, store/db.py), so the next request after the
# database returns is answered.

RETRY_AFTER_SECONDS = 5
PageAnswer = Callable[[Request, dict[str, str]], Response]


class OutageLog:
    """One log line per outage, not one per request: the first failure is logged with its cause (the driver's
    first line, never the statement or its parameters), later ones counted and reported at most every
    `every_seconds` while the outage lasts."""

    def __init__(self, every_seconds: float = 60) -> None:
        self.every_seconds = every_seconds
        self._lock = threading.Lock()
        self._last = float("-inf")
        self._since = 0

    def note(self, exc: BaseException) -> None:
        cause = getattr(exc, "orig", None) or exc
        first_line = (str(cause).strip().splitlines() or [""])[0][:200]
        with self._lock:
            now = time.monotonic()
            if now - self._last < self.every_seconds:
                self._since += 1
                return
            since, self._since, self._last = self._since, 0, now
        log.error(
            "database unreachable: answering 503 (%d more since the last report): %s: %s",
            since,
            type(cause).__name__,
            first_line,
        )


def unavailable(request: Request, exc: BaseException, page: PageAnswer | None = None) -> Response:
    """The answer while the database is unreachable: problem+json for the API, the 503 page for a page."""
    outages: OutageLog | None = getattr(request.app.state, "database_outages", None)
    if outages is None:
        outages = request.app.state.database_outages = OutageLog()
    outages.note(exc)
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    path = request.url.path
    if page is not None and not path.startswith(API_PREFIX) and path not in ("/health", "/ready"):
        return page(request, headers)
    return problem(
        request,
        503,
        "database_unreachable",
        "the register cannot reach its database; try again shortly",
        headers=headers,
    )


async def _audit_or_unavailable(request: Request, status: int, rule: str) -> Response | None:
    """Audit a refusal; if the database cannot be reached to do so, the 503 answer instead of the refusal
    (a refusal is never answered unaudited)."""
    try:
        await audit_refusal(request, status, rule)
    except DATABASE_ERRORS as exc:
        if not database_unreachable(exc):
            raise
        return unavailable(request, exc)
    return None


def install_database_outages(app: FastAPI, page: PageAnswer | None = None) -> None:
    """Answer a database outage with 503 + Retry-After (the pages with `page`, the web's 503 page)."""

    app.state.database_outages = OutageLog()  # one per app: its outages are logged once

    async def _database(request: Request, exc: Exception) -> Response:
        if database_unreachable(exc):
            return unavailable(request, exc, page)
        log.exception("unhandled error")
        return problem(request, 500, "internal_error", "an unexpected error; the incident is logged")

    for kind in DATABASE_ERRORS:
        app.add_exception_handler(kind, _database)
