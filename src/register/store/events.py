"""The events the agencies' systems follow (docs/events.md), written by the unit of work in the transaction of
the change they describe: a rolled-back change leaves no event, a committed one always has its event.

The hook is the audit log. Every change a use case makes is already stated as an audit event with a `Tag`;
`EVENT_TYPES` (the one list of event types) says which tags are worth telling the agencies' systems about and
under which CloudEvents type. At commit the unit of work hands the successful audit entries of the
transaction to `write_events`, which makes one CloudEvent per (type, record, section) and inserts them in one
statement. Adding a type is one line here plus the audit entry its use case records.

An event carries codes and ids only (record id, section, version, owning area, transfer and merge ids):
never a name, a value or free text, so a subscriber learns *that* a record changed and reads it, through the
policy, to learn *what*.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, cast

from cloudevents.conversion import to_json
from cloudevents.http import CloudEvent
from sqlalchemy import (
    CompoundSelect,
    Integer,
    Select,
    String,
    Table,
    bindparam,
    insert,
    literal,
    null,
    select,
    union_all,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.orm import Session

from ..audit.events import AuditEntry, Outcome
from ..audit.tags import Tag
from . import models as m

SOURCE = "/register"  # the CloudEvents `source` of every event (a URI-reference: the register itself)
PREFIX = "uk.gov.mappa.register."


class EventType:
    """The CloudEvents types the register emits (`type` attribute)."""

    RECORD_CREATED = PREFIX + "record.created"
    RECORD_CHANGED = PREFIX + "record.changed"
    RECORD_ERASED = PREFIX + "record.erased"
    RECORD_ARCHIVED = PREFIX + "record.archived"
    RECORD_UNARCHIVED = PREFIX + "record.unarchived"
    RECORD_MERGED = PREFIX + "record.merged"
    RECORD_UNMERGED = PREFIX + "record.unmerged"
    TRANSFER_REQUESTED = PREFIX + "transfer.requested"
    TRANSFER_ACCEPTED = PREFIX + "transfer.accepted"
    TRANSFER_REJECTED = PREFIX + "transfer.rejected"
    TRANSFER_CANCELLED = PREFIX + "transfer.cancelled"


# THE list: which audit tag (a change a use case made) becomes which event. Section items (`nominal:<section>:
# add|correct|end|erase`) are mapped by their verb below, so every section, present and future, is covered.
EVENT_TYPES: dict[Tag, str] = {
    Tag.NOMINAL_RECORD_CREATE: EventType.RECORD_CREATED,
    Tag.NOMINAL_IDENTITY_CORRECT: EventType.RECORD_CHANGED,
    Tag.NOMINAL_CHRONOLOGY_APPEND: EventType.RECORD_CHANGED,
    Tag.NOMINAL_CHRONOLOGY_ERASE: EventType.RECORD_ERASED,
    Tag.NOMINAL_RECORD_ERASE: EventType.RECORD_ERASED,
    Tag.NOMINAL_RECORD_ARCHIVE: EventType.RECORD_ARCHIVED,
    Tag.NOMINAL_RECORD_UNARCHIVE: EventType.RECORD_UNARCHIVED,
    Tag.NOMINAL_RECORD_MERGE: EventType.RECORD_MERGED,
    Tag.NOMINAL_RECORD_UNMERGE: EventType.RECORD_UNMERGED,
    Tag.TRANSFER_REQUEST_CREATE: EventType.TRANSFER_REQUESTED,
    Tag.TRANSFER_REQUEST_ACCEPT: EventType.TRANSFER_ACCEPTED,
    Tag.TRANSFER_REQUEST_REJECT: EventType.TRANSFER_REJECTED,
    Tag.TRANSFER_REQUEST_CANCEL: EventType.TRANSFER_CANCELLED,
}
_ITEM_VERBS = {
    "add": EventType.RECORD_CHANGED,
    "correct": EventType.RECORD_CHANGED,
    "end": EventType.RECORD_CHANGED,
    "erase": EventType.RECORD_ERASED,
}


def event_type(tag: str) -> str | None:
    """The event type of a change audited under `tag`, or None when the agencies' systems are not told."""
    known = EVENT_TYPES.get(Tag(tag)) if tag in Tag._value2member_map_ else None
    if known is not None:
        return known
    subject, _, verb = tag.rpartition(":")
    if subject.startswith("nominal:") and subject.count(":") == 1 and not subject.endswith(":record"):
        return _ITEM_VERBS.get(verb)
    return None


ALL_TYPES: tuple[str, ...] = tuple(
    sorted(v for k, v in vars(EventType).items() if k.isupper() and isinstance(v, str))
)


@dataclass
class _Pending:
    type: str
    subject: uuid.UUID
    section: str | None
    item_ids: list[uuid.UUID] = field(default_factory=list)
    audiences: list[str | None] = field(default_factory=list)  # stated by the use case (an erased item's)
    areas: set[str] = field(default_factory=set)
    extra: dict[str, Any] = field(default_factory=dict)
    occurred_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))


# Details of an audit entry an event may carry: ids and codes only (never a reason or a value).
_CARRIED = ("transfer", "merge", "side", "from", "to", "reason")


def _collect(entries: Iterable[AuditEntry]) -> list[_Pending]:
    found: dict[tuple[str, uuid.UUID, str | None], _Pending] = {}
    for entry in entries:
        if entry.outcome != Outcome.SUCCESS or entry.nominal_id is None:
            continue
        kind = event_type(entry.tag)
        if kind is None:
            continue
        section = None if entry.section == "transfer" else entry.section
        key = (kind, entry.nominal_id, section)
        pending = found.get(key)
        if pending is None:
            pending = found[key] = _Pending(kind, entry.nominal_id, section, occurred_at=entry.occurred_at)
        if entry.item_id is not None:
            pending.item_ids.append(entry.item_id)
        if "audience" in entry.details:
            pending.audiences.append(entry.details["audience"])
        for name in ("from", "to"):
            if isinstance(entry.details.get(name), str):
                pending.areas.add(entry.details[name])
        for name in _CARRIED:
            value = entry.details.get(name)
            # an archive's reason is a code (died, ...); free-text reasons are never in details
            if name == "side" and kind not in (EventType.RECORD_MERGED, EventType.RECORD_UNMERGED):
                continue
            if isinstance(value, str) and (name != "reason" or kind == EventType.RECORD_ARCHIVED):
                pending.extra.setdefault(name, value)
    return list(found.values())


def _audience(values: list[str | None]) -> str | None:
    """The audience an event about these items has: none when any item has none (some item everyone may see
    changed), else the agencies every item's audience names (a caller sees the event only if it may see
    every item it mentions: the conservative reading)."""
    if not values or any(v is None for v in values):
        return None
    sets = [set(cast(str, v).split(",")) for v in values]
    common = set.intersection(*sets)
    return ",".join(sorted(common)) if common else "-"  # "-": nobody outside system actors


@dataclass(frozen=True)
class _RecordFacts:
    area: str
    version: int


def _event_facts_statements() -> tuple[Select[Any], CompoundSelect[Any]]:
    """The two statements `_event_facts` runs, built once: on table columns (no ORM entity to compile) with
    expanding parameters, so each change only binds its ids (SQLAlchemy's compiled cache does the rest)."""
    nominal = cast(Table, m.Nominal.__table__)
    of_records = select(
        literal(True).label("record"),
        nominal.c.id,
        nominal.c.area,
        nominal.c.version,
        sql_cast(null(), String).label("audience"),
    ).where(nominal.c.id.in_(bindparam("subjects", expanding=True)))
    no_area, no_version = sql_cast(null(), String), sql_cast(null(), Integer)
    of_items = [
        select(literal(False), t.c.id, no_area, no_version, t.c.audience).where(
            t.c.id.in_(bindparam("items", expanding=True))
        )
        for t in (cast(Table, m.Item.__table__), cast(Table, m.ChronologyEntry.__table__))
    ]
    return of_records, union_all(of_records, *of_items)


_OF_RECORDS, _OF_RECORDS_AND_ITEMS = _event_facts_statements()
_INSERT_EVENTS = insert(cast(Table, m.RegisterEvent.__table__)).inline()  # no RETURNING (decision 82)


def _event_facts(
    session: Session, subjects: set[uuid.UUID], item_ids: set[uuid.UUID]
) -> tuple[dict[uuid.UUID, _RecordFacts], dict[uuid.UUID, str | None]]:
    """Each record's area and version, and each item's or chronology entry's audience, from one statement:
    rows of (is a record, id, area, version, audience)."""
    records: dict[uuid.UUID, _RecordFacts] = {}
    audiences: dict[uuid.UUID, str | None] = {}
    session.flush()  # the versions and items this transaction wrote (a Core statement does not autoflush)
    connection = session.connection()
    if item_ids:
        rows = connection.execute(
            _OF_RECORDS_AND_ITEMS, {"subjects": list(subjects), "items": list(item_ids)}
        )
    else:
        rows = connection.execute(_OF_RECORDS, {"subjects": list(subjects)})
    for row in rows:
        if row.record:
            records[row.id] = _RecordFacts(row.area, row.version)
        else:
            audiences[row.id] = row.audience
    return records, audiences


def write_events(session: Session, entries: Iterable[AuditEntry]) -> int:
    """Insert the events the transaction's successful audit entries describe; returns how many. One
    set-based read before the insert, whatever the number of events: the records' area and version and the
    items' and chronology entries' audiences, in one UNION ALL (one round trip on every change)."""
    pending = _collect(entries)
    if not pending:
        return 0
    records, audiences = _event_facts(
        session, {p.subject for p in pending}, {i for p in pending for i in p.item_ids}
    )
    rows = []
    for p in pending:
        record = records.get(p.subject)
        if record is not None:
            p.areas.add(record.area)
        stated = [audiences[i] for i in p.item_ids if i in audiences] + p.audiences
        unknown = [i for i in p.item_ids if i not in audiences]
        # An item gone without its audience stated (erased): the event keeps the section out rather than
        # say which section lost something to a caller who may never have seen it.
        section = p.section if not unknown or p.audiences else None
        audience = _audience(stated) if section is not None else None
        event_id = uuid.uuid4()
        data: dict[str, Any] = {"record_id": str(p.subject)}
        if section is not None:
            data["section"] = section
        if record is not None:
            data["version"] = record.version
            data["owning_area"] = record.area
        data.update(p.extra)
        event = CloudEvent(
            {
                "id": str(event_id),
                "source": SOURCE,
                "type": p.type,
                "subject": str(p.subject),
                "time": p.occurred_at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
                "datacontenttype": "application/json",
            },
            data,
        )
        rows.append(
            {
                "event_id": event_id,
                "type": p.type,
                "subject": p.subject,
                "areas": "," + ",".join(sorted(p.areas)) + ",",
                "section": section,
                "audience": audience,
                "occurred_at": p.occurred_at,
                "cloudevent": to_json(event).decode(),
            }
        )
    session.connection().execute(_INSERT_EVENTS, rows)
    return len(rows)


def parse(cloudevent: str) -> dict[str, Any]:
    """A stored event as the JSON object the feed and the webhooks send (structured mode)."""
    return cast(dict[str, Any], json.loads(cloudevent))
