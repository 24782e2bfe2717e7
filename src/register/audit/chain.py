"""The audit hash chain: events authenticated when written, sealed in order after commit, anchored outside the
database, and a `verify` that proves nothing was inserted, altered, removed, reordered or cut off.

1. The application writes each event in the caller's transaction with a sequence number, no hash, and a MAC:

       mac = HMAC-SHA256(event key, canonical content of the event, without its sequence number)

   Writers never queue behind a chain head. The event key is derived from the audit root key, which the
   database does not hold: a row inserted or edited by someone with database rights but not the key has no
   valid MAC.

2. Moments after commit one sealer (a PostgreSQL advisory lock makes sure it is one) takes the unsealed events
   in sequence order, refuses (does not seal, logs loudly) any whose MAC is missing or wrong, and appends a
   seal for each of the others:

       digest[n] = HMAC-SHA256(chain key, digest[n-1] || position n || canonical(event, with its seq and MAC))

3. At intervals the sealer appends the head (position, digest, time), signed, to an anchor store outside the
   database (audit/anchors.py), so a cut tail, an emptied log or a re-sealed chain shows.

`verify` walks the chain, checks every unsealed event's MAC and every anchor, and names each finding.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import ColumnElement, Row, Table, func, insert, select
from sqlalchemy.orm import Session

from ..crypto.envelope import derive_key
from ..store.models import AuditEvent, AuditSeal
from .anchors import Anchor, AnchorStore, anchor_key

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


_CONTENT_FIELDS = _EVENT_FIELDS[1:]  # the MAC is made before the database assigns the sequence number


def chain_key(audit_root: bytes) -> bytes:
    return derive_key(audit_root, "audit-chain")


@dataclass(frozen=True)
class AuditKeys:
    """The keys derived from the audit root key: none of them is in the database."""

    chain: bytes  # the seals' HMAC chain
    event: bytes  # each event's MAC, made when it is written
    anchor: bytes  # the anchors' signatures
    details: bytes  # seals events' sensitive details (search criteria, free-text reasons): AES-256-GCM

    @classmethod
    def derive(cls, audit_root: bytes) -> AuditKeys:
        return cls(
            chain_key(audit_root),
            derive_key(audit_root, "audit-event-mac"),
            anchor_key(audit_root),
            derive_key(audit_root, "audit-details"),
        )


# An event as the chain reads it: a loaded model, or a row of the table (the sealer reads rows).
Event = AuditEvent | Row[Any]


def _document(get: Callable[[str], Any], names: tuple[str, ...]) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    for name in names:
        value = get(name)
        if isinstance(value, dt.datetime):
            value = value.astimezone(dt.UTC).isoformat()
        elif value is not None and not isinstance(value, (str, int)):
            value = str(value)
        doc[name] = value
    return doc


def _encode(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()


def event_mac(key: bytes, columns: Mapping[str, Any]) -> bytes:
    """The MAC of an event about to be written (its column values, as `AuditEntry.columns()` gives them)."""
    return hmac.new(key, _encode(_document(columns.get, _CONTENT_FIELDS)), hashlib.sha256).digest()


def mac_status(key: bytes, event: Event) -> str:
    """ "ok", "missing" or "wrong"."""
    if event.mac is None:
        return "missing"
    expected = hmac.new(
        key, _encode(_document(lambda n: getattr(event, n), _CONTENT_FIELDS)), hashlib.sha256
    ).digest()
    return "ok" if hmac.compare_digest(expected, event.mac) else "wrong"


def canonical(event: Event) -> bytes:
    """What a seal covers: the event with its sequence number and, from migration 0009 on, its MAC (events
    sealed before have none, and their links are computed as they were)."""
    doc = _document(lambda n: getattr(event, n), _EVENT_FIELDS)
    if event.mac is not None:
        doc["mac"] = event.mac.hex()
    return _encode(doc)


def link(key: bytes, previous: bytes, position: int, event: Event) -> bytes:
    return hmac.new(key, previous + position.to_bytes(8, "big") + canonical(event), hashlib.sha256).digest()


def unsealed_after(after: Any) -> ColumnElement[bool]:
    """Events with no seal, for events after `after` (a sequence number, or an expression of one). The seals'
    side says `after` too, though only an event after it can match: without it PostgreSQL's anti-join read the
    seals' event_seq index from the very first seal on every pass of the sealer, a cost that grew with the
    whole audit log (23,600 seals read to check 10,000 events at 100,000 people; every seal of a log of
    millions four times a second)."""
    return ~(
        select(AuditSeal.position)
        .where(AuditSeal.event_seq == AuditEvent.seq, AuditSeal.event_seq > after)
        .exists()
    )


@dataclass(frozen=True)
class Head:
    position: int
    event_seq: int
    digest: bytes


@dataclass
class SealResult:
    sealed: int = 0
    refused: list[tuple[int, str]] = field(
        default_factory=list
    )  # (seq, why): events whose MAC is missing or wrong
    head: Head | None = None  # None: another sealer is at work
    anchor: Anchor | None = None  # set by the caller if it anchored the head
    anchor_error: str | None = None


def _refusal(status: str) -> str:
    if status == "missing":
        return (
            "it has no MAC: it was written outside the register (inserted by hand), or before migration "
            "0009 and never sealed"
        )
    return "its MAC does not match its content: edited, or inserted outside the register"


def seal_pending(session: Session, keys: AuditKeys, *, full: bool = False, batch: int = 2000) -> SealResult:
    """Seal committed, unsealed events whose MAC is right; refuse the others (they stay unsealed, and `verify`
    names them). The caller commits."""
    # On PostgreSQL one sealer at a time: another one at work will seal these too.
    if (
        session.get_bind().dialect.name == "postgresql"
        and not session.execute(select(func.pg_try_advisory_xact_lock(SEALER_LOCK_ID))).scalar()
    ):
        return SealResult()
    head = session.execute(
        select(AuditSeal.position, AuditSeal.digest, AuditSeal.event_seq)
        .order_by(AuditSeal.position.desc())
        .limit(1)
    ).first()
    position, previous, last_seq = (head.position, head.digest, head.event_seq) if head else (0, GENESIS, 0)
    floor = 0 if full or head is None else max(0, head.event_seq - LOOKBACK)
    result = SealResult()
    now = dt.datetime.now(dt.UTC)
    events_table, seals_table = cast(Table, AuditEvent.__table__), cast(Table, AuditSeal.__table__)
    while True:
        # Core rows in and out, not ORM objects: the sealer passes after every busy quarter second, and
        # building and flushing an object per event and per seal was most of its time (py-spy on reads)
        events = session.execute(
            select(events_table)
            .where(AuditEvent.seq > floor)
            .where(unsealed_after(floor))
            .order_by(AuditEvent.seq)
            .limit(batch)
        ).all()
        if not events:
            result.head = Head(position, last_seq, previous) if position else None
            return result
        seals: list[dict[str, Any]] = []
        for event in events:
            status = mac_status(keys.event, event)
            if status != "ok":
                result.refused.append((event.seq, _refusal(status)))
                continue
            position += 1
            previous = link(keys.chain, previous, position, event)
            last_seq = event.seq
            seals.append({"position": position, "event_seq": event.seq, "digest": previous, "sealed_at": now})
        if seals:
            session.execute(insert(seals_table), seals)
            result.sealed += len(seals)
        floor = events[-1].seq


# What verify reports. Every kind but "unsealed" (an authentic event awaiting sealing) is a finding.
KINDS = {
    "inserted": "an unsealed event without a MAC: written outside the register",
    "unauthenticated": "an unsealed event whose MAC does not match: edited, or inserted outside the register",
    "modified": "a sealed event whose content no longer matches its seal",
    "reordered": "an authentic sealed event that is not where it was sealed (or its seal was altered)",
    "deleted": "a sealed event removed, its seal kept",
    "missing_seal": "seals (and usually their events) removed from the middle of the chain",
    "truncated": "the chain ends before the latest anchor: its tail was cut",
    "emptied": "the audit log is empty but anchors record events",
    "rewritten": "the chain's digest at an anchored position differs from the anchor: re-sealed",
    "bad_anchor": "an anchor that is unreadable or whose signature does not match (ignored)",
    "unanchored": "the chain has sealed events but the anchor store holds no valid anchor",
    "unsealed": "an authentic event awaiting sealing (not a finding)",
}


@dataclass
class Problem:
    kind: str  # one of KINDS
    message: str
    seq: int | None = None
    position: int | None = None


@dataclass
class Report:
    sealed: int = 0
    unsealed: int = 0
    head_position: int = 0
    head_digest: str = ""
    legacy: int = 0  # sealed events written before event MACs (migration 0009)
    anchors: int = 0  # valid anchors checked
    latest_anchor: Anchor | None = None
    anchor_store: str | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def findings(self) -> list[Problem]:
        return [p for p in self.problems if p.kind != "unsealed"]

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def first_broken(self) -> Problem | None:
        """The earliest finding in chain order, then unsealed events by sequence number."""
        located = [p for p in self.findings if p.position is not None or p.seq is not None]
        if not located:
            return self.findings[0] if self.findings else None
        return min(located, key=lambda p: (p.position is None, p.position or 0, p.seq or 0))


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


def _read_anchors(store: AnchorStore, key: bytes, report: Report) -> dict[int, list[Anchor]]:
    by_position: dict[int, list[Anchor]] = {}
    for entry in store.read():
        if entry.anchor is None:
            report.problems.append(Problem("bad_anchor", f"{entry.where}: {entry.error}"))
        elif not entry.anchor.authentic(key):
            report.problems.append(
                Problem(
                    "bad_anchor", f"{entry.where}: its signature does not match: forged or altered (ignored)"
                )
            )
        else:
            by_position.setdefault(entry.anchor.position, []).append(entry.anchor)
            report.anchors += 1
            if report.latest_anchor is None or entry.anchor.position > report.latest_anchor.position:
                report.latest_anchor = entry.anchor
    return by_position


def verify(
    session: Session, keys: AuditKeys, anchors: AnchorStore | None = None, *, batch: int = 5000
) -> Report:
    """Walk the whole chain; each link is checked against the stored digest before it, so one altered event is
    named once rather than breaking every link after it. Then every unsealed event's MAC, and every anchor."""
    report = Report(anchor_store=anchors.description if anchors is not None else None)
    anchored = _read_anchors(anchors, keys.anchor, report) if anchors is not None else {}
    rewritten: list[tuple[int, Anchor]] = []
    last_matching = 0
    expected_position = 1
    previous = GENESIS
    for seal, event in _walk(session, batch):
        if seal.position != expected_position:
            report.problems.append(
                Problem(
                    "missing_seal",
                    f"seals at positions {expected_position}..{seal.position - 1} were deleted",
                    position=expected_position,
                )
            )
        if event is None:
            report.problems.append(
                Problem(
                    "deleted",
                    f"event seq {seal.event_seq} (chain position {seal.position}) was deleted",
                    seal.event_seq,
                    seal.position,
                )
            )
        elif hmac.compare_digest(link(keys.chain, previous, seal.position, event), seal.digest):
            report.legacy += event.mac is None
        elif mac_status(keys.event, event) == "ok":
            report.problems.append(
                Problem(
                    "reordered",
                    f"event seq {event.seq} (chain position {seal.position}) is authentic but not where "
                    "it was sealed: events were reordered, or its seal was altered",
                    event.seq,
                    seal.position,
                )
            )
        else:
            report.problems.append(
                Problem(
                    "modified",
                    f"event seq {event.seq} (chain position {seal.position}) was modified",
                    event.seq,
                    seal.position,
                )
            )
        for anchor in anchored.pop(seal.position, []):
            if hmac.compare_digest(anchor.digest, seal.digest.hex()):
                last_matching = max(last_matching, seal.position)
            else:
                rewritten.append((seal.position, anchor))
        previous = seal.digest
        expected_position = seal.position + 1
        report.sealed += 1
        report.head_position, report.head_digest = seal.position, seal.digest.hex()
    if rewritten:
        position, anchor = min(rewritten, key=lambda r: r[0])
        since = (
            f" (after position {last_matching}, the last anchor that matches)"
            if 0 < last_matching < position
            else ""
        )
        more = len(rewritten) - 1
        report.problems.append(
            Problem(
                "rewritten",
                f"chain position {position} does not match its anchor of {anchor.at}: the chain was "
                f"rewritten and re-sealed at or before position {position}{since}"
                + (f"; {more} later anchors differ too" if more else ""),
                position=position,
            )
        )
    _check_unsealed(session, keys, report, batch)
    if anchors is not None:
        _check_head(session, report)
    return report


def _check_unsealed(session: Session, keys: AuditKeys, report: Report, batch: int) -> None:
    after, listed = 0, 0
    while True:
        events = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.seq > after)
            .where(unsealed_after(after))
            .order_by(AuditEvent.seq)
            .limit(batch)
        ).all()
        if not events:
            return
        for event in events:
            report.unsealed += 1
            status = mac_status(keys.event, event)
            if status == "missing":
                report.problems.append(
                    Problem(
                        "inserted",
                        f"event seq {event.seq} has no MAC: it was written outside the register "
                        "(inserted by hand), or before migration 0009 and never sealed",
                        event.seq,
                    )
                )
            elif status == "wrong":
                report.problems.append(
                    Problem(
                        "unauthenticated",
                        f"event seq {event.seq}: its MAC does not match its content: "
                        "edited, or inserted outside the register",
                        event.seq,
                    )
                )
            elif listed < 100:
                listed += 1
                report.problems.append(
                    Problem(
                        "unsealed",
                        f"event seq {event.seq} is not sealed yet (run `register audit seal`)",
                        event.seq,
                    )
                )
        after = events[-1].seq


def _check_head(session: Session, report: Report) -> None:
    """The chain must reach the latest anchor; an anchor store with nothing in it proves nothing."""
    latest = report.latest_anchor
    if latest is None:
        if report.head_position:
            report.problems.append(
                Problem(
                    "unanchored",
                    f"the chain has {report.sealed} sealed events but {report.anchor_store} holds no valid "
                    "anchor: the anchors were lost or replaced (after first upgrading to anchors, run "
                    "`register audit seal` once to make the first)",
                )
            )
        return
    if latest.position <= report.head_position:
        return
    when = f"(made {latest.at})"
    if (
        report.head_position == 0
        and session.execute(select(func.count()).select_from(AuditEvent)).scalar_one() == 0
    ):
        report.problems.append(
            Problem(
                "emptied",
                f"the audit log is empty but an anchor records position {latest.position} {when}",
                position=1,
            )
        )
    else:
        report.problems.append(
            Problem(
                "truncated",
                f"the chain ends at position {report.head_position} but an anchor records position "
                f"{latest.position} {when}: sealed events after position {report.head_position} were removed",
                position=report.head_position + 1,
            )
        )
