"""Saved searches in the database: one row each, its content sealed under its own data key (bound to the row's
id), found by area and the blind-index token of the operation's reference. A listing is two queries (the rows,
then their data keys unwrapped in one), whatever the number of searches."""

from __future__ import annotations

import datetime as dt
import json
import unicodedata
import uuid
from collections.abc import Collection
from typing import Any

from sqlalchemy import and_, delete, func, insert, or_, select, update
from sqlalchemy.orm import Session

from ..crypto.envelope import BlindIndex
from ..store import models as m
from ..store.cipher import RecordCipher
from ..store.outbox import WATCHES_MARK
from .schemas import NewSavedSearch, SavedSearch

TABLE, COLUMN = "saved_search", "search_sealed"
TOKEN_KIND = "saved_search_operation"


def operation_token(blind: BlindIndex, operation: str) -> bytes:
    """The operation's reference as a keyed token: case, accents and spacing do not make another operation."""
    return blind.token(TOKEN_KIND, fold_operation(operation))


def fold_operation(operation: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", operation).casefold().split())


def add(
    session: Session,
    cipher: RecordCipher,
    blind: BlindIndex,
    *,
    area: str,
    operation: str,
    new: NewSavedSearch,
    user: str,
    now: dt.datetime,
) -> uuid.UUID:
    search_id = uuid.uuid4()
    key_id = cipher.new_key(search_id)
    content = {
        "name": new.name,
        "operation": operation,
        "request": new.request.model_dump(mode="json", include={"query", "include_archived", "sort"}),
        "labels": new.labels,
        "form": new.form,
    }
    session.add(
        m.SavedSearch(
            id=search_id,
            area=area,
            operation_token=operation_token(blind, operation),
            data_key_id=key_id,
            search_sealed=cipher.seal(key_id, TABLE, COLUMN, search_id, json.dumps(content).encode()),
            created_by=user,
            created_at=now,
        )
    )
    session.flush()
    return search_id


def _open(cipher: RecordCipher, row: m.SavedSearch) -> SavedSearch:
    content = json.loads(cipher.open(row.data_key_id, TABLE, COLUMN, row.id, row.search_sealed))
    return SavedSearch(
        id=row.id,
        name=content["name"],
        operation=content["operation"],
        request=content["request"],
        labels=content.get("labels", []),
        form=content.get("form", {}),
        created_by=row.created_by,
        created_at=row.created_at,
    )


def for_operation(
    session: Session, cipher: RecordCipher, blind: BlindIndex, *, area: str, operation: str
) -> list[SavedSearch]:
    """The area's saved searches for this operation, newest first."""
    rows = list(
        session.scalars(
            select(m.SavedSearch)
            .where(
                m.SavedSearch.area == area,
                m.SavedSearch.operation_token == operation_token(blind, operation),
            )
            .order_by(m.SavedSearch.created_at.desc(), m.SavedSearch.id)
        )
    )
    cipher.load({r.data_key_id for r in rows})
    return [_open(cipher, r) for r in rows]


def one(
    session: Session,
    cipher: RecordCipher,
    blind: BlindIndex,
    search_id: uuid.UUID,
    *,
    area: str,
    operation: str,
) -> SavedSearch | None:
    """One saved search of this area and operation (None: no such search here)."""
    row = session.scalars(
        select(m.SavedSearch).where(
            m.SavedSearch.id == search_id,
            m.SavedSearch.area == area,
            m.SavedSearch.operation_token == operation_token(blind, operation),
        )
    ).first()
    return None if row is None else _open(cipher, row)


def remove(session: Session, search_id: uuid.UUID) -> None:
    """Delete the row and its data key (crypto-shredding any copy of the row left in a backup)."""
    key_id = session.scalar(select(m.SavedSearch.data_key_id).where(m.SavedSearch.id == search_id))
    session.execute(delete(m.SearchWatchMatch).where(m.SearchWatchMatch.saved_search_id == search_id))
    session.execute(delete(m.SearchWatch).where(m.SearchWatch.saved_search_id == search_id))
    session.execute(delete(m.SavedSearch).where(m.SavedSearch.id == search_id))
    if key_id is not None:
        session.execute(delete(m.DataKey).where(m.DataKey.id == key_id))


# ------------------------------------------------------------------ watches


def saved_row(session: Session, search_id: uuid.UUID) -> m.SavedSearch | None:
    return session.get(m.SavedSearch, search_id)


def opened(cipher: RecordCipher, row: m.SavedSearch) -> SavedSearch:
    return _open(cipher, row)


def watch(session: Session, search_id: uuid.UUID) -> m.SearchWatch | None:
    return session.get(m.SearchWatch, search_id)


def start_watch(
    session: Session,
    search_id: uuid.UUID,
    *,
    user: str,
    agency: str,
    area: str,
    roles: str,
    until: dt.date,
    now: dt.datetime,
) -> None:
    """Start (or renew, or start again) the watch of a saved search."""
    row = session.get(m.SearchWatch, search_id)
    if row is None:
        session.add(
            m.SearchWatch(
                saved_search_id=search_id,
                watcher_user=user,
                watcher_agency=agency,
                watcher_area=area,
                watcher_roles=roles,
                until=until,
                started_at=now,
                ended_at=None,
            )
        )
    else:
        if row.ended_at is not None or row.until < now.date():  # started again after it ended
            row.started_at = now
        row.watcher_agency, row.watcher_area, row.watcher_roles = agency, area, roles
        row.until, row.ended_at = until, None
    session.flush()


def end_watch(session: Session, search_id: uuid.UUID, now: dt.datetime) -> None:
    session.execute(
        update(m.SearchWatch).where(m.SearchWatch.saved_search_id == search_id).values(ended_at=now)
    )


def refresh_watcher(session: Session, *, user: str, agency: str, area: str, roles: str) -> int:
    """The principal the register now knows for a watcher (from their latest token), on all their watches."""
    changed = session.execute(
        update(m.SearchWatch)
        .where(
            m.SearchWatch.watcher_user == user,
            or_(
                m.SearchWatch.watcher_agency != agency,
                m.SearchWatch.watcher_area != area,
                m.SearchWatch.watcher_roles != roles,
            ),
        )
        .values(watcher_agency=agency, watcher_area=area, watcher_roles=roles)
    )
    return int(getattr(changed, "rowcount", 0) or 0)


def active_watches(session: Session, today: dt.date) -> list[m.SearchWatch]:
    """Watches neither ended nor past their date (expired ones are not evaluated)."""
    return list(
        session.scalars(
            select(m.SearchWatch)
            .where(m.SearchWatch.ended_at.is_(None), m.SearchWatch.until >= today)
            .order_by(m.SearchWatch.saved_search_id)
        )
    )


def watches_of(session: Session, cipher: RecordCipher, user: str) -> list[tuple[m.SearchWatch, SavedSearch]]:
    """A watcher's watches (ended ones too) with their saved searches opened: three queries."""
    rows = session.execute(
        select(m.SearchWatch, m.SavedSearch)
        .join(m.SavedSearch, m.SavedSearch.id == m.SearchWatch.saved_search_id)
        .where(m.SearchWatch.watcher_user == user)
        .order_by(m.SearchWatch.started_at.desc(), m.SearchWatch.saved_search_id)
    ).all()
    cipher.load({s.data_key_id for _, s in rows})
    return [(w, _open(cipher, s)) for w, s in rows]


def known(session: Session, search_id: uuid.UUID, ids: Collection[uuid.UUID]) -> set[uuid.UUID]:
    """Which of these records the watch has already found (baseline or told)."""
    if not ids:
        return set()
    return set(
        session.scalars(
            select(m.SearchWatchMatch.nominal_id).where(
                m.SearchWatchMatch.saved_search_id == search_id,
                m.SearchWatchMatch.nominal_id.in_(list(ids)),
            )
        )
    )


def add_matches(
    session: Session, search_id: uuid.UUID, ids: Collection[uuid.UUID], *, baseline: bool, now: dt.datetime
) -> None:
    """Record pairs not yet known (one insert for the lot)."""
    fresh = set(ids) - known(session, search_id, ids)
    if fresh:
        session.execute(
            insert(m.SearchWatchMatch),
            [
                {"saved_search_id": search_id, "nominal_id": i, "matched_at": now, "baseline": baseline}
                for i in sorted(fresh)
            ],
        )


def _visible_new(search_ids: Collection[uuid.UUID], area: str, restricted_stub: bool) -> Any:
    """New matches not yet seen whose record still exists, is not merged away and is not (now) a stub for
    this viewer: what is shown and counted."""
    visible = m.Nominal.status != "merged"
    if restricted_stub:
        visible = and_(visible, or_(m.Nominal.restricted.is_(False), m.Nominal.area == area))
    return (
        select(m.SearchWatchMatch.saved_search_id, m.SearchWatchMatch.nominal_id)
        .join(m.Nominal, m.Nominal.id == m.SearchWatchMatch.nominal_id)
        .where(
            m.SearchWatchMatch.saved_search_id.in_(list(search_ids)),
            m.SearchWatchMatch.baseline.is_(False),
            m.SearchWatchMatch.seen_at.is_(None),
            visible,
        )
    )


def new_counts(
    session: Session, search_ids: Collection[uuid.UUID], *, area: str, restricted_stub: bool
) -> dict[uuid.UUID, int]:
    if not search_ids:
        return {}
    sub = _visible_new(search_ids, area, restricted_stub).subquery()
    rows = session.execute(select(sub.c.saved_search_id, func.count()).group_by(sub.c.saved_search_id)).all()
    return {uuid.UUID(str(r[0])): int(r[1]) for r in rows}


def new_ids(session: Session, search_id: uuid.UUID, *, area: str, restricted_stub: bool) -> list[uuid.UUID]:
    stmt = _visible_new([search_id], area, restricted_stub).order_by(m.SearchWatchMatch.nominal_id)
    return [r.nominal_id for r in session.execute(stmt).all()]


def mark_seen(session: Session, search_id: uuid.UUID, now: dt.datetime) -> None:
    session.execute(
        update(m.SearchWatchMatch)
        .where(
            m.SearchWatchMatch.saved_search_id == search_id,
            m.SearchWatchMatch.baseline.is_(False),
            m.SearchWatchMatch.seen_at.is_(None),
        )
        .values(seen_at=now)
    )


MARK = WATCHES_MARK  # the row the outbox's pruning reads too


def mark(session: Session) -> int:
    return session.scalar(select(m.SearchWatchMark.outbox_id).where(m.SearchWatchMark.name == MARK)) or 0


def set_mark(session: Session, outbox_id: int) -> None:
    if session.get(m.SearchWatchMark, MARK) is None:
        session.add(m.SearchWatchMark(name=MARK, outbox_id=outbox_id))
    else:
        session.execute(
            update(m.SearchWatchMark).where(m.SearchWatchMark.name == MARK).values(outbox_id=outbox_id)
        )
    session.flush()


def newest_change(session: Session) -> int:
    return session.scalar(select(func.max(m.Outbox.id))) or 0


def changed_since(
    session: Session, after: int, *, indexed_only: bool, settled_before: dt.datetime, limit: int
) -> tuple[list[uuid.UUID], int, bool]:
    """Records changed after outbox row `after` (with Elasticsearch: only those the indexer has written), the
    mark to keep, and whether more rows follow. The mark stops before a change not yet indexed and before one
    younger than `settled_before` (a transaction that took its row's number earlier may still commit), so
    those are looked at again next time; looking again finds nothing new twice (pairs are kept once)."""
    rows = session.execute(
        select(m.Outbox.id, m.Outbox.nominal_id, m.Outbox.processed_at, m.Outbox.created_at)
        .where(m.Outbox.id > after)
        .order_by(m.Outbox.id)
        .limit(limit)
    ).all()
    ids: dict[uuid.UUID, None] = {}
    keep, blocked = after, False
    for r in rows:  # one batch of outbox rows, not the register
        if indexed_only and r.processed_at is None:
            blocked = True
            continue
        ids[r.nominal_id] = None
        if not blocked and r.created_at <= settled_before:
            keep = r.id
        else:
            blocked = True
    return list(ids), keep, len(rows) == limit
