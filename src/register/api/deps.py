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

from fastapi import Body, Depends, Header, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ..access.policy import Decision, Policy, RecordFacts, Visibility
from ..access.tokens import AuthenticationFailed, TokenVerifier
from ..audit.events import Action, AuditEntry, Outcome
from ..domain.actors import Principal, SystemActor
from ..domain.enums import Agency
from ..domain.record import NewNominal
from ..nominals.examples import NEW_NOMINAL
from ..store.store import Store
from ..store.uow import UnitOfWork
from .problems import ApiProblem

bearer = HTTPBearer(
    auto_error=False,
    description="a JWT from the force's identity provider (development: `register dev-token`)",
)

# The s.62 category a denied or performed action belongs to.
ACTION_CATEGORY = {
    "record.read": Action.CONSULTATION,
    "record.search": Action.CONSULTATION,
    "record.list": Action.CONSULTATION,
    "record.create": Action.COLLECTION,
    "record.write": Action.ALTERATION,
    "audit.read": Action.CONSULTATION,
    "quality.run": Action.CONSULTATION,
    "quality.read": Action.CONSULTATION,
    "statistics.read": Action.CONSULTATION,
    "record.archive": Action.ALTERATION,
    "record.merge": Action.COMBINATION,
    "record.retention": Action.ALTERATION,
    "record.erase": Action.ERASURE,
    "transfer.start": Action.COLLECTION,
    "transfer.decide": Action.ALTERATION,
    "transfer.list": Action.CONSULTATION,
    "admin.keys": Action.ADMINISTRATION,
    "self.read": Action.CONSULTATION,
}


def get_store(request: Request) -> Store:
    return request.app.state.store


def get_policy(request: Request) -> Policy:
    return request.app.state.policy


def request_id(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


def _audit_alone(store: Store, entry: AuditEntry) -> None:
    """Audit an event that has no change to ride with (a refusal): its own small transaction."""
    with store.unit_of_work() as uow:
        uow.audit.record(entry)
        uow.commit()


def authenticate(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Principal:
    verifier: TokenVerifier = request.app.state.verifier
    try:
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise AuthenticationFailed("missing", "a bearer token is required")
        principal = verifier.verify(credentials.credentials)
    except AuthenticationFailed as exc:
        _audit_alone(
            get_store(request),
            AuditEntry(
                Action.AUTHENTICATION,
                "auth:token:refused",
                SystemActor("unauthenticated"),
                outcome=Outcome.FAILED,
                request_id=request_id(request),
                details={
                    "reason": exc.reason,
                    "path": request.url.path,
                    "method": request.method,
                    **({"claim": exc.claim} if exc.claim else {}),
                },
            ),
        )
        raise
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


def unit_of_work(request: Request) -> Iterator[UnitOfWork]:
    """One transaction per request. The handler commits; anything it did not commit is rolled back."""
    with get_store(request).unit_of_work() as uow:
        yield uow


def refuse(
    request: Request,
    principal: Principal,
    action: str,
    decision: Decision,
    *,
    section: str | None = None,
    nominal_id: uuid.UUID | None = None,
) -> ApiProblem:
    """Audit a refusal and build the 403 (or 400 for a missing purpose) to raise."""
    _audit_alone(
        get_store(request),
        AuditEntry(
            ACTION_CATEGORY[action],
            f"access:{action}:denied",
            principal,
            nominal_id=nominal_id,
            section=section,
            outcome=Outcome.DENIED,
            request_id=request_id(request),
            details={"rule": decision.rule},
        ),
    )
    if decision.rule == "purpose_required":
        return ApiProblem(
            400,
            decision.rule,
            decision.reason,
            errors=[{"field": "query.purpose", "rule": decision.rule, "message": decision.reason}],
        )
    return ApiProblem(403, decision.rule, decision.reason)


class Authorize:
    """Declares the action a route performs (and the section), and asks the policy. For routes not about one record."""

    def __init__(self, action: str, section: str | None = None) -> None:
        self.action = action
        self.section = section

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.action!r}, {self.section!r})"

    def __call__(self, request: Request, principal: Annotated[Principal, Depends(authenticate)]) -> Principal:
        decision = get_policy(request).decide(principal, self.action, section=self.section)
        if not decision.allowed:
            raise refuse(request, principal, self.action, decision, section=self.section)
        return principal


@dataclass(frozen=True)
class Access:
    """What the policy allowed on one record, handed to the use case."""

    principal: Principal
    nominal_id: uuid.UUID
    facts: RecordFacts
    purpose: str | None
    stub: bool
    audience: Agency | None
    request_id: str | None
    visibility: Visibility


Purpose = Annotated[
    str | None,
    Query(
        max_length=500,
        description="why you are reading (e.g. an enquiry reference); required outside your area",
    ),
]


class RecordGuard(Authorize):
    """For routes on one record: the policy also sees who owns it, whether it is restricted, and the purpose."""

    def __call__(  # type: ignore[override]
        self,
        request: Request,
        nominal_id: uuid.UUID,
        principal: Annotated[Principal, Depends(authenticate)],
        uow: Annotated[UnitOfWork, Depends(unit_of_work)],
        purpose: Purpose = None,
    ) -> Access:
        policy = get_policy(request)
        row = uow.nominals.header_row(nominal_id)  # 404 if there is no such record
        facts = RecordFacts(area=row.area, restricted=row.restricted)  # type: ignore[arg-type]
        decision = policy.decide(principal, self.action, section=self.section, record=facts, purpose=purpose)
        if not decision.allowed:
            raise refuse(
                request, principal, self.action, decision, section=self.section, nominal_id=nominal_id
            )
        visibility = policy.visibility(principal)
        return Access(
            principal,
            nominal_id,
            facts,
            purpose,
            decision.stub,
            visibility.audience,
            request_id(request),
            visibility,
        )


@dataclass(frozen=True)
class NewRecordAccess:
    principal: Principal
    new: NewNominal
    request_id: str | None


class CreateGuard(Authorize):
    """For creating a record: the policy sees the area the new record would belong to."""

    def __call__(  # type: ignore[override]
        self,
        request: Request,
        body: Annotated[
            NewNominal, Body(openapi_examples={"registered sex offender": {"value": NEW_NOMINAL}})
        ],
        principal: Annotated[Principal, Depends(authenticate)],
    ) -> NewRecordAccess:
        facts = RecordFacts(area=body.area, restricted=body.restricted)
        decision = get_policy(request).decide(principal, self.action, section=self.section, record=facts)
        if not decision.allowed:
            raise refuse(request, principal, self.action, decision, section=self.section)
        return NewRecordAccess(principal, body, request_id(request))


_ETAG = re.compile(r'^\s*(?:W/)?"(\d{1,9})"\s*$')


def expected_version(
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
    match = _ETAG.match(if_match)
    if not match:
        raise ApiProblem(412, "if_match_malformed", 'If-Match must be a record ETag such as "7"')
    return int(match.group(1))


def etag(version: int) -> str:
    return f'"{version}"'
