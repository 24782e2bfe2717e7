"""Writing audit events, in the caller's transaction, and the queries auditors ask."""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from collections.abc import Mapping
from typing import Any, cast

from sqlalchemy import ColumnElement, RowMapping, Table, and_, insert, select
from sqlalchemy.orm import Session

from ..crypto.envelope import TamperedCiphertext, associated_data, open_sealed, seal
from ..store.models import AuditEvent
from .chain import event_mac
from .events import SEALED, AuditEntry


def _aad(event_id: uuid.UUID | str) -> bytes:
    return associated_data("audit_event", "details", event_id)


# `inline`: no RETURNING of the new row's seq, which no caller reads (the server still numbers it): a row
# and a result fewer to make on every request that audits (decision 82)
_INSERT = insert(cast(Table, AuditEvent.__table__)).inline()


class AuditLog:
    def __init__(self, session: Session, mac_key: bytes, details_key: bytes) -> None:
        self.session = session
        self._mac_key = mac_key  # the audit event key: events without its MAC are refused by the sealer
        self._details_key = details_key  # seals what an event must not hold in clear
        # Events recorded in this session: the unit of work seals after a commit that wrote some.
        self.written = 0
        # This transaction's events, kept until the unit of work commits (it writes the agencies' events from
        # them: store/events.py) or rolls back (then they are forgotten with the transaction).
        self.entries: list[AuditEntry] = []

    def take_entries(self) -> list[AuditEntry]:
        entries, self.entries = self.entries, []
        return entries

    def _row(self, entry: AuditEntry) -> dict[str, Any]:
        sealed = None
        if entry.sensitive:
            plain = json.dumps(entry.sensitive, sort_keys=True, default=str).encode()
            sealed = base64.b64encode(seal(self._details_key, plain, _aad(entry.event_id))).decode()
        columns = entry.columns(sealed)
        return columns | {"mac": event_mac(self._mac_key, columns)}

    def opened(self, row: Mapping[str, Any] | RowMapping) -> dict[str, Any]:
        """An event as an auditor reads it: its sealed details opened and put back beside the others (the
        database holds them sealed). A seal that does not open (altered, or moved from another event) is
        reported as such in the details, never as an error: the chain's verification names the event."""
        event = dict(row)
        raw = event.get("details")
        if not raw or f'"{SEALED}"' not in raw:
            return event
        details = json.loads(raw)
        sealed = details.pop(SEALED, None)
        if isinstance(sealed, str):
            try:
                details.update(
                    json.loads(
                        open_sealed(self._details_key, base64.b64decode(sealed), _aad(event["event_id"]))
                    )
                )
            except (TamperedCiphertext, ValueError):
                details["sealed_details"] = "could not be opened: altered or not this register's"
        event["details"] = json.dumps(details, sort_keys=True, default=str)
        return event

    def record(self, entry: AuditEntry) -> None:
        """Insert the event in the current transaction: a rolled-back change leaves no event, a committed one
        always has it."""
        # Core insert of the table: the ORM's bulk-insert machinery cost a read a fifth of its time (py-spy);
        # the row as parameters of one statement kept once, not a VALUES clause built and keyed anew per event
        self.session.execute(_INSERT, self._row(entry))
        self.written += 1
        self.entries.append(entry)

    def record_many(self, entries: list[AuditEntry]) -> None:
        """Many events in one statement (a sweep's events, one per record), in the current transaction."""
        if entries:
            # Core insert of the table (not ORM bulk insert): rows are keyed by column name.
            self.session.execute(_INSERT, [self._row(e) for e in entries])
            self.written += len(entries)
            self.entries.extend(entries)

    def _events(self, where: ColumnElement[bool], limit: int) -> list[RowMapping]:
        table = AuditEvent.__table__
        return list(
            self.session.execute(select(table).where(where).order_by(table.c.seq).limit(limit)).mappings()
        )

    def query(
        self,
        *,
        nominal_id: uuid.UUID | None = None,
        user: str | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        after_seq: int = 0,
        limit: int = 100,
        action: str | None = None,
        purpose: str | None = None,
        before_seq: int | None = None,
        newest_first: bool = False,
    ) -> list[RowMapping]:
        """Events matching every given filter, in sequence order, after `after_seq` (keyset pagination); or,
        `newest_first`, in reverse order before `before_seq`. `purpose` matches any purpose containing it
        (ignoring case)."""
        conditions = [AuditEvent.seq > after_seq]
        if before_seq is not None:
            conditions.append(AuditEvent.seq < before_seq)
        if action is not None:
            conditions.append(AuditEvent.action == action)
        if purpose is not None:
            conditions.append(AuditEvent.purpose.icontains(purpose, autoescape=True))
        if nominal_id is not None:
            conditions.append(AuditEvent.nominal_id == nominal_id)
        if user is not None:
            conditions.append(AuditEvent.actor_user == user)
        if since is not None:
            conditions.append(AuditEvent.occurred_at >= since)
        if until is not None:
            conditions.append(AuditEvent.occurred_at < until)
        if newest_first:
            table = AuditEvent.__table__
            return list(
                self.session.execute(
                    select(table).where(and_(*conditions)).order_by(table.c.seq.desc()).limit(limit)
                ).mappings()
            )
        return self._events(and_(*conditions), limit)

    def event(self, seq: int) -> RowMapping | None:
        """One event by its sequence number."""
        table = AuditEvent.__table__
        return self.session.execute(select(table).where(table.c.seq == seq)).mappings().first()

    def latest_with_tag(self, tag: str) -> RowMapping | None:
        """The newest event with this tag (the last verification of the chain, for example)."""
        table = AuditEvent.__table__
        return (
            self.session.execute(
                select(table).where(table.c.tag == tag).order_by(table.c.seq.desc()).limit(1)
            )
            .mappings()
            .first()
        )

    def for_record(self, nominal_id: uuid.UUID, limit: int = 1000) -> list[RowMapping]:
        """Who looked at or changed this record, oldest first."""
        return self._events(AuditEvent.nominal_id == nominal_id, limit)

    def for_user(self, user_id: str, limit: int = 1000) -> list[RowMapping]:
        """What this user did, oldest first."""
        return self._events(AuditEvent.actor_user == user_id, limit)
