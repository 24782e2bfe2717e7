"""The caseload's facts, read set-based: one query whatever the caseload's size (never one per person): the
active records of the area that the user manages now (a current `offender_managers` item naming them, found by
the index on the items' section and `ref`), with the derived notification dates, the day the user took each
on, and each record's kept facts (store/case_facts.py: the latest assessment, plan, meeting and level change,
and the last home visit the user's agency may see).

Names and dates of birth are sealed: the service decrypts them through the nominal repository, in one more
pass.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    CTE,
    ColumnElement,
    Subquery,
    and_,
    case,
    false,
    func,
    literal,
    not_,
    or_,
    select,
)
from sqlalchemy.orm import Session

from ..domain.caseload import CaseFacts, Interval, Schedule
from ..domain.enums import Agency, Area, NominalStatus
from ..domain.record import Section
from ..store import models as m
from ..store.case_facts import visit_column


@dataclass(frozen=True)
class CaseRecord:
    id: uuid.UUID
    mappa_category: int | None
    mappa_level: int | None
    restricted: bool
    facts: CaseFacts


class CaseloadRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def _managed(
        self, area: Area | None, user_id: str | None, today: dt.date, nominal_id: uuid.UUID | None
    ) -> Subquery:
        """Records (of `area`, active) that `user_id` manages on `today`, with the day they took each on. With
        `nominal_id` (and no user or area): that one record, under whoever manages it now."""
        where = [
            m.Item.section == Section.OFFENDER_MANAGERS.value,
            m.Item.ended_at.is_(None),
            or_(m.Item.ends_on.is_(None), m.Item.ends_on >= today),
            or_(m.Item.starts_on.is_(None), m.Item.starts_on <= today),
            m.Nominal.status == NominalStatus.ACTIVE.value,
        ]
        if user_id is not None:
            where.append(m.Item.ref == user_id)
        if area is not None:
            where.append(m.Nominal.area == area.value)
        if nominal_id is not None:
            where.append(m.Item.nominal_id == nominal_id)
        return (
            select(m.Item.nominal_id, func.min(m.Item.starts_on).label("since"))
            .join(m.Nominal, m.Nominal.id == m.Item.nominal_id)
            .where(*where)
            .group_by(m.Item.nominal_id)
            .subquery()
        )

    def cases(
        self,
        *,
        area: Area | None,
        user_id: str | None,
        agency: Agency,
        today: dt.date,
        nominal_id: uuid.UUID | None = None,
    ) -> list[CaseRecord]:
        managed = self._managed(area, user_id, today, nominal_id)
        F = m.CaseFactsRow
        records = self.session.execute(
            select(
                m.Nominal.id,
                m.Nominal.mappa_category,
                m.Nominal.mappa_level,
                m.Nominal.restricted,
                m.Nominal.notification_subject,
                m.Nominal.notification_due_on,
                m.Nominal.notification_ends_on,
                m.Nominal.created_at,
                managed.c.since,
                F.__table__.c[visit_column(agency)].label("last_visit"),
                F.assessed_on,
                F.assessment_review_on,
                F.plan_review_on,
                F.last_meeting_on,
                F.level_since,
            )
            .join(managed, managed.c.nominal_id == m.Nominal.id)
            .outerjoin(F, F.nominal_id == m.Nominal.id)
        ).all()
        out = []
        for r in records:
            out.append(
                CaseRecord(
                    id=r.id,
                    mappa_category=r.mappa_category,
                    mappa_level=r.mappa_level,
                    restricted=r.restricted,
                    facts=CaseFacts(
                        level=r.mappa_level,
                        managed_since=r.since or r.created_at.date(),
                        notification_subject=bool(r.notification_subject),
                        notification_due_on=r.notification_due_on,
                        notification_ends_on=r.notification_ends_on,
                        last_home_visit=_london_date(r.last_visit) if r.last_visit is not None else None,
                        last_assessed_on=r.assessed_on,
                        assessment_review_on=r.assessment_review_on,
                        plan_review_on=r.plan_review_on,
                        last_level_review=r.last_meeting_on,
                        level_since=r.level_since,
                    ),
                )
            )
        return out


def _london_date(when: dt.datetime) -> dt.date:
    """The day a visit happened where it happened (UK local time), not in UTC."""
    aware = when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)
    return aware.astimezone(ZoneInfo("Europe/London")).date()


# ------------------------------------------------------------------ the area's workload, counted in SQL


@dataclass(frozen=True)
class WorkloadCounts:
    """Due and overdue work over a group of managed records (a unit, or one officer's records in a unit)."""

    unit: str
    officer: str | None  # None: the unit's row
    people: int
    people_overdue: int  # people with any work overdue (as the caseload counts them)
    visits_overdue: int
    visits_soon: int
    reviews_overdue: int  # risk assessment, risk management plan and MAPPA level reviews
    reviews_soon: int


def first_start(interval: Interval, target: dt.date) -> dt.date:
    """The earliest day `y` whose `interval.after(y)` is on or after `target`: so "due (y + interval) before
    target" is exactly "y before first_start" (interval.after is monotonic), a comparison SQL can make on the
    stored date with no date arithmetic of its own."""
    y = target - dt.timedelta(days=31 * interval.months + 7 * interval.weeks + interval.days + 1)
    while interval.after(y) < target:
        y += dt.timedelta(days=1)
    return y


def _london_midnight(day: dt.date) -> dt.datetime:
    """The instant a London day begins: a visit happened before `day` (in London) iff it is earlier."""
    return dt.datetime.combine(day, dt.time(), tzinfo=ZoneInfo("Europe/London")).astimezone(dt.UTC)


class _Facts:
    """The SQL columns of one managed record's facts (the same facts CaseFacts holds), and the conditions
    "this kind of work falls due before a day" built from the schedule: each a comparison of a stored date
    with a day computed here."""

    def __init__(self, row: CTE, schedule: Schedule) -> None:
        self.c, self.schedule = row.c, schedule

    def _level_is(self, level: int | None) -> ColumnElement[bool]:
        column = self.c.mappa_level
        return column.is_(None) if level is None else column == level

    def _since_before(self, day: dt.date) -> ColumnElement[bool]:
        c = self.c
        return or_(
            and_(c.since.is_not(None), c.since < day),
            and_(c.since.is_(None), c.created_at < dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)),
        )

    def visit_before(self, day: dt.date) -> ColumnElement[bool]:
        c, work = self.c, self.schedule.home_visit
        first = self._since_before(first_start(work.first_within, day))
        return or_(
            false(),
            *(
                and_(
                    self._level_is(level),
                    or_(
                        and_(
                            c.last_visit.is_not(None),
                            c.last_visit < _london_midnight(first_start(every, day)),
                        ),
                        and_(c.last_visit.is_(None), first),
                    ),
                )
                for level, every in work.by_level.items()
            ),
        )

    def assessment_before(self, day: dt.date) -> ColumnElement[bool]:
        c, work = self.c, self.schedule.risk_assessment_review
        levels = [(level, every) for level, every in work.by_level.items()]
        return or_(
            and_(c.ra_due.is_not(None), c.ra_due < day),
            and_(
                c.ra_due.is_(None),
                c.assessed_on.is_not(None),
                or_(
                    false(),
                    *(and_(self._level_is(lv), c.assessed_on < first_start(ev, day)) for lv, ev in levels),
                ),
            ),
            and_(
                c.ra_due.is_(None),
                c.assessed_on.is_(None),
                or_(false(), *(self._level_is(lv) for lv, _ in levels)),
                self._since_before(first_start(work.first_within, day)),
            ),
        )

    def plan_before(self, day: dt.date) -> ColumnElement[bool]:
        c, work = self.c, self.schedule.risk_plan_review
        start = first_start(work.first_within, day)
        return or_(
            and_(c.plan_due.is_not(None), c.plan_due < day),
            and_(
                c.plan_due.is_(None),
                or_(false(), *(self._level_is(level) for level in work.by_level)),
                self._since_before(start),
                or_(c.level_since.is_(None), c.level_since < start),
            ),
        )

    def level_review_before(self, day: dt.date) -> ColumnElement[bool]:
        c, work = self.c, self.schedule.level_review
        branches = []
        for level, every in work.by_level.items():
            y = first_start(every, day)
            branches.append(
                and_(
                    self._level_is(level),
                    or_(
                        and_(c.last_review.is_not(None), c.last_review < y),
                        and_(c.last_review.is_(None), c.level_since.is_not(None), c.level_since < y),
                        and_(c.last_review.is_(None), c.level_since.is_(None), self._since_before(y)),
                    ),
                )
            )
        return or_(false(), *branches)

    def notification_before(self, day: dt.date) -> ColumnElement[bool]:
        c = self.c
        return and_(
            c.notification_subject.is_(True),
            or_(c.notification_due_on < day, c.notification_ends_on < day),
        )


def _flag(condition: ColumnElement[bool]) -> Any:
    return case((condition, 1), else_=0)


class WorkloadRepository:
    """Due and overdue work across an area, per unit and per officer, counted by the database: the same
    facts as the caseload's (offender managers, latest assessment, plan, meeting and level, last home visit)
    and the same schedule, turned into date comparisons so nothing is computed per person in Python."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def _facts(self, area: Area, agency: Agency, today: dt.date) -> CTE:
        """Each managed record's facts, once for each of its officers (a materialized CTE: the conditions read
        each column many times): the area's active records' current offender managers whose term has begun
        and not ended, from the rows kept for the workload (`case_officer`: each current offender manager of
        each record with the record's header and kept facts, store/case_facts.py, decision 72), so the area's
        rows are one range of an index and nothing is looked up a record."""
        K = m.CaseOfficerRow
        header = (
            K.managing_unit,
            K.mappa_level,
            K.created_at,
            K.notification_subject,
            K.notification_due_on,
            K.notification_ends_on,
        )
        kept = (
            K.assessed_on,
            K.assessment_review_on,
            K.plan_review_on,
            K.last_meeting_on,
            K.level_since,
            K.__table__.c[visit_column(agency)],
        )
        managed = (
            select(
                K.nominal_id,
                *header,
                *kept,
                K.officer,
                # the record's first officer (by id): a record managed by several counts once in its unit, as
                # that officer's
                func.min(K.officer).over(partition_by=K.nominal_id).label("first_officer"),
                func.min(K.starts_on).label("since"),
            )
            .where(
                K.area == area.value,
                K.status == NominalStatus.ACTIVE.value,
                or_(K.ends_on.is_(None), K.ends_on >= today),
                or_(K.starts_on.is_(None), K.starts_on <= today),
            )
            .group_by(K.nominal_id, *header, *kept, K.officer)
            .subquery("managed")
        )
        return (
            select(
                managed.c.nominal_id,
                managed.c.officer,
                or_(managed.c.officer == managed.c.first_officer, managed.c.first_officer.is_(None)).label(
                    "first"
                ),
                managed.c.since,
                *(managed.c[column.key] for column in header),
                managed.c[visit_column(agency)].label("last_visit"),
                managed.c.assessed_on,
                managed.c.assessment_review_on.label("ra_due"),
                managed.c.plan_review_on.label("plan_due"),
                managed.c.last_meeting_on.label("last_review"),
                managed.c.level_since,
            )
            .cte("facts")
            .prefix_with("MATERIALIZED")
        )

    def counts(
        self, *, area: Area, agency: Agency, today: dt.date, schedule: Schedule
    ) -> tuple[list[WorkloadCounts], list[WorkloadCounts]]:
        """One grouped statement over the area's managed records: per unit and officer, how many people, how
        many with work overdue, and how many home visits and reviews are overdue or due within the schedule's
        `soon_days`; each also counted over the records that officer is first for, which summed per unit
        count every record once. Returns (units, officers)."""
        facts = self._facts(area, agency, today)
        f = _Facts(facts, schedule)
        soon = today + dt.timedelta(days=schedule.soon_days)
        reviews = (f.assessment_before, f.plan_before, f.level_review_before)
        visit_overdue = f.visit_before(today)
        review_overdue = [r(today) for r in reviews]
        review_by_soon = [r(soon) for r in reviews]
        # Each record's answers once (0 or 1), then summed per unit and officer.
        flags = select(
            facts.c.managing_unit,
            facts.c.officer,
            _flag(facts.c.first).label("first"),
            _flag(or_(visit_overdue, f.notification_before(today), *review_overdue)).label("overdue"),
            _flag(visit_overdue).label("visit_overdue"),
            _flag(and_(not_(visit_overdue), f.visit_before(soon))).label("visit_soon"),
            sum((_flag(c) for c in review_overdue), literal(0)).label("review_overdue"),
            sum(
                (_flag(and_(not_(o), s)) for o, s in zip(review_overdue, review_by_soon, strict=True)),
                literal(0),
            ).label("review_soon"),
        ).subquery("flags")
        measures = ("overdue", "visit_overdue", "visit_soon", "review_overdue", "review_soon")
        keys = [flags.c.managing_unit, flags.c.officer]
        rows = self.session.execute(
            select(
                *keys,
                func.count(),
                *(func.sum(flags.c[name]) for name in measures),
                func.sum(flags.c.first),
                *(func.sum(flags.c[name] * flags.c.first) for name in measures),
            ).group_by(*keys)
        ).all()
        officers: list[WorkloadCounts] = []
        units: dict[str, tuple[int, ...]] = {}
        for row in rows:
            unit, officer, n = str(row[0]), row[1], [int(v or 0) for v in row[2:]]
            everyone, firsts = tuple(n[0:6]), tuple(n[6:12])  # (people, overdue, visits..., reviews...)
            if officer is not None:
                officers.append(WorkloadCounts(unit, str(officer), *everyone))
            kept = units.get(unit, (0,) * 6)
            units[unit] = tuple(a + b for a, b in zip(kept, firsts, strict=True))
        return [WorkloadCounts(unit, None, *v) for unit, v in units.items()], officers
