"""Searching on behalf of a user: the backend finds, the policy shapes what is shown, the audit log
remembers."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection

from ..access.policy import Policy, RecordFacts
from ..audit.events import Action, AuditEntry
from ..audit.tags import Tag
from ..domain import clock
from ..domain.actors import Actor, Principal
from ..domain.errors import InvalidValue
from ..store import outbox
from ..store.store import Store
from ..store.sweep import Progress, no_progress, sweep
from ..store.uow import UnitOfWork
from ..usecase.core import use_case
from ..usecase.guard import authorize
from .backend import Results, SearchBackend, Viewer
from .cursor import Cursors
from .query import SearchRequest
from .schemas import OutboxPruned, SearchHit, SearchResults

STUB = "restricted record: contact the owning area"


def viewer(principal: Principal, policy: Policy) -> Viewer:
    """What the backends must leave out for this searcher: restricted records of other areas (their stubs),
    and the narrative free text may not read (items whose audience leaves the searcher's agency out, sections
    the agency may not read): the same `Visibility` a read of the record applies."""
    seen = policy.visibility(principal)
    return Viewer(
        area=str(principal.area),
        restricted_stub=policy.restricted_stub,
        agency=seen.audience.value if seen.audience is not None else None,
        sections=seen.sections,
    )


EXPORT_LIMIT = 5_000  # the most rows one export of a whole result list holds


def _shaped(
    uow: UnitOfWork,
    principal: Principal,
    policy: Policy,
    backend: SearchBackend,
    request: SearchRequest,
    purpose: str,
) -> tuple[Results, list[SearchHit], str | None]:
    """The backend's page of hits as the searcher may see them, and the cursor for the page after."""
    cursors = Cursors(uow.store.keys.blind_root.material)
    request = cursors.open(request)
    results = backend.search(request, dt.date.today(), viewer(principal, policy))
    summaries = uow.nominals.summaries([h.nominal_id for h in results.hits])
    hits = []
    last_shown = None
    for h in results.hits:
        s = summaries.get(h.nominal_id)
        if s is None:  # in the index but no longer in the database: the indexer will remove it
            continue
        decision = policy.decide(
            principal,
            "record.read",
            record=RecordFacts(area=s.area, restricted=s.restricted),  # type: ignore[arg-type]  # the area as stored: Area's value, and Area is a StrEnum
            purpose=purpose,
        )
        if decision.stub:
            # The backends leave these out; one can only come from an index that has not yet caught up with
            # the record becoming restricted (or moving area). Showing even a stub would say that it matched.
            continue
        hits.append(
            SearchHit(
                id=s.id,
                score=h.score,
                owning_area=s.area,
                matched=h.matched,
                how=h.how,
                highlight=h.highlight,
                forenames=s.forenames,
                surname=s.surname,
                date_of_birth=s.date_of_birth,
                status=s.status.value,
                nominal_type=s.nominal_type,
                mappa_category=s.mappa_category,
                mappa_level=s.mappa_level,
            )
        )
        last_shown = h
    # The cursor resumes after the last hit shown, never after one left out (its sort key, a surname or a
    # score, is not the searcher's to see); left-out hits are looked up, and left out, again on the next page.
    next_cursor = (
        cursors.seal(request, last_shown.sort, results.snapshot)
        if results.more and last_shown is not None
        else None
    )
    return results, hits, next_cursor


def _audit(
    uow: UnitOfWork,
    principal: Principal,
    request: SearchRequest,
    results: Results,
    hits: list[SearchHit],
    *,
    backend_name: str,
    purpose: str,
    request_id: str | None,
    export: bool,
    watch: uuid.UUID | None = None,
    baseline: bool = False,
) -> None:
    uow.audit.record(
        AuditEntry(
            Action.DISCLOSURE if export else Action.CONSULTATION,
            Tag.SEARCH_RESULTS_EXPORT if export else Tag.SEARCH_QUERY_RUN,
            principal,
            purpose=purpose,
            request_id=request_id,
            # the criteria are what the searcher knows of someone: sealed, opened for auditors
            sensitive={"criteria": request.model_dump(mode="json")},
            details={
                "total": results.total,
                "backend": backend_name,
                "ids": [str(h.id) for h in hits],
                "stubs": [str(h.id) for h in hits if h.restricted],
                # a watched search evaluated against the records just changed, not a search someone ran
                **({"watch_baseline" if baseline else "watch_evaluation": str(watch)} if watch else {}),
            },
        )
    )


@use_case(
    lambda a: Tag.SEARCH_RESULTS_EXPORT if a.get("export") else Tag.SEARCH_QUERY_RUN, Action.CONSULTATION
)
def search(
    uow: UnitOfWork,
    principal: Principal,
    policy: Policy,
    backend: SearchBackend,
    backend_name: str,
    request: SearchRequest,
    *,
    purpose: str,
    request_id: str | None,
    export: bool = False,
) -> SearchResults:
    """Run a search and audit it with its criteria and the ids returned (an export is audited as a
    disclosure)."""
    results, hits, next_cursor = _shaped(uow, principal, policy, backend, request, purpose)
    _audit(
        uow,
        principal,
        request,
        results,
        hits,
        backend_name=backend_name,
        purpose=purpose,
        request_id=request_id,
        export=export,
    )
    return SearchResults(
        total=results.total,
        page=request.page,
        page_size=request.page_size,
        backend=backend_name,
        hits=hits,
        facets=results.facets,
        next_cursor=next_cursor,
    )


@use_case(Tag.SEARCH_RESULTS_EXPORT, Action.DISCLOSURE)
def export_results(
    uow: UnitOfWork,
    principal: Principal,
    policy: Policy,
    backend: SearchBackend,
    backend_name: str,
    request: SearchRequest,
    *,
    purpose: str,
    request_id: str | None,
    limit: int = EXPORT_LIMIT,
) -> SearchResults:
    """The whole result list (its first `limit` hits, in the search's order) for an export: one search, one
    disclosure audited with the criteria and every id exported."""
    whole = request.model_copy(update={"page": 1, "page_size": limit, "cursor": None})
    results, hits, _ = _shaped(uow, principal, policy, backend, whole, purpose)
    _audit(
        uow,
        principal,
        request,
        results,
        hits,
        backend_name=backend_name,
        purpose=purpose,
        request_id=request_id,
        export=True,
    )
    return SearchResults(
        total=results.total,
        page=1,
        page_size=limit,
        backend=backend_name,
        hits=hits,
        facets=results.facets,
        next_cursor=None,
    )


WATCH_LIMIT = 5_000  # the most records a watched search may already match when its watch starts


@use_case(Tag.SEARCH_QUERY_RUN, Action.CONSULTATION)
def evaluate_watch(
    uow: UnitOfWork,
    principal: Principal,
    policy: Policy,
    backend: SearchBackend,
    backend_name: str,
    request: SearchRequest,
    ids: Collection[uuid.UUID] | None,
    *,
    purpose: str,
    watch: uuid.UUID,
) -> list[uuid.UUID]:
    """A watched search run as its watcher: among the records `ids` only (the records just changed: one
    search for the whole batch), or, with `ids` None, over the whole register (what already matches as the
    watch starts: at most WATCH_LIMIT records, or `watch_too_broad`). Returns the ids that match as the
    watcher may see them now. Asks the policy first (a refusal is audited and raised); audited as a search
    with the operation's purpose, marked as a watch's evaluation (or its baseline), when it finds any."""
    authorize(uow, policy, principal, "record.search", purpose=purpose)
    if ids is not None and not ids:
        return []
    size = WATCH_LIMIT if ids is None else len(set(ids))
    scoped = request if ids is None else request.restricted_to(ids)
    scoped = scoped.model_copy(update={"page": 1, "page_size": size, "cursor": None})
    results, hits, _ = _shaped(uow, principal, policy, backend, scoped, purpose)
    if ids is None and results.total > WATCH_LIMIT:
        raise InvalidValue(
            "watch_too_broad",
            f"this search already finds more than {WATCH_LIMIT:,} records: narrow it to watch it",
            "saved_search",
        )
    if hits:
        _audit(
            uow,
            principal,
            request,
            results,
            hits,
            backend_name=backend_name,
            purpose=purpose,
            request_id=None,
            export=False,
            watch=watch,
            baseline=ids is None,
        )
    return [h.id for h in hits]


DEFAULT_OUTBOX_KEEP_DAYS = 7
PRUNE_WINDOW = 50_000  # outbox row numbers a transaction of the prune looks at


def prune_outbox(
    store: Store,
    actor: Actor,
    *,
    keep_days: int = DEFAULT_OUTBOX_KEEP_DAYS,
    window: int = PRUNE_WINDOW,
    progress: Progress = no_progress,
) -> OutboxPruned:
    """Remove the outbox rows nothing needs any more (decision 87): those indexed more than `keep_days` ago,
    and waiting rows that old whose record has a newer waiting row, leaving every row the indexer, a
    rebuild's catch-up or the watched searches may still read. Set-based, a window of row numbers a
    transaction (a writer waits for one window at most, and an interrupted prune keeps what it finished), each
    window audited as administration with its counts."""
    if not 1 <= keep_days <= 36_500:
        raise InvalidValue("keep_days_range", "keep_days must be between 1 and 36,500", "keep_days")
    if window < 1:
        raise InvalidValue("window_range", "window must be at least 1", "window")
    before = clock.now() - dt.timedelta(days=keep_days)
    with store.session_factory() as session:
        low, high = outbox.prune_span(session)
        floor = outbox.prune_floor(session)
    upto = high if floor is None else min(high, floor)
    start = max(low - 1, 0)
    windows = [(after, min(after + window, upto)) for after in range(start, upto, window)]
    report = OutboxPruned(
        keep_days=keep_days, before=before, removed=0, superseded=0, kept_after=upto if upto < high else None
    )

    def step(uow: UnitOfWork, span: tuple[int, int]) -> int:
        removed, superseded = outbox.prune_window(uow.session, span[0], span[1], before)
        report.removed += removed
        report.superseded += superseded
        uow.audit.record(
            AuditEntry(
                Action.ADMINISTRATION,
                Tag.SEARCH_OUTBOX_PRUNE,
                actor,
                details={
                    "keep_days": keep_days,
                    "before": before.isoformat(),
                    "rows_after": span[0],
                    "rows_upto": span[1],
                    "removed": removed,
                    "superseded": superseded,
                },
            )
        )
        return span[1] - span[0]

    sweep(store, windows, step, total=max(upto - start, 0), progress=progress)
    return report
