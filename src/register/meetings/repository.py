"""The meetings' queries across records: set-based, a fixed number of statements whatever the area's size.

Actions are found by their plain columns (`ref`: the owner's user id, `status`, `due_on`) through the index on
the items' section and `ref`; meetings by `status` and `due_on`; reviews by each record's newest held meeting
(`starts_on`, which only a held meeting has). Payloads and names are opened in one pass afterwards.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..domain.enums import ActionStatus, Area, MeetingStatus, NominalStatus
from ..domain.record import SECTION_MODELS, Identity, Section, SectionItem
from ..store import models as m
from ..store.cipher import RecordCipher
from ..store.listing import TRUSTED

OPEN_ACTIONS = (ActionStatus.OPEN.value, ActionStatus.IN_PROGRESS.value)
LIVE = m.Nominal.status == NominalStatus.ACTIVE.value


@dataclass(frozen=True)
class Found:
    """An item found across records, opened, with the name of the person it is about."""

    nominal_id: uuid.UUID
    item_id: uuid.UUID
    name: str
    area: str
    level: int | None
    data: SectionItem


@dataclass(frozen=True)
class ReviewFacts:
    nominal_id: uuid.UUID
    name: str
    level: int
    last_held: dt.date | None
    level_since: dt.date | None
    created_on: dt.date


def _name(cipher: RecordCipher, n: m.Nominal) -> str:
    identity = Identity.model_validate_json(
        cipher.open(n.data_key_id, "nominal", "identity_sealed", n.id, n.identity_sealed), context=TRUSTED
    )
    return f"{identity.forenames} {identity.surname}"


def _open(
    session: Session, cipher: RecordCipher, rows: Sequence[Any], nominals: Sequence[m.Nominal]
) -> list[Found]:
    by_id = {n.id: n for n in nominals}
    cipher.load({r.data_key_id for r in rows} | {n.data_key_id for n in nominals})
    names = {n.id: _name(cipher, n) for n in nominals}
    out = []
    for r in rows:
        model = SECTION_MODELS[Section(r.section)]
        data = model.model_validate_json(
            cipher.open(r.data_key_id, "item", "payload_sealed", r.id, r.payload_sealed), context=TRUSTED
        )
        n = by_id[r.nominal_id]
        out.append(Found(r.nominal_id, r.id, names[r.nominal_id], n.area, n.mappa_level, data))
    return out


def _items(session: Session, cipher: RecordCipher, *where: Any) -> list[Found]:
    rows = session.execute(
        select(*m.Item.__table__.c)
        .join(m.Nominal, m.Nominal.id == m.Item.nominal_id)
        .where(LIVE, m.Item.ended_at.is_(None), *where)
        .order_by(m.Item.due_on, m.Item.id)
        .limit(500)
    ).all()
    ids = {r.nominal_id for r in rows}
    nominals = session.scalars(select(m.Nominal).where(m.Nominal.id.in_(ids))).all() if ids else []
    return _open(session, cipher, rows, nominals)


def open_actions_of(session: Session, cipher: RecordCipher, user_id: str, area: Area) -> list[Found]:
    """The open actions a user owns on the area's live records, soonest due first."""
    return _items(
        session,
        cipher,
        m.Nominal.area == area.value,
        m.Item.section == Section.MEETING_ACTIONS.value,
        m.Item.ref == user_id,
        m.Item.status.in_(OPEN_ACTIONS),
    )


def overdue_actions(session: Session, cipher: RecordCipher, area: Area, today: dt.date) -> list[Found]:
    return _items(
        session,
        cipher,
        m.Nominal.area == area.value,
        m.Item.section == Section.MEETING_ACTIONS.value,
        m.Item.status.in_(OPEN_ACTIONS),
        m.Item.due_on < today,
    )


def scheduled_meetings(session: Session, cipher: RecordCipher, area: Area) -> list[Found]:
    """Meetings scheduled and not yet agreed (upcoming, or held and waiting for their minutes)."""
    return _items(
        session,
        cipher,
        m.Nominal.area == area.value,
        m.Item.section == Section.MEETINGS.value,
        m.Item.status == MeetingStatus.SCHEDULED.value,
    )


def review_facts(
    session: Session, cipher: RecordCipher, area: Area, levels: Sequence[int]
) -> list[ReviewFacts]:
    """Each live record of the area at these levels, with its newest held meeting and when its level began:
    one statement, then the names in one pass."""
    held = (
        select(m.Item.nominal_id, func.max(m.Item.starts_on).label("last_held"))
        .where(m.Item.section == Section.MEETINGS.value, m.Item.ended_at.is_(None))
        .group_by(m.Item.nominal_id)
        .subquery()
    )
    since = (
        select(m.Item.nominal_id, func.max(m.Item.starts_on).label("level_since"))
        .where(m.Item.section == Section.MAPPA_LEVELS.value, m.Item.ended_at.is_(None))
        .group_by(m.Item.nominal_id)
        .subquery()
    )
    rows = session.execute(
        select(m.Nominal, held.c.last_held, since.c.level_since)
        .outerjoin(held, held.c.nominal_id == m.Nominal.id)
        .outerjoin(since, since.c.nominal_id == m.Nominal.id)
        .where(LIVE, m.Nominal.area == area.value, m.Nominal.mappa_level.in_(list(levels)))
        .limit(2000)
    ).all()
    cipher.load({r[0].data_key_id for r in rows})
    out = []
    for row in rows:
        n: m.Nominal = row[0]
        out.append(
            ReviewFacts(n.id, _name(cipher, n), n.mappa_level or 0, row[1], row[2], n.created_at.date())
        )
    return out
