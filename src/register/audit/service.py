"""Reading the audit log: itself audited, as a consultation (an export is read the same way and tagged so)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import uuid
from dataclasses import dataclass
from typing import Any

from ..domain.actors import Principal
from ..domain.errors import NotFound
from ..store.uow import UnitOfWork
from ..usecase.core import use_case
from ..usecase.cursors import cursors, fingerprint
from . import chain
from .events import Action, AuditEntry
from .tags import Tag


@dataclass(frozen=True)
class LogQuery:
    """Which events: about a record, by a user, of an s.62 action, under a purpose (any containing the text),
    in a period; oldest first after a sequence number, or newest first before one."""

    nominal_id: uuid.UUID | None = None
    user: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    after_seq: int = 0
    limit: int = 100
    action: str | None = None
    purpose: str | None = None
    before_seq: int | None = None
    newest_first: bool = False

    def as_details(self) -> dict[str, object]:
        return {k: str(v) for k, v in vars(self).items() if v not in (None, 0, False)}


def _bound(query: LogQuery) -> str:
    return fingerprint(
        {k: str(v) for k, v in vars(query).items() if k in ("nominal_id", "user", "since", "until", "action")}
    )


def resume(uow: UnitOfWork, query: LogQuery, cursor: str | None) -> LogQuery:
    """The query continuing after the event a page's `next` names (usecase/cursors.py); a cursor sent with
    other filters is refused."""
    return dataclasses.replace(query, after_seq=cursors(uow, "audit").open(cursor, _bound(query)))


def next_cursor(uow: UnitOfWork, query: LogQuery, seqs: list[int]) -> str | None:
    """The cursor of the page after the events `seqs` (None: that page was not full, so it was the last)."""
    if len(seqs) < query.limit or not seqs:
        return None
    return cursors(uow, "audit").seal(seqs[-1], _bound(query))


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
        action=query.action,
        purpose=query.purpose,
        before_seq=query.before_seq,
        newest_first=query.newest_first,
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


@use_case(Tag.AUDIT_LOG_READ, Action.CONSULTATION)
def read_event(uow: UnitOfWork, auditor: Principal, seq: int, *, request_id: str | None = None) -> Any:
    """One event, exactly as the log search returns it; the reading is audited with its sequence number."""
    row = uow.audit.event(seq)
    if row is None:
        raise NotFound("audit_event_not_found", f"there is no audit event {seq}", "seq")
    uow.audit.record(
        AuditEntry(
            Action.CONSULTATION,
            Tag.AUDIT_LOG_READ,
            auditor,
            request_id=request_id,
            details={"seq": seq, "returned": 1},
        )
    )
    return uow.audit.opened(row)


def _summary(report: chain.Report) -> dict[str, Any]:
    first = report.first_broken
    return {
        "ok": report.ok,
        "sealed": report.sealed,
        "unsealed": report.unsealed,
        "head_position": report.head_position,
        "anchors": report.anchors,
        "findings": len(report.findings),
        "first_broken": None
        if first is None
        else {"kind": first.kind, "position": first.position, "seq": first.seq, "message": first.message},
        "problems": [p.message for p in report.findings[:20]],
    }


@use_case(Tag.AUDIT_CHAIN_VERIFY, Action.CONSULTATION)
def verify_chain(uow: UnitOfWork, auditor: Principal, *, request_id: str | None = None) -> dict[str, Any]:
    """Walk the audit log's hash chain now (as `register audit verify` does) and record what was found: the
    result is itself an audit event, so the last verification and any break it found are in the log."""
    report = chain.verify(uow.session, uow.store.audit_keys, uow.store.anchors)
    summary = _summary(report)
    uow.audit.record(
        AuditEntry(
            Action.CONSULTATION, Tag.AUDIT_CHAIN_VERIFY, auditor, request_id=request_id, details=summary
        )
    )
    return summary


def last_verification(uow: UnitOfWork) -> dict[str, Any] | None:
    """The most recent verification of the chain recorded in the log (by whom, when, what it found), if any.
    A part of the audit log page, whose reading `read_log` audits."""
    row = uow.audit.latest_with_tag(Tag.AUDIT_CHAIN_VERIFY.value)
    if row is None:
        return None
    found: dict[str, Any] = json.loads(row["details"]) if row["details"] else {}
    return {"seq": row["seq"], "at": row["occurred_at"], "by": row["actor_user"], **found}
