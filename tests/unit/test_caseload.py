"""What falls due on a person on a caseload (domain/caseload.py) and the schedule that drives it."""

from __future__ import annotations

import datetime as dt

import pytest

from register.caseload.service import schedule as load_schedule
from register.config import Settings
from register.domain.caseload import (
    CaseFacts,
    Due,
    DueKind,
    Interval,
    Schedule,
    Urgency,
    counts,
    due_work,
)

TODAY = dt.date(2026, 11, 30)
SCHEDULE = load_schedule(Settings().caseload_schedule_file)


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def by_kind(dues: list[Due]) -> dict[DueKind, Due]:
    return {x.kind: x for x in dues}


def test_the_shipped_schedule_reads_and_has_the_mappa_guidance_defaults() -> None:
    assert SCHEDULE.home_visit.interval(1) == Interval(months=6)
    assert SCHEDULE.home_visit.interval(3) == Interval(months=1)
    assert SCHEDULE.level_review.interval(2) == Interval(weeks=16)
    assert SCHEDULE.level_review.interval(3) == Interval(weeks=8)
    assert SCHEDULE.risk_plan_review.interval(1) is None  # no MAPPA plan asked for at level 1
    assert SCHEDULE.soon_days == 7


def test_a_level_1_registered_sex_offender_has_every_kind_of_work_overdue_first() -> None:
    facts = CaseFacts(
        level=1,
        managed_since=d("2021-06-01"),
        notification_subject=True,
        notification_due_on=d("2026-12-03"),  # due soon
        notification_ends_on=None,  # indefinite: no end shown
        last_home_visit=d("2026-03-01"),  # + 6 months = 2026-09-01: overdue
        last_assessed_on=d("2026-01-10"),
        assessment_review_on=d("2027-01-10"),
        last_level_review=d("2026-02-01"),  # + 12 months = 2027-02-01
        level_since=d("2016-05-11"),
    )
    dues = due_work(facts, SCHEDULE, TODAY)
    assert [x.kind for x in dues] == [
        DueKind.HOME_VISIT,
        DueKind.NOTIFICATION,
        DueKind.RISK_ASSESSMENT_REVIEW,
        DueKind.LEVEL_REVIEW,
    ]
    assert [x.urgency for x in dues] == [Urgency.OVERDUE, Urgency.SOON, Urgency.LATER, Urgency.LATER]
    visit = dues[0]
    assert visit.on == d("2026-09-01") and visit.basis == "every 6 months; last visit 2026-03-01"
    assert by_kind(dues)[DueKind.LEVEL_REVIEW].on == d("2027-02-01")


def test_work_never_recorded_is_due_within_first_within_of_joining_the_caseload() -> None:
    facts = CaseFacts(level=2, managed_since=d("2026-11-20"), level_since=d("2026-11-25"))
    due = by_kind(due_work(facts, SCHEDULE, TODAY))
    assert (
        due[DueKind.HOME_VISIT].on == d("2026-12-18")
        and "no home visit recorded" in due[DueKind.HOME_VISIT].basis
    )
    assert due[DueKind.RISK_ASSESSMENT_REVIEW].on == d("2026-12-18")
    assert due[DueKind.RISK_PLAN_REVIEW].on == d("2026-12-23")  # 28 days from the level's start
    assert due[DueKind.LEVEL_REVIEW].on == d("2027-03-17")  # 16 weeks from the level's start
    assert (
        DueKind.NOTIFICATION not in due and DueKind.REGISTRATION_END not in due
    )  # not a notification subject


def test_an_assessment_without_its_own_review_date_is_reviewed_after_the_levels_interval() -> None:
    facts = CaseFacts(level=3, managed_since=d("2020-01-01"), last_assessed_on=d("2026-08-01"))
    due = by_kind(due_work(facts, SCHEDULE, TODAY))
    assert due[DueKind.RISK_ASSESSMENT_REVIEW].on == d("2026-11-01")  # level 3: every 3 months
    assert due[DueKind.RISK_ASSESSMENT_REVIEW].overdue


def test_the_plan_review_is_the_latest_plans_own_date_at_any_level() -> None:
    facts = CaseFacts(level=1, managed_since=d("2020-01-01"), plan_review_on=d("2026-12-01"))
    assert by_kind(due_work(facts, SCHEDULE, TODAY))[DueKind.RISK_PLAN_REVIEW].urgency == Urgency.SOON


def test_registration_end_is_shown_and_an_ended_requirement_still_on_record_is_overdue() -> None:
    facts = CaseFacts(
        level=None,
        managed_since=d("2020-01-01"),
        notification_subject=True,
        notification_due_on=d("2027-05-01"),
        notification_ends_on=d("2026-11-29"),
    )
    due = by_kind(due_work(facts, SCHEDULE, TODAY))
    assert due[DueKind.REGISTRATION_END].overdue  # ended yesterday: the record needs closing
    assert DueKind.LEVEL_REVIEW not in due  # no level, no level review
    assert due[DueKind.HOME_VISIT].on == d("2020-01-29")  # people without a level are visited too


def test_due_today_is_not_overdue_and_soon_means_the_next_seven_days() -> None:
    facts = CaseFacts(level=1, managed_since=d("2020-01-01"), plan_review_on=TODAY)
    assert by_kind(due_work(facts, SCHEDULE, TODAY))[DueKind.RISK_PLAN_REVIEW].urgency == Urgency.SOON
    facts = CaseFacts(level=1, managed_since=d("2020-01-01"), plan_review_on=TODAY + dt.timedelta(days=7))
    assert by_kind(due_work(facts, SCHEDULE, TODAY))[DueKind.RISK_PLAN_REVIEW].urgency == Urgency.LATER


def test_counts_are_of_people_with_overdue_work_and_with_work_due_soon() -> None:
    def due(urgency: Urgency) -> Due:
        return Due(DueKind.HOME_VISIT, TODAY, "", urgency)

    people = [
        [due(Urgency.OVERDUE), due(Urgency.SOON)],
        [due(Urgency.OVERDUE)],
        [due(Urgency.SOON), due(Urgency.LATER)],
        [due(Urgency.LATER)],
        [],
    ]
    assert counts(people).overdue == 2 and counts(people).soon == 2


def test_intervals_add_calendar_months_then_weeks_and_days() -> None:
    assert Interval(months=1).after(d("2026-01-31")) == d("2026-02-28")
    assert Interval(weeks=16).after(d("2026-01-01")) == d("2026-04-23")
    assert Interval(months=1, days=2).describe() == "1 month 2 days"


@pytest.mark.parametrize(
    "doc, message",
    [
        ({"version": 2}, "version: 1"),
        (
            {**{"version": 1}, "home_visit": {"by_level": {4: {"months": 1}}, "first_within": {"days": 1}}},
            "levels",
        ),
        (
            {"version": 1, "home_visit": {"by_level": {1: {"years": 1}}, "first_within": {"days": 1}}},
            "interval",
        ),
        (
            {"version": 1, "home_visit": {"by_level": {1: {"months": 0}}, "first_within": {"days": 1}}},
            "positive",
        ),
    ],
)
def test_a_malformed_schedule_is_refused_naming_the_problem(doc: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Schedule.parse(doc)
