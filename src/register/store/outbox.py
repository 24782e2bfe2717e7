"""The transactional outbox: a row per changed record, written with the change, drained by the indexer."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import cast

from sqlalchemy import Table, delete, func, insert, select
from sqlalchemy.orm import Session

from .models import Outbox, SearchWatchMark

WATCHES_MARK = "watches"  # saved_searches/repository.py MARK: the watches' row of search_watch_mark
_INSERT = insert(cast(Table, Outbox.__table__)).inline()  # no RETURNING of the row's id (decision 82)


class OutboxRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def enqueue_many(self, changes: list[tuple[uuid.UUID, int]], topic: str = "nominal.changed") -> None:
        """The changed records' rows, one per record at its new version, in one statement (a change's, or a
        sweep's)."""
        if not changes:
            return
        now = dt.datetime.now(dt.UTC)
        self.session.execute(
            _INSERT,  # a Core insert kept once: the ORM's bulk insert cost more than the row
            [
                {
                    "nominal_id": i,
                    "record_version": v,
                    "topic": topic,
                    "created_at": now,
                    "available_at": now,
                    "attempts": 0,
                    "parked": False,
                }
                for i, v in changes
            ],
        )


# ------------------------------------------------------------------ pruning (decision 87)


def prune_floor(session: Session) -> int | None:
    """The last outbox row the watched searches have evaluated (`register watches run`'s high-water mark):
    rows after it are kept for them. None: no run has set a mark, so no watch needs any row."""
    return session.scalar(select(SearchWatchMark.outbox_id).where(SearchWatchMark.name == WATCHES_MARK))


def prune_span(session: Session) -> tuple[int, int]:
    """The outbox's lowest and highest row numbers (0, 0 when empty): the span a prune walks in windows."""
    low, high = session.execute(select(func.min(Outbox.id), func.max(Outbox.id))).one()
    return (int(low or 0), int(high or 0))


def prune_window(session: Session, after: int, upto: int, before: dt.datetime) -> tuple[int, int]:
    """Delete the rows numbered after `after` up to `upto` that nothing needs any more, in two statements:

    - done: indexed before `before` (a rebuild started since replays the rows indexed while it ran, and
      those newer than its start: both are younger);
    - superseded: still waiting (the embedded backend never indexes; an outage holds them), made before
      `before`, and not the newest waiting row of their record: the indexer writes the record as it is, so
      one row a record is as good as many, and the newest is kept for it.

    Parked rows stay (they wait for an operator or for the cluster). Returns (done, superseded) removed."""
    window = (Outbox.id > after, Outbox.id <= upto)
    done = session.execute(delete(Outbox).where(*window, Outbox.processed_at < before))
    waiting = (Outbox.processed_at.is_(None), Outbox.parked.is_(False))
    newest = select(func.max(Outbox.id)).where(*waiting).group_by(Outbox.nominal_id)
    superseded = session.execute(
        delete(Outbox).where(*window, *waiting, Outbox.created_at < before, Outbox.id.not_in(newest))
    )
    return (_count(done), _count(superseded))


def _count(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
