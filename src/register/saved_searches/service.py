"""An operation's saved searches: kept (sealed) for the area's investigators on that operation, listed under
it, opened to run again, deleted. Each use case asks the policy (`record.search`, with the operation as its
purpose: a saved search is part of an enquiry) and leaves its audit event; running the search itself is
`search.service.search`, audited there with the criteria and the ids returned."""

from __future__ import annotations

import datetime as dt
import uuid

from ..access.policy import Policy
from ..audit.events import Action, AuditEntry
from ..audit.tags import Tag
from ..domain.actors import Principal
from ..domain.errors import InvalidValue, NotFound
from ..search.query import leaves
from ..store.uow import UnitOfWork
from ..usecase.core import use_case
from ..usecase.guard import authorize
from . import repository
from .schemas import OPERATION_MAX, NewSavedSearch, SavedSearch

ACTION = "record.search"


def _operation(operation: str) -> str:
    value = operation.strip()
    if not value or len(value) > OPERATION_MAX:
        raise InvalidValue("purpose_required", "state the operation's reference", "operation")
    return value


@use_case(Tag.SEARCH_SAVED_CREATE, Action.COLLECTION)
def save(
    uow: UnitOfWork,
    principal: Principal,
    policy: Policy,
    new: NewSavedSearch,
    *,
    operation: str,
    request_id: str | None = None,
) -> uuid.UUID:
    """Keep a search for the operation (its name, criteria and form answers sealed)."""
    authorize(uow, policy, principal, ACTION, purpose=operation, request_id=request_id)
    operation = _operation(operation)
    search_id = repository.add(
        uow.session,
        uow.cipher,
        uow.store.blind,
        area=str(principal.area),
        operation=operation,
        new=new,
        user=principal.user_id,
        now=dt.datetime.now(dt.UTC),
    )
    uow.audit.record(
        AuditEntry(
            Action.COLLECTION,
            Tag.SEARCH_SAVED_CREATE,
            principal,
            purpose=operation,
            request_id=request_id,
            details={"saved_search_id": str(search_id), "criteria": len(leaves(new.request.query))},
        )
    )
    return search_id


@use_case(Tag.SEARCH_SAVED_LIST, Action.CONSULTATION)
def for_operation(
    uow: UnitOfWork,
    principal: Principal,
    policy: Policy,
    *,
    operation: str,
    request_id: str | None = None,
) -> list[SavedSearch]:
    """The searches the user's area saved for this operation, newest first."""
    authorize(uow, policy, principal, ACTION, purpose=operation, request_id=request_id)
    operation = _operation(operation)
    found = repository.for_operation(
        uow.session, uow.cipher, uow.store.blind, area=str(principal.area), operation=operation
    )
    uow.audit.record(
        AuditEntry(
            Action.CONSULTATION,
            Tag.SEARCH_SAVED_LIST,
            principal,
            purpose=operation,
            request_id=request_id,
            details={"saved_search_ids": [str(s.id) for s in found]},
        )
    )
    return found


def _one(uow: UnitOfWork, principal: Principal, search_id: uuid.UUID, operation: str) -> SavedSearch:
    found = repository.one(
        uow.session, uow.cipher, uow.store.blind, search_id, area=str(principal.area), operation=operation
    )
    if found is None:  # another area's, another operation's, or deleted: the same answer
        raise NotFound("saved_search_not_found", "no such saved search for this operation")
    return found


@use_case(Tag.SEARCH_SAVED_RUN, Action.CONSULTATION)
def open_for_run(
    uow: UnitOfWork,
    principal: Principal,
    policy: Policy,
    search_id: uuid.UUID,
    *,
    operation: str,
    request_id: str | None = None,
) -> SavedSearch:
    """A saved search of this operation, to run again (the run is audited by the search itself)."""
    authorize(uow, policy, principal, ACTION, purpose=operation, request_id=request_id)
    operation = _operation(operation)
    found = _one(uow, principal, search_id, operation)
    uow.audit.record(
        AuditEntry(
            Action.CONSULTATION,
            Tag.SEARCH_SAVED_RUN,
            principal,
            purpose=operation,
            request_id=request_id,
            details={"saved_search_id": str(search_id)},
        )
    )
    return found


@use_case(Tag.SEARCH_SAVED_DELETE, Action.ERASURE)
def delete(
    uow: UnitOfWork,
    principal: Principal,
    policy: Policy,
    search_id: uuid.UUID,
    *,
    operation: str,
    request_id: str | None = None,
) -> str:
    """Delete a saved search of this operation, and its data key. Returns its name (for the confirmation)."""
    authorize(uow, policy, principal, ACTION, purpose=operation, request_id=request_id)
    operation = _operation(operation)
    found = _one(uow, principal, search_id, operation)
    repository.remove(uow.session, search_id)
    uow.audit.record(
        AuditEntry(
            Action.ERASURE,
            Tag.SEARCH_SAVED_DELETE,
            principal,
            purpose=operation,
            request_id=request_id,
            details={"saved_search_id": str(search_id)},
        )
    )
    return found.name
