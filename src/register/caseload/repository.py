"""The caseload's facts, read set-based: three queries whatever the caseload's size (never one per person).

1. the active records of the area that the user manages now (a current `offender_managers` item naming them,
   found by the index on the items' section and `ref`), with the derived notification dates and the day the
   user took each on;
2. the plain metadata of their assessments, plans, meetings and level changes (the latest of each is picked
   here), by the ids the first query found;
3. each record's latest home visit (chronology), among the entries the user's agency may see.

Names and dates of birth are sealed: the service decrypts them through the nominal repository, in one more
pass.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import Subquery, and_, func, or_, select
from sqlalchemy.orm import Session

from ..domain.caseload import CaseFacts
from ..domain.enums import Agency, Area, ChronologyKind, NominalStatus
from ..domain.record import Section
from ..store import models as m


@dataclass(frozen=True)
class CaseRecord:
    id: uuid.UUID
    mappa_category: int | None
    mappa_level: int | None
    restricted: bool
    facts: CaseFacts


_SECTIONS = (Section.RISK_ASSESSMENTS, Section.RISK_PLANS, Section.MEETINGS, Section.MAPPA_LEVELS)


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
            ).join(managed, managed.c.nominal_id == m.Nominal.id)
        ).all()
        if not records:
            return []
        # The ids found, not the query that found them: as a subquery, the search for the user's offender
        # manager items ran again inside each of the two queries below.
        ids = [r.id for r in records]

        latest: dict[tuple[uuid.UUID, str], tuple[dt.date | None, dt.date | None, int | None]] = {}
        items = self.session.execute(
            select(m.Item.nominal_id, m.Item.section, m.Item.starts_on, m.Item.due_on, m.Item.level).where(
                m.Item.nominal_id.in_(ids),
                m.Item.section.in_([s.value for s in _SECTIONS]),
                m.Item.ended_at.is_(None),
            )
        ).all()
        for nominal_id, section, starts_on, due_on, level in items:
            key = (nominal_id, section)
            kept = latest.get(key)
            if kept is None or _rank(section, (starts_on, due_on, level)) > _rank(section, kept):
                latest[key] = (starts_on, due_on, level)

        audience = or_(
            m.ChronologyEntry.audience.is_(None), m.ChronologyEntry.audience.contains(agency.value)
        )
        visits = dict(
            self.session.execute(
                select(m.ChronologyEntry.nominal_id, func.max(m.ChronologyEntry.occurred_at))
                .where(
                    and_(
                        m.ChronologyEntry.nominal_id.in_(ids),
                        m.ChronologyEntry.kind == ChronologyKind.HOME_VISIT.value,
                        audience,
                    )
                )
                .group_by(m.ChronologyEntry.nominal_id)
            ).all()
        )

        out = []
        for r in records:

            def held(section: Section, nominal_id: uuid.UUID = r.id) -> tuple[dt.date | None, dt.date | None]:
                starts_on, due_on, _ = latest.get((nominal_id, section.value), (None, None, None))
                return starts_on, due_on

            assessed_on, assessment_review_on = held(Section.RISK_ASSESSMENTS)
            _, plan_review_on = held(Section.RISK_PLANS)
            last_meeting, _ = held(Section.MEETINGS)
            level_since, _ = held(Section.MAPPA_LEVELS)
            visit = visits.get(r.id)
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
                        last_home_visit=_london_date(visit) if visit is not None else None,
                        last_assessed_on=assessed_on,
                        assessment_review_on=assessment_review_on,
                        plan_review_on=plan_review_on,
                        last_level_review=last_meeting,
                        level_since=level_since,
                    ),
                )
            )
        return out


def _rank(section: str, held: tuple[dt.date | None, dt.date | None, int | None]) -> tuple[int, dt.date]:
    """Which item is the latest: plans by version (kept in `level`), everything else by its date."""
    starts_on, _, level = held
    if section == Section.RISK_PLANS.value:
        return (level or 0, starts_on or dt.date.min)
    return (0, starts_on or dt.date.min)


def _london_date(when: dt.datetime) -> dt.date:
    """The day a visit happened where it happened (UK local time), not in UTC."""
    aware = when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)
    return aware.astimezone(ZoneInfo("Europe/London")).date()
