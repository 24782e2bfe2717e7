"""The MAPPA annual statistics, in the layout of the published reports (Kent 2022/23).

A reporting year `year` runs from 1 April of year-1 to 31 March of `year`; snapshot tables count on 31 March.
Every table is one SQL query yielding (nominal_id, row, column); a cell's figure is COUNT(DISTINCT nominal_id)
of its rows (GROUP BY, no loop over records), and the people behind a cell are the same query filtered to it.
Category 4 is counted but left out of the published tables.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, Select, and_, func, literal, or_, select

from ..audit.events import Action, AuditEntry
from ..audit.tags import Tag
from ..domain.actors import Actor
from ..domain.enums import AddressKind, BreachOf, ChronologyKind, EventOutcome, OrderKind, OrderStatus
from ..domain.errors import InvalidValue
from ..domain.record import Section
from ..store import models as m
from ..store.uow import UnitOfWork
from ..usecase.core import use_case

N = m.Nominal
PUBLISHED_CATEGORIES = (1, 2, 3)


@dataclass(frozen=True)
class Year:
    year: int

    @property
    def start(self) -> dt.date:
        return dt.date(self.year - 1, 4, 1)

    @property
    def end(self) -> dt.date:
        return dt.date(self.year, 3, 31)

    def start_ts(self) -> dt.datetime:
        return dt.datetime.combine(self.start, dt.time(), tzinfo=dt.UTC)

    def end_ts(self) -> dt.datetime:
        return dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)


def _at(column: Any, on: Any, fallback: Any) -> Any:
    """The MAPPA level or category in effect on a date: the latest level change effective by then, else the
    header's."""
    latest = (
        select(column)
        .where(
            m.Item.nominal_id == N.id,
            m.Item.section == Section.MAPPA_LEVELS.value,
            m.Item.ended_at.is_(None),
            m.Item.starts_on <= on,
        )
        .order_by(m.Item.starts_on.desc(), m.Item.recorded_at.desc())
        .limit(1)
        .scalar_subquery()
    )
    return func.coalesce(latest, fallback)


def _in_community(on: dt.date) -> Any:
    """Not in prison or detained in hospital on the date (by the address recorded for that date)."""
    detained = (
        select(m.Item.id)
        .where(
            m.Item.nominal_id == N.id,
            m.Item.section == Section.ADDRESSES.value,
            m.Item.ended_at.is_(None),
            m.Item.kind.in_([AddressKind.PRISON.value, AddressKind.HOSPITAL.value]),
            m.Item.starts_on <= on,
            or_(m.Item.ends_on.is_(None), m.Item.ends_on >= on),
        )
        .exists()
    )
    return ~detained


def _base(area: str, y: Year) -> list[Any]:
    return [N.area == area, N.status != "merged"]


def eligible_on_31_march(area: str, y: Year) -> Select[*tuple[Any, ...]]:
    category, level = _at(m.Item.category, y.end, N.mappa_category), _at(m.Item.level, y.end, N.mappa_level)
    return select(N.id.label("nominal_id"), category.label("row"), level.label("col")).where(
        *_base(area, y), N.mappa_category.is_not(None), _in_community(y.end)
    )


def level23_during_year(area: str, y: Year) -> Select[*tuple[Any, ...]]:
    nxt = func.lead(m.Item.starts_on).over(
        partition_by=m.Item.nominal_id, order_by=(m.Item.starts_on, m.Item.recorded_at)
    )
    periods = (
        select(m.Item.nominal_id, m.Item.category, m.Item.level, m.Item.starts_on, nxt.label("until"))
        .where(m.Item.section == Section.MAPPA_LEVELS.value, m.Item.ended_at.is_(None))
        .subquery()
    )
    from_history = (
        select(N.id.label("nominal_id"), periods.c.category.label("row"), periods.c.level.label("col"))
        .join(periods, periods.c.nominal_id == N.id)
        .where(
            *_base(area, y),
            periods.c.level.in_([2, 3]),
            periods.c.starts_on <= y.end,
            or_(periods.c.until.is_(None), periods.c.until > y.start),
        )
    )
    no_history = (
        ~select(m.Item.id)
        .where(
            m.Item.nominal_id == N.id, m.Item.section == Section.MAPPA_LEVELS.value, m.Item.ended_at.is_(None)
        )
        .exists()
    )
    from_header = select(
        N.id.label("nominal_id"), N.mappa_category.label("row"), N.mappa_level.label("col")
    ).where(*_base(area, y), no_history, N.mappa_level.in_([2, 3]))
    return from_history.union_all(from_header)  # type: ignore[return-value]  # a compound select, used as a select


def _events(
    area: str, y: Year, breach_of: BreachOf, outcomes: list[EventOutcome], kinds: list[ChronologyKind]
) -> Any:
    e = m.ChronologyEntry
    return (
        e,
        [
            e.nominal_id == N.id,
            e.breach_of == breach_of.value,
            e.outcome.in_([o.value for o in outcomes]),
            e.kind.in_([k.value for k in kinds]),
            e.occurred_at >= y.start_ts(),
            e.occurred_at < y.end_ts(),
            *_base(area, y),
        ],
    )


def breach_of_notification(area: str, y: Year) -> Select[*tuple[Any, ...]]:
    e, where = _events(
        area,
        y,
        BreachOf.NOTIFICATION,
        [EventOutcome.CAUTION, EventOutcome.CONVICTION],
        [ChronologyKind.BREACH],
    )
    category = _at(m.Item.category, func.date(e.occurred_at), N.mappa_category)
    return (
        select(N.id.label("nominal_id"), literal("category_1").label("row"), literal("count").label("col"))
        .select_from(N)
        .join(e, e.nominal_id == N.id)
        .where(*where, category == 1)
    )


def _orders(area: str, y: Year, kinds: list[OrderKind], *extra: Any) -> list[Any]:
    return [
        m.Item.nominal_id == N.id,
        m.Item.section == Section.ORDERS.value,
        m.Item.kind.in_([k.value for k in kinds]),
        m.Item.ended_at.is_(None),
        *_base(area, y),
        *extra,
    ]


def lifetime_notification_revoked(area: str, y: Year) -> Select[*tuple[Any, ...]]:
    return (
        select(N.id.label("nominal_id"), literal("category_1").label("row"), literal("count").label("col"))
        .join(m.Item, m.Item.nominal_id == N.id)
        .where(
            *_orders(
                area,
                y,
                [OrderKind.NOTIFICATION_REQUIREMENT],
                m.Item.status == OrderStatus.REVOKED.value,
                m.Item.ends_on >= y.start,
                m.Item.ends_on <= y.end,
            )
        )
    )


def orders_made(area: str, y: Year) -> Select[*tuple[Any, ...]]:
    made = and_(m.Item.checked_on >= y.start, m.Item.checked_on <= y.end)
    shpo = (
        select(N.id.label("nominal_id"), literal("shpo").label("row"), literal("count").label("col"))
        .join(m.Item, m.Item.nominal_id == N.id)
        .where(*_orders(area, y, [OrderKind.SHPO, OrderKind.SOPO], made))
    )
    shpo_ftr = (
        select(
            N.id.label("nominal_id"),
            literal("shpo_foreign_travel_restriction").label("row"),
            literal("count").label("col"),
        )
        .join(m.Item, m.Item.nominal_id == N.id)
        .where(
            *_orders(
                area, y, [OrderKind.SHPO, OrderKind.SOPO], made, m.Item.ref == "foreign_travel_restriction"
            )
        )
    )
    notification_order = (
        select(
            N.id.label("nominal_id"),
            literal("notification_order").label("row"),
            literal("count").label("col"),
        )
        .join(m.Item, m.Item.nominal_id == N.id)
        .where(*_orders(area, y, [OrderKind.NOTIFICATION_ORDER], made))
    )
    return shpo.union_all(shpo_ftr, notification_order)  # type: ignore[return-value]  # as above


def notification_after_sro_breach(area: str, y: Year) -> Select[*tuple[Any, ...]]:
    e, where = _events(area, y, BreachOf.SRO, [EventOutcome.CONVICTION], [ChronologyKind.BREACH])
    return (
        select(N.id.label("nominal_id"), literal("count").label("row"), literal("count").label("col"))
        .select_from(N)
        .join(e, e.nominal_id == N.id)
        .where(*where)
    )


def returned_to_custody(area: str, y: Year) -> Select[*tuple[Any, ...]]:
    e, where = _events(
        area, y, BreachOf.LICENCE, [EventOutcome.RECALL], [ChronologyKind.RECALL, ChronologyKind.BREACH]
    )
    on = func.date(e.occurred_at)
    category, level = _at(m.Item.category, on, N.mappa_category), _at(m.Item.level, on, N.mappa_level)
    return (
        select(N.id.label("nominal_id"), category.label("row"), level.label("col"))
        .select_from(N)
        .join(e, e.nominal_id == N.id)
        .where(*where, level.in_([2, 3]))
    )


def shpo_breach(area: str, y: Year) -> Select[*tuple[Any, ...]]:
    e, where = _events(
        area, y, BreachOf.SHPO, [EventOutcome.CAUTION, EventOutcome.CONVICTION], [ChronologyKind.BREACH]
    )
    level = _at(m.Item.level, func.date(e.occurred_at), N.mappa_level)
    return (
        select(N.id.label("nominal_id"), literal("breach_of_shpo").label("row"), level.label("col"))
        .select_from(N)
        .join(e, e.nominal_id == N.id)
        .where(*where, level.in_([2, 3]))
    )


def rso_by_unit(area: str, y: Year) -> Select[*tuple[Any, ...]]:
    q = eligible_on_31_march(area, y).subquery()
    return (
        select(q.c.nominal_id, N.managing_unit.label("row"), literal("count").label("col"))
        .join(N, N.id == q.c.nominal_id)
        .where(q.c.row == 1)
    )


TABLES = {
    "eligible_on_31_march": eligible_on_31_march,
    "level_2_3_during_year": level23_during_year,
    "category_1_breach_of_notification": breach_of_notification,
    "lifetime_notification_revoked": lifetime_notification_revoked,
    "orders_made": orders_made,
    "notification_after_sro_breach": notification_after_sro_breach,
    "level_2_3_returned_to_custody": returned_to_custody,
    "breach_of_shpo": shpo_breach,
    "registered_sex_offenders_by_unit": rso_by_unit,
}
BY_CATEGORY = {"eligible_on_31_march", "level_2_3_during_year", "level_2_3_returned_to_custody"}


def _published(table: str, row: Any) -> bool:
    return table not in BY_CATEGORY or row in PUBLISHED_CATEGORIES


def register_stamp(session: Any) -> tuple[Any, ...]:
    """What changes whenever anything the tables read changes: every change to a record (an item, a
    chronology entry, its area, status or level, a merge, an erasure) takes the record to a new version, and
    versions only grow; a new record adds to the count. One scan of `nominal`'s narrow columns."""
    row = session.execute(
        select(func.count(), func.coalesce(func.sum(m.Nominal.version), 0), func.max(m.Nominal.updated_at))
    ).one()
    return (str(session.get_bind().url), *row)


_COMPUTED: OrderedDict[tuple[Any, ...], dict[str, Any]] = OrderedDict()
_COMPUTED_MAX = 64
_COMPUTED_LOCK = threading.Lock()


def compute(session: Any, area: str, year: int, population_10_plus: int | None = None) -> dict[str, Any]:
    """Every table as {row: {column: count}}, plus Category 4 (counted, not published) and the rate per
    100,000. The eighteen queries behind a year's tables take seconds on a large register, so a year's figures
    are kept (in this process, for the 64 most recent area-years) until the register changes
    (`register_stamp`): a page shows the same figures a fresh computation would, without computing them on
    every view."""
    key = (*register_stamp(session), area, year, population_10_plus)
    with _COMPUTED_LOCK:
        kept = _COMPUTED.get(key)
        if kept is not None:
            _COMPUTED.move_to_end(key)
            return copy.deepcopy(kept)
    figures = _compute(session, area, year, population_10_plus)
    with _COMPUTED_LOCK:
        _COMPUTED[key] = copy.deepcopy(figures)
        while len(_COMPUTED) > _COMPUTED_MAX:
            _COMPUTED.popitem(last=False)
    return figures


def _compute(session: Any, area: str, year: int, population_10_plus: int | None) -> dict[str, Any]:
    y = Year(year)
    out: dict[str, Any] = {
        "area": area,
        "year": f"{year - 1}/{str(year)[2:]}",
        "period": {"from": y.start.isoformat(), "to": y.end.isoformat()},
        "snapshot": y.end.isoformat(),
        "tables": {},
        "unpublished": {},
    }
    for name, build in TABLES.items():
        q = build(area, y).subquery()
        rows = session.execute(
            select(q.c.row, q.c.col, func.count(func.distinct(q.c.nominal_id))).group_by(q.c.row, q.c.col)
        ).all()
        table: dict[str, dict[str, int]] = {}
        for row, col, count in rows:
            target = table if _published(name, row) else out["unpublished"].setdefault(name, {})
            target.setdefault(str(row), {})[str(col)] = count
        out["tables"][name] = table
    category_1 = sum(out["tables"]["eligible_on_31_march"].get("1", {}).values())
    out["notification_rate_per_100k"] = (
        None if not population_10_plus else round(category_1 / population_10_plus * 100_000, 1)
    )
    return out


_INTEGER_KEY = re.compile(r"[0-9]{1,9}", re.ASCII)


def _key(column: Any, value: str, name: str) -> Any:
    """A cell's row or column as its dimension's type: a category or level is a small whole number (ASCII
    digits: "²" and "٣" are digits to str.isdigit() but not to int()); a unit or a label is any text, compared
    as text."""
    if not isinstance(column.type, Integer):
        return value
    if not _INTEGER_KEY.fullmatch(value):
        raise InvalidValue("integer", f"this table's {name}s are whole numbers (such as 1, 2 or 3)", name)
    return int(value)


def people(session: Any, area: str, year: int, table: str, row: str, col: str) -> list[uuid.UUID]:
    """The records behind one cell: the cell's own query, filtered to it."""
    if table not in TABLES:
        raise KeyError(table)
    q = TABLES[table](area, Year(year)).subquery()
    ids = session.scalars(
        select(func.distinct(q.c.nominal_id)).where(
            q.c.row == _key(q.c.row, row, "row"), q.c.col == _key(q.c.col, col, "column")
        )
    )
    return sorted(
        (i if isinstance(i, uuid.UUID) else uuid.UUID(str(i)) for i in ids), key=str
    )  # a UNION loses the column type


@use_case(Tag.STATISTICS_TABLES_READ, Action.CONSULTATION)
def read_tables(
    uow: UnitOfWork, actor: Actor, area: str, year: int, population_10_plus: int | None = None
) -> dict[str, Any]:
    """An area's annual statistics tables, audited as a consultation."""
    figures = compute(uow.session, area, year, population_10_plus)
    uow.audit.record(
        AuditEntry(
            Action.CONSULTATION, Tag.STATISTICS_TABLES_READ, actor, details={"area": area, "year": year}
        )
    )
    return figures


@use_case(Tag.STATISTICS_CELL_PEOPLE, Action.CONSULTATION)
def read_cell(
    uow: UnitOfWork,
    actor: Actor,
    area: str,
    year: int,
    table: str,
    row: str,
    column: str,
    *,
    request_id: str | None = None,
) -> list[uuid.UUID]:
    """The records behind one figure: a consultation of each, audited with their ids."""
    ids = people(uow.session, area, year, table, row, column)
    uow.audit.record(
        AuditEntry(
            Action.CONSULTATION,
            Tag.STATISTICS_CELL_PEOPLE,
            actor,
            request_id=request_id,
            details={
                "year": year,
                "table": table,
                "row": row,
                "column": column,
                "ids": [str(i) for i in ids],
            },
        )
    )
    return ids


@use_case(Tag.STATISTICS_TABLES_READ, Action.CONSULTATION)
def read_tables_compared(
    uow: UnitOfWork, actor: Actor, area: str, year: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """An area's tables for a reporting year and for the year before (year-on-year), audited once as a
    consultation naming both years."""
    figures = compute(uow.session, area, year)
    previous = compute(uow.session, area, year - 1)
    uow.audit.record(
        AuditEntry(
            Action.CONSULTATION,
            Tag.STATISTICS_TABLES_READ,
            actor,
            details={"area": area, "year": year, "compared_with": year - 1},
        )
    )
    return figures, previous


NAME_ORDER_UP_TO = 500


@dataclass(frozen=True)
class CellPeople:
    total: int
    people: list[Any]  # store.listing.Summary: this page's, by name (a cell of up to NAME_ORDER_UP_TO)


@use_case(Tag.STATISTICS_CELL_PEOPLE, Action.CONSULTATION)
def read_cell_people(
    uow: UnitOfWork,
    actor: Actor,
    area: str,
    year: int,
    table: str,
    row: str,
    column: str,
    *,
    offset: int = 0,
    limit: int = 50,
    request_id: str | None = None,
) -> CellPeople:
    """The people behind one figure with their names (one page of them): a consultation of each, audited with
    the ids whose names were shown, as `read_cell` audits the ids it returns."""
    if table not in TABLES:
        raise InvalidValue("enum", f"there is no table {table!r}", "table")
    ids = people(uow.session, area, year, table, row, column)
    if len(ids) <= NAME_ORDER_UP_TO:
        # names are sealed: ordering by name means opening every name in the cell, so only for small cells
        ordered = sorted(
            uow.nominals.summaries(ids).values(),
            key=lambda s: (s.surname.casefold(), s.forenames.casefold(), str(s.id)),
        )
        shown = ordered[offset : offset + limit]
    else:
        page = ids[offset : offset + limit]  # in the order of their ids; only this page's names are opened
        found = uow.nominals.summaries(page)
        shown = [found[i] for i in page if i in found]
    uow.audit.record(
        AuditEntry(
            Action.CONSULTATION,
            Tag.STATISTICS_CELL_PEOPLE,
            actor,
            request_id=request_id,
            details={
                "year": year,
                "table": table,
                "row": row,
                "column": column,
                "names": True,
                "total": len(ids),
                "ids": [str(s.id) for s in shown],
            },
        )
    )
    return CellPeople(len(ids), shown)
