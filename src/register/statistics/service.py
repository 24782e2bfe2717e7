"""The MAPPA annual statistics, in the layout of the published reports (Kent 2022/23), as defined in
docs/statistics.md.

A reporting year `year` runs from 1 April of year-1 to 31 March of `year` in UK local time (Europe/London);
snapshot tables count at the end of 31 March. Nothing is read from a record's current values: a person's
area, category, level, status and custody at any moment come from the effective-dated history
(`nominal_history`, written by the use cases), so an event belongs to the area that held the record when it
happened, and a snapshot is the picture that night.

A year's figures are as the register knew them at the end of 1 April after the year ("published"); what has
been recorded since (a correction, a late entry) is shown beside them as a revision, never folded in.

Every table is one SQL query yielding (nominal_id, row, column); a cell's figure is COUNT(DISTINCT nominal_id)
of its rows (GROUP BY, no loop over records), and the people behind a cell are the same query filtered to it.
Category 4 is counted but left out of the published tables.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import re
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import (
    Date,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    case,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from ..audit.events import Action, AuditEntry
from ..audit.tags import Tag
from ..domain import clock
from ..domain.actors import Actor
from ..domain.enums import BreachOf, ChronologyKind, EventOutcome, OrderKind, OrderStatus
from ..domain.errors import InvalidValue
from ..domain.history import ACTIVE, COMMUNITY, local_day, start_of_day
from ..domain.record import Section
from ..store import models as m
from ..store.uow import UnitOfWork
from ..usecase.core import use_case

V = TypeVar("V")

N = m.Nominal
H = m.NominalHistory
E = m.ChronologyEntry
PUBLISHED_CATEGORIES = (1, 2, 3)
CONVICTED = [EventOutcome.CONVICTION, EventOutcome.CONVICTION_CUSTODY, EventOutcome.CONVICTION_NO_CUSTODY]
TO_CUSTODY = [EventOutcome.RECALL, EventOutcome.CONVICTION_CUSTODY]


@dataclass(frozen=True)
class Year:
    """A reporting year, and what the register knew when computing it: `known` None is everything recorded
    so far; `until`, for a year still running, is the end of the day its provisional figures are for."""

    year: int
    known: dt.datetime | None = None
    until: dt.date | None = None
    # How a person's state is resolved (`_state`), set for the engine by `_on`: by one sort of the points'
    # history rows (PostgreSQL), or by a lookup per point and dimension (SQLite, whose correlated lookups
    # cost less than its window sorts). The figures are the same either way.
    one_sort: bool = False

    @property
    def start(self) -> dt.date:
        return dt.date(self.year - 1, 4, 1)

    @property
    def end(self) -> dt.date:
        return self.until or dt.date(self.year, 3, 31)

    def start_ts(self) -> dt.datetime:
        return start_of_day(self.start)

    def end_ts(self) -> dt.datetime:
        """The first instant after the period: midnight at the end of its last day, UK time."""
        return start_of_day(self.end + dt.timedelta(days=1))

    def published_at(self) -> dt.datetime:
        """The figures are as the register stood at the end of 1 April after the year."""
        return start_of_day(dt.date(self.year, 4, 2))


# The engines on which `_state` resolves states by one sort (decision 68).
ONE_SORT_ENGINES = frozenset({"postgresql"})


def _on(session: Any, y: Year) -> Year:
    """The year as computed on this session's engine."""
    return dataclasses.replace(y, one_sort=session.get_bind().dialect.name in ONE_SORT_ENGINES)


# Every value a year's statements depend on is a bind parameter named here, and nothing else in them varies
# with the area or the year but their shape (`_shape`): so one statement of each shape, built once, serves
# every area and year, given the values at execution (`_values`). Built afresh for each view, the statements
# of a page's two years cost about 70 ms of CPU (and their cache keys 15 more) before a row was read.
def _values(area: str | None, y: Year) -> dict[str, Any]:
    """The bind parameters of the statements of `area` (None: every area) for `y`."""
    return {
        "year_start": y.start_ts(),
        "year_end": y.end_ts(),
        "snapshot_at": y.end_ts() - dt.timedelta(microseconds=1),
        "known_at": y.known,
        "first_day": y.start,
        "last_day": y.end,
        "area": area,
    }


def _value(name: str, area: str | None, y: Year) -> Any:
    """The bind parameter `name` (a key of `_values`), holding its value for `area` and `y`."""
    value = _values(area, y)[name]
    if name in ("first_day", "last_day"):
        return bindparam(name, value, type_=Date())
    if name == "area":
        return _area(value)
    return bindparam(name, value, type_=m.UTCDateTime())


def _area(area: str | None) -> Any:
    """The bind parameter `area` (see `_values`), holding `area`."""
    return bindparam("area", area, type_=String())


def _shape(area: str | None, y: Year) -> tuple[bool, bool, bool]:
    """What the statements' structure depends on: one area or all, as known at a date or now, the engine's
    way of resolving states."""
    return (area is None, y.known is None, y.one_sort)


def _known(table: Any, y: Year) -> list[Any]:
    """Rows the register held at `y.known` (all of them when None)."""
    if y.known is None:
        return [table.superseded_at.is_(None)] if table is H else []
    out = [table.recorded_at < _value("known_at", None, y)]
    if table is H:
        out.append(or_(table.superseded_at.is_(None), table.superseded_at >= _value("known_at", None, y)))
    return out


DIMENSIONS = ("area", "managing_unit", "category", "level", "status", "custody")


def _state(
    points: Any, y: Year, dimensions: tuple[str, ...] = DIMENSIONS, *, held_by: str | None = None
) -> Any:
    """For each point (key, nominal_id, at): each dimension's value in effect at `at`, from the history: the
    latest change effective by then (the latest recorded of two effective together), a record's initial
    values only where no dated change is in effect yet. One statement, resolved as suits the engine
    (`Year.one_sort`). `held_by`: an area every point's person has been held by, said again where the
    points meet the history (`_area_people`)."""
    if y.one_sort:
        return _state_by_sort(points, y, dimensions, held_by)
    return _state_by_lookups(points, y, dimensions)


def _state_by_sort(points: Any, y: Year, dimensions: tuple[str, ...], held_by: str | None) -> Any:
    """`_state` by one sort (PostgreSQL, decision 68): each point is joined to its person's history rows
    effective by then, numbered in the order of precedence (`pos`); each dimension's value is the one of the
    lowest-numbered row that sets it. (A lookup per point and dimension was 570,000 index probes for the
    snapshot of 100,000 people.)"""
    whole = (points.c.key, points.c.nominal_id, points.c.at)
    rows = (
        select(
            *whole,
            *(getattr(H, name).label(name) for name in dimensions),
            func.row_number()
            .over(
                partition_by=whole,
                order_by=(
                    case((H.source == "initial", 1), else_=0),
                    H.effective_at.desc(),
                    H.recorded_at.desc(),
                    H.id.desc(),
                ),
            )
            .label("pos"),
        )
        .select_from(
            points.outerjoin(
                H,
                and_(
                    H.nominal_id == points.c.nominal_id,
                    H.effective_at <= points.c.at,
                    *_known(H, y),
                    *_area_people(H, y, held_by),
                ),
            )
        )
        .subquery()
    )
    first = (
        select(
            rows,
            *(
                func.min(case((rows.c[name].is_not(None), rows.c.pos)))
                .over(partition_by=(rows.c.key, rows.c.nominal_id, rows.c.at))
                .label(f"{name}_pos")
                for name in dimensions
            ),
        )
    ).subquery()
    return (
        select(
            first.c.key,
            first.c.nominal_id,
            first.c.at,
            *(
                func.max(case((first.c.pos == first.c[f"{name}_pos"], first.c[name]))).label(name)
                for name in dimensions
            ),
        )
        .group_by(first.c.key, first.c.nominal_id, first.c.at)
        .subquery()
    )


def _state_by_lookups(points: Any, y: Year, dimensions: tuple[str, ...]) -> Any:
    """`_state` by a lookup per point and dimension of the few history rows of that person through the
    (nominal_id, effective_at) index (SQLite)."""
    columns = [points.c.key, points.c.nominal_id, points.c.at]
    for name in dimensions:
        column = getattr(H, name)
        latest = (
            select(column)
            .where(
                H.nominal_id == points.c.nominal_id,
                H.effective_at <= points.c.at,
                column.is_not(None),
                *_known(H, y),
            )
            .order_by(
                case((H.source == "initial", 1), else_=0),
                H.effective_at.desc(),
                H.recorded_at.desc(),
                H.id.desc(),
            )
            .limit(1)
            .correlate(points)
            .scalar_subquery()
        )
        columns.append(latest.label(name))
    return select(*columns).subquery()


def _people(y: Year, area: str | None = None) -> list[Any]:
    """Who can appear at all: registered before the period ended (as known), not a merged duplicate, and (with
    `area`) held by that area at some time: the area's people are found first through the history's area
    index, so every table resolves the history of its own area's people, not of the country's."""
    out = [N.created_at < _value("year_end", area, y), N.status != "merged", *_known_record(y)]
    if area is not None:
        out.append(N.id.in_(select(H.nominal_id).where(H.area == _value("area", area, y))))
    return out


def _area_people(table: Any, y: Year, area: str | None) -> list[Any]:
    """With `area`: `table`'s rows of the people the area has ever held, as `_people` finds them (the
    history's area index). Every point of an area's table is such a person already; said again where the
    Level 2 and 3 table's points meet the history, it lets PostgreSQL hash only the area's people's history
    rows there, not everyone's (decision 78). Said for the snapshot, it turned a lookup per person through
    the (nominal_id, effective_at) index into a hash of the area's history, and the snapshot's cells were
    slower (a median 144 to 157 ms before, 164 to 189 after)."""
    if area is None:
        return []
    held = H.__table__.alias("held")
    return [table.nominal_id.in_(select(held.c.nominal_id).where(held.c.area == _value("area", area, y)))]


def _known_record(y: Year) -> list[Any]:
    return [] if y.known is None else [N.created_at < _value("known_at", None, y)]


def _in(s: Any, area: str | None) -> list[Any]:
    """The rows of the area's state (None: every area's, each table then grouped by area)."""
    return [] if area is None else [s.c.area == _area(area)]


def _snapshot(area: str | None, y: Year) -> Any:
    """Everyone's state at the end of the period's last day (the instant before midnight)."""
    points = (
        select(
            N.id.label("key"),
            N.id.label("nominal_id"),
            _value("snapshot_at", area, y).label("at"),
        )
        .where(*_people(y, area))
        .subquery()
    )
    s = _state(points, y)
    return select(s).where(*_in(s, area)).subquery()


def eligible_on_31_march(area: str | None, y: Year) -> Select[Any]:
    """In the community (not in prison, not detained in hospital), active (not died, notification not ended or
    revoked, not archived) and MAPPA-eligible (a category) at the end of 31 March, by category and level."""
    s = _snapshot(area, y)
    return select(s.c.nominal_id, s.c.category.label("row"), s.c.level.label("col"), s.c.area).where(
        s.c.status == ACTIVE, s.c.custody == COMMUNITY, s.c.category.is_not(None)
    )


def level23_during_year(area: str | None, y: Year) -> Select[Any]:
    """Managed at Level 2 or 3 by this area at any moment of the year (while active): the state at the start
    of the year and after every change during it. A person is counted once, at the highest level held (Level
    3 over Level 2), under the category they had then (docs/statistics.md)."""
    start = select(N.id.label("nominal_id"), _value("year_start", area, y).label("at")).where(
        *_people(y, area)
    )
    changes = (
        select(H.nominal_id, H.effective_at.label("at"))
        .join(N, N.id == H.nominal_id)
        .where(
            H.effective_at >= _value("year_start", area, y),
            H.effective_at < _value("year_end", area, y),
            or_(H.area.is_not(None), H.level.is_not(None), H.status.is_not(None)),  # what this table reads
            *_people(y, area),
            *_known(H, y),
        )
    )
    both = union_all(start, changes).subquery()
    points = select(
        func.row_number().over(order_by=(both.c.nominal_id, both.c.at)).label("key"),
        both.c.nominal_id,
        both.c.at,
    ).subquery()
    # the one table whose points PostgreSQL joined to all of the history (decision 78)
    s = _state(points, y, ("area", "category", "level", "status"), held_by=area)
    held = (
        select(
            s.c.nominal_id,
            s.c.category,
            s.c.level,
            s.c.area,
            func.row_number()
            .over(partition_by=(s.c.area, s.c.nominal_id), order_by=(s.c.level.desc(), s.c.at.desc()))
            .label("rn"),
        )
        .where(*_in(s, area), s.c.status == ACTIVE, s.c.level.in_([2, 3]), s.c.category.is_not(None))
        .subquery()
    )
    return select(
        held.c.nominal_id, held.c.category.label("row"), held.c.level.label("col"), held.c.area
    ).where(held.c.rn == 1)


def _latest_versions(y: Year) -> Any:
    """Each breach or recall entry once, as its latest version (an amendment may correct when it happened,
    what was breached and the outcome); one withdrawn as recorded in error is left out."""
    root = func.coalesce(E.original_id, E.id)
    rank = func.row_number().over(
        partition_by=root,
        order_by=(E.recorded_at.desc(), case((E.original_id.is_(None), 1), else_=0), E.id.desc()),
    )
    versions = (
        select(
            root.label("event_id"),
            E.nominal_id,
            E.kind,
            E.breach_of,
            E.outcome,
            E.occurred_at,
            rank.label("rn"),
        )
        .where(
            E.kind.in_(
                [
                    ChronologyKind.BREACH.value,
                    ChronologyKind.RECALL.value,
                    ChronologyKind.AMENDMENT.value,
                    ChronologyKind.WITHDRAWAL.value,
                ]
            ),
            *_known(E, y),
        )
        .subquery()
    )
    first = E.__table__.alias("first_version")
    return (
        select(
            versions.c.event_id,
            versions.c.nominal_id,
            first.c.kind,
            versions.c.breach_of,
            versions.c.outcome,
            versions.c.occurred_at,
        )
        .join(first, first.c.id == versions.c.event_id)
        .where(
            versions.c.rn == 1,
            versions.c.kind != ChronologyKind.WITHDRAWAL.value,
            first.c.kind.in_([ChronologyKind.BREACH.value, ChronologyKind.RECALL.value]),
        )
        .subquery()
    )


def _events(
    area: str | None, y: Year, breach_of: BreachOf, outcomes: list[EventOutcome], kinds: list[ChronologyKind]
) -> Any:
    """The year's events of a kind, each with the state of its person when it happened (area, category,
    level): it counts for the area that held the record then, whatever happened since."""
    v = _latest_versions(y)
    points = (
        select(v.c.event_id.label("key"), v.c.nominal_id, v.c.occurred_at.label("at"))
        .join(N, N.id == v.c.nominal_id)
        .where(
            v.c.breach_of == breach_of.value,
            v.c.outcome.in_([o.value for o in outcomes]),
            v.c.kind.in_([k.value for k in kinds]),
            v.c.occurred_at >= _value("year_start", area, y),
            v.c.occurred_at < _value("year_end", area, y),
            *_people(y, area),
        )
        .subquery()
    )
    s = _state(points, y, ("area", "category", "level"))
    return select(s).where(*_in(s, area)).subquery()


def breach_of_notification(area: str | None, y: Year) -> Select[Any]:
    """Category 1 (when it happened) cautioned or convicted for breaching the notification requirements."""
    s = _events(area, y, BreachOf.NOTIFICATION, [EventOutcome.CAUTION, *CONVICTED], [ChronologyKind.BREACH])
    return select(
        s.c.nominal_id, literal("category_1").label("row"), literal("count").label("col"), s.c.area
    ).where(s.c.category == 1)


class _NoonUTC(FunctionElement[dt.datetime]):
    """Midday UTC on a date (inside that day in UK time, GMT or BST): the instant a dated order is placed."""

    type = m.UTCDateTime()
    inherit_cache = True


@compiles(_NoonUTC, "sqlite")
def _noon_sqlite(element: Any, compiler: Any, **kw: Any) -> str:
    return f"({compiler.process(element.clauses, **kw)} || ' 12:00:00.000000')"


@compiles(_NoonUTC, "postgresql")
def _noon_postgresql(element: Any, compiler: Any, **kw: Any) -> str:
    return f"(({compiler.process(element.clauses, **kw)} + time '12:00') AT TIME ZONE 'UTC')"


def _orders(area: str | None, y: Year, kinds: list[OrderKind], day: Any, *extra: Any) -> Any:
    """Orders of these kinds dated (`day`, a plain date of the item) in the year, each with the state of its
    person at midday that day: it counts for the area that held the record then."""
    i = m.Item
    points = (
        select(i.id.label("key"), i.nominal_id, _NoonUTC(day).label("at"))
        .join(N, N.id == i.nominal_id)
        .where(
            i.section == Section.ORDERS.value,
            i.kind.in_([k.value for k in kinds]),
            day >= _value("first_day", area, y),
            day <= _value("last_day", area, y),
            *_people(y, area),
            *extra,
            *(
                [i.ended_at.is_(None)]
                if y.known is None
                else [
                    i.recorded_at < _value("known_at", area, y),
                    or_(i.ended_at.is_(None), i.ended_at >= _value("known_at", area, y)),
                ]
            ),
        )
        .subquery()
    )
    s = _state(points, y, ("area", "category"))
    return select(s).where(*_in(s, area)).subquery()


def lifetime_notification_revoked(area: str | None, y: Year) -> Select[Any]:
    """Notification requirements revoked (on application) with an end date in the year."""
    s = _orders(
        area,
        y,
        [OrderKind.NOTIFICATION_REQUIREMENT],
        m.Item.ends_on,
        m.Item.status == OrderStatus.REVOKED.value,
    )
    return select(s.c.nominal_id, literal("category_1").label("row"), literal("count").label("col"), s.c.area)


def orders_made(area: str | None, y: Year) -> Select[Any]:
    """SHPOs (and SOPOs before them), those with a foreign travel restriction, and Notification Orders made
    in the year."""
    shpo = [OrderKind.SHPO, OrderKind.SOPO]
    rows = [
        ("shpo", _orders(area, y, shpo, m.Item.checked_on)),
        (
            "shpo_foreign_travel_restriction",
            _orders(area, y, shpo, m.Item.checked_on, m.Item.ref == "foreign_travel_restriction"),
        ),
        ("notification_order", _orders(area, y, [OrderKind.NOTIFICATION_ORDER], m.Item.checked_on)),
    ]
    first, *rest = [
        select(s.c.nominal_id, literal(name).label("row"), literal("count").label("col"), s.c.area)
        for name, s in rows
    ]
    return first.union_all(*rest)  # type: ignore[return-value]  # a compound select, used as a select


def notification_after_sro_breach(area: str | None, y: Year) -> Select[Any]:
    """Convicted of breaching a Sexual Risk Order in the year (which makes them subject to notification)."""
    s = _events(area, y, BreachOf.SRO, CONVICTED, [ChronologyKind.BREACH])
    return select(s.c.nominal_id, literal("count").label("row"), literal("count").label("col"), s.c.area)


def returned_to_custody(area: str | None, y: Year) -> Select[Any]:
    """Recalled (returned to custody) for breach of licence while managed at Level 2 or 3, by the category
    and level they had when it happened."""
    s = _events(
        area, y, BreachOf.LICENCE, [EventOutcome.RECALL], [ChronologyKind.RECALL, ChronologyKind.BREACH]
    )
    return select(s.c.nominal_id, s.c.category.label("row"), s.c.level.label("col"), s.c.area).where(
        s.c.level.in_([2, 3])
    )


def shpo_breach(area: str | None, y: Year) -> Select[Any]:
    """Returned to custody (recalled, or convicted and sentenced to custody) for breach of a SHPO while
    managed at Level 2 or 3: the Kent 2022/23 table sits under "Level 2 and 3 individuals returned to
    custody" (docs/statistics.md)."""
    s = _events(area, y, BreachOf.SHPO, TO_CUSTODY, [ChronologyKind.BREACH, ChronologyKind.RECALL])
    return select(
        s.c.nominal_id, literal("breach_of_shpo").label("row"), s.c.level.label("col"), s.c.area
    ).where(s.c.level.in_([2, 3]))


def rso_by_unit(area: str | None, y: Year) -> Select[Any]:
    """Category 1 in the community on 31 March (as `eligible_on_31_march`) by the unit managing them then."""
    s = _snapshot(area, y)
    return select(
        s.c.nominal_id, s.c.managing_unit.label("row"), literal("count").label("col"), s.c.area
    ).where(s.c.status == ACTIVE, s.c.custody == COMMUNITY, s.c.category == 1)


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
# Counted together in `_tables`, from one pass over the snapshot (each keeps its own query for `people`).
SNAPSHOT_TABLES = {"eligible_on_31_march", "registered_sex_offenders_by_unit"}
BY_CATEGORY = {"eligible_on_31_march", "level_2_3_during_year", "level_2_3_returned_to_custody"}
DEFINITIONS = {name: " ".join((build.__doc__ or "").split()) for name, build in TABLES.items()}


def _published(table: str, row: Any) -> bool:
    return table not in BY_CATEGORY or row in PUBLISHED_CATEGORIES


def register_stamp(session: Any) -> tuple[Any, ...]:
    """What changes whenever anything the tables read changes: every change to a record (an item, a
    chronology entry, its area, status or level, a merge, an erasure) takes the record to a new version, and
    versions only grow; a new record adds to the count; a history row written outside a record's change (the
    notification refresh after an upgrade) adds a row id. A change whose version claim said it cannot move
    any figure (a new contact or home visit, a risk assessment: `domain.history`) is counted in
    `quiet_changes` as well, so `version - quiet_changes` stays as it was and the kept figures with it
    (decision 91); it grows with every other change. One scan of `nominal`'s narrow columns."""
    row = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(m.Nominal.version - m.Nominal.quiet_changes), 0),
            select(func.max(H.id)).scalar_subquery(),
        ).select_from(m.Nominal)
    ).one()
    return (str(session.get_bind().url), *row)


@dataclass(frozen=True)
class Reporting:
    """How a year is computed today: `published` (as the register stood at the end of 1 April after the year,
    or, before then, as it stands), `revised` (everything recorded since; None until there can be any), and
    `provisional` (the year has not ended: figures to the end of today, marked with the date)."""

    published: Year
    revised: Year | None
    provisional: dt.date | None


def reporting(year: int, now: dt.datetime | None = None) -> Reporting:
    now = now or clock.now()
    today = local_day(now)
    plain = Year(year)
    if plain.start > today:
        raise InvalidValue(
            "year_not_begun",
            f"the reporting year {year - 1}/{str(year)[2:]} begins on {plain.start:%d %B %Y}: "
            "it has no figures yet",
            "year",
        )
    if today <= plain.end:
        return Reporting(Year(year, until=today), None, today)
    if now < plain.published_at():
        return Reporting(plain, None, None)
    return Reporting(Year(year, known=plain.published_at()), plain, None)


class _Kept(Generic[V]):
    """The values most recently worked out under a key, in this process, for the `size` most recently used
    keys. The keys carry what the values depend on (`register_stamp`, the day), so a value is never older
    than a fresh computation: nothing is invalidated, an old key is simply never asked for again."""

    def __init__(self, size: int) -> None:
        self._values: OrderedDict[tuple[Any, ...], V] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...]) -> V | None:
        with self._lock:
            value = self._values.get(key)
            if value is not None:
                self._values.move_to_end(key)
            return value

    def put(self, key: tuple[Any, ...], value: V) -> None:
        with self._lock:
            self._values[key] = value
            self._values.move_to_end(key)
            while len(self._values) > self._size:
                self._values.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._values.clear()


_COMPUTED: _Kept[dict[str, Any]] = _Kept(64)


def compute(
    session: Any,
    area: str,
    year: int,
    population_10_plus: int | None = None,
    *,
    stamp: tuple[Any, ...] | None = None,
) -> dict[str, Any]:
    """Every table as {row: {column: count}}, plus Category 4 (counted, not published), the rate per 100,000,
    each table's definition, and any revisions since publication. The queries behind a year's tables take
    seconds on a large register, so a year's figures are kept (in this process, for the 64 most recent
    area-years) until the register changes (`register_stamp`) or the day does: a page shows the same figures
    a fresh computation would, without computing them on every view. `stamp`: the register's stamp, read by
    the caller in this session just before (a page of two years reads it once)."""
    populations = {area: population_10_plus} if population_10_plus is not None else None
    return compute_areas(session, [area], year, populations, stamp=stamp)[area]


def compute_areas(
    session: Any,
    areas: Sequence[str],
    year: int,
    populations: Mapping[str, int] | None = None,
    progress: Callable[[int, int], None] = lambda done, total: None,
    *,
    stamp: tuple[Any, ...] | None = None,
) -> dict[str, dict[str, Any]]:
    """`compute` for several areas at once, each area's figures exactly as `compute` gives them (and kept
    the same way, so a page of one area then finds them computed): the areas not kept already are computed
    in one pass, each table one statement grouped by area, rather than each table once per area (which
    repeated, for every area, the scans each table starts from: the year's events, orders and history).

    Figures worked out after the stamp was read may hold changes committed since; kept under that stamp, they
    are never served for an older register, and a newer one has another stamp (versions and counts only
    grow), so a stamp read once for several years is as safe as one read for each."""
    populations = populations or {}
    stamp, day = stamp or register_stamp(session), local_day(clock.now())
    keys = {area: (*stamp, area, year, populations.get(area), day) for area in dict.fromkeys(areas)}
    found: dict[str, dict[str, Any]] = {}
    for area, key in keys.items():
        kept = _COMPUTED.get(key)
        if kept is not None:
            found[area] = copy.deepcopy(kept)  # the caller's copy: the kept figures stay as computed
    missing = [area for area in keys if area not in found]
    if missing:
        computed = _compute_areas(session, missing, year, populations, progress)
        for area in missing:
            _COMPUTED.put(keys[area], copy.deepcopy(computed[area]))
        found.update(computed)
    return {area: found[area] for area in keys}


def _tables(
    session: Any, areas: list[str], y: Year, done: Callable[[], None] = lambda: None
) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """Each area's (published tables, unpublished rows): each table one statement grouped by area, row and
    column; for one area, restricted to its people first (the tables' `area` argument), for several, over
    everyone's history once."""
    one, y = areas[0] if len(areas) == 1 else None, _on(session, y)
    out: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {area: ({}, {}) for area in areas}

    def put(name: str, area: str, row: Any, col: Any, count: int) -> None:
        if area not in out:
            return  # an area not asked for (or a state with no area)
        tables, unpublished = out[area]
        target = tables[name] if _published(name, row) else unpublished.setdefault(name, {})
        cell = target.setdefault(str(row), {})
        cell[str(col)] = cell.get(str(col), 0) + count

    statements, values = _statements(one, y), _values(one, y)
    for name in TABLES:
        for tables, _ in out.values():
            tables[name] = {}
        if name in SNAPSHOT_TABLES:
            continue
        for area, row, col, count in session.execute(statements[name], values).all():
            put(name, area, row, col, count)
        done()
    # The two tables of the picture on 31 March from one pass over it (the per-person state is the costly
    # part): everyone is one row of the snapshot, so grouped counts of its rows add up to each table's cells.
    for area, category, level, unit, count in session.execute(statements[SNAPSHOT], values):
        put("eligible_on_31_march", area, category, level, count)
        if category == 1:
            put("registered_sex_offenders_by_unit", area, unit, "count", count)
    done()
    done()
    return out


SNAPSHOT = "snapshot"
# Statements kept for the life of the process, by shape (and table, for a cell's): `_kept_statements`.
_BUILT: dict[tuple[Any, ...], Any] = {}
_BUILDING = threading.Lock()


def _kept_statements(key: tuple[Any, ...], build: Callable[[], V]) -> V:
    """What `build` gives, built the first time `key` is asked for and kept from then on."""
    with _BUILDING:
        if key not in _BUILT:
            _BUILT[key] = build()
        built: V = _BUILT[key]
    return built


def _statements(area: str | None, y: Year) -> dict[str, Any]:
    """The year's statements of `_tables` (each table's counts grouped by area, row and column, and the
    snapshot's), of the shape of `area` and `y`: built the first time that shape is asked for, then kept
    for the life of the process, to be executed with `_values(area, y)` (eight shapes at most). SQLAlchemy
    keeps a statement's cache key on it, so a kept statement's is not worked out again either."""
    return _kept_statements(("year", *_shape(area, y)), lambda: _build_statements(area, y))


def _build_statements(area: str | None, y: Year) -> dict[str, Any]:
    statements: dict[str, Any] = {}
    for name, build in TABLES.items():
        if name not in SNAPSHOT_TABLES:
            q = build(area, y).subquery()
            statements[name] = select(
                q.c.area, q.c.row, q.c.col, func.count(func.distinct(q.c.nominal_id))
            ).group_by(q.c.area, q.c.row, q.c.col)
    s = _snapshot(area, y)
    statements[SNAPSHOT] = (
        select(s.c.area, s.c.category, s.c.level, s.c.managing_unit, func.count())
        .where(s.c.status == ACTIVE, s.c.custody == COMMUNITY, s.c.category.is_not(None))
        .group_by(s.c.area, s.c.category, s.c.level, s.c.managing_unit)
    )
    return statements


def _cells(tables: dict[str, Any]) -> dict[tuple[str, str, str], int]:
    return {(t, r, c): n for t, table in tables.items() for r, cols in table.items() for c, n in cols.items()}


def _compute(session: Any, area: str, year: int, population_10_plus: int | None) -> dict[str, Any]:
    """One area's figures, worked out now (not kept)."""
    populations = {area: population_10_plus} if population_10_plus is not None else {}
    return _compute_areas(session, [area], year, populations)[area]


def _compute_areas(
    session: Any,
    areas: list[str],
    year: int,
    populations: Mapping[str, int],
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> dict[str, dict[str, Any]]:
    how = reporting(year)
    y = how.published
    total, counted = len(TABLES) * (1 if how.revised is None else 2), [0]

    def done() -> None:
        counted[0] += 1
        progress(counted[0], total)

    progress(0, total)
    earliest = session.scalar(select(func.min(N.created_at)))
    note: str | None = None
    if earliest is None or earliest >= y.end_ts():
        note = "the register holds no data for this year: its records begin " + (
            f"on {local_day(earliest):%d %B %Y}" if earliest else "with the first record"
        )
    elif earliest > y.start_ts():
        note = (
            f"the register's records begin on {local_day(earliest):%d %B %Y}, after this year began: "
            "events before then are not in these figures"
        )
    published = _tables(session, areas, y, done)
    revised = _tables(session, areas, how.revised, done) if how.revised is not None else None
    figures: dict[str, dict[str, Any]] = {}
    for area in areas:
        out: dict[str, Any] = {
            "area": area,
            "year": f"{year - 1}/{str(year)[2:]}",
            "period": {"from": y.start.isoformat(), "to": y.end.isoformat()},
            "snapshot": y.end.isoformat(),
            "provisional": how.provisional.isoformat() if how.provisional else None,
            "as_known_at": y.known.isoformat() if y.known else None,
            "definitions": dict(DEFINITIONS),
            "revisions": [],
            "register_data_from": local_day(earliest).isoformat() if earliest is not None else None,
            "tables": published[area][0],
            "unpublished": published[area][1],
        }
        if note is not None:
            out["note"] = note
        if revised is not None:
            before, after = _cells(out["tables"]), _cells(revised[area][0])
            out["revisions"] = [
                {
                    "table": t,
                    "row": r,
                    "column": c,
                    "published": before.get((t, r, c), 0),
                    "revised": after.get((t, r, c), 0),
                }
                for (t, r, c) in sorted(set(before) | set(after))
                if before.get((t, r, c), 0) != after.get((t, r, c), 0)
            ]
        category_1 = sum(out["tables"]["eligible_on_31_march"].get("1", {}).values())
        population = populations.get(area)
        out["notification_rate_per_100k"] = (
            None if not population else round(category_1 / population * 100_000, 1)
        )
        figures[area] = out
    return figures


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


def _cell(
    session: Any, area: str, year: int, table: str, row: str, col: str, revised: bool
) -> tuple[Any, dict[str, Any]]:
    """The distinct records behind one cell (column `nominal_id`): the cell's own query, filtered to it (as
    published, or as revised), and the values to execute it with. The statement is kept for its table and
    shape as a year's are (`_statements`): the cell's row and column are bind parameters, as the area and
    the year are."""
    if table not in TABLES:
        raise KeyError(table)
    how = reporting(year)
    y = _on(session, how.revised if revised and how.revised is not None else how.published)
    statement, rows, cols = _kept_statements(
        ("cell", *_shape(area, y), table), lambda: _build_cell(area, y, table)
    )
    return statement, {
        **_values(area, y),
        "cell_row": _key(rows, row, "row"),
        "cell_col": _key(cols, col, "column"),
    }


def _build_cell(area: str | None, y: Year, table: str) -> tuple[Any, Any, Any]:
    """A table's statement of the records behind a cell (`cell_row`, `cell_col`), with the table's row and
    column (their types say how a cell's row and column are read: `_key`)."""
    q = TABLES[table](area, y).subquery()
    statement = (
        select(q.c.nominal_id)
        .where(
            q.c.row == bindparam("cell_row", type_=q.c.row.type),
            q.c.col == bindparam("cell_col", type_=q.c.col.type),
        )
        .distinct()
    )
    return statement, q.c.row, q.c.col


def _ids(values: Iterable[Any]) -> list[uuid.UUID]:
    return [i if isinstance(i, uuid.UUID) else uuid.UUID(str(i)) for i in values]  # a UNION loses the type


_CELLS: _Kept[bytes] = _Kept(64)


def _cell_ids(session: Any, area: str, year: int, table: str, row: str, col: str, revised: bool) -> bytes:
    """The ids of the records behind one cell, in the order of their ids, each as its 16 bytes (a uuid's bytes
    sort as its text does). Working them out is the state on 31 March of the area's people (150 to 200 ms at
    100,000 people), so a cell's ids are kept as the year's figures are (`compute`): in this process, for the
    64 most recent cells, until the register changes (`register_stamp`) or the day does. Paging through a
    figure, or coming back to it, reads the stamp instead of the area's history; a change to any record gives
    what a fresh computation gives. Bytes, not uuid objects: a cell of 12,000 people keeps 192 KB."""
    # an unknown table, row or column: refused before anything is read
    cell, values = _cell(session, area, year, table, row, col, revised)
    key = (*register_stamp(session), area, year, table, row, col, revised, local_day(clock.now()))
    kept = _CELLS.get(key)
    if kept is None:
        kept = b"".join(sorted(i.bytes for i in _ids(session.scalars(cell, values))))
        _CELLS.put(key, kept)
    return kept


def _uuids(found: bytes, positions: range) -> list[uuid.UUID]:
    return [uuid.UUID(bytes=found[16 * i : 16 * i + 16]) for i in positions]


def people(
    session: Any, area: str, year: int, table: str, row: str, col: str, *, revised: bool = False
) -> list[uuid.UUID]:
    """The records behind one cell, in the order of their ids."""
    found = _cell_ids(session, area, year, table, row, col, revised)
    return _uuids(found, range(len(found) // 16))


def people_page(
    session: Any,
    area: str,
    year: int,
    table: str,
    row: str,
    col: str,
    *,
    offset: int,
    limit: int,
    whole_up_to: int,
    revised: bool = False,
) -> tuple[int, list[uuid.UUID]]:
    """How many records are behind one cell, and which: every one when there are at most `whole_up_to`, else
    the `limit` from `offset` in the order of their ids (as `people` orders them)."""
    found = _cell_ids(session, area, year, table, row, col, revised)
    total = len(found) // 16
    start = max(0, min(offset, total))
    shown = range(total) if total <= whole_up_to else range(start, min(start + limit, total))
    return total, _uuids(found, shown)


@use_case(Tag.STATISTICS_TABLES_READ, Action.CONSULTATION)
def read_tables(
    uow: UnitOfWork, actor: Actor, area: str, year: int, population_10_plus: int | None = None
) -> dict[str, Any]:
    """An area's annual statistics tables, audited as a consultation."""
    figures = compute(uow.replica, area, year, population_10_plus)
    uow.audit.record(
        AuditEntry(
            Action.CONSULTATION, Tag.STATISTICS_TABLES_READ, actor, details={"area": area, "year": year}
        )
    )
    return figures


@use_case(Tag.STATISTICS_TABLES_READ, Action.CONSULTATION)
def read_tables_of_areas(
    uow: UnitOfWork,
    actor: Actor,
    areas: Sequence[str],
    year: int,
    populations: Mapping[str, int] | None = None,
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> dict[str, dict[str, Any]]:
    """Several areas' annual statistics tables in one pass (`compute_areas`), each area's read audited as a
    consultation as `read_tables` audits it."""
    figures = compute_areas(uow.replica, areas, year, populations, progress)
    uow.audit.record_many(
        [
            AuditEntry(
                Action.CONSULTATION, Tag.STATISTICS_TABLES_READ, actor, details={"area": area, "year": year}
            )
            for area in figures
        ]
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
    revised: bool = False,
) -> list[uuid.UUID]:
    """The records behind one figure (as published, or as revised): a consultation of each, audited with
    their ids."""
    ids = people(uow.replica, area, year, table, row, column, revised=revised)
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
                "revised": revised,
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
    # one read of the register's stamp for both years: a scan of `nominal` (about 25 ms at 100,000 people)
    stamp = register_stamp(uow.replica)
    figures = compute(uow.replica, area, year, stamp=stamp)
    previous = compute(uow.replica, area, year - 1, stamp=stamp)
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
    revised: bool = False,
) -> CellPeople:
    """The people behind one figure with their names (one page of them): a consultation of each, audited with
    the ids whose names were shown, as `read_cell` audits the ids it returns."""
    if table not in TABLES:
        raise InvalidValue("enum", f"there is no table {table!r}", "table")
    total, ids = people_page(
        uow.replica,
        area,
        year,
        table,
        row,
        column,
        offset=offset,
        limit=limit,
        whole_up_to=NAME_ORDER_UP_TO,
        revised=revised,
    )
    if total <= NAME_ORDER_UP_TO:
        # names are sealed: ordering by name means opening every name in the cell, so only for small cells
        ordered = sorted(
            uow.nominals.summaries(ids).values(),
            key=lambda s: (s.surname.casefold(), s.forenames.casefold(), str(s.id)),
        )
        shown = ordered[offset : offset + limit]
    else:
        found = uow.nominals.summaries(ids)  # this page's, in the order of their ids: only their names opened
        shown = [found[i] for i in ids if i in found]
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
                "revised": revised,
                "names": True,
                "total": total,
                "ids": [str(s.id) for s in shown],
            },
        )
    )
    return CellPeople(total, shown)
