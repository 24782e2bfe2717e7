"""Retention in SQL: the disposal candidates and the erasure of records, set-based over a batch."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator

from sqlalchemy import ColumnElement, case, delete, func, select, update
from sqlalchemy.orm import Session

from ..domain.enums import NominalStatus
from ..store import models as m
from ..store.records import id_batches


def candidate_batches(session_factory, today: dt.date, batch: int) -> Iterator[list[uuid.UUID]]:
    """Archived records without a legal hold whose disposal year (or exact date) has come, a batch at a
    time."""
    return id_batches(
        session_factory,
        batch,
        m.Nominal.status == NominalStatus.ARCHIVED.value,
        m.Nominal.legal_hold.is_(False),
        m.Nominal.dispose_from.is_not(None),
        m.Nominal.dispose_from <= today,
    )


def with_tombstones(session: Session, ids: list[uuid.UUID]) -> list[uuid.UUID]:
    """The records and the tombstones of duplicates merged into them (their identities go too)."""
    merged = session.scalars(
        select(m.Nominal.id).where(
            m.Nominal.merged_into_id.in_(ids), m.Nominal.status == NominalStatus.MERGED.value
        )
    )
    return [*ids, *merged]


def erase(session: Session, ids: list[uuid.UUID], today: dt.date) -> None:
    """Erase the personal content of these records, whatever their size, in a fixed number of statements:
    tokens, items, chronology, transfer details and the reasons given in merges and dismissals are deleted;
    the identity is overwritten; what is left is a tombstone of plain metadata (id, area, type, archive reason
    and dates) for the audit trail."""
    session.execute(delete(m.BlindToken).where(m.BlindToken.nominal_id.in_(ids)))
    session.execute(delete(m.Item).where(m.Item.nominal_id.in_(ids)))
    doomed = select(m.ChronologyEntry.id).where(m.ChronologyEntry.nominal_id.in_(ids)).scalar_subquery()
    session.execute(
        update(m.ChronologyEntry).where(m.ChronologyEntry.amends_id.in_(doomed)).values(amends_id=None),
        execution_options={"synchronize_session": False},
    )
    session.execute(delete(m.ChronologyEntry).where(m.ChronologyEntry.nominal_id.in_(ids)))
    session.execute(delete(m.Transfer).where(m.Transfer.nominal_id.in_(ids)))
    # Reasons given in merges and dismissals may name people: they go; the fact of the merge stays for the
    # audit trail.
    session.execute(
        update(m.Merge)
        .where(m.Merge.survivor_id.in_(ids) | m.Merge.merged_id.in_(ids))
        .values(unmerge_reason_sealed=None),
        execution_options={"synchronize_session": False},
    )
    session.execute(
        delete(m.DuplicateDismissal).where(
            m.DuplicateDismissal.first_id.in_(ids) | m.DuplicateDismissal.second_id.in_(ids)
        )
    )
    session.execute(
        update(m.Nominal)
        .where(m.Nominal.id.in_(ids))
        .values(
            status=NominalStatus.ERASED.value,
            identity_sealed=b"",
            erased_on=today,
            version=m.Nominal.version + 1,
            legal_hold=False,
            retention_review_on=None,
            dispose_from=None,
            notification_subject=False,
            notification_indefinite=None,
            notification_ends_on=None,
            notification_review_from=None,
            notification_due_on=None,
        ),
        # synchronised (the default): a header row this transaction holds (`header_row`) shows the erasure
    )


# ------------------------------------------------------------------ the supervisor's desk (web/retention.py)

ARCHIVED = m.Nominal.status == NominalStatus.ARCHIVED.value


def desk_views(today: dt.date) -> dict[str, ColumnElement[bool]]:
    """What each view of the retention desk holds, as SQL over one area's records."""
    return {
        "review": ARCHIVED
        & m.Nominal.retention_review_on.is_not(None)
        & (m.Nominal.retention_review_on <= today),
        "disposal": ARCHIVED
        & m.Nominal.legal_hold.is_(False)
        & m.Nominal.dispose_from.is_not(None)
        & (m.Nominal.dispose_from <= today),
        "holds": m.Nominal.legal_hold.is_(True)
        & m.Nominal.status.in_([NominalStatus.ACTIVE.value, NominalStatus.ARCHIVED.value]),
        "archived": ARCHIVED,
    }


def desk_counts(session: Session, area: str, today: dt.date) -> dict[str, int]:
    """How many records each view holds, in one query over the area's records."""
    views = desk_views(today)
    row = session.execute(
        select(
            *(func.coalesce(func.sum(case((where, 1), else_=0)), 0).label(k) for k, where in views.items())
        ).where(m.Nominal.area == area)
    ).one()
    return {k: int(getattr(row, k)) for k in views}


DESK_ORDER = {
    "review": (m.Nominal.retention_review_on, m.Nominal.id),
    "disposal": (m.Nominal.dispose_from, m.Nominal.id),
    "holds": (m.Nominal.updated_at.desc(), m.Nominal.id),
    "archived": (m.Nominal.archived_on.desc(), m.Nominal.id),
}


def desk_page(
    session: Session, area: str, view: str, today: dt.date, *, limit: int, offset: int
) -> list[m.Nominal]:
    """One page of a view's records, in the order that matters for it (the longest overdue first)."""
    return list(
        session.scalars(
            select(m.Nominal)
            .where(m.Nominal.area == area, desk_views(today)[view])
            .order_by(*DESK_ORDER[view])
            .limit(limit)
            .offset(offset)
        )
    )
