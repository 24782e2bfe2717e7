"""The store: the database, the keys and the audit chain's sealing, built once by `bootstrap.build_store` and
passed to whatever needs it. Opening a unit of work on it is the one way to read or change records."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from ..audit import chain
from ..audit.anchors import Anchor, AnchorStore, latest, make_anchor
from ..config import Settings
from ..crypto.envelope import BlindIndex
from ..crypto.keys import KeySet
from .uow import UnitOfWork

log = logging.getLogger(__name__)


@dataclass
class Store:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    keys: KeySet
    blind: BlindIndex
    audit_keys: chain.AuditKeys
    anchors: AnchorStore  # where the audit chain's head is anchored, outside the database
    seal_after_commit: bool = True
    commit_hooks: list[Callable[[], None]] = field(default_factory=list)  # e.g. wake the in-process indexer
    # A hot standby for reads that may lag the primary (docs/operations.md, "Read replica"); None: the primary
    replica_factory: sessionmaker[Session] | None = None
    _anchor_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _last_anchor: tuple[int, dt.datetime] | None = field(
        default=None, repr=False
    )  # (position, when), lazily from the store
    _refusals_logged: set[int] = field(default_factory=set, repr=False)
    _anchor_retry_at: dt.datetime | None = field(default=None, repr=False)  # after a failed anchor
    _behind_logged: tuple[int, int] | None = field(default=None, repr=False)

    def unit_of_work(self, *, for_caller: bool = False) -> UnitOfWork:
        """A unit of work. `for_caller`: opened for one caller's action (an API request, a CLI command, a
        page), so bounded by the use case it runs: it commits when that use case returns and audits it if
        refused."""
        return UnitOfWork(self, for_caller=for_caller)

    def after_commit(self) -> None:
        """Seal the audit events just committed. A failure here loses nothing: the
        events are committed and the next sealing run (or `register audit seal`) seals them."""
        for hook in list(self.commit_hooks):
            hook()
        if not self.seal_after_commit:
            return
        try:
            self.seal_audit()
        except Exception:
            log.exception("sealing the audit log failed; it will be retried")

    def seal_audit(self, *, full: bool = False) -> int:
        """Seal what was committed (and anchor the head when due); returns how many events were sealed."""
        return self.seal(full=full).sealed

    def seal(self, *, full: bool = False, force_anchor: bool = False) -> chain.SealResult:
        """Seal committed events, refusing (and logging, once per process) any whose MAC is missing or wrong;
        then, after the seals are committed, anchor the head if it is due (or `force_anchor`)."""
        with self.session_factory() as session:
            result = chain.seal_pending(session, self.audit_keys, full=full)
            session.commit()
        new = [(seq, why) for seq, why in result.refused if seq not in self._refusals_logged]
        for seq, why in new[:10]:
            log.error(
                "AUDIT TAMPERING: refused to seal audit event seq %d: %s; run `register audit verify`",
                seq,
                why,
            )
        if len(new) > 10:
            log.error(
                "AUDIT TAMPERING: refused to seal %d more audit events (seq %d..%d); "
                "run `register audit verify`",
                len(new) - 10,
                new[10][0],
                new[-1][0],
            )
        self._refusals_logged.update(seq for seq, _ in new)
        now = dt.datetime.now(dt.UTC)
        if result.head is not None and (
            force_anchor or self._anchor_retry_at is None or now >= self._anchor_retry_at
        ):
            try:
                result.anchor = self._anchor(result.head, force=force_anchor)
                self._anchor_retry_at = None
            except Exception as exc:
                # The API seals every second: retry (and log) once a minute, not on every pass.
                self._anchor_retry_at = now + dt.timedelta(seconds=60)
                log.exception(
                    "anchoring the audit chain head to %s failed; retrying in a minute",
                    self.anchors.description,
                )
                result.anchor_error = f"anchoring to {self.anchors.description} failed: {exc}"
        return result

    def _anchor(self, head: chain.Head, *, force: bool) -> Anchor | None:
        with self._anchor_lock:
            now = dt.datetime.now(dt.UTC)
            if self._last_anchor is None:
                last = latest(self.anchors.recent(), self.audit_keys.anchor)
                self._last_anchor = (
                    (last.position, last.made_at) if last else (0, dt.datetime.min.replace(tzinfo=dt.UTC))
                )
            position, when = self._last_anchor
            if head.position < position:
                if self._behind_logged != (
                    head.position,
                    position,
                ):  # once, not on every pass of the API's sealer
                    self._behind_logged = (head.position, position)
                    log.error(
                        "AUDIT TAMPERING: the audit chain ends at position %d but was anchored at position "
                        "%d: its tail was cut; run `register audit verify`",
                        head.position,
                        position,
                    )
                return None
            if head.position == position:
                return None
            settings = self.settings
            due = (
                force
                or head.position - position >= settings.audit_anchor_every_events
                or (now - when).total_seconds() >= settings.audit_anchor_every_seconds
            )
            if not due:
                return None
            anchor = make_anchor(
                self.audit_keys.anchor,
                position=head.position,
                event_seq=head.event_seq,
                digest=head.digest,
                at=now,
            )
            self.anchors.append(anchor)
            self._last_anchor = (head.position, now)
            return anchor

    def verify_audit(self) -> chain.Report:
        with self.session_factory() as session:
            return chain.verify(session, self.audit_keys, self.anchors)

    def dispose(self) -> None:
        self.engine.dispose()
        if self.replica_factory is not None:
            bind = self.replica_factory.kw.get("bind")
            if bind is not None:
                bind.dispose()
