"""What a route's signature can ask for: who is calling, a unit of work, and the policy's permission.

Every route declares its action through `Authorize`, `RecordGuard` or `CreateGuard`; a test walks the
app's routes and fails on any route that declares none (unless `auth/policy.yaml` lists it as public).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Body, Depends, Header, Query, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from ..access.policy import Policy, RecordFacts
from ..access.tokens import AuthenticationFailed, TokenVerifier
from ..domain.actors import Principal
from ..domain.record import NewNominal
from ..nominals import service as nominals
from ..store.store import Store
from ..store.uow import UnitOfWork
from ..usecase import cursors, guard
from ..usecase.guard import ACTION_CATEGORY, Access, Refused
from ..usecase.views import Changed, RestrictedStub
from .middleware import current_request_id
from .problems import ApiProblem

__all__ = [
    "ACTION_CATEGORY",
    "Access",
    "Authorize",
    "CreateGuard",
    "IfMatch",
    "NewRecordAccess",
    "Purpose",
    "RecordGuard",
    "UoW",
    "authenticate",
    "etag",
    "expected_version",
    "get_policy",
    "get_store",
    "PolicyDep",
    "RequestId",
    "json_response",
    "problem",
    "request_id",
    "unit_of_work",
]

bearer = HTTPBearer(
    auto_error=False,
    description="a JWT from the force's identity provider (development: `register dev-token`)",
)


def get_store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def get_policy(request: Request) -> Policy:
    policy: Policy = request.app.state.policy
    return policy


# Dependencies that do no I/O are coroutines: FastAPI calls a coroutine on the event loop, but hands a plain
# function to a worker thread and waits for it to come back: a thread's round trip per dependency per request
# (decision 73).


async def _policy(request: Request) -> Policy:
    return get_policy(request)


PolicyDep = Annotated[Policy, Depends(_policy)]


def request_id(request: Request) -> str | None:
    return current_request_id()


async def _request_id() -> str | None:
    return current_request_id()


RequestId = Annotated[str | None, Depends(_request_id)]


def json_response(model: BaseModel, response: Response | None = None, status_code: int = 200) -> Response:
    """`model` as JSON, serialised in the route's own worker thread, with the headers the route set on
    `response`: the bytes FastAPI would send for it from a route declaring its type (`response_model`), which
    otherwise validates the returned model against that type in a second worker thread before serialising
    it (decision 73). A route answering 201 passes it: FastAPI sends a returned `Response` as it is."""
    headers = dict(response.headers) if response is not None else None
    return Response(
        model.model_dump_json(), status_code=status_code, media_type="application/json", headers=headers
    )


def unit_of_work(request: Request) -> Iterator[UnitOfWork]:
    """One transaction per request. The use case the route calls commits it when it returns; anything left
    over is rolled back if the route raises."""
    with get_store(request).unit_of_work(for_caller=True) as uow:
        yield uow


UoW = Annotated[UnitOfWork, Depends(unit_of_work)]
# One pagination convention (usecase/cursors.py, docs/api.md "Conventions"): `limit`, `cursor`, `next`.
Limit = Annotated[int, Query(ge=1, le=100, description="how many to return (at most 100)")]
Cursor = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=cursors.MAX_LENGTH,
        pattern=cursors.PATTERN,
        description="the previous page's `next`, unchanged, with the same filters; none: the first page",
    ),
]


def problem(refused: Refused) -> ApiProblem:
    """The problem response for a refusal the guard has already audited: 403, or 400 for a missing purpose."""
    if refused.status == 400:
        return ApiProblem(
            400,
            refused.rule,
            refused.reason,
            errors=[{"field": "query.purpose", "rule": refused.rule, "message": refused.reason}],
            audited=True,
        )
    return ApiProblem(refused.status, refused.rule, refused.reason, audited=True)


def authenticate(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    uow: UoW,
) -> Principal:
    verifier: TokenVerifier = request.app.state.verifier
    try:
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise AuthenticationFailed("missing", "a bearer token is required")
        principal = verifier.verify(credentials.credentials)
    except AuthenticationFailed as exc:
        guard.token_refused(
            uow,
            exc.reason,
            claim=exc.claim,
            path=request.url.path,
            method=request.method,
            source=request.client.host if request.client else "unknown",
            floods=request.app.state.refusal_floods,
            request_id=request_id(request),
        )
        raise
    request.state.principal = principal
    wait = request.app.state.rate_limits.user(principal.user_id)
    if wait is not None:
        raise ApiProblem(
            429,
            "rate_limited_user",
            f"too many calls by {principal.user_id}: try again in {wait} s",
            headers={"Retry-After": str(wait)},
        )
    request.state.principal = principal
    return principal


class Authorize:
    """Declares the action a route performs (and the section), and asks the policy. For routes not about one
    record."""

    def __init__(self, action: str, section: str | None = None) -> None:
        self.action = action
        self.section = section

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.action!r}, {self.section!r})"

    def __call__(
        self, request: Request, principal: Annotated[Principal, Depends(authenticate)], uow: UoW
    ) -> Principal:
        try:
            guard.authorize(
                uow,
                get_policy(request),
                principal,
                self.action,
                section=self.section,
                request_id=request_id(request),
            )
        except Refused as refused:
            raise problem(refused) from None
        return principal


async def stated_purpose(
    x_purpose: Annotated[
        str | None,
        Header(
            max_length=500,
            description="why you are reading (e.g. an enquiry reference); required outside your area. "
            "Prefer this header to `?purpose=`: a header stays out of proxies' and browsers' URL logs",
        ),
    ] = None,
    purpose: Annotated[
        str | None,
        Query(max_length=500, description="the same as the X-Purpose header (kept for existing callers)"),
    ] = None,
) -> str | None:
    """The caller's purpose, from the X-Purpose header or `?purpose=`; both, if different, is refused."""
    if x_purpose is not None and purpose is not None and x_purpose != purpose:
        raise ApiProblem(
            422,
            "purpose_given_twice",
            "the X-Purpose header and ?purpose= differ: state one purpose",
            errors=[
                {
                    "field": "header.x-purpose",
                    "rule": "purpose_given_twice",
                    "message": "differs from ?purpose=",
                }
            ],
        )
    return x_purpose if x_purpose is not None else purpose


Purpose = Annotated[str | None, Depends(stated_purpose)]


class PurposeAuthorize(Authorize):
    """An action the policy allows only with a purpose (a search: the operation it serves): asks the policy
    with it and hands the principal and the purpose to the use case."""

    def __call__(  # type: ignore[override]  # a FastAPI dependency: its parameters are what it asks for
        self,
        request: Request,
        principal: Annotated[Principal, Depends(authenticate)],
        uow: UoW,
        purpose: Purpose = None,
    ) -> tuple[Principal, str]:
        try:
            guard.authorize(
                uow,
                get_policy(request),
                principal,
                self.action,
                purpose=purpose,
                request_id=request_id(request),
            )
        except Refused as refused:
            raise problem(refused) from None
        return principal, purpose or ""


class RecordGuard(Authorize):
    """For routes on one record: the policy also sees who owns it, whether it is restricted, and the
    purpose."""

    def __call__(  # type: ignore[override]  # a record's routes also take its id and the purpose
        self,
        request: Request,
        nominal_id: uuid.UUID,
        principal: Annotated[Principal, Depends(authenticate)],
        uow: UoW,
        purpose: Purpose = None,
    ) -> Access:
        try:
            return guard.authorize_record(
                uow,
                get_policy(request),
                principal,
                self.action,
                nominal_id,
                section=self.section,
                purpose=purpose,
                request_id=request_id(request),
            )
        except Refused as refused:
            raise problem(refused) from None


@dataclass(frozen=True)
class NewRecordAccess:
    principal: Principal
    new: NewNominal
    request_id: str | None


class CreateGuard(Authorize):
    """For creating a record: the policy sees the area the new record would belong to."""

    def __call__(  # type: ignore[override]  # creation takes the new record's body
        self,
        request: Request,
        body: Annotated[NewNominal, Body()],  # its example is the create route's (`openapi_extra`)
        principal: Annotated[Principal, Depends(authenticate)],
        uow: UoW,
    ) -> NewRecordAccess:
        try:
            guard.authorize_new(
                uow,
                get_policy(request),
                principal,
                self.action,
                RecordFacts(area=body.area, restricted=body.restricted),
                section=self.section,
                request_id=request_id(request),
            )
        except Refused as refused:
            raise problem(refused) from None
        return NewRecordAccess(principal, body, request_id(request))


# "7" (what a change answers) or "7.<digest>" (what a read answers: api/middleware.py ConditionalReads); the
# version part is compared
_ETAG = re.compile(r'^\s*"(\d{1,9})(?:\.[0-9a-f]{1,64})?"\s*$')
_WEAK = re.compile(r"^\s*W/", re.IGNORECASE)


async def expected_version(
    if_match: Annotated[
        str | None, Header(description='the ETag of the record as you read it, e.g. "7"')
    ] = None,
) -> int:
    """Changes must name the version they were made against: 428 without If-Match, 412 when it is stale."""
    if if_match is None:
        raise ApiProblem(
            428,
            "if_match_required",
            'send If-Match with the ETag you read (e.g. If-Match: "7") so no change is lost',
        )
    if _WEAK.match(if_match):  # If-Match compares strongly (RFC 9110 13.1.1): a weak tag never matches
        raise ApiProblem(
            412, "if_match_weak", 'If-Match must be the strong ETag you read, such as "7", not a weak W/ tag'
        )
    match = _ETAG.match(if_match)
    if not match:
        raise ApiProblem(412, "if_match_malformed", 'If-Match must be a record ETag such as "7"')
    return int(match.group(1))


IfMatch = Annotated[int, Depends(expected_version)]


def etag(version: int) -> str:
    return f'"{version}"'


def changed_response(
    response: Response, version: int, item_id: uuid.UUID | None = None, status_code: int = 200
) -> Response:
    """A change's answer (`Changed`, with the record's new version as its ETag), serialised in the route's
    thread as the reads' are (decision 73). The routes declare `response_model=Changed` for the API
    document, and pass 201 where they create."""
    response.headers["ETag"] = etag(version)
    return json_response(Changed(id=item_id, version=version), response, status_code)


def restricted_stub(uow: UnitOfWork, access: Access) -> RestrictedStub:
    """What a restricted record shows outside its owning area (itself an audited consultation)."""
    out = nominals.restricted_stub(
        uow,
        access.principal,
        access.nominal_id,
        access.facts.area,
        purpose=access.purpose,
        request_id=access.request_id,
    )
    return RestrictedStub.model_validate(out)
