"""What is due on a person an offender manager manages, and when. Pure: facts and a schedule in, dated work
out.

Six kinds of work, each with the date it falls due and why:

* the next periodic **notification** and the **registration's end** (the notification requirement's end), both
  derived by `domain.notification` from offences, orders, addresses and the chronology (kept on the record);
* the next **home visit**: the last visit (a `home_visit` chronology entry) plus the interval for the person's
  MAPPA level; with no visit recorded, due within `first_within` of coming onto the caseload;
* the **risk assessment review**: the date the latest assessment set for its review; if it set none, the
  latest assessment plus the level's interval; with no assessment, due within `first_within`;
* the **risk management plan review**: the latest plan version's review date; with no plan at a level whose
  schedule asks for one, due within `first_within` of the level (or the caseload) starting;
* the **MAPPA level review**: the last MAPPA meeting or Level 1 annual review plus the level's interval; with
  none recorded, the level's start plus the interval.

The intervals are configuration (caseload/schedule.yaml, documented in docs/caseload.md), not law.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from .notification import add_months


class DueKind(StrEnum):
    NOTIFICATION = "notification"
    REGISTRATION_END = "registration_end"
    HOME_VISIT = "home_visit"
    RISK_ASSESSMENT_REVIEW = "risk_assessment_review"
    RISK_PLAN_REVIEW = "risk_plan_review"
    LEVEL_REVIEW = "level_review"


LABELS = {
    DueKind.NOTIFICATION: "Notification",
    DueKind.REGISTRATION_END: "Registration ends",
    DueKind.HOME_VISIT: "Home visit",
    DueKind.RISK_ASSESSMENT_REVIEW: "Risk assessment review",
    DueKind.RISK_PLAN_REVIEW: "Risk management plan review",
    DueKind.LEVEL_REVIEW: "MAPPA level review",
}
_ORDER = {kind: i for i, kind in enumerate(DueKind)}


class Urgency(StrEnum):
    OVERDUE = "overdue"
    SOON = "soon"  # within the schedule's `soon_days` (a week by default), today included
    LATER = "later"


@dataclass(frozen=True)
class Interval:
    months: int = 0
    weeks: int = 0
    days: int = 0

    @classmethod
    def parse(cls, value: Any, where: str) -> Interval:
        if not isinstance(value, Mapping) or not value or set(value) - {"months", "weeks", "days"}:
            raise ValueError(
                f"{where}: an interval is a mapping of months, weeks and/or days, e.g. {{months: 6}}"
            )
        interval = cls(**{k: int(v) for k, v in value.items()})
        if min(interval.months, interval.weeks, interval.days) < 0 or interval == cls():
            raise ValueError(f"{where}: an interval must be positive")
        return interval

    def after(self, start: dt.date) -> dt.date:
        return add_months(start, self.months) + dt.timedelta(weeks=self.weeks, days=self.days)

    def describe(self) -> str:
        parts = []
        for n, unit in ((self.months, "month"), (self.weeks, "week"), (self.days, "day")):
            if n:
                parts.append(f"{n} {unit}{'s' if n != 1 else ''}")
        return " ".join(parts)


@dataclass(frozen=True)
class WorkSchedule:
    """How often one kind of work falls due, by MAPPA level (`None`: people without a level, such as PDPs).
    A level with no interval has no such work due."""

    by_level: Mapping[int | None, Interval]
    first_within: Interval

    def interval(self, level: int | None) -> Interval | None:
        return self.by_level.get(level)

    @classmethod
    def parse(cls, doc: Any, where: str) -> WorkSchedule:
        if not isinstance(doc, Mapping):
            raise ValueError(f"{where}: expected a mapping with by_level and first_within")
        by_level: dict[int | None, Interval] = {}
        for level, interval in (doc.get("by_level") or {}).items():
            key = None if level in (None, "none") else int(level)
            if key not in (None, 1, 2, 3):
                raise ValueError(f"{where}.by_level: levels are 1, 2, 3 or none, not {level!r}")
            by_level[key] = Interval.parse(interval, f"{where}.by_level.{level}")
        return cls(by_level, Interval.parse(doc.get("first_within"), f"{where}.first_within"))


@dataclass(frozen=True)
class Schedule:
    home_visit: WorkSchedule
    risk_assessment_review: WorkSchedule
    risk_plan_review: WorkSchedule
    level_review: WorkSchedule
    soon_days: int = 7

    @classmethod
    def parse(cls, doc: Any) -> Schedule:
        if not isinstance(doc, Mapping) or doc.get("version") != 1:
            raise ValueError("the caseload schedule must say `version: 1`")
        soon_days = int(doc.get("soon_days", 7))
        if soon_days < 1:
            raise ValueError("soon_days must be at least 1")
        return cls(
            home_visit=WorkSchedule.parse(doc.get("home_visit"), "home_visit"),
            risk_assessment_review=WorkSchedule.parse(
                doc.get("risk_assessment_review"), "risk_assessment_review"
            ),
            risk_plan_review=WorkSchedule.parse(doc.get("risk_plan_review"), "risk_plan_review"),
            level_review=WorkSchedule.parse(doc.get("level_review"), "level_review"),
            soon_days=soon_days,
        )


@dataclass(frozen=True)
class CaseFacts:
    """What the register holds about one person on a caseload that decides what is due (all plain
    metadata)."""

    level: int | None
    managed_since: dt.date  # when this offender manager took them on (or the record was created)
    notification_subject: bool = False
    notification_due_on: dt.date | None = None
    notification_ends_on: dt.date | None = None
    last_home_visit: dt.date | None = None
    last_assessed_on: dt.date | None = None
    assessment_review_on: dt.date | None = None  # as the latest assessment set it
    plan_review_on: dt.date | None = None  # the latest plan version's
    last_level_review: dt.date | None = None  # the last MAPPA meeting or Level 1 annual review
    level_since: dt.date | None = None  # the latest level change's effective date


@dataclass(frozen=True)
class Due:
    kind: DueKind
    on: dt.date
    basis: str  # why this date, in words
    urgency: Urgency

    @property
    def label(self) -> str:
        return LABELS[self.kind]

    @property
    def overdue(self) -> bool:
        return self.urgency == Urgency.OVERDUE


def _urgency(on: dt.date, today: dt.date, soon_days: int) -> Urgency:
    if on < today:
        return Urgency.OVERDUE
    if on < today + dt.timedelta(days=soon_days):
        return Urgency.SOON
    return Urgency.LATER


def due_work(facts: CaseFacts, schedule: Schedule, today: dt.date) -> list[Due]:
    """Everything due on one person, earliest first (so overdue work comes first)."""
    found: list[tuple[DueKind, dt.date, str]] = []
    if facts.notification_subject and facts.notification_due_on is not None:
        found.append((DueKind.NOTIFICATION, facts.notification_due_on, "next periodic notification"))
    if facts.notification_subject and facts.notification_ends_on is not None:
        found.append(
            (DueKind.REGISTRATION_END, facts.notification_ends_on, "the notification requirement ends")
        )

    visits = schedule.home_visit.interval(facts.level)
    if visits is not None:
        if facts.last_home_visit is not None:
            found.append(
                (
                    DueKind.HOME_VISIT,
                    visits.after(facts.last_home_visit),
                    f"every {visits.describe()}; last visit {facts.last_home_visit.isoformat()}",
                )
            )
        else:
            first = schedule.home_visit.first_within
            found.append(
                (
                    DueKind.HOME_VISIT,
                    first.after(facts.managed_since),
                    f"no home visit recorded; first within {first.describe()}",
                )
            )

    assessments = schedule.risk_assessment_review
    if facts.assessment_review_on is not None:
        found.append(
            (DueKind.RISK_ASSESSMENT_REVIEW, facts.assessment_review_on, "as set at the latest assessment")
        )
    elif facts.last_assessed_on is not None:
        every = assessments.interval(facts.level)
        if every is not None:
            found.append(
                (
                    DueKind.RISK_ASSESSMENT_REVIEW,
                    every.after(facts.last_assessed_on),
                    f"every {every.describe()}; last assessed {facts.last_assessed_on.isoformat()}",
                )
            )
    elif assessments.interval(facts.level) is not None:
        found.append(
            (
                DueKind.RISK_ASSESSMENT_REVIEW,
                assessments.first_within.after(facts.managed_since),
                f"no risk assessment recorded; first within {assessments.first_within.describe()}",
            )
        )

    plans = schedule.risk_plan_review
    if facts.plan_review_on is not None:
        found.append((DueKind.RISK_PLAN_REVIEW, facts.plan_review_on, "as set in the latest plan"))
    elif plans.interval(facts.level) is not None:
        start = max(facts.managed_since, facts.level_since or facts.managed_since)
        found.append(
            (
                DueKind.RISK_PLAN_REVIEW,
                plans.first_within.after(start),
                f"no risk management plan recorded; one within {plans.first_within.describe()}",
            )
        )

    reviews = schedule.level_review.interval(facts.level)
    if reviews is not None:
        if facts.last_level_review is not None:
            found.append(
                (
                    DueKind.LEVEL_REVIEW,
                    reviews.after(facts.last_level_review),
                    f"every {reviews.describe()}; last reviewed {facts.last_level_review.isoformat()}",
                )
            )
        else:
            start = facts.level_since or facts.managed_since
            found.append(
                (
                    DueKind.LEVEL_REVIEW,
                    reviews.after(start),
                    f"every {reviews.describe()}; no review recorded since {start.isoformat()}",
                )
            )

    found.sort(key=lambda d: (d[1], _ORDER[d[0]]))
    return [Due(kind, on, basis, _urgency(on, today, schedule.soon_days)) for kind, on, basis in found]


@dataclass(frozen=True)
class Counts:
    overdue: int  # people with overdue work
    soon: int  # people with work due within `soon_days` (whether or not something else is overdue)


def counts(people: list[list[Due]]) -> Counts:
    return Counts(
        overdue=sum(1 for dues in people if any(d.urgency == Urgency.OVERDUE for d in dues)),
        soon=sum(1 for dues in people if any(d.urgency == Urgency.SOON for d in dues)),
    )
