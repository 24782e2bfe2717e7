"""Reading the audit log: itself audited, as a consultation (an export is read the same way and tagged so)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from ..domain.actors import Principal
from ..store.uow import UnitOfWork
from ..usecase.core import use_case
from .events import Action, AuditEntry
from .tags import Tag


@dataclass(frozen=True)
class LogQuery:
    """Which events: about a record, by a user, in a period, after a sequence number."""

    nominal_id: uuid.UUID | None = None
    user: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    after_seq: int = 0
    limit: int = 100

    def as_details(self) -> dict[str, object]:
        return {k: str(v) for k, v in vars(self).items() if v not in (None, 0)}


@use_case(lambda a: Tag.AUDIT_LOG_EXPORT if a.get("export") else Tag.AUDIT_LOG_READ, Action.CONSULTATION)
def read_log(
    uow: UnitOfWork,
    auditor: Principal,
    query: LogQuery,
    *,
    export: bool = False,
    request_id: str | None = None,
) -> list[Any]:
    """The events the query names, oldest first, their sealed details opened; the reading is audited with the
    query and how many it got."""
    rows = uow.audit.query(
        nominal_id=query.nominal_id,
        user=query.user,
        since=query.since,
        until=query.until,
        after_seq=query.after_seq,
        limit=query.limit,
    )
    uow.audit.record(
        AuditEntry(
            Action.CONSULTATION,
            Tag.AUDIT_LOG_EXPORT if export else Tag.AUDIT_LOG_READ,
            auditor,
            nominal_id=query.nominal_id,
            request_id=request_id,
            details={**query.as_details(), "returned": len(rows)},
        )
    )
    return [uow.audit.opened(row) for row in rows]
