"""Writing the effective-dated history the annual statistics read (models.NominalHistory; the rules are in
domain/history.py). Called by the use cases whenever a record's area, category, level, status or custody
changes; they flush, the caller commits."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from ..domain import history
from . import models as m


def write(
    session: Session,
    nominal_id: uuid.UUID,
    changes: Iterable[history.Change],
    *,
    source: str,
    by: str,
    now: dt.datetime,
    source_id: uuid.UUID | None = None,
) -> None:
    rows = [
        {
            "nominal_id": nominal_id,
            "source": source,
            "source_id": source_id,
            "effective_at": c.effective_at,
            "area": c.area,
            "managing_unit": c.managing_unit,
            "category": c.category,
            "level": c.level,
            "status": c.status,
            "custody": c.custody,
            "recorded_at": now,
            "recorded_by": by,
        }
        for c in changes
    ]
    if rows:
        session.execute(insert(m.NominalHistory), rows)


def initial(session: Session, nominal_id: uuid.UUID, by: str, now: dt.datetime) -> None:
    """A new record's history starts at its creation with its header's values (the fallback any later
    change effective by a date overrides)."""
    row = session.execute(
        select(
            m.Nominal.area,
            m.Nominal.managing_unit,
            m.Nominal.mappa_category,
            m.Nominal.mappa_level,
            m.Nominal.created_at,
        ).where(m.Nominal.id == nominal_id)
    ).one()
    write(
        session,
        nominal_id,
        [
            history.Change(
                row.created_at,
                row.area,
                row.managing_unit,
                row.mappa_category,
                row.mappa_level,
                history.ACTIVE,
                history.COMMUNITY,
            )
        ],
        source="initial",
        by=by,
        now=now,
    )


def from_item(session: Session, nominal_id: uuid.UUID, item_id: uuid.UUID, by: str, now: dt.datetime) -> None:
    """After an item is added, corrected or ended: what an earlier version of it said is superseded (kept,
    for figures as they were known), and what it says now, if it is still in force, is written."""
    session.execute(
        update(m.NominalHistory)
        .where(m.NominalHistory.source_id == item_id, m.NominalHistory.superseded_at.is_(None))
        .values(superseded_at=now)
    )
    i = m.Item
    row = session.execute(
        select(i.section, i.kind, i.status, i.starts_on, i.ends_on, i.category, i.level, i.ended_at).where(
            i.id == item_id, i.nominal_id == nominal_id
        )
    ).one_or_none()
    if row is None or row.ended_at is not None:
        return
    changes = history.from_item(
        row.section, row.kind, row.status, row.starts_on, row.ends_on, row.category, row.level
    )
    write(session, nominal_id, changes, source=row.section, source_id=item_id, by=by, now=now)


CUSTODY_EVENTS = {("recall", "recall"), ("breach", "recall"), ("breach", "conviction_custody")}


def from_entry(
    session: Session,
    nominal_id: uuid.UUID,
    original_id: uuid.UUID,
    kind: str,
    latest: tuple[dt.datetime, str | None] | None,
    by: str,
    now: dt.datetime,
    *,
    corrects: bool,
) -> None:
    """A chronology entry that takes a person into custody (a recall; a breach ending in recall or a
    custodial sentence) or out of it (a release), as its latest version says (`latest`: occurred_at and
    outcome; None: withdrawn). A correction (`corrects`: an amendment or a withdrawal of the entry first
    written as `original_id`) supersedes what the earlier version said; a new entry has nothing to supersede,
    and most of a day's appends are new entries that move nothing (no statement at all)."""
    if corrects:
        session.execute(
            update(m.NominalHistory)
            .where(m.NominalHistory.source_id == original_id, m.NominalHistory.superseded_at.is_(None))
            .values(superseded_at=now)
        )
    if latest is None:
        return
    occurred_at, outcome = latest
    custody = (
        history.IN_CUSTODY
        if (kind, outcome) in CUSTODY_EVENTS
        else history.COMMUNITY
        if kind == "release"
        else None
    )
    if custody is not None:
        write(
            session,
            nominal_id,
            [history.Change(occurred_at, custody=custody)],
            source="chronology",
            source_id=original_id,
            by=by,
            now=now,
        )


def notification_end(
    session: Session, nominal_id: uuid.UUID, ends_on: dt.date | None, by: str, now: dt.datetime
) -> None:
    """The end of the notification requirement as derived from the record (decision 20): the requirement is
    over on its end date, so from the start of that day the person is no longer counted. Written only when the
    derived date changes (a new offence or order can move or remove it); the earlier one is superseded."""
    target = None if ends_on is None else history.start_of_day(ends_on)
    current = session.scalars(
        select(m.NominalHistory.effective_at).where(
            m.NominalHistory.nominal_id == nominal_id,
            m.NominalHistory.source == "notification",
            m.NominalHistory.superseded_at.is_(None),
        )
    ).all()
    if current == ([] if target is None else [target]):
        return
    session.execute(
        update(m.NominalHistory)
        .where(
            m.NominalHistory.nominal_id == nominal_id,
            m.NominalHistory.source == "notification",
            m.NominalHistory.superseded_at.is_(None),
        )
        .values(superseded_at=now)
    )
    if target is not None:
        write(
            session,
            nominal_id,
            [history.Change(target, status=history.NOTIFICATION_ENDED)],
            source="notification",
            by=by,
            now=now,
        )
