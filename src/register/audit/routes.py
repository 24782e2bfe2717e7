"""The audit log for auditors: by record, by user, by period, and as a CSV export. Reading it is itself
audited."""

import datetime as dt
import uuid
from typing import Annotated, Any

from fastapi import Depends, Path, Query, Request
from fastapi.responses import Response

from ..api.deps import Authorize, Cursor, RequestId, UoW
from ..api.problems import ERROR_RESPONSES, ok
from ..api.routing import APIRouter
from ..domain.actors import Principal
from ..exports import to_csv
from ..store.uow import UnitOfWork
from . import service
from .events import Action
from .schemas import EXPORT_COLUMNS, AuditEventOut, AuditPage
from .service import LogQuery

router = APIRouter(prefix="/v1/audit", tags=["audit"], responses=ERROR_RESPONSES)
Auditor = Annotated[Principal, Depends(Authorize("audit.read"))]


class Filters:
    def __init__(
        self,
        nominal_id: Annotated[
            uuid.UUID | None, Query(description="who looked at or changed this record")
        ] = None,
        user: Annotated[str | None, Query(max_length=100, description="what this user did")] = None,
        action: Annotated[Action | None, Query(description="the s.62 category (consultation, ...)")] = None,
        since: Annotated[dt.datetime | None, Query(description="from this time (inclusive)")] = None,
        until: Annotated[dt.datetime | None, Query(description="until this time (exclusive)")] = None,
        cursor: Cursor = None,
        limit: Annotated[int, Query(ge=1, le=1000, description="how many to return (at most 1,000)")] = 100,
    ) -> None:
        self.nominal_id, self.user, self.cursor, self.limit = nominal_id, user, cursor, limit
        self.action = action.value if action is not None else None
        self.since = since if since is None or since.tzinfo else since.replace(tzinfo=dt.UTC)
        self.until = until if until is None or until.tzinfo else until.replace(tzinfo=dt.UTC)

    def query(self, uow: UnitOfWork) -> LogQuery:
        query = LogQuery(
            self.nominal_id, self.user, self.since, self.until, limit=self.limit, action=self.action
        )
        return service.resume(uow, query, self.cursor)


def _query(
    uow: UnitOfWork, auditor: Principal, filters: Filters, export: bool, request: str | None
) -> tuple[list[AuditEventOut], str | None]:
    query = filters.query(uow)
    rows = service.read_log(uow, auditor, query, export=export, request_id=request)
    events = [AuditEventOut.model_validate(dict(r)) for r in rows]
    return events, service.next_cursor(uow, query, [e.seq for e in events])


EVENT_EXAMPLE: dict[str, Any] = {
    "seq": 57,
    "event_id": "0b3c9b8e-4f7a-4b1e-9d8e-3a2f1c6d5e4f",
    "occurred_at": "2026-01-05T10:31:02Z",
    "action": "consultation",
    "tag": "nominal:record:read",
    "outcome": "success",
    "actor_user": "essex.investigator",
    "actor_agency": "police",
    "actor_area": "essex",
    "actor_roles": "investigator",
    "nominal_id": "7d5ced2b-6f3e-4f59-bb20-e015d5cdc869",
    "section": None,
    "item_id": None,
    "purpose": "OP-HERON-23",
    "request_id": "5b0f0d0e-8c1e-4a57-9d8e-2f4e4c1b9a77",
    "details": '{"sections": "all"}',
}


@router.get(
    "/events",
    summary="Search the audit log (by record, by user, by period)",
    responses={
        200: {
            "content": {
                "application/json": {
                    "example": {
                        "events": [
                            EVENT_EXAMPLE,
                        ],
                        "next": None,
                    }
                }
            }
        }
    },
)
def audit_events(
    auditor: Auditor,
    filters: Annotated[Filters, Depends()],
    uow: UoW,
    request: RequestId,
) -> AuditPage:
    events, after = _query(uow, auditor, filters, False, request)
    return AuditPage(events=events, next=after)


@router.get(
    "/events/export",
    summary='Export the audit log as CSV (the next part\'s link in the `Link` header, rel="next")',
    response_class=Response,
    responses={200: {"content": {"text/csv": {"example": ",".join(EXPORT_COLUMNS)}}}},
)
def audit_export(
    auditor: Auditor,
    filters: Annotated[Filters, Depends()],
    uow: UoW,
    http: Request,
    request: RequestId,
) -> Response:
    events, after = _query(uow, auditor, filters, True, request)
    headers = {"Content-Disposition": 'attachment; filename="audit-events.csv"'}
    if after is not None:
        headers["Link"] = f'<{http.url.include_query_params(cursor=after)}>; rel="next"'
    return Response(
        to_csv(EXPORT_COLUMNS, (e.model_dump(mode="json") for e in events)),
        media_type="text/csv",
        headers=headers,
    )


@router.get("/events/{seq}", summary="One audit event (its reading audited)", responses=ok(EVENT_EXAMPLE))
def audit_event(
    auditor: Auditor,
    seq: Annotated[int, Path(ge=1, le=2**62)],
    uow: UoW,
    request: RequestId,
) -> AuditEventOut:
    row = service.read_event(uow, auditor, seq, request_id=request)
    return AuditEventOut.model_validate(dict(row))


@router.post(
    "/verify",
    summary="Verify the audit log's hash chain now (the result is recorded in the log)",
    responses={
        200: {"content": {"application/json": {"example": {"ok": True, "sealed": 5812, "findings": 0}}}}
    },
)
def audit_verify(auditor: Auditor, uow: UoW, request: RequestId) -> dict[str, Any]:
    return service.verify_chain(uow, auditor, request_id=request)
