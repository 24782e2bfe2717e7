"""Use cases of a web session's life, each audited (Data Protection Act 2018 s.62 asks who consulted what;
knowing who was signed in, how, and when a session ended is part of answering it). Each runs inside the
caller's unit of work and flushes; the caller commits.

Details name the method, the issuer and the reason; never a password, a token or a cookie.
"""

from __future__ import annotations

from ..audit.events import Action, AuditEntry, Outcome
from ..audit.tags import Tag
from ..domain.actors import Actor, Principal, SystemActor
from ..saved_searches import service as watches
from ..store.uow import UnitOfWork
from ..usecase.core import use_case

UNAUTHENTICATED = SystemActor("unauthenticated")


@use_case(Tag.AUTH_WEB_SIGN_IN, Action.AUTHENTICATION)
def signed_in(
    uow: UnitOfWork, principal: Principal, *, method: str, issuer: str, request_id: str | None = None
) -> None:
    """A sign-in to the web pages: `method` is `development` (the demo's sign-in page) or `oidc`. The
    principal the register now knows for the user is what their watched searches are evaluated as."""
    watches.refresh_watcher(uow, principal)
    uow.audit.record(
        AuditEntry(
            Action.AUTHENTICATION,
            Tag.AUTH_WEB_SIGN_IN,
            principal,
            request_id=request_id,
            details={"method": method, "issuer": issuer},
        )
    )


@use_case(Tag.AUTH_WEB_SIGN_IN, Action.AUTHENTICATION)
def sign_in_refused(
    uow: UnitOfWork,
    *,
    reason: str,
    issuer: str,
    claim: str | None = None,
    request_id: str | None = None,
) -> None:
    """The identity provider's answer did not make a principal (refused token, missing claim, failed
    exchange)."""
    uow.audit.record(
        AuditEntry(
            Action.AUTHENTICATION,
            Tag.AUTH_WEB_SIGN_IN,
            UNAUTHENTICATED,
            outcome=Outcome.FAILED,
            request_id=request_id,
            details={"reason": reason, "issuer": issuer, **({"claim": claim} if claim else {})},
        )
    )


@use_case(Tag.AUTH_WEB_SIGN_OUT, Action.AUTHENTICATION)
def signed_out(uow: UnitOfWork, principal: Principal, *, request_id: str | None = None) -> None:
    uow.audit.record(
        AuditEntry(Action.AUTHENTICATION, Tag.AUTH_WEB_SIGN_OUT, principal, request_id=request_id)
    )


@use_case(Tag.AUTH_WEB_SESSION_EXPIRED, Action.AUTHENTICATION)
def session_expired(
    uow: UnitOfWork, principal: Principal, *, reason: str, request_id: str | None = None
) -> None:
    """A session found past its idle or absolute timeout when its user came back."""
    uow.audit.record(
        AuditEntry(
            Action.AUTHENTICATION,
            Tag.AUTH_WEB_SESSION_EXPIRED,
            principal,
            request_id=request_id,
            details={"reason": reason},
        )
    )


@use_case(Tag.AUTH_WEB_CSRF_REFUSED, Action.AUTHENTICATION)
def forged_request_refused(
    uow: UnitOfWork, actor: Actor | None, *, path: str, method: str, request_id: str | None = None
) -> None:
    """A form posted without this session's CSRF token: refused before anything it asked for was done."""
    uow.audit.record(
        AuditEntry(
            Action.AUTHENTICATION,
            Tag.AUTH_WEB_CSRF_REFUSED,
            actor or UNAUTHENTICATED,
            outcome=Outcome.DENIED,
            request_id=request_id,
            details={"path": path, "method": method},
        )
    )
