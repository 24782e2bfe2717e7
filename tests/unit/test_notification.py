"""Notification periods under the Sexual Offences Act 2003 s.82, at their boundaries."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from register.domain.notification import add_months, age_on, attains_age, compute, period_for, under_18_on
from register.domain.record import Address, ChronologyEntry, Identity, Offence, Order

CONVICTED = dt.date(2012, 1, 20)
TODAY = dt.date(2026, 1, 1)
ADULT = dt.date(1980, 5, 5)


def offence(disposal: dict[str, Any], convicted: dt.date = CONVICTED, sexual: bool = True) -> Offence:
    return Offence(offence="Sexual assault", conviction_date=convicted, sexual=sexual, disposal=disposal)  # type: ignore[arg-type]


def custody(months: int) -> dict[str, Any]:
    return {"kind": "imprisonment", "custody_months": months}


@pytest.mark.parametrize(
    "disposal,months",
    [
        (custody(6), 84),
        (custody(7), 120),
        (custody(29), 120),
        (custody(30), None),
        (custody(36), None),
        (custody(0), 84),
        ({"kind": "life_imprisonment"}, None),
        ({"kind": "imprisonment_for_public_protection"}, None),
        ({"kind": "hospital_order_with_restriction"}, None),
        ({"kind": "hospital_order"}, 84),
        ({"kind": "caution"}, 24),
        ({"kind": "conditional_discharge", "discharge_months": 18}, 18),
        ({"kind": "community_order"}, 60),
        ({"kind": "fine"}, 60),
    ],
)
def test_the_table_of_section_82(disposal: dict[str, Any], months: int | None) -> None:
    assert period_for(offence(disposal), ADULT).months == months


def test_an_18th_birthday_on_the_conviction_date_is_an_adult_period() -> None:
    born_18_years_before = dt.date(1994, 1, 20)
    assert not under_18_on(born_18_years_before, CONVICTED)
    assert period_for(offence(custody(12)), born_18_years_before).months == 120
    a_day_younger = dt.date(1994, 1, 21)
    assert under_18_on(a_day_younger, CONVICTED)
    assert period_for(offence(custody(12)), a_day_younger).months == 60


@pytest.mark.parametrize(
    "born,on,age,why",
    [
        (dt.date(2008, 2, 29), dt.date(2026, 2, 28), 17, "FLRA 1969 s.9: 29 Feb's anniversary is 1 Mar"),
        (dt.date(2008, 2, 29), dt.date(2026, 3, 1), 18, "FLRA 1969 s.9: attained at the start of the day"),
        (dt.date(2008, 2, 29), dt.date(2028, 2, 29), 20, "a leap year has the day itself"),
        (dt.date(2008, 2, 28), dt.date(2026, 2, 28), 18, "an ordinary birthday"),
        (dt.date(2008, 3, 1), dt.date(2026, 2, 28), 17, "a day short"),
    ],
)
def test_an_age_on_a_date_for_29_february_and_its_neighbours(
    born: dt.date, on: dt.date, age: int, why: str
) -> None:
    assert age_on(born, on) == age, why


def test_s82_2_halving_for_someone_born_on_29_february() -> None:
    """s.82(2): the period is halved for a person under 18 on conviction; born 29 Feb 2008, they are 17 on
    28 Feb 2026 and 18 on 1 Mar 2026 (FLRA 1969 s.9)."""
    born = dt.date(2008, 2, 29)
    assert attains_age(born, 18) == dt.date(2026, 3, 1)
    assert under_18_on(born, dt.date(2026, 2, 28)) and not under_18_on(born, dt.date(2026, 3, 1))
    on_28 = offence(custody(12), convicted=dt.date(2026, 2, 28))
    on_1 = offence(custody(12), convicted=dt.date(2026, 3, 1))
    assert (period_for(on_28, born).months, period_for(on_1, born).months) == (60, 120)


@given(st.integers(min_value=0, max_value=600))
def test_custody_length_decides_the_period(months: int) -> None:
    period = period_for(offence(custody(months)), ADULT)
    assert period.indefinite == (months >= 30)
    if not period.indefinite:
        assert period.months == (120 if months > 6 else 84)


@given(
    st.sampled_from(
        [
            custody(3),
            custody(12),
            custody(40),
            {"kind": "caution"},
            {"kind": "fine"},
            {"kind": "hospital_order"},
            {"kind": "conditional_discharge", "discharge_months": 24},
            {"kind": "life_imprisonment"},
        ]
    ),
    st.integers(min_value=10, max_value=17),
)
def test_under_18s_have_fixed_periods_halved_but_not_indefinite_ones_or_discharges(
    disposal: dict[str, Any], age: int
) -> None:
    dob = dt.date(CONVICTED.year - age, 6, 1)
    adult, young = period_for(offence(disposal), ADULT), period_for(offence(disposal), dob)
    if adult.indefinite or disposal["kind"] == "conditional_discharge":
        assert young.months == adult.months
    else:
        assert young.months * 2 == adult.months and "halved" in young.reason


@given(
    st.dates(min_value=dt.date(1950, 1, 1), max_value=dt.date(2090, 12, 31)),
    st.integers(min_value=0, max_value=240),
)
def test_adding_months_lands_in_the_right_month(start: dt.date, months: int) -> None:
    end = add_months(start, months)
    assert (end.year * 12 + end.month) - (start.year * 12 + start.month) == months
    assert end.day == start.day or end.day < start.day and (end + dt.timedelta(days=1)).day == 1


def test_end_date_review_date_and_the_explanation() -> None:
    fixed = compute(
        Identity(forenames="A", surname="B", date_of_birth=ADULT), [offence(custody(12))], [], [], [], TODAY
    )
    assert fixed.ends_on == dt.date(2022, 1, 20) and not fixed.subject and fixed.next_due is None
    assert fixed.explanation.startswith("10 years: imprisonment of 12 months")
    indefinite = compute(
        Identity(forenames="A", surname="B", date_of_birth=ADULT),
        [offence(custody(36))],
        [],
        [Address(kind="home", postcode="ME16 8RP", date_from=dt.date(2020, 1, 1))],
        [
            ChronologyEntry(
                occurred_at=dt.datetime(2012, 1, 23, tzinfo=dt.UTC), kind="notification", summary="initial"
            ),
            ChronologyEntry(
                occurred_at=dt.datetime(2025, 3, 1, tzinfo=dt.UTC), kind="notification", summary="annual"
            ),
        ],
        TODAY,
    )
    assert indefinite.indefinite and indefinite.subject and indefinite.ends_on is None
    assert indefinite.review_from == dt.date(2027, 1, 23) and indefinite.next_due == dt.date(2026, 3, 1)
    assert (
        "indefinite: imprisonment of 36 months" in indefinite.explanation
        and "initial notification on 2012-01-23" in indefinite.explanation
    )


def test_s83_6_the_initial_three_days_run_from_release_not_while_in_custody() -> None:
    """s.83(6): the initial notification period does not run while the person is in custody; after a release
    recorded since the conviction, the 3 days run from the release. With none recorded, the conviction's date
    stands (a suspended sentence looks the same as custody here: the stricter date is kept)."""
    person = Identity(forenames="A", surname="B", date_of_birth=ADULT)
    home = [Address(kind="home", postcode="ME16 8RP", date_from=dt.date(2020, 1, 1))]
    sentenced = offence(custody(40), convicted=dt.date(2022, 5, 10))
    released = ChronologyEntry(
        occurred_at=dt.datetime(2025, 9, 1, 9, tzinfo=dt.UTC), kind="release", summary="released on licence"
    )
    earlier = ChronologyEntry(
        occurred_at=dt.datetime(2020, 1, 1, 9, tzinfo=dt.UTC), kind="release", summary="an earlier sentence"
    )
    after_release = compute(person, [sentenced], [], home, [earlier, released], TODAY)
    assert after_release.next_due == dt.date(2025, 9, 4)
    assert "within 3 days of release on 2025-09-01 (s.83(6))" in after_release.explanation
    none_recorded = compute(person, [sentenced], [], home, [earlier], TODAY)
    assert none_recorded.next_due == dt.date(2022, 5, 13)


def test_no_fixed_abode_means_weekly_notification_and_young_indefinite_review_after_8_years() -> None:
    young = Identity(forenames="A", surname="B", date_of_birth=dt.date(1995, 6, 1))
    n = compute(
        young,
        [offence({"kind": "life_imprisonment"}, convicted=dt.date(2012, 1, 20))],
        [],
        [Address(kind="no_fixed_abode", date_from=dt.date(2025, 1, 1))],
        [
            ChronologyEntry(
                occurred_at=dt.datetime(2025, 12, 29, tzinfo=dt.UTC), kind="notification", summary="weekly"
            )
        ],
        TODAY,
    )
    assert n.next_due == dt.date(2026, 1, 5) and "weekly" in n.explanation
    assert n.review_from == dt.date(
        2033, 12, 29
    )  # 8 years (under 18 when convicted) from the initial notification
    unrecorded = compute(
        young, [offence({"kind": "life_imprisonment"}, convicted=dt.date(2012, 1, 20))], [], [], [], TODAY
    )
    assert (
        unrecorded.review_from == dt.date(2020, 1, 20)
        and "initial notification not recorded" in unrecorded.explanation
    )
    assert (
        unrecorded.next_due == dt.date(2012, 1, 23)
        and "(initial notification, within 3 days)" in unrecorded.explanation
    )


def test_an_shpo_keeps_notification_going_and_non_sexual_offences_do_not_count() -> None:
    shpo = Order(
        kind="shpo",
        made_on=dt.date(2016, 5, 11),
        starts_on=dt.date(2016, 5, 11),
        ends_on=dt.date(2031, 5, 10),
    )
    n = compute(
        Identity(forenames="A", surname="B", date_of_birth=ADULT),
        [offence({"kind": "caution"})],
        [shpo],
        [],
        [],
        TODAY,
    )
    assert (
        n.ends_on == dt.date(2031, 5, 10)
        and n.subject
        and n.explanation.startswith("SHPO in force until 2031-05-10")
    )
    violent_only = compute(
        Identity(forenames="A", surname="B"), [offence(custody(60), sexual=False)], [], [], [], TODAY
    )
    assert not violent_only.subject and violent_only.explanation.startswith("no qualifying")
