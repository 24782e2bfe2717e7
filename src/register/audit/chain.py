"""The audit hash chain: sealing committed events in order, and proving nothing was altered.

Events are inserted by every transaction with a sequence number and no hash, so
writers never queue behind a chain head. Moments after commit one sealer (a
PostgreSQL advisory lock makes sure it is one) takes the unsealed events in
sequence order and appends a seal for each:

    digest[n] = HMAC-SHA256(audit key, digest[n-1] || position n || canonical(event))

The key is derived from the audit root key, so someone with write access to the
database but not the key cannot recompute a valid chain. `verify` walks the chain
and names every event that was modified, deleted or moved, and every gap.
A truncated tail is only visible against a head recorded elsewhere: `verify`
prints the head (position and digest) for operations to keep outside the database.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from dataclasses import dataclass, field
from typing import Any, Iterator

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..crypto.envelope import derive_key
from ..store.models import AuditEvent, AuditSeal

GENESIS = b"\x00" * 32
SEALER_LOCK_ID = 0x5245_4749  # "REGI": one sealer at a time on PostgreSQL
# The sealer looks back this far behind the newest seal for late-committing events.
# `seal --full` (and verify's unsealed report) covers anything older.
LOOKBACK = 10_000

_EVENT_FIELDS = (
    "seq",
    "event_id",
    "occurred_at",
    "action",
    "tag",
    "outcome",
    "actor_user",
    "actor_agency",
    "actor_area",
    "actor_roles",
    "nominal_id",
    "section",
    "item_id",
    "purpose",
    "request_id",
    "details",
)


def chain_key(audit_root: bytes) -> bytes:
    return derive_key(audit_root, "audit-chain")


def canonical(event: AuditEvent) -> bytes:
    doc: dict[str, Any] = {}
    for name in _EVENT_FIELDS:
        value = getattr(event, name)
        if isinstance(value, dt.datetime):
            value = value.astimezone(dt.timezone.utc).isoformat()
        elif value is not None and not isinstance(value, (str, int)):
            value = str(value)
        doc[name] = value
    return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()


def link(key: bytes, previous: bytes, position: int, event: AuditEvent) -> bytes:
    return hmac.new(key, previous + position.to_bytes(8, "big") + canonical(event), hashlib.sha256).digest()


def seal_pending(session: Session, key: bytes, *, full: bool = False, batch: int = 2000) -> int:
    """Seal committed, unsealed events. Returns how many were sealed. The caller commits."""
    if session.get_bind().dialect.name == "postgresql":
        if not session.execute(select(func.pg_try_advisory_xact_lock(SEALER_LOCK_ID))).scalar():
            return 0  # another sealer is at work; it will seal these too
    head = session.execute(select(AuditSeal.position, AuditSeal.digest, AuditSeal.event_seq).order_by(AuditSeal.position.desc()).limit(1)).first()
    position, previous = (head.position, head.digest) if head else (0, GENESIS)
    floor = 0 if full or head is None else max(0, head.event_seq - LOOKBACK)
    sealed = 0
    now = dt.datetime.now(dt.timezone.utc)
    while True:
        unsealed = (
            select(AuditEvent)
            .where(AuditEvent.seq > floor)
            .where(~select(AuditSeal.position).where(AuditSeal.event_seq == AuditEvent.seq).exists())
            .order_by(AuditEvent.seq)
            .limit(batch)
        )
        events = session.scalars(unsealed).all()
        if not events:
            return sealed
        for event in events:
            position += 1
            previous = link(key, previous, position, event)
            session.add(AuditSeal(position=position, event_seq=event.seq, digest=previous, sealed_at=now))
        session.flush()
        sealed += len(events)
        floor = events[-1].seq


@dataclass
class Problem:
    kind: str  # modified | deleted | missing_seal | unsealed
    message: str
    seq: int | None = None
    position: int | None = None


@dataclass
class Report:
    sealed: int = 0
    unsealed: int = 0
    head_position: int = 0
    head_digest: str = ""
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(p.kind != "unsealed" for p in self.problems)


def _walk(session: Session, batch: int) -> Iterator[tuple[AuditSeal, AuditEvent | None]]:
    after = 0
    while True:
        rows = session.execute(
            select(AuditSeal, AuditEvent)
            .join(AuditEvent, AuditEvent.seq == AuditSeal.event_seq, isouter=True)
            .where(AuditSeal.position > after)
            .order_by(AuditSeal.position)
            .limit(batch)
        ).all()
        if not rows:
            return
        yield from ((seal, event) for seal, event in rows)
        after = rows[-1][0].position


def verify(session: Session, key: bytes, *, batch: int = 5000) -> Report:
    """Walk the whole chain; each link is checked against the stored digest before it, so one
    altered event is named once rather than breaking every link after it."""
    report = Report()
    expected_position = 1
    previous = GENESIS
    for seal, event in _walk(session, batch):
        if seal.position != expected_position:
            report.problems.append(
                Problem("missing_seal", f"seals at positions {expected_position}..{seal.position - 1} were deleted", position=expected_position)
            )
        if event is None:
            report.problems.append(Problem("deleted", f"event seq {seal.event_seq} (chain position {seal.position}) was deleted", seal.event_seq, seal.position))
        elif not hmac.compare_digest(link(key, previous, seal.position, event), seal.digest):
            report.problems.append(
                Problem("modified", f"event seq {event.seq} (chain position {seal.position}) was modified, moved or reordered", event.seq, seal.position)
            )
        previous = seal.digest
        expected_position = seal.position + 1
        report.sealed += 1
        report.head_position, report.head_digest = seal.position, seal.digest.hex()
    unsealed = session.execute(
        select(AuditEvent.seq).where(~select(AuditSeal.position).where(AuditSeal.event_seq == AuditEvent.seq).exists()).order_by(AuditEvent.seq)
    ).scalars().all()
    report.unsealed = len(unsealed)
    for seq in unsealed[:100]:
        report.problems.append(Problem("unsealed", f"event seq {seq} is not sealed yet (run `register audit seal`)", seq))
    return report
