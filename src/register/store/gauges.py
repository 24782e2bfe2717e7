"""What the operations metrics read from the database at scrape time: one set-based query per figure, never a
loop over records (`/metrics`, src/register/api/observability.py).

Only metadata: counts, timestamps, areas and key versions; nothing from a record's content.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from ..audit.chain import LOOKBACK, unsealed_after
from . import models as m
from .outbox import WATCHES_MARK


@dataclass(frozen=True)
class Gauges:
    outbox_pending: int = 0
    outbox_oldest_pending: dt.datetime | None = None  # created_at of the oldest row not yet indexed
    outbox_oldest_due: dt.datetime | None = None  # available_at of the oldest row due now (no retry wait)
    outbox_parked: int = 0
    # created_at of the oldest change the active watched searches have not been evaluated against (None: none,
    # or no watch active)
    watches_oldest_unevaluated: dt.datetime | None = None
    audit_unsealed: int = 0
    audit_oldest_unsealed: dt.datetime | None = None
    quality_last_run: dict[str, dt.datetime] = field(default_factory=dict)  # area -> last finished run
    data_keys_by_version: dict[str, int] = field(default_factory=dict)


def read(session: Session, now: dt.datetime) -> Gauges:
    """Four queries: the outbox, the unsealed tail of the audit log, quality runs per area, data keys per
    key-encryption key version; and for the watches' lag one more, or three while a watch is active."""
    o = m.Outbox
    pending = o.parked.is_(False)
    outbox = session.execute(
        select(
            func.sum(case((pending, 1), else_=0)),
            func.min(case((pending, o.created_at))),
            func.min(case((pending & (o.available_at <= now), o.available_at))),
            func.sum(case((o.parked.is_(True), 1), else_=0)),
        ).where(o.processed_at.is_(None))  # the pending index (processed_at, available_at)
    ).one()
    # The sealer looks back LOOKBACK events behind the head (audit/chain.py): so does this count.
    head = select(func.coalesce(func.max(m.AuditSeal.event_seq), 0)).scalar_subquery()
    e = m.AuditEvent
    unsealed = session.execute(
        select(func.count(), func.min(e.occurred_at)).where(
            e.seq > head - LOOKBACK, unsealed_after(head - LOOKBACK)
        )
    ).one()
    runs = session.execute(
        select(m.QualityRun.area, func.max(m.QualityRun.finished_at))
        .where(m.QualityRun.finished_at.is_not(None))
        .group_by(m.QualityRun.area)
    ).all()
    keys = session.execute(select(m.DataKey.kek_version, func.count()).group_by(m.DataKey.kek_version)).all()
    return Gauges(
        outbox_pending=int(outbox[0] or 0),
        outbox_oldest_pending=_utc(outbox[1]),
        outbox_oldest_due=_utc(outbox[2]),
        outbox_parked=int(outbox[3] or 0),
        watches_oldest_unevaluated=_unevaluated(session, now),
        audit_unsealed=int(unsealed[0] or 0),
        audit_oldest_unsealed=_utc(unsealed[1]),
        quality_last_run={area: when for area, when in ((a, _utc(w)) for a, w in runs) if when is not None},
        data_keys_by_version={str(version): int(count) for version, count in keys},
    )


def _unevaluated(session: Session, now: dt.datetime) -> dt.datetime | None:
    """When the first change after the watches' mark was made (`register watches run` evaluates the active
    watches against the changes after it), while any watch is active: by row number from the mark, so one
    row is read however far behind the runs are."""
    w = m.SearchWatch
    active = select(w.saved_search_id).where(w.ended_at.is_(None), w.until >= now.date()).limit(1)
    if session.execute(active).first() is None:
        return None
    mark = session.scalar(select(m.SearchWatchMark.outbox_id).where(m.SearchWatchMark.name == WATCHES_MARK))
    first = select(m.Outbox.created_at).where(m.Outbox.id > (mark or 0)).order_by(m.Outbox.id).limit(1)
    return _utc(session.scalar(first))


def _utc(value: object) -> dt.datetime | None:
    """Aggregates (min/max over a CASE) come back without the column type's conversion on SQLite: a string
    or a naive datetime; both are UTC."""
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if not isinstance(value, dt.datetime):
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
