"""An operation's saved searches: kept (sealed) for the area's investigators on that operation, listed under
it, opened to run again, deleted. Each use case asks the policy (`record.search`, with the operation as its
purpose: a saved search is part of an enquiry) and leaves its audit event; running the search itself is
`search.service.search`, audited there with the criteria and the ids returned."""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from ..access.policy import Policy
from ..audit.events import Action, AuditEntry
from ..audit.tags import Tag
from ..domain.actors import Principal
from ..domain.enums import Agency, Area, Role
from ..domain.errors import InvalidValue, NotFound
from ..search import service as search_service
from ..search.backend import SearchBackend
from ..search.query import leaves
from ..store import models as m
from ..store.store import Store
from ..store.uow import UnitOfWork
from ..usecase.core import use_case
from ..usecase.guard import Refused, authorize
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


# ------------------------------------------------------------------ watched searches
#
# A saved search is watched by the investigator who saved it, until a date (the register does not know when an
# operation ends): at most WATCH_DAYS ahead, renewable by watching it again. `run_watches` evaluates every
# active watch against the records changed since the last run, as its watcher, and tells the watcher of each
# record that newly matches (once per watch and record). See docs/investigator-search.md "Watched searches".

WATCH_DAYS = 90


@dataclass(frozen=True)
class Watch:
    saved_search_id: uuid.UUID
    name: str
    operation: str
    until: dt.date
    started_at: dt.datetime
    ended: bool  # ended by its watcher, or past its date
    expired: bool  # past its date (not ended by its watcher)
    new: int  # new matches not yet seen (what the watcher may see now)


def _roles(principal: Principal) -> str:
    return ",".join(sorted(r.value for r in principal.roles))


def _may_search(uow: UnitOfWork, policy: Policy, principal: Principal, request_id: str | None) -> None:
    """`record.search` for a use case not tied to one operation (the watcher's own list): a purpose is
    asked for when a search runs, not to see one's watches. Refused, the watcher's principal is still
    refreshed (in its own transaction, as the refusal's audit is), so their watches stop being evaluated."""
    decision = policy.decide(principal, ACTION)
    if not decision.allowed and decision.rule != "purpose_required":
        with uow.store.unit_of_work() as apart:
            refresh_watcher(apart, principal)
        authorize(uow, policy, principal, ACTION, request_id=request_id)  # audits the refusal and raises


def refresh_watcher(uow: UnitOfWork, principal: Principal) -> None:
    """The watcher's agency, area and roles as their token now says: what their watches are evaluated as. The
    register has no user directory: called on every sign-in to the pages, on the home page and by every watch
    use case. Not a use case: it changes no personal data and commits with its caller."""
    repository.refresh_watcher(
        uow.session,
        user=principal.user_id,
        agency=principal.agency.value,
        area=str(principal.area),
        roles=_roles(principal),
    )


def _owned(uow: UnitOfWork, principal: Principal, search_id: uuid.UUID, operation: str | None) -> SavedSearch:
    """A saved search the principal saved, in their area (and of this operation, when one is given)."""
    row = repository.saved_row(uow.session, search_id)
    if (
        row is None
        or row.area != str(principal.area)
        or row.created_by != principal.user_id
        or (
            operation is not None
            and row.operation_token != repository.operation_token(uow.store.blind, operation)
        )
    ):  # another's, another area's or operation's, or deleted: the same answer
        raise NotFound("saved_search_not_found", "no such saved search of yours for this operation")
    return repository.opened(uow.cipher, row)


def _view(uow: UnitOfWork, principal: Principal, policy: Policy, found: SavedSearch, today: dt.date) -> Watch:
    row = repository.watch(uow.session, found.id)
    if row is None:
        raise NotFound("watch_not_found", "this saved search is not watched")
    counts = repository.new_counts(
        uow.session, [found.id], area=str(principal.area), restricted_stub=policy.restricted_stub
    )
    return _watch(row, found, today, counts.get(found.id, 0))


def _watch(row: m.SearchWatch, found: SavedSearch, today: dt.date, new: int) -> Watch:
    expired = row.ended_at is None and row.until < today
    return Watch(
        saved_search_id=found.id,
        name=found.name,
        operation=found.operation,
        until=row.until,
        started_at=row.started_at,
        ended=row.ended_at is not None or expired,
        expired=expired,
        new=new,
    )


@use_case(Tag.SEARCH_WATCH_START, Action.COLLECTION)
def start_watch(
    uow: UnitOfWork,
    principal: Principal,
    policy: Policy,
    backend: SearchBackend,
    backend_name: str,
    search_id: uuid.UUID,
    *,
    operation: str,
    until: dt.date,
    request_id: str | None = None,
    today: dt.date | None = None,
) -> Watch:
    """Watch a saved search (or renew its watch) until `until`, at most WATCH_DAYS ahead. The records it
    already finds are its baseline (a search audited with the purpose): only records that match later are
    new."""
    authorize(uow, policy, principal, ACTION, purpose=operation, request_id=request_id)
    operation = _operation(operation)
    today = today or dt.date.today()
    if not today < until <= today + dt.timedelta(days=WATCH_DAYS):
        raise InvalidValue(
            "watch_until", f"watch until a date after today and at most {WATCH_DAYS} days ahead", "until"
        )
    found = _owned(uow, principal, search_id, operation)
    now = dt.datetime.now(dt.UTC)
    repository.start_watch(
        uow.session,
        search_id,
        user=principal.user_id,
        agency=principal.agency.value,
        area=str(principal.area),
        roles=_roles(principal),
        until=until,
        now=now,
    )
    baseline = search_service.evaluate_watch(
        uow, principal, policy, backend, backend_name, found.request, None, purpose=operation, watch=search_id
    )
    repository.add_matches(uow.session, search_id, baseline, baseline=True, now=now)
    uow.audit.record(
        AuditEntry(
            Action.COLLECTION,
            Tag.SEARCH_WATCH_START,
            principal,
            purpose=operation,
            request_id=request_id,
            details={
                "saved_search_id": str(search_id),
                "until": until.isoformat(),
                "baseline": len(baseline),
            },
        )
    )
    return _view(uow, principal, policy, found, today)


@use_case(Tag.SEARCH_WATCH_END, Action.ALTERATION)
def end_watch(
    uow: UnitOfWork,
    principal: Principal,
    policy: Policy,
    search_id: uuid.UUID,
    *,
    operation: str | None = None,
    request_id: str | None = None,
) -> Watch:
    """End the watch of one's saved search (of this operation, when one is given)."""
    _may_search(uow, policy, principal, request_id)
    found = _owned(uow, principal, search_id, None if operation is None else _operation(operation))
    if repository.watch(uow.session, search_id) is None:
        raise NotFound("watch_not_found", "this saved search is not watched")
    authorize(uow, policy, principal, ACTION, purpose=found.operation, request_id=request_id)
    repository.end_watch(uow.session, search_id, dt.datetime.now(dt.UTC))
    uow.audit.record(
        AuditEntry(
            Action.ALTERATION,
            Tag.SEARCH_WATCH_END,
            principal,
            purpose=found.operation,
            request_id=request_id,
            details={"saved_search_id": str(search_id)},
        )
    )
    return _view(uow, principal, policy, found, dt.date.today())


@use_case(Tag.SEARCH_WATCH_LIST, Action.CONSULTATION)
def my_watches(
    uow: UnitOfWork,
    principal: Principal,
    policy: Policy,
    *,
    operation: str | None = None,
    request_id: str | None = None,
    today: dt.date | None = None,
) -> list[Watch]:
    """The watcher's watches (of this operation, when one is given; newest first; ended and expired ones too)
    and how many new matches each has that they may see now: names of searches and counts, never a matched
    person."""
    if operation is None:
        _may_search(uow, policy, principal, request_id)
    else:
        authorize(uow, policy, principal, ACTION, purpose=operation, request_id=request_id)
        operation = repository.fold_operation(_operation(operation))
    refresh_watcher(uow, principal)
    today = today or dt.date.today()
    pairs = [
        (w, s)
        for w, s in repository.watches_of(uow.session, uow.cipher, principal.user_id)
        if s.created_by == principal.user_id
        and (operation is None or repository.fold_operation(s.operation) == operation)
    ]
    counts = repository.new_counts(
        uow.session,
        [s.id for _, s in pairs],
        area=str(principal.area),
        restricted_stub=policy.restricted_stub,
    )
    found = [_watch(w, s, today, counts.get(s.id, 0)) for w, s in pairs]
    if found:  # (no watches: nothing consulted)
        uow.audit.record(
            AuditEntry(
                Action.CONSULTATION,
                Tag.SEARCH_WATCH_LIST,
                principal,
                request_id=request_id,
                details={"watches": {str(w.saved_search_id): w.new for w in found}},
            )
        )
    return found


@use_case(Tag.SEARCH_WATCH_MATCHES, Action.CONSULTATION)
def new_matches(
    uow: UnitOfWork,
    principal: Principal,
    policy: Policy,
    search_id: uuid.UUID,
    *,
    operation: str | None = None,
    request_id: str | None = None,
) -> tuple[Watch, SavedSearch, list[uuid.UUID]]:
    """One watch's new matches not yet seen (the ids of the records the watcher may see now), under the
    operation's purpose."""
    _may_search(uow, policy, principal, request_id)
    refresh_watcher(uow, principal)
    found = _owned(uow, principal, search_id, None if operation is None else _operation(operation))
    authorize(uow, policy, principal, ACTION, purpose=found.operation, request_id=request_id)
    watch = _view(uow, principal, policy, found, dt.date.today())
    ids = repository.new_ids(
        uow.session, search_id, area=str(principal.area), restricted_stub=policy.restricted_stub
    )
    uow.audit.record(
        AuditEntry(
            Action.CONSULTATION,
            Tag.SEARCH_WATCH_MATCHES,
            principal,
            purpose=found.operation,
            request_id=request_id,
            details={"saved_search_id": str(search_id), "ids": [str(i) for i in ids]},
        )
    )
    return watch, found, ids


@use_case(Tag.SEARCH_WATCH_SEEN, Action.ALTERATION)
def mark_seen(
    uow: UnitOfWork,
    principal: Principal,
    policy: Policy,
    search_id: uuid.UUID,
    *,
    operation: str | None = None,
    request_id: str | None = None,
) -> Watch:
    """The watcher has seen a watch's new matches: they are no longer told."""
    _may_search(uow, policy, principal, request_id)
    found = _owned(uow, principal, search_id, None if operation is None else _operation(operation))
    if repository.watch(uow.session, search_id) is None:
        raise NotFound("watch_not_found", "this saved search is not watched")
    repository.mark_seen(uow.session, search_id, dt.datetime.now(dt.UTC))
    uow.audit.record(
        AuditEntry(
            Action.ALTERATION,
            Tag.SEARCH_WATCH_SEEN,
            principal,
            purpose=found.operation,
            request_id=request_id,
            details={"saved_search_id": str(search_id)},
        )
    )
    return _view(uow, principal, policy, found, dt.date.today())


def _tell(uow: UnitOfWork, watch: m.SearchWatch, nominal_ids: Collection[uuid.UUID]) -> None:
    """Tell the watcher of records that newly match their watch: kept as new matches, shown on their home page
    and by `GET /v1/watches/{id}/matches`. Not (yet) an event of the feed (`GET /v1/events`): a match tells of
    an enquiry's interest in a person, so its event must be visible to the watcher alone (docs/events.md)."""
    repository.add_matches(
        uow.session, watch.saved_search_id, nominal_ids, baseline=False, now=dt.datetime.now(dt.UTC)
    )


@dataclass
class WatchRun:
    changed: int = 0  # records changed since the last run (that could be evaluated)
    evaluated: int = 0  # watches evaluated
    new: int = 0  # (watch, record) pairs newly matching
    refused: int = 0  # watches whose watcher may no longer search (audited refusals)
    mark: int = 0  # the outbox row evaluated through


SETTLE = dt.timedelta(seconds=60)  # a change younger than this is looked at again by the next run
CHANGES_PER_PASS = 1_000


def _principal(row: m.SearchWatch) -> Principal | None:
    try:
        return Principal(
            user_id=row.watcher_user,
            agency=Agency(row.watcher_agency),
            area=Area(row.watcher_area),
            roles=frozenset(Role(r) for r in row.watcher_roles.split(",") if r),
        )
    except ValueError:  # an agency, area or role the register no longer has: it may not search
        return None


def run_watches(
    store: Store,
    policy: Policy,
    backend: SearchBackend,
    backend_name: str,
    *,
    indexed_only: bool,
    today: dt.date | None = None,
) -> WatchRun:
    """Evaluate every active watch against the records changed since the last run (the outbox beyond the
    high-water mark; with Elasticsearch, `indexed_only`: only changes the indexer has written), one search per
    watch per pass of at most CHANGES_PER_PASS changes, each as its watcher's principal, and tell the watchers
    of new matches. Expired and ended watches are not evaluated. Safe to run again: a pair is found once."""
    today = today or dt.date.today()
    run = WatchRun()
    with store.unit_of_work() as uow:
        if not repository.active_watches(uow.session, today):
            # nothing to evaluate: a watch started later takes its baseline from the register as it is then
            run.mark = repository.newest_change(uow.session)
            repository.set_mark(uow.session, run.mark)
            return run
    while True:
        with store.unit_of_work() as uow:
            after = repository.mark(uow.session)
            changed, keep, more = repository.changed_since(
                uow.session,
                after,
                indexed_only=indexed_only,
                settled_before=dt.datetime.now(dt.UTC) - SETTLE,
                limit=CHANGES_PER_PASS,
            )
            watches = repository.active_watches(uow.session, today) if changed else []
        run.changed += len(changed)
        for row in watches:  # one search per watch for the whole pass
            run.evaluated += 1
            try:
                run.new += _evaluate(store, policy, backend, backend_name, row, changed, run)
            except IntegrityError:  # another process (an indexer, a scheduled run) told the same pair first
                continue
        if keep != after:
            # (IntegrityError: another process wrote the first mark at the same moment)
            with contextlib.suppress(IntegrityError), store.unit_of_work() as uow:
                repository.set_mark(uow.session, keep)
        run.mark = keep
        if not more or keep == after:
            return run


def _evaluate(
    store: Store,
    policy: Policy,
    backend: SearchBackend,
    backend_name: str,
    row: m.SearchWatch,
    changed: list[uuid.UUID],
    run: WatchRun,
) -> int:
    """One watch against the changed records, in its own unit of work; the number of new matches told."""
    with store.unit_of_work() as uow:
        saved_row = repository.saved_row(uow.session, row.saved_search_id)
        principal = _principal(row)
        if saved_row is None or principal is None:
            run.refused += principal is None
            return 0
        found = repository.opened(uow.cipher, saved_row)
        try:
            matched = search_service.evaluate_watch(
                uow,
                principal,
                policy,
                backend,
                backend_name,
                found.request,
                changed,
                purpose=found.operation,
                watch=row.saved_search_id,
            )
        except Refused:  # audited as `access:record.search:denied`
            run.refused += 1
            return 0
        new = set(matched) - repository.known(uow.session, row.saved_search_id, matched)
        if new:
            _tell(uow, row, new)
            uow.session.flush()
        return len(new)
