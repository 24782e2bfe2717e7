"""Searching on behalf of a user: the backend finds, the policy shapes what is shown, the audit log
remembers."""

from __future__ import annotations

import datetime as dt

from ..access.policy import Policy, RecordFacts
from ..audit.events import Action, AuditEntry
from ..audit.tags import Tag
from ..domain.actors import Principal
from ..store.uow import UnitOfWork
from ..usecase.core import use_case
from .backend import SearchBackend, Viewer
from .query import SearchRequest
from .schemas import SearchHit, SearchResults

STUB = "restricted record: contact the owning area"


def viewer(principal: Principal, policy: Policy) -> Viewer:
    """What the backends must leave out for this searcher: restricted records of other areas (their stubs)."""
    return Viewer(area=str(principal.area), restricted_stub=policy.restricted_stub)


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
    next_cursor = request.cursor_after(last_shown.sort) if results.more and last_shown is not None else None
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
            },
        )
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
