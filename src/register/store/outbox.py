"""The transactional outbox: a row per changed record, written with the change, drained by the indexer."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import cast

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

from .models import Outbox

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
