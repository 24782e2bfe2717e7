"""The unit of work: one database transaction around one use case, and the one place that commits.

    with store.unit_of_work() as uow:
        service.do_something(uow, ...)   # services flush, never commit
        uow.commit()

Leaving the block without `commit()` (an exception, or simply not committing) rolls
everything back: the change, its audit events and its outbox rows go together.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from ..audit.repository import AuditLog
from ..nominals.repository import NominalRepository
from .cipher import RecordCipher
from .outbox import OutboxRepository

if TYPE_CHECKING:
    from ..bootstrap import Store

log = logging.getLogger(__name__)


class UnitOfWork:
    session: Session
    nominals: NominalRepository
    audit: AuditLog
    outbox: OutboxRepository

    def __init__(self, store: Store) -> None:
        self.store = store
        self._committed = False

    def __enter__(self) -> UnitOfWork:
        self.session = self.store.session_factory()
        self.cipher = RecordCipher(self.session, self.store.keys.keyring)
        self.nominals = NominalRepository(self.session, self.cipher, self.store.blind)
        self.audit = AuditLog(self.session, self.store.audit_keys.event)
        self.outbox = OutboxRepository(self.session)
        return self

    def commit(self) -> None:
        self.session.commit()
        self._committed = True

    def __exit__(self, exc_type, exc, tb) -> None:  # type: ignore[no-untyped-def]
        try:
            if not self._committed:
                self.session.rollback()
        finally:
            self.session.close()
        if self._committed and exc_type is None:
            self.store.after_commit()
