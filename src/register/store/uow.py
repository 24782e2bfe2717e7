"""The unit of work: one database transaction around one use case, and the one place that commits.

    with store.unit_of_work() as uow:
        service.do_something(uow, ...)   # a use case: commits when it returns (see `use_case`)

Leaving the block normally commits: the change, its audit events and an outbox row for every record whose
version changed (the record repository collects them as versions are claimed), all in one transaction.
Leaving it by an exception rolls all of it back. A refused attempt is audited by `refused()` in its own short
transaction, so the refusal leaves a trace although its change does not.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import TYPE_CHECKING

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from ..audit.events import AuditEntry
from ..audit.repository import AuditLog
from . import case_facts
from .cipher import RecordCipher
from .duplicates import refresh_pairs, tokens_written, watch_tokens
from .events import write_events
from .outbox import OutboxRepository
from .records import NominalRepository

if TYPE_CHECKING:
    from .store import Store

log = logging.getLogger(__name__)


class UnitOfWork:
    session: Session
    cipher: RecordCipher
    nominals: NominalRepository
    audit: AuditLog
    outbox: OutboxRepository

    def __init__(self, store: Store, *, for_caller: bool = False) -> None:
        self.store = store
        self.for_caller = for_caller
        self._committed = False
        self._depth = 0
        self._replica: Session | None = None

    def __enter__(self) -> UnitOfWork:
        self.session = self.store.session_factory()
        watch_tokens(self.session)
        case_facts.watch_writes(self.session)
        self.cipher = RecordCipher(self.session, self.store.keys.keyring)
        self.nominals = NominalRepository(self.session, self.cipher, self.store.blind)
        self.audit = AuditLog(self.session, self.store.audit_keys.event, self.store.audit_keys.details)
        self.outbox = OutboxRepository(self.session)
        return self

    @property
    def replica(self) -> Session:
        """A session for reads that may lag the primary by the replica's delay (the annual statistics): on the
        hot standby when one is configured and answers, else this unit's own session. Never for a write (the
        standby refuses one) nor for anything a write decides on."""
        if self._replica is None:
            self._replica = self.session
            if self.store.replica_factory is not None:
                replica = self.store.replica_factory()
                try:
                    replica.connection()
                except OperationalError:
                    replica.close()
                    log.warning("the read replica cannot be reached: reading from the primary")
                else:
                    self._replica = replica
        return self._replica

    def changed(self, versions: dict[uuid.UUID, int]) -> None:
        """Records a set-based change gave new versions (sweeps): indexed after commit like any other
        change."""
        self.nominals.note_changes(versions)

    def _commit(self) -> None:
        changes = self.nominals.take_changes()
        self.outbox.enqueue_many(changes)
        # A changed record may have new tokens: when this transaction wrote any, the changed records'
        # suspected duplicates are worked out again in it, so the supervisor's desk never lags the records.
        if tokens_written(self.session):
            refresh_pairs(self.session, (nominal_id for nominal_id, _ in changes))
        # Likewise each changed record's caseload facts and workload rows, when this transaction wrote an
        # item, an entry or a header column they carry (and those of a header set without a version claim).
        refresh = case_facts.to_refresh(self.session, (nominal_id for nominal_id, _ in changes))
        if refresh:
            case_facts.refresh(self.session, refresh)
        # The agencies' events, from the changes this transaction audited: committed with them or not at all.
        write_events(self.session, self.audit.take_entries())
        self.session.commit()
        self.nominals.release_rows()
        # What follows a commit (sealing the audit events, waking the indexer) is due only when it wrote some.
        self._committed = self._committed or bool(changes) or self.audit.written > 0

    def checkpoint(self) -> None:
        """Commit what this unit has done so far and carry on in a new transaction. For the store's own
        batch work (sweeps, key rotation) only: a use case is one transaction."""
        self._commit()

    @contextmanager
    def use_case(self) -> Iterator[bool]:
        """The boundary of one use case: yields whether it is the outermost one running in this unit (nested
        use cases join its transaction). In a unit opened for a caller (`for_caller`: an API request, whose
        dependency exits only after the response is sent; a CLI command) the outermost use case's return
        commits its change, audit events and outbox rows together, before the caller renders its result.
        Otherwise the block's exit commits, so several calls in one block are one transaction."""
        outermost = self._depth == 0
        self._depth += 1
        try:
            yield outermost
        finally:
            self._depth -= 1
        if outermost and self.for_caller:
            self._commit()

    def refused(self, *entries: AuditEntry) -> None:
        """Audit a refused attempt in a short transaction of its own: whatever the attempt wrote is rolled
        back first, so the refusal is recorded and its change is not."""
        self.session.rollback()
        self.nominals.release_rows()
        tokens_written(self.session)
        case_facts.sources_written(self.session)
        self.nominals.take_changes()
        self.audit.take_entries()
        self.audit.record_many(list(entries))
        self.audit.take_entries()  # refusals are no change: no event
        self.session.commit()
        self._committed = True

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if exc_type is None:
                self._commit()
            else:
                self.session.rollback()
                self.audit.take_entries()
        finally:
            if self._replica is not None and self._replica is not self.session:
                self._replica.close()
            self._replica = None
            self.session.close()
        if self._committed:
            self.store.after_commit()
