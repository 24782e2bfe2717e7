"""`@use_case`: what every use case does the same way, written once.

    @use_case(Tag.NOMINAL_RECORD_READ, Action.CONSULTATION)
    def read_record(uow: UnitOfWork, principal: Principal, nominal_id: uuid.UUID, ...) -> Record: ...

- In a unit of work opened for a caller (an API request, a CLI command, a page), the outermost use case is
  its boundary: when it returns, the unit commits the change, its audit events and its outbox rows together;
  when it raises, nothing of it commits. (A bare `with store.unit_of_work()` commits when the block ends.)
- In such a unit, a use case refused by the register's rules (NotFound, Gone, ConcurrencyConflict,
  RuleViolation, a bad value) leaves an audit event, in its own short transaction (`UnitOfWork.refused`):
  the tag of the attempted use case, its s.62 category, the actor, the record when known, and the rule in
  the details. Only the outermost use case audits, so a refusal inside a nested one is recorded once, under
  the action the user attempted.

The actor, the record and the request id are read from the arguments named `actor` or `principal`,
`nominal_id` and `request_id`; the unit of work is the first argument.
"""

from __future__ import annotations

import functools
import inspect
import logging
import uuid
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from ..audit.events import Action, AuditEntry, Outcome
from ..audit.tags import Tag
from ..domain.actors import Actor
from ..domain.errors import DomainError, RuleViolation
from ..store.uow import UnitOfWork

log = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")


def refusal_outcome(exc: DomainError) -> Outcome:
    """A rule that forbids the change denies it; a missing or erased record, a stale version or a malformed
    value fails it (NotFound, Gone, ConcurrencyConflict, any other DomainError)."""
    return Outcome.DENIED if isinstance(exc, RuleViolation) else Outcome.FAILED


def _argument(bound: inspect.BoundArguments, *names: str) -> Any:
    for name in names:
        if name in bound.arguments:
            return bound.arguments[name]
    return None


TagOf = Tag | Callable[[dict[str, Any]], Tag]


def use_case(tag: TagOf, action: Action) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Mark a function as a use case: its unit of work commits when it returns, and a refusal by the
    register's rules is audited under `tag` (or the tag it gives for the arguments, for a use case whose tag
    names a section)."""

    def decorate(fn: Callable[P, R]) -> Callable[P, R]:
        signature = inspect.signature(fn)

        @functools.wraps(fn)
        def run(*args: P.args, **kwargs: P.kwargs) -> R:
            bound = signature.bind_partial(*args, **kwargs)
            uow = args[0] if args else kwargs.get("uow")
            if not isinstance(uow, UnitOfWork):
                raise TypeError(f"use case {fn.__qualname__} takes its unit of work first")
            with uow.use_case() as outermost:
                try:
                    return fn(*args, **kwargs)
                except DomainError as exc:
                    if outermost and uow.for_caller:
                        _audit_refusal(uow, tag, action, refusal_outcome(exc), exc, bound)
                    raise

        run.tag = tag  # type: ignore[attr-defined]  # read by the use case audit test
        run.action = action  # type: ignore[attr-defined]
        return run

    return decorate


def _audit_refusal(
    uow: UnitOfWork,
    tag: TagOf,
    action: Action,
    outcome: Outcome,
    exc: DomainError,
    bound: inspect.BoundArguments,
) -> None:
    actor = _argument(bound, "actor", "principal")
    try:
        resolved = tag if isinstance(tag, Tag) else tag(dict(bound.arguments))
    except (KeyError, ValueError, AttributeError):
        resolved = None
    if not isinstance(actor, Actor) or resolved is None:
        log.warning("a refused use case names no actor or no tag: not audited (%s)", exc.rule)
        return
    nominal_id = _argument(bound, "nominal_id")
    request_id = _argument(bound, "request_id")
    uow.refused(
        AuditEntry(
            action,
            resolved,
            actor,
            nominal_id=nominal_id if isinstance(nominal_id, uuid.UUID) else None,
            request_id=request_id if isinstance(request_id, str) else None,
            outcome=outcome,
            details={"rule": exc.rule},
        )
    )
