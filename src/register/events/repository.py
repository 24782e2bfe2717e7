"""Queries over the event feed, webhook subscriptions and their deliveries: set-based, no query per event."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    CursorResult,
    Table,
    and_,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from ..store import models as m

E = m.RegisterEvent
S = m.WebhookSubscription
D = m.WebhookDelivery


@dataclass(frozen=True)
class Sight:
    """What one caller may see of the feed, as the policy stated it (events/service.py builds it): the area
    and whether it reaches beyond it (`national`: other areas' records unless restricted), the sections its
    agency may read, and the agency item audiences are matched against (None: no audience rule)."""

    area: str
    national: bool
    sections: frozenset[str]
    agency: str | None


def visible(sight: Sight) -> ColumnElement[bool]:
    """SQL: the events this caller may see, by the rules a read of the record applies: the record's area (an
    event names every area it concerns: a transfer both), restriction outside the area, the section, the
    changed item's audience. Everything else is, to this caller, absent."""
    own = E.areas.contains(f",{sight.area},", autoescape=True)
    if sight.national:
        unrestricted = exists(
            select(literal(1)).where(m.Nominal.id == E.subject, m.Nominal.restricted.is_(False))
        )
        where: ColumnElement[bool] = or_(own, unrestricted)
    else:
        where = own
    conditions = [where, or_(E.section.is_(None), E.section.in_(sorted(sight.sections)))]
    if sight.agency is not None:
        conditions.append(
            or_(
                E.audience.is_(None), (literal(",") + E.audience + literal(",")).contains(f",{sight.agency},")
            )
        )
    return and_(*conditions)


def page(session: Session, sight: Sight, after: int, limit: int) -> list[tuple[int, str]]:
    """(seq, CloudEvent JSON) of the next `limit` visible events after position `after`, in order."""
    rows = session.execute(
        select(E.seq, E.cloudevent).where(E.seq > after, visible(sight)).order_by(E.seq).limit(limit)
    )
    return [(r.seq, r.cloudevent) for r in rows]


def visible_among(session: Session, sight: Sight, seqs: list[int]) -> set[int]:
    if not seqs:
        return set()
    return set(session.execute(select(E.seq).where(E.seq.in_(seqs), visible(sight))).scalars())


def head(session: Session) -> int:
    return int(session.execute(select(func.coalesce(func.max(E.seq), 0))).scalar_one())


# ------------------------------------------------------------------ subscriptions


def add_subscription(session: Session, values: dict[str, Any]) -> None:
    session.execute(insert(S).values(**values))


def subscriptions(session: Session) -> list[m.WebhookSubscription]:
    return list(session.execute(select(S).order_by(S.created_at, S.id)).scalars())


def subscription(session: Session, subscription_id: uuid.UUID) -> m.WebhookSubscription | None:
    return session.get(S, subscription_id)


def remove_subscription(session: Session, subscription_id: uuid.UUID, data_key_id: uuid.UUID) -> None:
    session.execute(delete(D).where(D.subscription_id == subscription_id))
    session.execute(delete(S).where(S.id == subscription_id))
    session.execute(delete(m.DataKey).where(m.DataKey.id == data_key_id))  # the secret is crypto-shredded


def move_position(session: Session, subscription_id: uuid.UUID, position: int) -> None:
    session.execute(update(S).where(S.id == subscription_id).values(position=position))


def delivery_counts(session: Session) -> dict[tuple[uuid.UUID, str], int]:
    rows = session.execute(
        select(D.subscription_id, D.status, func.count()).group_by(D.subscription_id, D.status)
    )
    return {(r[0], r[1]): r[2] for r in rows}


def prune(session: Session, before: dt.datetime) -> int:
    """Delete the events that happened before `before`, in two statements, keeping every event a subscriber
    still needs: one not yet queued for every subscription (beyond the lowest `position`), or with a delivery
    pending or dead (a dead letter may be redelivered). Their finished deliveries go with them."""
    floor = func.coalesce(select(func.min(S.position)).scalar_subquery(), literal(2**62))
    still_needed = select(D.event_seq).where(D.status.in_(("pending", "dead")))
    old = select(E.seq).where(E.occurred_at < before, E.seq <= floor, E.seq.not_in(still_needed))
    session.execute(delete(D).where(D.event_seq.in_(old)))
    removed = cast(CursorResult[Any], session.execute(delete(E).where(E.seq.in_(old))))
    return removed.rowcount or 0


# ------------------------------------------------------------------ deliveries


def enqueue(session: Session, subscription_id: uuid.UUID, seqs: list[int], now: dt.datetime) -> None:
    if seqs:
        session.execute(
            insert(cast(Table, D.__table__)),
            [
                {
                    "id": uuid.uuid4(),
                    "subscription_id": subscription_id,
                    "event_seq": seq,
                    "status": "pending",
                    "attempts": 0,
                    "available_at": now,
                    "created_at": now,
                }
                for seq in seqs
            ],
        )


@dataclass(frozen=True)
class Due:
    id: uuid.UUID
    subscription_id: uuid.UUID
    event_seq: int
    attempts: int
    event_id: uuid.UUID
    cloudevent: str


def claim_due(session: Session, now: dt.datetime, lease: dt.timedelta, limit: int) -> list[Due]:
    """Pending deliveries due by `now`, oldest event first, claimed for `lease` (a second worker skips them:
    the claim is a conditional update, so of two workers exactly one gets each)."""
    rows = session.execute(
        select(D.id, D.subscription_id, D.event_seq, D.attempts, E.event_id, E.cloudevent)
        .join(E, E.seq == D.event_seq)
        .where(D.status == "pending", D.available_at <= now)
        .order_by(D.event_seq, D.id)
        .limit(limit)
    ).all()
    if not rows:
        return []
    # One conditional update for the batch: a row another worker claimed meanwhile no longer matches.
    won = set(
        session.execute(
            update(D)
            .where(D.id.in_([r.id for r in rows]), D.status == "pending", D.available_at <= now)
            .values(available_at=now + lease)
            .returning(D.id)
        ).scalars()
    )
    return [
        Due(r.id, r.subscription_id, r.event_seq, r.attempts, r.event_id, r.cloudevent)
        for r in rows
        if r.id in won
    ]


def mark(session: Session, delivery_ids: list[uuid.UUID], **values: Any) -> None:
    if delivery_ids:
        session.execute(update(D).where(D.id.in_(delivery_ids)).values(**values))


def dead_letters(session: Session, subscription_id: uuid.UUID) -> list[Any]:
    return list(
        session.execute(
            select(D.id, D.attempts, D.last_attempt_at, D.last_error, E.event_id, E.type)
            .join(E, E.seq == D.event_seq)
            .where(D.subscription_id == subscription_id, D.status == "dead")
            .order_by(D.event_seq)
        ).all()
    )


def redeliver(session: Session, subscription_id: uuid.UUID, delivery_id: uuid.UUID, now: dt.datetime) -> bool:
    done = cast(
        CursorResult[Any],
        session.execute(
            update(D)
            .where(D.id == delivery_id, D.subscription_id == subscription_id, D.status == "dead")
            .values(status="pending", attempts=0, available_at=now, last_error=None)
        ),
    )
    return done.rowcount == 1
